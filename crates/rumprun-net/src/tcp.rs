//! TCP sockets with Linux semantics over smoltcp: listen with a real backlog, accept,
//! connect (always asynchronous: EINPROGRESS, then [`Stack::connect_result`]),
//! send/recv with EAGAIN/EPIPE/ECONNRESET/EOF, shutdown.
//!
//! smoltcp accepts one connection per listening socket, so a listener keeps one armed
//! smoltcp socket in LISTEN per interface its address is on. `Stack::poll` processes
//! packets one at a time; after each, an armed socket that received a SYN moves to the
//! listener's pending queue and a fresh one is armed, so any number of clients can
//! connect at once. The pending queue (half-open and established connections) holds at
//! most `backlog` (clamped to 1..=4096) connections; a SYN beyond that is dropped
//! silently (its smoltcp socket is discarded before it answers), like Linux, so the
//! client retries. accept hands out the oldest established one.
//!
//! Errors: a connect that ends in a reset gives ECONNREFUSED (ETIMEDOUT after 75 s
//! without answer; at once for a port of this host nothing listens on, as Linux's
//! loopback answers before connect returns), and leaves the socket unconnected: the
//! next connect reports the failure (ECONNABORTED once SO_ERROR took it) and the one
//! after starts over; a reset of an established connection gives ECONNRESET once (to
//! SO_ERROR, recv or send), then recv reads 0 and send gives EPIPE.

use crate::addr::SockAddr;
use crate::errno::*;
use crate::options::{SockOpts, MSG_PEEK};
use crate::stack::{
    Conn, Listener, Proto, Received, Shutdown, Socket, Stack, TcpConn, TcpState, CONNECT_TIMEOUT_MS,
};
use alloc::collections::VecDeque;
use alloc::vec;
use alloc::vec::Vec;
use smoltcp::phy::Device;
use smoltcp::socket::tcp;
use smoltcp::time::Duration;

/// SOMAXCONN
pub const SOMAXCONN: usize = 4096;

/// How long TCP_CORK holds back a partial segment (Linux: 200 ms).
pub const CORK_MS: i64 = 200;
/// A full segment under TCP_CORK: the MSS of an Ethernet MTU (IPv4).
pub const CORK_SEGMENT: usize = 1460;

/// Queues up to `n` bytes that `fill` writes (see [`Stack::tcp_send_with`]) in
/// smoltcp's send buffer, in place (its free space may wrap: two pieces); returns how
/// many. Err when the socket cannot send.
fn fill_send_buffer(
    sk: &mut tcp::Socket<'static>,
    n: usize,
    fill: &mut dyn FnMut(&mut [u8]) -> usize,
) -> Result<usize, tcp::SendError> {
    let mut done = 0;
    while done < n {
        let (got, wanted) = sk.send(|free| {
            let k = free.len().min(n - done);
            let got = fill(&mut free[..k]);
            (got, (got, k))
        })?;
        done += got;
        if got == 0 || got < wanted {
            break;
        }
    }
    Ok(done)
}

/// Appends up to `n` bytes that `fill` writes to what TCP_CORK holds; returns how many.
fn fill_corked(corked: &mut Vec<u8>, n: usize, fill: &mut dyn FnMut(&mut [u8]) -> usize) -> usize {
    let held = corked.len();
    corked.resize(held + n, 0);
    let got = fill(&mut corked[held..]);
    corked.truncate(held + got);
    got
}

/// Moves bytes held by TCP_CORK into smoltcp's send buffer: whole segments, or
/// everything that fits when `all` (uncorked, 200 ms passed, closing), which then
/// goes out past Nagle (`TcpConn::pushing`).
pub(crate) fn push_corked(t: &mut TcpConn, sk: &mut tcp::Socket<'static>, all: bool) {
    let n = if all {
        t.corked.len()
    } else {
        t.corked.len() / CORK_SEGMENT * CORK_SEGMENT
    };
    if n == 0 {
        return;
    }
    let sent = sk.send_slice(&t.corked[..n]).unwrap_or(0);
    t.corked.drain(..sent);
    if all && sent > 0 {
        sk.set_nagle_enabled(false);
        t.pushing = true;
    }
}

