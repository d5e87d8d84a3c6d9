//! How long an idle CPU spins, with interrupts on, before it halts: the window of the
//! kernel's idle poll (`sched::idle_poll`), apart from the kernel so that it is tested
//! on the host. Under a hypervisor an interrupt for a halted vCPU must first wake the
//! host thread that runs it; a running one takes it at once. Polling pays off when
//! the next interrupt comes soon after the CPU went idle (a server answering one
//! client at a time) and wastes the host's CPU when it does not (an idle machine).
//!
//! The rule is Linux's guest haltpoll's (drivers/cpuidle/governors/haltpoll.c, read
//! for its behaviour): an idle time that a longer window would have caught (poll and
//! halt together within the maximum) doubles the window, from a start value, up to
//! the maximum; a halt much longer than the maximum halves it, to none below the start
//! value; anything else leaves it. A poll that caught its interrupt changes nothing.
#![no_std]
#![forbid(unsafe_code)]

/// The largest window by default, ns (Linux's guest_halt_poll_ns default).
pub const DEFAULT_MAX_NS: u64 = 200_000;
/// The window a growing one starts from, ns.
pub const GROW_START_NS: u64 = 10_000;
/// A halt over this many times the maximum shrinks the window.
pub const LONG_HALT: u64 = 4;

/// One CPU's window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// The largest window, ns (0: never poll).
    pub max_ns: u64,
    /// The current one, ns.
    pub ns: u64,
}

impl Window {
    /// A window of at most `max_ns`, starting at the maximum.
    pub const fn new(max_ns: u64) -> Self {
        Self { max_ns, ns: max_ns }
    }

    /// After a poll of the current window that no interrupt ended, followed by a halt
    /// of `halted_ns`: the window for next time.
    pub fn missed(&mut self, halted_ns: u64) {
        let (w, max) = (self.ns, self.max_ns);
        self.ns = if max == 0 {
            0
        } else if halted_ns.saturating_add(w) <= max {
            w.saturating_mul(2).clamp(GROW_START_NS.min(max), max)
        } else if halted_ns > LONG_HALT.saturating_mul(max) {
            let half = w / 2;
            if half < GROW_START_NS {
                0
            } else {
                half
            }
        } else {
            w
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn after(ns: u64, halted_ns: u64) -> u64 {
        let mut w = Window {
            max_ns: 200_000,
            ns,
        };
        w.missed(halted_ns);
        w.ns
    }

    #[test]
    fn a_wake_up_just_after_the_poll_grows_the_window_to_the_maximum() {
        assert_eq!(after(0, 1_000), GROW_START_NS);
        assert_eq!(after(GROW_START_NS, 5_000), 20_000);
        assert_eq!(after(50_000, 20_000), 100_000);
        assert_eq!(after(150_000, 10_000), 200_000);
        assert_eq!(after(200_000, 0), 200_000);
    }

    #[test]
    fn long_halts_shrink_it_to_nothing() {
        let mut w = Window::new(200_000);
        let mut seen = [0u64; 8];
        for s in seen.iter_mut() {
            w.missed(10_000_000);
            *s = w.ns;
        }
        assert_eq!(seen, [100_000, 50_000, 25_000, 12_500, 0, 0, 0, 0]);
    }

    #[test]
    fn a_halt_between_leaves_it() {
        assert_eq!(after(100_000, 500_000), 100_000);
        assert_eq!(after(0, 500_000), 0);
        assert_eq!(after(100_000, 800_000), 100_000);
        assert_eq!(after(100_000, 800_001), 50_000);
    }

    #[test]
    fn a_maximum_of_zero_never_polls() {
        let mut w = Window::new(0);
        w.missed(0);
        assert_eq!(w.ns, 0);
        w.missed(u64::MAX);
        assert_eq!(w.ns, 0);
    }

    #[test]
    fn a_small_maximum_caps_the_start_value() {
        let mut w = Window {
            max_ns: 5_000,
            ns: 0,
        };
        w.missed(100);
        assert_eq!(w.ns, 5_000);
    }
}
