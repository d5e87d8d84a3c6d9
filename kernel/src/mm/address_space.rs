//! A program's address space (the lower half): a map of areas (image segments, brk
//! heap, stack, anonymous mappings) with their protections. Each program has its own
//! (held by its `process::Process`, with its own page-table root); the functions here
//! act on the running program's, which the process layer names (`set_current`). Memory is committed lazily:
//! an area only reserves addresses, and the page-fault handler maps a zeroed frame the
//! first time a page is touched. PROT_NONE pages fault and become SIGSEGV.
//!
//! fork (`fork_into`) gives the child the same areas and a page-table copy whose
//! entries map the same frames (each shared frame counted in `frames`): private
//! areas become read-only in both, and the first write to such a page copies it
//! (`fault`), unless this process is its last user, which just makes it writable
//! again; MAP_SHARED areas stay writable and shared (their pages are committed at the
//! fork, so both sides see the same memory). Nothing is copied eagerly but page tables.

use super::frames;
use crate::arch::paging::{self, PageTableFlags as Pte, PAGE_SIZE};
use crate::arch::percpu::MAX_CPUS;
use crate::errno::{Errno, EFAULT, ENOMEM};
use crate::sync::PerCpu;
use alloc::sync::Arc;
use core::cell::Cell;
use core::sync::atomic::{AtomicU64, Ordering};
use rumprun_areas::Areas;
use spin::Mutex;

pub const PROT_READ: u32 = 1;
pub const PROT_WRITE: u32 = 2;
pub const PROT_EXEC: u32 = 4;

/// Top of the main thread's stack, and how much address space it reserves.
pub const STACK_TOP: u64 = 0x7fff_ffff_f000;
pub const STACK_SIZE: u64 = 8 << 20;
/// Anonymous mappings are placed top-down below this address.
const MMAP_TOP: u64 = 0x7f00_0000_0000;
const MMAP_BOTTOM: u64 = 0x1000_0000;

#[derive(Clone, Debug)]
pub struct Area {
    pub end: u64,
    pub prot: u32,
    /// The file behind a file mapping; None for anonymous memory.
    pub backing: Option<Backing>,
    /// MAP_SHARED anonymous memory: a forked child maps the same frames.
    pub shared: bool,
}

/// Where a file mapping's pages come from (and, when shared, go back to).
pub trait PageSource: Send + Sync {
    /// The page cache: a reference (the caller's to keep) to the frame holding the
    /// file's page `index`, the file's own (never a borrowed one) when `own`.
    /// `Ok(None)`: the file has no page cache, its pages are copies (`read`) written
    /// back on msync, munmap and exit (`write_back`).
    fn frame(&self, index: u64, own: bool) -> Result<Option<u64>, PageError>;
    /// Fills `page` with the file's bytes at `offset` (zeros past its end).
    fn read(&self, offset: u64, page: &mut [u8]);
    /// Writes `data` back at `offset`, never growing the file.
    fn write_back(&self, offset: u64, data: &[u8]);
    /// The file's size in bytes now (a page wholly past it: SIGBUS).
    fn size(&self) -> u64;
    /// The file's identity, `(dev, ino)`.
    fn key(&self) -> (u64, u64);
    /// True when `frame` gives the file's own pages (a page cache).
    fn has_pages(&self) -> bool;
    /// Reads page `index` into the page cache if it must come from a disk, called
    /// with no lock held (the read sleeps), after `frame` said `NeedsRead`.
    fn prefetch(&self, _index: u64) -> Result<(), PageError> {
        Ok(())
    }
}

/// Why a file page cannot be mapped.
#[derive(Debug)]
pub enum PageError {
    /// Wholly past the end of the file: SIGBUS, as Linux.
    PastEnd,
    /// No memory for it.
    NoMemory,
    /// The page must come from a disk first (`PageSource::prefetch`): `frame` never
    /// waits for one, since it runs under the address space's lock, maybe in a fault
    /// of kernel code.
    NeedsRead,
    /// The disk failed to give the page: SIGBUS for a program's access, EFAULT for a
    /// syscall's copy, as Linux.
    Io,
}

#[derive(Clone)]
pub struct Backing {
    pub source: Arc<dyn PageSource>,
    /// File offset of the area's first byte.
    pub offset: u64,
    /// MAP_SHARED: changes go back to the file (on msync, munmap and exit).
    pub shared: bool,
}

impl core::fmt::Debug for Backing {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "Backing {{ offset: {:#x}, shared: {} }}",
            self.offset, self.shared
        )
    }
}

impl Area {
    /// MAP_SHARED (anonymous or file): after fork both processes map the same frames,
    /// writable; private areas are copied on write.
    pub fn is_shared(&self) -> bool {
        self.shared || self.backing.as_ref().is_some_and(|b| b.shared)
    }

    /// The index of the file page that the page at `va` maps (this area starts at
    /// `start`), for a file mapping.
    fn file_page(&self, start: u64, va: u64) -> Option<u64> {
        self.backing
            .as_ref()
            .map(|b| (b.offset + (page_down(va) - start)) / PAGE_SIZE)
    }

    /// The part of this area (which starts at `start`) that begins at `from`.
    fn from(&self, start: u64, from: u64) -> Area {
        let mut a = self.clone();
        if let Some(b) = &mut a.backing {
            b.offset += from - start;
        }
        a
    }
}