/// Whether the peer's FIN arrived (or the connection is gone): reads end at EOF
/// once the queue is empty.
pub(crate) fn fin_received(st: tcp::State) -> bool {
    use tcp::State::*;
    matches!(st, CloseWait | LastAck | Closing | TimeWait | Closed)
}

/// A zeroed buffer of `len` bytes, or ENOBUFS when the heap cannot grow that much:
/// the program sizes socket buffers (SO_RCVBUF/SO_SNDBUF, up to 4 MiB each) and makes
/// as many sockets as it likes, and an allocation that cannot fail ends the VM.
pub(crate) fn zeroed(len: usize) -> Result<Vec<u8>, Errno> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| ENOBUFS)?;
    v.resize(len, 0);
    Ok(v)
}

/// A smoltcp TCP socket with the buffer sizes and options of `opts` (`tx_default`: the
/// send buffer's size unless SO_SNDBUF was set); ENOBUFS when there is no memory for
/// its buffers.
pub(crate) fn new_socket(
    opts: &SockOpts,
    tx_default: usize,
) -> Result<tcp::Socket<'static>, Errno> {
    let rx = tcp::SocketBuffer::new(zeroed(opts.rx_buffer_len())?);
    let tx = tcp::SocketBuffer::new(zeroed(opts.tcp_tx_buffer_len(tx_default))?);
    let mut s = tcp::Socket::new(rx, tx);
    apply_opts(&mut s, opts);
    Ok(s)
}

/// Applies the options smoltcp knows to a live socket.
pub(crate) fn apply_opts(s: &mut tcp::Socket<'static>, opts: &SockOpts) {
    s.set_nagle_enabled(!opts.nodelay);
    s.set_keep_alive(
        opts.keepalive
            .then(|| Duration::from_secs(opts.keep_idle_s.max(1) as u64)),
    );
    s.set_hop_limit(opts.ttl);
}

/// A smoltcp socket listening on `local`; ENOBUFS when there is no memory for it.
pub(crate) fn new_listener(
    opts: &SockOpts,
    local: &SockAddr,
    tx_default: usize,
) -> Result<tcp::Socket<'static>, Errno> {
    let mut s = new_socket(opts, tx_default)?;
    s.listen(local.to_listen_endpoint())
        .expect("a fresh socket listens on a nonzero port");
    Ok(s)
}

/// A listener re-armed after a connection arrived (no caller to give an errno to):
/// with the listener's buffers, or with the smallest ones when memory is short.
pub(crate) fn rearmed_listener(
    opts: &SockOpts,
    local: &SockAddr,
    tx_default: usize,
) -> tcp::Socket<'static> {
    new_listener(opts, local, tx_default).unwrap_or_else(|_| {
        let mut small = opts.clone();
        (small.rcvbuf, small.sndbuf) = (0, 0);
        let mut s = tcp::Socket::new(
            tcp::SocketBuffer::new(vec![0u8; small.rx_buffer_len()]),
            tcp::SocketBuffer::new(vec![0u8; small.tx_buffer_len()]),
        );
        apply_opts(&mut s, opts);
        s.listen(local.to_listen_endpoint())
            .expect("a fresh socket listens on a nonzero port");
        s
    })
}

