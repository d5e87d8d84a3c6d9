//! The signal rules against a reference written the plain way: each thread's and the
//! process's sends kept as one list in send order, and every question answered by
//! walking the signals 1 to 64. A long random sequence of sends (standard and
//! real-time, to the thread or its process, sometimes bursts past the real-time
//! queue's limit), takes (with random sets, as rt_sigtimedwait and delivery do) and
//! mask changes runs on the kernel's composition (a `Queue` plus a pending set per
//! target, `select` to choose) and on the reference; every answer must agree.

use rumprun_signals::*;
use rumprun_test_support::Rng;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Sent {
    signo: i32,
    /// Which send this was (to tell apart sends of one signal).
    seq: u64,
}

impl Info for Sent {
    fn signo(&self) -> i32 {
        self.signo
    }
}

/// One target as the kernel keeps it.
#[derive(Default)]
struct Target {
    queue: Queue<Sent>,
    pending: u64,
}

impl Target {
    fn send(&mut self, s: Sent) -> bool {
        if !self.queue.push(s) {
            return false;
        }
        self.pending |= bit(s.signo);
        true
    }
    fn take(&mut self, sig: i32) -> Option<Sent> {
        let (info, more) = self.queue.pop(sig);
        if !more {
            self.pending &= !bit(sig);
        }
        info
    }
}

/// One target in the reference: its sends in order.
#[derive(Default)]
struct RefTarget {
    sent: Vec<Sent>,
}

impl RefTarget {
    fn has(&self, sig: i32) -> bool {
        self.sent.iter().any(|s| s.signo == sig)
    }
    fn send(&mut self, s: Sent) -> bool {
        let queued = self.sent.iter().filter(|x| x.signo == s.signo).count();
        if s.signo < 32 {
            if queued == 0 {
                self.sent.push(s);
            }
            true
        } else if queued >= 1024 {
            false
        } else {
            self.sent.push(s);
            true
        }
    }
    fn take(&mut self, sig: i32) -> Sent {
        let i = self.sent.iter().position(|s| s.signo == sig).unwrap();
        self.sent.remove(i)
    }
    fn set(&self) -> u64 {
        self.sent.iter().fold(0, |m, s| m | (1u64 << (s.signo - 1)))
    }
}

/// The reference's take: the lowest signal of `set` pending anywhere, the thread's
/// own first.
fn ref_take(thread: &mut RefTarget, process: &mut RefTarget, set: u64) -> Option<Sent> {
    for sig in 1..=64 {
        if set & (1u64 << (sig - 1)) == 0 {
            continue;
        }
        if thread.has(sig) {
            return Some(thread.take(sig));
        }
        if process.has(sig) {
            return Some(process.take(sig));
        }
    }
    None
}

/// What these tests draw besides numbers.
trait SignalDraws {
    /// A signal: often one of a few, so that sends of one signal pile up.
    fn signal(&mut self) -> i32;
    /// A signal set: all, a few bits, or random.
    fn set(&mut self) -> u64;
}

impl SignalDraws for Rng {
    fn signal(&mut self) -> i32 {
        match self.below(4) {
            0 => [2, 10, 15, 34, 35][self.below(5) as usize],
            _ => 1 + self.below(64) as i32,
        }
    }

    fn set(&mut self) -> u64 {
        match self.below(3) {
            0 => u64::MAX,
            1 => (0..4).fold(0, |m, _| m | 1 << self.below(64)),
            _ => self.next(),
        }
    }
}

