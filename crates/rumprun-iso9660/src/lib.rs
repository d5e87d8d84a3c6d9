//! ISO 9660 for the rumprun kernel: a read-only [`rumprun_vfs::FileSystem`] over a
//! [`rumprun_vfs::BlockDevice`], for the CD images (`genisoimage -r`, `xorriso -as
//! mkisofs -r`) that rumprun packages shipped their data in.
//!
//! - Volume descriptors and the primary root ([`volume`]); 2048-byte logical blocks read
//!   as four 512-byte sectors through a small cache ([`cache`]).
//! - Directory records ([`record`]), with their dates ([`time`]); multi-extent files
//!   (> 4 GiB) are read as one file ([`dir`]).
//! - Rock Ridge ([`rrip`]) over SUSP ([`susp`]): names, modes, owners, link counts,
//!   times, symlinks, device numbers; relocated deep directories (`CL`/`PL`/`RE`) appear
//!   where they belong and the relocated copies are hidden.
//! - Without Rock Ridge: Joliet names if present, else ISO names mapped like Linux's
//!   `map=normal` ([`name`]).
//! - Inode numbers from record locations ([`entry`]); inodes ([`node`]) are built on
//!   look-up, nothing is kept in memory but the block cache.
//!
//! ```text
//! let dev: Arc<dyn BlockDevice> = Arc::new(virtio_blk);
//! if Iso9660::probe(&dev) {
//!     let fs = Iso9660::mount(dev, vfs.alloc_dev())?;
//!     vfs.mount(&vfs.root(), b"/data", fs)?;
//! }
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod cache;
pub mod dir;
pub mod entry;
pub mod fs;
pub mod name;
pub mod node;
pub mod record;
pub mod rrip;
pub mod susp;
pub mod time;
pub mod volume;

pub use fs::{Iso9660, MountOptions, Naming};
pub use node::{IsoInode, ISOFS_SUPER_MAGIC};
