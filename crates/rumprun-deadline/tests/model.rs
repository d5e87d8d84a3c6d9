//! The deadline queue against a reference that keeps (key, deadline) pairs in a plain
//! list and searches it: a long random sequence of arms (new keys and moves, often to
//! deadlines equal to others'), cancels, lookups and takes of what is due at a clock
//! that moves forward, over few keys so they collide. Every result, the order in which
//! due keys come out (deadline, then key) and the earliest deadline after each step
//! must be the reference's.

use rumprun_deadline::Queue;
use rumprun_test_support::Rng;

#[derive(Default)]
struct Reference(Vec<(u16, u64)>);

impl Reference {
    fn arm(&mut self, key: u16, at: u64) {
        self.cancel(key);
        self.0.push((key, at));
    }
    fn cancel(&mut self, key: u16) -> Option<u64> {
        let i = self.0.iter().position(|&(k, _)| k == key)?;
        Some(self.0.remove(i).1)
    }
    fn get(&self, key: u16) -> Option<u64> {
        self.0.iter().find(|&&(k, _)| k == key).map(|&(_, at)| at)
    }
    fn earliest(&self) -> Option<u64> {
        self.0.iter().map(|&(_, at)| at).min()
    }
    fn pop_due(&mut self, now: u64) -> Option<(u16, u64)> {
        let (i, _) = self
            .0
            .iter()
            .enumerate()
            .filter(|(_, &(_, at))| at <= now)
            .min_by_key(|(_, &(k, at))| (at, k))?;
        Some(self.0.remove(i))
    }
}

fn run(seed: u64, steps: usize, keys: u64) {
    let mut rng = Rng(seed);
    let mut q = Queue::new();
    let mut r = Reference::default();
    let mut now = 0u64;
    for step in 0..steps {
        let key = rng.below(keys) as u16;
        match rng.below(10) {
            0..=3 => {
                // Near the clock, on a coarse grid so deadlines often tie.
                let at = now + rng.below(20) * 5;
                q.arm(key, at);
                r.arm(key, at);
            }
            4 => {
                let at = (rng.below(2) == 0).then(|| now + rng.below(100));
                q.set(key, at);
                match at {
                    Some(at) => r.arm(key, at),
                    None => {
                        r.cancel(key);
                    }
                }
            }
            5 | 6 => assert_eq!(q.cancel(key), r.cancel(key), "cancel {key} at step {step}"),
            7 => assert_eq!(q.get(key), r.get(key), "get {key} at step {step}"),
            _ => {
                now += rng.below(40);
                loop {
                    let got = q.pop_due(now);
                    assert_eq!(got, r.pop_due(now), "pop_due({now}) at step {step}");
                    if got.is_none() {
                        break;
                    }
                }
            }
        }
        assert_eq!(q.earliest(), r.earliest(), "earliest after step {step}");
        assert_eq!(q.len(), r.0.len(), "len after step {step}");
        assert_eq!(q.is_empty(), r.0.is_empty());
    }
}

#[test]
fn matches_the_reference_with_few_keys() {
    for seed in 1u64..=20 {
        run(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15), 20_000, 6);
    }
}

#[test]
fn matches_the_reference_with_many_keys() {
    for seed in 1..=5 {
        run(seed * 0x2545_f491, 50_000, 200);
    }
}

#[test]
fn rearming_to_the_same_deadline_keeps_one_entry() {
    let mut q = Queue::new();
    q.arm(1u8, 10);
    q.arm(1, 10);
    q.arm(2, 10);
    assert_eq!(q.len(), 2);
    assert_eq!(q.pop_due(10), Some((1, 10)));
    assert_eq!(q.pop_due(10), Some((2, 10)));
    assert_eq!(q.pop_due(10), None);
    assert!(q.is_empty());
    assert_eq!(q.earliest(), None);
}

#[test]
fn nothing_is_due_before_its_deadline() {
    let mut q = Queue::new();
    q.arm(7u32, 100);
    q.arm(3, 50);
    assert_eq!(q.earliest(), Some(50));
    assert_eq!(q.pop_due(49), None);
    q.arm(3, 200);
    assert_eq!(q.earliest(), Some(100));
    assert_eq!(q.pop_due(150), Some((7, 100)));
    assert_eq!(q.pop_due(150), None);
    assert_eq!(q.get(3), Some(200));
}
