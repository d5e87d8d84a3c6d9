//! The Linux ABI (issue 3) as far as the kernel has it: threads and the scheduler,
//! futex-backed pthreads, TLS, preemption, anonymous memory, clocks and sleeping,
//! identity and limits, and a Rust std program with threads. Each C program prints
//! one `ok: ...` line per check and `ALL OK`, or `FAIL: ...` and exits 1; these tests
//! boot it (glibc and musl where both matter) and assert status 0 and `ALL OK`.

use rumprun_system_tests::*;

/// The default VM size of `rumprun qemu` (MiB), given explicitly where a test
/// depends on it.
const DEFAULT_MEM: &str = "64";

/// Asserts a test program's success: status 0, an `ALL OK` line, no `FAIL:` line.
#[track_caller]
fn assert_all_ok(run: &Run) {
    run.assert_status(0)
        .assert_stdout_line("ALL OK")
        .assert_output_lacks("FAIL:");
}

fn boot_ok(src: &str, flavor: Flavor, run_opts: &[&str]) -> Run {
    let run = boot_c(src, flavor, run_opts, &[]);
    assert_all_ok(&run);
    run
}

// ---- pthreads (the original's pthread_test) ----

fn pthread_test(flavor: Flavor) {
    let run = boot_ok("pthread_test.c", flavor, &[]);
    run.assert_stdout_line("ok: pthread_join returns 37")
        .assert_stdout_line("ok: mutex + sched_yield between two threads")
        .assert_stdout_line("ok: pthread_cond_timedwait returns ETIMEDOUT after ~100 ms")
        .assert_stdout_line("ok: cond signal/wait between threads")
        .assert_stdout_line("ok: thread-specific data per thread, destructor ran at thread exit")
        .assert_stdout_line("ok: fd opened in one thread, written and closed in another")
        .assert_order("ok: fd opened in one thread", "main thread done")
        .assert_main_markers("main thread done", 0);
}

#[test]
fn pthread_test_glibc() {
    pthread_test(Flavor::Glibc);
}

#[test]
fn pthread_test_musl() {
    pthread_test(Flavor::Musl);
}

// ---- raw futex, and how a threaded program ends ----

fn futex_test(flavor: Flavor) {
    let run = boot_ok("futex_test.c", flavor, &[]);
    for line in [
        "ok: FUTEX_WAIT on a changed value fails with EAGAIN",
        "ok: FUTEX_WAIT with a 30 ms timeout fails with ETIMEDOUT in time",
        "ok: FUTEX_WAIT_BITSET with an absolute CLOCK_MONOTONIC deadline",
        "ok: FUTEX_WAKE with no waiters returns 0",
        "ok: futex errors: unaligned EINVAL, zero bitset EINVAL, bad timeout EINVAL, unknown op ENOSYS",
        "ok: FUTEX_WAKE wakes and counts exactly the waiters asked for",
        "ok: FUTEX_WAKE_BITSET wakes only matching waiters",
        "ok: FUTEX_REQUEUE wakes one and moves the rest",
        "ok: FUTEX_CMP_REQUEUE checks the value, wakes and moves",
        "ok: FUTEX_REQUEUE onto the same word keeps every waiter",
    ] {
        run.assert_stdout_line(line);
    }
}

#[test]
fn futex_test_glibc() {
    futex_test(Flavor::Glibc);
}

#[test]
fn futex_test_musl() {
    futex_test(Flavor::Musl);
}

/// exit(7) in a thread ends the program with 7 while main waits in pthread_join.
#[test]
fn exit_from_a_thread_ends_the_program() {
    for flavor in [Flavor::Glibc, Flavor::Musl] {
        let run = boot_c("futex_test.c", flavor, &[], &["thread-exit"]);
        run.assert_status(7)
            .assert_stdout_line("worker calls exit(7)")
            .assert_output_lacks("FAIL:");
    }
}

