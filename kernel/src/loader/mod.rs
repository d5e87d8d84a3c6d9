//! Loading the program: its ELF segments into the address space, its ELF interpreter
//! (the dynamic loader named by PT_INTERP, read from the root file system, where
//! rumprun-bake put it with the libraries), the Linux initial stack (argc, argv, envp,
//! auxv), and its symbol table for fault reports.

pub mod elf;
pub mod stack;
pub mod symbols;

use crate::arch::paging::phys_to_virt;
use crate::mm::address_space::{
    self as aspace, page_down, page_up, PROT_EXEC, PROT_READ, PROT_WRITE,
};
use elf::{Elf, Phdr, PF_R, PF_W, PF_X, PT_INTERP, PT_LOAD};

/// Where a static-pie (ET_DYN) program is placed, as Linux does.
pub const PIE_BASE: u64 = 0x5555_5555_4000;
/// Where the ELF interpreter (dynamic loader) is placed: just above the top of the
/// mmap area (below 0x7f0000000000) and far below the stack.
pub const INTERP_BASE: u64 = 0x7f00_0000_0000;

/// A program in memory, ready to start.
pub struct Loaded {
    /// Where execution starts: the interpreter's entry point, or the program's.
    pub entry: u64,
    /// The program's own entry point (AT_ENTRY).
    pub program_entry: u64,
    /// Load bias: 0 for ET_EXEC, PIE_BASE for (static-)pie.
    pub base: u64,
    /// The interpreter's load bias (AT_BASE), 0 without one.
    pub interp_base: u64,
    pub phdr: u64,
    pub phnum: u16,
    pub phent: u16,
}

#[derive(Debug)]
pub enum LoadError {
    Elf(&'static str),
    NoMemory,
}

/// Bytes of the ELF head read for parsing: the ELF header, the program headers and
/// the interpreter path normally lie in the first page.
const HEAD: usize = 4096;

/// An ELF file to load: bytes in memory (copied into the program's pages), or a file
/// of the root file system, whose page-cache pages are mapped, not copied (private:
/// copied on the first write), and whose other bytes are read.
pub enum Image<'a> {
    Bytes(&'a [u8]),
    File {
        node: rumprun_vfs::InodeRef,
        /// The first bytes (at least the headers and the interpreter path).
        head: alloc::vec::Vec<u8>,
        size: u64,
    },
}

impl Image<'_> {
    /// The file `node`: its head is read (the whole file when its headers or
    /// interpreter path lie further on). Errors are the VFS's.
    pub fn open(node: rumprun_vfs::InodeRef) -> Result<Image<'static>, rumprun_vfs::Errno> {
        let size = node.stat().size;
        let read = |len: usize| -> Result<alloc::vec::Vec<u8>, rumprun_vfs::Errno> {
            let mut buf = alloc::vec![0; len];
            let mut done = 0;
            while done < len {
                match rumprun_vfs::Vfs::read_at(&node, done as u64, &mut buf[done..])? {
                    0 => break,
                    n => done += n,
                }
            }
            buf.truncate(done);
            Ok(buf)
        };
        let mut head = read((size as usize).min(HEAD))?;
        let needs_more = |h: &[u8]| match Elf::parse(h) {
            Err(_) => h.len() < size as usize && h.starts_with(b"\x7fELF"),
            Ok(e) => e
                .phdrs()
                .filter(|p| p.p_type == PT_INTERP)
                .any(|p| p.p_offset.saturating_add(p.p_filesz) > h.len() as u64),
        };
        if needs_more(&head) {
            head = read(size as usize)?;
        }
        Ok(Image::File { node, head, size })
    }

    /// The bytes to parse headers from.
    pub fn head(&self) -> &[u8] {
        match self {
            Image::Bytes(b) => b,
            Image::File { head, .. } => head,
        }
    }

    /// The file's size.
    pub fn size(&self) -> u64 {
        self.len()
    }

    fn len(&self) -> u64 {
        match self {
            Image::Bytes(b) => b.len() as u64,
            Image::File { size, .. } => *size,
        }
    }

    /// Copies the file's bytes at `offset` into `dst`.
    fn read(&self, offset: u64, dst: &mut [u8]) -> Result<(), LoadError> {
        match self {
            Image::Bytes(b) => {
                dst.copy_from_slice(&b[offset as usize..offset as usize + dst.len()]);
                Ok(())
            }
            Image::File { node, .. } => {
                let mut done = 0;
                while done < dst.len() {
                    match rumprun_vfs::Vfs::read_at(node, offset + done as u64, &mut dst[done..]) {
                        Ok(0) | Err(_) => {
                            return Err(LoadError::Elf("the program file changed while loading"))
                        }
                        Ok(n) => done += n,
                    }
                }
                Ok(())
            }
        }
    }

    /// The page-cache frame of the file's page at `offset` (page-aligned), with a
    /// reference for the mapping; None when the file has none.
    fn frame(&self, offset: u64) -> Option<u64> {
        match self {
            Image::File { node, .. } if node.has_page_cache() => {
                node.page_frame(offset / 4096, false).ok().flatten()
            }
            _ => None,
        }
    }
}

