//! Block devices found at boot, in discovery order: `/dev/vda`, `/dev/vdb`, ... (the
//! original's `/dev/ld0a`-style names are symlinks to them). Opening a node gives a
//! raw device file (byte offsets, partial sectors read-modify-write, BLKGETSIZE64,
//! fsync = FLUSH). File systems mount them through `rumprun_vfs::BlockDevice`.

use crate::errno::*;
use crate::fd::stat::Stat;
use crate::fd::{FileOps, OpenFile, POLLIN, POLLOUT};
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::any::Any;
use rumprun_vfs::{makedev, BlockDevice, Cred, Vfs, SECTOR_SIZE};
use spin::Mutex;

/// Linux gives virtio-blk a dynamic major; 254 is what it usually gets.
pub const MAJOR: u32 = 254;

static DISKS: Mutex<Vec<Arc<dyn BlockDevice>>> = Mutex::new(Vec::new());

fn name(index: usize) -> String {
    format!("vd{}", (b'a' + index as u8) as char)
}

/// Adds a disk; returns its name (`vda`, ...).
pub fn register(disk: Arc<dyn BlockDevice>) -> String {
    let mut d = DISKS.lock();
    d.push(disk);
    name(d.len() - 1)
}

pub fn get(index: usize) -> Option<Arc<dyn BlockDevice>> {
    DISKS.lock().get(index).cloned()
}

/// The disk a `/dev` path names (`/dev/vdb`, or the original's `/dev/ld1a`).
pub fn by_path(path: &str) -> Option<Arc<dyn BlockDevice>> {
    let dev = path.strip_prefix("/dev/")?;
    let index = if let Some(letter) = dev.strip_prefix("vd") {
        (letter.len() == 1).then(|| letter.as_bytes()[0].wrapping_sub(b'a') as usize)?
    } else {
        dev.strip_prefix("ld")?.strip_suffix('a')?.parse().ok()?
    };
    get(index)
}

/// Every disk, for syncing at exit.
pub fn all() -> Vec<Arc<dyn BlockDevice>> {
    DISKS.lock().clone()
}

/// Creates the device nodes in /dev.
pub fn create_nodes(vfs: &Vfs) {
    let root = vfs.root();
    for i in 0..DISKS.lock().len() {
        let n = name(i);
        let path = format!("/dev/{n}");
        let _ = vfs.mknod(
            &root,
            path.as_bytes(),
            0o060660,
            makedev(MAJOR, 16 * i as u32),
            Cred::ROOT,
        );
        let alias = format!("/dev/ld{i}a");
        let _ = vfs.symlink(n.as_bytes(), &root, alias.as_bytes(), Cred::ROOT);
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
            disk: get(index)?,
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
        let rdev = makedev(MAJOR, 16 * self.index as u32);
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
        format!("/dev/{}", name(self.index))
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
