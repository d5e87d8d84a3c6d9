//! The `iso` platform: writes a BIOS-bootable ISO image (GRUB 2 via `grub-mkrescue`)
//! whose GRUB loads the baked image with `multiboot2`, the runtime config on its
//! command line. Nothing is booted.
//!
//! `rumprun iso [-N name] [-e VAR=VALUE] APP [--] [args...]` writes `<name>.iso`
//! (default `rumprun-<APP basename>.iso`; a name already ending in `.iso` is used as
//! it is) and refuses to overwrite an existing file. As in the original, the name is
//! also the guest's hostname (its last path component, without `.iso`). The ISO holds
//! `/boot/<APP basename>` and `/boot/grub/grub.cfg` ([`grub_cfg`]).
//!
//! The `image` platform writes the same image as a disk: grub-mkrescue's output is a
//! hybrid whose MBR holds GRUB's BIOS boot code (`boot_hybrid.img`) and, with GRUB's
//! UEFI modules installed (required for `image`), a GPT with an EFI system partition
//! holding GRUB's EFI image: the disk boots under BIOS and UEFI alike, through the
//! same multiboot2 entry. `rumprun image [-f raw|qcow2]` writes it as `<name>.img`
//! (raw, padded to a whole MiB, as clouds want, the backup GPT moved to the new end:
//! [`crate::gpt`]) or `<name>.qcow2` (`qemu-img convert`).

use std::fs::{self, OpenOptions};
use std::io::ErrorKind;
use std::path::Path;
use std::process::Command;

use crate::cli::{ImageFormat, Options, Platform, TmpDir};
use crate::error::{io_message, Error};
use crate::{app, config, gpt, tmpdir};

/// The tool that builds the ISO (Debian: grub-common).
pub const GRUB_MKRESCUE: &str = "grub-mkrescue";
/// GRUB's BIOS modules, which grub-mkrescue puts on the ISO (Debian: grub-pc-bin).
pub const GRUB_PC_DIR: &str = "/usr/lib/grub/i386-pc";
/// GRUB's UEFI modules (Debian: grub-efi-amd64-bin): with them grub-mkrescue adds an
/// EFI system partition (in a GPT) holding GRUB's EFI image, so the disk boots under
/// UEFI as well as BIOS. `rumprun image` requires them.
pub const GRUB_EFI_DIR: &str = "/usr/lib/grub/x86_64-efi";
/// The ISO 9660 writer grub-mkrescue runs (Debian: xorriso).
pub const XORRISO: &str = "xorriso";
/// The GRUB menu entry's title.
pub const MENU_TITLE: &str = "rumprun";
/// GRUB's multiboot loaders read the ELF program headers from the first 32 KiB only
/// (`MULTIBOOT_SEARCH`).
pub const MULTIBOOT_SEARCH: usize = 32768;

/// The tool that writes qcow2 images (Debian: qemu-utils).
pub const QEMU_IMG: &str = "qemu-img";
/// Raw disk images are padded to a multiple of this (some clouds refuse others).
pub const RAW_ALIGN: usize = 1 << 20;

/// Why an option cannot be used with `iso` or `image` (checked while parsing), if
/// it cannot.
pub fn refused_option(platform: Platform, c: char) -> Option<String> {
    let (p, what, it) = if platform == Platform::Image {
        ("image", "a disk image", "the image")
    } else {
        ("iso", "an ISO image", "the ISO")
    };
    Some(match c {
        'i' | 'p' => format!("-{c} is not supported with {p}: it writes {what} and boots nothing"),
        'D' => {
            format!("-D (gdb port) is not supported with {p}: it writes {what} and boots nothing")
        }
        'M' => {
            format!("-M is not supported with {p}: the machine that boots {it} decides the memory")
        }
        'g' => format!("-g is not supported with {p}: there is no QEMU command to add to"),
        'm' => format!("-m is not supported with {p}: the machine that boots {it} is yours"),
        'd' => format!("-d is not supported with {p}"),
        'I' | 'W' | 'F' => format!("-I, -W and -F (networking) are not supported with {p} yet"),
        _ => return None,
    })
}

/// The `-D` (dump) refusal, as in the original.
pub const DUMP_REFUSED: &str =
    "-D is not supported with iso: use -T dir to keep the ISO tree (boot/grub/grub.cfg)";

/// The last path component of `path`.
fn basename(path: &str) -> &str {
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or(path)
}

