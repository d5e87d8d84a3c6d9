//! Thin wrappers around privileged x86_64 instructions: port I/O, MSRs, control
//! registers, CPUID, the TSC and halting.

use core::arch::asm;
use core::sync::atomic::{AtomicU8, Ordering};

#[inline]
pub fn outb(port: u16, value: u8) {
    // SAFETY: the kernel runs in ring 0, where port I/O is allowed; the instruction touches
    // only the named registers and the device behind the port.
    unsafe { asm!("out dx, al", in("dx") port, in("al") value, options(nostack, preserves_flags)) }
}

#[inline]
pub fn inb(port: u16) -> u8 {
    let v: u8;
    // SAFETY: port input in ring 0; only the named registers change.
    unsafe { asm!("in al, dx", out("al") v, in("dx") port, options(nostack, preserves_flags)) }
    v
}

#[inline]
pub fn outl(port: u16, value: u32) {
    // SAFETY: port output in ring 0; only the named registers and the device change.
    unsafe {
        asm!("out dx, eax", in("dx") port, in("eax") value, options(nostack, preserves_flags))
    }
}

#[inline]
pub fn rdmsr(msr: u32) -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: RDMSR in ring 0; callers name MSRs this CPU has (architectural ones, or ones
    // CPUID advertised), so it does not fault.
    unsafe { asm!("rdmsr", in("ecx") msr, out("eax") lo, out("edx") hi, options(nostack)) }
    (hi as u64) << 32 | lo as u64
}

#[inline]
pub fn wrmsr(msr: u32, value: u64) {
    // SAFETY: WRMSR in ring 0; callers write MSRs this CPU has with values the kernel's
    // design relies on (FS base, APIC base, SYSCALL set-up, Xen's hypercall page), no
    // memory is touched by the instruction itself.
    unsafe {
        asm!("wrmsr", in("ecx") msr, in("eax") value as u32, in("edx") (value >> 32) as u32,
             options(nostack))
    }
}

pub const MSR_EFER: u32 = 0xc000_0080;
pub const MSR_FS_BASE: u32 = 0xc000_0100;

/// The control-register and EFER bits that the boot stub (boot.S) and the AP
/// trampoline (smp.rs) set on their way to long mode: one source for both, handed to
/// the assembly as `const` operands.
pub mod long_mode {
    use x86_64::registers::control::{Cr0Flags, Cr4Flags};
    use x86_64::registers::model_specific::EferFlags;

    /// CR4: PAE (long mode needs it), global pages, and SSE (OSFXSR, OSXMMEXCPT), which
    /// the precompiled `core` and `alloc` use.
    pub const CR4: u64 = Cr4Flags::PHYSICAL_ADDRESS_EXTENSION
        .union(Cr4Flags::PAGE_GLOBAL)
        .union(Cr4Flags::OSFXSR)
        .union(Cr4Flags::OSXMMEXCPT_ENABLE)
        .bits();
    /// EFER: SYSCALL, long mode, no-execute pages.
    pub const EFER: u64 = EferFlags::SYSTEM_CALL_EXTENSIONS
        .union(EferFlags::LONG_MODE_ENABLE)
        .union(EferFlags::NO_EXECUTE_ENABLE)
        .bits();
    /// CR0 bits set: protection, paging, x87/SSE exceptions the native way (MP, NE),
    /// and WP: the program runs in ring 0, where writes ignore read-only pages unless
    /// WP is set (copy-on-write and mprotect rely on it).
    pub const CR0_SET: u64 = Cr0Flags::PROTECTED_MODE_ENABLE
        .union(Cr0Flags::MONITOR_COPROCESSOR)
        .union(Cr0Flags::NUMERIC_ERROR)
        .union(Cr0Flags::WRITE_PROTECT)
        .union(Cr0Flags::PAGING)
        .bits();
    /// CR0 bits kept, as a 32-bit mask: all but EM and TS (no x87 emulation, no lazy
    /// FPU switching).
    pub const CR0_KEEP: u64 = !Cr0Flags::EMULATE_COPROCESSOR
        .union(Cr0Flags::TASK_SWITCHED)
        .bits()
        & 0xffff_ffff;
}
pub const MSR_GS_BASE: u32 = 0xc000_0101;

#[inline]
pub fn read_cr2() -> u64 {
    let v: u64;
    // SAFETY: reading CR2 in ring 0 has no side effects.
    unsafe { asm!("mov {}, cr2", out(reg) v, options(nostack, nomem)) }
    v
}

