//! On-disk inodes: [`DiskInode`], the parsed 128- or 256-byte inode record (mode,
//! owner, size including `i_size_high`, timestamps in seconds, link count, `i_blocks`
//! in 512-byte units, the 15 block pointers), with the raw bytes kept so fields this
//! crate does not know (extended attributes in the inode, `i_generation`, ...) survive
//! a rewrite. Also the device-number encodings of device nodes and the file type codes
//! of directory entries.

use alloc::vec;
use alloc::vec::Vec;
use rumprun_vfs::{major, makedev, minor, FileType};

use crate::le::{get16, get32, put16, put32};

/// The root directory's inode number.
pub const ROOT_INO: u32 = 2;
/// Number of block pointers in an inode (12 direct, indirect, double, triple).
pub const N_BLOCKS: usize = 15;
/// Number of direct block pointers.
pub const N_DIRECT: usize = 12;
/// A symlink target shorter than this is stored in the block pointers ("fast").
pub const FAST_SYMLINK_MAX: usize = 60;
/// `i_flags`: hashed directory index (we clear it when changing a directory).
pub const INDEX_FL: u32 = 0x1000;
/// Most links an inode may have (Linux's `EXT2_LINK_MAX`).
pub const LINK_MAX: u16 = 32000;

/// One inode as stored on disk.
#[derive(Clone, Debug)]
pub struct DiskInode {
    raw: Vec<u8>,
    /// Type and permission bits.
    pub mode: u16,
    /// Owner (low and high 16 bits joined).
    pub uid: u32,
    /// Group (low and high 16 bits joined).
    pub gid: u32,
    /// Size in bytes (`i_size | i_size_high << 32`).
    pub size: u64,
    /// Access time (seconds).
    pub atime: u32,
    /// Change time.
    pub ctime: u32,
    /// Modification time.
    pub mtime: u32,
    /// Deletion time.
    pub dtime: u32,
    /// Hard links.
    pub links: u16,
    /// Allocated storage in 512-byte units (data, indirect and EA blocks).
    pub blocks: u32,
    /// Flags.
    pub flags: u32,
    /// Block pointers (or a fast symlink's target, or a device number).
    pub block: [u32; N_BLOCKS],
    /// Extended attribute block (0 if none).
    pub file_acl: u32,
}

impl DiskInode {
    /// Parses an inode record.
    pub fn parse(raw: &[u8]) -> DiskInode {
        let mut block = [0; N_BLOCKS];
        for (i, b) in block.iter_mut().enumerate() {
            *b = get32(raw, 40 + 4 * i);
        }
        DiskInode {
            raw: raw.to_vec(),
            mode: get16(raw, 0),
            uid: get16(raw, 2) as u32 | (get16(raw, 120) as u32) << 16,
            gid: get16(raw, 24) as u32 | (get16(raw, 122) as u32) << 16,
            size: get32(raw, 4) as u64 | (get32(raw, 108) as u64) << 32,
            atime: get32(raw, 8),
            ctime: get32(raw, 12),
            mtime: get32(raw, 16),
            dtime: get32(raw, 20),
            links: get16(raw, 26),
            blocks: get32(raw, 28),
            flags: get32(raw, 32),
            block,
            file_acl: get32(raw, 104),
        }
    }

    /// A fresh inode record of `size` bytes (all zero; large inodes get
    /// `i_extra_isize` = 32 and a creation time).
    pub fn new(size: usize, mode: u16, now: u32) -> DiskInode {
        let mut raw = vec![0u8; size];
        if size >= 128 + 32 {
            put16(&mut raw, 128, 32);
            put32(&mut raw, 144, now);
        }
        let mut d = DiskInode::parse(&raw);
        d.mode = mode;
        d.atime = now;
        d.ctime = now;
        d.mtime = now;
        d
    }

