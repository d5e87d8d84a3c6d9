//! Loading the program: its ELF segments into the address space, the Linux initial
//! stack (argc, argv, envp, auxv), and its symbol table for fault reports.

pub mod elf;
pub mod stack;
pub mod symbols;

use crate::arch::paging::phys_to_virt;
use crate::mm::address_space::{
    self as aspace, page_down, page_up, PROT_EXEC, PROT_READ, PROT_WRITE,
};
use elf::{Elf, PF_R, PF_W, PF_X, PT_INTERP, PT_LOAD};

/// Where a static-pie (ET_DYN) program is placed, as Linux does.
pub const PIE_BASE: u64 = 0x5555_5555_4000;

/// A program in memory, ready to start.
pub struct Loaded {
    pub entry: u64,
    /// Load bias: 0 for ET_EXEC, PIE_BASE for static-pie.
    pub base: u64,
    pub phdr: u64,
    pub phnum: u16,
    pub phent: u16,
}

#[derive(Debug)]
pub enum LoadError {
    Elf(&'static str),
    NoMemory,
}

/// Copies every PT_LOAD segment of `image` into fresh, committed pages and sets up the
/// brk heap right after the highest segment.
pub fn load(image: &[u8]) -> Result<Loaded, LoadError> {
    let elf = Elf::parse(image).map_err(LoadError::Elf)?;
    if elf.phdrs().any(|p| p.p_type == PT_INTERP) {
        return Err(LoadError::Elf(
            "dynamically linked programs are not supported yet (bake a static one)",
        ));
    }
    let base = if elf.is_dyn() { PIE_BASE } else { 0 };
    let mut top = 0;
    let mut phdr = 0;
    for p in elf.phdrs().filter(|p| p.p_type == PT_LOAD) {
        let start = base + p.p_vaddr;
        let end = start + p.p_memsz;
        if p.p_filesz > p.p_memsz || p.p_offset.saturating_add(p.p_filesz) > image.len() as u64 {
            return Err(LoadError::Elf("a segment lies outside the file"));
        }
        if end > crate::arch::paging::USER_END || end < start {
            return Err(LoadError::Elf(
                "a segment lies outside the program's address range",
            ));
        }
        let mut prot = 0;
        if p.p_flags & PF_R != 0 {
            prot |= PROT_READ;
        }
        if p.p_flags & PF_W != 0 {
            prot |= PROT_WRITE;
        }
        if p.p_flags & PF_X != 0 {
            prot |= PROT_EXEC;
        }
        aspace::add_image_area(page_down(start), page_up(end), prot);
        let mut va = page_down(start);
        while va < end {
            let frame = aspace::populate(va).map_err(|_| LoadError::NoMemory)?;
            // A page shared with the previous segment (whose area it stays in) gets
            // both segments' access: code stays executable, data stays writable.
            let area_prot = aspace::area_at(va).map_or(prot, |(_, a)| a.prot);
            if area_prot != prot {
                crate::arch::paging::set_flags(va, aspace::pte_flags(area_prot | prot));
            }
            // Copy the part of [start, start+filesz) that falls in this page.
            let (lo, hi) = (va.max(start), (va + 4096).min(start + p.p_filesz));
            if lo < hi {
                let src =
                    &image[(p.p_offset + lo - start) as usize..(p.p_offset + hi - start) as usize];
                unsafe {
                    core::ptr::copy_nonoverlapping(
                        src.as_ptr(),
                        phys_to_virt(frame).add((lo - va) as usize),
                        src.len(),
                    );
                }
            }
            va += 4096;
        }
        if p.p_offset <= elf.phoff() && elf.phoff() < p.p_offset + p.p_filesz {
            phdr = start + elf.phoff() - p.p_offset;
        }
        top = top.max(end);
    }
    if top == 0 {
        return Err(LoadError::Elf("the program has no loadable segments"));
    }
    aspace::init_heap_and_stack(page_up(top));
    Ok(Loaded {
        entry: base + elf.entry(),
        base,
        phdr,
        phnum: elf.phnum(),
        phent: elf.phentsize(),
    })
}
