//! The process and its environment: ids, exit, uname, limits, arch_prctl (TLS),
//! scheduling queries, getrandom, resource usage; fork/vfork, wait4/waitid, the
//! parent, process groups and sessions (process/ does the work).

use super::transfer;
use crate::arch::cpu;
use crate::arch::trap::TrapFrame;
use crate::errno::*;
use crate::mm::user;
use crate::process::fork::ForkArgs;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;
use spin::Mutex;

/// The calling program's pid (1 for the first program; each program has its own).
pub fn pid() -> u64 {
    crate::process::current().pid() as u64
}

static HOSTNAME: Mutex<[u8; 65]> = Mutex::new([0; 65]);

pub fn set_hostname(name: &str) {
    let mut h = HOSTNAME.lock();
    *h = [0; 65];
    let n = name.len().min(64);
    h[..n].copy_from_slice(&name.as_bytes()[..n]);
}

pub fn uname(buf: u64) -> SysResult {
    let mut u = [[0u8; 65]; 6];
    let put = |field: &mut [u8; 65], s: &[u8]| field[..s.len()].copy_from_slice(s);
    put(&mut u[0], b"Linux");
    u[1] = *HOSTNAME.lock();
    put(&mut u[2], b"6.1.0-rumprun");
    put(&mut u[3], b"#1 rumprun unikernel");
    put(&mut u[4], b"x86_64");
    put(&mut u[5], b"(none)");
    user::write(buf, u).map(|_| 0)
}

pub fn arch_prctl(code: u64, addr: u64) -> SysResult {
    const ARCH_SET_GS: u64 = 0x1001;
    const ARCH_SET_FS: u64 = 0x1002;
    const ARCH_GET_FS: u64 = 0x1003;
    const ARCH_GET_GS: u64 = 0x1004;
    match code {
        ARCH_SET_FS => cpu::wrmsr(cpu::MSR_FS_BASE, addr),
        ARCH_SET_GS => crate::arch::percpu::set_user_gs_base(addr),
        ARCH_GET_FS => user::write(addr, cpu::rdmsr(cpu::MSR_FS_BASE))?,
        ARCH_GET_GS => user::write(addr, crate::arch::percpu::user_gs_base())?,
        _ => return Err(EINVAL),
    }
    Ok(0)
}

const RLIM_INFINITY: u64 = u64::MAX;

fn rlimit(resource: u64) -> Result<[u64; 2], Errno> {
    const RLIMIT_STACK: u64 = 3;
    const RLIMIT_NOFILE: u64 = 7;
    const RLIMIT_NPROC: u64 = 6;
    const NPROC: u64 = crate::process::fork::MAX_PROCESSES as u64;
    match resource {
        RLIMIT_NPROC => Ok([NPROC, NPROC]),
        RLIMIT_STACK => Ok([crate::mm::address_space::STACK_SIZE, RLIM_INFINITY]),
        RLIMIT_NOFILE => Ok([1024, 1024]),
        0..=15 => Ok([RLIM_INFINITY, RLIM_INFINITY]),
        _ => Err(EINVAL),
    }
}

pub fn prlimit64(pid: u64, resource: u64, new: u64, old: u64) -> SysResult {
    if pid != 0 && pid != self::pid() {
        return Err(ESRCH);
    }
    let cur = rlimit(resource)?;
    if old != 0 {
        user::write(old, cur)?;
    }
    if new != 0 {
        let _: [u64; 2] = user::read(new)?; // accepted, not enforced
    }
    Ok(0)
}

/// setrlimit: like prlimit64's new limit: checked and accepted, not enforced.
pub fn setrlimit(resource: u64, new: u64) -> SysResult {
    prlimit64(0, resource, new, 0)
}

pub fn getrlimit(resource: u64, out: u64) -> SysResult {
    user::write(out, rlimit(resource)?).map(|_| 0)
}

/// The thread a sched_*affinity call names: 0 is the caller; a tid of the caller's
/// program, or its pid (its main thread).
fn affinity_target(pid: u64) -> Result<crate::sched::Tid, Errno> {
    match pid {
        0 => Ok(crate::sched::current()),
        p if p <= u32::MAX as u64 && crate::sched::pid_of(p as u32).is_some() => Ok(p as u32),
        _ => Err(ESRCH),
    }
}