impl rumprun_areas::Area for Area {
    fn end(&self) -> u64 {
        self.end
    }
    fn with_end(&self, end: u64) -> Self {
        Area {
            end,
            ..self.clone()
        }
    }
    fn tail(&self, start: u64, from: u64) -> Self {
        self.from(start, from)
    }
    /// As Linux merges mappings: private anonymous memory with the same rights, or
    /// the same file mapped the same way with the offsets running on. MAP_SHARED
    /// anonymous memory and SysV segments stay apart (each is its own object on Linux).
    fn joins(&self, start: u64, next: &Self) -> bool {
        self.prot == next.prot
            && !self.shared
            && !next.shared
            && match (&self.backing, &next.backing) {
                (None, None) => true,
                (Some(a), Some(b)) => {
                    a.shared == b.shared
                        && a.source.key() == b.source.key()
                        && a.offset + (self.end - start) == b.offset
                }
                _ => false,
            }
    }
}

pub struct AddressSpace {
    /// The areas' bookkeeping (find, split, gaps): `rumprun-areas`, host-tested.
    areas: Areas<Area>,
    brk_start: u64,
    brk: u64,
}

impl AddressSpace {
    /// An empty address space (nothing mapped, no brk yet).
    pub const fn new() -> Self {
        AddressSpace {
            areas: Areas::new(),
            brk_start: 0,
            brk: 0,
        }
    }
}

/// The address space of the program this CPU runs: set by the process layer whenever
/// that changes (`process::set_current`: a switch to another program's thread, or a
/// call made in another process's context).
static CURRENT: PerCpu<Cell<Option<&'static Mutex<AddressSpace>>>> =
    PerCpu::new([const { Cell::new(None) }; crate::sync::MAX_CPUS]);

/// Makes `space` the running program's.
pub fn set_current(space: &'static Mutex<AddressSpace>) {
    CURRENT.get().set(Some(space));
}

/// The running program's address space.
fn space() -> &'static Mutex<AddressSpace> {
    CURRENT
        .get()
        .get()
        .expect("no address space is current (process::init sets the first)")
}

#[derive(Debug)]
pub enum Error {
    /// Overlaps an existing mapping (MAP_FIXED_NOREPLACE).
    Exists,
    NoMemory,
    Invalid,
    /// The old range of mremap is not one mapping.
    Fault,
}

pub fn page_down(a: u64) -> u64 {
    a & !(PAGE_SIZE - 1)
}

/// Rounds up to a page boundary; lengths within a page of 2^64 round to u64::MAX
/// rounded down (callers treat that as "too large").
pub fn page_up(a: u64) -> u64 {
    a.checked_add(PAGE_SIZE - 1)
        .map_or(!(PAGE_SIZE - 1), |v| v & !(PAGE_SIZE - 1))
}

/// Page-table flags for a protection.
pub fn pte_flags(prot: u32) -> Pte {
    if prot & (PROT_READ | PROT_WRITE | PROT_EXEC) == 0 {
        return paging::PROT_NONE;
    }
    let mut f = Pte::PRESENT;
    if prot & PROT_WRITE != 0 {
        f |= Pte::WRITABLE;
    }
    if prot & PROT_EXEC == 0 {
        f |= Pte::NO_EXECUTE;
    }
    f
}

/// The most areas an address space holds (Linux's default vm.max_map_count): an mmap,
/// or an mprotect that would split an area, beyond it fails with ENOMEM. Each area
/// costs kernel heap; without a bound a program mapping without end ran the heap dry
/// and ended the VM.
pub const MAX_AREAS: usize = 65530;

impl AddressSpace {
    /// Ok when `more` areas may be added: under `MAX_AREAS`, and the kernel's memory
    /// is not down to the last of its reserve (`frames::kernel_low`).
    fn room_for(&self, more: usize) -> Result<(), Error> {
        if self.areas.len() + more > MAX_AREAS || frames::kernel_low() {
            return Err(Error::NoMemory);
        }
        Ok(())
    }

    fn find(&self, addr: u64) -> Option<(u64, Area)> {
        self.areas.find(addr).map(|(start, a)| (start, a.clone()))
    }

    fn is_free(&self, start: u64, end: u64) -> bool {
        self.areas.is_free(start, end)
    }

    /// Cuts `[start, end)` out of every area (splitting at the edges) and returns the
    /// pieces that were removed, in order.
    fn carve(&mut self, start: u64, end: u64) -> alloc::vec::Vec<(u64, Area)> {
        self.areas.carve(start, end)
    }

    /// `carve` in pieces of at most 256 areas, each piece handed to `f`: the removed
    /// areas are collected in a vector, and all of a range with tens of thousands of
    /// areas at once would take megabytes of kernel heap in one allocation.
    fn carve_in_pieces(&mut self, start: u64, end: u64, mut f: impl FnMut(&mut Self, u64, Area)) {
        let mut from = start;
        while from < end {
            let to = self
                .areas
                .range(from..end)
                .nth(256)
                .map_or(end, |(&s, _)| s);
            for (s, a) in self.carve(from, to) {
                f(self, s, a);
            }
            from = to;
        }
    }