impl<D: Device> Stack<D> {
    /// listen(2): binds an ephemeral port first if unbound; `backlog` <= 0 means 1,
    /// larger than SOMAXCONN means SOMAXCONN. Calling it again on a listening socket
    /// only changes the backlog. EINVAL on a connected socket, EOPNOTSUPP on UDP.
    pub fn listen(&mut self, id: crate::SocketId, backlog: i32) -> Result<(), Errno> {
        let backlog = (backlog.max(1) as usize).min(SOMAXCONN);
        match &mut self.sock_mut(id)?.proto {
            Proto::Udp(_) => return Err(EOPNOTSUPP),
            Proto::Tcp(TcpState::Conn(_)) => return Err(EINVAL),
            Proto::Tcp(TcpState::Listening(l)) => {
                l.backlog = backlog;
                return Ok(());
            }
            Proto::Tcp(TcpState::Idle) => {}
        }
        if self.sock(id)?.local.is_none() {
            let fam = self.sock(id)?.family;
            self.bind(id, fam.unspecified())?;
        }
        let s = self.sock(id)?;
        let local = s.local.unwrap();
        let opts = s.opts.clone();
        // Listening is a strong hold: refuse if another listener/bound socket overlaps
        // (a bind under SO_REUSEADDR may have passed over connections only).
        let mut fresh = Vec::new();
        let tx_default = self.tcp_tx_len;
        for (i, iface) in self.ifaces.iter().enumerate() {
            if local.is_unspecified() || iface.has_addr(local.ip()) {
                fresh.push((i, new_listener(&opts, &local, tx_default)?));
            }
        }
        let mut armed = Vec::new();
        for (i, sk) in fresh {
            armed.push(Conn {
                iface: i,
                handle: self.ifaces[i].sockets.add(sk),
            });
        }
        self.sock_mut(id)?.proto = Proto::Tcp(TcpState::Listening(Listener {
            backlog,
            armed,
            pending: VecDeque::new(),
        }));
        Ok(())
    }

    /// accept(2): the oldest established pending connection as a new socket (it
    /// inherits the listener's options) and its peer address. EAGAIN when none,
    /// EINVAL when not listening.
    pub fn accept(&mut self, id: crate::SocketId) -> Result<(crate::SocketId, SockAddr), Errno> {
        let s = self.sock(id)?;
        let Proto::Tcp(TcpState::Listening(l)) = &s.proto else {
            return Err(EINVAL);
        };
        let pos = l
            .pending
            .iter()
            .position(|c| self.acceptable(c))
            .ok_or(EAGAIN)?;
        let (family, opts) = (s.family, s.opts.clone());
        let Proto::Tcp(TcpState::Listening(l)) = &mut self.sock_mut(id)?.proto else {
            unreachable!()
        };
        let c = l.pending.remove(pos).unwrap();
        let sk = self.ifaces[c.iface].sockets.get::<tcp::Socket>(c.handle);
        let local = sk
            .local_endpoint()
            .map(|ep| SockAddr::from_endpoint(ep, family));
        let peer = SockAddr::from_endpoint(
            sk.remote_endpoint()
                .expect("established sockets have a peer"),
            family,
        );
        let state = sk.state();
        let new = Socket {
            family,
            proto: Proto::Tcp(TcpState::Conn(TcpConn {
                c,
                shut_rd: false,
                shut_wr: false,
                connecting: false,
                failed: false,
                started_ms: self.now.total_millis(),
                last_state: state,
                corked: Vec::new(),
                corked_since: 0,
                pushing: false,
                send_limit: None,
            })),
            opts,
            local,
            error: None,
            generation: 0,
            snap: Default::default(),
            stale: true,
        };
        Ok((self.insert(new), peer))
    }

