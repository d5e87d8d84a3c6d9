//! A program's credentials as Linux keeps them per process: it always runs as root
//! (uid and gid 0), with the supplementary groups setgroups gave it, its capability
//! sets (capget/capset, the bounding set of prctl) and the prctl flags that go with
//! them (no_new_privs, keepcaps, the parent-death signal).

use alloc::vec::Vec;
use spin::Mutex;

/// The highest capability number Linux 6.1 knows (CAP_CHECKPOINT_RESTORE).
pub const CAP_LAST_CAP: u32 = 40;
/// Every capability.
pub const CAP_FULL: u64 = (1 << (CAP_LAST_CAP + 1)) - 1;
/// Linux's NGROUPS_MAX.
pub const NGROUPS_MAX: usize = 65536;

#[derive(Clone, Debug)]
pub struct CredState {
    /// Supplementary group ids (setgroups).
    pub groups: Vec<u32>,
    /// Capability sets: effective, permitted, inheritable, bounding.
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
    pub bounding: u64,
    pub no_new_privs: bool,
    pub keepcaps: bool,
    pub pdeathsig: u32,
    /// The nice value setpriority set (-20..=19), which getpriority reports.
    pub nice: i32,
}

/// The credentials of one program (a lock around [`CredState`]).
pub struct Creds(Mutex<CredState>);

impl Creds {
    /// root's: no supplementary groups, every capability.
    pub const fn new() -> Self {
        Creds(Mutex::new(CredState {
            groups: Vec::new(),
            effective: CAP_FULL,
            permitted: CAP_FULL,
            inheritable: 0,
            bounding: CAP_FULL,
            no_new_privs: false,
            keepcaps: false,
            pdeathsig: 0,
            nice: 0,
        }))
    }

    pub fn lock(&self) -> spin::MutexGuard<'_, CredState> {
        self.0.lock()
    }
}

impl Default for Creds {
    fn default() -> Self {
        Self::new()
    }
}
