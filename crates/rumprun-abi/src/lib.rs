//! The Linux x86_64 ABI as the rumprun crates and kernel speak it: [`Errno`] and the
//! constants of the file, socket, poll and netlink calls, each with the type its
//! syscall argument or wire field has. The values come from `linux-raw-sys` (the
//! uapi headers, generated); this crate only names and types them, so one number
//! has one definition. It is the leaf every other crate may depend on: no std, no
//! allocation, nothing but `linux-raw-sys`.
#![no_std]
#![forbid(unsafe_code)]

pub mod errno;
pub mod fs;
pub mod net;
pub mod netlink;
pub mod poll;

pub use errno::Errno;
