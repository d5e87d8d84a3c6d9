//! [`Vfs`]: the file namespace of the kernel — one root file system plus mounts — and
//! every path-based operation with Linux's rules: path walking (absolute or relative to
//! a directory inode, `.`/`..`, repeated and trailing slashes, symlinks up to
//! [`MAX_SYMLINKS`], [`crate::NAME_MAX`]/[`PATH_MAX`]), mount crossing, and which errno a
//! failing call gets. It also has the inode-based operations behind the `f*` syscalls
//! (`ftruncate`, `fchmod`, ...), so those share the same checks.
//!
//! The kernel keeps the fd table and offsets: an open file is an [`InodeRef`] from
//! [`Vfs::open`] plus the kernel's own offset and flags (it does `O_APPEND` by writing
//! at [`Stat::size`]). `*at` syscalls pass the directory fd's inode (or the cwd inode for
//! `AT_FDCWD`) as `at`; absolute paths ignore it. `AT_EMPTY_PATH` is the kernel's: it
//! uses the fd's inode directly.
//!
//! Locking: the mount table is behind a `spin::Mutex` held only for table look-ups, never
//! across file system calls; the file systems lock themselves (see [`crate::tmpfs`]).

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};

use spin::Mutex;

use crate::access::check_access;
use crate::errno::{Errno, VfsResult};
use crate::flags::*;
use crate::inode::{Cred, FileSystem, InodeRef, NewNode, SetAttr, TimeUpdate};
use crate::mount::{Mount, MountTable};
use crate::path::{check_name, check_path, split, Component, MAX_SYMLINKS, PATH_MAX};
use crate::stat::{makedev, FileType, Stat, StatFs, S_IALLUGO, S_IFMT};

/// The last component of a path whose parent has been walked.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Last {
    /// The path was `/` (or `//`...).
    Root,
    /// `.`
    Dot,
    /// `..`
    DotDot,
    /// A name.
    Name(Vec<u8>),
}

/// A walked parent: the directory, what is left to look up in it, and whether the path
/// ended in `/`.
struct Parent {
    dir: InodeRef,
    last: Last,
    trailing_slash: bool,
}

/// The file namespace. See the module documentation.
pub struct Vfs {
    root_fs: Arc<dyn FileSystem>,
    root: InodeRef,
    mounts: Mutex<MountTable>,
    next_anon_dev: AtomicU32,
}

fn is_dir(node: &InodeRef) -> bool {
    node.file_type() == FileType::Directory
}

fn same(a: &InodeRef, b: &InodeRef) -> bool {
    a.key() == b.key()
}

impl Vfs {
    /// A namespace whose `/` is the root of `root_fs`.
    pub fn new(root_fs: Arc<dyn FileSystem>) -> Vfs {
        let root = root_fs.root();
        Vfs {
            root_fs,
            root,
            mounts: Mutex::new(MountTable::new()),
            next_anon_dev: AtomicU32::new(1),
        }
    }

    /// A fresh anonymous device number (major 0, like Linux's tmpfs and procfs) for a
    /// new file system. The first one is `makedev(0, 1)`; give it to the root fs.
    pub fn alloc_dev(&self) -> u64 {
        makedev(0, self.next_anon_dev.fetch_add(1, Ordering::Relaxed))
    }

    /// The root directory `/`.
    pub fn root(&self) -> InodeRef {
        self.root.clone()
    }

    /// The root file system.
    pub fn root_fs(&self) -> Arc<dyn FileSystem> {
        self.root_fs.clone()
    }

    // ---- walking ----

    /// Crosses into whatever is mounted on `node` (repeatedly, for stacked mounts).
    fn cross_down(&self, mut node: InodeRef) -> InodeRef {
        let mounts = self.mounts.lock();
        while let Some(root) = mounts.mounted_on(node.key()) {
            node = root;
        }
        node
    }

    /// `..` of directory `dir`, crossing mounts both ways; `..` of `/` is `/`.
    fn dotdot(&self, dir: &InodeRef) -> VfsResult<InodeRef> {
        let mut cur = dir.clone();
        loop {
            if same(&cur, &self.root) {
                return Ok(cur);
            }
            let covered = self.mounts.lock().covered_by(cur.key());
            match covered {
                Some(c) => cur = c,
                None => break,
            }
        }
        Ok(self.cross_down(cur.parent()?))
    }

