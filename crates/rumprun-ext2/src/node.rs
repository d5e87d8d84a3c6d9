//! [`Ext2Inode`]: the in-memory handle of one ext2 inode, implementing
//! [`rumprun_vfs::Inode`] on top of the locked file system state (every method takes
//! the file system lock, reads the inode record through the block cache, and writes it
//! back if it changed). Timestamps are whole seconds (nanoseconds read as 0).

use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::any::Any;
use rumprun_vfs::flags::{
    FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, FALLOC_FL_ZERO_RANGE, RENAME_EXCHANGE,
    RENAME_NOREPLACE,
};
use rumprun_vfs::stat::{S_IALLUGO, S_ISGID, S_ISUID, S_IXGRP};
use rumprun_vfs::{
    Cred, DirEntry, Errno, FileType, Inode, InodeRef, NewNode, SetAttr, Stat, StatFs, TimeUpdate,
    Timespec, VfsResult,
};

use crate::fs::{Ext2, Inner};
use crate::inode::{
    dirent_type, from_dirent_type, DiskInode, FAST_SYMLINK_MAX, LINK_MAX, ROOT_INO,
};

/// One ext2 inode in use (see the module documentation).
pub struct Ext2Inode {
    pub(crate) fs: Arc<Ext2>,
    pub(crate) ino: u32,
    pub(crate) kind: FileType,
}

impl Drop for Ext2Inode {
    fn drop(&mut self) {
        let now = self.fs.now();
        let mut inner = self.fs.inner.lock();
        let mine = inner
            .open
            .get(&self.ino)
            .is_some_and(|w| core::ptr::eq(w.as_ptr(), self));
        if mine {
            inner.open.remove(&self.ino);
            inner.linkable.remove(&self.ino);
            if inner.orphans.remove(&self.ino) {
                // Errors cannot be reported here; e2fsck would clean up.
                let _ = inner.release_inode(self.ino, now);
            }
        }
    }
}

fn ts(sec: u32) -> Timespec {
    Timespec {
        sec: sec as i64,
        nsec: 0,
    }
}

fn time_secs(t: Timespec) -> u32 {
    t.sec.clamp(0, u32::MAX as i64) as u32
}

/// fsync/fdatasync of `node`: if it is an ext2 inode, syncs its whole file system
/// (`Some(result)`); `None` for inodes of other file systems.
pub fn sync_node(node: &InodeRef) -> Option<VfsResult<()>> {
    let n = node.as_any().downcast_ref::<Ext2Inode>()?;
    Some(n.fs.sync())
}

impl Ext2Inode {
    /// The file system this inode is on.
    pub fn fs(&self) -> &Arc<Ext2> {
        &self.fs
    }

    /// The ext2 inode number.
    pub fn ino(&self) -> u32 {
        self.ino
    }