pub fn sched_getaffinity(pid: u64, size: u64, mask: u64) -> SysResult {
    let tid = affinity_target(pid)?;
    if size < 8 || !size.is_multiple_of(8) {
        return Err(EINVAL);
    }
    let m = crate::sched::affinity(tid).ok_or(ESRCH)?;
    user::write(mask, m)?;
    Ok(8)
}

pub fn getrandom(buf: u64, len: u64, flags: u64) -> SysResult {
    const GRND_NONBLOCK: u64 = 1;
    const GRND_RANDOM: u64 = 2;
    const GRND_INSECURE: u64 = 4;
    if flags & !(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE) != 0
        || flags & (GRND_RANDOM | GRND_INSECURE) == (GRND_RANDOM | GRND_INSECURE)
    {
        return Err(EINVAL);
    }
    transfer::read_through(buf, len as usize, |b, _| {
        crate::random::fill(b);
        Ok(b.len())
    })
    .map(|n| n as u64)
}

pub fn sysinfo(buf: u64) -> SysResult {
    let (free, total) = crate::mm::frames::stats();
    let mut info = [0u8; 112];
    let uptime = crate::time::monotonic_ns() / 1_000_000_000;
    info[0..8].copy_from_slice(&uptime.to_le_bytes());
    info[32..40].copy_from_slice(&(total as u64 * 4096).to_le_bytes());
    info[40..48].copy_from_slice(&(free as u64 * 4096).to_le_bytes());
    let procs = crate::process::all().count() as u16;
    info[80..82].copy_from_slice(&procs.to_le_bytes()); // procs
    info[104..108].copy_from_slice(&1u32.to_le_bytes()); // mem_unit
    user::write(buf, info).map(|_| 0)
}

/// times: user time = the program's CPU time (the kernel's share is not split out);
/// the return value counts clock ticks (100 Hz) since boot.
pub fn times(buf: u64) -> SysResult {
    if buf != 0 {
        let user_ticks = crate::process::cpu_ns() / 10_000_000;
        user::write(buf, [user_ticks, 0u64, 0, 0])?;
    }
    Ok(crate::time::monotonic_ns() / 10_000_000)
}

pub fn getrusage(who: u64, buf: u64) -> SysResult {
    if who as i64 != 0 && who as i64 != -1 && who != 1 {
        return Err(EINVAL);
    }
    let mut r = [0u64; 18];
    if who as i64 == -1 {
        // RUSAGE_CHILDREN: there are never children.
        return user::write(buf, r).map(|_| 0);
    }
    let ns = if who == 1 {
        crate::sched::thread_cpu_ns()
    } else {
        crate::process::cpu_ns()
    };
    r[0] = ns / 1_000_000_000;
    r[1] = (ns % 1_000_000_000) / 1000;
    let (free, total) = crate::mm::frames::stats();
    r[4] = ((total - free) * 4) as u64; // maxrss in KiB
    r[16] = crate::process::sleeps(who == 1); // nvcsw: voluntary context switches
    user::write(buf, r).map(|_| 0)
}

/// fork(), vfork(): a child process (see process::fork).
pub fn fork(frame: &TrapFrame, vfork: bool) -> SysResult {
    let args = ForkArgs {
        vfork,
        stack: 0,
        tls: None,
        child_settid: 0,
        child_cleartid: 0,
    };
    crate::process::fork::fork(frame, args).map(u64::from)
}

/// wait4(pid, status, options, rusage): pid > 0 that child, 0 the caller's group, -1
/// any child, < -1 that group.
pub fn wait4(pid: u64, status: u64, options: u64, rusage: u64) -> SysResult {
    use crate::process::wait::{self, Which, WCONTINUED, WNOHANG, WUNTRACED};
    const WALL: u64 = 0x4000_0000 | 0x8000_0000 | 0x2000_0000; // __WALL, __WCLONE, __WNOTHREAD
    if options & !(WNOHANG | WUNTRACED | WCONTINUED | WALL) != 0 {
        return Err(EINVAL);
    }
    let which = match pid as i32 {
        -1 => Which::Any,
        0 => Which::Group(own_pgid()),
        p if p > 0 => Which::Pid(p as u32),
        p => Which::Group(p.unsigned_abs()),
    };
    let reaped = wait::wait(
        which,
        options & (WNOHANG | WUNTRACED | WCONTINUED) | wait::WEXITED,
    )?;
    let Some(r) = reaped else { return Ok(0) };
    if status != 0 {
        user::write(status, r.status as i32)?;
    }
    if rusage != 0 {
        user::write(rusage, [0u64; 18])?;
    }
    Ok(u64::from(r.pid))
}