    /// Looks `name` up in `dir` and crosses mounts.
    fn child(&self, dir: &InodeRef, name: &[u8]) -> VfsResult<InodeRef> {
        check_name(name)?;
        Ok(self.cross_down(dir.lookup(name)?))
    }

    /// Follows the symlink `link` found in `dir`, fully (the result may be anything).
    fn follow(&self, dir: &InodeRef, link: &InodeRef, budget: &mut u32) -> VfsResult<InodeRef> {
        if *budget == 0 {
            return Err(Errno::ELOOP);
        }
        *budget -= 1;
        let target = link.readlink()?;
        self.resolve_in(dir, &target, true, budget)
    }

    /// Walks all but the last component of `path`.
    /// Walks to the parent of a name that is about to be made (by create or link):
    /// EEXIST if the path ends in `.`, `..` or a name already there.
    fn walk_to_new_name(&self, at: &InodeRef, path: &[u8]) -> VfsResult<(Parent, Vec<u8>)> {
        let mut budget = MAX_SYMLINKS;
        let mut p = self.walk_parent(at, path, &mut budget)?;
        let Last::Name(name) = core::mem::replace(&mut p.last, Last::Dot) else {
            return Err(Errno::EEXIST);
        };
        match self.child(&p.dir, &name) {
            Ok(_) => Err(Errno::EEXIST),
            Err(Errno::ENOENT) => Ok((p, name)),
            Err(e) => Err(e),
        }
    }

    fn walk_parent(&self, at: &InodeRef, path: &[u8], budget: &mut u32) -> VfsResult<Parent> {
        let sp = split(path)?;
        let mut dir = if sp.absolute {
            self.root.clone()
        } else {
            at.clone()
        };
        if !is_dir(&dir) {
            return Err(Errno::ENOTDIR);
        }
        let Some((last, init)) = sp.components.split_last() else {
            return Ok(Parent {
                dir,
                last: Last::Root,
                trailing_slash: false,
            });
        };
        for comp in init {
            dir = match *comp {
                Component::Dot => dir,
                Component::DotDot => self.dotdot(&dir)?,
                Component::Name(name) => {
                    let mut next = self.child(&dir, name)?;
                    if next.file_type() == FileType::Symlink {
                        next = self.follow(&dir, &next, budget)?;
                    }
                    if !is_dir(&next) {
                        return Err(Errno::ENOTDIR);
                    }
                    next
                }
            };
        }
        let last = match *last {
            Component::Dot => Last::Dot,
            Component::DotDot => Last::DotDot,
            Component::Name(n) => Last::Name(n.to_vec()),
        };
        Ok(Parent {
            dir,
            last,
            trailing_slash: sp.trailing_slash,
        })
    }

    /// Looks up the last component of a walked parent.
    fn finish(&self, p: Parent, follow_last: bool, budget: &mut u32) -> VfsResult<InodeRef> {
        let node = match &p.last {
            Last::Root | Last::Dot => p.dir.clone(),
            Last::DotDot => self.dotdot(&p.dir)?,
            Last::Name(name) => {
                let node = self.child(&p.dir, name)?;
                if node.file_type() == FileType::Symlink && (follow_last || p.trailing_slash) {
                    self.follow(&p.dir, &node, budget)?
                } else {
                    node
                }
            }
        };
        if p.trailing_slash && !is_dir(&node) {
            return Err(Errno::ENOTDIR);
        }
        Ok(node)
    }

    fn resolve_in(
        &self,
        at: &InodeRef,
        path: &[u8],
        follow_last: bool,
        budget: &mut u32,
    ) -> VfsResult<InodeRef> {
        let p = self.walk_parent(at, path, budget)?;
        self.finish(p, follow_last, budget)
    }

    /// Resolves `path` relative to `at` (ignored if absolute). `follow_last`: follow a
    /// symlink in the last component (a trailing `/` always follows).
    pub fn resolve(&self, at: &InodeRef, path: &[u8], follow_last: bool) -> VfsResult<InodeRef> {
        let mut budget = MAX_SYMLINKS;
        self.resolve_in(at, path, follow_last, &mut budget)
    }

