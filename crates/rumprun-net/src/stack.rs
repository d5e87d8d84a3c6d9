//! The [`Stack`]: every interface (with `lo` always first), the table of sockets the
//! kernel maps to descriptors ([`SocketId`]), port bookkeeping, routing (which
//! interface a destination leaves through), and [`Stack::poll`], which drives the
//! interfaces, re-arms listeners, reaps closed connections and recomputes each
//! socket's readiness bits and generation.
//!
//! Calls never block: they return EAGAIN/EINPROGRESS and the kernel waits on its I/O
//! wait queue, which it notifies when `poll` returns true. Operations that queue
//! packets (send, connect, close, recv opening the window...) mark the stack dirty:
//! [`Stack::poll_at`] then answers "now", so the kernel polls after such a call; after
//! one that left it clean (a corked write, a read that opens no window) it may only
//! [`Stack::settle`] the readiness the call changed.
//!
//! Port model (TCP and UDP each have their own port space):
//! * a socket *holds* its port strongly while bound, listening, or (UDP) open, and
//!   weakly while it is a TCP connection (connected, accepted, or closed and still
//!   finishing: FIN_WAIT, TIME_WAIT...);
//! * bind to a port that overlaps (same address, or either unspecified) a strong
//!   holder fails with EADDRINUSE unless both sockets set SO_REUSEPORT (UDP: or both
//!   SO_REUSEADDR); a weak holder only blocks it without SO_REUSEADDR;
//! * ephemeral ports (bind to port 0, connect or sendto without bind) come from
//!   32768..=60999 and skip every port held in any way.

use crate::addr::{Family, SockAddr};
use crate::errno::*;
use crate::iface::{Iface, IfaceInfo};
use crate::options::*;
use crate::sockets::{Handle, Sockets};
use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use smoltcp::phy::Device;
use smoltcp::socket::{tcp, udp};
use smoltcp::time::Instant;

/// A socket of the stack; the kernel keeps it in its file object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SocketId(pub u32);

/// The socket types this crate provides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SockType {
    /// SOCK_STREAM: TCP.
    Stream,
    /// SOCK_DGRAM: UDP.
    Dgram,
    /// SOCK_DGRAM with IPPROTO_UDPLITE: UDP-Lite (`lite.rs`).
    DgramLite,
}

impl SockType {
    /// From socket(2)'s type (flags masked off) and protocol (0 or the matching
    /// IPPROTO_*).
    pub fn from_linux(ty: i32, protocol: i32) -> Result<SockType, Errno> {
        match (ty & 0xf, protocol) {
            (SOCK_STREAM, 0 | IPPROTO_TCP) => Ok(SockType::Stream),
            (SOCK_DGRAM, 0 | IPPROTO_UDP) => Ok(SockType::Dgram),
            (SOCK_DGRAM, crate::lite::IPPROTO_UDPLITE) => Ok(SockType::DgramLite),
            (SOCK_STREAM | SOCK_DGRAM, _) => Err(EPROTONOSUPPORT),
            _ => Err(ESOCKTNOSUPPORT),
        }
    }
}

/// How shutdown(2) was called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shutdown {
    /// SHUT_RD
    Read,
    /// SHUT_WR
    Write,
    /// SHUT_RDWR
    Both,
}

impl Shutdown {
    /// From `how` (EINVAL otherwise).
    pub fn from_linux(how: i32) -> Result<Shutdown, Errno> {
        match how {
            SHUT_RD => Ok(Shutdown::Read),
            SHUT_WR => Ok(Shutdown::Write),
            SHUT_RDWR => Ok(Shutdown::Both),
            _ => Err(EINVAL),
        }
    }
}

/// What a receive returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Received {
    /// Bytes copied into the buffer (0 = end of file for TCP).
    pub len: usize,
    /// The datagram's full length (UDP: larger than `len` when it was truncated, which
    /// the kernel reports as MSG_TRUNC); equals `len` for TCP.
    pub full_len: usize,
    /// The sender (UDP; None for TCP: the kernel uses getpeername).
    pub from: Option<SockAddr>,
}

/// A smoltcp socket on one interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Conn {
    pub(crate) iface: usize,
    pub(crate) handle: Handle,
}

/// A TCP socket's life.
pub(crate) enum TcpState {
    /// Created, maybe bound.
    Idle,
    /// listen() was called.
    Listening(Listener),
    /// connect() was called, or the socket was accepted.
    Conn(TcpConn),
}

pub(crate) struct Listener {
    /// The most connections (half-open and established) waiting for accept.
    pub(crate) backlog: usize,
    /// One smoltcp socket in LISTEN per interface the address is on.
    pub(crate) armed: Vec<Conn>,
    /// Connections taken from the armed listeners, oldest first.
    pub(crate) pending: VecDeque<Conn>,
}

pub(crate) struct TcpConn {
    pub(crate) c: Conn,
    pub(crate) shut_rd: bool,
    pub(crate) shut_wr: bool,
    /// connect() not resolved yet (success or error).
    pub(crate) connecting: bool,
    /// connect() failed (refused, timed out): the next connect() reports it and
    /// starts over, as Linux's unconnected socket does.
    pub(crate) failed: bool,
    /// The connect outcome not yet reported through connect_result.
    pub(crate) started_ms: i64,
    pub(crate) last_state: tcp::State,
    /// Bytes held back under TCP_CORK (less than a full segment, not yet in smoltcp's
    /// send buffer) and when the oldest of them was held (ms).
    pub(crate) corked: Vec<u8>,
    pub(crate) corked_since: i64,
    /// A tail of less than a segment was pushed (uncork, the cork's 200 ms, shutdown):
    /// smoltcp's Nagle is off until everything sent is acknowledged, then as
    /// TCP_NODELAY says again. Linux's Nagle (Minshall's) sends such a tail unless
    /// another small segment is unacknowledged; smoltcp's would hold it until every
    /// byte is, and a peer that delays its ACK (40 ms on Linux) stalls the response.
    pub(crate) pushing: bool,
    /// SO_SNDBUF set after the connection was made: smoltcp's send buffer cannot
    /// shrink, so from then on at most this many bytes are queued (Linux's sk_sndbuf
    /// follows a later SO_SNDBUF; asyncio's sendfile tests shrink it after connect).
    pub(crate) send_limit: Option<usize>,
}

impl TcpConn {
    /// The bytes this connection may queue: its smoltcp send buffer, or less once
    /// SO_SNDBUF was set after connect (`send_limit`).
    pub(crate) fn send_capacity(&self, sk: &tcp::Socket) -> usize {
        let capacity = sk.send_capacity();
        self.send_limit
            .map_or(capacity, |limit| capacity.min(limit))
    }
}

pub(crate) struct UdpState {
    /// One smoltcp socket per interface once bound.
    pub(crate) socks: Vec<Conn>,
    /// connect()'s default peer.
    pub(crate) peer: Option<SockAddr>,
    pub(crate) shut_rd: bool,
    pub(crate) shut_wr: bool,
    /// Where the next receive starts looking (fairness between interfaces).
    pub(crate) next: usize,
    /// Datagrams taken out of smoltcp's queues for this socket, received before
    /// them: those smoltcp gave a socket of the other family on the same port, and
    /// ours moved aside while such a socket exists (`udp::Stack::udp_sweep`).
    pub(crate) held: VecDeque<crate::udp::Held>,
    /// UDP-Lite's checksum coverages; None for UDP.
    pub(crate) lite: Option<crate::lite::Coverage>,
    /// The class of the datagrams queued now when a sendmsg control message gave them
    /// one (IP_TOS, IPV6_TCLASS), else None: the socket's own. Changed only while
    /// nothing is queued (`udp_send_info`).
    pub(crate) class: Option<u8>,
}

pub(crate) enum Proto {
    Tcp(TcpState),
    Udp(UdpState),
}

