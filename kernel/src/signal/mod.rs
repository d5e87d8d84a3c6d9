//! Signals within the program (Linux semantics, `man 7 signal`): `state` holds the
//! dispositions, the per-thread masks, pending sets and alternate stacks and the
//! process-wide pending set, and decides which thread a signal wakes; `deliver` runs
//! at every return to program code (end of a syscall, or of a trap or interrupt that
//! came from program code) and applies the default action, ignores, or enters a
//! handler; `frame` builds and restores the Linux x86_64 `rt_sigframe`; `itimer` is
//! the process's ITIMER_REAL (alarm/setitimer), which sends SIGALRM; `posix_timer`
//! its POSIX timers (timer_create & co.); `job` stops and continues processes (job
//! control).
//!
//! A signal set is a `u64` with bit `sig - 1` for signal `sig` (the kernel's sigset_t
//! on x86_64). The rules that need no kernel state (sets, default actions, masks,
//! which pending signal is taken, the siginfo queues) are the host-tested crate
//! `rumprun-signals`, re-exported here.

pub mod deliver;
pub mod frame;
pub mod itimer;
pub mod job;
pub mod posix_timer;
pub mod state;

pub use rumprun_signals::{
    bit, default_action, Default, NSIG, SIGCHLD, SIGCONT, SIGKILL, SIGSTOP, SIGTSTP, SIGTTIN,
    SIGTTOU, UNBLOCKABLE,
};

pub const SIGHUP: i32 = 1;

pub const SIGTRAP: i32 = 5;
pub const SIGSEGV: i32 = 11;
pub const SIGPIPE: i32 = 13;
pub const SIGALRM: i32 = 14;

pub const SIG_DFL: u64 = 0;
pub const SIG_IGN: u64 = 1;

pub const SA_SIGINFO: u64 = 0x4;
pub const SA_ONSTACK: u64 = 0x0800_0000;
pub const SA_RESTART: u64 = 0x1000_0000;
pub const SA_NODEFER: u64 = 0x4000_0000;
pub const SA_RESETHAND: u64 = 0x8000_0000;
pub const SA_RESTORER: u64 = 0x0400_0000;

/// si_code values.
pub const SI_USER: i32 = 0;
pub const SI_KERNEL: i32 = 0x80;
pub const SI_TKILL: i32 = -6;
pub const SI_TIMER: i32 = -2;

/// Kernel-internal "restart me" results of interrupted syscalls; never reach the
/// program (deliver.rs turns them into EINTR or a restart).
/// Restart if no handler ran, or if the handler has SA_RESTART.
pub const ERESTARTSYS: i64 = 512;
/// Restart if no handler ran; EINTR after a handler, whatever its flags.
pub const ERESTARTNOHAND: i64 = 514;

/// The kernel's `siginfo_t` (128 bytes): signo, errno, code, then the union, of which
/// we fill `si_pid`/`si_uid` (kill, tkill), `si_addr` (faults) or the timer fields.
#[derive(Clone, Copy, Default, Debug)]
pub struct SigInfo {
    pub signo: i32,
    pub code: i32,
    pub pid: u32,
    pub addr: u64,
    /// SI_TIMER: which POSIX timer, its overrun count and sigev_value.
    pub timer: Option<TimerInfo>,
    /// si_value of a sigqueue()d signal (SI_QUEUE).
    pub value: u64,
}

/// The timer part of a SI_TIMER siginfo.
#[derive(Clone, Copy, Default, Debug)]
pub struct TimerInfo {
    pub id: i32,
    pub overrun: i32,
    pub value: u64,
}

impl SigInfo {
    /// The 128-byte siginfo_t as the program sees it.
    pub fn to_bytes(self) -> [u8; 128] {
        let mut b = [0u8; 128];
        b[0..4].copy_from_slice(&self.signo.to_le_bytes());
        b[8..12].copy_from_slice(&self.code.to_le_bytes());
        if let Some(t) = self.timer {
            // si_timerid, si_overrun, si_value
            b[16..20].copy_from_slice(&t.id.to_le_bytes());
            b[20..24].copy_from_slice(&t.overrun.to_le_bytes());
            b[24..32].copy_from_slice(&t.value.to_le_bytes());
        } else if self.addr != 0 {
            b[16..24].copy_from_slice(&self.addr.to_le_bytes());
        } else {
            b[16..20].copy_from_slice(&self.pid.to_le_bytes()); // si_pid; si_uid = 0
            b[24..32].copy_from_slice(&self.value.to_le_bytes()); // si_value
        }
        b
    }
}

/// A write to a pipe or socket with no reader left failed with EPIPE: like Linux,
/// send SIGPIPE to the writing thread (its default action ends the program with
/// status 128 + 13; ignored, blocked or handled, the write just fails with EPIPE).
pub fn send_sigpipe(pid: u32) {
    let info = SigInfo {
        signo: SIGPIPE,
        code: SI_USER,
        pid,
        addr: 0,
        timer: None,
        value: 0,
    };
    state::send_thread(crate::sched::current(), info);
}

impl rumprun_signals::Info for SigInfo {
    fn signo(&self) -> i32 {
        self.signo
    }
}
