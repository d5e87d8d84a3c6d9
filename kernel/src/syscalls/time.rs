//! Clocks and sleeping: clock_gettime/getres, gettimeofday, time, nanosleep,
//! clock_nanosleep. Sleeps spin on the TSC until timer interrupts arrive.

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

pub fn gettimeofday(tv: u64) -> SysResult {
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

pub fn nanosleep(req: u64, _rem: u64) -> SysResult {
    let ns = from_timespec(user::read(req)?)?;
    crate::sched::sleep_until(time::monotonic_ns().saturating_add(ns));
    Ok(0)
}

pub fn clock_nanosleep(clock: u64, flags: u64, req: u64, _rem: u64) -> SysResult {
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
    let wait = if flags & TIMER_ABSTIME != 0 {
        ns.saturating_sub(start)
    } else {
        ns
    };
    crate::sched::sleep_until(time::monotonic_ns().saturating_add(wait));
    Ok(0)
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
    let tv: [i64; 2] = user::read(ptr)?;
    if tv[0] < 0 || !(0..1_000_000).contains(&tv[1]) {
        return Err(EINVAL);
    }
    Ok(Some(tv[0] as u64 * 1_000_000_000 + tv[1] as u64 * 1000))
}

/// ppoll's timespec pointer (NULL = forever) to nanoseconds.
pub fn timespec_timeout(ptr: u64) -> Result<Option<u64>, Errno> {
    if ptr == 0 {
        return Ok(None);
    }
    from_timespec(user::read(ptr)?).map(Some)
}
