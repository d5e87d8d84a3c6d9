//! tmpfs: the in-memory file system the root lives on. Directories keep their entries
//! in creation order (a name index plus a position index, so `read_dir` cookies survive
//! concurrent changes), regular files keep their bytes in 4 KiB pages (sparse: holes
//! cost nothing and read as zeros; `st_blocks` counts the pages), symlinks keep their
//! target, device nodes their `rdev`.
//!
//! Locking: every inode has a `spin::Mutex` around its state; no code path holds two
//! inode locks at once. Namespace changes (create, link, unlink, rmdir, rename) also
//! hold the file system's `tree` lock for their whole duration, so they see a stable
//! tree and cannot deadlock; look-ups and data access take only the one inode lock.
//!
//! Inode numbers come from a per-file-system counter (root = 1) and are never reused.
//! Parents are weak references (children are owned by their directory), so dropping the
//! [`Tmpfs`] frees the tree, except inodes still referenced by open files.
//! Limits (`max_bytes`, `max_inodes`) give ENOSPC and the `statfs` numbers; without
//! them `statfs` reports zero blocks and files, like Linux's unlimited tmpfs.

use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::any::Any;
use core::sync::atomic::{AtomicU64, Ordering};

use spin::Mutex;

use crate::clock::Clock;
use crate::dirent::DirEntry;
use crate::errno::{Errno, VfsResult};
use crate::flags::{FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, RENAME_EXCHANGE, RENAME_NOREPLACE};
use crate::inode::{Cred, FileSystem, Inode, InodeRef, NewNode, SetAttr, TimeUpdate};
use crate::pages::Frame;
use crate::stat::{
    FileType, Stat, StatFs, Timespec, S_IALLUGO, S_ISGID, S_ISUID, S_IXGRP, TMPFS_MAGIC,
};
use crate::store::{PageStore, READ_AHEAD};
use crate::xattr::{XattrBudget, Xattrs};

/// Page size of file data.
pub const PAGE_SIZE: usize = 4096;

/// Options of a new tmpfs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TmpfsOptions {
    /// Data limit in bytes (ENOSPC beyond); `None` = unlimited.
    pub max_bytes: Option<u64>,
    /// Inode limit (ENOSPC beyond); `None` = unlimited.
    pub max_inodes: Option<u64>,
    /// Most hard links an inode (or subdirectories a directory) may have (EMLINK).
    pub max_links: u32,
    /// Permissions of the root directory (Linux's tmpfs default is 1777).
    pub root_perm: u32,
}

impl Default for TmpfsOptions {
    fn default() -> Self {
        TmpfsOptions {
            max_bytes: None,
            max_inodes: None,
            max_links: u32::MAX - 2,
            root_perm: 0o1777,
        }
    }
}

struct Shared {
    dev: u64,
    clock: Arc<dyn Clock>,
    opts: TmpfsOptions,
    next_ino: AtomicU64,
    used_pages: AtomicU64,
    used_inodes: AtomicU64,
    /// Space taken by extended attributes ([`crate::xattr::space`]).
    xattr_space: AtomicU64,
    tree: Mutex<()>,
}

impl Shared {
    fn now(&self) -> Timespec {
        self.clock.now()
    }

    fn reserve_pages(&self, n: u64) -> VfsResult<()> {
        if n == 0 {
            return Ok(());
        }
        let max = self.opts.max_bytes.map(|b| b / PAGE_SIZE as u64);
        reserve_bounded(&self.used_pages, n, max)
    }

    fn release_pages(&self, n: u64) {
        self.used_pages.fetch_sub(n, Ordering::Relaxed);
    }
}

/// Adds `n` to `counter` unless that would pass `max` (ENOSPC): the page and xattr
/// budgets' one compare-and-swap loop.
fn reserve_bounded(counter: &AtomicU64, n: u64, max: Option<u64>) -> VfsResult<()> {
    let mut cur = counter.load(Ordering::Relaxed);
    loop {
        if max.is_some_and(|m| cur + n > m) {
            return Err(Errno::ENOSPC);
        }
        match counter.compare_exchange(cur, cur + n, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return Ok(()),
            Err(c) => cur = c,
        }
    }
}

/// Extended attributes get 1 KiB per inode of the inode limit (Linux's tmpfs), no limit
/// without one.
impl XattrBudget for Shared {
    fn reserve(&self, n: u64) -> VfsResult<()> {
        let max = self
            .opts
            .max_inodes
            .map(|i| i.saturating_mul(XATTR_SPACE_PER_INODE));
        reserve_bounded(&self.xattr_space, n, max)
    }

    fn release(&self, n: u64) {
        self.xattr_space.fetch_sub(n, Ordering::Relaxed);
    }
}

/// Attribute space per inode of the limit (Linux's `BOGO_INODE_SIZE`).
const XATTR_SPACE_PER_INODE: u64 = 1024;

/// A tmpfs instance. Mount it with [`crate::Vfs::new`] or [`crate::Vfs::mount`].
pub struct Tmpfs {
    shared: Arc<Shared>,
    root: Arc<TmpNode>,
}

impl Tmpfs {
    /// A tmpfs with device number `dev` (see [`crate::Vfs::alloc_dev`]), timestamps from
    /// `clock`, and default options.
    pub fn new(dev: u64, clock: Arc<dyn Clock>) -> Arc<Tmpfs> {
        Tmpfs::with_options(dev, clock, TmpfsOptions::default())
    }

    /// A tmpfs with explicit options; the root is owned by root.
    pub fn with_options(dev: u64, clock: Arc<dyn Clock>, opts: TmpfsOptions) -> Arc<Tmpfs> {
        let shared = Arc::new(Shared {
            dev,
            clock,
            opts,
            next_ino: AtomicU64::new(1),
            used_pages: AtomicU64::new(0),
            used_inodes: AtomicU64::new(0),
            xattr_space: AtomicU64::new(0),
            tree: Mutex::new(()),
        });
        let root = TmpNode::new(
            &shared,
            FileType::Directory,
            Body::Dir(DirData::new(Weak::new())),
            opts.root_perm,
            Cred::ROOT,
        );
        root.state.lock().meta.nlink = 2;
        Arc::new(Tmpfs { shared, root })
    }

