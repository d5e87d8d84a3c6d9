//! The socket syscalls on AF_UNIX sockets (`fd::unix`): socket, socketpair, bind,
//! listen, accept/accept4, connect, the send/recv family with MSG_PEEK, MSG_DONTWAIT,
//! MSG_WAITALL, MSG_TRUNC, SCM_RIGHTS and SCM_CREDENTIALS control messages, shutdown, getsockname/
//! getpeername, and the SOL_SOCKET options. The dispatcher sends a descriptor here when
//! it is an AF_UNIX socket (`owns`), else to `net`. Blocking calls wait on the I/O
//! queue, bounded by SO_RCVTIMEO/SO_SNDTIMEO.

use super::io::{gather, iovecs, scatter};
use super::transfer;
use crate::errno::*;
use crate::fd::unix::addr::{UnixAddr, SOCKADDR_UN_LEN};
use crate::fd::unix::{Kind, Received, Rights, UnixSocket};
use crate::fd::{self, wait, OpenFile, O_CLOEXEC, O_NONBLOCK, O_RDWR};
use crate::mm::user;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::any::Any;
use rumprun_net::errno::{EAFNOSUPPORT, ENOPROTOOPT, EOPNOTSUPP};

pub const AF_UNIX: u64 = 1;
const AF_UNSPEC: u16 = 0;

const MSG_PEEK: u64 = 0x2;
const MSG_CTRUNC: i32 = 0x8;
const MSG_TRUNC: u64 = 0x20;
const MSG_DONTWAIT: u64 = 0x40;
const MSG_WAITALL: u64 = 0x100;
const MSG_CMSG_CLOEXEC: u64 = 0x4000_0000;

const SOL_SOCKET: u64 = 1;
const SCM_RIGHTS: i32 = 1;
const SCM_CREDENTIALS: i32 = 2;
/// SCM_MAX_FD: the most files one message carries.
const SCM_MAX_FD: usize = 253;
/// sizeof(struct cmsghdr).
const CMSG_HDR: usize = 16;

/// The AF_UNIX socket behind descriptor `fdn`, if it is one.
fn unix_socket(fdn: u64) -> Option<(Arc<OpenFile>, Arc<UnixSocket>)> {
    let f = fd::get(fdn).ok()?;
    let any: Arc<dyn Any + Send + Sync> = f.ops.clone();
    let s = any.downcast::<UnixSocket>().ok()?;
    Some((f, s))
}

/// Whether descriptor `fdn` is an AF_UNIX socket (the dispatcher's routing test).
pub fn owns(fdn: u64) -> bool {
    unix_socket(fdn).is_some()
}

/// The open file and socket of descriptor `fdn` (EBADF, ENOTSOCK).
fn sock(fdn: u64) -> Result<(Arc<OpenFile>, Arc<UnixSocket>), Errno> {
    unix_socket(fdn).ok_or_else(|| match fd::get(fdn) {
        Ok(_) => ENOTSOCK,
        Err(e) => e,
    })
}

/// Runs `op` until it stops saying EAGAIN, waiting on the I/O queue in between,
/// unless `nonblock`; `timeout_ns` (SO_RCVTIMEO/SNDTIMEO, 0 = none) bounds the wait.
fn blocking<T>(
    nonblock: bool,
    timeout_ns: u64,
    op: impl FnMut() -> Result<T, Errno>,
) -> Result<T, Errno> {
    wait::retry_blocking(nonblock, || timeout_ns, wait::wait, op)
}

fn read_addr(ptr: u64, len: u64) -> Result<UnixAddr, Errno> {
    if len as usize > SOCKADDR_UN_LEN {
        return Err(EINVAL);
    }
    UnixAddr::parse(&user::read_bytes(ptr, len as usize)?)
}

