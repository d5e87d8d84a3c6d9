//! Identity syscalls over `process::creds`: getgroups/setgroups (the supplementary
//! groups root may set), capget/capset (root's full capability sets, narrowed only as
//! Linux allows), and the capability-related prctl options.

use crate::errno::*;
use crate::mm::user;
use crate::process::creds::{CAP_FULL, CAP_LAST_CAP, NGROUPS_MAX};

fn creds() -> &'static crate::process::creds::Creds {
    &crate::process::current().creds
}

/// getgroups(size, list): the count with size 0, EINVAL when size is too small.
pub fn getgroups(size: u64, list: u64) -> SysResult {
    let size = size as i32;
    if size < 0 {
        return Err(EINVAL);
    }
    let groups = creds().lock().groups.clone();
    if size == 0 {
        return Ok(groups.len() as u64);
    }
    if (size as usize) < groups.len() {
        return Err(EINVAL);
    }
    for (i, g) in groups.iter().enumerate() {
        user::write(list + 4 * i as u64, *g)?;
    }
    Ok(groups.len() as u64)
}

/// setgroups(size, list): root may set any list of up to NGROUPS_MAX groups.
pub fn setgroups(size: u64, list: u64) -> SysResult {
    let size = size as i32;
    if size < 0 || size as usize > NGROUPS_MAX {
        return Err(EINVAL);
    }
    let mut groups = alloc::vec::Vec::with_capacity(size as usize);
    for i in 0..size as u64 {
        groups.push(user::read::<u32>(list + 4 * i)?);
    }
    groups.sort_unstable(); // Linux keeps them sorted
    creds().lock().groups = groups;
    Ok(0)
}

const CAP_V1: u32 = 0x1998_0330;
const CAP_V2: u32 = 0x2007_1026;
const CAP_V3: u32 = 0x2008_0522;

/// Checks a capability header's version: the number of 32-bit words per set, or
/// EINVAL after writing the preferred version back (as Linux does, to tell callers).
fn cap_words(hdr: u64) -> Result<usize, Errno> {
    match user::read::<u32>(hdr)? {
        CAP_V1 => Ok(1),
        CAP_V2 | CAP_V3 => Ok(2),
        _ => {
            user::write(hdr, CAP_V3)?;
            Err(EINVAL)
        }
    }
}

/// The pid of a capability header: 0 or our own; another program's is ESRCH here
/// (its sets would be root's as well, but we do not look them up).
fn cap_pid_ok(hdr: u64) -> Result<bool, Errno> {
    let pid: i32 = user::read(hdr + 4)?;
    if pid < 0 {
        return Err(EINVAL);
    }
    Ok(pid == 0 || pid as u64 == super::process::pid())
}

/// capget(hdr, data): effective, permitted, inheritable (root: all, all, none).
pub fn capget(hdr: u64, data: u64) -> SysResult {
    let words = match cap_words(hdr) {
        Ok(w) => w,
        Err(EINVAL) if data == 0 => return Ok(0),
        Err(e) => return Err(e),
    };
    if data == 0 {
        return Ok(0);
    }
    if !cap_pid_ok(hdr)? {
        return Err(ESRCH);
    }
    let c = creds().lock().clone();
    for w in 0..words {
        let part = |set: u64| (set >> (32 * w)) as u32;
        let d = [part(c.effective), part(c.permitted), part(c.inheritable)];
        user::write(data + 12 * w as u64, d)?;
    }
    Ok(0)
}

/// capset(hdr, data): new sets for the caller, within Linux's rules: permitted may
/// only shrink, effective must lie in permitted, inheritable in the old inheritable
/// and the bounding set.
pub fn capset(hdr: u64, data: u64) -> SysResult {
    let words = cap_words(hdr)?;
    if !cap_pid_ok(hdr)? {
        return Err(EPERM);
    }
    let (mut eff, mut perm, mut inh) = (0u64, 0u64, 0u64);
    for w in 0..words {
        let d: [u32; 3] = user::read(data + 12 * w as u64)?;
        eff |= (d[0] as u64) << (32 * w);
        perm |= (d[1] as u64) << (32 * w);
        inh |= (d[2] as u64) << (32 * w);
    }
    let (eff, perm, inh) = (eff & CAP_FULL, perm & CAP_FULL, inh & CAP_FULL);
    let mut c = creds().lock();
    let may_inherit = c.inheritable | (c.bounding & c.permitted);
    if perm & !c.permitted != 0 || eff & !perm != 0 || inh & !may_inherit != 0 {
        return Err(EPERM);
    }
    c.effective = eff;
    c.permitted = perm;
    c.inheritable = inh;
    Ok(0)
}

/// The prctl options about credentials; None for options that are not.
pub fn prctl(option: u64, a: [u64; 4]) -> Option<SysResult> {
    const PR_SET_PDEATHSIG: u64 = 1;
    const PR_GET_PDEATHSIG: u64 = 2;
    const PR_GET_KEEPCAPS: u64 = 7;
    const PR_SET_KEEPCAPS: u64 = 8;
    const PR_CAPBSET_READ: u64 = 23;
    const PR_CAPBSET_DROP: u64 = 24;
    const PR_SET_NO_NEW_PRIVS: u64 = 38;
    const PR_GET_NO_NEW_PRIVS: u64 = 39;
    let c = creds();
    Some(match option {
        PR_SET_PDEATHSIG if a[0] <= 64 => {
            c.lock().pdeathsig = a[0] as u32;
            Ok(0)
        }
        PR_SET_PDEATHSIG => Err(EINVAL),
        PR_GET_PDEATHSIG => user::write(a[0], c.lock().pdeathsig as i32).map(|_| 0),
        PR_GET_KEEPCAPS => Ok(c.lock().keepcaps as u64),
        PR_SET_KEEPCAPS if a[0] <= 1 => {
            c.lock().keepcaps = a[0] == 1;
            Ok(0)
        }
        PR_SET_KEEPCAPS => Err(EINVAL),
        PR_CAPBSET_READ if a[0] <= CAP_LAST_CAP as u64 => Ok((c.lock().bounding >> a[0]) & 1),
        PR_CAPBSET_DROP if a[0] <= CAP_LAST_CAP as u64 => {
            c.lock().bounding &= !(1 << a[0]);
            Ok(0)
        }
        PR_CAPBSET_READ | PR_CAPBSET_DROP => Err(EINVAL),
        PR_SET_NO_NEW_PRIVS if a == [1, 0, 0, 0] => {
            c.lock().no_new_privs = true;
            Ok(0)
        }
        PR_GET_NO_NEW_PRIVS if a == [0; 4] => Ok(c.lock().no_new_privs as u64),
        PR_SET_NO_NEW_PRIVS | PR_GET_NO_NEW_PRIVS => Err(EINVAL),
        _ => return None,
    })
}
