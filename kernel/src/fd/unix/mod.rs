//! AF_UNIX sockets (`man 7 unix`) as files: stream, datagram and seqpacket sockets,
//! socketpair, names (paths and abstract, see `names`), listen/connect/accept, data
//! with attached files (SCM_RIGHTS), shutdown, and readiness for poll/select/epoll.
//!
//! Every socket owns an [`Inbox`], the buffer it receives into (a `StreamQueue` or a
//! `MessageQueue` from `rumprun-ipc`); a connected socket holds its peer's inbox to
//! send into. The inbox's flags carry what Linux keeps in `sk_shutdown`/`sk_err`:
//! whether more data can come (end of file), whether anyone still reads (EPIPE for
//! senders), and a reset. Operations never block: they say EAGAIN and the syscall
//! layer (`syscalls::net`) waits on the I/O wait queue. Its socket calls (`fd::socket::Socket`) are in `calls`.
//!
//! Identities: SO_PEERCRED names the peer program's pid as it was when the connection
//! was made (the connecting program for the accepted socket, the listening one for
//! the connector, ourselves for socketpair), uid/gid 0; SCM_CREDENTIALS carry the
//! sender's own pid.
//! Files in flight (sent, not yet received) are dropped with the socket that holds
//! them; a socket sent through itself and then closed is never freed (Linux has a
//! garbage collector for such cycles; we do not).

pub mod addr;
mod calls;
pub mod names;

use super::{wait, Direction, FileOps, OpenFile, POLLERR, POLLHUP, POLLIN, POLLOUT};
use crate::errno::*;
use crate::fd::stat::Stat;
use addr::UnixAddr;
use alloc::collections::VecDeque;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::any::Any;
use core::sync::atomic::{AtomicU64, Ordering};
use rumprun_ipc::{Message, MessageQueue, StreamQueue};
use rumprun_net::errno::{
    ECONNREFUSED, ECONNRESET, EISCONN, EMSGSIZE, ENOTCONN, EOPNOTSUPP, ESOCKTNOSUPPORT,
};
use spin::Mutex;

pub const POLLRDHUP: u32 = 0x2000;
const S_IFSOCK: u32 = 0o140000;
pub const EPROTOTYPE: Errno = Errno::EPROTOTYPE;
const EPERM: Errno = Errno::EPERM;
const EPROTONOSUPPORT: Errno = Errno::EPROTONOSUPPORT;
/// Linux's default (and, doubled, maximum) socket buffer size (net.core.*mem_default).
pub const DEFAULT_BUF: usize = 212_992;
/// SOCK_MIN_SNDBUF/RCVBUF on x86_64.
const MIN_BUF: usize = 4608;
/// net.unix.max_dgram_qlen.
const MAX_DGRAM_QLEN: usize = 512;
/// A datagram may be at most the send buffer less this (Linux's skb overhead).
const DGRAM_OVERHEAD: usize = 32;
/// The largest backlog listen takes (net.core.somaxconn).
const SOMAXCONN: usize = 4096;

/// Files passed with SCM_RIGHTS.
pub type Rights = Vec<Arc<OpenFile>>;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Stream,
    Datagram,
    SeqPacket,
}

impl Kind {
    /// The socket type of socket(2)/socketpair(2) without its flags: SOCK_RAW means a
    /// datagram socket, as on Linux; protocol must be 0 (or PF_UNIX).
    pub fn from_linux(ty: u32, protocol: u64) -> Result<Kind, Errno> {
        if protocol != 0 && protocol != 1 {
            return Err(EPROTONOSUPPORT);
        }
        match ty & 0xf {
            1 => Ok(Kind::Stream),
            2 | 3 => Ok(Kind::Datagram),
            5 => Ok(Kind::SeqPacket),
            _ => Err(ESOCKTNOSUPPORT),
        }
    }
    pub fn linux(self) -> u32 {
        match self {
            Kind::Stream => 1,
            Kind::Datagram => 2,
            Kind::SeqPacket => 5,
        }
    }
    fn connection_oriented(self) -> bool {
        self != Kind::Datagram
    }
}

