//! Clocks, sleeping and the interval timer: clock_gettime/getres, gettimeofday, time,
//! nanosleep and clock_nanosleep (blocked in the scheduler until a deadline; a signal
//! ends them early with EINTR and the time left), alarm and setitimer/getitimer
//! (see `crate::signal::itimer`), and POSIX timers (timer_create
//! & co., see `crate::signal::posix_timer`).

use crate::errno::*;
use crate::mm::user;
use crate::time;

const CLOCK_REALTIME: u64 = 0;
const CLOCK_MONOTONIC: u64 = 1;
const CLOCK_PROCESS_CPUTIME_ID: u64 = 2;
const CLOCK_THREAD_CPUTIME_ID: u64 = 3;
const CLOCK_MONOTONIC_RAW: u64 = 4;
const CLOCK_REALTIME_COARSE: u64 = 5;
const CLOCK_MONOTONIC_COARSE: u64 = 6;
const CLOCK_BOOTTIME: u64 = 7;
const TIMER_ABSTIME: u64 = 1;

fn now(clock: u64) -> Result<u64, Errno> {
    match clock {
        CLOCK_REALTIME | CLOCK_REALTIME_COARSE => Ok(time::realtime_ns()),
        CLOCK_MONOTONIC | CLOCK_MONOTONIC_RAW | CLOCK_MONOTONIC_COARSE | CLOCK_BOOTTIME => {
            Ok(time::monotonic_ns())
        }
        CLOCK_PROCESS_CPUTIME_ID => Ok(crate::process::cpu_ns()),
        CLOCK_THREAD_CPUTIME_ID => Ok(crate::sched::thread_cpu_ns()),
        c if (c as i32) < 0 => cpu_clock(c as i32),
        _ => Err(EINVAL),
    }
}

/// The CPU-time clocks of clock_getcpuclockid/pthread_getcpuclockid: `~id << 3 |
/// type`, bit 2 for a thread; id 0 is the caller. Threads of the program itself and
/// programs of the image; others EINVAL, as Linux says for a missing one.
fn cpu_clock(c: i32) -> Result<u64, Errno> {
    const CPUCLOCK_PERTHREAD: i32 = 4;
    if c & 3 == 3 {
        return Err(EINVAL);
    }
    let id = !(c >> 3) as u32;
    if c & CPUCLOCK_PERTHREAD != 0 {
        return match id {
            0 => Ok(crate::sched::thread_cpu_ns()),
            tid => crate::process::thread_cpu_ns(tid).ok_or(EINVAL),
        };
    }
    match id {
        0 => Ok(crate::process::cpu_ns()),
        pid if crate::process::running().any(|p| p.pid() == pid) => {
            Ok(crate::sched::cpu_ns_of(pid))
        }
        _ => Err(EINVAL),
    }
}

/// Whether the caller may set the clocks (CAP_SYS_TIME, which root has).
fn may_set_time() -> Result<(), Errno> {
    const CAP_SYS_TIME: u64 = 1 << 25;
    if crate::process::current().creds.lock().effective & CAP_SYS_TIME != 0 {
        Ok(())
    } else {
        Err(EPERM)
    }
}

/// settimeofday(tv, tz): sets the wall clock as clock_settime(CLOCK_REALTIME) does;
/// the obsolete timezone alone is accepted and ignored.
pub fn settimeofday(tv: u64, tz: u64) -> SysResult {
    if tz != 0 {
        user::read::<[i32; 2]>(tz)?;
    }
    if tv == 0 {
        return Ok(0);
    }
    let v: [i64; 2] = user::read(tv)?;
    if v[0] < 0 || !(0..1_000_000).contains(&v[1]) {
        return Err(EINVAL);
    }
    may_set_time()?;
    time::set_realtime_ns((v[0] as u64).saturating_mul(1_000_000_000) + v[1] as u64 * 1000);
    Ok(0)
}

