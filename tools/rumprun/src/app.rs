//! Checks that APP is something QEMU can boot through PVH: an existing x86_64 ELF64
//! file (normally the output of rumprun-bake).

use std::fs::File;
use std::io::Read;

use crate::error::{io_message, Error};

const ELF_MAGIC: &[u8; 4] = b"\x7fELF";
const ELFCLASS64: u8 = 2;
const EM_X86_64: u16 = 62;

/// What the guest needs beyond the image's highest loaded byte (page tables, stacks,
/// the kernel heap, the program's first pages).
const HEADROOM: u64 = 256 * 1024;

/// Returns an error naming APP unless it is a readable x86_64 ELF64 file; on success,
/// the smallest guest memory in MiB that can hold it (its loaded segments + headroom).
pub fn check(app: &str) -> Result<u32, Error> {
    let fail = |why: &str| Error::new(format!("{app}: {why}"));
    let meta = std::fs::metadata(app).map_err(|e| fail(&io_message(&e)))?;
    if !meta.is_file() {
        return Err(fail("not a regular file"));
    }
    let mut header = [0u8; 20];
    let mut f = File::open(app).map_err(|e| fail(&io_message(&e)))?;
    let mut got = 0;
    while got < header.len() {
        match f.read(&mut header[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(fail(&io_message(&e))),
        }
    }
    if got < header.len() || &header[..4] != ELF_MAGIC {
        return Err(fail(
            "not an ELF file (expected an image made by rumprun-bake)",
        ));
    }
    if header[4] != ELFCLASS64 {
        return Err(fail("not a 64-bit ELF file (expected an x86_64 image)"));
    }
    let machine = if header[5] == 2 {
        u16::from_be_bytes([header[18], header[19]])
    } else {
        u16::from_le_bytes([header[18], header[19]])
    };
    if machine != EM_X86_64 {
        return Err(fail("not an x86_64 ELF file"));
    }
    let bytes = std::fs::read(app).map_err(|e| fail(&io_message(&e)))?;
    let end = load_end(&bytes).ok_or_else(|| fail("truncated ELF program headers"))?;
    Ok((end + HEADROOM).div_ceil(1 << 20) as u32)
}

/// The highest physical address any PT_LOAD segment of a little-endian ELF64 reaches.
/// True when the image `app` keeps files in a file data region (ARCHITECTURE.md "The
/// baked image"), which the guest reads from the image file itself attached as a
/// read-only disk: its bake-info block (found through the section headers) names
/// one. Reads only the headers. False for anything unreadable (`check` reports it).
pub fn has_file_data(app: &str) -> bool {
    use std::os::unix::fs::FileExt;
    let Ok(f) = File::open(app) else {
        return false;
    };
    let at = |off: u64, len: usize| -> Option<Vec<u8>> {
        let mut b = vec![0u8; len];
        f.read_exact_at(&mut b, off).ok().map(|_| b)
    };
    let find = || -> Option<bool> {
        let h = at(0, 64)?;
        let u16_at = |b: &[u8], o: usize| u16::from_le_bytes([b[o], b[o + 1]]) as usize;
        let u32_at = |b: &[u8], o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap());
        let u64_at = |b: &[u8], o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
        let (shoff, shentsize, shnum, shstrndx) = (
            u64_at(&h, 40),
            u16_at(&h, 58),
            u16_at(&h, 60),
            u16_at(&h, 62),
        );
        if shentsize < 64 || shnum == 0 || shnum > 4096 || shstrndx >= shnum {
            return None;
        }
        let table = at(shoff, shentsize * shnum)?;
        let sh = |i: usize| &table[i * shentsize..i * shentsize + 64];
        let strtab = sh(shstrndx);
        let names = at(u64_at(strtab, 24), u64_at(strtab, 32).min(1 << 20) as usize)?;
        let want = rumprun_image::SECTION_NAME.as_bytes();
        (0..shnum).find_map(|i| {
            let s = sh(i);
            let name = names.get(u32_at(s, 0) as usize..)?;
            if !(name.starts_with(want) && name.get(want.len()) == Some(&0)) {
                return None;
            }
            let info = rumprun_image::BakeInfo::from_bytes(&at(
                u64_at(s, 24),
                rumprun_image::BakeInfo::SIZE,
            )?)
            .ok()?;
            Some(info.data_size != 0)
        })
    };
    find().unwrap_or(false)
}

