//! 4-level page tables, as the `x86_64` crate's typed `PageTable`, `PageTableEntry` and
//! `PageTableFlags`. The boot stub maps the first 4 GiB of physical memory at
//! `PHYS_OFFSET` (the direct map) and at -2 GiB (the kernel image); RAM above 4 GiB
//! joins the direct map at boot (`extend_direct_map`); the lower half belongs to the
//! program and is mapped here, 4 KiB at a time. Every program has its own root table
//! (CR3): its lower half is its own, its upper half (entries 256..512) the kernel's,
//! shared by copying the boot root's entries (the kernel never adds top-level entries
//! after boot: `extend_direct_map` fills the existing direct-map PDPT, so the copies
//! stay true). Everything here acts on the root in CR3, i.e. the running program's.
//!
//! The tables are walked here by hand (not with the crate's `OffsetPageTable` mapper):
//! a walk visits only the tables that exist for a range (fork, munmap and exit cover
//! large sparse ranges), the last-level entry of a PROT_NONE page keeps its frame with
//! the software bit `PROT_NONE` and no PRESENT bit, and frames come from `mm::frames`.

use super::cpu;
use crate::mm::frames;
use x86_64::structures::paging::PageTable;
use x86_64::PhysAddr;

pub use x86_64::structures::paging::page_table::PageTableEntry;
pub use x86_64::structures::paging::PageTableFlags;

/// Where the kernel image is mapped: its virtual address = physical + this (boot.S).
pub const KERNEL_VMA: u64 = 0xffff_ffff_8000_0000;
/// Virtual address of physical address 0 in the direct map.
pub const PHYS_OFFSET: u64 = 0xffff_8000_0000_0000;
/// The boot stub's direct map covers this much physical memory (boot.S).
pub const BOOT_DIRECT_MAP_SIZE: u64 = 4 << 30;
/// The direct map can grow to this much (one PML4 entry's worth).
pub const MAX_DIRECT_MAP_SIZE: u64 = 512 << 30;
/// End of the program's half of the address space.
pub const USER_END: u64 = 0x0000_8000_0000_0000;

pub const PAGE_SIZE: u64 = 4096;

/// Software bit: the page exists but is mapped PROT_NONE (not present to the CPU).
pub const PROT_NONE: PageTableFlags = PageTableFlags::BIT_9;
/// A page that has a frame: present, or PROT_NONE.
const HAS_FRAME: PageTableFlags = PageTableFlags::PRESENT.union(PROT_NONE);
/// An entry that points at a lower table: the final entry decides the access.
const TABLE: PageTableFlags = PageTableFlags::PRESENT
    .union(PageTableFlags::WRITABLE)
    .union(PageTableFlags::USER_ACCESSIBLE);
/// The boot stub's entries (boot.S): tables, and the 2 MiB pages of its maps.
pub const BOOT_TABLE_FLAGS: u64 = PageTableFlags::PRESENT
    .union(PageTableFlags::WRITABLE)
    .bits();
pub const BOOT_HUGE_FLAGS: u64 = BOOT_TABLE_FLAGS | PageTableFlags::HUGE_PAGE.bits();

#[inline]
pub fn phys_to_virt(paddr: u64) -> *mut u8 {
    (paddr + PHYS_OFFSET) as *mut u8
}

/// Whether `e` holds a frame: a present page, or a PROT_NONE one.
#[inline]
pub fn has_frame(e: &PageTableEntry) -> bool {
    e.flags().intersects(HAS_FRAME)
}

/// Whether `e` is present to the CPU.
#[inline]
pub fn is_present(e: &PageTableEntry) -> bool {
    e.flags().contains(PageTableFlags::PRESENT)
}

/// The physical frame behind `e`.
#[inline]
pub fn frame_of(e: &PageTableEntry) -> u64 {
    e.addr().as_u64()
}

/// Whether two entries are equal (the same frame and flags).
fn same(a: &PageTableEntry, b: &PageTableEntry) -> bool {
    a.addr() == b.addr() && a.flags() == b.flags()
}

/// An entry mapping `frame` with `flags`.
pub fn entry_for(frame: u64, flags: PageTableFlags) -> PageTableEntry {
    let mut e = PageTableEntry::new();
    e.set_addr(PhysAddr::new(frame), flags);
    e
}

fn table(paddr: PhysAddr) -> &'static mut PageTable {
    // SAFETY: `paddr` is the physical address of a page-table page (from CR3 or a present
    // table entry), which lies in the direct map; the tables are only changed by this
    // module under the big kernel lock (one CPU at a time) with interrupts off, so no
    // other reference to the page is alive.
    unsafe { &mut *(phys_to_virt(paddr.as_u64()) as *mut PageTable) }
}

/// The table an entry of a higher level points at.
#[inline]
fn next(e: &PageTableEntry) -> &'static mut PageTable {
    table(e.addr())
}

fn root_addr(cr3: u64) -> PhysAddr {
    PhysAddr::new(cr3 & 0x000f_ffff_ffff_f000)
}

