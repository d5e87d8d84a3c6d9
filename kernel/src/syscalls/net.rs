//! The BSD socket syscalls, for every kind of socket. socket and socketpair create
//! one (AF_INET/AF_INET6 over the TCP/IP stack, `net::socket`; AF_UNIX, `fd::unix`;
//! AF_NETLINK, `net::netlink`); the others read their arguments from program memory
//! once — sockaddrs, the `msghdr` with its iovecs and control messages, option
//! values —, hand them to the descriptor's socket (`fd::socket::Socket`), wait while
//! it says EAGAIN (unless non-blocking; bounded by SO_RCVTIMEO/SO_SNDTIMEO), and
//! write the answers back: addresses truncated to the caller's buffer with their full
//! length reported, control messages as Linux's put_cmsg lays them out.

use super::io::{gather, iovecs, scatter};
use super::transfer;
use crate::errno::*;
use crate::fd::socket::{self, Cmsg, Files, Received, Socket};
use crate::fd::unix::{Kind, UnixSocket};
use crate::fd::{self, Direction, OpenFile, O_CLOEXEC, O_NONBLOCK, O_RDWR};
use crate::mm::user;
use crate::net::{self, netlink, socket::SocketFile};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::mem::{offset_of, size_of};
use rumprun_abi::net::{cmsghdr, msghdr};
use rumprun_net::{Family, SockType};

const AF_UNIX: u64 = 1;
const AF_INET: u64 = 2;
const AF_INET6: u64 = 10;

const MSG_PEEK: u32 = 0x2;
const MSG_CTRUNC: u32 = 0x8;
const MSG_TRUNC: u32 = 0x20;
const MSG_DONTWAIT: u32 = 0x40;
const MSG_WAITALL: u32 = 0x100;
const MSG_CMSG_CLOEXEC: u32 = 0x4000_0000;

const SOL_SOCKET: i32 = 1;
const SCM_RIGHTS: i32 = 1;
/// sizeof(struct cmsghdr).
const CMSG_HDR: usize = size_of::<cmsghdr>();
/// sizeof(struct sockaddr_storage): the longest address a call takes.
const SOCKADDR_MAX: usize = 128;
/// The longest control buffer sendmsg takes (Linux's net.core.optmem_max): ENOBUFS.
const CONTROL_MAX: usize = 128 * 1024;
/// The longest option value setsockopt reads, and getsockopt writes.
const OPTION_MAX: usize = 256;

/// The open file and socket of descriptor `fdn` (EBADF, ENOTSOCK).
fn sock(fdn: u64) -> Result<(Arc<OpenFile>, Arc<dyn Socket>), Errno> {
    let f = fd::get(fdn)?;
    let s = f.ops.clone().as_socket().ok_or(ENOTSOCK)?;
    Ok((f, s))
}

/// The `len` bytes of a sockaddr at `ptr` (EINVAL beyond sockaddr_storage).
fn read_addr(ptr: u64, len: u64) -> Result<Vec<u8>, Errno> {
    let len = len as u32 as usize;
    if len > SOCKADDR_MAX {
        return Err(EINVAL);
    }
    user::read_bytes(ptr, len)
}

/// Writes a sockaddr's bytes to (ptr, *lenp) as Linux's move_addr_to_user does:
/// truncated to the buffer, the full length reported.
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

/// The sender's address of a receive at (ptr, *lenp): length 0 when it has none.
fn write_from(from: Option<&[u8]>, ptr: u64, lenp: u64) -> Result<(), Errno> {
    match from {
        Some(bytes) => write_addr(bytes, ptr, lenp),
        None if lenp != 0 => user::write(lenp, 0u32),
        None => Ok(()),
    }
}

fn new_file(ops: Arc<dyn fd::FileOps>, flags: u32) -> Arc<OpenFile> {
    OpenFile::new(ops, O_RDWR | (flags & O_NONBLOCK))
}

fn install(file: Arc<OpenFile>, flags: u32) -> SysResult {
    fd::install(file, flags & O_CLOEXEC != 0, 0)
}

/// SOCK_NONBLOCK and SOCK_CLOEXEC of socket(2)'s type; EINVAL for other flags.
fn type_flags(ty: u64) -> Result<u32, Errno> {
    let flags = ty as u32 & !0xf;
    if flags & !(O_NONBLOCK | O_CLOEXEC) != 0 {
        return Err(EINVAL);
    }
    Ok(flags)
}

