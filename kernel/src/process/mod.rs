//! The programs this kernel runs, each a `Process`: its identity (pid, argv, image for
//! symbols), its page-table root, and what Linux keeps per process (address space,
//! descriptor table, cwd and umask, signal dispositions, interval timer, credentials). The
//! scheduler switches `current()` (and CR3) when it switches to a thread of another
//! program. A program's start (loading its image on its own main thread) and its end
//! (the original rumprun's console markers; what happens next is `rc`'s business) live
//! here too.

pub mod creds;
pub mod exec;
pub mod fork;
pub mod pgrp;
pub mod pidfd;
pub mod rc;
pub mod thread;
pub mod wait;

pub use thread::{
    cpu_ns, exit_thread, is_own_thread, sleeps, thread_count, thread_cpu_ns, thread_ids,
};

use crate::fd::{self, OpenFile};
use crate::loader;
use crate::mm::address_space::{self, AddressSpace};
use crate::signal::{itimer::Timer, state::Signals};
use crate::sync::{PerCpu, SpinLock};
use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::cell::Cell;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, Ordering};
use spin::Mutex;

/// A program's id: the tid of its main thread (1 for the first program).
pub use crate::sched::Pid;

/// What a program runs: set before it starts, replaced by execve (never freed: a few
/// hundred bytes, shared by forked children).
#[derive(Clone)]
pub struct Program {
    /// `argv[0]`, as shown in the console markers.
    pub name: String,
    /// The program's file name in the payload (`bin/<file_name>`).
    pub file_name: String,
    /// The ELF image (inside the payload), for loading and symbol lookup (empty for a
    /// program execve read from the file system: no symbols in its fault reports).
    pub image: &'static [u8],
    /// The program's argv, for its initial stack and /proc/self/cmdline.
    pub argv: Vec<String>,
    pub env: Vec<String>,
    /// Where the program lies in the file system (`/bin/<name>`).
    pub exe_path: String,
}

pub struct Process {
    pid: Pid,
    /// The page-table root (CR3 value) of its address space.
    root: AtomicU64,
    program: AtomicPtr<Program>,
    /// Load bias (0 for ET_EXEC), once loaded.
    base: AtomicU64,
    /// False once the program has ended.
    running: AtomicBool,
    /// Started by the rc list (console markers), not by fork.
    from_rc: AtomicBool,
    /// The parent's pid; 0 for none (rc programs, and orphans when pid 1 is gone).
    pub ppid: AtomicU32,
    /// Given to pid 1 (or to none) when its parent ended: its new parent does not hold
    /// its process group (`pgrp`). Not set for one given to a subreaper.
    pub adopted: AtomicBool,
    /// PR_SET_CHILD_SUBREAPER: orphans among its descendants come to it, not to pid 1
    /// (kept over execve, not inherited by fork).
    pub subreaper: AtomicBool,
    pub pgid: AtomicU32,
    pub sid: AtomicU32,
    /// The wait status (wait4's encoding) once it has ended: a zombie until reaped.
    wait_status: Mutex<Option<u32>>,
    /// A vfork child still borrowing its parent's page tables (until execve or exit);
    /// the parent sleeps meanwhile.
    vfork_borrowed: AtomicBool,
    pub aspace: Mutex<AddressSpace>,
    /// The file it runs, counted while it lives (ETXTBSY for writers).
    exe_file: Mutex<Option<crate::fs::textbusy::Running>>,
    pub fds: fd::Table,
    pub fs: crate::fs::ProcessFs,
    pub signals: Signals,
    pub itimer: Timer,
    pub timers: crate::signal::posix_timer::Timers,
    pub creds: creds::Creds,
}