/// main's pthread_exit leaves the other threads running; the program ends (status
/// 0) when the last thread does.
#[test]
fn pthread_exit_in_main_lets_the_worker_finish() {
    for flavor in [Flavor::Glibc, Flavor::Musl] {
        let run = boot_c("futex_test.c", flavor, &[], &["main-exit"]);
        run.assert_status(0)
            .assert_order(
                "main calls pthread_exit",
                "worker done after main's pthread_exit",
            )
            .assert_output_lacks("FAIL:");
    }
}

// ---- __thread variables (the original's tls_test) ----

fn tls_test(flavor: Flavor) {
    let run = boot_ok("tls_test.c", flavor, &[]);
    run.assert_stdout_line("ok: 10 threads joined")
        .assert_stdout_line(
            "ok: each thread had its own initialised and zeroed copies (1000 loops with sched_yield)",
        )
        .assert_stdout_line("ok: main's copies untouched");
}

#[test]
fn tls_test_glibc() {
    tls_test(Flavor::Glibc);
}

#[test]
fn tls_test_musl() {
    tls_test(Flavor::Musl);
}

#[test]
fn tls_test_glibc_static_pie() {
    tls_test(Flavor::GlibcStaticPie);
}

// ---- preemption ----

#[test]
fn spinning_thread_does_not_starve_main_glibc() {
    let run = boot_ok("preempt_test.c", Flavor::Glibc, &[]);
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("ok: main woke up after ")),
        "{}",
        run.dump()
    );
    run.assert_main_markers("ALL OK", 0);
}

#[test]
fn spinning_thread_does_not_starve_main_musl() {
    let run = boot_ok("preempt_test.c", Flavor::Musl, &[]);
    run.assert_main_markers("ALL OK", 0);
}

// ---- wake-up latency (issue 20: a woken thread starved while its waker spun) ----

fn wake_latency(flavor: Flavor) {
    let run = boot_ok("wake_latency.c", flavor, &[]);
    for how in ["futex", "pipe write", "condition variable", "new thread"] {
        for ctx in ["", " (busy sibling)"] {
            let prefix = format!("ok: a thread woken by a {how}{ctx} runs while its waker spins");
            assert!(
                run.stdout.lines().any(|l| l.starts_with(&prefix)),
                "missing {prefix:?}\n{}",
                run.dump()
            );
        }
    }
    run.assert_stdout_line("ok: the busy sibling made progress too");
}

#[test]
fn woken_thread_runs_while_waker_spins_glibc() {
    wake_latency(Flavor::Glibc);
}

#[test]
fn woken_thread_runs_while_waker_spins_musl() {
    wake_latency(Flavor::Musl);
}

// ---- memory ----

fn mem_test(flavor: Flavor) {
    let run = boot_ok("mem_test.c", flavor, &["-M", DEFAULT_MEM]);
    for line in [
        "ok: mmap/munmap of 4096 6000 8192 12000 12288 65000 bytes, whole and page by page",
        "ok: munmap((void *)1, 4096) fails with EINVAL",
        "ok: munmap(NULL, 0) fails with EINVAL",
        "ok: munmap(NULL, 4096) succeeds as on Linux",
        "ok: MAP_FIXED over a mapping replaces it (zeroes, neighbours kept)",
        "ok: MAP_FIXED_NOREPLACE on a mapping fails with EEXIST",
        "ok: MAP_FIXED_NOREPLACE on a free range maps there",
        "ok: 1 GiB PROT_NONE reservation, 1 MiB made RW and touched",
        "ok: brk grows and shrinks, regrown memory is zero, a bad brk changes nothing",
        "ok: madvise(MADV_DONTNEED) zeroes the pages",
        "ok: mprotect of an unmapped range fails with ENOMEM",
        "ok: mprotect of an unaligned address fails with EINVAL",
        "ok: mmap of length 0 fails with EINVAL",
        "ok: mmap without MAP_PRIVATE or MAP_SHARED fails with EINVAL",
    ] {
        run.assert_stdout_line(line);
    }
}