pub fn socket(domain: u64, ty: u64, protocol: u64) -> SysResult {
    let flags = type_flags(ty)?;
    let ops: Arc<dyn fd::FileOps> = match domain {
        AF_UNIX => UnixSocket::new(Kind::from_linux(ty as u32, protocol)?),
        netlink::AF_NETLINK => Arc::new(netlink::socket(ty, protocol)?),
        _ => {
            let family = Family::from_linux(domain as u16)?;
            let st = SockType::from_linux(ty as i32, protocol as i32)?;
            let id = net::with(|s| s.socket(family, st))?;
            Arc::new(SocketFile {
                id,
                family,
                stream: st == SockType::Stream,
            })
        }
    };
    install(new_file(ops, flags), flags)
}

pub fn socketpair(domain: u64, ty: u64, protocol: u64, sv: u64) -> SysResult {
    match domain {
        AF_UNIX => {}
        AF_INET | AF_INET6 => return Err(EOPNOTSUPP),
        _ => return Err(EAFNOSUPPORT),
    }
    let flags = type_flags(ty)?;
    let (a, b) = UnixSocket::pair(Kind::from_linux(ty as u32, protocol)?);
    let fa = install(new_file(a, flags), flags)?;
    let fb = match install(new_file(b, flags), flags) {
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
    s.bind(&read_addr(addr, len)?).map(|_| 0)
}

pub fn listen(fdn: u64, backlog: u64) -> SysResult {
    let (_, s) = sock(fdn)?;
    s.listen(backlog as i32).map(|_| 0)
}

pub fn accept4(fdn: u64, addr: u64, lenp: u64, flags: u64) -> SysResult {
    let flags = flags as u32;
    if flags & !(O_NONBLOCK | O_CLOEXEC) != 0 {
        return Err(EINVAL);
    }
    let (f, s) = sock(fdn)?;
    let (ops, peer) = socket::blocking(&f, f.nonblocking(), Direction::Receive, || s.accept())?;
    let file = new_file(ops, flags);
    // The address first: a bad pointer leaves no descriptor behind (dropping the file
    // closes the connection).
    if addr != 0 {
        write_addr(&peer, addr, lenp)?;
    }
    install(file, flags)
}

pub fn connect(fdn: u64, addr: u64, len: u64) -> SysResult {
    let (f, s) = sock(fdn)?;
    s.connect(&f, &read_addr(addr, len)?).map(|_| 0)
}

/// Sends `data`: a blocking send on a stream goes on until all of it is queued, as on
/// Linux (a signal, SO_SNDTIMEO or an error after some bytes: the count so far); a
/// datagram goes whole or not at all. `control` goes with the first bytes.
fn send(
    f: &OpenFile,
    s: &dyn Socket,
    data: &[u8],
    to: Option<&[u8]>,
    mut control: &[Cmsg],
    flags: u32,
) -> Result<usize, Errno> {
    let nonblock = f.nonblocking() || flags & MSG_DONTWAIT != 0;
    let mut done = 0;
    loop {
        match socket::blocking(f, nonblock, Direction::Send, || {
            s.send(&data[done..], to, control, flags)
        }) {
            Ok(n) => {
                done += n;
                control = &[];
                if n == 0 || done == data.len() || nonblock || !f.ops.is_stream() {
                    return Ok(done);
                }
            }
            Err(_) if done > 0 => return Ok(done),
            Err(e) => return Err(e),
        }
    }
}

/// Receives into `out`. MSG_WAITALL on a blocking stream goes on until `out` is full,
/// the stream ends, or files arrive.
fn recv(f: &OpenFile, s: &dyn Socket, out: &mut [u8], flags: u32) -> Result<Received, Errno> {
    let nonblock = f.nonblocking() || flags & MSG_DONTWAIT != 0;
    let mut got = socket::blocking(f, nonblock, Direction::Receive, || s.recv(out, flags))?;
    let wait_all =
        flags & MSG_WAITALL != 0 && f.ops.is_stream() && !nonblock && flags & MSG_PEEK == 0;
    while wait_all && got.len > 0 && got.len < out.len() && got.files.is_none() {
        match socket::blocking(f, false, Direction::Receive, || {
            s.recv(&mut out[got.len..], flags)
        }) {
            Ok(more) if more.len > 0 => {
                got.len += more.len;
                got.full_len = got.len;
                got.files = more.files;
            }
            _ => break,
        }
    }
    Ok(got)
}

/// What a receive returns: the datagram's full length under MSG_TRUNC.
fn returned_len(got: &Received, flags: u32) -> u64 {
    if flags & MSG_TRUNC != 0 && got.full_len > got.len {
        got.full_len as u64
    } else {
        got.len as u64
    }
}

pub fn sendto(fdn: u64, buf: u64, len: u64, flags: u64, addr: u64, alen: u64) -> SysResult {
    let (f, s) = sock(fdn)?;
    let flags = flags as u32;
    let to = if addr != 0 {
        Some(read_addr(addr, alen)?)
    } else {
        None
    };
    let nonblock = f.nonblocking() || flags & MSG_DONTWAIT != 0;
    let turns = if !nonblock && f.ops.is_stream() {
        transfer::Turns::All
    } else {
        transfer::Turns::One
    };
    transfer::write_through(buf, len as usize, turns, |b, _| {
        send(&f, &*s, b, to.as_deref(), &[], flags)
    })
    .map(|n| n as u64)
}

pub fn recvfrom(fdn: u64, buf: u64, len: u64, flags: u64, addr: u64, lenp: u64) -> SysResult {
    let (f, s) = sock(fdn)?;
    let flags = flags as u32;
    user::check_writable(buf, len as usize)?;
    // MSG_WAITALL waits for all of `len`; MSG_TRUNC on a stream discards `len` bytes.
    let want = if flags & (MSG_WAITALL | MSG_TRUNC) == 0 {
        transfer::read_len(&f, len as usize)
    } else {
        len as usize
    };
    let mut out = transfer::Bounce::new(want);
    let got = recv(&f, &*s, out.buf(), flags)?;
    user::copy_out(buf, out.prefix(got.len))?;
    if addr != 0 {
        write_from(got.from.as_deref(), addr, lenp)?;
    }
    Ok(returned_len(&got, flags))
}

/// The control messages of a sendmsg's control buffer, checked as Linux's
/// CMSG_NXTHDR walk does (a header shorter than itself or running past the buffer:
/// EINVAL).
fn read_control(ptr: u64, len: usize) -> Result<Vec<Cmsg>, Errno> {
    if ptr == 0 || len < CMSG_HDR {
        return Ok(Vec::new());
    }
    if len > CONTROL_MAX {
        return Err(ENOBUFS);
    }
    let raw = user::read_bytes(ptr, len)?;
    let mut out = Vec::new();
    let mut off = 0;
    while off + CMSG_HDR <= len {
        let h = &raw[off..];
        let clen = u64::from_ne_bytes(h[..8].try_into().expect("8 bytes"));
        let level = i32::from_ne_bytes(h[8..12].try_into().expect("4 bytes"));
        let ty = i32::from_ne_bytes(h[12..16].try_into().expect("4 bytes"));
        if clen < CMSG_HDR as u64 || clen > (len - off) as u64 {
            return Err(EINVAL);
        }
        let clen = clen as usize;
        out.push(Cmsg {
            level,
            ty,
            data: h[CMSG_HDR..clen].to_vec(),
        });
        off += clen.next_multiple_of(8);
    }
    Ok(out)
}

/// The fields of a `struct msghdr` the calls use, as addresses and lengths.
struct MsgHdr {
    name: u64,
    namelen: i32,
    iov: u64,
    iovlen: u64,
    control: u64,
    controllen: u64,
}

fn read_msghdr(ptr: u64) -> Result<MsgHdr, Errno> {
    let m: msghdr = user::read(ptr)?;
    Ok(MsgHdr {
        name: m.msg_name as u64,
        namelen: m.msg_namelen,
        iov: m.msg_iov as u64,
        iovlen: m.msg_iovlen as u64,
        control: m.msg_control as u64,
        controllen: m.msg_controllen as u64,
    })
}

pub fn sendmsg(fdn: u64, msg: u64, flags: u64) -> SysResult {
    let m = read_msghdr(msg)?;
    let (f, s) = sock(fdn)?;
    if m.namelen < 0 {
        return Err(EINVAL);
    }
    // As Linux: no name, or an empty one, is no address; a longer one is cut to
    // sockaddr_storage.
    let to = if m.name != 0 && m.namelen != 0 {
        Some(read_addr(
            m.name,
            (m.namelen as u64).min(SOCKADDR_MAX as u64),
        )?)
    } else {
        None
    };
    let data = gather(m.iov, m.iovlen)?;
    let control = read_control(m.control, m.controllen.min(usize::MAX as u64) as usize)?;
    send(&f, &*s, &data, to.as_deref(), &control, flags as u32).map(|n| n as u64)
}

/// The control buffer of a recvmsg, filled with control messages the way Linux's
/// put_cmsg and scm_detach_fds do.
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
            room: if ptr == 0 {
                0
            } else {
                cap.min(usize::MAX as u64) as usize
            },
            used: 0,
            truncated: false,
        }
    }

    /// How many entries of `size` bytes one more message has room for.
    fn fits(&self, size: usize) -> usize {
        self.room.saturating_sub(CMSG_HDR) / size
    }

    /// Adds one control message as Linux's put_cmsg does: with no room for even a
    /// header, nothing (MSG_CTRUNC); with room for part of it, that part, its
    /// `cmsg_len` saying how much (MSG_CTRUNC).
    fn push(&mut self, level: i32, ty: i32, data: &[u8]) -> Result<(), Errno> {
        if self.room < CMSG_HDR {
            self.truncated = true;
            return Ok(());
        }
        let mut len = CMSG_HDR + data.len();
        if len > self.room {
            self.truncated = true;
            len = self.room;
        }
        let p = self.at + self.used as u64;
        user::write(p, len as u64)?;
        user::write(p + offset_of!(cmsghdr, cmsg_level) as u64, level)?;
        user::write(p + offset_of!(cmsghdr, cmsg_type) as u64, ty)?;
        user::copy_out(p + CMSG_HDR as u64, &data[..len - CMSG_HDR])?;
        let space = (CMSG_HDR + data.len()).next_multiple_of(8).min(self.room);
        self.used += space;
        self.room -= space;
        Ok(())
    }

    /// Installs received files in our table and adds their SCM_RIGHTS message; files
    /// with no room left are closed (MSG_CTRUNC), as on Linux.
    fn push_files(&mut self, files: Files, flags: u32) -> Result<(), Errno> {
        let total = files.len();
        let mut fds: Vec<u8> = Vec::new();
        for file in files.into_iter().take(self.fits(4)) {
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
        self.push(SOL_SOCKET, SCM_RIGHTS, &fds)
    }
}

