//! Block and inode allocation with the on-disk bitmaps: first fit, starting in a goal
//! group (the group of the inode a block is for, the parent's group for a new inode)
//! and wrapping around. Every allocation and free keeps the bitmap, the group's free
//! counts (and directory count) and the superblock's free counts in step. Per group,
//! a hint remembers below which bit every block is in use, so a first-fit search
//! starts there (filling a disk is not quadratic).

use rumprun_vfs::{Errno, VfsResult};

use crate::fs::Inner;

/// Index of the first clear bit among the first `n` bits of `bitmap`, looking from
/// bit `from` on (every bit below it is known to be set).
fn first_clear(bitmap: &[u8], from: usize, n: usize) -> Option<usize> {
    for (i, &byte) in bitmap.iter().enumerate().skip(from / 8) {
        if i * 8 >= n {
            break;
        }
        if byte != 0xff {
            let bit = i * 8 + (!byte).trailing_zeros() as usize;
            return (bit < n).then_some(bit);
        }
    }
    None
}

impl Inner {
    /// The group inode `ino` belongs to.
    pub(crate) fn group_of_ino(&self, ino: u32) -> u32 {
        (ino - 1) / self.sb.inodes_per_group
    }

    /// Number of blocks in group `g` (the last group may be short).
    fn blocks_in_group(&self, g: u32) -> u32 {
        let start = g * self.sb.blocks_per_group;
        (self.sb.blocks_count - self.sb.first_data_block - start).min(self.sb.blocks_per_group)
    }

    /// Allocates a block, preferring group `goal`. ENOSPC when none is free. The
    /// block's contents are whatever was there: callers zero or fill it.
    pub(crate) fn alloc_block(&mut self, goal: u32) -> VfsResult<u32> {
        if self.sb.free_blocks == 0 {
            return Err(Errno::ENOSPC);
        }
        let groups = self.sb.groups();
        for i in 0..groups {
            let g = (goal % groups + i) % groups;
            if self.groups[g as usize].free_blocks == 0 {
                continue;
            }
            let n = self.blocks_in_group(g) as usize;
            let bm = self.groups[g as usize].block_bitmap as u64;
            let from = self.block_hint[g as usize] as usize;
            let Some(bit) = first_clear(self.cache.get(bm)?, from, n) else {
                continue;
            };
            self.cache.get_mut(bm)?[bit / 8] |= 1 << (bit % 8);
            self.block_hint[g as usize] = bit as u32 + 1;
            self.groups[g as usize].free_blocks -= 1;
            self.sb.free_blocks -= 1;
            return Ok(self.sb.first_data_block + g * self.sb.blocks_per_group + bit as u32);
        }
        Err(Errno::ENOSPC)
    }

    /// Frees block `blk` (and drops it from the cache).
    pub(crate) fn free_block(&mut self, blk: u32) -> VfsResult<()> {
        if blk < self.sb.first_data_block || blk >= self.sb.blocks_count {
            return Err(Errno::EIO);
        }
        let rel = blk - self.sb.first_data_block;
        let (g, bit) = (
            rel / self.sb.blocks_per_group,
            (rel % self.sb.blocks_per_group) as usize,
        );
        let bm = self.groups[g as usize].block_bitmap as u64;
        let byte = &mut self.cache.get_mut(bm)?[bit / 8];
        if *byte & (1 << (bit % 8)) == 0 {
            return Err(Errno::EIO); // double free: the file system is corrupt
        }
        *byte &= !(1 << (bit % 8));
        let hint = &mut self.block_hint[g as usize];
        *hint = (*hint).min(bit as u32);
        self.groups[g as usize].free_blocks += 1;
        self.sb.free_blocks += 1;
        self.cache.forget(blk as u64);
        Ok(())
    }

    /// Allocates an inode number, preferring group `goal`; `dir` counts it as a
    /// directory in its group.
    pub(crate) fn alloc_inode(&mut self, goal: u32, dir: bool) -> VfsResult<u32> {
        if self.sb.free_inodes == 0 {
            return Err(Errno::ENOSPC);
        }
        let groups = self.sb.groups();
        let ipg = self.sb.inodes_per_group;
        for i in 0..groups {
            let g = (goal % groups + i) % groups;
            if self.groups[g as usize].free_inodes == 0 {
                continue;
            }
            let bm = self.groups[g as usize].inode_bitmap as u64;
            // Group 0 starts with the reserved inodes (below first_ino).
            let start = if g == 0 {
                self.sb.first_ino as usize - 1
            } else {
                0
            };
            let bitmap = self.cache.get(bm)?;
            let mut found = None;
            let mut bit = start;
            while bit < ipg as usize {
                let byte = bitmap[bit / 8];
                if byte == 0xff && bit % 8 == 0 {
                    bit += 8;
                } else if byte & (1 << (bit % 8)) == 0 {
                    found = Some(bit);
                    break;
                } else {
                    bit += 1;
                }
            }
            let Some(bit) = found else {
                continue;
            };
            self.cache.get_mut(bm)?[bit / 8] |= 1 << (bit % 8);
            let gd = &mut self.groups[g as usize];
            gd.free_inodes -= 1;
            if dir {
                gd.used_dirs += 1;
            }
            self.sb.free_inodes -= 1;
            return Ok(g * ipg + bit as u32 + 1);
        }
        Err(Errno::ENOSPC)
    }

    /// Frees inode number `ino` in the bitmap and counts.
    pub(crate) fn free_inode_bit(&mut self, ino: u32, dir: bool) -> VfsResult<()> {
        let g = self.group_of_ino(ino);
        let bit = ((ino - 1) % self.sb.inodes_per_group) as usize;
        let bm = self.groups[g as usize].inode_bitmap as u64;
        let byte = &mut self.cache.get_mut(bm)?[bit / 8];
        if *byte & (1 << (bit % 8)) == 0 {
            return Err(Errno::EIO);
        }
        *byte &= !(1 << (bit % 8));
        let gd = &mut self.groups[g as usize];
        gd.free_inodes += 1;
        if dir {
            gd.used_dirs = gd.used_dirs.saturating_sub(1);
        }
        self.sb.free_inodes += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::first_clear;

    #[test]
    fn first_clear_bits() {
        assert_eq!(first_clear(&[0xff, 0x0f], 0, 16), Some(12));
        assert_eq!(first_clear(&[0xff, 0xff], 0, 16), None);
        assert_eq!(first_clear(&[0xff, 0x0f], 0, 12), None);
        assert_eq!(first_clear(&[0x01], 0, 8), Some(1));
        assert_eq!(first_clear(&[0xff, 0x0f], 8, 16), Some(12));
        assert_eq!(first_clear(&[0xff, 0xff, 0x00], 9, 24), Some(16));
    }
}
