//! Linux errno values of the socket calls. The type is `rumprun_vfs::Errno` (the
//! kernel's), so errors pass through unchanged; the networking values it does not name
//! are defined here.

pub use rumprun_vfs::Errno;

/// Try again (would block).
pub const EAGAIN: Errno = Errno(11);
/// Bad file descriptor / no such socket.
pub const EBADF: Errno = Errno(9);
/// Out of memory.
pub const ENOMEM: Errno = Errno(12);
/// Invalid argument.
pub const EINVAL: Errno = Errno(22);
/// Broken pipe.
pub const EPIPE: Errno = Errno(32);
/// No such device (interface index).
pub const ENODEV: Errno = Errno(19);
/// Operation not supported.
pub const EOPNOTSUPP: Errno = Errno(95);
/// Destination address required.
pub const EDESTADDRREQ: Errno = Errno(89);
/// Message too long.
pub const EMSGSIZE: Errno = Errno(90);
/// Protocol not available (unknown socket option).
pub const ENOPROTOOPT: Errno = Errno(92);
/// Protocol not supported.
pub const EPROTONOSUPPORT: Errno = Errno(93);
/// Socket type not supported.
pub const ESOCKTNOSUPPORT: Errno = Errno(94);
/// Address family not supported by protocol.
pub const EAFNOSUPPORT: Errno = Errno(97);
/// Address already in use.
pub const EADDRINUSE: Errno = Errno(98);
/// Cannot assign requested address.
pub const EADDRNOTAVAIL: Errno = Errno(99);
/// Network is unreachable.
pub const ENETUNREACH: Errno = Errno(101);
/// Connection aborted.
pub const ECONNABORTED: Errno = Errno(103);
/// Connection reset by peer.
pub const ECONNRESET: Errno = Errno(104);
/// No buffer space available.
pub const ENOBUFS: Errno = Errno(105);
/// Transport endpoint is already connected.
pub const EISCONN: Errno = Errno(106);
/// Transport endpoint is not connected.
pub const ENOTCONN: Errno = Errno(107);
/// Connection timed out.
pub const ETIMEDOUT: Errno = Errno(110);
/// Connection refused.
pub const ECONNREFUSED: Errno = Errno(111);
/// Operation already in progress.
pub const EALREADY: Errno = Errno(114);
/// Operation now in progress.
pub const EINPROGRESS: Errno = Errno(115);
