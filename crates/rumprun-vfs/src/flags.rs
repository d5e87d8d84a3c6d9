//! The Linux x86_64 flag values the file syscalls pass and this crate interprets:
//! `open` flags, `renameat2` flags, `access` modes, `fallocate` modes and the
//! `utimensat` special nanosecond values. The values are `rumprun-abi`'s (one
//! definition for the crates and the kernel); what each means here:
//!
//! - `O_ACCMODE`: Access mode mask.
//! - `O_RDONLY`: Read only.
//! - `O_WRONLY`: Write only.
//! - `O_RDWR`: Read and write.
//! - `O_CREAT`: Create the file if missing.
//! - `O_EXCL`: With `O_CREAT`: fail with EEXIST if the name exists (even as a dangling symlink).
//! - `O_NOCTTY`: Do not make it the controlling terminal (ignored).
//! - `O_TRUNC`: Truncate a regular file to 0.
//! - `O_APPEND`: Append (the kernel seeks to the size before each write).
//! - `O_NONBLOCK`: Non-blocking (the kernel's business).
//! - `O_DIRECTORY`: Fail with ENOTDIR unless a directory.
//! - `O_NOFOLLOW`: Fail with ELOOP if the last component is a symlink.
//! - `O_CLOEXEC`: Close on exec (the kernel's business).
//! - `O_PATH`: A path-only descriptor: no access check, no truncation, may name a symlink.
//! - `O_TMPFILE`: `__O_TMPFILE | O_DIRECTORY`: an unnamed regular file in the given directory.
//! - `RENAME_NOREPLACE`: `renameat2`: fail with EEXIST if the new name exists.
//! - `RENAME_EXCHANGE`: `renameat2`: atomically exchange the two names.
//! - `RENAME_WHITEOUT`: `renameat2`: leave a whiteout (overlay file systems only; EINVAL here).
//! - `F_OK`: `access`: existence only.
//! - `X_OK`: `access`: execute/search.
//! - `W_OK`: `access`: write.
//! - `R_OK`: `access`: read.
//! - `FALLOC_FL_KEEP_SIZE`: `fallocate`: do not change the file size.
//! - `FALLOC_FL_PUNCH_HOLE`: `fallocate`: deallocate (zero) the range; needs `FALLOC_FL_KEEP_SIZE`.
//! - `FALLOC_FL_ZERO_RANGE`: `fallocate`: zero the range (extending the size unless `FALLOC_FL_KEEP_SIZE`).
//! - `UTIME_NOW`: `utimensat`: set this time to now.
//! - `UTIME_OMIT`: `utimensat`: leave this time alone.

pub use rumprun_abi::fs::{
    FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, FALLOC_FL_ZERO_RANGE, F_OK, O_ACCMODE, O_APPEND,
    O_CLOEXEC, O_CREAT, O_DIRECTORY, O_EXCL, O_NOCTTY, O_NOFOLLOW, O_NONBLOCK, O_PATH, O_RDONLY,
    O_RDWR, O_TMPFILE, O_TRUNC, O_WRONLY, RENAME_EXCHANGE, RENAME_NOREPLACE, RENAME_WHITEOUT, R_OK,
    UTIME_NOW, UTIME_OMIT, W_OK, X_OK,
};