/// waitid(idtype, id, infop, options, rusage).
pub fn waitid(idtype: u64, id: u64, infop: u64, options: u64, rusage: u64) -> SysResult {
    use crate::process::wait::{self, Which, WCONTINUED, WEXITED, WNOHANG, WNOWAIT, WUNTRACED};
    const P_ALL: u64 = 0;
    const P_PID: u64 = 1;
    const P_PGID: u64 = 2;
    if options & !(WNOHANG | WUNTRACED | WEXITED | WCONTINUED | WNOWAIT) != 0
        || options & (WEXITED | WUNTRACED | WCONTINUED) == 0
    {
        return Err(EINVAL);
    }
    let which = match idtype {
        P_ALL => Which::Any,
        P_PID if id as i32 > 0 => Which::Pid(id as u32),
        P_PGID if id == 0 => Which::Group(own_pgid()),
        P_PGID if id as i32 > 0 => Which::Group(id as u32),
        _ => return Err(EINVAL),
    };
    let reaped = wait::wait(which, options)?;
    if infop != 0 {
        let mut info = [0u8; 128];
        if let Some(r) = &reaped {
            let (code, st) = r.code_and_status();
            info[0..4].copy_from_slice(&17i32.to_le_bytes()); // SIGCHLD
            info[8..12].copy_from_slice(&code.to_le_bytes());
            info[16..20].copy_from_slice(&r.pid.to_le_bytes());
            info[24..28].copy_from_slice(&st.to_le_bytes());
        }
        user::write(infop, info)?;
    }
    if rusage != 0 {
        user::write(rusage, [0u64; 18])?;
    }
    Ok(0)
}

/// A NUL-terminated argument or environment string shorter than `max` bytes (E2BIG
/// beyond).
fn arg_string(ptr: u64, max: usize) -> Result<Vec<u8>, Errno> {
    crate::mm::user::read_cstr(ptr, max).map_err(|e| match e {
        crate::mm::user::CStrError::Fault => EFAULT,
        crate::mm::user::CStrError::TooLong => E2BIG,
    })
}

/// A NULL-terminated array of strings (argv, envp); a NULL array is empty. Each
/// string and its pointer count against `budget` (what argv and envp together may
/// take, `exec::MAX_ARGS_SIZE`): E2BIG as soon as it is spent, so the kernel never
/// copies more than that however many strings the program points to.
fn arg_vector(ptr: u64, budget: &mut usize) -> Result<Vec<Vec<u8>>, Errno> {
    let mut v = Vec::new();
    if ptr == 0 {
        return Ok(v);
    }
    loop {
        let p: u64 = user::read(ptr + 8 * v.len() as u64)?;
        if p == 0 {
            return Ok(v);
        }
        let s = arg_string(p, crate::process::exec::MAX_ARG_STRLEN)?;
        *budget = budget.checked_sub(s.len() + 1 + 8).ok_or(E2BIG)?;
        v.push(s);
    }
}

/// execve(path, argv, envp) and execveat(dirfd, path, argv, envp, flags): returns
/// only with an errno.
pub fn execveat(dirfd: u64, path: u64, argv: u64, envp: u64, flags: u64) -> SysResult {
    const AT_SYMLINK_NOFOLLOW: u64 = 0x100;
    const AT_EMPTY_PATH: u64 = 0x1000;
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(EINVAL);
    }
    let mut path = user::cstr_bytes(path)?;
    let mut budget = crate::process::exec::MAX_ARGS_SIZE;
    let argv = arg_vector(argv, &mut budget)?;
    let envp = arg_vector(envp, &mut budget)?;
    if path.is_empty() && flags & AT_EMPTY_PATH != 0 {
        // fexecve: the file dirfd is open on, found again by the path it was opened by.
        let f = crate::fd::get(dirfd)?;
        if !f.ops.as_any().is::<crate::fd::vfs_file::VfsFile>() {
            return Err(EACCES);
        }
        path = f.ops.describe().into_bytes();
    }
    let at = super::fs::base(dirfd, &path)?;
    match crate::process::exec::execve(&at, &path, argv, envp)? {}
}

