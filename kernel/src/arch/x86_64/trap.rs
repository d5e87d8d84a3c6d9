//! The register frame that entry.S builds for traps and syscalls, and the Rust side of
//! trap dispatch: page faults go to the memory manager; a fault it cannot resolve and
//! other CPU exceptions in program code go to the program's signal handler if it has
//! one, else become a fault report (a kernel fault stays a kernel fault, except at
//! the instructions of the exception table, which resume at their fixup). Before
//! returning to program code, pending signals are delivered. Signals and fault
//! reports belong to the layers above: they reach them through the [`TrapHooks`]
//! `main` installs at boot.

use crate::mm::PageFault;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use spin::Once;

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

/// What trap dispatch asks of the layers above it.
pub struct TrapHooks {
    /// A CPU exception in program code (with the address of a page fault): sends it to
    /// the program's signal handler; false when it has none that can run now
    /// (`signal::deliver::fault`).
    pub to_handler: fn(&mut TrapFrame, Option<u64>) -> bool,
    /// A CPU exception nobody could resolve: the fault report (`fault::fatal_trap`).
    pub fatal: fn(&TrapFrame, Option<u64>) -> !,
    /// A page fault at this address that no memory is left to back
    /// (`fault::out_of_memory`).
    pub out_of_memory: fn(u64) -> !,
    /// Every return to program code: pending signals (`signal::deliver::on_return`).
    pub return_to_program: fn(&mut TrapFrame),
}

static HOOKS: Once<TrapHooks> = Once::new();

/// Installs the hooks (once, at the start of boot).
pub fn install(hooks: TrapHooks) {
    HOOKS.call_once(|| hooks);
}

/// A trap before the hooks are installed (early boot): always the kernel's own, and
/// fatal.
fn early_fatal(frame: &TrapFrame, addr: Option<u64>) -> ! {
    panic!(
        "{} at {:#x} (address {:#x?}) during early boot",
        exception_name(frame.vector),
        frame.rip,
        addr
    )
}

fn hooks() -> &'static TrapHooks {
    HOOKS.get().unwrap_or(&TrapHooks {
        to_handler: |_, _| false,
        fatal: early_fatal,
        out_of_memory: |addr| panic!("out of memory at {addr:#x} during early boot"),
        return_to_program: |_| {},
    })
}

