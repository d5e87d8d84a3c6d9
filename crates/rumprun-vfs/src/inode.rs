//! The file system interface: the [`Inode`] and [`FileSystem`] traits every file system
//! implements (tmpfs now; ext2, ISO 9660, /proc and others later), and the small value
//! types their methods take ([`NewNode`], [`SetAttr`], [`TimeUpdate`], [`Cred`]).
//!
//! Inodes are shared as [`InodeRef`] (`Arc<dyn Inode>`); an open file in the kernel holds
//! one, which keeps the inode (and its data) alive after it is unlinked, like Linux.
//! Implementations use interior mutability (tmpfs: a `spin::Mutex` per inode).
//!
//! The methods here are the *primitives*. The Linux rules that do not depend on the file
//! system (path walking, symlinks, mounts, which errno wins, rename type checks, the
//! subtree check, read-only checks) live in [`crate::Vfs`], so a file system only has to
//! do what it is asked and keep its own invariants (names unique, `nlink` right,
//! `ENOTEMPTY` on removing a non-empty directory). Names passed in are never empty, `.`,
//! `..`, never contain `/` and are at most [`crate::NAME_MAX`] bytes.
//!
//! Every method has a default that fails the way Linux does for an inode that does not
//! support it, so a synthetic file only implements what it has.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;

use crate::dirent::DirEntry;
use crate::errno::{Errno, VfsResult};
use crate::stat::{FileType, Stat, StatFs, Timespec};
use crate::xattr::{XattrBudget, Xattrs};

/// A shared reference to an inode of any file system.
pub type InodeRef = Arc<dyn Inode>;

/// Who creates a node: the owner new inodes get.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cred {
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
}

impl Cred {
    /// uid 0, gid 0: what a unikernel program is.
    pub const ROOT: Cred = Cred { uid: 0, gid: 0 };
}

/// What kind of node [`Inode::create`] makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NewNode<'a> {
    /// An empty regular file.
    Regular,
    /// An empty directory.
    Directory,
    /// A symbolic link with this target.
    Symlink(&'a [u8]),
    /// A character device node with this device number ([`crate::makedev`]).
    CharDevice(u64),
    /// A block device node with this device number.
    BlockDevice(u64),
    /// A named pipe.
    Fifo,
    /// A socket node.
    Socket,
}

impl NewNode<'_> {
    /// The file type of the node this creates.
    pub fn file_type(&self) -> FileType {
        match self {
            NewNode::Regular => FileType::Regular,
            NewNode::Directory => FileType::Directory,
            NewNode::Symlink(_) => FileType::Symlink,
            NewNode::CharDevice(_) => FileType::CharDevice,
            NewNode::BlockDevice(_) => FileType::BlockDevice,
            NewNode::Fifo => FileType::Fifo,
            NewNode::Socket => FileType::Socket,
        }
    }
}

/// How `utimensat` changes one timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeUpdate {
    /// Leave it (`UTIME_OMIT`).
    Omit,
    /// Set it to the clock's now (`UTIME_NOW`, or a NULL times pointer).
    Now,
    /// Set it to this time.
    Set(Timespec),
}

impl TimeUpdate {
    /// From a `struct timespec` as utimensat gets it: `UTIME_NOW`/`UTIME_OMIT` in
    /// `tv_nsec`, else `tv_nsec` must be `0..1e9` (EINVAL).
    pub fn from_raw(sec: i64, nsec: i64) -> VfsResult<TimeUpdate> {
        match nsec {
            crate::flags::UTIME_NOW => Ok(TimeUpdate::Now),
            crate::flags::UTIME_OMIT => Ok(TimeUpdate::Omit),
            0..=999_999_999 => Ok(TimeUpdate::Set(Timespec {
                sec,
                nsec: nsec as u32,
            })),
            _ => Err(Errno::EINVAL),
        }
    }
}

/// A change of inode attributes ([`Inode::set_attr`]). Any applied change also sets
/// `ctime` to now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SetAttr {
    /// New permission bits (`& 0o7777`; the type bits are kept).
    pub mode: Option<u32>,
    /// New owner. Changing owner or group of a non-directory clears setuid, and setgid if
    /// group-executable, like Linux.
    pub uid: Option<u32>,
    /// New group.
    pub gid: Option<u32>,
    /// New size (regular files): truncate or zero-extend; also sets `mtime`.
    pub size: Option<u64>,
    /// Access time.
    pub atime: TimeUpdate,
    /// Modification time.
    pub mtime: TimeUpdate,
}

