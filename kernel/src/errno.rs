//! Linux errno values as syscalls return them: [`Errno`] and every Linux errno as a
//! constant of its own, both from the leaf crate `rumprun-abi` (the values are
//! `linux-raw-sys`'s), as are the kernel-internal restart codes (`ERESTARTSYS`,
//! `ERESTARTNOHAND`) that `signal::deliver` turns into EINTR or a restart before the
//! program sees them. The VFS and the network stack use the same type, so their errors
//! pass through unchanged.

pub use rumprun_abi::errno::consts::*;
pub use rumprun_abi::Errno;

pub type SysResult = Result<u64, Errno>;