/// clock_settime: CLOCK_REALTIME is set (for every program of the image, as Linux's is
/// system-wide; the monotonic clocks do not move); the other clocks cannot be set
/// (EINVAL, as Linux says).
pub fn clock_settime(clock: u64, ts: u64) -> SysResult {
    now(clock)?;
    // As Linux: the clocks without a setter (all but CLOCK_REALTIME and the CPU-time
    // clocks of clock_getcpuclockid/pthread_getcpuclockid) are EINVAL before the time
    // is read; a CPU-time clock has one that refuses: EPERM.
    let cpu_clock = (clock as i32) < 0;
    if clock != CLOCK_REALTIME && !cpu_clock {
        return Err(EINVAL);
    }
    let t = user::read(ts)?;
    if cpu_clock {
        return Err(EPERM);
    }
    let ns = from_timespec(t)?;
    may_set_time()?;
    time::set_realtime_ns(ns);
    Ok(0)
}

fn to_timespec(ns: u64) -> [i64; 2] {
    [(ns / 1_000_000_000) as i64, (ns % 1_000_000_000) as i64]
}

fn from_timespec(ts: [i64; 2]) -> Result<u64, Errno> {
    if ts[0] < 0 || !(0..1_000_000_000).contains(&ts[1]) {
        return Err(EINVAL);
    }
    Ok((ts[0] as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(ts[1] as u64))
}

pub fn clock_gettime(clock: u64, ts: u64) -> SysResult {
    user::write(ts, to_timespec(now(clock)?)).map(|_| 0)
}

pub fn clock_getres(clock: u64, ts: u64) -> SysResult {
    now(clock)?;
    if ts != 0 {
        user::write(ts, [0i64, 1])?;
    }
    Ok(0)
}

/// gettimeofday(tv, tz): the wall clock; the obsolete timezone is UTC (both fields 0).
pub fn gettimeofday(tv: u64, tz: u64) -> SysResult {
    if tz != 0 {
        user::write(tz, [0i32; 2])?;
    }
    if tv != 0 {
        let ns = time::realtime_ns();
        user::write(
            tv,
            [
                (ns / 1_000_000_000) as i64,
                ((ns % 1_000_000_000) / 1000) as i64,
            ],
        )?;
    }
    Ok(0)
}

pub fn time(t: u64) -> SysResult {
    let secs = time::realtime_ns() / 1_000_000_000;
    if t != 0 {
        user::write(t, secs as i64)?;
    }
    Ok(secs)
}

/// Sleeps until `deadline`; when a signal interrupts, writes the time left to `rem`
/// (if given) and returns EINTR (after the handler; never restarted after one).
fn sleep(deadline: u64, rem: u64) -> SysResult {
    if crate::sched::sleep_until(deadline) == crate::sched::Wake::Interrupted {
        if rem != 0 {
            let left = deadline.saturating_sub(time::monotonic_ns());
            user::write(rem, to_timespec(left))?;
        }
        return Err(ERESTARTNOHAND);
    }
    Ok(0)
}

pub fn nanosleep(req: u64, rem: u64) -> SysResult {
    let ns = from_timespec(user::read(req)?)?;
    sleep(time::monotonic_ns().saturating_add(ns), rem)
}

pub fn clock_nanosleep(clock: u64, flags: u64, req: u64, rem: u64) -> SysResult {
    if clock == CLOCK_THREAD_CPUTIME_ID {
        return Err(EOPNOTSUPP);
    }
    if clock == CLOCK_PROCESS_CPUTIME_ID {
        crate::console::log_once(
            "cpu-clock-sleep",
            "rumprun: clock_nanosleep on CLOCK_PROCESS_CPUTIME_ID is not supported; returning EOPNOTSUPP",
        );
        return Err(EOPNOTSUPP);
    }
    let ns = from_timespec(user::read(req)?)?;
    let start = now(clock)?;
    let (wait, rem) = if flags & TIMER_ABSTIME != 0 {
        (ns.saturating_sub(start), 0) // rem is not written for absolute sleeps
    } else {
        (ns, rem)
    };
    sleep(time::monotonic_ns().saturating_add(wait), rem)
}

const NS_PER_US: u64 = 1000;

fn to_timeval(ns: u64) -> [i64; 2] {
    [
        (ns / 1_000_000_000) as i64,
        ((ns % 1_000_000_000).div_ceil(NS_PER_US)) as i64,
    ]
}

fn from_timeval(tv: [i64; 2]) -> Result<u64, Errno> {
    if tv[0] < 0 || !(0..1_000_000).contains(&tv[1]) {
        return Err(EINVAL);
    }
    Ok((tv[0] as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(tv[1] as u64 * NS_PER_US))
}

/// ITIMER_REAL, ITIMER_VIRTUAL or ITIMER_PROF, else EINVAL.
fn itimer_which(which: u64) -> Result<usize, Errno> {
    if which > 2 {
        return Err(EINVAL);
    }
    Ok(which as usize)
}

/// struct itimerval { it_interval, it_value } from (value, interval) in ns.
fn itimerval(value: u64, interval: u64) -> [[i64; 2]; 2] {
    [to_timeval(interval), to_timeval(value)]
}

pub fn getitimer(which: u64, curr: u64) -> SysResult {
    let which = itimer_which(which)?;
    let (value, interval) = crate::signal::itimer::get(which);
    user::write(curr, itimerval(value, interval))?;
    Ok(0)
}

pub fn setitimer(which: u64, new: u64, old: u64) -> SysResult {
    let which = itimer_which(which)?;
    let (value, interval) = if new != 0 {
        let v: [[i64; 2]; 2] = user::read(new)?;
        (from_timeval(v[1])?, from_timeval(v[0])?)
    } else {
        (0, 0) // Linux treats a NULL new value as disarming
    };
    let (ov, oi) = crate::signal::itimer::set(which, value, interval);
    if old != 0 {
        user::write(old, itimerval(ov, oi))?;
    }
    Ok(0)
}

/// alarm(seconds): SIGALRM after that many seconds (0 cancels); returns the seconds
/// left of the previous alarm, rounded to nearest (at least 1 if one was pending).
pub fn alarm(secs: u64) -> SysResult {
    let secs = secs.min(u32::MAX as u64);
    let (left, _) =
        crate::signal::itimer::set(crate::signal::itimer::ITIMER_REAL, secs * 1_000_000_000, 0);
    if left == 0 {
        return Ok(0);
    }
    Ok(((left + 500_000_000) / 1_000_000_000).max(1))
}

/// poll's timeout in ms (negative = forever) to nanoseconds.
pub fn ms_timeout(ms: i64) -> Option<u64> {
    (ms >= 0).then(|| ms as u64 * 1_000_000)
}

/// select's timeval pointer (NULL = forever) to nanoseconds.
pub fn timeval_timeout(ptr: u64) -> Result<Option<u64>, Errno> {
    if ptr == 0 {
        return Ok(None);
    }
    from_timeval(user::read(ptr)?).map(Some)
}

/// ppoll's timespec pointer (NULL = forever) to nanoseconds.
pub fn timespec_timeout(ptr: u64) -> Result<Option<u64>, Errno> {
    if ptr == 0 {
        return Ok(None);
    }
    from_timespec(user::read(ptr)?).map(Some)
}

// ----- POSIX timers (signal::posix_timer) -----

const SIGEV_SIGNAL: i32 = 0;
const SIGEV_NONE: i32 = 1;
const SIGEV_THREAD: i32 = 2;
const SIGEV_THREAD_ID: i32 = 4;

/// timer_create(clockid, sevp, timerid): CLOCK_REALTIME, CLOCK_MONOTONIC and
/// CLOCK_BOOTTIME; SIGEV_NONE, SIGEV_SIGNAL and SIGEV_THREAD_ID (libc builds
/// SIGEV_THREAD on the latter).
pub fn timer_create(clock: u64, sevp: u64, idp: u64) -> SysResult {
    use crate::signal::posix_timer::{self, Notify};
    match clock {
        CLOCK_REALTIME | CLOCK_MONOTONIC | CLOCK_BOOTTIME => {}
        CLOCK_PROCESS_CPUTIME_ID | CLOCK_THREAD_CPUTIME_ID => {
            crate::console::log_once(
                "timer-cputime",
                "rumprun: timer_create: CPU-time clocks are not supported (EOPNOTSUPP); CLOCK_REALTIME, CLOCK_MONOTONIC and CLOCK_BOOTTIME are",
            );
            return Err(EOPNOTSUPP);
        }
        _ => return Err(EINVAL),
    }
    let (notify, signo, value) = if sevp == 0 {
        (Notify::Program, crate::signal::SIGALRM, None)
    } else {
        // struct sigevent: sigev_value, sigev_signo, sigev_notify, then _tid.
        let ev: [u8; 20] = user::read(sevp)?;
        let word = |i: usize| i32::from_le_bytes(ev[i..i + 4].try_into().unwrap());
        let value = u64::from_le_bytes(ev[0..8].try_into().unwrap());
        let (signo, how, tid) = (word(8), word(12), word(16));
        let signal_ok = (1..=crate::signal::NSIG as i32).contains(&signo);
        let notify = match how {
            SIGEV_NONE => Notify::Nothing,
            SIGEV_SIGNAL if signal_ok => Notify::Program,
            SIGEV_THREAD_ID
                if signal_ok
                    && tid > 0
                    && crate::sched::pid_of(tid as u32)
                        == Some(crate::process::current().pid()) =>
            {
                Notify::Thread(tid as u32)
            }
            SIGEV_THREAD => return Err(EINVAL), // the C library's business
            _ => return Err(EINVAL),
        };
        (notify, signo, Some(value))
    };
    let id = posix_timer::create(clock == CLOCK_REALTIME, notify, signo, value).ok_or(EAGAIN)?;
    if let Err(e) = user::write(idp, id as i32) {
        posix_timer::delete(id);
        return Err(e);
    }
    Ok(0)
}

/// A timer id from the program (a `timer_t` is an int in the kernel's ABI).
fn timer_id(id: u64) -> usize {
    id as i32 as i64 as usize
}

/// struct itimerspec { it_interval, it_value } from (value, interval) in ns.
fn itimerspec(value: u64, interval: u64) -> [[i64; 2]; 2] {
    [to_timespec(interval), to_timespec(value)]
}

pub fn timer_settime(id: u64, flags: u64, new: u64, old: u64) -> SysResult {
    let id = timer_id(id);
    crate::signal::posix_timer::get(id).ok_or(EINVAL)?;
    if new == 0 {
        return Err(EINVAL);
    }
    let spec: [[i64; 2]; 2] = user::read(new)?;
    let (interval, value) = (from_timespec(spec[0])?, from_timespec(spec[1])?);
    let now = time::monotonic_ns();
    let deadline = match (value, flags & TIMER_ABSTIME != 0) {
        (0, _) => None,
        (v, false) => Some(now.saturating_add(v)),
        // An absolute time on the timer's clock: CLOCK_REALTIME is converted now.
        (v, true) => Some(match crate::signal::posix_timer::clock_is_realtime(id) {
            true => now.saturating_add(v.saturating_sub(time::realtime_ns())),
            false => v,
        }),
    };
    let (ov, oi) = crate::signal::posix_timer::set(id, deadline, interval).ok_or(EINVAL)?;
    if old != 0 {
        user::write(old, itimerspec(ov, oi))?;
    }
    Ok(0)
}

pub fn timer_gettime(id: u64, cur: u64) -> SysResult {
    let (value, interval) = crate::signal::posix_timer::get(timer_id(id)).ok_or(EINVAL)?;
    user::write(cur, itimerspec(value, interval))?;
    Ok(0)
}

pub fn timer_getoverrun(id: u64) -> SysResult {
    crate::signal::posix_timer::overrun(timer_id(id))
        .map(|n| n as u64)
        .ok_or(EINVAL)
}

pub fn timer_delete(id: u64) -> SysResult {
    if crate::signal::posix_timer::delete(timer_id(id)) {
        Ok(0)
    } else {
        Err(EINVAL)
    }
}
