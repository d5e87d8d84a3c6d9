//! Socket options: the Linux constants (levels, names, `MSG_*`, `SHUT_*`, `POLL*`) and
//! [`SockOpts`], the per-socket option values. The option calls themselves
//! (`Stack::setsockopt` / `getsockopt`) live in `stack.rs`; this module owns the
//! value encoding (ints as 4-byte native `int`, `struct linger`, `struct timeval`).
//!
//! Buffer sizes follow Linux's convention: setting `SO_RCVBUF`/`SO_SNDBUF` to `n`
//! reports `2n` (clamped to [4608, 8 MiB]); the smoltcp buffer allocated for a new
//! connection is half the reported value (clamped to [2 KiB, 4 MiB]), so a connection
//! keeps the sizes it had when it was created (connect, or listen for accepted ones).
//! A TCP socket's `SO_SNDBUF` reads back twice the send buffer it really has, or will
//! have when it connects: without `SO_SNDBUF` set that is the stack's default, which
//! follows the free memory (`Stack::set_tcp_send_buffer`). A connection's smoltcp
//! buffer does not change after it is made; `SO_SNDBUF` set on it later bounds what it
//! queues from then on (`TcpConn::send_limit`, as Linux's sk_sndbuf follows a later
//! SO_SNDBUF) and reads back doubled.

use crate::errno::*;

pub use rumprun_abi::net::{
    IPPROTO_IP, IPPROTO_IPV6, IPPROTO_TCP, IPPROTO_UDP, IPV6_RECVERR, IPV6_TCLASS,
    IPV6_UNICAST_HOPS, IPV6_V6ONLY, IP_RECVERR, IP_TOS, IP_TTL, MSG_DONTWAIT, MSG_NOSIGNAL,
    MSG_PEEK, MSG_TRUNC, SHUT_RD, SHUT_RDWR, SHUT_WR, SOCK_DGRAM, SOCK_STREAM, SOL_SOCKET,
    SO_ACCEPTCONN, SO_BROADCAST, SO_DOMAIN, SO_ERROR, SO_KEEPALIVE, SO_LINGER, SO_PROTOCOL,
    SO_RCVBUF, SO_RCVTIMEO, SO_REUSEADDR, SO_REUSEPORT, SO_SNDBUF, SO_SNDTIMEO, SO_TYPE, TCP_CORK,
    TCP_KEEPCNT, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_MAXSEG, TCP_NODELAY,
};

pub use rumprun_abi::poll::{POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDHUP};

/// Linux's default reported `SO_RCVBUF`.
pub const DEFAULT_RCVBUF: usize = 131072;
/// Reported `SO_SNDBUF` default (Linux starts at 16 KiB and grows; we use a fixed one).
pub const DEFAULT_SNDBUF: usize = 131072;
const MIN_REPORTED_BUF: usize = 4608;
const MAX_REPORTED_BUF: usize = 8 << 20;

/// Per-socket option values (accepted sockets inherit their listener's).
#[derive(Clone, Debug)]
pub struct SockOpts {
    /// SO_REUSEADDR
    pub reuse_addr: bool,
    /// SO_REUSEPORT
    pub reuse_port: bool,
    /// SO_KEEPALIVE
    pub keepalive: bool,
    /// TCP_KEEPIDLE / TCP_KEEPINTVL in seconds (smoltcp has one interval: we use idle).
    pub keep_idle_s: u32,
    /// TCP_KEEPINTVL
    pub keep_intvl_s: u32,
    /// TCP_KEEPCNT (reported only)
    pub keep_cnt: u32,
    /// TCP_NODELAY
    pub nodelay: bool,
    /// TCP_CORK: partial segments are held back (see `tcp::push_corked`).
    pub cork: bool,
    /// Reported SO_RCVBUF
    pub rcvbuf: usize,
    /// Reported SO_SNDBUF
    pub sndbuf: usize,
    /// SO_SNDBUF was set: it, not the stack's default (`Stack::set_tcp_send_buffer`),
    /// sizes a TCP connection's send buffer.
    pub sndbuf_set: bool,
    /// SO_LINGER: `Some(seconds)` when on. `Some(0)` makes close send a reset.
    pub linger: Option<u32>,
    /// SO_RCVTIMEO in microseconds (0 = none); the kernel enforces it.
    pub rcvtimeo_us: u64,
    /// SO_SNDTIMEO in microseconds (0 = none); the kernel enforces it.
    pub sndtimeo_us: u64,
    /// IPV6_V6ONLY
    pub v6only: bool,
    /// SO_BROADCAST (reported only)
    pub broadcast: bool,
    /// IP_TTL / IPV6_UNICAST_HOPS (None = default 64)
    pub ttl: Option<u8>,
    /// IP_TOS: the TOS byte of the socket's UDP packets (`tclass`).
    pub tos: u8,
    /// IPV6_TCLASS: the traffic class of an IPv6 socket's UDP packets.
    pub tclass: u8,
    /// IP_RECVERR / IPV6_RECVERR (reported only: there is no error queue, so ICMP
    /// errors are never queued; glibc's resolver insists on setting it).
    pub recverr: bool,
    /// The control messages a receive hands back (`ancillary::RECV_*` bits).
    pub recv_info: u8,
}

