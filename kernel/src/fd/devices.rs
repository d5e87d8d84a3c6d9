//! The device files of /dev: the character devices null, zero, full, random and
//! urandom, and the disks (`drivers::blockdev`) as raw block files (byte offsets,
//! partial sectors read-modify-write, BLKGETSIZE64, fsync = FLUSH).

use super::{FileOps, OpenFile, POLLIN, POLLOUT};
use crate::drivers::blockdev::{self, MAJOR};
use crate::errno::*;
use crate::fd::stat::{makedev, Stat, S_IFCHR};
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use core::any::Any;
use rumprun_vfs::{BlockDevice, SECTOR_SIZE};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Device {
    Null,
    Zero,
    Full,
    Random,
}

impl Device {
    fn minor(self) -> u32 {
        match self {
            Device::Null => 3,
            Device::Zero => 5,
            Device::Full => 7,
            Device::Random => 9,
        }
    }
}

impl FileOps for Device {
    fn read(&self, _file: &OpenFile, buf: &mut [u8]) -> Result<usize, Errno> {
        self.pread(buf, 0)
    }
    fn write(&self, _file: &OpenFile, buf: &[u8]) -> Result<usize, Errno> {
        self.pwrite(buf, 0)
    }
    fn pread(&self, buf: &mut [u8], _offset: u64) -> Result<usize, Errno> {
        match self {
            Device::Null => Ok(0),
            Device::Zero | Device::Full => {
                buf.fill(0);
                Ok(buf.len())
            }
            Device::Random => {
                crate::random::fill(buf);
                Ok(buf.len())
            }
        }
    }
    fn pwrite(&self, buf: &[u8], _offset: u64) -> Result<usize, Errno> {
        match self {
            Device::Full => Err(ENOSPC),
            _ => Ok(buf.len()),
        }
    }
    fn seek(&self, _file: &OpenFile, _offset: i64, _whence: u32) -> Result<u64, Errno> {
        Ok(0)
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat::special(
            S_IFCHR | 0o666,
            10 + self.minor() as u64,
            makedev(1, self.minor()),
        ))
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A disk opened as a file.
pub struct BlockFile {
    disk: Arc<dyn BlockDevice>,
    index: usize,
    /// Held across the disk I/O (which sleeps): a sleeping lock.
    pos: rumprun_vfs::SleepLock<u64>,
}

impl BlockFile {
    /// The file for device number `rdev`, if it names a disk.
    pub fn open(rdev: u64) -> Option<BlockFile> {
        let (major, minor) = (rumprun_vfs::major(rdev), rumprun_vfs::minor(rdev));
        if major != MAJOR || minor % 16 != 0 {
            return None;
        }
        let index = (minor / 16) as usize;
        Some(BlockFile {
            disk: blockdev::get(index)?,
            index,
            pos: rumprun_vfs::SleepLock::new(0),
        })
    }

    fn size(&self) -> u64 {
        self.disk.sectors() * SECTOR_SIZE as u64
    }
}

impl FileOps for BlockFile {
    fn read(&self, _file: &OpenFile, buf: &mut [u8]) -> Result<usize, Errno> {
        let mut pos = self.pos.lock();
        let n = self.pread(buf, *pos)?;
        *pos += n as u64;
        Ok(n)
    }
    fn write(&self, _file: &OpenFile, buf: &[u8]) -> Result<usize, Errno> {
        let mut pos = self.pos.lock();
        let n = self.pwrite(buf, *pos)?;
        *pos += n as u64;
        Ok(n)
    }
    fn pread(&self, buf: &mut [u8], offset: u64) -> Result<usize, Errno> {
        let size = self.size();
        if offset >= size {
            return Ok(0);
        }
        let len = buf.len().min((size - offset) as usize);
        let first = offset / SECTOR_SIZE as u64;
        let last = (offset + len as u64).div_ceil(SECTOR_SIZE as u64);
        let mut tmp = vec![0u8; ((last - first) as usize) * SECTOR_SIZE];
        self.disk.read(first, &mut tmp)?;
        let skip = (offset % SECTOR_SIZE as u64) as usize;
        buf[..len].copy_from_slice(&tmp[skip..skip + len]);
        Ok(len)
    }
    fn pwrite(&self, buf: &[u8], offset: u64) -> Result<usize, Errno> {
        let size = self.size();
        if offset >= size && !buf.is_empty() {
            return Err(ENOSPC);
        }
        let len = buf.len().min((size - offset) as usize);
        let first = offset / SECTOR_SIZE as u64;
        let last = (offset + len as u64).div_ceil(SECTOR_SIZE as u64);
        let mut tmp = vec![0u8; ((last - first) as usize) * SECTOR_SIZE];
        let skip = (offset % SECTOR_SIZE as u64) as usize;
        if skip != 0 || !len.is_multiple_of(SECTOR_SIZE) {
            self.disk.read(first, &mut tmp)?; // partial sectors: read-modify-write
        }
        tmp[skip..skip + len].copy_from_slice(&buf[..len]);
        self.disk.write(first, &tmp)?;
        Ok(len)
    }
    fn seek(&self, _file: &OpenFile, offset: i64, whence: u32) -> Result<u64, Errno> {
        let mut pos = self.pos.lock();
        let new = match whence {
            0 => offset,
            1 => *pos as i64 + offset,
            2 => self.size() as i64 + offset,
            _ => return Err(EINVAL),
        };
        if new < 0 {
            return Err(EINVAL);
        }
        *pos = new as u64;
        Ok(*pos)
    }
    fn poll(&self) -> u32 {
        POLLIN | POLLOUT
    }
    fn stat(&self) -> Result<Stat, Errno> {
        let rdev = rumprun_vfs::makedev(MAJOR, 16 * self.index as u32);
        Ok(Stat::special(0o060660, 100 + self.index as u64, rdev))
    }
    fn ioctl(&self, _file: &OpenFile, req: u64, arg: u64) -> Result<u64, Errno> {
        use crate::mm::user;
        const BLKGETSIZE: u64 = 0x1260;
        const BLKSSZGET: u64 = 0x1268;
        const BLKGETSIZE64: u64 = 0x8008_1272;
        const BLKROGET: u64 = 0x125e;
        match req {
            BLKGETSIZE64 => user::write(arg, self.size()).map(|_| 0),
            BLKGETSIZE => user::write(arg, self.disk.sectors()).map(|_| 0),
            BLKSSZGET => user::write(arg, SECTOR_SIZE as i32).map(|_| 0),
            BLKROGET => user::write(arg, self.disk.read_only() as i32).map(|_| 0),
            _ => Err(ENOTTY),
        }
    }
    fn sync(&self) -> Result<(), Errno> {
        self.disk.flush()
    }
    fn describe(&self) -> String {
        format!("/dev/{}", blockdev::name(self.index))
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
