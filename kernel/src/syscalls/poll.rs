//! Waiting for many descriptors: poll/ppoll, select/pselect6 and epoll. All of them
//! ask each file for its readiness, and sleep on the I/O wait queue (until a file
//! changes, a timerfd expires, their timeout passes, or it is time to re-check
//! polled console input).

use crate::errno::*;
use crate::fd::{
    self, epoll::Epoll, wait, OpenFile, O_CLOEXEC, O_RDWR, POLLERR, POLLHUP, POLLIN, POLLNVAL,
    POLLOUT, POLLPRI,
};
use crate::mm::user;
use crate::sched::Wake;
use alloc::sync::Arc;
use alloc::vec::Vec;

/// When a waiter over `files` must wake up by itself at the latest.
fn wake_hint(files: &[Arc<OpenFile>], deadline: Option<u64>) -> Option<u64> {
    let mut d = deadline;
    for f in files {
        d = wait::earliest(d, f.ops.next_deadline());
        if f.ops.needs_polling() {
            d = wait::earliest(
                d,
                Some(crate::time::monotonic_ns() + wait::POLL_INTERVAL_NS),
            );
        }
    }
    d
}

fn expired(deadline: Option<u64>) -> bool {
    deadline.is_some_and(|d| crate::time::monotonic_ns() >= d)
}

pub fn poll(fds: u64, nfds: u64, timeout_ns: Option<u64>) -> SysResult {
    if nfds > fd::MAX_FDS as u64 {
        return Err(EINVAL);
    }
    let deadline = timeout_ns.map(|t| crate::time::monotonic_ns().saturating_add(t));
    loop {
        let mut ready = 0;
        let mut files = Vec::new();
        for i in 0..nfds {
            let at = fds + i * 8;
            let (fdn, events): (i32, i16) = (user::read(at)?, user::read(at + 4)?);
            let revents = if fdn < 0 {
                0
            } else {
                match fd::get(fdn as u64) {
                    Err(_) => POLLNVAL,
                    Ok(f) => {
                        let r = f.ops.poll() & (events as u16 as u32 | POLLERR | POLLHUP);
                        files.push(f);
                        r
                    }
                }
            };
            user::write(at + 6, revents as i16)?;
            if revents != 0 {
                ready += 1;
            }
        }
        if ready > 0 || expired(deadline) || timeout_ns == Some(0) {
            return Ok(ready);
        }
        let network = files.iter().any(|f| f.ops.network_driven());
        if wait::wait_for(network, wake_hint(&files, deadline)) == Wake::Interrupted {
            return Err(ERESTARTNOHAND); // EINTR; poll is never restarted
        }
    }
}

/// pselect6: select with a timespec timeout and, through its sixth argument (a
/// `{ sigset pointer, size }` pair, may be NULL), a signal mask to wait with.
pub fn pselect6(nfds: u64, rfds: u64, wfds: u64, efds: u64, ts: u64, sig: u64) -> SysResult {
    let (mask, size): (u64, u64) = if sig == 0 {
        (0, 0)
    } else {
        (user::read(sig)?, user::read(sig + 8)?)
    };
    super::signal::with_wait_mask(mask, size, || {
        select(nfds, rfds, wfds, efds, super::time::timespec_timeout(ts)?)
    })
}

/// select/pselect6 over fd_set bitmaps (read, write, except), rewritten in place.
pub fn select(nfds: u64, rfds: u64, wfds: u64, efds: u64, timeout_ns: Option<u64>) -> SysResult {
    if nfds > fd::MAX_FDS as u64 {
        return Err(EINVAL);
    }
    let words = (nfds as usize).div_ceil(64);
    let load = |p: u64| -> Result<Vec<u64>, Errno> {
        if p == 0 {
            return Ok(alloc::vec![0; words]);
        }
        (0..words)
            .map(|i| user::read::<u64>(p + i as u64 * 8))
            .collect()
    };
    let (rin, win, ein) = (load(rfds)?, load(wfds)?, load(efds)?);
    let mut files = Vec::new();
    for n in 0..nfds as usize {
        let bit = 1u64 << (n % 64);
        if (rin[n / 64] | win[n / 64] | ein[n / 64]) & bit != 0 {
            files.push((n, fd::get(n as u64).map_err(|_| EBADF)?));
        }
    }
    let deadline = timeout_ns.map(|t| crate::time::monotonic_ns().saturating_add(t));
    loop {
        let (mut rout, mut wout, mut eout) = (
            alloc::vec![0u64; words],
            alloc::vec![0u64; words],
            alloc::vec![0u64; words],
        );
        let mut count = 0;
        for (n, f) in &files {
            let ev = f.ops.poll();
            let bit = 1u64 << (n % 64);
            if rin[n / 64] & bit != 0 && ev & (POLLIN | POLLHUP | POLLERR) != 0 {
                rout[n / 64] |= bit;
                count += 1;
            }
            if win[n / 64] & bit != 0 && ev & (POLLOUT | POLLERR) != 0 {
                wout[n / 64] |= bit;
                count += 1;
            }
            if ein[n / 64] & bit != 0 && ev & POLLPRI != 0 {
                eout[n / 64] |= bit;
                count += 1;
            }
        }
        if count > 0 || expired(deadline) || timeout_ns == Some(0) {
            for (p, v) in [(rfds, rout), (wfds, wout), (efds, eout)] {
                if p != 0 {
                    for (i, w) in v.iter().enumerate() {
                        user::write(p + i as u64 * 8, *w)?;
                    }
                }
            }
            return Ok(count);
        }
        let just_files: Vec<Arc<OpenFile>> = files.iter().map(|(_, f)| f.clone()).collect();
        let network = just_files.iter().any(|f| f.ops.network_driven());
        if wait::wait_for(network, wake_hint(&just_files, deadline)) == Wake::Interrupted {
            return Err(ERESTARTNOHAND);
        }
    }
}

