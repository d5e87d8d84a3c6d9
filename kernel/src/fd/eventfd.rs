//! eventfd: a 64-bit counter. write adds, read returns and clears it (or takes 1 in
//! semaphore mode); reading zero would block, and a write that would overflow too.

use super::{wait, FileOps, OpenFile, POLLIN, POLLOUT};
use crate::errno::*;
use crate::fd::stat::{Stat, S_IFREG};
use core::any::Any;
use spin::Mutex;

pub struct EventFd {
    state: Mutex<(u64, u64)>, // (counter, generation)
    semaphore: bool,
}

impl EventFd {
    pub fn new(initial: u64, semaphore: bool) -> EventFd {
        EventFd {
            state: Mutex::new((initial, 0)),
            semaphore,
        }
    }
}

impl FileOps for EventFd {
    fn network_driven(&self) -> bool {
        false
    }
    fn read(&self, _file: &OpenFile, buf: &mut [u8]) -> Result<usize, Errno> {
        if buf.len() < 8 {
            return Err(EINVAL);
        }
        let mut s = self.state.lock();
        if s.0 == 0 {
            return Err(EAGAIN);
        }
        let v = if self.semaphore { 1 } else { s.0 };
        s.0 -= v;
        s.1 += 1;
        drop(s);
        buf[..8].copy_from_slice(&v.to_ne_bytes());
        wait::notify();
        Ok(8)
    }
    fn write(&self, _file: &OpenFile, buf: &[u8]) -> Result<usize, Errno> {
        if buf.len() < 8 {
            return Err(EINVAL);
        }
        let v = u64::from_ne_bytes(buf[..8].try_into().unwrap());
        if v == u64::MAX {
            return Err(EINVAL);
        }
        let mut s = self.state.lock();
        if u64::MAX - 1 - s.0 < v {
            return Err(EAGAIN);
        }
        s.0 += v;
        s.1 += 1;
        drop(s);
        wait::notify();
        Ok(8)
    }
    fn poll(&self) -> u32 {
        let c = self.state.lock().0;
        (if c > 0 { POLLIN } else { 0 }) | (if c < u64::MAX - 1 { POLLOUT } else { 0 })
    }
    fn generation(&self) -> u64 {
        self.state.lock().1
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat::special(S_IFREG | 0o600, 2, 0))
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
