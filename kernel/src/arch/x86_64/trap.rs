//! The register frame that entry.S builds for traps and syscalls, and the Rust side of
//! trap dispatch: page faults go to the memory manager; a fault it cannot resolve and
//! other CPU exceptions in program code go to the program's signal handler if it has
//! one, else become a fault report (a kernel fault stays a kernel fault, except at
//! the instructions of the exception table, which resume at their fixup). Before
//! returning to program code, pending signals are delivered.

/// Saved registers, lowest address first, exactly as entry.S pushes them.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct TrapFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    /// Exception vector, or -1 for a syscall.
    pub vector: i64,
    pub error_code: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

pub const VEC_GENERAL_PROTECTION: i64 = 13;
pub const VEC_PAGE_FAULT: i64 = 14;

/// Exception names by vector, for fault reports.
pub fn exception_name(vector: i64) -> &'static str {
    match vector {
        0 => "divide error",
        1 => "debug",
        2 => "non-maskable interrupt",
        3 => "breakpoint",
        4 => "overflow",
        5 => "bound range exceeded",
        6 => "invalid opcode",
        7 => "device not available",
        8 => "double fault",
        10 => "invalid TSS",
        11 => "segment not present",
        12 => "stack-segment fault",
        13 => "general protection fault",
        14 => "page fault",
        16 => "x87 floating-point exception",
        17 => "alignment check",
        18 => "machine check",
        19 => "SIMD floating-point exception",
        _ => "exception",
    }
}

/// Sends a CPU exception in program code to the program's signal handler, if it has
/// one that can run now.
fn to_handler(frame: &mut TrapFrame, from_program: bool, addr: Option<u64>) -> bool {
    from_program && crate::signal::deliver::fault(frame, addr)
}

/// A fault in kernel code at an instruction of the exception table (a copy from or to
/// program memory) resumes at its fixup, which makes the copy end short (EFAULT).
fn fixed_up(frame: &mut TrapFrame) -> bool {
    if frame.rip < super::paging::USER_END {
        return false;
    }
    match super::extable::fixup(frame.rip) {
        Some(to) => {
            frame.rip = to;
            true
        }
        None => false,
    }
}

#[no_mangle]
extern "C" fn trap_handler(frame: &mut TrapFrame) {
    let from_program = frame.rip < super::paging::USER_END;
    let vector = frame.vector;
    match vector {
        VEC_PAGE_FAULT => {
            let addr = super::cpu::read_cr2();
            let resolved = crate::mm::handle_page_fault(addr, frame.error_code);
            if !resolved && !to_handler(frame, from_program, Some(addr)) && !fixed_up(frame) {
                crate::fault::fatal_trap(frame, Some(addr));
            }
        }
        VEC_GENERAL_PROTECTION if !from_program && fixed_up(frame) => {}
        0..=31 if !to_handler(frame, from_program, None) => crate::fault::fatal_trap(frame, None),
        0..=31 => {}
        v if v == super::apic::TIMER_VECTOR as i64 => {
            super::apic::eoi();
            crate::sched::on_timer_interrupt(frame.rip < super::paging::USER_END);
        }
        v if crate::drivers::irq::is_device_vector(v) => {
            // The handler first: a level-triggered line must be deasserted (the device
            // acknowledged) before the end of interrupt, or the IOAPIC fires it again.
            crate::drivers::irq::dispatch(v as u8);
            super::apic::eoi();
        }
        _ => {
            // No other interrupt sources are enabled; ignore strays (spurious: no EOI).
        }
    }
    if from_program {
        crate::signal::deliver::on_return(frame, None);
    }
}
