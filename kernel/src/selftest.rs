//! Deliberate failures for testing the kernel's own fault reports, switched on with
//! `-e RUMPRUN_SELFTEST=NAME` (nothing else reads that variable): `kernel-fault`,
//! `program-gs-in-kernel` and `redelivered-interrupt` (the last two: what entry.S's
//! trap_common reports instead of faulting for ever; see `arch::trap`). A kernel fault
//! cannot be provoked from a program, whose pointers are all checked.

/// Runs the self-test the config asks for, if any.
pub fn run(env: &[alloc::string::String]) {
    for e in env {
        match e.as_str() {
            "RUMPRUN_SELFTEST=kernel-fault" => kernel_fault(),
            "RUMPRUN_SELFTEST=program-gs-in-kernel" => crate::arch::trap::selftest_program_gs(),
            "RUMPRUN_SELFTEST=redelivered-interrupt" => {
                crate::arch::trap::selftest_redelivered_interrupt()
            }
            _ => {}
        }
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