fn load_end(elf: &[u8]) -> Option<u64> {
    let u16_at = |o: usize| Some(u16::from_le_bytes(elf.get(o..o + 2)?.try_into().ok()?));
    let u32_at = |o: usize| Some(u32::from_le_bytes(elf.get(o..o + 4)?.try_into().ok()?));
    let u64_at = |o: usize| Some(u64::from_le_bytes(elf.get(o..o + 8)?.try_into().ok()?));
    let (phoff, phentsize, phnum) = (u64_at(32)? as usize, u16_at(54)? as usize, u16_at(56)?);
    let mut end = 0;
    for i in 0..phnum as usize {
        let ph = phoff.checked_add(i.checked_mul(phentsize)?)?;
        if u32_at(ph)? == 1 {
            end = end.max(u64_at(ph + 24)?.checked_add(u64_at(ph + 40)?)?);
        }
    }
    Some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file in a temp dir of its own, removed when the test ends.
    struct TestFile(std::path::PathBuf);

    impl Drop for TestFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(self.0.parent().unwrap());
        }
    }

    impl std::ops::Deref for TestFile {
        type Target = str;
        fn deref(&self) -> &str {
            self.0.to_str().unwrap()
        }
    }

    fn with_file(name: &str, bytes: &[u8]) -> TestFile {
        let dir =
            std::env::temp_dir().join(format!("rumprun-app-test.{}.{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        TestFile(path)
    }

    #[test]
    fn minimum_memory_covers_the_loaded_segments() {
        // One PT_LOAD at 1 MiB of 3 MiB: needs 4 MiB + headroom -> 5 MiB.
        let mut e = elf(ELFCLASS64, EM_X86_64);
        e.resize(64 + 56, 0);
        e[32..40].copy_from_slice(&64u64.to_le_bytes());
        e[54..56].copy_from_slice(&56u16.to_le_bytes());
        e[56..58].copy_from_slice(&1u16.to_le_bytes());
        e[64..68].copy_from_slice(&1u32.to_le_bytes());
        e[64 + 24..64 + 32].copy_from_slice(&(1u64 << 20).to_le_bytes());
        e[64 + 40..64 + 48].copy_from_slice(&(3u64 << 20).to_le_bytes());
        let f = with_file("sized.bin", &e);
        assert_eq!(check(&f).unwrap(), 5);
    }

    fn elf(class: u8, machine: u16) -> Vec<u8> {
        let mut h = vec![0u8; 64];
        h[..4].copy_from_slice(ELF_MAGIC);
        h[4] = class;
        h[5] = 1;
        h[18..20].copy_from_slice(&machine.to_le_bytes());
        h
    }

    #[test]
    fn accepts_x86_64_elf64() {
        assert_eq!(check(&with_file("good", &elf(2, 62))), Ok(1));
    }

    #[test]
    fn rejects_others() {
        let p = with_file("text", b"#!/bin/sh\necho hi\n");
        assert_eq!(
            check(&p).unwrap_err().message,
            format!(
                "{}: not an ELF file (expected an image made by rumprun-bake)",
                &*p
            )
        );
        let p = with_file("short", b"\x7fELF");
        assert!(check(&p).unwrap_err().message.contains("not an ELF file"));
        let p = with_file("elf32", &elf(1, 3));
        assert_eq!(
            check(&p).unwrap_err().message,
            format!("{}: not a 64-bit ELF file (expected an x86_64 image)", &*p)
        );
        let p = with_file("arm", &elf(2, 183));
        assert_eq!(
            check(&p).unwrap_err().message,
            format!("{}: not an x86_64 ELF file", &*p)
        );
        assert_eq!(
            check("/nonexistent/app.bin").unwrap_err().message,
            "/nonexistent/app.bin: No such file or directory"
        );
        assert_eq!(check("/").unwrap_err().message, "/: not a regular file");
    }
}
