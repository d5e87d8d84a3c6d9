//! System V semaphore sets (semget, semop/semtimedop, semctl): each set is a vector of
//! 16-bit values; a semop applies all its operations at once or none, and a caller
//! that cannot proceed sleeps on the set's kernel futex queue until a change (or
//! IPC_RMID, EIDRM) lets it try again. SEM_UNDO is accepted but nothing is undone at
//! exit.

use crate::errno::*;
use crate::process::Pid;
use crate::sched::{futex, Wake};
use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use spin::Mutex;

use super::shm::{IPC_CREAT, IPC_EXCL, IPC_PRIVATE};

/// Linux's SEMMSL, SEMOPM, SEMVMX, SEMMNI.
const MAX_NSEMS: usize = 32000;
pub const MAX_OPS: usize = 500;
const MAX_VALUE: i32 = 32767;
const MAX_SETS: usize = 32000;
const IPC_NOWAIT: i16 = 0o4000;
/// Kernel futex queues of the sets' waiters.
const SEM_QUEUE: u64 = 3 << 48;
pub const EIDRM: Errno = Errno::EIDRM;
const EFBIG: Errno = Errno::EFBIG;
const ERANGE_: Errno = Errno::ERANGE;

pub struct Set {
    pub key: i32,
    pub mode: u32,
    pub values: Vec<u16>,
    pub pids: Vec<Pid>,
    pub otime: u64,
    pub ctime: u64,
}

static SETS: Mutex<(BTreeMap<i32, Set>, i32)> = Mutex::new((BTreeMap::new(), 0));

fn now() -> u64 {
    crate::time::realtime_ns() / 1_000_000_000
}

/// semget: the id of the set for `key` (new for IPC_PRIVATE or with IPC_CREAT).
pub fn get(key: i32, nsems: i32, flags: u64) -> Result<i32, Errno> {
    let mut guard = SETS.lock();
    let (sets, next) = &mut *guard;
    if nsems < 0 || nsems as usize > MAX_NSEMS {
        return Err(EINVAL);
    }
    if key != IPC_PRIVATE {
        if let Some((&id, s)) = sets.iter().find(|(_, s)| s.key == key) {
            if flags & IPC_CREAT != 0 && flags & IPC_EXCL != 0 {
                return Err(EEXIST);
            }
            if nsems as usize > s.values.len() {
                return Err(EINVAL);
            }
            return Ok(id);
        }
        if flags & IPC_CREAT == 0 {
            return Err(ENOENT);
        }
    }
    if nsems == 0 {
        return Err(EINVAL);
    }
    if sets.len() >= MAX_SETS {
        return Err(ENOSPC);
    }
    let id = *next;
    *next = (*next + 1) % 0x7fff_ffff;
    sets.insert(
        id,
        Set {
            key,
            mode: (flags & 0o777) as u32,
            values: alloc::vec![0; nsems as usize],
            pids: alloc::vec![0; nsems as usize],
            otime: 0,
            ctime: now(),
        },
    );
    Ok(id)
}

/// One operation of a semop: (sem_num, sem_op, sem_flg).
pub type Op = (u16, i16, i16);

/// semop/semtimedop: applies `ops` to set `id` all at once, waiting (until
/// `deadline`) while one cannot proceed. EAGAIN with IPC_NOWAIT or at the deadline,
/// EINTR on a signal, EIDRM if the set is removed meanwhile.
pub fn op(id: i32, ops: &[Op], deadline: Option<u64>, me: Pid) -> Result<(), Errno> {
    loop {
        {
            let mut guard = SETS.lock();
            let set = guard.0.get_mut(&id).ok_or(EINVAL)?;
            let n = set.values.len();
            if ops.iter().any(|&(num, _, _)| num as usize >= n) {
                return Err(EFBIG);
            }
            // Try them in order on a copy: all or nothing.
            let mut vals = set.values.clone();
            let mut blocked_nowait = None;
            let mut ok = true;
            for &(num, delta, flags) in ops {
                let v = vals[num as usize] as i32;
                let can = match delta {
                    0 => v == 0,
                    d if d < 0 => v + d as i32 >= 0,
                    d => {
                        if v + d as i32 > MAX_VALUE {
                            return Err(ERANGE_);
                        }
                        true
                    }
                };
                if !can {
                    ok = false;
                    blocked_nowait = Some(flags & IPC_NOWAIT != 0);
                    break;
                }
                vals[num as usize] = (v + delta as i32) as u16;
            }
            if ok {
                set.values = vals;
                for &(num, _, _) in ops {
                    set.pids[num as usize] = me;
                }
                set.otime = now();
                drop(guard);
                futex::wake_kernel(SEM_QUEUE | id as u64);
                return Ok(());
            }
            if blocked_nowait == Some(true) {
                return Err(EAGAIN);
            }
        }
        match futex::wait_kernel(SEM_QUEUE | id as u64, deadline) {
            Wake::Interrupted => return Err(EINTR),
            Wake::TimedOut => return Err(EAGAIN),
            Wake::Woken => {}
        }
        if !SETS.lock().0.contains_key(&id) {
            return Err(EIDRM);
        }
    }
}

/// IPC_RMID: the set goes; its waiters get EIDRM.
pub fn remove(id: i32) -> Result<(), Errno> {
    SETS.lock().0.remove(&id).ok_or(EINVAL)?;
    futex::wake_kernel(SEM_QUEUE | id as u64);
    Ok(())
}

/// Runs `f` on set `id` (semctl's queries and settings); wakes waiters after, as a
/// setting may let them go on.
pub fn with_set<R>(id: i32, f: impl FnOnce(&mut Set) -> Result<R, Errno>) -> Result<R, Errno> {
    let r = {
        let mut guard = SETS.lock();
        let set = guard.0.get_mut(&id).ok_or(EINVAL)?;
        f(set)?
    };
    futex::wake_kernel(SEM_QUEUE | id as u64);
    Ok(r)
}
