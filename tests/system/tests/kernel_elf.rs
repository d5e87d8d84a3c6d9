//! The kernel's ELF reader (`kernel/src/loader/elf.rs`, used by the loader, execve and
//! fault reports) run on the host, as it is, against the `object` crate's reading of
//! real programs: glibc static and static-pie, musl, C++, a dynamically linked Debian
//! program, the dynamic loader and the rumprun kernel itself. Then thousands of
//! corrupted copies of them: the reader must accept exactly the files whose headers it
//! can read inside the file (its program header table included, by checked
//! arithmetic), never panic, and never hand out a section that lies outside the file.
//! The symbol lookup of fault reports (`loader/symbols.rs`) is checked the same way.
//! No QEMU needed for those; the last two boot `exec_bad_elf.c`, which execs such
//! files in the guest (the wrap-around one used to get past the kernel's check).

#[path = "../../../kernel/src/loader/elf.rs"]
#[allow(dead_code)]
mod elf;
#[path = "../../../kernel/src/loader/symbols.rs"]
mod symbols;

use object::elf::{FileHeader64, ProgramHeader64, SectionHeader64, ET_DYN, ET_EXEC};
use object::read::elf::{FileHeader, ProgramHeader as _, SectionHeader as _, Sym as _};
use object::LittleEndian as LE;
use rumprun_system_tests::{boot_c, build_c, destdir, Flavor};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

/// The real ELF files: (what, path).
fn real_files() -> Vec<(String, PathBuf)> {
    let mut files = vec![
        ("glibc static".into(), build_c("hello.c", Flavor::Glibc)),
        (
            "glibc static-pie".into(),
            build_c("hello.c", Flavor::GlibcStaticPie),
        ),
        ("musl static".into(), build_c("hello.c", Flavor::Musl)),
        ("C++ static".into(), build_c("hellopp.cc", Flavor::Cxx)),
        (
            "the rumprun kernel".into(),
            destdir().join("lib/rumprun-x86_64/hw/kernel.elf"),
        ),
    ];
    // Debian's own: a dynamically linked program (coreutils) and its loader (libc6).
    for (what, path) in [
        ("dynamic /bin/ls", "/bin/ls"),
        ("the dynamic loader", "/lib64/ld-linux-x86-64.so.2"),
    ] {
        files.push((what.into(), PathBuf::from(path)));
    }
    for (what, path) in &files {
        assert!(path.is_file(), "{what}: {} is missing", path.display());
    }
    files
}

/// What the kernel's reader sees, in plain values.
#[derive(Debug, PartialEq)]
struct View {
    is_dyn: bool,
    entry: u64,
    /// (type, flags, offset, vaddr, filesz, memsz)
    phdrs: Vec<(u32, u32, u64, u64, u64, u64)>,
    /// (type, offset, size, link, entsize)
    shdrs: Vec<(u32, u64, u64, u32, u64)>,
}

fn kernel_view(data: &[u8]) -> Result<View, &'static str> {
    let e = elf::Elf::parse(data)?;
    Ok(View {
        is_dyn: e.is_dyn(),
        entry: e.entry(),
        phdrs: e
            .phdrs()
            .map(|p| {
                let elf::Phdr {
                    p_type,
                    p_flags,
                    p_offset,
                    p_vaddr,
                    p_filesz,
                    p_memsz,
                } = p;
                (p_type, p_flags, p_offset, p_vaddr, p_filesz, p_memsz)
            })
            .collect(),
        shdrs: e
            .shdrs()
            .map(|s| (s.sh_type, s.sh_offset, s.sh_size, s.sh_link, s.sh_entsize))
            .collect(),
    })
}

/// The same through `object`.
fn object_view(data: &[u8]) -> View {
    let h = FileHeader64::<LE>::parse(data).expect("object parses it");
    let phdrs: &[ProgramHeader64<LE>] = h.program_headers(LE, data).unwrap();
    let shdrs: &[SectionHeader64<LE>] = h.section_headers(LE, data).unwrap();
    View {
        is_dyn: h.e_type(LE) == ET_DYN,
        entry: h.e_entry(LE),
        phdrs: phdrs
            .iter()
            .map(|p| {
                (
                    p.p_type(LE),
                    p.p_flags(LE),
                    p.p_offset(LE),
                    p.p_vaddr(LE),
                    p.p_filesz(LE),
                    p.p_memsz(LE),
                )
            })
            .collect(),
        shdrs: shdrs
            .iter()
            .map(|s| {
                (
                    s.sh_type(LE),
                    s.sh_offset(LE),
                    s.sh_size(LE),
                    s.sh_link(LE),
                    s.sh_entsize(LE),
                )
            })
            .collect(),
    }
}