/// Loads every PT_LOAD segment of `image` (its file pages mapped, the rest copied
/// into fresh, committed pages), sets up the brk heap right after the highest
/// segment, and loads the program's interpreter if it has one.
pub fn load(image: &Image) -> Result<Loaded, LoadError> {
    let elf = Elf::parse(image.head()).map_err(LoadError::Elf)?;
    let interp = interpreter_path(&elf, image.head())?;
    let base = if elf.is_dyn() { PIE_BASE } else { 0 };
    let (top, phdr) = load_segments(&elf, image, base)?;
    aspace::init_heap_and_stack(page_up(top));
    let program_entry = base.wrapping_add(elf.entry());
    let (entry, interp_base) = match interp {
        None => (program_entry, 0),
        Some(path) => (load_interpreter(path)?, INTERP_BASE),
    };
    Ok(Loaded {
        entry,
        program_entry,
        base,
        interp_base,
        phdr,
        phnum: elf.phnum(),
        phent: elf.phentsize(),
    })
}

/// The PT_INTERP path of a dynamically linked program (None without one, or when it
/// is malformed: loading says why).
pub fn interpreter_path_of<'a>(elf: &Elf, image: &'a [u8]) -> Option<&'a str> {
    interpreter_path(elf, image).ok().flatten()
}

/// The PT_INTERP path of a dynamically linked program, if it has one.
fn interpreter_path<'a>(elf: &Elf, image: &'a [u8]) -> Result<Option<&'a str>, LoadError> {
    let Some(p) = elf.phdrs().find(|p| p.p_type == PT_INTERP) else {
        return Ok(None);
    };
    let bytes = usize::try_from(p.p_offset)
        .ok()
        .zip(usize::try_from(p.p_filesz).ok())
        .and_then(|(o, n)| image.get(o..o.checked_add(n)?))
        .ok_or(LoadError::Elf("the interpreter path lies outside the file"))?;
    let bytes = bytes.split(|&b| b == 0).next().unwrap_or(bytes);
    core::str::from_utf8(bytes)
        .map(Some)
        .map_err(|_| LoadError::Elf("the interpreter path is not UTF-8"))
}

/// Reads the interpreter at `path` from the root file system and loads it at
/// INTERP_BASE; returns its entry point. Why it failed goes to the console.
fn load_interpreter(path: &str) -> Result<u64, LoadError> {
    let fail = |why: &str| {
        kprintln!("rumprun: the program's interpreter {path}: {why}");
        LoadError::Elf("cannot load the program's ELF interpreter (dynamic loader)")
    };
    let image = crate::fs::lookup(path.as_bytes())
        .and_then(|node| Image::open(node).map_err(crate::fs::err))
        .map_err(|e| match e {
            crate::errno::ENOENT => fail("not in the image (rumprun-bake adds it with the libraries; was the image baked by an older rumprun-bake?)"),
            _ => fail("cannot be read"),
        })?;
    let elf = Elf::parse(image.head()).map_err(fail)?;
    if !elf.is_dyn() || elf.phdrs().any(|p| p.p_type == PT_INTERP) {
        return Err(fail(
            "not a dynamic loader (it must be a self-contained ET_DYN object)",
        ));
    }
    load_segments(&elf, &image, INTERP_BASE)?;
    Ok(INTERP_BASE.wrapping_add(elf.entry()))
}

