//! Several programs in one image (issue 6): the config's `rc` list, set with the
//! launcher's `-r 'PROG ARGS [&|]'`. Each program has its own address space (two
//! copies of one non-PIE program run at the same addresses at once), pid, descriptor
//! table and exit (a crash too); they share the file system. `&` runs a program in the background,
//! `|` pipes its stdout into the next one's stdin, and the image's exit status is the
//! last foreground program's.

use rumprun_system_tests::*;
use std::path::PathBuf;

/// One image with the three test programs (glibc, static, non-PIE), in this order.
fn image() -> PathBuf {
    let peer = build_c("mp_peer.c", Flavor::Glibc);
    let gen = build_c("mp_gen.c", Flavor::Glibc);
    let count = build_c("mp_count.c", Flavor::Musl);
    let threads = build_c("mp_threads.c", Flavor::Glibc);
    let crash = build_c("crash.c", Flavor::Glibc);
    for p in [&peer, &gen, &count, &threads, &crash] {
        assert_eq!(elf_kind(p).0, 2, "{} is a non-PIE executable", p.display());
    }
    bake_programs(
        &[&peer, &gen, &count, &threads, &crash],
        "multi-program",
        &[],
    )
}

/// The address a `mark at 0x...` line of mp_peer shows.
fn mark_address(run: &Run, who: &str) -> String {
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with(&format!("{who}: pid=")))
        .unwrap_or_else(|| panic!("no `{who}: pid=` line:\n{}", run.dump()));
    line.rsplit("mark at ").next().unwrap().to_string()
}

#[test]
fn background_server_and_foreground_client_talk_over_tmp() {
    let run = rumprun_qemu(
        &image(),
        &[
            "-r",
            "mp_peer-glibc server &",
            "-r",
            "mp_peer-glibc client 5",
        ],
        &[],
    );
    run.assert_status(5)
        .assert_output_lacks("FAIL")
        .assert_stdout_line("ok: own pid, descriptor table, cwd and signal dispositions")
        .assert_stdout_line("ok: server replied")
        .assert_stdout_line("ok: client got the reply")
        .assert_stdout_line("ok: client: SO_PEERCRED names the server program")
        .assert_stdout_line("ok: server: SO_PEERCRED names the client program")
        .assert_stdout_line("ok: server: SIGUSR2 from the client program arrived")
        .assert_stdout_line(
            "ok: client: kill() reaches the server program; no such pid gives ESRCH",
        )
        .assert_stdout_line("=== main() of \"mp_peer-glibc\" returned 5 ===")
        .assert_output_contains("server: pid=1 private fd=3 mark at ")
        .assert_order("ok: server replied", "ok: client got the reply");
    // Both copies keep their own data at the same (link) address.
    let (server, client) = (mark_address(&run, "server"), mark_address(&run, "client"));
    assert_eq!(
        server,
        client,
        "same binary, same addresses:\n{}",
        run.dump()
    );
    assert!(
        u64::from_str_radix(server.trim_start_matches("0x"), 16).unwrap() < 0x1000_0000,
        "the mark lies in the non-PIE image near 0x400000: {server}"
    );
    // The server was still running (in pause) when the image ended: never returned.
    assert_eq!(
        run.stdout.matches("=== main() of").count(),
        1,
        "only the client returned:\n{}",
        run.dump()
    );
}

#[test]
fn pipe_runmode_feeds_stdout_into_the_next_stdin() {
    // Far more than the pipe holds (64 KiB): the two programs take turns, switching
    // address spaces each time.
    let n = 30000;
    let run = rumprun_qemu(
        &image(),
        &["-r", &format!("mp_gen-glibc {n} |"), "-r", "mp_count-musl"],
        &[],
    );
    let bytes: usize = (1..=n).map(|i| format!("line {i}\n").len()).sum();
    run.assert_status(0)
        .assert_stdout_line(&format!("count: lines={n} bytes={bytes}"))
        .assert_output_lacks("line 1\n")
        .assert_order(
            "=== main() of \"mp_gen-glibc\" returned 0 ===",
            "=== main() of \"mp_count-musl\" returned 0 ===",
        );
}