    /// Bytes of file data in use (whole pages).
    pub fn used_bytes(&self) -> u64 {
        self.shared.used_pages.load(Ordering::Relaxed) * PAGE_SIZE as u64
    }

    /// Inodes in existence (including unlinked ones still open).
    pub fn used_inodes(&self) -> u64 {
        self.shared.used_inodes.load(Ordering::Relaxed)
    }
}

impl FileSystem for Tmpfs {
    fn root(&self) -> InodeRef {
        self.root.clone()
    }

    fn name(&self) -> &'static str {
        "tmpfs"
    }
}

struct Meta {
    perm: u32,
    uid: u32,
    gid: u32,
    nlink: u32,
    rdev: u64,
    atime: Timespec,
    mtime: Timespec,
    ctime: Timespec,
    btime: Timespec,
    /// An O_TMPFILE inode that `link` may give a name although nlink is 0.
    linkable: bool,
}

/// File data kept in a [`PageStore`] (the image's baked files, read on demand): file
/// page `i` below `count` is the store's page `first + i` until the file gets a page
/// of its own there (a write copies it).
struct Backing {
    store: Arc<PageStore>,
    first: u64,
    count: u64,
}

#[derive(Default)]
struct FileData {
    size: u64,
    pages: BTreeMap<u64, Frame>,
    backing: Option<Backing>,
}

/// Why a file operation could not finish under the inode's lock.
enum Need {
    Fail(Errno),
    /// Store pages `[first, end)` must be read first, without the lock (device I/O
    /// sleeps); then the operation runs again.
    Load(Arc<PageStore>, u64, u64),
}

impl From<Errno> for Need {
    fn from(e: Errno) -> Need {
        Need::Fail(e)
    }
}

impl Need {
    /// For paths that made sure no load is needed: a load is an I/O error.
    fn errno(self) -> Errno {
        match self {
            Need::Fail(e) => e,
            Need::Load(..) => Errno::EIO,
        }
    }
}

type NeedResult<T> = Result<T, Need>;

struct DirData {
    parent: Weak<TmpNode>,
    /// Name -> (position, node): a lookup is one search.
    by_name: BTreeMap<Vec<u8>, (u64, Arc<TmpNode>)>,
    /// Position (readdir's cookie) -> (name, node).
    by_pos: BTreeMap<u64, (Vec<u8>, Arc<TmpNode>)>,
    next_pos: u64,
}

/// Cookies 0 and 1 are `.` and `..`; entries get positions from 2 on.
const FIRST_POS: u64 = 2;

impl DirData {
    fn new(parent: Weak<TmpNode>) -> DirData {
        DirData {
            parent,
            by_name: BTreeMap::new(),
            by_pos: BTreeMap::new(),
            next_pos: FIRST_POS,
        }
    }

    fn get(&self, name: &[u8]) -> Option<Arc<TmpNode>> {
        self.by_name.get(name).map(|(_, node)| node.clone())
    }

    /// Inserts or replaces `name` (a replaced entry moves to the end).
    fn insert(&mut self, name: &[u8], node: Arc<TmpNode>) {
        if let Some((old, _)) = self.by_name.remove(name) {
            self.by_pos.remove(&old);
        }
        let pos = self.next_pos;
        self.next_pos += 1;
        self.by_name.insert(name.to_vec(), (pos, node.clone()));
        self.by_pos.insert(pos, (name.to_vec(), node));
    }

    /// Replaces the node of an existing `name` in place.
    fn replace_in_place(&mut self, name: &[u8], node: Arc<TmpNode>) {
        let entry = self
            .by_name
            .get_mut(name)
            .expect("replacing an existing name");
        entry.1 = node.clone();
        self.by_pos
            .get_mut(&entry.0)
            .expect("by_name and by_pos agree")
            .1 = node;
    }

    fn remove(&mut self, name: &[u8]) -> Option<Arc<TmpNode>> {
        let (pos, _) = self.by_name.remove(name)?;
        self.by_pos.remove(&pos).map(|(_, n)| n)
    }
}

enum Body {
    File(FileData),
    Dir(DirData),
    Symlink(Vec<u8>),
    Special,
}

struct State {
    meta: Meta,
    body: Body,
}

/// One tmpfs inode.
pub struct TmpNode {
    fs: Arc<Shared>,
    ino: u64,
    kind: FileType,
    me: Weak<TmpNode>,
    state: Mutex<State>,
    xattrs: Xattrs,
}

impl Drop for TmpNode {
    fn drop(&mut self) {
        if let Body::File(f) = &self.state.get_mut().body {
            let backed = f.backing.as_ref().map_or(0, |b| b.count);
            self.fs.release_pages(f.pages.len() as u64 + backed);
        }
        self.fs.release(self.xattrs.total_space());
        self.fs.used_inodes.fetch_sub(1, Ordering::Relaxed);
    }
}

fn pages_spanned(offset: u64, len: u64) -> core::ops::Range<u64> {
    if len == 0 {
        return 0..0;
    }
    offset / PAGE_SIZE as u64..(offset + len - 1) / PAGE_SIZE as u64 + 1
}

impl FileData {
    /// The store page behind file page `idx`, when the store has it and the file has
    /// no page of its own there.
    fn backed(&self, idx: u64) -> Option<(&Arc<PageStore>, u64)> {
        let b = self.backing.as_ref()?;
        (idx < b.count && !self.pages.contains_key(&idx)).then_some((&b.store, b.first + idx))
    }

