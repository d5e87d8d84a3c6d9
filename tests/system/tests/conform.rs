//! Linux conformance that CPython's regression tests found wanting (issue 20), one C
//! program per fix, on glibc and musl: blocking writes that write everything, threads
//! blocked on idle sockets that do not slow a busy one, statfs
//! of the root tmpfs, pseudo-terminals, CPU-time interval timers, SO_SNDBUF set after
//! connect (asyncio's sendfile tests). Each program prints
//! one `ok: ...` line per check and `ALL OK`, or `FAIL: ...` and exits 1.

use rumprun_system_tests::*;

fn boot_ok(src: &str, flavor: Flavor) -> Run {
    let run = boot_c(src, flavor, &["-M", "128"], &[]);
    run.assert_status(0)
        .assert_stdout_line("ALL OK")
        .assert_output_lacks("FAIL:");
    run
}

// ---- a blocking write writes everything ----

fn big_write(flavor: Flavor) {
    let run = boot_ok("big_write.c", flavor);
    for what in ["pipe", "AF_UNIX stream", "TCP over loopback"] {
        for call in ["write", "send"] {
            if what == "pipe" && call == "send" {
                continue;
            }
            run.assert_stdout_line(&format!(
                "ok: {what}: one blocking {call} of 4 MiB writes it all, every byte arrives"
            ));
        }
    }
    run.assert_stdout_line("ok: a signal interrupts a blocked pipe write: the partial count")
        .assert_stdout_line("ok: a non-blocking pipe write gives what fits, then EAGAIN");
}

#[test]
fn blocking_big_writes_write_everything_glibc() {
    big_write(Flavor::Glibc);
}

#[test]
fn blocking_big_writes_write_everything_musl() {
    big_write(Flavor::Musl);
}

// ---- threads blocked on idle sockets do not slow a busy one ----

fn socket_waiters(flavor: Flavor) {
    boot_ok("socket_waiters.c", flavor)
        .assert_stdout_line(
            "ok: 25 threads blocked on idle sockets cost a busy socket less than 4x",
        )
        .assert_stdout_line("ok: every idle thread woke for its own byte");
}

#[test]
fn threads_blocked_on_idle_sockets_do_not_slow_a_busy_one_glibc() {
    socket_waiters(Flavor::Glibc);
}

#[test]
fn threads_blocked_on_idle_sockets_do_not_slow_a_busy_one_musl() {
    socket_waiters(Flavor::Musl);
}

// ---- threads waiting for an eventfd or a pipe alone sleep through socket traffic ----

fn file_waiters(flavor: Flavor) {
    boot_ok("file_waiters.c", flavor).assert_stdout_line(
        "ok: waiters on an eventfd or a pipe alone sleep through socket traffic and wake for their file",
    );
}

#[test]
fn waiters_on_an_eventfd_or_pipe_alone_sleep_through_socket_traffic_glibc() {
    file_waiters(Flavor::Glibc);
}

#[test]
fn waiters_on_an_eventfd_or_pipe_alone_sleep_through_socket_traffic_musl() {
    file_waiters(Flavor::Musl);
}

// ---- statfs of the root tmpfs ----

fn statfs_tmpfs(flavor: Flavor) {
    boot_ok("statfs_tmpfs.c", flavor)
        .assert_stdout_line("ok: statfs(/tmp) is a tmpfs with blocks and free blocks")
        .assert_stdout_line(
            "ok: statvfs of / and /tmp: the size is the RAM, the baked files are in use",
        )
        .assert_stdout_line("ok: 1 MiB written to /tmp takes 256 blocks, unlink gives them back");
}

#[test]
fn statfs_of_tmpfs_reports_size_and_use_glibc() {
    statfs_tmpfs(Flavor::Glibc);
}

#[test]
fn statfs_of_tmpfs_reports_size_and_use_musl() {
    statfs_tmpfs(Flavor::Musl);
}

// ---- pseudo-terminals ----

fn pty(flavor: Flavor) {
    let run = boot_ok("pty_test.c", flavor);
    for line in [
        "ok: posix_openpt, grantpt, unlockpt, ptsname = TIOCGPTN, a locked slave is EIO",
        "ok: isatty on both ends, ttyname of the slave",
        "ok: the slave's output reaches the master with ONLCR (\\n -> \\r\\n), poll says so",
        "ok: canonical input: erase edits the line, \\r becomes \\n, echo to the master",
        "ok: canonical reads return one line each; ^D gives end of file",
        "ok: raw mode (cfmakeraw): bytes as written, no echo, no output processing",
        "ok: ^C sends SIGINT to the foreground group, flushes both queues, echoes ^C",
        "ok: openpty: a second pair, the window size set through it",
        "ok: hang-ups: the master reads EIO, the slave reads EOF and writes EIO",
    ] {
        run.assert_stdout_line(line);
    }
}

#[test]
fn pseudo_terminals_glibc() {
    pty(Flavor::Glibc);
}

#[test]
fn pseudo_terminals_musl() {
    pty(Flavor::Musl);
}

// ---- CPU-time interval timers ----

fn itimer_cpu(flavor: Flavor) {
    let run = boot_ok("itimer_cpu.c", flavor);
    for which in ["ITIMER_VIRTUAL", "ITIMER_PROF"] {
        run.assert_stdout_line(&format!(
            "ok: {which}: fires after the CPU time given, then every interval; disarms"
        ))
        .assert_stdout_line(&format!("ok: {which}: sleeping does not count"));
    }
}

#[test]
fn cpu_time_interval_timers_glibc() {
    itimer_cpu(Flavor::Glibc);
}

#[test]
fn cpu_time_interval_timers_musl() {
    itimer_cpu(Flavor::Musl);
}

// ---- SO_SNDBUF set after connect bounds what a connection queues ----

fn sndbuf_after_connect(flavor: Flavor) {
    let run = boot_c("sndbuf_after_connect.c", flavor, &["-M", "256"], &[]);
    run.assert_status(0)
        .assert_stdout_line("ALL OK")
        .assert_output_lacks("FAIL");
}

#[test]
fn sndbuf_set_after_connect_bounds_the_send_queue_glibc() {
    sndbuf_after_connect(Flavor::Glibc);
}

#[test]
fn sndbuf_set_after_connect_bounds_the_send_queue_musl() {
    sndbuf_after_connect(Flavor::Musl);
}
