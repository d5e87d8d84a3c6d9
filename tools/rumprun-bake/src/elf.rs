//! Minimal ELF64 reading: the file header, program and section headers, the dynamic
//! section's linking entries (needed libraries, RPATH/RUNPATH), and the checks that
//! decide whether a file is a program we can bake: an x86_64 Linux executable, static,
//! static-pie, or dynamically linked (with a `PT_INTERP` interpreter).
//!
//! The file's structures (file, program, section headers, dynamic entries) are read
//! with the `object` crate's ELF types; what this module adds is the checks and their
//! one-line errors, in the order a user needs them (the machine before the class, so
//! an ARM file says "aarch64", not "32-bit").

use object::elf::{Dyn64, FileHeader64, ProgramHeader64, SectionHeader64, DT_NULL, PT_DYNAMIC};
use object::elf::{DT_NEEDED, DT_RPATH, DT_RUNPATH, DT_STRSZ, DT_STRTAB, ET_CORE, ET_REL};
use object::elf::{PN_XNUM, PT_INTERP};
use object::read::elf::{FileHeader, ProgramHeader as _, SectionHeader as _, SectionTable};
use object::read::StringTable;
use object::{pod, LittleEndian as LE};

pub use object::elf::{EM_X86_64, ET_DYN, ET_EXEC, PT_LOAD, SHT_NOBITS};

/// Size of one ELF64 program header.
pub const PHDR_SIZE: usize = std::mem::size_of::<ProgramHeader64<LE>>();
const SHDR_SIZE: usize = std::mem::size_of::<SectionHeader64<LE>>();
const EHDR_SIZE: usize = std::mem::size_of::<FileHeader64<LE>>();

/// How a program that passed [`Elf::check_program`] is linked.
#[derive(Debug, PartialEq, Eq)]
pub enum Linking {
    /// Static or static-pie: runs on its own.
    Static,
    /// Needs its interpreter (the `PT_INTERP` path, e.g. `/lib64/ld-linux-x86-64.so.2`)
    /// and the shared libraries it loads.
    Dynamic { interpreter: String },
}

/// The linking entries of the dynamic section.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct DynamicInfo {
    /// `DT_NEEDED` names, in order.
    pub needed: Vec<String>,
    /// `DT_RPATH` (colon-separated directories).
    pub rpath: Option<String>,
    /// `DT_RUNPATH` (colon-separated directories).
    pub runpath: Option<String>,
}

/// One program header, as plain values (the file holds it as `object`'s
/// [`ProgramHeader64`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Phdr {
    pub p_type: u32,
    pub p_flags: u32,
    pub p_offset: u64,
    pub p_vaddr: u64,
    pub p_paddr: u64,
    pub p_filesz: u64,
    pub p_memsz: u64,
    pub p_align: u64,
}

impl Phdr {
    fn from_raw(p: &ProgramHeader64<LE>) -> Self {
        Phdr {
            p_type: p.p_type(LE),
            p_flags: p.p_flags(LE),
            p_offset: p.p_offset(LE),
            p_vaddr: p.p_vaddr(LE),
            p_paddr: p.p_paddr(LE),
            p_filesz: p.p_filesz(LE),
            p_memsz: p.p_memsz(LE),
            p_align: p.p_align(LE),
        }
    }

    /// The header as it lies in a little-endian ELF64 file.
    pub fn to_bytes(self) -> [u8; PHDR_SIZE] {
        use object::{U32, U64};
        let raw = ProgramHeader64::<LE> {
            p_type: U32::new(LE, self.p_type),
            p_flags: U32::new(LE, self.p_flags),
            p_offset: U64::new(LE, self.p_offset),
            p_vaddr: U64::new(LE, self.p_vaddr),
            p_paddr: U64::new(LE, self.p_paddr),
            p_filesz: U64::new(LE, self.p_filesz),
            p_memsz: U64::new(LE, self.p_memsz),
            p_align: U64::new(LE, self.p_align),
        };
        pod::bytes_of(&raw)
            .try_into()
            .expect("an ELF64 program header")
    }

