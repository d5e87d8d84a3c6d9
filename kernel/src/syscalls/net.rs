//! The BSD socket syscalls over the TCP/IP stack (`crate::net`): socket, bind, listen,
//! accept/accept4, connect, send/recv and their -to/-from/-msg forms, shutdown,
//! getsockname/getpeername, setsockopt/getsockopt, for AF_INET and AF_INET6 (AF_UNIX
//! sockets are `syscalls::unix`). Blocking calls wait on the I/O queue.

use super::transfer;
use crate::errno::*;
use crate::fd::{self, wait, Direction, OpenFile, O_CLOEXEC, O_NONBLOCK, O_RDWR};
use crate::mm::user;
use crate::net::{self, netlink, netlink::NetlinkFile, socket, socket::SocketFile};
use crate::sched::Wake;
use alloc::sync::Arc;
use alloc::vec;
use rumprun_net::errno as nerr;
use rumprun_net::{Family, Shutdown, SockAddr, SockType, SocketId};

const MSG_DONTWAIT: u64 = 0x40;
const MSG_TRUNC: u64 = 0x20;

fn sock(fdn: u64) -> Result<(Arc<OpenFile>, SocketId), Errno> {
    let f = fd::get(fdn)?;
    let id = f
        .ops
        .as_any()
        .downcast_ref::<SocketFile>()
        .map(|s| s.id)
        .ok_or(ENOTSOCK)?;
    Ok((f, id))
}

fn family(id: SocketId) -> Result<Family, Errno> {
    net::with(|s| s.family(id))
}

fn read_addr(id: SocketId, ptr: u64, len: u64) -> Result<SockAddr, Errno> {
    if len > 128 {
        return Err(EINVAL);
    }
    SockAddr::from_bytes(&user::read_bytes(ptr, len as usize)?, family(id)?)
}

/// Writes `addr` to (ptr, *lenp) the way the kernel does: truncated to the buffer,
/// the full length reported.
fn write_addr(addr: SockAddr, ptr: u64, lenp: u64) -> Result<(), Errno> {
    let (bytes, len) = addr.to_bytes();
    write_addr_bytes(&bytes[..len], ptr, lenp)
}

/// Writes a sockaddr's bytes to (ptr, *lenp): truncated to the buffer, the full
/// length reported.
fn write_addr_bytes(bytes: &[u8], ptr: u64, lenp: u64) -> Result<(), Errno> {
    if ptr == 0 || lenp == 0 {
        return Ok(());
    }
    let cap: u32 = user::read(lenp)?;
    let n = (cap as usize).min(bytes.len());
    user::copy_out(ptr, &bytes[..n])?;
    user::write(lenp, bytes.len() as u32)
}

/// Runs `op` until it stops saying EAGAIN, waiting for the stack in between, unless
/// the call is non-blocking; gives EAGAIN when the socket's SO_RCVTIMEO/SO_SNDTIMEO
/// (`dir`) runs out first, as Linux does.
fn blocking<T>(
    id: SocketId,
    nonblock: bool,
    dir: Direction,
    op: impl FnMut() -> Result<T, Errno>,
) -> Result<T, Errno> {
    wait::retry_blocking(nonblock, || socket::timeout_ns(id, dir), net::wait, op)
}

pub fn socket(domain: u64, ty: u64, protocol: u64) -> SysResult {
    if domain == netlink::AF_NETLINK {
        let file = OpenFile::new(
            Arc::new(netlink::socket(ty, protocol)?),
            O_RDWR | (ty as u32 & O_NONBLOCK),
        );
        return fd::install(file, ty as u32 & O_CLOEXEC != 0, 0);
    }
    let fam = Family::from_linux(domain as u16)?;
    let st = SockType::from_linux(ty as i32, protocol as i32)?;
    let id = net::with(|s| s.socket(fam, st))?;
    let file = OpenFile::new(
        Arc::new(SocketFile { id }),
        O_RDWR | (ty as u32 & O_NONBLOCK),
    );
    fd::install(file, ty as u32 & O_CLOEXEC != 0, 0)
}

pub fn bind(fdn: u64, addr: u64, len: u64) -> SysResult {
    if netlink_of(fdn).is_some() {
        return Ok(0); // the port id is chosen at socket()
    }
    let (_, id) = sock(fdn)?;
    let a = read_addr(id, addr, len)?;
    net::with(|s| s.bind(id, a)).map(|_| 0)
}

pub fn listen(fdn: u64, backlog: u64) -> SysResult {
    let (_, id) = sock(fdn)?;
    net::with(|s| s.listen(id, backlog as i32)).map(|_| 0)
}

pub fn accept4(fdn: u64, addr: u64, lenp: u64, flags: u64) -> SysResult {
    if flags & !((O_NONBLOCK | O_CLOEXEC) as u64) != 0 {
        return Err(EINVAL);
    }
    let (f, id) = sock(fdn)?;
    let (new, peer) = blocking(id, f.nonblocking(), Direction::Receive, || {
        net::with(|s| s.accept(id))
    })?;
    let file = OpenFile::new(
        Arc::new(SocketFile { id: new }),
        O_RDWR | (flags as u32 & O_NONBLOCK),
    );
    let nfd = fd::install(file, flags as u32 & O_CLOEXEC != 0, 0)?;
    write_addr(peer, addr, lenp)?;
    Ok(nfd)
}

