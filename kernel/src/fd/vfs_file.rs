//! Files opened from the file system tree: regular files and directories (and
//! symlinks opened with O_PATH). The position lives here, so descriptors dup'd from
//! one open share it, as on Linux. Device nodes are opened as their device instead
//! (see `open_inode`).

use super::{console::Console, devices::Device, FileOps, OpenFile, O_APPEND, POLLIN, POLLOUT};
use crate::errno::*;
use crate::fd::stat::Stat;
use alloc::string::String;
use alloc::sync::Arc;
use core::any::Any;
use rumprun_vfs::{major, minor, FileType, InodeRef, SleepLock, Vfs};

pub struct VfsFile {
    pub inode: InodeRef,
    path: String,
    /// Counts this open file among the file's writers while it may write (ETXTBSY).
    _writer: Option<crate::fs::textbusy::Writer>,
    /// Byte position; for a directory, the cookie of the next entry. Held across the
    /// file system's I/O (which sleeps on a disk), so a sleeping lock: threads and
    /// processes sharing the open file wait for it in turn.
    pub pos: SleepLock<u64>,
}

/// Converts the VFS's metadata to the syscall layout.
pub fn to_stat(s: &rumprun_vfs::Stat) -> Stat {
    let t = |t: rumprun_vfs::Timespec| [t.sec, t.nsec as i64];
    Stat {
        dev: s.dev,
        ino: s.ino,
        nlink: s.nlink as u64,
        mode: s.mode,
        uid: s.uid,
        gid: s.gid,
        pad0: 0,
        rdev: s.rdev,
        size: s.size as i64,
        blksize: s.blksize as i64,
        blocks: s.blocks as i64,
        atime: t(s.atime),
        mtime: t(s.mtime),
        ctime: t(s.ctime),
        reserved: [0; 3],
    }
}

/// The file for an inode the VFS opened: its device for device nodes, else a VfsFile
/// (`write`: opened for writing, which ETXTBSY refuses for a running program's file).
pub fn open_inode(inode: InodeRef, path: String, write: bool) -> Result<Arc<dyn FileOps>, Errno> {
    match inode.file_type() {
        FileType::CharDevice => {
            let rdev = inode.stat().rdev;
            let dev = match (major(rdev), minor(rdev)) {
                (1, 3) => Device::Null,
                (1, 5) => Device::Zero,
                (1, 7) => Device::Full,
                (1, 8) | (1, 9) => Device::Random,
                (5, 0) | (5, 1) | (4, _) => return Ok(Arc::new(Console)),
                (super::pty::PTMX_MAJOR, super::pty::PTMX_MINOR) => {
                    return super::pty::open_master()
                }
                (super::pty::SLAVE_MAJOR, n) => return super::pty::open_slave(n),
                _ => return Err(ENXIO),
            };
            Ok(Arc::new(dev))
        }
        FileType::BlockDevice => {
            let disk = crate::fd::devices::BlockFile::open(inode.stat().rdev).ok_or(ENXIO)?;
            Ok(Arc::new(disk))
        }
        FileType::Socket => Err(ENXIO),
        FileType::Fifo => {
            crate::console::log_once(
                "fifo",
                "rumprun: opening a named pipe (FIFO) is not supported yet; returning ENXIO",
            );
            Err(ENXIO)
        }
        FileType::Regular if write => Ok(Arc::new(VfsFile {
            _writer: Some(crate::fs::textbusy::Writer::new(inode.key())?),
            inode,
            path,
            pos: SleepLock::new(0),
        })),
        _ => Ok(Arc::new(VfsFile {
            inode,
            path,
            _writer: None,
            pos: SleepLock::new(0),
        })),
    }
}

impl VfsFile {
    pub fn is_dir(&self) -> bool {
        self.inode.file_type() == FileType::Directory
    }
}

/// The inode behind `ops` when it is a file opened from the tree whose bytes live in
/// the page cache (tmpfs, the image's files): `sendfile` copies from its pages
/// straight to a socket (`Inode::read_cached`).
pub fn page_cache_of(ops: &dyn FileOps) -> Option<InodeRef> {
    let f = ops.as_any().downcast_ref::<VfsFile>()?;
    f.inode.has_page_cache().then(|| f.inode.clone())
}

impl FileOps for VfsFile {
    fn read(&self, _file: &OpenFile, buf: &mut [u8]) -> Result<usize, Errno> {
        if self.is_dir() {
            return Err(EISDIR);
        }
        let mut pos = self.pos.lock();
        let n = Vfs::read_at(&self.inode, *pos, buf)?;
        *pos += n as u64;
        Ok(n)
    }
    fn write(&self, file: &OpenFile, buf: &[u8]) -> Result<usize, Errno> {
        let mut pos = self.pos.lock();
        if file.status() & O_APPEND != 0 {
            *pos = self.inode.stat().size;
        }
        let n = Vfs::write_at(&self.inode, *pos, buf)?;
        *pos += n as u64;
        Ok(n)
    }
    fn pread(&self, buf: &mut [u8], offset: u64) -> Result<usize, Errno> {
        if self.is_dir() {
            return Err(EISDIR);
        }
        Vfs::read_at(&self.inode, offset, buf)
    }
    fn pwrite(&self, buf: &[u8], offset: u64) -> Result<usize, Errno> {
        Vfs::write_at(&self.inode, offset, buf)
    }
    fn seek(&self, _file: &OpenFile, offset: i64, whence: u32) -> Result<u64, Errno> {
        const SEEK_SET: u32 = 0;
        const SEEK_CUR: u32 = 1;
        const SEEK_END: u32 = 2;
        const SEEK_DATA: u32 = 3;
        const SEEK_HOLE: u32 = 4;
        let mut pos = self.pos.lock();
        let size = self.inode.stat().size as i64;
        let new = match whence {
            SEEK_SET => offset,
            SEEK_CUR => (*pos as i64).checked_add(offset).ok_or(EINVAL)?,
            SEEK_END => size.checked_add(offset).ok_or(EINVAL)?,
            // Files have no holes we track: all data up to the end, one hole after.
            SEEK_DATA if offset < size => offset,
            SEEK_HOLE if offset < size => size,
            SEEK_DATA | SEEK_HOLE => return Err(ENXIO),
            _ => return Err(EINVAL),
        };
        if new < 0 {
            return Err(EINVAL);
        }
        *pos = new as u64;
        Ok(new as u64)
    }
    fn poll(&self) -> u32 {
        POLLIN | POLLOUT
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(to_stat(&self.inode.stat()))
    }
    fn sync(&self) -> Result<(), Errno> {
        crate::fs::mounts::sync_all()
    }
    fn bytes_readable(&self) -> Option<usize> {
        let size = self.inode.stat().size;
        Some(size.saturating_sub(*self.pos.lock()) as usize)
    }
    fn describe(&self) -> String {
        self.path.clone()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
