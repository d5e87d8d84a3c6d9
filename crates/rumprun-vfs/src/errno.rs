//! The error type of every fallible operation in this crate: `rumprun-abi`'s
//! [`Errno`] (the Linux values, shared with the other crates and the kernel, so
//! errors pass through unchanged), and [`VfsResult`].

pub use rumprun_abi::Errno;

/// The result type of VFS operations.
pub type VfsResult<T> = Result<T, Errno>;
