//! Threads and the scheduler: a FIFO run queue per CPU (a runnable thread waits in
//! the queue of its last CPU if that one idles, else of an idle CPU, else of the CPU
//! that woke it: `home`); a CPU with an empty queue whose thread cannot go on steals
//! from the longest other queue (`steal`). The kernel itself is never
//! preempted (it runs with interrupts off); program code is, by the APIC timer, when
//! another thread waits in its CPU's queue: at the end of its time slice, which every wake-up
//! re-arms the timer for (a thread woken while the waker spins in user code runs
//! within one slice). A thread's user context lives on its own kernel stack
//! (saved by entry.S on syscall or interrupt), so switching threads is switching
//! kernel stacks (`switch_stacks`) plus the FS base (TLS), and, between threads of
//! different programs, the page-table root (CR3) and the current `process::Process`
//! (threads of the same program switch no root). Blocked threads wait for a
//! wake-up (futex) and/or a deadline, or until a signal interrupts them
//! (`Wake::Interrupted`); with nothing runnable the CPU halts until the next deadline
//! (a sleeper's, or a timer's: one queue in `deadlines`).
//!
//! The scheduler knows nothing of the layers above it: a thread belongs to an
//! [`Owner`] (a program: `process::Process` implements it), signals reach it through
//! the `hooks` installed at boot (does a signal interrupt a wait; what to say when
//! every thread is blocked for good), and timers are `deadlines::Timer`s they arm.
//!
//! State: the thread table is one `SpinLock<Scheduler>` (any CPU, and device
//! interrupts, wake threads); what belongs to the CPU (the thread it runs, when that
//! thread's slice and CPU accounting began) is `PerCpu`. No lock is held across
//! `switch_stacks` or while the CPU halts (`schedule` checks `sync::locks_held`), so
//! an interrupt taken in the halt can wake threads. Lock order, outermost first: a
//! program's signal state, the futex queues, the scheduler, the process list, a
//! program's timers; a path that must go the other way drops its guard first (timer
//! expiry collects what fired, then sends the signals).

pub mod deadlines;
pub mod futex;
pub mod hooks;
pub mod idle_poll;
pub mod io_wait;

use crate::arch::{apic, cpu};
use crate::sync::{bkl, PerCpu, SpinLock, MAX_CPUS};
use alloc::boxed::Box;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;
use core::cell::Cell;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use deadlines::Due;

pub type Tid = u32;
/// A program's id: the tid of its main thread.
pub type Pid = u32;

/// What the scheduler knows of the program a thread belongs to.
pub trait Owner: Sync {
    fn pid(&self) -> Pid;
    /// Makes this program the running one on this CPU (its page-table root, its
    /// state): the scheduler calls it when it switches to a thread of another program.
    fn switch_to(&'static self);
    /// When a CPU-time timer of this program (about to run, with `cpu_ns()` of CPU time
    /// so far) would fire (monotonic ns, from `now`) if it kept the CPU from now on.
    fn cpu_deadline(&self, now: u64, cpu_ns: &dyn Fn() -> u64) -> Option<u64>;
}

/// Size of each thread's kernel stack (syscalls and interrupts run on it).
const KSTACK_PAGES: usize = 16;
const KSTACK_SIZE: u64 = KSTACK_PAGES as u64 * 4096;
/// How long a thread runs before another runnable thread gets the CPU.
pub const TIMESLICE_NS: u64 = 10_000_000;
/// Slices end on a multiple of this (so they last up to this much longer).
const SLICE_GRAIN_NS: u64 = 1_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Runnable,
    Blocked,
    Exited,
}

/// Why a blocked thread woke up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wake {
    Woken,
    TimedOut,
    /// A signal arrived that the thread must act on (EINTR or a restart).
    Interrupted,
}

struct Thread {
    state: State,
    /// The program this thread belongs to.
    process: &'static dyn Owner,
    /// Kernel stack: physical base in the direct map, and its top.
    kstack_phys: u64,
    kstack_top: u64,
    /// Saved kernel stack pointer while not running.
    ksp: u64,
    fs_base: u64,
    /// The program's GS base (ARCH_SET_GS), while not running.
    gs_base: u64,
    /// The CPU it runs on (or, blocked or exited, still sits on the stack of: an
    /// idle CPU halts on the stack of the thread it ran last), if any. Only that CPU
    /// may switch to it; `reap` leaves its stack alone.
    on_cpu: Option<u32>,
    /// The CPUs it may run on (sched_setaffinity), one bit each.
    affinity: u64,
    /// The CPU it ran on last (it waits there to run again unless another is idle).
    last_cpu: u32,
    /// In a CPU's run queue (`enqueue`).
    queued: bool,
    /// CLONE_CHILD_CLEARTID / set_tid_address: zeroed and futex-woken at exit.
    clear_child_tid: u64,
    wake: Wake,
    /// CPU time used, in TSC ticks (up to the last switch away from it).
    cpu_ticks: u64,
    /// How often it blocked (getrusage's voluntary context switches).
    sleeps: u64,
    /// Its program is ending (`end_other_threads`): it leaves the kernel the normal way,
    /// dropping what its syscall holds, and ends at its return to program code.
    doomed: bool,
}