    pub(crate) fn tcp_connect(&mut self, id: crate::SocketId, addr: SockAddr) -> Result<(), Errno> {
        let s = self.sock_mut(id)?;
        match &s.proto {
            Proto::Tcp(TcpState::Listening(_)) => return Err(EINVAL),
            Proto::Tcp(TcpState::Conn(t)) if t.failed => {
                // The failed attempt is reported (its error, or ECONNABORTED once
                // SO_ERROR took it) and the socket is unconnected again, as on Linux.
                let e = s.error.take().unwrap_or(ECONNABORTED);
                let c = t.c;
                s.proto = Proto::Tcp(TcpState::Idle);
                self.ifaces[c.iface].sockets.remove(c.handle);
                return Err(e);
            }
            Proto::Tcp(TcpState::Conn(t)) => {
                if t.connecting {
                    return Err(EALREADY);
                }
                if let Some(e) = s.error.take() {
                    return Err(e);
                }
                return Err(EISCONN);
            }
            _ => {}
        }
        if addr.family() != s.family {
            return Err(EAFNOSUPPORT);
        }
        let dst = addr.ip();
        if dst.is_unspecified() || addr.port() == 0 {
            // Linux connects to the local host for 0.0.0.0; port 0 is refused.
            return Err(if addr.port() == 0 {
                ECONNREFUSED
            } else {
                ENETUNREACH
            });
        }
        if dst.is_ipv4() && s.opts.v6only {
            return Err(ENETUNREACH);
        }
        let bound = s.local;
        let opts = s.opts.clone();
        let i = self.route(dst, bound.map(|b| b.ip()))?;
        if !self.ifaces[i].has_family_addr(dst) {
            return Err(ENETUNREACH);
        }
        if self.is_own_addr(dst) && !self.tcp_listens_on(addr.port()) {
            // Linux's loopback answers the SYN with a reset before connect() returns;
            // ours would send it at the next poll, after a listen() that came later
            // (asyncio's connect-racing tests).
            return Err(ECONNREFUSED);
        }
        let local = match bound {
            Some(b) => b,
            None => {
                let p = self.ephemeral_port(crate::stack::PortSpace::Tcp)?;
                self.sock(id)?.family.unspecified().with_port(p)
            }
        };
        let mut sk = new_socket(&opts, self.tcp_tx_len)?;
        sk.set_timeout(Some(Duration::from_millis(CONNECT_TIMEOUT_MS as u64)));
        let iface = &mut self.ifaces[i];
        let mut lep = local.to_listen_endpoint();
        if lep
            .addr
            .is_some_and(|a| a.version() != crate::addr::ip_to_smol(dst).version())
        {
            lep.addr = None; // an AF_INET6 socket bound to :: connecting to IPv4
        }
        sk.connect(iface.iface.context(), addr.to_endpoint(), lep)
            .map_err(|_| ENETUNREACH)?;
        let h = iface.sockets.add(sk);
        let now = self.now.total_millis();
        let s = self.sock_mut(id)?;
        s.local = Some(local);
        s.proto = Proto::Tcp(TcpState::Conn(TcpConn {
            c: Conn {
                iface: i,
                handle: h,
            },
            shut_rd: false,
            shut_wr: false,
            connecting: true,
            failed: false,
            started_ms: now,
            last_state: tcp::State::SynSent,
            corked: Vec::new(),
            corked_since: 0,
            pushing: false,
            send_limit: None,
        }));
        self.dirty = true;
        Err(EINPROGRESS)
    }

    /// Whether `ip` is this host's (loopback or an interface's address).
    fn is_own_addr(&self, ip: core::net::IpAddr) -> bool {
        ip.is_loopback() || self.ifaces.iter().any(|f| f.has_addr(ip))
    }

    /// Whether some TCP socket listens on `port` (on any address).
    fn tcp_listens_on(&self, port: u16) -> bool {
        self.socks.iter().flatten().any(|s| {
            matches!(s.proto, Proto::Tcp(TcpState::Listening(_)))
                && s.local.is_some_and(|l| l.port() == port)
        })
    }

    /// The outcome of a connect: None while in progress, Some(Ok) once connected,
    /// Some(Err(e)) when it failed (the error is consumed, like SO_ERROR).
    /// Some(Err(ENOTCONN)) for a socket that never called connect.
    pub fn connect_result(&mut self, id: crate::SocketId) -> Option<Result<(), Errno>> {
        let s = self.sock_mut(id).ok()?;
        match &s.proto {
            Proto::Tcp(TcpState::Conn(t)) if t.connecting => None,
            Proto::Tcp(TcpState::Conn(_)) => Some(match s.error.take() {
                Some(e) => Err(e),
                None => Ok(()),
            }),
            Proto::Udp(u) if u.peer.is_some() => Some(Ok(())),
            _ => Some(Err(ENOTCONN)),
        }
    }

    fn tcp_conn(
        &mut self,
        id: crate::SocketId,
    ) -> Result<(&mut Socket, &mut tcp::Socket<'static>), Errno> {
        let s = self
            .socks
            .get_mut(id.0 as usize)
            .and_then(|s| s.as_mut())
            .ok_or(EBADF)?;
        s.stale = true;
        let Proto::Tcp(TcpState::Conn(t)) = &s.proto else {
            return Err(ENOTCONN);
        };
        let c = t.c;
        let sk = self.ifaces[c.iface]
            .sockets
            .get_mut::<tcp::Socket>(c.handle);
        Ok((s, sk))
    }

