//! virtio-blk: a disk as a `BlockDevice` (512-byte sectors, FLUSH, read-only
//! detection). Requests are synchronous: the driver submits and polls the used ring
//! (under TCG a request completes within the notify); interrupts come later.

use super::hal::KernelHal;
use crate::drivers::blockdev;
use alloc::sync::Arc;
use alloc::vec;
use rumprun_vfs::{BlockDevice, Errno, VfsResult, SECTOR_SIZE};
use spin::Mutex;
use virtio_drivers::device::blk::VirtIOBlk;
use virtio_drivers::transport::pci::PciTransport;

pub struct VirtioBlk {
    dev: Mutex<VirtIOBlk<KernelHal, PciTransport>>,
    sectors: u64,
    read_only: bool,
}

pub fn start(transport: PciTransport, verbose: bool) {
    match VirtIOBlk::<KernelHal, _>::new(transport) {
        Ok(dev) => {
            let (sectors, read_only) = (dev.capacity(), dev.readonly());
            let disk = Arc::new(VirtioBlk {
                dev: Mutex::new(dev),
                sectors,
                read_only,
            });
            let name = blockdev::register(disk);
            if verbose {
                kprintln!(
                    "rumprun: /dev/{name}: virtio-blk, {} MiB{}",
                    (sectors * SECTOR_SIZE as u64) >> 20,
                    if read_only { ", read-only" } else { "" }
                );
            }
        }
        Err(e) => kprintln!("rumprun: virtio-blk: cannot start ({e:?})"),
    }
}

/// Requests go through a kernel buffer: the device needs memory the HAL can translate.
const CHUNK: usize = 64 * 1024;

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
        let mut dev = self.dev.lock();
        for (i, chunk) in buf.chunks_mut(CHUNK).enumerate() {
            let at = sector as usize + i * CHUNK / SECTOR_SIZE;
            let b = &mut bounce[..chunk.len()];
            dev.read_blocks(at, b).map_err(|_| Errno::EIO)?;
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
        let mut dev = self.dev.lock();
        for (i, chunk) in buf.chunks(CHUNK).enumerate() {
            let at = sector as usize + i * CHUNK / SECTOR_SIZE;
            let b = &mut bounce[..chunk.len()];
            b.copy_from_slice(chunk);
            dev.write_blocks(at, b).map_err(|_| Errno::EIO)?;
        }
        Ok(())
    }
    fn flush(&self) -> VfsResult<()> {
        self.dev.lock().flush().map_err(|_| Errno::EIO)
    }
}