/// Where the PT_LOAD segment `p` of a file of `image.len()` bytes goes at load bias
/// `base`: `[start, end)`, or why it cannot be loaded. Every sum is checked: a huge
/// `p_vaddr` or `p_memsz` must not wrap around to a low address.
fn segment_range(p: &Phdr, file_size: u64, base: u64) -> Result<(u64, u64), &'static str> {
    if p.p_filesz > p.p_memsz || p.p_offset.saturating_add(p.p_filesz) > file_size {
        return Err("a segment lies outside the file");
    }
    base.checked_add(p.p_vaddr)
        .and_then(|start| Some((start, start.checked_add(p.p_memsz)?)))
        .filter(|&(_, end)| end <= crate::arch::paging::USER_END)
        .ok_or("a segment lies outside the program's address range")
}

/// Checks, before anything is loaded, that every PT_LOAD segment of `elf` (file
/// `image`) lies inside the file and the program's address range at the bias
/// [`load`] will give it, and that there is one: execve calls this before its point
/// of no return, so a file that cannot load gives ENOEXEC to a caller that lives on.
pub fn check_segments(elf: &Elf, image: &Image) -> Result<(), &'static str> {
    let base = if elf.is_dyn() { PIE_BASE } else { 0 };
    let mut any = false;
    for p in elf.phdrs().filter(|p| p.p_type == PT_LOAD) {
        segment_range(&p, image.len(), base)?;
        any = true;
    }
    if any {
        Ok(())
    } else {
        Err("the program has no loadable segments")
    }
}

/// Loads the PT_LOAD segments of `elf` (file `image`) to `base` + their addresses;
/// returns the end of the highest segment and the address of the program headers
/// (0 if no segment holds them). A page wholly inside a segment's file bytes maps the
/// file's page-cache frame (read-only; a writable segment copies it on the first
/// write, as after fork); edge pages (shared with another segment, or partly bss)
/// are copied.
fn load_segments(elf: &Elf, image: &Image, base: u64) -> Result<(u64, u64), LoadError> {
    let mut top = 0;
    let mut phdr = 0;
    for p in elf.phdrs().filter(|p| p.p_type == PT_LOAD) {
        let (start, end) = segment_range(&p, image.len(), base).map_err(LoadError::Elf)?;
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
            let file_off = p.p_offset.wrapping_add(va.wrapping_sub(start));
            let whole = va >= start
                && va + 4096 <= start + p.p_filesz
                && file_off.is_multiple_of(4096)
                && !crate::arch::paging::is_present(&crate::arch::paging::lookup(va))
                && aspace::area_at(va).is_some_and(|(_, a)| a.prot == prot);
            if whole {
                if let Some(frame) = image.frame(file_off) {
                    let flags =
                        aspace::pte_flags(prot) - crate::arch::paging::PageTableFlags::WRITABLE;
                    if crate::arch::paging::map(va, frame, flags).is_none() {
                        crate::mm::frames::free(frame);
                        return Err(LoadError::NoMemory);
                    }
                    va += 4096;
                    continue;
                }
            }
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
                // SAFETY: `frame` is the page just populated for `va` (reached through the
                // direct map) and `lo - va + (hi - lo) <= 4096`, so the slice stays in that
                // page, which nothing else references while the loader fills it.
                let dst = unsafe {
                    core::slice::from_raw_parts_mut(
                        phys_to_virt(frame).add((lo - va) as usize),
                        (hi - lo) as usize,
                    )
                };
                image.read(p.p_offset + lo - start, dst)?;
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
    Ok((top, phdr))
}
