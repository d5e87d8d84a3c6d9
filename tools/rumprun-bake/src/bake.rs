//! The image surgery of ARCHITECTURE.md "The baked image": payload archive, the extra
//! `PT_LOAD`, the new program header table, the patched bake-info block, and writing
//! the output file atomically.

use crate::elf::{Elf, Phdr, ET_EXEC, PT_LOAD, SHT_NOBITS};
use object::elf::{FileHeader64, PF_R};
use object::LittleEndian as LE;
use rumprun_bake::rootfs::{FsEntry, Tree};
use rumprun_image::cpio::CpioWriter;
use rumprun_image::cpio::S_IFREG;
use rumprun_image::{BakeInfo, BakeInfoError, SECTION_NAME};
use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Alignment of the payload, in the file and in physical memory.
pub const PAGE: u64 = 4096;
/// Where the program header table goes when there is room: right after the 64-byte
/// ELF64 header.
const EARLY_PHOFF: u64 = 64;

/// The payload: a cpio newc archive of `tree`'s entries in order, which are the
/// programs (`bin/<name>`, mode 0755, see [`program_entry`]) first, then the files of
/// the root file system.
pub fn payload(tree: &Tree) -> Result<Vec<u8>, String> {
    let mut w = CpioWriter::new();
    tree.write(&mut w)?;
    Ok(w.finish())
}

/// The payload entry of the program `name` baked from the file `input`.
pub fn program_entry(name: &str, input: &str, data: Vec<u8>) -> FsEntry {
    FsEntry {
        path: format!("bin/{name}"),
        mode: S_IFREG | 0o755,
        owner: Default::default(),
        data,
        source: format!("program {input}"),
    }
}

fn align_up(v: u64, to: u64) -> Option<u64> {
    Some(v.checked_add(to - 1)? & !(to - 1))
}

/// True for the entries whose data stays in the loaded payload: the programs (their
/// ELF images give fault reports their symbols and start them) and the kernel's own
/// files (read when a fault is reported, not from a disk then).
fn stays_loaded(e: &rumprun_image::cpio::Entry<'_>) -> bool {
    e.program_name().is_some() || e.name.starts_with("rumprun/")
}

/// Bakes `payload` into a copy of `kernel` for the config `config`. The data of the
/// root file system's files of a page or more goes to the file data region at the
/// end of the file (not loaded: the kernel reads it on demand from the image
/// attached as a disk); the rest is the loaded payload. Errors describe the kernel
/// (the caller puts its path in front).
pub fn bake(kernel: &[u8], config: &str, payload: &[u8]) -> Result<Vec<u8>, String> {
    let split = rumprun_image::cpio::split_for_disk(payload, stays_loaded)
        .map_err(|e| format!("the payload: {e}"))?;
    let payload = &split.payload[..];
    let elf = Elf::parse(kernel)?;
    if elf.e_type != ET_EXEC {
        return Err("not a rumprun kernel (not an ELF executable)".into());
    }
    let section = elf
        .section(SECTION_NAME)?
        .ok_or(format!("no {SECTION_NAME} section: not a rumprun kernel"))?;
    let info_start = section.sh_offset;
    let info_end = info_start.checked_add(BakeInfo::SIZE as u64);
    let Some(info_end) = info_end.filter(|&e| {
        section.sh_type != SHT_NOBITS
            && section.sh_size >= BakeInfo::SIZE as u64
            && e <= kernel.len() as u64
    }) else {
        return Err(format!("the {SECTION_NAME} section is malformed"));
    };
    if !elf.loaded(info_start, info_end) {
        return Err(format!(
            "the {SECTION_NAME} section is not in a loaded segment"
        ));
    }
    let info_range = info_start as usize..info_end as usize;
    let info = BakeInfo::from_bytes(&kernel[info_range.clone()]).map_err(|e| match e {
        BakeInfoError::BadMagic => format!("{SECTION_NAME} has a bad magic (expected RRBAKE01)"),
        other => format!("{SECTION_NAME}: {other}"),
    })?;
    if info.is_baked() || info.payload_paddr != 0 {
        return Err(format!(
            "already baked (config {}, payload of {} bytes); bake from an unbaked kernel.elf",
            info.config_name().unwrap_or("?"),
            info.payload_size
        ));
    }
    if elf.phdrs.len() + 1 >= 0xffff {
        return Err("too many program headers".into());
    }

    let top = elf
        .phdrs
        .iter()
        .map(|p| p.p_paddr.checked_add(p.p_memsz))
        .try_fold(0u64, |acc, end| end.map(|e| acc.max(e)));
    let paddr = top
        .and_then(|t| align_up(t, PAGE))
        .ok_or("a segment ends beyond the 64-bit address space")?;
    let size = payload.len() as u64;
    if paddr.checked_add(size).is_none() {
        return Err("the payload would end beyond the 64-bit address space".into());
    }

    let mut out = kernel.to_vec();
    let payload_off = align_up(out.len() as u64, PAGE).expect("file sizes are small");
    out.resize(payload_off as usize, 0);
    out.extend_from_slice(payload);
    let new = Phdr {
        p_type: PT_LOAD,
        p_flags: PF_R,
        p_offset: payload_off,
        p_vaddr: paddr,
        p_paddr: paddr,
        p_filesz: size,
        p_memsz: size,
        p_align: PAGE,
    };
    let table = [elf.phdr_bytes(), &new.to_bytes()].concat();
    // Right after the ELF header when the gap before the first content holds the
    // longer table (GRUB's multiboot loaders read program headers only within the
    // first 32 KiB), else at the end of the file.
    let phoff = if EARLY_PHOFF + table.len() as u64 <= elf.first_content_offset()? {
        EARLY_PHOFF
    } else {
        let at = align_up(out.len() as u64, 8).expect("file sizes are small");
        out.resize(at as usize + table.len(), 0);
        at
    };
    out[phoff as usize..phoff as usize + table.len()].copy_from_slice(&table);
    let data_offset = if split.data.is_empty() {
        0
    } else {
        let at = align_up(out.len() as u64, PAGE).expect("file sizes are small");
        out.resize(at as usize, 0);
        out.extend_from_slice(&split.data);
        at
    };

    let (header, _) =
        object::pod::from_bytes_mut::<FileHeader64<LE>>(&mut out).expect("parsed above");
    header.e_phoff.set(LE, phoff);
    header.e_phnum.set(LE, elf.phdrs.len() as u16 + 1);
    let baked = BakeInfo {
        data_offset,
        data_size: split.data.len() as u64,
        data_id: split.id,
        ..BakeInfo::baked(paddr, size, config).map_err(|e| e.to_string())?
    };
    out[info_range].copy_from_slice(&baked.to_bytes());
    Ok(out)
}

