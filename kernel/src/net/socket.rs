//! An inet socket (AF_INET, AF_INET6) as a file: reads and writes go to the stack's
//! TCP or UDP socket, readiness comes from it, closing the last descriptor closes
//! it, and the socket calls (`fd::socket::Socket`) map onto the stack's. Waiters wake
//! when a card interrupts or the stack's next timer is due (see `net::next_deadline`).

use crate::errno::*;
use crate::fd::socket::{self, Cmsg, Socket};
use crate::fd::stat::Stat;
use crate::fd::{Direction, FileOps, OpenFile};
use crate::sched::Wake;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::any::Any;
use rumprun_net::{Family, Shutdown, SockAddr, SocketId};

pub struct SocketFile {
    pub id: SocketId,
    /// The address family its addresses are read in.
    pub family: Family,
    /// TCP (a byte stream) rather than UDP.
    pub stream: bool,
}

const S_IFSOCK: u32 = 0o140000;

/// How long a blocking call on socket `id` may wait, in ns: its SO_RCVTIMEO or
/// SO_SNDTIMEO; 0 = no limit.
pub fn timeout_ns(id: SocketId, dir: Direction) -> u64 {
    super::with(|s| {
        s.options(id).map(|o| match dir {
            Direction::Receive => o.rcvtimeo_us,
            Direction::Send => o.sndtimeo_us,
        })
    })
    .unwrap_or(0)
    .saturating_mul(1000)
}

/// The `sockaddr_in`/`sockaddr_in6` bytes of `addr`.
fn name_bytes(addr: SockAddr) -> Vec<u8> {
    let (bytes, len) = addr.to_bytes();
    bytes[..len].to_vec()
}

impl SocketFile {
    fn addr(&self, bytes: &[u8]) -> Result<SockAddr, Errno> {
        SockAddr::from_bytes(bytes, self.family)
    }
}

impl FileOps for SocketFile {
    fn read(&self, _file: &OpenFile, buf: &mut [u8]) -> Result<usize, Errno> {
        super::with(|s| s.recv(self.id, buf, 0)).map(|r| r.len)
    }
    fn write(&self, _file: &OpenFile, buf: &[u8]) -> Result<usize, Errno> {
        super::with(|s| s.send(self.id, buf, None))
    }
    fn is_stream(&self) -> bool {
        self.stream
    }
    fn poll(&self) -> u32 {
        super::poll();
        // As the poll (this one, or the socket call's own) left it: every call that
        // changes a socket polls the stack after itself (`net::with`).
        super::peek(|s| s.ready_bits(self.id)).unwrap_or(0)
    }
    fn generation(&self) -> u64 {
        super::peek(|s| s.generation(self.id)).unwrap_or(0)
    }
    fn next_deadline(&self) -> Option<u64> {
        super::next_deadline()
    }
    fn timeout_ns(&self, dir: Direction) -> u64 {
        timeout_ns(self.id, dir)
    }
    fn sleep(&self, deadline: Option<u64>) -> Wake {
        super::wait_bits(rumprun_net::wait_bit(self.id), deadline)
    }
    fn bytes_readable(&self) -> Option<usize> {
        super::with(|s| s.bytes_readable(self.id)).ok()
    }
    fn write_room(&self) -> Option<usize> {
        super::peek(|s| s.send_room(self.id)).flatten()
    }
    fn ready_to_read(&self) -> Option<usize> {
        self.stream
            .then(|| super::peek(|s| s.bytes_readable(self.id).ok()).flatten())
            .flatten()
    }
    fn write_with(
        &self,
        len: usize,
        fill: &mut dyn FnMut(&mut [u8]) -> usize,
    ) -> Option<Result<usize, Errno>> {
        self.stream
            .then(|| super::with(|s| s.send_with(self.id, len, fill)))
    }
    fn ioctl(&self, _file: &OpenFile, req: u64, arg: u64) -> Result<u64, Errno> {
        super::ifreq::ioctl(req, arg).unwrap_or(Err(ENOTTY))
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat::special(S_IFSOCK | 0o777, 5000 + self.id.0 as u64, 0))
    }
    fn release(&self) {
        let _ = super::with(|s| s.close(self.id));
    }
    fn describe(&self) -> alloc::string::String {
        alloc::format!("socket:[{}]", 5000 + self.id.0)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_socket(self: Arc<Self>) -> Option<Arc<dyn Socket>> {
        Some(self)
    }
}

impl Socket for SocketFile {
    fn bind(&self, addr: &[u8]) -> Result<(), Errno> {
        let a = self.addr(addr)?;
        super::with(|s| s.bind(self.id, a))
    }

    fn listen(&self, backlog: i32) -> Result<(), Errno> {
        super::with(|s| s.listen(self.id, backlog))
    }

    fn accept(&self) -> Result<(Arc<dyn FileOps>, Vec<u8>), Errno> {
        let (id, peer) = super::with(|s| s.accept(self.id))?;
        let file = SocketFile {
            id,
            family: self.family,
            stream: true,
        };
        Ok((Arc::new(file), name_bytes(peer)))
    }

    /// A blocking connect waits for the handshake's outcome (a signal restarts it).
    fn connect(&self, file: &OpenFile, addr: &[u8]) -> Result<(), Errno> {
        let a = self.addr(addr)?;
        match super::with(|s| s.connect(self.id, a)) {
            Err(EINPROGRESS) if !file.nonblocking() => {}
            r => return r,
        }
        loop {
            if let Some(r) = super::with(|s| s.connect_result(self.id)) {
                return r;
            }
            if super::wait_bits(rumprun_net::wait_bit(self.id), None) == Wake::Interrupted {
                return Err(ERESTARTSYS);
            }
        }
    }

    fn send(
        &self,
        data: &[u8],
        to: Option<&[u8]>,
        control: &[Cmsg],
        _flags: u32,
    ) -> Result<usize, Errno> {
        let to = to.map(|a| self.addr(a)).transpose()?;
        if control.is_empty() {
            return super::with(|s| s.send(self.id, data, to));
        }
        let control: Vec<_> = control
            .iter()
            .map(|c| (c.level, c.ty, c.data.clone()))
            .collect();
        super::with(|s| s.send_msg(self.id, data, to, &control))
    }

    fn recv(&self, buf: &mut [u8], flags: u32) -> Result<socket::Received, Errno> {
        let (r, control) = super::with(|s| s.recv_msg(self.id, buf, flags))?;
        let mut got = socket::Received::data(r.len, r.full_len, r.from.map(name_bytes));
        got.control = control
            .into_iter()
            .map(|(level, ty, data)| Cmsg { level, ty, data })
            .collect();
        Ok(got)
    }

    fn shutdown(&self, how: i32) -> Result<(), Errno> {
        let h = Shutdown::from_linux(how)?;
        super::with(|s| s.shutdown(self.id, h))
    }

    fn local_name(&self) -> Result<Vec<u8>, Errno> {
        super::with(|s| s.local_addr(self.id)).map(name_bytes)
    }

    fn peer_name(&self) -> Result<Vec<u8>, Errno> {
        super::with(|s| s.peer_addr(self.id)).map(name_bytes)
    }

    fn setsockopt(&self, level: i32, name: i32, val: &[u8]) -> Result<(), Errno> {
        super::with(|s| s.setsockopt(self.id, level, name, val))
    }

    fn getsockopt(&self, level: i32, name: i32, cap: usize) -> Result<Vec<u8>, Errno> {
        let mut out = vec![0u8; cap];
        let n = super::with(|s| s.getsockopt(self.id, level, name, &mut out))?;
        out.truncate(n.min(cap));
        Ok(out)
    }
}
