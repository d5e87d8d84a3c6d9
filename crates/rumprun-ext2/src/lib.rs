//! ext2, read-write, for the rumprun kernel: [`Ext2`] mounts the file system on a
//! [`rumprun_vfs::BlockDevice`] and implements [`rumprun_vfs::FileSystem`] (its inodes,
//! [`Ext2Inode`], implement [`rumprun_vfs::Inode`]).
//!
//! Supported: revision 0 and 1, 1/2/4 KiB blocks, 128/256-byte inodes, the `filetype`
//! incompatible feature (and no other: journals needing recovery, extents, 64bit,
//! flex_bg, meta_bg, ... are refused with a message naming the feature, see
//! [`Ext2::probe`]), and the `sparse_super`, `large_file`, `dir_nlink` and
//! `extra_isize` read-only-compatible features (any other one mounts read-only).
//! Compatible features (`has_journal` without recovery, `dir_index`, `ext_attr`,
//! `resize_inode`) are left alone: hashed directories are read linearly and lose their
//! index when changed; the journal is not used.
//!
//! Everything goes through a write-back block cache; [`Ext2::sync`] writes it all and
//! flushes the device (the kernel calls it for fsync/fdatasync/sync, which therefore
//! sync the whole file system, and at exit), [`Ext2::unmount`] also marks the file
//! system clean. There is no journal: a crash between syncs can leave damage that
//! `e2fsck` repairs.
//!
//! Kernel integration: fsync/fdatasync of a descriptor call [`sync_node`] on its
//! inode (which syncs the whole file system of an ext2 inode, `None` for others);
//! sync(2) and exit call [`Ext2::sync`] or [`Ext2::unmount`] on every mounted ext2.
//! Unlinked files that are still open keep their data until the last reference drops
//! (in memory only: after a crash e2fsck frees them). One lock serialises the whole
//! file system (see [`fs`]).
//!
//! ```text
//! let fs = Ext2::mount(disk, vfs.alloc_dev(), clock)?;
//! vfs.mount(&vfs.root(), b"/data", fs.clone())?;
//! // ... at exit:
//! fs.unmount()?;
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod balloc;
pub mod bmap;
pub mod cache;
pub mod dir;
pub mod file;
pub mod fs;
pub mod group;
pub mod inode;
mod le;
pub mod node;
pub mod superblock;

pub use fs::{Ext2, Ext2Info, DEFAULT_CACHE_BLOCKS, EXT2_SUPER_MAGIC};
pub use node::{sync_node, Ext2Inode};
