//! What the scheduler asks of the layers above it, installed once at boot (`main`
//! installs the signal layer's and the process layer's): whether a pending signal
//! ends a thread's blocking wait, firing the running program's CPU-time timers, and
//! what to do when every thread is blocked with nothing left to wake one. Before they are installed (early boot) no wait is
//! interrupted and a deadlock powers off with status 1.

use super::Tid;
use spin::Once;

pub struct Hooks {
    /// Whether thread `tid` has a signal it must act on, so a blocking wait returns
    /// `Wake::Interrupted` (`signal::state::should_interrupt`).
    pub should_interrupt: fn(Tid) -> bool,
    /// Fires the running program's CPU-time timers that are due (asked whenever the
    /// scheduler looks for expired deadlines: `signal::itimer::expire_cpu`).
    pub cpu_timers: fn(),
    /// Nothing is runnable and nothing can wake the `blocked` threads: report which
    /// program hangs and power off.
    pub deadlock: fn(blocked: usize) -> !,
}

static HOOKS: Once<Hooks> = Once::new();

/// Installs the hooks (once, at boot, before the first program runs).
pub fn install(hooks: Hooks) {
    HOOKS.call_once(|| hooks);
}

pub(super) fn should_interrupt(tid: Tid) -> bool {
    HOOKS.get().is_some_and(|h| (h.should_interrupt)(tid))
}

pub(super) fn cpu_timers() {
    if let Some(h) = HOOKS.get() {
        (h.cpu_timers)()
    }
}

pub(super) fn deadlock(blocked: usize) -> ! {
    match HOOKS.get() {
        Some(h) => (h.deadlock)(blocked),
        None => {
            kprintln!(
                "rumprun: deadlock: all {blocked} threads are blocked with nothing to wake them"
            );
            crate::platform::exit(1)
        }
    }
}