/// Writes an address to (ptr, *lenp) as the kernel does: truncated to the buffer,
/// the full length reported.
fn write_addr(bytes: &[u8], ptr: u64, lenp: u64) -> Result<(), Errno> {
    if lenp == 0 {
        return if ptr == 0 { Ok(()) } else { Err(EFAULT) };
    }
    let cap: u32 = user::read(lenp)?;
    if (cap as i32) < 0 {
        return Err(EINVAL);
    }
    let n = (cap as usize).min(bytes.len());
    if ptr != 0 {
        user::copy_out(ptr, &bytes[..n])?;
    }
    user::write(lenp, bytes.len() as u32)
}

/// The sender's address as recvfrom/recvmsg report it: nothing for an unnamed one.
fn sender_bytes(from: Option<UnixAddr>) -> Vec<u8> {
    match from {
        None | Some(UnixAddr::Unnamed) => Vec::new(),
        Some(a) => a.to_bytes(),
    }
}

/// The open file of a new socket, with SOCK_NONBLOCK from `flags`. Dropping it
/// before it is installed closes the socket.
fn socket_file(sock: Arc<UnixSocket>, flags: u32) -> Arc<OpenFile> {
    OpenFile::new(sock, O_RDWR | (flags & O_NONBLOCK))
}

fn install(file: Arc<OpenFile>, flags: u32) -> Result<u64, Errno> {
    fd::install(file, flags & O_CLOEXEC != 0, 0)
}

fn new_file(sock: Arc<UnixSocket>, flags: u32) -> Result<u64, Errno> {
    install(socket_file(sock, flags), flags)
}

fn kind_and_flags(ty: u64, protocol: u64) -> Result<(Kind, u32), Errno> {
    let flags = ty as u32 & !0xf;
    if flags & !(O_NONBLOCK | O_CLOEXEC) != 0 {
        return Err(EINVAL);
    }
    Ok((Kind::from_linux(ty as u32, protocol)?, flags))
}

pub fn socket(ty: u64, protocol: u64) -> SysResult {
    let (kind, flags) = kind_and_flags(ty, protocol)?;
    new_file(UnixSocket::new(kind), flags)
}

pub fn socketpair(domain: u64, ty: u64, protocol: u64, sv: u64) -> SysResult {
    const AF_INET: u64 = 2;
    const AF_INET6: u64 = 10;
    match domain {
        AF_UNIX => {}
        AF_INET | AF_INET6 => return Err(EOPNOTSUPP),
        _ => return Err(EAFNOSUPPORT),
    }
    let (kind, flags) = kind_and_flags(ty, protocol)?;
    let (a, b) = UnixSocket::pair(kind);
    let fa = new_file(a, flags)?;
    let fb = match new_file(b, flags) {
        Ok(n) => n,
        Err(e) => {
            let _ = fd::close(fa);
            return Err(e);
        }
    };
    if let Err(e) = user::write(sv, [fa as i32, fb as i32]) {
        let _ = fd::close(fa);
        let _ = fd::close(fb);
        return Err(e);
    }
    Ok(0)
}

pub fn bind(fdn: u64, addr: u64, len: u64) -> SysResult {
    let (_, s) = sock(fdn)?;
    let a = read_addr(addr, len)?;
    s.bind(a).map(|_| 0)
}

pub fn listen(fdn: u64, backlog: u64) -> SysResult {
    let (_, s) = sock(fdn)?;
    s.listen(backlog as i32).map(|_| 0)
}

pub fn accept4(fdn: u64, addr: u64, lenp: u64, flags: u64) -> SysResult {
    if flags & !((O_NONBLOCK | O_CLOEXEC) as u64) != 0 {
        return Err(EINVAL);
    }
    let (f, s) = sock(fdn)?;
    let timeout = s.options().rcvtimeo;
    let new = blocking(f.nonblocking(), timeout, || s.accept())?;
    let peer = new.peer_addr().unwrap_or(UnixAddr::Unnamed);
    let file = socket_file(new, flags as u32);
    // The address first: a bad pointer leaves no descriptor behind (dropping the file
    // closes the connection).
    write_addr(&peer.to_bytes(), addr, lenp)?;
    install(file, flags as u32)
}

