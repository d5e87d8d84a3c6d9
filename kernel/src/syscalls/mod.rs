//! The Linux x86_64 syscall ABI: `syscall_handler` (called from entry.S with the saved
//! registers) decodes the number and arguments and dispatches to one module per area.
//! A syscall we lack returns -ENOSYS and is logged once, by name.

pub mod errno;
pub mod io;
mod memory;
pub mod names;
mod process;
mod signal;
mod thread;
mod time;
pub mod user;

use crate::arch::trap::TrapFrame;
use errno::*;
pub use process::set_hostname;

/// Syscalls we knowingly answer with ENOSYS without a log line, because libcs probe
/// them at every start and fall back cleanly.
const QUIET_ENOSYS: &[usize] = &[334 /* rseq */];

/// rt_sigreturn: restores every register, rax included, from the signal frame.
const RT_SIGRETURN: usize = 15;

/// Called by entry.S for every syscall; delivers pending signals before returning.
#[no_mangle]
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
    let result = dispatch(nr, a, frame);
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
        2 => io::openat(-100i64 as u64, a[0], a[1]),
        3 => io::close(a[0]),
        4 | 6 => io::stat(a[0], a[1]),
        5 => io::fstat(a[0], a[1]),
        7 => io::poll(a[0], a[1], time::ms_timeout(a[2] as i32 as i64)),
        8 | 17 | 18 => io::pread_pwrite_lseek(a[0]),
        9 => memory::mmap(a[0], a[1], a[2], a[3], a[4], a[5]),
        10 => memory::mprotect(a[0], a[1], a[2]),
        11 => memory::munmap(a[0], a[1]),
        12 => memory::brk(a[0]),
        13 => signal::rt_sigaction(a[0], a[1], a[2], a[3]),
        14 => signal::rt_sigprocmask(a[0], a[1], a[2], a[3]),
        16 => io::ioctl(a[0], a[1], a[2]),
        19 => io::readv(a[0], a[1], a[2]),
        20 => io::writev(a[0], a[1], a[2]),
        21 => io::faccessat(a[0]),
        24 => thread::sched_yield(),
        34 => signal::pause(),
        36 => time::getitimer(a[0], a[1]),
        37 => time::alarm(a[0]),
        38 => time::setitimer(a[0], a[1], a[2]),
        28 => memory::madvise(a[0], a[1], a[2]),
        32 => io::dup(a[0]),
        33 => io::dup2(a[0], a[1]),
        35 => time::nanosleep(a[0], a[1]),
        39 => Ok(process::PID), // getpid
        56 => thread::clone(frame, a),
        57 => process::refuse("fork", ENOSYS),
        58 => process::refuse("vfork", ENOSYS),
        59 | 322 => process::refuse("execve", ENOSYS),
        60 => thread::exit(a[0]),
        231 => crate::process::exit(a[0] as i32),
        62 => signal::kill(a[0], a[1]),
        63 => process::uname(a[0]),
        72 => io::fcntl(a[0], a[1], a[2]),
        79 => io::getcwd(a[0], a[1]),
        80 => io::chdir(a[0]),
        89 => io::readlinkat(a[0], a[1], a[2]),
        95 => process::umask(a[0]),
        96 => time::gettimeofday(a[0]),
        97 => process::getrlimit(a[0], a[1]),
        98 => process::getrusage(a[0], a[1]),
        99 => process::sysinfo(a[0]),
        100 => process::times(a[0]),
        102 | 104 | 107 | 108 => Ok(0), // getuid, getgid, geteuid, getegid: root
        110 => Ok(0),                   // getppid: nobody
        111 => Ok(process::PID),        // getpgrp
        112 => Ok(process::PID),        // setsid
        121 | 124 => Ok(process::PID),  // getpgid, getsid
        127 => signal::rt_sigpending(a[0], a[1]),
        128 => signal::rt_sigtimedwait(a[0], a[1], a[2], a[3]),
        130 => signal::rt_sigsuspend(a[0], a[1]),
        131 => signal::sigaltstack(frame, a[0], a[1]),
        158 => process::arch_prctl(a[0], a[1]),
        186 => thread::gettid(),
        200 => signal::send_to_thread(a[0], a[1]), // tkill
        201 => time::time(a[0]),
        202 => thread::futex(a[0], a[1], a[2], a[3], a[4], a[5]),
        204 => process::sched_getaffinity(a[0], a[1], a[2]),
        218 => thread::set_tid_address(a[0]),
        228 => time::clock_gettime(a[0], a[1]),
        229 => time::clock_getres(a[0], a[1]),
        230 => time::clock_nanosleep(a[0], a[1], a[2], a[3]),
        234 if a[0] == process::PID => signal::send_to_thread(a[1], a[2]), // tgkill
        234 => Err(ESRCH),
        257 => io::openat(a[0], a[1], a[2]),
        262 => io::newfstatat(a[0], a[1], a[2], a[3]),
        267 => io::readlinkat(a[1], a[2], a[3]),
        269 | 439 => io::faccessat(a[1]),
        271 => io::poll(a[0], a[1], time::timespec_timeout(a[2])?),
        273 => Ok(0), // set_robust_list: accepted; robust futexes are not cleaned up at thread exit
        292 => io::dup3(a[0], a[1], a[2]),
        302 => process::prlimit64(a[0], a[1], a[2], a[3]),
        318 => process::getrandom(a[0], a[1]),
        435 => thread::clone3(frame, a[0], a[1]),
        _ => unsupported(nr),
    }
}

/// Writes a u32 into the program's memory (for thread exit's clear_child_tid).
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