fn pml4() -> &'static mut PageTable {
    table(root_addr(cpu::read_cr3()))
}

/// Drops the boot stub's identity map of low memory: from here on the lower half is
/// the program's.
pub fn drop_identity_map() {
    pml4()[0].set_unused();
    cpu::write_cr3(cpu::read_cr3());
}

/// Extends the direct map from 4 GiB to cover physical memory up to `end` (at most
/// `MAX_DIRECT_MAP_SIZE`), with 2 MiB pages in page directories taken from the frame
/// allocator (from low memory: it hands out the lowest free frames first).
pub fn extend_direct_map(end: u64) -> Result<(), &'static str> {
    const GIB: u64 = 1 << 30;
    let pdpt = next(&pml4()[index(PHYS_OFFSET, 3)]);
    let huge = PageTableFlags::PRESENT
        | PageTableFlags::WRITABLE
        | PageTableFlags::HUGE_PAGE
        | PageTableFlags::NO_EXECUTE;
    let mut gib = BOOT_DIRECT_MAP_SIZE / GIB;
    while gib * GIB < end.min(MAX_DIRECT_MAP_SIZE) {
        if !is_present(&pdpt[gib as usize]) {
            let pd_frame =
                frames::alloc_zeroed().ok_or("out of memory while mapping RAM above 4 GiB")?;
            let pd_frame = PhysAddr::new(pd_frame);
            for (j, e) in table(pd_frame).iter_mut().enumerate() {
                e.set_addr(PhysAddr::new(gib * GIB + ((j as u64) << 21)), huge);
            }
            pdpt[gib as usize]
                .set_addr(pd_frame, PageTableFlags::PRESENT | PageTableFlags::WRITABLE);
        }
        gib += 1;
    }
    Ok(())
}

/// A new root table for another program: an empty lower half and the kernel's upper
/// half. Returns its physical address (the CR3 value), `None` when out of memory.
pub fn new_root() -> Option<u64> {
    let root = frames::alloc_zeroed()?;
    let (new, boot) = (table(PhysAddr::new(root)), pml4());
    for i in 256..512 {
        new[i] = boot[i].clone();
    }
    Some(root)
}

/// A root for application processors starting up: the kernel's upper half, and the
/// first 4 GiB identity-mapped in the lower half (the trampoline runs there when it
/// turns paging on). Below 4 GiB, as a 32-bit CR3 load needs.
pub fn new_root_with_low_identity() -> Option<u64> {
    let root = new_root()?;
    if root >= 1 << 32 {
        return None;
    }
    // The direct map's first PDPT covers physical 0..4 GiB (and more, 2 MiB pages).
    let direct = &pml4()[index(PHYS_OFFSET, 3)];
    table(PhysAddr::new(root))[0]
        .set_addr(direct.addr(), direct.flags() - PageTableFlags::NO_EXECUTE);
    Some(root)
}

/// Unmaps the whole lower half of the running root, handing each mapped frame to
/// `free_frame` and freeing the page tables themselves (the root stays). Other CPUs
/// with this root loaded drop their TLB entries first (they run none of its program
/// code now: its threads have ended).
pub fn clear_user_half(free_frame: impl FnMut(u64)) {
    super::smp::flush_all();
    clear_user_half_of(cpu::read_cr3(), free_frame);
    cpu::write_cr3(cpu::read_cr3());
}

/// As `clear_user_half`, for the root at `root` (which need not be the running one;
/// when it is, the caller flushes the TLB).
pub fn clear_user_half_of(root: u64, mut free_frame: impl FnMut(u64)) {
    // Indexed, not the crate's `PageTable::iter_mut` (a map over a range): with it (and
    // fork's callback rewriting every entry's flags), fork + exit of a process with 256
    // MiB touched took 1.5% more instructions than with `[u64; 512]` (bench/ab --icount).
    fn free_table(t: &mut PageTable, level: u32, free_frame: &mut dyn FnMut(u64)) {
        for i in 0..512 {
            let e = &mut t[i];
            if level == 0 {
                if has_frame(e) {
                    free_frame(frame_of(e));
                }
            } else if is_present(e) {
                free_table(next(e), level - 1, free_frame);
                frames::free(frame_of(e));
            }
            e.set_unused();
        }
    }
    let root = table(root_addr(root));
    for i in 0..256 {
        let e = &mut root[i];
        if is_present(e) {
            free_table(next(e), 2, &mut free_frame);
            frames::free(frame_of(e));
        }
        e.set_unused();
    }
}

