//! The Linux initial process stack (System V x86_64 ABI, and what glibc, musl and Rust
//! std read at start-up): argc, argv[], NULL, envp[], NULL, auxv pairs, AT_NULL, with the
//! strings, AT_RANDOM bytes and AT_PLATFORM above them.

use super::Loaded;
use crate::mm::address_space::{self as aspace, STACK_TOP};
use alloc::vec::Vec;

const AT_NULL: u64 = 0;
const AT_PHDR: u64 = 3;
const AT_PHENT: u64 = 4;
const AT_PHNUM: u64 = 5;
const AT_PAGESZ: u64 = 6;
const AT_BASE: u64 = 7;
const AT_FLAGS: u64 = 8;
const AT_ENTRY: u64 = 9;
const AT_UID: u64 = 11;
const AT_EUID: u64 = 12;
const AT_GID: u64 = 13;
const AT_EGID: u64 = 14;
const AT_PLATFORM: u64 = 15;
const AT_HWCAP: u64 = 16;
const AT_CLKTCK: u64 = 17;
const AT_SECURE: u64 = 23;
const AT_RANDOM: u64 = 25;
const AT_HWCAP2: u64 = 26;
const AT_EXECFN: u64 = 31;
const AT_MINSIGSTKSZ: u64 = 51;

/// Pages at the top of the stack committed up front (start-up always touches them).
const PREFAULT_PAGES: u64 = 8;

struct Builder {
    sp: u64,
}

impl Builder {
    fn push_bytes(&mut self, bytes: &[u8]) -> u64 {
        self.sp -= bytes.len() as u64;
        // SAFETY: `sp` stays inside the program's stack area, mapped in the current address
        // space: the top PREFAULT_PAGES are populated by `build` and a page below them is
        // filled in by the page-fault handler on first touch; the source is kernel memory,
        // not the stack.
        unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), self.sp as *mut u8, bytes.len()) };
        self.sp
    }
    fn push_str(&mut self, s: &str) -> u64 {
        self.push_bytes(&[0]);
        self.push_bytes(s.as_bytes())
    }
}

/// Builds the initial stack and returns the stack pointer to start the program with.
pub fn build(prog: &Loaded, argv: &[&str], envp: &[&str], random: [u8; 16]) -> Result<u64, ()> {
    for i in 1..=PREFAULT_PAGES {
        aspace::populate(STACK_TOP - i * 4096).map_err(|_| ())?;
    }
    let mut b = Builder { sp: STACK_TOP - 16 };
    let execfn = b.push_str(argv.first().copied().unwrap_or(""));
    let argv_ptrs: Vec<u64> = argv.iter().map(|a| b.push_str(a)).collect();
    let envp_ptrs: Vec<u64> = envp.iter().map(|e| b.push_str(e)).collect();
    let platform = b.push_str("x86_64");
    let random_ptr = b.push_bytes(&random);
    b.sp &= !15;

    let hwcap = crate::arch::cpu::cpuid(1, 0).edx as u64;
    let auxv: [(u64, u64); 18] = [
        (AT_PHDR, prog.phdr),
        (AT_PHENT, prog.phent as u64),
        (AT_PHNUM, prog.phnum as u64),
        (AT_PAGESZ, 4096),
        (AT_BASE, prog.interp_base),
        (AT_FLAGS, 0),
        (AT_ENTRY, prog.program_entry),
        (AT_UID, 0),
        (AT_EUID, 0),
        (AT_GID, 0),
        (AT_EGID, 0),
        (AT_SECURE, 0),
        (AT_HWCAP, hwcap),
        (AT_HWCAP2, 0),
        (AT_CLKTCK, 100),
        (AT_PLATFORM, platform),
        (AT_RANDOM, random_ptr),
        (AT_EXECFN, execfn),
    ];
    let mut words: Vec<u64> = Vec::with_capacity(4 + argv.len() + envp.len() + 2 * auxv.len() + 4);
    words.push(argv.len() as u64);
    words.extend(&argv_ptrs);
    words.push(0);
    words.extend(&envp_ptrs);
    words.push(0);
    for (k, v) in auxv {
        words.push(k);
        words.push(v);
    }
    words.push(AT_MINSIGSTKSZ);
    words.push(2048);
    words.push(AT_NULL);
    words.push(0);
    let size = words.len() as u64 * 8;
    b.sp = (b.sp - size) & !15;
    let base = b.sp;
    for (i, w) in words.iter().enumerate() {
        // SAFETY: `base` is 16-byte aligned and below everything pushed so far, inside the
        // program's stack area (see `push_bytes`).
        unsafe { ((base + i as u64 * 8) as *mut u64).write(*w) };
    }
    Ok(base)
}
