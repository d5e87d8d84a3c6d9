//! The ext2 superblock: the 1024 bytes at byte offset 1024 of the device that describe
//! the whole file system (sizes, counts, revision, feature flags), parsed into
//! [`Superblock`], checked against what this crate supports ([`Superblock::check`]),
//! and written back with the fields this crate changes (free counts, state, features,
//! write time). Unknown fields are kept as they were (the raw bytes are kept).

use alloc::boxed::Box;

use crate::le::{get16, get32, put16, put32};

/// Byte offset of the superblock on the device.
pub const SUPERBLOCK_OFFSET: u64 = 1024;
/// Size of the superblock.
pub const SUPERBLOCK_SIZE: usize = 1024;
/// `s_magic` of ext2/3/4.
pub const EXT2_MAGIC: u16 = 0xEF53;
/// `s_state`: cleanly unmounted.
pub const STATE_VALID: u16 = 1;

/// `s_feature_compat`: has a journal (ext3); harmless without recovery.
pub const COMPAT_HAS_JOURNAL: u32 = 0x4;
/// `s_feature_incompat`: directory entries carry the file type.
pub const INCOMPAT_FILETYPE: u32 = 0x2;
/// `s_feature_ro_compat`: backup superblocks only in groups 0, 1 and powers of 3, 5, 7.
pub const RO_COMPAT_SPARSE_SUPER: u32 = 0x1;
/// `s_feature_ro_compat`: files may be 2 GiB or larger (`i_size_high`).
pub const RO_COMPAT_LARGE_FILE: u32 = 0x2;
/// `s_feature_ro_compat`: directories may have more than 65000 subdirectories.
pub const RO_COMPAT_DIR_NLINK: u32 = 0x20;
/// `s_feature_ro_compat`: large inodes reserve `i_extra_isize` bytes.
pub const RO_COMPAT_EXTRA_ISIZE: u32 = 0x40;
/// The read-only-compatible features this crate writes correctly.
pub const RO_COMPAT_SUPPORTED: u32 =
    RO_COMPAT_SPARSE_SUPER | RO_COMPAT_LARGE_FILE | RO_COMPAT_DIR_NLINK | RO_COMPAT_EXTRA_ISIZE;

/// Incompatible features and the message given when refusing them, in bit order (the
/// first one present is named).
const INCOMPAT_REFUSED: &[(u32, &str)] = &[
    (0x1, "unsupported ext2 feature: compression"),
    (
        0x4,
        "unsupported ext2 feature: needs_recovery (the ext3/ext4 journal must be replayed; run e2fsck)",
    ),
    (0x8, "unsupported ext2 feature: journal_dev (external journal device)"),
    (0x10, "unsupported ext2 feature: meta_bg"),
    (0x40, "unsupported ext2 feature: extents (ext4 extent trees)"),
    (0x80, "unsupported ext2 feature: 64bit (ext4 64-bit block numbers)"),
    (0x100, "unsupported ext2 feature: mmp (multiple mount protection)"),
    (0x200, "unsupported ext2 feature: flex_bg (ext4 flexible block groups)"),
    (0x400, "unsupported ext2 feature: ea_inode"),
    (0x1000, "unsupported ext2 feature: dirdata"),
    (0x2000, "unsupported ext2 feature: metadata_csum_seed"),
    (0x4000, "unsupported ext2 feature: large_dir"),
    (0x8000, "unsupported ext2 feature: inline_data"),
    (0x10000, "unsupported ext2 feature: encrypt"),
    (0x20000, "unsupported ext2 feature: casefold"),
];

