//! signalfd: signals read as data. A signalfd holds a signal set; reading it takes
//! pending signals of that set (the reading thread's own, then the program's) and
//! returns one `struct signalfd_siginfo` (128 bytes) each, instead of running their
//! dispositions. As on Linux the program blocks those signals itself so that they
//! stay pending; reading nothing pending says EAGAIN (the caller's I/O wait blocks,
//! and every signal sent wakes it through the I/O queue).

use super::{FileOps, OpenFile, POLLIN};
use crate::errno::*;
use crate::fd::stat::{Stat, S_IFREG};
use crate::signal::{state, SigInfo, UNBLOCKABLE};
use core::any::Any;
use core::sync::atomic::{AtomicU64, Ordering};

/// Size of `struct signalfd_siginfo`.
pub const SIGINFO_SIZE: usize = 128;

pub struct SignalFd {
    mask: AtomicU64,
}

impl SignalFd {
    pub fn new(mask: u64) -> SignalFd {
        SignalFd {
            mask: AtomicU64::new(mask & !UNBLOCKABLE),
        }
    }

    /// signalfd on an existing descriptor: replaces the set.
    pub fn set_mask(&self, mask: u64) {
        self.mask.store(mask & !UNBLOCKABLE, Ordering::Relaxed);
    }
}

/// `struct signalfd_siginfo` for `info`.
fn encode(info: &SigInfo) -> [u8; SIGINFO_SIZE] {
    let mut b = [0u8; SIGINFO_SIZE];
    b[0..4].copy_from_slice(&(info.signo as u32).to_ne_bytes()); // ssi_signo
    b[8..12].copy_from_slice(&info.code.to_ne_bytes()); // ssi_code
    b[12..16].copy_from_slice(&info.pid.to_ne_bytes()); // ssi_pid
    b[72..80].copy_from_slice(&info.addr.to_ne_bytes()); // ssi_addr
    b[44..48].copy_from_slice(&(info.value as u32).to_ne_bytes()); // ssi_int
    b[48..56].copy_from_slice(&info.value.to_ne_bytes()); // ssi_ptr
    if let Some(t) = info.timer {
        b[24..28].copy_from_slice(&t.id.to_ne_bytes()); // ssi_tid
        b[32..36].copy_from_slice(&t.overrun.to_ne_bytes()); // ssi_overrun
        b[44..48].copy_from_slice(&(t.value as u32).to_ne_bytes()); // ssi_int
        b[48..56].copy_from_slice(&t.value.to_ne_bytes()); // ssi_ptr
    }
    b
}

impl FileOps for SignalFd {
    fn network_driven(&self) -> bool {
        false
    }
    fn read(&self, _file: &OpenFile, buf: &mut [u8]) -> Result<usize, Errno> {
        if buf.len() < SIGINFO_SIZE {
            return Err(EINVAL);
        }
        let tid = crate::sched::current();
        let set = self.mask.load(Ordering::Relaxed);
        let mut n = 0;
        while n + SIGINFO_SIZE <= buf.len() {
            let Some(info) = state::dequeue(tid, set) else {
                break;
            };
            buf[n..n + SIGINFO_SIZE].copy_from_slice(&encode(&info));
            n += SIGINFO_SIZE;
        }
        if n == 0 {
            return Err(EAGAIN);
        }
        Ok(n)
    }
    fn write(&self, _file: &OpenFile, _buf: &[u8]) -> Result<usize, Errno> {
        Err(EINVAL)
    }
    fn poll(&self) -> u32 {
        let pending = state::pending(crate::sched::current());
        if pending & self.mask.load(Ordering::Relaxed) != 0 {
            POLLIN
        } else {
            0
        }
    }
    fn generation(&self) -> u64 {
        state::sends()
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat::special(S_IFREG | 0o600, 2, 0))
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
