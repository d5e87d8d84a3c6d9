//! The baked rumprun image format, shared by `rumprun-bake` (host) and the kernel (no_std).
//!
//! A baked image is the kernel ELF plus one extra `PT_LOAD` segment holding the
//! *payload*; see `docs/ARCHITECTURE.md`, "The baked image". This crate owns the two
//! data formats of that contract and nothing else (the ELF surgery lives in the baker):
//!
//! * [`BakeInfo`]: the `#[repr(C)]` block in the kernel's [`SECTION_NAME`] section that
//!   tells the kernel where the payload is (`payload_paddr`, `payload_size`) and which
//!   bake config was used. 80 bytes, little endian:
//!   `magic [u8; 8] = b"RRBAKE01"`, `payload_paddr: u64`, `payload_size: u64`,
//!   `config: [u8; 32]` (NUL padded), `data_offset: u64`, `data_size: u64`,
//!   `data_id: u64` (the file data region read from the image as a disk, see
//!   [`cpio::split_for_disk`]). An unbaked kernel has `payload_size == 0`.
//! * [`cpio`]: the payload, a cpio "newc" archive (`070701` headers, `TRAILER!!!` last).
//!   [`cpio::CpioWriter`] builds one (needs `alloc`), [`cpio::entries`] reads one
//!   without copying ([`cpio::entries_with_meta`] adds uid, gid, mtime, ...), and
//!   [`cpio::programs`] yields the programs: the regular files
//!   named `bin/<name>`, in archive (= bake) order.
//!
//! The kernel defines its block like this (the section name must be a literal there) and,
//! because the baker patches the bytes after linking, reads it with a volatile read:
//!
//! ```text
//! #[used]
//! #[link_section = ".rumprun_bakeinfo"]
//! static BAKEINFO: rumprun_image::BakeInfo = rumprun_image::BakeInfo::unbaked();
//! let info = unsafe { core::ptr::read_volatile(&BAKEINFO) };
//! if info.is_baked() {
//!     let payload: &[u8] = /* map info.payload_paddr .. + info.payload_size */;
//!     for prog in rumprun_image::cpio::programs(payload) { /* prog?.data ... */ }
//! }
//! ```
//!
//! Cargo feature `std` (off by default) only adds `From<CpioError> for std::io::Error`;
//! everything else is `core` + `alloc`, with no dependencies.

#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod bakeinfo;
pub mod cpio;

pub use bakeinfo::{BakeInfo, BakeInfoError, CONFIG_LEN, MAGIC, SECTION_NAME};