enum Buffer {
    Stream(StreamQueue<Rights>),
    Messages(MessageQueue<UnixAddr, Rights>),
}

/// What a socket receives into; its peers hold it to send.
pub struct Inbox {
    buf: Buffer,
    /// Nothing more will arrive (the sender shut down writing or closed, or the owner
    /// shut down reading): once empty, reads give end of file.
    no_more_data: bool,
    /// The owner reads no more (shut down reading, or closed): senders get EPIPE.
    no_reader: bool,
    /// The owner closed: datagram senders get ECONNREFUSED.
    closed: bool,
    /// The peer closed with data unread (or before accepting): the next read on an
    /// empty inbox fails with ECONNRESET.
    reset: bool,
    /// Bumped on every change (edge-triggered epoll).
    generation: u64,
}

type InboxRef = Arc<Mutex<Inbox>>;

impl Inbox {
    fn new(kind: Kind) -> InboxRef {
        let buf = match kind {
            Kind::Stream => Buffer::Stream(StreamQueue::new(DEFAULT_BUF)),
            _ => Buffer::Messages(MessageQueue::new(DEFAULT_BUF, MAX_DGRAM_QLEN)),
        };
        Arc::new(Mutex::new(Inbox {
            buf,
            no_more_data: false,
            no_reader: false,
            closed: false,
            reset: false,
            generation: 0,
        }))
    }
    fn is_empty(&self) -> bool {
        match &self.buf {
            Buffer::Stream(q) => q.is_empty(),
            Buffer::Messages(q) => q.is_empty(),
        }
    }
    /// Whether a send of `len` bytes would find room now.
    fn has_room_for(&self, len: usize) -> bool {
        match &self.buf {
            Buffer::Stream(q) => q.room() > 0,
            Buffer::Messages(q) => q.has_room_for(len),
        }
    }
    fn set_capacity(&mut self, n: usize) {
        match &mut self.buf {
            Buffer::Stream(q) => q.set_capacity(n),
            Buffer::Messages(q) => q.set_capacity(n),
        }
    }
    /// Empties the inbox; the files in flight are returned to be dropped after the
    /// lock is released (dropping one may close another socket).
    fn drain(&mut self) -> Vec<Rights> {
        match &mut self.buf {
            Buffer::Stream(q) => q.drain().collect(),
            Buffer::Messages(q) => q.drain().filter_map(|m| m.attachment).collect(),
        }
    }
    fn changed(&mut self) {
        self.generation += 1;
    }
}

enum Conn {
    Unconnected,
    Listening {
        backlog: usize,
        /// Connected server-side sockets waiting for accept.
        pending: VecDeque<Arc<UnixSocket>>,
        /// The program that called listen (its connectors' SO_PEERCRED).
        owner_pid: u32,
    },
    Connected {
        peer: InboxRef,
        peer_addr: UnixAddr,
        /// The peer program's pid when the connection was made (SO_PEERCRED).
        peer_pid: u32,
    },
}

struct State {
    /// The socket itself, for the calls that hand it on (names hold it weakly).
    me: Weak<UnixSocket>,
    local: UnixAddr,
    binding: Option<names::Binding>,
    conn: Conn,
    /// We shut down writing.
    shut_write: bool,
    sndbuf: usize,
    rcvbuf: usize,
    passcred: bool,
    /// SO_RCVTIMEO / SO_SNDTIMEO in ns (0 = wait forever).
    rcvtimeo: u64,
    sndtimeo: u64,
    /// Bumped when a connection is queued for accept.
    generation: u64,
}

pub struct UnixSocket {
    pub kind: Kind,
    ino: u64,
    inbox: InboxRef,
    state: Mutex<State>,
}

fn current_pid() -> u32 {
    crate::process::current().pid()
}

