//! The process's real-time interval timer (ITIMER_REAL, also behind alarm): a
//! deadline on the monotonic clock and an optional interval. The scheduler treats the
//! deadline like a sleeper's (it arms the APIC timer for it and counts it as something
//! that can still wake the program) and calls `expire` once it has passed, which
//! sends SIGALRM to the process and re-arms an interval timer.

use core::cell::UnsafeCell;

struct Timer {
    deadline: Option<u64>,
    interval: u64,
}

struct Global(UnsafeCell<Timer>);
// One CPU, and the kernel runs with interrupts off: no concurrent access.
unsafe impl Sync for Global {}

static TIMER: Global = Global(UnsafeCell::new(Timer {
    deadline: None,
    interval: 0,
}));

fn timer() -> &'static mut Timer {
    unsafe { &mut *TIMER.0.get() }
}

/// When the timer next fires (monotonic ns), if armed.
pub fn deadline() -> Option<u64> {
    timer().deadline
}

/// (time left until it fires, interval), in ns; (0, interval) when disarmed.
pub fn get() -> (u64, u64) {
    let t = timer();
    let now = crate::time::monotonic_ns();
    let left = t.deadline.map_or(0, |d| d.saturating_sub(now).max(1));
    (left, t.interval)
}

/// Arms the timer to fire after `value` ns (0 disarms), then every `interval` ns.
/// Returns the previous setting as `get` would.
pub fn set(value: u64, interval: u64) -> (u64, u64) {
    let old = get();
    let t = timer();
    if value == 0 {
        t.deadline = None;
        t.interval = 0;
    } else {
        t.deadline = Some(crate::time::monotonic_ns().saturating_add(value));
        t.interval = interval;
    }
    crate::sched::rearm_timer();
    old
}

/// Called by the scheduler with the current time: fires the timer if it is due.
pub fn expire(now: u64) {
    let t = timer();
    let Some(d) = t.deadline else { return };
    if d > now {
        return;
    }
    t.deadline = if t.interval == 0 {
        None
    } else {
        // Overruns are coalesced into one signal, as on Linux.
        let next = d.saturating_add(t.interval);
        Some(if next <= now { now + t.interval } else { next })
    };
    super::state::send_process(super::SigInfo {
        signo: super::SIGALRM,
        code: super::SI_KERNEL,
        pid: 0,
        addr: 0,
    });
}
