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
}

fn key(fd: u64, file: &Arc<OpenFile>) -> (u64, usize) {
    (fd, Arc::as_ptr(file) as usize)
}

impl Epoll {
    pub fn add(&self, fd: u64, file: &Arc<OpenFile>, events: u32, data: u64) -> Result<(), Errno> {
        let mut e = self.entries.lock();
        let k = key(fd, file);
        if e.contains_key(&k) {
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

    /// Up to `max` ready (events, data) pairs, marking edge-triggered and one-shot
    /// entries as reported.
    pub fn collect(&self, max: usize) -> Vec<(u32, u64)> {
        let mut out = Vec::new();
        let mut e = self.entries.lock();
        e.retain(|_, entry| entry.file.strong_count() > 0);
        for entry in e.values_mut() {
            if out.len() >= max {
                break;
            }
            if entry.disabled {
                continue;
            }
            let Some(file) = entry.file.upgrade() else {
                continue;
            };
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
        out
    }

    /// The earliest self-timed change, whether any file needs periodic polling, and
    /// whether any is `network_driven` (else a frame cannot make one ready).
    pub fn wake_hints(&self) -> (Option<u64>, bool, bool) {
        let e = self.entries.lock();
        let mut deadline = None;
        let mut polling = false;
        let mut network = false;
        for entry in e.values().filter(|x| !x.disabled) {
            if let Some(f) = entry.file.upgrade() {
                deadline = super::wait::earliest(deadline, f.ops.next_deadline());
                polling |= f.ops.needs_polling();
                network |= f.ops.network_driven();
            }
        }
        (deadline, polling, network)
    }
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