/// The output file's suffix: `.iso`, `.img` (raw disk) or `.qcow2`.
pub fn suffix(o: &Options) -> &'static str {
    match (o.platform, o.image_format) {
        (Platform::Image, ImageFormat::Raw) => ".img",
        (Platform::Image, ImageFormat::Qcow2) => ".qcow2",
        _ => ".iso",
    }
}

/// The output file (ending in `suffix`) and the hostname for `-N name` (or its
/// default).
pub fn output_and_hostname(app: &str, name: Option<&str>, suffix: &str) -> (String, String) {
    let name = match name {
        Some(n) => n.to_string(),
        None => format!("rumprun-{}", basename(app)),
    };
    let output = if name.ends_with(suffix) {
        name.clone()
    } else {
        format!("{name}{suffix}")
    };
    let host = basename(&name);
    let host = host.strip_suffix(suffix).unwrap_or(host);
    let host = if host.is_empty() { "rumprun" } else { host };
    (output, host.to_string())
}

/// Quotes `s` as one GRUB script word: `'…'`, an embedded `'` as `'\''`.
pub fn grub_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The whole `/boot/grub/grub.cfg`: no menu delay, GRUB's own console on COM1 (so a
/// GRUB error is seen there; on success GRUB prints only the entry's title), and one
/// entry that loads `/boot/<kernel>` with the runtime config as its command line and
/// each of `disks` (paths on the ISO, the `-b` images in order) as a module named
/// [`RAM_DISK_MODULE`], which the kernel makes a disk in memory. An empty `config`
/// passes no command line at all.
pub fn grub_cfg(kernel: &str, config: &str, disks: &[String]) -> String {
    let modules: String = disks
        .iter()
        .map(|d| format!("\tmodule2 {} {RAM_DISK_MODULE}\n", grub_quote(d)))
        .collect();
    format!(
        "set timeout=0\n\
         serial --unit=0 --speed=115200\n\
         terminal_input serial\n\
         terminal_output serial\n\
         menuentry \"{MENU_TITLE}\" {{\n\
         \tmultiboot2 {}{}\n\
         {modules}\
         \tboot\n\
         }}\n",
        grub_quote(&format!("/boot/{kernel}")),
        if config.is_empty() {
            String::new()
        } else {
            format!(" {}", grub_quote(config))
        }
    )
}

/// The module name the kernel takes for a disk image (kernel: platform/hw).
pub const RAM_DISK_MODULE: &str = "rumprun-disk";

fn in_path(program: &str) -> bool {
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path).any(|d| {
        let p = d.join(program);
        fs::metadata(&p).is_ok_and(|m| m.is_file())
    })
}

/// Checks that grub-mkrescue and what it needs are installed; names the Debian
/// package that is missing otherwise.
/// `image`: also GRUB's UEFI modules; `qcow2`: also qemu-img.
pub fn check_tools(image: bool, qcow2: bool) -> Result<(), Error> {
    let missing = |what: &str, package: &str| {
        Error::new(format!(
            "iso: {what} not found: install the Debian package {package} (apt-get install grub-pc-bin grub-common xorriso mtools)"
        ))
    };
    if !in_path(GRUB_MKRESCUE) {
        return Err(missing(GRUB_MKRESCUE, "grub-common"));
    }
    if !Path::new(GRUB_PC_DIR).join("modinfo.sh").is_file() {
        return Err(missing(
            &format!("{GRUB_PC_DIR} (GRUB's BIOS modules)"),
            "grub-pc-bin",
        ));
    }
    if !in_path(XORRISO) {
        return Err(missing(XORRISO, "xorriso"));
    }
    if image && !Path::new(GRUB_EFI_DIR).join("modinfo.sh").is_file() {
        return Err(Error::new(format!(
            "image: {GRUB_EFI_DIR} (GRUB's UEFI modules) not found: install the Debian package grub-efi-amd64-bin"
        )));
    }
    if qcow2 && !in_path(QEMU_IMG) {
        return Err(Error::new(format!(
            "image: {QEMU_IMG} not found: install the Debian package qemu-utils"
        )));
    }
    Ok(())
}

fn u16_at(b: &[u8], o: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(o..o + 2)?.try_into().ok()?))
}
fn u32_at(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(o..o + 4)?.try_into().ok()?))
}
fn u64_at(b: &[u8], o: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(o..o + 8)?.try_into().ok()?))
}