    fn lock(&self) -> rumprun_vfs::SleepLockGuard<'_, Inner> {
        self.fs.inner.lock()
    }

    fn writable(&self, inner: &Inner) -> VfsResult<()> {
        if inner.read_only {
            Err(Errno::EROFS)
        } else {
            Ok(())
        }
    }

    /// This directory's record; ENOTDIR, or ENOENT if it was removed.
    fn dir(&self, inner: &mut Inner) -> VfsResult<DiskInode> {
        if self.kind != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        let di = inner.read_inode(self.ino)?;
        if di.links == 0 {
            return Err(Errno::ENOENT);
        }
        Ok(di)
    }

    fn downcast<'a>(&self, other: &'a InodeRef) -> VfsResult<&'a Ext2Inode> {
        match other.as_any().downcast_ref::<Ext2Inode>() {
            Some(n) if Arc::ptr_eq(&n.fs, &self.fs) => Ok(n),
            _ => Err(Errno::EXDEV),
        }
    }

    /// Sets mtime and ctime of directory `dir` and changes its link count.
    fn touch_dir(inner: &mut Inner, dir: u32, nlink_delta: i32, now: u32) -> VfsResult<()> {
        let mut di = inner.read_inode(dir)?;
        di.mtime = now;
        di.ctime = now;
        di.links = (di.links as i32 + nlink_delta).clamp(0, u16::MAX as i32) as u16;
        inner.write_inode(dir, &mut di)
    }

    fn entry_type(inner: &mut Inner, ino: u32, code: u8) -> VfsResult<FileType> {
        match from_dirent_type(code) {
            Some(t) => Ok(t),
            None => inner.read_inode(ino)?.file_type().ok_or(Errno::EIO),
        }
    }

    fn create_locked(
        &self,
        inner: &mut Inner,
        name: &[u8],
        node: NewNode<'_>,
        perm: u32,
        cred: Cred,
        now: u32,
    ) -> VfsResult<u32> {
        self.writable(inner)?;
        let parent = self.dir(inner)?;
        if inner.dir_find(&parent, name)?.is_some() {
            return Err(Errno::EEXIST);
        }
        let kind = node.file_type();
        let is_dir = kind == FileType::Directory;
        if is_dir && parent.links >= LINK_MAX {
            return Err(Errno::EMLINK);
        }
        if let NewNode::Symlink(t) = node {
            if t.len() >= inner.bs {
                return Err(Errno::ENAMETOOLONG);
            }
        }
        let mut perm = perm & S_IALLUGO;
        let mut cred = cred;
        if parent.mode as u32 & S_ISGID != 0 {
            cred.gid = parent.gid;
            if is_dir {
                perm |= S_ISGID;
            }
        }
        let goal = inner.group_of_ino(self.ino);
        let ino = inner.alloc_inode(goal, is_dir)?;
        let mut di = DiskInode::new(
            inner.sb.inode_size as usize,
            (kind.mode_bits() | perm) as u16,
            now,
        );
        di.uid = cred.uid;
        di.gid = cred.gid;
        di.links = if is_dir { 2 } else { 1 };
        let made = match node {
            NewNode::Directory => inner.dir_init(ino, &mut di, self.ino),
            NewNode::Symlink(t) if t.len() < FAST_SYMLINK_MAX => {
                di.set_fast_symlink(t);
                Ok(())
            }
            NewNode::Symlink(t) => inner.write_data(ino, &mut di, 0, t).map(|_| ()),
            NewNode::CharDevice(r) | NewNode::BlockDevice(r) => {
                di.set_rdev(r);
                Ok(())
            }
            _ => Ok(()),
        };
        let made = made
            .and_then(|_| inner.write_inode(ino, &mut di))
            .and_then(|_| inner.dir_add_at(self.ino, name, ino, dirent_type(kind)));
        if let Err(e) = made {
            // Undo: free whatever the new inode got.
            let _ = inner.write_inode(ino, &mut di);
            let _ = inner.release_inode(ino, now);
            return Err(e);
        }
        Self::touch_dir(inner, self.ino, is_dir as i32, now)?;
        Ok(ino)
    }

    fn rename_locked(
        &self,
        inner: &mut Inner,
        old_name: &[u8],
        nd: &Ext2Inode,
        new_name: &[u8],
        flags: u32,
        now: u32,
    ) -> VfsResult<()> {
        self.writable(inner)?;
        if flags & !(RENAME_EXCHANGE | RENAME_NOREPLACE) != 0
            || flags & RENAME_EXCHANGE != 0 && flags & RENAME_NOREPLACE != 0
        {
            return Err(Errno::EINVAL);
        }
        let (od_ino, nd_ino) = (self.ino, nd.ino);
        let od = self.dir(inner)?;
        let ndi = nd.dir(inner)?;
        let src = inner.dir_find(&od, old_name)?.ok_or(Errno::ENOENT)?;
        let dst = inner.dir_find(&ndi, new_name)?;
        let src_kind = Self::entry_type(inner, src.ino, src.ftype)?;
        let src_dir = src_kind == FileType::Directory;
        let moves = od_ino != nd_ino;
        if flags & RENAME_EXCHANGE != 0 {
            let dst = dst.ok_or(Errno::ENOENT)?;
            if dst.ino == src.ino {
                return Ok(());
            }
            let dst_kind = Self::entry_type(inner, dst.ino, dst.ftype)?;
            let dst_dir = dst_kind == FileType::Directory;
            let delta = src_dir as i32 - dst_dir as i32;
            if moves && delta > 0 && ndi.links >= LINK_MAX
                || moves && delta < 0 && od.links >= LINK_MAX
            {
                return Err(Errno::EMLINK);
            }
            inner.dir_set_at(od_ino, old_name, dst.ino, dirent_type(dst_kind))?;
            inner.dir_set_at(nd_ino, new_name, src.ino, dirent_type(src_kind))?;
            if moves {
                if src_dir {
                    inner.dir_set_at(src.ino, b"..", nd_ino, 2)?;
                }
                if dst_dir {
                    inner.dir_set_at(dst.ino, b"..", od_ino, 2)?;
                }
                Self::touch_dir(inner, od_ino, -delta, now)?;
                Self::touch_dir(inner, nd_ino, delta, now)?;
            } else {
                Self::touch_dir(inner, od_ino, 0, now)?;
            }
            for ino in [src.ino, dst.ino] {
                let mut di = inner.read_inode(ino)?;
                di.ctime = now;
                inner.write_inode(ino, &mut di)?;
            }
            return Ok(());
        }
        let mut dst_dir = false;
        if let Some(dst) = &dst {
            if flags & RENAME_NOREPLACE != 0 {
                return Err(Errno::EEXIST);
            }
            if dst.ino == src.ino {
                return Ok(());
            }
            let dst_kind = Self::entry_type(inner, dst.ino, dst.ftype)?;
            dst_dir = dst_kind == FileType::Directory;
            match (src_dir, dst_dir) {
                (true, false) => return Err(Errno::ENOTDIR),
                (false, true) => return Err(Errno::EISDIR),
                (true, true) => {
                    let ddi = inner.read_inode(dst.ino)?;
                    if !inner.dir_is_empty(&ddi)? {
                        return Err(Errno::ENOTEMPTY);
                    }
                }
                _ => {}
            }
        }
        if src_dir && moves && !dst_dir && ndi.links >= LINK_MAX {
            return Err(Errno::EMLINK);
        }
        match &dst {
            Some(_) => inner.dir_set_at(nd_ino, new_name, src.ino, dirent_type(src_kind))?,
            None => inner.dir_add_at(nd_ino, new_name, src.ino, dirent_type(src_kind))?,
        }
        inner.dir_remove_at(od_ino, old_name)?;
        let mut nd_delta = 0;
        if let Some(dst) = &dst {
            let mut ddi = inner.read_inode(dst.ino)?;
            ddi.ctime = now;
            if dst_dir {
                ddi.links = 0;
                nd_delta -= 1;
            } else {
                ddi.links = ddi.links.saturating_sub(1);
            }
            inner.put_links(dst.ino, &mut ddi, now)?;
        }
        let mut od_delta = 0;
        if src_dir && moves {
            inner.dir_set_at(src.ino, b"..", nd_ino, 2)?;
            od_delta -= 1;
            nd_delta += 1;
        }
        if moves {
            Self::touch_dir(inner, od_ino, od_delta, now)?;
        }
        Self::touch_dir(inner, nd_ino, nd_delta, now)?;
        let mut sdi = inner.read_inode(src.ino)?;
        sdi.ctime = now;
        inner.write_inode(src.ino, &mut sdi)
    }
}