    /// The inode a path names (the kernel uses it for chdir, execve-like look-ups, ...).
    pub fn lookup(&self, at: &InodeRef, path: &[u8]) -> VfsResult<InodeRef> {
        self.resolve(at, path, true)
    }

    // ---- open and create ----

    /// `openat(at, path, flags, mode)`: returns the opened inode. `perm` is the mode for a
    /// new file with the umask already applied. Handles `O_CREAT`, `O_EXCL`, `O_TRUNC`,
    /// `O_DIRECTORY`, `O_NOFOLLOW`, `O_PATH` and `O_TMPFILE`; the kernel keeps the rest
    /// (`O_APPEND`, `O_NONBLOCK`, `O_CLOEXEC`, the access mode) with the fd.
    pub fn open(
        &self,
        at: &InodeRef,
        path: &[u8],
        flags: u32,
        perm: u32,
        cred: Cred,
    ) -> VfsResult<InodeRef> {
        let acc = flags & O_ACCMODE;
        if flags & O_TMPFILE == O_TMPFILE {
            if acc != O_WRONLY && acc != O_RDWR {
                return Err(Errno::EINVAL);
            }
            let dir = self.resolve(at, path, true)?;
            if !is_dir(&dir) {
                return Err(Errno::ENOTDIR);
            }
            if dir.is_read_only() {
                return Err(Errno::EROFS);
            }
            return dir.create_unnamed(perm & S_IALLUGO, cred);
        }
        if flags & O_CREAT != 0 && flags & O_DIRECTORY != 0 {
            return Err(Errno::EINVAL);
        }
        let mut budget = MAX_SYMLINKS;
        let (node, created) = self.open_walk(at, path, flags, perm, cred, &mut budget)?;
        let ft = node.file_type();
        if ft == FileType::Symlink {
            // Only reachable with O_NOFOLLOW (or O_CREAT|O_EXCL, which already failed).
            return if flags & O_PATH != 0 {
                Ok(node)
            } else {
                Err(Errno::ELOOP)
            };
        }
        if flags & O_DIRECTORY != 0 && ft != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        if flags & O_PATH != 0 {
            return Ok(node);
        }
        let writes = acc == O_WRONLY || acc == O_RDWR || flags & O_TRUNC != 0;
        if ft == FileType::Directory && (writes || flags & O_CREAT != 0) {
            return Err(Errno::EISDIR);
        }
        if writes && ft == FileType::Regular && node.is_read_only() {
            return Err(Errno::EROFS);
        }
        if flags & O_TRUNC != 0 && ft == FileType::Regular && !created {
            node.set_attr(&SetAttr {
                size: Some(0),
                mtime: TimeUpdate::Now,
                ..SetAttr::NONE
            })?;
        }
        Ok(node)
    }

    fn open_walk(
        &self,
        at: &InodeRef,
        path: &[u8],
        flags: u32,
        perm: u32,
        cred: Cred,
        budget: &mut u32,
    ) -> VfsResult<(InodeRef, bool)> {
        let p = self.walk_parent(at, path, budget)?;
        if flags & O_CREAT == 0 {
            let follow = flags & O_NOFOLLOW == 0;
            return Ok((self.finish(p, follow, budget)?, false));
        }
        let Last::Name(name) = &p.last else {
            return Err(Errno::EISDIR);
        };
        if p.trailing_slash {
            return Err(Errno::EISDIR);
        }
        match self.child(&p.dir, name) {
            Ok(_) if flags & O_EXCL != 0 => Err(Errno::EEXIST),
            Ok(node) if node.file_type() == FileType::Symlink && flags & O_NOFOLLOW == 0 => {
                if *budget == 0 {
                    return Err(Errno::ELOOP);
                }
                *budget -= 1;
                let target = node.readlink()?;
                self.open_walk(&p.dir, &target, flags, perm, cred, budget)
            }
            Ok(node) => Ok((node, false)),
            Err(Errno::ENOENT) => {
                if p.dir.is_read_only() {
                    return Err(Errno::EROFS);
                }
                Ok((
                    p.dir
                        .create(name, NewNode::Regular, perm & S_IALLUGO, cred)?,
                    true,
                ))
            }
            Err(e) => Err(e),
        }
    }