    /// The store pages behind `range` that are not cached, as one load request.
    fn missing(&self, range: core::ops::Range<u64>) -> Option<Need> {
        let b = self.backing.as_ref()?;
        let mut found: Option<(u64, u64)> = None;
        for idx in range.start..range.end.min(b.count) {
            if !self.pages.contains_key(&idx) && !b.store.is_cached(b.first + idx) {
                found = Some((found.map_or(idx, |f| f.0), idx + 1));
            }
        }
        found.map(|(lo, hi)| Need::Load(b.store.clone(), b.first + lo, b.first + hi))
    }

    /// Gives the file pages of its own for the store pages behind `range` (copies).
    fn materialize(&mut self, fs: &Shared, range: core::ops::Range<u64>) -> NeedResult<()> {
        let Some(count) = self.backing.as_ref().map(|b| b.count) else {
            return Ok(());
        };
        if let Some(n) = self.missing(range.clone()) {
            return Err(n);
        }
        for idx in range.start..range.end.min(count) {
            let Some((store, sp)) = self.backed(idx) else {
                continue;
            };
            let copy = store
                .with_cached(sp, |f| f.duplicate())
                .ok_or_else(|| Need::Load(store.clone(), sp, sp + 1))?
                .ok_or(Errno::ENOSPC)?;
            fs.reserve_pages(1)?;
            self.pages.insert(idx, copy);
        }
        Ok(())
    }

    /// Ends the file's use of the store: the pages below `keep` that it has there
    /// become its own (copies), the rest of what the store held is gone.
    fn detach(&mut self, fs: &Shared, keep: u64) -> NeedResult<()> {
        self.materialize(fs, 0..keep)?;
        if let Some(b) = self.backing.take() {
            fs.release_pages(b.count);
        }
        Ok(())
    }

    /// Allocates the missing pages of `[offset, offset+len)`. The count of missing
    /// pages costs the pages that exist, not the range's length (a huge range is
    /// refused by the reservation, not walked page by page). ENOSPC also when the
    /// machine has no memory left.
    fn allocate(&mut self, fs: &Shared, offset: u64, len: u64) -> NeedResult<()> {
        let range = pages_spanned(offset, len);
        self.materialize(fs, range.clone())?;
        let present = self.pages.range(range.clone()).count() as u64;
        let mut missing = (range.end - range.start) - present;
        fs.reserve_pages(missing)?;
        for i in range {
            if let alloc::collections::btree_map::Entry::Vacant(v) = self.pages.entry(i) {
                let Some(f) = Frame::zeroed() else {
                    fs.release_pages(missing);
                    return Err(Errno::ENOSPC.into());
                };
                v.insert(f);
                missing -= 1;
            }
        }
        Ok(())
    }

    /// The page `idx`, made the file's own for writing (ENOSPC: no memory to copy a
    /// borrowed page).
    fn own_page(&mut self, idx: u64) -> VfsResult<Option<&Frame>> {
        match self.pages.get_mut(&idx) {
            None => Ok(None),
            Some(f) => {
                if f.make_own() {
                    Ok(Some(f))
                } else {
                    Err(Errno::ENOSPC)
                }
            }
        }
    }

    /// Zeroes `[offset, offset+len)`, dropping whole pages (visiting only the pages
    /// that exist: holes are zero already).
    fn zero(&mut self, fs: &Shared, offset: u64, len: u64) -> NeedResult<()> {
        // A page dropped below would show the store's page again: the file leaves it.
        if self.backing.is_some() {
            self.detach(fs, u64::MAX)?;
        }
        let end = offset + len;
        let mut freed = 0;
        let present: Vec<u64> = self
            .pages
            .range(pages_spanned(offset, len))
            .map(|(&i, _)| i)
            .collect();
        let mut result = Ok(());
        for i in present {
            let start = i * PAGE_SIZE as u64;
            let (a, b) = (offset.max(start), end.min(start + PAGE_SIZE as u64));
            if a == start && b == start + PAGE_SIZE as u64 {
                if self.pages.remove(&i).is_some() {
                    freed += 1;
                }
            } else {
                match self.own_page(i) {
                    Ok(Some(p)) => p.zero((a - start) as usize, (b - a) as usize),
                    Ok(None) => {}
                    Err(e) => result = Err(e.into()),
                }
            }
        }
        fs.release_pages(freed);
        result
    }

    fn set_size(&mut self, fs: &Shared, size: u64) -> NeedResult<()> {
        if size < self.size && self.backing.is_some() {
            self.detach(fs, size.div_ceil(PAGE_SIZE as u64))?;
        }
        if size < self.size {
            // Keep the invariant: bytes past the size are zero or unallocated.
            let tail = (size % PAGE_SIZE as u64) as usize;
            if tail != 0 {
                if let Some(p) = self.own_page(size / PAGE_SIZE as u64)? {
                    p.zero(tail, PAGE_SIZE - tail);
                }
            }
            let keep = size.div_ceil(PAGE_SIZE as u64);
            let gone = self.pages.split_off(&keep);
            fs.release_pages(gone.len() as u64);
        }
        self.size = size;
        Ok(())
    }

    /// Reads at `offset`; store pages not cached are a load request, or with
    /// `partial` the end of a short read when some bytes were read already.
    fn read(&self, offset: u64, buf: &mut [u8], partial: bool) -> NeedResult<usize> {
        if offset >= self.size {
            return Ok(0);
        }
        let n = buf
            .len()
            .min((self.size - offset).min(usize::MAX as u64) as usize);
        if !partial {
            if let Some(need) = self.missing(pages_spanned(offset, n as u64)) {
                return Err(need);
            }
        }
        let mut done = 0;
        while done < n {
            let pos = offset + done as u64;
            let (idx, in_page) = (pos / PAGE_SIZE as u64, (pos % PAGE_SIZE as u64) as usize);
            let chunk = (PAGE_SIZE - in_page).min(n - done);
            let out = &mut buf[done..done + chunk];
            match (self.pages.get(&idx), self.backed(idx)) {
                (Some(p), _) => p.read(in_page, out),
                (None, Some((store, sp))) => {
                    if store.with_cached(sp, |f| f.read(in_page, out)).is_none() {
                        if partial && done > 0 {
                            return Ok(done);
                        }
                        return Err(Need::Load(store.clone(), sp, sp + READ_AHEAD));
                    }
                }
                (None, None) => out.fill(0),
            }
            done += chunk;
        }
        Ok(n)
    }