pub fn connect(fdn: u64, addr: u64, len: u64) -> SysResult {
    let (f, s) = sock(fdn)?;
    let raw = user::read_bytes(addr, (len as usize).min(SOCKADDR_UN_LEN + 1))?;
    if raw.len() >= 2 && u16::from_ne_bytes([raw[0], raw[1]]) == AF_UNSPEC {
        return s.connect(None).map(|_| 0);
    }
    let to = read_addr(addr, len)?;
    if to == UnixAddr::Unnamed {
        return Err(EINVAL);
    }
    s.autobind_if_passcred()?;
    let timeout = s.options().sndtimeo;
    blocking(f.nonblocking(), timeout, || s.connect(Some(&to))).map(|_| 0)
}

/// Sends `data` (and `rights`, with the first bytes): a blocking stream send goes on
/// until all is queued, as on Linux; datagrams go whole or not at all.
fn send(
    f: &OpenFile,
    s: &Arc<UnixSocket>,
    data: &[u8],
    to: Option<UnixAddr>,
    mut rights: Option<Rights>,
    flags: u64,
) -> SysResult {
    s.autobind_if_passcred()?;
    let nonblock = f.nonblocking() || flags & MSG_DONTWAIT != 0;
    let timeout = s.options().sndtimeo;
    let mut done = 0;
    loop {
        match blocking(nonblock, timeout, || {
            s.send(&data[done..], to.as_ref(), &mut rights)
        }) {
            Ok(n) => {
                done += n;
                if done == data.len() || s.kind != Kind::Stream || nonblock {
                    return Ok(done as u64);
                }
            }
            Err(_) if done > 0 => return Ok(done as u64),
            Err(e) => return Err(e),
        }
    }
}

/// Receives into `out`. MSG_WAITALL on a blocking stream goes on until `out` is full,
/// the stream ends, or files arrive.
fn recv(f: &OpenFile, s: &UnixSocket, out: &mut [u8], flags: u64) -> Result<Received, Errno> {
    let nonblock = f.nonblocking() || flags & MSG_DONTWAIT != 0;
    let peek = flags & MSG_PEEK != 0;
    let timeout = s.options().rcvtimeo;
    let mut got = blocking(nonblock, timeout, || s.recv(out, peek))?;
    let wait_all = flags & MSG_WAITALL != 0 && s.kind == Kind::Stream && !nonblock && !peek;
    while wait_all && got.len > 0 && got.len < out.len() && got.rights.is_none() {
        match blocking(false, timeout, || s.recv(&mut out[got.len..], false)) {
            Ok(more) if more.len > 0 => {
                got.len += more.len;
                got.full_len = got.len;
                got.rights = more.rights;
            }
            _ => break,
        }
    }
    if s.kind == Kind::Stream {
        got.from = s.peer_addr().ok();
    }
    Ok(got)
}

fn returned_len(got: &Received, flags: u64) -> u64 {
    if flags & MSG_TRUNC != 0 && got.full_len > got.len {
        got.full_len as u64
    } else {
        got.len as u64
    }
}

pub fn sendto(fdn: u64, buf: u64, len: u64, flags: u64, addr: u64, alen: u64) -> SysResult {
    let (f, s) = sock(fdn)?;
    let to = if addr != 0 {
        Some(read_addr(addr, alen)?)
    } else {
        None
    };
    let nonblock = f.nonblocking() || flags & MSG_DONTWAIT != 0;
    let turns = if !nonblock && s.kind == Kind::Stream {
        transfer::Turns::All
    } else {
        transfer::Turns::One
    };
    transfer::write_through(buf, len as usize, turns, |b, _| {
        send(&f, &s, b, to.clone(), None, flags).map(|n| n as usize)
    })
    .map(|n| n as u64)
}

