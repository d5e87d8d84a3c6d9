//! sendmmsg and recvmmsg: several sendmsg/recvmsg calls in one, over whichever socket
//! kind the descriptor is (the single-message call is passed in), with Linux's rules
//! for counts: an error after the first message ends the call with the count so far.

use super::time::timespec_timeout;
use crate::errno::*;
use crate::mm::user;

/// sizeof(struct mmsghdr): a struct msghdr (56 bytes), then `unsigned msg_len`, padded.
const MMSGHDR_SIZE: u64 = 64;
const MSG_LEN_OFFSET: u64 = 56;
/// Linux's UIO_MAXIOV cap on vlen.
const UIO_MAXIOV: u64 = 1024;
const MSG_DONTWAIT: u64 = 0x40;
const MSG_WAITFORONE: u64 = 0x1_0000;

/// sendmmsg(fd, msgvec, vlen, flags) with `sendmsg(fd, msghdr, flags)`.
pub fn sendmmsg(
    fd: u64,
    vec: u64,
    vlen: u64,
    flags: u64,
    sendmsg: impl Fn(u64, u64, u64) -> SysResult,
) -> SysResult {
    let mut sent = 0;
    while sent < vlen.min(UIO_MAXIOV) {
        let m = vec + sent * MMSGHDR_SIZE;
        match sendmsg(fd, m, flags) {
            Ok(n) => user::write(m + MSG_LEN_OFFSET, n as u32)?,
            Err(e) if sent == 0 => return Err(e),
            Err(_) => break,
        }
        sent += 1;
    }
    Ok(sent)
}

/// recvmmsg(fd, msgvec, vlen, flags, timeout) with `recvmsg(fd, msghdr, flags)`.
/// MSG_WAITFORONE: only the first receive may wait. A timeout bounds the whole call
/// (Linux checks it only between datagrams, so it could wait forever for the next).
pub fn recvmmsg(
    fd: u64,
    vec: u64,
    vlen: u64,
    flags: u64,
    timeout: u64,
    recvmsg: impl Fn(u64, u64, u64) -> SysResult,
) -> SysResult {
    let now = crate::time::monotonic_ns();
    let deadline = timespec_timeout(timeout)?.map(|ns| now.saturating_add(ns));
    let base = flags & !MSG_WAITFORONE;
    let mut got = 0;
    while got < vlen.min(UIO_MAXIOV) {
        let m = vec + got * MMSGHDR_SIZE;
        let expired = deadline.is_some_and(|d| crate::time::monotonic_ns() >= d);
        let f = if got > 0 && (flags & MSG_WAITFORONE != 0 || expired) {
            base | MSG_DONTWAIT
        } else {
            base
        };
        let r = if got > 0 && deadline.is_some() && f & MSG_DONTWAIT == 0 {
            wait_then(fd, deadline, || recvmsg(fd, m, f | MSG_DONTWAIT))
        } else {
            recvmsg(fd, m, f)
        };
        match r {
            Ok(n) => user::write(m + MSG_LEN_OFFSET, n as u32)?,
            Err(e) if got == 0 => return Err(e),
            Err(_) => break,
        }
        got += 1;
    }
    Ok(got)
}

/// Retries the non-blocking `op` while it says EAGAIN, waiting for file activity,
/// until `deadline` passes (then EAGAIN).
fn wait_then(fd: u64, deadline: Option<u64>, mut op: impl FnMut() -> SysResult) -> SysResult {
    let file = crate::fd::get(fd)?;
    crate::fd::wait::retry_blocking(
        false,
        || 0,
        |_| file.ops.sleep(deadline),
        || match op() {
            Err(EAGAIN) if deadline.is_some_and(|d| crate::time::monotonic_ns() >= d) => {
                Err(ETIMEDOUT)
            }
            r => r,
        },
    )
    .map_err(|e| if e == ETIMEDOUT { EAGAIN } else { e })
}