    fn unmap(&mut self, start: u64, end: u64) {
        self.carve_in_pieces(start, end, |_, s, a| write_back(s, &a));
        paging::unmap_range(start, end, frames::free);
    }

    fn find_gap(&self, len: u64) -> Option<u64> {
        self.find_gap_in(len, MMAP_BOTTOM, MMAP_TOP)
    }

    /// The highest free `len` bytes within `[bottom, top)`.
    fn find_gap_in(&self, len: u64, bottom: u64, top: u64) -> Option<u64> {
        self.areas.find_gap_in(len, bottom, top)
    }
}

/// Writes the mapped pages of a shared file mapping back to its file.
fn write_back(start: u64, area: &Area) {
    let Some(b) = &area.backing else { return };
    if !b.shared || b.source.has_pages() {
        // A page-cache file's mapped frames are the file's: nothing to write back.
        return;
    }
    paging::for_each_mapped(start, area.end, |va, e| {
        if !paging::is_present(e) {
            return;
        }
        // SAFETY: a present PTE names a frame of RAM, reachable through the direct map; the
        // page is only read here while the caller holds the address space, so nothing
        // writes it meanwhile.
        let page = unsafe {
            core::slice::from_raw_parts(
                paging::phys_to_virt(paging::frame_of(e)),
                PAGE_SIZE as usize,
            )
        };
        b.source.write_back(b.offset + (va - start), page);
    });
}

/// Reserves `[start, end)` for a loaded image segment, merging with any segment that
/// shares a page with it.
pub fn add_image_area(start: u64, end: u64, prot: u32) {
    let mut s = space().lock();
    let mut cur = start;
    while cur < end {
        if let Some((_, a)) = s.find(cur) {
            cur = a.end;
            continue;
        }
        let next = s
            .areas
            .range(cur..)
            .next()
            .map_or(end, |(&n, _)| n.min(end));
        s.areas.insert(
            cur,
            Area {
                end: next,
                prot,
                backing: None,
                shared: false,
            },
        );
        cur = next;
    }
}

/// Sets up the brk heap (empty, starting at `start`) and the main stack.
pub fn init_heap_and_stack(brk_start: u64) {
    let mut s = space().lock();
    s.brk_start = brk_start;
    s.brk = brk_start;
    s.areas.insert(
        STACK_TOP - STACK_SIZE,
        Area {
            end: STACK_TOP,
            prot: PROT_READ | PROT_WRITE,
            backing: None,
            shared: false,
        },
    );
}

/// The brk syscall: moves the break, returning the (possibly unchanged) break.
pub fn brk(new: u64) -> u64 {
    let mut s = space().lock();
    let (start, old) = (s.brk_start, s.brk);
    if new < start {
        return old;
    }
    let (old_top, new_top) = (page_up(old), page_up(new));
    if new_top > old_top {
        if !s.is_free(old_top, new_top) || s.room_for(1).is_err() {
            return old;
        }
        // New heap pages, joined with the heap below (or what else they touch).
        s.areas.insert(
            old_top,
            Area {
                end: new_top,
                prot: PROT_READ | PROT_WRITE,
                backing: None,
                shared: false,
            },
        );
        s.areas.merge(old_top, new_top);
    } else if new_top < old_top {
        s.unmap(new_top, old_top);
    }
    s.brk = new;
    new
}

/// Reserves an anonymous mapping, MAP_SHARED when `shared` (a forked child shares
/// its pages). `fixed`: exactly at `addr`, replacing what is there (or failing with
/// `Exists` when `noreplace`). Otherwise `addr` is a hint.
pub fn map_anonymous(
    addr: u64,
    len: u64,
    prot: u32,
    fixed: bool,
    noreplace: bool,
    shared: bool,
) -> Result<u64, Error> {
    let area = Area {
        end: 0,
        prot,
        backing: None,
        shared,
    };
    map_area(addr, len, fixed, noreplace, area)
}

/// Puts `area` (its end aside) at `addr` for `len` bytes, as `map_anonymous` places
/// it, joined with the areas it touches where they allow.
fn map_area(addr: u64, len: u64, fixed: bool, noreplace: bool, area: Area) -> Result<u64, Error> {
    if len == 0 {
        return Err(Error::Invalid);
    }
    if len > paging::USER_END {
        return Err(Error::NoMemory);
    }
    let len = page_up(len);
    let mut s = space().lock();
    s.room_for(1)?;
    let start = if fixed {
        if !addr.is_multiple_of(PAGE_SIZE)
            || addr.checked_add(len).is_none_or(|e| e > paging::USER_END)
        {
            return Err(Error::Invalid);
        }
        if !s.is_free(addr, addr + len) {
            if noreplace {
                return Err(Error::Exists);
            }
            s.unmap(addr, addr + len);
        }
        addr
    } else if addr != 0
        && addr.is_multiple_of(PAGE_SIZE)
        && addr + len <= paging::USER_END
        && s.is_free(addr, addr + len)
    {
        addr
    } else {
        s.find_gap(len).ok_or(Error::NoMemory)?
    };
    s.areas.insert(
        start,
        Area {
            end: start + len,
            ..area
        },
    );
    s.areas.merge(start, start + len);
    Ok(start)
}