/// What a receive got.
pub struct Received {
    pub len: usize,
    /// The whole message's length (datagrams and seqpackets; = len for streams).
    pub full_len: usize,
    /// The sender's address (datagrams).
    pub from: Option<UnixAddr>,
    pub rights: Option<Rights>,
}

/// A snapshot of the options getsockopt reports.
pub struct Options {
    pub sndbuf: usize,
    pub rcvbuf: usize,
    pub passcred: bool,
    pub listening: bool,
    /// The peer program's pid, when connected (SO_PEERCRED).
    pub peer_pid: Option<u32>,
    pub rcvtimeo: u64,
    pub sndtimeo: u64,
}

static NEXT_INO: AtomicU64 = AtomicU64::new(30_000);

fn doubled_buf(v: usize) -> usize {
    (v.min(DEFAULT_BUF) * 2).max(MIN_BUF)
}

impl UnixSocket {
    pub fn new(kind: Kind) -> Arc<UnixSocket> {
        Self::with_state(kind, UnixAddr::Unnamed, Conn::Unconnected)
    }

    fn with_state(kind: Kind, local: UnixAddr, conn: Conn) -> Arc<UnixSocket> {
        let s = Arc::new(UnixSocket {
            kind,
            ino: NEXT_INO.fetch_add(1, Ordering::Relaxed),
            inbox: Inbox::new(kind),
            state: Mutex::new(State {
                me: Weak::new(),
                local,
                binding: None,
                conn,
                shut_write: false,
                sndbuf: DEFAULT_BUF,
                rcvbuf: DEFAULT_BUF,
                passcred: false,
                rcvtimeo: 0,
                sndtimeo: 0,
                generation: 0,
            }),
        });
        s.state.lock().me = Arc::downgrade(&s);
        s
    }

    /// socketpair: two sockets connected to each other.
    pub fn pair(kind: Kind) -> (Arc<UnixSocket>, Arc<UnixSocket>) {
        let a = Self::new(kind);
        let b = Self::new(kind);
        let me = current_pid();
        a.state.lock().conn = Conn::Connected {
            peer: b.inbox.clone(),
            peer_addr: UnixAddr::Unnamed,
            peer_pid: me,
        };
        b.state.lock().conn = Conn::Connected {
            peer: a.inbox.clone(),
            peer_addr: UnixAddr::Unnamed,
            peer_pid: me,
        };
        (a, b)
    }

    /// This socket's Arc (it lives while anyone calls it).
    fn arc(&self) -> Arc<UnixSocket> {
        let me = self.state.lock().me.upgrade();
        me.expect("a socket in use is alive")
    }

    /// bind: EINVAL if already bound; an unnamed address autobinds.
    pub fn bind(self: &Arc<Self>, addr: UnixAddr) -> Result<(), Errno> {
        let mut st = self.state.lock();
        if st.binding.is_some() {
            return Err(EINVAL);
        }
        let (addr, binding) = match addr {
            UnixAddr::Unnamed => names::autobind(self)?,
            a => {
                let b = names::bind(self, &a)?;
                (a, b)
            }
        };
        st.local = addr;
        st.binding = Some(binding);
        Ok(())
    }

    /// Before connect or send: a socket with SO_PASSCRED gets a name if it has none,
    /// so its peers can tell who sent (Linux's autobind).
    pub fn autobind_if_passcred(self: &Arc<Self>) -> Result<(), Errno> {
        let unnamed = {
            let st = self.state.lock();
            st.passcred && st.binding.is_none()
        };
        if unnamed {
            self.bind(UnixAddr::Unnamed)?;
        }
        Ok(())
    }

