//! Linux's signal rules apart from the kernel's state, so they are tested on the host:
//! signal sets and the signals that can be neither blocked nor caught, the default
//! actions, sigprocmask's three ways of changing a mask ([`apply_mask`]), which
//! pending signal a thread takes next ([`select`]: the lowest-numbered, its own before
//! its process's), when a pending signal makes a thread act ([`wants`], [`keeps`],
//! [`interrupts`]), what sending a job-control signal discards ([`discarded_by`]), and
//! the siginfo queues of pending signals ([`Queue`]: one siginfo for a standard signal,
//! a bounded FIFO for a real-time one). The kernel (`signal/state.rs`) keeps one
//! `Queue` per process and per thread and does the locking and waking.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::collections::VecDeque;

/// Signals 1 to 64.
pub const NSIG: usize = 64;
pub const SIGKILL: i32 = 9;
pub const SIGCHLD: i32 = 17;
pub const SIGCONT: i32 = 18;
pub const SIGSTOP: i32 = 19;
pub const SIGTSTP: i32 = 20;
pub const SIGTTIN: i32 = 21;
pub const SIGTTOU: i32 = 22;
pub const SIGURG: i32 = 23;
pub const SIGWINCH: i32 = 28;
/// The first real-time signal as the kernel numbers them (the C library keeps 32
/// and 33 for itself and calls 34 SIGRTMIN).
pub const SIGRTMIN: i32 = 32;

/// The bit of `sig` in a signal set.
pub const fn bit(sig: i32) -> u64 {
    1 << (sig - 1)
}

/// SIGKILL and SIGSTOP can be neither blocked nor caught.
pub const UNBLOCKABLE: u64 = bit(SIGKILL) | bit(SIGSTOP);

/// The stop signals (default action: stop the process).
pub const STOP_SIGNALS: u64 = bit(SIGSTOP) | bit(SIGTSTP) | bit(SIGTTIN) | bit(SIGTTOU);

/// What the default action of a signal is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Default {
    Terminate,
    Ignore,
    /// Stop signals: the process stops until SIGCONT.
    Stop,
}

pub fn default_action(sig: i32) -> Default {
    match sig {
        SIGCHLD | SIGCONT | SIGURG | SIGWINCH => Default::Ignore,
        SIGSTOP | SIGTSTP | SIGTTIN | SIGTTOU => Default::Stop,
        _ => Default::Terminate,
    }
}

/// sigprocmask's `how`.
pub const SIG_BLOCK: u64 = 0;
pub const SIG_UNBLOCK: u64 = 1;
pub const SIG_SETMASK: u64 = 2;

/// The mask after sigprocmask(`how`, `set`) on `mask`, without the signals that
/// cannot be blocked; None for a `how` that is none of the three (EINVAL).
pub fn apply_mask(how: u64, mask: u64, set: u64) -> Option<u64> {
    let m = match how {
        SIG_BLOCK => mask | set,
        SIG_UNBLOCK => mask & !set,
        SIG_SETMASK => set,
        _ => return None,
    };
    Some(m & !UNBLOCKABLE)
}

/// True if a pending `sig` should make a thread with this `mask` act: not blocked,
/// or awaited (`waiting`: the set it waits for in rt_sigtimedwait).
pub fn wants(mask: u64, waiting: u64, sig: i32) -> bool {
    (!mask | waiting) & bit(sig) != 0
}

/// True if a thread keeps `sig` pending even when it is ignored: blocked, or awaited.
pub fn keeps(mask: u64, waiting: u64, sig: i32) -> bool {
    (mask | waiting) & bit(sig) != 0
}

/// True when some signal pending for a thread (its `own`, its process's `shared`)
/// should end its blocking syscall now.
pub fn interrupts(own: u64, shared: u64, mask: u64, waiting: u64) -> bool {
    (own | shared) & (!mask | waiting) != 0
}

/// Where the signal a thread takes comes from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Source {
    /// Sent to the thread (tkill, a fault, a timer for it).
    Thread,
    /// Sent to its process (kill, sigqueue, a timer for the process).
    Process,
}

/// Which signal of `set` a thread takes next from its `own` pending set and its
/// process's `shared` one: the lowest-numbered, its own on a tie.
pub fn select(own: u64, shared: u64, set: u64) -> Option<(i32, Source)> {
    let (own, shared) = (own & set, shared & set);
    let pick = |s: u64| s.trailing_zeros() as i32 + 1;
    if own != 0 && (shared == 0 || pick(own) <= pick(shared)) {
        Some((pick(own), Source::Thread))
    } else if shared != 0 {
        Some((pick(shared), Source::Process))
    } else {
        None
    }
}

/// The pending signals a send of `sig` discards at once, whatever its disposition,
/// as on Linux: a stop signal discards SIGCONT; SIGCONT discards the stop signals.
pub fn discarded_by(sig: i32) -> u64 {
    if STOP_SIGNALS & bit(sig) != 0 {
        bit(SIGCONT)
    } else if sig == SIGCONT {
        STOP_SIGNALS
    } else {
        0
    }
}

/// At most this many sends of one real-time signal wait (then sigqueue gives EAGAIN).
pub const RT_QUEUE_MAX: usize = 1024;

/// What a queue holds per send: the siginfo, which knows its signal.
pub trait Info {
    fn signo(&self) -> i32;
}

/// The siginfo of each pending signal of one thread or process: one for a standard
/// signal (later sends while it is pending add nothing), a queue of up to
/// [`RT_QUEUE_MAX`] for a real-time one. A signal is pending while its entry is not
/// empty.
pub struct Queue<I>([VecDeque<I>; NSIG]);

impl<I> core::default::Default for Queue<I> {
    fn default() -> Self {
        Self::new()
    }
}

impl<I> Queue<I> {
    pub const fn new() -> Self {
        Queue([const { VecDeque::new() }; NSIG])
    }

    /// Takes the oldest send of `sig` (None: pending without a siginfo), and whether
    /// more remain.
    pub fn pop(&mut self, sig: i32) -> (Option<I>, bool) {
        let q = &mut self.0[sig as usize - 1];
        let info = q.pop_front();
        (info, !q.is_empty())
    }

    /// Forgets every send of `sig`.
    pub fn clear(&mut self, sig: i32) {
        self.0[sig as usize - 1].clear();
    }

    /// The signals with a send queued.
    pub fn pending(&self) -> u64 {
        (1..=NSIG as i32)
            .filter(|&s| !self.0[s as usize - 1].is_empty())
            .fold(0, |set, s| set | bit(s))
    }
}

impl<I: Info> Queue<I> {
    /// Records a send; false when a real-time signal's queue is full.
    pub fn push(&mut self, info: I) -> bool {
        let sig = info.signo();
        let q = &mut self.0[sig as usize - 1];
        if sig < SIGRTMIN {
            if q.is_empty() {
                q.push_back(info);
            }
            return true;
        }
        if q.len() >= RT_QUEUE_MAX {
            return false;
        }
        q.push_back(info);
        true
    }
}