impl Inode for Ext2Inode {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn stat(&self) -> Stat {
        let mut inner = self.lock();
        let bs = inner.bs as u32;
        let di = match inner.read_inode(self.ino) {
            Ok(d) => d,
            Err(_) => DiskInode::new(128, self.kind.mode_bits() as u16, 0),
        };
        let rdev = match self.kind {
            FileType::CharDevice | FileType::BlockDevice => di.rdev(),
            _ => 0,
        };
        Stat {
            dev: self.fs.dev_id,
            ino: self.ino as u64,
            mode: di.mode as u32,
            nlink: di.links as u32,
            uid: di.uid,
            gid: di.gid,
            rdev,
            size: di.size,
            blksize: bs,
            blocks: di.blocks as u64,
            atime: ts(di.atime),
            mtime: ts(di.mtime),
            ctime: ts(di.ctime),
            btime: ts(di.crtime().unwrap_or(di.ctime)),
        }
    }

    fn file_type(&self) -> FileType {
        self.kind
    }

    fn key(&self) -> (u64, u64) {
        (self.fs.dev_id, self.ino as u64)
    }

    fn statfs(&self) -> StatFs {
        self.fs.statfs()
    }

    fn is_read_only(&self) -> bool {
        self.lock().read_only
    }

    fn max_file_size(&self) -> u64 {
        let inner = self.lock();
        if inner.sb.rev_level == 0 {
            return i32::MAX as u64;
        }
        let (bs, p) = (inner.bs as u64, inner.ptrs());
        // i_blocks counts 512-byte units in 32 bits, indirect blocks included.
        let meta = (3 + p + p * p) * bs;
        (inner.max_blocks() * bs).min((u32::MAX as u64) * 512 - meta)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> VfsResult<usize> {
        match self.kind {
            FileType::Regular => {}
            FileType::Directory => return Err(Errno::EISDIR),
            _ => return Err(Errno::EINVAL),
        }
        let now = self.fs.now();
        let mut inner = self.lock();
        let mut di = inner.read_inode(self.ino)?;
        let n = inner.read_data(&di, offset, buf)?;
        // relatime: update the access time if it is older than the last change.
        if !inner.read_only && (di.atime <= di.mtime || di.atime <= di.ctime) && di.atime != now {
            di.atime = now;
            inner.write_inode(self.ino, &mut di)?;
        }
        Ok(n)
    }

    fn write_at(&self, offset: u64, buf: &[u8]) -> VfsResult<usize> {
        match self.kind {
            FileType::Regular => {}
            FileType::Directory => return Err(Errno::EISDIR),
            _ => return Err(Errno::EINVAL),
        }
        let max = self.max_file_size();
        let now = self.fs.now();
        let mut inner = self.lock();
        self.writable(&inner)?;
        inner.check_size(offset.checked_add(buf.len() as u64), max)?;
        if buf.is_empty() {
            return Ok(0);
        }
        let mut di = inner.read_inode(self.ino)?;
        let r = inner.write_data(self.ino, &mut di, offset, buf);
        di.mtime = now;
        di.ctime = now;
        inner.write_inode(self.ino, &mut di)?;
        r
    }

    /// Modes 0 and `KEEP_SIZE` allocate (blocks past the size are not allocated with
    /// `KEEP_SIZE`: ext2 cannot record them), `PUNCH_HOLE` frees, `ZERO_RANGE` zeroes.
    fn fallocate(&self, mode: u32, offset: u64, len: u64) -> VfsResult<()> {
        if self.kind != FileType::Regular {
            return Err(Errno::ENODEV);
        }
        let end = offset.checked_add(len).ok_or(Errno::EFBIG)?;
        if end > self.max_file_size() {
            return Err(Errno::EFBIG);
        }
        let now = self.fs.now();
        let mut inner = self.lock();
        self.writable(&inner)?;
        let mut di = inner.read_inode(self.ino)?;
        let keep = mode & FALLOC_FL_KEEP_SIZE != 0;
        let r = if mode & FALLOC_FL_PUNCH_HOLE != 0 {
            inner.punch(&mut di, offset, end)
        } else {
            let alloc_end = if keep { end.min(di.size) } else { end };
            let zero = if mode & FALLOC_FL_ZERO_RANGE != 0 {
                inner.punch(&mut di, offset, end)
            } else {
                Ok(())
            };
            zero.and_then(|_| {
                inner
                    .allocate_range(self.ino, &mut di, offset, alloc_end)
                    .or_else(|e| {
                        // ENOSPC part way: give back what lies past the size.
                        let keep_blocks = di.size.div_ceil(inner.bs as u64);
                        inner.truncate_blocks(&mut di, keep_blocks)?;
                        Err(e)
                    })
            })
            .map(|_| {
                if !keep && end > di.size {
                    di.size = end;
                    inner.note_size(end);
                }
            })
        };
        di.mtime = now;
        di.ctime = now;
        inner.write_inode(self.ino, &mut di)?;
        r
    }

    fn set_attr(&self, attr: &SetAttr) -> VfsResult<()> {
        let now = self.fs.now();
        let max = if attr.size.is_some() {
            self.max_file_size()
        } else {
            0
        };
        let mut inner = self.lock();
        self.writable(&inner)?;
        let mut di = inner.read_inode(self.ino)?;
        if let Some(size) = attr.size {
            match self.kind {
                FileType::Regular => {}
                FileType::Directory => return Err(Errno::EISDIR),
                _ => return Err(Errno::EINVAL),
            }
            if size > max {
                return Err(Errno::EFBIG);
            }
            inner.set_size(&mut di, size)?;
            di.mtime = now;
        }
        let mut perm = di.mode as u32 & S_IALLUGO;
        if let Some(mode) = attr.mode {
            perm = mode & S_IALLUGO;
        }
        if attr.uid.is_some() || attr.gid.is_some() {
            if self.kind != FileType::Directory {
                perm &= !S_ISUID;
                if perm & S_IXGRP != 0 {
                    perm &= !S_ISGID;
                }
            }
            di.uid = attr.uid.unwrap_or(di.uid);
            di.gid = attr.gid.unwrap_or(di.gid);
        }
        di.mode = (self.kind.mode_bits() | perm) as u16;
        for (upd, field) in [(attr.atime, &mut di.atime), (attr.mtime, &mut di.mtime)] {
            match upd {
                TimeUpdate::Omit => {}
                TimeUpdate::Now => *field = now,
                TimeUpdate::Set(t) => *field = time_secs(t),
            }
        }
        di.ctime = now;
        inner.write_inode(self.ino, &mut di)
    }

    fn readlink(&self) -> VfsResult<Vec<u8>> {
        if self.kind != FileType::Symlink {
            return Err(Errno::EINVAL);
        }
        let mut inner = self.lock();
        let di = inner.read_inode(self.ino)?;
        if !di.has_block_map() {
            return Ok(di.fast_symlink());
        }
        let mut buf = vec![0u8; di.size as usize];
        let n = inner.read_data(&di, 0, &mut buf)?;
        buf.truncate(n);
        Ok(buf)
    }

    fn lookup(&self, name: &[u8]) -> VfsResult<InodeRef> {
        let mut inner = self.lock();
        let di = self.dir(&mut inner)?;
        let e = inner.dir_find(&di, name)?.ok_or(Errno::ENOENT)?;
        Ok(self.fs.node(&mut inner, e.ino)?)
    }

    fn parent(&self) -> VfsResult<InodeRef> {
        let mut inner = self.lock();
        let di = self.dir(&mut inner)?;
        let ino = if self.ino == ROOT_INO {
            ROOT_INO
        } else {
            inner.dir_find(&di, b"..")?.ok_or(Errno::EIO)?.ino
        };
        Ok(self.fs.node(&mut inner, ino)?)
    }

    fn create(&self, name: &[u8], node: NewNode<'_>, perm: u32, cred: Cred) -> VfsResult<InodeRef> {
        let now = self.fs.now();
        let mut inner = self.lock();
        let ino = self.create_locked(&mut inner, name, node, perm, cred, now)?;
        Ok(self.fs.node(&mut inner, ino)?)
    }

    /// O_TMPFILE: an inode with no links, an orphan (freed at the last close) until
    /// `link` gives it a name.
    fn create_unnamed(&self, perm: u32, cred: Cred) -> VfsResult<InodeRef> {
        let now = self.fs.now();
        let mut inner = self.lock();
        self.writable(&inner)?;
        self.dir(&mut inner)?;
        let goal = inner.group_of_ino(self.ino);
        let ino = inner.alloc_inode(goal, false)?;
        let mut di = DiskInode::new(
            inner.sb.inode_size as usize,
            (FileType::Regular.mode_bits() | (perm & S_IALLUGO)) as u16,
            now,
        );
        di.uid = cred.uid;
        di.gid = cred.gid;
        if let Err(e) = inner.write_inode(ino, &mut di) {
            let _ = inner.free_inode_bit(ino, false);
            return Err(e);
        }
        inner.orphans.insert(ino);
        inner.linkable.insert(ino);
        Ok(self.fs.node(&mut inner, ino)?)
    }

    fn link(&self, name: &[u8], target: &InodeRef) -> VfsResult<()> {
        let target = self.downcast(target)?;
        if target.kind == FileType::Directory {
            return Err(Errno::EPERM);
        }
        let now = self.fs.now();
        let mut inner = self.lock();
        self.writable(&inner)?;
        let d = self.dir(&mut inner)?;
        let mut ti = inner.read_inode(target.ino)?;
        let tmpfile = ti.links == 0 && inner.linkable.contains(&target.ino);
        if ti.links == 0 && !tmpfile {
            return Err(Errno::ENOENT);
        }
        if ti.links >= LINK_MAX {
            return Err(Errno::EMLINK);
        }
        if inner.dir_find(&d, name)?.is_some() {
            return Err(Errno::EEXIST);
        }
        inner.dir_add_at(self.ino, name, target.ino, dirent_type(target.kind))?;
        if tmpfile {
            inner.linkable.remove(&target.ino);
            inner.orphans.remove(&target.ino);
        }
        ti.links += 1;
        ti.ctime = now;
        inner.write_inode(target.ino, &mut ti)?;
        Self::touch_dir(&mut inner, self.ino, 0, now)
    }

    fn unlink(&self, name: &[u8]) -> VfsResult<()> {
        let now = self.fs.now();
        let mut inner = self.lock();
        self.writable(&inner)?;
        let d = self.dir(&mut inner)?;
        let e = inner.dir_find(&d, name)?.ok_or(Errno::ENOENT)?;
        let mut ti = inner.read_inode(e.ino)?;
        if ti.file_type() == Some(FileType::Directory) {
            return Err(Errno::EISDIR);
        }
        inner.dir_remove_at(self.ino, name)?;
        ti.links = ti.links.saturating_sub(1);
        ti.ctime = now;
        inner.put_links(e.ino, &mut ti, now)?;
        Self::touch_dir(&mut inner, self.ino, 0, now)
    }

    fn rmdir(&self, name: &[u8]) -> VfsResult<()> {
        let now = self.fs.now();
        let mut inner = self.lock();
        self.writable(&inner)?;
        let d = self.dir(&mut inner)?;
        let e = inner.dir_find(&d, name)?.ok_or(Errno::ENOENT)?;
        let mut ti = inner.read_inode(e.ino)?;
        if ti.file_type() != Some(FileType::Directory) {
            return Err(Errno::ENOTDIR);
        }
        if !inner.dir_is_empty(&ti)? {
            return Err(Errno::ENOTEMPTY);
        }
        inner.dir_remove_at(self.ino, name)?;
        ti.links = 0;
        ti.ctime = now;
        inner.put_links(e.ino, &mut ti, now)?;
        Self::touch_dir(&mut inner, self.ino, -1, now)
    }

    fn rename(
        &self,
        old_name: &[u8],
        new_dir: &InodeRef,
        new_name: &[u8],
        flags: u32,
    ) -> VfsResult<()> {
        let nd = self.downcast(new_dir)?;
        let now = self.fs.now();
        let mut inner = self.lock();
        self.rename_locked(&mut inner, old_name, nd, new_name, flags, now)
    }

    fn read_dir(&self, cookie: u64) -> VfsResult<Option<DirEntry>> {
        let mut inner = self.lock();
        let di = self.dir(&mut inner)?;
        let Some((e, next)) = inner.dir_next(&di, cookie)? else {
            return Ok(None);
        };
        let kind = Self::entry_type(&mut inner, e.ino, e.ftype)?;
        Ok(Some(DirEntry {
            ino: e.ino as u64,
            kind,
            name: e.name,
            next,
        }))
    }

    fn is_empty_dir(&self) -> VfsResult<bool> {
        let mut inner = self.lock();
        let di = self.dir(&mut inner)?;
        inner.dir_is_empty(&di)
    }
}