    /// The record with the current field values.
    pub fn serialize(&mut self) -> &[u8] {
        let raw = &mut self.raw;
        put16(raw, 0, self.mode);
        put16(raw, 2, self.uid as u16);
        put16(raw, 120, (self.uid >> 16) as u16);
        put16(raw, 24, self.gid as u16);
        put16(raw, 122, (self.gid >> 16) as u16);
        put32(raw, 4, self.size as u32);
        put32(raw, 108, (self.size >> 32) as u32);
        put32(raw, 8, self.atime);
        put32(raw, 12, self.ctime);
        put32(raw, 16, self.mtime);
        put32(raw, 20, self.dtime);
        put16(raw, 26, self.links);
        put32(raw, 28, self.blocks);
        put32(raw, 32, self.flags);
        for (i, b) in self.block.iter().enumerate() {
            put32(raw, 40 + 4 * i, *b);
        }
        put32(raw, 104, self.file_acl);
        // Timestamps are whole seconds: clear the nanosecond/epoch extensions of a large
        // inode (ctime_extra, mtime_extra, atime_extra) so they match.
        if raw.len() > 128 && get16(raw, 128) >= 16 {
            raw[132..144].fill(0);
        }
        &self.raw
    }

    /// The creation time of a large inode (`i_crtime`), if it has one.
    pub fn crtime(&self) -> Option<u32> {
        (self.raw.len() > 128 && get16(&self.raw, 128) >= 24).then(|| get32(&self.raw, 144))
    }

    /// The file type from the mode.
    pub fn file_type(&self) -> Option<FileType> {
        FileType::from_mode(self.mode as u32)
    }

    /// Whether the block pointers are block numbers (not a fast symlink's target or a
    /// device number).
    pub fn has_block_map(&self) -> bool {
        match self.file_type() {
            Some(FileType::Regular) | Some(FileType::Directory) => true,
            Some(FileType::Symlink) => self.size as usize >= FAST_SYMLINK_MAX,
            _ => false,
        }
    }

    /// The device number of a device node ([`makedev`] encoding).
    pub fn rdev(&self) -> u64 {
        if self.block[0] != 0 {
            let b = self.block[0];
            makedev((b >> 8) & 0xff, b & 0xff)
        } else {
            let b = self.block[1];
            makedev((b & 0xfff00) >> 8, (b & 0xff) | ((b >> 12) & 0xfff00))
        }
    }

    /// Stores a device number the way Linux does (old 16-bit encoding when it fits).
    pub fn set_rdev(&mut self, dev: u64) {
        let (ma, mi) = (major(dev), minor(dev));
        self.block = [0; N_BLOCKS];
        if ma < 256 && mi < 256 {
            self.block[0] = (ma << 8) | mi;
        } else {
            self.block[1] = (mi & 0xff) | (ma << 8) | ((mi & !0xff) << 12);
        }
    }

    /// The target bytes of a fast symlink.
    pub fn fast_symlink(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(FAST_SYMLINK_MAX);
        for b in &self.block {
            v.extend_from_slice(&b.to_le_bytes());
        }
        v.truncate(self.size as usize);
        v
    }

    /// Stores a fast symlink's target (shorter than [`FAST_SYMLINK_MAX`]).
    pub fn set_fast_symlink(&mut self, target: &[u8]) {
        let mut buf = [0u8; FAST_SYMLINK_MAX];
        buf[..target.len()].copy_from_slice(target);
        for (i, b) in self.block.iter_mut().enumerate() {
            *b = get32(&buf, 4 * i);
        }
        self.size = target.len() as u64;
    }
}

/// The directory entry file type code of a file type (FILETYPE feature).
pub fn dirent_type(t: FileType) -> u8 {
    match t {
        FileType::Regular => 1,
        FileType::Directory => 2,
        FileType::CharDevice => 3,
        FileType::BlockDevice => 4,
        FileType::Fifo => 5,
        FileType::Socket => 6,
        FileType::Symlink => 7,
    }
}

/// The file type of a directory entry type code (None for 0/unknown).
pub fn from_dirent_type(t: u8) -> Option<FileType> {
    Some(match t {
        1 => FileType::Regular,
        2 => FileType::Directory,
        3 => FileType::CharDevice,
        4 => FileType::BlockDevice,
        5 => FileType::Fifo,
        6 => FileType::Socket,
        7 => FileType::Symlink,
        _ => return None,
    })
}