pub fn recvmsg(fdn: u64, msg: u64, flags: u64) -> SysResult {
    let flags = flags as u32;
    let m = read_msghdr(msg)?;
    let (f, s) = sock(fdn)?;
    let iov = iovecs(m.iov, m.iovlen)?;
    for &(base, len) in &iov {
        user::check_writable(base, len as usize)?;
    }
    let total: u64 = iov.iter().map(|v| v.1).sum();
    let mut tmp = transfer::buffer(total.min(16 << 20) as usize, 64 << 10)?;
    let got = recv(&f, &*s, &mut tmp, flags)?;
    let ret = returned_len(&got, flags);
    scatter(&iov, &tmp[..got.len])?;
    let namelen_at = msg + offset_of!(msghdr, msg_namelen) as u64;
    if m.name != 0 {
        write_from(got.from.as_deref(), m.name, namelen_at)?;
    } else {
        user::write(namelen_at, 0u32)?;
    }
    let mut mflags = 0;
    if got.full_len > got.len {
        mflags |= MSG_TRUNC;
    }
    let mut control = Control::new(m.control, m.controllen);
    for c in &got.control {
        control.push(c.level, c.ty, &c.data)?;
    }
    if let Some(files) = got.files {
        control.push_files(files, flags)?;
    }
    if control.truncated {
        mflags |= MSG_CTRUNC;
    }
    user::write(
        msg + offset_of!(msghdr, msg_controllen) as u64,
        control.used as u64,
    )?;
    user::write(msg + offset_of!(msghdr, msg_flags) as u64, mflags)?;
    Ok(ret)
}

