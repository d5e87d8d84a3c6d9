//! The block cache every structure of a mounted file system goes through: file system
//! blocks kept in memory by block number, write-back (changes stay in memory, marked
//! dirty, until [`BlockCache::sync`] or eviction), bounded (at most `capacity` blocks;
//! when full the least recently used quarter is evicted, dirty blocks written first).
//! `sync` writes every dirty block in block order and then flushes the device.
//! Dirty blocks with consecutive numbers go to the device as one write, and
//! [`BlockCache::read_ahead`] reads a run of blocks with one request: a disk request
//! costs far more than the bytes it moves.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use rumprun_vfs::{BlockDevice, Errno, VfsResult, SECTOR_SIZE};

/// The most one device request moves (writes of consecutive dirty blocks, read-ahead).
pub const MAX_RUN_BYTES: usize = 128 * 1024;

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

    /// Evicts the least recently used quarter (dirty ones written first) when fewer
    /// than `n` blocks are free.
    fn make_room(&mut self, n: usize) -> VfsResult<()> {
        if self.blocks.len() + n <= self.capacity {
            return Ok(());
        }
        let mut by_age: Vec<(u64, u64)> = self.blocks.iter().map(|(&b, e)| (e.used, b)).collect();
        by_age.sort_unstable();
        let evict = (self.capacity / 4).max(self.blocks.len() + n - self.capacity);
        let mut victims: Vec<u64> = by_age[..evict.min(by_age.len())]
            .iter()
            .map(|&(_, b)| b)
            .collect();
        victims.sort_unstable();
        let dirty: Vec<u64> = victims
            .iter()
            .copied()
            .filter(|b| self.blocks[b].dirty)
            .collect();
        self.write_back(&dirty)?;
        for b in victims {
            self.blocks.remove(&b);
        }
        Ok(())
    }

    /// Writes the cached blocks `blks` (sorted, all dirty) and marks them clean; each
    /// run of consecutive block numbers (up to [`MAX_RUN_BYTES`]) is one device write.
    fn write_back(&mut self, blks: &[u64]) -> VfsResult<()> {
        let max_run = (MAX_RUN_BYTES / self.block_size).max(1);
        let mut run: Vec<u8> = Vec::new();
        for group in blks.chunk_by(|a, b| a + 1 == *b) {
            for part in group.chunks(max_run) {
                run.clear();
                for b in part {
                    run.extend_from_slice(&self.blocks[b].data);
                }
                self.dev.write(self.sector(part[0]), &run)?;
                for b in part {
                    self.blocks.get_mut(b).expect("listed by the caller").dirty = false;
                }
            }
        }
        Ok(())
    }

    /// Whether block `blk` is in the cache.
    pub fn contains(&self, blk: u64) -> bool {
        self.blocks.contains_key(&blk)
    }

    /// Reads blocks `first..first + count` (none of them cached) into the cache with
    /// one device request, for a reader about to need them.
    pub fn read_ahead(&mut self, first: u64, count: usize) -> VfsResult<()> {
        let count = count
            .min(MAX_RUN_BYTES / self.block_size)
            .min(self.capacity / 4);
        if count == 0 {
            return Ok(());
        }
        self.make_room(count)?;
        let mut data = vec![0u8; count * self.block_size];
        self.dev.read(self.sector(first), &mut data)?;
        self.tick += 1;
        for (i, block) in data.chunks(self.block_size).enumerate() {
            self.blocks.insert(
                first + i as u64,
                Entry {
                    data: block.to_vec(),
                    dirty: false,
                    used: self.tick,
                },
            );
        }
        Ok(())
    }

    fn entry(&mut self, blk: u64, zero: bool) -> VfsResult<&mut Entry> {
        self.tick += 1;
        let tick = self.tick;
        if !self.blocks.contains_key(&blk) {
            self.make_room(1)?;
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
        let dirty: Vec<u64> = self
            .blocks
            .iter()
            .filter(|(_, e)| e.dirty)
            .map(|(&b, _)| b)
            .collect();
        self.write_back(&dirty)?;
        self.dev.flush()
    }

    /// Number of dirty blocks.
    pub fn dirty_blocks(&self) -> usize {
        self.blocks.values().filter(|e| e.dirty).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::sync::atomic::{AtomicUsize, Ordering};
    use rumprun_vfs::MemDisk;

    /// A MemDisk that counts requests.
    struct Counting {
        disk: MemDisk,
        reads: AtomicUsize,
        writes: AtomicUsize,
    }

    impl BlockDevice for Counting {
        fn sectors(&self) -> u64 {
            self.disk.sectors()
        }
        fn read_only(&self) -> bool {
            false
        }
        fn read(&self, sector: u64, buf: &mut [u8]) -> VfsResult<()> {
            self.reads.fetch_add(1, Ordering::Relaxed);
            self.disk.read(sector, buf)
        }
        fn write(&self, sector: u64, buf: &[u8]) -> VfsResult<()> {
            self.writes.fetch_add(1, Ordering::Relaxed);
            self.disk.write(sector, buf)
        }
        fn flush(&self) -> VfsResult<()> {
            Ok(())
        }
    }

    fn counting(blocks: usize) -> Arc<Counting> {
        let data: Vec<u8> = (0..blocks * 1024).map(|i| (i / 1024) as u8).collect();
        Arc::new(Counting {
            disk: MemDisk::new(data, false),
            reads: AtomicUsize::new(0),
            writes: AtomicUsize::new(0),
        })
    }

    #[test]
    fn consecutive_dirty_blocks_are_one_write_each_run() {
        let dev = counting(512);
        let mut c = BlockCache::new(dev.clone(), 1024, 1024);
        // runs: 10..20 (10 blocks), 30, 200..400 (200 blocks: two writes of 128 KiB max)
        for b in (10..20).chain([30]).chain(200..400) {
            c.zeroed(b).unwrap()[0] = b as u8 ^ 0x55;
        }
        c.sync().unwrap();
        assert_eq!(dev.writes.load(Ordering::Relaxed), 1 + 1 + 2);
        let mut back = vec![0u8; 1024];
        for b in (10..20).chain([30]).chain(200..400) {
            dev.disk.read(b * 2, &mut back).unwrap();
            assert_eq!(back[0], b as u8 ^ 0x55, "block {b}");
            assert!(back[1..].iter().all(|&x| x == 0));
        }
        assert_eq!(c.dirty_blocks(), 0);
    }

    #[test]
    fn eviction_writes_dirty_runs_and_keeps_the_data() {
        let dev = counting(512);
        let mut c = BlockCache::new(dev.clone(), 1024, 64);
        for b in 0..300u64 {
            c.get_mut(b).unwrap()[5] = 0xee;
        }
        // 300 single-block reads; evictions wrote runs of 16 blocks, not 1-block writes
        assert!(dev.writes.load(Ordering::Relaxed) < 30, "{:?}", dev.writes);
        c.sync().unwrap();
        for b in 0..300u64 {
            let d = c.get(b).unwrap();
            assert_eq!((d[0], d[5]), (b as u8, 0xee), "block {b}");
        }
    }

    #[test]
    fn read_ahead_is_one_request() {
        let dev = counting(512);
        let mut c = BlockCache::new(dev.clone(), 1024, 1024);
        c.read_ahead(100, 50).unwrap();
        assert_eq!(dev.reads.load(Ordering::Relaxed), 1);
        for b in 100..150u64 {
            assert!(c.contains(b));
            assert_eq!(c.get(b).unwrap()[0], b as u8);
        }
        assert_eq!(dev.reads.load(Ordering::Relaxed), 1);
        assert!(!c.contains(150));
    }
}