pub fn recvfrom(fdn: u64, buf: u64, len: u64, flags: u64, addr: u64, lenp: u64) -> SysResult {
    let (f, s) = sock(fdn)?;
    user::check_writable(buf, len as usize)?;
    let mut out = transfer::Bounce::new(len as usize);
    let got = recv(&f, &s, out.buf(), flags)?;
    user::copy_out(buf, out.prefix(got.len))?;
    if addr != 0 {
        write_addr(&sender_bytes(got.from.clone()), addr, lenp)?;
    }
    Ok(returned_len(&got, flags))
}

/// The files of SCM_RIGHTS control messages (SCM_CREDENTIALS can only be our own
/// identity, which the receiver gets anyway; any other SOL_SOCKET type is EINVAL).
fn rights_from_control(control: u64, len: u64) -> Result<Option<Rights>, Errno> {
    let mut files: Rights = Vec::new();
    let mut off = 0u64;
    while control != 0 && off + CMSG_HDR as u64 <= len {
        let clen: u64 = user::read(control + off)?;
        let level: i32 = user::read(control + off + 8)?;
        let ty: i32 = user::read(control + off + 12)?;
        if clen < CMSG_HDR as u64 || off + clen > len {
            return Err(EINVAL);
        }
        if level as u64 == SOL_SOCKET {
            match ty {
                SCM_RIGHTS => {
                    let n = (clen as usize - CMSG_HDR) / 4;
                    if files.len() + n > SCM_MAX_FD {
                        return Err(EINVAL);
                    }
                    for i in 0..n as u64 {
                        let fdn: i32 = user::read(control + off + CMSG_HDR as u64 + 4 * i)?;
                        files.push(fd::get(fdn as u64)?);
                    }
                }
                SCM_CREDENTIALS => {}
                _ => return Err(EINVAL),
            }
        }
        off += clen.next_multiple_of(8);
    }
    Ok((!files.is_empty()).then_some(files))
}

/// struct msghdr: name, namelen, iov, iovlen, control, controllen, flags.
fn msghdr(ptr: u64) -> Result<[u64; 7], Errno> {
    user::read(ptr)
}

pub fn sendmsg(fdn: u64, msg: u64, flags: u64) -> SysResult {
    let (f, s) = sock(fdn)?;
    let m = msghdr(msg)?;
    let to = if m[0] != 0 && m[1] as u32 != 0 {
        Some(read_addr(m[0], m[1] & 0xffff_ffff)?)
    } else {
        None
    };
    let data = gather(m[2], m[3])?;
    let rights = rights_from_control(m[4], m[5])?;
    send(&f, &s, &data, to, rights, flags)
}

/// The control buffer of a recvmsg, filled with control messages the way Linux's
/// put_cmsg does: one that does not fit whole is left out and MSG_CTRUNC set.
struct Control {
    at: u64,
    room: usize,
    used: usize,
    truncated: bool,
}

impl Control {
    fn new(ptr: u64, cap: u64) -> Control {
        Control {
            at: ptr,
            room: if ptr == 0 { 0 } else { cap as usize },
            used: 0,
            truncated: false,
        }
    }

    /// How many entries of `size` bytes one more message has room for.
    fn fits(&self, size: usize) -> usize {
        self.room.saturating_sub(CMSG_HDR) / size
    }

    fn push(&mut self, ty: i32, data: &[u8]) -> Result<(), Errno> {
        let len = CMSG_HDR + data.len();
        if len > self.room {
            self.truncated = true;
            return Ok(());
        }
        let p = self.at + self.used as u64;
        user::write(p, len as u64)?;
        user::write(p + 8, SOL_SOCKET as i32)?;
        user::write(p + 12, ty)?;
        user::copy_out(p + CMSG_HDR as u64, data)?;
        let space = len.next_multiple_of(8).min(self.room);
        self.used += space;
        self.room -= space;
        Ok(())
    }

