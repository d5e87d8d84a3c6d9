//! Inodes of a mounted volume ([`IsoInode`]): directories (look-up and listing by
//! walking their extent; `read_dir` cookies are byte positions of records, so they stay
//! valid forever on a read-only volume), regular files (read through their extents),
//! symlinks (their Rock Ridge target) and device nodes, FIFOs and sockets (metadata
//! only). Everything is read-only: [`Inode::is_read_only`] is true, so the VFS fails
//! changes with EROFS before they get here.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;

use rumprun_vfs::{DirEntry, Errno, FileType, Inode, InodeRef, Stat, StatFs, VfsResult};

use crate::cache::BLOCK_SIZE;
use crate::dir::DirExtent;
use crate::entry::{Entry, DOT, DOTDOT};
use crate::fs::Shared;

/// `f_type` of an ISO 9660 file system (Linux's `ISOFS_SUPER_MAGIC`).
pub const ISOFS_SUPER_MAGIC: u64 = 0x9660;

/// `ST_RDONLY` in `statfs`'s `f_flags`.
const ST_RDONLY: u64 = 1;

/// Longest name reported by `statfs`.
const NAME_MAX: u64 = 255;

/// What an inode has besides its metadata.
enum Body {
    /// A directory's extent.
    Dir(DirExtent),
    /// A regular file's extents: (byte offset on the volume, length).
    File(Vec<(u64, u64)>),
    /// A symlink's target.
    Symlink(Vec<u8>),
    /// A device node, FIFO or socket.
    Other,
}

/// One file of a mounted ISO 9660 volume.
pub struct IsoInode {
    sh: Arc<Shared>,
    stat: Stat,
    body: Body,
}

impl IsoInode {
    /// The directory whose extent starts at `block`, with the metadata of its `.`
    /// record (so it is the same however the directory is reached).
    pub fn load_dir(sh: &Arc<Shared>, block: u64) -> VfsResult<Arc<IsoInode>> {
        let probe = DirExtent {
            block,
            size: BLOCK_SIZE as u64,
        };
        let raw = probe.entry_at(&sh.reader, 0)?.ok_or(Errno::EIO)?;
        if raw.pos != 0 || raw.record.ident() != DOT || !raw.record.is_dir() {
            return Err(Errno::EIO);
        }
        let ext = DirExtent {
            block,
            size: raw.record.data_len(),
        };
        let entry = sh.entry(raw)?;
        let stat = entry.stat(sh.dev_id, sh.dir_ino(block), FileType::Directory);
        Ok(Arc::new(IsoInode {
            sh: sh.clone(),
            stat,
            body: Body::Dir(ext),
        }))
    }

    /// The inode for `entry` found in directory `dir`.
    fn load_entry(&self, dir: &DirExtent, entry: Entry) -> VfsResult<InodeRef> {
        if let Some(block) = entry.dir_block() {
            return Ok(IsoInode::load_dir(&self.sh, block)?);
        }
        let kind = entry.kind();
        let stat = entry.stat(self.sh.dev_id, entry.ino(&self.sh, dir), kind);
        let body = match kind {
            FileType::Regular => Body::File(entry.raw.extents),
            FileType::Symlink => Body::Symlink(entry.rr.symlink.unwrap_or_default()),
            _ => Body::Other,
        };
        Ok(Arc::new(IsoInode {
            sh: self.sh.clone(),
            stat,
            body,
        }))
    }

    fn dir(&self) -> VfsResult<&DirExtent> {
        match &self.body {
            Body::Dir(d) => Ok(d),
            _ => Err(Errno::ENOTDIR),
        }
    }

    /// The entry at or after `cookie` (including `.` and `..`, excluding hidden ones).
    fn next_entry(&self, dir: &DirExtent, mut cookie: u64) -> VfsResult<Option<Entry>> {
        while let Some(raw) = dir.entry_at(&self.sh.reader, cookie)? {
            cookie = raw.next;
            let id = raw.record.ident();
            let special = id == DOT || id == DOTDOT;
            let entry = self.sh.entry(raw)?;
            if special || entry.visible() {
                return Ok(Some(entry));
            }
        }
        Ok(None)
    }