/// Writes `bytes` to `path` with mode 0755 through a temporary file in the same
/// directory and a rename, so `path` is either untouched or complete.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let file_name = file_name.unwrap_or_else(|| "out".into());
    let tmp = dir.join(format!(".{file_name}.rumprun-bake.{}", std::process::id()));
    let result = (|| {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o755)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.set_permissions(fs::Permissions::from_mode(0o755))?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use rumprun_bake::rootfs::FsEntry;
    use rumprun_image::cpio;

    /// An in-memory kernel: header, two PT_LOADs, a data area holding the bake-info
    /// block, a section name table and section headers.
    fn fake_kernel(info: BakeInfo, with_section: bool) -> Vec<u8> {
        let mut d = vec![0u8; 0x1000];
        d[..4].copy_from_slice(b"\x7fELF");
        d[4] = 2;
        d[5] = 1;
        d[6] = 1;
        d[16..18].copy_from_slice(&ET_EXEC.to_le_bytes());
        d[18..20].copy_from_slice(&62u16.to_le_bytes());
        d[32..40].copy_from_slice(&64u64.to_le_bytes());
        d[54..56].copy_from_slice(&56u16.to_le_bytes());
        d[56..58].copy_from_slice(&2u16.to_le_bytes());
        let text = Phdr {
            p_type: PT_LOAD,
            p_flags: 5,
            p_offset: 0,
            p_vaddr: 0x100000,
            p_paddr: 0x100000,
            p_filesz: 0x800,
            p_memsz: 0x800,
            p_align: 0x1000,
        };
        let data = Phdr {
            p_flags: 6,
            p_offset: 0x800,
            p_vaddr: 0xffff_ffff_8010_0800,
            p_paddr: 0x100800,
            p_filesz: 0x100,
            p_memsz: 0x2345,
            ..text
        };
        d[64..120].copy_from_slice(&text.to_bytes());
        d[120..176].copy_from_slice(&data.to_bytes());
        d[0x800..0x850].copy_from_slice(&info.to_bytes());
        let names = b"\0.shstrtab\0.rumprun_bakeinfo\0";
        d[0x900..0x900 + names.len()].copy_from_slice(names);
        // Section headers at 0xa00: null, .shstrtab, .rumprun_bakeinfo (or .data).
        d[40..48].copy_from_slice(&0xa00u64.to_le_bytes());
        d[58..60].copy_from_slice(&64u16.to_le_bytes());
        d[60..62].copy_from_slice(&3u16.to_le_bytes());
        d[62..64].copy_from_slice(&1u16.to_le_bytes());
        let mut sh = |i: usize, name: u32, ty: u32, off: u64, size: u64| {
            let b = 0xa00 + 64 * i;
            d[b..b + 4].copy_from_slice(&name.to_le_bytes());
            d[b + 4..b + 8].copy_from_slice(&ty.to_le_bytes());
            d[b + 24..b + 32].copy_from_slice(&off.to_le_bytes());
            d[b + 32..b + 40].copy_from_slice(&size.to_le_bytes());
        };
        sh(1, 1, 3, 0x900, names.len() as u64);
        sh(
            2,
            if with_section { 11 } else { 2 },
            1,
            0x800,
            BakeInfo::SIZE as u64,
        );
        d
    }

    fn progs() -> Tree {
        let mut t = Tree::new();
        t.add(program_entry("hello", "hello", b"\x7fELF hello".to_vec()))
            .unwrap();
        t.add(program_entry("two", "x/two", vec![7; 5])).unwrap();
        t
    }

    #[test]
    fn bakes_per_the_contract() {
        let kernel = fake_kernel(BakeInfo::unbaked(), true);
        let payload = payload(&progs()).unwrap();
        let out = bake(&kernel, "hw_virtio", &payload).unwrap();
        assert!(out[64..0x800] == kernel[64..0x800], "kernel bytes kept");
        assert!(out[0x850..0x1000] == kernel[0x850..], "kernel bytes kept");
        let elf = Elf::parse(&out).unwrap();
        assert_eq!(elf.phdrs.len(), 3);
        assert_eq!(elf.phdrs[..2], Elf::parse(&kernel).unwrap().phdrs[..]);
        let p = elf.phdrs[2];
        // 0x100800 + 0x2345 = 0x102b45, rounded up to 4 KiB.
        assert_eq!(
            (p.p_type, p.p_flags, p.p_paddr, p.p_vaddr),
            (PT_LOAD, PF_R, 0x103000, 0x103000)
        );
        assert_eq!(
            (p.p_filesz, p.p_memsz, p.p_align),
            (payload.len() as u64, payload.len() as u64, 4096)
        );
        assert_eq!(p.p_offset % 4096, 0);
        let bytes = &out[p.p_offset as usize..(p.p_offset + p.p_filesz) as usize];
        assert_eq!(bytes, &payload[..]);
        let names: Vec<_> = cpio::programs(bytes)
            .map(|e| e.unwrap().program_name().unwrap())
            .collect();
        assert_eq!(names, ["hello", "two"]);
        let info = BakeInfo::from_bytes(&out[0x800..]).unwrap();
        assert_eq!(
            info,
            BakeInfo::baked(0x103000, payload.len() as u64, "hw_virtio").unwrap()
        );
        // Baking a baked image is refused.
        let e = bake(&out, "hw_virtio", &payload).unwrap_err();
        assert!(
            e.starts_with("already baked (config hw_virtio, payload of"),
            "{e}"
        );
    }

    /// A root file of a page or more goes to the file data region at the end; the
    /// programs stay in the loaded payload.
    #[test]
    fn big_files_go_to_the_data_region() {
        let kernel = fake_kernel(BakeInfo::unbaked(), true);
        let mut t = progs();
        let big: Vec<u8> = (0..9000u32).map(|i| (i % 251) as u8).collect();
        t.add(FsEntry {
            path: "usr/lib/big.so".into(),
            mode: S_IFREG | 0o644,
            owner: Default::default(),
            data: big.clone(),
            source: "test".into(),
        })
        .unwrap();
        let payload = payload(&t).unwrap();
        let out = bake(&kernel, "hw_virtio", &payload).unwrap();
        let elf = Elf::parse(&out).unwrap();
        let p = elf.phdrs[2];
        let loaded = &out[p.p_offset as usize..(p.p_offset + p.p_filesz) as usize];
        let info = BakeInfo::from_bytes(&out[0x800..]).unwrap();
        assert_eq!(info.data_offset % 4096, 0);
        assert!(info.data_offset >= p.p_offset + p.p_filesz);
        assert_eq!(info.data_offset + info.data_size, out.len() as u64);
        let region = &out[info.data_offset as usize..];
        assert_eq!(&region[..8], b"RRDATA01");
        assert_eq!(region[8..16], info.data_id.to_le_bytes());
        let mut found = 0;
        for r in cpio::entries_with_meta(loaded) {
            let (e, m) = r.unwrap();
            if e.name == "usr/lib/big.so" {
                assert!(m.on_disk);
                let x = cpio::DiskExtent::parse(e.data).unwrap();
                assert_eq!(&region[x.offset as usize..][..big.len()], &big[..]);
                found += 1;
            } else {
                assert!(!m.on_disk, "{}", e.name);
            }
        }
        assert_eq!(found, 1);
        assert!(loaded.len() < big.len());
    }

    /// A kernel whose first content is at 0x200 (like the real kernel.elf, whose
    /// first segment starts at 0x1000) gets the new table right after the ELF header.
    #[test]
    fn program_headers_go_right_after_the_elf_header_when_they_fit() {
        let mut kernel = fake_kernel(BakeInfo::unbaked(), true);
        let text_offset = 64 + 8; // p_offset of the first program header
        kernel[text_offset..text_offset + 8].copy_from_slice(&0x200u64.to_le_bytes());
        let payload = payload(&progs()).unwrap();
        let out = bake(&kernel, "hw_virtio", &payload).unwrap();
        let elf = Elf::parse(&out).unwrap();
        assert_eq!(elf.e_phoff(), 64);
        assert_eq!(elf.phdrs.len(), 3);
        assert_eq!(elf.phdrs[..2], Elf::parse(&kernel).unwrap().phdrs[..]);
        // the kernel's bytes are kept (but the bake-info block at 0x800, baked)
        assert!(out[0x200..0x800] == kernel[0x200..0x800] && out[0x850..0x1000] == kernel[0x850..]);
        assert!(out[..32] == kernel[..32]);
        let p = elf.phdrs[2];
        assert_eq!(p.p_offset, 0x1000);
        assert_eq!(
            out.len() as u64,
            p.p_offset + p.p_filesz,
            "nothing appended after the payload"
        );
        assert!(out[0x1000..] == payload[..]);
        // The table at the end (the other test) when the header gap is too small.
        let tight = fake_kernel(BakeInfo::unbaked(), true);
        let elf = Elf::parse(&tight).unwrap();
        assert_eq!(elf.first_content_offset().unwrap(), 0);
    }

    #[test]
    fn kernel_errors() {
        let p = payload(&progs()).unwrap();
        let no_section = fake_kernel(BakeInfo::unbaked(), false);
        assert_eq!(
            bake(&no_section, "hw_virtio", &p).unwrap_err(),
            "no .rumprun_bakeinfo section: not a rumprun kernel"
        );
        let mut bad_magic = fake_kernel(BakeInfo::unbaked(), true);
        bad_magic[0x800] = b'X';
        assert!(bake(&bad_magic, "hw_virtio", &p)
            .unwrap_err()
            .contains("bad magic"));
        let mut outside = fake_kernel(BakeInfo::unbaked(), true);
        // Move the section offset past the data segment's file bytes.
        let b = 0xa00 + 64 * 2 + 24;
        outside[b..b + 8].copy_from_slice(&0x950u64.to_le_bytes());
        assert!(bake(&outside, "hw_virtio", &p)
            .unwrap_err()
            .contains("not in a loaded segment"));
        let mut no_sh = fake_kernel(BakeInfo::unbaked(), true);
        no_sh[60..62].fill(0);
        assert_eq!(
            bake(&no_sh, "hw_virtio", &p).unwrap_err(),
            "no section headers"
        );
        let mut dyn_kernel = fake_kernel(BakeInfo::unbaked(), true);
        dyn_kernel[16] = 3;
        assert!(bake(&dyn_kernel, "hw_virtio", &p)
            .unwrap_err()
            .contains("not a rumprun kernel"));
        assert!(bake(b"junk", "hw_virtio", &p)
            .unwrap_err()
            .contains("not an ELF file"));
    }

    #[test]
    fn atomic_write_sets_mode_and_replaces() {
        let dir = std::env::temp_dir().join(format!("rrbake-unit-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let out = dir.join("o.bin");
        fs::write(&out, b"old").unwrap();
        write_atomically(&out, b"new").unwrap();
        assert_eq!(fs::read(&out).unwrap(), b"new");
        assert_eq!(
            fs::metadata(&out).unwrap().permissions().mode() & 0o777,
            0o755
        );
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1, "no temp file left");
        assert!(write_atomically(&dir.join("missing/o.bin"), b"x").is_err());
        fs::remove_dir_all(&dir).unwrap();
    }
}
