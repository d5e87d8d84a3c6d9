//! Linux errno values (asm-generic/errno-base.h, errno.h) as returned by syscalls.
//! The type is the VFS crate's, so file-system errors pass through unchanged.

pub use rumprun_vfs::Errno;

pub const EPERM: Errno = Errno(1);
pub const ENOENT: Errno = Errno(2);
pub const ESRCH: Errno = Errno(3);
pub const EINTR: Errno = Errno(4);
pub const E2BIG: Errno = Errno(7);
pub const ENOEXEC: Errno = Errno(8);
pub const EBADF: Errno = Errno(9);
pub const ECHILD: Errno = Errno(10);
pub const EAGAIN: Errno = Errno(11);
pub const ENOMEM: Errno = Errno(12);
pub const EFAULT: Errno = Errno(14);
pub const EBUSY: Errno = Errno(16);
pub const EEXIST: Errno = Errno(17);
pub const ENODEV: Errno = Errno(19);
pub const ENOTDIR: Errno = Errno(20);
pub const EINVAL: Errno = Errno(22);
pub const EMFILE: Errno = Errno(24);
pub const ENOTTY: Errno = Errno(25);
pub const ENOSPC: Errno = Errno(28);
pub const ESPIPE: Errno = Errno(29);
pub const EPIPE: Errno = Errno(32);
pub const ERANGE: Errno = Errno(34);
pub const ENAMETOOLONG: Errno = Errno(36);
pub const ELOOP: Errno = Errno(40);
pub const ENOSYS: Errno = Errno(38);
pub const EOPNOTSUPP: Errno = Errno(95);
pub const ETIMEDOUT: Errno = Errno(110);
/// Kernel-internal results of interrupted syscalls (see `signal::ERESTARTSYS`);
/// `signal::deliver` turns them into EINTR or a restart before the program sees them.
pub const ERESTARTSYS: Errno = Errno(crate::signal::ERESTARTSYS as i32);
pub const ERESTARTNOHAND: Errno = Errno(crate::signal::ERESTARTNOHAND as i32);

pub type SysResult = Result<u64, Errno>;
pub const ENXIO: Errno = Errno(6);
pub const EISDIR: Errno = Errno(21);
pub const EACCES: Errno = Errno(13);