struct Scheduler {
    /// Boxed, so that a thread's saved stack pointer stays put while the table
    /// changes (`schedule` hands its address to `switch_stacks`).
    threads: BTreeMap<Tid, Box<Thread>>,
    next_tid: Tid,
    /// Threads whose kernel stacks can be freed once we are off them.
    dead: Vec<Tid>,
    /// CPU time of threads already reaped, in TSC ticks, per program.
    exited_cpu_ticks: BTreeMap<Pid, u64>,
    /// Times threads already reaped blocked, per program.
    exited_sleeps: BTreeMap<Pid, u64>,
    /// Blocked threads' deadlines and the timers of the layers above, earliest first.
    deadlines: deadlines::Queue,
    /// Each CPU's run queue: the runnable threads waiting for it, in the order they
    /// became runnable (a thread is in one at most: `Thread::queued`; one that stopped
    /// being runnable meanwhile is dropped when met).
    queues: [VecDeque<Tid>; MAX_CPUS],
}

static SCHED: SpinLock<Scheduler> = SpinLock::new(Scheduler {
    threads: BTreeMap::new(),
    next_tid: 2,
    dead: Vec::new(),
    exited_cpu_ticks: BTreeMap::new(),
    exited_sleeps: BTreeMap::new(),
    deadlines: deadlines::Queue::new(),
    queues: [const { VecDeque::new() }; MAX_CPUS],
});

/// What the scheduler keeps per CPU.
struct Cpu {
    /// The thread this CPU runs.
    current: Cell<Tid>,
    /// When the current thread last got the CPU (TSC; raw ticks so that accounting
    /// never forces the clock's calibration at boot).
    run_since: Cell<u64>,
    /// When the current thread's time slice began (monotonic ns): it ends
    /// `TIMESLICE_NS` later if another thread is runnable by then.
    slice_start: Cell<u64>,
}

static CPU: PerCpu<Cpu> = PerCpu::new(
    [const {
        Cpu {
            current: Cell::new(1),
            run_since: Cell::new(0),
            slice_start: Cell::new(0),
        }
    }; MAX_CPUS],
);

/// CPUs halted in `schedule` with nothing to run (a wake-up interrupts one).
static IDLE: PerCpu<AtomicBool> = PerCpu::new([const { AtomicBool::new(false) }; MAX_CPUS]);

/// With several CPUs, each CPU's idle context: a stack (an application processor's
/// boot stack; for the boot CPU one made by `prepare_smp`) that loops in `schedule`
/// with no current thread (tid 0) and halts there. A CPU with nothing to run
/// switches to it, off the stack of the thread it ran, so that any CPU can resume
/// that thread. Its saved stack pointer while a thread runs.
static IDLE_KSP: PerCpu<Cell<u64>> = PerCpu::new([const { Cell::new(0) }; MAX_CPUS]);

/// TSC ticks each CPU spent running threads (up to its last switch).
static CPU_BUSY: PerCpu<core::sync::atomic::AtomicU64> =
    PerCpu::new([const { core::sync::atomic::AtomicU64::new(0) }; MAX_CPUS]);

/// Time CPU `cpu` spent running threads, in ns (/proc/stat).
pub fn cpu_busy_ns(cpu: u32) -> u64 {
    let mut ticks = CPU_BUSY.of(cpu).load(Ordering::Relaxed);
    if cpu == crate::sync::cpu_id() && current() != 0 {
        ticks += running_ticks();
    }
    crate::time::tsc_ticks_to_ns(ticks)
}

/// How many CPUs run threads.
pub fn cpus() -> u32 {
    crate::arch::percpu::online()
}

/// The mask of all online CPUs.
pub fn all_cpus_mask() -> u64 {
    let n = cpus();
    if n >= 64 {
        u64::MAX
    } else {
        (1u64 << n) - 1
    }
}

fn cpu() -> &'static Cpu {
    CPU.get()
}

extern "C" {
    fn switch_stacks(save: *mut u64, next: u64);
    fn syscall_return();
}

fn alloc_kstack() -> Option<(u64, u64)> {
    let phys = crate::mm::frames::alloc_contiguous(KSTACK_PAGES)?;
    let top = crate::arch::paging::phys_to_virt(phys) as u64 + KSTACK_SIZE;
    Some((phys, top))
}

/// Makes the running code thread 1 (the first program's main thread, of `process`)
/// with its own kernel stack for syscalls and interrupts.
pub fn init_main_thread(process: &'static dyn Owner) -> Result<(), ()> {
    let (phys, top) = alloc_kstack().ok_or(())?;
    let mut t = Box::new(Thread::new(process, phys, top, 0, 0, 0));
    t.on_cpu = Some(crate::sync::cpu_id());
    SCHED.lock().threads.insert(1, t);
    cpu().run_since.set(crate::arch::cpu::rdtsc());
    crate::arch::percpu::set_kstack_top(top);
    Ok(())
}

/// An application processor, once it holds the big kernel lock: it runs no thread
/// yet, and goes to pick one (or halts until there is one); its boot stack is its
/// idle context from here on.
pub fn run_ap() -> ! {
    bkl::acquire();
    let c = cpu();
    c.current.set(0);
    c.run_since.set(crate::arch::cpu::rdtsc());
    idle_loop()
}

/// The idle context's loop: pick a thread, or halt.
extern "C" fn idle_loop() -> ! {
    loop {
        schedule();
    }
}

core::arch::global_asm!(
    ".pushsection .text",
    ".global sched_idle_entry",
    "sched_idle_entry:",
    "    call {idle}",
    "    ud2",
    ".popsection",
    idle = sym idle_loop,
);

extern "C" {
    fn sched_idle_entry() -> !;
}

/// The boot CPU's idle context, made before the other CPUs start. False when out of
/// memory (then no other CPU is started).
pub fn prepare_smp() -> bool {
    let Some((_, top)) = alloc_kstack() else {
        return false;
    };
    // SAFETY: `top` is the 16-byte aligned top of a kernel stack just allocated, unused.
    let ksp = unsafe { switch_frame(top, sched_idle_entry as *const () as u64) };
    crate::arch::fpu::write_default(ksp);
    IDLE_KSP.get().set(ksp);
    true
}