    /// Creates a node at `path` with Linux's `filename_create` rules: EEXIST if the
    /// name (or `.`, `..`, `/`) exists, ENOENT for a trailing slash on a non-directory.
    fn create_at(
        &self,
        at: &InodeRef,
        path: &[u8],
        node: NewNode<'_>,
        perm: u32,
        cred: Cred,
    ) -> VfsResult<InodeRef> {
        let (p, name) = self.walk_to_new_name(at, path)?;
        if p.trailing_slash && node != NewNode::Directory {
            return Err(Errno::ENOENT);
        }
        if p.dir.is_read_only() {
            return Err(Errno::EROFS);
        }
        p.dir.create(&name, node, perm, cred)
    }

    /// `mkdirat`: `perm` with the umask applied (setuid/setgid bits are dropped).
    pub fn mkdir(&self, at: &InodeRef, path: &[u8], perm: u32, cred: Cred) -> VfsResult<InodeRef> {
        self.create_at(at, path, NewNode::Directory, perm & 0o1777, cred)
    }

    /// `mknodat`: `mode` holds the type (`S_IFREG` or 0, `S_IFCHR`, `S_IFBLK`,
    /// `S_IFIFO`, `S_IFSOCK`; EPERM for `S_IFDIR`, EINVAL otherwise) and the permissions
    /// (umask applied); `rdev` the device number ([`makedev`]).
    pub fn mknod(
        &self,
        at: &InodeRef,
        path: &[u8],
        mode: u32,
        rdev: u64,
        cred: Cred,
    ) -> VfsResult<InodeRef> {
        let node = match mode & S_IFMT {
            0 | crate::stat::S_IFREG => NewNode::Regular,
            crate::stat::S_IFCHR => NewNode::CharDevice(rdev),
            crate::stat::S_IFBLK => NewNode::BlockDevice(rdev),
            crate::stat::S_IFIFO => NewNode::Fifo,
            crate::stat::S_IFSOCK => NewNode::Socket,
            crate::stat::S_IFDIR => return Err(Errno::EPERM),
            _ => return Err(Errno::EINVAL),
        };
        self.create_at(at, path, node, mode & S_IALLUGO, cred)
    }

    /// `symlinkat(target, at, path)`.
    pub fn symlink(
        &self,
        target: &[u8],
        at: &InodeRef,
        path: &[u8],
        cred: Cred,
    ) -> VfsResult<InodeRef> {
        check_path(target)?;
        self.create_at(at, path, NewNode::Symlink(target), 0o777, cred)
    }

    // ---- removal, links, rename ----

    /// `unlinkat(at, path, 0)`: removes a non-directory (EISDIR for a directory).
    pub fn unlink(&self, at: &InodeRef, path: &[u8]) -> VfsResult<()> {
        let mut budget = MAX_SYMLINKS;
        let p = self.walk_parent(at, path, &mut budget)?;
        let Last::Name(name) = &p.last else {
            return Err(Errno::EISDIR);
        };
        if p.dir.is_read_only() {
            return Err(Errno::EROFS);
        }
        check_name(name)?;
        let node = p.dir.lookup(name)?;
        if is_dir(&node) {
            return Err(Errno::EISDIR);
        }
        if p.trailing_slash {
            return Err(Errno::ENOTDIR);
        }
        p.dir.unlink(name)
    }

    /// `unlinkat(at, path, AT_REMOVEDIR)` / `rmdir`: EINVAL for `.`, ENOTEMPTY for `..`,
    /// EBUSY for `/` and mount points, ENOTDIR for a non-directory.
    pub fn rmdir(&self, at: &InodeRef, path: &[u8]) -> VfsResult<()> {
        let mut budget = MAX_SYMLINKS;
        let p = self.walk_parent(at, path, &mut budget)?;
        let name = match &p.last {
            Last::Root => return Err(Errno::EBUSY),
            Last::Dot => return Err(Errno::EINVAL),
            Last::DotDot => return Err(Errno::ENOTEMPTY),
            Last::Name(name) => name,
        };
        if p.dir.is_read_only() {
            return Err(Errno::EROFS);
        }
        check_name(name)?;
        let node = p.dir.lookup(name)?;
        if !is_dir(&node) {
            return Err(Errno::ENOTDIR);
        }
        if self.mounts.lock().is_mount_point(node.key()) {
            return Err(Errno::EBUSY);
        }
        p.dir.rmdir(name)
    }

