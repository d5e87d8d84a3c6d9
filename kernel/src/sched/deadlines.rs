//! Deadlines outside the thread table. The timers of the layers above (interval
//! timers, POSIX timers) register here once at boot as [`DeadlineSource`]s; the
//! scheduler asks them when the CPU must next wake (`next`, for the APIC timer and the
//! idle halt) and fires what is due (`expire`), without knowing any timer by name. A
//! sleeper's deadline, and a timerfd or socket waiter's, is its own blocking wait's
//! (`sched::block`); a CPU-time timer is its program's (`Owner::cpu_deadline`).

use spin::Once;

/// A kind of timer the scheduler must wake the CPU for.
pub trait DeadlineSource: Sync {
    /// When the earliest armed timer of this kind fires (monotonic ns), if any is armed.
    fn next(&self) -> Option<u64>;
    /// Fires the timers of this kind that are due at `now` (monotonic ns). Called with
    /// no scheduler lock held: firing may wake threads.
    fn expire(&self, now: u64);
}

static SOURCES: Once<&'static [&'static dyn DeadlineSource]> = Once::new();

/// Registers the timers the scheduler serves (once, at boot, before any is armed).
pub fn register(sources: &'static [&'static dyn DeadlineSource]) {
    SOURCES.call_once(|| sources);
}

fn sources() -> &'static [&'static dyn DeadlineSource] {
    SOURCES.get().copied().unwrap_or(&[])
}

/// The earliest deadline of any registered timer.
pub(super) fn next() -> Option<u64> {
    sources().iter().filter_map(|s| s.next()).min()
}

/// Fires every registered timer that is due at `now`.
pub(super) fn expire(now: u64) {
    for s in sources() {
        s.expire(now);
    }
}
