//! File contents and inode lifetime: reading and writing bytes through the block map
//! (holes read as zeros; writes allocate, whole-block writes skip the read), changing
//! the size (growing leaves a hole, shrinking zeroes the tail of the last block and
//! frees the rest), setting the `large_file` feature when a file reaches 2 GiB, and
//! releasing an inode whose last link and last user are gone (blocks, extended
//! attribute block, bitmap bit, `dtime`).

use rumprun_vfs::{Errno, FileType, VfsResult};

use crate::fs::Inner;
use crate::inode::DiskInode;
use crate::le::{get32, put32};
use crate::superblock::RO_COMPAT_LARGE_FILE;

impl Inner {
    /// Reads file bytes at `offset` (up to the size).
    pub(crate) fn read_data(
        &mut self,
        di: &DiskInode,
        offset: u64,
        buf: &mut [u8],
    ) -> VfsResult<usize> {
        if offset >= di.size {
            return Ok(0);
        }
        let n = (buf.len() as u64).min(di.size - offset) as usize;
        let bs = self.bs as u64;
        let mut done = 0;
        while done < n {
            let pos = offset + done as u64;
            let (l, in_blk) = (pos / bs, (pos % bs) as usize);
            let chunk = (self.bs - in_blk).min(n - done);
            let pb = self.bmap(di, l)?;
            if pb != 0 && !self.cache.contains(pb as u64) {
                self.read_run(di, l, pb, (offset + n as u64).div_ceil(bs))?;
            }
            let out = &mut buf[done..done + chunk];
            if pb == 0 {
                out.fill(0);
            } else {
                out.copy_from_slice(&self.cache.get(pb as u64)?[in_blk..in_blk + chunk]);
            }
            done += chunk;
        }
        Ok(n)
    }

    /// Reads logical block `l` (at disk block `pb`, not cached) together with the
    /// following ones up to logical block `end` (exclusive) or `MAX_RUN_BYTES`, as
    /// long as they lie right after it on the disk and are not cached: one request.
    fn read_run(&mut self, di: &DiskInode, l: u64, pb: u32, end: u64) -> VfsResult<()> {
        let max = (crate::cache::MAX_RUN_BYTES / self.bs) as u64;
        let mut count = 1;
        while count < max && l + count < end {
            let next = pb as u64 + count;
            if self.bmap(di, l + count)? as u64 != next || self.cache.contains(next) {
                break;
            }
            count += 1;
        }
        self.cache.read_ahead(pb as u64, count as usize)
    }

    /// Writes file bytes at `offset`, allocating blocks, growing the size. Returns the
    /// bytes written (short on ENOSPC after some progress). `di` must be written back.
    pub(crate) fn write_data(
        &mut self,
        ino: u32,
        di: &mut DiskInode,
        offset: u64,
        buf: &[u8],
    ) -> VfsResult<usize> {
        let bs = self.bs as u64;
        let goal = self.group_of_ino(ino);
        let mut done = 0;
        while done < buf.len() {
            let pos = offset + done as u64;
            let (l, in_blk) = (pos / bs, (pos % bs) as usize);
            let chunk = (self.bs - in_blk).min(buf.len() - done);
            let (pb, fresh) = match self.bmap_alloc(di, l, goal) {
                Ok(r) => r,
                Err(e) if done == 0 => return Err(e),
                Err(_) => break,
            };
            let data = if chunk == self.bs && !fresh {
                self.cache.zeroed(pb as u64)?
            } else {
                self.cache.get_mut(pb as u64)?
            };
            data[in_blk..in_blk + chunk].copy_from_slice(&buf[done..done + chunk]);
            done += chunk;
            di.size = di.size.max(pos + chunk as u64);
        }
        self.note_size(di.size);
        Ok(done)
    }

    /// Sets the `large_file` feature if a file of `size` bytes needs it.
    pub(crate) fn note_size(&mut self, size: u64) {
        if size > i32::MAX as u64 {
            self.sb.feature_ro_compat |= RO_COMPAT_LARGE_FILE;
        }
    }