    /// `linkat(old_at, old_path, new_at, new_path, follow ? AT_SYMLINK_FOLLOW : 0)`.
    pub fn link(
        &self,
        old_at: &InodeRef,
        old_path: &[u8],
        new_at: &InodeRef,
        new_path: &[u8],
        follow: bool,
    ) -> VfsResult<()> {
        let old = self.resolve(old_at, old_path, follow)?;
        let (p, name) = self.walk_to_new_name(new_at, new_path)?;
        if p.trailing_slash {
            return Err(Errno::ENOENT);
        }
        if p.dir.is_read_only() {
            return Err(Errno::EROFS);
        }
        if old.key().0 != p.dir.key().0 {
            return Err(Errno::EXDEV);
        }
        if is_dir(&old) {
            return Err(Errno::EPERM);
        }
        p.dir.link(&name, &old)
    }

    /// `renameat2(old_at, old_path, new_at, new_path, flags)` with `RENAME_NOREPLACE` and
    /// `RENAME_EXCHANGE`, in Linux's order of checks.
    pub fn rename(
        &self,
        old_at: &InodeRef,
        old_path: &[u8],
        new_at: &InodeRef,
        new_path: &[u8],
        flags: u32,
    ) -> VfsResult<()> {
        if flags & !(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT) != 0 {
            return Err(Errno::EINVAL);
        }
        if flags & RENAME_NOREPLACE != 0 && flags & RENAME_EXCHANGE != 0 {
            return Err(Errno::EINVAL);
        }
        if flags & RENAME_WHITEOUT != 0 {
            return Err(Errno::EINVAL);
        }
        let exchange = flags & RENAME_EXCHANGE != 0;
        let mut budget = MAX_SYMLINKS;
        let op = self.walk_parent(old_at, old_path, &mut budget)?;
        let np = self.walk_parent(new_at, new_path, &mut budget)?;
        if op.dir.key().0 != np.dir.key().0 {
            return Err(Errno::EXDEV);
        }
        let Last::Name(old_name) = &op.last else {
            return Err(Errno::EBUSY);
        };
        let Last::Name(new_name) = &np.last else {
            return Err(if flags & RENAME_NOREPLACE != 0 {
                Errno::EEXIST
            } else {
                Errno::EBUSY
            });
        };
        if op.dir.is_read_only() {
            return Err(Errno::EROFS);
        }
        check_name(old_name)?;
        check_name(new_name)?;
        let old = op.dir.lookup(old_name)?;
        let new = match np.dir.lookup(new_name) {
            Ok(n) => Some(n),
            Err(Errno::ENOENT) if !exchange => None,
            Err(e) => return Err(e),
        };
        if flags & RENAME_NOREPLACE != 0 && new.is_some() {
            return Err(Errno::EEXIST);
        }
        let old_is_dir = is_dir(&old);
        let new_is_dir = new.as_ref().is_some_and(is_dir);
        if !old_is_dir && (op.trailing_slash || (!exchange && np.trailing_slash)) {
            return Err(Errno::ENOTDIR);
        }
        if exchange && !new_is_dir && np.trailing_slash {
            return Err(Errno::ENOTDIR);
        }
        if old_is_dir && self.is_ancestor(&old, &np.dir)? {
            return Err(Errno::EINVAL);
        }
        if let Some(new) = &new {
            if new_is_dir && self.is_ancestor(new, &op.dir)? {
                return Err(if exchange {
                    Errno::EINVAL
                } else {
                    Errno::ENOTEMPTY
                });
            }
            if same(&old, new) {
                return Ok(());
            }
            if !exchange {
                if old_is_dir && !new_is_dir {
                    return Err(Errno::ENOTDIR);
                }
                if !old_is_dir && new_is_dir {
                    return Err(Errno::EISDIR);
                }
            }
        }
        {
            let mounts = self.mounts.lock();
            if mounts.is_mount_point(old.key())
                || new.as_ref().is_some_and(|n| mounts.is_mount_point(n.key()))
            {
                return Err(Errno::EBUSY);
            }
        }
        op.dir.rename(
            old_name,
            &np.dir,
            new_name,
            flags & (RENAME_NOREPLACE | RENAME_EXCHANGE),
        )
    }

