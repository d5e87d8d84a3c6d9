//! Block mapping: which disk block holds logical block `n` of a file, through the 12
//! direct pointers and the single, double and triple indirect blocks; allocation of
//! missing data and indirect blocks on write (holes stay unallocated and read as
//! zeros); and freeing every block past a new end on truncate, including indirect
//! blocks that no longer map anything. `i_blocks` is kept in step.

use alloc::vec::Vec;
use rumprun_vfs::{Errno, VfsResult};

use crate::fs::Inner;
use crate::inode::{DiskInode, N_BLOCKS, N_DIRECT};
use crate::le::{get32, put32};

impl Inner {
    /// Block pointers per indirect block.
    pub(crate) fn ptrs(&self) -> u64 {
        (self.bs / 4) as u64
    }

    /// Number of logical blocks a file can map.
    pub(crate) fn max_blocks(&self) -> u64 {
        let p = self.ptrs();
        N_DIRECT as u64 + p + p * p + p * p * p
    }

    /// The inode slot, depth and per-level indices of logical block `l`.
    fn path(&self, l: u64) -> VfsResult<(usize, usize, [usize; 3])> {
        let p = self.ptrs();
        if l < N_DIRECT as u64 {
            return Ok((l as usize, 0, [0; 3]));
        }
        let l = l - N_DIRECT as u64;
        if l < p {
            return Ok((12, 1, [l as usize, 0, 0]));
        }
        let l = l - p;
        if l < p * p {
            return Ok((13, 2, [(l / p) as usize, (l % p) as usize, 0]));
        }
        let l = l - p * p;
        if l < p * p * p {
            return Ok((
                14,
                3,
                [
                    (l / (p * p)) as usize,
                    (l / p % p) as usize,
                    (l % p) as usize,
                ],
            ));
        }
        Err(Errno::EFBIG)
    }

    /// The disk block of logical block `l` of `di`, 0 for a hole.
    pub(crate) fn bmap(&mut self, di: &DiskInode, l: u64) -> VfsResult<u32> {
        let (slot, depth, idx) = self.path(l)?;
        let mut b = di.block[slot];
        for &i in &idx[..depth] {
            if b == 0 {
                return Ok(0);
            }
            b = get32(self.cache.get(b as u64)?, 4 * i);
        }
        Ok(b)
    }

    /// The disk block of logical block `l`, allocating it (zeroed, in the cache) and
    /// any missing indirect blocks near group `goal`. Returns the block and whether it
    /// was newly allocated. `di` must be written back by the caller.
    pub(crate) fn bmap_alloc(
        &mut self,
        di: &mut DiskInode,
        l: u64,
        goal: u32,
    ) -> VfsResult<(u32, bool)> {
        let (slot, depth, idx) = self.path(l)?;
        let unit = (self.bs / 512) as u32;
        let mut fresh = false;
        if di.block[slot] == 0 {
            let b = self.alloc_block(goal)?;
            self.cache.zeroed(b as u64)?;
            di.block[slot] = b;
            di.blocks += unit;
            fresh = true;
        }
        let mut b = di.block[slot];
        for &i in &idx[..depth] {
            let next = get32(self.cache.get(b as u64)?, 4 * i);
            if next != 0 {
                b = next;
                fresh = false;
                continue;
            }
            let n = self.alloc_block(goal)?;
            self.cache.zeroed(n as u64)?;
            put32(self.cache.get_mut(b as u64)?, 4 * i, n);
            di.blocks += unit;
            b = n;
            fresh = true;
        }
        Ok((b, fresh))
    }

    fn read_ptrs(&mut self, b: u32) -> VfsResult<Vec<u32>> {
        let data = self.cache.get(b as u64)?;
        Ok((0..data.len() / 4).map(|i| get32(data, 4 * i)).collect())
    }

