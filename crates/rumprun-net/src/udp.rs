//! UDP sockets: bind (ephemeral ports on demand), connect (a default peer that also
//! filters what is received, as Linux does), sendto/recvfrom with addresses, MSG_PEEK,
//! truncation of datagrams larger than the buffer (reported through `full_len`).
//!
//! A bound UDP socket has one smoltcp socket on every interface (bound to the same
//! endpoint), so a socket bound to 0.0.0.0 receives from all of them; sends leave
//! through the interface `Stack::route` picks for the destination.

use crate::addr::{ip_to_smol, smol_to_ip, SockAddr};
use crate::ancillary::{recv_control, Control, PacketInfo, SendInfo};
use crate::errno::*;
use crate::options::MSG_PEEK;
use crate::stack::{Conn, Proto, Received, Shutdown, Stack, UdpState};
use crate::Family;
use crate::SocketId;
use alloc::vec;
use alloc::vec::Vec;
use core::net::IpAddr;
use smoltcp::phy::Device;
use smoltcp::socket::udp;
use smoltcp::wire::{IpAddress, IpEndpoint};

/// Where a received datagram arrived: its destination address, the interface index,
/// and its hop limit when known.
type Arrival = (IpAddr, u32, Option<u8>);

/// The largest UDP payload over IPv4.
pub const MAX_DATAGRAM: usize = 65507;
/// The largest UDP payload the stack fragments over IPv4: what fits smoltcp's
/// fragmentation buffer (16 KiB, IPv4 and UDP headers included).
pub const MAX_FRAGMENTED_DATAGRAM_V4: usize = 16384 - IPV4_UDP_HEADERS;
const IPV4_UDP_HEADERS: usize = 20 + 8;
/// smoltcp 0.12 does not fragment IPv6: a datagram must fit the interface's MTU.
const IPV6_UDP_HEADERS: usize = 40 + 8;
/// Datagrams a socket queues per interface and direction.
const QUEUE_PACKETS: usize = 64;

impl<D: Device> Stack<D> {
    /// Creates the smoltcp sockets of bound UDP socket `id`.
    pub(crate) fn udp_open(&mut self, id: SocketId) -> Result<(), Errno> {
        let s = self.sock(id)?;
        let local = s.local.ok_or(EINVAL)?;
        if matches!(&s.proto, Proto::Udp(u) if u.lite.is_some()) {
            // UDP-Lite datagrams come through the raw sockets of `lite.rs`.
            self.ensure_lite();
            return Ok(());
        }
        let (rxlen, txlen) = (
            s.opts.rx_buffer_len().max(MAX_DATAGRAM + 1),
            s.opts.tx_buffer_len().max(MAX_DATAGRAM + 1),
        );
        let ttl = s.opts.ttl;
        // All sockets are made before any is added: no memory for the buffers
        // (SO_RCVBUF/SO_SNDBUF) is ENOBUFS with nothing left behind.
        let mut fresh = vec::Vec::new();
        for _ in &self.ifaces {
            let rx = udp::PacketBuffer::new(
                vec![udp::PacketMetadata::EMPTY; QUEUE_PACKETS],
                crate::tcp::zeroed(rxlen)?,
            );
            let tx = udp::PacketBuffer::new(
                vec![udp::PacketMetadata::EMPTY; QUEUE_PACKETS],
                crate::tcp::zeroed(txlen)?,
            );
            let mut sk = udp::Socket::new(rx, tx);
            sk.set_hop_limit(ttl);
            sk.bind(local.to_listen_endpoint()).map_err(|_| EINVAL)?;
            fresh.push(sk);
        }
        let mut socks = vec::Vec::new();
        for (i, sk) in fresh.into_iter().enumerate() {
            socks.push(Conn {
                iface: i,
                handle: self.ifaces[i].sockets.add(sk),
            });
        }
        let Proto::Udp(u) = &mut self.sock_mut(id)?.proto else {
            unreachable!()
        };
        u.socks = socks;
        Ok(())
    }

    fn udp_autobind(&mut self, id: SocketId) -> Result<(), Errno> {
        if self.sock(id)?.local.is_none() {
            let fam = self.sock(id)?.family;
            self.bind(id, fam.unspecified())?;
        }
        Ok(())
    }

