//! Disks in memory: the disk images the boot loader loaded as modules (`rumprun iso
//! -b`: GRUB loads each as a multiboot2 module named `rumprun-disk`), registered as
//! block devices in module order, before any virtio disk, so they are `/dev/vda`, ...
//! as the launcher's `blk` blocks expect. Reads and writes copy to and from the
//! module's memory (reserved at boot, reached through the direct map); what is
//! written lives until power-off, the image on the ISO stays as it was.

use crate::arch::paging::phys_to_virt;
use crate::drivers::blockdev;
use crate::platform::hw::MemoryRange;
use alloc::sync::Arc;
use rumprun_vfs::{BlockDevice, Errno, VfsResult, SECTOR_SIZE};
use spin::Mutex;

pub struct RamDisk {
    /// The image's first byte, in the direct map.
    base: *mut u8,
    sectors: u64,
    /// Serialises copies, as a disk would.
    lock: Mutex<()>,
}

// SAFETY: the memory is reserved for the disk for the kernel's lifetime and every
// access holds `lock`.
unsafe impl Send for RamDisk {}
// SAFETY: as for Send: every access holds `lock`.
unsafe impl Sync for RamDisk {}

impl RamDisk {
    /// The byte range of `len` bytes at `sector`, if it lies inside the disk.
    fn span(&self, sector: u64, len: usize) -> VfsResult<usize> {
        let count = (len / SECTOR_SIZE) as u64;
        if !len.is_multiple_of(SECTOR_SIZE)
            || sector.checked_add(count).is_none_or(|e| e > self.sectors)
        {
            return Err(Errno::EINVAL);
        }
        Ok(sector as usize * SECTOR_SIZE)
    }
}

impl BlockDevice for RamDisk {
    fn sectors(&self) -> u64 {
        self.sectors
    }
    fn read_only(&self) -> bool {
        false
    }
    fn read(&self, sector: u64, buf: &mut [u8]) -> VfsResult<()> {
        let at = self.span(sector, buf.len())?;
        let _g = self.lock.lock();
        // SAFETY: `span` checked the range lies inside the module's memory.
        unsafe { core::ptr::copy_nonoverlapping(self.base.add(at), buf.as_mut_ptr(), buf.len()) };
        Ok(())
    }
    fn write(&self, sector: u64, buf: &[u8]) -> VfsResult<()> {
        let at = self.span(sector, buf.len())?;
        let _g = self.lock.lock();
        // SAFETY: as in `read`.
        unsafe { core::ptr::copy_nonoverlapping(buf.as_ptr(), self.base.add(at), buf.len()) };
        Ok(())
    }
    fn flush(&self) -> VfsResult<()> {
        Ok(())
    }
}

/// Registers one disk per range (whole sectors; a partial last sector is left out).
pub fn register(images: &[MemoryRange], verbose: bool) {
    for r in images {
        let sectors = (r.end.saturating_sub(r.start)) / SECTOR_SIZE as u64;
        let disk = Arc::new(RamDisk {
            base: phys_to_virt(r.start),
            sectors,
            lock: Mutex::new(()),
        });
        let name = blockdev::register(disk);
        if verbose {
            kprintln!(
                "rumprun: /dev/{name}: in memory (a boot module at {:#x}), {} KiB",
                r.start,
                sectors / 2
            );
        }
    }
}
