//! Real-time signals queue (tests/programs/rt_signals.c): sigqueue values taken in
//! order by sigtimedwait, a handler and a signalfd; standard signals merge.

use rumprun_system_tests::*;

fn check(flavor: Flavor) {
    boot_c("rt_signals.c", flavor, &[], &[])
        .assert_status(0)
        .assert_stdout_line(
            "ok: five queued SIGRTMIN, taken oldest first with SI_QUEUE, pid and value",
        )
        .assert_stdout_line("ALL OK");
}

#[test]
fn realtime_signals_queue_with_values_glibc() {
    check(Flavor::Glibc);
}

#[test]
fn realtime_signals_queue_with_values_musl() {
    check(Flavor::Musl);
}
