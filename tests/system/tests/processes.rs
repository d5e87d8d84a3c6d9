//! Processes inside the unikernel (fork, vfork, execve, wait, groups): the C tests in
//! tests/programs run with glibc and with musl.

// Inside `mod processes` so that `tests/run -- processes` selects them all.
mod processes {
    use rumprun_system_tests::*;

    #[track_caller]
    fn fork_test(flavor: Flavor) {
        let run = boot_c("fork_test.c", flavor, &["-M", "256"], &[]);
        run.assert_status(0)
            .assert_output_lacks("FAIL ")
            .assert_output_lacks("rumprun: out of memory")
            .assert_stdout_line("ALL OK");
    }

    /// A child whose copy-on-write faults exhaust memory is killed with a report;
    /// the parent and the kernel go on.
    #[test]
    fn cow_out_of_memory_kills_the_child_only() {
        for flavor in [Flavor::Glibc, Flavor::Musl] {
            let run = boot_c("fork_test.c", flavor, &["-M", "128"], &["cow-oom"]);
            run.assert_status(0)
                .assert_output_lacks("FAIL ")
                .assert_output_contains("rumprun: out of memory")
                .assert_stdout_line("ALL OK");
        }
    }

    #[test]
    fn fork_wait_cow_groups_glibc() {
        fork_test(Flavor::Glibc);
    }

    #[test]
    fn fork_wait_cow_groups_musl() {
        fork_test(Flavor::Musl);
    }
}