pub fn shutdown(fdn: u64, how: u64) -> SysResult {
    let (_, s) = sock(fdn)?;
    s.shutdown(how as i32).map(|_| 0)
}

pub fn getsockname(fdn: u64, addr: u64, lenp: u64) -> SysResult {
    let (_, s) = sock(fdn)?;
    write_addr(&s.local_name()?, addr, lenp).map(|_| 0)
}

pub fn getpeername(fdn: u64, addr: u64, lenp: u64) -> SysResult {
    let (_, s) = sock(fdn)?;
    write_addr(&s.peer_name()?, addr, lenp).map(|_| 0)
}

pub fn setsockopt(fdn: u64, level: u64, name: u64, val: u64, len: u64) -> SysResult {
    let (_, s) = sock(fdn)?;
    let len = len as u32 as i32;
    if len < 0 {
        return Err(EINVAL);
    }
    let v = user::read_bytes(val, (len as usize).min(OPTION_MAX))?;
    s.setsockopt(level as i32, name as i32, &v).map(|_| 0)
}

pub fn getsockopt(fdn: u64, level: u64, name: u64, val: u64, lenp: u64) -> SysResult {
    let (_, s) = sock(fdn)?;
    let cap: u32 = user::read(lenp)?;
    if (cap as i32) < 0 {
        return Err(EINVAL);
    }
    let cap = (cap as usize).min(OPTION_MAX);
    let bytes = s.getsockopt(level as i32, name as i32, cap)?;
    let n = cap.min(bytes.len());
    user::copy_out(val, &bytes[..n])?;
    user::write(lenp, n as u32).map(|_| 0)
}
