//! Pipes, eventfd, timerfd, poll, select and epoll, with threads blocking on them.

use rumprun_system_tests::*;

#[test]
fn pipes_polling_and_event_files_glibc() {
    boot_c("ipc_test.c", Flavor::Glibc, &[], &[])
        .assert_status(0)
        .assert_output_lacks("FAIL ")
        .assert_stdout_line("ALL OK");
}

#[test]
fn pipes_polling_and_event_files_musl() {
    boot_c("ipc_test.c", Flavor::Musl, &[], &[])
        .assert_status(0)
        .assert_output_lacks("FAIL ")
        .assert_stdout_line("ALL OK");
}