fn own_pgid() -> u32 {
    crate::process::current().pgid.load(Ordering::Relaxed)
}

pub fn getppid() -> SysResult {
    Ok(u64::from(
        crate::process::current().ppid.load(Ordering::Relaxed),
    ))
}

/// The process `pid` (0: the caller), running or a zombie.
fn process_arg(pid: u64) -> Result<&'static crate::process::Process, Errno> {
    if pid == 0 {
        return Ok(crate::process::current());
    }
    u32::try_from(pid)
        .ok()
        .and_then(crate::process::find)
        .ok_or(ESRCH)
}

pub fn getpgid(pid: u64) -> SysResult {
    Ok(u64::from(process_arg(pid)?.pgid.load(Ordering::Relaxed)))
}

pub fn getsid(pid: u64) -> SysResult {
    Ok(u64::from(process_arg(pid)?.sid.load(Ordering::Relaxed)))
}

/// setpgid(pid, pgid): the caller or one of its children, into a group of its session
/// (or a new group named after it).
pub fn setpgid(pid: u64, pgid: u64) -> SysResult {
    let me = crate::process::current();
    if pgid as i64 > i32::MAX as i64 {
        return Err(EINVAL);
    }
    let p = process_arg(pid)?;
    if !core::ptr::eq(p, me) && p.ppid.load(Ordering::Relaxed) != me.pid() {
        return Err(ESRCH);
    }
    let sid = me.sid.load(Ordering::Relaxed);
    if p.sid.load(Ordering::Relaxed) != sid || p.pid() == sid {
        return Err(EPERM); // another session, or a session leader
    }
    let pgid = if pgid == 0 { p.pid() } else { pgid as u32 };
    if pgid != p.pid()
        && !crate::process::all()
            .any(|q| q.pgid.load(Ordering::Relaxed) == pgid && q.sid.load(Ordering::Relaxed) == sid)
    {
        return Err(EPERM);
    }
    p.pgid.store(pgid, Ordering::Relaxed);
    Ok(0)
}

/// setsid: a new session and group led by the caller, unless it leads a group.
pub fn setsid() -> SysResult {
    let me = crate::process::current();
    if crate::process::all().any(|q| q.pgid.load(Ordering::Relaxed) == me.pid()) {
        return Err(EPERM);
    }
    me.sid.store(me.pid(), Ordering::Relaxed);
    me.pgid.store(me.pid(), Ordering::Relaxed);
    Ok(u64::from(me.pid()))
}

static THREAD_NAME: Mutex<[u8; 16]> = Mutex::new(*b"main\0\0\0\0\0\0\0\0\0\0\0\0");

pub fn prctl(option: u64, arg2: u64, arg3: u64, arg4: u64, arg5: u64) -> SysResult {
    if let Some(r) = super::creds::prctl(option, [arg2, arg3, arg4, arg5]) {
        return r;
    }
    const PR_GET_DUMPABLE: u64 = 3;
    const PR_SET_DUMPABLE: u64 = 4;
    const PR_SET_NAME: u64 = 15;
    const PR_GET_NAME: u64 = 16;
    const PR_SET_CHILD_SUBREAPER: u64 = 36;
    const PR_GET_CHILD_SUBREAPER: u64 = 37;
    let me = crate::process::current();
    match option {
        PR_SET_CHILD_SUBREAPER => {
            me.subreaper.store(arg2 != 0, Ordering::Relaxed);
            Ok(0)
        }
        PR_GET_CHILD_SUBREAPER => {
            user::write(arg2, me.subreaper.load(Ordering::Relaxed) as i32).map(|_| 0)
        }
        PR_SET_NAME => {
            let mut name = [0u8; 16];
            for (i, b) in name.iter_mut().take(15).enumerate() {
                *b = user::read(arg2 + i as u64)?;
                if *b == 0 {
                    break;
                }
            }
            *THREAD_NAME.lock() = name;
            Ok(0)
        }
        PR_GET_NAME => user::write(arg2, *THREAD_NAME.lock()).map(|_| 0),
        PR_SET_DUMPABLE => Ok(0),
        PR_GET_DUMPABLE => Ok(1),
        _ => Err(EINVAL),
    }
}