/// Where MAP_32BIT puts `len` bytes: the highest free range in Linux's window for it
/// on x86_64, 1 GiB to 2 GiB (so the address fits in 31 bits).
pub fn free_below_2g(len: u64) -> Option<u64> {
    if len == 0 || len > 1 << 30 {
        return None;
    }
    space()
        .lock()
        .find_gap_in(page_up(len), 0x4000_0000, 0x8000_0000)
}

/// munmap: releases `[addr, addr+len)`. Unmapped holes inside are fine, as on Linux.
pub fn unmap(addr: u64, len: u64) -> Result<(), Error> {
    if !addr.is_multiple_of(PAGE_SIZE)
        || len == 0
        || addr.checked_add(len).is_none_or(|e| e > paging::USER_END)
    {
        return Err(Error::Invalid);
    }
    space().lock().unmap(addr, addr + page_up(len));
    Ok(())
}

/// mprotect: every page of the range must be mapped (else ENOMEM, as Linux).
pub fn protect(addr: u64, len: u64, prot: u32) -> Result<(), Error> {
    if !addr.is_multiple_of(PAGE_SIZE) {
        return Err(Error::Invalid);
    }
    let end = addr.checked_add(page_up(len)).ok_or(Error::NoMemory)?;
    if end > paging::USER_END {
        return Err(Error::NoMemory);
    }
    let mut s = space().lock();
    let mut cur = addr;
    while cur < end {
        match s.find(cur) {
            Some((_, a)) => cur = a.end,
            None => return Err(Error::NoMemory),
        }
    }
    // Splitting the first or the last area adds one each.
    let splits = [addr, end]
        .into_iter()
        .filter(|&at| s.find(at).is_some_and(|(start, _)| start != at))
        .count();
    if splits > 0 {
        s.room_for(splits)?;
    }
    let mut private = false;
    s.carve_in_pieces(addr, end, |s, start, a| {
        private |= !a.is_shared();
        s.areas.insert(start, Area { prot, ..a });
    });
    s.areas.merge(addr, end);
    let flags = pte_flags(prot);
    paging::for_each_mapped(addr, end, |va, e| {
        // A private page another process still maps stays read-only: copy on write.
        let cow = private
            && flags.contains(Pte::WRITABLE)
            && frames::is_shared(paging::frame_of(e))
            && s.find(va).is_some_and(|(_, a)| !a.is_shared());
        paging::set_flags(va, if cow { flags - Pte::WRITABLE } else { flags });
    });
    Ok(())
}

/// Commits the page at `vaddr` now (used for the initial stack and loaded segments).
pub fn populate(vaddr: u64) -> Result<u64, Error> {
    let e = paging::lookup(vaddr);
    if paging::has_frame(&e) {
        return Ok(paging::frame_of(&e));
    }
    let prot = space()
        .lock()
        .find(vaddr)
        .map_or(PROT_READ | PROT_WRITE, |(_, a)| a.prot);
    let frame = frames::alloc_zeroed_for_program().ok_or(Error::NoMemory)?;
    paging::map(page_down(vaddr), frame, pte_flags(prot)).ok_or(Error::NoMemory)?;
    Ok(frame)
}

/// What the page-fault handler decided.
pub enum FaultOutcome {
    /// A page was committed; retry the access.
    Resolved,
    /// Not a valid access: deliver SIGSEGV.
    Invalid,
    /// Valid, but no memory left to back it.
    OutOfMemory,
    /// A page of a file mapping wholly past the file's end: SIGBUS.
    PastEnd,
    /// The page must be read from a disk first, which the caller could not wait for.
    NeedsRead,
}

/// Resolves a page fault at `addr` (error code `err`): commits the page when it
/// belongs to a readable/writable area, or, for a write to a present read-only page of
/// a writable area, copies it (copy-on-write after fork) or makes it writable.
///
/// Nothing here waits for a disk (it runs under the address space's lock, and for a
/// fault in kernel code on the exception stack): a file page that must be read first
/// is `NeedsRead`, and so is, with `may_read` false, a page of a file without a page
/// cache (read by copy from its disk).
pub fn fault(addr: u64, err: u64, may_read: bool) -> FaultOutcome {
    const ERR_PRESENT: u64 = 1;
    const ERR_WRITE: u64 = 2;
    const ERR_FETCH: u64 = 0x10;
    if addr >= paging::USER_END {
        return FaultOutcome::Invalid;
    }
    let Some(s) = space().try_lock() else {
        return FaultOutcome::Invalid;
    };
    // With several CPUs, another thread may have resolved this very fault while this
    // one waited for the kernel (both touched a new page, or wrote to a copy-on-write
    // one): the access is allowed now, and committing again would replace its page.
    let e = paging::lookup(addr).flags();
    if e.contains(Pte::PRESENT)
        && (err & ERR_WRITE == 0 || e.contains(Pte::WRITABLE))
        && (err & ERR_FETCH == 0 || !e.contains(Pte::NO_EXECUTE))
    {
        return FaultOutcome::Resolved;
    }
    let Some((area_start, area)) = s.find(addr) else {
        return FaultOutcome::Invalid;
    };
    if area.prot == 0 {
        return FaultOutcome::Invalid;
    }
    if err & ERR_PRESENT != 0 {
        if err & ERR_WRITE == 0 || err & ERR_FETCH != 0 || area.prot & PROT_WRITE == 0 {
            return FaultOutcome::Invalid;
        }
        return copy_on_write(page_down(addr), &area);
    }
    if !may_read && area.backing.as_ref().is_some_and(|b| !b.source.has_pages()) {
        return FaultOutcome::NeedsRead;
    }
    commit(area_start, &area, page_down(addr))
}