    /// Whether directory `a` is `b` or an ancestor of `b` (same file system).
    fn is_ancestor(&self, a: &InodeRef, b: &InodeRef) -> VfsResult<bool> {
        let mut cur = b.clone();
        loop {
            if same(&cur, a) {
                return Ok(true);
            }
            let parent = match cur.parent() {
                Ok(p) => p,
                Err(Errno::ENOENT) => return Ok(false),
                Err(e) => return Err(e),
            };
            if same(&parent, &cur) {
                return Ok(false);
            }
            cur = parent;
        }
    }

    // ---- queries ----

    /// `readlinkat`: the target (EINVAL if not a symlink).
    pub fn readlink(&self, at: &InodeRef, path: &[u8]) -> VfsResult<Vec<u8>> {
        self.resolve(at, path, false)?.readlink()
    }

    /// `fstatat`/`statx`: `follow` false for `AT_SYMLINK_NOFOLLOW` (lstat).
    pub fn stat(&self, at: &InodeRef, path: &[u8], follow: bool) -> VfsResult<Stat> {
        Ok(self.resolve(at, path, follow)?.stat())
    }

    /// `statfs`.
    pub fn statfs(&self, at: &InodeRef, path: &[u8]) -> VfsResult<StatFs> {
        Ok(self.resolve(at, path, true)?.statfs())
    }

    /// `faccessat2(at, path, mode, flags)`: `follow` false for `AT_SYMLINK_NOFOLLOW`.
    /// EROFS for `W_OK` on a read-only file system, else [`check_access`].
    pub fn access(
        &self,
        at: &InodeRef,
        path: &[u8],
        mode: u32,
        follow: bool,
        cred: Cred,
    ) -> VfsResult<()> {
        if mode & !(R_OK | W_OK | X_OK) != 0 {
            return Err(Errno::EINVAL);
        }
        let node = self.resolve(at, path, follow)?;
        let st = node.stat();
        let ft = st.file_type();
        if mode & W_OK != 0
            && node.is_read_only()
            && matches!(
                ft,
                FileType::Regular | FileType::Directory | FileType::Symlink
            )
        {
            return Err(Errno::EROFS);
        }
        check_access(&st, cred, mode)
    }

    /// getcwd: the absolute path of directory `dir` as seen from `/` (ENOENT if it has
    /// been removed, ENOTDIR if not a directory).
    pub fn path_of(&self, dir: &InodeRef) -> VfsResult<Vec<u8>> {
        if !is_dir(dir) {
            return Err(Errno::ENOTDIR);
        }
        // Bounds on the walk up, so that no shape of the tree can make it endless:
        // the path's length (ENAMETOOLONG) and the mount points crossed (ELOOP).
        const MAX_MOUNT_CROSSINGS: usize = 40;
        let (mut names, mut len, mut crossings): (Vec<Vec<u8>>, usize, usize) = (Vec::new(), 0, 0);
        let mut cur = dir.clone();
        while !same(&cur, &self.root) {
            let covered = self.mounts.lock().covered_by(cur.key());
            if let Some(c) = covered {
                crossings += 1;
                if crossings > MAX_MOUNT_CROSSINGS {
                    return Err(Errno::ELOOP);
                }
                cur = c;
                continue;
            }
            let parent = cur.parent()?;
            if same(&parent, &cur) {
                // The root of a file system that is not mounted (any more).
                return Err(Errno::ENOENT);
            }
            let ino = cur.key().1;
            let mut cookie = 0;
            let name = loop {
                let Some(e) = parent.read_dir(cookie)? else {
                    return Err(Errno::ENOENT);
                };
                if e.ino == ino && e.name != b"." && e.name != b".." {
                    break e.name;
                }
                cookie = e.next;
            };
            len += name.len() + 1;
            if len >= PATH_MAX {
                return Err(Errno::ENAMETOOLONG);
            }
            names.push(name);
            cur = parent;
        }
        let mut out = Vec::new();
        for name in names.iter().rev() {
            out.push(b'/');
            out.extend_from_slice(name);
        }
        if out.is_empty() {
            out.push(b'/');
        }
        if out.len() >= PATH_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        Ok(out)
    }

