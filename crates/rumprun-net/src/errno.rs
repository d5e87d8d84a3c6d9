//! Linux errno values of the socket calls, by their names: `rumprun-abi`'s [`Errno`]
//! (the type the VFS and the kernel use too, so errors pass through unchanged).

pub use rumprun_abi::Errno;

/// Try again (would block).
pub const EAGAIN: Errno = Errno::EAGAIN;
/// Bad file descriptor / no such socket.
pub const EBADF: Errno = Errno::EBADF;
/// Out of memory.
pub const ENOMEM: Errno = Errno::ENOMEM;
/// Invalid argument.
pub const EINVAL: Errno = Errno::EINVAL;
/// Broken pipe.
pub const EPIPE: Errno = Errno::EPIPE;
/// No such device (interface index).
pub const ENODEV: Errno = Errno::ENODEV;
/// Operation not supported.
pub const EOPNOTSUPP: Errno = Errno::EOPNOTSUPP;
/// Destination address required.
pub const EDESTADDRREQ: Errno = Errno::EDESTADDRREQ;
/// Message too long.
pub const EMSGSIZE: Errno = Errno::EMSGSIZE;
/// Protocol not available (unknown socket option).
pub const ENOPROTOOPT: Errno = Errno::ENOPROTOOPT;
/// Protocol not supported.
pub const EPROTONOSUPPORT: Errno = Errno::EPROTONOSUPPORT;
/// Socket type not supported.
pub const ESOCKTNOSUPPORT: Errno = Errno::ESOCKTNOSUPPORT;
/// Address family not supported by protocol.
pub const EAFNOSUPPORT: Errno = Errno::EAFNOSUPPORT;
/// Address already in use.
pub const EADDRINUSE: Errno = Errno::EADDRINUSE;
/// Cannot assign requested address.
pub const EADDRNOTAVAIL: Errno = Errno::EADDRNOTAVAIL;
/// Network is unreachable.
pub const ENETUNREACH: Errno = Errno::ENETUNREACH;
/// Connection aborted.
pub const ECONNABORTED: Errno = Errno::ECONNABORTED;
/// Connection reset by peer.
pub const ECONNRESET: Errno = Errno::ECONNRESET;
/// No buffer space available.
pub const ENOBUFS: Errno = Errno::ENOBUFS;
/// Transport endpoint is already connected.
pub const EISCONN: Errno = Errno::EISCONN;
/// Transport endpoint is not connected.
pub const ENOTCONN: Errno = Errno::ENOTCONN;
/// Connection timed out.
pub const ETIMEDOUT: Errno = Errno::ETIMEDOUT;
/// Connection refused.
pub const ECONNREFUSED: Errno = Errno::ECONNREFUSED;
/// Operation already in progress.
pub const EALREADY: Errno = Errno::EALREADY;
/// Operation now in progress.
pub const EINPROGRESS: Errno = Errno::EINPROGRESS;