#[test]
fn mem_test_glibc() {
    mem_test(Flavor::Glibc);
}

#[test]
fn mem_test_musl() {
    mem_test(Flavor::Musl);
}

/// Boots `mem_test MODE` (one of the edge-case modes) and asserts its `ok:` line.
fn mem_edge(flavor: Flavor, mode: &str, line: &str) {
    let run = boot_c("mem_test.c", flavor, &[], &[mode]);
    assert_all_ok(&run);
    run.assert_stdout_line(line);
}

#[test]
fn mmap_beyond_the_address_space_gives_enomem() {
    for flavor in [Flavor::Glibc, Flavor::Musl] {
        mem_edge(
            flavor,
            "huge-mmap",
            "ok: mmap of more than the address space fails with ENOMEM",
        );
    }
}

#[test]
fn munmap_mprotect_lengths_that_wrap_fail() {
    for flavor in [Flavor::Glibc, Flavor::Musl] {
        mem_edge(
            flavor,
            "wrap",
            "ok: munmap/mprotect with lengths that wrap fail (EINVAL/ENOMEM) and change nothing",
        );
    }
}

#[test]
fn madvise_errors() {
    for flavor in [Flavor::Glibc, Flavor::Musl] {
        mem_edge(
            flavor,
            "madvise-errors",
            "ok: madvise: unmapped range ENOMEM, unknown advice EINVAL",
        );
    }
}

/// The last `allocated N MiB` line of `mem_test exhaust`.
fn allocated_mib(run: &Run) -> u64 {
    run.stdout
        .lines()
        .filter_map(|l| l.strip_prefix("allocated ")?.strip_suffix(" MiB"))
        .filter_map(|n| n.parse().ok())
        .next_back()
        .unwrap_or(0)
}

/// Memory is committed lazily, so malloc (mmap) succeeds and the kernel runs out
/// when a page is first touched: the program is ended with the out-of-memory report
/// and status 137 (128 + SIGKILL), after using most of the VM, and never hangs.
fn exhaust(flavor: Flavor) {
    let run = boot_c("mem_test.c", flavor, &["-M", DEFAULT_MEM], &["exhaust"]);
    run.assert_status(137)
        .assert_output_contains("rumprun: out of memory: \"")
        .assert_output_contains("give the VM more memory (rumprun -M)")
        .assert_output_lacks("malloc returned NULL")
        .assert_output_lacks("ALL OK");
    let n = allocated_mib(&run);
    assert!(
        (32..64).contains(&n),
        "a 64 MiB VM should give the program 32..63 MiB before running out, got {n}:\n{}",
        run.dump()
    );
}

#[test]
fn memory_exhaustion_is_reported_glibc() {
    exhaust(Flavor::Glibc);
}

#[test]
fn memory_exhaustion_is_reported_musl() {
    exhaust(Flavor::Musl);
}

#[test]
fn prot_none_page_faults_with_sigsegv() {
    let run = boot_c("prot_none_fault.c", Flavor::Glibc, &[], &[]);
    run.assert_status(139)
        .assert_output_contains("touching PROT_NONE page at ")
        .assert_output_contains("SIGSEGV")
        .assert_output_contains("read of protected memory")
        .assert_output_contains("<main+0x")
        .assert_output_lacks("did not fault");
}

// ---- time ----

fn time_test(flavor: Flavor) {
    let run = boot_ok("time_test.c", flavor, &[]);
    for line in [
        "ok: CLOCK_REALTIME is after 2024-01-01",
        "ok: CLOCK_MONOTONIC non-decreasing over 1000 reads",
        "ok: nanosleep(50 ms) sleeps 45..1000 ms",
        "ok: clock_nanosleep TIMER_ABSTIME (MONOTONIC, REALTIME, past deadline)",
        "ok: gettimeofday agrees with CLOCK_REALTIME within 1 s",
        "ok: time() agrees with CLOCK_REALTIME within 1 s",
        "ok: an invalid clock id gives EINVAL",
        "ok: nanosleep/clock_nanosleep with a bad timespec give EINVAL",
    ] {
        run.assert_stdout_line(line);
    }
}

