//! No program input may fault or hang the kernel (issue 19): bad pointers in every
//! syscall that takes a buffer give EFAULT (or Linux's partial result) and the
//! program goes on (tests/programs/bad_pointers.c), and a fuzzer of random syscalls
//! with random and bad arguments (tests/programs/syscall_fuzz.c) survives fixed seeds,
//! each run ending with its own "survived" line and status 0. A kernel fault ends the
//! VM with 255 and a hang runs into the boot timeout: both fail here. bench/fuzz runs
//! the fuzzer longer with random seeds.

use rumprun_system_tests::*;

/// Seeds and calls per run: 3 seeds x 20,000 calls per C library.
const SEEDS: [&str; 3] = ["1", "2", "3"];
const CALLS: &str = "20000";

fn fuzz(flavor: Flavor) {
    let image = bake(&build_c("syscall_fuzz.c", flavor));
    for seed in SEEDS {
        let run = rumprun_qemu(&image, &["-M", "256"], &[seed, CALLS]);
        run.assert_status(0)
            .assert_output_lacks("kernel fault")
            .assert_output_lacks("kernel panic")
            .assert_output_contains(&format!("survived {CALLS} calls (seed {seed})"));
    }
}

#[test]
fn syscall_fuzzer_survives_glibc() {
    fuzz(Flavor::Glibc);
}

#[test]
fn syscall_fuzzer_survives_musl() {
    fuzz(Flavor::Musl);
}

fn bad_pointers(flavor: Flavor) {
    let run = boot_c("bad_pointers.c", flavor, &[], &[]);
    run.assert_status(0)
        .assert_output_lacks("FAIL ")
        .assert_stdout_line("ok   write: EFAULT for every bad address")
        .assert_stdout_line(
            "ok   read into a buffer running into PROT_NONE reads the 8 bytes that fit",
        )
        .assert_stdout_line("ok   no data was lost to the bad buffers")
        .assert_stdout_line("ok   getdents64: EFAULT for every bad address")
        .assert_stdout_line("still running")
        .assert_stdout_line("ALL OK");
}

#[test]
fn bad_pointers_give_efault_glibc() {
    bad_pointers(Flavor::Glibc);
}

#[test]
fn bad_pointers_give_efault_musl() {
    bad_pointers(Flavor::Musl);
}

fn bounded_calls(flavor: Flavor) {
    let run = boot_c("bounded_calls.c", flavor, &[], &[]);
    run.assert_status(0)
        .assert_output_lacks("FAIL ")
        .assert_stdout_line("still running")
        .assert_stdout_line("ALL OK");
}

#[test]
fn calls_with_endless_work_return_soon_glibc() {
    bounded_calls(Flavor::Glibc);
}

#[test]
fn calls_with_endless_work_return_soon_musl() {
    bounded_calls(Flavor::Musl);
}

/// Too little memory for the image's files: from the launcher's own minimum -M up,
/// each boot either runs the program or ends with one line naming the file being
/// loaded and the -M to use, status 137; never a kernel panic, and never a file
/// silently left out. The kernel heap used to panic ("memory allocation of 280 bytes
/// failed") and small files were skipped with "cannot add baked file". The files are
/// 3,000 small ones (under a page: they are in the loaded payload, and each takes a
/// page of the root file system at boot); a 50 MB file, read on demand from the
/// image's disk, needs no memory at boot at all: that image runs in 16 MiB (before
/// the image's files were read on demand, the launcher refused anything under 52).
#[test]
fn too_little_memory_for_the_baked_files_is_one_clear_line() {
    let hello = build_c("hello.c", Flavor::Glibc);
    let big = scratch_dir("oom-boot-big").join("root");
    std::fs::create_dir_all(big.join("data")).unwrap();
    let blob: Vec<u8> = (0..50_000_000u32)
        .map(|i| (i * 7 + i / 4096) as u8)
        .collect();
    std::fs::write(big.join("data/blob"), blob).unwrap();
    let image = bake_with(&hello, "oom-boot-big", &["-r".as_ref(), big.as_os_str()]);
    rumprun_qemu(&image, &["-M", "16"], &[])
        .assert_status(0)
        .assert_stdout_line("Hello, world!");

    let root = scratch_dir("oom-boot").join("root");
    std::fs::create_dir_all(root.join("data")).unwrap();
    for i in 0..3000 {
        let line = format!("{i}\n");
        std::fs::write(
            root.join(format!("data/f{i}")),
            line.repeat(3000 / line.len()),
        )
        .unwrap();
    }
    let image = bake_with(&hello, "oom-boot", &["-r".as_ref(), root.as_os_str()]);
    // The launcher refuses what cannot even hold the image; start there.
    let refused = rumprun_qemu(&image, &["-M", "4"], &[]);
    let out = refused.all_output();
    let min: u32 = out
        .split("needs at least ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no minimum in the launcher's refusal:\n{out}"));
    let (mut oom, mut ran) = (0, 0);
    for m in min..min + 40 {
        let run = rumprun_qemu(&image, &["-M", &m.to_string()], &[]);
        run.assert_output_lacks("kernel panic")
            .assert_output_lacks("cannot add baked file");
        if run.status == Some(0) {
            run.assert_stdout_line("Hello, world!");
            ran += 1;
            break;
        }
        // Short of memory for the baked files, or (at the edge) for the program
        // after them: either way one clear line naming what did not fit and -M.
        run.assert_status(137)
            .assert_output_contains("rumprun: out of memory loading ");
        if run
            .all_output()
            .contains("rumprun: out of memory loading /")
        {
            run.assert_output_contains("use rumprun -M ");
            oom += 1;
        } else {
            run.assert_output_contains("give the VM more memory (rumprun -M)");
        }
    }
    assert!(
        oom > 0,
        "no -M from the launcher's minimum {min} on ran out while loading the baked files"
    );
    assert_eq!(ran, 1, "no -M up to {} ran the program", min + 39);
}