    // ---- attribute changes (path and inode forms) ----

    /// `truncate(path, size)`.
    pub fn truncate(&self, at: &InodeRef, path: &[u8], size: u64) -> VfsResult<()> {
        Self::truncate_inode(&self.resolve(at, path, true)?, size)
    }

    /// `ftruncate` (the kernel checks that the fd is open for writing): EISDIR for a
    /// directory, EINVAL for other non-regular files, EFBIG past the maximum size.
    pub fn truncate_inode(node: &InodeRef, size: u64) -> VfsResult<()> {
        match node.file_type() {
            FileType::Regular => {}
            FileType::Directory => return Err(Errno::EISDIR),
            _ => return Err(Errno::EINVAL),
        }
        if node.is_read_only() {
            return Err(Errno::EROFS);
        }
        if size > node.max_file_size() {
            return Err(Errno::EFBIG);
        }
        node.set_attr(&SetAttr {
            size: Some(size),
            mtime: TimeUpdate::Now,
            ..SetAttr::NONE
        })
    }

    /// `fchmodat`.
    pub fn chmod(&self, at: &InodeRef, path: &[u8], mode: u32, follow: bool) -> VfsResult<()> {
        let node = self.resolve(at, path, follow)?;
        if node.file_type() == FileType::Symlink {
            return Err(Errno::EOPNOTSUPP);
        }
        Self::chmod_inode(&node, mode)
    }

    /// `fchmod`.
    pub fn chmod_inode(node: &InodeRef, mode: u32) -> VfsResult<()> {
        if node.is_read_only() {
            return Err(Errno::EROFS);
        }
        node.set_attr(&SetAttr {
            mode: Some(mode & S_IALLUGO),
            ..SetAttr::NONE
        })
    }

    /// `fchownat`: `None` (-1) leaves the id alone.
    pub fn chown(
        &self,
        at: &InodeRef,
        path: &[u8],
        uid: Option<u32>,
        gid: Option<u32>,
        follow: bool,
    ) -> VfsResult<()> {
        Self::chown_inode(&self.resolve(at, path, follow)?, uid, gid)
    }

    /// `fchown`.
    pub fn chown_inode(node: &InodeRef, uid: Option<u32>, gid: Option<u32>) -> VfsResult<()> {
        if node.is_read_only() {
            return Err(Errno::EROFS);
        }
        node.set_attr(&SetAttr {
            uid,
            gid,
            ..SetAttr::NONE
        })
    }

    /// `utimensat` with a path.
    pub fn utimens(
        &self,
        at: &InodeRef,
        path: &[u8],
        atime: TimeUpdate,
        mtime: TimeUpdate,
        follow: bool,
    ) -> VfsResult<()> {
        Self::utimens_inode(&self.resolve(at, path, follow)?, atime, mtime)
    }

    /// `futimens` / `utimensat(fd, NULL, ...)`. Both `Omit`: nothing changes.
    pub fn utimens_inode(node: &InodeRef, atime: TimeUpdate, mtime: TimeUpdate) -> VfsResult<()> {
        if atime == TimeUpdate::Omit && mtime == TimeUpdate::Omit {
            return Ok(());
        }
        if node.is_read_only() {
            return Err(Errno::EROFS);
        }
        node.set_attr(&SetAttr {
            atime,
            mtime,
            ..SetAttr::NONE
        })
    }

    // ---- data ----

    /// `pread` on an opened inode: EISDIR for a directory, EINVAL for inodes without
    /// data (device nodes and FIFOs are the kernel's to dispatch by `rdev`).
    pub fn read_at(node: &InodeRef, offset: u64, buf: &mut [u8]) -> VfsResult<usize> {
        if is_dir(node) {
            return Err(Errno::EISDIR);
        }
        node.read_at(offset, buf)
    }

