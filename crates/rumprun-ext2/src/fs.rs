//! The mounted file system: [`Ext2`] (mount, probe, sync, unmount, statfs numbers) and
//! its locked state `Inner` (superblock, group descriptors, block cache, the table of
//! in-memory inodes and the orphan list), with inode record I/O.
//!
//! Locking: one [`SleepLock`] around `Inner` serialises every operation of the file
//! system (simple and deadlock-free; the block device is the bottleneck anyway); it is
//! held across block I/O, during which the kernel runs other threads, so they sleep
//! on it instead of spinning. No
//! code holding the lock ever drops an [`Ext2Inode`] (whose `Drop` takes the lock).
//!
//! Unlinked but open inodes ("orphans") are kept in memory only: their data stays until
//! the last [`rumprun_vfs::InodeRef`] drops, then the inode and its blocks
//! are freed. After a crash such an inode is still allocated on disk with a link count
//! of 0; `e2fsck` releases it (Linux ext2 behaves the same).
//!
//! State flag: a read-write mount marks the superblock "not clean" on disk at once;
//! [`Ext2::unmount`] syncs and marks it clean again. [`Ext2::sync`] leaves it not clean.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::sync::{Arc, Weak};
use alloc::vec;
use alloc::vec::Vec;
use rumprun_vfs::SleepLock;
use rumprun_vfs::{
    BlockDevice, Clock, Errno, FileSystem, InodeRef, StatFs, VfsResult, SECTOR_SIZE,
};

use crate::cache::BlockCache;
use crate::group::{GroupDesc, DESC_SIZE};
use crate::inode::{DiskInode, ROOT_INO};
use crate::node::Ext2Inode;
use crate::superblock::{Superblock, STATE_VALID, SUPERBLOCK_OFFSET, SUPERBLOCK_SIZE};

/// `statfs` magic of ext2/3/4.
pub const EXT2_SUPER_MAGIC: u64 = 0xEF53;
/// Default number of blocks the cache holds.
pub const DEFAULT_CACHE_BLOCKS: usize = 2048;

/// What [`Ext2::probe`] finds in a superblock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ext2Info {
    /// Block size in bytes.
    pub block_size: usize,
    /// Total blocks.
    pub blocks: u32,
    /// Free blocks.
    pub free_blocks: u32,
    /// Total inodes.
    pub inodes: u32,
    /// Free inodes.
    pub free_inodes: u32,
    /// Revision (0 or 1).
    pub rev_level: u32,
    /// Inode size.
    pub inode_size: u16,
    /// Feature flags: compat, incompat, ro_compat.
    pub features: [u32; 3],
    /// Why the file system can only be mounted read-only, if it can.
    pub read_only_reason: Option<&'static str>,
    /// Volume label.
    pub volume_name: Vec<u8>,
}

/// The mutable state of a mounted file system (behind [`Ext2`]'s lock).
pub(crate) struct Inner {
    pub(crate) sb: Superblock,
    pub(crate) groups: Vec<GroupDesc>,
    pub(crate) cache: BlockCache,
    pub(crate) bs: usize,
    pub(crate) read_only: bool,
    /// In-memory inodes by number (one [`Ext2Inode`] per inode at a time).
    pub(crate) open: BTreeMap<u32, Weak<Ext2Inode>>,
    /// Unlinked inodes still open: freed when their [`Ext2Inode`] drops.
    pub(crate) orphans: BTreeSet<u32>,
    /// Orphans made by `create_unnamed` (O_TMPFILE) that `link` may still name.
    pub(crate) linkable: BTreeSet<u32>,
    /// Whether the file system was clean when mounted (unmount only marks it clean
    /// again if it was, like Linux).
    pub(crate) clean_at_mount: bool,
    /// Per group: every block bit below this is set (where first fit starts looking).
    pub(crate) block_hint: Vec<u32>,
}

/// A mounted ext2 file system (see the module documentation).
pub struct Ext2 {
    pub(crate) inner: SleepLock<Inner>,
    pub(crate) dev_id: u64,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) me: Weak<Ext2>,
    dev: Arc<dyn BlockDevice>,
}

fn read_superblock(dev: &dyn BlockDevice) -> VfsResult<Vec<u8>> {
    if dev.sectors() * (SECTOR_SIZE as u64) < SUPERBLOCK_OFFSET + SUPERBLOCK_SIZE as u64 {
        return Err(Errno::EINVAL);
    }
    let mut raw = vec![0u8; SUPERBLOCK_SIZE];
    dev.read(SUPERBLOCK_OFFSET / SECTOR_SIZE as u64, &mut raw)?;
    Ok(raw)
}

