//! AF_NETLINK sockets of protocol NETLINK_ROUTE, read-only: a request written to the
//! socket (send/sendto/sendmsg/write) is answered at once from the stack's interfaces
//! (`rumprun_net::netlink`: RTM_GETLINK and RTM_GETADDR dumps, EOPNOTSUPP errors for
//! the rest), and the answer datagrams wait in the socket's queue for recv/recvmsg/
//! read. Enough for glibc's and musl's getifaddrs and if_nameindex. Other netlink
//! protocols fail with EPROTONOSUPPORT and one log line.

use crate::errno::*;
use crate::fd::socket::{self, Cmsg, Socket};
use crate::fd::stat::Stat;
use crate::fd::{FileOps, OpenFile, POLLIN, POLLOUT};
use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;
use core::sync::atomic::{AtomicU32, Ordering};
use rumprun_net::netlink::{self as nl, NETLINK_ROUTE};
use spin::Mutex;

pub const AF_NETLINK: u64 = 16;
const SOCK_RAW: u64 = 3;
const SOCK_DGRAM: u64 = 2;
const S_IFSOCK: u32 = 0o140000;
const EPROTONOSUPPORT: Errno = Errno::EPROTONOSUPPORT;

/// Port ids handed out at bind/first use (Linux uses the process id first).
static NEXT_PID: AtomicU32 = AtomicU32::new(1);

pub struct NetlinkFile {
    /// The socket's port id (nl_pid).
    pid: u32,
    answers: Mutex<VecDeque<Vec<u8>>>,
}

/// socket(AF_NETLINK, type, protocol): the file for a NETLINK_ROUTE socket.
pub fn socket(ty: u64, protocol: u64) -> Result<NetlinkFile, Errno> {
    if !matches!(ty & 0xf, SOCK_RAW | SOCK_DGRAM) {
        return Err(EINVAL);
    }
    if protocol as i32 != NETLINK_ROUTE {
        crate::console::log_once(
            "netlink-proto",
            "rumprun: only NETLINK_ROUTE netlink sockets (interface and address dumps) are supported; returning EPROTONOSUPPORT",
        );
        return Err(EPROTONOSUPPORT);
    }
    Ok(NetlinkFile {
        pid: NEXT_PID.fetch_add(1, Ordering::Relaxed),
        answers: Mutex::new(VecDeque::new()),
    })
}

impl NetlinkFile {
    /// `struct sockaddr_nl` of this socket (`local`) or of the kernel (the peer).
    pub fn sockaddr(&self, local: bool) -> [u8; 12] {
        let mut b = [0u8; 12];
        b[..2].copy_from_slice(&(AF_NETLINK as u16).to_ne_bytes());
        if local {
            b[4..8].copy_from_slice(&self.pid.to_ne_bytes());
        }
        b
    }

    /// Answers the requests in `data` (one datagram); returns its length.
    pub fn send(&self, data: &[u8]) -> usize {
        let ifaces = super::with(|s| s.interfaces());
        let mut q = self.answers.lock();
        for req in nl::parse_requests(data) {
            let (datagrams, served) = nl::answer(&req, self.pid, &ifaces);
            if !served {
                crate::console::log_once(
                    "netlink-req",
                    "rumprun: netlink sockets answer only link and address dumps; other requests get EOPNOTSUPP",
                );
            }
            q.extend(datagrams);
        }
        data.len()
    }

    /// The next answer datagram copied into `buf`: (bytes copied, datagram length).
    /// EAGAIN when none is queued.
    pub fn recv(&self, buf: &mut [u8], peek: bool) -> Result<(usize, usize), Errno> {
        let mut q = self.answers.lock();
        let d = q.front().ok_or(EAGAIN)?;
        let n = d.len().min(buf.len());
        buf[..n].copy_from_slice(&d[..n]);
        let full = d.len();
        if !peek {
            q.pop_front();
        }
        Ok((n, full))
    }
}

impl FileOps for NetlinkFile {
    fn read(&self, _file: &OpenFile, buf: &mut [u8]) -> Result<usize, Errno> {
        self.recv(buf, false).map(|(n, _)| n)
    }
    fn write(&self, _file: &OpenFile, buf: &[u8]) -> Result<usize, Errno> {
        Ok(self.send(buf))
    }
    fn poll(&self) -> u32 {
        if self.answers.lock().is_empty() {
            POLLOUT
        } else {
            POLLIN | POLLOUT
        }
    }
    fn bytes_readable(&self) -> Option<usize> {
        Some(self.answers.lock().front().map_or(0, |d| d.len()))
    }
    fn ioctl(&self, _file: &OpenFile, req: u64, arg: u64) -> Result<u64, Errno> {
        super::ifreq::ioctl(req, arg).unwrap_or(Err(ENOTTY))
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat::special(S_IFSOCK | 0o777, 9000 + self.pid as u64, 0))
    }
    fn describe(&self) -> alloc::string::String {
        alloc::format!("socket:[netlink {}]", self.pid)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_socket(self: Arc<Self>) -> Option<Arc<dyn Socket>> {
        Some(self)
    }
}

/// The socket calls a request-and-answer socket needs; the others give Linux's
/// answers for netlink (no listen, accept or shutdown; no options kept).
impl Socket for NetlinkFile {
    /// The port id is chosen at socket().
    fn bind(&self, _addr: &[u8]) -> Result<(), Errno> {
        Ok(())
    }
    /// The only peer is the kernel.
    fn connect(&self, _file: &OpenFile, _addr: &[u8]) -> Result<(), Errno> {
        Ok(())
    }
    fn send(
        &self,
        data: &[u8],
        _to: Option<&[u8]>,
        _control: &[Cmsg],
        _flags: u32,
    ) -> Result<usize, Errno> {
        Ok(NetlinkFile::send(self, data))
    }
    fn recv(&self, buf: &mut [u8], flags: u32) -> Result<socket::Received, Errno> {
        const MSG_PEEK: u32 = 2;
        let (len, full) = NetlinkFile::recv(self, buf, flags & MSG_PEEK != 0)?;
        Ok(socket::Received::data(
            len,
            full,
            Some(self.sockaddr(false).to_vec()),
        ))
    }
    fn shutdown(&self, _how: i32) -> Result<(), Errno> {
        Err(EOPNOTSUPP)
    }
    fn local_name(&self) -> Result<alloc::vec::Vec<u8>, Errno> {
        Ok(self.sockaddr(true).to_vec())
    }
    fn peer_name(&self) -> Result<alloc::vec::Vec<u8>, Errno> {
        Ok(self.sockaddr(false).to_vec())
    }
    /// Buffer sizes and NETLINK_* flags change nothing here.
    fn setsockopt(&self, _level: i32, _name: i32, _val: &[u8]) -> Result<(), Errno> {
        Ok(())
    }
    fn getsockopt(
        &self,
        _level: i32,
        _name: i32,
        _cap: usize,
    ) -> Result<alloc::vec::Vec<u8>, Errno> {
        Err(ENOPROTOOPT)
    }
}