/// The port numbers a socket's port is taken from: TCP, UDP and UDP-Lite each have
/// their own (Linux's tcp_hashinfo, udp_table and udplite_table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PortSpace {
    Tcp,
    Udp,
    Lite,
}

impl PortSpace {
    pub(crate) fn of(proto: &Proto) -> PortSpace {
        match proto {
            Proto::Tcp(_) => PortSpace::Tcp,
            Proto::Udp(u) => PortSpace::of_udp(u),
        }
    }

    pub(crate) fn of_udp(u: &UdpState) -> PortSpace {
        if u.lite.is_some() {
            PortSpace::Lite
        } else {
            PortSpace::Udp
        }
    }
}

/// Readiness as last computed, to detect "readier".
#[derive(Clone, Copy, Default)]
pub(crate) struct Snapshot {
    pub(crate) bits: u32,
    pub(crate) rx: usize,
    /// Free send space of a UDP socket (TCP: 0, see `tcp_snapshot`).
    pub(crate) tx_free: usize,
    pub(crate) accept: usize,
}

pub(crate) struct Socket {
    pub(crate) family: Family,
    pub(crate) proto: Proto,
    pub(crate) opts: SockOpts,
    /// The bound (or, for connections, local) address.
    pub(crate) local: Option<SockAddr>,
    /// Pending SO_ERROR.
    pub(crate) error: Option<Errno>,
    pub(crate) generation: u64,
    pub(crate) snap: Snapshot,
    /// Changed through the socket table (`sock_mut`) since its readiness was last
    /// recomputed: `update` must look at it even if smoltcp's socket did not move.
    pub(crate) stale: bool,
}

/// The network stack: interfaces and sockets.
pub struct Stack<D: Device> {
    pub(crate) ifaces: Vec<Iface<D>>,
    pub(crate) socks: Vec<Option<Socket>>,
    pub(crate) free: Vec<u32>,
    /// Closed TCP connections still finishing (FIN, TIME_WAIT).
    pub(crate) orphans: Vec<Conn>,
    /// The class (`tclass`) of the orphans whose socket had one: their last segments
    /// (the FIN handshake) still carry it.
    pub(crate) orphan_marks: Vec<(Conn, crate::tclass::Sender)>,
    pub(crate) next_port: u16,
    pub(crate) now: Instant,
    pub(crate) dirty: bool,
    pub(crate) seed: u64,
    /// Hop limits of received UDP packets, once a socket asks for them.
    pub(crate) sniffer: crate::ancillary::Sniffer,
    /// The raw sockets of UDP-Lite, once a UDP-Lite socket exists.
    pub(crate) lite: crate::lite::LiteRaw,
    /// Some socket set IP_TOS or IPV6_TCLASS once: polls mark UDP packets
    /// (`tclass`); until then they skip the walk that finds the marks.
    pub(crate) marking: bool,
    /// Whom the last `poll` asked to wake.
    pub(crate) woken: Woken,
    /// The send buffer of a new TCP connection without SO_SNDBUF (bytes).
    pub(crate) tcp_tx_len: usize,
    /// The sockets the next [`Stack::poll`] recomputes the readiness of, besides the
    /// owners of the connections that changed (`Sockets::drain_changed`): those
    /// changed through the table since (`sock_mut`, `insert`) and those it always
    /// looks at (`always_updated`), each once ([`Visits`]).
    pub(crate) visit: Visits,
    /// The list the last poll walked, kept for its allocation.
    pub(crate) visiting: Vec<u32>,
}

/// The sockets (indices) a poll is to update, each listed once: a list and a bit per
/// index saying whether it is on it (cheaper than sorting the list, for the few
/// sockets a poll usually updates). It may name a freed slot.
#[derive(Default)]
pub(crate) struct Visits {
    list: Vec<u32>,
    listed: Vec<u64>,
}

impl Visits {
    /// Lists socket `idx` unless it is listed.
    #[inline]
    pub(crate) fn add(&mut self, idx: u32) {
        let (w, bit) = ((idx / 64) as usize, 1u64 << (idx % 64));
        if w >= self.listed.len() {
            self.listed.resize(w + 1, 0);
        }
        if self.listed[w] & bit == 0 {
            self.listed[w] |= bit;
            self.list.push(idx);
        }
    }

    /// Swaps the list with `other` (an emptied list, kept for its allocation): the
    /// list is then in `other`, each index to be [`Visits::unlist`]ed as it is
    /// visited.
    fn swap(&mut self, other: &mut Vec<u32>) {
        core::mem::swap(&mut self.list, other);
    }

    /// Socket `idx`, taken from the swapped-out list but not visited, is listed
    /// again (its bit is still set).
    fn keep(&mut self, idx: u32) {
        self.list.push(idx);
    }

    /// Socket `idx` is being visited: a later [`Visits::add`] lists it again.
    #[inline]
    fn unlist(&mut self, idx: u32) {
        self.listed[(idx / 64) as usize] &= !(1u64 << (idx % 64));
    }
}

/// Whom a [`Stack::poll`] that returned true should wake: the waiters on the sockets
/// whose readiness changed, as a bit mask of [`wait_bit`]s (a thread blocked on one
/// socket waits on its socket's bit, so that an event on one connection does not wake
/// the threads blocked on all the others), or everyone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Woken {
    /// The [`wait_bit`]s of the sockets that became readier or whose bits changed.
    pub sockets: u32,
    /// Something not tied to one socket changed (a DHCP lease): wake every waiter.
    pub all: bool,
}

/// The bit of socket `id` in [`Woken::sockets`] (sockets share bits modulo 32: a
/// waiter may wake for another socket's event and look again, never miss its own).
pub fn wait_bit(id: SocketId) -> u32 {
    1 << (id.0 % 32)
}

/// The smallest default send buffer of a TCP connection (and the default until
/// [`Stack::set_tcp_send_buffer`]): half the reported default SO_SNDBUF, as for a set one.
pub const TCP_SEND_BUFFER_MIN: usize = crate::options::DEFAULT_SNDBUF / 2;
/// The largest default send buffer of a TCP connection.
pub const TCP_SEND_BUFFER_MAX: usize = 512 << 10;

pub(crate) const EPHEMERAL_FIRST: u16 = 32768;
pub(crate) const EPHEMERAL_LAST: u16 = 60999;
/// Linux gives up connecting after ~2 minutes; smoltcp aborts after this much silence.
pub(crate) const CONNECT_TIMEOUT_MS: i64 = 75_000;

impl<D: Device> Stack<D> {
    /// A stack with only `lo` (127.0.0.1/8, ::1). `random_seed` seeds ISNs, DHCP
    /// transaction ids and the first ephemeral port; `now_ms` is the monotonic clock.
    pub fn new(random_seed: u64, now_ms: u64) -> Self {
        let now = Instant::from_millis(now_ms as i64);
        let span = (EPHEMERAL_LAST - EPHEMERAL_FIRST) as u64 + 1;
        Stack {
            ifaces: vec![Iface::loopback(random_seed, now)],
            socks: Vec::new(),
            free: Vec::new(),
            orphans: Vec::new(),
            orphan_marks: Vec::new(),
            next_port: EPHEMERAL_FIRST + (random_seed % span) as u16,
            now,
            dirty: false,
            seed: random_seed,
            sniffer: Default::default(),
            lite: Default::default(),
            marking: false,
            woken: Woken::default(),
            tcp_tx_len: TCP_SEND_BUFFER_MIN,
            visit: Visits::default(),
            visiting: Vec::new(),
        }
    }