pub fn connect(fdn: u64, addr: u64, len: u64) -> SysResult {
    let (f, id) = sock(fdn)?;
    let a = read_addr(id, addr, len)?;
    match net::with(|s| s.connect(id, a)) {
        Err(e) if e == nerr::EINPROGRESS && !f.nonblocking() => {}
        r => return r.map(|_| 0),
    }
    loop {
        if let Some(r) = net::with(|s| s.connect_result(id)) {
            return r.map(|_| 0);
        }
        if net::wait(None) == Wake::Interrupted {
            return Err(ERESTARTSYS);
        }
    }
}

pub fn sendto(fdn: u64, buf: u64, len: u64, flags: u64, addr: u64, alen: u64) -> SysResult {
    if let Some(f) = netlink_of(fdn) {
        let nl = as_netlink(&f).expect("checked");
        let data = user::read_bytes(buf, (len as usize).min(transfer::MAX_BOUNCE))?;
        return Ok(nl.send(&data) as u64);
    }
    let (f, id) = sock(fdn)?;
    let to = if addr != 0 {
        Some(read_addr(id, addr, alen)?)
    } else {
        None
    };
    let nonblock = f.nonblocking() || flags & MSG_DONTWAIT != 0;
    let turns = if !nonblock && f.ops.is_stream() {
        transfer::Turns::All
    } else {
        transfer::Turns::One
    };
    transfer::write_through(buf, len as usize, turns, |b, _| send(id, nonblock, b, to))
        .map(|n| n as u64)
}

/// Sends `data`: a blocking send on TCP goes on until all of it is queued, as on
/// Linux (a signal, SO_SNDTIMEO or an error after some bytes: the count so far);
/// UDP sends one datagram whole or not at all.
fn send(id: SocketId, nonblock: bool, data: &[u8], to: Option<SockAddr>) -> Result<usize, Errno> {
    let mut done = 0;
    loop {
        match blocking(id, nonblock, Direction::Send, || {
            net::with(|s| s.send(id, &data[done..], to))
        }) {
            Ok(n) => {
                done += n;
                if n == 0 || done == data.len() || nonblock {
                    return Ok(done);
                }
            }
            Err(_) if done > 0 => return Ok(done),
            Err(e) => return Err(e),
        }
    }
}

pub fn recvfrom(fdn: u64, buf: u64, len: u64, flags: u64, addr: u64, lenp: u64) -> SysResult {
    if let Some(f) = netlink_of(fdn) {
        let nl = as_netlink(&f).expect("checked");
        user::check_writable(buf, len as usize)?;
        let mut out = transfer::Bounce::new(len as usize);
        let (n, full) = netlink_recv(&f, nl, out.buf(), flags)?;
        user::copy_out(buf, out.prefix(n))?;
        write_addr_bytes(&nl.sockaddr(false), addr, lenp)?;
        return Ok(if flags & MSG_TRUNC != 0 { full } else { n } as u64);
    }
    let (f, id) = sock(fdn)?;
    user::check_writable(buf, len as usize)?;
    let mut out = transfer::Bounce::new(len as usize);
    let nonblock = f.nonblocking() || flags & MSG_DONTWAIT != 0;
    let r = blocking(id, nonblock, Direction::Receive, || {
        net::with(|s| s.recv(id, out.buf(), flags as u32))
    })?;
    user::copy_out(buf, out.prefix(r.len))?;
    if let Some(from) = r.from {
        write_addr(from, addr, lenp)?;
    } else if addr != 0 && lenp != 0 {
        user::write(lenp, 0u32)?;
    }
    Ok(if flags & MSG_TRUNC != 0 {
        r.full_len
    } else {
        r.len
    } as u64)
}

/// struct msghdr: name, namelen, iov, iovlen, control, controllen, flags.
fn msghdr(ptr: u64) -> Result<[u64; 7], Errno> {
    let raw: [u64; 7] = user::read(ptr)?;
    Ok(raw)
}

pub fn sendmsg(fdn: u64, msg: u64, flags: u64) -> SysResult {
    let m = msghdr(msg)?;
    let data = super::io::gather(m[2], m[3])?;
    if let Some(f) = netlink_of(fdn) {
        let nl = as_netlink(&f).expect("checked");
        return Ok(nl.send(&data) as u64);
    }
    let (f, id) = sock(fdn)?;
    let to = if m[0] != 0 {
        Some(read_addr(id, m[0], m[1] & 0xffff_ffff)?)
    } else {
        None
    };
    let nonblock = f.nonblocking() || flags & MSG_DONTWAIT != 0;
    send(id, nonblock, &data, to).map(|n| n as u64)
}