/// After a fault said `NeedsRead`, in a context that may sleep (a program's fault, on
/// its thread's kernel stack, or a syscall's copy): the file page at `addr` is read
/// into its page cache with no lock held, since the read sleeps and another thread of
/// the program may fault or map meanwhile.
fn prefetch_file_page(addr: u64) -> Result<(), PageError> {
    let found = space().try_lock().and_then(|s| {
        let (start, a) = s.find(addr)?;
        let b = a.backing.as_ref()?;
        Some((
            b.source.clone(),
            (b.offset + page_down(addr) - start) / PAGE_SIZE,
        ))
    });
    match found {
        Some((source, index)) => source.prefetch(index),
        None => Ok(()),
    }
}

/// A write to the present, read-only page `va` of the writable `area`: a private page
/// that another process still maps is copied; otherwise it becomes writable.
fn copy_on_write(va: u64, area: &Area) -> FaultOutcome {
    let e = paging::lookup(va);
    if !paging::is_present(&e) {
        return FaultOutcome::Invalid;
    }
    let old = paging::frame_of(&e);
    if area.is_shared() || !frames::is_shared(old) {
        paging::set_flags(va, pte_flags(area.prot));
        return FaultOutcome::Resolved;
    }
    let Some(new) = frames::alloc_for_program() else {
        return FaultOutcome::OutOfMemory;
    };
    // SAFETY: both frames are whole pages in the direct map; `new` is ours alone.
    unsafe {
        core::ptr::copy_nonoverlapping(
            paging::phys_to_virt(old),
            paging::phys_to_virt(new),
            PAGE_SIZE as usize,
        );
    }
    if paging::map(va, new, pte_flags(area.prot)).is_none() {
        frames::free(new);
        return FaultOutcome::OutOfMemory;
    }
    frames::free(old); // this process's reference
    FaultOutcome::Resolved
}

/// Maps a page at `va` in `area` (which starts at `area_start`): a fresh zeroed one;
/// for a file mapping, the file's own frame from its page cache (MAP_SHARED: writable,
/// the very page read and write use; private: read-only, copied on the first write),
/// or a copy of the file's bytes for a file without one. SIGBUS past the file's end.
fn commit(area_start: u64, area: &Area, va: u64) -> FaultOutcome {
    if let Some(b) = &area.backing {
        let offset = b.offset + (va - area_start);
        match b.source.frame(offset / PAGE_SIZE, area.is_shared()) {
            Ok(Some(frame)) => {
                let mut flags = pte_flags(area.prot);
                if !area.is_shared() {
                    flags -= Pte::WRITABLE; // the cache holds the frame too: COW
                }
                if paging::map(va, frame, flags).is_none() {
                    frames::free(frame);
                    return FaultOutcome::OutOfMemory;
                }
                return FaultOutcome::Resolved;
            }
            Ok(None) if offset >= page_up(b.source.size()) => return FaultOutcome::PastEnd,
            Ok(None) => {}
            Err(PageError::PastEnd) => return FaultOutcome::PastEnd,
            Err(PageError::NoMemory) => return FaultOutcome::OutOfMemory,
            Err(PageError::NeedsRead | PageError::Io) => return FaultOutcome::NeedsRead,
        }
    }
    let Some(frame) = frames::alloc_zeroed_for_program() else {
        return FaultOutcome::OutOfMemory;
    };
    if let Some(b) = &area.backing {
        // SAFETY: a whole frame in the direct map that nothing else maps yet.
        let page = unsafe {
            core::slice::from_raw_parts_mut(paging::phys_to_virt(frame), PAGE_SIZE as usize)
        };
        b.source.read(b.offset + (va - area_start), page);
    }
    if paging::map(va, frame, pte_flags(area.prot)).is_none() {
        frames::free(frame);
        return FaultOutcome::OutOfMemory;
    }
    FaultOutcome::Resolved
}

