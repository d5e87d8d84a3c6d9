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
