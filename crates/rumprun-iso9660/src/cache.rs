//! Reading 2048-byte logical blocks from a 512-byte-sector [`BlockDevice`], through a
//! small cache. Directory blocks, continuation areas and the edges of file reads go
//! through the cache (a handful of recently used blocks, least recently used evicted);
//! the whole blocks in the middle of a large file read go straight from the device into
//! the caller's buffer.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;

use rumprun_vfs::SleepLock;
use rumprun_vfs::{BlockDevice, Errno, VfsResult, SECTOR_SIZE};

/// Size of an ISO 9660 logical block (the only one this crate supports).
pub const BLOCK_SIZE: usize = 2048;

/// Sectors per logical block.
const SECTORS: u64 = (BLOCK_SIZE / SECTOR_SIZE) as u64;

/// How many blocks the cache keeps.
const CACHE_BLOCKS: usize = 32;

/// One cached block and when it was last used.
struct Slot {
    lba: u64,
    used: u64,
    data: Box<[u8; BLOCK_SIZE]>,
}

/// A block device read in logical blocks, with a small LRU cache.
pub struct BlockReader {
    dev: Arc<dyn BlockDevice>,
    blocks: u64,
    /// Held across device reads: a [`SleepLock`].
    cache: SleepLock<(u64, Vec<Slot>)>,
}

impl BlockReader {
    /// Reads `dev` in 2048-byte blocks.
    pub fn new(dev: Arc<dyn BlockDevice>) -> BlockReader {
        let blocks = dev.sectors() / SECTORS;
        BlockReader {
            dev,
            blocks,
            cache: SleepLock::new((0, Vec::new())),
        }
    }

    /// Whole logical blocks on the device.
    pub fn blocks(&self) -> u64 {
        self.blocks
    }

    /// Reads blocks `lba..` into `buf` (a multiple of [`BLOCK_SIZE`]) from the device,
    /// bypassing the cache. EIO past the end of the device.
    pub fn read_direct(&self, lba: u64, buf: &mut [u8]) -> VfsResult<()> {
        let n = (buf.len() / BLOCK_SIZE) as u64;
        if lba.checked_add(n).is_none_or(|end| end > self.blocks) {
            return Err(Errno::EIO);
        }
        self.dev.read(lba * SECTORS, buf).map_err(|_| Errno::EIO)
    }

    /// Calls `f` with the contents of block `lba` (cached).
    pub fn with_block<R>(&self, lba: u64, f: impl FnOnce(&[u8; BLOCK_SIZE]) -> R) -> VfsResult<R> {
        let mut guard = self.cache.lock();
        let (clock, slots) = &mut *guard;
        *clock += 1;
        if let Some(slot) = slots.iter_mut().find(|s| s.lba == lba) {
            slot.used = *clock;
            return Ok(f(&slot.data));
        }
        let mut data = Box::new([0u8; BLOCK_SIZE]);
        self.read_direct(lba, &mut data[..])?;
        let slot = Slot {
            lba,
            used: *clock,
            data,
        };
        let idx = if slots.len() < CACHE_BLOCKS {
            slots.push(slot);
            slots.len() - 1
        } else {
            let (i, _) = slots
                .iter()
                .enumerate()
                .min_by_key(|(_, s)| s.used)
                .expect("cache is not empty");
            slots[i] = slot;
            i
        };
        Ok(f(&slots[idx].data))
    }

    /// Reads `buf.len()` bytes at byte `offset` of the device (cached blocks at the
    /// edges, direct reads in between).
    pub fn read_bytes(&self, offset: u64, buf: &mut [u8]) -> VfsResult<()> {
        let bs = BLOCK_SIZE as u64;
        let mut done = 0;
        while done < buf.len() {
            let pos = offset + done as u64;
            let lba = pos / bs;
            let within = (pos % bs) as usize;
            let left = buf.len() - done;
            if within == 0 && left >= BLOCK_SIZE {
                let n = left / BLOCK_SIZE * BLOCK_SIZE;
                // Bounded chunks keep a single device request reasonable.
                let n = n.min(64 * BLOCK_SIZE);
                self.read_direct(lba, &mut buf[done..done + n])?;
                done += n;
            } else {
                let n = left.min(BLOCK_SIZE - within);
                self.with_block(lba, |b| {
                    buf[done..done + n].copy_from_slice(&b[within..within + n])
                })?;
                done += n;
            }
        }
        Ok(())
    }

    /// Reads `len` bytes at byte `offset` into a new vector.
    pub fn read_vec(&self, offset: u64, len: usize) -> VfsResult<Vec<u8>> {
        let mut v = alloc::vec![0u8; len];
        self.read_bytes(offset, &mut v)?;
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rumprun_vfs::MemDisk;

    #[test]
    fn reads_across_blocks_and_evicts() {
        let data: Vec<u8> = (0..BLOCK_SIZE * 40).map(|i| (i / 7) as u8).collect();
        let r = BlockReader::new(Arc::new(MemDisk::new(data.clone(), true)));
        assert_eq!(r.blocks(), 40);
        for &(off, len) in &[(0, 10), (2040, 20), (100, 3 * BLOCK_SIZE), (4096, 8192)] {
            assert_eq!(r.read_vec(off as u64, len).unwrap(), data[off..off + len]);
        }
        for lba in 0..40u64 {
            let b = r.with_block(lba, |b| b[5]).unwrap();
            assert_eq!(b, data[lba as usize * BLOCK_SIZE + 5]);
        }
        assert_eq!(r.read_vec(39 * BLOCK_SIZE as u64, 4096), Err(Errno::EIO));
    }
}
