//! POSIX timers (tests/programs/posix_timers.c): timer_create with SIGEV_SIGNAL,
//! SIGEV_THREAD (the C library's, on SIGEV_THREAD_ID) and signalfd, one-shot, interval
//! and absolute CLOCK_REALTIME timers, timer_gettime/getoverrun/delete and errors.

use rumprun_system_tests::*;

fn check(flavor: Flavor) {
    boot_c("posix_timers.c", flavor, &[], &[])
        .assert_status(0)
        .assert_stdout_line("ok: SIGEV_THREAD: the callback ran in a thread with sigev_value")
        .assert_stdout_line("ALL OK");
}

#[test]
fn posix_timers_signal_thread_signalfd_glibc() {
    check(Flavor::Glibc);
}

#[test]
fn posix_timers_signal_thread_signalfd_musl() {
    check(Flavor::Musl);
}
