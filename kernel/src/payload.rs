//! The baked payload: `rumprun-bake` writes its physical address and size into the
//! bake-info block below and loads it as an extra segment; it is a cpio archive whose
//! `bin/<name>` files are the programs (see docs/ARCHITECTURE.md). The block also
//! says where the image's file data region is (read from a disk, not loaded).

use crate::arch::paging::{phys_to_virt, BOOT_DIRECT_MAP_SIZE};
use rumprun_image::{cpio, BakeInfo};

#[used]
#[link_section = ".rumprun_bakeinfo"]
static BAKE_INFO: BakeInfo = BakeInfo::unbaked();

fn info() -> BakeInfo {
    // Read through a volatile load: the value is patched in the file after linking.
    // SAFETY: BAKE_INFO is a valid, initialised static; the volatile read only keeps the
    // compiler from folding its link-time value.
    unsafe { core::ptr::read_volatile(&BAKE_INFO) }
}

/// The payload's physical range, if baked.
pub fn physical_range() -> Option<(u64, u64)> {
    let i = info();
    i.is_baked()
        .then(|| (i.payload_paddr, i.payload_paddr + i.payload_size))
}

/// The image's file data region, when it has one: (byte offset in the image file,
/// size, identity). Its files are read on demand from the image attached as a disk
/// (`fs::baked`).
pub fn data_region() -> Option<(u64, u64, u64)> {
    let i = info();
    (i.is_baked() && i.data_size != 0).then_some((i.data_offset, i.data_size, i.data_id))
}

/// The whole payload archive.
pub fn archive() -> Result<&'static [u8], &'static str> {
    let i = info();
    if !i.is_baked() {
        return Err("no program baked into this kernel: bake one with `rumprun-bake hw_virtio out.bin prog`");
    }
    if i.payload_paddr.saturating_add(i.payload_size) > BOOT_DIRECT_MAP_SIZE {
        return Err("the baked payload lies beyond the first 4 GiB");
    }
    // SAFETY: the baked payload lies in reserved physical memory below 4 GiB (checked
    // above), inside the direct map, and is never written or freed.
    Ok(unsafe {
        core::slice::from_raw_parts(phys_to_virt(i.payload_paddr), i.payload_size as usize)
    })
}

/// The data of the payload entry named `name`.
pub fn entry(name: &str) -> Option<&'static [u8]> {
    let archive = archive().ok()?;
    cpio::entries(archive)
        .filter_map(Result::ok)
        .find(|e| e.name == name)
        .map(|e| e.data)
}

/// The kernel function containing `addr`, as (name, offset), from the symbol table
/// rumprun-bake puts in the payload (`rumprun/kernel.syms`).
pub fn kernel_symbol(addr: u64) -> Option<(&'static str, u64)> {
    let t = entry("rumprun/kernel.syms")?;
    if t.get(..8)? != b"RRKSYMS1" {
        return None;
    }
    let count = u32::from_le_bytes(t.get(8..12)?.try_into().ok()?) as usize;
    let entries = t.get(16..16 + count * 16)?;
    let names = t.get(16 + count * 16..)?;
    let at = |i: usize| {
        let e = &entries[i * 16..i * 16 + 16];
        (
            u64::from_le_bytes(e[..8].try_into().unwrap()),
            u32::from_le_bytes(e[8..12].try_into().unwrap()),
            u32::from_le_bytes(e[12..16].try_into().unwrap()),
        )
    };
    // The last entry at or below addr (entries are sorted by address).
    let i = (0..count).take_while(|&i| at(i).0 <= addr).last()?;
    let (start, size, name) = at(i);
    if size != 0 && addr >= start + size as u64 {
        return None;
    }
    let rest = names.get(name as usize..)?;
    let len = rest.iter().position(|&b| b == 0)?;
    Some((core::str::from_utf8(&rest[..len]).ok()?, addr - start))
}