    /// [`Inode::read_cached`]: the file's own pages, holes as zeros, and its store's
    /// pages while they are cached (each run of them under one hold of the store's
    /// lock, not a lookup and a reference per page).
    fn read_cached(&self, offset: u64, buf: &mut [u8]) -> usize {
        if offset >= self.size {
            return 0;
        }
        let n = buf
            .len()
            .min((self.size - offset).min(usize::MAX as u64) as usize);
        let last = (offset + n as u64 - 1) / PAGE_SIZE as u64;
        let hooks = crate::pages::hooks();
        let mut done = 0;
        while done < n {
            let pos = offset + done as u64;
            let (idx, in_page) = (pos / PAGE_SIZE as u64, (pos % PAGE_SIZE as u64) as usize);
            let chunk = (PAGE_SIZE - in_page).min(n - done);
            match (self.pages.get(&idx), &self.backing) {
                (Some(p), _) => p.read_with(&hooks, in_page, &mut buf[done..done + chunk]),
                (None, Some(b)) if idx < b.count => {
                    // The store's run: to the next page of the file's own, the end of
                    // the backing or of the copy (two searches a run, not per page).
                    let own = self
                        .pages
                        .range(idx + 1..)
                        .next()
                        .map_or(u64::MAX, |(&k, _)| k);
                    let end = own.min(b.count).min(last + 1);
                    let run = ((end * PAGE_SIZE as u64 - pos) as usize).min(n - done);
                    let got =
                        b.store
                            .read_cached(b.first + idx, in_page, &mut buf[done..done + run]);
                    done += got;
                    if got < run {
                        break;
                    }
                    continue;
                }
                _ => buf[done..done + chunk].fill(0),
            }
            done += chunk;
        }
        done
    }

    fn write(&mut self, fs: &Shared, offset: u64, buf: &[u8]) -> NeedResult<usize> {
        self.allocate(fs, offset, buf.len() as u64)?;
        let mut done = 0;
        while done < buf.len() {
            let pos = offset + done as u64;
            let (idx, in_page) = (pos / PAGE_SIZE as u64, (pos % PAGE_SIZE as u64) as usize);
            let chunk = (PAGE_SIZE - in_page).min(buf.len() - done);
            let page = self.own_page(idx)?.expect("allocated above");
            page.write(in_page, &buf[done..done + chunk]);
            done += chunk;
        }
        self.size = self.size.max(offset + buf.len() as u64);
        Ok(buf.len())
    }

    /// Makes the file's pages from `data`, whose whole pages are borrowed: page `i`
    /// of the file is the page named `first + i * PAGE_SIZE`. The partial last page
    /// is copied (a mapping must read zeros past the end of the file).
    fn fill(&mut self, fs: &Shared, data: &[u8], first: u64) -> NeedResult<()> {
        for idx in 0..(data.len() / PAGE_SIZE) as u64 {
            if self.pages.contains_key(&idx) {
                continue;
            }
            fs.reserve_pages(1)?;
            match Frame::borrow(first + idx * PAGE_SIZE as u64) {
                Some(f) => {
                    self.pages.insert(idx, f);
                }
                None => fs.release_pages(1),
            }
        }
        let mut idx = 0;
        while (idx as usize) * PAGE_SIZE < data.len() {
            let start = idx as usize * PAGE_SIZE;
            let end = (start + PAGE_SIZE).min(data.len());
            if !self.pages.contains_key(&idx) {
                self.write(fs, start as u64, &data[start..end])?;
            }
            idx += 1;
        }
        self.size = self.size.max(data.len() as u64);
        Ok(())
    }
}

impl TmpNode {
    /// Runs `op` on the inode's state under its lock; when it asks for store pages
    /// (a file backed by a [`PageStore`]), reads them with the lock released and runs
    /// it again (`op` gets the attempt's number). ENOMEM when the pages keep being
    /// dropped before they can be used (no memory to hold them).
    fn with_pages<R>(&self, op: impl FnMut(&mut State, u32) -> NeedResult<R>) -> VfsResult<R> {
        self.with_pages_or_load(op, true)
    }

    /// [`TmpNode::with_pages`]; without `load`, a need for store pages is EWOULDBLOCK
    /// (the caller cannot wait for the disk).
    fn with_pages_or_load<R>(
        &self,
        mut op: impl FnMut(&mut State, u32) -> NeedResult<R>,
        load: bool,
    ) -> VfsResult<R> {
        for attempt in 0..16 {
            let r = op(&mut self.state.lock(), attempt);
            match r {
                Ok(v) => return Ok(v),
                Err(Need::Fail(e)) => return Err(e),
                Err(Need::Load(..)) if !load => return Err(Errno::EWOULDBLOCK),
                Err(Need::Load(store, first, end)) => store.load(first, end)?,
            }
        }
        Err(Errno::ENOMEM)
    }