    /// `pwrite` on an opened inode: EISDIR, EFBIG at or past the maximum size (a write
    /// crossing it is shortened), 0 for an empty buffer.
    pub fn write_at(node: &InodeRef, offset: u64, buf: &[u8]) -> VfsResult<usize> {
        if is_dir(node) {
            return Err(Errno::EISDIR);
        }
        if buf.is_empty() {
            return Ok(0);
        }
        let max = node.max_file_size();
        if offset >= max {
            return Err(Errno::EFBIG);
        }
        let n = buf
            .len()
            .min((max - offset).min(usize::MAX as u64) as usize);
        node.write_at(offset, &buf[..n])
    }

    /// `fallocate(mode, offset, len)`: EINVAL for `len == 0`, EOPNOTSUPP for unknown
    /// modes or a hole punch without `FALLOC_FL_KEEP_SIZE`, EISDIR, ENODEV for other
    /// non-regular files, EFBIG past the maximum size.
    pub fn fallocate(node: &InodeRef, mode: u32, offset: u64, len: u64) -> VfsResult<()> {
        if len == 0 {
            return Err(Errno::EINVAL);
        }
        if mode & !(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE) != 0
            || (mode & FALLOC_FL_PUNCH_HOLE != 0 && mode & FALLOC_FL_KEEP_SIZE == 0)
            || (mode & FALLOC_FL_PUNCH_HOLE != 0 && mode & FALLOC_FL_ZERO_RANGE != 0)
        {
            return Err(Errno::EOPNOTSUPP);
        }
        match node.file_type() {
            FileType::Regular => {}
            FileType::Directory => return Err(Errno::EISDIR),
            _ => return Err(Errno::ENODEV),
        }
        if node.is_read_only() {
            return Err(Errno::EROFS);
        }
        match offset.checked_add(len) {
            Some(end) if end <= node.max_file_size() => {}
            _ => return Err(Errno::EFBIG),
        }
        node.fallocate(mode, offset, len)
    }

    // ---- mounts ----

    /// Mounts `fs` on the directory `path` (ENOTDIR; EBUSY for `/` or an already
    /// mounted `fs`).
    pub fn mount(&self, at: &InodeRef, path: &[u8], fs: Arc<dyn FileSystem>) -> VfsResult<()> {
        let covered = self.resolve(at, path, true)?;
        if !is_dir(&covered) {
            return Err(Errno::ENOTDIR);
        }
        let root = fs.root();
        let mut mounts = self.mounts.lock();
        if same(&covered, &self.root)
            || same(&root, &self.root)
            || mounts.is_mounted_root(root.key())
        {
            return Err(Errno::EBUSY);
        }
        mounts.add(Mount { covered, fs, root });
        Ok(())
    }

    /// Unmounts the file system whose root `path` names (EINVAL if it is not a mount
    /// root; EBUSY if something is mounted inside it).
    pub fn umount(&self, at: &InodeRef, path: &[u8]) -> VfsResult<Arc<dyn FileSystem>> {
        let root = self.resolve(at, path, true)?;
        let mut mounts = self.mounts.lock();
        if !mounts.is_mounted_root(root.key()) {
            return Err(Errno::EINVAL);
        }
        if mounts.has_mounts_on_dev(root.key().0) || mounts.is_mount_point(root.key()) {
            return Err(Errno::EBUSY);
        }
        Ok(mounts.remove_root(root.key()).ok_or(Errno::EINVAL)?.fs)
    }

    /// `(mount point path, fs type name)` of `/` and every mount, for `/proc/mounts`.
    pub fn mounts(&self) -> Vec<(Vec<u8>, &'static str)> {
        let list: Vec<Mount> = self.mounts.lock().iter().cloned().collect();
        let mut out = alloc::vec![(b"/".to_vec(), self.root_fs.name())];
        for m in list {
            if let Ok(p) = self.path_of(&m.root) {
                out.push((p, m.fs.name()));
            }
        }
        out
    }
}