impl SetAttr {
    /// Changes nothing.
    pub const NONE: SetAttr = SetAttr {
        mode: None,
        uid: None,
        gid: None,
        size: None,
        atime: TimeUpdate::Omit,
        mtime: TimeUpdate::Omit,
    };
}

/// One inode of some file system. See the module documentation for the contract.
pub trait Inode: Send + Sync {
    /// For a file system to recognise its own inodes (rename, link).
    fn as_any(&self) -> &dyn Any;

    /// The current metadata.
    fn stat(&self) -> Stat;

    /// The file type (cheaper than `stat` for some file systems).
    fn file_type(&self) -> FileType {
        self.stat().file_type()
    }

    /// `(dev, ino)`: identifies the inode among all mounted file systems.
    fn key(&self) -> (u64, u64) {
        let st = self.stat();
        (st.dev, st.ino)
    }

    /// `statfs` numbers of the file system this inode is on.
    fn statfs(&self) -> StatFs;

    /// Whether the file system is read-only (the VFS then fails changes with EROFS).
    fn is_read_only(&self) -> bool {
        false
    }

    /// The largest size a regular file may have (EFBIG beyond).
    fn max_file_size(&self) -> u64 {
        i64::MAX as u64
    }

    /// Reads at `offset` (regular files); returns 0 at or past the end.
    fn read_at(&self, _offset: u64, _buf: &mut [u8]) -> VfsResult<usize> {
        Err(Errno::EINVAL)
    }

    /// Writes at `offset`, zero-filling any gap past the end (regular files).
    fn write_at(&self, _offset: u64, _buf: &[u8]) -> VfsResult<usize> {
        Err(Errno::EINVAL)
    }

    /// The page cache ([`crate::pages`]): a reference, for the caller to keep and
    /// release, to the page holding this regular file's bytes at page `index`, made
    /// the file's own (not borrowed) when `own` (a MAP_SHARED mapping must be the page
    /// later writes go to). `Ok(None)`: this file system keeps no pages (the caller
    /// reads a copy). ENXIO: the page lies wholly past the end of the file (SIGBUS for
    /// a mapping). ENOSPC: no memory for the page.
    fn page_frame(&self, _index: u64, _own: bool) -> VfsResult<Option<u64>> {
        Ok(None)
    }

    /// As [`Inode::page_frame`], but never reads a disk (no sleeping: the page-fault
    /// handler's call): EWOULDBLOCK when the page must come from a disk first
    /// ([`Inode::prefetch_page`] reads it).
    fn page_frame_now(&self, index: u64, own: bool) -> VfsResult<Option<u64>> {
        self.page_frame(index, own)
    }

    /// True when [`Inode::page_frame`] gives this file's pages (a page cache).
    fn has_page_cache(&self) -> bool {
        false
    }

    /// Copies this regular file's bytes at `offset` into `buf` from the pages in
    /// memory now, never reading a disk or sleeping (the caller may hold a spin lock:
    /// sendfile copies under the network stack's): stops at the first page that must
    /// come from a disk first ([`Inode::prefetch_page`] reads it) and at the end of
    /// the file. Returns the bytes copied; none for a file with no page cache.
    fn read_cached(&self, _offset: u64, _buf: &mut [u8]) -> usize {
        0
    }

    /// Gives this empty regular file the contents `data` by borrowing the pages it
    /// lies in (page `i` of the file is the kernel page `first + i * 4096`, read in
    /// place and copied on the first write) instead of copying them: the image's
    /// baked files. `Ok(false)`: this file system cannot (the caller writes).
    fn borrow_pages(&self, _data: &[u8], _first: u64) -> VfsResult<bool> {
        Ok(false)
    }

    /// Gives this empty regular file `size` bytes that lie in `store` from page
    /// `first` on: read on demand into the store's page cache and mapped from there,
    /// copied into a page of the file's own on the first write (the image's baked
    /// files on its disk). `Ok(false)`: this file system cannot.
    fn back_pages(
        &self,
        _store: &alloc::sync::Arc<crate::store::PageStore>,
        _first: u64,
        _size: u64,
    ) -> VfsResult<bool> {
        Ok(false)
    }