/// Makes a baked image loadable by GRUB's multiboot2 loader, which only reads program
/// headers within the first [`MULTIBOOT_SEARCH`] bytes of the file. `rumprun-bake`
/// puts its program header table right after the ELF header when it fits; an image
/// with the table at the end of the file (older bakes, or no room) gets the table
/// copied right after the ELF header (where the linker's original, shorter table
/// was) when nothing else lives there, and `e_phoff` pointed at it. Returns `None`
/// when the image needs no change; the file layout, segments and sections are
/// otherwise kept.
pub fn grub_loadable(elf: &[u8]) -> Result<Option<Vec<u8>>, &'static str> {
    const TRUNCATED: &str = "truncated ELF headers";
    let phoff = u64_at(elf, 32).ok_or(TRUNCATED)? as usize;
    let shoff = u64_at(elf, 40).ok_or(TRUNCATED)? as usize;
    let ehsize = u16_at(elf, 52).ok_or(TRUNCATED)? as usize;
    let phentsize = u16_at(elf, 54).ok_or(TRUNCATED)? as usize;
    let phnum = u16_at(elf, 56).ok_or(TRUNCATED)? as usize;
    let shentsize = u16_at(elf, 58).ok_or(TRUNCATED)? as usize;
    let shnum = u16_at(elf, 60).ok_or(TRUNCATED)? as usize;
    let size = phentsize * phnum;
    if phoff + size <= MULTIBOOT_SEARCH {
        return Ok(None);
    }
    let table = elf.get(phoff..phoff + size).ok_or(TRUNCATED)?;
    // The lowest file offset holding anything but the headers.
    let mut first = elf.len();
    for i in 0..phnum {
        let ph = phoff + i * phentsize;
        let (offset, filesz) = (
            u64_at(elf, ph + 8).ok_or(TRUNCATED)?,
            u64_at(elf, ph + 32).ok_or(TRUNCATED)?,
        );
        if filesz > 0 {
            first = first.min(offset as usize);
        }
    }
    const SHT_NOBITS: u32 = 8;
    for i in 0..shnum {
        let sh = shoff + i * shentsize;
        let (kind, offset, len) = (
            u32_at(elf, sh + 4).ok_or(TRUNCATED)?,
            u64_at(elf, sh + 24).ok_or(TRUNCATED)?,
            u64_at(elf, sh + 32).ok_or(TRUNCATED)?,
        );
        if kind != SHT_NOBITS && len > 0 && offset > 0 {
            first = first.min(offset as usize);
        }
    }
    if shnum > 0 {
        first = first.min(shoff);
    }
    let at = ehsize.next_multiple_of(8);
    if at + size > first.min(MULTIBOOT_SEARCH) {
        return Err("its program headers are beyond the first 32 KiB and there is no room to move them there (GRUB's multiboot2 loader reads only that far)");
    }
    let mut out = elf.to_vec();
    out[at..at + size].copy_from_slice(table);
    out[32..40].copy_from_slice(&(at as u64).to_le_bytes());
    Ok(Some(out))
}

/// Writes `bytes` to `path`, which must not exist yet.
fn write_new(path: &str, bytes: &[u8]) -> Result<(), Error> {
    use std::io::Write;
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| {
            if e.kind() == ErrorKind::AlreadyExists {
                Error::new(format!("{path} already exists (not overwritten)"))
            } else {
                Error::new(format!("cannot create {path}: {}", io_message(&e)))
            }
        })?;
    if let Err(e) = f.write_all(bytes).and_then(|()| f.sync_all()) {
        let _ = fs::remove_file(path);
        return Err(Error::new(format!(
            "cannot write {path}: {}",
            io_message(&e)
        )));
    }
    Ok(())
}