/// The threads of program `pid` that have not exited, in tid order.
pub fn live_threads_of(pid: Pid) -> Vec<Tid> {
    SCHED
        .lock()
        .threads
        .iter()
        .filter(|(_, t)| t.state != State::Exited && t.process.pid() == pid)
        .map(|(&tid, _)| tid)
        .collect()
}

/// The program thread `tid` belongs to, if it is live.
pub fn pid_of(tid: Tid) -> Option<Pid> {
    SCHED
        .lock()
        .threads
        .get(&tid)
        .filter(|t| t.state != State::Exited)
        .map(|t| t.process.pid())
}

/// The next thread id, as the pid of a program about to start (its main thread will
/// get it from `spawn_program`).
pub fn next_tid() -> Tid {
    SCHED.lock().next_tid
}

/// The CPUs thread `tid` may run on (of those online), if it is live.
pub fn affinity(tid: Tid) -> Option<u64> {
    let s = SCHED.lock();
    let t = s.threads.get(&tid).filter(|t| t.state != State::Exited)?;
    Some(t.affinity & all_cpus_mask())
}

/// Lets thread `tid` run only on the CPUs of `mask`; the caller, when this CPU is not
/// among them, moves now.
pub fn set_affinity(tid: Tid, mask: u64) {
    let moves = {
        let mut s = SCHED.lock();
        let Some(t) = s.threads.get_mut(&tid) else {
            return;
        };
        t.affinity = mask;
        // The switch puts it in the run queue of a CPU it may run on (`enqueue`).
        tid == current() && mask & (1 << crate::sync::cpu_id()) == 0
    };
    if moves {
        schedule();
    }
}

/// The thread this CPU runs.
#[inline]
pub fn current() -> Tid {
    cpu().current.get()
}

/// Live threads of program `pid`.
pub fn thread_count_of(pid: Pid) -> usize {
    SCHED
        .lock()
        .threads
        .values()
        .filter(|t| t.state != State::Exited && t.process.pid() == pid)
        .count()
}

/// The calling thread's CLONE_CHILD_CLEARTID address (0: none).
pub fn clear_child_tid() -> u64 {
    SCHED
        .lock()
        .threads
        .get(&current())
        .map_or(0, |t| t.clear_child_tid)
}

pub fn set_clear_child_tid(addr: u64) {
    if let Some(t) = SCHED.lock().threads.get_mut(&current()) {
        t.clear_child_tid = addr;
    }
}

/// Lays out below `end` what `switch_stacks` restores for a thread that has not run
/// yet: its FPU area (`fpu::SWITCH_AREA` bytes, 64-byte aligned; the caller fills it
/// with `fpu::write_default` or `fpu::save_switch`), six zeroed callee-saved registers,
/// then `ret` as the return address. Returns the saved stack pointer (the FPU area).
///
/// # Safety
/// `end` must be the 16-byte aligned top of free kernel stack memory.
unsafe fn switch_frame(end: u64, ret: u64) -> u64 {
    let ret_at = end - 8;
    let regs_at = ret_at - 8 * 6;
    let area = (regs_at - crate::arch::fpu::SWITCH_AREA as u64) & !63;
    // SAFETY: the caller guarantees `end` is the 16-byte aligned top of free kernel stack
    // memory, and everything written lies below it within the return slot, six registers
    // and one 64-byte aligned SWITCH_AREA.
    unsafe {
        (ret_at as *mut u64).write(ret);
        core::ptr::write_bytes(regs_at as *mut u64, 0, 6);
        // switch_stacks finds the registers through the area's bytes 504-511.
        ((area + 504) as *mut u64).write(regs_at);
    }
    area
}

impl Thread {
    /// A runnable thread of `process` that has not run yet.
    fn new(
        process: &'static dyn Owner,
        kstack_phys: u64,
        kstack_top: u64,
        ksp: u64,
        fs_base: u64,
        clear_child_tid: u64,
    ) -> Thread {
        Thread {
            state: State::Runnable,
            process,
            kstack_phys,
            kstack_top,
            ksp,
            fs_base,
            gs_base: 0,
            on_cpu: None,
            affinity: u64::MAX,
            last_cpu: crate::sync::cpu_id(),
            queued: false,
            clear_child_tid,
            wake: Wake::Woken,
            cpu_ticks: 0,
            sleeps: 0,
            doomed: false,
        }
    }
}

/// Starts a new thread that resumes the program like its parent's syscall returns,
/// but with rax = 0, the given stack and TLS. `frame` is the parent's syscall frame;
/// the SSE state saved just below it is copied too.
pub fn spawn(
    frame: &crate::arch::trap::TrapFrame,
    stack: u64,
    tls: Option<u64>,
    clear_child_tid: u64,
) -> Option<Tid> {
    spawn_in(None, frame, stack, tls, clear_child_tid)
}

