//! The traffic class of what sockets send: IP_TOS (the IPv4 TOS byte) and
//! IPV6_TCLASS (the IPv6 traffic class), as ip(7) and ipv6(7) set them per socket,
//! and as a sendmsg control message sets them for one UDP datagram. smoltcp writes
//! 0 into every packet, so the stack marks the packets of sockets that set a class
//! as they leave ([`Marking`], a device wrapped around the interface's while some
//! socket has a class): a UDP packet's source port (and IP version) names its
//! socket; a TCP segment's source port and destination address and port name its
//! connection, and a listener's port its handshake segments. The class goes into the
//! header and an IPv4 header checksum is recomputed. The receive side (IP_RECVTOS,
//! IPV6_RECVTCLASS) reads the class off the wire through `ancillary`'s sniffers.
//!
//! A TCP connection the program closed keeps its class for the segments smoltcp still
//! sends (the FIN handshake). Not marked: the fragments after the first of a datagram
//! larger than the MTU.

use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use smoltcp::phy::{self, Device, DeviceCapabilities, Medium};
use smoltcp::time::Instant;

const PROTOCOL_TCP: u8 = 6;
const PROTOCOL_UDP: u8 = 17;

/// A socket's class for the packets from its port of one IP version and transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Mark {
    pub(crate) ipv6: bool,
    pub(crate) tcp: bool,
    pub(crate) port: u16,
    /// A TCP connection's peer: only its segments. None: every packet from the port
    /// (a UDP socket, a TCP listener's handshakes).
    pub(crate) peer: Option<(IpAddr, u16)>,
    pub(crate) class: u8,
}

/// The class the marks give a packet of this IP version and transport from `port`
/// to `peer`: a connection's own mark first, else one for the whole port.
fn class_of(marks: &[Mark], ipv6: bool, tcp: bool, port: u16, peer: (IpAddr, u16)) -> Option<u8> {
    let from = marks
        .iter()
        .filter(|m| m.ipv6 == ipv6 && m.tcp == tcp && m.port == port);
    from.clone()
        .find(|m| m.peer == Some(peer))
        .or_else(|| from.clone().find(|m| m.peer.is_none()))
        .map(|m| m.class)
}

/// Writes the class of its marks into an outgoing UDP packet or TCP segment in
/// `frame` (an Ethernet frame or a bare IP packet, as `medium` says).
pub(crate) fn mark(frame: &mut [u8], medium: Medium, marks: &[Mark]) {
    let ip = match medium {
        Medium::Ethernet => {
            if frame.len() < 14 {
                return;
            }
            match u16::from_be_bytes([frame[12], frame[13]]) {
                0x0800 | 0x86dd => 14,
                _ => return,
            }
        }
        _ => 0,
    };
    let Some(p) = frame.get_mut(ip..) else { return };
    let word = |p: &[u8], at: usize| u16::from_be_bytes([p[at], p[at + 1]]);
    match p.first().map(|b| b >> 4) {
        Some(4) if p.len() >= 20 => {
            let hl = usize::from(p[0] & 0x0f) * 4;
            let first_fragment = word(p, 6) & 0x1fff == 0;
            let tcp = p[9] == PROTOCOL_TCP;
            if !(tcp || p[9] == PROTOCOL_UDP) || !first_fragment || hl < 20 || p.len() < hl + 4 {
                return;
            }
            let dst = IpAddr::V4(Ipv4Addr::new(p[16], p[17], p[18], p[19]));
            let peer = (dst, word(p, hl + 2));
            let Some(class) = class_of(marks, false, tcp, word(p, hl), peer) else {
                return;
            };
            p[1] = class;
            p[10] = 0;
            p[11] = 0;
            let sum = !fold(
                p[..hl]
                    .chunks_exact(2)
                    .map(|w| u16::from_be_bytes([w[0], w[1]])),
            );
            p[10..12].copy_from_slice(&sum.to_be_bytes());
        }
        Some(6) if p.len() >= 44 => {
            let tcp = p[6] == PROTOCOL_TCP;
            if !(tcp || p[6] == PROTOCOL_UDP) {
                return;
            }
            let dst: [u8; 16] = p[24..40].try_into().expect("16 bytes");
            let peer = (IpAddr::V6(Ipv6Addr::from(dst)), word(p, 42));
            let Some(class) = class_of(marks, true, tcp, word(p, 40), peer) else {
                return;
            };
            p[0] = (p[0] & 0xf0) | (class >> 4);
            p[1] = (p[1] & 0x0f) | (class << 4);
        }
        _ => {}
    }
}