/// `rumprun iso` and `rumprun image`: writes the ISO (or the disk image) and prints
/// its path.
pub fn run(o: &Options) -> Result<i32, Error> {
    if o.dump {
        return Err(Error::new(DUMP_REFUSED));
    }
    app::check(&o.app)?;
    let (output, hostname) = output_and_hostname(&o.app, o.hostname.as_deref(), suffix(o));
    if fs::symlink_metadata(&output).is_ok() {
        return Err(Error::new(format!(
            "{output} already exists (not overwritten)"
        )));
    }
    let qcow2 = o.platform == Platform::Image && o.image_format == ImageFormat::Qcow2;
    check_tools(o.platform == Platform::Image, qcow2)?;
    let image =
        fs::read(&o.app).map_err(|e| Error::new(format!("{}: {}", o.app, io_message(&e))))?;
    let image = match grub_loadable(&image) {
        Ok(Some(fixed)) => fixed,
        Ok(None) => image,
        Err(why) => return Err(Error::new(format!("{}: {why}", o.app))),
    };
    let mut guest = o.clone();
    guest.hostname = Some(hostname);
    // An image made without any config of its own reads one from a config drive.
    let config = if carries_no_config(o) {
        String::new()
    } else {
        config::build(&guest)
    };
    let kernel = basename(&o.app).to_string();

    let dir = tmpdir::create(&o.tmpdir, true)?;
    let tree = format!("{}/iso", dir.path);
    let io = |what: &str, e: std::io::Error| Error::new(format!("{what}: {}", io_message(&e)));
    fs::create_dir_all(format!("{tree}/boot/grub")).map_err(|e| io(&tree, e))?;
    fs::write(format!("{tree}/boot/{kernel}"), &image)
        .map_err(|e| io(&format!("{tree}/boot/{kernel}"), e))?;
    let mut disks = Vec::new();
    for (i, d) in o.disks.iter().enumerate() {
        let on_iso = format!("/boot/disk{i}.img");
        fs::copy(&d.path, format!("{tree}{on_iso}"))
            .map_err(|e| io(&format!("-b {}", d.path), e))?;
        disks.push(on_iso);
    }
    fs::write(
        format!("{tree}/boot/grub/grub.cfg"),
        grub_cfg(&kernel, &config, &disks),
    )
    .map_err(|e| io(&format!("{tree}/boot/grub/grub.cfg"), e))?;
    let built = format!("{}/out.iso", dir.path);
    let result = Command::new(GRUB_MKRESCUE)
        .arg("-o")
        .arg(&built)
        .arg(&tree)
        .output()
        .map_err(|e| Error::new(format!("cannot run {GRUB_MKRESCUE}: {}", io_message(&e))))?;
    if !result.status.success() {
        let stderr = String::from_utf8_lossy(&result.stderr);
        let last = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        return Err(Error::new(format!(
            "{GRUB_MKRESCUE} failed ({}): {last}",
            result.status
        )));
    }
    let mut iso = fs::read(&built).map_err(|e| io(&built, e))?;
    if o.platform == Platform::Image {
        iso.resize(iso.len().next_multiple_of(RAW_ALIGN), 0);
        if gpt::has_gpt(&iso) {
            gpt::grow(&mut iso)
                .map_err(|why| Error::new(format!("{GRUB_MKRESCUE}'s image: {why}")))?;
        }
    }
    if qcow2 {
        fs::write(&built, &iso).map_err(|e| io(&built, e))?;
        convert_to_qcow2(&built, &output)?;
    } else {
        write_new(&output, &iso)?;
    }
    if matches!(o.tmpdir, TmpDir::Keep(_)) {
        eprintln!("rumprun: ISO tree kept in {tree}");
    }
    println!("{output}");
    Ok(0)
}

/// Whether `o` is `rumprun image` with none of -e, -N, -b, -r or app args: its GRUB
/// passes no command line, so the kernel reads its config from a config drive.
pub fn carries_no_config(o: &Options) -> bool {
    o.platform == Platform::Image
        && o.env.is_empty()
        && o.hostname.is_none()
        // (the image's own disk, its file data region, is no -b disk)
        && o.disks.iter().all(|d| d.path == o.app && d.mountpoint.is_none())
        && o.rc.is_empty()
        && o.args.is_empty()
}