pub fn recvmsg(fdn: u64, msg: u64, flags: u64) -> SysResult {
    let m = msghdr(msg)?;
    let iov = super::io::iovecs(m[2], m[3])?;
    for &(base, len) in &iov {
        user::check_writable(base, len as usize)?;
    }
    let total: u64 = iov.iter().map(|v| v.1).sum();
    let mut tmp = vec![0u8; total.min(16 << 20) as usize];
    let (r, from) = if let Some(f) = netlink_of(fdn) {
        let nl = as_netlink(&f).expect("checked");
        let (len, full_len) = netlink_recv(&f, nl, &mut tmp, flags)?;
        let r = rumprun_net::Received {
            len,
            full_len,
            from: None,
        };
        (r, Some(nl.sockaddr(false).to_vec()))
    } else {
        let (f, id) = sock(fdn)?;
        let nonblock = f.nonblocking() || flags & MSG_DONTWAIT != 0;
        let r = blocking(id, nonblock, Direction::Receive, || {
            net::with(|s| s.recv(id, &mut tmp, flags as u32))
        })?;
        let from = r.from.map(|a| {
            let (bytes, len) = a.to_bytes();
            bytes[..len].to_vec()
        });
        (r, from)
    };
    let mut off = 0;
    for (base, len) in iov {
        let n = (len as usize).min(r.len - off);
        user::copy_out(base, &tmp[off..off + n])?;
        off += n;
        if off == r.len {
            break;
        }
    }
    if let (Some(from), true) = (from, m[0] != 0) {
        write_addr_bytes(&from, m[0], msg + 8)?;
    } else {
        user::write(msg + 8, 0u32)?;
    }
    user::write(msg + 40, 0u64)?; // no control messages
    let mflags: i32 = if r.full_len > r.len {
        MSG_TRUNC as i32
    } else {
        0
    };
    user::write(msg + 48, mflags)?;
    Ok(if flags & MSG_TRUNC != 0 {
        r.full_len
    } else {
        r.len
    } as u64)
}

pub fn shutdown(fdn: u64, how: u64) -> SysResult {
    let (_, id) = sock(fdn)?;
    let h = Shutdown::from_linux(how as i32)?;
    net::with(|s| s.shutdown(id, h)).map(|_| 0)
}

pub fn getsockname(fdn: u64, addr: u64, lenp: u64) -> SysResult {
    if let Some(f) = netlink_of(fdn) {
        let nl = as_netlink(&f).expect("checked");
        return write_addr_bytes(&nl.sockaddr(true), addr, lenp).map(|_| 0);
    }
    let (_, id) = sock(fdn)?;
    write_addr(net::with(|s| s.local_addr(id))?, addr, lenp).map(|_| 0)
}

pub fn getpeername(fdn: u64, addr: u64, lenp: u64) -> SysResult {
    if let Some(f) = netlink_of(fdn) {
        let nl = as_netlink(&f).expect("checked");
        return write_addr_bytes(&nl.sockaddr(false), addr, lenp).map(|_| 0);
    }
    let (_, id) = sock(fdn)?;
    write_addr(net::with(|s| s.peer_addr(id))?, addr, lenp).map(|_| 0)
}

pub fn setsockopt(fdn: u64, level: u64, name: u64, val: u64, len: u64) -> SysResult {
    if netlink_of(fdn).is_some() {
        return Ok(0); // buffer sizes and NETLINK_* flags change nothing here
    }
    let (_, id) = sock(fdn)?;
    let v = user::read_bytes(val, (len as usize).min(256))?;
    net::with(|s| s.setsockopt(id, level as i32, name as i32, &v)).map(|_| 0)
}

pub fn getsockopt(fdn: u64, level: u64, name: u64, val: u64, lenp: u64) -> SysResult {
    let (_, id) = sock(fdn)?;
    let cap: u32 = user::read(lenp)?;
    let mut out = vec![0u8; (cap as usize).min(256)];
    let n = net::with(|s| s.getsockopt(id, level as i32, name as i32, &mut out))?;
    let n = n.min(out.len());
    user::copy_out(val, &out[..n])?;
    user::write(lenp, n as u32).map(|_| 0)
}

// ----- netlink sockets (`crate::net::netlink`) -----

/// The open file of `fdn` if it is a netlink socket: they take their own short
/// paths through the calls they support (see [`as_netlink`]).
fn netlink_of(fdn: u64) -> Option<Arc<OpenFile>> {
    fd::get(fdn).ok().filter(|f| as_netlink(f).is_some())
}

fn as_netlink(f: &OpenFile) -> Option<&NetlinkFile> {
    f.ops.as_any().downcast_ref::<NetlinkFile>()
}

/// The next answer of a netlink socket into `buf`: (copied, datagram length).
/// Blocks (as Linux does) when nothing is queued, unless non-blocking.
fn netlink_recv(
    f: &OpenFile,
    nl: &NetlinkFile,
    buf: &mut [u8],
    flags: u64,
) -> Result<(usize, usize), Errno> {
    const MSG_PEEK: u64 = 2;
    loop {
        match nl.recv(buf, flags & MSG_PEEK != 0) {
            Err(EAGAIN) if !(f.nonblocking() || flags & MSG_DONTWAIT != 0) => {
                if wait::wait(None) == Wake::Interrupted {
                    return Err(ERESTARTSYS);
                }
            }
            r => return r,
        }
    }
}
