//! The interrupt descriptor table, as the `x86_64` crate's `InterruptDescriptorTable`:
//! every vector the CPU or a device can raise points at its stub in entry.S
//! (`trap_vectors`), each on an IST stack (see gdt.rs). The vectors the architecture
//! reserves (9, 15, 22-27, 31; the crate keeps them private) stay not present: the CPU
//! never raises them. The crate's typed handler functions need the unstable
//! `x86-interrupt` ABI; the gates here take the stubs' addresses instead.

use super::gdt::{IST_DOUBLE_FAULT, IST_EXCEPTION, IST_IPI, IST_IRQ, IST_NMI};
use spin::Once;
use x86_64::structures::idt::{Entry, InterruptDescriptorTable};
use x86_64::VirtAddr;

/// Made by the boot CPU, never changed after; every CPU loads it.
static IDT: Once<InterruptDescriptorTable> = Once::new();

extern "C" {
    static trap_vectors: [u64; 256];
}

/// Makes the IDT (boot CPU) and loads it.
pub fn init() {
    IDT.call_once(build);
    load();
}

/// Points `entry` (vector `v`) at its stub in entry.S, as a DPL 0 interrupt gate on the
/// IST stack for that kind of vector.
fn gate<F>(entry: &mut Entry<F>, v: u8) {
    let ist = match v {
        2 | 18 => IST_NMI,
        8 => IST_DOUBLE_FAULT,
        0..=31 => IST_EXCEPTION,
        0xf0..=0xff => IST_IPI,
        _ => IST_IRQ,
    };
    // SAFETY: trap_vectors is entry.S's table of the 256 stubs, which live for the
    // kernel's lifetime; each stub handles its vector whether or not the CPU pushes an
    // error code, so it suits every entry type. The IST slots are set in every CPU's
    // TSS (gdt.rs) and used by no other handler in the middle of one (each kind of
    // vector has its slot, and handlers run with interrupts off; the one exception, a
    // handler waiting for the big kernel lock, lets in only the IPIs, on their own
    // slot, whose handlers never do).
    unsafe {
        let addr = trap_vectors[v as usize];
        entry
            .set_handler_addr(VirtAddr::new(addr))
            .set_stack_index(u16::from(ist) - 1);
    }
}

fn build() -> InterruptDescriptorTable {
    let mut idt = InterruptDescriptorTable::new();
    gate(&mut idt.divide_error, 0);
    gate(&mut idt.debug, 1);
    gate(&mut idt.non_maskable_interrupt, 2);
    gate(&mut idt.breakpoint, 3);
    gate(&mut idt.overflow, 4);
    gate(&mut idt.bound_range_exceeded, 5);
    gate(&mut idt.invalid_opcode, 6);
    gate(&mut idt.device_not_available, 7);
    gate(&mut idt.double_fault, 8);
    gate(&mut idt.invalid_tss, 10);
    gate(&mut idt.segment_not_present, 11);
    gate(&mut idt.stack_segment_fault, 12);
    gate(&mut idt.general_protection_fault, 13);
    gate(&mut idt.page_fault, 14);
    gate(&mut idt.x87_floating_point, 16);
    gate(&mut idt.alignment_check, 17);
    gate(&mut idt.machine_check, 18);
    gate(&mut idt.simd_floating_point, 19);
    gate(&mut idt.virtualization, 20);
    gate(&mut idt.cp_protection_exception, 21);
    gate(&mut idt.hv_injection_exception, 28);
    gate(&mut idt.vmm_communication_exception, 29);
    gate(&mut idt.security_exception, 30);
    for (v, entry) in (32..=255).zip(idt.slice_mut(32..).iter_mut()) {
        gate(entry, v);
    }
    idt
}

/// Loads the (shared, filled-in) IDT on this CPU.
pub fn load() {
    IDT.get()
        .expect("the boot CPU makes the IDT before any other CPU starts")
        .load();
}
