//! Linux error numbers: [`Errno`], the error type of every fallible operation in the
//! crates and the kernel, with the x86_64 Linux values taken from `linux-raw-sys`
//! (`asm-generic/errno-base.h`, `errno.h`, every one of them), plus the
//! kernel-internal restart codes (`include/linux/errno.h`, not in the uapi headers)
//! that the syscall trace can show. The kernel returns `-errno.0` from a syscall.

use core::fmt;
use linux_raw_sys::errno as e;

/// A Linux errno value (positive). Syscalls return its negation.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Errno(pub i32);

macro_rules! errnos {
    ($($name:ident = $val:expr, $text:expr;)*) => {
        impl Errno {
            $(#[doc = $text] pub const $name: Errno = Errno($val as i32);)*

            /// The symbolic name (`"ENOENT"`), or `"E?"` for a value not listed here.
            pub fn name(self) -> &'static str {
                match self {
                    $(Errno::$name => stringify!($name),)*
                    _ => "E?",
                }
            }
        }

        /// Every errno of [`Errno`] as a constant of its own, for a glob import
        /// (`use rumprun_abi::errno::consts::*`).
        pub mod consts {
            use super::Errno;
            $(#[doc = $text] pub const $name: Errno = Errno::$name;)*
        }
    };
}

errnos! {
    EPERM = e::EPERM, "Operation not permitted";
    ENOENT = e::ENOENT, "No such file or directory";
    ESRCH = e::ESRCH, "No such process";
    EINTR = e::EINTR, "Interrupted system call";
    EIO = e::EIO, "I/O error";
    ENXIO = e::ENXIO, "No such device or address";
    E2BIG = e::E2BIG, "Argument list too long";
    ENOEXEC = e::ENOEXEC, "Exec format error";
    EBADF = e::EBADF, "Bad file descriptor";
    ECHILD = e::ECHILD, "No child processes";
    EAGAIN = e::EAGAIN, "Try again";
    ENOMEM = e::ENOMEM, "Out of memory";
    EACCES = e::EACCES, "Permission denied";
    EFAULT = e::EFAULT, "Bad address";
    ENOTBLK = e::ENOTBLK, "Block device required";
    EBUSY = e::EBUSY, "Device or resource busy";
    EEXIST = e::EEXIST, "File exists";
    EXDEV = e::EXDEV, "Cross-device link";
    ENODEV = e::ENODEV, "No such device";
    ENOTDIR = e::ENOTDIR, "Not a directory";
    EISDIR = e::EISDIR, "Is a directory";
    EINVAL = e::EINVAL, "Invalid argument";
    ENFILE = e::ENFILE, "File table overflow";
    EMFILE = e::EMFILE, "Too many open files";
    ENOTTY = e::ENOTTY, "Not a typewriter";
    ETXTBSY = e::ETXTBSY, "Text file busy";
    EFBIG = e::EFBIG, "File too large";
    ENOSPC = e::ENOSPC, "No space left on device";
    ESPIPE = e::ESPIPE, "Illegal seek";
    EROFS = e::EROFS, "Read-only file system";
    EMLINK = e::EMLINK, "Too many links";
    EPIPE = e::EPIPE, "Broken pipe";
    EDOM = e::EDOM, "Math argument out of domain of func";
    ERANGE = e::ERANGE, "Math result not representable";
    EDEADLK = e::EDEADLK, "Resource deadlock would occur";
    ENAMETOOLONG = e::ENAMETOOLONG, "File name too long";
    ENOLCK = e::ENOLCK, "No record locks available";
    ENOSYS = e::ENOSYS, "Function not implemented";
    ENOTEMPTY = e::ENOTEMPTY, "Directory not empty";
    ELOOP = e::ELOOP, "Too many symbolic links encountered";
    ENOMSG = e::ENOMSG, "No message of desired type";
    EIDRM = e::EIDRM, "Identifier removed";
    ECHRNG = e::ECHRNG, "Channel number out of range";
    EL2NSYNC = e::EL2NSYNC, "Level 2 not synchronized";
    EL3HLT = e::EL3HLT, "Level 3 halted";
    EL3RST = e::EL3RST, "Level 3 reset";
    ELNRNG = e::ELNRNG, "Link number out of range";
    EUNATCH = e::EUNATCH, "Protocol driver not attached";
    ENOCSI = e::ENOCSI, "No CSI structure available";
    EL2HLT = e::EL2HLT, "Level 2 halted";
    EBADE = e::EBADE, "Invalid exchange";
    EBADR = e::EBADR, "Invalid request descriptor";
    EXFULL = e::EXFULL, "Exchange full";
    ENOANO = e::ENOANO, "No anode";
    EBADRQC = e::EBADRQC, "Invalid request code";
    EBADSLT = e::EBADSLT, "Invalid slot";
    EBFONT = e::EBFONT, "Bad font file format";
    ENOSTR = e::ENOSTR, "Device not a stream";
    ENODATA = e::ENODATA, "No data available";
    ETIME = e::ETIME, "Timer expired";
    ENOSR = e::ENOSR, "Out of streams resources";
    ENONET = e::ENONET, "Machine is not on the network";
    ENOPKG = e::ENOPKG, "Package not installed";
    EREMOTE = e::EREMOTE, "Object is remote";
    ENOLINK = e::ENOLINK, "Link has been severed";
    EADV = e::EADV, "Advertise error";
    ESRMNT = e::ESRMNT, "Srmount error";
    ECOMM = e::ECOMM, "Communication error on send";
    EPROTO = e::EPROTO, "Protocol error";
    EMULTIHOP = e::EMULTIHOP, "Multihop attempted";
    EDOTDOT = e::EDOTDOT, "RFS specific error";
    EBADMSG = e::EBADMSG, "Not a data message";
    EOVERFLOW = e::EOVERFLOW, "Value too large for defined data type";
    ENOTUNIQ = e::ENOTUNIQ, "Name not unique on network";
    EBADFD = e::EBADFD, "File descriptor in bad state";
    EREMCHG = e::EREMCHG, "Remote address changed";
    ELIBACC = e::ELIBACC, "Can not access a needed shared library";
    ELIBBAD = e::ELIBBAD, "Accessing a corrupted shared library";
    ELIBSCN = e::ELIBSCN, ".lib section in a.out corrupted";
    ELIBMAX = e::ELIBMAX, "Attempting to link in too many shared libraries";
    ELIBEXEC = e::ELIBEXEC, "Cannot exec a shared library directly";
    EILSEQ = e::EILSEQ, "Illegal byte sequence";
    ERESTART = e::ERESTART, "Interrupted system call should be restarted";
    ESTRPIPE = e::ESTRPIPE, "Streams pipe error";
    EUSERS = e::EUSERS, "Too many users";
    ENOTSOCK = e::ENOTSOCK, "Socket operation on non-socket";
    EDESTADDRREQ = e::EDESTADDRREQ, "Destination address required";
    EMSGSIZE = e::EMSGSIZE, "Message too long";
    EPROTOTYPE = e::EPROTOTYPE, "Protocol wrong type for socket";
    ENOPROTOOPT = e::ENOPROTOOPT, "Protocol not available";
    EPROTONOSUPPORT = e::EPROTONOSUPPORT, "Protocol not supported";
    ESOCKTNOSUPPORT = e::ESOCKTNOSUPPORT, "Socket type not supported";
    EOPNOTSUPP = e::EOPNOTSUPP, "Operation not supported";
    EPFNOSUPPORT = e::EPFNOSUPPORT, "Protocol family not supported";
    EAFNOSUPPORT = e::EAFNOSUPPORT, "Address family not supported by protocol";
    EADDRINUSE = e::EADDRINUSE, "Address already in use";
    EADDRNOTAVAIL = e::EADDRNOTAVAIL, "Cannot assign requested address";
    ENETDOWN = e::ENETDOWN, "Network is down";
    ENETUNREACH = e::ENETUNREACH, "Network is unreachable";
    ENETRESET = e::ENETRESET, "Network dropped connection because of reset";
    ECONNABORTED = e::ECONNABORTED, "Software caused connection abort";
    ECONNRESET = e::ECONNRESET, "Connection reset by peer";
    ENOBUFS = e::ENOBUFS, "No buffer space available";
    EISCONN = e::EISCONN, "Transport endpoint is already connected";
    ENOTCONN = e::ENOTCONN, "Transport endpoint is not connected";
    ESHUTDOWN = e::ESHUTDOWN, "Cannot send after transport endpoint shutdown";
    ETOOMANYREFS = e::ETOOMANYREFS, "Too many references: cannot splice";
    ETIMEDOUT = e::ETIMEDOUT, "Connection timed out";
    ECONNREFUSED = e::ECONNREFUSED, "Connection refused";
    EHOSTDOWN = e::EHOSTDOWN, "Host is down";
    EHOSTUNREACH = e::EHOSTUNREACH, "No route to host";
    EALREADY = e::EALREADY, "Operation already in progress";
    EINPROGRESS = e::EINPROGRESS, "Operation now in progress";
    ESTALE = e::ESTALE, "Stale file handle";
    EUCLEAN = e::EUCLEAN, "Structure needs cleaning";
    ENOTNAM = e::ENOTNAM, "Not a XENIX named type file";
    ENAVAIL = e::ENAVAIL, "No XENIX semaphores available";
    EISNAM = e::EISNAM, "Is a named type file";
    EREMOTEIO = e::EREMOTEIO, "Remote I/O error";
    EDQUOT = e::EDQUOT, "Quota exceeded";
    ENOMEDIUM = e::ENOMEDIUM, "No medium found";
    EMEDIUMTYPE = e::EMEDIUMTYPE, "Wrong medium type";
    ECANCELED = e::ECANCELED, "Operation Canceled";
    ENOKEY = e::ENOKEY, "Required key not available";
    EKEYEXPIRED = e::EKEYEXPIRED, "Key has expired";
    EKEYREVOKED = e::EKEYREVOKED, "Key has been revoked";
    EKEYREJECTED = e::EKEYREJECTED, "Key was rejected by service";
    EOWNERDEAD = e::EOWNERDEAD, "Owner died";
    ENOTRECOVERABLE = e::ENOTRECOVERABLE, "State not recoverable";
    ERFKILL = e::ERFKILL, "Operation not possible due to RF-kill";
    EHWPOISON = e::EHWPOISON, "Memory page has hardware error";
    ERESTARTSYS = 512, "Kernel-internal: restart the interrupted syscall (never seen by programs)";
    ERESTARTNOINTR = 513, "Kernel-internal: restart without EINTR (never seen by programs)";
    ERESTARTNOHAND = 514, "Kernel-internal: restart unless a handler ran (never seen by programs)";
    ERESTART_RESTARTBLOCK = 516, "Kernel-internal: restart through restart_syscall (never seen by programs)";
}

impl Errno {
    /// Same as [`Errno::EAGAIN`].
    pub const EWOULDBLOCK: Errno = Errno(e::EWOULDBLOCK as i32);
    /// Same as [`Errno::EOPNOTSUPP`].
    pub const ENOTSUP: Errno = Errno::EOPNOTSUPP;
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.name(), self.0)
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    /// The numbers of asm-generic/errno-base.h and errno.h, written out here so a
    /// wrong binding would show.
    #[test]
    fn values_match_linux() {
        assert_eq!(Errno::EPERM.0, 1);
        assert_eq!(Errno::ENOENT.0, 2);
        assert_eq!(Errno::EXDEV.0, 18);
        assert_eq!(Errno::EMLINK.0, 31);
        assert_eq!(Errno::ENAMETOOLONG.0, 36);
        assert_eq!(Errno::ENOSYS.0, 38);
        assert_eq!(Errno::ENOTEMPTY.0, 39);
        assert_eq!(Errno::ELOOP.0, 40);
        assert_eq!(Errno::ENOTSOCK.0, 88);
        assert_eq!(Errno::EOPNOTSUPP.0, 95);
        assert_eq!(Errno::EINPROGRESS.0, 115);
        assert_eq!(Errno::EHWPOISON.0, 133);
        assert_eq!(Errno::EWOULDBLOCK, Errno::EAGAIN);
        assert_eq!(Errno::ERESTARTSYS.0, 512);
        assert_eq!(Errno::ERESTART_RESTARTBLOCK.0, 516);
    }

    #[test]
    fn names() {
        assert_eq!(Errno::EISDIR.name(), "EISDIR");
        assert_eq!(Errno(9999).name(), "E?");
        assert_eq!(Errno(92).name(), "ENOPROTOOPT");
        assert_eq!(Errno(98).name(), "EADDRINUSE");
        assert_eq!(Errno(11).name(), "EAGAIN");
        assert_eq!(Errno(95).name(), "EOPNOTSUPP");
        for e in 1..=133 {
            assert!(
                e == 41 || e == 58 || Errno(e).name() != "E?",
                "errno {e} has no name"
            );
        }
        assert_eq!(std::format!("{:?}", Errno::EEXIST), "EEXIST(17)");
    }
}
