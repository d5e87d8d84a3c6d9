//! The image's files read on demand (ARCHITECTURE.md "The page cache"): files of a
//! page or more lie in the image's file data region, which the launcher attaches as a
//! read-only disk; the kernel reads their pages when they are used and drops clean
//! ones when memory runs short. A file much larger than the guest's memory reads back
//! byte for byte, through read(2) and through mmap(2), from a dynamically linked
//! program whose C library comes from the same region; before, QEMU loaded the whole
//! image into guest RAM, so the same image did not boot at that -M at all.

use rumprun_system_tests::*;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

/// The big file: 96 MiB, three times the guest's memory below.
const BIG: usize = 96 << 20;
/// The guest's memory (MiB).
const MEM: &str = "32";

fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `root/data/big.bin`: BIG pseudo-random bytes (xorshift), made once per process.
fn big_tree() -> &'static (PathBuf, Vec<u8>) {
    static TREE: OnceLock<(PathBuf, Vec<u8>)> = OnceLock::new();
    TREE.get_or_init(make_big_tree)
}

fn make_big_tree() -> (PathBuf, Vec<u8>) {
    let root = scratch_dir("page-cache-root");
    let mut data = vec![0u8; BIG];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for chunk in data.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
    }
    fs::create_dir_all(root.join("data")).unwrap();
    fs::write(root.join("data/big.bin"), &data).unwrap();
    (root, data)
}

/// big_file_hash.c linked dynamically with the host's gcc (its libc.so.6 goes into
/// the file data region too).
fn dynamic_hasher() -> PathBuf {
    let prog = scratch_dir("page-cache-prog").join("big_file_hash");
    check_output(
        Command::new("gcc")
            .args(["-O2", "-o"])
            .arg(&prog)
            .arg(format!("-I{}", program_source("").display()))
            .arg(program_source("big_file_hash.c")),
        "linking big_file_hash.c dynamically with gcc",
    );
    assert!(elf_kind(&prog).1, "gcc should link dynamically");
    prog
}

fn check_hashes(run: &Run, want: &[u8]) {
    let h = fnv(want);
    run.assert_status(0)
        .assert_output_lacks("FAIL ")
        .assert_stdout_line(&format!("read {} {h:016x}", want.len()))
        .assert_stdout_line(&format!("mmap {} {h:016x}", want.len()))
        .assert_output_contains("ALL OK");
}

fn image_of(prog: &Path, root: &Path, name: &str) -> PathBuf {
    bake_with(prog, name, &[OsStr::new("-r"), root.as_os_str()])
}

#[test]
fn a_file_three_times_the_memory_reads_back_byte_for_byte() {
    let (root, data) = big_tree();
    let (root, data) = (root.as_path(), data.as_slice());
    let image = image_of(&dynamic_hasher(), root, "page-cache-dynamic");
    // The image is bigger than the guest's RAM: its files are not loaded, only read.
    assert!(fs::metadata(&image).unwrap().len() > 3 * (32 << 20));
    let run = run_with_timeout(
        Command::new(tool("rumprun"))
            .args(["qemu", "-i", "-M", MEM, "-e", "RUMPRUN_VERBOSE=1"])
            .arg(&image)
            .args(["--", "/data/big.bin"]),
        Duration::from_secs(300),
    );
    check_hashes(&run, data);
    run.assert_output_contains("is read on demand from disk");
    // The image's own disk is no /dev disk of the program's.
    let ls = run_with_timeout(
        Command::new(tool("rumprun"))
            .args(["qemu", "-i", "-M", MEM])
            .arg(&image)
            .args(["--", "/dev/vda"]),
        Duration::from_secs(120),
    );
    ls.assert_status(2)
        .assert_stdout_line("open /dev/vda: errno 2");
}

#[test]
fn a_file_three_times_the_memory_reads_back_on_musl_and_microvm() {
    let (root, data) = big_tree();
    let (root, data) = (root.as_path(), data.as_slice());
    let image = image_of(
        &build_c("big_file_hash.c", Flavor::Musl),
        root,
        "page-cache-musl",
    );
    let run = run_with_timeout(
        Command::new(tool("rumprun"))
            .args(["qemu", "-m", "microvm", "-i", "-M", MEM])
            .arg(&image)
            .args(["--", "/data/big.bin"]),
        Duration::from_secs(300),
    );
    check_hashes(&run, data);
}

