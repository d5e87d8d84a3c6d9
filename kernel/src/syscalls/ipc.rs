//! System V IPC syscalls: shmget/shmat/shmdt/shmctl and semget/semop/semtimedop/
//! semctl over `crate::ipc`, with the x86_64 layouts of `struct ipc64_perm`,
//! `shmid64_ds`, `semid64_ds` and `sembuf`.

use crate::errno::*;
use crate::ipc::{sem, shm};
use crate::mm::user;
use alloc::vec::Vec;

const IPC_RMID: u64 = 0;
const IPC_SET: u64 = 1;
const IPC_STAT: u64 = 2;
const IPC_64: u64 = 0x100;
const GETPID: u64 = 11;
const GETVAL: u64 = 12;
const GETALL: u64 = 13;
const GETNCNT: u64 = 14;
const GETZCNT: u64 = 15;
const SETVAL: u64 = 16;
const SETALL: u64 = 17;

fn me() -> u32 {
    crate::process::current().pid()
}

/// struct ipc64_perm (48 bytes): key, uid, gid, cuid, cgid, mode, seq.
fn perm(key: i32, mode: u32, seq: i32) -> [u8; 48] {
    let mut b = [0u8; 48];
    b[0..4].copy_from_slice(&key.to_le_bytes());
    b[20..24].copy_from_slice(&mode.to_le_bytes());
    b[24..26].copy_from_slice(&(seq as u16).to_le_bytes());
    b
}

pub fn shmget(key: u64, size: u64, flags: u64) -> SysResult {
    shm::get(key as i32, size, flags).map(|id| id as u64)
}

pub fn shmat(id: u64, addr: u64, flags: u64) -> SysResult {
    let at = shm::attach(id as i32, addr, flags)?;
    Ok(at)
}

pub fn shmdt(addr: u64) -> SysResult {
    shm::detach(addr).map(|_| 0)
}

pub fn shmctl(id: u64, cmd: u64, buf: u64) -> SysResult {
    let id = id as i32;
    match cmd & !IPC_64 {
        IPC_RMID => shm::remove(id).map(|_| 0),
        IPC_STAT => {
            let mut b = [0u8; 112];
            shm::with_segment(id, |s| {
                b[..48].copy_from_slice(&perm(s.key, s.mode, id));
                b[48..56].copy_from_slice(&s.size.to_le_bytes());
                b[56..64].copy_from_slice(&s.atime.to_le_bytes());
                b[64..72].copy_from_slice(&s.dtime.to_le_bytes());
                b[72..80].copy_from_slice(&s.ctime.to_le_bytes());
                b[80..84].copy_from_slice(&s.creator.to_le_bytes());
                b[84..88].copy_from_slice(&s.last_pid.to_le_bytes());
                b[88..96].copy_from_slice(&s.nattch.to_le_bytes());
            })?;
            user::write(buf, b).map(|_| 0)
        }
        IPC_SET => {
            let b: [u8; 48] = user::read(buf)?;
            let mode = u32::from_le_bytes([b[20], b[21], b[22], b[23]]) & 0o777;
            shm::with_segment(id, |s| s.mode = mode).map(|_| 0)
        }
        _ => Err(EINVAL),
    }
}

pub fn semget(key: u64, nsems: u64, flags: u64) -> SysResult {
    sem::get(key as i32, nsems as i32, flags).map(|id| id as u64)
}

/// semtimedop(id, sops, nsops, timeout); semop is it without a timeout.
pub fn semtimedop(id: u64, sops: u64, nsops: u64, timeout: u64) -> SysResult {
    if nsops == 0 {
        return Err(EINVAL);
    }
    if nsops as usize > sem::MAX_OPS {
        return Err(E2BIG);
    }
    let raw = user::read_bytes(sops, nsops as usize * 6)?;
    let ops: Vec<sem::Op> = raw
        .chunks_exact(6)
        .map(|c| {
            (
                u16::from_le_bytes([c[0], c[1]]),
                i16::from_le_bytes([c[2], c[3]]),
                i16::from_le_bytes([c[4], c[5]]),
            )
        })
        .collect();
    let deadline = if timeout == 0 {
        None
    } else {
        let ts: [i64; 2] = user::read(timeout)?;
        if ts[0] < 0 || !(0..1_000_000_000).contains(&ts[1]) {
            return Err(EINVAL);
        }
        let ns = (ts[0] as u64)
            .saturating_mul(1_000_000_000)
            .saturating_add(ts[1] as u64);
        Some(crate::time::monotonic_ns().saturating_add(ns))
    };
    sem::op(id as i32, &ops, deadline, me()).map(|_| 0)
}

pub fn semctl(id: u64, num: u64, cmd: u64, arg: u64) -> SysResult {
    let id = id as i32;
    let num = num as usize;
    let one = |f: &dyn Fn(&mut sem::Set) -> u64| {
        sem::with_set(id, |s| {
            if num >= s.values.len() {
                return Err(EINVAL);
            }
            Ok(f(s))
        })
    };
    match cmd & !IPC_64 {
        IPC_RMID => sem::remove(id).map(|_| 0),
        GETVAL => one(&|s| s.values[num] as u64),
        GETPID => one(&|s| s.pids[num] as u64),
        GETNCNT | GETZCNT => one(&|_| 0),
        SETVAL => {
            let v = arg as i32;
            if !(0..=32767).contains(&v) {
                return Err(ERANGE);
            }
            one(&|s| {
                s.values[num] = v as u16;
                s.ctime = crate::time::realtime_ns() / 1_000_000_000;
                0
            })
        }
        GETALL => {
            let vals = sem::with_set(id, |s| Ok(s.values.clone()))?;
            let out: Vec<u8> = vals.iter().flat_map(|v| v.to_le_bytes()).collect();
            user::copy_out(arg, &out).map(|_| 0)
        }
        SETALL => {
            let n = sem::with_set(id, |s| Ok(s.values.len()))?;
            let raw = user::read_bytes(arg, n * 2)?;
            sem::with_set(id, |s| {
                for (i, c) in raw.chunks_exact(2).enumerate() {
                    let v = u16::from_le_bytes([c[0], c[1]]);
                    if v > 32767 {
                        return Err(ERANGE);
                    }
                    s.values[i] = v;
                }
                Ok(0)
            })
        }
        IPC_STAT => {
            let mut b = [0u8; 104];
            sem::with_set(id, |s| {
                b[..48].copy_from_slice(&perm(s.key, s.mode, id));
                b[48..56].copy_from_slice(&s.otime.to_le_bytes());
                b[64..72].copy_from_slice(&s.ctime.to_le_bytes());
                b[80..88].copy_from_slice(&(s.values.len() as u64).to_le_bytes());
                Ok(())
            })?;
            user::write(arg, b).map(|_| 0)
        }
        _ => Err(EINVAL),
    }
}