impl Default for SockOpts {
    fn default() -> Self {
        SockOpts {
            reuse_addr: false,
            reuse_port: false,
            keepalive: false,
            keep_idle_s: 7200,
            keep_intvl_s: 75,
            keep_cnt: 9,
            nodelay: false,
            cork: false,
            rcvbuf: DEFAULT_RCVBUF,
            sndbuf: DEFAULT_SNDBUF,
            sndbuf_set: false,
            linger: None,
            rcvtimeo_us: 0,
            sndtimeo_us: 0,
            v6only: false,
            broadcast: false,
            ttl: None,
            tos: 0,
            tclass: 0,
            recverr: false,
            recv_info: 0,
        }
    }
}

impl SockOpts {
    /// The smoltcp receive buffer size for a new connection.
    pub fn rx_buffer_len(&self) -> usize {
        (self.rcvbuf / 2).clamp(2048, 4 << 20)
    }
    /// The smoltcp send buffer size for a new socket (UDP; TCP: `tcp_tx_buffer_len`).
    pub fn tx_buffer_len(&self) -> usize {
        (self.sndbuf / 2).clamp(2048, 4 << 20)
    }
    /// The smoltcp send buffer size for a new TCP connection: SO_SNDBUF's when it was
    /// set, else the stack's `default` (see `Stack::set_tcp_send_buffer`).
    pub fn tcp_tx_buffer_len(&self, default: usize) -> usize {
        if self.sndbuf_set {
            self.tx_buffer_len()
        } else {
            default
        }
    }
}

/// The reported value for a requested buffer size (Linux doubles it).
pub fn reported_buf(requested: i32) -> usize {
    (requested.max(0) as usize)
        .saturating_mul(2)
        .clamp(MIN_REPORTED_BUF, MAX_REPORTED_BUF)
}

/// An `int` option value (Linux accepts 4 bytes or more; a shorter one is EINVAL).
pub fn int_arg(val: &[u8]) -> Result<i32, Errno> {
    if val.len() < 4 {
        return Err(EINVAL);
    }
    Ok(i32::from_ne_bytes([val[0], val[1], val[2], val[3]]))
}

/// A `struct linger { int l_onoff; int l_linger; }`.
pub fn linger_arg(val: &[u8]) -> Result<Option<u32>, Errno> {
    if val.len() < 8 {
        return Err(EINVAL);
    }
    let on = int_arg(&val[..4])?;
    let secs = int_arg(&val[4..8])?;
    Ok((on != 0).then_some(secs.max(0) as u32))
}

/// A `struct timeval` as microseconds.
pub fn timeval_arg(val: &[u8]) -> Result<u64, Errno> {
    if val.len() < 16 {
        return Err(EINVAL);
    }
    let sec = i64::from_ne_bytes(val[0..8].try_into().unwrap());
    let usec = i64::from_ne_bytes(val[8..16].try_into().unwrap());
    if sec < 0 || !(0..1_000_000).contains(&usec) {
        return Err(Errno(33)); // EDOM, as Linux
    }
    Ok((sec as u64).saturating_mul(1_000_000) + usec as u64)
}

/// Writes an option value to the program's buffer (truncated like Linux); returns the
/// length to report.
pub fn put(out: &mut [u8], bytes: &[u8]) -> usize {
    let n = out.len().min(bytes.len());
    out[..n].copy_from_slice(&bytes[..n]);
    n
}

/// Encodes an `int` value.
pub fn int_bytes(v: i32) -> [u8; 4] {
    v.to_ne_bytes()
}

/// Encodes a `struct linger`.
pub fn linger_bytes(l: Option<u32>) -> [u8; 8] {
    let mut b = [0u8; 8];
    b[..4].copy_from_slice(&(l.is_some() as i32).to_ne_bytes());
    b[4..].copy_from_slice(&(l.unwrap_or(0) as i32).to_ne_bytes());
    b
}