pub fn epoll_create1(flags: u64) -> SysResult {
    if flags & !(O_CLOEXEC as u64) != 0 {
        return Err(EINVAL);
    }
    fd::install(
        OpenFile::new(Arc::new(Epoll::default()), O_RDWR),
        flags != 0,
        0,
    )
}

fn epoll_of(epfd: u64) -> Result<Arc<OpenFile>, Errno> {
    let f = fd::get(epfd)?;
    if f.ops.as_any().downcast_ref::<Epoll>().is_none() {
        return Err(EINVAL);
    }
    Ok(f)
}

pub fn epoll_ctl(epfd: u64, op: u64, fdn: u64, event: u64) -> SysResult {
    const ADD: u64 = 1;
    const DEL: u64 = 2;
    const MOD: u64 = 3;
    let ep = epoll_of(epfd)?;
    let target = fd::get(fdn)?;
    if epfd == fdn {
        return Err(EINVAL);
    }
    // Regular files, directories, /dev/null, /dev/zero and /dev/full cannot be polled
    // (EPERM, as Linux says for files without a poll operation; /dev/random can).
    use crate::fd::devices::Device;
    let any = target.ops.as_any();
    if any.is::<crate::fd::vfs_file::VfsFile>()
        || any
            .downcast_ref::<Device>()
            .is_some_and(|d| *d != Device::Random)
    {
        return Err(EPERM);
    }
    let e = ep.ops.as_any().downcast_ref::<Epoll>().unwrap();
    let (events, data) = if op == DEL {
        (0, 0)
    } else {
        let raw: [u8; 12] = user::read(event)?; // packed struct epoll_event
        (
            u32::from_ne_bytes(raw[..4].try_into().unwrap()),
            u64::from_ne_bytes(raw[4..].try_into().unwrap()),
        )
    };
    match op {
        ADD => e.add(fdn, &target, events, data),
        MOD => e.modify(fdn, &target, events, data),
        DEL => e.delete(fdn, &target),
        _ => return Err(EINVAL),
    }?;
    wait::notify();
    Ok(0)
}

pub fn epoll_wait(epfd: u64, events: u64, max: u64, timeout_ns: Option<u64>) -> SysResult {
    // Linux's EP_MAX_EVENTS; the kernel holds only the ready events, however many
    // the buffer has room for.
    const EP_MAX_EVENTS: u64 = i32::MAX as u64 / 12;
    if max == 0 || max > EP_MAX_EVENTS {
        return Err(EINVAL);
    }
    let ep = epoll_of(epfd)?;
    let e = ep.ops.as_any().downcast_ref::<Epoll>().unwrap();
    user::check_writable(events, max as usize * 12)?;
    let deadline = timeout_ns.map(|t| crate::time::monotonic_ns().saturating_add(t));
    let mut ready = e.take_buffer();
    loop {
        let hints = e.collect(max as usize, &mut ready);
        if !ready.is_empty() || expired(deadline) || timeout_ns == Some(0) {
            for (i, (ev, data)) in ready.iter().enumerate() {
                let mut raw = [0u8; 12];
                raw[..4].copy_from_slice(&ev.to_ne_bytes());
                raw[4..].copy_from_slice(&data.to_ne_bytes());
                user::write(events + i as u64 * 12, raw)?;
            }
            let n = ready.len() as u64;
            e.put_buffer(ready);
            return Ok(n);
        }
        let mut d = wait::earliest(deadline, hints.deadline);
        if hints.polling {
            d = wait::earliest(
                d,
                Some(crate::time::monotonic_ns() + wait::POLL_INTERVAL_NS),
            );
        }
        if wait::wait_for(hints.network, d) == Wake::Interrupted {
            return Err(ERESTARTNOHAND); // epoll_wait gives EINTR, never restarted
        }
    }
}
