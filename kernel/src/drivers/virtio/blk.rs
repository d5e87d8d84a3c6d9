//! virtio-blk: a disk as a `BlockDevice` (512-byte sectors, FLUSH, read-only
//! detection). With interrupts (MSI-X on PCI, an IOAPIC line on MMIO) a request is
//! submitted, the thread sleeps, and the completion interrupt wakes it; without them
//! the driver polls the used ring.

use super::hal::KernelHal;
use super::{Interrupts, Transport};
use crate::drivers::blockdev;
use crate::sched::futex;
use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec;
use rumprun_vfs::{BlockDevice, Errno, VfsResult, SECTOR_SIZE};
use spin::Mutex;
use virtio_drivers::device::blk::{BlkReq, BlkResp, VirtIOBlk};

type Dev = VirtIOBlk<KernelHal, Transport>;

pub struct VirtioBlk {
    dev: Mutex<Dev>,
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

/// The completion interrupt: wake every request waiter; each checks its own token.
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
                dev: Mutex::new(dev),
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
    /// Submits with `submit`, waits for the token to come back, completes with `complete`.
    fn transfer(
        &self,
        submit: impl FnOnce(&mut Dev, &mut BlkReq, &mut BlkResp) -> virtio_drivers::Result<u16>,
        complete: impl FnOnce(&mut Dev, u16, &BlkReq, &mut BlkResp) -> virtio_drivers::Result<()>,
    ) -> VfsResult<()> {
        let mut req = Box::new(BlkReq::default());
        let mut resp = Box::new(BlkResp::default());
        let token = submit(&mut self.dev.lock(), &mut req, &mut resp).map_err(|_| Errno::EIO)?;
        loop {
            {
                let mut d = self.dev.lock();
                if d.peek_used() == Some(token) {
                    return complete(&mut d, token, &req, &mut resp).map_err(|_| Errno::EIO);
                }
            }
            if self.irq {
                // Interrupts are off in the kernel, so the completion cannot slip in
                // between the check above and going to sleep: it is delivered after.
                let deadline = crate::time::monotonic_ns() + RECHECK_NS;
                futex::wait_kernel(completion_key(), Some(deadline));
            } else {
                crate::arch::cpu::pause();
            }
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
            let at = sector as usize + i * CHUNK / SECTOR_SIZE;
            let b = &mut bounce[..chunk.len()];
            let ptr = b.as_mut_ptr();
            let len = b.len();
            // SAFETY: the bounce buffer, request and response stay alive and unmoved
            // until the request completes (transfer returns only then).
            self.transfer(
                // SAFETY: `ptr`/`len` are the bounce buffer above, which outlives the
                // request.
                |d, req, resp| unsafe {
                    d.read_blocks_nb(at, req, core::slice::from_raw_parts_mut(ptr, len), resp)
                },
                // SAFETY: the same bounce buffer, request and response as the submission.
                |d, token, req, resp| unsafe {
                    d.complete_read_blocks(
                        token,
                        req,
                        core::slice::from_raw_parts_mut(ptr, len),
                        resp,
                    )
                },
            )?;
            chunk.copy_from_slice(b);
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
        let mut bounce = vec![0u8; CHUNK.min(buf.len())];
        for (i, chunk) in buf.chunks(CHUNK).enumerate() {
            let at = sector as usize + i * CHUNK / SECTOR_SIZE;
            let b = &mut bounce[..chunk.len()];
            b.copy_from_slice(chunk);
            let (ptr, len) = (b.as_ptr(), b.len());
            self.transfer(
                // SAFETY: `ptr`/`len` are the bounce buffer above, alive and unchanged
                // until the request completes (transfer returns only then).
                |d, req, resp| unsafe {
                    d.write_blocks_nb(at, req, core::slice::from_raw_parts(ptr, len), resp)
                },
                // SAFETY: the same bounce buffer, request and response as the submission.
                |d, token, req, resp| unsafe {
                    d.complete_write_blocks(token, req, core::slice::from_raw_parts(ptr, len), resp)
                },
            )?;
        }
        Ok(())
    }
    fn flush(&self) -> VfsResult<()> {
        self.dev.lock().flush().map_err(|_| Errno::EIO)
    }
}