/// As `spawn`, for a thread of `process` (a forked child, whose pid is the tid it
/// gets: `next_tid`) or, with `None`, of the calling thread's program.
pub fn spawn_in(
    process: Option<&'static dyn Owner>,
    frame: &crate::arch::trap::TrapFrame,
    stack: u64,
    tls: Option<u64>,
    clear_child_tid: u64,
) -> Option<Tid> {
    let (phys, top) = alloc_kstack()?;
    let mut s = SCHED.lock();
    let tid = s.next_tid;
    s.next_tid += 1;
    let process = process.unwrap_or(s.threads[&current()].process);
    const FRAME: u64 = core::mem::size_of::<crate::arch::trap::TrapFrame>() as u64;
    let frame_at = top - FRAME;
    let fx_at = frame_at - 512;
    let mut child = *frame;
    child.rax = 0;
    if stack != 0 {
        child.rsp = stack;
    }
    // SAFETY: `frame_at` and the FXSAVE area below it lie at the top of the new thread's
    // kernel stack, just allocated and unused; the parent's FXSAVE image sits 512 bytes
    // below its trap frame, as the syscall entry saves it; `fx_at` is 16-byte aligned free
    // stack top for switch_frame.
    unsafe {
        (frame_at as *mut crate::arch::trap::TrapFrame).write(child);
        let parent_fx = (frame as *const _ as u64 - 512) as *const u8;
        core::ptr::copy_nonoverlapping(parent_fx, fx_at as *mut u8, 512);
        let ksp = switch_frame(fx_at, syscall_return as *const () as u64);
        // The parent's x87/MXCSR state, live in the CPU.
        crate::arch::fpu::save_switch(ksp);
        let fs_base = tls.unwrap_or_else(|| cpu::rdmsr(cpu::MSR_FS_BASE));
        let mut t = Box::new(Thread::new(
            process,
            phys,
            top,
            ksp,
            fs_base,
            clear_child_tid,
        ));
        t.gs_base = crate::arch::percpu::user_gs_base();
        t.affinity = s.threads.get(&current()).map_or(u64::MAX, |p| p.affinity);
        s.threads.insert(tid, t);
        enqueue(&mut s, tid);
        // As for a woken thread (`make_runnable`): the creator's slice ends on time even
        // if it never enters the kernel again (a parent spinning until its new thread
        // sets a flag waited for ever on one CPU).
        arm_timer(&s, crate::time::monotonic_ns());
    }
    Some(tid)
}

/// Starts the main thread of a new program: when first scheduled it switches to
/// `process` (its root, its state) and `switch_stacks` returns into `start` (an asm
/// entry that calls on, 16-byte aligned) on its own kernel stack, with the power-on
/// FPU state. Its tid is `process.pid()` (taken from `next_tid`).
pub fn spawn_program(
    process: &'static dyn Owner,
    start: unsafe extern "C" fn() -> !,
) -> Option<Tid> {
    let (phys, top) = alloc_kstack()?;
    let mut s = SCHED.lock();
    let tid = s.next_tid;
    debug_assert_eq!(tid, process.pid());
    s.next_tid += 1;
    // SAFETY: `top` is the 16-byte aligned top of the kernel stack just allocated, free of
    // any use.
    let ksp = unsafe { switch_frame(top, start as usize as u64) };
    crate::arch::fpu::write_default(ksp);
    s.threads
        .insert(tid, Box::new(Thread::new(process, phys, top, ksp, 0, 0)));
    enqueue(&mut s, tid);
    arm_timer(&s, crate::time::monotonic_ns());
    Some(tid)
}

/// How long `end_other_threads` lets the other threads take to leave the kernel.
const END_THREADS_GRACE_NS: u64 = 200_000_000;

/// Threads marked `doomed` and not yet reaped: while 0 (nearly always), a return to
/// program code need not look at the thread table.
static DOOMED: AtomicU32 = AtomicU32::new(0);

/// Ends every thread of program `pid` but the calling one (exit_group, a fatal signal,
/// execve), and returns when they have ended. A thread blocked in a syscall holds
/// what that syscall took (an open file's reference, a buffer): it is woken as by a
/// signal, leaves the kernel the normal way, dropping them, and ends at its return to
/// program code (`end_if_doomed`), as on Linux, so that the other end of its pipes and
/// sockets sees them closed. One that does not get there within a grace period (a wait
/// that ignores interruption) is ended where it is, as before.
pub fn end_other_threads(pid: Pid) {
    let cur = current();
    let mut others = false;
    let mut g = SCHED.lock();
    let s = &mut *g;
    let mut woken = Vec::new();
    for (&tid, t) in s.threads.iter_mut() {
        if tid != cur && t.process.pid() == pid && t.state != State::Exited {
            if !t.doomed {
                DOOMED.fetch_add(1, Ordering::Relaxed);
            }
            t.doomed = true;
            others = true;
            if t.state == State::Blocked {
                t.state = State::Runnable;
                s.deadlines.cancel(Due::Wait(tid));
                t.wake = Wake::Interrupted;
                woken.push(tid);
            }
            // Running program code on another CPU: make it enter the kernel.
            if let Some(c) = t.on_cpu {
                crate::arch::smp::kick(c);
            }
        }
    }
    for tid in woken {
        enqueue(s, tid);
    }
    drop(g);
    if !others {
        return;
    }
    let give_up = crate::time::monotonic_ns().saturating_add(END_THREADS_GRACE_NS);
    loop {
        {
            let mut s = SCHED.lock();
            let s = &mut *s;
            let alive = s
                .threads
                .iter()
                .any(|(&tid, t)| tid != cur && t.process.pid() == pid && t.state != State::Exited);
            if !alive {
                return;
            }
            if crate::time::monotonic_ns() >= give_up {
                crate::console::log_once(
                    "end-threads",
                    "rumprun: a thread of an ending program did not leave the kernel in time; ended where it waited",
                );
                for (&tid, t) in s.threads.iter_mut() {
                    // One running on another CPU cannot be ended from here.
                    if tid != cur
                        && t.process.pid() == pid
                        && t.state != State::Exited
                        && (t.on_cpu.is_none() || t.state == State::Blocked)
                    {
                        t.state = State::Exited;
                        s.deadlines.cancel(Due::Wait(tid));
                        s.dead.push(tid);
                    }
                }
                return;
            }
        }
        // Runnable, not blocked: a pending signal of ours must not stop the wait.
        schedule();
    }
}