impl Process {
    const fn new(pid: Pid, root: u64) -> Self {
        Process {
            pid,
            root: AtomicU64::new(root),
            program: AtomicPtr::new(core::ptr::null_mut()),
            base: AtomicU64::new(0),
            running: AtomicBool::new(true),
            from_rc: AtomicBool::new(true),
            ppid: AtomicU32::new(0),
            adopted: AtomicBool::new(false),
            subreaper: AtomicBool::new(false),
            pgid: AtomicU32::new(pid),
            sid: AtomicU32::new(pid),
            wait_status: Mutex::new(None),
            vfork_borrowed: AtomicBool::new(false),
            aspace: Mutex::new(AddressSpace::new()),
            exe_file: Mutex::new(None),
            fds: fd::Table::new(),
            fs: crate::fs::ProcessFs::new(),
            signals: Signals::new(),
            itimer: Timer::new(),
            timers: crate::signal::posix_timer::Timers::new(),
            creds: creds::Creds::new(),
        }
    }

    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// The CR3 value of its address space.
    pub fn root(&self) -> u64 {
        self.root.load(Ordering::Relaxed)
    }

    /// A vfork child not yet exec'd: its page tables are its parent's.
    pub fn borrows_tables(&self) -> bool {
        self.vfork_borrowed.load(Ordering::Relaxed)
    }

    /// What it runs, once set.
    pub fn program(&self) -> Option<&'static Program> {
        let p = self.program.load(Ordering::Acquire);
        // SAFETY: set only from a leaked Box (`set_program`), never freed.
        unsafe { p.as_ref() }
    }

    /// Sets what it runs (at start and at execve; the old one is leaked, as
    /// `&'static` references to it may live on).
    fn set_program(&self, program: &'static Program) {
        self.program
            .store(program as *const Program as *mut Program, Ordering::Release);
    }

    /// False once it has ended (a zombie, or reaped).
    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::Relaxed)
    }

    pub fn base(&self) -> u64 {
        self.base.load(Ordering::Relaxed)
    }

    /// Sets what it runs, with stdin/stdout on the console unless `stdin`/`stdout`
    /// (pipe ends) say otherwise; stderr is always the console.
    fn prepare(
        &self,
        program: Program,
        stdin: Option<Arc<OpenFile>>,
        stdout: Option<Arc<OpenFile>>,
    ) {
        self.set_program(Box::leak(Box::new(program)));
        self.fds.init_stdio();
        for (fd, file) in [(0, stdin), (1, stdout)] {
            if let Some(f) = file {
                let _ = self.fds.install_at(fd, f, false);
            }
        }
    }
}

/// The first program: it runs on the boot thread in the boot page tables, so a
/// one-program image never switches roots.
static FIRST: Process = Process::new(1, 0);

/// The program whose thread this CPU runs.
static CURRENT: PerCpu<Cell<&'static Process>> =
    PerCpu::new([const { Cell::new(&FIRST) }; crate::sync::MAX_CPUS]);

/// Every process not yet reaped (running ones and zombies; never freed: a few hundred
/// bytes each). Copied on change, so that a reader iterates its own snapshot without
/// holding the lock (sending a signal to every process wakes threads, which looks at
/// every process's timers).
static ALL: SpinLock<Option<Arc<Vec<&'static Process>>>> = SpinLock::new(None);

/// The running program (the first one during boot).
#[inline]
pub fn current() -> &'static Process {
    CURRENT.get().get()
}

/// Called by the scheduler (with CR3) when it switches to a thread of `p`, and for a
/// call in `p`'s context (`fork::in_process`). The memory manager learns its address
/// space.
pub fn set_current(p: &'static Process) {
    CURRENT.get().set(p);
    address_space::set_current(&p.aspace);
}

/// Makes the first program the running one (boot, before anything touches program
/// memory).
pub fn init() {
    set_current(&FIRST);
}

impl crate::sched::Owner for Process {
    fn pid(&self) -> Pid {
        self.pid
    }

    fn switch_to(&'static self) {
        set_current(self);
        // Per CPU: the root this CPU has loaded (threads of one program share it).
        if crate::arch::smp::loaded_root() != self.root() {
            crate::arch::smp::load_root(self.root());
        }
    }

    fn cpu_deadline(&self, now: u64, cpu_ns: &dyn Fn() -> u64) -> Option<u64> {
        crate::signal::itimer::cpu_deadline(self, now, cpu_ns)
    }
}

