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
use crate::stack::{Conn, Proto, Received, Shutdown, Stack};
use crate::SocketId;
use alloc::vec;
use alloc::vec::Vec;
use core::net::IpAddr;
use smoltcp::phy::Device;
use smoltcp::socket::udp;

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
        let (rxlen, txlen) = (
            s.opts.rx_buffer_len().max(MAX_DATAGRAM + 1),
            s.opts.tx_buffer_len().max(MAX_DATAGRAM + 1),
        );
        let ttl = s.opts.ttl;
        let mut socks = vec::Vec::new();
        for (i, iface) in self.ifaces.iter_mut().enumerate() {
            let rx = udp::PacketBuffer::new(
                vec![udp::PacketMetadata::EMPTY; QUEUE_PACKETS],
                vec![0u8; rxlen],
            );
            let tx = udp::PacketBuffer::new(
                vec![udp::PacketMetadata::EMPTY; QUEUE_PACKETS],
                vec![0u8; txlen],
            );
            let mut sk = udp::Socket::new(rx, tx);
            sk.set_hop_limit(ttl);
            sk.bind(local.to_listen_endpoint()).map_err(|_| EINVAL)?;
            socks.push(Conn {
                iface: i,
                handle: iface.sockets.add(sk),
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
    /// smoltcp has one hop limit per socket, read when the datagram leaves: it is set
    /// only while nothing else is queued (EAGAIN until the queue has left, which the
    /// poll after this call does).
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
        let Proto::Udp(u) = &self.sock(id)?.proto else {
            unreachable!()
        };
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
        let sk = self.ifaces[i].sockets.get_mut::<udp::Socket>(c.handle);
        if sk.hop_limit() != hop_limit {
            if sk.send_queue() > 0 {
                self.dirty = true;
                return Err(EAGAIN);
            }
            sk.set_hop_limit(hop_limit);
        }
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
        let hop_limit = if Self::wants_sniffers(bits) {
            let from = r.from.expect("a datagram has a sender");
            self.seen_hop_limit(
                from.ip(),
                from.port(),
                port,
                r.full_len,
                flags & MSG_PEEK != 0,
            )
        } else {
            None
        };
        let info = PacketInfo {
            dst: seen.0,
            ifindex: seen.1,
            hop_limit,
        };
        Ok((r, recv_control(bits, family, &info)))
    }

    /// A receive and the datagram's destination address and interface index.
    fn udp_recv_info(
        &mut self,
        id: SocketId,
        buf: &mut [u8],
        flags: u32,
    ) -> Result<(Received, Option<(IpAddr, u32)>), Errno> {
        let s = self
            .socks
            .get_mut(id.0 as usize)
            .and_then(|s| s.as_mut())
            .ok_or(EBADF)?;
        let family = s.family;
        let Proto::Udp(u) = &mut s.proto else {
            unreachable!()
        };
        let n = u.socks.len();
        for k in 0..n {
            let c = u.socks[(u.next + k) % n];
            let sk = self.ifaces[c.iface]
                .sockets
                .get_mut::<udp::Socket>(c.handle);
            loop {
                let (data, meta) = if flags & MSG_PEEK != 0 {
                    match sk.peek() {
                        Ok((d, m)) => (d, *m),
                        Err(_) => break,
                    }
                } else {
                    match sk.recv() {
                        Ok(x) => x,
                        Err(_) => break,
                    }
                };
                let from = SockAddr::from_endpoint(meta.endpoint, family);
                if let Some(p) = u.peer {
                    if p.ip() != from.ip() || p.port() != from.port() {
                        if flags & MSG_PEEK != 0 {
                            // Not ours: drop it and look again.
                            let _ = sk.recv();
                        }
                        continue;
                    }
                }
                let len = data.len().min(buf.len());
                buf[..len].copy_from_slice(&data[..len]);
                let full_len = data.len();
                u.next = (u.next + k + 1) % n;
                let dst = meta.local_address.map_or(from.ip(), smol_to_ip);
                let seen = (dst, c.iface as u32 + 1);
                return Ok((
                    Received {
                        len,
                        full_len,
                        from: Some(from),
                    },
                    Some(seen),
                ));
            }
        }
        if u.shut_rd {
            let eof = Received {
                len: 0,
                full_len: 0,
                from: None,
            };
            return Ok((eof, None));
        }
        Err(EAGAIN)
    }

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