    pub fn listen(&self, backlog: i32) -> Result<(), Errno> {
        if !self.kind.connection_oriented() {
            return Err(EOPNOTSUPP);
        }
        let backlog = backlog.clamp(0, SOMAXCONN as i32) as usize;
        let mut st = self.state.lock();
        if st.binding.is_none() {
            return Err(EINVAL);
        }
        match &mut st.conn {
            Conn::Connected { .. } => Err(EINVAL),
            Conn::Listening { backlog: b, .. } => {
                *b = backlog;
                Ok(())
            }
            Conn::Unconnected => {
                st.conn = Conn::Listening {
                    backlog,
                    pending: VecDeque::new(),
                    owner_pid: current_pid(),
                };
                Ok(())
            }
        }
    }

    /// connect. Streams and seqpackets queue a connected socket on the listener
    /// (EAGAIN while its backlog is full); datagram sockets just set the default
    /// destination (`None`: AF_UNSPEC, which dissolves it).
    pub fn connect(&self, to: Option<&UnixAddr>) -> Result<(), Errno> {
        let Some(to) = to else {
            if self.kind.connection_oriented() {
                return Err(EINVAL);
            }
            self.state.lock().conn = Conn::Unconnected;
            return Ok(());
        };
        let target = names::lookup(to)?;
        if target.kind != self.kind {
            return Err(EPROTOTYPE);
        }
        if !self.kind.connection_oriented() {
            let peer_addr = target.state.lock().local.clone();
            if !target.accepts_datagrams_from(&self.inbox) {
                return Err(EPERM);
            }
            if target.inbox.lock().closed {
                return Err(ECONNREFUSED);
            }
            self.state.lock().conn = Conn::Connected {
                peer: target.inbox.clone(),
                peer_addr,
                peer_pid: current_pid(),
            };
            return Ok(());
        }
        let mut st = self.state.lock();
        match st.conn {
            Conn::Connected { .. } => return Err(EISCONN),
            Conn::Listening { .. } => return Err(EINVAL),
            Conn::Unconnected => {}
        }
        if core::ptr::eq(self, Arc::as_ptr(&target)) {
            return Err(ECONNREFUSED); // our own, not listening
        }
        let mut tst = target.state.lock();
        let server_addr = tst.local.clone();
        let Conn::Listening {
            backlog,
            pending,
            owner_pid,
        } = &mut tst.conn
        else {
            return Err(ECONNREFUSED);
        };
        let server_pid = *owner_pid;
        if pending.len() > *backlog {
            return Err(EAGAIN);
        }
        let server = Self::with_state(
            self.kind,
            server_addr.clone(),
            Conn::Connected {
                peer: self.inbox.clone(),
                peer_addr: st.local.clone(),
                peer_pid: current_pid(),
            },
        );
        st.conn = Conn::Connected {
            peer: server.inbox.clone(),
            peer_addr: server_addr,
            peer_pid: server_pid,
        };
        pending.push_back(server);
        tst.generation += 1;
        drop((tst, st));
        wait::notify();
        Ok(())
    }

    /// accept: the next queued connection, or EAGAIN.
    pub fn accept(&self) -> Result<Arc<UnixSocket>, Errno> {
        if !self.kind.connection_oriented() {
            return Err(EOPNOTSUPP);
        }
        let mut st = self.state.lock();
        let Conn::Listening { pending, .. } = &mut st.conn else {
            return Err(EINVAL);
        };
        let s = pending.pop_front().ok_or(EAGAIN)?;
        st.generation += 1;
        Ok(s)
    }