    /// Installs received files in our table and adds their SCM_RIGHTS message; files
    /// with no room left are closed (MSG_CTRUNC), as on Linux.
    fn push_rights(&mut self, rights: Rights, flags: u64) -> Result<(), Errno> {
        let total = rights.len();
        let mut fds: Vec<u8> = Vec::new();
        for file in rights.into_iter().take(self.fits(4)) {
            match fd::install(file, flags & MSG_CMSG_CLOEXEC != 0, 0) {
                Ok(n) => fds.extend_from_slice(&(n as i32).to_ne_bytes()),
                Err(_) => break,
            }
        }
        if fds.len() / 4 < total {
            self.truncated = true;
        }
        if fds.is_empty() {
            return Ok(());
        }
        self.push(SCM_RIGHTS, &fds)
    }
}

/// struct ucred of our one identity: the program's pid, uid and gid 0.
fn our_ucred() -> [u8; 12] {
    let mut b = [0u8; 12];
    b[..4].copy_from_slice(&(super::process::pid() as u32).to_ne_bytes());
    b
}

pub fn recvmsg(fdn: u64, msg: u64, flags: u64) -> SysResult {
    let (f, s) = sock(fdn)?;
    let m = msghdr(msg)?;
    let iov = iovecs(m[2], m[3])?;
    let total: u64 = iov.iter().map(|v| v.1).sum();
    let mut tmp = vec![0u8; total.min(16 << 20) as usize];
    let got = recv(&f, &s, &mut tmp, flags)?;
    let ret = returned_len(&got, flags);
    scatter(&iov, &tmp[..got.len])?;
    if m[0] != 0 {
        write_addr(&sender_bytes(got.from.clone()), m[0], msg + 8)?;
    } else {
        user::write(msg + 8, 0u32)?;
    }
    let mut mflags = 0;
    if got.full_len > got.len {
        mflags |= MSG_TRUNC as i32;
    }
    let mut control = Control::new(m[4], m[5]);
    if s.options().passcred {
        control.push(SCM_CREDENTIALS, &our_ucred())?;
    }
    if let Some(rights) = got.rights {
        control.push_rights(rights, flags)?;
    }
    if control.truncated {
        mflags |= MSG_CTRUNC;
    }
    user::write(msg + 40, control.used as u64)?;
    user::write(msg + 48, mflags)?;
    Ok(ret)
}

pub fn shutdown(fdn: u64, how: u64) -> SysResult {
    let (_, s) = sock(fdn)?;
    match how {
        0 => s.shutdown(true, false),
        1 => s.shutdown(false, true),
        2 => s.shutdown(true, true),
        _ => return Err(EINVAL),
    }
    Ok(0)
}

pub fn getsockname(fdn: u64, addr: u64, lenp: u64) -> SysResult {
    let (_, s) = sock(fdn)?;
    write_addr(&s.local_addr().to_bytes(), addr, lenp).map(|_| 0)
}

pub fn getpeername(fdn: u64, addr: u64, lenp: u64) -> SysResult {
    let (_, s) = sock(fdn)?;
    write_addr(&s.peer_addr()?.to_bytes(), addr, lenp).map(|_| 0)
}

const SO_REUSEADDR: u64 = 2;
const SO_TYPE: u64 = 3;
const SO_ERROR: u64 = 4;
const SO_SNDBUF: u64 = 7;
const SO_RCVBUF: u64 = 8;
const SO_PASSCRED: u64 = 16;
const SO_PEERCRED: u64 = 17;
const SO_RCVTIMEO: u64 = 20;
const SO_SNDTIMEO: u64 = 21;
const SO_ACCEPTCONN: u64 = 30;
const SO_SNDBUFFORCE: u64 = 32;
const SO_RCVBUFFORCE: u64 = 33;
const SO_PROTOCOL: u64 = 38;
const SO_DOMAIN: u64 = 39;

fn timeval_ns(tv: [i64; 2]) -> Result<u64, Errno> {
    if tv[0] < 0 || !(0..1_000_000).contains(&tv[1]) {
        return Err(EDOM);
    }
    Ok(tv[0] as u64 * 1_000_000_000 + tv[1] as u64 * 1000)
}

