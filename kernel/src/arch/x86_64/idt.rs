//! The interrupt descriptor table: all 256 vectors point at the stubs in entry.S, each
//! on an IST stack (see gdt.rs).

use super::gdt::{IST_DOUBLE_FAULT, IST_EXCEPTION, IST_IRQ, IST_NMI, KERNEL_CS};
use core::arch::asm;

#[derive(Clone, Copy)]
#[repr(C)]
struct Gate {
    offset_low: u16,
    selector: u16,
    ist: u8,
    type_attr: u8,
    offset_mid: u16,
    offset_high: u32,
    reserved: u32,
}

static mut IDT: [Gate; 256] = [Gate {
    offset_low: 0,
    selector: 0,
    ist: 0,
    type_attr: 0,
    offset_mid: 0,
    offset_high: 0,
    reserved: 0,
}; 256];

extern "C" {
    static trap_vectors: [u64; 256];
}

#[repr(C, packed)]
struct DescriptorPointer {
    limit: u16,
    base: u64,
}

pub fn init() {
    // SAFETY: runs once at boot on the only CPU with interrupts off: IDT is written by
    // nothing else, and the handlers it points at are the assembly trap vectors, which live
    // for the kernel's lifetime.
    unsafe {
        let idt = &raw mut IDT;
        for (v, &addr) in trap_vectors.iter().enumerate() {
            let ist = match v {
                2 | 18 => IST_NMI,
                8 => IST_DOUBLE_FAULT,
                0..=31 => IST_EXCEPTION,
                _ => IST_IRQ,
            };
            (*idt)[v] = Gate {
                offset_low: addr as u16,
                selector: KERNEL_CS,
                ist,
                type_attr: 0x8e, // present, DPL 0, 64-bit interrupt gate
                offset_mid: (addr >> 16) as u16,
                offset_high: (addr >> 32) as u32,
                reserved: 0,
            };
        }
    }
    load();
}

/// Loads the (shared, filled-in) IDT on this CPU.
pub fn load() {
    let ptr = DescriptorPointer {
        limit: (256 * 16 - 1) as u16,
        base: (&raw const IDT) as u64,
    };
    // SAFETY: IDT is a static filled in by `init` on the boot CPU before any other CPU
    // starts, and never changed after: loading it only points IDTR at it.
    unsafe { asm!("lidt [{}]", in(reg) &ptr, options(nostack)) }
}