    /// Reads page `index` into the page cache if it lies on a disk and is not there
    /// yet (a [`crate::PageStore`]'s), for a caller about to take a lock under which
    /// it will ask [`Inode::page_frame_now`] for it. EIO: the disk failed; ENOMEM: no
    /// memory to hold it.
    fn prefetch_page(&self, _index: u64) -> VfsResult<()> {
        Ok(())
    }

    /// `fallocate(mode, offset, len)` on a regular file (`len > 0`).
    fn fallocate(&self, _mode: u32, _offset: u64, _len: u64) -> VfsResult<()> {
        Err(Errno::EOPNOTSUPP)
    }

    /// Changes attributes (chmod, chown, truncate, utimens).
    fn set_attr(&self, _attr: &SetAttr) -> VfsResult<()> {
        Err(Errno::EPERM)
    }

    /// The target of a symlink (EINVAL for anything else).
    fn readlink(&self) -> VfsResult<Vec<u8>> {
        Err(Errno::EINVAL)
    }

    /// Finds `name` in this directory (ENOENT; ENOTDIR if not a directory).
    fn lookup(&self, _name: &[u8]) -> VfsResult<InodeRef> {
        Err(Errno::ENOTDIR)
    }

    /// The parent directory within this file system (`..`); a root is its own parent.
    /// ENOENT for a removed directory.
    fn parent(&self) -> VfsResult<InodeRef> {
        Err(Errno::ENOTDIR)
    }

    /// Creates `name` in this directory (EEXIST if taken). `perm` is the permission bits
    /// (umask already applied by the caller).
    fn create(
        &self,
        _name: &[u8],
        _node: NewNode<'_>,
        _perm: u32,
        _cred: Cred,
    ) -> VfsResult<InodeRef> {
        Err(Errno::ENOTDIR)
    }

    /// Creates an unnamed regular file on this directory's file system (`O_TMPFILE`).
    fn create_unnamed(&self, _perm: u32, _cred: Cred) -> VfsResult<InodeRef> {
        Err(Errno::EOPNOTSUPP)
    }

    /// Adds a hard link `name` to `target` (an inode of the same file system, not a
    /// directory) in this directory.
    fn link(&self, _name: &[u8], _target: &InodeRef) -> VfsResult<()> {
        Err(Errno::ENOTDIR)
    }

    /// Removes the non-directory `name` from this directory.
    fn unlink(&self, _name: &[u8]) -> VfsResult<()> {
        Err(Errno::ENOTDIR)
    }

    /// Removes the empty directory `name` (ENOTEMPTY).
    fn rmdir(&self, _name: &[u8]) -> VfsResult<()> {
        Err(Errno::ENOTDIR)
    }

    /// Moves `old_name` of this directory to `new_name` of `new_dir` (same file system),
    /// replacing what is there (type checks done by the VFS, ENOTEMPTY by the file
    /// system), or exchanging both with [`crate::flags::RENAME_EXCHANGE`].
    fn rename(
        &self,
        _old_name: &[u8],
        _new_dir: &InodeRef,
        _new_name: &[u8],
        _flags: u32,
    ) -> VfsResult<()> {
        Err(Errno::ENOTDIR)
    }

    /// The first directory entry at or after position `cookie` (0 = start, which is
    /// `.`), with the cookie of the entry after it in [`DirEntry::next`]; `None` at the
    /// end. Cookies stay valid while entries are added and removed.
    fn read_dir(&self, _cookie: u64) -> VfsResult<Option<DirEntry>> {
        Err(Errno::ENOTDIR)
    }

    /// Whether this directory has no entries besides `.` and `..`.
    fn is_empty_dir(&self) -> VfsResult<bool> {
        Err(Errno::ENOTDIR)
    }

    /// The extended attributes of this inode and the file system's budget for them, if
    /// the file system keeps any (see [`crate::xattr`] for the rules around them).
    fn xattrs(&self) -> Option<(&Xattrs, &dyn XattrBudget)> {
        None
    }
}

/// A mountable file system.
pub trait FileSystem: Send + Sync {
    /// The root directory.
    fn root(&self) -> InodeRef;

    /// The type name (`"tmpfs"`), for `/proc/mounts`.
    fn name(&self) -> &'static str;
}

impl core::fmt::Debug for dyn Inode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let (dev, ino) = self.key();
        write!(f, "Inode({:?}, dev {dev:#x}, ino {ino})", self.file_type())
    }
}

impl core::fmt::Debug for dyn FileSystem {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "FileSystem({})", self.name())
    }
}
