//! Just enough of the ELF64 format to load a static x86_64 program and find its
//! symbols, read straight from the baked payload (no copies, no dependencies).

pub const PT_LOAD: u32 = 1;
pub const PT_INTERP: u32 = 3;
pub const PF_X: u32 = 1;
pub const PF_W: u32 = 2;
pub const PF_R: u32 = 4;
const ET_EXEC: u16 = 2;
const ET_DYN: u16 = 3;
const EM_X86_64: u16 = 62;
pub const SHT_SYMTAB: u32 = 2;

#[derive(Clone, Copy, Debug)]
pub struct Phdr {
    pub p_type: u32,
    pub p_flags: u32,
    pub p_offset: u64,
    pub p_vaddr: u64,
    pub p_filesz: u64,
    pub p_memsz: u64,
}

#[derive(Clone, Copy, Debug)]
pub struct Shdr {
    pub sh_type: u32,
    pub sh_offset: u64,
    pub sh_size: u64,
    pub sh_link: u32,
    pub sh_entsize: u64,
}

pub struct Elf<'a> {
    data: &'a [u8],
}

pub fn u16_at(d: &[u8], off: usize) -> u16 {
    d.get(off..off + 2)
        .map_or(0, |b| u16::from_le_bytes([b[0], b[1]]))
}
pub fn u32_at(d: &[u8], off: usize) -> u32 {
    d.get(off..off + 4)
        .map_or(0, |b| u32::from_le_bytes(b.try_into().unwrap()))
}
pub fn u64_at(d: &[u8], off: usize) -> u64 {
    d.get(off..off + 8)
        .map_or(0, |b| u64::from_le_bytes(b.try_into().unwrap()))
}

impl<'a> Elf<'a> {
    pub fn parse(data: &'a [u8]) -> Result<Self, &'static str> {
        if data.len() < 64 || &data[..4] != b"\x7fELF" {
            return Err("not an ELF file");
        }
        if data[4] != 2 || data[5] != 1 || u16_at(data, 18) != EM_X86_64 {
            return Err("not a little-endian x86_64 ELF64 program");
        }
        let t = u16_at(data, 16);
        if t != ET_EXEC && t != ET_DYN {
            return Err("not an executable (ET_EXEC or static-pie ET_DYN)");
        }
        let e = Elf { data };
        // Checked: a huge e_phoff must not wrap around to a small offset.
        let table_end = u64::from(e.phnum())
            .checked_mul(u64::from(e.phentsize()))
            .and_then(|n| n.checked_add(e.phoff()));
        if e.phentsize() < 56 || table_end.is_none_or(|end| end > data.len() as u64) {
            return Err("program headers lie outside the file");
        }
        Ok(e)
    }

    pub fn is_dyn(&self) -> bool {
        u16_at(self.data, 16) == ET_DYN
    }
    pub fn entry(&self) -> u64 {
        u64_at(self.data, 24)
    }
    pub fn phoff(&self) -> u64 {
        u64_at(self.data, 32)
    }
    fn shoff(&self) -> u64 {
        u64_at(self.data, 40)
    }
    pub fn phentsize(&self) -> u16 {
        u16_at(self.data, 54)
    }
    pub fn phnum(&self) -> u16 {
        u16_at(self.data, 56)
    }
    fn shentsize(&self) -> u16 {
        u16_at(self.data, 58)
    }
    fn shnum(&self) -> u16 {
        u16_at(self.data, 60)
    }

    pub fn phdrs(&self) -> impl Iterator<Item = Phdr> + '_ {
        (0..self.phnum() as usize).map(move |i| {
            let o = self.phoff() as usize + i * self.phentsize() as usize;
            let d = self.data;
            Phdr {
                p_type: u32_at(d, o),
                p_flags: u32_at(d, o + 4),
                p_offset: u64_at(d, o + 8),
                p_vaddr: u64_at(d, o + 16),
                p_filesz: u64_at(d, o + 32),
                p_memsz: u64_at(d, o + 40),
            }
        })
    }

    pub fn shdr(&self, i: usize) -> Option<Shdr> {
        if i >= self.shnum() as usize || self.shentsize() < 64 {
            return None;
        }
        let o = usize::try_from(self.shoff())
            .ok()?
            .checked_add(i * self.shentsize() as usize)?;
        let d = self.data;
        d.get(o..o.checked_add(64)?)?;
        Some(Shdr {
            sh_type: u32_at(d, o + 4),
            sh_offset: u64_at(d, o + 24),
            sh_size: u64_at(d, o + 32),
            sh_link: u32_at(d, o + 40),
            sh_entsize: u64_at(d, o + 56),
        })
    }

    pub fn shdrs(&self) -> impl Iterator<Item = Shdr> + '_ {
        (0..self.shnum() as usize).filter_map(move |i| self.shdr(i))
    }

    /// The bytes of a section, if they lie inside the file.
    pub fn section_data(&self, s: &Shdr) -> Option<&'a [u8]> {
        let start = usize::try_from(s.sh_offset).ok()?;
        let end = start.checked_add(usize::try_from(s.sh_size).ok()?)?;
        self.data.get(start..end)
    }
}