/// fork: gives `child_root` (an empty lower half) the running program's mappings and
/// returns the child's address space. Private pages are shared read-only by both
/// (copied on the first write), MAP_SHARED ones shared writable; the shared areas'
/// untouched pages are committed first so that both sides map the same frames.
/// `NoMemory` leaves entries in the child's root for the caller to free.
pub fn fork_into(child_root: u64) -> Result<AddressSpace, Error> {
    let s = space().lock();
    // The child's copy of the areas comes from the kernel heap (about 128 bytes an
    // area): refused unless that much is free beyond the kernel's reserve.
    let heap_frames = (s.areas.len() * 128).div_ceil(PAGE_SIZE as usize);
    if !frames::free_at_least(frames::KERNEL_RESERVE + heap_frames) || frames::kernel_low() {
        return Err(Error::NoMemory);
    }
    // A page-cache file's pages need nothing: both sides fault in the file's frames.
    let uncached = |a: &Area| a.backing.as_ref().is_none_or(|b| !b.source.has_pages());
    for (&start, a) in s
        .areas
        .iter()
        .filter(|(_, a)| a.is_shared() && a.prot != 0 && uncached(a))
    {
        let mut va = start;
        while va < a.end {
            if !paging::has_frame(&paging::lookup(va)) {
                match commit(start, a, va) {
                    FaultOutcome::Resolved | FaultOutcome::PastEnd => {}
                    // Not for these areas (no page cache): a disk error.
                    FaultOutcome::NeedsRead => return Err(Error::NoMemory),
                    _ => return Err(Error::NoMemory),
                }
            }
            va += PAGE_SIZE;
        }
    }
    let mut failed = false;
    for (&start, a) in s.areas.iter() {
        let private = !a.is_shared();
        let done = paging::fork_range(child_root, start, a.end, |_, e| {
            let frame = paging::frame_of(e);
            if frames::share(frame) {
                let flags = e.flags();
                if private && flags.contains(Pte::WRITABLE) {
                    e.set_flags(flags - Pte::WRITABLE);
                }
                return e.clone();
            }
            // The frame's counter is full: the child gets its own copy.
            let Some(copy) = frames::alloc_for_program() else {
                failed = true;
                return paging::PageTableEntry::new();
            };
            // SAFETY: whole frames in the direct map; `copy` is new.
            unsafe {
                core::ptr::copy_nonoverlapping(
                    paging::phys_to_virt(frame),
                    paging::phys_to_virt(copy),
                    PAGE_SIZE as usize,
                );
            }
            paging::entry_for(copy, e.flags())
        });
        if done.is_none() || failed {
            crate::arch::smp::flush_all();
            return Err(Error::NoMemory);
        }
    }
    // The parent's private pages are read-only now: on every CPU that runs it.
    crate::arch::smp::flush_all();
    Ok(AddressSpace {
        areas: s.areas.clone(),
        brk_start: s.brk_start,
        brk: s.brk,
    })
}

/// The physical address behind `addr` when it lies in a committed page of a
/// MAP_SHARED area (shared futexes meet there across processes).
pub fn shared_phys_addr(addr: u64) -> Option<u64> {
    let s = space().try_lock()?;
    let (_, area) = s.find(addr)?;
    if !area.is_shared() {
        return None;
    }
    let e = paging::lookup(addr);
    paging::is_present(&e).then(|| paging::frame_of(&e) + (addr & (PAGE_SIZE - 1)))
}

/// True when `addr` lies in a page of a file mapping wholly past the file's end (a
/// fault there is SIGBUS, not SIGSEGV).
pub fn past_end(addr: u64) -> bool {
    let Some(s) = space().try_lock() else {
        return false;
    };
    let Some((start, a)) = s.find(addr) else {
        return false;
    };
    match (&a.backing, a.file_page(start, addr)) {
        (Some(b), Some(index)) => index * PAGE_SIZE >= page_up(b.source.size()),
        _ => false,
    }
}

/// The pages `[first, end)` of the file `key` are gone from its page cache (truncated
/// or punched out): the running program's mappings of them (shared ones and private
/// copies alike, as Linux) are dropped, so that the next access faults again (SIGBUS
/// past the end, or the file's new page).
pub fn drop_file_pages(key: (u64, u64), first: u64, end: u64) {
    let s = space().lock();
    for (&start, a) in s.areas.iter() {
        let Some(b) = &a.backing else { continue };
        if b.source.key() != key {
            continue;
        }
        let lo = first.saturating_mul(PAGE_SIZE).max(b.offset);
        let hi = end
            .saturating_mul(PAGE_SIZE)
            .min(b.offset + (a.end - start));
        if lo < hi {
            paging::unmap_range(
                start + (lo - b.offset),
                start + (hi - b.offset),
                frames::free,
            );
        }
    }
}

/// The area containing `addr`, for fault reports.
pub fn area_at(addr: u64) -> Option<(u64, Area)> {
    space().try_lock()?.find(addr)
}

/// What became of a page fault, for the trap handler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageFault {
    /// The access may be retried.
    Resolved,
    /// No area allows it (or it lies past a file's end): a signal or a fault report.
    Invalid,
    /// A valid access that no memory is left to back.
    OutOfMemory,
    /// A fault in kernel code (a user copy) at a file page that must come from a disk:
    /// it cannot wait there (the exception stack), so the copy stops at its fixup and
    /// `mm::user` reads the page (`fault_in`) and copies on.
    NeedsPageIn,
    /// The disk failed to give a file page the program touched: SIGBUS (`sigbus_at`).
    IoError,
}

/// Per CPU: the page (| 1 for a write) a fault in kernel code left for `fault_in`.
static PAGE_IN: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];
/// Per CPU: the address of the last program fault the disk failed (SIGBUS).
static IO_ERROR: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];

fn this_cpu() -> usize {
    crate::arch::percpu::cpu_id() as usize % MAX_CPUS
}

/// How often one access may find its page read and dropped again before it is given
/// up as out of memory.
const READ_TRIES: u32 = 16;

