//! The I/O APIC: routes a legacy interrupt line (a GSI; what microvm's virtio-mmio
//! devices raise) to a vector on CPU 0. One IOAPIC at the standard base, serving GSIs
//! from 0, as QEMU's pc, q35 and microvm (`acpi=off`) machines have.

use crate::arch::paging::phys_to_virt;

const BASE: u64 = 0xfec0_0000;
const REG_VERSION: u32 = 0x01;
const REG_REDIRECTION: u32 = 0x10;
/// Redirection entry: level triggered (bit 15); active high, fixed delivery, physical
/// destination and unmasked are all zero bits.
const LEVEL_TRIGGERED: u32 = 1 << 15;

fn select(reg: u32) -> *mut u32 {
    let base = phys_to_virt(BASE) as *mut u32;
    // SAFETY: the IOAPIC's index register at its fixed physical base 0xfec00000, inside the
    // boot direct map.
    unsafe { base.write_volatile(reg) };
    // SAFETY: +0x10 is the data window of the same 4 KiB register page.
    unsafe { base.add(4) } // the data window at +0x10
}

fn read(reg: u32) -> u32 {
    // SAFETY: the data window of the mapped IOAPIC page, after `select` chose the register.
    unsafe { select(reg).read_volatile() }
}

fn write(reg: u32, value: u32) {
    // SAFETY: the data window of the mapped IOAPIC page, after `select` chose the register.
    unsafe { select(reg).write_volatile(value) }
}

/// Delivers `gsi` (a level-triggered, active-high line, as virtio-mmio's are) as
/// `vector` to CPU 0. False when there is no IOAPIC or it has no such line.
pub fn route_level(gsi: u32, vector: u8) -> bool {
    let version = read(REG_VERSION);
    if version == u32::MAX || version == 0 {
        return false;
    }
    let max_entry = (version >> 16) & 0xff;
    if gsi > max_entry {
        return false;
    }
    let reg = REG_REDIRECTION + 2 * gsi;
    write(reg + 1, 0); // destination: local APIC 0 (bits 56..63)
    write(reg, vector as u32 | LEVEL_TRIGGERED);
    true
}
