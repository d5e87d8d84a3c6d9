//! The socket interface of an open file: what every kind of socket does for the
//! socket syscalls (bind, listen, accept, connect, send/recv with addresses and
//! control messages, shutdown, names, options), reached through
//! [`FileOps::as_socket`]. Kinds: inet over the TCP/IP stack (`net::socket`), AF_UNIX
//! (`fd::unix`), netlink (`net::netlink`).
//!
//! Addresses, option values and control messages cross this interface as kernel
//! bytes: the syscall layer (`syscalls::net`) reads and writes program memory (the
//! `msghdr`, its iovecs and its control buffer) once for every kind. As everywhere in
//! `fd`, the calls never block: they say EAGAIN and the syscall layer waits with
//! [`blocking`] — except `connect`, whose wait differs by kind (a TCP handshake, a
//! listener's full backlog) and which therefore waits itself.

use super::{wait, Direction, FileOps, OpenFile};
use crate::errno::*;
use alloc::sync::Arc;
use alloc::vec::Vec;

/// One control message (`struct cmsghdr` and its data), as sendmsg gives it and
/// recvmsg hands it back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cmsg {
    pub level: i32,
    pub ty: i32,
    pub data: Vec<u8>,
}

/// Files passed with SCM_RIGHTS.
pub type Files = Vec<Arc<OpenFile>>;

/// What one receive got.
pub struct Received {
    /// Bytes copied into the buffer.
    pub len: usize,
    /// The whole message's length (larger than `len` for a truncated datagram; equals
    /// `len` for streams).
    pub full_len: usize,
    /// The sender's `sockaddr` bytes; None when the kind reports none (TCP).
    pub from: Option<Vec<u8>>,
    /// Control messages to hand back (ancillary data), in order.
    pub control: Vec<Cmsg>,
    /// Files that arrived with the data (SCM_RIGHTS); recvmsg installs them after
    /// `control`, anything else drops (closes) them.
    pub files: Option<Files>,
}

impl Received {
    /// A receive of `len` bytes out of `full_len` from `from`, with nothing attached.
    pub fn data(len: usize, full_len: usize, from: Option<Vec<u8>>) -> Received {
        Received {
            len,
            full_len,
            from,
            control: Vec::new(),
            files: None,
        }
    }
}

/// The socket calls. Defaults give Linux's answer for a kind that lacks the call.
pub trait Socket: Send + Sync {
    /// bind(2) to the `sockaddr` bytes `addr`.
    fn bind(&self, addr: &[u8]) -> Result<(), Errno>;
    fn listen(&self, _backlog: i32) -> Result<(), Errno> {
        Err(EOPNOTSUPP)
    }
    /// The next connection (a new socket file) and its peer's address; EAGAIN when
    /// none waits.
    fn accept(&self) -> Result<(Arc<dyn FileOps>, Vec<u8>), Errno> {
        Err(EOPNOTSUPP)
    }
    /// connect(2); waits (unless `file` is non-blocking) for the outcome.
    fn connect(&self, file: &OpenFile, addr: &[u8]) -> Result<(), Errno>;
    /// Queues `data` (to `to` when given) with `control`; the number of bytes taken.
    /// A datagram goes whole or not at all; EAGAIN when there is no room now.
    fn send(
        &self,
        data: &[u8],
        to: Option<&[u8]>,
        control: &[Cmsg],
        flags: u32,
    ) -> Result<usize, Errno>;
    /// Takes (or with MSG_PEEK copies) what arrived into `buf`; EAGAIN when nothing has.
    fn recv(&self, buf: &mut [u8], flags: u32) -> Result<Received, Errno>;
    /// shutdown(2) with Linux's `how`.
    fn shutdown(&self, how: i32) -> Result<(), Errno>;
    /// getsockname's `sockaddr` bytes.
    fn local_name(&self) -> Result<Vec<u8>, Errno>;
    /// getpeername's `sockaddr` bytes.
    fn peer_name(&self) -> Result<Vec<u8>, Errno>;
    fn setsockopt(&self, level: i32, name: i32, val: &[u8]) -> Result<(), Errno>;
    /// The option's value, at most `cap` bytes of it (the caller truncates).
    fn getsockopt(&self, level: i32, name: i32, cap: usize) -> Result<Vec<u8>, Errno>;
}

/// Runs `op` until it stops saying EAGAIN, sleeping on `file` (`FileOps::sleep`) in
/// between, unless `nonblock`; EAGAIN when the socket's timeout for `dir`
/// (SO_RCVTIMEO/SO_SNDTIMEO) runs out first, as on Linux.
pub fn blocking<T>(
    file: &OpenFile,
    nonblock: bool,
    dir: Direction,
    op: impl FnMut() -> Result<T, Errno>,
) -> Result<T, Errno> {
    wait::retry_blocking(
        nonblock,
        || file.ops.timeout_ns(dir),
        |deadline| file.ops.sleep(deadline),
        op,
    )
}