    /// The file range of the segment, if it lies inside a file of `len` bytes.
    fn file_range(&self, len: usize) -> Option<std::ops::Range<usize>> {
        let start = usize::try_from(self.p_offset).ok()?;
        let end = start.checked_add(usize::try_from(self.p_filesz).ok()?)?;
        (end <= len).then_some(start..end)
    }
}

/// One section header (the fields we use).
#[derive(Clone, Copy, Debug)]
pub struct Shdr {
    pub sh_type: u32,
    pub sh_offset: u64,
    pub sh_size: u64,
}

/// A parsed little-endian ELF64 x86_64 file.
pub struct Elf<'a> {
    pub data: &'a [u8],
    pub e_type: u16,
    pub e_entry: u64,
    pub phdrs: Vec<Phdr>,
    header: &'a FileHeader64<LE>,
    raw_phdrs: &'a [ProgramHeader64<LE>],
}

fn machine_name(m: u16) -> String {
    let name = match m {
        0 => "none",
        2 => "sparc",
        3 => "i386",
        8 => "mips",
        20 => "powerpc",
        21 => "powerpc64",
        22 => "s390",
        40 => "arm",
        42 => "superh",
        43 => "sparcv9",
        50 => "ia64",
        62 => "x86_64",
        183 => "aarch64",
        243 => "riscv",
        247 => "bpf",
        258 => "loongarch",
        _ => return format!("0x{m:x}"),
    };
    name.to_string()
}

/// The byte range `off .. off + count * size` if it is inside `len` bytes.
fn table_range(off: u64, count: usize, size: usize, len: usize) -> Option<std::ops::Range<usize>> {
    let start = usize::try_from(off).ok()?;
    let end = start.checked_add(count.checked_mul(size)?)?;
    (end <= len).then_some(start..end)
}

/// The string at `offset` in `table` up to its NUL (or the table's end).
fn string_at(table: &[u8], offset: u64) -> Option<&[u8]> {
    let rest = table.get(usize::try_from(offset).ok()?..)?;
    rest.split(|&c| c == 0).next()
}

impl<'a> Elf<'a> {
    /// Parses the header and program headers. Errors are the text after `FILE: `.
    pub fn parse(data: &'a [u8]) -> Result<Self, String> {
        if data.len() < 4 || data[..4] != object::elf::ELFMAG {
            return Err("not an ELF file".into());
        }
        if data.len() < EHDR_SIZE {
            return Err("truncated ELF file".into());
        }
        // The machine first (a 32-bit or big-endian file says which machine it is for),
        // read in the file's own byte order.
        let big_endian = data[5] == object::elf::ELFDATA2MSB;
        let machine = if big_endian {
            u16::from_be_bytes([data[18], data[19]])
        } else {
            u16::from_le_bytes([data[18], data[19]])
        };
        if machine != EM_X86_64 {
            return Err(format!(
                "not an x86_64 ELF (machine: {})",
                machine_name(machine)
            ));
        }
        if data[4] != object::elf::ELFCLASS64 {
            return Err("not an x86_64 ELF (32-bit ELF)".into());
        }
        if data[5] != object::elf::ELFDATA2LSB {
            return Err("not an x86_64 ELF (big-endian)".into());
        }
        let (header, _) = pod::from_bytes::<FileHeader64<LE>>(data).expect("64 bytes checked");
        let e_phoff = header.e_phoff(LE);
        let e_phentsize = usize::from(header.e_phentsize(LE));
        let e_phnum = header.e_phnum(LE);
        if e_phnum == PN_XNUM {
            return Err("unsupported ELF file (more than 65534 program headers)".into());
        }
        if e_phnum > 0 && e_phentsize != PHDR_SIZE {
            return Err(format!(
                "corrupt ELF file (program header size {e_phentsize})"
            ));
        }
        let outside = "corrupt ELF file (program headers outside the file)";
        // Read where e_phoff says even when it is 0 (object's `program_headers` would
        // see no table there): a corrupt file gets the error its bytes deserve.
        let range = table_range(e_phoff, e_phnum.into(), PHDR_SIZE, data.len()).ok_or(outside)?;
        let (raw_phdrs, _) =
            pod::slice_from_bytes::<ProgramHeader64<LE>>(&data[range], e_phnum.into())
                .map_err(|_| outside)?;
        Ok(Elf {
            data,
            e_type: header.e_type(LE),
            e_entry: header.e_entry(LE),
            phdrs: raw_phdrs.iter().map(Phdr::from_raw).collect(),
            header,
            raw_phdrs,
        })
    }