/// The ones' complement sum of 16-bit words, folded.
fn fold(words: impl Iterator<Item = u16>) -> u16 {
    let mut sum: u32 = words.map(u32::from).sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// A device whose outgoing frames get the marks' classes ([`mark`]).
pub(crate) struct Marking<'a, T: ?Sized> {
    pub(crate) inner: &'a mut T,
    pub(crate) marks: &'a [Mark],
    pub(crate) medium: Medium,
}

/// A transmit token that marks the frame once smoltcp wrote it.
pub(crate) struct MarkTx<'a, T> {
    inner: T,
    marks: &'a [Mark],
    medium: Medium,
}

impl<T: phy::TxToken> phy::TxToken for MarkTx<'_, T> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let (marks, medium) = (self.marks, self.medium);
        self.inner.consume(len, |buf| {
            let r = f(buf);
            mark(buf, medium, marks);
            r
        })
    }
    fn set_meta(&mut self, meta: phy::PacketMeta) {
        self.inner.set_meta(meta)
    }
}

impl<T: Device + ?Sized> Device for Marking<'_, T> {
    type RxToken<'b>
        = T::RxToken<'b>
    where
        Self: 'b;
    type TxToken<'b>
        = MarkTx<'b, T::TxToken<'b>>
    where
        Self: 'b;
    fn receive(&mut self, now: Instant) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        let (marks, medium) = (self.marks, self.medium);
        self.inner.receive(now).map(|(rx, tx)| {
            (
                rx,
                MarkTx {
                    inner: tx,
                    marks,
                    medium,
                },
            )
        })
    }
    fn transmit(&mut self, now: Instant) -> Option<Self::TxToken<'_>> {
        let (marks, medium) = (self.marks, self.medium);
        self.inner.transmit(now).map(|tx| MarkTx {
            inner: tx,
            marks,
            medium,
        })
    }
    fn capabilities(&self) -> DeviceCapabilities {
        self.inner.capabilities()
    }
}

/// What a socket sends, for [`marks`]: an IPv6 socket or not, TCP or UDP, its port,
/// a TCP connection's peer (None: a UDP socket or a TCP listener), its IP_TOS and
/// IPV6_TCLASS.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sender {
    pub(crate) ipv6: bool,
    pub(crate) tcp: bool,
    pub(crate) port: u16,
    pub(crate) peer: Option<(IpAddr, u16)>,
    pub(crate) tos: u8,
    pub(crate) tclass: u8,
}