fn run(seed: u64, steps: usize) {
    let mut rng = Rng(seed);
    let (mut thread, mut process) = (Target::default(), Target::default());
    let (mut rthread, mut rprocess) = (RefTarget::default(), RefTarget::default());
    let (mut mask, mut waiting) = (0u64, 0u64);
    let mut seq = 0;
    for step in 0..steps {
        match rng.below(10) {
            0..=3 => {
                let to_thread = rng.below(2) == 0;
                let burst = if rng.below(200) == 0 { 1100 } else { 1 };
                let signo = rng.signal();
                for _ in 0..burst {
                    seq += 1;
                    let s = Sent { signo, seq };
                    let (got, want) = if to_thread {
                        (thread.send(s), rthread.send(s))
                    } else {
                        (process.send(s), rprocess.send(s))
                    };
                    assert_eq!(got, want, "step {step}: send {s:?}");
                }
            }
            4..=6 => {
                let set = rng.set();
                let got = select(thread.pending, process.pending, set).map(|(sig, from)| {
                    let info = match from {
                        Source::Thread => thread.take(sig),
                        Source::Process => process.take(sig),
                    };
                    info.expect("a pending signal has its siginfo")
                });
                assert_eq!(
                    got,
                    ref_take(&mut rthread, &mut rprocess, set),
                    "step {step}: take from {set:#x}"
                );
            }
            7 => {
                let (how, set) = (rng.below(4), rng.set());
                let want = (how < 3).then(|| {
                    let m = (0..64).fold(0u64, |m, i| {
                        let b = 1u64 << i;
                        let on = match how {
                            0 => mask & b != 0 || set & b != 0,
                            1 => mask & b != 0 && set & b == 0,
                            _ => set & b != 0,
                        };
                        if on {
                            m | b
                        } else {
                            m
                        }
                    });
                    m & !((1 << 8) | (1 << 18)) // SIGKILL, SIGSTOP
                });
                let got = apply_mask(how, mask, set);
                assert_eq!(
                    got, want,
                    "step {step}: sigprocmask({how}, {set:#x}) on {mask:#x}"
                );
                if let Some(m) = got {
                    mask = m;
                }
            }
            8 => waiting = if rng.below(2) == 0 { 0 } else { rng.set() },
            _ => {
                let sig = rng.signal();
                thread.queue.clear(sig);
                thread.pending &= !bit(sig);
                rthread.sent.retain(|s| s.signo != sig);
            }
        }
        assert_eq!(
            thread.pending,
            rthread.set(),
            "step {step}: thread's pending set"
        );
        assert_eq!(
            process.pending,
            rprocess.set(),
            "step {step}: process's pending set"
        );
        assert_eq!(thread.queue.pending(), thread.pending);
        let want_interrupt = (1..=64).any(|sig: i32| {
            let b = 1u64 << (sig - 1);
            (rthread.has(sig) || rprocess.has(sig)) && (mask & b == 0 || waiting & b != 0)
        });
        assert_eq!(
            interrupts(thread.pending, process.pending, mask, waiting),
            want_interrupt,
            "step {step}: interrupts"
        );
        let sig = rng.signal();
        let b = 1u64 << (sig - 1);
        assert_eq!(wants(mask, waiting, sig), mask & b == 0 || waiting & b != 0);
        assert_eq!(keeps(mask, waiting, sig), mask & b != 0 || waiting & b != 0);
    }
}

#[test]
fn signal_rules_match_a_plain_reference() {
    for seed in 1u64..=30 {
        run(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15), 3_000);
    }
}

#[test]
fn default_actions_and_job_control_discards_are_linuxs() {
    for sig in 1..=64 {
        let want = match sig {
            17 | 18 | 23 | 28 => Default::Ignore,
            19..=22 => Default::Stop,
            _ => Default::Terminate,
        };
        assert_eq!(default_action(sig), want, "signal {sig}");
        let discards = match sig {
            19..=22 => 1 << 17, // a stop signal: SIGCONT
            18 => 0b1111 << 18, // SIGCONT: the four stop signals
            _ => 0,
        };
        assert_eq!(discarded_by(sig), discards, "signal {sig}");
    }
    assert_eq!(UNBLOCKABLE, (1 << 8) | (1 << 18));
}

#[test]
fn a_standard_signal_keeps_its_first_siginfo_and_a_realtime_one_queues_in_order() {
    let mut q = Queue::new();
    assert!(q.push(Sent { signo: 10, seq: 1 }));
    assert!(q.push(Sent { signo: 10, seq: 2 }));
    assert!(q.push(Sent { signo: 40, seq: 3 }));
    assert!(q.push(Sent { signo: 40, seq: 4 }));
    assert_eq!(q.pending(), bit(10) | bit(40));
    assert_eq!(q.pop(10), (Some(Sent { signo: 10, seq: 1 }), false));
    assert_eq!(q.pop(40), (Some(Sent { signo: 40, seq: 3 }), true));
    assert_eq!(q.pop(40), (Some(Sent { signo: 40, seq: 4 }), false));
    for seq in 0..RT_QUEUE_MAX as u64 {
        assert!(q.push(Sent { signo: 33, seq }));
    }
    assert!(
        !q.push(Sent {
            signo: 33,
            seq: 9999
        }),
        "the 1025th send is refused"
    );
    assert_eq!(
        select(bit(5), bit(5) | bit(3), u64::MAX),
        Some((3, Source::Process))
    );
    assert_eq!(select(bit(3), bit(3), u64::MAX), Some((3, Source::Thread)));
    assert_eq!(select(bit(3), bit(4), !bit(3)), Some((4, Source::Process)));
}
