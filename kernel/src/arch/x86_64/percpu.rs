//! Each CPU's own block of kernel data, reached through the GS base: the CPU's
//! number, the syscall entry's scratch slot for the program's stack pointer and the
//! top of the kernel stack of the thread it runs. While program code runs, the
//! program's GS base is the active one and the kernel's sits in `IA32_KERNEL_GS_BASE`;
//! every entry from program code (syscall, interrupt, exception) starts with
//! `swapgs` and every return to it ends with one (entry.S), so kernel code always
//! finds its block at `%gs:0`.

use super::cpu::{rdmsr, wrmsr, MSR_GS_BASE};
use core::sync::atomic::{AtomicPtr, AtomicU32, Ordering};

/// How many CPUs the kernel can run on.
pub const MAX_CPUS: usize = 16;

/// `IA32_KERNEL_GS_BASE`: the GS base that `swapgs` swaps in.
pub const MSR_KERNEL_GS_BASE: u32 = 0xc000_0102;

/// A CPU's block. entry.S reads the fields by offset: keep the order.
#[repr(C)]
pub struct CpuLocal {
    /// 0: this block's own address.
    this: u64,
    /// 8: the program's stack pointer between `syscall` and the push of the frame.
    user_rsp: u64,
    /// 16: top of the running thread's kernel stack (syscalls and traps from program
    /// code run on it).
    kstack_top: u64,
    /// 24: this CPU's number (0 is the boot CPU).
    cpu: u32,
    /// 28: its local APIC id.
    apic_id: u32,
}

static mut BSP: CpuLocal = CpuLocal {
    this: 0,
    user_rsp: 0,
    kstack_top: 0,
    cpu: 0,
    apic_id: 0,
};

/// Every brought-up CPU's block, by number.
static BLOCKS: [AtomicPtr<CpuLocal>; MAX_CPUS] =
    [const { AtomicPtr::new(core::ptr::null_mut()) }; MAX_CPUS];
/// How many CPUs run the kernel (the boot CPU, then each application processor as
/// it comes up).
static ONLINE: AtomicU32 = AtomicU32::new(1);

/// Points this CPU's GS base at `block` (number `cpu`).
fn install(block: *mut CpuLocal, cpu: u32, apic_id: u32) {
    // `cpu_id` is below MAX_CPUS from here on: `sync::PerCpu` indexes by it unchecked.
    assert!((cpu as usize) < MAX_CPUS, "CPU number {cpu} out of range");
    // SAFETY: `block` is a CpuLocal that lives for the kernel's lifetime and belongs to
    // this CPU alone (the boot CPU's static, or an AP's leaked allocation).
    unsafe {
        (*block).this = block as u64;
        (*block).cpu = cpu;
        (*block).apic_id = apic_id;
    }
    BLOCKS[cpu as usize].store(block, Ordering::Release);
    wrmsr(MSR_GS_BASE, block as u64);
    // The program's GS base starts at 0, as on Linux.
    wrmsr(MSR_KERNEL_GS_BASE, 0);
}

/// The boot CPU's block (runs first thing in `arch::init`, before any `cpu_id`).
pub fn init_bsp() {
    install(&raw mut BSP, 0, 0);
}

/// An application processor's block: number `cpu`, APIC id `apic_id`.
pub fn init_ap(cpu: u32, apic_id: u32) {
    let block = alloc::boxed::Box::leak(alloc::boxed::Box::new(CpuLocal {
        this: 0,
        user_rsp: 0,
        kstack_top: 0,
        cpu: 0,
        apic_id: 0,
    }));
    install(block, cpu, apic_id);
}

/// Counts one more CPU as running the kernel.
pub fn mark_online() {
    ONLINE.fetch_add(1, Ordering::AcqRel);
}

/// How many CPUs run the kernel.
#[inline]
pub fn online() -> u32 {
    ONLINE.load(Ordering::Acquire)
}

/// The number of the CPU running this code.
#[inline]
pub fn cpu_id() -> u32 {
    let id: u32;
    // SAFETY: kernel code always runs with its own GS base active (see the module doc),
    // which points at this CPU's CpuLocal, whose offset 24 is its number.
    unsafe {
        core::arch::asm!("mov {:e}, gs:[24]", out(reg) id, options(nostack, readonly, preserves_flags))
    }
    id
}

/// Sets the kernel stack the next syscall or trap from program code on this CPU runs on.
#[inline]
pub fn set_kstack_top(top: u64) {
    // SAFETY: offset 16 of this CPU's own block, written only by this CPU with
    // interrupts off (the entry code reads it on the next entry from program code).
    unsafe { core::arch::asm!("mov gs:[16], {}", in(reg) top, options(nostack, preserves_flags)) }
}

/// The APIC id of CPU `cpu`, if it is up.
pub fn apic_id_of(cpu: u32) -> Option<u32> {
    let p = BLOCKS.get(cpu as usize)?.load(Ordering::Acquire);
    // SAFETY: a non-null block is a live CpuLocal; apic_id is written before publication.
    (!p.is_null()).then(|| unsafe { (*p).apic_id })
}

/// The program's GS base (inactive while the kernel runs).
pub fn user_gs_base() -> u64 {
    rdmsr(MSR_KERNEL_GS_BASE)
}

/// Sets the program's GS base (ARCH_SET_GS; it becomes active on the return).
pub fn set_user_gs_base(v: u64) {
    wrmsr(MSR_KERNEL_GS_BASE, v)
}