    pub(crate) fn udp_connect(&mut self, id: SocketId, addr: SockAddr) -> Result<(), Errno> {
        let s = self.sock(id)?;
        if addr.family() != s.family {
            return Err(EAFNOSUPPORT);
        }
        if addr.ip().is_ipv4() && s.opts.v6only {
            return Err(ENETUNREACH);
        }
        let local = s.local.map(|l| l.ip());
        self.route(addr.ip(), local)?;
        self.udp_autobind(id)?;
        let Proto::Udp(u) = &mut self.sock_mut(id)?.proto else {
            unreachable!()
        };
        u.peer = Some(addr);
        Ok(())
    }

    pub(crate) fn udp_send(
        &mut self,
        id: SocketId,
        buf: &[u8],
        to: Option<SockAddr>,
    ) -> Result<usize, Errno> {
        self.udp_send_info(id, buf, to, SendInfo::default())
    }

    /// Sends one datagram from `info.src` (else the bound address, else the route's)
    /// with hop limit `info.hop_limit` (else the socket's IP_TTL/IPV6_UNICAST_HOPS).
    /// and traffic class `info.class` (else the socket's IP_TOS/IPV6_TCLASS). smoltcp
    /// has one hop limit per socket, read when the datagram leaves, and the class is
    /// the socket's mark (`tclass`): they are changed only while nothing else is
    /// queued (EAGAIN until the queue has left, which the poll after this call does).
    pub(crate) fn udp_send_info(
        &mut self,
        id: SocketId,
        buf: &[u8],
        to: Option<SockAddr>,
        info: SendInfo,
    ) -> Result<usize, Errno> {
        let s = self.sock(id)?;
        let Proto::Udp(u) = &s.proto else {
            unreachable!()
        };
        if u.shut_wr {
            return Err(EPIPE);
        }
        let dst = match to {
            Some(a) => {
                if a.family() != s.family {
                    return Err(EAFNOSUPPORT);
                }
                a
            }
            None => u.peer.ok_or(EDESTADDRREQ)?,
        };
        if buf.len() > MAX_DATAGRAM {
            return Err(EMSGSIZE);
        }
        if dst.ip().is_ipv4() && s.opts.v6only {
            return Err(ENETUNREACH);
        }
        if dst.port() == 0 {
            return Err(EINVAL);
        }
        let local = info
            .src
            .or_else(|| s.local.filter(|l| !l.is_unspecified()).map(|l| l.ip()));
        let hop_limit = info.hop_limit.or(s.opts.ttl);
        let i = self.route(dst.ip(), local)?;
        if !self.ifaces[i].has_family_addr(dst.ip()) {
            return Err(ENETUNREACH);
        }
        self.udp_autobind(id)?;
        let s = self.sock(id)?;
        let Proto::Udp(u) = &s.proto else {
            unreachable!()
        };
        if let Some(cov) = u.lite {
            let port = s.local.map_or(0, |l| l.port());
            let hop = hop_limit.unwrap_or(64);
            return self.lite_send(i, local, port, dst, hop, cov.send, buf);
        }
        let c = *u.socks.iter().find(|c| c.iface == i).ok_or(ENETUNREACH)?;
        // Larger datagrams would be dropped by smoltcp: refuse them, as Linux does
        // beyond its own limits.
        let mtu = self.ifaces[i].mtu;
        let limit = if dst.ip().is_ipv4() {
            MAX_FRAGMENTED_DATAGRAM_V4.max(mtu.saturating_sub(IPV4_UDP_HEADERS))
        } else {
            mtu.saturating_sub(IPV6_UDP_HEADERS)
        };
        if buf.len() > limit {
            return Err(EMSGSIZE);
        }
        let meta = udp::UdpMetadata {
            endpoint: dst.to_endpoint(),
            local_address: local.map(ip_to_smol),
            meta: Default::default(),
        };
        let class_now = u.class;
        let sk = self.ifaces[i].sockets.get_mut::<udp::Socket>(c.handle);
        if sk.hop_limit() != hop_limit || class_now != info.class {
            if sk.send_queue() > 0 {
                self.dirty = true;
                return Err(EAGAIN);
            }
            sk.set_hop_limit(hop_limit);
        }
        if class_now != info.class {
            // The packets leave marked with it (`tclass`), while it lasts.
            self.marking |= info.class.is_some();
            let Proto::Udp(u) = &mut self.sock_mut(id)?.proto else {
                unreachable!()
            };
            u.class = info.class;
        }
        let sk = self.ifaces[i].sockets.get_mut::<udp::Socket>(c.handle);
        match sk.send_slice(buf, meta) {
            Ok(()) => {
                self.dirty = true;
                Ok(buf.len())
            }
            Err(udp::SendError::BufferFull) => Err(EAGAIN),
            Err(udp::SendError::Unaddressable) => Err(ENETUNREACH),
        }
    }

