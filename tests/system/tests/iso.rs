//! `rumprun iso`: writes a GRUB ISO (grub-mkrescue) that loads the baked image with
//! multiboot2; booted here as a user would, with `qemu -cdrom` and the default
//! firmware (SeaBIOS), so the kernel's multiboot2 path (GRUB's info, memory map and
//! re-quoted command line) is what runs.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use rumprun_system_tests::*;

/// SeaBIOS + GRUB under TCG take a few seconds at most; be generous.
const ISO_BOOT_TIMEOUT: Duration = Duration::from_secs(120);

/// Builds `src` with glibc, bakes it and copies the image into `dir` as `<name>`,
/// so that argv\[0\] and the ISO's default name are short.
fn image_in(dir: &Path, src: &str, name: &str) -> PathBuf {
    let image = bake(&build_c(src, Flavor::Glibc));
    let copy = dir.join(name);
    fs::copy(&image, &copy).unwrap();
    copy
}

/// `rumprun iso <args>` in `dir`.
fn rumprun_iso(dir: &Path, args: &[&str]) -> Run {
    let mut cmd = Command::new(tool("rumprun"));
    cmd.arg("iso").args(args).current_dir(dir);
    run_with_timeout(&mut cmd, ISO_BOOT_TIMEOUT)
}

/// Boots `iso` with QEMU's BIOS boot from CD-ROM, the console on stdio and the exit
/// status on COM2 and isa-debug-exit. Returns the run and the program's exit status
/// (from the COM2 status line, checked against isa-debug-exit's `2*v+1`).
fn boot_iso(dir: &Path, iso: &Path) -> (Run, i32) {
    let status_file = dir.join("status");
    let _ = fs::remove_file(&status_file);
    let mut cmd = Command::new("qemu-system-x86_64");
    cmd.args(["-M", "q35", "-cdrom"])
        .arg(iso)
        .args([
            "-nodefaults",
            "-no-user-config",
            "-display",
            "none",
            "-serial",
            "stdio",
            "-device",
            "isa-debug-exit,iobase=0xf4,iosize=4",
            "-m",
            "128",
            "-chardev",
        ])
        .arg(format!(
            "file,id=rrstatus,path={}",
            status_file.display().to_string().replace(',', ",,")
        ))
        .args(["-device", "isa-serial,chardev=rrstatus,iobase=0x2f8,irq=3"]);
    let run = run_with_timeout(&mut cmd, ISO_BOOT_TIMEOUT);
    assert!(!run.timed_out, "ISO boot timed out:\n{}", run.dump());
    let line = fs::read_to_string(&status_file).unwrap_or_default();
    let status: i32 = line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("no exit status line on COM2 ({line:?}):\n{}", run.dump()));
    let qemu = run.status.expect("QEMU killed by a signal");
    assert_eq!(
        (qemu - 1) / 2,
        status & 0xff,
        "isa-debug-exit and COM2 disagree:\n{}",
        run.dump()
    );
    assert!(
        run.stdout.contains("  Booting `rumprun'"),
        "GRUB's boot line missing:\n{}",
        run.dump()
    );
    run.assert_output_lacks("error:");
    (run, status)
}

/// `rumprun iso -b`: the images go on the ISO, GRUB loads them as modules and the
/// kernel makes them RAM-backed disks, mounted where `-b` said. An ext2 image made on
/// the host is read and written (tests/programs/ext2_rw.c), an ISO 9660 one read.
#[test]
fn iso_carries_disk_images_as_ram_disks() {
    let dir = scratch_dir("iso-disks");
    image_in(&dir, "ext2_rw.c", "ext2rw.bin");
    let tree = dir.join("tree");
    fs::create_dir_all(&tree).unwrap();
    fs::write(tree.join("from-host.txt"), "written on the host\n").unwrap();
    check_output(
        Command::new("mke2fs")
            .args(["-q", "-t", "ext2", "-b", "4096", "-d"])
            .arg(&tree)
            .arg(dir.join("data.img"))
            .arg("8M"),
        "mke2fs",
    );
    fs::write(dir.join("raw.img"), vec![0x5au8; 1 << 20]).unwrap();
    rumprun_iso(
        &dir,
        &[
            "-N",
            "disks",
            "-e",
            "RUMPRUN_VERBOSE=1",
            "-b",
            "data.img,/data",
            "-b",
            "raw.img",
            "ext2rw.bin",
        ],
    )
    .assert_status(0)
    .assert_stdout_line("disks.iso");
    let (run, status) = boot_iso(&dir, &dir.join("disks.iso"));
    assert_eq!(status, 0, "{}", run.dump());
    run.assert_output_lacks("FAIL ")
        .assert_stdout_line("ALL OK");
}