/// The marks of every sender with a class: an IPv4 socket's packets get its TOS; an
/// IPv6 socket's get its traffic class, and its IPv4-mapped ones its TOS (as on
/// Linux).
pub(crate) fn marks(senders: impl Iterator<Item = Sender>) -> Vec<Mark> {
    let mut out = Vec::new();
    for s in senders {
        let (v4_peer, v6_peer) = match s.peer {
            None => (true, true),
            Some((IpAddr::V4(_), _)) => (true, false),
            Some((IpAddr::V6(a), _)) => (a.to_ipv4_mapped().is_some(), true),
        };
        let mut add = |ipv6: bool, class: u8| {
            let peer = match s.peer {
                // smoltcp sends to an IPv4-mapped peer over IPv4.
                Some((IpAddr::V6(a), port)) if !ipv6 => {
                    a.to_ipv4_mapped().map(|v4| (IpAddr::V4(v4), port))
                }
                p => p,
            };
            out.push(Mark {
                ipv6,
                tcp: s.tcp,
                port: s.port,
                peer,
                class,
            });
        };
        // A connection's mark of class 0 still matters: it overrides its listener's.
        let wanted = |class: u8| class != 0 || s.peer.is_some();
        if wanted(s.tos) && v4_peer {
            add(false, s.tos);
        }
        if s.ipv6 && wanted(s.tclass) && v6_peer {
            add(true, s.tclass);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use smoltcp::wire::{Ipv4Packet, Ipv6Packet};

    fn udp4(sport: u16) -> Vec<u8> {
        ip4(PROTOCOL_UDP, sport, [127, 0, 0, 1], 9)
    }

    fn ip4(proto: u8, sport: u16, dst: [u8; 4], dport: u16) -> Vec<u8> {
        let mut p = alloc::vec![0u8; 20 + 20];
        p[0] = 0x45;
        let len = p.len() as u16;
        p[2..4].copy_from_slice(&len.to_be_bytes());
        p[8] = 64;
        p[9] = proto;
        p[12..16].copy_from_slice(&[127, 0, 0, 1]);
        p[16..20].copy_from_slice(&dst);
        p[20..22].copy_from_slice(&sport.to_be_bytes());
        p[22..24].copy_from_slice(&dport.to_be_bytes());
        let sum = !fold(
            p[..20]
                .chunks_exact(2)
                .map(|w| u16::from_be_bytes([w[0], w[1]])),
        );
        p[10..12].copy_from_slice(&sum.to_be_bytes());
        p
    }

    #[test]
    fn ipv4_tos_is_written_and_the_header_checksum_stays_right() {
        let marks = [Mark {
            ipv6: false,
            tcp: false,
            port: 5000,
            peer: None,
            class: 0x28,
        }];
        let mut p = udp4(5000);
        mark(&mut p, Medium::Ip, &marks);
        let pkt = Ipv4Packet::new_checked(&p[..]).unwrap();
        assert_eq!(p[1], 0x28);
        assert!(pkt.verify_checksum());
        // another port, and an Ethernet frame of it
        let mut other = udp4(5001);
        let before = other.clone();
        mark(&mut other, Medium::Ip, &marks);
        assert_eq!(other, before);
        let mut eth = alloc::vec![0u8; 14];
        eth[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
        eth.extend_from_slice(&udp4(5000));
        mark(&mut eth, Medium::Ethernet, &marks);
        assert_eq!(eth[15], 0x28);
        assert!(Ipv4Packet::new_checked(&eth[14..])
            .unwrap()
            .verify_checksum());
    }

    #[test]
    fn ipv6_traffic_class_is_written_around_version_and_flow() {
        let mut p = alloc::vec![0u8; 40 + 8];
        p[0] = 0x60;
        p[1] = 0x0a; // flow label bits
        p[6] = PROTOCOL_UDP;
        p[40..42].copy_from_slice(&7000u16.to_be_bytes());
        let marks = marks(
            [Sender {
                ipv6: true,
                tcp: false,
                port: 7000,
                peer: None,
                tos: 0,
                tclass: 0x48,
            }]
            .into_iter(),
        );
        mark(&mut p, Medium::Ip, &marks);
        let pkt = Ipv6Packet::new_checked(&p[..]).unwrap();
        assert_eq!(pkt.traffic_class(), 0x48);
        assert_eq!(p[0] >> 4, 6);
        assert_eq!(p[1] & 0x0f, 0x0a);
    }

    #[test]
    fn tcp_segments_get_their_connection_s_class_else_their_listener_s() {
        let peer = |a: [u8; 4], port| Some((IpAddr::V4(Ipv4Addr::from(a)), port));
        let sender = |peer, tos| Sender {
            ipv6: false,
            tcp: true,
            port: 80,
            peer,
            tos,
            tclass: 0,
        };
        let marks =
            marks([sender(None, 0x28), sender(peer([10, 0, 0, 2], 5555), 0x10)].into_iter());
        let class = |proto, dst, dport| {
            let mut p = ip4(proto, 80, dst, dport);
            mark(&mut p, Medium::Ip, &marks);
            assert!(Ipv4Packet::new_checked(&p[..]).unwrap().verify_checksum());
            p[1]
        };
        assert_eq!(class(PROTOCOL_TCP, [10, 0, 0, 2], 5555), 0x10);
        assert_eq!(class(PROTOCOL_TCP, [10, 0, 0, 2], 5556), 0x28);
        assert_eq!(class(PROTOCOL_TCP, [10, 0, 0, 3], 5555), 0x28);
        assert_eq!(class(PROTOCOL_UDP, [10, 0, 0, 2], 5555), 0);
        // an IPv6 socket's connection to an IPv4-mapped peer: its TOS, over IPv4
        let mapped = marks_of_mapped();
        let mut p = ip4(PROTOCOL_TCP, 443, [192, 0, 2, 1], 1000);
        mark(&mut p, Medium::Ip, &mapped);
        assert_eq!(p[1], 0x20);
    }

    fn marks_of_mapped() -> Vec<Mark> {
        let a = Ipv4Addr::new(192, 0, 2, 1).to_ipv6_mapped();
        marks(
            [Sender {
                ipv6: true,
                tcp: true,
                port: 443,
                peer: Some((IpAddr::V6(a), 1000)),
                tos: 0x20,
                tclass: 0x40,
            }]
            .into_iter(),
        )
    }
}