#[test]
fn without_its_disk_the_image_says_how_to_start_it() {
    let root = big_tree().0.as_path();
    let image = image_of(
        &build_c("big_file_hash.c", Flavor::Glibc),
        root,
        "page-cache-glibc",
    );
    let run = run_with_timeout(
        Command::new("qemu-system-x86_64")
            .args(["-M", "q35", "-accel", "tcg", "-m", "64", "-nodefaults"])
            .args(["-no-user-config", "-display", "none", "-serial", "stdio"])
            .args(["-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-kernel"])
            .arg(&image)
            .args(["-append", r#"{"cmdline": "x /data/big.bin"}"#]),
        Duration::from_secs(60),
    );
    run.assert_output_contains("no disk holds them: start it with `rumprun qemu -i IMAGE`")
        .assert_output_lacks("=== calling");
    // With the drive QEMU's own way, last, it runs.
    let drive = format!("file={},format=raw,if=virtio,readonly=on", image.display());
    let run = run_with_timeout(
        Command::new("qemu-system-x86_64")
            .args(["-M", "q35", "-accel", "tcg", "-m", MEM, "-nodefaults"])
            .args(["-no-user-config", "-display", "none", "-serial", "stdio"])
            .args([
                "-device",
                "isa-debug-exit,iobase=0xf4,iosize=4",
                "-drive",
                &drive,
            ])
            .arg("-kernel")
            .arg(&image)
            .args(["-append", r#"{"cmdline": "x /data/big.bin"}"#]),
        Duration::from_secs(300),
    );
    run.assert_output_contains("ALL OK")
        .assert_output_lacks("FAIL ");
}

/// The FNV-1a 64 hash over the little-endian hashes of `data`'s 64 KiB pieces, as
/// baked_copy_threads.c prints it.
fn piece_hashes(data: &[u8]) -> u64 {
    let mut all = Vec::new();
    for piece in data.chunks(64 << 10) {
        all.extend_from_slice(&fnv(piece).to_le_bytes());
    }
    fnv(&all)
}

/// The MiB of the big file baked_copy_threads copies (more than the guest's memory).
const COPIED_MIB: usize = 48;

/// 24 threads copy the big file's pages with write(2) from and read(2) into mappings of
/// it: the kernel's copies fault on pages that must come from the disk while other
/// threads' reads are in flight (the device completes them in any order). Before the
/// fix, virtio-blk let completed requests sit behind the used ring's head until the
/// queue was full, and the read failed as "out of memory".
fn copies_from_threads(flavor: Flavor, name: &str, machine: &str) {
    let (root, data) = big_tree();
    let want = &data[..COPIED_MIB << 20];
    let image = image_of(&build_c("baked_copy_threads.c", flavor), root, name);
    let run = run_with_timeout(
        Command::new(tool("rumprun"))
            .args(["qemu", "-m", machine, "-i", "-M", MEM])
            .arg(&image)
            .args(["--", "/data/big.bin", &COPIED_MIB.to_string()]),
        Duration::from_secs(300),
    );
    let h = piece_hashes(want);
    run.assert_status(0)
        .assert_output_lacks("FAIL ")
        .assert_output_lacks("out of memory")
        .assert_stdout_line(&format!("write {} {h:016x}", want.len()))
        .assert_stdout_line(&format!("read {} {h:016x}", want.len()))
        .assert_output_contains("ALL OK");
}

#[test]
fn threads_copying_from_and_into_mappings_of_a_big_file_glibc() {
    copies_from_threads(Flavor::Glibc, "page-cache-copy-glibc", "q35");
}

#[test]
fn threads_copying_from_and_into_mappings_of_a_big_file_musl_microvm() {
    copies_from_threads(Flavor::Musl, "page-cache-copy-musl", "microvm");
}