/// Whether the calling thread's program is ending (`end_other_threads`): asked on
/// every return to program code, where such a thread ends (`signal::deliver`), with
/// nothing of a syscall left on its stack.
#[inline]
pub fn is_doomed() -> bool {
    DOOMED.load(Ordering::Relaxed) != 0
        && SCHED
            .lock()
            .threads
            .get(&current())
            .is_some_and(|t| t.doomed)
}

/// Marks the calling thread exited, for `reap` to free once the CPU is off it.
fn mark_current_exited() {
    let mut s = SCHED.lock();
    let cur = current();
    if let Some(t) = s.threads.get_mut(&cur) {
        t.state = State::Exited;
    }
    s.dead.push(cur);
}

/// Ends the calling thread (the layers above have let go of it: its signal state,
/// or its whole program after `process::exit`).
pub fn exit_current() -> ! {
    mark_current_exited();
    schedule();
    unreachable!("an exited thread was scheduled again")
}

/// Marks `tid` runnable if it is blocked; true if it was.
pub fn wake(tid: Tid) -> bool {
    make_runnable(tid, Wake::Woken)
}

/// Ends `tid`'s blocking wait because of a signal; true if it was blocked.
pub fn interrupt(tid: Tid) -> bool {
    make_runnable(tid, Wake::Interrupted)
}

/// Ends `tid`'s blocking wait with `how`. Whoever wakes it (another thread's syscall,
/// a device interrupt), the timer is re-armed so that the running thread's slice
/// ends on time and `tid` gets the CPU within one slice even while the running
/// thread never enters the kernel again.
fn make_runnable(tid: Tid, how: Wake) -> bool {
    let mut g = SCHED.lock();
    let s = &mut *g;
    match s.threads.get_mut(&tid) {
        Some(t) if t.state == State::Blocked => {
            t.state = State::Runnable;
            t.wake = how;
            s.deadlines.cancel(Due::Wait(tid));
            enqueue(s, tid);
            if tid != current() {
                arm_timer(s, crate::time::monotonic_ns());
            }
            true
        }
        Some(t) if how == Wake::Interrupted && t.state == State::Runnable => {
            // Running program code on another CPU: a signal for it is acted on at its
            // next entry to the kernel, which the interrupt makes now.
            if let Some(c) = t.on_cpu {
                crate::arch::smp::kick(c);
            }
            false
        }
        _ => false,
    }
}

/// The CPU whose run queue runnable thread `t` waits in, when CPU `me` puts it there:
/// the one an idle CPU halts on its stack for, if any (only that one can resume it);
/// else its last CPU if that one idles, or any idle CPU it may run on; else `me` if
/// it may run here; else a CPU it may run on.
fn home(t: &Thread, me: u32) -> u32 {
    if let Some(c) = t.on_cpu {
        return c;
    }
    let n = cpus();
    if n < 2 {
        return me;
    }
    let allowed = |c: u32| c < n && t.affinity & (1 << c) != 0;
    let idle = |c: u32| IDLE.of(c).load(Ordering::Acquire);
    if t.last_cpu != me && allowed(t.last_cpu) && idle(t.last_cpu) {
        return t.last_cpu;
    }
    if let Some(c) = (0..n).find(|&c| c != me && allowed(c) && idle(c)) {
        return c;
    }
    if allowed(me) {
        return me;
    }
    if allowed(t.last_cpu) {
        return t.last_cpu;
    }
    (0..n).find(|&c| allowed(c)).unwrap_or(me)
}

/// Puts runnable thread `tid` in a CPU's run queue (`home`), unless it is in one; a
/// CPU other than this one is interrupted, to take it from its halt or, busy, to
/// reschedule (only it may run the thread).
fn enqueue(s: &mut Scheduler, tid: Tid) {
    if let Some(t) = s.threads.get_mut(&tid) {
        enqueue_thread(&mut s.queues, tid, t);
    }
}

/// As `enqueue`, for thread `tid` at hand (`t`).
fn enqueue_thread(queues: &mut [VecDeque<Tid>; MAX_CPUS], tid: Tid, t: &mut Thread) {
    if t.queued || t.state != State::Runnable {
        return;
    }
    let me = crate::sync::cpu_id();
    t.queued = true;
    let c = home(t, me);
    queues[c as usize].push_back(tid);
    if c != me {
        crate::arch::smp::kick(c);
    }
}

/// Blocks the current thread until `wake`, `deadline` (monotonic ns) or a signal it
/// must act on (returns at once if one is already pending).
pub fn block(deadline: Option<u64>) -> Wake {
    let cur = current();
    if is_doomed() {
        // Its program is ending: no more waiting. Still give up the CPU, so that a
        // wait that ignores interruption and loops lets the others run.
        schedule();
        return Wake::Interrupted;
    }
    if hooks::should_interrupt(cur) {
        return Wake::Interrupted;
    }
    {
        let mut g = SCHED.lock();
        let s = &mut *g;
        if let Some(t) = s.threads.get_mut(&cur) {
            t.state = State::Blocked;
            t.sleeps += 1;
            t.wake = Wake::Woken;
            s.deadlines.set(Due::Wait(cur), deadline);
        }
    }
    schedule();
    SCHED
        .lock()
        .threads
        .get(&cur)
        .map_or(Wake::Woken, |t| t.wake)
}

