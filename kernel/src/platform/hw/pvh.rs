//! PVH boot: `struct hvm_start_info` (Xen's arch-x86/hvm/start_info.h), as QEMU,
//! Firecracker and Xen hand it over. Read unaligned: QEMU only aligns it to 4 bytes.

use super::{BootInfo, MemoryRange};
use crate::arch::paging::phys_to_virt;
use alloc::vec::Vec;

fn rd<T: Copy>(paddr: u64) -> T {
    // SAFETY: `paddr` points into PVH's start_info or its module list (below 4 GiB, in the
    // direct map), read unaligned; T is a plain integer type.
    unsafe { core::ptr::read_unaligned(phys_to_virt(paddr) as *const T) }
}

pub fn parse(info: u64) -> Result<BootInfo, &'static str> {
    let version: u32 = rd(info + 4);
    let nr_modules: u32 = rd(info + 12);
    let modlist: u64 = rd(info + 16);
    let cmdline: u64 = rd(info + 24);
    let mut bi = BootInfo {
        memory: Vec::new(),
        reserved: Vec::new(),
        cmdline: None,
        loader: "PVH",
        ram_disks: Vec::new(),
        rsdp: None,
    };
    let rsdp: u64 = rd(info + 32);
    bi.rsdp = (rsdp != 0).then_some(rsdp);
    bi.reserved.push(MemoryRange {
        start: info,
        end: info + 56,
    });
    if cmdline != 0 {
        let mut len = 0usize;
        while rd::<u8>(cmdline + len as u64) != 0 && len < (1 << 20) {
            len += 1;
        }
        bi.cmdline = Some((cmdline, len));
        bi.reserved.push(MemoryRange {
            start: cmdline,
            end: cmdline + len as u64 + 1,
        });
    }
    if nr_modules > 0 && modlist != 0 {
        bi.reserved.push(MemoryRange {
            start: modlist,
            end: modlist + 32 * nr_modules as u64,
        });
        for i in 0..nr_modules as u64 {
            let paddr: u64 = rd(modlist + 32 * i);
            let size: u64 = rd(modlist + 32 * i + 8);
            bi.reserved.push(MemoryRange {
                start: paddr,
                end: paddr + size,
            });
        }
    }
    if version < 1 {
        return Err("PVH start info version 0 has no memory map");
    }
    let memmap: u64 = rd(info + 40);
    let entries: u32 = rd(info + 48);
    bi.reserved.push(MemoryRange {
        start: memmap,
        end: memmap + 24 * entries as u64,
    });
    for i in 0..entries as u64 {
        let e = memmap + 24 * i;
        let (addr, size, kind): (u64, u64, u32) = (rd(e), rd(e + 8), rd(e + 16));
        if kind == 1 {
            bi.memory.push(MemoryRange {
                start: addr,
                end: addr + size,
            });
        }
    }
    Ok(bi)
}