    /// The page cache's page `index` (see `Inode::page_frame`); without `load`,
    /// EWOULDBLOCK when it must come from the store's disk first.
    fn page_frame_or_load(&self, index: u64, own: bool, load: bool) -> VfsResult<Option<u64>> {
        self.with_pages_or_load(
            |st, _| {
                let Body::File(f) = &mut st.body else {
                    return Err(Errno::EINVAL.into());
                };
                if index >= f.size.div_ceil(PAGE_SIZE as u64) {
                    return Err(Errno::ENXIO.into());
                }
                // The store's page itself, for a mapping that does not write the file
                // (a private one copies on its first write).
                if let (false, Some((store, sp))) = (own, f.backed(index)) {
                    return match store.with_cached(sp, |p| p.new_ref()) {
                        Some(r) => r.map(Some).ok_or(Errno::ENOSPC.into()),
                        None => Err(Need::Load(store.clone(), sp, sp + 1)),
                    };
                }
                if !f.pages.contains_key(&index) {
                    f.allocate(&self.fs, index * PAGE_SIZE as u64, PAGE_SIZE as u64)?;
                }
                let page = f.pages.get_mut(&index).expect("allocated above");
                if own && !page.make_own() {
                    return Err(Errno::ENOSPC.into());
                }
                page.new_ref().map(Some).ok_or(Errno::ENOSPC.into())
            },
            load,
        )
    }

    /// Makes the file's own (copies) the store pages that a change needs, before the
    /// change itself runs under one hold of the lock: with `keep`, the file leaves the
    /// store keeping its pages below that index (dropping pages, shrinking); else the
    /// pages of `[offset, offset+len)` (writing there).
    fn prepare_change(&self, offset: u64, len: u64, keep: Option<u64>) -> VfsResult<()> {
        self.with_pages(|st, _| match &mut st.body {
            Body::File(f) if f.backing.is_some() => match keep {
                Some(keep) => f.detach(&self.fs, keep),
                None => f.materialize(&self.fs, pages_spanned(offset, len)),
            },
            _ => Ok(()),
        })
    }

    /// `set_attr` under the inode's lock; returns the page range a shrinking size
    /// removed (to invalidate once the lock is released).
    fn set_attr_locked(&self, attr: &SetAttr) -> VfsResult<(u64, u64)> {
        if let Some(size) = attr.size {
            if size < self.stat().size {
                self.prepare_change(0, 0, Some(size.div_ceil(PAGE_SIZE as u64)))?;
            }
        }
        let now = self.fs.now();
        let mut st = self.state.lock();
        let State { meta, body } = &mut *st;
        let mut gone = (0, 0);
        if let Some(size) = attr.size {
            match body {
                Body::File(f) => {
                    let old = f.size.div_ceil(PAGE_SIZE as u64);
                    f.set_size(&self.fs, size).map_err(Need::errno)?;
                    gone = (size.div_ceil(PAGE_SIZE as u64), old);
                }
                Body::Dir(_) => return Err(Errno::EISDIR),
                _ => return Err(Errno::EINVAL),
            }
            meta.mtime = now;
        }
        if let Some(mode) = attr.mode {
            meta.perm = mode & S_IALLUGO;
        }
        if attr.uid.is_some() || attr.gid.is_some() {
            if !self.is_dir() {
                meta.perm &= !S_ISUID;
                if meta.perm & S_IXGRP != 0 {
                    meta.perm &= !S_ISGID;
                }
            }
            meta.uid = attr.uid.unwrap_or(meta.uid);
            meta.gid = attr.gid.unwrap_or(meta.gid);
        }
        for (upd, field) in [(attr.atime, &mut meta.atime), (attr.mtime, &mut meta.mtime)] {
            match upd {
                TimeUpdate::Omit => {}
                TimeUpdate::Now => *field = now,
                TimeUpdate::Set(t) => *field = t,
            }
        }
        meta.ctime = now;
        Ok(gone)
    }
}

impl TmpNode {
    fn new(fs: &Arc<Shared>, kind: FileType, body: Body, perm: u32, cred: Cred) -> Arc<TmpNode> {
        let now = fs.now();
        fs.used_inodes.fetch_add(1, Ordering::Relaxed);
        let rdev = 0;
        Arc::new_cyclic(|me| TmpNode {
            fs: fs.clone(),
            ino: fs.next_ino.fetch_add(1, Ordering::Relaxed),
            kind,
            me: me.clone(),
            state: Mutex::new(State {
                meta: Meta {
                    perm: perm & S_IALLUGO,
                    uid: cred.uid,
                    gid: cred.gid,
                    nlink: 1,
                    rdev,
                    atime: now,
                    mtime: now,
                    ctime: now,
                    btime: now,
                    linkable: false,
                },
                body,
            }),
            xattrs: Xattrs::new(),
        })
    }

    fn arc(&self) -> Arc<TmpNode> {
        self.me.upgrade().expect("a node in use is alive")
    }

    fn is_dir(&self) -> bool {
        self.kind == FileType::Directory
    }

    /// Runs `f` on this directory's data; ENOTDIR if not a directory, ENOENT if removed.
    fn with_dir<R>(&self, f: impl FnOnce(&mut Meta, &mut DirData) -> VfsResult<R>) -> VfsResult<R> {
        let mut st = self.state.lock();
        let State { meta, body } = &mut *st;
        match body {
            Body::Dir(d) if meta.nlink > 0 => f(meta, d),
            Body::Dir(_) => Err(Errno::ENOENT),
            _ => Err(Errno::ENOTDIR),
        }
    }

    fn touch_dir(&self, nlink_delta: i32) {
        let now = self.fs.now();
        let mut st = self.state.lock();
        st.meta.mtime = now;
        st.meta.ctime = now;
        st.meta.nlink = st.meta.nlink.wrapping_add_signed(nlink_delta);
    }

    fn change_nlink(&self, delta: i32) {
        let now = self.fs.now();
        let mut st = self.state.lock();
        st.meta.ctime = now;
        st.meta.nlink = st.meta.nlink.wrapping_add_signed(delta);
    }

    fn nlink(&self) -> u32 {
        self.state.lock().meta.nlink
    }

    fn set_parent(&self, parent: &Arc<TmpNode>) {
        if let Body::Dir(d) = &mut self.state.lock().body {
            d.parent = Arc::downgrade(parent);
        }
    }

    fn is_empty(&self) -> bool {
        match &self.state.lock().body {
            Body::Dir(d) => d.by_pos.is_empty(),
            _ => false,
        }
    }