/// Sleeps until `deadline`; `Wake::Interrupted` if a signal cut the sleep short.
pub fn sleep_until(deadline: u64) -> Wake {
    loop {
        if crate::time::monotonic_ns() >= deadline {
            return Wake::TimedOut;
        }
        if block(Some(deadline)) == Wake::Interrupted {
            return Wake::Interrupted;
        }
    }
}

/// Gives the CPU to another runnable thread, if any.
pub fn yield_now() {
    schedule();
}

/// Ends the waits whose deadlines have passed and fires the timers that are due
/// (whose signals wake threads: the scheduler's lock is not held then), in deadline
/// order; then the running program's CPU-time timers.
fn wake_expired(now: u64) {
    if SCHED.lock().deadlines.earliest().is_some_and(|d| d <= now) {
        expire_due(now);
    }
    hooks::cpu_timers();
}

#[cold]
fn expire_due(now: u64) {
    loop {
        let timer = {
            let mut g = SCHED.lock();
            let s = &mut *g;
            loop {
                match s.deadlines.pop_due(now) {
                    None => return,
                    Some((Due::Wait(tid), _)) => {
                        if let Some(t) = s.threads.get_mut(&tid) {
                            if t.state == State::Blocked {
                                t.state = State::Runnable;
                                t.wake = Wake::TimedOut;
                                enqueue(s, tid);
                            }
                        }
                    }
                    Some((Due::Timer(timer), _)) => break timer,
                }
            }
        };
        // Due again only later: what fires now fires once.
        let next = timer.0.expire(now).map(|at| at.max(now + 1));
        SCHED.lock().deadlines.set(Due::Timer(timer), next);
    }
}

/// Sets (or with `None` clears) a deadline of the queue, and re-arms this CPU's timer.
fn set_deadline(due: Due, at: Option<u64>) {
    let mut s = SCHED.lock();
    s.deadlines.set(due, at);
    arm_timer(&s, crate::time::monotonic_ns());
}

/// True when this CPU may switch to `t`: runnable, allowed here, and on no other CPU.
fn can_run_here(t: &Thread, me: u32) -> bool {
    t.state == State::Runnable && t.affinity & (1 << me) != 0 && t.on_cpu.is_none_or(|c| c == me)
}

/// The next thread this CPU runs from its own run queue: the oldest. Entries of
/// threads no longer runnable are dropped; one that must run elsewhere (its affinity
/// changed) moves.
fn pick(s: &mut Scheduler, me: u32) -> Option<Tid> {
    while let Some(tid) = s.queues[me as usize].pop_front() {
        let Some(t) = s.threads.get_mut(&tid) else {
            continue;
        };
        t.queued = false;
        if can_run_here(t, me) {
            return Some(tid);
        }
        // Runnable but not here: to its CPU's queue (unless that is this one: the
        // thread this CPU runs, woken while it switches, is queued again at the switch).
        if t.state == State::Runnable && home(t, me) != me {
            enqueue(s, tid);
        }
    }
    None
}

/// Takes a thread this CPU may run from another CPU's run queue, the longest first:
/// what a CPU that would otherwise idle does (not one whose thread can go on, which
/// would pull threads back and forth between CPUs at every yield).
fn steal(s: &mut Scheduler, me: u32) -> Option<Tid> {
    let n = cpus();
    if n < 2 {
        return None;
    }
    let mut victims: Vec<u32> = (0..n)
        .filter(|&c| c != me && !s.queues[c as usize].is_empty())
        .collect();
    victims.sort_by_key(|&c| core::cmp::Reverse(s.queues[c as usize].len()));
    for c in victims {
        let threads = &s.threads;
        let queue = &mut s.queues[c as usize];
        let found = queue
            .iter()
            .position(|tid| threads.get(tid).is_some_and(|t| can_run_here(t, me)));
        if let Some(i) = found {
            let tid = queue.remove(i)?;
            if let Some(t) = s.threads.get_mut(&tid) {
                t.queued = false;
            }
            return Some(tid);
        }
    }
    None
}

fn earliest_deadline(s: &Scheduler) -> Option<u64> {
    s.deadlines.earliest()
}

/// Re-arms the timer after a deadline outside the scheduler changed (setitimer).
pub fn rearm_timer() {
    arm_timer(&SCHED.lock(), crate::time::monotonic_ns());
}

/// Set once a program arms a CPU-time interval timer (`cpu_timers_used`); until then
/// `arm_timer` need not look the running thread up to ask its program (a search of
/// the thread table per call: a fifth of `arm_timer`'s instructions with memcached's
/// threads, bench/insn-profile).
static CPU_TIMERS_USED: AtomicBool = AtomicBool::new(false);

/// A program armed a CPU-time timer (ITIMER_VIRTUAL, ITIMER_PROF): from now on the
/// timer is also armed for the running program's (`Owner::cpu_deadline`). Called
/// before the caller re-arms (`rearm_timer`).
pub fn cpu_timers_used() {
    CPU_TIMERS_USED.store(true, Ordering::Release);
}

