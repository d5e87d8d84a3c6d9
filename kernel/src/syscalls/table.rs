//! The syscall table: every Linux x86_64 syscall number with its name, how much of
//! its Linux behaviour the kernel gives (status and note) and, for each one the kernel
//! handles, its handler. It is the one place a syscall is added or described:
//! `syscall_table!(callback)` hands the whole table to the macro `callback!`, which
//! makes of it what it needs. The kernel (`syscalls/mod.rs`) makes the dispatch
//! `match`, the names for log lines and the syscall trace; the host test
//! `tests/system/tests/syscall_table.rs` (which compiles this file as it is: it uses
//! nothing but `core`) checks the entries and renders `docs/syscalls.md`.
//!
//! An entry is `NR NAME STATUS "NOTE" => HANDLER;`, or `NR NAME Unsupported "NOTE";`
//! for a number the kernel does not handle (ENOSYS and one log line, unless it is in
//! `QUIET_ENOSYS`). HANDLER is an expression of the six argument registers
//! `a: [u64; 6]` and the syscall's `frame: &TrapFrame` that gives a `SysResult`; its
//! paths are resolved in `syscalls/mod.rs`. Entries are sorted by number; the numbers
//! Linux leaves undefined are absent. The names and numbers are Linux's
//! (`asm/unistd_64.h`).
// The kernel uses the macro only; the host test reads the rest.
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

/// Syscalls we knowingly answer with ENOSYS without a log line, because libcs probe
/// them at every start and fall back cleanly (each is `Unsupported` with a note).
pub const QUIET_ENOSYS: &[usize] = &[334 /* rseq */];