    /// Frees block `b` and, for `level` > 0, everything it maps; returns the number of
    /// blocks freed.
    fn free_tree(&mut self, b: u32, level: u32) -> VfsResult<u64> {
        let mut n = 0;
        if level > 0 {
            for p in self.read_ptrs(b)? {
                if p != 0 {
                    n += self.free_tree(p, level - 1)?;
                }
            }
        }
        self.free_block(b)?;
        Ok(n + 1)
    }

    /// Frees what indirect block `b` (at `level`, mapping logical blocks from `base`)
    /// maps at or past logical block `keep`. Returns the blocks freed and whether `b`
    /// maps nothing any more.
    fn trunc_indirect(
        &mut self,
        b: u32,
        level: u32,
        base: u64,
        keep: u64,
    ) -> VfsResult<(u64, bool)> {
        let child_span = self.ptrs().pow(level - 1);
        let mut ptrs = self.read_ptrs(b)?;
        let mut freed = 0;
        let mut changed = false;
        for (i, p) in ptrs.iter_mut().enumerate() {
            let cb = base + i as u64 * child_span;
            if *p == 0 || cb + child_span <= keep {
                continue;
            }
            if cb >= keep {
                freed += self.free_tree(*p, level - 1)?;
                *p = 0;
                changed = true;
            } else {
                let (f, empty) = self.trunc_indirect(*p, level - 1, cb, keep)?;
                freed += f;
                if empty {
                    self.free_block(*p)?;
                    freed += 1;
                    *p = 0;
                    changed = true;
                }
            }
        }
        if changed {
            let data = self.cache.get_mut(b as u64)?;
            for (i, p) in ptrs.iter().enumerate() {
                put32(data, 4 * i, *p);
            }
        }
        Ok((freed, ptrs.iter().all(|&p| p == 0)))
    }

    /// Frees every block of `di` mapping logical blocks `keep..` (and the indirect
    /// blocks left empty), updating `i_blocks`. `di` must be written back.
    pub(crate) fn truncate_blocks(&mut self, di: &mut DiskInode, keep: u64) -> VfsResult<()> {
        let p = self.ptrs();
        let mut freed = 0;
        let mut base = 0u64;
        for slot in 0..N_BLOCKS {
            let level = slot.saturating_sub(N_DIRECT - 1) as u32;
            let span = p.pow(level);
            let b = di.block[slot];
            if b != 0 && base + span > keep {
                if base >= keep {
                    freed += self.free_tree(b, level)?;
                    di.block[slot] = 0;
                } else {
                    let (f, empty) = self.trunc_indirect(b, level, base, keep)?;
                    freed += f;
                    if empty {
                        self.free_block(b)?;
                        freed += 1;
                        di.block[slot] = 0;
                    }
                }
            }
            base += span;
        }
        di.blocks = di
            .blocks
            .saturating_sub((freed * (self.bs as u64 / 512)) as u32);
        Ok(())
    }

    /// Frees the data block of logical block `l` (a hole afterwards); indirect blocks
    /// stay (an empty indirect block is valid). `di` must be written back.
    pub(crate) fn unmap_block(&mut self, di: &mut DiskInode, l: u64) -> VfsResult<()> {
        let (slot, depth, idx) = self.path(l)?;
        let unit = (self.bs / 512) as u32;
        if depth == 0 {
            let b = di.block[slot];
            if b != 0 {
                self.free_block(b)?;
                di.block[slot] = 0;
                di.blocks = di.blocks.saturating_sub(unit);
            }
            return Ok(());
        }
        let mut parent = di.block[slot];
        for (level, &i) in idx[..depth].iter().enumerate() {
            if parent == 0 {
                return Ok(());
            }
            let b = get32(self.cache.get(parent as u64)?, 4 * i);
            if level + 1 == depth {
                if b != 0 {
                    self.free_block(b)?;
                    put32(self.cache.get_mut(parent as u64)?, 4 * i, 0);
                    di.blocks = di.blocks.saturating_sub(unit);
                }
                return Ok(());
            }
            parent = b;
        }
        Ok(())
    }
}