    pub(crate) fn udp_recv(
        &mut self,
        id: SocketId,
        buf: &mut [u8],
        flags: u32,
    ) -> Result<Received, Errno> {
        self.udp_recv_info(id, buf, flags).map(|(r, _)| r)
    }

    /// A receive with the control messages the socket's options ask for.
    pub(crate) fn udp_recv_control(
        &mut self,
        id: SocketId,
        buf: &mut [u8],
        flags: u32,
    ) -> Result<(Received, Vec<Control>), Errno> {
        let (r, seen) = self.udp_recv_info(id, buf, flags)?;
        let s = self.sock(id)?;
        let (bits, family, port) = (s.opts.recv_info, s.family, s.local.map_or(0, |l| l.port()));
        let (Some(seen), true) = (seen, bits != 0) else {
            return Ok((r, Vec::new()));
        };
        let (hop_limit, class) = if seen.2.is_some() {
            (seen.2, None)
        } else if Self::wants_sniffers(bits) {
            let from = r.from.expect("a datagram has a sender");
            let wire = self.seen_on_wire(
                from.ip(),
                from.port(),
                port,
                r.full_len,
                flags & MSG_PEEK != 0,
            );
            (wire.map(|w| w.0), wire.map(|w| w.1))
        } else {
            (None, None)
        };
        let info = PacketInfo {
            dst: seen.0,
            ifindex: seen.1,
            hop_limit,
            class,
        };
        Ok((r, recv_control(bits, family, &info)))
    }

    /// A receive and the datagram's destination address and interface index.
    fn udp_recv_info(
        &mut self,
        id: SocketId,
        buf: &mut [u8],
        flags: u32,
    ) -> Result<(Received, Option<Arrival>), Errno> {
        self.udp_sweep(id)?;
        match self.udp_take(id, buf, flags, false)? {
            Some(r) => Ok(r),
            // Another family's datagram came after ours: the sweep hands it on (or,
            // on a socket the sweep passes over, it is dropped).
            None => {
                self.udp_sweep(id)?;
                Ok(self
                    .udp_take(id, buf, flags, true)?
                    .expect("no stop when dropping"))
            }
        }
    }