/// Resolves a fault at `addr` in a context that may sleep: a file page that must come
/// from a disk is read (no lock held) and the fault retried.
fn fault_reading(addr: u64, err: u64) -> FaultOutcome {
    for _ in 0..READ_TRIES {
        match fault(addr, err, true) {
            FaultOutcome::NeedsRead => {}
            other => return other,
        }
        match prefetch_file_page(addr) {
            Ok(()) => {}
            Err(PageError::Io) => {
                crate::console::log_once(
                    "page-in-eio",
                    "rumprun: reading a page of a mapped file from its disk failed (EIO): SIGBUS to the program, EFAULT to a syscall",
                );
                return FaultOutcome::NeedsRead;
            }
            Err(_) => return FaultOutcome::OutOfMemory,
        }
    }
    FaultOutcome::OutOfMemory
}

/// Called by the trap handler. `from_program`: the fault came from program code (it
/// runs on the thread's kernel stack and may sleep, so it reads what it needs from a
/// disk); a fault in kernel code (a user copy) runs on the exception stack and must
/// not: `NeedsPageIn` (the copy's fixup and `fault_in` do the rest).
pub fn handle_page_fault(addr: u64, err: u64, from_program: bool) -> PageFault {
    const ERR_WRITE: u64 = 2;
    let cpu = this_cpu();
    IO_ERROR[cpu].store(0, Ordering::Relaxed);
    let outcome = if from_program {
        fault_reading(addr, err)
    } else {
        fault(addr, err, false)
    };
    match outcome {
        FaultOutcome::Resolved => PageFault::Resolved,
        FaultOutcome::Invalid | FaultOutcome::PastEnd => PageFault::Invalid,
        FaultOutcome::OutOfMemory => PageFault::OutOfMemory,
        FaultOutcome::NeedsRead if from_program => {
            IO_ERROR[cpu].store(addr, Ordering::Relaxed);
            PageFault::IoError
        }
        FaultOutcome::NeedsRead => {
            PAGE_IN[cpu].store(
                page_down(addr) | (err & ERR_WRITE != 0) as u64,
                Ordering::Relaxed,
            );
            PageFault::NeedsPageIn
        }
    }
}

/// The page a fault in kernel code on this CPU could not read (a user copy that
/// stopped short because of it), with whether it was a write; taken once.
pub fn take_page_in() -> Option<(u64, bool)> {
    match PAGE_IN[this_cpu()].swap(0, Ordering::Relaxed) {
        0 => None,
        v => Some((v & !1, v & 1 != 0)),
    }
}

/// Makes the program page at `addr` accessible (for a write with `write`) from a
/// syscall's context, reading it from its disk if need be (`mm::user`'s copies, after
/// a fault in kernel code said `NeedsPageIn`). EFAULT: no area allows it, or the
/// disk failed; ENOMEM: no memory for it.
pub fn fault_in(addr: u64, write: bool) -> Result<(), Errno> {
    const ERR_PRESENT: u64 = 1;
    const ERR_WRITE: u64 = 2;
    let mut err = if write { ERR_WRITE } else { 0 };
    if paging::is_present(&paging::lookup(addr)) {
        err |= ERR_PRESENT;
    }
    match fault_reading(addr, err) {
        FaultOutcome::Resolved => Ok(()),
        FaultOutcome::OutOfMemory => Err(ENOMEM),
        FaultOutcome::Invalid | FaultOutcome::PastEnd | FaultOutcome::NeedsRead => Err(EFAULT),
    }
}

/// True when a program fault at `addr` is SIGBUS: past the end of a mapped file, or
/// the disk failed to give its page (the last fault on this CPU).
pub fn sigbus_at(addr: u64) -> bool {
    past_end(addr) || (addr != 0 && IO_ERROR[this_cpu()].load(Ordering::Relaxed) == addr)
}

/// How many bytes from `start` on (up to `end`) lie in areas the program may write:
/// syscalls bound an output buffer by this before they consume data for it.
pub fn writable_len(start: u64, end: u64) -> u64 {
    let Some(s) = space().try_lock() else {
        return 0;
    };
    let mut cur = start;
    while cur < end {
        match s.find(cur) {
            Some((_, a)) if a.prot & PROT_WRITE != 0 => cur = a.end,
            _ => break,
        }
    }
    cur.min(end) - start
}

/// True when every page of `[start, end)` is mapped (any protection).
pub fn is_mapped(start: u64, end: u64) -> bool {
    let s = space().lock();
    let mut cur = start;
    while cur < end {
        match s.find(cur) {
            Some((_, a)) => cur = a.end,
            None => return false,
        }
    }
    true
}

/// madvise(MADV_DONTNEED): drops the pages' contents; they read as zero next time.
pub fn discard(start: u64, end: u64) {
    let _s = space().lock();
    paging::unmap_range(start, end, frames::free);
}

