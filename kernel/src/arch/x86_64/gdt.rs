//! The GDT and the TSSs, per CPU, as the `x86_64` crate's typed structures: each CPU
//! has its own `GlobalDescriptorTable` holding the kernel code and data segments (the
//! program shares them, it runs in ring 0) and a descriptor of its own
//! `TaskStateSegment`, whose interrupt stack table gives every trap its own stack, so
//! the CPU never pushes onto the program's stack (red zone). Both are made once per
//! CPU and never change after (`Once`), which is what `GlobalDescriptorTable::load`
//! asks of a table it loads.
//!
//! The boot stub (boot.S) and the AP trampoline (smp.rs) run before any Rust code can
//! build these and have small GDTs of their own in assembly, with the same code and
//! data segments at the same selectors: their descriptors are `KERNEL_CODE64` and
//! `KERNEL_DATA` below, handed to the assembly as `const` operands.

use super::percpu::MAX_CPUS;
use spin::Once;
use x86_64::instructions::segmentation::{Segment, CS, DS, ES, SS};
use x86_64::instructions::tables::load_tss;
use x86_64::structures::gdt::{
    Descriptor, DescriptorFlags, GlobalDescriptorTable, SegmentSelector,
};
use x86_64::structures::tss::TaskStateSegment;
use x86_64::VirtAddr;

/// The kernel's code segment (also what `syscall` and the return to program code load).
pub const KERNEL_CS: u16 = 0x08;
/// The kernel's data and stack segment.
pub const KERNEL_DS: u16 = 0x10;
/// This CPU's TSS (each CPU's GDT has its own at the same selector).
const TSS_SEL: u16 = 0x18;

/// The descriptors of `KERNEL_CS` and `KERNEL_DS` (64-bit code, DPL 0; flat data), as
/// the assembly GDTs write them.
pub const KERNEL_CODE64: u64 = DescriptorFlags::KERNEL_CODE64.bits();
pub const KERNEL_DATA: u64 = DescriptorFlags::KERNEL_DATA.bits();

/// IST slots (1-based, as the IDT encodes them).
pub const IST_EXCEPTION: u8 = 1;
pub const IST_DOUBLE_FAULT: u8 = 2;
pub const IST_NMI: u8 = 3;
pub const IST_IRQ: u8 = 4;
/// The inter-processor interrupts (vectors 0xf0 and up), which also reach a CPU that
/// waits for the big kernel lock inside a device interrupt's handler (`smp::halt_for_ipi`).
pub const IST_IPI: u8 = 5;
const IST_SLOTS: usize = 5;

const IST_STACK_SIZE: usize = 32 * 1024;

#[repr(C, align(16))]
struct Stack([u8; IST_STACK_SIZE]);

/// The boot CPU's IST stacks (it sets up its tables before the heap can hold them;
/// application processors take theirs from the heap).
static mut IST_STACKS: [Stack; IST_SLOTS] = [const { Stack([0; IST_STACK_SIZE]) }; IST_SLOTS];

/// Each CPU's TSS, by CPU number.
static TSS: [Once<TaskStateSegment>; MAX_CPUS] = [const { Once::new() }; MAX_CPUS];
/// Each CPU's GDT: null, code, data, its TSS (two entries).
static GDT: [Once<GlobalDescriptorTable<5>>; MAX_CPUS] = [const { Once::new() }; MAX_CPUS];

/// The boot CPU's GDT and TSS.
pub fn init() {
    // Only the stacks' addresses are taken; this CPU is their only user.
    let base = (&raw mut IST_STACKS) as u64;
    let mut tops = [0u64; IST_SLOTS];
    for (i, top) in tops.iter_mut().enumerate() {
        *top = base + ((i + 1) * IST_STACK_SIZE) as u64;
    }
    load(0, tops);
}

/// An application processor's GDT and TSS, with IST stacks from the heap.
pub fn init_ap(cpu: u32) {
    let mut tops = [0u64; IST_SLOTS];
    for top in tops.iter_mut() {
        let stack = alloc::vec![0u8; IST_STACK_SIZE].leak();
        *top = (stack.as_mut_ptr() as u64 + IST_STACK_SIZE as u64) & !15;
    }
    load(cpu, tops);
}

/// Makes CPU `cpu`'s TSS (IST slots 1.. = `ist`) and GDT, and loads the GDT, the
/// segment registers and the TSS. `cpu` is this CPU's number (below MAX_CPUS: the
/// bring-up code checks).
fn load(cpu: u32, ist: [u64; IST_SLOTS]) {
    let tss = TSS[cpu as usize].call_once(|| {
        let mut table = [VirtAddr::zero(); 7];
        for (slot, &top) in table.iter_mut().zip(&ist) {
            *slot = VirtAddr::new(top);
        }
        let mut tss = TaskStateSegment::new();
        tss.interrupt_stack_table = table; // a packed field: written whole
        tss
    });
    let gdt = GDT[cpu as usize].call_once(|| {
        let mut gdt = GlobalDescriptorTable::empty();
        let cs = gdt.append(Descriptor::kernel_code_segment());
        let ds = gdt.append(Descriptor::kernel_data_segment());
        let ts = gdt.append(Descriptor::tss_segment(tss));
        assert_eq!((cs.0, ds.0, ts.0), (KERNEL_CS, KERNEL_DS, TSS_SEL));
        gdt
    });
    gdt.load();
    // SAFETY: the GDT just loaded holds a 64-bit code segment at KERNEL_CS, a data
    // segment at KERNEL_DS and this CPU's TSS (which lives for the kernel's lifetime, in
    // a static) at TSS_SEL; the IST stacks it names are this CPU's alone.
    unsafe {
        CS::set_reg(SegmentSelector(KERNEL_CS));
        DS::set_reg(SegmentSelector(KERNEL_DS));
        ES::set_reg(SegmentSelector(KERNEL_DS));
        SS::set_reg(SegmentSelector(KERNEL_DS));
        load_tss(SegmentSelector(TSS_SEL));
    }
}
