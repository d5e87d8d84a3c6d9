//! virtio-blk: a disk as a `BlockDevice` (512-byte sectors, FLUSH, read-only
//! detection). With interrupts (MSI-X on PCI, an IOAPIC line on MMIO) a request is
//! submitted, the thread sleeps, and the completion interrupt wakes it; without them
//! the driver polls the used ring.
//!
//! Several threads may have requests in flight at once (page faults of several
//! threads on the image's files, reads of several files), and the device completes
//! them in any order. So the driver owns each request's buffers (request header,
//! data bounce buffer, status) until the device is done with them, and whoever next
//! holds the queue takes *every* completed request off the used ring, whatever its
//! token, files its result under the request's number and wakes all waiters; each
//! waiter then finds its own result. A request whose waiter is gone (its thread ended
//! where it waited) is still taken off the ring, so the queue never fills up with
//! completed requests; a full queue makes the submitter wait for a completion.

use super::hal::KernelHal;
use super::{Interrupts, Transport};
use crate::drivers::blockdev;
use crate::sched::futex;
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use rumprun_vfs::{BlockDevice, Errno, VfsResult, SECTOR_SIZE};
use spin::Mutex;
use virtio_drivers::device::blk::{BlkReq, BlkResp, VirtIOBlk};

type Dev = VirtIOBlk<KernelHal, Transport>;

/// One request the device may be working on: its buffers stay here (on the heap, so
/// they do not move) until the device has used them.
struct Request {
    /// The request's number (tokens are descriptor indices, reused at once).
    id: u64,
    write: bool,
    req: Box<BlkReq>,
    resp: Box<BlkResp>,
    /// The bounce buffer: the data read, or to write.
    data: Vec<u8>,
    result: VfsResult<()>,
}

/// The queue and its requests, under one lock.
struct Queue {
    dev: Dev,
    /// Submitted and not yet taken off the used ring, by token.
    in_flight: BTreeMap<u16, Request>,
    /// Taken off the ring, waiting for their submitter, by number.
    done: BTreeMap<u64, Request>,
    next_id: u64,
}

impl Queue {
    /// Takes every completed request off the used ring (any token, any order) and
    /// files it under its number; returns how many.
    fn reap(&mut self) -> usize {
        let mut n = 0;
        while let Some(token) = self.dev.peek_used() {
            let Some(mut r) = self.in_flight.remove(&token) else {
                // Nothing of ours: cannot be taken off without its buffers.
                crate::console::log_once(
                    "virtio-blk-token",
                    "rumprun: virtio-blk: the device completed a request it was not given",
                );
                break;
            };
            let Request {
                write,
                req,
                resp,
                data,
                ..
            } = &mut r;
            // SAFETY: the same header, data and status buffers as the submission of
            // `token` (they stayed in `in_flight`, unmoved on the heap).
            let done = unsafe {
                if *write {
                    self.dev.complete_write_blocks(token, req, data, resp)
                } else {
                    self.dev.complete_read_blocks(token, req, data, resp)
                }
            };
            r.result = done.map_err(|_| Errno::EIO);
            self.done.insert(r.id, r);
            n += 1;
        }
        n
    }
}

pub struct VirtioBlk {
    queue: Mutex<Queue>,
    sectors: u64,
    read_only: bool,
    /// Completions arrive by interrupt (else: polled).
    irq: bool,
}

/// What completion waiters sleep on: a kernel queue (the interrupt may come while
/// any program runs), keyed by this kernel address.
static COMPLETION: u8 = 0;

fn completion_key() -> u64 {
    &COMPLETION as *const u8 as u64
}

/// The completion interrupt: wake every request waiter; the first to run takes the
/// completions off the ring.
fn on_interrupt() {
    futex::wake_kernel(completion_key());
}

/// Safety net against a lost interrupt: waiters re-check this often.
const RECHECK_NS: u64 = 100_000_000;

pub fn start(transport: Transport, interrupts: Interrupts, verbose: bool) {
    match Dev::new(transport) {
        Ok(mut dev) => {
            // The request queue (0) wakes its waiters.
            let irq = interrupts.connect(0, on_interrupt);
            if irq {
                dev.enable_interrupts();
            }
            let (sectors, read_only) = (dev.capacity(), dev.readonly());
            let disk = Arc::new(VirtioBlk {
                queue: Mutex::new(Queue {
                    dev,
                    in_flight: BTreeMap::new(),
                    done: BTreeMap::new(),
                    next_id: 0,
                }),
                sectors,
                read_only,
                irq,
            });
            let name = blockdev::register(disk);
            if verbose {
                kprintln!(
                    "rumprun: /dev/{name}: virtio-blk, {} MiB{}, {}",
                    (sectors * SECTOR_SIZE as u64) >> 20,
                    if read_only { ", read-only" } else { "" },
                    interrupts.describe(irq)
                );
            }
        }
        Err(e) => kprintln!("rumprun: virtio-blk: cannot start ({e:?})"),
    }
}