    /// The next datagram for socket `id`: the ones handed over by other sockets
    /// first, then its smoltcp sockets' in turn. None when another family's datagram
    /// stands in the way (see `udp_sweep`), unless `drop_misfits`: then it is dropped.
    fn udp_take(
        &mut self,
        id: SocketId,
        buf: &mut [u8],
        flags: u32,
        drop_misfits: bool,
    ) -> Result<Option<(Received, Option<Arrival>)>, Errno> {
        let peek = flags & MSG_PEEK != 0;
        let s = self
            .socks
            .get_mut(id.0 as usize)
            .and_then(|s| s.as_mut())
            .ok_or(EBADF)?;
        let (family, v6only) = (s.family, s.opts.v6only);
        let Proto::Udp(u) = &mut s.proto else {
            unreachable!()
        };
        let from_peer = |u: &UdpState, from: &SockAddr| {
            u.peer
                .is_none_or(|p| p.ip() == from.ip() && p.port() == from.port())
        };
        let deliver = |buf: &mut [u8], data: &[u8], from, dst, iface: usize, hop| {
            let len = data.len().min(buf.len());
            buf[..len].copy_from_slice(&data[..len]);
            let r = Received {
                len,
                full_len: data.len(),
                from: Some(from),
            };
            Some((r, Some((smol_to_ip(dst), iface as u32 + 1, hop))))
        };
        while let Some(d) = u.held.front() {
            let from = SockAddr::from_endpoint(d.from, family);
            if !from_peer(u, &from) {
                u.held.pop_front();
                continue;
            }
            let got = deliver(buf, &d.data, from, d.dst, d.iface, d.hop);
            if !peek {
                u.held.pop_front();
            }
            return Ok(got);
        }
        let n = u.socks.len();
        for k in 0..n {
            let c = u.socks[(u.next + k) % n];
            let sk = self.ifaces[c.iface]
                .sockets
                .get_mut::<udp::Socket>(c.handle);
            while let Ok((data, meta)) = sk.peek() {
                if !takes(family, v6only, meta.endpoint.addr) {
                    if !drop_misfits {
                        return Ok(None);
                    }
                    let _ = sk.recv();
                    continue;
                }
                let from = SockAddr::from_endpoint(meta.endpoint, family);
                if !from_peer(u, &from) {
                    // Not from the connected peer: dropped, as Linux never queues it.
                    let _ = sk.recv();
                    continue;
                }
                let dst = meta.local_address.unwrap_or(meta.endpoint.addr);
                let got = deliver(buf, data, from, dst, c.iface, None);
                if !peek {
                    let _ = sk.recv();
                }
                u.next = (u.next + k + 1) % n;
                return Ok(got);
            }
        }
        if u.shut_rd {
            let eof = Received {
                len: 0,
                full_len: 0,
                from: None,
            };
            return Ok(Some((eof, None)));
        }
        Err(EAGAIN)
    }

    /// Hands the datagrams of another family in socket `id`'s queues to the socket of
    /// the same port that takes them (else drops them). smoltcp gives a datagram to
    /// the first socket bound to its port, and a socket bound to 0.0.0.0 or to [::]
    /// with IPV6_V6ONLY is bound, for smoltcp, to every address of both families.
    /// Alone on its port, only the front of its queues is looked at (a datagram of
    /// the other family further on is dropped when reached); while a socket of the
    /// other family shares the port, its queues are emptied into `held` (in order,
    /// up to a queue's worth) so that none waits behind a datagram of ours.
    pub(crate) fn udp_sweep(&mut self, id: SocketId) -> Result<(), Errno> {
        let s = self.sock(id)?;
        let (family, v6only) = (s.family, s.opts.v6only);
        let Some(port) = s.local.filter(|l| l.is_unspecified()).map(|l| l.port()) else {
            return Ok(()); // bound to one address: smoltcp checks it
        };
        if family == Family::Inet6 && !v6only {
            return Ok(()); // takes both
        }
        let shared = self.socks.iter().enumerate().any(|(i, o)| {
            o.as_ref().is_some_and(|o| {
                i != id.0 as usize
                    && o.family != family
                    && matches!(&o.proto, Proto::Udp(u) if !u.socks.is_empty())
                    && o.local.is_some_and(|l| l.port() == port)
            })
        });
        let Proto::Udp(u) = &self.sock(id)?.proto else {
            unreachable!()
        };
        let mut room = QUEUE_PACKETS.saturating_sub(u.held.len());
        let (mut ours, mut misfits) = (Vec::new(), Vec::new());
        for c in u.socks.clone() {
            let sk = self.ifaces[c.iface]
                .sockets
                .get_mut::<udp::Socket>(c.handle);
            while let Ok((_, meta)) = sk.peek() {
                let fits = takes(family, v6only, meta.endpoint.addr);
                if fits && (!shared || room == 0) {
                    break;
                }
                let Ok((data, meta)) = sk.recv() else { break };
                let d = Held {
                    data: data.to_vec(),
                    from: meta.endpoint,
                    dst: meta.local_address.unwrap_or(meta.endpoint.addr),
                    iface: c.iface,
                    hop: None,
                };
                if fits {
                    room -= 1;
                    ours.push(d);
                } else {
                    misfits.push(d);
                }
            }
        }
        if !ours.is_empty() {
            if let Proto::Udp(u) = &mut self.sock_mut(id)?.proto {
                u.held.extend(ours);
            }
        }
        for d in misfits {
            self.redirect(id, port, d);
        }
        Ok(())
    }