    fn downcast<'a>(&self, other: &'a InodeRef) -> VfsResult<&'a TmpNode> {
        match other.as_any().downcast_ref::<TmpNode>() {
            Some(n) if Arc::ptr_eq(&n.fs, &self.fs) => Ok(n),
            _ => Err(Errno::EXDEV),
        }
    }
}

impl Inode for TmpNode {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn stat(&self) -> Stat {
        let st = self.state.lock();
        let m = &st.meta;
        let (size, blocks) = match &st.body {
            Body::File(f) => {
                let pages = f.pages.len() as u64 + f.backing.as_ref().map_or(0, |b| b.count);
                (f.size, pages * (PAGE_SIZE as u64 / 512))
            }
            Body::Dir(d) => ((d.by_pos.len() as u64 + 2) * 20, 0),
            Body::Symlink(t) => (t.len() as u64, 0),
            Body::Special => (0, 0),
        };
        Stat {
            dev: self.fs.dev,
            ino: self.ino,
            mode: self.kind.mode_bits() | m.perm,
            nlink: m.nlink,
            uid: m.uid,
            gid: m.gid,
            rdev: m.rdev,
            size,
            blksize: PAGE_SIZE as u32,
            blocks,
            atime: m.atime,
            mtime: m.mtime,
            ctime: m.ctime,
            btime: m.btime,
        }
    }

    fn file_type(&self) -> FileType {
        self.kind
    }

    fn key(&self) -> (u64, u64) {
        (self.fs.dev, self.ino)
    }

