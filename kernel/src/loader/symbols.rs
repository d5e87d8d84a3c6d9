//! Address-to-symbol lookup in the program's ELF symbol table, for fault reports and
//! backtraces ("<main+0x14>"). Works on the image kept in the payload, so it costs
//! nothing until something crashes.

use super::elf::{u16_at, u32_at, u64_at, Elf, SHT_SYMTAB};

const STT_FUNC: u8 = 2;
const STT_OBJECT: u8 = 1;

/// The symbol containing `addr` (a runtime address) as (name, offset), for a program
/// loaded with bias `base`.
pub fn lookup(image: &[u8], base: u64, addr: u64) -> Option<(&str, u64)> {
    let elf = Elf::parse(image).ok()?;
    let addr = addr.checked_sub(base)?;
    let symtab = elf.shdrs().find(|s| s.sh_type == SHT_SYMTAB)?;
    let strtab = elf.shdr(symtab.sh_link as usize)?;
    let syms = elf.section_data(&symtab)?;
    let strs = elf.section_data(&strtab)?;
    let entsize = if symtab.sh_entsize >= 24 {
        symtab.sh_entsize as usize
    } else {
        24
    };
    let mut best: Option<(u32, u64, u64)> = None; // (name offset, value, size)
    for sym in syms.chunks_exact(entsize) {
        let info = sym[4];
        let kind = info & 0xf;
        if kind != STT_FUNC && kind != STT_OBJECT {
            continue;
        }
        let shndx = u16_at(sym, 6);
        let value = u64_at(sym, 8);
        let size = u64_at(sym, 16);
        if shndx == 0 || value > addr {
            continue;
        }
        let inside = addr < value + size.max(1);
        if inside && best.is_none_or(|(_, v, _)| value >= v) {
            best = Some((u32_at(sym, 0), value, size));
        }
    }
    let (name_off, value, _) = best?;
    let rest = strs.get(name_off as usize..)?;
    let len = rest.iter().position(|&b| b == 0)?;
    let name = core::str::from_utf8(&rest[..len]).ok()?;
    Some((name, addr - value))
}
