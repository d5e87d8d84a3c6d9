//! mremap (in place, moving, shrinking, fixed), the small process syscalls
//! (prctl, personality, membarrier, sethostname, getcpu, sched_setaffinity), and
//! read-only memory staying read-only in ring 0 (CR0.WP: EFAULT from syscalls,
//! SIGSEGV with SEGV_ACCERR for the program's own writes), RAM above 4 GiB, and
//! adjacent anonymous areas merging as on Linux (/proc/self/maps after mprotect page
//! by page, a split and rejoin, a hole filled again).

use rumprun_system_tests::*;

#[test]
fn mremap_and_process_calls_glibc() {
    boot_c("mremap_test.c", Flavor::Glibc, &[], &[])
        .assert_status(0)
        .assert_output_lacks("FAIL ")
        .assert_stdout_line("ALL OK");
}

#[test]
fn mremap_and_process_calls_musl() {
    boot_c("mremap_test.c", Flavor::Musl, &[], &[])
        .assert_status(0)
        .assert_output_lacks("FAIL ")
        .assert_stdout_line("ALL OK");
}

#[test]
fn adjacent_areas_merge_in_proc_maps_glibc() {
    boot_c("maps_merge.c", Flavor::Glibc, &[], &[])
        .assert_status(0)
        .assert_output_lacks("FAIL ")
        .assert_stdout_line("ALL OK");
}

#[test]
fn adjacent_areas_merge_in_proc_maps_musl() {
    boot_c("maps_merge.c", Flavor::Musl, &[], &[])
        .assert_status(0)
        .assert_output_lacks("FAIL ")
        .assert_stdout_line("ALL OK");
}

#[test]
fn read_only_memory_stays_read_only_glibc() {
    boot_c("write_protect.c", Flavor::Glibc, &[], &["checks"])
        .assert_status(0)
        .assert_output_lacks("FAIL")
        .assert_stdout_line("ALL OK");
}

#[test]
fn read_only_memory_stays_read_only_musl() {
    boot_c("write_protect.c", Flavor::Musl, &[], &["checks"])
        .assert_status(0)
        .assert_output_lacks("FAIL")
        .assert_stdout_line("ALL OK");
}

#[test]
fn write_to_rodata_is_reported_and_fails() {
    boot_c("write_protect.c", Flavor::Musl, &[], &["rodata"])
        .assert_status(139)
        .assert_stdout_line("writing to .rodata")
        .assert_output_contains("SIGSEGV")
        .assert_output_contains("<write_rodata+0x")
        .assert_output_lacks("did not fault");
}

/// RAM above 4 GiB is used: QEMU is told to put only 256 MiB below 4 GiB, so most
/// of the 700 MiB the program fills must come from above it.
#[test]
fn ram_above_4_gib_is_used() {
    boot_c(
        "big_memory.c",
        Flavor::Musl,
        &["-M", "1280", "-g", "-machine max-ram-below-4g=256M"],
        &["1200", "700"],
    )
    .assert_status(0)
    .assert_output_lacks("FAIL")
    .assert_stdout_line("ALL OK");
}