/// For fork: for every page of `[start, end)` that has a frame in the running root,
/// calls `f(vaddr, entry)`, which may change the running root's entry and returns
/// the entry to put at `vaddr` in the root `child` (intermediate tables made there as
/// needed). The caller flushes the running root's TLB afterwards. `None` when out of
/// memory for the child's tables (the entries made so far stay, for the caller to
/// free with `clear_user_half_of`).
pub fn fork_range(
    child: u64,
    start: u64,
    end: u64,
    mut f: impl FnMut(u64, &mut PageTableEntry) -> PageTableEntry,
) -> Option<()> {
    let mut failed = false;
    let mut cached: Option<(u64, &'static mut PageTable)> = None;
    for_each_mapped(start, end, |va, e| {
        if failed {
            return;
        }
        // The child's last-level table for this 2 MiB, found (or made) once per table.
        let key = va >> 21;
        if cached.as_ref().is_none_or(|(k, _)| *k != key) {
            let mut t = table(root_addr(child));
            for level in (1..4).rev() {
                let ce = &mut t[index(va, level)];
                if !is_present(ce) {
                    let Some(frame) = frames::alloc_zeroed() else {
                        failed = true;
                        return;
                    };
                    ce.set_addr(PhysAddr::new(frame), TABLE);
                }
                t = next(ce);
            }
            cached = Some((key, t));
        }
        let child_entry = f(va, e);
        if let Some((_, t)) = cached.as_mut() {
            t[index(va, 0)] = child_entry;
        }
    });
    (!failed).then_some(())
}

fn index(vaddr: u64, level: u32) -> usize {
    ((vaddr >> (12 + 9 * level)) & 0x1ff) as usize
}

/// The page-table entry for `vaddr`, creating intermediate tables when `create`.
fn entry(vaddr: u64, create: bool) -> Option<&'static mut PageTableEntry> {
    let mut t = pml4();
    for level in (1..4).rev() {
        let e = &mut t[index(vaddr, level)];
        if !is_present(e) {
            if !create {
                return None;
            }
            let frame = frames::alloc_zeroed()?;
            e.set_addr(PhysAddr::new(frame), TABLE);
        }
        debug_assert!(!e.flags().contains(PageTableFlags::HUGE_PAGE));
        t = next(e);
    }
    Some(&mut t[index(vaddr, 0)])
}

/// Maps the 4 KiB page at `vaddr` to `paddr` with `flags`. `None` when out of memory
/// for page tables.
pub fn map(vaddr: u64, paddr: u64, flags: PageTableFlags) -> Option<()> {
    let e = entry(vaddr, true)?;
    let old = e.clone();
    e.set_addr(PhysAddr::new(paddr), flags);
    cpu::invlpg(vaddr);
    if is_present(&old) && !same(&old, e) {
        // Another frame or fewer rights (a copy-on-write break): no CPU may keep the old.
        super::smp::shootdown(cpu::read_cr3());
    }
    Some(())
}

/// The entry for `vaddr` (an unused one where nothing is mapped).
pub fn lookup(vaddr: u64) -> PageTableEntry {
    entry(vaddr, false).map_or(PageTableEntry::new(), |e| e.clone())
}

/// Replaces the flags of an existing mapping, keeping its frame.
pub fn set_flags(vaddr: u64, flags: PageTableFlags) {
    if let Some(e) = entry(vaddr, false) {
        if has_frame(e) {
            let old = e.clone();
            e.set_flags(flags);
            cpu::invlpg(vaddr);
            if is_present(&old) && !same(&old, e) {
                super::smp::shootdown(cpu::read_cr3());
            }
        }
    }
}

/// Calls `f(vaddr, entry)` for every page in `[start, end)` that has a frame (present
/// or PROT_NONE), skipping empty tables quickly.
pub fn for_each_mapped(start: u64, end: u64, mut f: impl FnMut(u64, &mut PageTableEntry)) {
    fn walk(
        t: &mut PageTable,
        level: u32,
        base: u64,
        start: u64,
        end: u64,
        f: &mut dyn FnMut(u64, &mut PageTableEntry),
    ) {
        let span = 1u64 << (12 + 9 * level);
        for i in 0..512u64 {
            let lo = base + i * span;
            let hi = lo + span;
            if hi <= start || lo >= end {
                continue;
            }
            let e = &mut t[i as usize];
            if level == 0 {
                if has_frame(e) {
                    f(lo, e);
                }
            } else if is_present(e) {
                walk(next(e), level - 1, lo, start, end, f);
            }
        }
    }
    walk(pml4(), 3, 0, start, end.min(USER_END), &mut f);
}

/// Unmaps every page in `[start, end)`, handing each frame to `free`.
/// With several CPUs, the frames are handed over only after every CPU with this root
/// loaded dropped its TLB entries (one shootdown for the whole range).
pub fn unmap_range(start: u64, end: u64, mut free: impl FnMut(u64)) {
    if super::percpu::online() < 2 {
        for_each_mapped(start, end, |vaddr, e| {
            free(frame_of(e));
            e.set_unused();
            cpu::invlpg(vaddr);
        });
        return;
    }
    let mut frames = alloc::vec::Vec::new();
    let mut was_present = false;
    for_each_mapped(start, end, |vaddr, e| {
        was_present |= is_present(e);
        frames.push(frame_of(e));
        e.set_unused();
        cpu::invlpg(vaddr);
    });
    if was_present {
        super::smp::shootdown(cpu::read_cr3());
    }
    frames.into_iter().for_each(free);
}
