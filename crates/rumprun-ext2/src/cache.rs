//! The block cache every structure of a mounted file system goes through: file system
//! blocks kept in memory by block number, write-back (changes stay in memory, marked
//! dirty, until [`BlockCache::sync`] or eviction), bounded (at most `capacity` blocks;
//! when full the least recently used quarter is evicted, dirty blocks written first).
//! `sync` writes every dirty block in block order and then flushes the device.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use rumprun_vfs::{BlockDevice, Errno, VfsResult, SECTOR_SIZE};

struct Entry {
    data: Vec<u8>,
    dirty: bool,
    used: u64,
}

/// A write-back cache of file system blocks (see the module documentation).
pub struct BlockCache {
    dev: Arc<dyn BlockDevice>,
    block_size: usize,
    capacity: usize,
    blocks: BTreeMap<u64, Entry>,
    tick: u64,
}

impl BlockCache {
    /// A cache of `block_size`-byte blocks of `dev` holding up to `capacity` blocks.
    pub fn new(dev: Arc<dyn BlockDevice>, block_size: usize, capacity: usize) -> BlockCache {
        BlockCache {
            dev,
            block_size,
            capacity: capacity.max(16),
            blocks: BTreeMap::new(),
            tick: 0,
        }
    }

    fn sector(&self, blk: u64) -> u64 {
        blk * (self.block_size / SECTOR_SIZE) as u64
    }

    fn make_room(&mut self) -> VfsResult<()> {
        if self.blocks.len() < self.capacity {
            return Ok(());
        }
        let mut by_age: Vec<(u64, u64)> = self.blocks.iter().map(|(&b, e)| (e.used, b)).collect();
        by_age.sort_unstable();
        let mut victims: Vec<u64> = by_age[..self.capacity / 4]
            .iter()
            .map(|&(_, b)| b)
            .collect();
        victims.sort_unstable();
        for b in victims {
            let sector = self.sector(b);
            let e = self.blocks.get_mut(&b).expect("listed above");
            if e.dirty {
                self.dev.write(sector, &e.data)?;
                e.dirty = false;
            }
            self.blocks.remove(&b);
        }
        Ok(())
    }

    fn entry(&mut self, blk: u64, zero: bool) -> VfsResult<&mut Entry> {
        self.tick += 1;
        let tick = self.tick;
        if !self.blocks.contains_key(&blk) {
            self.make_room()?;
            let mut data = vec![0u8; self.block_size];
            if !zero {
                self.dev.read(self.sector(blk), &mut data)?;
            }
            self.blocks.insert(
                blk,
                Entry {
                    data,
                    dirty: false,
                    used: tick,
                },
            );
        }
        let e = self.blocks.get_mut(&blk).ok_or(Errno::EIO)?;
        e.used = tick;
        Ok(e)
    }

    /// The contents of block `blk`.
    pub fn get(&mut self, blk: u64) -> VfsResult<&[u8]> {
        Ok(&self.entry(blk, false)?.data)
    }

    /// The contents of block `blk` for changing (marked dirty).
    pub fn get_mut(&mut self, blk: u64) -> VfsResult<&mut [u8]> {
        let e = self.entry(blk, false)?;
        e.dirty = true;
        Ok(&mut e.data)
    }

    /// Block `blk` set to zeros without reading it (a newly allocated block), marked
    /// dirty, for filling in.
    pub fn zeroed(&mut self, blk: u64) -> VfsResult<&mut [u8]> {
        let e = self.entry(blk, true)?;
        e.data.fill(0);
        e.dirty = true;
        Ok(&mut e.data)
    }

    /// Drops block `blk` from the cache without writing it (it was freed).
    pub fn forget(&mut self, blk: u64) {
        self.blocks.remove(&blk);
    }

    /// Writes every dirty block, then flushes the device.
    pub fn sync(&mut self) -> VfsResult<()> {
        let mut dirty: Vec<u64> = Vec::new();
        for (&b, e) in &self.blocks {
            if e.dirty {
                dirty.push(b);
            }
        }
        for b in dirty {
            let sector = self.sector(b);
            let e = self.blocks.get_mut(&b).expect("listed above");
            self.dev.write(sector, &e.data)?;
            e.dirty = false;
        }
        self.dev.flush()
    }

    /// Number of dirty blocks.
    pub fn dirty_blocks(&self) -> usize {
        self.blocks.values().filter(|e| e.dirty).count()
    }
}