/// Arms the timer for the next thing that needs the CPU's attention: a sleeper's
/// deadline, or the end of the current thread's timeslice when others wait to run
/// (at once if it has already run that long).
fn arm_timer(s: &Scheduler, now: u64) {
    let cur = current();
    let me = crate::sync::cpu_id();
    let others_runnable = s.queues[me as usize].iter().any(|&t| t != cur);
    // The slice's end rounded up to `SLICE_GRAIN_NS`: each switch starts a slice, and
    // a server's threads switch every few microseconds when a frame wakes several of
    // them; rounded, their slices mostly end at the same instant, for which the timer
    // is armed already (`apic::arm_at` skips the re-arm, a trap to the hypervisor).
    let slice = others_runnable.then_some(
        (cpu().slice_start.get() + TIMESLICE_NS)
            .next_multiple_of(SLICE_GRAIN_NS)
            .max(now),
    );
    // A CPU-time interval timer of the running program comes due only while it runs.
    let cpu_timer = CPU_TIMERS_USED
        .load(Ordering::Acquire)
        .then(|| s.threads.get(&cur))
        .flatten()
        .filter(|t| t.state == State::Runnable)
        .and_then(|t| {
            let p = t.process;
            p.cpu_deadline(now, &|| {
                crate::time::tsc_ticks_to_ns(cpu_ticks_of(s, p.pid()))
            })
        });
    let next = [slice, earliest_deadline(s), cpu_timer]
        .into_iter()
        .flatten()
        .min();
    if let Some(at) = next {
        apic::arm_at(at, now, 1000, crate::time::tsc_hz());
    }
}

/// Picks the next thread and switches to it; returns when the current thread runs
/// again. Halts while nothing is runnable (with several CPUs, without the big kernel
/// lock, on the stack of the thread it ran last, which therefore stays this CPU's).
pub fn schedule() {
    let held = crate::sync::locks_held();
    assert!(held == 0, "schedule() with {held} spin locks held");
    // The CPU is about to run another thread or halt: frames the network stack
    // queued go out now (see `netdev::kick_pending`).
    crate::drivers::netdev::kick_pending();
    // A CPU looping in the kernel (a yield, a wait for other threads) lets the others in.
    bkl::yield_now();
    let c = cpu();
    let me = crate::sync::cpu_id();
    let start = crate::arch::cpu::rdtsc();
    let prev = c.current.get();
    if let Some(t) = SCHED.lock().threads.get_mut(&prev) {
        let ran = start.saturating_sub(c.run_since.get());
        t.cpu_ticks += ran;
        CPU_BUSY.get().fetch_add(ran, Ordering::Relaxed);
    }
    // Counted: a CPU timer checked while we pick must not count it twice.
    c.run_since.set(start);
    let (mut s, next, now) = loop {
        let now = crate::time::monotonic_ns();
        wake_expired(now);
        let mut s = SCHED.lock();
        if let Some(t) = pick(&mut s, me) {
            break (s, t, now);
        }
        // Nothing waits for this CPU: the thread it ran goes on, if it can; else it
        // takes one waiting for another CPU.
        if s.threads.get(&prev).is_some_and(|t| can_run_here(t, me)) {
            break (s, prev, now);
        }
        if let Some(t) = steal(&mut s, me) {
            break (s, t, now);
        }
        if prev != 0 && bkl::active() {
            // Several CPUs: halt in the idle context, off this thread's stack.
            break (s, 0, now);
        }
        let deadline = earliest_deadline(&s);
        arm_timer(&s, now);
        // With no deadline to wake it, are all threads blocked? Not when a runnable
        // thread this CPU may not take (another CPU runs it, or will: its affinity)
        // may still wake the blocked ones. (Asked only then: two walks of the thread
        // table per halt otherwise.)
        let blocked = deadline
            .is_none()
            .then(|| {
                let running_elsewhere = s.threads.values().any(|t| t.state == State::Runnable);
                (!running_elsewhere).then(|| {
                    s.threads
                        .values()
                        .filter(|t| t.state == State::Blocked)
                        .count()
                })
            })
            .flatten();
        // Unlocked while halted: the interrupt that ends the halt may wake threads.
        drop(s);
        if let Some(blocked) = blocked.filter(|_| !io_wait::device_may_wake()) {
            hooks::deadlock(blocked);
        }
        if bkl::active() {
            // Marked idle before the lock goes: a thread made runnable from here on
            // interrupts the halt (an interrupt sent before `hlt` ends it at once).
            IDLE.get().store(true, Ordering::Release);
            bkl::release();
            crate::arch::smp::idle_wait(crate::time::tsc_hz());
            bkl::acquire();
            IDLE.get().store(false, Ordering::Release);
        } else {
            idle_poll::wait();
        }
        // Halted time is nobody's CPU time (a CPU timer may be checked next).
        c.run_since.set(crate::arch::cpu::rdtsc());
    };
    c.slice_start.set(now);
    c.current.set(next);
    if next == prev {
        arm_timer(&s, now);
        // Time spent halted while nothing ran is nobody's CPU time.
        c.run_since.set(crate::arch::cpu::rdtsc());
        return;
    }
    let prev_fs = cpu::rdmsr(cpu::MSR_FS_BASE);
    let prev_gs = crate::arch::percpu::user_gs_base();
    // One look-up of the thread left for all it needs here.
    let sm = &mut *s;
    let save = match sm.threads.get_mut(&prev) {
        Some(p) => {
            // Another CPU may pick it once this one is off its stack: the switch below
            // ends before this CPU lets go of the big kernel lock.
            p.on_cpu = None;
            p.fs_base = prev_fs;
            p.gs_base = prev_gs;
            // Still runnable (preempted, yielding, moved by its affinity): to the back
            // of a run queue, an idle CPU's if there is one; before the timer is armed,
            // which ends `next`'s time slice for it if it waits here.
            enqueue_thread(&mut sm.queues, prev, p);
            // The Thread is boxed: this address stays valid after the guard is dropped.
            &mut p.ksp as *mut u64
        }
        // From the idle context.
        None => IDLE_KSP.get().as_ptr(),
    };
    arm_timer(&s, now);
    c.run_since.set(crate::arch::cpu::rdtsc());
    if next == 0 {
        drop(s);
        let idle = IDLE_KSP.get().get();
        // SAFETY: `idle` is this CPU's idle context, saved by switch_stacks or built by
        // prepare_smp (an AP's is saved at its first switch, before it can go idle);
        // `save` is the previous thread's slot in its boxed Thread, kept alive as below.
        unsafe { switch_stacks(save, idle) };
        reap();
        return;
    }
    let (new_ksp, new_top, new_fs, new_gs, new_process) = {
        let n = s.threads.get_mut(&next).unwrap();
        n.on_cpu = Some(me);
        n.last_cpu = me;
        (n.ksp, n.kstack_top, n.fs_base, n.gs_base, n.process)
    };
    drop(s);
    // Its program's page-table root and state, unless this CPU has them already.
    new_process.switch_to();
    // SAFETY: interrupts are off; `new_top` and `new_ksp` are the next thread's kernel
    // stack top and the stack pointer saved by switch_stacks (or built by switch_frame),
    // and `save` is where this thread's own is saved, in its boxed Thread (or this CPU's
    // boot slot), which is not freed meanwhile: `reap` skips threads marked on a CPU,
    // and no other CPU runs scheduler code until this one releases the big kernel lock,
    // after the switch.
    unsafe {
        crate::arch::percpu::set_kstack_top(new_top);
        cpu::wrmsr(cpu::MSR_FS_BASE, new_fs);
        if new_gs != prev_gs {
            crate::arch::percpu::set_user_gs_base(new_gs);
        }
        switch_stacks(save, new_ksp);
    }
    reap();
}

