//! The exception table: the kernel instructions that may fault on purpose (the loads
//! and stores of `copy_user` in usercopy.S, which touch program memory) and where each
//! resumes when it does. The trap handler asks `fixup` before it calls a fault in
//! kernel code a kernel fault.

core::arch::global_asm!(include_str!("usercopy.S"), options(att_syntax));

#[repr(C)]
struct Entry {
    insn: u64,
    fixup: u64,
}

extern "C" {
    static _extable_start: Entry;
    static _extable_end: Entry;
    /// Copies `n` bytes from `src` to `dst`, either of which may be a program address
    /// below `USER_END`; returns how many bytes at the end were not copied because a
    /// fault could not be resolved.
    fn copy_user(dst: *mut u8, src: *const u8, n: usize) -> usize;
}

/// Where execution resumes when the kernel instruction at `rip` faults, if it is one
/// that may.
pub fn fixup(rip: u64) -> Option<u64> {
    // SAFETY: the linker script puts the table between these two symbols, as an array
    // of `Entry` (usercopy.S's EX macro emits 8-byte aligned pairs of addresses).
    let table = unsafe {
        let start = core::ptr::addr_of!(_extable_start);
        let end = core::ptr::addr_of!(_extable_end);
        core::slice::from_raw_parts(start, end.offset_from(start) as usize)
    };
    table.iter().find(|e| e.insn == rip).map(|e| e.fixup)
}

/// `copy_user`: `n` bytes from `src` to `dst`; the number of bytes not copied.
///
/// # Safety
/// Each of `dst` and `src` is either kernel memory valid for `n` bytes or a program
/// address range below `USER_END` (faults there are caught and end the copy short).
pub unsafe fn copy(dst: *mut u8, src: *const u8, n: usize) -> usize {
    // SAFETY: the caller's contract; copy_user follows the C ABI and clobbers only
    // caller-saved registers (rcx, rdx, rsi, rdi, xmm0-3).
    unsafe { copy_user(dst, src, n) }
}
