//! The GDT and TSS. One CPU: a kernel code and data segment (the program shares them,
//! it runs in ring 0) and a TSS whose interrupt stack table gives every trap its own
//! stack, so the CPU never pushes onto the program's stack (red zone).

use core::arch::asm;
use core::mem::size_of;

pub const KERNEL_CS: u16 = 0x08;
pub const KERNEL_DS: u16 = 0x10;
const TSS_SEL: u16 = 0x18;

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

static mut IST_STACKS: [Stack; 4] = [const { Stack([0; IST_STACK_SIZE]) }; 4];

static mut TSS: Tss = Tss {
    reserved0: 0,
    rsp: [0; 3],
    reserved1: 0,
    ist: [0; 7],
    reserved2: 0,
    reserved3: 0,
    iomap_base: size_of::<Tss>() as u16,
};

static mut GDT: [u64; 5] = [
    0,
    0x00af_9a00_0000_ffff, // 0x08: 64-bit code, DPL 0
    0x00cf_9200_0000_ffff, // 0x10: data
    0,                     // 0x18: TSS (low), filled in by init
    0,                     // 0x20: TSS (high)
];

#[repr(C, packed)]
struct DescriptorPointer {
    limit: u16,
    base: u64,
}

pub fn init() {
    // SAFETY: runs once at boot on the only CPU, before interrupts are enabled: nothing
    // else touches TSS, IST_STACKS or the GDT meanwhile, and the descriptors loaded point
    // at these statics, which live for the kernel's lifetime.
    unsafe {
        let tss = &raw mut TSS;
        let stacks = &raw mut IST_STACKS;
        let mut ist = [0u64; 7];
        for (slot, stack) in ist.iter_mut().zip((*stacks).iter_mut()) {
            *slot = stack as *mut Stack as u64 + IST_STACK_SIZE as u64;
        }
        (*tss).ist = ist;
        let base = tss as u64;
        let limit = (size_of::<Tss>() - 1) as u64;
        let low = (limit & 0xffff)
            | ((base & 0xff_ffff) << 16)
            | (0x89u64 << 40) // present, type 9 (available 64-bit TSS)
            | (((limit >> 16) & 0xf) << 48)
            | (((base >> 24) & 0xff) << 56);
        let gdt = &raw mut GDT;
        (*gdt)[3] = low;
        (*gdt)[4] = base >> 32;
        let ptr = DescriptorPointer {
            limit: (size_of::<[u64; 5]>() - 1) as u16,
            base: gdt as u64,
        };
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
            tss = in(reg) TSS_SEL as u64,
        );
    }
}
