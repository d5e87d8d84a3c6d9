//! Each program's interval timers (setitimer): ITIMER_REAL (also behind alarm), a
//! deadline on the monotonic clock, and ITIMER_VIRTUAL and ITIMER_PROF, deadlines on
//! the program's CPU clock (`process::cpu_ns`; the kernel runs on the program's
//! behalf, so both count the same time), each with an optional interval. The
//! scheduler treats the real deadline like a sleeper's (it arms the APIC timer for
//! it and counts it as something that can still wake the program); while the running
//! program has a CPU timer it also arms the APIC timer for when that timer would be
//! due if the program kept the CPU (`cpu_deadline`). `expire_real` (from the
//! scheduler's deadline queue) and `expire_cpu` fire what is due:
//! SIGALRM, SIGVTALRM or SIGPROF to the process, and re-arms an interval timer.

use crate::sync::SpinLock;
use core::sync::atomic::{AtomicBool, Ordering};

/// False until some program first arms an interval timer: until then there is no deadline to
/// look for, and the scheduler's every switch skips the walk over the programs.
static IN_USE: AtomicBool = AtomicBool::new(false);

fn in_use() -> bool {
    IN_USE.load(Ordering::Relaxed)
}

/// `which` of setitimer/getitimer.
pub const ITIMER_REAL: usize = 0;
pub const ITIMER_VIRTUAL: usize = 1;
pub const ITIMER_PROF: usize = 2;

const SIGVTALRM: i32 = 26;
const SIGPROF: i32 = 27;

#[derive(Clone, Copy)]
struct Slot {
    deadline: Option<u64>,
    interval: u64,
}

struct TimerState {
    slots: [Slot; 3],
}

/// One program's timers (held by its `process::Process`; `get` and `set` act on the
/// running program's).
pub struct Timer(SpinLock<TimerState>);

impl Timer {
    /// Disarmed.
    pub const fn new() -> Self {
        const OFF: Slot = Slot {
            deadline: None,
            interval: 0,
        };
        Timer(SpinLock::new(TimerState { slots: [OFF; 3] }))
    }

    /// Timer `which`'s setting.
    fn slot(&self, which: usize) -> Slot {
        self.0.lock().slots[which]
    }

    /// Disarms them all (the program has ended).
    pub fn disarm(&self) {
        for s in self.0.lock().slots.iter_mut() {
            s.deadline = None;
        }
    }
}

fn timer() -> &'static Timer {
    &crate::process::current().itimer
}

/// The clock timer `which` counts on, in ns.
fn clock(which: usize) -> u64 {
    if which == ITIMER_REAL {
        crate::time::monotonic_ns()
    } else {
        crate::process::cpu_ns()
    }
}

/// The real-time timers of all programs in the scheduler's deadline queue, armed
/// with the earliest (`sched::deadlines`).
static REAL: crate::sched::deadlines::Timer = crate::sched::deadlines::Timer::new(expire_real);

/// When the next real-time timer of any running program fires (monotonic ns).
fn deadline() -> Option<u64> {
    if !in_use() {
        return None;
    }
    crate::process::running()
        .filter_map(|p| p.itimer.slot(ITIMER_REAL).deadline)
        .min()
}

/// When the next CPU timer of `p` (the program about to run, whose CPU time so far is
/// `cpu_ns()`) would fire (monotonic ns, from `now`) if it kept the CPU from now on;
/// the scheduler asks while it runs.
pub fn cpu_deadline(
    p: &crate::process::Process,
    now: u64,
    cpu_ns: impl FnOnce() -> u64,
) -> Option<u64> {
    if !in_use() {
        return None;
    }
    let armed = [ITIMER_VIRTUAL, ITIMER_PROF].map(|w| p.itimer.slot(w).deadline);
    let first = armed.into_iter().flatten().min()?;
    Some(now + first.saturating_sub(cpu_ns()))
}

/// (time left until it fires, interval), in ns; (0, interval) when disarmed.
pub fn get(which: usize) -> (u64, u64) {
    let s = timer().slot(which);
    let left = s
        .deadline
        .map_or(0, |d| d.saturating_sub(clock(which)).max(1));
    (left, s.interval)
}

/// Arms timer `which` to fire after `value` ns of its clock (0 disarms), then every
/// `interval` ns. Returns the previous setting as `get` would.
pub fn set(which: usize, value: u64, interval: u64) -> (u64, u64) {
    let old = get(which);
    let deadline = (value != 0).then(|| clock(which).saturating_add(value));
    if deadline.is_some() {
        IN_USE.store(true, Ordering::Relaxed);
    }
    timer().0.lock().slots[which] = Slot {
        deadline,
        interval: if deadline.is_some() { interval } else { 0 },
    };
    if which == ITIMER_REAL {
        REAL.arm(self::deadline());
    } else {
        if deadline.is_some() {
            crate::sched::cpu_timers_used();
        }
        crate::sched::rearm_timer();
    }
    old
}

/// Called by the scheduler when the earliest real-time timer is due: fires those
/// due at `now`; when the next is due.
fn expire_real(now: u64) -> Option<u64> {
    if !in_use() {
        return None;
    }
    for p in crate::process::running() {
        expire_one(p, ITIMER_REAL, now);
    }
    deadline()
}

/// Called by the scheduler whenever it looks for expired deadlines: fires the CPU
/// timers of the running program that are due (no other program used the CPU).
pub fn expire_cpu() {
    if !in_use() {
        return;
    }
    let p = crate::process::current();
    if p.itimer.slot(ITIMER_VIRTUAL).deadline.is_some()
        || p.itimer.slot(ITIMER_PROF).deadline.is_some()
    {
        let cpu = crate::process::cpu_ns();
        expire_one(p, ITIMER_VIRTUAL, cpu);
        expire_one(p, ITIMER_PROF, cpu);
    }
}

fn expire_one(p: &crate::process::Process, which: usize, now: u64) {
    {
        let mut t = p.itimer.0.lock();
        let s = &mut t.slots[which];
        let Some(d) = s.deadline else { return };
        if d > now {
            return;
        }
        s.deadline = if s.interval == 0 {
            None
        } else {
            // Overruns are coalesced into one signal, as on Linux.
            let next = d.saturating_add(s.interval);
            Some(if next <= now { now + s.interval } else { next })
        };
    }
    // The signal is sent with the timer unlocked (it wakes threads: the scheduler
    // comes before the timers in the lock order).
    let signo = match which {
        ITIMER_REAL => super::SIGALRM,
        ITIMER_VIRTUAL => SIGVTALRM,
        _ => SIGPROF,
    };
    super::state::send_to(
        p,
        super::SigInfo {
            signo,
            code: super::SI_KERNEL,
            pid: 0,
            addr: 0,
            timer: None,
            value: 0,
        },
    );
}