/// Whether `pid` names a thread or process for the scheduling calls: 0 (the caller),
/// one of its threads or a process of the image. Negative: EINVAL; anything else:
/// ESRCH.
fn own_sched_pid(pid: u64) -> Result<(), Errno> {
    let pid = pid as i32;
    if pid < 0 {
        return Err(EINVAL);
    }
    if pid == 0
        || crate::process::thread_ids().contains(&(pid as u32))
        || crate::process::find(pid as u32).is_some()
    {
        Ok(())
    } else {
        Err(ESRCH)
    }
}

const SCHED_OTHER: u64 = 0;
const SCHED_FIFO: u64 = 1;
const SCHED_RR: u64 = 2;
const SCHED_BATCH: u64 = 3;
const SCHED_IDLE: u64 = 5;
const SCHED_DEADLINE: u64 = 6;

/// sched_get_priority_max (`max`) and _min: 99 and 1 for the real-time policies, 0
/// for the others, EINVAL for an unknown policy.
pub fn sched_priority_bound(policy: u64, max: bool) -> SysResult {
    match policy {
        SCHED_FIFO | SCHED_RR => Ok(if max { 99 } else { 1 }),
        SCHED_OTHER | SCHED_BATCH | SCHED_IDLE | SCHED_DEADLINE => Ok(0),
        _ => Err(EINVAL),
    }
}

/// sched_getscheduler: every thread is SCHED_OTHER.
pub fn sched_getscheduler(pid: u64) -> SysResult {
    own_sched_pid(pid).map(|_| SCHED_OTHER)
}

/// sched_getparam/sched_setparam: priority 0 (SCHED_OTHER's only one).
pub fn sched_param(pid: u64, param: u64, set: bool) -> SysResult {
    if (pid as i32) < 0 || param == 0 {
        return Err(EINVAL);
    }
    own_sched_pid(pid)?;
    if set {
        if user::read::<i32>(param)? != 0 {
            return Err(EINVAL);
        }
        return Ok(0);
    }
    user::write(param, 0i32).map(|_| 0)
}

/// sched_setscheduler: checked as Linux checks it, then accepted (one CPU: every
/// thread stays SCHED_OTHER).
pub fn sched_setscheduler(pid: u64, policy: u64, param: u64) -> SysResult {
    const SCHED_RESET_ON_FORK: u64 = 0x4000_0000;
    if (pid as i32) < 0 || param == 0 {
        return Err(EINVAL);
    }
    own_sched_pid(pid)?;
    let prio = user::read::<i32>(param)?;
    let (lo, hi) = (
        sched_priority_bound(policy & !SCHED_RESET_ON_FORK, false)?,
        sched_priority_bound(policy & !SCHED_RESET_ON_FORK, true)?,
    );
    if (prio as i64) < lo as i64 || prio as i64 > hi as i64 {
        return Err(EINVAL);
    }
    Ok(0)
}

/// sched_rr_get_interval: the scheduler's time slice.
pub fn sched_rr_get_interval(pid: u64, ts: u64) -> SysResult {
    own_sched_pid(pid)?;
    user::write(ts, [0i64, crate::sched::TIMESLICE_NS as i64]).map(|_| 0)
}

/// Checks getpriority/setpriority's `which` and `who` (the caller only).
fn priority_target(which: u64, who: u64) -> Result<(), Errno> {
    const PRIO_PROCESS: u64 = 0;
    const PRIO_PGRP: u64 = 1;
    const PRIO_USER: u64 = 2;
    match which {
        PRIO_PROCESS => own_sched_pid(who),
        PRIO_PGRP if who == 0 || who == pid() => Ok(()),
        PRIO_USER if who as u32 == 0 => Ok(()), // root is the only user
        PRIO_PGRP | PRIO_USER => Err(ESRCH),
        _ => Err(EINVAL),
    }
}

/// getpriority: 20 - nice (the raw syscall's form; the C library turns it back).
pub fn getpriority(which: u64, who: u64) -> SysResult {
    priority_target(which, who)?;
    Ok((20 - crate::process::current().creds.lock().nice) as u64)
}

