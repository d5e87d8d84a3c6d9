//! File metadata as Linux reports it: [`FileType`], the `st_mode` bits, [`Timespec`],
//! [`Stat`] (everything `stat`/`statx` return), [`StatFs`] (what `statfs` returns) and
//! the `dev_t` encoding ([`makedev`], [`major`], [`minor`]).

pub use rumprun_abi::fs::{
    S_IALLUGO, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK, S_ISGID,
    S_ISUID, S_ISVTX, S_IXGRP, TMPFS_MAGIC,
};

/// The kind of an inode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FileType {
    /// Regular file.
    Regular,
    /// Directory.
    Directory,
    /// Symbolic link.
    Symlink,
    /// Character device node.
    CharDevice,
    /// Block device node.
    BlockDevice,
    /// Named pipe.
    Fifo,
    /// Unix domain socket node.
    Socket,
}

impl FileType {
    /// The `S_IF*` bits of this type.
    pub const fn mode_bits(self) -> u32 {
        match self {
            FileType::Regular => S_IFREG,
            FileType::Directory => S_IFDIR,
            FileType::Symlink => S_IFLNK,
            FileType::CharDevice => S_IFCHR,
            FileType::BlockDevice => S_IFBLK,
            FileType::Fifo => S_IFIFO,
            FileType::Socket => S_IFSOCK,
        }
    }

    /// The type encoded in a mode's `S_IFMT` bits, if valid.
    pub const fn from_mode(mode: u32) -> Option<FileType> {
        match mode & S_IFMT {
            S_IFREG => Some(FileType::Regular),
            S_IFDIR => Some(FileType::Directory),
            S_IFLNK => Some(FileType::Symlink),
            S_IFCHR => Some(FileType::CharDevice),
            S_IFBLK => Some(FileType::BlockDevice),
            S_IFIFO => Some(FileType::Fifo),
            S_IFSOCK => Some(FileType::Socket),
            _ => None,
        }
    }

    /// The `d_type` value getdents64 reports (`DT_REG` = 8, `DT_DIR` = 4, ...).
    pub const fn d_type(self) -> u8 {
        ((self.mode_bits() >> 12) & 0xf) as u8
    }
}

/// A point in time: seconds and nanoseconds since the Unix epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timespec {
    /// Seconds since 1970-01-01 00:00:00 UTC.
    pub sec: i64,
    /// Nanoseconds, `0..1_000_000_000`.
    pub nsec: u32,
}

impl Timespec {
    /// The epoch itself.
    pub const ZERO: Timespec = Timespec { sec: 0, nsec: 0 };

    /// From nanoseconds since the epoch.
    pub const fn from_nanos(ns: u64) -> Timespec {
        Timespec {
            sec: (ns / 1_000_000_000) as i64,
            nsec: (ns % 1_000_000_000) as u32,
        }
    }
}

/// Encodes a device number the way glibc's `makedev` and the kernel's `new_encode_dev`
/// do (the 64-bit `st_rdev`/`st_dev` layout).
pub const fn makedev(major: u32, minor: u32) -> u64 {
    let (ma, mi) = (major as u64, minor as u64);
    ((ma & 0xffff_f000) << 32) | ((ma & 0xfff) << 8) | ((mi & 0xffff_ff00) << 12) | (mi & 0xff)
}

/// The major number of a [`makedev`] device number.
pub const fn major(dev: u64) -> u32 {
    (((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0xfff)) as u32
}

/// The minor number of a [`makedev`] device number.
pub const fn minor(dev: u64) -> u32 {
    (((dev >> 12) & 0xffff_ff00) | (dev & 0xff)) as u32
}

/// What `stat`/`statx` report about an inode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat {
    /// Device of the file system ([`makedev`] encoding).
    pub dev: u64,
    /// Inode number, unique within the file system.
    pub ino: u64,
    /// Type and permission bits (`S_IFREG | 0o644`).
    pub mode: u32,
    /// Number of hard links (directories: 2 + subdirectories).
    pub nlink: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Device number of a device node ([`makedev`] encoding), else 0.
    pub rdev: u64,
    /// Size in bytes (symlinks: length of the target).
    pub size: u64,
    /// Preferred I/O size.
    pub blksize: u32,
    /// Allocated storage in 512-byte units.
    pub blocks: u64,
    /// Last access.
    pub atime: Timespec,
    /// Last modification of the contents.
    pub mtime: Timespec,
    /// Last change of the inode.
    pub ctime: Timespec,
    /// Creation (statx `stx_btime`).
    pub btime: Timespec,
}

impl Stat {
    /// The file type from [`Stat::mode`].
    pub fn file_type(&self) -> FileType {
        FileType::from_mode(self.mode).unwrap_or(FileType::Regular)
    }

    /// The permission bits (`mode & 0o7777`).
    pub fn perm(&self) -> u32 {
        self.mode & S_IALLUGO
    }
}

/// What `statfs`/`fstatfs` report about a file system.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatFs {
    /// File system type magic (`f_type`), e.g. [`TMPFS_MAGIC`].
    pub fs_type: u64,
    /// Block size (`f_bsize`).
    pub bsize: u64,
    /// Total blocks (`f_blocks`).
    pub blocks: u64,
    /// Free blocks (`f_bfree`).
    pub bfree: u64,
    /// Free blocks for unprivileged users (`f_bavail`).
    pub bavail: u64,
    /// Total inodes (`f_files`).
    pub files: u64,
    /// Free inodes (`f_ffree`).
    pub ffree: u64,
    /// File system id (`f_fsid`, two 32-bit words).
    pub fsid: [u32; 2],
    /// Maximum file name length (`f_namelen`).
    pub namelen: u64,
    /// Fragment size (`f_frsize`).
    pub frsize: u64,
    /// Mount flags (`f_flags`, `ST_RDONLY` = 1, ...).
    pub flags: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_encoding_roundtrips() {
        assert_eq!(makedev(1, 3), 0x103);
        assert_eq!(makedev(5, 1), 0x501);
        for &(ma, mi) in &[
            (0, 0),
            (1, 3),
            (259, 0x12345),
            (0xfffff, 0xffffff),
            (4096, 256),
        ] {
            let d = makedev(ma, mi);
            assert_eq!((major(d), minor(d)), (ma, mi));
        }
    }

    #[test]
    fn d_types() {
        assert_eq!(FileType::Regular.d_type(), 8);
        assert_eq!(FileType::Directory.d_type(), 4);
        assert_eq!(FileType::Symlink.d_type(), 10);
        assert_eq!(FileType::CharDevice.d_type(), 2);
        assert_eq!(FileType::BlockDevice.d_type(), 6);
        assert_eq!(FileType::Fifo.d_type(), 1);
        assert_eq!(FileType::Socket.d_type(), 12);
        assert_eq!(
            FileType::from_mode(S_IFDIR | 0o755),
            Some(FileType::Directory)
        );
        assert_eq!(FileType::from_mode(0o755), None);
    }

    #[test]
    fn timespec_from_nanos() {
        assert_eq!(
            Timespec::from_nanos(1_500_000_000),
            Timespec {
                sec: 1,
                nsec: 500_000_000
            }
        );
    }
}