/// Frees the kernel stacks of exited threads (never the one we are running on).
fn reap() {
    let mut s = SCHED.lock();
    let s = &mut *s;
    if s.dead.is_empty() {
        return;
    }
    let cur = current();
    let mut keep = Vec::new();
    for tid in core::mem::take(&mut s.dead) {
        // Not the stack this CPU (or another, idle on it) is on.
        if tid == cur || s.threads.get(&tid).is_some_and(|t| t.on_cpu.is_some()) {
            keep.push(tid);
            continue;
        }
        if let Some(t) = s.threads.remove(&tid) {
            s.deadlines.cancel(Due::Wait(tid));
            if t.doomed {
                DOOMED.fetch_sub(1, Ordering::Relaxed);
            }
            *s.exited_cpu_ticks.entry(t.process.pid()).or_default() += t.cpu_ticks;
            *s.exited_sleeps.entry(t.process.pid()).or_default() += t.sleeps;
            for i in 0..KSTACK_PAGES as u64 {
                crate::mm::frames::free(t.kstack_phys + i * 4096);
            }
        }
    }
    s.dead = keep;
}

/// The timer interrupt: fires the interval timer when due (its signal is delivered
/// on the way back to the program) and preempts
/// program code when another thread is runnable. (When it interrupts the idle halt, `schedule`'s loop does the work.)
pub fn on_timer_interrupt(from_program: bool) {
    if !from_program {
        return;
    }
    let now = crate::time::monotonic_ns();
    wake_expired(now);
    {
        let s = SCHED.lock();
        if s.threads.len() < 2 {
            arm_timer(&s, now);
            return;
        }
    }
    schedule();
}

/// TSC ticks the current thread has run since it last got the CPU.
fn running_ticks() -> u64 {
    crate::arch::cpu::rdtsc().saturating_sub(cpu().run_since.get())
}

/// CPU time of the running thread, in ns.
pub fn thread_cpu_ns() -> u64 {
    let ticks = SCHED
        .lock()
        .threads
        .get(&current())
        .map_or(0, |t| t.cpu_ticks);
    crate::time::tsc_ticks_to_ns(ticks + running_ticks())
}

/// How often the current thread blocked.
pub fn thread_sleeps() -> u64 {
    SCHED.lock().threads.get(&current()).map_or(0, |t| t.sleeps)
}

/// How often the threads of program `pid` (live and exited) blocked.
pub fn sleeps_of(pid: Pid) -> u64 {
    let s = SCHED.lock();
    let live: u64 = s
        .threads
        .values()
        .filter(|t| t.process.pid() == pid)
        .map(|t| t.sleeps)
        .sum();
    s.exited_sleeps.get(&pid).copied().unwrap_or(0) + live
}

/// CPU time of thread `tid` of program `pid`, in ns (None: no such thread).
pub fn thread_cpu_ns_of(pid: Pid, tid: Tid) -> Option<u64> {
    let s = SCHED.lock();
    let t = s.threads.get(&tid)?;
    if t.process.pid() != pid || t.state == State::Exited {
        return None;
    }
    let running = if tid == current() { running_ticks() } else { 0 };
    Some(crate::time::tsc_ticks_to_ns(t.cpu_ticks + running))
}

/// CPU time of program `pid` (all its threads, live and exited), in ns. While the CPU
/// idles (the current thread blocked) no time is added.
pub fn cpu_ns_of(pid: Pid) -> u64 {
    crate::time::tsc_ticks_to_ns(cpu_ticks_of(&SCHED.lock(), pid))
}

/// CPU time of program `pid` (all its threads, live and exited), in TSC ticks.
fn cpu_ticks_of(s: &Scheduler, pid: Pid) -> u64 {
    let running = match s.threads.get(&current()) {
        Some(t) if t.process.pid() == pid && t.state == State::Runnable => running_ticks(),
        _ => 0,
    };
    let threads: u64 = s
        .threads
        .values()
        .filter(|t| t.process.pid() == pid)
        .map(|t| t.cpu_ticks)
        .sum();
    let exited = s.exited_cpu_ticks.get(&pid).copied().unwrap_or(0);
    exited + threads + running
}
