//! The CPUs of the machine, from ACPI's MADT: the RSDP (from the boot loader, else
//! the BIOS area scan), its RSDT or XSDT, the "APIC" table, and in it the enabled
//! local APICs (and x2APICs). Only what finding the CPUs needs.

use crate::arch::paging::phys_to_virt;
use alloc::vec::Vec;

fn rd<T: Copy>(paddr: u64) -> T {
    // SAFETY: ACPI tables and the BIOS area lie below 4 GiB, in the direct map; the read
    // is unaligned and T is a plain integer type.
    unsafe { core::ptr::read_unaligned(phys_to_virt(paddr) as *const T) }
}

fn bytes(paddr: u64, len: usize) -> Vec<u8> {
    (0..len as u64).map(|i| rd::<u8>(paddr + i)).collect()
}

fn checksum_ok(paddr: u64, len: usize) -> bool {
    bytes(paddr, len)
        .iter()
        .fold(0u8, |a, &b| a.wrapping_add(b))
        == 0
}

/// The RSDP in the EBDA's first KiB or in 0xe0000..0x100000.
fn scan_rsdp() -> Option<u64> {
    let ebda = (rd::<u16>(0x40e) as u64) << 4;
    let areas = [(ebda, ebda + 1024), (0xe0000, 0x100000)];
    for (start, end) in areas {
        if start == 0 {
            continue;
        }
        let mut p = start;
        while p + 20 <= end {
            if bytes(p, 8) == b"RSD PTR " && checksum_ok(p, 20) {
                return Some(p);
            }
            p += 16;
        }
    }
    None
}

/// The APIC ids of the enabled CPUs, boot CPU included, in MADT order; empty when
/// there is no MADT (then only the boot CPU runs).
pub fn cpu_apic_ids(rsdp: Option<u64>) -> Vec<u32> {
    let Some(rsdp) = rsdp
        .filter(|&p| p < 1 << 32 && bytes(p, 8) == b"RSD PTR ")
        .or_else(scan_rsdp)
    else {
        return Vec::new();
    };
    let revision: u8 = rd(rsdp + 15);
    let (root, entry_size) = if revision >= 2 && rd::<u64>(rsdp + 24) != 0 {
        (rd::<u64>(rsdp + 24), 8)
    } else {
        (rd::<u32>(rsdp + 16) as u64, 4)
    };
    if root == 0 || root >= 1 << 32 {
        return Vec::new();
    }
    let root_len: u32 = rd(root + 4);
    let n = (root_len.saturating_sub(36) / entry_size) as u64;
    let madt = (0..n.min(256))
        .map(|i| {
            let at = root + 36 + i * entry_size as u64;
            if entry_size == 8 {
                rd::<u64>(at)
            } else {
                rd::<u32>(at) as u64
            }
        })
        .find(|&t| t != 0 && t < 1 << 32 && bytes(t, 4) == b"APIC");
    let Some(madt) = madt else {
        return Vec::new();
    };
    let len: u32 = rd(madt + 4);
    if !(44..1 << 20).contains(&len) || !checksum_ok(madt, len as usize) {
        return Vec::new();
    }
    let mut ids = Vec::new();
    let mut p = madt + 44;
    let end = madt + len as u64;
    while p + 2 <= end {
        let (kind, size): (u8, u8) = (rd(p), rd(p + 1));
        if size < 2 || p + size as u64 > end {
            break;
        }
        const ENABLED: u32 = 1;
        match (kind, size) {
            (0, 8..) if rd::<u32>(p + 4) & ENABLED != 0 => ids.push(rd::<u8>(p + 3) as u32),
            (9, 16..) if rd::<u32>(p + 8) & ENABLED != 0 => ids.push(rd::<u32>(p + 4)),
            _ => {}
        }
        p += size as u64;
    }
    ids
}
