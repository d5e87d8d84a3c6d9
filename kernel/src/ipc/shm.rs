//! System V shared memory (shmget, shmat, shmdt, shmctl): a segment is a set of
//! zeroed frames made at shmget, holding one reference of each; shmat maps them
//! (each mapping one more reference, `frames::share`) as a MAP_SHARED area, so fork
//! shares them too. Attaches are counted per process and address; a segment marked
//! for removal (IPC_RMID) goes when its last attach does. Segments live in one table
//! for the whole image, as in one IPC namespace.

use crate::arch::paging::PAGE_SIZE;
use crate::errno::*;
use crate::mm::address_space::{self, PROT_READ, PROT_WRITE};
use crate::mm::frames;
use crate::process::Pid;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use spin::Mutex;

pub const IPC_PRIVATE: i32 = 0;
pub const IPC_CREAT: u64 = 0o1000;
pub const IPC_EXCL: u64 = 0o2000;
const SHM_RDONLY: u64 = 0o10000;
const SHM_RND: u64 = 0o20000;
/// Linux's SHMMNI: the most segments at once.
const MAX_SEGMENTS: usize = 4096;

pub struct Segment {
    pub key: i32,
    pub size: u64,
    pub mode: u32,
    pub creator: Pid,
    pub last_pid: Pid,
    pub nattch: u64,
    pub removed: bool,
    pub atime: u64,
    pub dtime: u64,
    pub ctime: u64,
    frames: Vec<u64>,
}

struct Table {
    segments: BTreeMap<i32, Segment>,
    /// (pid, address) of each attach: (segment id, length).
    attaches: BTreeMap<(Pid, u64), (i32, u64)>,
    next_id: i32,
}

static TABLE: Mutex<Table> = Mutex::new(Table {
    segments: BTreeMap::new(),
    attaches: BTreeMap::new(),
    next_id: 0,
});

fn now() -> u64 {
    crate::time::realtime_ns() / 1_000_000_000
}

fn pid() -> Pid {
    crate::process::current().pid()
}

/// shmget: the id of the segment for `key` (a new one for IPC_PRIVATE or with
/// IPC_CREAT when none exists).
pub fn get(key: i32, size: u64, flags: u64) -> Result<i32, Errno> {
    let mut t = TABLE.lock();
    if key != IPC_PRIVATE {
        if let Some((&id, s)) = t.segments.iter().find(|(_, s)| s.key == key && !s.removed) {
            if flags & IPC_CREAT != 0 && flags & IPC_EXCL != 0 {
                return Err(EEXIST);
            }
            if size > s.size {
                return Err(EINVAL);
            }
            return Ok(id);
        }
        if flags & IPC_CREAT == 0 {
            return Err(ENOENT);
        }
    }
    if size == 0 || size > (1 << 40) {
        return Err(EINVAL);
    }
    if t.segments.len() >= MAX_SEGMENTS {
        return Err(ENOSPC);
    }
    let pages = size.div_ceil(PAGE_SIZE) as usize;
    if frames::stats().0 < pages + 256 {
        return Err(ENOMEM);
    }
    let mut fr = Vec::with_capacity(pages);
    for _ in 0..pages {
        match frames::alloc_zeroed() {
            Some(f) => fr.push(f),
            None => {
                fr.into_iter().for_each(frames::free);
                return Err(ENOMEM);
            }
        }
    }
    let id = t.next_id;
    t.next_id = (t.next_id + 1) % 0x7fff_ffff;
    t.segments.insert(
        id,
        Segment {
            key,
            size,
            mode: (flags & 0o777) as u32,
            creator: pid(),
            last_pid: 0,
            nattch: 0,
            removed: false,
            atime: 0,
            dtime: 0,
            ctime: now(),
            frames: fr,
        },
    );
    Ok(id)
}