/// Read-only-compatible features we cannot write, and why the mount is read-only.
const RO_COMPAT_READ_ONLY: &[(u32, &str)] = &[
    (
        0x8,
        "read-only: ro_compat feature huge_file is not supported for writing",
    ),
    (
        0x10,
        "read-only: ro_compat feature uninit_bg (gdt_csum) is not supported for writing",
    ),
    (
        0x80,
        "read-only: ro_compat feature has_snapshot is not supported for writing",
    ),
    (
        0x100,
        "read-only: ro_compat feature quota is not supported for writing",
    ),
    (
        0x200,
        "read-only: ro_compat feature bigalloc is not supported for writing",
    ),
    (
        0x400,
        "read-only: ro_compat feature metadata_csum is not supported for writing",
    ),
    (
        0x800,
        "read-only: ro_compat feature replica is not supported for writing",
    ),
    (0x1000, "read-only: ro_compat feature read-only is set"),
    (
        0x2000,
        "read-only: ro_compat feature project is not supported for writing",
    ),
    (
        0x8000,
        "read-only: ro_compat feature verity is not supported for writing",
    ),
];

/// The parsed superblock (the fields this crate uses) plus its raw bytes.
#[derive(Clone)]
pub struct Superblock {
    raw: Box<[u8]>,
    /// Total inodes.
    pub inodes_count: u32,
    /// Total blocks.
    pub blocks_count: u32,
    /// Blocks reserved for root.
    pub r_blocks_count: u32,
    /// Free blocks.
    pub free_blocks: u32,
    /// Free inodes.
    pub free_inodes: u32,
    /// Block number of the first data block (1 with 1 KiB blocks, else 0).
    pub first_data_block: u32,
    /// Block size is `1024 << log_block_size`.
    pub log_block_size: u32,
    /// Blocks per group.
    pub blocks_per_group: u32,
    /// Inodes per group.
    pub inodes_per_group: u32,
    /// State (`STATE_VALID` when clean).
    pub state: u16,
    /// Revision (0 = original, 1 = dynamic).
    pub rev_level: u32,
    /// First non-reserved inode.
    pub first_ino: u32,
    /// Size of an on-disk inode.
    pub inode_size: u16,
    /// Compatible features.
    pub feature_compat: u32,
    /// Incompatible features.
    pub feature_incompat: u32,
    /// Read-only-compatible features.
    pub feature_ro_compat: u32,
    /// Reserved GDT blocks after the group descriptors (resize_inode).
    pub reserved_gdt_blocks: u16,
    /// Last write time.
    pub wtime: u32,
}