    pub(crate) fn tcp_send(&mut self, id: crate::SocketId, buf: &[u8]) -> Result<usize, Errno> {
        let mut rest = buf;
        self.tcp_send_with(id, buf.len(), &mut |dst: &mut [u8]| {
            let n = dst.len().min(rest.len());
            dst[..n].copy_from_slice(&rest[..n]);
            rest = &rest[n..];
            n
        })
    }

    /// A send of up to `len` bytes on TCP connection `id` that `fill` writes straight
    /// into the send buffer (sendfile's page cache copy, with no buffer between):
    /// `fill(dst)` writes the next bytes into `dst` and returns how many (fewer than
    /// `dst.len()` when it has no more now, which ends the send). Returns how many
    /// were taken, with the errors of [`Stack::send`]; EAGAIN when none were.
    pub(crate) fn tcp_send_with(
        &mut self,
        id: crate::SocketId,
        len: usize,
        fill: &mut dyn FnMut(&mut [u8]) -> usize,
    ) -> Result<usize, Errno> {
        let now_ms = self.now.total_millis();
        let (s, sk) = match self.tcp_conn(id) {
            Err(ENOTCONN) => return Err(EPIPE),
            r => r?,
        };
        let Proto::Tcp(TcpState::Conn(t)) = &s.proto else {
            unreachable!()
        };
        if t.connecting {
            return Err(EAGAIN);
        }
        if let Some(e) = s.error.take() {
            return Err(e);
        }
        if t.shut_wr || !sk.may_send() {
            return Err(EPIPE);
        }
        if len == 0 {
            return Ok(0);
        }
        let queued = sk.send_queue();
        let n = if s.opts.cork {
            let Proto::Tcp(TcpState::Conn(t)) = &mut s.proto else {
                unreachable!()
            };
            let free = t.send_capacity(sk).saturating_sub(sk.send_queue());
            let room = free.saturating_sub(t.corked.len());
            if room == 0 {
                // Nearly full: let what is held go rather than refuse with room left.
                push_corked(t, sk, true);
                self.dirty = true;
                return Err(EAGAIN);
            }
            let n = len.min(room);
            let held = t.corked.len();
            let whole = (held + n) / CORK_SEGMENT * CORK_SEGMENT;
            if whole > held {
                // Whole segments go to smoltcp (what is held first), straight from
                // the source; only the tail is held (one copy less of a big write).
                // Both fit: `n` is within the room left besides what is held.
                let pushed = sk.send_slice(&t.corked).unwrap_or(0);
                t.corked.drain(..pushed);
                debug_assert!(t.corked.is_empty());
                let sent = fill_send_buffer(sk, whole - held, fill).map_err(|_| EPIPE)?;
                t.corked_since = now_ms;
                if sent == whole - held {
                    sent + fill_corked(&mut t.corked, n - sent, fill)
                } else {
                    sent
                }
            } else {
                if held == 0 {
                    t.corked_since = now_ms;
                }
                fill_corked(&mut t.corked, n, fill)
            }
        } else {
            let room = t.send_capacity(sk).saturating_sub(sk.send_queue());
            fill_send_buffer(sk, len.min(room), fill).map_err(|_| EPIPE)?
        };
        if n == 0 {
            return Err(EAGAIN);
        }
        // Bytes that TCP_CORK only held (less than a segment) give a poll nothing to
        // send: nginx's headers and small body, each corked until it uncorks.
        if sk.send_queue() != queued {
            self.dirty = true;
        }
        Ok(n)
    }

    /// How many bytes a send on TCP connection `id` would take now (the send buffer's
    /// free space, less what TCP_CORK holds); None for other sockets and for connections
    /// a send would not take bytes from (connecting, shut down, failed).
    pub fn send_room(&self, id: crate::SocketId) -> Option<usize> {
        let s = self.sock(id).ok()?;
        let Proto::Tcp(TcpState::Conn(t)) = &s.proto else {
            return None;
        };
        let sk = self.ifaces[t.c.iface]
            .sockets
            .get::<tcp::Socket>(t.c.handle);
        if s.error.is_some() || t.shut_wr || t.connecting || !sk.may_send() {
            return None; // a send would fail (or wait) for another reason: let it say so
        }
        Some(
            t.send_capacity(sk)
                .saturating_sub(sk.send_queue())
                .saturating_sub(t.corked.len()),
        )
    }

