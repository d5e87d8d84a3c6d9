//! What the kernel does with each Linux x86_64 syscall number: plain data (only `core`,
//! no kernel imports) so the host test `tests/system/tests/syscall_table.rs` can
//! include this file too. That test checks the table against the arms of `dispatch`
//! in `mod.rs` (every dispatched number is here with a status other than
//! `Unsupported`, and nothing else is) and renders `docs/syscalls.md` from it.
//!
//! Numbers that are not listed are unsupported (ENOSYS and one log line). List an
//! unsupported number only to say something about it. Keep the entries sorted by
//! number; the comment after each entry is its name (checked by the test).
// The kernel does not read the table (yet); the host test and the docs do.
#![allow(dead_code)]

/// How much of a syscall's Linux behaviour the kernel gives.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Status {
    /// Linux behaviour (the note may say how it maps onto a unikernel).
    Full,
    /// Works for the common cases; the note says what is missing.
    Partial,
    /// Deliberately refused with a documented errno and one log line.
    Refused,
    /// ENOSYS (and one log line unless listed in `QUIET_ENOSYS`).
    Unsupported,
}

/// One syscall number and what the kernel does with it.
#[derive(Clone, Copy, Debug)]
pub struct Syscall {
    pub nr: usize,
    pub status: Status,
    /// What is missing (for `Partial`), why (for `Refused`/`Unsupported`), or how the
    /// behaviour maps onto one program in one address space; may be empty.
    pub note: &'static str,
}

const fn sys(nr: usize, status: Status, note: &'static str) -> Syscall {
    Syscall { nr, status, note }
}

use Status::*;

