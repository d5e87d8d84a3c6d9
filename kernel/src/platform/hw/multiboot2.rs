//! Multiboot2 boot (GRUB): the boot information's tags for the command line (1) and
//! the memory map (6).

use super::{BootInfo, MemoryRange};
use crate::arch::paging::phys_to_virt;
use alloc::vec::Vec;

fn rd<T: Copy>(paddr: u64) -> T {
    unsafe { core::ptr::read_unaligned(phys_to_virt(paddr) as *const T) }
}

pub fn parse(info: u64) -> Result<BootInfo, &'static str> {
    let total: u32 = rd(info);
    let mut bi = BootInfo {
        memory: Vec::new(),
        reserved: Vec::new(),
        cmdline: None,
        loader: "multiboot2",
    };
    bi.reserved.push(MemoryRange {
        start: info,
        end: info + total as u64,
    });
    let mut tag = info + 8;
    while tag < info + total as u64 {
        let kind: u32 = rd(tag);
        let size: u32 = rd(tag + 4);
        match kind {
            0 => break,
            1 => bi.cmdline = Some((tag + 8, (size as usize).saturating_sub(9))),
            6 => {
                let entry_size: u32 = rd(tag + 8);
                let mut e = tag + 16;
                while e + entry_size as u64 <= tag + size as u64 {
                    let (addr, len, t): (u64, u64, u32) = (rd(e), rd(e + 8), rd(e + 16));
                    if t == 1 {
                        bi.memory.push(MemoryRange {
                            start: addr,
                            end: addr + len,
                        });
                    }
                    e += entry_size as u64;
                }
            }
            _ => {}
        }
        tag += (size as u64 + 7) & !7;
    }
    if bi.memory.is_empty() {
        return Err("multiboot2 information has no memory map");
    }
    Ok(bi)
}