    /// Gives datagram `d` to the socket of port `port` (other than `from`) that takes
    /// it, as Linux's demultiplexing would have; drops it when there is none.
    fn redirect(&mut self, from: SocketId, port: u16, d: Held) {
        let dst = smol_to_ip(d.dst).to_canonical();
        let target = self.socks.iter().enumerate().position(|(i, s)| {
            let Some(s) = s else { return false };
            let Some(local) = s.local else { return false };
            i != from.0 as usize
                && matches!(&s.proto, Proto::Udp(u) if !u.socks.is_empty())
                && local.port() == port
                && takes(s.family, s.opts.v6only, d.from.addr)
                && (local.is_unspecified() || local.ip().to_canonical() == dst)
        });
        let Some(s) = target.and_then(|i| self.socks[i].as_mut()) else {
            return;
        };
        let Proto::Udp(u) = &mut s.proto else {
            unreachable!()
        };
        if u.held.len() < QUEUE_PACKETS {
            u.held.push_back(d);
            self.dirty = true;
        }
    }

    /// Sweeps every UDP socket that smoltcp may give another family's datagrams
    /// (`udp_sweep`), so that the right socket sees them without waiting for the
    /// wrong one to be read.
    pub(crate) fn udp_sweep_all(&mut self) {
        // Only a socket with smoltcp UDP sockets (in the interfaces' main sets, with
        // the listeners: a few) has anything to sweep; without any, the walk over
        // every socket (a server's connections) is skipped.
        let any_udp = self.ifaces.iter().any(|i| {
            i.sockets
                .main()
                .iter()
                .any(|(_, s)| matches!(s, smoltcp::socket::Socket::Udp(_)))
        });
        if !any_udp {
            return;
        }
        for i in 0..self.socks.len() {
            let wildcard = self.socks[i].as_ref().is_some_and(|s| {
                matches!(s.proto, Proto::Udp(_))
                    && s.local.is_some_and(|l| l.is_unspecified())
                    && (s.family == Family::Inet || s.opts.v6only)
            });
            if wildcard {
                let _ = self.udp_sweep(SocketId(i as u32));
            }
        }
    }
}

/// A datagram smoltcp gave a socket of the other family, kept for the right one.
pub(crate) struct Held {
    data: Vec<u8>,
    pub(crate) from: IpEndpoint,
    /// The address it was sent to.
    pub(crate) dst: IpAddress,
    iface: usize,
    /// Its hop limit, when known (UDP-Lite reads it off the IP header).
    hop: Option<u8>,
}

impl Held {
    pub(crate) fn new(
        data: Vec<u8>,
        from: IpEndpoint,
        dst: IpAddress,
        iface: usize,
        hop: Option<u8>,
    ) -> Held {
        Held {
            data,
            from,
            dst,
            iface,
            hop,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.data.len()
    }
}

/// Whether a socket of `family` (with IPV6_V6ONLY `v6only`) takes datagrams from
/// `addr`: AF_INET only IPv4, AF_INET6 IPv6 and, unless V6ONLY, IPv4 (mapped).
fn takes(family: Family, v6only: bool, addr: IpAddress) -> bool {
    match addr {
        IpAddress::Ipv4(_) => family == Family::Inet || !v6only,
        IpAddress::Ipv6(_) => family == Family::Inet6,
    }
}

impl<D: Device> Stack<D> {
    pub(crate) fn udp_shutdown(&mut self, id: SocketId, how: Shutdown) -> Result<(), Errno> {
        let Proto::Udp(u) = &mut self.sock_mut(id)?.proto else {
            unreachable!()
        };
        if u.peer.is_none() {
            return Err(ENOTCONN);
        }
        if matches!(how, Shutdown::Read | Shutdown::Both) {
            u.shut_rd = true;
        }
        if matches!(how, Shutdown::Write | Shutdown::Both) {
            u.shut_wr = true;
        }
        Ok(())
    }
}
