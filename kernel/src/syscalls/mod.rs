//! The Linux x86_64 syscall ABI: `syscall_handler` (called from entry.S with the saved
//! registers) decodes the number and arguments and dispatches to one module per area.
//! A syscall we lack returns -ENOSYS and is logged once, by name.

mod creds;
pub mod errno;
pub mod fs;
pub mod io;
mod ipc;
mod memory;
mod mmsg;
pub mod names;
mod net;
mod poll;
mod process;
mod signal;
pub mod stat;
mod table;
mod thread;
mod time;
pub mod trace;
mod unix;
pub mod user;
mod xattr;

use crate::arch::trap::TrapFrame;
use errno::*;

use fs::AT_FDCWD;
pub use process::set_hostname;

/// Syscalls we knowingly answer with ENOSYS without a log line, because libcs probe
/// them at every start and fall back cleanly.
const QUIET_ENOSYS: &[usize] = &[334 /* rseq */];

/// rt_sigreturn: restores every register, rax included, from the signal frame.
const RT_SIGRETURN: usize = 15;

/// Called by entry.S for every syscall; delivers pending signals before returning.
#[no_mangle]
#[link_section = ".text.hot"]
extern "C" fn syscall_handler(frame: &mut TrapFrame) {
    let nr = frame.rax as usize;
    if nr == RT_SIGRETURN {
        signal::rt_sigreturn(frame);
        crate::signal::deliver::on_return(frame, None);
        return;
    }
    let a = [
        frame.rdi, frame.rsi, frame.rdx, frame.r10, frame.r8, frame.r9,
    ];
    if trace::enabled() {
        trace::enter(nr, &a);
    }
    let result = dispatch(nr, a, frame);
    if result == Err(EPIPE) && raises_sigpipe(nr, &a) {
        crate::signal::send_sigpipe(process::pid() as u32);
    }
    if trace::enabled() {
        trace::exit(nr, &result);
    }
    frame.rax = match result {
        Ok(v) => v,
        Err(Errno(e)) => (-(e as i64)) as u64,
    };
    crate::signal::deliver::on_return(frame, Some(nr as u64));
}

