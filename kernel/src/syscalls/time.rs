//! Clocks, sleeping and the interval timer: clock_gettime/getres, gettimeofday, time,
//! nanosleep and clock_nanosleep (blocked in the scheduler until a deadline; a signal
//! ends them early with EINTR and the time left), alarm and setitimer/getitimer
//! (ITIMER_REAL only, see `crate::signal::itimer`).

use super::errno::*;
use super::user;
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
        CLOCK_PROCESS_CPUTIME_ID => Ok(crate::sched::process_cpu_ns()),
        CLOCK_THREAD_CPUTIME_ID => Ok(crate::sched::thread_cpu_ns()),
        _ => Err(EINVAL),
    }
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

const ITIMER_REAL: u64 = 0;
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

fn only_itimer_real(which: u64) -> Result<(), Errno> {
    if which != ITIMER_REAL {
        crate::console::log_once(
            "itimer-which",
            "rumprun: setitimer/getitimer: only ITIMER_REAL is supported (ITIMER_VIRTUAL and ITIMER_PROF give EINVAL)",
        );
        return Err(EINVAL);
    }
    Ok(())
}

/// struct itimerval { it_interval, it_value } from (value, interval) in ns.
fn itimerval(value: u64, interval: u64) -> [[i64; 2]; 2] {
    [to_timeval(interval), to_timeval(value)]
}

pub fn getitimer(which: u64, curr: u64) -> SysResult {
    only_itimer_real(which)?;
    let (value, interval) = crate::signal::itimer::get();
    user::write(curr, itimerval(value, interval))?;
    Ok(0)
}

pub fn setitimer(which: u64, new: u64, old: u64) -> SysResult {
    only_itimer_real(which)?;
    let (value, interval) = if new != 0 {
        let v: [[i64; 2]; 2] = user::read(new)?;
        (from_timeval(v[1])?, from_timeval(v[0])?)
    } else {
        (0, 0) // Linux treats a NULL new value as disarming
    };
    let (ov, oi) = crate::signal::itimer::set(value, interval);
    if old != 0 {
        user::write(old, itimerval(ov, oi))?;
    }
    Ok(0)
}

/// alarm(seconds): SIGALRM after that many seconds (0 cancels); returns the seconds
/// left of the previous alarm, rounded to nearest (at least 1 if one was pending).
pub fn alarm(secs: u64) -> SysResult {
    let secs = secs.min(u32::MAX as u64);
    let (left, _) = crate::signal::itimer::set(secs * 1_000_000_000, 0);
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