/// The scheduler's deadlock hook: every thread is blocked with nothing to wake one.
/// Says which program hangs and powers off with `fault::DEADLOCK_STATUS`.
pub fn deadlock(blocked: usize) -> ! {
    let mut running = running();
    match (running.next(), running.next()) {
        (Some(p), None) => kprintln!(
            "rumprun: deadlock: all {blocked} threads of \"{}\" are blocked with nothing to wake them",
            p.program().map_or("kernel", |p| p.name.as_str())
        ),
        _ => kprintln!(
            "rumprun: deadlock: all {blocked} threads of the image's programs are blocked with nothing to wake them"
        ),
    }
    crate::platform::exit(crate::fault::DEADLOCK_STATUS)
}

/// The process list as it is now.
fn snapshot() -> Arc<Vec<&'static Process>> {
    ALL.lock().get_or_insert_with(Default::default).clone()
}

/// Changes the process list (a copy, if readers hold the current one).
fn change_all(f: impl FnOnce(&mut Vec<&'static Process>)) {
    let mut all = ALL.lock();
    f(Arc::make_mut(all.get_or_insert_with(Default::default)));
}

/// Every process not yet reaped (running ones and zombies), as the list was at the
/// call.
pub fn all() -> impl Iterator<Item = &'static Process> {
    let all = snapshot();
    (0..all.len()).map(move |i| all[i])
}

/// The programs that have not ended.
pub fn running() -> impl Iterator<Item = &'static Process> {
    all().filter(|p| p.running.load(Ordering::Relaxed))
}

/// The process `pid`, running or a zombie.
pub fn find(pid: Pid) -> Option<&'static Process> {
    all().find(|p| p.pid == pid)
}

/// Page-table roots of reaped processes (their lower halves already empty), reused
/// by the next new process. A root is put here by its own last thread, which switches
/// away before anything can make a new process.
static FREE_ROOTS: SpinLock<Vec<u64>> = SpinLock::new(Vec::new());

/// Forgets a reaped process: it leaves the process list and its root is reused.
fn forget(p: &'static Process) {
    change_all(|all| all.retain(|q| !core::ptr::eq(*q, p)));
    if !p.vfork_borrowed.load(Ordering::Relaxed) {
        FREE_ROOTS.lock().push(p.root());
    }
}

/// A page-table root with an empty lower half: a reaped process's, or a new one.
fn new_root() -> Option<u64> {
    let reused = FREE_ROOTS.lock().pop();
    reused.or_else(crate::arch::paging::new_root)
}

/// The first program (pid 1, the boot page tables).
fn first() -> &'static Process {
    change_all(|all| {
        if all.is_empty() {
            FIRST
                .root
                .store(crate::arch::cpu::read_cr3(), Ordering::Relaxed);
            all.push(&FIRST);
        }
    });
    &FIRST
}

/// A new program with an empty address space of its own, pid `pid`.
fn create(pid: Pid) -> Option<&'static Process> {
    let root = new_root()?;
    let p: &'static Process = Box::leak(Box::new(Process::new(pid, root)));
    change_all(|all| all.push(p));
    Some(p)
}

/// The running program's identity, if it has one yet.
pub fn program() -> Option<&'static Program> {
    current().program()
}

/// The running program's argv.
pub fn argv() -> Vec<String> {
    program().map_or_else(Vec::new, |p| p.argv.clone())
}

/// The running program's path, as /proc/self/exe shows it.
pub fn exe_path() -> String {
    program().map_or_else(String::new, |p| p.exe_path.clone())
}

/// True when the running process was started by the rc list (not forked).
pub fn is_from_rc() -> bool {
    current().from_rc.load(Ordering::Relaxed)
}

/// The running program's display name, or "kernel" before it exists.
pub fn name() -> &'static str {
    program().map_or("kernel", |p| p.name.as_str())
}