    /// Sends `data` (to `to`, for an unconnected datagram socket) with `rights`, which
    /// are taken once they are queued. EAGAIN when the receiver has no room now.
    pub fn send(
        &self,
        data: &[u8],
        to: Option<&UnixAddr>,
        rights: &mut Option<Rights>,
    ) -> Result<usize, Errno> {
        // A seqpacket socket ignores a destination, as on Linux.
        let to = to.filter(|_| self.kind != Kind::SeqPacket);
        let (connected_peer, from, sndbuf, shut_write) = {
            let st = self.state.lock();
            let peer = match &st.conn {
                Conn::Connected { peer, .. } => Some(peer.clone()),
                _ => None,
            };
            (peer, st.local.clone(), st.sndbuf, st.shut_write)
        };
        let peer = match (connected_peer, to) {
            (Some(_), Some(_)) if self.kind.connection_oriented() => return Err(EISCONN),
            (_, Some(_)) if self.kind.connection_oriented() => return Err(EOPNOTSUPP),
            (_, Some(to)) => {
                let target = names::lookup(to)?;
                if target.kind != self.kind {
                    return Err(EPROTOTYPE);
                }
                if !target.accepts_datagrams_from(&self.inbox) {
                    return Err(EPERM);
                }
                target.inbox.clone()
            }
            (Some(peer), None) => peer,
            (None, None) => return Err(ENOTCONN),
        };
        if shut_write {
            return Err(EPIPE);
        }
        let mut inbox = peer.lock();
        if inbox.closed && self.kind == Kind::Datagram {
            if to.is_none() {
                // Our peer has closed: refused once, then we are no longer connected.
                drop(inbox);
                self.state.lock().conn = Conn::Unconnected;
            }
            return Err(ECONNREFUSED);
        }
        if inbox.no_reader {
            return Err(EPIPE);
        }
        let n = match &mut inbox.buf {
            Buffer::Stream(q) => match q.push(data, rights.take()) {
                Ok(n) => n,
                Err(back) => {
                    *rights = back;
                    return Err(EAGAIN);
                }
            },
            Buffer::Messages(q) => {
                if data.len() > sndbuf - DGRAM_OVERHEAD {
                    return Err(EMSGSIZE);
                }
                let msg = Message {
                    data: data.to_vec(),
                    from,
                    attachment: rights.take(),
                };
                if let Err(back) = q.push(msg) {
                    *rights = back.attachment;
                    return Err(EAGAIN);
                }
                data.len()
            }
        };
        inbox.changed();
        drop(inbox);
        wait::notify();
        Ok(n)
    }

    /// Receives into `out` (copying only, with `peek`). EAGAIN when nothing is there
    /// yet; 0 at end of file.
    pub fn recv(&self, out: &mut [u8], peek: bool) -> Result<Received, Errno> {
        if self.kind.connection_oriented() {
            let st = self.state.lock();
            if !matches!(st.conn, Conn::Connected { .. }) {
                return Err(EINVAL);
            }
        }
        let eof = Received {
            len: 0,
            full_len: 0,
            from: None,
            rights: None,
        };
        let mut inbox = self.inbox.lock();
        if inbox.is_empty() {
            if core::mem::take(&mut inbox.reset) {
                return Err(ECONNRESET);
            }
            if inbox.no_more_data || (out.is_empty() && self.kind == Kind::Stream) {
                return Ok(eof);
            }
            return Err(EAGAIN);
        }
        let got = match &mut inbox.buf {
            Buffer::Stream(q) => {
                let (len, rights) = if peek { q.peek(out) } else { q.pop(out) };
                Received {
                    len,
                    full_len: len,
                    from: None,
                    rights,
                }
            }
            Buffer::Messages(q) => {
                let r = if peek { q.peek(out) } else { q.pop(out) };
                let r = r.ok_or(EAGAIN)?;
                Received {
                    len: r.len,
                    full_len: r.full_len,
                    from: (self.kind == Kind::Datagram).then_some(r.from),
                    rights: r.attachment,
                }
            }
        };
        if !peek {
            inbox.changed();
            drop(inbox);
            wait::notify();
        }
        Ok(got)
    }

    /// shutdown: SHUT_RD ends our reading (and our peer's sending), SHUT_WR our
    /// sending (our peer reads end of file).
    pub fn shutdown(&self, read: bool, write: bool) {
        let mut st = self.state.lock();
        if read {
            let mut ib = self.inbox.lock();
            ib.no_more_data = true;
            ib.no_reader = true;
            ib.changed();
        }
        if write {
            st.shut_write = true;
            if let (Conn::Connected { peer, .. }, true) =
                (&st.conn, self.kind.connection_oriented())
            {
                let mut p = peer.lock();
                p.no_more_data = true;
                p.changed();
            }
        }
        drop(st);
        wait::notify();
    }

