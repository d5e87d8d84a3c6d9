//! Each program's real-time interval timer (ITIMER_REAL, also behind alarm): a
//! deadline on the monotonic clock and an optional interval. The scheduler treats the
//! deadline like a sleeper's (it arms the APIC timer for it and counts it as something
//! that can still wake the program) and calls `expire` once it has passed, which
//! sends SIGALRM to the process and re-arms an interval timer.

use core::cell::UnsafeCell;

struct TimerState {
    deadline: Option<u64>,
    interval: u64,
}

/// One program's timer (held by its `process::Process`; `get` and `set` act on the
/// running program's).
pub struct Timer(UnsafeCell<TimerState>);
// One CPU, and the kernel runs with interrupts off: no concurrent access.
unsafe impl Sync for Timer {}

impl Timer {
    /// Disarmed.
    pub const fn new() -> Self {
        Timer(UnsafeCell::new(TimerState {
            deadline: None,
            interval: 0,
        }))
    }

    fn get(&self) -> &'static mut TimerState {
        // The timer lives in a process that is never freed.
        unsafe { &mut *self.0.get() }
    }

    /// Disarms it (the program has ended).
    pub fn disarm(&self) {
        self.get().deadline = None;
    }
}

fn timer() -> &'static mut TimerState {
    crate::process::current().itimer.get()
}

/// When the next timer of any running program fires (monotonic ns), if one is armed.
pub fn deadline() -> Option<u64> {
    crate::process::running()
        .filter_map(|p| p.itimer.get().deadline)
        .min()
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

/// Called by the scheduler with the current time: fires the timers that are due.
pub fn expire(now: u64) {
    for p in crate::process::running() {
        expire_one(p, now);
    }
}

fn expire_one(p: &crate::process::Process, now: u64) {
    let t = p.itimer.get();
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
    super::state::send_to(
        p,
        super::SigInfo {
            signo: super::SIGALRM,
            code: super::SI_KERNEL,
            pid: 0,
            addr: 0,
            timer: None,
            value: 0,
        },
    );
}