    /// Sizes the send buffers of the TCP connections made from now on without
    /// SO_SNDBUF (connected, or armed on a listener for the next SYN): `len` bytes,
    /// within [TCP_SEND_BUFFER_MIN, TCP_SEND_BUFFER_MAX]. A connection's send buffer
    /// is also what it has in flight: where a round trip is long against the time
    /// to send (a busy or virtual host), a bigger one moves a bulk transfer faster,
    /// as Linux's send buffers grow with the connection's window (up to 4 MiB). It
    /// cannot grow later (smoltcp's buffers are fixed), so the kernel chooses from
    /// the memory that is free (see `net::tcp_send_buffer`).
    pub fn set_tcp_send_buffer(&mut self, len: usize) {
        self.tcp_tx_len = len.clamp(TCP_SEND_BUFFER_MIN, TCP_SEND_BUFFER_MAX);
    }

    // ----- interfaces -----

    /// Adds a card named `name` (`eth0`, `vioif0`...) and returns its interface index
    /// (2, 3, ...). It has no address until configured.
    pub fn add_interface(&mut self, name: &str, device: D, mac: [u8; 6]) -> u32 {
        let index = self.ifaces.len() as u32 + 1;
        let seed = self.seed ^ (index as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        self.ifaces
            .push(Iface::card(name, index, device, mac, seed, self.now, None));
        index
    }

    /// `add_interface` for a card that cuts TCP segments (large send): its device
    /// reports `tso::LARGE_SEND_IP_MTU` to smoltcp, the wire's IP MTU is `link_mtu`
    /// (what the interface reports and UDP sizes datagrams by).
    pub fn add_large_send_interface(
        &mut self,
        name: &str,
        device: D,
        mac: [u8; 6],
        link_mtu: usize,
    ) -> u32 {
        let index = self.ifaces.len() as u32 + 1;
        let seed = self.seed ^ (index as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        self.ifaces.push(Iface::card(
            name,
            index,
            device,
            mac,
            seed,
            self.now,
            Some(link_mtu),
        ));
        index
    }

    /// Says that frames arriving on interface `index` (a card) make the caller poll
    /// again by themselves (the card interrupts and the kernel notifies its waiters):
    /// then a poll ends after its first round that received and sent what was
    /// waiting, instead of looking once more for frames that came meanwhile (which
    /// the next poll takes). Off by default: a caller that polls only when it
    /// decides to needs that last look.
    pub fn set_notifies(&mut self, index: u32, on: bool) {
        if let Ok(i) = self.iface_mut(index) {
            i.notifies = on;
        }
    }

    fn iface_mut(&mut self, index: u32) -> Result<&mut Iface<D>, Errno> {
        self.ifaces
            .get_mut((index as usize).wrapping_sub(1))
            .ok_or(ENODEV)
    }

    /// The interface index of `name` (if_nametoindex).
    pub fn interface_index(&self, name: &str) -> Option<u32> {
        self.ifaces.iter().find(|i| i.name == name).map(|i| i.index)
    }

    /// Static IPv4: replaces the interface's IPv4 addresses with `addr/prefix_len` and
    /// sets (or clears) its default gateway.
    pub fn set_ipv4(
        &mut self,
        index: u32,
        addr: Ipv4Addr,
        prefix_len: u8,
        gateway: Option<Ipv4Addr>,
    ) -> Result<(), Errno> {
        let i = self.iface_mut(index)?;
        if prefix_len > 32 {
            return Err(EINVAL);
        }
        i.clear_ipv4();
        i.add_addr(addr.into(), prefix_len)?;
        i.set_gateway4(gateway);
        self.dirty = true;
        Ok(())
    }

    /// Starts the DHCPv4 client on the interface; the lease is applied by `poll`.
    pub fn start_dhcpv4(&mut self, index: u32) -> Result<(), Errno> {
        self.iface_mut(index)?.start_dhcp();
        self.dirty = true;
        Ok(())
    }

    /// Adds a static IPv6 address (and sets the IPv6 default gateway when given).
    pub fn add_ipv6(
        &mut self,
        index: u32,
        addr: Ipv6Addr,
        prefix_len: u8,
        gateway: Option<Ipv6Addr>,
    ) -> Result<(), Errno> {
        let i = self.iface_mut(index)?;
        i.add_addr(addr.into(), prefix_len)?;
        if gateway.is_some() {
            i.set_gateway6(gateway);
        }
        Ok(())
    }

    /// IPv6 "auto": adds the link-local address fe80::/64 from the MAC (EUI-64) and
    /// starts SLAAC: router solicitations, then an address from the advertised
    /// prefix and the router as default gateway (see [`crate::slaac`]).
    pub fn enable_ipv6_auto(&mut self, index: u32) -> Result<(), Errno> {
        let now = self.now;
        self.iface_mut(index)?.start_slaac(now)?;
        self.dirty = true;
        Ok(())
    }

    /// Every interface, `lo` first.
    pub fn interfaces(&self) -> Vec<IfaceInfo> {
        self.ifaces.iter().map(|i| i.info()).collect()
    }

    /// DNS servers from the DHCP leases, in interface order, without duplicates.
    pub fn dns_servers(&self) -> Vec<IpAddr> {
        let mut v: Vec<IpAddr> = Vec::new();
        for l in self.ifaces.iter().filter_map(|i| i.lease.as_ref()) {
            for d in &l.dns_servers {
                if !v.contains(&IpAddr::V4(*d)) {
                    v.push(IpAddr::V4(*d));
                }
            }
        }
        v
    }

    /// `/etc/resolv.conf` for the DHCP DNS servers ("nameserver A\n" lines).
    pub fn resolv_conf(&self) -> String {
        use core::fmt::Write;
        let mut s = String::new();
        for d in self.dns_servers() {
            let _ = writeln!(s, "nameserver {d}");
        }
        s
    }

    /// The card behind interface `index` (not `lo`), e.g. to acknowledge interrupts.
    pub fn device_mut(&mut self, index: u32) -> Option<&mut D> {
        match &mut self.iface_mut(index).ok()?.dev {
            crate::iface::Dev::Net(d) => Some(d),
            crate::iface::Dev::Loopback(_) => None,
        }
    }

    /// The interface (position in `ifaces`) a packet to `dst` leaves through: `lo` for
    /// loopback addresses; the interface `local` is on, when bound to a specific
    /// address; an interface whose subnet holds `dst`; the first with a default route.
    pub(crate) fn route(&self, dst: IpAddr, local: Option<IpAddr>) -> Result<usize, Errno> {
        if dst.is_loopback() {
            return Ok(0);
        }
        if let Some(l) = local.filter(|l| !l.is_unspecified()) {
            return self
                .ifaces
                .iter()
                .position(|i| i.has_addr(l))
                .ok_or(EADDRNOTAVAIL);
        }
        if let Some(p) = self.ifaces.iter().position(|i| i.has_addr(dst)) {
            // Our own address: smoltcp does not loop it back on a card.
            if p != 0 {
                return Err(ENETUNREACH);
            }
        }
        if let Some(p) = self
            .ifaces
            .iter()
            .position(|i| !i.is_loopback() && i.on_link(dst))
        {
            return Ok(p);
        }
        // Broadcast and multicast go out of the first card with an address.
        let special = match dst {
            IpAddr::V4(a) => a.is_broadcast() || a.is_multicast(),
            IpAddr::V6(a) => a.is_multicast(),
        };
        self.ifaces
            .iter()
            .position(|i| {
                !i.is_loopback() && i.has_family_addr(dst) && (i.has_default_route(dst) || special)
            })
            .ok_or(ENETUNREACH)
    }

    // ----- the socket table -----

    /// socket(2): a new socket (ENOBUFS never; the table grows).
    pub fn socket(&mut self, family: Family, ty: SockType) -> Result<SocketId, Errno> {
        let proto = match ty {
            SockType::Stream => Proto::Tcp(TcpState::Idle),
            SockType::Dgram | SockType::DgramLite => Proto::Udp(UdpState {
                lite: (ty == SockType::DgramLite).then(crate::lite::Coverage::default),
                socks: Vec::new(),
                peer: None,
                shut_rd: false,
                shut_wr: false,
                next: 0,
                held: VecDeque::new(),
                class: None,
            }),
        };
        let s = Socket {
            family,
            proto,
            opts: SockOpts::default(),
            local: None,
            error: None,
            generation: 0,
            snap: Snapshot::default(),
            stale: true,
        };
        Ok(self.insert(s))
    }

    pub(crate) fn insert(&mut self, mut s: Socket) -> SocketId {
        s.snap = self.snapshot(&s);
        let id = match self.free.pop() {
            Some(i) => {
                self.socks[i as usize] = Some(s);
                SocketId(i)
            }
            None => {
                self.socks.push(Some(s));
                SocketId(self.socks.len() as u32 - 1)
            }
        };
        self.visit.add(id.0);
        id
    }

    pub(crate) fn sock(&self, id: SocketId) -> Result<&Socket, Errno> {
        self.socks
            .get(id.0 as usize)
            .and_then(|s| s.as_ref())
            .ok_or(EBADF)
    }

    pub(crate) fn sock_mut(&mut self, id: SocketId) -> Result<&mut Socket, Errno> {
        let s = self
            .socks
            .get_mut(id.0 as usize)
            .and_then(|s| s.as_mut())
            .ok_or(EBADF)?;
        if !s.stale {
            s.stale = true;
            self.visit.add(id.0);
        }
        Ok(s)
    }

    /// The socket's type.
    pub fn sock_type(&self, id: SocketId) -> Result<SockType, Errno> {
        Ok(match self.sock(id)?.proto {
            Proto::Tcp(_) => SockType::Stream,
            Proto::Udp(UdpState { lite: Some(_), .. }) => SockType::DgramLite,
            Proto::Udp(_) => SockType::Dgram,
        })
    }

    /// The socket's family.
    pub fn family(&self, id: SocketId) -> Result<Family, Errno> {
        Ok(self.sock(id)?.family)
    }

    /// close(2) of the last descriptor: TCP connections finish in the background (FIN,
    /// TIME_WAIT), or are reset when unread data remains or SO_LINGER is {1, 0};
    /// listeners reset their pending connections.
    pub fn close(&mut self, id: SocketId) -> Result<(), Errno> {
        self.tcp_uncork(id); // held bytes go out before the FIN
        let s = self
            .socks
            .get_mut(id.0 as usize)
            .and_then(Option::take)
            .ok_or(EBADF)?;
        self.free.push(id.0);
        self.dirty = true;
        match s.proto {
            Proto::Tcp(TcpState::Idle) => {}
            Proto::Tcp(TcpState::Listening(l)) => {
                for c in l.armed.into_iter().chain(l.pending) {
                    self.ifaces[c.iface]
                        .sockets
                        .get_mut::<tcp::Socket>(c.handle)
                        .abort();
                    self.orphans.push(c);
                }
            }
            Proto::Tcp(TcpState::Conn(t)) => {
                let set = &mut self.ifaces[t.c.iface].sockets;
                set.set_owner(t.c.handle, None); // its slot may be reused
                let sk = set.get_mut::<tcp::Socket>(t.c.handle);
                if s.opts.tos != 0 || s.opts.tclass != 0 {
                    if let Some(m) = tcp_sender(s.family, &s.opts, sk) {
                        self.orphan_marks.push((t.c, m));
                    }
                }
                if s.opts.linger == Some(0) || sk.recv_queue() > 0 {
                    sk.abort();
                } else {
                    sk.close();
                }
                self.orphans.push(t.c);
            }
            Proto::Udp(u) => {
                for c in u.socks {
                    self.ifaces[c.iface].sockets.remove(c.handle);
                }
            }
        }
        Ok(())
    }

    // ----- ports -----

    /// Whether binding `addr` in port space `space` by a socket with `opts` conflicts.
    pub(crate) fn port_conflict(
        &self,
        space: PortSpace,
        addr: &SockAddr,
        opts: &SockOpts,
        me: Option<SocketId>,
    ) -> bool {
        let tcp = space == PortSpace::Tcp;
        let port = addr.port();
        let mine = spaces(addr, opts.v6only);
        let overlaps = |other: &SockAddr, other_v6only: bool| {
            let theirs = spaces(other, other_v6only);
            let same_ip =
                other.is_unspecified() || addr.is_unspecified() || other.ip() == addr.ip();
            other.port() == port && same_ip && ((mine.0 && theirs.0) || (mine.1 && theirs.1))
        };
        for (i, s) in self.socks.iter().enumerate() {
            let Some(s) = s else { continue };
            if Some(SocketId(i as u32)) == me {
                continue;
            }
            let Some(local) = &s.local else { continue };
            if !overlaps(local, s.opts.v6only) {
                continue;
            }
            let strong = match &s.proto {
                Proto::Tcp(TcpState::Conn(_)) if tcp => false,
                Proto::Tcp(_) if tcp => true,
                Proto::Udp(u) if PortSpace::of_udp(u) == space => true,
                _ => continue,
            };
            if strong {
                let shared = (opts.reuse_port && s.opts.reuse_port)
                    || (!tcp && opts.reuse_addr && s.opts.reuse_addr);
                if !shared {
                    return true;
                }
            } else if !opts.reuse_addr {
                return true;
            }
        }
        if tcp && !opts.reuse_addr {
            for c in &self.orphans {
                let sk = self.ifaces[c.iface].sockets.get::<tcp::Socket>(c.handle);
                if let Some(ep) = sk.local_endpoint() {
                    if overlaps(&SockAddr::from_endpoint(ep, addr.family()), true) {
                        return true;
                    }
                }
            }
        }
        false
    }

    /// Whether anything holds `port` at all (in IPv4 or IPv6).
    fn port_used(&self, space: PortSpace, port: u16) -> bool {
        let any = SockAddr::v6(Ipv6Addr::UNSPECIFIED, port);
        let strict = SockOpts::default();
        self.port_conflict(space, &any, &strict, None)
    }

    /// A free ephemeral port (EADDRINUSE when all are taken).
    pub(crate) fn ephemeral_port(&mut self, space: PortSpace) -> Result<u16, Errno> {
        let span = EPHEMERAL_LAST - EPHEMERAL_FIRST + 1;
        for _ in 0..span {
            let p = self.next_port;
            self.next_port = if p >= EPHEMERAL_LAST {
                EPHEMERAL_FIRST
            } else {
                p + 1
            };
            if !self.port_used(space, p) {
                return Ok(p);
            }
        }
        Err(EADDRINUSE)
    }

    /// Checks that `addr` can be bound by socket `id` (family, local address exists,
    /// port free) and returns it with the port filled in.
    pub(crate) fn check_bind(&mut self, id: SocketId, addr: SockAddr) -> Result<SockAddr, Errno> {
        let s = self.sock(id)?;
        if s.local.is_some() {
            return Err(EINVAL);
        }
        if addr.family() != s.family {
            return Err(EINVAL);
        }
        let space = PortSpace::of(&s.proto);
        let tcp = space == PortSpace::Tcp;
        let ip = addr.ip();
        if s.family == Family::Inet6 && s.opts.v6only && ip.is_ipv4() {
            return Err(EADDRNOTAVAIL);
        }
        let multicast = match ip {
            IpAddr::V4(a) => a.is_multicast() || a.is_broadcast(),
            IpAddr::V6(a) => a.is_multicast(),
        };
        if !addr.is_unspecified()
            && (!multicast || tcp)
            && !self.ifaces.iter().any(|i| i.has_addr(ip))
        {
            return Err(EADDRNOTAVAIL);
        }
        let opts = s.opts.clone();
        let addr = if addr.port() == 0 {
            addr.with_port(self.ephemeral_port(space)?)
        } else {
            if self.port_conflict(space, &addr, &opts, Some(id)) {
                return Err(EADDRINUSE);
            }
            addr
        };
        Ok(addr)
    }

    /// bind(2). EINVAL when already bound; EADDRNOTAVAIL for an address that is not
    /// ours; EADDRINUSE per the port model above. Port 0 picks an ephemeral port.
    pub fn bind(&mut self, id: SocketId, addr: SockAddr) -> Result<(), Errno> {
        let addr = self.check_bind(id, addr)?;
        self.sock_mut(id)?.local = Some(addr);
        if matches!(self.sock(id)?.proto, Proto::Udp(_)) {
            self.udp_open(id)?;
        }
        Ok(())
    }

    /// connect(2). TCP: Err(EINPROGRESS) once the SYN is queued (the kernel waits for
    /// [`Stack::connect_result`] when the socket is blocking), EALREADY while it is in
    /// progress, EISCONN once connected; ENETUNREACH without a route. UDP: sets the
    /// default peer (binding an ephemeral port first) and returns Ok.
    pub fn connect(&mut self, id: SocketId, addr: SockAddr) -> Result<(), Errno> {
        match self.sock(id)?.proto {
            Proto::Tcp(_) => self.tcp_connect(id, addr),
            Proto::Udp(_) => self.udp_connect(id, addr),
        }
    }

    /// send/sendto/write. `to` is sendto's address (ignored by TCP, as Linux does for
    /// connected sockets). TCP: EAGAIN when the send buffer is full, EPIPE after
    /// shutdown(SHUT_WR) or close or on an unconnected socket, ECONNRESET once after a
    /// reset. UDP: EDESTADDRREQ without `to` or a peer, EMSGSIZE, ENETUNREACH, EAGAIN.
    pub fn send(&mut self, id: SocketId, buf: &[u8], to: Option<SockAddr>) -> Result<usize, Errno> {
        match self.sock(id)?.proto {
            Proto::Tcp(_) => self.tcp_send(id, buf),
            Proto::Udp(_) => self.udp_send(id, buf, to),
        }
    }

    /// A send on TCP connection `id` of up to `len` bytes that `fill` writes straight
    /// into the connection's send buffer (no buffer of the caller's in between:
    /// sendfile from the page cache). `fill(dst)` writes the next bytes into `dst` and
    /// returns how many; fewer than `dst.len()` ends the send (the source has no more
    /// now). It runs with the stack borrowed: it must not wait. Returns the bytes
    /// taken, with [`Stack::send`]'s errors; EOPNOTSUPP on a UDP socket.
    pub fn send_with(
        &mut self,
        id: SocketId,
        len: usize,
        fill: &mut dyn FnMut(&mut [u8]) -> usize,
    ) -> Result<usize, Errno> {
        match self.sock(id)?.proto {
            Proto::Tcp(_) => self.tcp_send_with(id, len, fill),
            Proto::Udp(_) => Err(EOPNOTSUPP),
        }
    }

    /// recv/recvfrom/read. `flags`: MSG_PEEK (others are the kernel's). TCP: Ok(len 0)
    /// at end of file, EAGAIN when nothing is there yet, ENOTCONN when unconnected,
    /// ECONNRESET once after a reset. UDP: one datagram (truncated to `buf`), EAGAIN.
    pub fn recv(&mut self, id: SocketId, buf: &mut [u8], flags: u32) -> Result<Received, Errno> {
        match self.sock(id)?.proto {
            Proto::Tcp(_) => self.tcp_recv(id, buf, flags),
            Proto::Udp(_) => self.udp_recv(id, buf, flags),
        }
    }

    /// sendmsg: [`Stack::send`] with what its IP-level control messages ask
    /// (`ancillary::SendInfo::parse`; TCP ignores them).
    pub fn send_msg(
        &mut self,
        id: SocketId,
        buf: &[u8],
        to: Option<SockAddr>,
        control: &[crate::ancillary::Control],
    ) -> Result<usize, Errno> {
        let s = self.sock(id)?;
        match s.proto {
            Proto::Tcp(_) => self.tcp_send(id, buf),
            Proto::Udp(_) => {
                let info = crate::ancillary::SendInfo::parse(s.family, control)?;
                self.udp_send_info(id, buf, to, info)
            }
        }
    }

    /// recvmsg: [`Stack::recv`] and the control messages the socket's options ask
    /// for (UDP; none for TCP).
    pub fn recv_msg(
        &mut self,
        id: SocketId,
        buf: &mut [u8],
        flags: u32,
    ) -> Result<(Received, Vec<crate::ancillary::Control>), Errno> {
        match self.sock(id)?.proto {
            Proto::Tcp(_) => Ok((self.tcp_recv(id, buf, flags)?, Vec::new())),
            Proto::Udp(_) => self.udp_recv_control(id, buf, flags),
        }
    }

    /// shutdown(2). ENOTCONN on sockets that are not connected.
    pub fn shutdown(&mut self, id: SocketId, how: Shutdown) -> Result<(), Errno> {
        let r = match self.sock(id)?.proto {
            Proto::Tcp(_) => self.tcp_shutdown(id, how),
            Proto::Udp(_) => self.udp_shutdown(id, how),
        };
        if r.is_ok() {
            // The kernel notifies: readiness changed (POLLIN/POLLRDHUP/POLLHUP).
            let s = self.sock_mut(id)?;
            s.generation += 1;
            self.dirty = true;
        }
        r
    }

    /// getsockname(2): the bound or connected local address; the family's unspecified
    /// address and port 0 when unbound.
    pub fn local_addr(&self, id: SocketId) -> Result<SockAddr, Errno> {
        let s = self.sock(id)?;
        if let Proto::Tcp(TcpState::Conn(t)) = &s.proto {
            let sk = self.ifaces[t.c.iface]
                .sockets
                .get::<tcp::Socket>(t.c.handle);
            if let Some(ep) = sk.local_endpoint() {
                return Ok(SockAddr::from_endpoint(ep, s.family));
            }
        }
        Ok(s.local.unwrap_or(s.family.unspecified()))
    }

    /// getpeername(2): ENOTCONN unless connected (a TCP connection keeps its peer
    /// after a reset, as in Linux only until it is closed... here until close()).
    pub fn peer_addr(&self, id: SocketId) -> Result<SockAddr, Errno> {
        let s = self.sock(id)?;
        match &s.proto {
            Proto::Tcp(TcpState::Conn(t)) => {
                let sk = self.ifaces[t.c.iface]
                    .sockets
                    .get::<tcp::Socket>(t.c.handle);
                if t.connecting {
                    return Err(ENOTCONN);
                }
                sk.remote_endpoint()
                    .map(|ep| SockAddr::from_endpoint(ep, s.family))
                    .ok_or(ENOTCONN)
            }
            Proto::Udp(u) => u.peer.ok_or(ENOTCONN),
            _ => Err(ENOTCONN),
        }
    }

    /// Takes the pending error (SO_ERROR).
    pub fn take_error(&mut self, id: SocketId) -> Result<Option<Errno>, Errno> {
        Ok(self.sock_mut(id)?.error.take())
    }

    // ----- readiness -----

    /// Current readiness as POLL* bits (POLLIN, POLLOUT, POLLERR, POLLHUP, POLLRDHUP).
    pub fn poll_bits(&self, id: SocketId) -> u32 {
        match self.sock(id) {
            Ok(s) => self.snapshot(s).bits,
            Err(_) => POLLERR | POLLHUP,
        }
    }

    /// [`Stack::poll_bits`] as the last [`Stack::poll`] computed it, without walking
    /// the socket again: the same value when every call that changes a socket is
    /// followed by a poll before readiness is asked (the kernel polls after each
    /// socket call), and cheap enough for an epoll scan over many sockets.
    pub fn ready_bits(&self, id: SocketId) -> u32 {
        match self.sock(id) {
            Ok(s) => s.snap.bits,
            Err(_) => POLLERR | POLLHUP,
        }
    }

    /// Bumped whenever the socket becomes readier (for edge-triggered epoll).
    pub fn generation(&self, id: SocketId) -> u64 {
        self.sock(id).map_or(0, |s| s.generation)
    }

    /// FIONREAD: TCP bytes queued; UDP the size of the next datagram.
    pub fn bytes_readable(&self, id: SocketId) -> Result<usize, Errno> {
        let s = self.sock(id)?;
        Ok(match &s.proto {
            Proto::Tcp(TcpState::Conn(t)) => self.ifaces[t.c.iface]
                .sockets
                .get::<tcp::Socket>(t.c.handle)
                .recv_queue(),
            Proto::Tcp(_) => 0,
            Proto::Udp(u) => u
                .held
                .front()
                .map(|d| d.len())
                .or_else(|| {
                    u.socks.iter().find_map(|c| {
                        let mut sk_len = None;
                        let sk = self.ifaces[c.iface].sockets.get::<udp::Socket>(c.handle);
                        if sk.can_recv() {
                            sk_len = Some(sk.recv_queue());
                        }
                        sk_len
                    })
                })
                .unwrap_or(0),
        })
    }

    pub(crate) fn snapshot(&self, s: &Socket) -> Snapshot {
        snapshot_in(&self.ifaces, s)
    }

    pub(crate) fn acceptable(&self, c: &Conn) -> bool {
        acceptable_in(&self.ifaces, c)
    }

    // ----- polling -----

    /// Whether work is queued that a poll would do now: a socket call since the last
    /// [`Stack::poll`], or work that poll left (more frames than its rounds take, a
    /// reset to send). False: a poll in the same millisecond, with no frame received
    /// since, would find nothing to do, whether or not the last one changed anything.
    pub fn needs_poll(&self) -> bool {
        self.dirty
    }

    /// Whom the last [`Stack::poll`] asked to wake (meaningful when it returned true;
    /// frames that moved without changing any socket's readiness wake nobody).
    pub fn woken(&self) -> Woken {
        self.woken
    }

    /// Drives every interface at `now_ms` (monotonic milliseconds): receives, re-arms
    /// listeners, transmits, applies DHCP leases, reaps finished connections and
    /// updates readiness. Returns true when anything changed: the kernel then wakes
    /// its I/O wait queue.
    pub fn poll(&mut self, now_ms: u64) -> bool {
        let now = Instant::from_millis(now_ms as i64);
        self.now = now;
        self.dirty = false;
        self.woken = Woken::default();
        let mut changed = false;
        // The listeners, found when a frame for the main set first needs them: with
        // many connections most frames go to a connection's own set, and this walk
        // over every socket was a fifth of the poll's own instructions (redis, 50
        // clients, bench/insn-profile).
        let mut listeners: Option<Vec<usize>> = None;
        if self.marking {
            let ifaces = &self.ifaces;
            let senders = self.socks.iter().flatten().filter_map(|s| {
                let sender = |tcp, port, peer, class: Option<u8>| crate::tclass::Sender {
                    ipv6: s.family == crate::Family::Inet6,
                    tcp,
                    port,
                    peer,
                    tos: class.unwrap_or(s.opts.tos),
                    tclass: class.unwrap_or(s.opts.tclass),
                };
                match (&s.proto, s.local) {
                    (Proto::Udp(u), Some(l)) => Some(sender(false, l.port(), None, u.class)),
                    (Proto::Tcp(TcpState::Listening(_)), Some(l)) => {
                        Some(sender(true, l.port(), None, None))
                    }
                    (Proto::Tcp(TcpState::Conn(t)), _) => tcp_sender(
                        s.family,
                        &s.opts,
                        ifaces[t.c.iface].sockets.get::<tcp::Socket>(t.c.handle),
                    ),
                    _ => None,
                }
            });
            let marks =
                crate::tclass::marks(senders.chain(self.orphan_marks.iter().map(|&(_, m)| m)));
            for i in &mut self.ifaces {
                i.marks.clone_from(&marks);
            }
        }
        for i in 0..self.ifaces.len() {
            let (iface, socks, orphans) = (&mut self.ifaces[i], &mut self.socks, &mut self.orphans);
            let tx_default = self.tcp_tx_len;
            let (c, more) = iface.poll(now, |set| {
                let listeners = listeners.get_or_insert_with(|| listening(socks));
                for &l in listeners.iter() {
                    let misfit = socks[l]
                        .as_mut()
                        .and_then(|s| service_listener(s, i, set, tx_default));
                    if let Some(c) = misfit {
                        rehome(socks, listeners, l, c, set, orphans);
                    }
                }
            });
            changed |= c;
            self.dirty |= more;
            if self.ifaces[i].process_dhcp() {
                changed = true;
                self.woken.all = true;
            }
        }
        self.drain_sniffers();
        self.drain_lite();
        self.udp_sweep_all();
        // Reap orphans that are done. Data that reached an orphan (a socket closed
        // with nothing unread) resets it, as Linux does (RFC 1122): a peer that keeps
        // sending learns at once that nobody reads, instead of filling the window and
        // waiting forever. The RST goes out on the next poll, before the reap.
        let (ifaces, dirty) = (&mut self.ifaces, &mut self.dirty);
        self.orphans.retain(|c| {
            let set = &mut ifaces[c.iface].sockets;
            let sk = set.get::<tcp::Socket>(c.handle);
            if sk.state() == tcp::State::Closed {
                set.remove(c.handle);
                false
            } else {
                if sk.recv_queue() > 0 {
                    set.get_mut::<tcp::Socket>(c.handle).abort();
                    *dirty = true;
                }
                true
            }
        });
        let orphans = &self.orphans;
        self.orphan_marks.retain(|(c, _)| orphans.contains(c));
        changed | self.refresh(false)
    }

    /// After a socket call that queued nothing ([`Stack::needs_poll`] false), when the
    /// last [`Stack::poll`] left nothing to do and no frame arrived since: recomputes
    /// the readiness of the sockets the call reached (as a poll would) without driving
    /// the interfaces, which would move nothing. Returns true when any readiness
    /// changed; [`Stack::woken`] then says whom to wake.
    pub fn settle(&mut self, now_ms: u64) -> bool {
        self.now = Instant::from_millis(now_ms as i64);
        self.woken = Woken::default();
        self.refresh(true)
    }

    /// Recomputes readiness, sets `woken`; true when any socket's readiness changed.
    /// `settling` (no interface was driven): a listener no call reached keeps the
    /// readiness it had (only frames bring it connections) and stays listed for the
    /// next poll.
    fn refresh(&mut self, settling: bool) -> bool {
        let mut changed = false;
        // Readiness is recomputed only for the sockets that may have moved (with 50
        // redis clients the walk over every socket was most of this poll's
        // instructions): the owners of the connections a frame, a call or a timer
        // reached, the sockets changed through the table, and those always looked at.
        for i in &mut self.ifaces {
            let visit = &mut self.visit;
            i.sockets.drain_changed(|owner| visit.add(owner));
        }
        // Swapped, not moved: no empty list dropped (a call) per poll.
        self.visit.swap(&mut self.visiting);
        for k in 0..self.visiting.len() {
            let idx = self.visiting[k];
            if settling
                && self.socks[idx as usize].as_ref().is_some_and(|s| {
                    !s.stale && matches!(s.proto, Proto::Tcp(TcpState::Listening(_)))
                })
            {
                self.visit.keep(idx);
                continue;
            }
            self.visit.unlist(idx);
            if self.update(idx as usize) {
                changed = true;
                self.woken.sockets |= wait_bit(SocketId(idx));
            }
        }
        self.visiting.clear();
        // What `update` skipped must be as it was, and nothing changed through the
        // table left unvisited (the host tests run with this on).
        #[cfg(debug_assertions)]
        for s in self.socks.iter().flatten() {
            let now = snapshot_in(&self.ifaces, s);
            debug_assert!(
                (now.bits, now.rx, now.tx_free, now.accept)
                    == (s.snap.bits, s.snap.rx, s.snap.tx_free, s.snap.accept),
                "a socket's readiness changed without an update"
            );
            debug_assert!(
                !s.stale,
                "a socket changed through the table was not updated"
            );
        }
        changed
    }

    /// Tracks connection state changes (connect results, resets) and pending
    /// connections of listeners; recomputes readiness; true when the socket became
    /// readier or its bits changed. Lists the socket for the next poll when it is
    /// one that every poll updates (`always_updated`); a freed slot is left alone.
    fn update(&mut self, idx: usize) -> bool {
        let now = self.now.total_millis();
        // In place: the interfaces and the socket table are borrowed apart rather
        // than the socket moved out and back.
        let ifaces = &mut self.ifaces;
        let Some(s) = self.socks.get_mut(idx).and_then(Option::as_mut) else {
            return false;
        };
        // A connection that nothing reached since the last update (no call through
        // the table, no frame, call or timer on its smoltcp socket) has the readiness
        // it had: with many connections, most polls concern one of them.
        if let Proto::Tcp(TcpState::Conn(t)) = &s.proto {
            let changed = ifaces[t.c.iface]
                .sockets
                .take_changed(t.c.handle, idx as u32);
            if !s.stale && !changed && t.corked.is_empty() && !t.pushing && !t.connecting {
                return false;
            }
        }
        s.stale = false;
        match &mut s.proto {
            Proto::Tcp(TcpState::Conn(t)) => {
                // Read first, changed only when needed: a changed socket's set is
                // polled for egress (`Sockets::get_mut`).
                let set = &mut ifaces[t.c.iface].sockets;
                let sk = set.get::<tcp::Socket>(t.c.handle);
                let st = sk.state();
                if t.connecting {
                    match st {
                        tcp::State::SynSent | tcp::State::SynReceived => {}
                        tcp::State::Closed => {
                            t.connecting = false;
                            t.failed = true;
                            s.error = Some(if now - t.started_ms >= CONNECT_TIMEOUT_MS {
                                ETIMEDOUT
                            } else {
                                ECONNREFUSED
                            });
                        }
                        _ => {
                            t.connecting = false;
                            set.get_mut::<tcp::Socket>(t.c.handle).set_timeout(None);
                        }
                    }
                } else if st == tcp::State::Closed
                    && t.last_state != tcp::State::Closed
                    && !t.shut_wr
                {
                    s.error = Some(ECONNRESET);
                }
                if !t.corked.is_empty() && now - t.corked_since >= crate::tcp::CORK_MS {
                    let sk = set.get_mut::<tcp::Socket>(t.c.handle);
                    crate::tcp::push_corked(t, sk, true); // 200 ms: out it goes, as Linux
                    self.dirty = true; // for the next poll, not one skipped as idle
                }
                if t.pushing && set.get::<tcp::Socket>(t.c.handle).send_queue() == 0 {
                    t.pushing = false;
                    set.get_mut::<tcp::Socket>(t.c.handle)
                        .set_nagle_enabled(!s.opts.nodelay);
                }
                t.last_state = st;
            }
            Proto::Tcp(TcpState::Listening(l)) => {
                l.pending.retain(|c| {
                    let set = &mut ifaces[c.iface].sockets;
                    if set.get::<tcp::Socket>(c.handle).state() == tcp::State::Closed {
                        set.remove(c.handle);
                        false
                    } else {
                        true
                    }
                });
            }
            _ => {}
        }
        let new = snapshot_in(ifaces, s);
        let old = s.snap;
        let readier = new.bits & !old.bits != 0
            || new.rx > old.rx
            || new.tx_free > old.tx_free
            || new.accept > old.accept;
        if readier {
            s.generation += 1;
        }
        s.snap = new;
        if always_updated(s) {
            self.visit.add(idx as u32);
        }
        readier || new.bits != old.bits
    }

    /// Whether a TCP connection (open or closed and finishing) still has data queued
    /// to send: the kernel keeps polling, for a bounded time, before it powers off.
    pub fn tcp_send_pending(&self) -> bool {
        self.ifaces.iter().any(|i| {
            i.sockets.iter().any(|s| match s {
                smoltcp::socket::Socket::Tcp(t) => t.send_queue() > 0,
                _ => false,
            })
        })
    }

    /// When to poll next (monotonic ms): `Some(now)` if calls queued work, the
    /// earliest smoltcp timer otherwise, None when nothing is timed.
    pub fn poll_at(&mut self, now_ms: u64) -> Option<u64> {
        if self.dirty {
            return Some(now_ms);
        }
        let now = Instant::from_millis(now_ms as i64);
        let corked = self.socks.iter().flatten().filter_map(|s| match &s.proto {
            Proto::Tcp(TcpState::Conn(t)) if !t.corked.is_empty() => {
                Some((t.corked_since + crate::tcp::CORK_MS).max(0) as u64)
            }
            _ => None,
        });
        self.ifaces
            .iter_mut()
            .filter_map(|i| i.poll_at(now))
            .map(|t| t.total_millis().max(0) as u64)
            .chain(corked)
            .min()
    }
}

/// Whether every poll recomputes `s`'s readiness: all but a TCP connection in a set
/// of its own with nothing corked, no push pending and no connect in progress, which
/// only a call through the table (`sock_mut`) or a change of its smoltcp socket
/// (`Sockets::drain_changed`) moves, as `update`'s own skip says.
fn always_updated(s: &Socket) -> bool {
    !matches!(&s.proto, Proto::Tcp(TcpState::Conn(t))
        if matches!(t.c.handle, Handle::Own(_))
            && t.corked.is_empty()
            && !t.pushing
            && !t.connecting)
}

/// A socket's readiness as the interfaces' sockets show it now.
fn snapshot_in<D: Device>(ifaces: &[Iface<D>], s: &Socket) -> Snapshot {
    let mut snap = match &s.proto {
        Proto::Tcp(TcpState::Idle) => Snapshot {
            bits: POLLOUT | POLLHUP,
            ..Snapshot::default()
        },
        Proto::Tcp(TcpState::Listening(l)) => {
            let accept = l
                .pending
                .iter()
                .filter(|c| acceptable_in(ifaces, c))
                .count();
            Snapshot {
                bits: if accept > 0 { POLLIN } else { 0 },
                accept,
                ..Snapshot::default()
            }
        }
        Proto::Tcp(TcpState::Conn(t)) => {
            let sk = ifaces[t.c.iface].sockets.get::<tcp::Socket>(t.c.handle);
            tcp_snapshot(t, sk)
        }
        Proto::Udp(u) => {
            let mut snap = Snapshot::default();
            if !u.held.is_empty() {
                snap.bits |= POLLIN;
                snap.rx += u.held.iter().map(|d| d.len()).sum::<usize>();
            }
            let mut can_send = u.socks.is_empty();
            for c in &u.socks {
                let sk = ifaces[c.iface].sockets.get::<udp::Socket>(c.handle);
                if sk.can_recv() {
                    snap.bits |= POLLIN;
                }
                snap.rx += sk.recv_queue();
                can_send |= sk.can_send();
                snap.tx_free += sk.payload_send_capacity() - sk.send_queue();
            }
            if can_send && !u.shut_wr {
                snap.bits |= POLLOUT;
            }
            if u.shut_rd {
                snap.bits |= POLLIN | POLLRDHUP;
            }
            if u.shut_rd && u.shut_wr {
                snap.bits |= POLLHUP;
            }
            snap
        }
    };
    if s.error.is_some() {
        snap.bits |= POLLERR;
    }
    snap
}

/// Whether a pending connection of a listener can be accepted.
fn acceptable_in<D: Device>(ifaces: &[Iface<D>], c: &Conn) -> bool {
    let st = ifaces[c.iface].sockets.get::<tcp::Socket>(c.handle).state();
    !matches!(
        st,
        tcp::State::Listen | tcp::State::SynReceived | tcp::State::Closed
    )
}

/// Readiness of a TCP connection, as Linux's tcp_poll computes it.
///
/// Writable as Linux's `__sk_stream_is_writeable`: when the free send buffer holds at
/// least half of what is queued (a full buffer becomes writable again once a third of
/// it has been acknowledged), not at every free byte. The free space itself is no
/// readiness edge (`tx_free` stays 0): an acknowledgment wakes nobody unless it makes
/// the connection writable again. Otherwise every ACK would wake a sender that filled
/// its buffer (nginx's sendfile: one wake-up, epoll round and system call per few
/// segments acknowledged) and, through the socket's generation, re-report an
/// edge-triggered epoll entry, and wake an epoll waiter for replies it already sent.
fn tcp_snapshot(t: &TcpConn, sk: &tcp::Socket) -> Snapshot {
    use tcp::State::*;
    let mut snap = Snapshot {
        rx: sk.recv_queue(),
        ..Snapshot::default()
    };
    let queued = sk.send_queue() + t.corked.len();
    let free = t.send_capacity(sk).saturating_sub(queued);
    let writable = free > 0 && free >= queued / 2;
    let st = sk.state();
    snap.bits = match st {
        SynSent | SynReceived | Listen => 0,
        Closed => POLLIN | POLLOUT | POLLHUP | POLLRDHUP,
        _ => {
            let rd_closed = crate::tcp::fin_received(st) || t.shut_rd;
            let mut b = 0;
            if sk.can_recv() || rd_closed {
                b |= POLLIN;
            }
            if rd_closed {
                b |= POLLRDHUP;
            }
            if t.shut_wr || (sk.may_send() && writable) {
                b |= POLLOUT;
            }
            if rd_closed && (t.shut_wr || matches!(st, LastAck | Closing | TimeWait)) {
                b |= POLLHUP;
            }
            b
        }
    };
    snap
}

/// The address spaces in which a socket bound to `addr` holds its port: (IPv4, IPv6).
/// An IPv6 wildcard holds both unless IPV6_V6ONLY; an IPv4-mapped address only IPv4.
fn spaces(addr: &SockAddr, v6only: bool) -> (bool, bool) {
    match addr {
        SockAddr::V4 { .. } => (true, false),
        SockAddr::V6 { .. } if addr.ip().is_ipv4() => (true, false),
        SockAddr::V6 { .. } => (addr.is_unspecified() && !v6only, true),
    }
}

/// After an ingress packet on interface `i`: moves listeners of `s` that left LISTEN
/// to the pending queue (or drops them silently when the backlog is full: the client
/// retransmits its SYN, as with Linux) and re-arms. A connection of a family `s` does
/// not take is returned, for [`rehome`].
fn service_listener(
    s: &mut Socket,
    i: usize,
    set: &mut Sockets,
    tx_default: usize,
) -> Option<Conn> {
    let Proto::Tcp(TcpState::Listening(l)) = &mut s.proto else {
        return None;
    };
    let pos = l.armed.iter().position(|c| c.iface == i)?;
    if set.get::<tcp::Socket>(l.armed[pos].handle).state() == tcp::State::Listen {
        return None;
    }
    // A connection now: to a socket set of its own (see `sockets`).
    let c = Conn {
        iface: i,
        handle: set.adopt(l.armed[pos].handle),
    };
    let sk = set.get::<tcp::Socket>(c.handle);
    let family_ok = takes_family(
        s.family,
        s.opts.v6only,
        sk.local_endpoint().map(|ep| ep.addr),
    );
    let misfit = if !family_ok {
        Some(c)
    } else if l.pending.len() < l.backlog {
        l.pending.push_back(c);
        None
    } else {
        set.remove(c.handle);
        None
    };
    let local = s.local.expect("listening sockets are bound");
    l.armed[pos] = Conn {
        iface: i,
        handle: set.add(crate::tcp::rearmed_listener(&s.opts, &local, tx_default)),
    };
    misfit
}

/// What a TCP connection `sk` of a socket of `family` with `opts` sends, for its class marks (`tclass`); None
/// before it has both endpoints.
fn tcp_sender(
    family: Family,
    opts: &crate::options::SockOpts,
    sk: &tcp::Socket,
) -> Option<crate::tclass::Sender> {
    let (local, remote) = (sk.local_endpoint()?, sk.remote_endpoint()?);
    Some(crate::tclass::Sender {
        ipv6: family == Family::Inet6,
        tcp: true,
        port: local.port,
        peer: Some((crate::addr::smol_to_ip(remote.addr), remote.port)),
        tos: opts.tos,
        tclass: opts.tclass,
    })
}

/// Whether listener `s` takes connections to a local address of this family (an
/// IPv6 listener takes IPv4 ones unless IPV6_V6ONLY).
fn takes_family(family: Family, v6only: bool, local: Option<smoltcp::wire::IpAddress>) -> bool {
    match local {
        Some(smoltcp::wire::IpAddress::Ipv4(_)) => {
            family == Family::Inet || (family == Family::Inet6 && !v6only)
        }
        Some(smoltcp::wire::IpAddress::Ipv6(_)) => family == Family::Inet6,
        None => false,
    }
}

/// A SYN of the other family reached listener `from`'s armed socket (smoltcp's
/// wildcard listen endpoints match both families): hands the new connection to a
/// listener on the same port that takes its family (`0.0.0.0:P` next to a V6ONLY
/// `[::]:P`), or resets it as Linux does when nobody listens for it.
/// The indices of the listening sockets.
fn listening(socks: &[Option<Socket>]) -> Vec<usize> {
    socks
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            matches!(
                s,
                Some(Socket {
                    proto: Proto::Tcp(TcpState::Listening(_)),
                    ..
                })
            )
        })
        .map(|(i, _)| i)
        .collect()
}

