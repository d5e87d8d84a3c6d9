//! Code shared by the `rumprun-bake` and `rumprun-cookfs` binaries: the root file system
//! part of the payload ("files from the host").

#![forbid(unsafe_code)]

pub mod rootfs;