/// Requests go through kernel buffers: the device needs memory the HAL can translate.
const CHUNK: usize = 64 * 1024;

impl VirtioBlk {
    /// Waits for a completion: sleeps until the interrupt (or the re-check), or,
    /// polling, spins a little.
    fn wait_a_little(&self) {
        if self.irq {
            // Interrupts are off in the kernel, so a completion cannot slip in between
            // the caller's look at the ring and going to sleep: it is delivered after.
            let deadline = crate::time::monotonic_ns() + RECHECK_NS;
            if futex::wait_kernel(completion_key(), Some(deadline))
                == crate::sched::Wake::Interrupted
            {
                // A signal (or the program ending) does not end a disk request: give
                // the CPU to the others meanwhile.
                crate::sched::yield_now();
            }
        } else {
            crate::arch::cpu::pause();
        }
    }

    /// Reaps completions; wakes the other waiters when some of theirs came in.
    fn reap(&self, q: &mut Queue) {
        if q.reap() > 0 && self.irq {
            futex::wake_kernel(completion_key());
        }
    }

    /// Sends one request of `data.len()` bytes at `sector` (a read fills `data` and
    /// gives it back; a write sends it) and waits for it, taking the device's other
    /// completions off the ring meanwhile. A full queue waits for room.
    fn transfer(&self, write: bool, sector: u64, data: Vec<u8>) -> VfsResult<Vec<u8>> {
        let mut r = Request {
            id: 0,
            write,
            req: Box::new(BlkReq::default()),
            resp: Box::new(BlkResp::default()),
            data,
            result: Ok(()),
        };
        let id = loop {
            {
                let mut q = self.queue.lock();
                self.reap(&mut q);
                // SAFETY: the header, data and status buffers are on the heap and go
                // into `in_flight` below, where they stay, unmoved and untouched,
                // until `reap` takes the request off the used ring.
                let submitted = unsafe {
                    if write {
                        q.dev
                            .write_blocks_nb(sector as usize, &mut r.req, &r.data, &mut r.resp)
                    } else {
                        q.dev
                            .read_blocks_nb(sector as usize, &mut r.req, &mut r.data, &mut r.resp)
                    }
                };
                match submitted {
                    Ok(token) => {
                        r.id = q.next_id;
                        q.next_id += 1;
                        let id = r.id;
                        q.in_flight.insert(token, r);
                        break id;
                    }
                    Err(virtio_drivers::Error::QueueFull) if !q.in_flight.is_empty() => {}
                    Err(_) => {
                        crate::console::log_once(
                            "virtio-blk-submit",
                            "rumprun: virtio-blk: the device refused a request",
                        );
                        return Err(Errno::EIO);
                    }
                }
            }
            self.wait_a_little();
        };
        loop {
            {
                let mut q = self.queue.lock();
                self.reap(&mut q);
                if let Some(r) = q.done.remove(&id) {
                    return r.result.map(|()| r.data);
                }
            }
            self.wait_a_little();
        }
    }
}

impl BlockDevice for VirtioBlk {
    fn sectors(&self) -> u64 {
        self.sectors
    }
    fn read_only(&self) -> bool {
        self.read_only
    }
    fn read(&self, sector: u64, buf: &mut [u8]) -> VfsResult<()> {
        if !buf.len().is_multiple_of(SECTOR_SIZE)
            || sector + (buf.len() / SECTOR_SIZE) as u64 > self.sectors
        {
            return Err(Errno::EINVAL);
        }
        let mut bounce = vec![0u8; CHUNK.min(buf.len())];
        for (i, chunk) in buf.chunks_mut(CHUNK).enumerate() {
            let at = sector + (i * CHUNK / SECTOR_SIZE) as u64;
            bounce.resize(chunk.len(), 0);
            bounce = self.transfer(false, at, bounce)?;
            chunk.copy_from_slice(&bounce);
        }
        Ok(())
    }
    fn write(&self, sector: u64, buf: &[u8]) -> VfsResult<()> {
        if self.read_only {
            return Err(Errno::EROFS);
        }
        if !buf.len().is_multiple_of(SECTOR_SIZE)
            || sector + (buf.len() / SECTOR_SIZE) as u64 > self.sectors
        {
            return Err(Errno::EINVAL);
        }
        let mut bounce = Vec::with_capacity(CHUNK.min(buf.len()));
        for (i, chunk) in buf.chunks(CHUNK).enumerate() {
            let at = sector + (i * CHUNK / SECTOR_SIZE) as u64;
            bounce.clear();
            bounce.extend_from_slice(chunk);
            bounce = self.transfer(true, at, bounce)?;
        }
        Ok(())
    }
    fn flush(&self) -> VfsResult<()> {
        // virtio-drivers' flush waits for the used ring's head to be its own request:
        // it runs only with no other request in flight.
        loop {
            {
                let mut q = self.queue.lock();
                self.reap(&mut q);
                if q.in_flight.is_empty() {
                    return q.dev.flush().map_err(|_| Errno::EIO);
                }
            }
            self.wait_a_little();
        }
    }
}