    /// Where the program header table starts in the file.
    #[cfg(test)]
    pub fn e_phoff(&self) -> u64 {
        self.header.e_phoff(LE)
    }

    /// The raw bytes of the program header table.
    pub fn phdr_bytes(&self) -> &'a [u8] {
        pod::bytes_of_slice(self.raw_phdrs)
    }

    /// The section headers. Errors if they are missing or unusable.
    fn section_headers(&self) -> Result<&'a [SectionHeader64<LE>], String> {
        let h = self.header;
        let shentsize = usize::from(h.e_shentsize(LE));
        if h.e_shoff(LE) == 0 || h.e_shnum(LE) == 0 {
            return Err("no section headers".into());
        }
        if shentsize != SHDR_SIZE {
            return Err(format!(
                "corrupt ELF file (section header size {shentsize})"
            ));
        }
        h.section_headers(LE, self.data)
            .map_err(|_| "corrupt ELF file (section headers outside the file)".into())
    }

    /// The section table with its names. Errors if either is unusable.
    pub fn sections(&self) -> Result<SectionTable<'a, FileHeader64<LE>>, String> {
        let shdrs = self.section_headers()?;
        let names = shdrs
            .get(usize::from(self.header.e_shstrndx(LE)))
            .and_then(|s| {
                let size = usize::try_from(s.sh_size(LE)).ok()?;
                table_range(s.sh_offset(LE), size, 1, self.data.len())
            })
            .ok_or("corrupt ELF file (no section name table)")?;
        let names = StringTable::new(self.data, names.start as u64, names.end as u64);
        Ok(SectionTable::new(shdrs, names))
    }

    /// The section named `name`, if any. Errors if the section headers are unusable.
    pub fn section(&self, name: &str) -> Result<Option<Shdr>, String> {
        let table = self.sections()?;
        Ok(table
            .section_by_name(LE, name.as_bytes())
            .map(|(_, s)| Shdr {
                sh_type: s.sh_type(LE),
                sh_offset: s.sh_offset(LE),
                sh_size: s.sh_size(LE),
            }))
    }

    /// The lowest file offset holding anything but the ELF header and the program
    /// header table: segment bytes, section bytes or the section header table.
    pub fn first_content_offset(&self) -> Result<u64, String> {
        let segments = self
            .phdrs
            .iter()
            .filter(|p| p.p_filesz > 0)
            .map(|p| p.p_offset);
        let sections = self
            .section_headers()?
            .iter()
            .filter(|s| s.sh_type(LE) != SHT_NOBITS && s.sh_size(LE) > 0 && s.sh_offset(LE) > 0)
            .map(|s| s.sh_offset(LE));
        let table = self.header.e_shoff(LE);
        Ok(segments.chain(sections).fold(table, u64::min))
    }

    /// True if the file range `start..end` lies inside the file part of a `PT_LOAD`.
    pub fn loaded(&self, start: u64, end: u64) -> bool {
        self.phdrs.iter().any(|p| {
            p.p_type == PT_LOAD
                && p.p_offset <= start
                && p.p_offset.checked_add(p.p_filesz).is_some_and(|e| end <= e)
        })
    }

    /// The `PT_INTERP` path, if there is one: `Ok(None)` for no interpreter, `Err` if
    /// the header points outside the file or the path is not UTF-8.
    pub fn interpreter(&self) -> Result<Option<String>, String> {
        let Some(interp) = self.raw_phdrs.iter().find(|p| p.p_type(LE) == PT_INTERP) else {
            return Ok(None);
        };
        let bytes = interp
            .data(LE, self.data)
            .map_err(|_| "corrupt ELF file (PT_INTERP outside the file)")?;
        let bytes = string_at(bytes, 0).unwrap_or(bytes);
        let path = std::str::from_utf8(bytes)
            .map_err(|_| "corrupt ELF file (the PT_INTERP path is not UTF-8)")?;
        if path.is_empty() {
            return Err("corrupt ELF file (empty PT_INTERP path)".into());
        }
        Ok(Some(path.to_string()))
    }

    /// The `(tag, value)` entries of the first `PT_DYNAMIC` segment inside the file, up
    /// to `DT_NULL` (none without one).
    fn dynamic_entries(&self) -> Vec<(u64, u64)> {
        self.raw_phdrs
            .iter()
            .filter(|p| p.p_type(LE) == PT_DYNAMIC)
            .find_map(|p| p.data(LE, self.data).ok())
            .map(|bytes| {
                let count = bytes.len() / std::mem::size_of::<Dyn64<LE>>();
                let (entries, _) = pod::slice_from_bytes::<Dyn64<LE>>(bytes, count)
                    .expect("whole entries, no alignment needed");
                entries
                    .iter()
                    .map(|d| (d.d_tag.get(LE), d.d_val.get(LE)))
                    .take_while(|&(tag, _)| tag != u64::from(DT_NULL))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The file bytes of the virtual range `vaddr .. vaddr + size`, if one `PT_LOAD`
    /// holds all of it in the file.
    fn bytes_at_vaddr(&self, vaddr: u64, size: u64) -> Option<&'a [u8]> {
        self.raw_phdrs
            .iter()
            .filter(|p| p.p_type(LE) == PT_LOAD)
            .find_map(|p| p.data_range(LE, self.data, vaddr, size).ok().flatten())
    }

    /// The needed libraries and search paths of the dynamic section (all empty for a
    /// file without one). Errors are the text after `FILE: `.
    pub fn dynamic_info(&self) -> Result<DynamicInfo, String> {
        let [needed, rpath, runpath] = [DT_NEEDED, DT_RPATH, DT_RUNPATH].map(u64::from);
        let entries = self.dynamic_entries();
        let value = |tag: u32| {
            let tag = u64::from(tag);
            entries.iter().find(|&&(t, _)| t == tag).map(|&(_, v)| v)
        };
        let mut info = DynamicInfo::default();
        if !entries
            .iter()
            .any(|(t, _)| [needed, rpath, runpath].contains(t))
        {
            return Ok(info);
        }
        let strtab = value(DT_STRTAB)
            .zip(value(DT_STRSZ))
            .and_then(|(addr, size)| self.bytes_at_vaddr(addr, size))
            .ok_or("corrupt ELF file (no dynamic string table in the file)")?;
        let string = |offset: u64| -> Result<String, String> {
            let bytes = string_at(strtab, offset)
                .ok_or("corrupt ELF file (a dynamic string lies outside its table)")?;
            String::from_utf8(bytes.to_vec())
                .map_err(|_| "corrupt ELF file (a dynamic string is not UTF-8)".to_string())
        };
        for &(tag, v) in &entries {
            match tag {
                t if t == needed => info.needed.push(string(v)?),
                t if t == rpath => info.rpath = Some(string(v)?),
                t if t == runpath => info.runpath = Some(string(v)?),
                _ => {}
            }
        }
        Ok(info)
    }

    /// Checks that this is a program we can bake: a static, static-pie or dynamically
    /// linked executable, and says which. Errors are the text after `FILE: `.
    pub fn check_program(&self) -> Result<Linking, String> {
        match self.e_type {
            ET_EXEC | ET_DYN => {}
            ET_REL => {
                return Err(
                    "a relocatable object file (ET_REL), not a program: link it into an executable"
                        .into(),
                )
            }
            ET_CORE => return Err("a core dump (ET_CORE), not a program".into()),
            t => return Err(format!("not an executable (ELF type {t})")),
        }
        if !self.phdrs.iter().any(|p| p.p_type == PT_LOAD) {
            return Err("not a program (no loadable segments)".into());
        }
        for p in self.phdrs.iter().filter(|p| p.p_type == PT_LOAD) {
            if p.file_range(self.data.len()).is_none() {
                return Err("truncated ELF file (a segment lies outside the file)".into());
            }
        }
        if self.e_type == ET_DYN && self.e_entry == 0 {
            return Err("a shared library, not a program (no entry point)".into());
        }
        if let Some(interpreter) = self.interpreter()? {
            return Ok(Linking::Dynamic { interpreter });
        }
        let needs_libs = self
            .dynamic_entries()
            .iter()
            .any(|&(tag, _)| tag == u64::from(DT_NEEDED));
        if needs_libs {
            return Err(
                "needs shared libraries (DT_NEEDED) but has no interpreter (PT_INTERP); build it with -static (x86_64-rumprun-linux-gcc does)".into(),
            );
        }
        Ok(Linking::Static)
    }
}

/// Fake ELF files for unit tests.
#[cfg(test)]
pub mod testing {
    pub use super::*;

    // The dynamic tags as the 64-bit values a `Dyn64` holds.
    pub const DT_NULL: u64 = object::elf::DT_NULL as u64;
    pub const DT_NEEDED: u64 = object::elf::DT_NEEDED as u64;
    pub const DT_STRTAB: u64 = object::elf::DT_STRTAB as u64;
    pub const DT_STRSZ: u64 = object::elf::DT_STRSZ as u64;
    pub const DT_RPATH: u64 = object::elf::DT_RPATH as u64;
    pub const DT_RUNPATH: u64 = object::elf::DT_RUNPATH as u64;

    /// A minimal little-endian ELF64 header with `phdrs` right after it.
    pub fn fake_elf(e_type: u16, machine: u16, phdrs: &[Phdr], tail: &[u8]) -> Vec<u8> {
        let mut d = vec![0u8; 64];
        d[..4].copy_from_slice(b"\x7fELF");
        d[4] = 2;
        d[5] = 1;
        d[6] = 1;
        d[16..18].copy_from_slice(&e_type.to_le_bytes());
        d[18..20].copy_from_slice(&machine.to_le_bytes());
        d[24..32].copy_from_slice(&0x401000u64.to_le_bytes());
        d[32..40].copy_from_slice(&64u64.to_le_bytes());
        d[52..54].copy_from_slice(&64u16.to_le_bytes());
        d[54..56].copy_from_slice(&56u16.to_le_bytes());
        d[56..58].copy_from_slice(&(phdrs.len() as u16).to_le_bytes());
        for p in phdrs {
            d.extend_from_slice(&p.to_bytes());
        }
        d.extend_from_slice(tail);
        d
    }

    /// What goes into [`fake_dynamic_elf`].
    #[derive(Default)]
    pub struct FakeDynamic<'a> {
        pub interpreter: Option<&'a str>,
        pub needed: &'a [&'a str],
        pub rpath: Option<&'a str>,
        pub runpath: Option<&'a str>,
    }

    /// An ELF64 file of type `e_type` with one `PT_LOAD` over the whole file (at
    /// virtual address 0), a `PT_DYNAMIC` with `d`'s entries and, if given, a `PT_INTERP`.
    pub fn fake_dynamic_elf(e_type: u16, d: &FakeDynamic) -> Vec<u8> {
        let phnum = 2 + usize::from(d.interpreter.is_some());
        let mut strtab = vec![0u8];
        let mut string = |s: &str| {
            let off = strtab.len() as u64;
            strtab.extend_from_slice(s.as_bytes());
            strtab.push(0);
            off
        };
        let mut entries: Vec<(u64, u64)> =
            d.needed.iter().map(|n| (DT_NEEDED, string(n))).collect();
        if let Some(r) = d.rpath {
            entries.push((DT_RPATH, string(r)));
        }
        if let Some(r) = d.runpath {
            entries.push((DT_RUNPATH, string(r)));
        }
        let interp = d.interpreter.map(&mut string);
        let dyn_off = (64 + PHDR_SIZE * phnum) as u64;
        let strtab_off = dyn_off + 16 * (entries.len() as u64 + 3);
        entries.push((DT_STRTAB, strtab_off));
        entries.push((DT_STRSZ, strtab.len() as u64));
        entries.push((DT_NULL, 0));
        let total = strtab_off + strtab.len() as u64;
        let seg = |p_type, off, size| Phdr {
            p_type,
            p_flags: 4,
            p_offset: off,
            p_vaddr: off,
            p_paddr: off,
            p_filesz: size,
            p_memsz: size,
            p_align: 8,
        };
        let mut phdrs = vec![
            Phdr {
                p_align: 0x1000,
                ..seg(PT_LOAD, 0, total)
            },
            seg(PT_DYNAMIC, dyn_off, 16 * entries.len() as u64),
        ];
        if let (Some(off), Some(i)) = (interp, d.interpreter) {
            phdrs.push(seg(PT_INTERP, strtab_off + off, i.len() as u64 + 1));
        }
        let mut tail = Vec::new();
        for (tag, v) in entries {
            tail.extend_from_slice(&tag.to_le_bytes());
            tail.extend_from_slice(&v.to_le_bytes());
        }
        tail.extend_from_slice(&strtab);
        fake_elf(e_type, EM_X86_64, &phdrs, &tail)
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::{PT_DYNAMIC, PT_INTERP};

    fn load(off: u64, size: u64) -> Phdr {
        Phdr {
            p_type: PT_LOAD,
            p_flags: 5,
            p_offset: off,
            p_vaddr: 0x400000,
            p_paddr: 0x400000,
            p_filesz: size,
            p_memsz: size,
            p_align: 0x1000,
        }
    }

    #[test]
    fn accepts_a_static_executable() {
        let d = fake_elf(ET_EXEC, EM_X86_64, &[load(0, 120)], &[]);
        let e = Elf::parse(&d).unwrap();
        assert_eq!(e.phdrs.len(), 1);
        assert_eq!(e.phdrs[0], load(0, 120));
        assert_eq!(e.phdr_bytes(), &load(0, 120).to_bytes());
        assert_eq!(e.check_program(), Ok(Linking::Static));
    }

    #[test]
    fn header_errors() {
        assert_eq!(Elf::parse(b"").err().unwrap(), "not an ELF file");
        assert_eq!(Elf::parse(b"#!/bin/sh\n").err().unwrap(), "not an ELF file");
        assert_eq!(
            Elf::parse(b"\x7fELF\x02\x01").err().unwrap(),
            "truncated ELF file"
        );
        let arm = fake_elf(ET_EXEC, 183, &[], &[]);
        assert_eq!(
            Elf::parse(&arm).err().unwrap(),
            "not an x86_64 ELF (machine: aarch64)"
        );
        let odd = fake_elf(ET_EXEC, 0x1234, &[], &[]);
        assert_eq!(
            Elf::parse(&odd).err().unwrap(),
            "not an x86_64 ELF (machine: 0x1234)"
        );
        let mut x32 = fake_elf(ET_EXEC, EM_X86_64, &[], &[]);
        x32[4] = 1;
        assert_eq!(
            Elf::parse(&x32).err().unwrap(),
            "not an x86_64 ELF (32-bit ELF)"
        );
        let mut cut = fake_elf(ET_EXEC, EM_X86_64, &[load(0, 10)], &[]);
        cut.truncate(100);
        assert!(Elf::parse(&cut)
            .err()
            .unwrap()
            .contains("program headers outside"));
    }

    #[test]
    fn program_errors() {
        let e = |t, phdrs: &[Phdr], tail: &[u8]| {
            let d = fake_elf(t, EM_X86_64, phdrs, tail);
            Elf::parse(&d).unwrap().check_program().err()
        };
        assert!(e(ET_REL, &[], &[]).unwrap().contains("relocatable object"));
        assert!(e(ET_CORE, &[], &[]).unwrap().contains("core dump"));
        assert!(e(ET_EXEC, &[], &[])
            .unwrap()
            .contains("no loadable segments"));
        assert!(e(ET_EXEC, &[load(0, 9999)], &[])
            .unwrap()
            .contains("truncated"));
        let interp = Phdr {
            p_type: PT_INTERP,
            p_offset: 64 + 56 * 2,
            p_filesz: 8,
            ..load(0, 0)
        };
        assert_eq!(
            e(ET_DYN, &[interp, load(0, 100)], b"\xff\0\0\0\0\0\0\0").unwrap(),
            "corrupt ELF file (the PT_INTERP path is not UTF-8)"
        );
        let far_interp = Phdr {
            p_offset: 5000,
            ..interp
        };
        assert!(e(ET_DYN, &[far_interp, load(0, 100)], b"")
            .unwrap()
            .contains("PT_INTERP outside"));
        let dynamic = Phdr {
            p_type: PT_DYNAMIC,
            p_offset: 64 + 56 * 2,
            p_filesz: 32,
            ..load(0, 0)
        };
        let mut needed = Vec::new();
        for v in [DT_NEEDED, 1, 0, 0] {
            needed.extend_from_slice(&v.to_le_bytes());
        }
        assert!(e(ET_DYN, &[dynamic, load(0, 100)], &needed)
            .unwrap()
            .contains("DT_NEEDED) but has no interpreter"));
        let mut d = fake_elf(ET_DYN, EM_X86_64, &[load(0, 100)], &[]);
        d[24..32].fill(0);
        let so = Elf::parse(&d).unwrap().check_program().unwrap_err();
        assert!(so.contains("shared library"), "{so}");
        // A static-pie: ET_DYN, an entry point, PT_DYNAMIC without DT_NEEDED.
        let mut relocs = Vec::new();
        for v in [7u64, 1, 0, 0] {
            relocs.extend_from_slice(&v.to_le_bytes());
        }
        assert_eq!(e(ET_DYN, &[dynamic, load(0, 100)], &relocs), None);
    }

    #[test]
    fn dynamically_linked_programs() {
        let d = fake_dynamic_elf(
            ET_DYN,
            &FakeDynamic {
                interpreter: Some("/lib64/ld-linux-x86-64.so.2"),
                needed: &["libm.so.6", "libc.so.6"],
                rpath: Some("/opt/a:/opt/b"),
                runpath: Some("$ORIGIN/../lib"),
            },
        );
        let e = Elf::parse(&d).unwrap();
        assert_eq!(
            e.check_program(),
            Ok(Linking::Dynamic {
                interpreter: "/lib64/ld-linux-x86-64.so.2".into()
            })
        );
        assert_eq!(
            e.dynamic_info(),
            Ok(DynamicInfo {
                needed: vec!["libm.so.6".into(), "libc.so.6".into()],
                rpath: Some("/opt/a:/opt/b".into()),
                runpath: Some("$ORIGIN/../lib".into()),
            })
        );
        // A shared library (no entry point) is refused even with an interpreter.
        let mut so = d.clone();
        so[24..32].fill(0);
        let err = Elf::parse(&so).unwrap().check_program().unwrap_err();
        assert!(err.contains("shared library"), "{err}");
        // Without a dynamic section there is nothing to link.
        let plain = fake_elf(ET_EXEC, EM_X86_64, &[load(0, 120)], &[]);
        assert_eq!(
            Elf::parse(&plain).unwrap().dynamic_info(),
            Ok(DynamicInfo::default())
        );
    }

    #[test]
    fn corrupt_dynamic_strings() {
        let mut d = fake_dynamic_elf(
            ET_DYN,
            &FakeDynamic {
                needed: &["libc.so.6"],
                ..Default::default()
            },
        );
        // DT_NEEDED's string offset (the first dynamic entry's value) far outside.
        let dyn_off = 64 + 2 * PHDR_SIZE;
        d[dyn_off + 8..dyn_off + 16].copy_from_slice(&9999u64.to_le_bytes());
        let err = Elf::parse(&d).unwrap().dynamic_info().unwrap_err();
        assert!(err.contains("outside its table"), "{err}");
        // DT_STRTAB pointing outside every PT_LOAD.
        d[dyn_off + 24..dyn_off + 32].copy_from_slice(&0x10_0000u64.to_le_bytes());
        let err = Elf::parse(&d).unwrap().dynamic_info().unwrap_err();
        assert!(err.contains("no dynamic string table"), "{err}");
    }
}
