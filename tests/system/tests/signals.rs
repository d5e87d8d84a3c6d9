//! Signals within the program: handlers with siginfo and ucontext, the alternate
//! stack, faults caught by handlers (SIGSEGV, SIGFPE), masks and pending signals,
//! sigtimedwait, sigsuspend, alarm/pause, interval timers, EINTR in another thread,
//! and the default action. Each subtest of tests/programs/signal_test.c prints
//! "<name>: ok"; each runs with glibc and with musl.

// Inside `mod signals` so that `tests/run -- signals` selects them all.
mod signals {
    use rumprun_system_tests::*;

    /// Boots signal_test with the given subtests and checks each printed "<name>: ok".
    #[track_caller]
    fn subtests(flavor: Flavor, names: &[&str]) -> Run {
        let run = boot_c("signal_test.c", flavor, &[], names);
        run.assert_status(0)
            .assert_stdout_line("signal_test: done")
            .assert_output_lacks("FAIL");
        for name in names {
            let ok = run.stdout.lines().any(|l| {
                l.strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with(": ok"))
            });
            assert!(ok, "no \"{name}: ok\":\n{}", run.dump());
        }
        run
    }

    fn both(names: &[&str]) {
        subtests(Flavor::Glibc, names);
        subtests(Flavor::Musl, names);
    }

    #[test]
    fn raise_runs_handler_with_siginfo_and_ucontext() {
        both(&["raise"]);
    }

    #[test]
    fn handler_runs_on_alternate_stack() {
        both(&["altstack"]);
    }

    #[test]
    fn segv_handler_siglongjmps_out_of_null_write() {
        both(&["segv_longjmp"]);
    }

    #[test]
    fn segv_handler_fixes_page_with_mprotect_and_write_completes() {
        both(&["segv_mprotect"]);
    }

    #[test]
    fn integer_divide_by_zero_caught_as_sigfpe() {
        both(&["fpe"]);
    }

    #[test]
    fn ppoll_pselect_epoll_pwait_wait_with_their_own_mask() {
        both(&["pwait_mask"]);
    }

    #[test]
    fn signalfd_reads_blocked_signals_with_poll_epoll_and_blocking_read() {
        both(&["signalfd"]);
    }

    #[test]
    fn blocked_signal_stays_pending_until_unblocked() {
        both(&["pending"]);
    }

    #[test]
    fn sigtimedwait_takes_pending_signal_and_times_out() {
        both(&["sigtimedwait"]);
    }

    #[test]
    fn sigsuspend_runs_handler_and_restores_mask() {
        both(&["sigsuspend"]);
    }

    #[test]
    fn alarm_interrupts_pause() {
        both(&["alarm"]);
    }

    #[test]
    fn setitimer_interval_fires_repeatedly() {
        both(&["itimer", "itimer_other"]);
    }

    #[test]
    fn tgkill_interrupts_nanosleep_in_other_thread() {
        both(&["thread_eintr"]);
    }

    #[test]
    fn sa_restart_restarts_futex_wait_and_eintr_without_it() {
        both(&["restart"]);
    }

    #[test]
    fn sa_resethand_sa_nodefer_and_sig_ign() {
        both(&["flags"]);
    }

    #[test]
    fn all_subtests_in_one_program() {
        let all = [
            "raise",
            "altstack",
            "segv_longjmp",
            "segv_mprotect",
            "fpe",
            "pending",
            "sigtimedwait",
            "sigsuspend",
            "itimer",
            "thread_eintr",
            "restart",
            "flags",
        ];
        subtests(Flavor::Glibc, &all);
    }

    #[test]
    fn sigterm_to_itself_ends_with_143_and_report() {
        for flavor in [Flavor::Glibc, Flavor::Musl] {
            let run = boot_c("signal_test.c", flavor, &[], &["sigterm"]);
            run.assert_status(143)
                .assert_stdout_line("sigterm: sending SIGTERM to myself")
                .assert_output_contains("killed by SIGTERM")
                .assert_output_lacks("still alive");
        }
    }

    #[test]
    fn fault_without_handler_still_reported() {
        let run = boot_c("crash.c", Flavor::Musl, &[], &[]);
        run.assert_status(139)
            .assert_output_contains("SIGSEGV")
            .assert_output_contains("<crash_here+0x");
    }
}