/// Encodes a `struct timeval` from microseconds.
pub fn timeval_bytes(us: u64) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&((us / 1_000_000) as i64).to_ne_bytes());
    b[8..].copy_from_slice(&((us % 1_000_000) as i64).to_ne_bytes());
    b
}

impl<D: smoltcp::phy::Device> crate::Stack<D> {
    /// setsockopt(2). ENOPROTOOPT for unknown options; EINVAL for short values;
    /// IPV6_V6ONLY on a bound socket is EINVAL, as in Linux.
    pub fn setsockopt(
        &mut self,
        id: crate::SocketId,
        level: i32,
        name: i32,
        val: &[u8],
    ) -> Result<(), Errno> {
        use crate::stack::{Proto, TcpState, UdpState};
        let s = self.sock_mut(id)?;
        let tcp = matches!(s.proto, Proto::Tcp(_));
        if level == crate::lite::IPPROTO_UDPLITE {
            let Proto::Udp(UdpState {
                lite: Some(cov), ..
            }) = &mut s.proto
            else {
                return Err(ENOPROTOOPT);
            };
            // As Linux: a coverage below the header's 8 bytes (but not 0) is 8.
            let v = int_arg(val)?.clamp(0, 0xffff) as u16;
            let v = if v != 0 && v < 8 { 8 } else { v };
            match name {
                crate::lite::UDPLITE_SEND_CSCOV => cov.send = v,
                crate::lite::UDPLITE_RECV_CSCOV => cov.recv = v,
                _ => return Err(ENOPROTOOPT),
            }
            return Ok(());
        }
        let o = &mut s.opts;
        let mut marking = false;
        if let Some(bit) = crate::ancillary::recv_bit(level, name) {
            if level == IPPROTO_IPV6 && s.family != crate::Family::Inet6 {
                return Err(ENOPROTOOPT);
            }
            if int_arg(val)? != 0 {
                o.recv_info |= bit;
            } else {
                o.recv_info &= !bit;
            }
            if Self::wants_sniffers(o.recv_info) {
                self.ensure_sniffers();
            }
            return Ok(());
        }
        match (level, name) {
            (SOL_SOCKET, SO_REUSEADDR) => o.reuse_addr = int_arg(val)? != 0,
            (SOL_SOCKET, SO_REUSEPORT) => o.reuse_port = int_arg(val)? != 0,
            (SOL_SOCKET, SO_KEEPALIVE) => o.keepalive = int_arg(val)? != 0,
            (SOL_SOCKET, SO_BROADCAST) => o.broadcast = int_arg(val)? != 0,
            (SOL_SOCKET, SO_RCVBUF) => o.rcvbuf = reported_buf(int_arg(val)?),
            (SOL_SOCKET, SO_SNDBUF) => {
                o.sndbuf = reported_buf(int_arg(val)?);
                o.sndbuf_set = true;
                // A connection's smoltcp buffer stays; what it may queue shrinks.
                let limit = o.tx_buffer_len();
                if let crate::stack::Proto::Tcp(crate::stack::TcpState::Conn(t)) = &mut s.proto {
                    t.send_limit = Some(limit);
                }
            }
            (SOL_SOCKET, SO_LINGER) => o.linger = linger_arg(val)?,
            (SOL_SOCKET, SO_RCVTIMEO) => o.rcvtimeo_us = timeval_arg(val)?,
            (SOL_SOCKET, SO_SNDTIMEO) => o.sndtimeo_us = timeval_arg(val)?,
            (IPPROTO_TCP, TCP_NODELAY) if tcp => o.nodelay = int_arg(val)? != 0,
            (IPPROTO_TCP, TCP_CORK) if tcp => o.cork = int_arg(val)? != 0,
            (IPPROTO_TCP, TCP_KEEPIDLE) if tcp => o.keep_idle_s = pos_arg(val, 32767)?,
            (IPPROTO_TCP, TCP_KEEPINTVL) if tcp => o.keep_intvl_s = pos_arg(val, 32767)?,
            (IPPROTO_TCP, TCP_KEEPCNT) if tcp => o.keep_cnt = pos_arg(val, 127)?,
            (IPPROTO_TCP, TCP_MAXSEG) if tcp => {
                int_arg(val)?;
            }
            (IPPROTO_IP, IP_TTL) => {
                let v = int_arg(val)?;
                if !(-1..=255).contains(&v) || v == 0 {
                    return Err(EINVAL);
                }
                o.ttl = (v > 0).then_some(v as u8);
            }
            (IPPROTO_IP, IP_TOS) => {
                // Linux: the two ECN bits of a TCP socket are the stack's own.
                let mut v = int_arg(val)? as u8;
                if tcp {
                    v = (v & !0x03) | (o.tos & 0x03);
                }
                o.tos = v;
                marking = v != 0;
            }
            (IPPROTO_IPV6, IPV6_TCLASS) if s.family == crate::Family::Inet6 => {
                let v = int_arg(val)?;
                if !(-1..=255).contains(&v) {
                    return Err(EINVAL);
                }
                o.tclass = v.max(0) as u8;
                marking = v > 0;
            }
            (IPPROTO_IP, IP_RECVERR) => o.recverr = int_arg(val)? != 0,
            (IPPROTO_IPV6, IPV6_RECVERR) if s.family == crate::Family::Inet6 => {
                o.recverr = int_arg(val)? != 0
            }
            (IPPROTO_IPV6, IPV6_UNICAST_HOPS) if s.family == crate::Family::Inet6 => {
                let v = int_arg(val)?;
                if !(-1..=255).contains(&v) {
                    return Err(EINVAL);
                }
                o.ttl = (v > 0).then_some(v as u8);
            }
            (IPPROTO_IPV6, IPV6_V6ONLY) if s.family == crate::Family::Inet6 => {
                if s.local.is_some() {
                    return Err(EINVAL);
                }
                o.v6only = int_arg(val)? != 0;
            }
            _ => return Err(ENOPROTOOPT),
        }
        self.marking |= marking;
        let s = self.sock_mut(id)?;
        if (level, name) == (IPPROTO_TCP, TCP_CORK) && s.opts.cork {
            // Corking is the stack's alone (smoltcp knows nothing of it): nginx sets
            // it before every response, and applying the options to the connection
            // cloned them and built a list each time.
            return Ok(());
        }
        // Apply what smoltcp knows to live sockets.
        let opts = s.opts.clone();
        let conns: alloc::vec::Vec<crate::stack::Conn> = match &s.proto {
            Proto::Tcp(TcpState::Conn(t)) => alloc::vec![t.c],
            Proto::Tcp(TcpState::Listening(l)) => l.armed.clone(),
            _ => alloc::vec::Vec::new(),
        };
        for c in conns {
            let sk = self.ifaces[c.iface]
                .sockets
                .get_mut::<smoltcp::socket::tcp::Socket>(c.handle);
            crate::tcp::apply_opts(sk, &opts);
        }
        // Uncorking sends what the cork held; so does setting TCP_NODELAY (tcp(7)).
        if (level, name) == (IPPROTO_TCP, TCP_CORK) && !opts.cork
            || (level, name) == (IPPROTO_TCP, TCP_NODELAY) && opts.nodelay
        {
            self.tcp_uncork(id);
        }
        // TCP_CORK queues nothing by itself (uncorking marks the stack dirty when it
        // moved held bytes): nginx sets and clears it around every response, and a
        // poll after each setting was a third of its polls per request.
        if (level, name) != (IPPROTO_TCP, TCP_CORK) {
            self.dirty = true;
        }
        Ok(())
    }