/// Sends a CPU exception in program code to the program's signal handler, if it has
/// one that can run now.
fn to_handler(frame: &mut TrapFrame, from_program: bool, addr: Option<u64>) -> bool {
    from_program && (hooks().to_handler)(frame, addr)
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

/// entry.S found an interrupt delivered again at a trap stub (see trap_common): the
/// state the first delivery interrupted is lost, so the kernel can only stop.
#[no_mangle]
extern "C" fn trap_redelivered(frame: &TrapFrame) -> ! {
    panic!(
        "interrupt {} was delivered again at its handler's first instruction, with \
         interrupts off: the hypervisor re-injected an interrupt it had already delivered, \
         and what it interrupted is lost (seen with Xen nested under QEMU's TCG)",
        frame.vector
    )
}

/// Self-test: kernel code with the program's GS base takes a breakpoint, which must be
/// reported (`kernel_gs_wrong`) when the CPU has RDGSBASE.
pub fn selftest_program_gs() {
    // SAFETY: deliberately wrong: with interrupts off, swaps in the program's GS base and
    // traps in kernel code; trap_common reports it and stops, so nothing runs after.
    unsafe { core::arch::asm!("cli", "swapgs", "int3", "ud2", options(noreturn)) }
}

/// Self-test: does what a hypervisor that re-injects an interrupt does: interrupt 48
/// "taken" at the first instruction of interrupt 49's stub with interrupts off (the
/// frame a CPU would push, then that stub), which `trap_redelivered` must report.
pub fn selftest_redelivered_interrupt() {
    extern "C" {
        static trap_vectors: [u64; 256];
    }
    // SAFETY: trap_vectors is entry.S's table of stub addresses (read-only).
    let (interrupted, stub) = unsafe { (trap_vectors[49], trap_vectors[48]) };
    // SAFETY: deliberately wrong: builds the frame an interrupt pushes (ss, rsp, rflags
    // with interrupts off, cs, rip) on a 16-byte aligned stack and enters the stub;
    // trap_common reports it and stops, so nothing returns here.
    unsafe {
        core::arch::asm!(
            "cli",
            "mov rax, rsp",
            "and rsp, -16",
            "push 0x10",
            "push rax",
            "push 0x2",
            "push 0x8",
            "push rdi",
            "jmp rsi",
            in("rdi") interrupted,
            in("rsi") stub,
            options(noreturn)
        )
    }
}

/// entry.S found kernel code trapping with a program's GS base (and swapped to the
/// kernel's for this report).
#[no_mangle]
extern "C" fn kernel_gs_wrong(frame: &TrapFrame) -> ! {
    panic!(
        "kernel code at {:#x} took vector {} with a program's GS base (rsp {:#x}, rflags {:#x})",
        frame.rip, frame.vector, frame.rsp, frame.rflags
    )
}

/// Interrupts (vectors 32 and up) taken while some CPU polls (`POLLING`): how
/// `cpu::poll_idle` knows that one came. Counted only then, so that the common case
/// (no poll: it is off by default) costs every interrupt one read, not a shared write.
static INTERRUPTS: AtomicU64 = AtomicU64::new(0);
/// How many CPUs are in `cpu::poll_idle` now.
static POLLING: AtomicU32 = AtomicU32::new(0);

/// Counts interrupts (see `INTERRUPTS`) while `f` runs.
pub fn counting_interrupts<R>(f: impl FnOnce() -> R) -> R {
    POLLING.fetch_add(1, Ordering::SeqCst);
    let r = f();
    POLLING.fetch_sub(1, Ordering::SeqCst);
    r
}

/// How many interrupts have been taken (see `INTERRUPTS`).
pub fn interrupts_taken() -> u64 {
    INTERRUPTS.load(Ordering::Relaxed)
}

#[no_mangle]
extern "C" fn trap_handler(frame: &mut TrapFrame) {
    let from_program = frame.rip < super::paging::USER_END;
    let vector = frame.vector;
    if vector >= 32 && POLLING.load(Ordering::Relaxed) != 0 {
        INTERRUPTS.fetch_add(1, Ordering::Relaxed);
    }
    if !from_program {
        // An interrupt taken at the idle halt's `hlt` itself must not halt on return.
        if let Some(rip) = super::cpu::skip_halt(frame.rip) {
            frame.rip = rip;
        }
    }
    // The interrupts that need no big kernel lock: they may arrive while this CPU
    // waits for it (`smp::halt_for_ipi`).
    match vector {
        v if v == super::apic::TLB_VECTOR as i64 => {
            // Another CPU waits for this with the big kernel lock held: answer without it.
            super::smp::poll_flush();
            super::apic::eoi();
            return;
        }
        v if v == super::apic::LOCK_WAKE_VECTOR as i64 => {
            // Ends the halt of the lock's wait, which then looks again.
            super::apic::eoi();
            return;
        }
        v if v == super::apic::SPURIOUS_VECTOR as i64 => return,
        v if !from_program
            && (v == super::apic::TIMER_VECTOR as i64
                || v == super::apic::RESCHEDULE_VECTOR as i64) =>
        {
            // Ends a halt (idle, or the lock's wait): the code that halted looks at
            // the run queue and its deadlines itself.
            if v == super::apic::TIMER_VECTOR as i64 {
                super::apic::timer_fired();
            } else {
                crate::sync::bkl::kick_arrived();
            }
            super::apic::eoi();
            return;
        }
        v if v == super::apic::TIMER_VECTOR as i64
            || v == super::apic::RESCHEDULE_VECTOR as i64 =>
        {
            // Acknowledged before the lock's wait: while this vector is in service the
            // APIC would hold back the IPI that ends that wait (same priority class).
            if v == super::apic::TIMER_VECTOR as i64 {
                super::apic::timer_fired();
            }
            super::apic::eoi();
        }
        _ => {}
    }
    // With several CPUs: the big kernel lock, unless this CPU holds it already (a fault
    // in kernel code). Back to program code, entry.S releases it; back to the idle
    // halt, the end of this function does.
    let took = crate::sync::bkl::enter();
    match vector {
        VEC_PAGE_FAULT => {
            let addr = super::cpu::read_cr2();
            match crate::mm::handle_page_fault(addr, frame.error_code, from_program) {
                PageFault::Resolved => {}
                PageFault::OutOfMemory => (hooks().out_of_memory)(addr),
                // A user copy stops short; `mm::user` reads the page and goes on.
                PageFault::NeedsPageIn if fixed_up(frame) => {}
                PageFault::NeedsPageIn => (hooks().fatal)(frame, Some(addr)),
                // SIGBUS (`mm::address_space::sigbus_at`), as an invalid access.
                PageFault::Invalid | PageFault::IoError => {
                    if !to_handler(frame, from_program, Some(addr)) && !fixed_up(frame) {
                        (hooks().fatal)(frame, Some(addr));
                    }
                }
            }
        }
        VEC_GENERAL_PROTECTION if !from_program && fixed_up(frame) => {}
        0..=31 if !to_handler(frame, from_program, None) => (hooks().fatal)(frame, None),
        0..=31 => {}
        v if v == super::apic::TIMER_VECTOR as i64
            || v == super::apic::RESCHEDULE_VECTOR as i64 =>
        {
            crate::sched::on_timer_interrupt(from_program);
        }
        v if crate::drivers::irq::is_device_vector(v) => {
            // The handler first: a level-triggered line must be deasserted (the device
            // acknowledged) before the end of interrupt, or the IOAPIC fires it again.
            crate::drivers::irq::dispatch(v as u8);
            if crate::drivers::irq::needs_eoi(v as u8) {
                super::apic::eoi();
            }
        }
        _ => {
            // No other interrupt sources are enabled; ignore strays (spurious: no EOI).
        }
    }
    if from_program {
        (hooks().return_to_program)(frame);
    } else if took {
        crate::sync::bkl::release();
    }
}
