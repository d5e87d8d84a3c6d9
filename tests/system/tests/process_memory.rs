//! mremap (in place, moving, shrinking, fixed) and the small process syscalls
//! (prctl, personality, membarrier, sethostname, getcpu, sched_setaffinity).

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