#[inline]
pub fn read_cr3() -> u64 {
    let v: u64;
    // SAFETY: reading CR3 in ring 0 has no side effects.
    unsafe { asm!("mov {}, cr3", out(reg) v, options(nostack, nomem)) }
    v
}

#[inline]
pub fn write_cr3(v: u64) {
    // SAFETY: callers (the scheduler and the address-space code) load the root of a
    // program's page tables, whose upper half is the kernel's own shared mappings, so the
    // kernel stays mapped across the switch.
    unsafe { asm!("mov cr3, {}", in(reg) v, options(nostack)) }
}

#[inline]
pub fn invlpg(addr: u64) {
    // SAFETY: INVLPG only drops a TLB entry; it cannot make memory unsafe (at worst a later
    // access walks the tables again).
    unsafe { asm!("invlpg [{}]", in(reg) addr, options(nostack)) }
}

#[inline]
pub fn rdtsc() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: RDTSC reads a counter; CR4.TSD is never set, so it is allowed and has no side
    // effects.
    unsafe { asm!("rdtsc", out("eax") lo, out("edx") hi, options(nostack, nomem)) }
    (hi as u64) << 32 | lo as u64
}

pub struct Cpuid {
    pub eax: u32,
    pub ebx: u32,
    pub ecx: u32,
    pub edx: u32,
}

pub fn cpuid(leaf: u32, subleaf: u32) -> Cpuid {
    let r = core::arch::x86_64::__cpuid_count(leaf, subleaf);
    Cpuid {
        eax: r.eax,
        ebx: r.ebx,
        ecx: r.ecx,
        edx: r.edx,
    }
}

/// A hardware random number from RDRAND, where the CPU has it.
pub fn rdrand() -> Option<u64> {
    if cpuid(1, 0).ecx & (1 << 30) == 0 {
        return None;
    }
    for _ in 0..16 {
        let v: u64;
        let ok: u8;
        // SAFETY: RDRAND exists (CPUID.1:ECX bit 30 checked above) and only writes the
        // named registers and CF.
        unsafe {
            asm!("rdrand {}", "setc {}", out(reg) v, out(reg_byte) ok, options(nostack, nomem))
        }
        if ok != 0 {
            return Some(v);
        }
    }
    None
}

/// True when this CPU takes maskable interrupts now (RFLAGS.IF).
#[inline]
pub fn interrupts_enabled() -> bool {
    let flags: u64;
    // SAFETY: pushes RFLAGS and pops it into a register; the stack is balanced.
    unsafe { asm!("pushfq", "pop {}", out(reg) flags, options(preserves_flags)) }
    flags & (1 << 9) != 0
}

/// Masks interrupts on this CPU (`cli`).
#[inline]
pub fn disable_interrupts() {
    // Not `nomem`: memory accesses must not move out of the section it opens.
    // SAFETY: ring 0 may mask interrupts; it changes nothing else.
    unsafe { asm!("cli", options(nostack)) }
}

/// Sets the task priority (CR8, the local APIC's TPR bits 7:4): interrupts whose
/// vector's top four bits are at or below it stay pending.
#[inline]
pub fn write_cr8(v: u64) {
    // SAFETY: ring 0 may set the task priority; it only defers interrupts.
    unsafe { asm!("mov cr8, {}", in(reg) v, options(nostack)) }
}

/// 1 when the CPU has RDGSBASE (CR4.FSGSBASE set by `enable_fsgsbase`): entry.S then
/// checks the GS base of traps taken in kernel code.
#[no_mangle]
static HAVE_RDGSBASE: AtomicU8 = AtomicU8::new(0);

/// Sets CR4.FSGSBASE when the CPU has it, so that entry.S can read the GS base with
/// RDGSBASE: reading the MSR instead is emulated wrongly under Xen nested in QEMU's TCG
/// (an `rdmsr` of IA32_GS_BASE there triple-faulted). Programs are not told (no
/// HWCAP2_FSGSBASE), so they keep using arch_prctl.
pub fn enable_fsgsbase() {
    if cpuid(7, 0).ebx & 1 == 0 {
        return;
    }
    const CR4_FSGSBASE: u64 = 1 << 16;
    // SAFETY: CPUID says FSGSBASE exists, so setting CR4.FSGSBASE cannot fault; it only
    // allows the {RD,WR}{FS,GS}BASE instructions.
    unsafe {
        let cr4: u64;
        asm!("mov {}, cr4", out(reg) cr4, options(nostack, nomem));
        asm!("mov cr4, {}", in(reg) cr4 | CR4_FSGSBASE, options(nostack, nomem));
    }
    HAVE_RDGSBASE.store(1, Ordering::Relaxed);
}

