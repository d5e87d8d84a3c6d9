//! POSIX per-process timers (timer_create, timer_settime, timer_gettime,
//! timer_getoverrun, timer_delete): each is a deadline on the monotonic clock (an
//! absolute CLOCK_REALTIME time is converted when the timer is armed), an optional
//! interval, and what happens when it fires: nothing (SIGEV_NONE), a signal for the
//! program (SIGEV_SIGNAL) or for one of its threads (SIGEV_THREAD_ID, which glibc's and
//! musl's SIGEV_THREAD are built on), whose siginfo says SI_TIMER with the timer's id,
//! its overrun count and the sigev_value. Like `itimer`, the earliest deadline of all
//! is in the scheduler's deadline queue, which calls `expire` once it passes.

use super::{SigInfo, TimerInfo, SI_TIMER};
use crate::sched::Tid;
use crate::sync::{SpinLock, SpinLockGuard};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

/// False until some program first arms a POSIX timer: until then there is no deadline to
/// look for, and the scheduler's every switch skips the walk over the programs.
static IN_USE: AtomicBool = AtomicBool::new(false);

fn in_use() -> bool {
    IN_USE.load(Ordering::Relaxed)
}

/// At most this many timers per program (then EAGAIN, as at RLIMIT_SIGPENDING).
const MAX_TIMERS: usize = 1024;

/// What a timer does when it fires.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Notify {
    /// SIGEV_NONE: nothing (timer_gettime shows it ran out).
    Nothing,
    /// SIGEV_SIGNAL: the signal for the whole program.
    Program,
    /// SIGEV_THREAD_ID: the signal for this thread.
    Thread(Tid),
}

struct Timer {
    /// Armed with CLOCK_REALTIME times (absolute ones are converted when set).
    realtime: bool,
    notify: Notify,
    signo: i32,
    value: u64,
    deadline: Option<u64>,
    interval: u64,
    /// Expirations the last signal stood for beyond the first (timer_getoverrun).
    overrun: i32,
}

/// One program's timers, by id (held by its `process::Process`).
pub struct Timers(SpinLock<Vec<Option<Timer>>>);

impl Timers {
    pub const fn new() -> Self {
        Timers(SpinLock::new(Vec::new()))
    }

    /// Deletes them all (the program has ended).
    pub fn clear(&self) {
        self.0.lock().clear();
    }
}

/// The running program's timers, locked.
fn timers() -> SpinLockGuard<'static, Vec<Option<Timer>>> {
    crate::process::current().timers.0.lock()
}

/// What `f` gives for timer `id` of the running program, or None if there is none.
fn with_timer<R>(id: usize, f: impl FnOnce(&mut Timer) -> R) -> Option<R> {
    timers().get_mut(id).and_then(Option::as_mut).map(f)
}

/// A disarmed timer for the running program; its id, or None when it has too many.
pub fn create(realtime: bool, notify: Notify, signo: i32, value: Option<u64>) -> Option<usize> {
    let mut all = timers();
    let id = match all.iter().position(Option::is_none) {
        Some(free) => free,
        None if all.len() < MAX_TIMERS => {
            all.push(None);
            all.len() - 1
        }
        None => return None,
    };
    all[id] = Some(Timer {
        realtime,
        notify,
        signo,
        // Without a sigevent, sigev_value is the timer id (timer_create(2)).
        value: value.unwrap_or(id as u64),
        deadline: None,
        interval: 0,
        overrun: 0,
    });
    Some(id)
}

/// Removes timer `id`; false if there is none.
pub fn delete(id: usize) -> bool {
    match timers().get_mut(id) {
        Some(t @ Some(_)) => {
            *t = None;
            true
        }
        _ => false,
    }
}

/// (time left until it fires, interval) in ns, or None if there is no timer `id`.
pub fn get(id: usize) -> Option<(u64, u64)> {
    let (deadline, interval) = with_timer(id, |t| (t.deadline, t.interval))?;
    let now = crate::time::monotonic_ns();
    let left = deadline.map_or(0, |d| d.saturating_sub(now).max(1));
    Some((left, interval))
}

/// Arms timer `id` to fire at `deadline` (monotonic ns; None disarms), then every
/// `interval` ns. Returns the previous setting as `get` gives it.
pub fn set(id: usize, deadline: Option<u64>, interval: u64) -> Option<(u64, u64)> {
    let old = get(id)?;
    if deadline.is_some() {
        IN_USE.store(true, Ordering::Relaxed);
    }
    with_timer(id, |t| {
        t.deadline = deadline;
        t.interval = if deadline.is_some() { interval } else { 0 };
    })?;
    TIMERS.arm(self::deadline());
    Some(old)
}

/// Whether timer `id` runs on CLOCK_REALTIME.
pub fn clock_is_realtime(id: usize) -> bool {
    with_timer(id, |t| t.realtime).unwrap_or(false)
}

/// timer_getoverrun: the overrun count of the last signal, or None.
pub fn overrun(id: usize) -> Option<i32> {
    with_timer(id, |t| t.overrun)
}

/// The POSIX timers of all programs in the scheduler's deadline queue, armed with
/// the earliest (`sched::deadlines`).
static TIMERS: crate::sched::deadlines::Timer = crate::sched::deadlines::Timer::new(expire);

/// When the next timer of any running program fires (monotonic ns).
fn deadline() -> Option<u64> {
    if !in_use() {
        return None;
    }
    crate::process::running()
        .filter_map(|p| {
            let timers = p.timers.0.lock();
            timers.iter().flatten().filter_map(|t| t.deadline).min()
        })
        .min()
}

/// Called by the scheduler when the earliest timer is due: fires those due at `now`;
/// when the next is due.
fn expire(now: u64) -> Option<u64> {
    if !in_use() {
        return None;
    }
    for p in crate::process::running() {
        // The signals go out with the timers unlocked (they wake threads: the
        // scheduler comes before the timers in the lock order).
        let mut fired = Vec::new();
        for (id, slot) in p.timers.0.lock().iter_mut().enumerate() {
            if let Some(t) = slot {
                fired.extend(fire_if_due(id, t, now));
            }
        }
        for (notify, info) in fired {
            send(p, notify, info);
        }
    }
    deadline()
}

/// Advances timer `id` if it is due: how to notify and the siginfo to send.
fn fire_if_due(id: usize, t: &mut Timer, now: u64) -> Option<(Notify, SigInfo)> {
    let d = t.deadline.filter(|&d| d <= now)?;
    // Expirations missed since `d` become the signal's overrun count.
    let missed = match (now - d).checked_div(t.interval) {
        None => {
            t.deadline = None; // one-shot
            0
        }
        Some(missed) => {
            t.deadline = Some(d + (missed + 1) * t.interval);
            missed
        }
    };
    t.overrun = missed.min(i32::MAX as u64) as i32;
    let info = SigInfo {
        signo: t.signo,
        code: SI_TIMER,
        timer: Some(TimerInfo {
            id: id as i32,
            overrun: t.overrun,
            value: t.value,
        }),
        ..SigInfo::default()
    };
    Some((t.notify, info))
}

fn send(p: &crate::process::Process, notify: Notify, info: SigInfo) {
    match notify {
        Notify::Nothing => {}
        // A full real-time queue drops this expiration (the next one may get in).
        Notify::Program => {
            super::state::send_to(p, info);
        }
        Notify::Thread(tid) => {
            // A thread that has ended gets nothing.
            if crate::sched::pid_of(tid) == Some(p.pid()) {
                super::state::send_thread_in(p, tid, info);
            }
        }
    }
}