    /// Truncates or extends (sparsely) to `size`. `di` must be written back.
    pub(crate) fn set_size(&mut self, di: &mut DiskInode, size: u64) -> VfsResult<()> {
        let bs = self.bs as u64;
        if size < di.size {
            let tail = (size % bs) as usize;
            if tail != 0 {
                let pb = self.bmap(di, size / bs)?;
                if pb != 0 {
                    self.cache.get_mut(pb as u64)?[tail..].fill(0);
                }
            }
            self.truncate_blocks(di, size.div_ceil(bs))?;
        }
        di.size = size;
        self.note_size(size);
        Ok(())
    }

    /// Frees inode `ino` (its last link is gone and nobody has it open): its blocks,
    /// its extended attribute block reference, its bitmap bit.
    pub(crate) fn release_inode(&mut self, ino: u32, now: u32) -> VfsResult<()> {
        let mut di = self.read_inode(ino)?;
        if di.has_block_map() {
            self.truncate_blocks(&mut di, 0)?;
            di.size = 0;
        }
        if di.file_acl != 0 {
            let b = di.file_acl;
            let data = self.cache.get_mut(b as u64)?;
            let refs = get32(data, 4);
            if refs > 1 {
                put32(data, 4, refs - 1);
            } else {
                self.free_block(b)?;
            }
            di.file_acl = 0;
            di.blocks = di.blocks.saturating_sub((self.bs / 512) as u32);
        }
        di.links = 0;
        di.dtime = now.max(1);
        let is_dir = di.file_type() == Some(FileType::Directory);
        self.write_inode(ino, &mut di)?;
        self.free_inode_bit(ino, is_dir)
    }

    /// Drops one link of `ino` (whose record is `di`, already changed by the caller
    /// and not yet written): writes it, and frees the inode when no links remain and it
    /// is not open (else it becomes an orphan, freed at the last close).
    pub(crate) fn put_links(&mut self, ino: u32, di: &mut DiskInode, now: u32) -> VfsResult<()> {
        self.write_inode(ino, di)?;
        if di.links == 0 {
            if self.is_open(ino) {
                self.orphans.insert(ino);
            } else {
                self.release_inode(ino, now)?;
            }
        }
        Ok(())
    }

    /// Checks a write end against the largest file size.
    pub(crate) fn check_size(&self, end: Option<u64>, max: u64) -> VfsResult<u64> {
        match end {
            Some(e) if e <= max => Ok(e),
            _ => Err(Errno::EFBIG),
        }
    }

    /// Zeroes bytes `[start, end)` of the file (within its size): partial blocks are
    /// zeroed in place, whole blocks are freed (holes read as zeros).
    pub(crate) fn punch(&mut self, di: &mut DiskInode, start: u64, end: u64) -> VfsResult<()> {
        let bs = self.bs as u64;
        let end = end.min(di.size);
        let mut pos = start;
        while pos < end {
            let l = pos / bs;
            let (a, b) = (pos - l * bs, (end - l * bs).min(bs));
            if a == 0 && b == bs {
                self.unmap_block(di, l)?;
            } else {
                let pb = self.bmap(di, l)?;
                if pb != 0 {
                    self.cache.get_mut(pb as u64)?[a as usize..b as usize].fill(0);
                }
            }
            pos = (l + 1) * bs;
        }
        Ok(())
    }

    /// Allocates (zeroed) the blocks of `[start, end)` that are holes.
    pub(crate) fn allocate_range(
        &mut self,
        ino: u32,
        di: &mut DiskInode,
        start: u64,
        end: u64,
    ) -> VfsResult<()> {
        let bs = self.bs as u64;
        let goal = self.group_of_ino(ino);
        for l in start / bs..end.div_ceil(bs) {
            self.bmap_alloc(di, l, goal)?;
        }
        Ok(())
    }
}
