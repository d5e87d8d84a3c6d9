//! File constants: `open(2)` flags, `renameat2(2)`, `access(2)`, `fallocate(2)` and
//! `utimensat(2)` values, and the mode bits of `stat(2)`.

use linux_raw_sys::general as g;

/// The access-mode bits of the open flags.
pub const O_ACCMODE: u32 = g::O_ACCMODE;
/// Open for reading only.
pub const O_RDONLY: u32 = g::O_RDONLY;
/// Open for writing only.
pub const O_WRONLY: u32 = g::O_WRONLY;
/// Open for reading and writing.
pub const O_RDWR: u32 = g::O_RDWR;
/// Create the file if it does not exist.
pub const O_CREAT: u32 = g::O_CREAT;
/// With `O_CREAT`: fail if it exists.
pub const O_EXCL: u32 = g::O_EXCL;
/// Do not make a terminal the controlling terminal.
pub const O_NOCTTY: u32 = g::O_NOCTTY;
/// Truncate to length 0.
pub const O_TRUNC: u32 = g::O_TRUNC;
/// Writes go to the end.
pub const O_APPEND: u32 = g::O_APPEND;
/// Non-blocking I/O.
pub const O_NONBLOCK: u32 = g::O_NONBLOCK;
/// Fail unless the path is a directory.
pub const O_DIRECTORY: u32 = g::O_DIRECTORY;
/// Do not follow a final symlink.
pub const O_NOFOLLOW: u32 = g::O_NOFOLLOW;
/// Close on exec.
pub const O_CLOEXEC: u32 = g::O_CLOEXEC;
/// A path-only descriptor.
pub const O_PATH: u32 = g::O_PATH;
/// An unnamed temporary file in the directory (includes `O_DIRECTORY`).
pub const O_TMPFILE: u32 = g::O_TMPFILE;

/// `renameat2`: fail if the target exists.
pub const RENAME_NOREPLACE: u32 = g::RENAME_NOREPLACE;
/// `renameat2`: swap the two names.
pub const RENAME_EXCHANGE: u32 = g::RENAME_EXCHANGE;
/// `renameat2`: leave a whiteout (overlay file systems).
pub const RENAME_WHITEOUT: u32 = g::RENAME_WHITEOUT;

/// `access`: the file exists.
pub const F_OK: u32 = g::F_OK;
/// `access`: may execute.
pub const X_OK: u32 = g::X_OK;
/// `access`: may write.
pub const W_OK: u32 = g::W_OK;
/// `access`: may read.
pub const R_OK: u32 = g::R_OK;

/// `fallocate`: do not change the file size.
pub const FALLOC_FL_KEEP_SIZE: u32 = g::FALLOC_FL_KEEP_SIZE;
/// `fallocate`: deallocate the range (with `KEEP_SIZE`).
pub const FALLOC_FL_PUNCH_HOLE: u32 = g::FALLOC_FL_PUNCH_HOLE;
/// `fallocate`: zero the range.
pub const FALLOC_FL_ZERO_RANGE: u32 = g::FALLOC_FL_ZERO_RANGE;

/// `utimensat`: a `tv_nsec` meaning "now".
pub const UTIME_NOW: i64 = g::UTIME_NOW as i64;
/// `utimensat`: a `tv_nsec` meaning "leave this time alone".
pub const UTIME_OMIT: i64 = g::UTIME_OMIT as i64;

/// The file-type bits of a mode.
pub const S_IFMT: u32 = g::S_IFMT;
/// Socket.
pub const S_IFSOCK: u32 = g::S_IFSOCK;
/// Symbolic link.
pub const S_IFLNK: u32 = g::S_IFLNK;
/// Regular file.
pub const S_IFREG: u32 = g::S_IFREG;
/// Block device.
pub const S_IFBLK: u32 = g::S_IFBLK;
/// Directory.
pub const S_IFDIR: u32 = g::S_IFDIR;
/// Character device.
pub const S_IFCHR: u32 = g::S_IFCHR;
/// FIFO.
pub const S_IFIFO: u32 = g::S_IFIFO;
/// Set-user-ID.
pub const S_ISUID: u32 = g::S_ISUID;
/// Set-group-ID.
pub const S_ISGID: u32 = g::S_ISGID;
/// Sticky.
pub const S_ISVTX: u32 = g::S_ISVTX;
/// Every permission bit (`include/linux/stat.h`'s `S_IALLUGO`).
pub const S_IALLUGO: u32 = S_ISUID | S_ISGID | S_ISVTX | g::S_IRWXU | g::S_IRWXG | g::S_IRWXO;
/// Group may execute.
pub const S_IXGRP: u32 = g::S_IXGRP;

/// `statfs` `f_type` of tmpfs.
pub const TMPFS_MAGIC: u64 = g::TMPFS_MAGIC as u64;

#[cfg(test)]
mod tests {
    use super::*;

    /// The numbers of the headers, written out so a wrong binding or type would show.
    #[test]
    fn values_match_linux() {
        assert_eq!(
            (O_CREAT, O_DIRECTORY, O_CLOEXEC, O_PATH),
            (0o100, 0o200000, 0o2000000, 0o10000000)
        );
        assert_eq!(O_TMPFILE, 0o20000000 | O_DIRECTORY);
        assert_eq!((UTIME_NOW, UTIME_OMIT), ((1 << 30) - 1, (1 << 30) - 2));
        assert_eq!((S_IFMT, S_IFSOCK, S_IFIFO), (0o170000, 0o140000, 0o010000));
        assert_eq!(S_IALLUGO, 0o7777);
        assert_eq!(TMPFS_MAGIC, 0x0102_1994);
        assert_eq!(FALLOC_FL_ZERO_RANGE, 0x10);
    }
}
