//! Block group descriptors: the 32-byte records (one per group, in the blocks after
//! the superblock) that locate each group's block bitmap, inode bitmap and inode table
//! and count its free blocks, free inodes and directories.

use crate::le::{get16, get32, put16, put32};

/// Size of one descriptor (ext2 without the 64bit feature).
pub const DESC_SIZE: usize = 32;

/// One group descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupDesc {
    /// Block of the block bitmap.
    pub block_bitmap: u32,
    /// Block of the inode bitmap.
    pub inode_bitmap: u32,
    /// First block of the inode table.
    pub inode_table: u32,
    /// Free blocks in the group.
    pub free_blocks: u16,
    /// Free inodes in the group.
    pub free_inodes: u16,
    /// Directories in the group.
    pub used_dirs: u16,
}

impl GroupDesc {
    /// Parses the descriptor at the start of `b`.
    pub fn parse(b: &[u8]) -> GroupDesc {
        GroupDesc {
            block_bitmap: get32(b, 0),
            inode_bitmap: get32(b, 4),
            inode_table: get32(b, 8),
            free_blocks: get16(b, 12),
            free_inodes: get16(b, 14),
            used_dirs: get16(b, 16),
        }
    }

    /// Writes the counts back into the descriptor at the start of `b` (the block
    /// locations never change).
    pub fn serialize(&self, b: &mut [u8]) {
        put32(b, 0, self.block_bitmap);
        put32(b, 4, self.inode_bitmap);
        put32(b, 8, self.inode_table);
        put16(b, 12, self.free_blocks);
        put16(b, 14, self.free_inodes);
        put16(b, 16, self.used_dirs);
    }
}
