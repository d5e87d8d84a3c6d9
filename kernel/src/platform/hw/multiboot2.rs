//! Multiboot2 boot (GRUB): the boot information's tags for the command line (1), the
//! modules (3: disk images named `rumprun-disk`, from `rumprun iso -b`) and the memory
//! map (6).
//!
//! GRUB 2 (`grub_create_loader_cmdline`; Debian 12 ships 2.06) does not hand the command line
//! over verbatim: it re-quotes every word, putting `\` before each `\`, `'` and `"`
//! and wrapping words that contain a space in `"…"`. A JSON config therefore arrives
//! as `"{\"cmdline\": …}"`. [`unquote_grub`] undoes that, in place, when the text
//! after the first `{` starts with `\` (never valid JSON, so a verbatim command line
//! from another loader is left alone).

use super::{BootInfo, MemoryRange, RAM_DISK_MODULE};
use crate::arch::paging::phys_to_virt;
use alloc::vec::Vec;

fn rd<T: Copy>(paddr: u64) -> T {
    // SAFETY: `paddr` points into the multiboot2 information structure (below 4 GiB, in the
    // direct map), read unaligned; T is a plain integer type.
    unsafe { core::ptr::read_unaligned(phys_to_virt(paddr) as *const T) }
}

pub fn parse(info: u64) -> Result<BootInfo, &'static str> {
    let total: u32 = rd(info);
    let mut bi = BootInfo {
        memory: Vec::new(),
        reserved: Vec::new(),
        cmdline: None,
        loader: "multiboot2",
        ram_disks: Vec::new(),
        rsdp: None,
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
            1 => {
                let len = (size as usize).saturating_sub(9);
                // SAFETY: the command-line tag's string lies inside the tag (`size` bytes
                // from the boot loader), in the direct map; nothing else refers to those
                // bytes while they are unquoted in place.
                let bytes = unsafe { core::slice::from_raw_parts_mut(phys_to_virt(tag + 8), len) };
                bi.cmdline = Some((tag + 8, unquote_grub(bytes)));
            }
            3 => {
                let (start, end): (u32, u32) = (rd(tag + 8), rd(tag + 12));
                let name_len = (size as usize).saturating_sub(17);
                // SAFETY: the module tag's name lies inside the tag (`size` bytes), in the
                // direct map.
                let name = unsafe { core::slice::from_raw_parts(phys_to_virt(tag + 16), name_len) };
                let module = MemoryRange {
                    start: start as u64,
                    end: end as u64,
                };
                bi.reserved.push(module);
                if name == RAM_DISK_MODULE.as_bytes() {
                    bi.ram_disks.push(module);
                }
            }
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

/// Undoes GRUB's quoting of the command line in `line` if it is there (see the module
/// comment); returns the new length.
fn unquote_grub(line: &mut [u8]) -> usize {
    let quoted = match line.iter().position(|&b| b == b'{') {
        Some(i) => line[i + 1..]
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|&b| b == b'\\'),
        None => false,
    };
    if !quoted {
        return line.len();
    }
    let (mut from, mut to) = (0, 0);
    while from < line.len() {
        match line[from] {
            b'\\' if from + 1 < line.len() => {
                line[to] = line[from + 1];
                from += 2;
                to += 1;
            }
            b'"' => from += 1,
            b => {
                line[to] = b;
                from += 1;
                to += 1;
            }
        }
    }
    to
}