#[test]
fn time_test_glibc() {
    time_test(Flavor::Glibc);
}

#[test]
fn time_test_musl() {
    time_test(Flavor::Musl);
}

/// CPU-time clocks count CPU time, not wall time.
#[test]
fn cpu_time_clocks_stand_still_while_sleeping() {
    let run = boot_c("time_test.c", Flavor::Glibc, &[], &["cputime"]);
    assert_all_ok(&run);
    run.assert_stdout_line("ok: CPU-time clocks do not advance while sleeping");
}

/// Linux's clock_nanosleep syscall has no sleep on a thread's CPU clock.
#[test]
fn clock_nanosleep_on_thread_cpu_clock_is_refused() {
    let run = boot_c("time_test.c", Flavor::Musl, &[], &["cputime-sleep"]);
    assert_all_ok(&run);
    run.assert_stdout_line(
        "ok: clock_nanosleep syscall with CLOCK_THREAD_CPUTIME_ID fails with EOPNOTSUPP",
    );
}

// ---- identity, limits, refusals (the original's misc_test without getpwnam) ----

fn misc_test(flavor: Flavor) -> Run {
    let run = boot_ok("misc_test.c", flavor, &[]);
    for line in [
        "ok: times() does not crash",
        "ok: pthread_mutex_init() works from a constructor",
        "ok: uname: sysname Linux, machine x86_64",
        "ok: getpid() == 1",
        "ok: fork() makes a child whose exit status waitpid reports",
        "ok: sched_getaffinity has CPU 0",
        "ok: getrandom fills 32 bytes",
        "ok: prlimit/getrlimit RLIMIT_STACK return a value",
    ] {
        run.assert_stdout_line(line);
    }
    run.assert_output_lacks("not supported");
    run
}

/// musl's fork() is the fork syscall (57).
#[test]
fn misc_test_musl() {
    misc_test(Flavor::Musl);
}

/// glibc's fork() is clone(CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID|SIGCHLD).
#[test]
fn misc_test_glibc() {
    misc_test(Flavor::Glibc);
}

#[test]
fn getrandom_unknown_flags_give_einval() {
    for flavor in [Flavor::Glibc, Flavor::Musl] {
        let run = boot_c("misc_test.c", flavor, &[], &["getrandom-flags"]);
        assert_all_ok(&run);
        run.assert_stdout_line("ok: getrandom with unknown flags fails with EINVAL");
    }
}

// ---- Rust std ----

#[test]
fn rust_threads_channels_condvar_panic() {
    let prog = build_rust("rust-threads");
    let (_, interp) = elf_kind(&prog);
    assert!(!interp, "the cargo wrapper must build a static program");
    let image = bake(&prog);
    let run = rumprun_qemu(
        &image,
        &["-e", "RUST_THREADS=env value"],
        &["two words", "x"],
    );
    assert_all_ok(&run);
    for line in [
        "ok: 8 named threads joined with their results, scoped threads",
        "ok: mpsc: 4 producers x 250 messages in order, sync_channel, recv_timeout",
        "ok: Arc<Mutex<u64>> incremented 6000 times by 6 threads",
        "ok: std::env args and variables",
        "ok: panic caught with catch_unwind; a thread's panic returned by join",
    ] {
        run.assert_stdout_line(line);
    }
    run.assert_output_contains("ok: Condvar woken by a sleeping notifier after ")
        .assert_output_contains("panic hook: panicked at ")
        .assert_output_contains("deliberate panic 42")
        .assert_main_markers("ALL OK", 0);
}