impl Ext2 {
    /// Reads the superblock of `dev` and says whether (and how) it can be mounted:
    /// Err with the reason (not ext2, unsupported feature, corrupt) if not.
    pub fn probe(dev: &dyn BlockDevice) -> Result<Ext2Info, &'static str> {
        let raw = read_superblock(dev).map_err(|_| "cannot read the superblock")?;
        let sb = Superblock::parse(&raw)?;
        let mut ro = sb.check()?;
        if (sb.blocks_count as u64) * (sb.block_size() / SECTOR_SIZE) as u64 > dev.sectors() {
            return Err("device is smaller than the file system");
        }
        if ro.is_none() && dev.read_only() {
            ro = Some("read-only: the device is read-only");
        }
        Ok(Ext2Info {
            block_size: sb.block_size(),
            blocks: sb.blocks_count,
            free_blocks: sb.free_blocks,
            inodes: sb.inodes_count,
            free_inodes: sb.free_inodes,
            rev_level: sb.rev_level,
            inode_size: sb.inode_size,
            features: [sb.feature_compat, sb.feature_incompat, sb.feature_ro_compat],
            read_only_reason: ro,
            volume_name: sb.volume_name().to_vec(),
        })
    }

    /// Mounts the ext2 file system on `dev` (EINVAL if [`Ext2::probe`] refuses it; the
    /// mount is read-only if the device is or a feature requires it).
    pub fn mount(
        dev: Arc<dyn BlockDevice>,
        dev_id: u64,
        clock: Arc<dyn Clock>,
    ) -> VfsResult<Arc<Ext2>> {
        Ext2::mount_with(dev, dev_id, clock, DEFAULT_CACHE_BLOCKS)
    }

    /// [`Ext2::mount`] with a cache of `cache_blocks` blocks.
    pub fn mount_with(
        dev: Arc<dyn BlockDevice>,
        dev_id: u64,
        clock: Arc<dyn Clock>,
        cache_blocks: usize,
    ) -> VfsResult<Arc<Ext2>> {
        let info = Ext2::probe(&*dev).map_err(|_| Errno::EINVAL)?;
        let raw = read_superblock(&*dev)?;
        let mut sb = Superblock::parse(&raw).map_err(|_| Errno::EINVAL)?;
        let bs = sb.block_size();
        let mut cache = BlockCache::new(dev.clone(), bs, cache_blocks);
        let gdt_start = sb.first_data_block as u64 + 1;
        let mut groups = Vec::with_capacity(sb.groups() as usize);
        for g in 0..sb.groups() as usize {
            let off = g * DESC_SIZE;
            let blk = cache.get(gdt_start + (off / bs) as u64)?;
            let gd = GroupDesc::parse(&blk[off % bs..]);
            let inside = |b: u32| b >= sb.first_data_block && b < sb.blocks_count;
            if !inside(gd.block_bitmap)
                || !inside(gd.inode_bitmap)
                || !inside(gd.inode_table + sb.inode_table_blocks() - 1)
            {
                return Err(Errno::EINVAL);
            }
            groups.push(gd);
        }
        let read_only = info.read_only_reason.is_some();
        let clean_at_mount = sb.state & STATE_VALID != 0;
        if !read_only {
            sb.state &= !STATE_VALID;
        }
        let block_hint = vec![0; groups.len()];
        let mut inner = Inner {
            block_hint,
            sb,
            groups,
            cache,
            bs,
            read_only,
            open: BTreeMap::new(),
            orphans: BTreeSet::new(),
            linkable: BTreeSet::new(),
            clean_at_mount,
        };
        if !read_only {
            inner.write_super()?;
            inner.cache.sync()?;
        }
        Ok(Arc::new_cyclic(|me| Ext2 {
            inner: SleepLock::new(inner),
            dev_id,
            clock,
            me: me.clone(),
            dev,
        }))
    }

    /// Whether the mount is read-only.
    pub fn is_read_only(&self) -> bool {
        self.inner.lock().read_only
    }

    /// Writes every dirty block (data, inodes, bitmaps, descriptors, superblock) and
    /// flushes the device. Called for fsync/fdatasync/sync of any file (it syncs the
    /// whole file system) and at unmount.
    pub fn sync(&self) -> VfsResult<()> {
        let mut inner = self.inner.lock();
        if inner.read_only {
            return Ok(());
        }
        inner.sb.wtime = self.clock.now().sec as u32;
        inner.write_super()?;
        inner.cache.sync()
    }

    /// Syncs and marks the file system clean if it was clean when mounted (call when
    /// done with it, e.g. at exit; it stays usable, and a later sync marks it not
    /// clean again).
    pub fn unmount(&self) -> VfsResult<()> {
        let mut inner = self.inner.lock();
        if inner.read_only {
            return Ok(());
        }
        inner.sb.wtime = self.clock.now().sec as u32;
        if inner.clean_at_mount {
            inner.sb.state |= STATE_VALID;
        }
        inner.write_super()?;
        let r = inner.cache.sync();
        inner.sb.state &= !STATE_VALID;
        r
    }

    /// The block device.
    pub fn device(&self) -> &Arc<dyn BlockDevice> {
        &self.dev
    }

    /// Number of dirty blocks in the cache.
    pub fn dirty_blocks(&self) -> usize {
        self.inner.lock().cache.dirty_blocks()
    }

    pub(crate) fn now(&self) -> u32 {
        self.clock.now().sec.clamp(0, u32::MAX as i64) as u32
    }

    /// The in-memory inode for `ino` (shared while it lives). Must be the last thing a
    /// locked section does (see the module documentation).
    pub(crate) fn node(&self, inner: &mut Inner, ino: u32) -> VfsResult<Arc<Ext2Inode>> {
        if let Some(n) = inner.open.get(&ino).and_then(|w| w.upgrade()) {
            return Ok(n);
        }
        let di = inner.read_inode(ino)?;
        let kind = di.file_type().ok_or(Errno::EIO)?;
        let n = Arc::new(Ext2Inode {
            fs: self.me.upgrade().expect("the file system is alive"),
            ino,
            kind,
        });
        inner.open.insert(ino, Arc::downgrade(&n));
        Ok(n)
    }

    /// `statfs` numbers.
    pub(crate) fn statfs(&self) -> StatFs {
        let inner = self.inner.lock();
        let sb = &inner.sb;
        let mut overhead = sb.first_data_block as u64;
        for g in 0..sb.groups() {
            overhead += 2 + sb.inode_table_blocks() as u64;
            if sb.group_has_super(g) {
                overhead += 1 + sb.gdt_blocks() as u64 + sb.reserved_gdt_blocks as u64;
            }
        }
        let uuid = sb.uuid();
        let word = |i: usize| u32::from_le_bytes(uuid[i..i + 4].try_into().expect("4 bytes"));
        StatFs {
            fs_type: EXT2_SUPER_MAGIC,
            bsize: inner.bs as u64,
            blocks: (sb.blocks_count as u64).saturating_sub(overhead),
            bfree: sb.free_blocks as u64,
            bavail: (sb.free_blocks as u64).saturating_sub(sb.r_blocks_count as u64),
            files: sb.inodes_count as u64,
            ffree: sb.free_inodes as u64,
            fsid: [word(0) ^ word(8), word(4) ^ word(12)],
            namelen: 255,
            frsize: inner.bs as u64,
            flags: inner.read_only as u64,
        }
    }
}