fn ns_timeval(ns: u64) -> [i64; 2] {
    [
        (ns / 1_000_000_000) as i64,
        (ns % 1_000_000_000 / 1000) as i64,
    ]
}

fn unsupported_option(name: u64) -> Errno {
    crate::console::log_once(
        "unix-sockopt",
        &alloc::format!(
            "rumprun: AF_UNIX socket option {name} is not supported; returning ENOPROTOOPT"
        ),
    );
    ENOPROTOOPT
}

pub fn setsockopt(fdn: u64, level: u64, name: u64, val: u64, len: u64) -> SysResult {
    let (_, s) = sock(fdn)?;
    if level != SOL_SOCKET {
        return Err(EOPNOTSUPP);
    }
    if name == SO_RCVTIMEO || name == SO_SNDTIMEO {
        if len < 16 {
            return Err(EINVAL);
        }
        let t = timeval_ns(user::read::<[i64; 2]>(val)?)?;
        let (rcv, snd) = if name == SO_RCVTIMEO {
            (Some(t), None)
        } else {
            (None, Some(t))
        };
        s.set_timeouts(rcv, snd);
        return Ok(0);
    }
    if len < 4 {
        return Err(EINVAL);
    }
    let v: i32 = user::read(val)?;
    let size = v.max(0) as usize;
    match name {
        SO_SNDBUF | SO_SNDBUFFORCE => s.set_sndbuf(size),
        SO_RCVBUF | SO_RCVBUFFORCE => s.set_rcvbuf(size),
        SO_PASSCRED => s.set_passcred(v != 0),
        SO_REUSEADDR => {} // no meaning for AF_UNIX (as on Linux)
        _ => return Err(unsupported_option(name)),
    }
    Ok(0)
}

pub fn getsockopt(fdn: u64, level: u64, name: u64, val: u64, lenp: u64) -> SysResult {
    let (_, s) = sock(fdn)?;
    if level != SOL_SOCKET {
        return Err(EOPNOTSUPP);
    }
    let o = s.options();
    let int = |v: usize| (v as i32).to_ne_bytes().to_vec();
    let bytes: Vec<u8> = match name {
        SO_TYPE => int(s.kind.linux() as usize),
        SO_DOMAIN => int(AF_UNIX as usize),
        SO_PROTOCOL | SO_REUSEADDR => int(0),
        SO_ERROR => int(s.take_error().map_or(0, |e| e.0 as usize)),
        SO_SNDBUF => int(o.sndbuf),
        SO_RCVBUF => int(o.rcvbuf),
        SO_PASSCRED => int(o.passcred as usize),
        SO_ACCEPTCONN => int(o.listening as usize),
        SO_RCVTIMEO | SO_SNDTIMEO => {
            let ns = if name == SO_RCVTIMEO {
                o.rcvtimeo
            } else {
                o.sndtimeo
            };
            let tv = ns_timeval(ns);
            [tv[0].to_ne_bytes(), tv[1].to_ne_bytes()].concat()
        }
        SO_PEERCRED => {
            // struct ucred: the peer program (root); Linux reports no pid and the
            // overflow ids before a connection.
            if let Some(pid) = o.peer_pid {
                [pid, 0, 0].iter().flat_map(|v| v.to_ne_bytes()).collect()
            } else {
                [0u32, 65534, 65534]
                    .iter()
                    .flat_map(|v| v.to_ne_bytes())
                    .collect()
            }
        }
        _ => return Err(unsupported_option(name)),
    };
    let cap: u32 = user::read(lenp)?;
    if (cap as i32) < 0 {
        return Err(EINVAL);
    }
    let n = (cap as usize).min(bytes.len());
    user::copy_out(val, &bytes[..n])?;
    user::write(lenp, n as u32).map(|_| 0)
}
