//! The Linux x86_64 flag values the file syscalls pass and this crate interprets:
//! `open` flags, `renameat2` flags, `access` modes, `fallocate` modes and the
//! `utimensat` special nanosecond values.

/// Access mode mask.
pub const O_ACCMODE: u32 = 0o3;
/// Read only.
pub const O_RDONLY: u32 = 0o0;
/// Write only.
pub const O_WRONLY: u32 = 0o1;
/// Read and write.
pub const O_RDWR: u32 = 0o2;
/// Create the file if missing.
pub const O_CREAT: u32 = 0o100;
/// With `O_CREAT`: fail with EEXIST if the name exists (even as a dangling symlink).
pub const O_EXCL: u32 = 0o200;
/// Do not make it the controlling terminal (ignored).
pub const O_NOCTTY: u32 = 0o400;
/// Truncate a regular file to 0.
pub const O_TRUNC: u32 = 0o1000;
/// Append (the kernel seeks to the size before each write).
pub const O_APPEND: u32 = 0o2000;
/// Non-blocking (the kernel's business).
pub const O_NONBLOCK: u32 = 0o4000;
/// Fail with ENOTDIR unless a directory.
pub const O_DIRECTORY: u32 = 0o200000;
/// Fail with ELOOP if the last component is a symlink.
pub const O_NOFOLLOW: u32 = 0o400000;
/// Close on exec (the kernel's business).
pub const O_CLOEXEC: u32 = 0o2000000;
/// A path-only descriptor: no access check, no truncation, may name a symlink.
pub const O_PATH: u32 = 0o10000000;
/// `__O_TMPFILE | O_DIRECTORY`: an unnamed regular file in the given directory.
pub const O_TMPFILE: u32 = 0o20000000 | O_DIRECTORY;

/// `renameat2`: fail with EEXIST if the new name exists.
pub const RENAME_NOREPLACE: u32 = 1;
/// `renameat2`: atomically exchange the two names.
pub const RENAME_EXCHANGE: u32 = 2;
/// `renameat2`: leave a whiteout (overlay file systems only; EINVAL here).
pub const RENAME_WHITEOUT: u32 = 4;

/// `access`: existence only.
pub const F_OK: u32 = 0;
/// `access`: execute/search.
pub const X_OK: u32 = 1;
/// `access`: write.
pub const W_OK: u32 = 2;
/// `access`: read.
pub const R_OK: u32 = 4;

/// `fallocate`: do not change the file size.
pub const FALLOC_FL_KEEP_SIZE: u32 = 1;
/// `fallocate`: deallocate (zero) the range; needs `FALLOC_FL_KEEP_SIZE`.
pub const FALLOC_FL_PUNCH_HOLE: u32 = 2;
/// `fallocate`: zero the range (extending the size unless `FALLOC_FL_KEEP_SIZE`).
pub const FALLOC_FL_ZERO_RANGE: u32 = 0x10;

/// `utimensat`: set this time to now.
pub const UTIME_NOW: i64 = (1 << 30) - 1;
/// `utimensat`: leave this time alone.
pub const UTIME_OMIT: i64 = (1 << 30) - 2;