    /// The send buffer a TCP socket has (a connection: its smoltcp buffer), or will
    /// have once connected (SO_SNDBUF's size if set, else the stack's default; a
    /// listener: what the next connection it accepts gets), in bytes: what
    /// getsockopt(SO_SNDBUF) reports doubled, as Linux reports twice what was set.
    /// None for a socket that is not TCP.
    pub(crate) fn tcp_send_buffer_len(&self, id: crate::SocketId) -> Option<usize> {
        let s = self.sock(id).ok()?;
        let capacity = |c: &crate::stack::Conn| {
            self.ifaces[c.iface]
                .sockets
                .get::<tcp::Socket>(c.handle)
                .send_capacity()
        };
        match &s.proto {
            Proto::Tcp(TcpState::Conn(t)) => {
                let limit = t.send_limit.unwrap_or(usize::MAX);
                Some(capacity(&t.c).min(limit))
            }
            Proto::Tcp(TcpState::Listening(l)) => match l.armed.first() {
                Some(c) => Some(capacity(c)),
                None => Some(s.opts.tcp_tx_buffer_len(self.tcp_tx_len)),
            },
            Proto::Tcp(TcpState::Idle) => Some(s.opts.tcp_tx_buffer_len(self.tcp_tx_len)),
            _ => None,
        }
    }

    /// Sends whatever TCP_CORK holds on `id` (a TCP connection; others: nothing).
    pub(crate) fn tcp_uncork(&mut self, id: crate::SocketId) {
        if let Ok((s, sk)) = self.tcp_conn(id) {
            if let Proto::Tcp(TcpState::Conn(t)) = &mut s.proto {
                if !t.corked.is_empty() {
                    push_corked(t, sk, true);
                    self.dirty = true;
                }
            }
        }
    }

    pub(crate) fn tcp_recv(
        &mut self,
        id: crate::SocketId,
        buf: &mut [u8],
        flags: u32,
    ) -> Result<Received, Errno> {
        let (s, sk) = self.tcp_conn(id)?;
        let Proto::Tcp(TcpState::Conn(t)) = &s.proto else {
            unreachable!()
        };
        let done = |len| {
            Ok(Received {
                len,
                full_len: len,
                from: None,
            })
        };
        if t.connecting {
            return Err(EAGAIN);
        }
        if sk.recv_queue() > 0 && !buf.is_empty() {
            // A read gives a poll something to send only when it opens the window
            // enough for smoltcp to announce it (twice the last announced one): not
            // while at least half the buffer was free before it (a request read from
            // an almost empty buffer, as nginx's and redis's each are). A window
            // announced since then is at least a quarter of the buffer, which keeps a
            // sender going when the buffer holds 16 segments or more; a smaller
            // buffer polls after every read, as all did.
            let cap = sk.recv_capacity();
            let was_free = cap - sk.recv_queue();
            let n = if flags & MSG_PEEK != 0 {
                sk.peek_slice(buf)
            } else {
                sk.recv_slice(buf)
            }
            .unwrap_or(0);
            if was_free < cap / 2 || cap < 16 * 1460 {
                self.dirty = true;
            }
            return done(n);
        }
        if let Some(e) = s.error.take() {
            return Err(e);
        }
        if buf.is_empty() || t.shut_rd || fin_received(sk.state()) {
            return done(0);
        }
        Err(EAGAIN)
    }

    pub(crate) fn tcp_shutdown(&mut self, id: crate::SocketId, how: Shutdown) -> Result<(), Errno> {
        let (s, sk) = self.tcp_conn(id)?;
        let Proto::Tcp(TcpState::Conn(t)) = &mut s.proto else {
            unreachable!()
        };
        if matches!(how, Shutdown::Read | Shutdown::Both) {
            t.shut_rd = true;
        }
        if matches!(how, Shutdown::Write | Shutdown::Both) && !t.shut_wr {
            push_corked(t, sk, true);
            t.shut_wr = true;
            if t.connecting {
                sk.abort();
            } else {
                sk.close();
            }
        }
        Ok(())
    }
}