/// Loads the running program's image into its address space and jumps to it. Runs on
/// the program's main thread. Never returns: the program ends through exit_group or
/// a fatal signal.
pub fn run() -> ! {
    let Some(program) = program() else {
        unreachable!("a program thread started without a program")
    };
    let file_name = program.file_name.as_str();
    // The program's file in the root (the same bytes, which tmpfs keeps in the
    // payload's own pages) is mapped, not copied.
    let file = crate::fs::lookup(alloc::format!("/bin/{file_name}").as_bytes())
        .ok()
        .and_then(|node| loader::Image::open(node).ok())
        .filter(|img| {
            img.size() == program.image.len() as u64 && program.image.starts_with(img.head())
        });
    let image = file.unwrap_or(loader::Image::Bytes(program.image));
    let marker = || kprint!("\n=== calling \"{}\" main() ===\n\n", name());
    match exec::start(image, program, marker) {
        loader::LoadError::Elf(why) => {
            kprintln!("rumprun: cannot load bin/{file_name}: {why}");
            crate::platform::exit(126)
        }
        loader::LoadError::NoMemory => {
            kprintln!("rumprun: out of memory loading bin/{file_name}; give the VM more memory (rumprun -M)");
            crate::platform::exit(137)
        }
    }
}

/// The main thread of every program but the first starts here (called by
/// `program_thread_entry`, so the stack is aligned as after a call).
extern "C" fn program_thread() -> ! {
    run()
}

extern "C" {
    /// Where `switch_stacks` first returns to on a new program's main thread.
    fn program_thread_entry() -> !;
}

core::arch::global_asm!(
    ".pushsection .text",
    ".global program_thread_entry",
    "program_thread_entry:",
    "    call {run}",
    "    ud2",
    ".popsection",
    run = sym program_thread,
);

/// exit_group (or the last thread's exit): the running program is done. Its other
/// threads end, shared file mappings are written back and descriptors closed (so a
/// pipe's reader sees end of file); then `rc` decides whether the image ends.
pub fn exit(status: i32) -> ! {
    let status = status & 0xff;
    let me = current();
    *me.wait_status.lock() = Some((status as u32) << 8);
    crate::sched::end_other_threads(me.pid);
    address_space::sync_all();
    fd::close_all();
    rc::program_ended(me, status, Ending::Exited)
}

/// How a program ended.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// exit_group or the last thread's exit: the end marker prints.
    Exited,
    /// A fatal signal or fault (reported already): no marker, and when this ends the
    /// image it ends at once, as a one-program image always did.
    Killed,
}

/// The running program was killed (status 128 + signal; the report is printed): its
/// threads end and its descriptors close (a pipe's reader sees end of file); other
/// programs go on unless this ends the image.
pub fn killed(status: i32) -> ! {
    let me = current();
    *me.wait_status.lock() = Some((status as u32).saturating_sub(128) & 0x7f);
    crate::sched::end_other_threads(me.pid);
    fd::close_all();
    rc::program_ended(me, status & 0xff, Ending::Killed)
}

/// The console marker for the running program's end (rc programs only: a forked
/// child ends silently, as on Linux).
fn print_end_marker(status: i32) {
    if !current().from_rc.load(Ordering::Relaxed) {
        return;
    }
    kprint!("\n=== main() of \"{}\" returned {} ===\n", name(), status);
}

/// Frees what the running program held (it has ended and others go on) and ends its
/// last thread. Its page-table root stays allocated (4 KiB).
fn release_and_end() -> ! {
    let me = current();
    me.running.store(false, Ordering::Relaxed);
    *me.exe_file.lock() = None;
    me.itimer.disarm();
    me.timers.clear();
    me.signals.clear_threads();
    if me.vfork_borrowed.load(Ordering::Relaxed) {
        // The page tables are the (sleeping) parent's: only forget the areas.
        address_space::forget_areas();
        wait::vfork_done(me);
    } else {
        address_space::release_all();
        crate::ipc::shm::process_released(me.pid());
    }
    wait::ended(me);
    crate::sched::exit_current()
}