impl Drop for Ext2 {
    fn drop(&mut self) {
        // Best effort: the kernel syncs or unmounts explicitly before this.
        let _ = self.unmount();
    }
}

impl FileSystem for Ext2 {
    fn root(&self) -> InodeRef {
        let mut inner = self.inner.lock();
        self.node(&mut inner, ROOT_INO)
            .expect("the root inode was readable at mount")
    }

    fn name(&self) -> &'static str {
        "ext2"
    }
}

impl Inner {
    /// Writes the superblock and group descriptors into the cache.
    pub(crate) fn write_super(&mut self) -> VfsResult<()> {
        let bs = self.bs;
        let (blk, off) = (
            SUPERBLOCK_OFFSET / bs as u64,
            SUPERBLOCK_OFFSET as usize % bs,
        );
        let b = self.cache.get_mut(blk)?;
        self.sb.serialize(&mut b[off..off + SUPERBLOCK_SIZE]);
        let gdt_start = self.sb.first_data_block as u64 + 1;
        for g in 0..self.groups.len() {
            let off = g * DESC_SIZE;
            let b = self.cache.get_mut(gdt_start + (off / bs) as u64)?;
            self.groups[g].serialize(&mut b[off % bs..off % bs + DESC_SIZE]);
        }
        Ok(())
    }

    fn inode_pos(&self, ino: u32) -> VfsResult<(u64, usize)> {
        if ino == 0 || ino > self.sb.inodes_count {
            return Err(Errno::EIO);
        }
        let g = self.group_of_ino(ino) as usize;
        let idx = ((ino - 1) % self.sb.inodes_per_group) as usize;
        let byte = idx * self.sb.inode_size as usize;
        Ok((
            self.groups[g].inode_table as u64 + (byte / self.bs) as u64,
            byte % self.bs,
        ))
    }

    /// Reads inode `ino`.
    pub(crate) fn read_inode(&mut self, ino: u32) -> VfsResult<DiskInode> {
        let (blk, off) = self.inode_pos(ino)?;
        let size = self.sb.inode_size as usize;
        Ok(DiskInode::parse(&self.cache.get(blk)?[off..off + size]))
    }

    /// Writes inode `ino`.
    pub(crate) fn write_inode(&mut self, ino: u32, di: &mut DiskInode) -> VfsResult<()> {
        if self.read_only {
            return Err(Errno::EROFS);
        }
        let (blk, off) = self.inode_pos(ino)?;
        let raw = di.serialize();
        self.cache.get_mut(blk)?[off..off + raw.len()].copy_from_slice(raw);
        Ok(())
    }

    /// Whether an in-memory inode for `ino` is alive (without taking a reference).
    pub(crate) fn is_open(&self, ino: u32) -> bool {
        self.open.get(&ino).is_some_and(|w| w.strong_count() > 0)
    }
}