    /// The block of the parent directory's extent (from `..`, or its Rock Ridge parent
    /// link for a relocated directory).
    fn parent_block(&self, dir: &DirExtent) -> VfsResult<u64> {
        if dir.block == self.sh.root.block {
            return Ok(dir.block);
        }
        let mut cookie = 0;
        while let Some(raw) = dir.entry_at(&self.sh.reader, cookie)? {
            if raw.record.ident() == DOTDOT {
                let e = self.sh.entry(raw)?;
                return Ok(e.rr.parent_link.unwrap_or(e.raw.record.data_block()));
            }
            if cookie > 0 {
                break; // `..` is the second record
            }
            cookie = raw.next;
        }
        Err(Errno::EIO)
    }
}

impl Inode for IsoInode {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn stat(&self) -> Stat {
        self.stat
    }

    fn file_type(&self) -> FileType {
        self.stat.file_type()
    }

    fn key(&self) -> (u64, u64) {
        (self.stat.dev, self.stat.ino)
    }

    fn statfs(&self) -> StatFs {
        let dev = self.sh.dev_id;
        StatFs {
            fs_type: ISOFS_SUPER_MAGIC,
            bsize: BLOCK_SIZE as u64,
            blocks: self.sh.blocks,
            bfree: 0,
            bavail: 0,
            files: 0,
            ffree: 0,
            fsid: [dev as u32, (dev >> 32) as u32],
            namelen: NAME_MAX,
            frsize: BLOCK_SIZE as u64,
            flags: ST_RDONLY,
        }
    }

    fn is_read_only(&self) -> bool {
        true
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> VfsResult<usize> {
        let extents = match &self.body {
            Body::File(e) => e,
            Body::Dir(_) => return Err(Errno::EISDIR),
            _ => return Err(Errno::EINVAL),
        };
        let mut done = 0;
        let mut start = 0u64; // file offset of the current extent
        for &(at, len) in extents {
            if done == buf.len() {
                break;
            }
            let pos = offset + done as u64;
            if pos < start + len {
                let within = pos - start;
                let n = (len - within).min((buf.len() - done) as u64) as usize;
                self.sh
                    .reader
                    .read_bytes(at + within, &mut buf[done..done + n])?;
                done += n;
            }
            start += len;
        }
        Ok(done)
    }

    fn write_at(&self, _offset: u64, _buf: &[u8]) -> VfsResult<usize> {
        Err(Errno::EROFS)
    }

    fn readlink(&self) -> VfsResult<Vec<u8>> {
        match &self.body {
            Body::Symlink(t) => Ok(t.clone()),
            _ => Err(Errno::EINVAL),
        }
    }

    fn lookup(&self, name: &[u8]) -> VfsResult<InodeRef> {
        let dir = self.dir()?;
        let mut cookie = 0;
        while let Some(entry) = self.next_entry(dir, cookie)? {
            cookie = entry.raw.next;
            if entry.visible() && entry.name(self.sh.naming) == name {
                return self.load_entry(dir, entry);
            }
        }
        Err(Errno::ENOENT)
    }

    fn parent(&self) -> VfsResult<InodeRef> {
        let dir = self.dir()?;
        Ok(IsoInode::load_dir(&self.sh, self.parent_block(dir)?)?)
    }

    fn read_dir(&self, cookie: u64) -> VfsResult<Option<DirEntry>> {
        let dir = self.dir()?;
        let Some(entry) = self.next_entry(dir, cookie)? else {
            return Ok(None);
        };
        let id = entry.raw.record.ident();
        let (name, ino, kind) = if id == DOT {
            (b".".to_vec(), self.stat.ino, FileType::Directory)
        } else if id == DOTDOT {
            let parent = self.parent_block(dir)?;
            (b"..".to_vec(), self.sh.dir_ino(parent), FileType::Directory)
        } else {
            (
                entry.name(self.sh.naming),
                entry.ino(&self.sh, dir),
                entry.kind(),
            )
        };
        Ok(Some(DirEntry {
            ino,
            kind,
            name,
            next: entry.raw.next,
        }))
    }

    fn is_empty_dir(&self) -> VfsResult<bool> {
        let dir = self.dir()?;
        let mut cookie = 0;
        while let Some(entry) = self.next_entry(dir, cookie)? {
            if entry.visible() {
                return Ok(false);
            }
            cookie = entry.raw.next;
        }
        Ok(true)
    }
}
