//! Linux's `struct stat` (x86_64 layout) and `struct statx`, and the file-type bits.

pub const S_IFREG: u32 = 0o100000;
pub const S_IFCHR: u32 = 0o020000;
pub const S_IFIFO: u32 = 0o010000;

/// `struct stat` as the x86_64 kernel writes it (144 bytes).
#[derive(Clone, Copy, Default, Debug)]
#[repr(C)]
pub struct Stat {
    pub dev: u64,
    pub ino: u64,
    pub nlink: u64,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub pad0: u32,
    pub rdev: u64,
    pub size: i64,
    pub blksize: i64,
    pub blocks: i64,
    pub atime: [i64; 2],
    pub mtime: [i64; 2],
    pub ctime: [i64; 2],
    pub reserved: [i64; 3],
}

// SAFETY: #[repr(C)] integers and integer arrays, laid out without padding.
unsafe impl crate::mm::user::Pod for Stat {}

pub const fn makedev(major: u32, minor: u32) -> u64 {
    ((major as u64 & 0xfff) << 8) | (minor as u64 & 0xff) | ((minor as u64 & !0xff) << 12)
}

impl Stat {
    /// A character device or other special file with no storage.
    pub fn special(mode: u32, ino: u64, rdev: u64) -> Stat {
        Stat {
            dev: makedev(0, 5),
            ino,
            nlink: 1,
            mode,
            rdev,
            blksize: 4096,
            ..Default::default()
        }
    }
}

/// `struct statx` (256 bytes), filled from a `Stat`.
#[derive(Clone, Copy)]
#[repr(C)]
pub struct Statx {
    pub mask: u32,
    pub blksize: u32,
    pub attributes: u64,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    pub mode: u16,
    pub spare0: u16,
    pub ino: u64,
    pub size: u64,
    pub blocks: u64,
    pub attributes_mask: u64,
    pub atime: [i64; 2],
    pub btime: [i64; 2],
    pub ctime: [i64; 2],
    pub mtime: [i64; 2],
    pub rdev_major: u32,
    pub rdev_minor: u32,
    pub dev_major: u32,
    pub dev_minor: u32,
    pub spare: [u64; 14],
}

// SAFETY: #[repr(C)] integers and integer arrays, laid out without padding.
unsafe impl crate::mm::user::Pod for Statx {}

fn ts(t: [i64; 2]) -> [i64; 2] {
    // statx_timestamp: i64 seconds, u32 nanoseconds, i32 reserved.
    [t[0], t[1] & 0xffff_ffff]
}

impl From<&Stat> for Statx {
    fn from(s: &Stat) -> Statx {
        const STATX_BASIC_STATS: u32 = 0x7ff;
        Statx {
            mask: STATX_BASIC_STATS,
            blksize: s.blksize as u32,
            attributes: 0,
            nlink: s.nlink as u32,
            uid: s.uid,
            gid: s.gid,
            mode: s.mode as u16,
            spare0: 0,
            ino: s.ino,
            size: s.size as u64,
            blocks: s.blocks as u64,
            attributes_mask: 0,
            atime: ts(s.atime),
            btime: ts(s.ctime),
            ctime: ts(s.ctime),
            mtime: ts(s.mtime),
            rdev_major: ((s.rdev >> 8) & 0xfff) as u32,
            rdev_minor: ((s.rdev & 0xff) | ((s.rdev >> 12) & !0xff)) as u32,
            dev_major: ((s.dev >> 8) & 0xfff) as u32,
            dev_minor: ((s.dev & 0xff) | ((s.dev >> 12) & !0xff)) as u32,
            spare: [0; 14],
        }
    }
}
