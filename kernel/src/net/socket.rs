//! A socket as a file: reads and writes go to the stack's TCP or UDP socket, readiness
//! comes from it, and closing the last descriptor closes it. Waiters wake when a card
//! interrupts or the stack's next timer is due (see `net::next_deadline`).

use crate::errno::*;
use crate::fd::stat::Stat;
use crate::fd::{Direction, FileOps, OpenFile};
use core::any::Any;
use rumprun_net::SocketId;

pub struct SocketFile {
    pub id: SocketId,
}

const S_IFSOCK: u32 = 0o140000;

/// How long a blocking call on socket `id` may wait, in ns: its SO_RCVTIMEO or
/// SO_SNDTIMEO; 0 = no limit.
pub fn timeout_ns(id: SocketId, dir: Direction) -> u64 {
    super::with(|s| {
        s.options(id).map(|o| match dir {
            Direction::Receive => o.rcvtimeo_us,
            Direction::Send => o.sndtimeo_us,
        })
    })
    .unwrap_or(0)
    .saturating_mul(1000)
}

impl FileOps for SocketFile {
    fn read(&self, _file: &OpenFile, buf: &mut [u8]) -> Result<usize, Errno> {
        super::with(|s| s.recv(self.id, buf, 0)).map(|r| r.len)
    }
    fn write(&self, _file: &OpenFile, buf: &[u8]) -> Result<usize, Errno> {
        super::with(|s| s.send(self.id, buf, None))
    }
    /// TCP (UDP sends a datagram whole or not at all, so it never gets here short).
    fn is_stream(&self) -> bool {
        true
    }
    fn poll(&self) -> u32 {
        super::poll();
        super::peek(|s| s.poll_bits(self.id)).unwrap_or(0)
    }
    fn generation(&self) -> u64 {
        super::peek(|s| s.generation(self.id)).unwrap_or(0)
    }
    fn next_deadline(&self) -> Option<u64> {
        super::next_deadline()
    }
    fn timeout_ns(&self, dir: Direction) -> u64 {
        timeout_ns(self.id, dir)
    }
    fn sleep(&self, deadline: Option<u64>) -> crate::sched::Wake {
        super::wait(deadline)
    }
    fn bytes_readable(&self) -> Option<usize> {
        super::with(|s| s.bytes_readable(self.id)).ok()
    }
    fn ioctl(&self, _file: &OpenFile, req: u64, arg: u64) -> Result<u64, Errno> {
        super::ifreq::ioctl(req, arg).unwrap_or(Err(ENOTTY))
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat::special(S_IFSOCK | 0o777, 5000 + self.id.0 as u64, 0))
    }
    fn release(&self) {
        let _ = super::with(|s| s.close(self.id));
    }
    fn describe(&self) -> alloc::string::String {
        alloc::format!("socket:[{}]", 5000 + self.id.0)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
