//! Block devices as file systems see them: numbered 512-byte sectors read and written
//! in whole sectors, a flush that makes earlier writes durable, and a read-only flag.
//! The kernel implements it for virtio-blk (and Xen's blkfront later); tests implement
//! it over a byte vector or a host file.

use crate::errno::{Errno, VfsResult};
use alloc::vec::Vec;
use spin::Mutex;

/// Size of a sector in bytes.
pub const SECTOR_SIZE: usize = 512;

/// A disk: what a file system reads and writes (see the module documentation).
pub trait BlockDevice: Send + Sync {
    /// Number of sectors.
    fn sectors(&self) -> u64;
    /// Whether writes are refused (EROFS for file systems on it).
    fn read_only(&self) -> bool;
    /// Reads `buf.len() / SECTOR_SIZE` sectors starting at `sector` (`buf.len()` is a
    /// multiple of SECTOR_SIZE). EIO on device failure, EINVAL past the end.
    fn read(&self, sector: u64, buf: &mut [u8]) -> VfsResult<()>;
    /// Writes whole sectors starting at `sector`.
    fn write(&self, sector: u64, buf: &[u8]) -> VfsResult<()>;
    /// Makes every completed write durable (virtio FLUSH).
    fn flush(&self) -> VfsResult<()>;
}

/// A block device in memory (for tests and RAM disks).
pub struct MemDisk {
    data: Mutex<Vec<u8>>,
    read_only: bool,
}

impl MemDisk {
    /// A disk holding `data` (its length a multiple of SECTOR_SIZE).
    pub fn new(data: Vec<u8>, read_only: bool) -> MemDisk {
        MemDisk {
            data: Mutex::new(data),
            read_only,
        }
    }

    /// The current contents.
    pub fn contents(&self) -> Vec<u8> {
        self.data.lock().clone()
    }

    fn range(&self, sector: u64, len: usize) -> VfsResult<(usize, usize)> {
        if !len.is_multiple_of(SECTOR_SIZE) {
            return Err(Errno::EINVAL);
        }
        let start = (sector as usize)
            .checked_mul(SECTOR_SIZE)
            .ok_or(Errno::EINVAL)?;
        let end = start.checked_add(len).ok_or(Errno::EINVAL)?;
        if end > self.data.lock().len() {
            return Err(Errno::EINVAL);
        }
        Ok((start, end))
    }
}

impl BlockDevice for MemDisk {
    fn sectors(&self) -> u64 {
        (self.data.lock().len() / SECTOR_SIZE) as u64
    }
    fn read_only(&self) -> bool {
        self.read_only
    }
    fn read(&self, sector: u64, buf: &mut [u8]) -> VfsResult<()> {
        let (s, e) = self.range(sector, buf.len())?;
        buf.copy_from_slice(&self.data.lock()[s..e]);
        Ok(())
    }
    fn write(&self, sector: u64, buf: &[u8]) -> VfsResult<()> {
        if self.read_only {
            return Err(Errno::EROFS);
        }
        let (s, e) = self.range(sector, buf.len())?;
        self.data.lock()[s..e].copy_from_slice(buf);
        Ok(())
    }
    fn flush(&self) -> VfsResult<()> {
        Ok(())
    }
}
