//! The GDT and the TSSs: a kernel code and data segment (the program shares them,
//! it runs in ring 0) and, per CPU, a TSS whose interrupt stack table gives every trap its own
//! stack, so the CPU never pushes onto the program's stack (red zone).

use super::percpu::MAX_CPUS;
use core::arch::asm;
use core::mem::size_of;

pub const KERNEL_CS: u16 = 0x08;
pub const KERNEL_DS: u16 = 0x10;

/// IST slots (1-based, as the IDT encodes them).
pub const IST_EXCEPTION: u8 = 1;
pub const IST_DOUBLE_FAULT: u8 = 2;
pub const IST_NMI: u8 = 3;
pub const IST_IRQ: u8 = 4;

const IST_STACK_SIZE: usize = 32 * 1024;

#[repr(C, packed(4))]
struct Tss {
    reserved0: u32,
    rsp: [u64; 3],
    reserved1: u64,
    ist: [u64; 7],
    reserved2: u64,
    reserved3: u16,
    iomap_base: u16,
}

#[repr(C, align(16))]
struct Stack([u8; IST_STACK_SIZE]);

/// The boot CPU's IST stacks (application processors take theirs from the heap).
static mut IST_STACKS: [Stack; 4] = [const { Stack([0; IST_STACK_SIZE]) }; 4];

const EMPTY_TSS: Tss = Tss {
    reserved0: 0,
    rsp: [0; 3],
    reserved1: 0,
    ist: [0; 7],
    reserved2: 0,
    reserved3: 0,
    iomap_base: size_of::<Tss>() as u16,
};

/// The boot CPU's TSS.
static mut TSS: Tss = EMPTY_TSS;

const GDT_ENTRIES: usize = 3 + 2 * MAX_CPUS;

/// One GDT for all CPUs: the code and data segments, then a TSS descriptor (two
/// entries) per CPU; each CPU writes only its own pair (and loads it with `ltr`).
static mut GDT: [u64; GDT_ENTRIES] = {
    let mut g = [0; GDT_ENTRIES];
    g[1] = 0x00af_9a00_0000_ffff; // 0x08: 64-bit code, DPL 0
    g[2] = 0x00cf_9200_0000_ffff; // 0x10: data
    g
};

#[repr(C, packed)]
struct DescriptorPointer {
    limit: u16,
    base: u64,
}

/// The boot CPU's GDT and TSS.
pub fn init() {
    // SAFETY: runs once at boot on the boot CPU before interrupts are enabled and before
    // any other CPU starts; the statics live for the kernel's lifetime.
    unsafe {
        let stacks = &raw mut IST_STACKS;
        let mut ist = [0u64; 7];
        for (slot, stack) in ist.iter_mut().zip((*stacks).iter_mut()) {
            *slot = stack as *mut Stack as u64 + IST_STACK_SIZE as u64;
        }
        load(0, &raw mut TSS, ist);
    }
}

/// An application processor's GDT and TSS, with IST stacks from the heap.
pub fn init_ap(cpu: u32) {
    let mut ist = [0u64; 7];
    for slot in ist.iter_mut().take(4) {
        let stack = alloc::vec![0u8; IST_STACK_SIZE].leak();
        *slot = (stack.as_mut_ptr() as u64 + IST_STACK_SIZE as u64) & !15;
    }
    let tss = alloc::boxed::Box::leak(alloc::boxed::Box::new(EMPTY_TSS));
    // SAFETY: `tss` lives for the kernel's lifetime and belongs to this CPU; `cpu` is
    // below MAX_CPUS (the bring-up code checks), so it writes only this CPU's pair.
    unsafe { load(cpu, tss, ist) }
}

/// Fills in CPU `cpu`'s TSS descriptor and loads the GDT, the segments and the TSS.
///
/// # Safety
/// `tss` must live for the kernel's lifetime and belong to this CPU; `cpu < MAX_CPUS`.
unsafe fn load(cpu: u32, tss: *mut Tss, ist: [u64; 7]) {
    // SAFETY: per the contract; the GDT pair written is this CPU's alone, and the
    // pointer loaded into GDTR is the static GDT.
    unsafe {
        (*tss).ist = ist;
        let base = tss as u64;
        let limit = (size_of::<Tss>() - 1) as u64;
        let low = (limit & 0xffff)
            | ((base & 0xff_ffff) << 16)
            | (0x89u64 << 40) // present, type 9 (available 64-bit TSS)
            | (((limit >> 16) & 0xf) << 48)
            | (((base >> 24) & 0xff) << 56);
        let gdt = &raw mut GDT;
        let slot = 3 + 2 * cpu as usize;
        (*gdt)[slot] = low;
        (*gdt)[slot + 1] = base >> 32;
        let ptr = DescriptorPointer {
            limit: (size_of::<[u64; GDT_ENTRIES]>() - 1) as u16,
            base: gdt as u64,
        };
        let tss_sel = (slot * 8) as u64;
        asm!(
            "lgdt [{ptr}]",
            "push {cs}",
            "lea {tmp}, [rip + 2f]",
            "push {tmp}",
            "retfq",
            "2:",
            "mov ds, {ds:x}",
            "mov es, {ds:x}",
            "mov ss, {ds:x}",
            "ltr {tss:x}",
            ptr = in(reg) &ptr,
            cs = in(reg) KERNEL_CS as u64,
            tmp = lateout(reg) _,
            ds = in(reg) KERNEL_DS as u64,
            tss = in(reg) tss_sel,
        );
    }
}