/// Every number `dispatch` handles, plus notable unsupported ones, sorted by number.
pub static SYSCALLS: &[Syscall] = &[
    sys(0, Full, ""),  // read
    sys(1, Full, "a blocking write to a pipe or stream socket writes everything (a signal after some bytes: the count so far); EPIPE on a pipe or socket sends SIGPIPE"), // write
    sys(2, Full, ""),  // open
    sys(3, Full, ""),  // close
    sys(4, Full, ""),  // stat
    sys(5, Full, ""),  // fstat
    sys(6, Full, ""),  // lstat
    sys(7, Full, ""),  // poll
    sys(8, Full, "SEEK_DATA/SEEK_HOLE see one hole at the end of a file"), // lseek
    sys(
        9,
        Full,
        "anonymous (private or shared), files (tmpfs: the file's page-cache pages, MAP_SHARED coherent with read/write across processes, MAP_PRIVATE copied on write; ext2/ISO 9660: pages read on first touch, MAP_SHARED written back on msync, munmap and exit; SIGBUS past the end of the file), /dev/zero; MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_32BIT (placed between 1 and 2 GiB, as Linux); MAP_HUGETLB gives ENOMEM (no huge pages reserved); committed lazily",
    ), // mmap
    sys(10, Full, "PROT_GROWSUP/PROT_GROWSDOWN give EINVAL"), // mprotect
    sys(11, Full, ""),                                        // munmap
    sys(12, Full, ""),                                        // brk
    sys(13, Full, "handlers run with SA_SIGINFO, SA_ONSTACK, SA_RESTART, SA_NODEFER, SA_RESETHAND"), // rt_sigaction
    sys(14, Full, ""), // rt_sigprocmask
    sys(15, Full, "handled before dispatch: it restores every register, rax included"), // rt_sigreturn
    sys(
        16,
        Partial,
        "FIONBIO, FIOCLEX, FIONCLEX, FIONREAD, FIOASYNC (the flag is kept; no SIGIO is sent); the console answers TCGETS, TCSETS*, TIOCGWINSZ, TIOCSWINSZ, TIOCGPGRP/TIOCSPGRP (remembered: nobody is stopped), TIOCGSID, TIOCSCTTY, TIOCNOTTY; pseudo-terminals TIOCGPTN, TIOCSPTLCK, TIOCGPTLCK, TIOCGPTPEER, termios, window size, process group, TCFLSH; sockets answer SIOCGIFCONF/NAME/INDEX/FLAGS/ADDR/NETMASK/BRDADDR/MTU/HWADDR (SIOCSIF*: EOPNOTSUPP); everything else is ENOTTY",
    ), // ioctl
    sys(
        17,
        Partial,
        "the open mode is not checked (no EBADF on a write-only descriptor)",
    ), // pread64
    sys(
        18,
        Partial,
        "the open mode is not checked (no EBADF on a read-only descriptor)",
    ), // pwrite64
    sys(19, Full, ""), // readv
    sys(20, Full, "gathered into one write (atomic for pipes; blocking: everything, as write); EPIPE sends SIGPIPE"), // writev
    sys(21, Full, "the program runs as root"), // access
    sys(22, Full, ""), // pipe
    sys(
        23,
        Partial,
        "the timeout is not updated with the time left",
    ), // select
    sys(24, Full, ""), // sched_yield
    sys(25, Partial, "MREMAP_DONTUNMAP gives EINVAL"), // mremap
    sys(26, Full, "shared mappings of ext2 files are written back (tmpfs mappings are the file's pages already)"), // msync
    sys(28, Full, "MADV_DONTNEED and MADV_FREE drop the pages; other advice is accepted"), // madvise
    sys(29, Full, "one IPC namespace for the image; segments are committed at shmget"), // shmget
    sys(30, Partial, "SHM_RDONLY, SHM_RND; SHM_REMAP and SHM_EXEC are ignored"), // shmat
    sys(31, Partial, "IPC_STAT, IPC_SET (mode), IPC_RMID; no IPC_INFO/SHM_INFO/SHM_LOCK"), // shmctl
    sys(32, Full, ""),                       // dup
    sys(33, Full, ""),                       // dup2
    sys(34, Full, ""),                       // pause
    sys(35, Full, ""),                       // nanosleep
    sys(36, Full, "ITIMER_VIRTUAL and ITIMER_PROF both count the program's CPU time (user and kernel alike)"), // getitimer
    sys(37, Full, ""), // alarm
    sys(38, Full, "ITIMER_VIRTUAL and ITIMER_PROF both count the program's CPU time (user and kernel alike)"), // setitimer
    sys(39, Full, "the program's own pid: 1, or the main tid of a later rc program"), // getpid
    sys(40, Full, "copies through a kernel buffer in 64 KiB pieces; when a later piece fails (EAGAIN, a signal) the bytes already sent are returned and the offset moved by exactly them"), // sendfile
    sys(41, Full, "AF_INET/AF_INET6 TCP and UDP; AF_UNIX stream, datagram and seqpacket; AF_NETLINK NETLINK_ROUTE answers link and address dumps (read-only); IPPROTO_UDPLITE gives EPROTONOSUPPORT: smoltcp has no UDP-Lite (partial checksum coverage would mean a UDP of our own over raw IP sockets)"), // socket
    sys(42, Full, ""), // connect
    sys(43, Full, ""), // accept
    sys(44, Partial, "EPIPE sends SIGPIPE unless MSG_NOSIGNAL; UDP datagrams over 16 KiB (IPv4) or the MTU (IPv6) give EMSGSIZE"), // sendto
    sys(45, Full, ""), // recvfrom
    sys(46, Partial, "AF_UNIX: SCM_RIGHTS and SCM_CREDENTIALS (always our own identity); AF_INET/AF_INET6: no control messages"), // sendmsg
    sys(47, Partial, "AF_UNIX: SCM_RIGHTS, and SCM_CREDENTIALS with SO_PASSCRED; AF_INET/AF_INET6: no control messages (IPV6_RECVHOPLIMIT and IPV6_RECVTCLASS give ENOPROTOOPT: smoltcp's UDP sockets hand out a datagram's addresses only, not its hop limit or traffic class)"), // recvmsg
    sys(48, Full, ""), // shutdown
    sys(49, Full, ""), // bind
    sys(50, Full, "a real backlog"), // listen
    sys(51, Full, ""), // getsockname
    sys(52, Full, ""), // getpeername
    sys(53, Full, "AF_UNIX stream, datagram and seqpacket; other families EOPNOTSUPP"), // socketpair
    sys(
        54,
        Partial,
        "SO_RCVTIMEO/SO_SNDTIMEO bound recv*/send*/accept and plain read/write (EAGAIN, EINTR on a signal); AF_UNIX: SO_SNDBUF, SO_RCVBUF, SO_RCVTIMEO, SO_SNDTIMEO, SO_PASSCRED, SO_REUSEADDR, others ENOPROTOOPT",
    ), // setsockopt
    sys(55, Full, ""), // getsockopt
    sys(
        56,
        Partial,
        "threads (CLONE_VM|CLONE_THREAD|CLONE_SIGHAND, as pthreads use it) and processes as fork (exit signal, SETTLS, PARENT_SETTID, CHILD_SETTID, CHILD_CLEARTID) or vfork (CLONE_VM|CLONE_VFORK, as posix_spawn uses it); CLONE_VM without CLONE_VFORK or CLONE_THREAD, CLONE_FILES/CLONE_FS for processes, namespaces and pidfds give EINVAL",
    ), // clone
    sys(57, Full, "copy-on-write copy of the address space (MAP_SHARED stays shared); only the calling thread; at most 512 processes (EAGAIN)"), // fork
    sys(58, Full, "the child borrows the caller's memory until it exec's or exits; the caller sleeps meanwhile"), // vfork
    sys(59, Full, "ELF (static, static-pie, dynamic through PT_INTERP) and #! scripts from the file system; argv/envp as Linux lays them out (strings that are not UTF-8 are stored lossily)"), // execve
    sys(60, Full, "ends the calling thread"), // exit
    sys(61, Partial, "exit and signal statuses, WNOHANG, zombies until reaped; no stopped/continued children (nothing stops); rusage is zeros"), // wait4
    sys(62, Full, "to a process by pid (a zombie exists but takes nothing), 0: the caller's group, -pgid, -1: all but pid 1 and the caller"), // kill
    sys(63, Full, "sysname Linux, release 6.1.0-rumprun, nodename = the hostname"), // uname
    sys(64, Full, "one IPC namespace for the image"), // semget
    sys(65, Partial, "all operations at once or none, blocking across processes; SEM_UNDO is accepted but nothing is undone at exit"), // semop
    sys(66, Partial, "GETVAL, SETVAL, GETALL, SETALL, GETPID, IPC_STAT, IPC_RMID; GETNCNT/GETZCNT answer 0; no IPC_SET/IPC_INFO/SEM_INFO"), // semctl
    sys(67, Full, ""), // shmdt
    sys(68, Unsupported, "no System V message queues"), // msgget
    sys(
        72,
        Partial,
        "F_DUPFD(_CLOEXEC), F_GETFD/SETFD, F_GETFL/SETFL, F_GETLK/SETLK/SETLKW (one process: never a conflict), F_SETOWN/F_GETOWN(_EX) and O_ASYNC (kept; no SIGIO is sent yet), F_GETPIPE_SZ, F_SETPIPE_SZ (rounded up to a power-of-two number of pages as Linux does, above pipe-max-size 1 MiB only with CAP_SYS_RESOURCE, less than queued EBUSY), F_NOTIFY as Linux answers it (0 on a directory or when clearing, ENOTDIR otherwise; no change signal is ever sent); others (F_OFD_*, F_SETSIG, seals, leases) give EINVAL",
    ), // fcntl
    sys(
        73,
        Partial,
        "always succeeds; on Linux locks taken through separate opens of one file conflict",
    ), // flock
    sys(74, Full, "writes back every mounted file system and flushes the disks (not just this file)"), // fsync
    sys(75, Full, "as fsync"), // fdatasync
    sys(76, Full, ""), // truncate
    sys(77, Full, ""), // ftruncate
    sys(78, Unsupported, "the old getdents; getdents64 works"), // getdents
    sys(79, Full, ""), // getcwd
    sys(80, Full, ""), // chdir
    sys(81, Full, ""), // fchdir
    sys(82, Full, ""), // rename
    sys(83, Full, ""), // mkdir
    sys(84, Full, ""), // rmdir
    sys(85, Full, ""), // creat
    sys(86, Full, ""), // link
    sys(87, Full, ""), // unlink
    sys(88, Full, ""), // symlink
    sys(89, Full, ""), // readlink
    sys(90, Full, ""), // chmod
    sys(91, Full, ""), // fchmod
    sys(92, Full, "owners are stored"), // chown
    sys(93, Full, "owners are stored"), // fchown
    sys(94, Full, "owners are stored"), // lchown
    sys(95, Full, ""), // umask
    sys(96, Full, "the obsolete timezone is UTC"), // gettimeofday
    sys(97, Partial, "fixed limits (RLIMIT_STACK, RLIMIT_NOFILE 1024, RLIMIT_NPROC 512, the rest infinite)"), // getrlimit
    sys(
        98,
        Partial,
        "CPU time (all counted as user time), maxrss and voluntary context switches (times a thread blocked) only; RUSAGE_CHILDREN is all zero",
    ), // getrusage
    sys(99, Full, "uptime, total and free memory, the number of processes; no swap, no load averages"), // sysinfo
    sys(100, Partial, "the kernel's share is counted as user time"), // times
    sys(101, Unsupported, "no debugging interface in a unikernel"), // ptrace
    sys(102, Full, "always root (0)"), // getuid
    sys(104, Full, "always root (0)"), // getgid
    sys(105, Partial, "accepted; the program stays root"), // setuid
    sys(106, Partial, "accepted; the program stays root"), // setgid
    sys(107, Full, "always root (0)"), // geteuid
    sys(108, Full, "always root (0)"), // getegid
    sys(109, Full, "the caller or its children, within the caller's session"), // setpgid
    sys(110, Full, "0 for programs the image started (and orphans once pid 1 has ended)"), // getppid
    sys(111, Full, ""), // getpgrp
    sys(112, Full, "programs the image started lead their own session and group (EPERM)"), // setsid
    sys(113, Partial, "accepted; the program stays root"), // setreuid
    sys(114, Partial, "accepted; the program stays root"), // setregid
    sys(115, Full, "the groups setgroups set (none at start)"), // getgroups
    sys(116, Full, "the program is root: any list is kept"), // setgroups
    sys(117, Partial, "accepted; the program stays root"), // setresuid
    sys(118, Full, "always root (0)"), // getresuid
    sys(119, Partial, "accepted; the program stays root"), // setresgid
    sys(120, Full, "always root (0)"), // getresgid
    sys(121, Full, ""), // getpgid
    sys(124, Full, ""), // getsid
    sys(125, Partial, "root's sets (all, all, none) or what capset left; another program's pid gives ESRCH"), // capget
    sys(126, Partial, "the caller's own sets, within Linux's rules (EPERM otherwise); nothing is enforced"), // capset
    sys(127, Full, ""), // rt_sigpending
    sys(128, Full, ""), // rt_sigtimedwait
    sys(129, Partial, "the calling program only (others ESRCH); real-time signals queue up to 1024 each (then EAGAIN)"), // rt_sigqueueinfo
    sys(130, Full, ""), // rt_sigsuspend
    sys(131, Full, ""), // sigaltstack
    sys(132, Unsupported, "not yet; utimes and utimensat work"), // utime
    sys(133, Full, ""), // mknod
    sys(135, Full, "PER_LINUX only; other personas give EINVAL"), // personality
    sys(137, Full, "the root tmpfs reports the RAM as its size, and its use"), // statfs
    sys(138, Full, "pipes and other non-file descriptors report pipefs"), // fstatfs
    sys(140, Full, "the nice value setpriority set, for the caller (other pids ESRCH)"), // getpriority
    sys(141, Partial, "the nice value is kept and reported, without effect (one CPU, round robin)"), // setpriority
    sys(142, Partial, "priority 0 accepted, without effect; others EINVAL"), // sched_setparam
    sys(143, Full, "priority 0 (SCHED_OTHER)"), // sched_getparam
    sys(144, Partial, "any valid policy and priority is accepted; every thread stays SCHED_OTHER"), // sched_setscheduler
    sys(145, Full, "SCHED_OTHER, for the caller, its threads and any process of the image"), // sched_getscheduler
    sys(146, Full, ""), // sched_get_priority_max
    sys(147, Full, ""), // sched_get_priority_min
    sys(148, Full, "the scheduler's 10 ms time slice"), // sched_rr_get_interval
    sys(149, Full, "memory is never paged out"), // mlock
    sys(150, Full, "memory is never paged out"), // munlock
    sys(151, Full, "memory is never paged out"), // mlockall
    sys(152, Full, "memory is never paged out"), // munlockall
    sys(
        157,
        Partial,
        "PR_SET_NAME/PR_GET_NAME (one name for the program), PR_SET/GET_PDEATHSIG (sent when the parent ends), PR_GET/SET_DUMPABLE, PR_GET/SET_KEEPCAPS, PR_SET/GET_NO_NEW_PRIVS, PR_CAPBSET_READ/DROP; others give EINVAL",
    ), // prctl
    sys(
        158,
        Partial,
        "ARCH_SET_FS, ARCH_GET_FS, ARCH_SET_GS, ARCH_GET_GS; others give EINVAL",
    ), // arch_prctl
    sys(160, Partial, "limits are accepted and reported, not enforced"), // setrlimit
    sys(161, Partial, "one fixed root: chroot to it succeeds, to another directory EPERM"), // chroot
    sys(162, Full, "writes back every mounted file system and flushes the disks"), // sync
    sys(164, Full, "sets CLOCK_REALTIME as clock_settime does (the obsolete timezone is accepted and ignored)"), // settimeofday
    sys(165, Unsupported, "one fixed file system tree"), // mount
    sys(166, Unsupported, "one fixed file system tree"), // umount2
    sys(170, Full, ""), // sethostname
    sys(186, Full, ""), // gettid
    sys(188, Full, "tmpfs keeps user.*, trusted.* (CAP_SYS_ADMIN) and security.* as Linux's tmpfs: XATTR_CREATE/REPLACE (EEXIST/ENODATA), E2BIG over 64 KiB, ERANGE/EINVAL/EOPNOTSUPP for bad names, user.* only on files and directories (EPERM); ACLs and other file systems: EOPNOTSUPP"), // setxattr
    sys(189, Full, "as setxattr"), // lsetxattr
    sys(190, Full, "as setxattr"), // fsetxattr
    sys(191, Full, "tmpfs: the stored value (size 0 asks the length, ERANGE for a short buffer), ENODATA if absent; other file systems keep none: ENODATA in the namespaces Linux's would have (security, trusted, ACLs; user on ext2), else EOPNOTSUPP"), // getxattr
    sys(192, Full, "as getxattr"), // lgetxattr
    sys(193, Full, "as getxattr"), // fgetxattr
    sys(194, Full, "the NUL-separated names (tmpfs; trusted.* only with CAP_SYS_ADMIN), empty elsewhere; size 0 asks the length, ERANGE for a short buffer"), // listxattr
    sys(195, Full, "as listxattr"), // llistxattr
    sys(196, Full, "as listxattr"), // flistxattr
    sys(197, Full, "tmpfs: removes it (ENODATA if absent); elsewhere ENODATA or EOPNOTSUPP as getxattr; removing a missing ACL succeeds"), // removexattr
    sys(198, Full, "as removexattr"), // lremovexattr
    sys(199, Full, "as removexattr"), // fremovexattr
    sys(200, Full, ""), // tkill
    sys(201, Full, ""), // time
    sys(
        202,
        Partial,
        "WAIT, WAKE, WAIT_BITSET, WAKE_BITSET, REQUEUE, CMP_REQUEUE with timeouts; a shared futex in MAP_SHARED memory wakes across processes; WAKE_OP and the PI operations give ENOSYS",
    ), // futex
    sys(203, Full, "CPU 0 is the only one"), // sched_setaffinity
    sys(204, Full, "CPU 0 is the only one"), // sched_getaffinity
    sys(206, Unsupported, "no Linux AIO"), // io_setup
    sys(213, Full, ""), // epoll_create
    sys(217, Full, ""), // getdents64
    sys(218, Full, ""), // set_tid_address
    sys(220, Partial, "as semop, with a relative timeout (EAGAIN)"), // semtimedop
    sys(221, Full, "advice is accepted and has no effect"), // fadvise64
    sys(
        222,
        Partial,
        "CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME; SIGEV_NONE, SIGEV_SIGNAL, SIGEV_THREAD_ID (libc's SIGEV_THREAD works on it); CPU-time clocks EOPNOTSUPP; an absolute CLOCK_REALTIME time is converted when armed (a later clock change does not move it)",
    ), // timer_create
    sys(223, Full, ""), // timer_settime
    sys(224, Full, ""), // timer_gettime
    sys(225, Partial, "the expirations missed when the signal was sent, not those while it stayed pending"), // timer_getoverrun
    sys(226, Full, ""), // timer_delete
    sys(227, Full, "CLOCK_REALTIME, for the whole image as Linux's is system-wide (needs CAP_SYS_TIME, which root has; the monotonic clocks do not move); other clocks EINVAL"), // clock_settime
    sys(
        228,
        Full,
        "REALTIME (from the RTC at boot), MONOTONIC, BOOTTIME, the COARSE/RAW variants, process and thread CPU time, and the CPU clocks of clock_getcpuclockid/pthread_getcpuclockid (this program's threads, the image's programs)",
    ), // clock_gettime
    sys(229, Full, "1 ns"), // clock_getres
    sys(
        230,
        Partial,
        "sleeping on CLOCK_PROCESS_CPUTIME_ID gives EOPNOTSUPP",
    ), // clock_nanosleep
    sys(231, Full, ""), // exit_group
    sys(232, Full, "level- and edge-triggered, EPOLLONESHOT"), // epoll_wait
    sys(233, Full, "regular files, directories and /dev/null-like devices give EPERM, as on Linux"), // epoll_ctl
    sys(234, Full, "to threads of the program itself; other tgids give ESRCH"), // tgkill
    sys(235, Full, ""), // utimes
    sys(247, Partial, "P_ALL, P_PID, P_PGID with WEXITED, WNOHANG, WNOWAIT; no stopped/continued children; rusage is zeros"), // waitid
    sys(253, Unsupported, "no file change notification"), // inotify_init
    sys(257, Full, "including O_TMPFILE and O_PATH"), // openat
    sys(258, Full, ""), // mkdirat
    sys(259, Full, ""), // mknodat
    sys(260, Full, "owners are stored"), // fchownat
    sys(262, Full, ""), // newfstatat
    sys(263, Full, ""), // unlinkat
    sys(264, Full, ""), // renameat
    sys(265, Full, ""), // linkat
    sys(266, Full, ""), // symlinkat
    sys(267, Full, ""), // readlinkat
    sys(268, Full, ""), // fchmodat
    sys(269, Full, ""), // faccessat
    sys(270, Partial, "the timeout is not updated with the time left"), // pselect6
    sys(271, Full, ""), // ppoll
    sys(
        273,
        Partial,
        "accepted; robust futexes are not cleaned up at thread exit",
    ), // set_robust_list
    sys(275, Partial, "through a kernel buffer, one transfer per call; SPLICE_F_NONBLOCK; a pipe-to-socket transfer waits for room even with SPLICE_F_NONBLOCK"), // splice
    sys(280, Full, ""), // utimensat
    sys(281, Full, ""), // epoll_pwait
    sys(282, Full, ""), // signalfd
    sys(283, Full, "CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME"), // timerfd_create
    sys(284, Full, ""), // eventfd
    sys(
        285,
        Full,
        "modes 0, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, FALLOC_FL_ZERO_RANGE",
    ), // fallocate
    sys(286, Full, ""), // timerfd_settime
    sys(287, Full, ""), // timerfd_gettime
    sys(288, Full, ""), // accept4
    sys(289, Full, ""), // signalfd4
    sys(290, Full, ""), // eventfd2
    sys(291, Full, ""), // epoll_create1
    sys(292, Full, ""), // dup3
    sys(293, Full, "O_DIRECT is accepted and gives a byte-stream pipe"), // pipe2
    sys(294, Unsupported, "no file change notification"), // inotify_init1
    sys(
        295,
        Partial,
        "the open mode is not checked; offset -1 reads at the file position instead of EINVAL",
    ), // preadv
    sys(
        296,
        Partial,
        "the open mode is not checked; offset -1 writes at the file position instead of EINVAL",
    ), // pwritev
    sys(297, Partial, "threads of the calling program only (others ESRCH)"), // rt_tgsigqueueinfo
    sys(299, Full, "MSG_WAITFORONE; the timeout bounds every wait after the first datagram (Linux checks it only between datagrams)"), // recvmmsg
    sys(
        302,
        Partial,
        "reads the fixed limits of getrlimit; new limits are accepted but neither kept nor enforced",
    ), // prlimit64
    sys(306, Full, "as sync"), // syncfs
    sys(307, Full, ""), // sendmmsg
    sys(309, Full, "always CPU 0, node 0"), // getcpu
    sys(316, Full, "RENAME_NOREPLACE, RENAME_EXCHANGE; RENAME_WHITEOUT gives EINVAL"), // renameat2
    sys(317, Unsupported, "no seccomp"), // seccomp
    sys(318, Full, ""), // getrandom
    sys(319, Partial, "MFD_ALLOW_SEALING accepted, seals not kept; MFD_HUGETLB gives EINVAL"), // memfd_create
    sys(321, Unsupported, "no BPF"), // bpf
    sys(322, Full, "as execve, relative to a directory descriptor; AT_EMPTY_PATH (fexecve) runs the file the descriptor is open on, found by the path it was opened by"), // execveat
    sys(
        324,
        Partial,
        "QUERY, GLOBAL, PRIVATE_EXPEDITED, REGISTER_PRIVATE_EXPEDITED (one CPU: always a barrier); the other commands give EINVAL",
    ), // membarrier
    sys(
        326,
        Partial,
        "copies through a kernel buffer; overlapping ranges of one file and non-regular files are not refused with EINVAL",
    ), // copy_file_range
    sys(
        327,
        Partial,
        "the RWF_* flags are ignored; the open mode is not checked",
    ), // preadv2
    sys(
        328,
        Partial,
        "the RWF_* flags are ignored (RWF_APPEND too); the open mode is not checked",
    ), // pwritev2
    sys(332, Partial, "STATX_BASIC_STATS only: btime is filled but STATX_BTIME is not reported in the mask"), // statx
    sys(
        334,
        Unsupported,
        "ENOSYS without a log line: libcs probe it at every start and fall back",
    ), // rseq
    sys(424, Partial, "as kill(2) on the descriptor's process (ESRCH once it has ended); a caller's siginfo or flags: EINVAL"), // pidfd_send_signal
    sys(425, Unsupported, "no io_uring; programs fall back to epoll or plain I/O"), // io_uring_setup
    sys(426, Unsupported, "no io_uring"), // io_uring_enter
    sys(427, Unsupported, "no io_uring"), // io_uring_register
    sys(434, Full, "a close-on-exec descriptor, readable (poll, epoll) once the process has ended; PIDFD_NONBLOCK"), // pidfd_open
    sys(
        435,
        Partial,
        "threads only, as clone; set_tid, cgroup and pidfd fields are ignored",
    ), // clone3
    sys(436, Full, "CLOSE_RANGE_UNSHARE has nothing to unshare"), // close_range
    sys(437, Unsupported, "not yet; openat works"), // openat2
    sys(439, Full, "the program runs as root"), // faccessat2
    sys(441, Full, ""), // epoll_pwait2
    sys(452, Full, ""), // fchmodat2
];