fn dispatch(nr: usize, a: [u64; 6], frame: &TrapFrame) -> SysResult {
    match nr {
        0 => io::read(a[0], a[1], a[2]),
        1 => io::write(a[0], a[1], a[2]),
        2 => fs::openat(AT_FDCWD, a[0], a[1], a[2]),
        3 => io::close(a[0]),
        4 => fs::stat(a[0], a[1], true),
        6 => fs::stat(a[0], a[1], false),
        5 => io::fstat(a[0], a[1]),
        7 => poll::poll(a[0], a[1], time::ms_timeout(a[2] as i32 as i64)),
        8 => io::lseek(a[0], a[1], a[2]),
        9 => memory::mmap(a[0], a[1], a[2], a[3], a[4], a[5]),
        10 => memory::mprotect(a[0], a[1], a[2]),
        11 => memory::munmap(a[0], a[1]),
        12 => memory::brk(a[0]),
        13 => signal::rt_sigaction(a[0], a[1], a[2], a[3]),
        14 => signal::rt_sigprocmask(a[0], a[1], a[2], a[3]),
        16 => io::ioctl(a[0], a[1], a[2]),
        17 => io::pread(a[0], a[1], a[2], a[3]),
        18 => io::pwrite(a[0], a[1], a[2], a[3]),
        19 => io::readv(a[0], a[1], a[2]),
        20 => io::writev(a[0], a[1], a[2]),
        21 => fs::faccessat(AT_FDCWD, a[0], a[1], 0),
        22 => io::pipe2(a[0], 0),
        23 => poll::select(a[0], a[1], a[2], a[3], time::timeval_timeout(a[4])?),
        24 => thread::sched_yield(),
        34 => signal::pause(),
        36 => time::getitimer(a[0], a[1]),
        37 => time::alarm(a[0]),
        38 => time::setitimer(a[0], a[1], a[2]),
        28 => memory::madvise(a[0], a[1], a[2]),
        25 => memory::mremap(a[0], a[1], a[2], a[3], a[4]),
        26 => memory::msync(a[0], a[1], a[2]),
        149 | 150 => memory::no_op_range(a[0]), // mlock, munlock
        151 | 152 => Ok(0),                     // mlockall, munlockall
        32 => io::dup(a[0]),
        33 => io::dup2(a[0], a[1]),
        35 => time::nanosleep(a[0], a[1]),
        39 => Ok(process::pid()), // getpid
        40 => io::sendfile(a[0], a[1], a[2], a[3]),
        // AF_UNIX sockets (syscalls::unix) first, then the TCP/IP ones (syscalls::net).
        41 if a[0] == unix::AF_UNIX => unix::socket(a[1], a[2]),
        42 if unix::owns(a[0]) => unix::connect(a[0], a[1], a[2]),
        43 if unix::owns(a[0]) => unix::accept4(a[0], a[1], a[2], 0),
        44 if unix::owns(a[0]) => unix::sendto(a[0], a[1], a[2], a[3], a[4], a[5]),
        45 if unix::owns(a[0]) => unix::recvfrom(a[0], a[1], a[2], a[3], a[4], a[5]),
        46 if unix::owns(a[0]) => unix::sendmsg(a[0], a[1], a[2]),
        47 if unix::owns(a[0]) => unix::recvmsg(a[0], a[1], a[2]),
        48 if unix::owns(a[0]) => unix::shutdown(a[0], a[1]),
        49 if unix::owns(a[0]) => unix::bind(a[0], a[1], a[2]),
        50 if unix::owns(a[0]) => unix::listen(a[0], a[1]),
        51 if unix::owns(a[0]) => unix::getsockname(a[0], a[1], a[2]),
        52 if unix::owns(a[0]) => unix::getpeername(a[0], a[1], a[2]),
        54 if unix::owns(a[0]) => unix::setsockopt(a[0], a[1], a[2], a[3], a[4]),
        55 if unix::owns(a[0]) => unix::getsockopt(a[0], a[1], a[2], a[3], a[4]),
        288 if unix::owns(a[0]) => unix::accept4(a[0], a[1], a[2], a[3]),
        299 => mmsg::recvmmsg(a[0], a[1], a[2], a[3], a[4], |fd, m, f| {
            if unix::owns(fd) {
                unix::recvmsg(fd, m, f)
            } else {
                net::recvmsg(fd, m, f)
            }
        }),
        307 => mmsg::sendmmsg(a[0], a[1], a[2], a[3], |fd, m, f| {
            if unix::owns(fd) {
                unix::sendmsg(fd, m, f)
            } else {
                net::sendmsg(fd, m, f)
            }
        }),
        41 => net::socket(a[0], a[1], a[2]),
        42 => net::connect(a[0], a[1], a[2]),
        43 => net::accept4(a[0], a[1], a[2], 0),
        44 => net::sendto(a[0], a[1], a[2], a[3], a[4], a[5]),
        45 => net::recvfrom(a[0], a[1], a[2], a[3], a[4], a[5]),
        46 => net::sendmsg(a[0], a[1], a[2]),
        47 => net::recvmsg(a[0], a[1], a[2]),
        48 => net::shutdown(a[0], a[1]),
        49 => net::bind(a[0], a[1], a[2]),
        50 => net::listen(a[0], a[1]),
        51 => net::getsockname(a[0], a[1], a[2]),
        52 => net::getpeername(a[0], a[1], a[2]),
        53 => unix::socketpair(a[0], a[1], a[2], a[3]),
        54 => net::setsockopt(a[0], a[1], a[2], a[3], a[4]),
        55 => net::getsockopt(a[0], a[1], a[2], a[3], a[4]),
        29 => ipc::shmget(a[0], a[1], a[2]),
        30 => ipc::shmat(a[0], a[1], a[2]),
        31 => ipc::shmctl(a[0], a[1], a[2]),
        67 => ipc::shmdt(a[0]),
        64 => ipc::semget(a[0], a[1], a[2]),
        65 => ipc::semtimedop(a[0], a[1], a[2], 0),
        66 => ipc::semctl(a[0], a[1], a[2], a[3]),
        220 => ipc::semtimedop(a[0], a[1], a[2], a[3]),
        56 => thread::clone(frame, a),
        57 => process::fork(frame, false),
        58 => process::fork(frame, true),
        59 => process::execveat(AT_FDCWD, a[0], a[1], a[2], 0),
        322 => process::execveat(a[0], a[1], a[2], a[3], a[4]),
        61 => process::wait4(a[0], a[1], a[2], a[3]),
        247 => process::waitid(a[0], a[1], a[2], a[3], a[4]),
        60 => thread::exit(a[0]),
        62 => signal::kill(a[0], a[1]),
        63 => process::uname(a[0]),
        72 => io::fcntl(a[0], a[1], a[2]),
        73 => io::flock(a[0], a[1]),
        74 | 75 => fs::fsync(a[0]), // fsync, fdatasync
        76 => fs::truncate(a[0], a[1]),
        77 => fs::ftruncate(a[0], a[1]),
        79 => fs::getcwd(a[0], a[1]),
        80 => fs::chdir(a[0]),
        81 => fs::fchdir(a[0]),
        82 => fs::renameat2(AT_FDCWD, a[0], AT_FDCWD, a[1], 0),
        83 => fs::mkdirat(AT_FDCWD, a[0], a[1]),
        84 => fs::unlinkat(AT_FDCWD, a[0], 0x200),
        85 => fs::creat(a[0], a[1]),
        86 => fs::linkat(AT_FDCWD, a[0], AT_FDCWD, a[1], 0),
        87 => fs::unlinkat(AT_FDCWD, a[0], 0),
        88 => fs::symlinkat(a[0], AT_FDCWD, a[1]),
        89 => fs::readlinkat(AT_FDCWD, a[0], a[1], a[2]),
        90 => fs::fchmodat(AT_FDCWD, a[0], a[1], 0),
        91 => fs::fchmod(a[0], a[1]),
        92 => fs::fchownat(AT_FDCWD, a[0], a[1], a[2], 0),
        93 => fs::fchown(a[0], a[1], a[2]),
        94 => fs::fchownat(AT_FDCWD, a[0], a[1], a[2], 0x100),
        95 => fs::umask(a[0]),
        96 => time::gettimeofday(a[0], a[1]),
        97 => process::getrlimit(a[0], a[1]),
        98 => process::getrusage(a[0], a[1]),
        99 => process::sysinfo(a[0]),
        100 => process::times(a[0]),
        102 | 104 | 107 | 108 => Ok(0), // getuid, getgid, geteuid, getegid: root
        105 | 106 | 113 | 114 | 117 | 119 => Ok(0), // setuid, setgid, setreuid, setregid, setresuid, setresgid: root may
        115 => creds::getgroups(a[0], a[1]),
        116 => creds::setgroups(a[0], a[1]),
        125 => creds::capget(a[0], a[1]),
        126 => creds::capset(a[0], a[1]),
        118 | 120 => {
            for p in [a[0], a[1], a[2]] {
                user::write(p, 0u32)?;
            }
            Ok(0)
        } // getresuid/getresgid
        110 => process::getppid(),
        111 => process::getpgid(0), // getpgrp
        112 => process::setsid(),
        109 => process::setpgid(a[0], a[1]),
        121 => process::getpgid(a[0]),
        124 => process::getsid(a[0]),
        127 => signal::rt_sigpending(a[0], a[1]),
        128 => signal::rt_sigtimedwait(a[0], a[1], a[2], a[3]),
        130 => signal::rt_sigsuspend(a[0], a[1]),
        131 => signal::sigaltstack(frame, a[0], a[1]),
        133 => fs::mknodat(AT_FDCWD, a[0], a[1], a[2]),
        137 => fs::statfs(a[0], a[1]),
        138 => fs::fstatfs(a[0], a[1]),
        135 => process::personality(a[0]),
        140 => process::getpriority(a[0], a[1]),
        141 => process::setpriority(a[0], a[1], a[2]),
        142 => process::sched_param(a[0], a[1], true),
        143 => process::sched_param(a[0], a[1], false),
        144 => process::sched_setscheduler(a[0], a[1], a[2]),
        145 => process::sched_getscheduler(a[0]),
        146 => process::sched_priority_bound(a[0], true),
        147 => process::sched_priority_bound(a[0], false),
        148 => process::sched_rr_get_interval(a[0], a[1]),
        161 => fs::chroot(a[0]),
        164 => time::settimeofday(a[0], a[1]),
        227 => time::clock_settime(a[0], a[1]),
        275 => io::splice(a[0], a[1], a[2], a[3], a[4], a[5]),
        157 => process::prctl(a[0], a[1], a[2], a[3], a[4]),
        170 => process::sethostname(a[0], a[1]),
        158 => process::arch_prctl(a[0], a[1]),
        160 => process::setrlimit(a[0], a[1]),
        186 => thread::gettid(),
        188 => xattr::set(xattr::Target::Path(a[0], true), a[1], a[2], a[3], a[4]),
        189 => xattr::set(xattr::Target::Path(a[0], false), a[1], a[2], a[3], a[4]),
        190 => xattr::set(xattr::Target::Fd(a[0]), a[1], a[2], a[3], a[4]),
        191 => xattr::get(xattr::Target::Path(a[0], true), a[1], a[2], a[3]),
        192 => xattr::get(xattr::Target::Path(a[0], false), a[1], a[2], a[3]),
        193 => xattr::get(xattr::Target::Fd(a[0]), a[1], a[2], a[3]),
        194 => xattr::list(xattr::Target::Path(a[0], true), a[1], a[2]),
        195 => xattr::list(xattr::Target::Path(a[0], false), a[1], a[2]),
        196 => xattr::list(xattr::Target::Fd(a[0]), a[1], a[2]),
        197 => xattr::remove(xattr::Target::Path(a[0], true), a[1]),
        198 => xattr::remove(xattr::Target::Path(a[0], false), a[1]),
        199 => xattr::remove(xattr::Target::Fd(a[0]), a[1]),
        200 => signal::send_to_thread(a[0], a[1]), // tkill
        162 => crate::fs::mounts::sync_all().map(|_| 0).or(Ok(0)), // sync reports no errors
        201 => time::time(a[0]),
        202 => thread::futex(a[0], a[1], a[2], a[3], a[4], a[5]),
        203 => process::sched_setaffinity(a[0], a[1], a[2]),
        204 => process::sched_getaffinity(a[0], a[1], a[2]),
        217 => fs::getdents64(a[0], a[1], a[2]),
        235 => fs::utimes(a[0], a[1]),
        213 if (a[0] as i32) <= 0 => Err(EINVAL), // epoll_create(size)
        213 => poll::epoll_create1(0),
        218 => thread::set_tid_address(a[0]),
        222 => time::timer_create(a[0], a[1], a[2]),
        223 => time::timer_settime(a[0], a[1], a[2], a[3]),
        224 => time::timer_gettime(a[0], a[1]),
        225 => time::timer_getoverrun(a[0]),
        226 => time::timer_delete(a[0]),
        228 => time::clock_gettime(a[0], a[1]),
        229 => time::clock_getres(a[0], a[1]),
        230 => time::clock_nanosleep(a[0], a[1], a[2], a[3]),
        231 => crate::process::exit(a[0] as i32),
        232 => poll::epoll_wait(a[0], a[1], a[2], time::ms_timeout(a[3] as i32 as i64)),
        233 => poll::epoll_ctl(a[0], a[1], a[2], a[3]),
        234 if a[0] == process::pid() => signal::send_to_thread(a[1], a[2]), // tgkill
        234 => Err(ESRCH),
        129 => signal::rt_sigqueueinfo(a[0], a[1], a[2]),
        297 => signal::rt_tgsigqueueinfo(a[0], a[1], a[2], a[3]),
        257 => fs::openat(a[0], a[1], a[2], a[3]),
        258 => fs::mkdirat(a[0], a[1], a[2]),
        259 => fs::mknodat(a[0], a[1], a[2], a[3]),
        260 => fs::fchownat(a[0], a[1], a[2], a[3], a[4]),
        262 => fs::newfstatat(a[0], a[1], a[2], a[3]),
        263 => fs::unlinkat(a[0], a[1], a[2]),
        264 => fs::renameat2(a[0], a[1], a[2], a[3], 0),
        265 => fs::linkat(a[0], a[1], a[2], a[3], a[4]),
        266 => fs::symlinkat(a[0], a[1], a[2]),
        267 => fs::readlinkat(a[0], a[1], a[2], a[3]),
        268 => fs::fchmodat(a[0], a[1], a[2], 0),
        269 => fs::faccessat(a[0], a[1], a[2], 0),
        280 => fs::utimensat(a[0], a[1], a[2], a[3]),
        285 => fs::fallocate(a[0], a[1], a[2], a[3]),
        306 => fs::fsync(a[0]), // syncfs
        316 => fs::renameat2(a[0], a[1], a[2], a[3], a[4]),
        439 => fs::faccessat(a[0], a[1], a[2], a[3]),
        452 => fs::fchmodat(a[0], a[1], a[2], a[3]),
        270 => poll::pselect6(a[0], a[1], a[2], a[3], a[4], a[5]),
        271 => signal::with_wait_mask(a[3], a[4], || {
            poll::poll(a[0], a[1], time::timespec_timeout(a[2])?)
        }),
        273 => Ok(0), // set_robust_list: accepted; robust futexes are not cleaned up at thread exit
        281 => signal::with_wait_mask(a[4], a[5], || {
            poll::epoll_wait(a[0], a[1], a[2], time::ms_timeout(a[3] as i32 as i64))
        }),
        283 => io::timerfd_create(a[0], a[1]),
        282 => io::signalfd4(a[0], a[1], a[2], 0),
        284 => io::eventfd2(a[0], 0),
        286 => io::timerfd_settime(a[0], a[1], a[2], a[3]),
        287 => io::timerfd_gettime(a[0], a[1]),
        289 => io::signalfd4(a[0], a[1], a[2], a[3]),
        290 => io::eventfd2(a[0], a[1]),
        291 => poll::epoll_create1(a[0]),
        288 => net::accept4(a[0], a[1], a[2], a[3]),
        292 => io::dup3(a[0], a[1], a[2]),
        293 => io::pipe2(a[0], a[1]),
        295 | 327 => io::preadv(a[0], a[1], a[2], a[3]),
        296 | 328 => io::pwritev(a[0], a[1], a[2], a[3]),
        302 => process::prlimit64(a[0], a[1], a[2], a[3]),
        309 => process::getcpu(a[0], a[1]),
        318 => process::getrandom(a[0], a[1], a[2]),
        324 => process::membarrier(a[0]),
        326 => io::copy_file_range(a[0], a[1], a[2], a[3], a[4], a[5]),
        332 => fs::statx(a[0], a[1], a[2], a[4]),
        424 => process::pidfd_send_signal(a[0], a[1], a[2], a[3]),
        434 => process::pidfd_open(a[0], a[1]),
        435 => thread::clone3(frame, a[0], a[1]),
        221 => fs::fadvise64(a[0], a[2], a[3]),
        319 => fs::memfd_create(a[0], a[1]),
        436 => io::close_range(a[0], a[1], a[2]),
        441 => signal::with_wait_mask(a[4], a[5], || {
            poll::epoll_wait(a[0], a[1], a[2], time::timespec_timeout(a[3])?)
        }),
        _ => unsupported(nr),
    }
}