/// Writes the raw image `raw` as the qcow2 image `output` (which must not exist).
fn convert_to_qcow2(raw: &str, output: &str) -> Result<(), Error> {
    // Claim the name first, so an existing file is never overwritten.
    write_new(output, &[])?;
    let result = Command::new(QEMU_IMG)
        .args(["convert", "-f", "raw", "-O", "qcow2", raw, output])
        .output();
    let failed = match result {
        Err(e) => Some(format!("cannot run {QEMU_IMG}: {}", io_message(&e))),
        Ok(r) if !r.status.success() => Some(format!(
            "{QEMU_IMG} convert failed ({}): {}",
            r.status,
            String::from_utf8_lossy(&r.stderr).trim()
        )),
        Ok(_) => None,
    };
    match failed {
        Some(why) => {
            let _ = fs::remove_file(output);
            Err(Error::new(why))
        }
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            output_and_hostname("x/hello.bin", None, ".iso"),
            ("rumprun-hello.bin.iso".into(), "rumprun-hello.bin".into())
        );
        assert_eq!(
            output_and_hostname("hello.bin", Some("isotest"), ".iso"),
            ("isotest.iso".into(), "isotest".into())
        );
        assert_eq!(
            output_and_hostname("hello.bin", Some("out/box.iso"), ".iso"),
            ("out/box.iso".into(), "box".into())
        );
        assert_eq!(
            output_and_hostname("hello.bin", Some("vm"), ".qcow2"),
            ("vm.qcow2".into(), "vm".into())
        );
        assert_eq!(
            output_and_hostname("hello.bin", None, ".img"),
            ("rumprun-hello.bin.img".into(), "rumprun-hello.bin".into())
        );
    }

    #[test]
    fn grub_quoting() {
        assert_eq!(grub_quote("a b"), "'a b'");
        assert_eq!(grub_quote("it's"), r"'it'\''s'");
        assert_eq!(grub_quote(""), "''");
    }

    #[test]
    fn exact_grub_cfg() {
        assert_eq!(
            grub_cfg("hello.bin", r#"{"cmdline": "hello.bin 'b c'"}"#, &[]),
            "set timeout=0\n\
             serial --unit=0 --speed=115200\n\
             terminal_input serial\n\
             terminal_output serial\n\
             menuentry \"rumprun\" {\n\
             \tmultiboot2 '/boot/hello.bin' '{\"cmdline\": \"hello.bin '\\''b c'\\''\"}'\n\
             \tboot\n\
             }\n"
        );
    }

    /// An ELF64 header + `phnum` program headers at `phoff`, one PT_LOAD with file
    /// data at `data_off`, in a file of `len` bytes.
    fn elf(phoff: usize, phnum: u16, data_off: u64, len: usize) -> Vec<u8> {
        let mut e = vec![0u8; len];
        e[..4].copy_from_slice(b"\x7fELF");
        e[32..40].copy_from_slice(&(phoff as u64).to_le_bytes());
        e[52..54].copy_from_slice(&64u16.to_le_bytes());
        e[54..56].copy_from_slice(&56u16.to_le_bytes());
        e[56..58].copy_from_slice(&phnum.to_le_bytes());
        for i in 0..phnum as usize {
            let ph = phoff + 56 * i;
            e[ph..ph + 4].copy_from_slice(&1u32.to_le_bytes());
            e[ph + 8..ph + 16].copy_from_slice(&data_off.to_le_bytes());
            e[ph + 32..ph + 40].copy_from_slice(&16u64.to_le_bytes());
        }
        e
    }

    #[test]
    fn early_program_headers_are_left_alone() {
        assert_eq!(grub_loadable(&elf(64, 5, 0x1000, 0x2000)), Ok(None));
    }

    #[test]
    fn late_program_headers_move_after_the_elf_header() {
        let e = elf(0x9000, 6, 0x1000, 0x9000 + 6 * 56);
        let fixed = grub_loadable(&e).unwrap().unwrap();
        assert_eq!(u64_at(&fixed, 32), Some(64));
        assert_eq!(&fixed[64..64 + 6 * 56], &e[0x9000..]);
        assert_eq!(&fixed[64 + 6 * 56..], &e[64 + 6 * 56..]);
    }

    #[test]
    fn no_room_is_an_error() {
        // Segment data right after the ELF header.
        let e = elf(0x9000, 6, 0x80, 0x9000 + 6 * 56);
        assert!(grub_loadable(&e).unwrap_err().contains("no room"));
        assert!(grub_loadable(&[0u8; 10]).is_err());
    }

    #[test]
    fn refused_options() {
        assert_eq!(
            refused_option(Platform::Iso, 'i').as_deref(),
            Some("-i is not supported with iso: it writes an ISO image and boots nothing")
        );
        assert_eq!(
            refused_option(Platform::Image, 'M').as_deref(),
            Some("-M is not supported with image: the machine that boots the image decides the memory")
        );
        for p in [Platform::Iso, Platform::Image] {
            for c in ['i', 'p', 'D', 'M', 'm', 'g', 'd', 'I', 'W', 'F'] {
                assert!(refused_option(p, c).is_some(), "-{c}");
            }
            assert_eq!(refused_option(p, 'e'), None);
            assert_eq!(refused_option(p, 'N'), None);
            assert_eq!(refused_option(p, 'b'), None);
        }
    }

    #[test]
    fn grub_cfg_loads_disks_as_modules() {
        let cfg = grub_cfg(
            "a.bin",
            "{}",
            &["/boot/disk0.img".into(), "/boot/disk1.img".into()],
        );
        assert!(
            cfg.contains(
                "\tmultiboot2 '/boot/a.bin' '{}'\n\
                 \tmodule2 '/boot/disk0.img' rumprun-disk\n\
                 \tmodule2 '/boot/disk1.img' rumprun-disk\n\
                 \tboot\n"
            ),
            "{cfg}"
        );
    }
}