    /// getsockopt(2): writes the value (truncated to `out`) and returns its length.
    /// SO_ERROR takes the pending error.
    pub fn getsockopt(
        &mut self,
        id: crate::SocketId,
        level: i32,
        name: i32,
        out: &mut [u8],
    ) -> Result<usize, Errno> {
        use crate::stack::{Proto, TcpState};
        // A TCP socket's send buffer as it is (it cannot grow later, and without
        // SO_SNDBUF its size follows the free memory), doubled as Linux reports it.
        let tcp_sndbuf = self.tcp_send_buffer_len(id).map(|n| n.saturating_mul(2));
        let s = self.sock_mut(id)?;
        let tcp = matches!(s.proto, Proto::Tcp(_));
        let o = &s.opts;
        let int = |v: i32| int_bytes(v);
        if let Some(bit) = crate::ancillary::recv_bit(level, name) {
            if level == IPPROTO_IPV6 && s.family != crate::Family::Inet6 {
                return Err(ENOPROTOOPT);
            }
            return Ok(put(out, &int((o.recv_info & bit != 0) as i32)));
        }
        let b: [u8; 4] = match (level, name) {
            (SOL_SOCKET, SO_TYPE) => int(if tcp { SOCK_STREAM } else { SOCK_DGRAM }),
            (SOL_SOCKET, SO_PROTOCOL) => int(match &s.proto {
                Proto::Tcp(_) => IPPROTO_TCP,
                Proto::Udp(u) if u.lite.is_some() => crate::lite::IPPROTO_UDPLITE,
                Proto::Udp(_) => IPPROTO_UDP,
            }),
            (crate::lite::IPPROTO_UDPLITE, crate::lite::UDPLITE_SEND_CSCOV) => match &s.proto {
                Proto::Udp(u) if u.lite.is_some() => int(u.lite.map_or(0, |l| l.send) as i32),
                _ => return Err(ENOPROTOOPT),
            },
            (crate::lite::IPPROTO_UDPLITE, crate::lite::UDPLITE_RECV_CSCOV) => match &s.proto {
                Proto::Udp(u) if u.lite.is_some() => int(u.lite.map_or(0, |l| l.recv) as i32),
                _ => return Err(ENOPROTOOPT),
            },
            (SOL_SOCKET, SO_DOMAIN) => int(s.family.to_linux() as i32),
            (SOL_SOCKET, SO_ERROR) => int(s.error.take().map_or(0, |e| e.0)),
            (SOL_SOCKET, SO_ACCEPTCONN) => {
                int(matches!(s.proto, Proto::Tcp(TcpState::Listening(_))) as i32)
            }
            (SOL_SOCKET, SO_REUSEADDR) => int(o.reuse_addr as i32),
            (SOL_SOCKET, SO_REUSEPORT) => int(o.reuse_port as i32),
            (SOL_SOCKET, SO_KEEPALIVE) => int(o.keepalive as i32),
            (SOL_SOCKET, SO_BROADCAST) => int(o.broadcast as i32),
            (SOL_SOCKET, SO_RCVBUF) => int(o.rcvbuf as i32),
            (SOL_SOCKET, SO_SNDBUF) => {
                int(tcp_sndbuf.unwrap_or(o.sndbuf).min(i32::MAX as usize) as i32)
            }
            (SOL_SOCKET, SO_LINGER) => return Ok(put(out, &linger_bytes(o.linger))),
            (SOL_SOCKET, SO_RCVTIMEO) => return Ok(put(out, &timeval_bytes(o.rcvtimeo_us))),
            (SOL_SOCKET, SO_SNDTIMEO) => return Ok(put(out, &timeval_bytes(o.sndtimeo_us))),
            (IPPROTO_TCP, TCP_NODELAY) if tcp => int(o.nodelay as i32),
            (IPPROTO_TCP, TCP_CORK) if tcp => int(o.cork as i32),
            (IPPROTO_TCP, TCP_KEEPIDLE) if tcp => int(o.keep_idle_s as i32),
            (IPPROTO_TCP, TCP_KEEPINTVL) if tcp => int(o.keep_intvl_s as i32),
            (IPPROTO_TCP, TCP_KEEPCNT) if tcp => int(o.keep_cnt as i32),
            (IPPROTO_TCP, TCP_MAXSEG) if tcp => int(1460),
            (IPPROTO_IP, IP_TTL) => int(o.ttl.unwrap_or(64) as i32),
            (IPPROTO_IP, IP_TOS) => int(o.tos as i32),
            (IPPROTO_IPV6, IPV6_TCLASS) if s.family == crate::Family::Inet6 => int(o.tclass as i32),
            (IPPROTO_IP, IP_RECVERR) => int(o.recverr as i32),
            (IPPROTO_IPV6, IPV6_RECVERR) if s.family == crate::Family::Inet6 => {
                int(o.recverr as i32)
            }
            (IPPROTO_IPV6, IPV6_UNICAST_HOPS) if s.family == crate::Family::Inet6 => {
                int(o.ttl.unwrap_or(64) as i32)
            }
            (IPPROTO_IPV6, IPV6_V6ONLY) if s.family == crate::Family::Inet6 => int(o.v6only as i32),
            _ => return Err(ENOPROTOOPT),
        };
        Ok(put(out, &b))
    }

    /// The socket's options (SO_RCVTIMEO/SO_SNDTIMEO are the kernel's to enforce).
    pub fn options(&self, id: crate::SocketId) -> Result<&SockOpts, Errno> {
        Ok(&self.sock(id)?.opts)
    }
}

fn pos_arg(val: &[u8], max: i32) -> Result<u32, Errno> {
    let v = int_arg(val)?;
    if !(1..=max).contains(&v) {
        return Err(EINVAL);
    }
    Ok(v as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        assert_eq!(int_arg(&int_bytes(-3)), Ok(-3));
        assert_eq!(int_arg(&[1, 0]), Err(EINVAL));
        assert_eq!(linger_arg(&linger_bytes(Some(0))), Ok(Some(0)));
        assert_eq!(linger_arg(&linger_bytes(None)), Ok(None));
        assert_eq!(timeval_arg(&timeval_bytes(2_500_000)), Ok(2_500_000));
        assert_eq!(reported_buf(1000), 4608);
        assert_eq!(reported_buf(100_000), 200_000);
    }
}