    fn statfs(&self) -> StatFs {
        let o = &self.fs.opts;
        let used = self.fs.used_pages.load(Ordering::Relaxed);
        let blocks = o.max_bytes.map_or(0, |b| b / PAGE_SIZE as u64);
        let files = o.max_inodes.unwrap_or(0);
        let used_inodes = self.fs.used_inodes.load(Ordering::Relaxed);
        StatFs {
            fs_type: TMPFS_MAGIC,
            bsize: PAGE_SIZE as u64,
            blocks,
            bfree: blocks.saturating_sub(used),
            bavail: blocks.saturating_sub(used),
            files,
            ffree: files.saturating_sub(used_inodes),
            fsid: [self.fs.dev as u32, (self.fs.dev >> 32) as u32],
            namelen: crate::path::NAME_MAX as u64,
            frsize: PAGE_SIZE as u64,
            flags: 0,
        }
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> VfsResult<usize> {
        self.with_pages(|st, attempt| {
            let State { meta, body } = st;
            match body {
                Body::File(f) => {
                    // After two rounds of pages dropped before use: what is there.
                    let n = f.read(offset, buf, attempt >= 2)?;
                    // relatime: update the access time if it is older than the last change.
                    if meta.atime <= meta.mtime || meta.atime <= meta.ctime {
                        meta.atime = self.fs.now();
                    }
                    Ok(n)
                }
                Body::Dir(_) => Err(Errno::EISDIR.into()),
                _ => Err(Errno::EINVAL.into()),
            }
        })
    }

    fn write_at(&self, offset: u64, buf: &[u8]) -> VfsResult<usize> {
        if offset
            .checked_add(buf.len() as u64)
            .is_none_or(|end| end > self.max_file_size())
        {
            return Err(Errno::EFBIG);
        }
        self.with_pages(|st, _| {
            let State { meta, body } = st;
            match body {
                Body::File(f) => {
                    let n = f.write(&self.fs, offset, buf)?;
                    let now = self.fs.now();
                    meta.mtime = now;
                    meta.ctime = now;
                    Ok(n)
                }
                Body::Dir(_) => Err(Errno::EISDIR.into()),
                _ => Err(Errno::EINVAL.into()),
            }
        })
    }

    fn fallocate(&self, mode: u32, offset: u64, len: u64) -> VfsResult<()> {
        // As Linux: past the largest file size (i64::MAX) is EFBIG.
        if offset
            .checked_add(len)
            .is_none_or(|end| end > i64::MAX as u64)
        {
            return Err(Errno::EFBIG);
        }
        let drops = mode & (FALLOC_FL_PUNCH_HOLE | crate::flags::FALLOC_FL_ZERO_RANGE) != 0;
        self.prepare_change(offset, len, drops.then_some(u64::MAX))?;
        let mut st = self.state.lock();
        let State { meta, body } = &mut *st;
        let Body::File(f) = body else {
            return Err(Errno::ENODEV);
        };
        // Whole pages punched out or zeroed go from the page cache: mappings of them
        // must fault again (and read zeros).
        let mut gone = (0, 0);
        if mode & FALLOC_FL_PUNCH_HOLE != 0 {
            let end = (offset + len).min(f.size);
            if offset < end {
                f.zero(&self.fs, offset, end - offset)
                    .map_err(Need::errno)?;
                gone = (offset.div_ceil(PAGE_SIZE as u64), end / PAGE_SIZE as u64);
            }
        } else {
            if mode & crate::flags::FALLOC_FL_ZERO_RANGE != 0 {
                let end = (offset + len).min(f.size);
                if offset < end {
                    f.zero(&self.fs, offset, end - offset)
                        .map_err(Need::errno)?;
                    gone = (offset.div_ceil(PAGE_SIZE as u64), end / PAGE_SIZE as u64);
                }
            }
            if let Err(e) = f.allocate(&self.fs, offset, len) {
                drop(st);
                crate::pages::invalidate(self.key(), gone.0, gone.1);
                return Err(e.errno());
            }
            if mode & FALLOC_FL_KEEP_SIZE == 0 && offset + len > f.size {
                f.size = offset + len;
            }
        }
        let now = self.fs.now();
        meta.mtime = now;
        meta.ctime = now;
        drop(st);
        crate::pages::invalidate(self.key(), gone.0, gone.1);
        Ok(())
    }

    fn set_attr(&self, attr: &SetAttr) -> VfsResult<()> {
        let gone = self.set_attr_locked(attr)?;
        // Pages past a new, smaller end go: mappings of them fault again (SIGBUS).
        crate::pages::invalidate(self.key(), gone.0, gone.1);
        Ok(())
    }

    fn page_frame(&self, index: u64, own: bool) -> VfsResult<Option<u64>> {
        self.page_frame_or_load(index, own, true)
    }

    fn page_frame_now(&self, index: u64, own: bool) -> VfsResult<Option<u64>> {
        self.page_frame_or_load(index, own, false)
    }

    fn has_page_cache(&self) -> bool {
        self.kind == FileType::Regular
    }

    fn read_cached(&self, offset: u64, buf: &mut [u8]) -> usize {
        match &self.state.lock().body {
            Body::File(f) => f.read_cached(offset, buf),
            _ => 0,
        }
    }

    fn borrow_pages(&self, data: &[u8], first: u64) -> VfsResult<bool> {
        let mut st = self.state.lock();
        let Body::File(f) = &mut st.body else {
            return Err(Errno::EINVAL);
        };
        f.fill(&self.fs, data, first).map_err(Need::errno)?;
        Ok(true)
    }

    fn prefetch_page(&self, index: u64) -> VfsResult<()> {
        let need = match &self.state.lock().body {
            Body::File(f) => f
                .backed(index)
                .filter(|(store, sp)| !store.is_cached(*sp))
                .map(|(store, sp)| (store.clone(), sp)),
            _ => None,
        };
        match need {
            Some((store, sp)) => store.load(sp, sp + 1),
            None => Ok(()),
        }
    }

    fn back_pages(&self, store: &Arc<PageStore>, first: u64, size: u64) -> VfsResult<bool> {
        let mut st = self.state.lock();
        let Body::File(f) = &mut st.body else {
            return Err(Errno::EINVAL);
        };
        if f.size != 0 || f.backing.is_some() {
            return Err(Errno::EINVAL);
        }
        let count = size.div_ceil(PAGE_SIZE as u64);
        if first
            .checked_add(count)
            .is_none_or(|end| end > store.pages())
        {
            return Err(Errno::EINVAL);
        }
        self.fs.reserve_pages(count)?;
        f.backing = Some(Backing {
            store: store.clone(),
            first,
            count,
        });
        f.size = size;
        Ok(true)
    }

    fn readlink(&self) -> VfsResult<Vec<u8>> {
        match &self.state.lock().body {
            Body::Symlink(t) => Ok(t.clone()),
            _ => Err(Errno::EINVAL),
        }
    }

    fn lookup(&self, name: &[u8]) -> VfsResult<InodeRef> {
        self.with_dir(|_, d| d.get(name).map(|n| n as InodeRef).ok_or(Errno::ENOENT))
    }

    fn parent(&self) -> VfsResult<InodeRef> {
        let parent = self.with_dir(|_, d| Ok(d.parent.upgrade()))?;
        Ok(parent.unwrap_or_else(|| self.arc()))
    }

    fn create(&self, name: &[u8], node: NewNode<'_>, perm: u32, cred: Cred) -> VfsResult<InodeRef> {
        let _tree = self.fs.tree.lock();
        let (dir_perm, dir_gid, nlink) = self.with_dir(|m, d| {
            if d.by_name.contains_key(name) {
                return Err(Errno::EEXIST);
            }
            Ok((m.perm, m.gid, m.nlink))
        })?;
        let is_dir = node == NewNode::Directory;
        if is_dir && nlink >= self.fs.opts.max_links {
            return Err(Errno::EMLINK);
        }
        if self
            .fs
            .opts
            .max_inodes
            .is_some_and(|max| self.fs.used_inodes.load(Ordering::Relaxed) >= max)
        {
            return Err(Errno::ENOSPC);
        }
        let (body, rdev) = match node {
            NewNode::Regular => (Body::File(FileData::default()), 0),
            NewNode::Directory => (Body::Dir(DirData::new(self.me.clone())), 0),
            NewNode::Symlink(t) => (Body::Symlink(t.to_vec()), 0),
            NewNode::CharDevice(r) | NewNode::BlockDevice(r) => (Body::Special, r),
            NewNode::Fifo | NewNode::Socket => (Body::Special, 0),
        };
        let mut perm = perm & S_IALLUGO;
        let mut cred = cred;
        if dir_perm & S_ISGID != 0 {
            // BSD group semantics of a setgid directory.
            cred.gid = dir_gid;
            if is_dir {
                perm |= S_ISGID;
            }
        }
        let new = TmpNode::new(&self.fs, node.file_type(), body, perm, cred);
        {
            let mut st = new.state.lock();
            st.meta.rdev = rdev;
            if is_dir {
                st.meta.nlink = 2;
            }
        }
        self.with_dir(|_, d| {
            d.insert(name, new.clone());
            Ok(())
        })?;
        self.touch_dir(if is_dir { 1 } else { 0 });
        Ok(new)
    }

    fn create_unnamed(&self, perm: u32, cred: Cred) -> VfsResult<InodeRef> {
        self.with_dir(|_, _| Ok(()))?;
        if self
            .fs
            .opts
            .max_inodes
            .is_some_and(|max| self.fs.used_inodes.load(Ordering::Relaxed) >= max)
        {
            return Err(Errno::ENOSPC);
        }
        let new = TmpNode::new(
            &self.fs,
            FileType::Regular,
            Body::File(FileData::default()),
            perm,
            cred,
        );
        {
            let mut st = new.state.lock();
            st.meta.nlink = 0;
            st.meta.linkable = true;
        }
        Ok(new)
    }

    fn link(&self, name: &[u8], target: &InodeRef) -> VfsResult<()> {
        let _tree = self.fs.tree.lock();
        let target = self.downcast(target)?;
        if target.is_dir() {
            return Err(Errno::EPERM);
        }
        {
            let mut st = target.state.lock();
            if st.meta.nlink == 0 && !st.meta.linkable {
                return Err(Errno::ENOENT);
            }
            if st.meta.nlink >= self.fs.opts.max_links {
                return Err(Errno::EMLINK);
            }
            st.meta.linkable = false;
        }
        let target = target.arc();
        self.with_dir(|_, d| {
            if d.by_name.contains_key(name) {
                return Err(Errno::EEXIST);
            }
            d.insert(name, target.clone());
            Ok(())
        })?;
        target.change_nlink(1);
        self.touch_dir(0);
        Ok(())
    }

    fn unlink(&self, name: &[u8]) -> VfsResult<()> {
        let _tree = self.fs.tree.lock();
        let node = self.with_dir(|_, d| {
            let node = d.get(name).ok_or(Errno::ENOENT)?;
            if node.is_dir() {
                return Err(Errno::EISDIR);
            }
            d.remove(name);
            Ok(node)
        })?;
        node.change_nlink(-1);
        self.touch_dir(0);
        Ok(())
    }

    fn rmdir(&self, name: &[u8]) -> VfsResult<()> {
        let _tree = self.fs.tree.lock();
        let node = self.with_dir(|_, d| d.get(name).ok_or(Errno::ENOENT))?;
        if !node.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        if !node.is_empty() {
            return Err(Errno::ENOTEMPTY);
        }
        self.with_dir(|_, d| Ok(d.remove(name)))?;
        {
            let mut st = node.state.lock();
            st.meta.nlink = 0;
            st.meta.ctime = self.fs.now();
        }
        self.touch_dir(-1);
        Ok(())
    }

    fn rename(
        &self,
        old_name: &[u8],
        new_dir: &InodeRef,
        new_name: &[u8],
        flags: u32,
    ) -> VfsResult<()> {
        let _tree = self.fs.tree.lock();
        let nd = self.downcast(new_dir)?.arc();
        let od = self.arc();
        let src = self.with_dir(|_, d| d.get(old_name).ok_or(Errno::ENOENT))?;
        let dst = nd.with_dir(|_, d| Ok(d.get(new_name)))?;
        let moves_dir = !Arc::ptr_eq(&od, &nd);
        if flags & RENAME_EXCHANGE != 0 {
            let dst = dst.ok_or(Errno::ENOENT)?;
            if Arc::ptr_eq(&src, &dst) {
                return Ok(());
            }
            self.with_dir(|_, d| {
                d.replace_in_place(old_name, dst.clone());
                Ok(())
            })?;
            nd.with_dir(|_, d| {
                d.replace_in_place(new_name, src.clone());
                Ok(())
            })?;
            if moves_dir {
                if src.is_dir() {
                    src.set_parent(&nd);
                }
                if dst.is_dir() {
                    dst.set_parent(&od);
                }
                let delta = src.is_dir() as i32 - dst.is_dir() as i32;
                od.touch_dir(-delta);
                nd.touch_dir(delta);
            } else {
                od.touch_dir(0);
            }
            src.change_nlink(0);
            dst.change_nlink(0);
            return Ok(());
        }
        if let Some(dst) = &dst {
            if flags & RENAME_NOREPLACE != 0 {
                return Err(Errno::EEXIST);
            }
            if Arc::ptr_eq(&src, dst) {
                return Ok(());
            }
            match (src.is_dir(), dst.is_dir()) {
                (true, false) => return Err(Errno::ENOTDIR),
                (false, true) => return Err(Errno::EISDIR),
                (true, true) if !dst.is_empty() => return Err(Errno::ENOTEMPTY),
                _ => {}
            }
        }
        if src.is_dir()
            && moves_dir
            && nd.nlink() >= self.fs.opts.max_links
            && !dst.as_ref().is_some_and(|d| d.is_dir())
        {
            return Err(Errno::EMLINK);
        }
        // Insert first, so the new name never stops existing.
        nd.with_dir(|_, d| {
            d.insert(new_name, src.clone());
            Ok(())
        })?;
        self.with_dir(|_, d| Ok(d.remove(old_name)))?;
        let mut nd_delta = 0;
        if let Some(dst) = &dst {
            if dst.is_dir() {
                let mut st = dst.state.lock();
                st.meta.nlink = 0;
                st.meta.ctime = self.fs.now();
                nd_delta -= 1;
            } else {
                dst.change_nlink(-1);
            }
        }
        let mut od_delta = 0;
        if src.is_dir() {
            src.set_parent(&nd);
            if moves_dir {
                od_delta = -1;
                nd_delta += 1;
            }
        }
        if moves_dir {
            od.touch_dir(od_delta);
        }
        nd.touch_dir(nd_delta);
        src.change_nlink(0);
        Ok(())
    }

    fn read_dir(&self, cookie: u64) -> VfsResult<Option<DirEntry>> {
        let parent_ino =
            self.with_dir(|_, d| Ok(d.parent.upgrade().map_or(self.ino, |p| p.ino)))?;
        match cookie {
            0 => Ok(Some(DirEntry {
                ino: self.ino,
                kind: FileType::Directory,
                name: b".".to_vec(),
                next: 1,
            })),
            1 => Ok(Some(DirEntry {
                ino: parent_ino,
                kind: FileType::Directory,
                name: b"..".to_vec(),
                next: 2,
            })),
            _ => self.with_dir(|_, d| {
                Ok(d.by_pos
                    .range(cookie..)
                    .next()
                    .map(|(&pos, (name, node))| DirEntry {
                        ino: node.ino,
                        kind: node.kind,
                        name: name.clone(),
                        next: pos + 1,
                    }))
            }),
        }
    }

    fn xattrs(&self) -> Option<(&Xattrs, &dyn XattrBudget)> {
        Some((&self.xattrs, &*self.fs))
    }

    fn is_empty_dir(&self) -> VfsResult<bool> {
        self.with_dir(|_, d| Ok(d.by_pos.is_empty()))
    }
}
