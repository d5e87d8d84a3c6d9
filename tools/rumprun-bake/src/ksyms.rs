//! The kernel's function symbols for crash reports: read from the kernel ELF's
//! `.symtab`, demangled, sorted by address, and baked into the payload as
//! `rumprun/kernel.syms` so the kernel can name the function a kernel fault hit.
//!
//! Format (little endian): `b"RRKSYMS1"`, `count: u32`, `0u32`, then `count` entries
//! `{ addr: u64, size: u32, name: u32 }` sorted by `addr` (`name` is an offset into the
//! string table that follows: NUL-terminated UTF-8).

use crate::elf::Elf;
use object::elf::{SHT_SYMTAB, STT_FUNC};
use object::read::elf::Sym as _;
use object::LittleEndian as LE;

/// Path of the symbol table inside the payload.
pub const PAYLOAD_PATH: &str = "rumprun/kernel.syms";
const MAGIC: &[u8; 8] = b"RRKSYMS1";

/// The encoded table, or None when the kernel has no (readable) symbol table.
pub fn encode(kernel: &[u8]) -> Option<Vec<u8>> {
    let elf = Elf::parse(kernel).ok()?;
    let symbols = elf.sections().ok()?.symbols(LE, kernel, SHT_SYMTAB).ok()?;
    if symbols.is_empty() {
        return None;
    }
    let mut funcs: Vec<(u64, u32, String)> = Vec::new();
    for s in symbols.iter() {
        let value = s.st_value(LE);
        if s.st_type() != STT_FUNC || value == 0 {
            continue;
        }
        let raw = String::from_utf8_lossy(s.name(LE, symbols.strings()).ok()?);
        let name = format!("{:#}", rustc_demangle::demangle(&raw));
        funcs.push((value, s.st_size(LE).min(u32::MAX as u64) as u32, name));
    }
    funcs.sort_by_key(|f| f.0);
    funcs.dedup_by_key(|f| f.0);
    let mut table = Vec::new();
    let mut names = Vec::new();
    for (addr, size, name) in &funcs {
        table.extend_from_slice(&addr.to_le_bytes());
        table.extend_from_slice(&size.to_le_bytes());
        table.extend_from_slice(&(names.len() as u32).to_le_bytes());
        names.extend_from_slice(name.as_bytes());
        names.push(0);
    }
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&(funcs.len() as u32).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend(table);
    out.extend(names);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u32_at(d: &[u8], o: usize) -> u32 {
        u32::from_le_bytes(d[o..o + 4].try_into().unwrap())
    }
    fn u64_at(d: &[u8], o: usize) -> u64 {
        u64::from_le_bytes(d[o..o + 8].try_into().unwrap())
    }

    #[test]
    fn encodes_sorted_demangled_functions() {
        // The test binary itself has a symbol table with Rust functions.
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        // Cargo does not strip test binaries (no `strip` in the profiles): a missing
        // table is a failure, not a pass.
        let t = encode(&me).expect("the test binary's symbol table");
        assert_eq!(&t[..8], MAGIC);
        let count = u32_at(&t, 8) as usize;
        assert!(count > 10);
        let entries = &t[16..16 + count * 16];
        let addrs: Vec<u64> = entries.chunks_exact(16).map(|e| u64_at(e, 0)).collect();
        assert!(addrs.windows(2).all(|w| w[0] < w[1]));
        let names = &t[16 + count * 16..];
        assert!(
            names.windows(7).any(|w| w == b"ksyms::"),
            "no demangled path in the names"
        );
    }
}