/// shmat: maps segment `id` at `addr` (0: anywhere) and returns the address.
pub fn attach(id: i32, addr: u64, flags: u64) -> Result<u64, Errno> {
    let mut t = TABLE.lock();
    let seg = t.segments.get_mut(&id).ok_or(EINVAL)?;
    let prot = if flags & SHM_RDONLY != 0 {
        PROT_READ
    } else {
        PROT_READ | PROT_WRITE
    };
    let addr = if flags & SHM_RND != 0 {
        addr & !(0x1000 * 16 - 1) & !(PAGE_SIZE - 1)
    } else {
        addr
    };
    if !addr.is_multiple_of(PAGE_SIZE) {
        return Err(EINVAL);
    }
    let len = seg.frames.len() as u64 * PAGE_SIZE;
    let at = address_space::map_frames(addr, len, prot, &seg.frames).map_err(|e| match e {
        address_space::Error::Invalid => EINVAL,
        _ => ENOMEM,
    })?;
    seg.nattch += 1;
    seg.last_pid = pid();
    seg.atime = now();
    t.attaches.insert((pid(), at), (id, len));
    Ok(at)
}

/// shmdt: unmaps the attach at `addr`.
pub fn detach(addr: u64) -> Result<(), Errno> {
    let me = pid();
    let (id, len) = TABLE.lock().attaches.remove(&(me, addr)).ok_or(EINVAL)?;
    let _ = address_space::unmap(addr, len);
    dropped(id, me);
    Ok(())
}

/// One attach of segment `id` went: the segment goes with its last attach once
/// removed.
fn dropped(id: i32, by: Pid) {
    let mut t = TABLE.lock();
    let Some(seg) = t.segments.get_mut(&id) else {
        return;
    };
    seg.nattch = seg.nattch.saturating_sub(1);
    seg.last_pid = by;
    seg.dtime = now();
    if seg.removed && seg.nattch == 0 {
        if let Some(seg) = t.segments.remove(&id) {
            seg.frames.into_iter().for_each(frames::free);
        }
    }
}

/// fork: the child has the parent's attaches too.
pub fn forked(parent: Pid, child: Pid) {
    let mut t = TABLE.lock();
    let inherited: Vec<(u64, (i32, u64))> = t
        .attaches
        .range((parent, 0)..=(parent, u64::MAX))
        .map(|(&(_, a), &v)| (a, v))
        .collect();
    for (addr, (id, len)) in inherited {
        if let Some(seg) = t.segments.get_mut(&id) {
            seg.nattch += 1;
        }
        t.attaches.insert((child, addr), (id, len));
    }
}

/// exit or execve: the process's attaches go (its memory is freed separately).
pub fn process_released(p: Pid) {
    let gone: Vec<(u64, i32)> = {
        let mut t = TABLE.lock();
        let keys: Vec<(Pid, u64)> = t
            .attaches
            .range((p, 0)..=(p, u64::MAX))
            .map(|(&k, _)| k)
            .collect();
        keys.into_iter()
            .filter_map(|k| t.attaches.remove(&k).map(|(id, _)| (k.1, id)))
            .collect()
    };
    for (_, id) in gone {
        dropped(id, p);
    }
}

/// shmctl IPC_RMID: the segment goes once nobody has it attached.
pub fn remove(id: i32) -> Result<(), Errno> {
    let mut t = TABLE.lock();
    let seg = t.segments.get_mut(&id).ok_or(EINVAL)?;
    seg.removed = true;
    if seg.nattch == 0 {
        if let Some(seg) = t.segments.remove(&id) {
            seg.frames.into_iter().for_each(frames::free);
        }
    }
    Ok(())
}

/// Runs `f` on segment `id` (IPC_STAT, IPC_SET).
pub fn with_segment<R>(id: i32, f: impl FnOnce(&mut Segment) -> R) -> Result<R, Errno> {
    TABLE.lock().segments.get_mut(&id).map(f).ok_or(EINVAL)
}
