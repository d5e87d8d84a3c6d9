//! Process descriptors (pidfd_open): a file that names a process and becomes readable
//! (POLLIN) once the process has ended, so that poll/epoll can wait for a child
//! (asyncio's PidfdChildWatcher); pidfd_send_signal signals through it.

use super::Pid;
use crate::errno::Errno;
use crate::fd::stat::{Stat, S_IFREG};
use crate::fd::{FileOps, POLLIN};
use core::any::Any;

/// The open process descriptor of process `pid`.
pub struct PidFd {
    pid: Pid,
}

impl PidFd {
    pub fn new(pid: Pid) -> PidFd {
        PidFd { pid }
    }

    /// The process it names, while it is still known (running or a zombie).
    pub fn process(&self) -> Option<&'static super::Process> {
        super::find(self.pid)
    }

    fn ended(&self) -> bool {
        !self.process().is_some_and(|p| p.is_running())
    }
}

impl FileOps for PidFd {
    fn poll(&self) -> u32 {
        if self.ended() {
            POLLIN
        } else {
            0
        }
    }
    fn generation(&self) -> u64 {
        self.ended() as u64
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat::special(S_IFREG | 0o600, 2, 0))
    }
    fn describe(&self) -> alloc::string::String {
        alloc::string::String::from("anon_inode:[pidfd]")
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