    pub fn local_addr(&self) -> UnixAddr {
        self.state.lock().local.clone()
    }

    /// getpeername: ENOTCONN unless connected.
    pub fn peer_addr(&self) -> Result<UnixAddr, Errno> {
        match &self.state.lock().conn {
            Conn::Connected { peer_addr, .. } => Ok(peer_addr.clone()),
            _ => Err(ENOTCONN),
        }
    }

    pub fn options(&self) -> Options {
        let st = self.state.lock();
        Options {
            sndbuf: st.sndbuf,
            rcvbuf: st.rcvbuf,
            passcred: st.passcred,
            listening: matches!(st.conn, Conn::Listening { .. }),
            peer_pid: match st.conn {
                Conn::Connected { peer_pid, .. } => Some(peer_pid),
                _ => None,
            },
            rcvtimeo: st.rcvtimeo,
            sndtimeo: st.sndtimeo,
        }
    }

    /// SO_ERROR: the pending error (a reset), cleared by asking.
    pub fn take_error(&self) -> Option<Errno> {
        core::mem::take(&mut self.inbox.lock().reset).then_some(ECONNRESET)
    }

    /// SO_SNDBUF: doubled and clamped as Linux does.
    pub fn set_sndbuf(&self, v: usize) {
        self.state.lock().sndbuf = doubled_buf(v);
    }

    /// SO_RCVBUF: doubled and clamped; bounds what the inbox holds.
    pub fn set_rcvbuf(&self, v: usize) {
        let n = doubled_buf(v);
        self.state.lock().rcvbuf = n;
        self.inbox.lock().set_capacity(n);
    }

    pub fn set_passcred(&self, on: bool) {
        self.state.lock().passcred = on;
    }

    pub fn set_timeouts(&self, rcv: Option<u64>, snd: Option<u64>) {
        let mut st = self.state.lock();
        if let Some(t) = rcv {
            st.rcvtimeo = t;
        }
        if let Some(t) = snd {
            st.sndtimeo = t;
        }
    }

    /// A closing socket's end of the conversation: its peer sees end of file (and a
    /// reset when data was left unread), senders to it get EPIPE/ECONNREFUSED.
    /// Returns what must be dropped with no lock held.
    fn close(&self) -> (Vec<Rights>, Vec<Arc<UnixSocket>>) {
        let mut st = self.state.lock();
        if let Some(b) = st.binding.take() {
            names::unbind(b);
        }
        let conn = core::mem::replace(&mut st.conn, Conn::Unconnected);
        drop(st);
        let (in_flight, unread) = {
            let mut ib = self.inbox.lock();
            let unread = !ib.is_empty();
            ib.closed = true;
            ib.no_reader = true;
            ib.no_more_data = true;
            ib.changed();
            (ib.drain(), unread)
        };
        let mut unaccepted = Vec::new();
        match conn {
            Conn::Connected { peer, .. } if self.kind.connection_oriented() => {
                let mut p = peer.lock();
                p.no_more_data = true;
                p.reset |= unread;
                p.changed();
            }
            Conn::Listening { pending, .. } => unaccepted.extend(pending),
            _ => {}
        }
        (in_flight, unaccepted)
    }

    /// Closes this socket and, for a listener, every connection it never accepted
    /// (their clients see a reset).
    fn close_all(&self) {
        let (in_flight, mut unaccepted) = self.close();
        drop(in_flight);
        while let Some(s) = unaccepted.pop() {
            if let Conn::Connected { peer, .. } = &s.state.lock().conn {
                peer.lock().reset = true;
            }
            let (rights, more) = s.close();
            drop(rights);
            unaccepted.extend(more);
        }
        wait::notify();
    }