/// setpriority: the nice value, clamped to -20..=19 as Linux does; it changes nothing
/// else (one CPU, round robin).
pub fn setpriority(which: u64, who: u64, prio: u64) -> SysResult {
    priority_target(which, who)?;
    crate::process::current().creds.lock().nice = (prio as i32).clamp(-20, 19);
    Ok(0)
}

/// personality: only PER_LINUX exists here; 0xffffffff queries.
pub fn personality(persona: u64) -> SysResult {
    match persona as u32 {
        0 | 0xffff_ffff => Ok(0),
        _ => Err(EINVAL),
    }
}

/// membarrier: with one CPU every barrier is already there.
pub fn membarrier(cmd: u64) -> SysResult {
    const QUERY: u64 = 0;
    const SUPPORTED: u64 = 1 | 8 | 16; // GLOBAL, PRIVATE_EXPEDITED, REGISTER_PRIVATE_EXPEDITED
    match cmd {
        QUERY => Ok(SUPPORTED),
        c if c & SUPPORTED == c && c.count_ones() == 1 => Ok(0),
        _ => Err(EINVAL),
    }
}

pub fn sethostname(name: u64, len: u64) -> SysResult {
    if len > 64 {
        return Err(EINVAL);
    }
    let bytes = user::read_bytes(name, len as usize)?;
    let s = core::str::from_utf8(&bytes).map_err(|_| EINVAL)?;
    set_hostname(s);
    Ok(0)
}

pub fn getcpu(cpu: u64, node: u64) -> SysResult {
    if cpu != 0 {
        user::write(cpu, crate::sync::cpu_id())?;
    }
    if node != 0 {
        user::write(node, 0u32)?;
    }
    Ok(0)
}

pub fn sched_setaffinity(pid: u64, size: u64, mask: u64) -> SysResult {
    let tid = affinity_target(pid)?;
    // The first 64 CPUs' bits (the kernel runs on at most 16).
    let mut bytes = [0u8; 8];
    let n = (size as usize).min(8);
    bytes[..n].copy_from_slice(&user::read_bytes(mask, n)?);
    let m = u64::from_le_bytes(bytes) & crate::sched::all_cpus_mask();
    if m == 0 {
        return Err(EINVAL);
    }
    crate::sched::set_affinity(tid, m);
    Ok(0)
}

/// pidfd_open(pid, flags): a descriptor for process `pid` (always close-on-exec, as on
/// Linux), readable once the process has ended. PIDFD_NONBLOCK is O_NONBLOCK.
pub fn pidfd_open(pid: u64, flags: u64) -> SysResult {
    use crate::fd::{OpenFile, O_NONBLOCK, O_RDWR};
    if flags & !(O_NONBLOCK as u64) != 0 || pid as i32 <= 0 {
        return Err(EINVAL);
    }
    let p = u32::try_from(pid)
        .ok()
        .and_then(crate::process::find)
        .ok_or(ESRCH)?;
    let pidfd = crate::process::pidfd::PidFd::new(p.pid());
    let file = OpenFile::new(
        alloc::sync::Arc::new(pidfd),
        O_RDWR | (flags as u32 & O_NONBLOCK),
    );
    crate::fd::install(file, true, 0)
}

/// pidfd_send_signal(pidfd, sig, info, flags): kill(2) through a process descriptor
/// (a siginfo of the caller's is not supported: EINVAL); ESRCH once it has ended.
pub fn pidfd_send_signal(pidfd: u64, sig: u64, info: u64, flags: u64) -> SysResult {
    if flags != 0 || info != 0 {
        return Err(EINVAL);
    }
    let f = crate::fd::get(pidfd)?;
    let any = f.ops.as_any();
    let p = if let Some(pf) = any.downcast_ref::<crate::process::pidfd::PidFd>() {
        pf.process()
    } else {
        // An open /proc/PID directory names its process too, as on Linux.
        let v = any
            .downcast_ref::<crate::fd::vfs_file::VfsFile>()
            .ok_or(EBADF)?;
        let pid = crate::fs::procfs::pid_dir_of(&v.inode).ok_or(EBADF)?;
        crate::process::find(pid)
    }
    .filter(|p| p.is_running())
    .ok_or(ESRCH)?;
    super::signal::kill(u64::from(p.pid()), sig)
}
