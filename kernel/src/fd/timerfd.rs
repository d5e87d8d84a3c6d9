//! timerfd: a timer whose expirations are read as a 64-bit count. Expiry is computed
//! from the clock when asked (no interrupt per expiration); waiters sleep until
//! `next_deadline`.

use super::{FileOps, OpenFile, POLLIN};
use crate::errno::*;
use crate::fd::stat::{Stat, S_IFREG};
use core::any::Any;
use spin::Mutex;

#[derive(Clone, Copy, Default)]
struct Timer {
    /// Next expiry (monotonic ns), 0 = disarmed.
    next: u64,
    interval: u64,
    /// Expirations counted but not yet read.
    pending: u64,
    reads: u64,
}

pub struct TimerFd {
    timer: Mutex<Timer>,
    /// CLOCK_REALTIME timers convert absolute times through this offset at set time.
    pub realtime: bool,
}

impl TimerFd {
    pub fn new(realtime: bool) -> TimerFd {
        TimerFd {
            timer: Mutex::new(Timer::default()),
            realtime,
        }
    }

    fn update(t: &mut Timer, now: u64) {
        if t.next != 0 && now >= t.next {
            match (now - t.next).checked_div(t.interval) {
                None => {
                    t.pending += 1;
                    t.next = 0;
                }
                Some(periods) => {
                    t.pending += periods + 1;
                    t.next += (periods + 1) * t.interval;
                }
            }
        }
    }

    /// Arms (value 0 disarms) with an absolute monotonic expiry; returns the old
    /// (remaining, interval) in ns.
    pub fn set(&self, expiry: u64, interval: u64) -> (u64, u64) {
        let now = crate::time::monotonic_ns();
        let mut t = self.timer.lock();
        Self::update(&mut t, now);
        let old = (if t.next == 0 { 0 } else { t.next - now }, t.interval);
        t.next = expiry;
        t.interval = if expiry == 0 { 0 } else { interval };
        t.pending = 0;
        old
    }

    /// (remaining, interval) in ns.
    pub fn get(&self) -> (u64, u64) {
        let now = crate::time::monotonic_ns();
        let mut t = self.timer.lock();
        Self::update(&mut t, now);
        (if t.next == 0 { 0 } else { t.next - now }, t.interval)
    }
}

impl FileOps for TimerFd {
    fn network_driven(&self) -> bool {
        false
    }
    fn read(&self, _file: &OpenFile, buf: &mut [u8]) -> Result<usize, Errno> {
        if buf.len() < 8 {
            return Err(EINVAL);
        }
        let mut t = self.timer.lock();
        Self::update(&mut t, crate::time::monotonic_ns());
        if t.pending == 0 {
            return Err(EAGAIN);
        }
        buf[..8].copy_from_slice(&t.pending.to_ne_bytes());
        t.pending = 0;
        t.reads += 1;
        Ok(8)
    }
    fn poll(&self) -> u32 {
        let mut t = self.timer.lock();
        Self::update(&mut t, crate::time::monotonic_ns());
        if t.pending > 0 {
            POLLIN
        } else {
            0
        }
    }
    fn generation(&self) -> u64 {
        let t = self.timer.lock();
        t.reads.wrapping_mul(1 << 32) + t.pending + t.next
    }
    fn next_deadline(&self) -> Option<u64> {
        let t = self.timer.lock();
        (t.next != 0).then_some(t.next)
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat::special(S_IFREG | 0o600, 2, 0))
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
