//! The futex queues against a reference that keeps every waiter in one list in the
//! order it was queued (a move to another queue puts it at the end): a long random
//! sequence of waits, wakes with bitsets, removals (timeouts) and requeues, over a few
//! keys so they collide, with waiters that sometimes are no longer waiting when woken.
//! Who is woken, in which order, every count returned and who still waits where must
//! be the reference's.

use rumprun_futex::Queues;
use rumprun_test_support::Rng;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct W {
    key: u8,
    who: u32,
    bitset: u32,
}

/// What these tests draw besides numbers.
trait FutexDraws {
    fn bitset(&mut self) -> u32;
}

impl FutexDraws for Rng {
    fn bitset(&mut self) -> u32 {
        match self.below(3) {
            0 => u32::MAX,
            _ => 1 << self.below(4),
        }
    }
}

/// The reference's wake: the first `n` matching waiters of `key` in list order.
fn ref_wake(
    list: &mut Vec<W>,
    key: u8,
    n: u32,
    bitset: u32,
    still: &mut dyn FnMut(u32) -> bool,
) -> (u32, Vec<u32>) {
    let mut woken = 0;
    let mut order = Vec::new();
    let mut i = 0;
    while i < list.len() && woken < n {
        if list[i].key == key && list[i].bitset & bitset != 0 {
            let w = list.remove(i);
            order.push(w.who);
            if still(w.who) {
                woken += 1;
            }
        } else {
            i += 1;
        }
    }
    (woken, order)
}

fn run(seed: u64, steps: usize) {
    let mut rng = Rng(seed);
    let mut queues: Queues<u8, u32> = Queues::new();
    let mut list: Vec<W> = Vec::new();
    let mut next_who = 1;
    for step in 0..steps {
        let key = rng.below(4) as u8;
        // Whether a woken waiter was still waiting: decided per waiter, the same for
        // both sides.
        let gone = rng.next();
        let still = |who: u32| (gone >> (who % 64)) & 1 == 0 || !who.is_multiple_of(3);
        match rng.below(6) {
            0 | 1 => {
                let w = W {
                    key,
                    who: next_who,
                    bitset: rng.bitset(),
                };
                next_who += 1;
                queues.enqueue(w.key, w.who, w.bitset);
                list.push(w);
            }
            2 => {
                let (n, bitset) = (rng.below(4) as u32, rng.bitset());
                let mut got_order = Vec::new();
                let got = queues.wake(key, n, bitset, |who| {
                    got_order.push(who);
                    still(who)
                });
                let (want, want_order) = ref_wake(&mut list, key, n, bitset, &mut { still });
                assert_eq!((got, got_order), (want, want_order), "step {step}: wake");
            }
            3 => {
                // A timeout or signal: some waiter of `key`, if any, leaves.
                let mine: Vec<u32> = list
                    .iter()
                    .filter(|w| w.key == key)
                    .map(|w| w.who)
                    .collect();
                if !mine.is_empty() {
                    let who = mine[rng.below(mine.len() as u64) as usize];
                    queues.remove(key, who);
                    list.retain(|w| !(w.key == key && w.who == who));
                }
            }
            4 => {
                let to = rng.below(4) as u8;
                let (n_wake, n_move) = (rng.below(3) as u32, rng.below(4) as u32);
                let mut got_order = Vec::new();
                let got = queues.requeue(key, n_wake, to, n_move, |who| {
                    got_order.push(who);
                    still(who)
                });
                let (woken, want_order) =
                    ref_wake(&mut list, key, n_wake, u32::MAX, &mut { still });
                let moving: Vec<W> = list
                    .iter()
                    .filter(|w| w.key == key)
                    .take(n_move as usize)
                    .copied()
                    .collect();
                if to != key {
                    // Onto the same key nobody moves (Linux); elsewhere, to the end.
                    list.retain(|w| !moving.contains(w));
                    list.extend(moving.iter().map(|w| W { key: to, ..*w }));
                }
                let want = woken + moving.len() as u32;
                assert_eq!((got, got_order), (want, want_order), "step {step}: requeue");
            }
            _ => {}
        }
        for k in 0..4u8 {
            let waiting = list.iter().any(|w| w.key == k);
            assert_eq!(
                queues.has_waiters(k),
                waiting,
                "step {step}: waiters on {k}"
            );
        }
    }
    // Drain: every remaining waiter comes out of its queue in the reference's order.
    for k in 0..4u8 {
        let mut order = Vec::new();
        queues.wake(k, u32::MAX, u32::MAX, |who| {
            order.push(who);
            true
        });
        let want: Vec<u32> = list.iter().filter(|w| w.key == k).map(|w| w.who).collect();
        assert_eq!(order, want, "queue {k} at the end");
    }
}

#[test]
fn futex_queues_match_a_plain_reference() {
    for seed in 1u64..=40 {
        run(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15), 3_000);
    }
}