#[test]
fn reads_real_programs_as_object_does() {
    for (what, path) in real_files() {
        let data = std::fs::read(&path).unwrap();
        let mine = kernel_view(&data).unwrap_or_else(|e| panic!("{what}: refused: {e}"));
        assert_eq!(mine, object_view(&data), "{what} ({})", path.display());
        assert!(!mine.phdrs.is_empty() && !mine.shdrs.is_empty(), "{what}");
        // Every section with file contents reads as the same bytes.
        let e = elf::Elf::parse(&data).unwrap();
        let h = FileHeader64::<LE>::parse(&*data).unwrap();
        let reference = h.section_headers(LE, &*data).unwrap();
        for (s, r) in e.shdrs().zip(reference) {
            // (object gives a SHT_NOBITS section no bytes; the kernel reads only
            // symbol and string tables.)
            if r.sh_type(LE) == object::elf::SHT_NOBITS {
                continue;
            }
            if let Ok(bytes) = r.data(LE, &*data) {
                assert_eq!(e.section_data(&s), Some(bytes), "{what}");
            }
        }
    }
}

/// What fault reports print for an address: the function or object symbol that holds
/// it (the one starting last, if several do), checked against `object`'s symbol table
/// for an address inside every sized function of each program, at the program's
/// load bias (static-pie programs are placed at 0x555555554000).
#[test]
fn symbols_of_real_programs() {
    use object::elf::{SHT_SYMTAB, STT_FUNC, STT_OBJECT};
    let mut looked_up = 0;
    for (what, path) in real_files() {
        let data = std::fs::read(&path).unwrap();
        let h = FileHeader64::<LE>::parse(&*data).unwrap();
        let sections = h.sections(LE, &*data).unwrap();
        let table = sections.symbols(LE, &*data, SHT_SYMTAB).unwrap();
        let base = if h.e_type(LE) == ET_DYN && h.e_entry(LE) < 0x1_0000_0000 {
            0x5555_5555_4000
        } else {
            0
        };
        // (value, size, name) of every function and object symbol in a section.
        let syms: Vec<(u64, u64, &[u8])> = table
            .iter()
            .filter(|s| [STT_FUNC, STT_OBJECT].contains(&s.st_type()) && s.st_shndx(LE) != 0)
            .map(|s| {
                (
                    s.st_value(LE),
                    s.st_size(LE),
                    s.name(LE, table.strings()).unwrap(),
                )
            })
            .collect();
        if syms.is_empty() {
            // Stripped (Debian's /bin/ls and ld.so): nothing to name.
            assert_eq!(
                symbols::lookup(&data, base, base + h.e_entry(LE)),
                None,
                "{what}"
            );
            continue;
        }
        for &(value, size, name) in syms.iter().filter(|s| s.1 > 0).step_by(7) {
            let addr = value + size / 2;
            let (got, off) = symbols::lookup(&data, base, base + addr)
                .unwrap_or_else(|| panic!("{what}: nothing at {addr:#x} ({name:?})"));
            let holders: Vec<_> = syms
                .iter()
                .filter(|&&(v, s, _)| v <= addr && addr < v + s.max(1))
                .collect();
            let last = holders.iter().map(|h| h.0).max().unwrap();
            assert!(
                holders
                    .iter()
                    .any(|&&(v, _, n)| v == last && n == got.as_bytes() && off == addr - v),
                "{what}: {addr:#x} in {name:?}: got {got}+{off:#x}, holders {holders:?}"
            );
            looked_up += 1;
        }
        // Below the first symbol or past the load bias: nothing.
        assert_eq!(
            symbols::lookup(&data, base, base.wrapping_sub(1)),
            None,
            "{what}"
        );
    }
    assert!(looked_up > 1000, "only {looked_up} lookups");
}

/// Whether the reader must accept `d`: the ELF identification, x86_64, ET_EXEC or
/// ET_DYN, program headers at least 56 bytes each and the whole table in the file.
fn should_accept(d: &[u8]) -> bool {
    let u16_at = |o: usize| u16::from_le_bytes([d[o], d[o + 1]]);
    let u64_at = |o: usize| u64::from_le_bytes(d[o..o + 8].try_into().unwrap());
    if d.len() < 64 || d[..4] != *b"\x7fELF" || d[4] != 2 || d[5] != 1 || u16_at(18) != 62 {
        return false;
    }
    if ![ET_EXEC, ET_DYN].contains(&u16_at(16)) {
        return false;
    }
    let (phoff, phentsize, phnum) = (u64_at(32), u64::from(u16_at(54)), u64::from(u16_at(56)));
    phentsize >= 56
        && phentsize
            .checked_mul(phnum)
            .and_then(|n| n.checked_add(phoff))
            .is_some_and(|end| end <= d.len() as u64)
}