    /// A datagram socket connected elsewhere takes datagrams only from its peer
    /// (Linux's unix_may_send).
    fn accepts_datagrams_from(&self, sender: &InboxRef) -> bool {
        match &self.state.lock().conn {
            Conn::Connected { peer, .. } => Arc::ptr_eq(peer, sender),
            _ => true,
        }
    }

    fn peer_inbox(&self) -> Option<InboxRef> {
        match &self.state.lock().conn {
            Conn::Connected { peer, .. } => Some(peer.clone()),
            _ => None,
        }
    }
}

impl FileOps for UnixSocket {
    fn read(&self, _file: &OpenFile, buf: &mut [u8]) -> Result<usize, Errno> {
        // Files passed to a plain read() are closed, as on Linux.
        self.recv(buf, false).map(|r| r.len)
    }
    fn write(&self, _file: &OpenFile, buf: &[u8]) -> Result<usize, Errno> {
        self.send(buf, None, &mut None)
    }
    fn is_stream(&self) -> bool {
        self.kind == Kind::Stream
    }
    fn timeout_ns(&self, dir: Direction) -> u64 {
        let o = self.options();
        match dir {
            Direction::Receive => o.rcvtimeo,
            Direction::Send => o.sndtimeo,
        }
    }
    fn poll(&self) -> u32 {
        let st = self.state.lock();
        if let Conn::Listening { pending, .. } = &st.conn {
            return if pending.is_empty() { 0 } else { POLLIN };
        }
        let shut_write = st.shut_write;
        let connected = matches!(st.conn, Conn::Connected { .. });
        let peer = match &st.conn {
            Conn::Connected { peer, .. } => Some(peer.clone()),
            _ => None,
        };
        drop(st);
        let mut ev = 0;
        let (rcv_shut, can_read) = {
            let ib = self.inbox.lock();
            if ib.reset {
                ev |= POLLERR;
            }
            (ib.no_more_data, !ib.is_empty())
        };
        if can_read {
            ev |= POLLIN;
        }
        if rcv_shut {
            ev |= POLLIN | POLLRDHUP;
        }
        let (send_shut, room) = match &peer {
            Some(p) => {
                let p = p.lock();
                let dead = p.no_reader || (p.closed && self.kind == Kind::Datagram);
                (shut_write || dead, dead || p.has_room_for(1))
            }
            None => (shut_write, true),
        };
        if rcv_shut && send_shut {
            ev |= POLLHUP;
        }
        if self.kind.connection_oriented() && !connected {
            ev |= POLLHUP;
        }
        if room {
            ev |= POLLOUT;
        }
        ev
    }
    fn generation(&self) -> u64 {
        // One lock at a time: the state's lock is otherwise taken before an inbox's.
        let listen = self.state.lock().generation;
        let own = self.inbox.lock().generation;
        listen + own + self.peer_inbox().map_or(0, |p| p.lock().generation)
    }
    fn bytes_readable(&self) -> Option<usize> {
        let ib = self.inbox.lock();
        Some(match &ib.buf {
            Buffer::Stream(q) => q.len(),
            Buffer::Messages(q) => q.next_len().unwrap_or(0),
        })
    }
    fn ioctl(&self, _file: &OpenFile, req: u64, arg: u64) -> Result<u64, Errno> {
        // As on Linux, any socket answers the interface ioctls (musl's if_nametoindex
        // asks an AF_UNIX one).
        crate::net::ifreq::ioctl(req, arg).unwrap_or(Err(ENOTTY))
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat::special(S_IFSOCK | 0o777, self.ino, 0))
    }
    fn release(&self) {
        self.close_all();
    }
    fn describe(&self) -> alloc::string::String {
        alloc::format!("socket:[{}]", self.ino)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_socket(self: Arc<Self>) -> Option<Arc<dyn crate::fd::socket::Socket>> {
        Some(self)
    }
}
