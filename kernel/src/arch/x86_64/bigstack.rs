//! Running a function on a stack other than the current kernel stack: for the rare
//! callee whose frames do not fit a 64 KiB kernel stack (building smoltcp interfaces,
//! whose IP reassembly and fragmentation buffers are inline and pass through several
//! stack frames before they reach the heap).

use alloc::vec;

/// Runs `f` on a fresh heap stack of `size` bytes and returns its result. Interrupts
/// run on their IST stacks and a context switch saves this stack pointer like any
/// other, so `f` may be preempted; it must not outlive the call (it cannot).
pub fn call_on_heap_stack<R>(size: usize, f: impl FnOnce() -> R) -> R {
    let mut stack = vec![0u8; size];
    let mut f = Some(f);
    let mut out = None;
    let mut run = || out = Some((f.take().expect("called once"))());
    let mut run: &mut dyn FnMut() = &mut run;
    extern "C" fn trampoline(run: *mut &mut dyn FnMut()) {
        // SAFETY: `run` points at the caller's `run`, alive for the whole call.
        unsafe { (*run)() }
    }
    let top = (stack.as_mut_ptr() as usize + stack.len()) & !15;
    // SAFETY: `top` is the 16-byte aligned end of a live buffer; the old stack pointer
    // is pushed on the new stack and restored from it; the call follows the C ABI.
    unsafe {
        core::arch::asm!(
            "mov r12, rsp",
            "mov rsp, {top}",
            "push r12",
            "sub rsp, 8",
            "call {trampoline}",
            "add rsp, 8",
            "pop rsp",
            top = in(reg) top,
            out("r12") _,
            trampoline = sym trampoline,
            in("rdi") &mut run as *mut &mut dyn FnMut(),
            clobber_abi("C"),
        );
    }
    drop(stack);
    out.expect("the function ran")
}
