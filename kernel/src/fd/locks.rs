//! Advisory file locks between processes: `flock` (held by an open file description,
//! so a forked child shares its parent's lock through an inherited descriptor and a
//! separate `open` of the file conflicts) and POSIX record locks (`fcntl` F_GETLK,
//! F_SETLK, F_SETLKW; held by a process, dropped when it closes any descriptor of the
//! file or ends). The rules are `rumprun_ipc::FileLocks`'; this module keeps one
//! table per locked file (by device and inode), waits for conflicting locks on a
//! kernel futex queue (a signal interrupts the wait: restarted under SA_RESTART, as
//! Linux does), and refuses with EDEADLK a record-lock wait that would close a cycle
//! of waiting processes.

use crate::errno::*;
use crate::fd::OpenFile;
use crate::mm::user;
use crate::process::Pid;
use crate::sched::{futex, Wake};
use alloc::collections::BTreeMap;
use rumprun_ipc::{FileLocks, TO_EOF};
use spin::Mutex;

/// The kernel futex queue of every lock waiter (woken on any unlock: they look again).
const LOCK_QUEUE: u64 = 5 << 48;

/// The locked files' tables, by (device, inode).
static FILES: Mutex<BTreeMap<(u64, u64), FileLocks>> = Mutex::new(BTreeMap::new());

/// Processes waiting in F_SETLKW, each with the process whose lock it waits for.
static WAITING: Mutex<BTreeMap<Pid, Pid>> = Mutex::new(BTreeMap::new());

/// `OpenFile::locked` bit: the description took a flock lock once (so that its end
/// must look at the tables).
pub const FLOCKED: u8 = 1;

/// The file an open file description is of: (device, inode); a file without one (no
/// `stat`) is its own.
fn key(f: &OpenFile) -> (u64, u64) {
    match f.ops.stat() {
        Ok(s) => (s.dev, s.ino),
        Err(_) => (u64::MAX, f as *const OpenFile as u64),
    }
}

fn ofd_id(f: &OpenFile) -> u64 {
    f as *const OpenFile as u64
}

/// Runs `op` on the file's table (made if missing, dropped when left empty).
fn with_table<R>(key: (u64, u64), op: impl FnOnce(&mut FileLocks) -> R) -> R {
    let mut files = FILES.lock();
    let t = files.entry(key).or_default();
    let r = op(t);
    if t.is_empty() {
        files.remove(&key);
    }
    r
}

/// Sleeps until some lock is released; Err when a signal interrupts.
fn wait() -> Result<(), Errno> {
    match futex::wait_kernel(LOCK_QUEUE, None) {
        Wake::Interrupted => Err(ERESTARTSYS),
        _ => Ok(()),
    }
}

fn released() {
    futex::wake_kernel(LOCK_QUEUE);
}

/// flock(2) on `f`: LOCK_SH, LOCK_EX (each may add LOCK_NB) or LOCK_UN.
pub fn flock(f: &OpenFile, op: u64) -> Result<(), Errno> {
    const LOCK_SH: u64 = 1;
    const LOCK_EX: u64 = 2;
    const LOCK_NB: u64 = 4;
    const LOCK_UN: u64 = 8;
    let nonblock = op & LOCK_NB != 0;
    let key = key(f);
    let ofd = ofd_id(f);
    let exclusive = match op & !LOCK_NB {
        LOCK_UN => {
            if with_table(key, |t| t.funlock(ofd)) {
                released();
            }
            return Ok(());
        }
        LOCK_SH => false,
        LOCK_EX => true,
        _ => return Err(EINVAL),
    };
    f.mark_locked(FLOCKED);
    // Converting is not atomic on Linux either: a held lock of the other kind goes
    // first, so that two holders converting at once do not wait for each other.
    let dropped = with_table(key, |t| {
        t.flock_held(ofd) == Some(!exclusive) && t.flock_conflicts(ofd, exclusive) && {
            t.funlock(ofd)
        }
    });
    if dropped {
        released();
    }
    loop {
        if with_table(key, |t| t.flock(ofd, exclusive)) {
            return Ok(());
        }
        if nonblock {
            return Err(Errno::EWOULDBLOCK);
        }
        wait()?;
    }
}

/// Linux's `struct flock` (x86_64): l_type, l_whence, l_start, l_len, l_pid.
#[derive(Clone, Copy, Default)]
#[repr(C)]
pub struct Flock {
    pub l_type: i16,
    pub l_whence: i16,
    pub pad: u32,
    pub l_start: i64,
    pub l_len: i64,
    pub l_pid: i32,
    pub pad2: u32,
}

// SAFETY: #[repr(C)] integers with the padding spelled out as fields.
unsafe impl user::Pod for Flock {}

const F_RDLCK: i16 = 0;
const F_WRLCK: i16 = 1;
const F_UNLCK: i16 = 2;

