//! AF_UNIX sockets (tests/programs/unix_sockets.c: socketpair, a path-bound listener
//! with client threads, datagrams between threads, abstract names, SCM_RIGHTS,
//! poll/epoll readiness, options, 1 MiB through a stream, Linux's errno values) and
//! SIGPIPE (tests/programs/sigpipe.c: the default action kills with status 141 for
//! pipes, AF_UNIX and TCP streams; MSG_NOSIGNAL, handled, blocked and ignored SIGPIPE
//! leave EPIPE). Each runs with glibc and with musl.

// Inside `mod unix_sockets` so that `tests/run -- unix_sockets` selects them all.
mod unix_sockets {
    use rumprun_system_tests::*;

    fn all_checks_pass(flavor: Flavor) {
        boot_c("unix_sockets.c", flavor, &[], &[])
            .assert_status(0)
            .assert_output_lacks("FAIL ")
            .assert_stdout_line("ALL OK");
    }

    #[test]
    fn stream_datagram_seqpacket_names_rights_polling_glibc() {
        all_checks_pass(Flavor::Glibc);
    }

    #[test]
    fn stream_datagram_seqpacket_names_rights_polling_musl() {
        all_checks_pass(Flavor::Musl);
    }

    /// The write to a broken `what` never returns: the program is killed by SIGPIPE.
    fn killed_by_sigpipe(flavor: Flavor, what: &str) {
        boot_c("sigpipe.c", flavor, &[], &[what])
            .assert_status(128 + 13)
            .assert_stdout_line(&format!("sigpipe: writing to a broken {what}"))
            .assert_output_contains("killed by SIGPIPE")
            .assert_output_lacks("FAIL");
    }

    #[test]
    fn sigpipe_default_kills_writer_to_pipe() {
        killed_by_sigpipe(Flavor::Glibc, "pipe");
        killed_by_sigpipe(Flavor::Musl, "pipe");
    }

    #[test]
    fn sigpipe_default_kills_writer_to_unix_stream() {
        killed_by_sigpipe(Flavor::Glibc, "unix");
        killed_by_sigpipe(Flavor::Musl, "unix");
    }

    #[test]
    fn sigpipe_default_kills_writer_to_tcp_stream() {
        killed_by_sigpipe(Flavor::Musl, "tcp");
    }

    #[test]
    fn sigpipe_from_a_second_thread_kills_the_program() {
        killed_by_sigpipe(Flavor::Glibc, "thread");
    }

    #[test]
    fn sigpipe_nosignal_handled_blocked_ignored_give_epipe() {
        for flavor in [Flavor::Glibc, Flavor::Musl] {
            boot_c("sigpipe.c", flavor, &[], &["safe"])
                .assert_status(0)
                .assert_output_lacks("FAIL ")
                .assert_stdout_line("ALL OK");
        }
    }
}