/// Unmasks interrupts on this CPU (`sti`).
#[inline]
pub fn enable_interrupts() {
    // Not `nomem`: memory accesses must not move out of the section it closes, and
    // handlers may change memory from here on.
    // SAFETY: ring 0 may unmask interrupts; the handlers save what they use.
    unsafe { asm!("sti", options(nostack)) }
}

core::arch::global_asm!(
    ".pushsection .text",
    ".global halt_until_interrupt",
    "halt_until_interrupt:",
    "    sti",
    ".global halt_until_interrupt_hlt",
    "halt_until_interrupt_hlt:",
    "    hlt",
    ".global halt_until_interrupt_done",
    "halt_until_interrupt_done:",
    "    cli",
    "    ret",
    ".popsection",
);

extern "C" {
    fn halt_until_interrupt();
    static halt_until_interrupt_hlt: u8;
    static halt_until_interrupt_done: u8;
}

/// Halts until the next interrupt, with interrupts enabled only for the halt itself
/// (`sti` takes effect after `hlt` starts, so no wake-up is lost; where a vCPU takes
/// the interrupt before the `hlt` anyway, `skip_halt` makes it not halt).
pub fn wait_for_interrupt() {
    // SAFETY: ring 0 may halt; interrupts are on only for the HLT itself and the handlers
    // that run save and restore what they use. The function clobbers no register.
    unsafe { halt_until_interrupt() }
}

/// Whether the hypervisor says each vCPU has a host CPU of its own: KVM's
/// KVM_HINTS_REALTIME (CPUID 0x40000001 EDX bit 0, after the "KVMKVMKVM" signature;
/// QEMU's `-cpu ...,kvm-hint-dedicated=on`), the hint Linux loads its guest haltpoll on.
pub fn host_dedicates_cpus() -> bool {
    let sig = cpuid(0x4000_0000, 0);
    let kvm = [sig.ebx, sig.ecx, sig.edx] == [0x4b4d_564b, 0x564b_4d56, 0x4d];
    kvm && sig.eax >= 0x4000_0001 && cpuid(0x4000_0001, 0).edx & 1 != 0
}

/// Spins with interrupts on until one is taken or `ticks` TSC ticks have passed; true
/// when one was taken (its handler has run). The idle path's poll before it halts
/// (`sched::idle_poll`): an interrupt reaches a running vCPU without the host's
/// wake-up of a halted one.
pub fn poll_idle(ticks: u64) -> bool {
    super::trap::counting_interrupts(|| spin_until_interrupt(ticks))
}

fn spin_until_interrupt(ticks: u64) -> bool {
    let seen = super::trap::interrupts_taken();
    let t0 = rdtsc();
    // SAFETY: ring 0 may enable interrupts; their handlers run on their own stacks and
    // save what they use. No memory clobber is declared off: the loop below must
    // read the counter again after the handlers ran.
    unsafe { asm!("sti", options(nostack)) };
    let mut taken = false;
    while rdtsc().wrapping_sub(t0) < ticks {
        if super::trap::interrupts_taken() != seen {
            taken = true;
            break;
        }
        pause();
    }
    // SAFETY: as above; interrupts go back off, as the scheduler runs.
    unsafe { asm!("cli", options(nostack)) };
    taken || super::trap::interrupts_taken() != seen
}

/// For an interrupt taken at `rip` in kernel code: when that is the `hlt` of
/// `wait_for_interrupt` (taken in `sti`'s interrupt shadow, which a vCPU does not
/// always honour: seen on Xen nested under QEMU's TCG), the address to resume at
/// instead, past the halt. Resuming at the `hlt` would halt with the wake-up
/// already taken, until some later interrupt.
pub fn skip_halt(rip: u64) -> Option<u64> {
    (rip == &raw const halt_until_interrupt_hlt as u64)
        .then_some(&raw const halt_until_interrupt_done as u64)
}

/// Stops this CPU for good (interrupts off).
pub fn halt_forever() -> ! {
    loop {
        // SAFETY: stopping the CPU for good with interrupts off touches no memory.
        unsafe { asm!("cli", "hlt", options(nostack, nomem)) }
    }
}

#[inline]
pub fn pause() {
    core::hint::spin_loop()
}