/// The byte range `[start, end)` a `struct flock` names for `f`.
fn range(f: &OpenFile, l: &Flock) -> Result<(u64, u64), Errno> {
    const SEEK_SET: i16 = 0;
    const SEEK_CUR: i16 = 1;
    const SEEK_END: i16 = 2;
    let base: i64 = match l.l_whence {
        SEEK_SET => 0,
        SEEK_CUR => f.ops.seek(f, 0, SEEK_CUR as u32)? as i64,
        SEEK_END => f.ops.stat()?.size,
        _ => return Err(EINVAL),
    };
    let start = base.checked_add(l.l_start).ok_or(EOVERFLOW)?;
    let (start, end) = match l.l_len {
        0 => (start, None),
        n if n > 0 => (start, Some(start.checked_add(n).ok_or(EOVERFLOW)?)),
        n => (start.checked_add(n).ok_or(EINVAL)?, Some(start)),
    };
    if start < 0 {
        return Err(EINVAL);
    }
    Ok((start as u64, end.map_or(TO_EOF, |e| e as u64)))
}

/// fcntl(F_GETLK): the first lock of another process that would keep the caller
/// from setting the one described at `arg`, written back over it; else l_type
/// F_UNLCK.
pub fn getlk(f: &OpenFile, arg: u64) -> Result<(), Errno> {
    let mut l: Flock = user::read(arg)?;
    let write = match l.l_type {
        F_RDLCK => false,
        F_WRLCK => true,
        _ => return Err(EINVAL),
    };
    let (start, end) = range(f, &l)?;
    let pid = crate::process::current().pid();
    let key = key(f);
    let found = FILES
        .lock()
        .get(&key)
        .and_then(|t| t.range_conflict(pid, start, end, write));
    match found {
        Some(c) => {
            l.l_type = if c.write { F_WRLCK } else { F_RDLCK };
            l.l_whence = 0;
            l.l_start = c.start as i64;
            l.l_len = if c.end == TO_EOF {
                0
            } else {
                (c.end - c.start) as i64
            };
            l.l_pid = c.pid as i32;
        }
        None => l.l_type = F_UNLCK,
    }
    user::write(arg, l)
}

/// fcntl(F_SETLK, or F_SETLKW with `wait`): sets or clears the caller's record lock
/// described at `arg`. EAGAIN when another process's lock conflicts (F_SETLK);
/// EBADF for a read lock on a descriptor not open for reading (write: for writing);
/// EDEADLK when waiting would close a cycle of waiting processes.
pub fn setlk(f: &OpenFile, arg: u64, wait_for_it: bool) -> Result<(), Errno> {
    let l: Flock = user::read(arg)?;
    let lock = match l.l_type {
        F_RDLCK if !f.readable() => return Err(EBADF),
        F_WRLCK if !f.writable() => return Err(EBADF),
        F_RDLCK => Some(false),
        F_WRLCK => Some(true),
        F_UNLCK => None,
        _ => return Err(EINVAL),
    };
    let (start, end) = range(f, &l)?;
    let pid = crate::process::current().pid();
    let key = key(f);
    loop {
        let blocker = with_table(key, |t| {
            let c = lock.and_then(|w| t.range_conflict(pid, start, end, w));
            if c.is_none() {
                t.set_range(pid, start, end, lock);
            }
            c.map(|c| c.pid)
        });
        let Some(holder) = blocker else {
            if lock != Some(true) {
                released(); // an unlock, or a write lock made a read lock
            }
            return Ok(());
        };
        if !wait_for_it {
            return Err(EAGAIN);
        }
        {
            // The holder waits (through others) for us: neither would ever go on.
            let mut waiting = WAITING.lock();
            let mut h = holder;
            for _ in 0..64 {
                if h == pid {
                    return Err(EDEADLK);
                }
                match waiting.get(&h) {
                    Some(&next) => h = next,
                    None => break,
                }
            }
            waiting.insert(pid, holder);
        }
        let woke = wait();
        WAITING.lock().remove(&pid);
        woke?;
    }
}

/// The process `pid` closed a descriptor of `f`: POSIX drops all its record locks of
/// the file, whichever descriptor set them.
pub fn closed_by(pid: Pid, f: &OpenFile) {
    if FILES.lock().is_empty() {
        return; // no lock anywhere: most closes
    }
    if with_table(key(f), |t| t.release_pid(pid)) {
        released();
    }
}

/// The last descriptor of open file description `f` went: its flock lock goes.
pub fn description_closed(f: &OpenFile) {
    if f.locked() & FLOCKED != 0 && with_table(key(f), |t| t.funlock(ofd_id(f))) {
        released();
    }
}

/// Process `pid` ended: its record locks go, wherever they are.
pub fn process_ended(pid: Pid) {
    let mut any = false;
    FILES.lock().retain(|_, t| {
        any |= t.release_pid(pid);
        !t.is_empty()
    });
    if any {
        released();
    }
}