/// Writes a u32 into the program's memory (for thread exit's clear_child_tid).
/// Whether EPIPE from syscall `nr` comes with SIGPIPE, as Linux's pipe and socket
/// writes send it (only pipes and sockets give EPIPE here): every write-like call,
/// except a send with MSG_NOSIGNAL.
fn raises_sigpipe(nr: usize, a: &[u64; 6]) -> bool {
    const MSG_NOSIGNAL: u64 = 0x4000;
    match nr {
        1 | 20 | 40 | 296 | 328 => true, // write, writev, sendfile, pwritev(2) at the position
        44 => a[3] & MSG_NOSIGNAL == 0,  // sendto
        46 => a[2] & MSG_NOSIGNAL == 0,  // sendmsg
        307 => a[3] & MSG_NOSIGNAL == 0, // sendmmsg
        _ => false,
    }
}

pub fn user_write_u32(addr: u64, v: u32) -> Result<(), Errno> {
    user::write(addr, v)
}

fn unsupported(nr: usize) -> SysResult {
    if QUIET_ENOSYS.contains(&nr) {
        return Err(ENOSYS);
    }
    static SEEN: spin::Mutex<[u64; names::COUNT.div_ceil(64) + 1]> =
        spin::Mutex::new([0; names::COUNT.div_ceil(64) + 1]);
    let slot = nr.min(names::COUNT);
    let first = {
        let mut seen = SEEN.lock();
        let bit = 1u64 << (slot % 64);
        let new = seen[slot / 64] & bit == 0;
        seen[slot / 64] |= bit;
        new
    };
    if first {
        match names::name(nr) {
            Some(name) => kprintln!("rumprun: unsupported syscall {name} ({nr})"),
            None => kprintln!("rumprun: unknown syscall number {nr}"),
        }
    }
    Err(ENOSYS)
}
