//! The kernel ABI bugs that broke real programs (issue 14): each C program in
//! tests/programs checks one area against what Linux does, prints one `ok ...` line
//! per check and `ALL OK`; these tests boot it on glibc and on musl.

use rumprun_system_tests::*;

#[track_caller]
fn all_ok(src: &str, flavor: Flavor, run_opts: &[&str]) -> Run {
    let run = boot_c(src, flavor, run_opts, &[]);
    run.assert_status(0)
        .assert_stdout_line("ALL OK")
        .assert_output_lacks("FAIL ");
    run
}

/// sendfile to a non-blocking socket with a slow reader: partial counts, every byte
/// once (nginx/lighttpd served files over 64 KiB corrupt); copy_file_range; readv on
/// sockets.
#[test]
fn sendfile_partial_counts_glibc() {
    all_ok("sendfile_partial.c", Flavor::Glibc, &[]);
}

#[test]
fn sendfile_partial_counts_musl() {
    all_ok("sendfile_partial.c", Flavor::Musl, &[]);
}

/// getsockopt(SO_SNDBUF) on TCP reports twice the send buffer a connection really
/// has (was a fixed 131072 while a connection held up to 512 KiB): what a client
/// writes to a peer that reads nothing fits what both report.
#[test]
fn so_sndbuf_tells_what_a_connection_holds_glibc() {
    all_ok("so_sndbuf.c", Flavor::Glibc, &[]);
}

#[test]
fn so_sndbuf_tells_what_a_connection_holds_musl() {
    all_ok("so_sndbuf.c", Flavor::Musl, &[]);
}

/// 0.0.0.0:P and a V6ONLY [::]:P both bind and each takes its family; IPv4 to a
/// V6ONLY-only port is refused (redis's and nginx's Debian default configs).
#[test]
fn v6only_dual_bind_glibc() {
    all_ok("v6only_dual.c", Flavor::Glibc, &[]);
}

#[test]
fn v6only_dual_bind_musl() {
    all_ok("v6only_dual.c", Flavor::Musl, &[]);
}

/// IP ancillary data on UDP (RFC 3542, ip(7)): IP_PKTINFO/IPV6_PKTINFO both ways,
/// received hop limits/TTLs and traffic classes, a per-datagram hop limit, and
/// control buffers too short for a message (DNS servers: dnsmasq, unbound).
#[test]
fn udp_ancillary_data_glibc() {
    all_ok("udp_ancillary.c", Flavor::Glibc, &[]);
}

#[test]
fn udp_ancillary_data_musl() {
    all_ok("udp_ancillary.c", Flavor::Musl, &[]);
}

/// IP_TOS and IPV6_TCLASS read back what was set (Linux's ranges and errors), and
/// datagrams carry them: IP_RECVTOS / IPV6_RECVTCLASS give the sender's value.
#[test]
fn tos_and_traffic_class_glibc() {
    all_ok("tos_tclass.c", Flavor::Glibc, &[]);
}

#[test]
fn tos_and_traffic_class_musl() {
    all_ok("tos_tclass.c", Flavor::Musl, &[]);
}

/// UDP datagrams reach the socket of their family: a V6ONLY [::]:P gets no IPv4
/// datagram, 0.0.0.0:P no IPv6 one, and with both bound each gets its own whichever
/// was bound first (smoltcp hands a datagram to the first socket of its port).
#[test]
fn udp_v6only_demux_glibc() {
    all_ok("udp_v6only.c", Flavor::Glibc, &[]);
}

#[test]
fn udp_v6only_demux_musl() {
    all_ok("udp_v6only.c", Flavor::Musl, &[]);
}

/// UDP-Lite sockets (IPPROTO_UDPLITE): datagrams both ways over IPv4 and IPv6,
/// partial checksum coverage sent and required.
#[test]
fn udp_lite_sockets_glibc() {
    all_ok("udp_lite.c", Flavor::Glibc, &[]);
}

#[test]
fn udp_lite_sockets_musl() {
    all_ok("udp_lite.c", Flavor::Musl, &[]);
}

/// UDP-Lite's ports are its own: a UDP and a UDP-Lite socket bind the same port and
/// each gets its protocol's datagrams (Linux's separate tables).
#[test]
fn udp_lite_port_space_glibc() {
    all_ok("udplite_ports.c", Flavor::Glibc, &[]);
}

#[test]
fn udp_lite_port_space_musl() {
    all_ok("udplite_ports.c", Flavor::Musl, &[]);
}

/// sendmmsg/recvmmsg on UDP and AF_UNIX datagram sockets.
#[test]
fn sendmmsg_recvmmsg_glibc() {
    all_ok("mmsg_test.c", Flavor::Glibc, &[]);
}

#[test]
fn sendmmsg_recvmmsg_musl() {
    all_ok("mmsg_test.c", Flavor::Musl, &[]);
}

/// setgroups/getgroups/initgroups, capget/capset, prctl's privilege options.
#[test]
fn groups_capabilities_prctl_glibc() {
    all_ok("groups_caps.c", Flavor::Glibc, &[]);
}