/// mremap: resizes the mapping at `old` (which must lie within one area), growing in
/// place when the addresses after it are free, else moving it (its pages move with
/// it, no copying) when `may_move`, or to exactly `fixed_to`.
pub fn remap(
    old: u64,
    old_len: u64,
    new_len: u64,
    may_move: bool,
    fixed_to: Option<u64>,
) -> Result<u64, Error> {
    if !old.is_multiple_of(PAGE_SIZE) || new_len == 0 {
        return Err(Error::Invalid);
    }
    let (old_len, new_len) = (page_up(old_len), page_up(new_len));
    let mut s = space().lock();
    let (area_start, area) = s.find(old).ok_or(Error::Fault)?;
    // The old range may span several adjacent areas (e.g. after growing in place).
    let mut cur = area.end;
    while cur < old + old_len {
        match s.find(cur) {
            Some((start, a)) if start == cur => cur = a.end,
            _ => return Err(Error::Fault),
        }
    }
    if fixed_to.is_none() {
        if new_len <= old_len {
            s.unmap(old + new_len, old + old_len);
            return Ok(old);
        }
        if s.is_free(old + old_len, old + new_len) && old + new_len <= paging::USER_END {
            s.areas.insert(
                old + old_len,
                Area {
                    end: old + new_len,
                    ..area.from(area_start, old + old_len)
                },
            );
            s.areas.merge(old, old + new_len);
            return Ok(old);
        }
        if !may_move {
            return Err(Error::NoMemory);
        }
    }
    let dest = match fixed_to {
        Some(d) => {
            if !d.is_multiple_of(PAGE_SIZE)
                || d.checked_add(new_len).is_none_or(|e| e > paging::USER_END)
            {
                return Err(Error::Invalid);
            }
            if d < old + old_len && old < d + new_len {
                return Err(Error::Invalid);
            }
            s.unmap(d, d + new_len);
            d
        }
        None => s.find_gap(new_len).ok_or(Error::NoMemory)?,
    };
    let keep = old_len.min(new_len);
    let mut moved = alloc::vec::Vec::new();
    paging::for_each_mapped(old, old + keep, |va, e| moved.push((va - old, e.clone())));
    s.carve(old, old + old_len);
    paging::unmap_range(old + keep, old + old_len, frames::free);
    paging::unmap_range(old, old + keep, |_| {}); // these frames move to `dest`
    for (off, e) in moved {
        paging::map(dest + off, paging::frame_of(&e), e.flags()).ok_or(Error::NoMemory)?;
    }
    s.areas.insert(
        dest,
        Area {
            end: dest + new_len,
            ..area.from(area_start, old)
        },
    );
    s.areas.merge(dest, dest + new_len);
    Ok(dest)
}

/// Calls `f(start, end, prot)` for every area in address order until it returns
/// false (/proc/self/maps: no copy of the list, which a program can make as long as
/// it has mappings). `f` runs under the address-space lock: it must not allocate much
/// or touch the program's memory.
pub fn for_each_area(mut f: impl FnMut(u64, u64, u32) -> bool) {
    for (&s, a) in space().lock().areas.iter() {
        if !f(s, a.end, a.prot) {
            break;
        }
    }
}

/// Maps `len` bytes of a file at `offset` (page aligned): pages are read from the file
/// when first touched; with `shared`, written back on msync, munmap and exit.
pub fn map_file(
    addr: u64,
    len: u64,
    prot: u32,
    fixed: bool,
    noreplace: bool,
    backing: Backing,
) -> Result<u64, Error> {
    let area = Area {
        end: 0,
        prot,
        backing: Some(backing),
        shared: false,
    };
    map_area(addr, len, fixed, noreplace, area)
}

/// Maps `frames` (each gets one more reference) as a MAP_SHARED area of `len` bytes
/// at `addr` (exactly there, replacing what is there; 0: anywhere): SysV shared
/// memory.
pub fn map_frames(addr: u64, len: u64, prot: u32, frames_: &[u64]) -> Result<u64, Error> {
    let start = map_anonymous(addr, len, prot, addr != 0, false, true)?;
    let mut s = space().lock();
    for (i, &f) in frames_.iter().enumerate() {
        let va = start + i as u64 * PAGE_SIZE;
        let mapped = frames::share(f) && {
            let ok = paging::map(va, f, pte_flags(prot)).is_some();
            if !ok {
                frames::free(f); // the reference just taken
            }
            ok
        };
        if !mapped {
            s.unmap(start, start + len);
            return Err(Error::NoMemory);
        }
    }
    Ok(start)
}

/// msync: writes shared file pages in the range back (ENOMEM if not all mapped).
pub fn sync_range(addr: u64, len: u64) -> Result<(), Error> {
    let end = addr.checked_add(page_up(len)).ok_or(Error::NoMemory)?;
    if !is_mapped(addr, end) {
        return Err(Error::NoMemory);
    }
    let s = space().lock();
    for (&start, a) in s.areas.range(..end) {
        if a.end > addr {
            let from = start.max(addr);
            write_back(
                from,
                &Area {
                    end: a.end.min(end),
                    ..a.from(start, from)
                },
            );
        }
    }
    Ok(())
}

/// Forgets every area and frees every page of the running program (it has ended and
/// other programs go on): the page tables of the lower half go too.
pub fn release_all() {
    space().lock().areas.clear();
    paging::clear_user_half(frames::free);
}

/// Forgets every area without touching the page tables (a vfork child ending or
/// exec'ing: the tables are its parent's).
pub fn forget_areas() {
    space().lock().areas.clear();
}

/// A copy of the running program's areas and break (for a vfork child, which maps
/// the same pages through the same tables).
pub fn snapshot() -> AddressSpace {
    let s = space().lock();
    AddressSpace {
        areas: s.areas.clone(),
        brk_start: s.brk_start,
        brk: s.brk,
    }
}

/// Writes every shared file mapping back (the program is ending).
pub fn sync_all() {
    if let Some(s) = space().try_lock() {
        for (&start, a) in s.areas.iter() {
            write_back(start, a);
        }
    }
}