/// A small deterministic generator (xorshift), so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A value for a header field that is likely to hit an edge: 0, small, the file
/// size, around it, huge, or near the top of the type.
fn edgy(r: &mut Rng, len: u64, max: u64) -> u64 {
    let v = match r.below(8) {
        0 => 0,
        1 => r.below(128),
        2 => len,
        3 => len.saturating_sub(r.below(200)),
        4 => len + r.below(200),
        5 => max - r.below(200),
        6 => max / 2 + r.below(200),
        _ => r.next(),
    };
    v & max
}

/// The header fields (offset, width) a corruption picks from.
const FIELDS: &[(usize, u32)] = &[
    (4, 1),  // class
    (5, 1),  // data encoding
    (16, 2), // e_type
    (18, 2), // e_machine
    (24, 8), // e_entry
    (32, 8), // e_phoff
    (40, 8), // e_shoff
    (54, 2), // e_phentsize
    (56, 2), // e_phnum
    (58, 2), // e_shentsize
    (60, 2), // e_shnum
];

fn corrupt(r: &mut Rng, good: &[u8]) -> Vec<u8> {
    let mut d = good.to_vec();
    for _ in 0..1 + r.below(3) {
        let (off, width) = FIELDS[r.below(FIELDS.len() as u64) as usize];
        let max = if width == 8 {
            u64::MAX
        } else {
            (1u64 << (8 * width)) - 1
        };
        let v = edgy(r, good.len() as u64, max);
        d[off..off + width as usize].copy_from_slice(&v.to_le_bytes()[..width as usize]);
    }
    // Sometimes a section header or a program header gets a wild offset or size too.
    if r.below(3) == 0 {
        let phoff = u64::from_le_bytes(good[32..40].try_into().unwrap()) as usize;
        let shoff = u64::from_le_bytes(good[40..48].try_into().unwrap()) as usize;
        let at = if r.below(2) == 0 {
            phoff + 8 * (1 + r.below(5) as usize)
        } else {
            shoff + 64 * r.below(4) as usize + 24 + 8 * r.below(2) as usize
        };
        if at + 8 <= d.len() {
            let v = edgy(r, good.len() as u64, u64::MAX);
            d[at..at + 8].copy_from_slice(&v.to_le_bytes());
        }
    }
    if r.below(10) == 0 {
        d.truncate(r.below(d.len() as u64 + 1) as usize);
    }
    d
}

#[test]
fn corrupted_headers_are_refused_or_read_safely() {
    let files = real_files();
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut accepted, mut refused) = (0, 0);
    for (what, path) in &files {
        let good = std::fs::read(path).unwrap();
        for i in 0..1500 {
            let d = corrupt(&mut r, &good);
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                let view = kernel_view(&d);
                if let Ok(e) = elf::Elf::parse(&d) {
                    for s in e.shdrs() {
                        if let Some(bytes) = e.section_data(&s) {
                            // What it hands out is the file's bytes at that place.
                            let at = bytes.as_ptr() as usize - d.as_ptr() as usize;
                            assert_eq!(at as u64, s.sh_offset);
                            assert_eq!(bytes.len() as u64, s.sh_size);
                        }
                    }
                }
                // Fault reports look symbols up in whatever the program was.
                let _ = symbols::lookup(&d, 0, 0x401000);
                view.is_ok()
            }));
            let ok = outcome.unwrap_or_else(|_| {
                panic!(
                    "{what}, corruption {i}: the reader panicked (header {:02x?})",
                    &d[..d.len().min(64)]
                )
            });
            assert_eq!(
                ok,
                should_accept(&d),
                "{what}, corruption {i}: accepted {ok}, header {:02x?}",
                &d[..d.len().min(64)]
            );
            if ok {
                accepted += 1;
            } else {
                refused += 1;
            }
        }
    }
    eprintln!("{accepted} corrupted files accepted (readable headers), {refused} refused");
    assert!(accepted > 1000 && refused > 1000, "{accepted} / {refused}");
}

/// execve of ELF files whose program headers lie outside the file, one so far out
/// that the kernel's check wrapped around and let it past the point of no return.
#[track_caller]
fn exec_bad_elf(flavor: Flavor) {
    boot_c("exec_bad_elf.c", flavor, &[], &[])
        .assert_status(0)
        .assert_stdout_line("ALL OK")
        .assert_output_lacks("FAIL ");
}

#[test]
fn exec_of_headers_outside_the_file_fails_glibc() {
    exec_bad_elf(Flavor::Glibc);
}

#[test]
fn exec_of_headers_outside_the_file_fails_musl() {
    exec_bad_elf(Flavor::Musl);
}
