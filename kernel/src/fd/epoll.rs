//! epoll: an interest list of (fd, open file) with event masks and user data;
//! readiness is asked of each file when waiting. Level-triggered by default;
//! EPOLLET reports a file again only after its generation changed (it became readier);
//! EPOLLONESHOT disables an entry after one report until EPOLL_CTL_MOD.

use super::{FileOps, OpenFile, POLLERR, POLLHUP};
use crate::errno::*;
use crate::fd::stat::{Stat, S_IFREG};
use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::any::Any;
use spin::Mutex;

pub const EPOLLET: u32 = 1 << 31;
pub const EPOLLONESHOT: u32 = 1 << 30;
pub const EPOLLEXCLUSIVE: u32 = 1 << 28;
const CONTROL_BITS: u32 = EPOLLET | EPOLLONESHOT | EPOLLEXCLUSIVE | (1 << 29);

struct Entry {
    file: Weak<OpenFile>,
    events: u32,
    data: u64,
    /// Generation last reported (edge-triggered).
    reported: Option<u64>,
    disabled: bool,
}

#[derive(Default)]
pub struct Epoll {
    /// Keyed by fd number and the open file's address, as Linux keys (fd, file).
    entries: Mutex<BTreeMap<(u64, usize), Entry>>,
    /// `collect`'s buffer between waits (`take_buffer`).
    buffer: Mutex<Vec<(u32, u64)>>,
}

fn key(fd: u64, file: &Arc<OpenFile>) -> (u64, usize) {
    (fd, Arc::as_ptr(file) as usize)
}

impl Epoll {
    pub fn add(&self, fd: u64, file: &Arc<OpenFile>, events: u32, data: u64) -> Result<(), Errno> {
        let mut e = self.entries.lock();
        let k = key(fd, file);
        // An entry of a closed file (not yet dropped by `collect`) whose fd and
        // address a new file took is replaced.
        if e.get(&k).is_some_and(|old| old.file.strong_count() > 0) {
            return Err(EEXIST);
        }
        e.insert(
            k,
            Entry {
                file: Arc::downgrade(file),
                events,
                data,
                reported: None,
                disabled: false,
            },
        );
        Ok(())
    }

    pub fn modify(
        &self,
        fd: u64,
        file: &Arc<OpenFile>,
        events: u32,
        data: u64,
    ) -> Result<(), Errno> {
        let mut e = self.entries.lock();
        let entry = e.get_mut(&key(fd, file)).ok_or(ENOENT)?;
        entry.events = events;
        entry.data = data;
        entry.reported = None;
        entry.disabled = false;
        Ok(())
    }

    pub fn delete(&self, fd: u64, file: &Arc<OpenFile>) -> Result<(), Errno> {
        self.entries
            .lock()
            .remove(&key(fd, file))
            .map(|_| ())
            .ok_or(ENOENT)
    }

    /// Puts up to `max` ready (events, data) pairs in `out` (cleared first), marking
    /// edge-triggered and one-shot entries as reported. One walk of the entries: while
    /// none is ready it also gathers what a wait needs (`Hints`), and it drops the
    /// entries of closed files only when it met one (each epoll_wait walked the entries
    /// three times: to drop, to collect, and again for the hints of its wait).
    pub fn collect(&self, max: usize, out: &mut Vec<(u32, u64)>) -> Hints {
        out.clear();
        let mut hints = Hints::default();
        let mut closed = false;
        let mut e = self.entries.lock();
        for entry in e.values_mut() {
            if out.len() >= max {
                break;
            }
            if entry.disabled {
                closed |= entry.file.strong_count() == 0;
                continue;
            }
            let Some(file) = entry.file.upgrade() else {
                closed = true;
                continue;
            };
            if out.is_empty() {
                hints.deadline = super::wait::earliest(hints.deadline, file.ops.next_deadline());
                hints.polling |= file.ops.needs_polling();
                hints.network |= file.ops.network_driven();
            }
            let ready = file.ops.poll() & ((entry.events & !CONTROL_BITS) | POLLERR | POLLHUP);
            if ready == 0 {
                continue;
            }
            if entry.events & EPOLLET != 0 {
                let generation = file.ops.generation();
                if entry.reported == Some(generation) {
                    continue;
                }
                entry.reported = Some(generation);
            }
            if entry.events & EPOLLONESHOT != 0 {
                entry.disabled = true;
            }
            out.push((ready, entry.data));
        }
        if closed {
            e.retain(|_, entry| entry.file.strong_count() > 0);
        }
        hints
    }

    /// The buffer `collect` fills, kept between calls (`put_buffer`) so that a wait
    /// allocates nothing once it has room.
    pub fn take_buffer(&self) -> Vec<(u32, u64)> {
        core::mem::take(&mut *self.buffer.lock())
    }

    /// Gives back the buffer of `take_buffer`.
    pub fn put_buffer(&self, buf: Vec<(u32, u64)>) {
        *self.buffer.lock() = buf;
    }
}

/// What an epoll_wait that found nothing ready waits for (of the entries `collect`
/// looked at).
#[derive(Default)]
pub struct Hints {
    /// The earliest self-timed change (timerfd).
    pub deadline: Option<u64>,
    /// A file needs periodic polling.
    pub polling: bool,
    /// A file is `network_driven` (else no frame can make one ready).
    pub network: bool,
}

impl FileOps for Epoll {
    fn poll(&self) -> u32 {
        // An epoll fd is readable when one of its entries is ready (without consuming
        // edge-triggered reports).
        let e = self.entries.lock();
        let any = e.values().filter(|x| !x.disabled).any(|x| {
            x.file.upgrade().is_some_and(|f| {
                f.ops.poll() & ((x.events & !CONTROL_BITS) | POLLERR | POLLHUP) != 0
            })
        });
        if any {
            super::POLLIN
        } else {
            0
        }
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat::special(S_IFREG | 0o600, 2, 0))
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
