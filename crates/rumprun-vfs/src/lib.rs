//! The rumprun kernel's virtual file system: the namespace ([`Vfs`]: path walking,
//! mounts, the Linux rules and errno values of the file syscalls), the file system
//! interface ([`Inode`], [`FileSystem`]), the in-memory [`tmpfs`], and the helpers that
//! fill the root at boot ([`archive`] for files baked from the host, [`boot_tree`] for
//! `/etc`, `/dev`, `/tmp`, ...).
//!
//! `no_std` + `alloc`; the only dependency is `spin`. The kernel owns file descriptors
//! and offsets and maps device nodes to drivers by `rdev`; this crate owns everything
//! behind a path.
//!
//! ```text
//! let clock: Arc<dyn Clock> = Arc::new(|| kernel_time::realtime());
//! let root = Tmpfs::new(makedev(0, 1), clock.clone());
//! let vfs = Vfs::new(root);
//! boot_tree::populate(&vfs, b"myhost")?;
//! let f = vfs.open(&vfs.root(), b"/tmp/x", O_CREAT | O_RDWR, 0o644, Cred::ROOT)?;
//! Vfs::write_at(&f, 0, b"hello")?;
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod access;
pub mod archive;
pub mod block;
pub mod boot_tree;
pub mod clock;
pub mod dirent;
pub mod errno;
pub mod etc_files;
pub mod flags;
pub mod inode;
pub mod mount;
pub mod pages;
pub mod path;
pub mod sleep_lock;
pub mod stat;
pub mod store;
pub mod tmpfs;
pub mod vfs;
pub mod xattr;

pub use block::{BlockDevice, MemDisk, SECTOR_SIZE};
pub use clock::{Clock, ZeroClock};
pub use dirent::{encode_dirent64, fill_dirents64, DirEntry};
pub use errno::{Errno, VfsResult};
pub use inode::{Cred, FileSystem, Inode, InodeRef, NewNode, SetAttr, TimeUpdate};
pub use pages::{install_page_hooks, PageHooks};
pub use path::{MAX_SYMLINKS, NAME_MAX, PATH_MAX};
pub use sleep_lock::{install_wait_hooks, SleepLock, SleepLockGuard, WaitHooks};
pub use stat::{major, makedev, minor, FileType, Stat, StatFs, Timespec};
pub use store::{PageStore, StoreSource, StoreStats};
pub use tmpfs::{Tmpfs, TmpfsOptions};
pub use vfs::Vfs;
pub use xattr::{XattrBudget, XattrCaller, Xattrs};