#[test]
fn iso_hello_boots_with_env_and_name() {
    let dir = scratch_dir("iso-hello");
    image_in(&dir, "hello.c", "hello.bin");
    let made = rumprun_iso(
        &dir,
        &[
            "-N",
            "isotest",
            "-e",
            "WORLD=iso",
            "--",
            "hello.bin",
            "a",
            "b c",
        ],
    );
    made.assert_status(0).assert_stdout_line("isotest.iso");
    let iso = dir.join("isotest.iso");
    assert!(fs::metadata(&iso).unwrap().len() > 0);

    let (run, status) = boot_iso(&dir, &iso);
    assert_eq!(status, 0, "{}", run.dump());
    run.assert_stdout_line("Hello, iso!")
        .assert_main_markers("Hello, iso!", 0);
    eprintln!("ISO boot took {:?}", run.elapsed);
}

#[test]
fn iso_argv_quoting_hostname_and_default_name() {
    let dir = scratch_dir("iso-args");
    image_in(&dir, "args.c", "args.bin");
    let made = rumprun_iso(
        &dir,
        &[
            "-e",
            "WORLD=it's \"here\"",
            "args.bin",
            "a",
            "b c",
            "it's",
            "\"q\"\\x",
            "-env",
            "WORLD",
            "-hostname",
        ],
    );
    made.assert_status(0)
        .assert_stdout_line("rumprun-args.bin.iso");
    let (run, status) = boot_iso(&dir, &dir.join("rumprun-args.bin.iso"));
    assert_eq!(status, 0, "{}", run.dump());
    run.assert_stdout_line("argc=8")
        .assert_stdout_line("argv[0]=[/bin/args-glibc]")
        .assert_stdout_line("argv[1]=[a]")
        .assert_stdout_line("argv[2]=[b c]")
        .assert_stdout_line("argv[3]=[it's]")
        .assert_stdout_line("argv[4]=[\"q\"\\x]")
        .assert_stdout_line("env[WORLD]=[it's \"here\"]")
        .assert_stdout_line("hostname=[rumprun-args.bin]");
}

#[test]
fn iso_exit_status_reaches_the_host() {
    let dir = scratch_dir("iso-status");
    image_in(&dir, "exit_status.c", "exit_status.bin");
    rumprun_iso(&dir, &["-N", "st", "exit_status.bin", "3"]).assert_status(0);
    let (run, status) = boot_iso(&dir, &dir.join("st.iso"));
    assert_eq!(status, 3, "{}", run.dump());
    run.assert_stdout_line("returning 3 from main")
        .assert_main_markers("returning 3 from main", 3);
}

#[test]
fn iso_errors() {
    let dir = scratch_dir("iso-errors");
    image_in(&dir, "hello.c", "hello.bin");

    // An existing output is never overwritten.
    fs::write(dir.join("taken.iso"), b"mine").unwrap();
    rumprun_iso(&dir, &["-N", "taken", "hello.bin"])
        .assert_status(1)
        .assert_output_contains("rumprun: error: taken.iso already exists (not overwritten)");
    assert_eq!(fs::read(dir.join("taken.iso")).unwrap(), b"mine");

    // Missing GRUB tools: the Debian package is named, nothing is written.
    let mut cmd = Command::new(tool("rumprun"));
    cmd.args(["iso", "-N", "nogrub", "hello.bin"])
        .current_dir(&dir)
        .env("PATH", dir.join("no-such-dir"));
    run_with_timeout(&mut cmd, ISO_BOOT_TIMEOUT)
        .assert_status(1)
        .assert_output_contains(
            "rumprun: error: iso: grub-mkrescue not found: install the Debian package grub-common",
        );
    assert!(!dir.join("nogrub.iso").exists());

    // A missing disk image is named; options that make no sense without a QEMU to run.
    rumprun_iso(&dir, &["-b", "disk.img", "hello.bin"])
        .assert_status(1)
        .assert_output_contains("rumprun: error: -b disk.img: No such file or directory");
    for opt in [&["-i"][..], &["-M", "128"], &["-D", "1234"], &["-p"]] {
        let mut args = opt.to_vec();
        args.push("hello.bin");
        rumprun_iso(&dir, &args)
            .assert_status(1)
            .assert_output_contains("is not supported with iso");
    }
    assert!(!dir.join("rumprun-hello.bin.iso").exists());
}

/// `rumprun-bake` puts the new program header table right after the ELF header, so
/// GRUB's multiboot2 loader (which reads program headers only within the first
/// 32 KiB) loads the baked image as it is; `rumprun iso` has nothing to move.
#[test]
fn baked_image_program_headers_are_within_the_first_32k() {
    let image = bake(&build_c("hello.c", Flavor::Musl));
    let b = fs::read(&image).unwrap();
    let phoff = u64::from_le_bytes(b[32..40].try_into().unwrap());
    let phnum = u16::from_le_bytes([b[56], b[57]]) as u64;
    assert_eq!(phoff, 64, "program headers at {phoff}");
    assert!(phoff + phnum * 56 <= 32768);
}