#[test]
fn foreground_programs_run_one_after_the_other() {
    let run = rumprun_qemu(
        &image(),
        &["-r", "mp_gen-glibc 3", "-r", "mp_gen-glibc 2"],
        &[],
    );
    run.assert_status(0);
    let lines: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("line "))
        .collect();
    assert_eq!(
        lines,
        ["line 1", "line 2", "line 3", "line 1", "line 2"],
        "the second starts when the first has exited:\n{}",
        run.dump()
    );
}

#[test]
fn exit_group_ends_only_that_programs_threads() {
    let run = rumprun_qemu(
        &image(),
        &["-r", "mp_threads-glibc", "-r", "mp_gen-glibc 2"],
        &[],
    );
    run.assert_status(0)
        .assert_stdout_line("tick")
        .assert_order(
            "=== main() of \"mp_threads-glibc\" returned 3 ===",
            "=== calling \"mp_gen-glibc\" main() ===",
        );
    let after_exit = run
        .stdout
        .split("=== main() of \"mp_threads-glibc\" returned 3 ===")
        .nth(1)
        .unwrap();
    assert!(
        !after_exit.contains("tick"),
        "the ticker threads ended with their program:\n{}",
        run.dump()
    );
    assert!(after_exit.contains("line 2"), "{}", run.dump());
}

#[test]
fn a_crash_ends_only_its_program_unless_it_is_the_last_foreground_one() {
    // In the background: reported, and the foreground program goes on. The foreground
    // one sleeps 300 ms before each line, so the background one gets the CPU to crash
    // first (once both had time slices, it could be preempted before its crash and the
    // image end with the last foreground program).
    let run = rumprun_qemu(
        &image(),
        &["-r", "crash-glibc &", "-r", "mp_gen-glibc 2 300"],
        &[],
    );
    run.assert_status(0)
        .assert_output_contains("\"crash-glibc\" killed by SIGSEGV")
        .assert_output_contains("<crash_here+0x")
        .assert_order("killed by SIGSEGV", "line 2")
        .assert_stdout_line("=== main() of \"mp_gen-glibc\" returned 0 ===");
    // In the foreground, last: its status is the image's, as with one program.
    let run = rumprun_qemu(
        &image(),
        &["-r", "mp_gen-glibc 1", "-r", "crash-glibc"],
        &[],
    );
    run.assert_status(139)
        .assert_stdout_line("line 1")
        .assert_output_contains("\"crash-glibc\" killed by SIGSEGV");
}

#[test]
fn without_rc_every_baked_program_runs_in_turn() {
    let hello = build_c("hello.c", Flavor::Musl);
    let args = build_c("args.c", Flavor::Glibc);
    let image = bake_programs(&[&hello, &args], "hello-then-args", &[]);
    let run = rumprun_qemu(&image, &[], &["one", "two"]);
    run.assert_status(0)
        .assert_stdout_line("argc=3")
        .assert_stdout_line("argv[2]=[two]")
        .assert_order("Hello", "argc=3");
    assert_eq!(
        run.stdout.matches("=== main() of").count(),
        2,
        "{}",
        run.dump()
    );
}

#[test]
fn unknown_rc_program_stops_the_boot() {
    let run = rumprun_qemu(&image(), &["-r", "nosuch arg"], &[]);
    run.assert_status(1).assert_output_contains(
        "rumprun: config error: \"rc\": entry 1: no baked program \"nosuch\" (baked: mp_peer-glibc, mp_gen-glibc, mp_count-musl, mp_threads-glibc, crash-glibc)",
    );
    assert!(!run.stdout.contains("=== calling"), "{}", run.dump());
}