#[test]
fn groups_capabilities_prctl_musl() {
    all_ok("groups_caps.c", Flavor::Musl, &[]);
}

/// MAP_32BIT below 2 GiB, MAP_HUGETLB ENOMEM.
#[test]
fn mmap_32bit_and_hugetlb_glibc() {
    all_ok("mmap_flags.c", Flavor::Glibc, &[]);
}

#[test]
fn mmap_32bit_and_hugetlb_musl() {
    all_ok("mmap_flags.c", Flavor::Musl, &[]);
}

/// xattr calls, /proc/stat, mountinfo, /etc/mtab, /proc/self/task.
#[test]
fn xattrs_and_proc_files_glibc() {
    all_ok("xattr_proc.c", Flavor::Glibc, &[]);
}

#[test]
fn xattrs_and_proc_files_musl() {
    all_ok("xattr_proc.c", Flavor::Musl, &[]);
}

/// Extended attributes kept on tmpfs with Linux's rules (CPython's xattr tests,
/// shutil.copyxattr).
#[test]
fn xattr_store_glibc() {
    all_ok("xattr_store.c", Flavor::Glibc, &[]);
}

#[test]
fn xattr_store_musl() {
    all_ok("xattr_store.c", Flavor::Musl, &[]);
}

/// A program that ends while another of its threads is blocked in a syscall releases
/// that thread's descriptors: EOF and EPIPE reach the other end of its pipes
/// (asyncio's subprocess tests waited forever for a child's pipe to close).
#[test]
fn exit_releases_blocked_threads_files_glibc() {
    all_ok("exit_blocked_threads.c", Flavor::Glibc, &[]);
}

#[test]
fn exit_releases_blocked_threads_files_musl() {
    all_ok("exit_blocked_threads.c", Flavor::Musl, &[]);
}

/// A non-blocking connect to a bound but not listening port of this host is refused
/// at once; a listen() right after it does not make it a connection (asyncio's
/// connect-racing tests); the same socket then connects.
#[test]
fn connect_unlistened_glibc() {
    all_ok("connect_unlistened.c", Flavor::Glibc, &[]);
}

#[test]
fn connect_unlistened_musl() {
    all_ok("connect_unlistened.c", Flavor::Musl, &[]);
}

/// /dev/stdin, /dev/fd/N and /proc/self/fd/N of a pipe open that pipe again
/// (asyncio's test_devstdin_input; `cat /dev/stdin` in scripts).
#[test]
fn reopen_pipe_glibc() {
    all_ok("reopen_pipe.c", Flavor::Glibc, &[]);
}

#[test]
fn reopen_pipe_musl() {
    all_ok("reopen_pipe.c", Flavor::Musl, &[]);
}

/// pidfd_open/pidfd_send_signal: a child's descriptor turns readable when it exits
/// (asyncio's PidfdChildWatcher), and signals it.
#[test]
fn pidfd_glibc() {
    all_ok("pidfd_test.c", Flavor::Glibc, &[]);
}

#[test]
fn pidfd_musl() {
    all_ok("pidfd_test.c", Flavor::Musl, &[]);
}

/// Data sent to a peer that closed its socket is answered with a reset: the sender
/// gets EPIPE/ECONNRESET instead of waiting forever (asyncio's sendfile tests).
#[test]
fn tcp_close_reset_glibc() {
    all_ok("tcp_close_reset.c", Flavor::Glibc, &[]);
}

#[test]
fn tcp_close_reset_musl() {
    all_ok("tcp_close_reset.c", Flavor::Musl, &[]);
}

/// TCP_CORK holds partial segments until uncorked, TCP_NODELAY or 200 ms (nginx's
/// tcp_nopush).
#[test]
fn tcp_cork_glibc() {
    all_ok("tcp_cork.c", Flavor::Glibc, &[]);
}

#[test]
fn tcp_cork_musl() {
    all_ok("tcp_cork.c", Flavor::Musl, &[]);
}

/// A reader that lets the window fill, then reads it in pieces of every size: every
/// byte arrives and the writer never waits on a window update the stack skipped (it
/// polls after a read only when the read may open the window).
#[test]
fn tcp_slow_reader_glibc() {
    all_ok("tcp_slow_reader.c", Flavor::Glibc, &[]);
}

/// Argument checks and small calls from issue 20 item 6: scheduling queries,
/// priorities, epoll_ctl on a file, fchdir, thread CPU clocks, pipe sizes, splice,
/// clock_settime, chroot.
#[test]
fn argument_checks_and_small_calls_glibc() {
    all_ok("arg_checks.c", Flavor::Glibc, &[]);
}

#[test]
fn argument_checks_and_small_calls_musl() {
    all_ok("arg_checks.c", Flavor::Musl, &[]);
}

/// fcntl(F_NOTIFY): accepted on a directory, ENOTDIR on other files, clearing always
/// succeeds (Linux's dnotify answers; it gave EINVAL).
#[test]
fn fcntl_notify_glibc() {
    all_ok("fnotify.c", Flavor::Glibc, &[]);
}

#[test]
fn fcntl_notify_musl() {
    all_ok("fnotify.c", Flavor::Musl, &[]);
}
