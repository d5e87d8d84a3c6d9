//! Deliberate failures for testing the kernel's own fault reports, switched on with
//! `-e RUMPRUN_SELFTEST=kernel-fault` (nothing else reads that variable). A kernel
//! fault cannot be provoked from a program, whose pointers are all checked.

/// Runs the self-test the config asks for, if any.
pub fn run(env: &[alloc::string::String]) {
    if env.iter().any(|e| e == "RUMPRUN_SELFTEST=kernel-fault") {
        kernel_fault();
    }
}

/// Reads an unmapped kernel address: the report must name this function.
#[inline(never)]
fn kernel_fault() {
    // No mapping there: only the direct map and the kernel window exist.
    let p = 0xffff_c000_0000_0000usize as *const u64;
    // SAFETY: deliberately unsound: this self-test reads an unmapped kernel address to
    // check that the fault report names this function; the page fault ends the boot, so the
    // value is never used.
    let v = unsafe { core::ptr::read_volatile(p) };
    kprintln!("rumprun: selftest: read {v:#x} from an unmapped address?!");
}