/// Calls `$callback! { [a, frame] ENTRIES }` with every entry (see the module doc).
macro_rules! syscall_table {
    ($callback:ident) => {
        $callback! {
    [a, frame]
    0 read Full "" => io::read(a[0], a[1], a[2]);
    1 write Full
        "a blocking write to a pipe or stream socket writes everything (a signal after some bytes: the count so far); EPIPE on a pipe or socket sends SIGPIPE"
        => io::write(a[0], a[1], a[2]);
    2 open Full "" => fs::openat(AT_FDCWD, a[0], a[1], a[2]);
    3 close Full "" => io::close(a[0]);
    4 stat Full "" => fs::stat(a[0], a[1], true);
    5 fstat Full "" => io::fstat(a[0], a[1]);
    6 lstat Full "" => fs::stat(a[0], a[1], false);
    7 poll Full "" => poll::poll(a[0], a[1], time::ms_timeout(a[2] as i32 as i64));
    8 lseek Full
        "SEEK_DATA/SEEK_HOLE see one hole at the end of a file"
        => io::lseek(a[0], a[1], a[2]);
    9 mmap Full
        "anonymous (private or shared), files (tmpfs: the file's page-cache pages, MAP_SHARED coherent with read/write across processes, MAP_PRIVATE copied on write; ext2/ISO 9660: pages read on first touch, MAP_SHARED written back on msync, munmap and exit; SIGBUS past the end of the file), /dev/zero; MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_32BIT (placed between 1 and 2 GiB, as Linux); MAP_HUGETLB gives ENOMEM (no huge pages reserved); committed lazily; ENOMEM beyond 65530 areas (Linux's vm.max_map_count) or when the kernel's memory runs low"
        => memory::mmap(a[0], a[1], a[2], a[3], a[4], a[5]);
    10 mprotect Full
        "PROT_GROWSUP/PROT_GROWSDOWN give EINVAL; ENOMEM when a split would pass 65530 areas"
        => memory::mprotect(a[0], a[1], a[2]);
    11 munmap Full "" => memory::munmap(a[0], a[1]);
    12 brk Full "" => memory::brk(a[0]);
    13 rt_sigaction Full
        "handlers run with SA_SIGINFO, SA_ONSTACK, SA_RESTART, SA_NODEFER, SA_RESETHAND"
        => signal::rt_sigaction(a[0], a[1], a[2], a[3]);
    14 rt_sigprocmask Full "" => signal::rt_sigprocmask(a[0], a[1], a[2], a[3]);
    15 rt_sigreturn Full
        "handled before dispatch: it restores every register, rax included"
        => unreachable!("rt_sigreturn is handled before dispatch");
    16 ioctl Partial
        "FIONBIO, FIOCLEX, FIONCLEX, FIONREAD, FIOASYNC (the flag is kept; no SIGIO is sent); the console answers TCGETS, TCSETS*, TIOCGWINSZ, TIOCSWINSZ, TIOCGPGRP/TIOCSPGRP (job control: SIGTTIN/SIGTTOU or EIO for a background group of the console's session), TIOCGSID, TIOCSCTTY, TIOCNOTTY; pseudo-terminals TIOCGPTN, TIOCSPTLCK, TIOCGPTLCK, TIOCGPTPEER, termios, window size, process group, TCFLSH; sockets answer SIOCGIFCONF/NAME/INDEX/FLAGS/ADDR/NETMASK/BRDADDR/MTU/HWADDR (SIOCSIF*: EOPNOTSUPP); everything else is ENOTTY"
        => io::ioctl(a[0], a[1], a[2]);
    17 pread64 Partial
        "the open mode is not checked (no EBADF on a write-only descriptor)"
        => io::pread(a[0], a[1], a[2], a[3]);
    18 pwrite64 Partial
        "the open mode is not checked (no EBADF on a read-only descriptor)"
        => io::pwrite(a[0], a[1], a[2], a[3]);
    19 readv Full "" => io::readv(a[0], a[1], a[2]);
    20 writev Full
        "gathered into one write (atomic for pipes; blocking: everything, as write); EPIPE sends SIGPIPE"
        => io::writev(a[0], a[1], a[2]);
    21 access Full "the program runs as root" => fs::faccessat(AT_FDCWD, a[0], a[1], 0);
    22 pipe Full "" => io::pipe2(a[0], 0);
    23 select Partial
        "the timeout is not updated with the time left"
        => poll::select(a[0], a[1], a[2], a[3], time::timeval_timeout(a[4])?);
    24 sched_yield Full "" => thread::sched_yield();
    25 mremap Partial
        "MREMAP_DONTUNMAP gives EINVAL"
        => memory::mremap(a[0], a[1], a[2], a[3], a[4]);
    26 msync Full
        "shared mappings of ext2 files are written back (tmpfs mappings are the file's pages already)"
        => memory::msync(a[0], a[1], a[2]);
    27 mincore Unsupported "";
    28 madvise Full
        "MADV_DONTNEED and MADV_FREE drop the pages; other advice is accepted"
        => memory::madvise(a[0], a[1], a[2]);
    29 shmget Full
        "one IPC namespace for the image; segments are committed at shmget"
        => ipc::shmget(a[0], a[1], a[2]);
    30 shmat Partial
        "SHM_RDONLY, SHM_RND; SHM_REMAP and SHM_EXEC are ignored"
        => ipc::shmat(a[0], a[1], a[2]);
    31 shmctl Partial
        "IPC_STAT, IPC_SET (mode), IPC_RMID; no IPC_INFO/SHM_INFO/SHM_LOCK"
        => ipc::shmctl(a[0], a[1], a[2]);
    32 dup Full "" => io::dup(a[0]);
    33 dup2 Full "" => io::dup2(a[0], a[1]);
    34 pause Full "" => signal::pause();
    35 nanosleep Full "" => time::nanosleep(a[0], a[1]);
    36 getitimer Full
        "ITIMER_VIRTUAL and ITIMER_PROF both count the program's CPU time (user and kernel alike)"
        => time::getitimer(a[0], a[1]);
    37 alarm Full "" => time::alarm(a[0]);
    38 setitimer Full
        "ITIMER_VIRTUAL and ITIMER_PROF both count the program's CPU time (user and kernel alike)"
        => time::setitimer(a[0], a[1], a[2]);
    39 getpid Full
        "the program's own pid: 1, or the main tid of a later rc program"
        => Ok(process::pid());
    40 sendfile Full
        "copies through a kernel buffer in 64 KiB pieces; when a later piece fails (EAGAIN, a signal) the bytes already sent are returned and the offset moved by exactly them; a pipe as the source is EINVAL (ESPIPE with an offset), as Linux's pipes have no splice_read"
        => io::sendfile(a[0], a[1], a[2], a[3]);
    41 socket Full
        "AF_INET/AF_INET6 TCP and UDP; AF_UNIX stream, datagram and seqpacket; AF_NETLINK NETLINK_ROUTE answers link and address dumps (read-only); UDP-Lite (IPPROTO_UDPLITE with UDPLITE_SEND_CSCOV/UDPLITE_RECV_CSCOV) as a datagram layer over smoltcp's raw IP sockets, with a port space of its own as on Linux"
        => net::socket(a[0], a[1], a[2]);
    42 connect Full
        ""
        => net::connect(a[0], a[1], a[2]);
    43 accept Full
        ""
        => net::accept4(a[0], a[1], a[2], 0);
    44 sendto Partial
        "EPIPE sends SIGPIPE unless MSG_NOSIGNAL; UDP datagrams over 16 KiB (IPv4) or the MTU (IPv6) give EMSGSIZE"
        => net::sendto(a[0], a[1], a[2], a[3], a[4], a[5]);
    45 recvfrom Full
        ""
        => net::recvfrom(a[0], a[1], a[2], a[3], a[4], a[5]);
    46 sendmsg Partial
        "AF_UNIX: SCM_RIGHTS and SCM_CREDENTIALS (always our own identity); UDP: IP_PKTINFO/IPV6_PKTINFO (source address), IP_TTL/IPV6_HOPLIMIT (one datagram's hop limit); IP_TOS (int or byte)/IPV6_TCLASS give that one datagram its traffic class (else the socket's, set with setsockopt)"
        => net::sendmsg(a[0], a[1], a[2]);
    47 recvmsg Partial
        "AF_UNIX: SCM_RIGHTS, and SCM_CREDENTIALS with SO_PASSCRED; UDP: IP_PKTINFO, IP_RECVTTL, IP_RECVTOS, IPV6_RECVPKTINFO, IPV6_RECVHOPLIMIT, IPV6_RECVTCLASS as Linux lays them out (hop limits, TOS and traffic classes read off the wire: each interface reads received UDP headers once a socket first asks); a control buffer too short gets Linux's truncated message and MSG_CTRUNC"
        => net::recvmsg(a[0], a[1], a[2]);
    48 shutdown Full
        ""
        => net::shutdown(a[0], a[1]);
    49 bind Full
        ""
        => net::bind(a[0], a[1], a[2]);
    50 listen Full
        "a real backlog"
        => net::listen(a[0], a[1]);
    51 getsockname Full
        ""
        => net::getsockname(a[0], a[1], a[2]);
    52 getpeername Full
        ""
        => net::getpeername(a[0], a[1], a[2]);
    53 socketpair Full
        "AF_UNIX stream, datagram and seqpacket; other families EOPNOTSUPP"
        => net::socketpair(a[0], a[1], a[2], a[3]);
    54 setsockopt Partial
        "SO_RCVTIMEO/SO_SNDTIMEO bound recv*/send*/accept and plain read/write (EAGAIN, EINTR on a signal); IP_TOS (TCP keeps its ECN bits) and IPV6_TCLASS (-1..255) read back and mark the socket's UDP packets and TCP segments; AF_UNIX: SO_SNDBUF, SO_RCVBUF, SO_RCVTIMEO, SO_SNDTIMEO, SO_PASSCRED, SO_REUSEADDR, others ENOPROTOOPT"
        => net::setsockopt(a[0], a[1], a[2], a[3], a[4]);
    55 getsockopt Full
        ""
        => net::getsockopt(a[0], a[1], a[2], a[3], a[4]);
    56 clone Partial
        "threads (CLONE_VM|CLONE_THREAD|CLONE_SIGHAND, as pthreads use it) and processes as fork (exit signal, SETTLS, PARENT_SETTID, CHILD_SETTID, CHILD_CLEARTID) or vfork (CLONE_VM|CLONE_VFORK, as posix_spawn uses it); CLONE_VM without CLONE_VFORK or CLONE_THREAD, CLONE_FILES/CLONE_FS for processes, namespaces and pidfds give EINVAL"
        => thread::clone(frame, a);
    57 fork Full
        "copy-on-write copy of the address space (MAP_SHARED stays shared); only the calling thread; at most 512 processes (EAGAIN)"
        => process::fork(frame, false);
    58 vfork Full
        "the child borrows the caller's memory until it exec's or exits; the caller sleeps meanwhile"
        => process::fork(frame, true);
    59 execve Full
        "ELF (static, static-pie, dynamic through PT_INTERP) and #! scripts from the file system; argv/envp as Linux lays them out (strings that are not UTF-8 are stored lossily); ETXTBSY for a file open for writing"
        => process::execveat(AT_FDCWD, a[0], a[1], a[2], 0);
    60 exit Full "ends the calling thread" => thread::exit(a[0]);
    61 wait4 Partial
        "exit and signal statuses, WNOHANG, WUNTRACED/WCONTINUED (stopped and continued children), zombies until reaped; rusage is zeros"
        => process::wait4(a[0], a[1], a[2], a[3]);
    62 kill Full
        "to a process by pid (a zombie exists but takes nothing), 0: the caller's group, -pgid, -1: all but pid 1 and the caller"
        => signal::kill(a[0], a[1]);
    63 uname Full
        "sysname Linux, release 6.1.0-rumprun, nodename = the hostname"
        => process::uname(a[0]);
    64 semget Full "one IPC namespace for the image" => ipc::semget(a[0], a[1], a[2]);
    65 semop Partial
        "all operations at once or none, blocking across processes; SEM_UNDO is accepted but nothing is undone at exit"
        => ipc::semtimedop(a[0], a[1], a[2], 0);
    66 semctl Partial
        "GETVAL, SETVAL, GETALL, SETALL, GETPID, IPC_STAT, IPC_RMID; GETNCNT/GETZCNT answer 0; no IPC_SET/IPC_INFO/SEM_INFO"
        => ipc::semctl(a[0], a[1], a[2], a[3]);
    67 shmdt Full "" => ipc::shmdt(a[0]);
    68 msgget Unsupported "no System V message queues";
    69 msgsnd Unsupported "";
    70 msgrcv Unsupported "";
    71 msgctl Unsupported "";
    72 fcntl Partial
        "F_DUPFD(_CLOEXEC), F_GETFD/SETFD, F_GETFL/SETFL, F_GETLK/SETLK/SETLKW (POSIX record locks between processes: byte ranges, released on any close of the file by the holder and at its end, EDEADLK for a wait cycle), F_SETOWN/F_GETOWN(_EX) and O_ASYNC (kept; no SIGIO is sent yet), F_GETPIPE_SZ, F_SETPIPE_SZ (rounded up to a power-of-two number of pages as Linux does, above pipe-max-size 1 MiB only with CAP_SYS_RESOURCE, less than queued EBUSY; on a non-pipe EBADF as Linux), F_NOTIFY as Linux answers it (0 on a directory or when clearing, ENOTDIR otherwise; no change signal is ever sent); others (F_OFD_*, F_SETSIG, seals, leases) give EINVAL"
        => io::fcntl(a[0], a[1], a[2]);
    73 flock Full
        "held by the open file description: separate opens of one file conflict, a forked child shares its parent's lock through inherited descriptors; released with the description's last descriptor"
        => io::flock(a[0], a[1]);
    74 fsync Full
        "writes back every mounted file system and flushes the disks (not just this file)"
        => fs::fsync(a[0]);
    75 fdatasync Full "as fsync" => fs::fsync(a[0]);
    76 truncate Full "" => fs::truncate(a[0], a[1]);
    77 ftruncate Full "" => fs::ftruncate(a[0], a[1]);
    78 getdents Unsupported "the old getdents; getdents64 works";
    79 getcwd Full "" => fs::getcwd(a[0], a[1]);
    80 chdir Full "" => fs::chdir(a[0]);
    81 fchdir Full "" => fs::fchdir(a[0]);
    82 rename Full "" => fs::renameat2(AT_FDCWD, a[0], AT_FDCWD, a[1], 0);
    83 mkdir Full "" => fs::mkdirat(AT_FDCWD, a[0], a[1]);
    84 rmdir Full "" => fs::unlinkat(AT_FDCWD, a[0], 0x200);
    85 creat Full "" => fs::creat(a[0], a[1]);
    86 link Full "" => fs::linkat(AT_FDCWD, a[0], AT_FDCWD, a[1], 0);
    87 unlink Full "" => fs::unlinkat(AT_FDCWD, a[0], 0);
    88 symlink Full "" => fs::symlinkat(a[0], AT_FDCWD, a[1]);
    89 readlink Full "" => fs::readlinkat(AT_FDCWD, a[0], a[1], a[2]);
    90 chmod Full "" => fs::fchmodat(AT_FDCWD, a[0], a[1], 0);
    91 fchmod Full "" => fs::fchmod(a[0], a[1]);
    92 chown Full "owners are stored" => fs::fchownat(AT_FDCWD, a[0], a[1], a[2], 0);
    93 fchown Full "owners are stored" => fs::fchown(a[0], a[1], a[2]);
    94 lchown Full "owners are stored" => fs::fchownat(AT_FDCWD, a[0], a[1], a[2], 0x100);
    95 umask Full "" => fs::umask(a[0]);
    96 gettimeofday Full "the obsolete timezone is UTC" => time::gettimeofday(a[0], a[1]);
    97 getrlimit Partial
        "fixed limits (RLIMIT_STACK, RLIMIT_NOFILE 1024, RLIMIT_NPROC 512, the rest infinite)"
        => process::getrlimit(a[0], a[1]);
    98 getrusage Partial
        "CPU time (all counted as user time), maxrss and voluntary context switches (times a thread blocked) only; RUSAGE_CHILDREN is all zero"
        => process::getrusage(a[0], a[1]);
    99 sysinfo Full
        "uptime, total and free memory, the number of processes; no swap, no load averages"
        => process::sysinfo(a[0]);
    100 times Partial "the kernel's share is counted as user time" => process::times(a[0]);
    101 ptrace Unsupported "no debugging interface in a unikernel";
    102 getuid Full "always root (0)" => Ok(0);
    103 syslog Unsupported "";
    104 getgid Full "always root (0)" => Ok(0);
    105 setuid Partial "accepted; the program stays root" => Ok(0);
    106 setgid Partial "accepted; the program stays root" => Ok(0);
    107 geteuid Full "always root (0)" => Ok(0);
    108 getegid Full "always root (0)" => Ok(0);
    109 setpgid Full
        "the caller or its children, within the caller's session"
        => process::setpgid(a[0], a[1]);
    110 getppid Full
        "0 for programs the image started (and orphans once pid 1 has ended)"
        => process::getppid();
    111 getpgrp Full "" => process::getpgid(0);
    112 setsid Full
        "programs the image started lead their own session and group (EPERM)"
        => process::setsid();
    113 setreuid Partial "accepted; the program stays root" => Ok(0);
    114 setregid Partial "accepted; the program stays root" => Ok(0);
    115 getgroups Full "the groups setgroups set (none at start)" => creds::getgroups(a[0], a[1]);
    116 setgroups Full "the program is root: any list is kept" => creds::setgroups(a[0], a[1]);
    117 setresuid Partial "accepted; the program stays root" => Ok(0);
    118 getresuid Full
        "always root (0)"
        => {
            for p in [a[0], a[1], a[2]] {
                crate::mm::user::write(p, 0u32)?;
            }
            Ok(0)
        };
    119 setresgid Partial "accepted; the program stays root" => Ok(0);
    120 getresgid Full
        "always root (0)"
        => {
            for p in [a[0], a[1], a[2]] {
                crate::mm::user::write(p, 0u32)?;
            }
            Ok(0)
        };
    121 getpgid Full "" => process::getpgid(a[0]);
    122 setfsuid Unsupported "";
    123 setfsgid Unsupported "";
    124 getsid Full "" => process::getsid(a[0]);
    125 capget Partial
        "root's sets (all, all, none) or what capset left; another program's pid gives ESRCH"
        => creds::capget(a[0], a[1]);
    126 capset Partial
        "the caller's own sets, within Linux's rules (EPERM otherwise); nothing is enforced"
        => creds::capset(a[0], a[1]);
    127 rt_sigpending Full "" => signal::rt_sigpending(a[0], a[1]);
    128 rt_sigtimedwait Full "" => signal::rt_sigtimedwait(a[0], a[1], a[2], a[3]);
    129 rt_sigqueueinfo Partial
        "the calling program only (others ESRCH); real-time signals queue up to 1024 each (then EAGAIN)"
        => signal::rt_sigqueueinfo(a[0], a[1], a[2]);
    130 rt_sigsuspend Full "" => signal::rt_sigsuspend(a[0], a[1]);
    131 sigaltstack Full "" => signal::sigaltstack(frame, a[0], a[1]);
    132 utime Unsupported "not yet; utimes and utimensat work";
    133 mknod Full "" => fs::mknodat(AT_FDCWD, a[0], a[1], a[2]);
    134 uselib Unsupported "";
    135 personality Full "PER_LINUX only; other personas give EINVAL" => process::personality(a[0]);
    136 ustat Unsupported "";
    137 statfs Full
        "the root tmpfs reports the RAM as its size, and its use"
        => fs::statfs(a[0], a[1]);
    138 fstatfs Full
        "pipes and other non-file descriptors report pipefs"
        => fs::fstatfs(a[0], a[1]);
    139 sysfs Unsupported "";
    140 getpriority Full
        "the nice value setpriority set, for the caller (other pids ESRCH)"
        => process::getpriority(a[0], a[1]);
    141 setpriority Partial
        "the nice value is kept and reported, without effect (one CPU, round robin)"
        => process::setpriority(a[0], a[1], a[2]);
    142 sched_setparam Partial
        "priority 0 accepted, without effect; others EINVAL"
        => process::sched_param(a[0], a[1], true);
    143 sched_getparam Full "priority 0 (SCHED_OTHER)" => process::sched_param(a[0], a[1], false);
    144 sched_setscheduler Partial
        "any valid policy and priority is accepted; every thread stays SCHED_OTHER"
        => process::sched_setscheduler(a[0], a[1], a[2]);
    145 sched_getscheduler Full
        "SCHED_OTHER, for the caller, its threads and any process of the image"
        => process::sched_getscheduler(a[0]);
    146 sched_get_priority_max Full "" => process::sched_priority_bound(a[0], true);
    147 sched_get_priority_min Full "" => process::sched_priority_bound(a[0], false);
    148 sched_rr_get_interval Full
        "the scheduler's 10 ms time slice"
        => process::sched_rr_get_interval(a[0], a[1]);
    149 mlock Full "memory is never paged out" => memory::no_op_range(a[0]);
    150 munlock Full "memory is never paged out" => memory::no_op_range(a[0]);
    151 mlockall Full "memory is never paged out" => Ok(0);
    152 munlockall Full "memory is never paged out" => Ok(0);
    153 vhangup Unsupported "";
    154 modify_ldt Unsupported "";
    155 pivot_root Unsupported "";
    156 _sysctl Unsupported "";
    157 prctl Partial
        "PR_SET_NAME/PR_GET_NAME (one name for the program), PR_SET/GET_PDEATHSIG (sent when the parent ends), PR_SET/GET_CHILD_SUBREAPER (orphans go to the nearest subreaper ancestor, else pid 1), PR_GET/SET_DUMPABLE, PR_GET/SET_KEEPCAPS, PR_SET/GET_NO_NEW_PRIVS, PR_CAPBSET_READ/DROP; others give EINVAL"
        => process::prctl(a[0], a[1], a[2], a[3], a[4]);
    158 arch_prctl Partial
        "ARCH_SET_FS, ARCH_GET_FS, ARCH_SET_GS, ARCH_GET_GS; others give EINVAL"
        => process::arch_prctl(a[0], a[1]);
    159 adjtimex Unsupported "";
    160 setrlimit Partial
        "limits are accepted and reported, not enforced"
        => process::setrlimit(a[0], a[1]);
    161 chroot Partial
        "one fixed root: chroot to it succeeds, to another directory EPERM"
        => fs::chroot(a[0]);
    162 sync Full
        "writes back every mounted file system and flushes the disks"
        => crate::fs::mounts::sync_all().map(|_| 0).or(Ok(0));
    163 acct Unsupported "";
    164 settimeofday Full
        "sets CLOCK_REALTIME as clock_settime does (the obsolete timezone is accepted and ignored)"
        => time::settimeofday(a[0], a[1]);
    165 mount Unsupported "one fixed file system tree";
    166 umount2 Unsupported "one fixed file system tree";
    167 swapon Unsupported "";
    168 swapoff Unsupported "";
    169 reboot Unsupported "";
    170 sethostname Full "" => process::sethostname(a[0], a[1]);
    171 setdomainname Unsupported "";
    172 iopl Unsupported "";
    173 ioperm Unsupported "";
    174 create_module Unsupported "";
    175 init_module Unsupported "";
    176 delete_module Unsupported "";
    177 get_kernel_syms Unsupported "";
    178 query_module Unsupported "";
    179 quotactl Unsupported "";
    180 nfsservctl Unsupported "";
    181 getpmsg Unsupported "";
    182 putpmsg Unsupported "";
    183 afs_syscall Unsupported "";
    184 tuxcall Unsupported "";
    185 security Unsupported "";
    186 gettid Full "" => thread::gettid();
    187 readahead Unsupported "";
    188 setxattr Full
        "tmpfs keeps user.*, trusted.* (CAP_SYS_ADMIN) and security.* as Linux's tmpfs: XATTR_CREATE/REPLACE (EEXIST/ENODATA), E2BIG over 64 KiB, ERANGE/EINVAL/EOPNOTSUPP for bad names, user.* only on files and directories (EPERM); ACLs and other file systems: EOPNOTSUPP"
        => xattr::set(xattr::Target::Path(a[0], true), a[1], a[2], a[3], a[4]);
    189 lsetxattr Full
        "as setxattr"
        => xattr::set(xattr::Target::Path(a[0], false), a[1], a[2], a[3], a[4]);
    190 fsetxattr Full "as setxattr" => xattr::set(xattr::Target::Fd(a[0]), a[1], a[2], a[3], a[4]);
    191 getxattr Full
        "tmpfs: the stored value (size 0 asks the length, ERANGE for a short buffer), ENODATA if absent; other file systems keep none: ENODATA in the namespaces Linux's would have (security, trusted, ACLs; user on ext2), else EOPNOTSUPP"
        => xattr::get(xattr::Target::Path(a[0], true), a[1], a[2], a[3]);
    192 lgetxattr Full
        "as getxattr"
        => xattr::get(xattr::Target::Path(a[0], false), a[1], a[2], a[3]);
    193 fgetxattr Full "as getxattr" => xattr::get(xattr::Target::Fd(a[0]), a[1], a[2], a[3]);
    194 listxattr Full
        "the NUL-separated names (tmpfs; trusted.* only with CAP_SYS_ADMIN), empty elsewhere; size 0 asks the length, ERANGE for a short buffer"
        => xattr::list(xattr::Target::Path(a[0], true), a[1], a[2]);
    195 llistxattr Full "as listxattr" => xattr::list(xattr::Target::Path(a[0], false), a[1], a[2]);
    196 flistxattr Full "as listxattr" => xattr::list(xattr::Target::Fd(a[0]), a[1], a[2]);
    197 removexattr Full
        "tmpfs: removes it (ENODATA if absent); elsewhere ENODATA or EOPNOTSUPP as getxattr; removing a missing ACL succeeds"
        => xattr::remove(xattr::Target::Path(a[0], true), a[1]);
    198 lremovexattr Full "as removexattr" => xattr::remove(xattr::Target::Path(a[0], false), a[1]);
    199 fremovexattr Full "as removexattr" => xattr::remove(xattr::Target::Fd(a[0]), a[1]);
    200 tkill Full "" => signal::send_to_thread(a[0], a[1]);
    201 time Full "" => time::time(a[0]);
    202 futex Partial
        "WAIT, WAKE, WAIT_BITSET, WAKE_BITSET, REQUEUE, CMP_REQUEUE with timeouts; a shared futex in MAP_SHARED memory wakes across processes; WAKE_OP and the PI operations give ENOSYS"
        => thread::futex(a[0], a[1], a[2], a[3], a[4], a[5]);
    203 sched_setaffinity Full
        "a thread of the caller's program (or its pid); honoured by the scheduler, for the first 64 CPUs"
        => process::sched_setaffinity(a[0], a[1], a[2]);
    204 sched_getaffinity Full
        "the thread's mask of the online CPUs (rumprun -c N)"
        => process::sched_getaffinity(a[0], a[1], a[2]);
    205 set_thread_area Unsupported "";
    206 io_setup Unsupported "no Linux AIO";
    207 io_destroy Unsupported "";
    208 io_getevents Unsupported "";
    209 io_submit Unsupported "";
    210 io_cancel Unsupported "";
    211 get_thread_area Unsupported "";
    212 lookup_dcookie Unsupported "";
    213 epoll_create Full
        ""
        => if (a[0] as i32) <= 0 {
            Err(EINVAL)
        } else {
            poll::epoll_create1(0)
        };
    214 epoll_ctl_old Unsupported "";
    215 epoll_wait_old Unsupported "";
    216 remap_file_pages Unsupported "";
    217 getdents64 Full "" => fs::getdents64(a[0], a[1], a[2]);
    218 set_tid_address Full "" => thread::set_tid_address(a[0]);
    219 restart_syscall Unsupported "";
    220 semtimedop Partial
        "as semop, with a relative timeout (EAGAIN)"
        => ipc::semtimedop(a[0], a[1], a[2], a[3]);
    221 fadvise64 Full "advice is accepted and has no effect" => fs::fadvise64(a[0], a[2], a[3]);
    222 timer_create Partial
        "CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME; SIGEV_NONE, SIGEV_SIGNAL, SIGEV_THREAD_ID (libc's SIGEV_THREAD works on it); CPU-time clocks EOPNOTSUPP; an absolute CLOCK_REALTIME time is converted when armed (a later clock change does not move it)"
        => time::timer_create(a[0], a[1], a[2]);
    223 timer_settime Full "" => time::timer_settime(a[0], a[1], a[2], a[3]);
    224 timer_gettime Full "" => time::timer_gettime(a[0], a[1]);
    225 timer_getoverrun Partial
        "the expirations missed when the signal was sent, not those while it stayed pending"
        => time::timer_getoverrun(a[0]);
    226 timer_delete Full "" => time::timer_delete(a[0]);
    227 clock_settime Full
        "CLOCK_REALTIME, for the whole image as Linux's is system-wide (needs CAP_SYS_TIME, which root has; the monotonic clocks do not move); a CPU-time clock of clock_getcpuclockid/pthread_getcpuclockid EPERM, other clocks EINVAL"
        => time::clock_settime(a[0], a[1]);
    228 clock_gettime Full
        "REALTIME (from the RTC at boot), MONOTONIC, BOOTTIME, the COARSE/RAW variants, process and thread CPU time, and the CPU clocks of clock_getcpuclockid/pthread_getcpuclockid (this program's threads, the image's programs)"
        => time::clock_gettime(a[0], a[1]);
    229 clock_getres Full "1 ns" => time::clock_getres(a[0], a[1]);
    230 clock_nanosleep Partial
        "sleeping on CLOCK_PROCESS_CPUTIME_ID gives EOPNOTSUPP"
        => time::clock_nanosleep(a[0], a[1], a[2], a[3]);
    231 exit_group Full "" => crate::process::exit(a[0] as i32);
    232 epoll_wait Full
        "level- and edge-triggered, EPOLLONESHOT"
        => poll::epoll_wait(a[0], a[1], a[2], time::ms_timeout(a[3] as i32 as i64));
    233 epoll_ctl Full
        "regular files, directories and /dev/null-like devices give EPERM, as on Linux"
        => poll::epoll_ctl(a[0], a[1], a[2], a[3]);
    234 tgkill Full
        "to threads of the program itself; other tgids give ESRCH"
        => if a[0] == process::pid() {
            signal::send_to_thread(a[1], a[2])
        } else {
            Err(ESRCH)
        };
    235 utimes Full "" => fs::utimes(a[0], a[1]);
    236 vserver Unsupported "";
    237 mbind Unsupported "";
    238 set_mempolicy Unsupported "";
    239 get_mempolicy Unsupported "";
    240 mq_open Unsupported "";
    241 mq_unlink Unsupported "";
    242 mq_timedsend Unsupported "";
    243 mq_timedreceive Unsupported "";
    244 mq_notify Unsupported "";
    245 mq_getsetattr Unsupported "";
    246 kexec_load Unsupported "";
    247 waitid Partial
        "P_ALL, P_PID, P_PGID with WEXITED, WSTOPPED, WCONTINUED, WNOHANG, WNOWAIT (CLD_EXITED/KILLED/STOPPED/CONTINUED); rusage is zeros"
        => process::waitid(a[0], a[1], a[2], a[3], a[4]);
    248 add_key Unsupported "";
    249 request_key Unsupported "";
    250 keyctl Unsupported "";
    251 ioprio_set Unsupported "";
    252 ioprio_get Unsupported "";
    253 inotify_init Unsupported "no file change notification";
    254 inotify_add_watch Unsupported "";
    255 inotify_rm_watch Unsupported "";
    256 migrate_pages Unsupported "";
    257 openat Full "including O_TMPFILE and O_PATH" => fs::openat(a[0], a[1], a[2], a[3]);
    258 mkdirat Full "" => fs::mkdirat(a[0], a[1], a[2]);
    259 mknodat Full "" => fs::mknodat(a[0], a[1], a[2], a[3]);
    260 fchownat Full "owners are stored" => fs::fchownat(a[0], a[1], a[2], a[3], a[4]);
    261 futimesat Unsupported "";
    262 newfstatat Full "" => fs::newfstatat(a[0], a[1], a[2], a[3]);
    263 unlinkat Full "" => fs::unlinkat(a[0], a[1], a[2]);
    264 renameat Full "" => fs::renameat2(a[0], a[1], a[2], a[3], 0);
    265 linkat Full "" => fs::linkat(a[0], a[1], a[2], a[3], a[4]);
    266 symlinkat Full "" => fs::symlinkat(a[0], a[1], a[2]);
    267 readlinkat Full "" => fs::readlinkat(a[0], a[1], a[2], a[3]);
    268 fchmodat Full "" => fs::fchmodat(a[0], a[1], a[2], 0);
    269 faccessat Full "" => fs::faccessat(a[0], a[1], a[2], 0);
    270 pselect6 Partial
        "the timeout is not updated with the time left"
        => poll::pselect6(a[0], a[1], a[2], a[3], a[4], a[5]);
    271 ppoll Full
        ""
        => signal::with_wait_mask(a[3], a[4], || {
            poll::poll(a[0], a[1], time::timespec_timeout(a[2])?)
        });
    272 unshare Unsupported "";
    273 set_robust_list Partial
        "accepted; robust futexes are not cleaned up at thread exit"
        => Ok(0);
    274 get_robust_list Unsupported "";
    275 splice Partial
        "through a kernel buffer, one transfer per call; SPLICE_F_NONBLOCK; a pipe-to-socket transfer waits for room even with SPLICE_F_NONBLOCK"
        => io::splice(a[0], a[1], a[2], a[3], a[4], a[5]);
    276 tee Unsupported "";
    277 sync_file_range Unsupported "";
    278 vmsplice Unsupported "";
    279 move_pages Unsupported "";
    280 utimensat Full "" => fs::utimensat(a[0], a[1], a[2], a[3]);
    281 epoll_pwait Full
        ""
        => signal::with_wait_mask(a[4], a[5], || {
            poll::epoll_wait(a[0], a[1], a[2], time::ms_timeout(a[3] as i32 as i64))
        });
    282 signalfd Full "" => io::signalfd4(a[0], a[1], a[2], 0);
    283 timerfd_create Full
        "CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME"
        => io::timerfd_create(a[0], a[1]);
    284 eventfd Full "" => io::eventfd2(a[0], 0);
    285 fallocate Full
        "modes 0, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, FALLOC_FL_ZERO_RANGE"
        => fs::fallocate(a[0], a[1], a[2], a[3]);
    286 timerfd_settime Full "" => io::timerfd_settime(a[0], a[1], a[2], a[3]);
    287 timerfd_gettime Full "" => io::timerfd_gettime(a[0], a[1]);
    288 accept4 Full
        ""
        => net::accept4(a[0], a[1], a[2], a[3]);
    289 signalfd4 Full "" => io::signalfd4(a[0], a[1], a[2], a[3]);
    290 eventfd2 Full "" => io::eventfd2(a[0], a[1]);
    291 epoll_create1 Full "" => poll::epoll_create1(a[0]);
    292 dup3 Full "" => io::dup3(a[0], a[1], a[2]);
    293 pipe2 Full "O_DIRECT is accepted and gives a byte-stream pipe" => io::pipe2(a[0], a[1]);
    294 inotify_init1 Unsupported "no file change notification";
    295 preadv Partial
        "the open mode is not checked; offset -1 reads at the file position instead of EINVAL"
        => io::preadv(a[0], a[1], a[2], a[3]);
    296 pwritev Partial
        "the open mode is not checked; offset -1 writes at the file position instead of EINVAL"
        => io::pwritev(a[0], a[1], a[2], a[3]);
    297 rt_tgsigqueueinfo Partial
        "threads of the calling program only (others ESRCH)"
        => signal::rt_tgsigqueueinfo(a[0], a[1], a[2], a[3]);
    298 perf_event_open Unsupported "";
    299 recvmmsg Full
        "MSG_WAITFORONE; the timeout bounds every wait after the first datagram (Linux checks it only between datagrams)"
        => mmsg::recvmmsg(a[0], a[1], a[2], a[3], a[4], net::recvmsg);
    300 fanotify_init Unsupported "";
    301 fanotify_mark Unsupported "";
    302 prlimit64 Partial
        "reads the fixed limits of getrlimit; new limits are accepted but neither kept nor enforced"
        => process::prlimit64(a[0], a[1], a[2], a[3]);
    303 name_to_handle_at Unsupported "";
    304 open_by_handle_at Unsupported "";
    305 clock_adjtime Unsupported "";
    306 syncfs Full "as sync" => fs::fsync(a[0]);
    307 sendmmsg Full
        ""
        => mmsg::sendmmsg(a[0], a[1], a[2], a[3], net::sendmsg);
    308 setns Unsupported "";
    309 getcpu Full "the CPU the thread runs on; node 0" => process::getcpu(a[0], a[1]);
    310 process_vm_readv Unsupported "";
    311 process_vm_writev Unsupported "";
    312 kcmp Unsupported "";
    313 finit_module Unsupported "";
    314 sched_setattr Unsupported "";
    315 sched_getattr Unsupported "";
    316 renameat2 Full
        "RENAME_NOREPLACE, RENAME_EXCHANGE; RENAME_WHITEOUT gives EINVAL"
        => fs::renameat2(a[0], a[1], a[2], a[3], a[4]);
    317 seccomp Unsupported "no seccomp";
    318 getrandom Full "" => process::getrandom(a[0], a[1], a[2]);
    319 memfd_create Partial
        "MFD_ALLOW_SEALING accepted, seals not kept; MFD_HUGETLB gives EINVAL"
        => fs::memfd_create(a[0], a[1]);
    320 kexec_file_load Unsupported "";
    321 bpf Unsupported "no BPF";
    322 execveat Full
        "as execve, relative to a directory descriptor; AT_EMPTY_PATH (fexecve) runs the file the descriptor is open on, found by the path it was opened by"
        => process::execveat(a[0], a[1], a[2], a[3], a[4]);
    323 userfaultfd Unsupported "";
    324 membarrier Partial
        "QUERY, GLOBAL, PRIVATE_EXPEDITED, REGISTER_PRIVATE_EXPEDITED (one CPU: always a barrier); the other commands give EINVAL"
        => process::membarrier(a[0]);
    325 mlock2 Unsupported "";
    326 copy_file_range Partial
        "copies through a kernel buffer; a position that wraps when the length is added is EOVERFLOW, then a negative one EINVAL (Linux's order); overlapping ranges of one file and non-regular files are not refused with EINVAL"
        => io::copy_file_range(a[0], a[1], a[2], a[3], a[4], a[5]);
    327 preadv2 Partial
        "the RWF_* flags are ignored; the open mode is not checked"
        => io::preadv(a[0], a[1], a[2], a[3]);
    328 pwritev2 Partial
        "the RWF_* flags are ignored (RWF_APPEND too); the open mode is not checked"
        => io::pwritev(a[0], a[1], a[2], a[3]);
    329 pkey_mprotect Unsupported "";
    330 pkey_alloc Unsupported "";
    331 pkey_free Unsupported "";
    332 statx Partial
        "STATX_BASIC_STATS only: btime is filled but STATX_BTIME is not reported in the mask"
        => fs::statx(a[0], a[1], a[2], a[4]);
    333 io_pgetevents Unsupported "";
    334 rseq Unsupported "ENOSYS without a log line: libcs probe it at every start and fall back";
    424 pidfd_send_signal Partial
        "as kill(2) on the descriptor's process (a pidfd or an open /proc/PID directory; ESRCH once it has ended); a caller's siginfo or flags: EINVAL"
        => process::pidfd_send_signal(a[0], a[1], a[2], a[3]);
    425 io_uring_setup Unsupported "no io_uring; programs fall back to epoll or plain I/O";
    426 io_uring_enter Unsupported "no io_uring";
    427 io_uring_register Unsupported "no io_uring";
    428 open_tree Unsupported "";
    429 move_mount Unsupported "";
    430 fsopen Unsupported "";
    431 fsconfig Unsupported "";
    432 fsmount Unsupported "";
    433 fspick Unsupported "";
    434 pidfd_open Full
        "a close-on-exec descriptor, readable (poll, epoll) once the process has ended; PIDFD_NONBLOCK"
        => process::pidfd_open(a[0], a[1]);
    435 clone3 Partial
        "threads only, as clone; set_tid, cgroup and pidfd fields are ignored"
        => thread::clone3(frame, a[0], a[1]);
    436 close_range Full
        "CLOSE_RANGE_UNSHARE has nothing to unshare"
        => io::close_range(a[0], a[1], a[2]);
    437 openat2 Unsupported "not yet; openat works";
    438 pidfd_getfd Unsupported "";
    439 faccessat2 Full "the program runs as root" => fs::faccessat(a[0], a[1], a[2], a[3]);
    440 process_madvise Unsupported "";
    441 epoll_pwait2 Full
        ""
        => signal::with_wait_mask(a[4], a[5], || {
            poll::epoll_wait(a[0], a[1], a[2], time::timespec_timeout(a[3])?)
        });
    442 mount_setattr Unsupported "";
    443 quotactl_fd Unsupported "";
    444 landlock_create_ruleset Unsupported "";
    445 landlock_add_rule Unsupported "";
    446 landlock_restrict_self Unsupported "";
    447 memfd_secret Unsupported "";
    448 process_mrelease Unsupported "";
    449 futex_waitv Unsupported "";
    450 set_mempolicy_home_node Unsupported "";
    451 cachestat Unsupported "";
    452 fchmodat2 Full "" => fs::fchmodat(a[0], a[1], a[2], a[3]);
    453 map_shadow_stack Unsupported "";
    454 futex_wake Unsupported "";
    455 futex_wait Unsupported "";
    456 futex_requeue Unsupported "";
    457 statmount Unsupported "";
    458 listmount Unsupported "";
    459 lsm_get_self_attr Unsupported "";
    460 lsm_set_self_attr Unsupported "";
    461 lsm_list_modules Unsupported "";
    462 mseal Unsupported "";
        }
    };
}
