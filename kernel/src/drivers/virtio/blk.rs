//! virtio-blk: a disk as a `BlockDevice` (512-byte sectors, FLUSH, read-only
//! detection). With MSI-X (QEMU's virtio-pci has it) a request is submitted, the
//! thread sleeps, and the completion interrupt wakes it; without MSI-X the driver
//! polls the used ring.

use super::hal::KernelHal;
use crate::drivers::{blockdev, irq, pci};
use crate::sched::futex;
use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec;
use rumprun_vfs::{BlockDevice, Errno, VfsResult, SECTOR_SIZE};
use spin::Mutex;
use virtio_drivers::device::blk::{BlkReq, BlkResp, VirtIOBlk};
use virtio_drivers::transport::pci::bus::DeviceFunction;
use virtio_drivers::transport::pci::PciTransport;

type Dev = VirtIOBlk<KernelHal, PciTransport>;

pub struct VirtioBlk {
    dev: Mutex<Dev>,
    sectors: u64,
    read_only: bool,
    /// Completions arrive by interrupt (else: polled).
    irq: bool,
}

/// What completion waiters sleep on (a kernel address: never a program's futex).
static COMPLETION: u8 = 0;

fn completion_key() -> u64 {
    &COMPLETION as *const u8 as u64
}

/// The completion interrupt: wake every request waiter; each checks its own token.
fn on_interrupt() {
    futex::wake(completion_key(), u32::MAX, u32::MAX);
}

/// Safety net against a lost interrupt: waiters re-check this often.
const RECHECK_NS: u64 = 100_000_000;

pub fn start(transport: PciTransport, df: DeviceFunction, verbose: bool) {
    match Dev::new(transport) {
        Ok(mut dev) => {
            let irq = enable_interrupts(&mut dev, df);
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
                    if irq {
                        "interrupt-driven (MSI-X)"
                    } else {
                        "polled"
                    }
                );
            }
        }
        Err(e) => kprintln!("rumprun: virtio-blk: cannot start ({e:?})"),
    }
}

/// MSI-X for the request queue: a vector, the table programmed, the queue pointed at it.
fn enable_interrupts(dev: &mut Dev, df: DeviceFunction) -> bool {
    let Some(vector) = irq::allocate(on_interrupt) else {
        return false;
    };
    if pci::enable_msix(df, vector).is_none() {
        return false;
    }
    let Some(common) = pci::virtio_cap_address(df, 1) else {
        return false;
    };
    let cfg = crate::arch::paging::phys_to_virt(common);
    unsafe {
        // virtio_pci_common_cfg: msix_config @16, queue_select @22, queue_msix_vector @26.
        (cfg.add(16) as *mut u16).write_volatile(0xffff); // no config-change interrupts
        (cfg.add(22) as *mut u16).write_volatile(0); // the request queue
        (cfg.add(26) as *mut u16).write_volatile(0); // -> MSI-X entry 0
        if (cfg.add(26) as *const u16).read_volatile() != 0 {
            return false; // the device refused the vector
        }
    }
    dev.enable_interrupts();
    true
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
                futex::wait(completion_key(), u32::MAX, Some(deadline));
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
                |d, req, resp| unsafe {
                    d.read_blocks_nb(at, req, core::slice::from_raw_parts_mut(ptr, len), resp)
                },
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
                |d, req, resp| unsafe {
                    d.write_blocks_nb(at, req, core::slice::from_raw_parts(ptr, len), resp)
                },
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