fn rehome(
    socks: &mut [Option<Socket>],
    listeners: &[usize],
    from: usize,
    c: Conn,
    set: &mut Sockets,
    orphans: &mut Vec<Conn>,
) {
    let local = set.get::<tcp::Socket>(c.handle).local_endpoint();
    let taker = local.and_then(|ep| {
        listeners.iter().copied().find(|&o| {
            o != from
                && socks[o].as_ref().is_some_and(|s| {
                    s.local.is_some_and(|a| {
                        a.port() == ep.port
                            && (a.is_unspecified() || a.ip() == crate::addr::smol_to_ip(ep.addr))
                    }) && takes_family(s.family, s.opts.v6only, Some(ep.addr))
                })
        })
    });
    if let Some(Some(Socket {
        proto: Proto::Tcp(TcpState::Listening(l)),
        ..
    })) = taker.map(|o| &mut socks[o])
    {
        if l.pending.len() < l.backlog {
            l.pending.push_back(c);
        } else {
            set.remove(c.handle); // a full backlog drops the SYN silently
        }
        return;
    }
    set.get_mut::<tcp::Socket>(c.handle).abort(); // sends the RST
    orphans.push(c);
}

#[cfg(test)]
mod tests {
    use super::Visits;

    #[test]
    fn visits_list_each_socket_once_until_it_is_visited() {
        let mut v = Visits::default();
        for idx in [3, 70, 3, 0, 70] {
            v.add(idx);
        }
        let mut taken = alloc::vec::Vec::new();
        v.swap(&mut taken);
        assert_eq!(taken, [3, 70, 0]);
        v.add(3); // still listed (not visited yet): not again
        assert!(v.list.is_empty());
        v.unlist(3);
        v.add(3);
        v.add(3);
        assert_eq!(v.list, [3]);
    }
}