impl Superblock {
    /// Parses the 1024 superblock bytes; Err with a reason if it is not a sane ext2
    /// superblock (features are checked separately by [`Superblock::check`]).
    pub fn parse(raw: &[u8]) -> Result<Superblock, &'static str> {
        if raw.len() < SUPERBLOCK_SIZE || get16(raw, 56) != EXT2_MAGIC {
            return Err("not an ext2/3/4 file system (bad superblock magic)");
        }
        let rev_level = get32(raw, 76);
        let (first_ino, inode_size) = if rev_level == 0 {
            (11, 128)
        } else {
            (get32(raw, 84), get16(raw, 88))
        };
        let sb = Superblock {
            raw: raw[..SUPERBLOCK_SIZE].into(),
            inodes_count: get32(raw, 0),
            blocks_count: get32(raw, 4),
            r_blocks_count: get32(raw, 8),
            free_blocks: get32(raw, 12),
            free_inodes: get32(raw, 16),
            first_data_block: get32(raw, 20),
            log_block_size: get32(raw, 24),
            blocks_per_group: get32(raw, 32),
            inodes_per_group: get32(raw, 40),
            state: get16(raw, 58),
            rev_level,
            first_ino,
            inode_size,
            feature_compat: if rev_level == 0 { 0 } else { get32(raw, 92) },
            feature_incompat: if rev_level == 0 { 0 } else { get32(raw, 96) },
            feature_ro_compat: if rev_level == 0 { 0 } else { get32(raw, 100) },
            reserved_gdt_blocks: get16(raw, 206),
            wtime: get32(raw, 48),
        };
        if rev_level > 1 {
            return Err("unsupported ext2 revision (newer than 1)");
        }
        if sb.log_block_size > 2 {
            return Err("unsupported block size (only 1, 2 and 4 KiB)");
        }
        if inode_size != 128 && inode_size != 256 {
            return Err("unsupported inode size (only 128 and 256 bytes)");
        }
        let bs = sb.block_size();
        if sb.blocks_per_group == 0
            || sb.blocks_per_group > 8 * bs as u32
            || sb.inodes_per_group == 0
            || sb.inodes_per_group > 8 * bs as u32
            || sb.first_ino < 11
            || sb.first_data_block != u32::from(bs == 1024)
            || sb.blocks_count <= sb.first_data_block
        {
            return Err("corrupt ext2 superblock (bad geometry)");
        }
        if sb.groups() as u64 * sb.inodes_per_group as u64 != sb.inodes_count as u64 {
            return Err("corrupt ext2 superblock (inode count does not match the groups)");
        }
        Ok(sb)
    }

    /// Checks the feature flags: Err(reason) if this crate cannot use the file system at
    /// all, Ok(Some(reason)) if it may only read it, Ok(None) if it may write it.
    pub fn check(&self) -> Result<Option<&'static str>, &'static str> {
        for &(bit, msg) in INCOMPAT_REFUSED {
            if self.feature_incompat & bit != 0 {
                return Err(msg);
            }
        }
        if self.feature_incompat & !INCOMPAT_FILETYPE != 0 {
            return Err("unsupported ext2 feature: unknown incompatible feature");
        }
        for &(bit, msg) in RO_COMPAT_READ_ONLY {
            if self.feature_ro_compat & bit != 0 {
                return Ok(Some(msg));
            }
        }
        if self.feature_ro_compat & !RO_COMPAT_SUPPORTED != 0 {
            return Ok(Some("read-only: unknown ro_compat feature"));
        }
        Ok(None)
    }

    /// Block size in bytes.
    pub fn block_size(&self) -> usize {
        1024 << self.log_block_size
    }

    /// Number of block groups.
    pub fn groups(&self) -> u32 {
        (self.blocks_count - self.first_data_block).div_ceil(self.blocks_per_group)
    }

    /// Whether directory entries carry a file type.
    pub fn has_filetype(&self) -> bool {
        self.feature_incompat & INCOMPAT_FILETYPE != 0
    }

    /// Whether group `g` holds a backup of the superblock and descriptors.
    pub fn group_has_super(&self, g: u32) -> bool {
        if g <= 1 || self.feature_ro_compat & RO_COMPAT_SPARSE_SUPER == 0 {
            return true;
        }
        [3u32, 5, 7].iter().any(|&b| {
            let mut p = b;
            while p < g {
                p *= b;
            }
            p == g
        })
    }

    /// Blocks holding the group descriptor table.
    pub fn gdt_blocks(&self) -> u32 {
        (self.groups() * 32).div_ceil(self.block_size() as u32)
    }

    /// Blocks of one group's inode table.
    pub fn inode_table_blocks(&self) -> u32 {
        (self.inodes_per_group * self.inode_size as u32).div_ceil(self.block_size() as u32)
    }

    /// Writes the superblock (with the current values of the fields this crate
    /// changes) into `out` (1024 bytes).
    pub fn serialize(&mut self, out: &mut [u8]) {
        let raw = &mut self.raw;
        put32(raw, 12, self.free_blocks);
        put32(raw, 16, self.free_inodes);
        put32(raw, 48, self.wtime);
        put16(raw, 58, self.state);
        if self.rev_level >= 1 {
            put32(raw, 100, self.feature_ro_compat);
        }
        out[..SUPERBLOCK_SIZE].copy_from_slice(raw);
    }

    /// The volume label (up to 16 bytes, NUL-trimmed).
    pub fn volume_name(&self) -> &[u8] {
        let v = &self.raw[120..136];
        let n = v.iter().position(|&c| c == 0).unwrap_or(16);
        &v[..n]
    }

    /// The file system UUID.
    pub fn uuid(&self) -> [u8; 16] {
        self.raw[104..120].try_into().expect("16 bytes")
    }
}
