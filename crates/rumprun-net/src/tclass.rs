//! The traffic class of what UDP sockets send: IP_TOS (the IPv4 TOS byte) and
//! IPV6_TCLASS (the IPv6 traffic class), as ip(7) and ipv6(7) set them per socket.
//! smoltcp writes 0 into every packet, so the stack marks the UDP packets of
//! sockets that set a class as they leave ([`Marking`], a device wrapped around the
//! interface's while some socket has a class): the packet's source port (and IP
//! version) names the socket, the class goes into the header and an IPv4 header
//! checksum is recomputed. The receive side (IP_RECVTOS, IPV6_RECVTCLASS) reads the
//! class off the wire through `ancillary`'s sniffers.
//!
//! Not marked: TCP segments (the option reads back, the segments carry 0), a
//! class given to one datagram by a sendmsg control message, and the fragments
//! after the first of a datagram larger than the MTU.

use alloc::vec::Vec;
use smoltcp::phy::{self, Device, DeviceCapabilities, Medium};
use smoltcp::time::Instant;

const PROTOCOL_UDP: u8 = 17;

/// A socket's class for the UDP packets from its port of one IP version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Mark {
    pub(crate) ipv6: bool,
    pub(crate) port: u16,
    pub(crate) class: u8,
}

/// Writes the class of its marks into an outgoing UDP packet in `frame` (an
/// Ethernet frame or a bare IP packet, as `medium` says).
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
    let find = |ipv6: bool, port: u16| {
        marks
            .iter()
            .find(|m| m.ipv6 == ipv6 && m.port == port)
            .map(|m| m.class)
    };
    match p.first().map(|b| b >> 4) {
        Some(4) if p.len() >= 20 => {
            let hl = usize::from(p[0] & 0x0f) * 4;
            let first_fragment = u16::from_be_bytes([p[6], p[7]]) & 0x1fff == 0;
            if p[9] != PROTOCOL_UDP || !first_fragment || hl < 20 || p.len() < hl + 2 {
                return;
            }
            let Some(class) = find(false, u16::from_be_bytes([p[hl], p[hl + 1]])) else {
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
        Some(6) if p.len() >= 42 => {
            if p[6] != PROTOCOL_UDP {
                return;
            }
            let Some(class) = find(true, u16::from_be_bytes([p[40], p[41]])) else {
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

/// The marks of every bound UDP socket with a class, from (ipv6 socket, port, IP_TOS,
/// IPV6_TCLASS) of each: an IPv4 socket's packets get its TOS; an IPv6 socket's get
/// its traffic class, and its IPv4-mapped ones its TOS (as on Linux).
pub(crate) fn marks(sockets: impl Iterator<Item = (bool, u16, u8, u8)>) -> Vec<Mark> {
    let mut out = Vec::new();
    for (ipv6, port, tos, tclass) in sockets {
        if tos != 0 {
            out.push(Mark {
                ipv6: false,
                port,
                class: tos,
            });
        }
        if ipv6 && tclass != 0 {
            out.push(Mark {
                ipv6: true,
                port,
                class: tclass,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use smoltcp::wire::{Ipv4Packet, Ipv6Packet};

    fn udp4(sport: u16) -> Vec<u8> {
        let mut p = alloc::vec![0u8; 20 + 8 + 4];
        p[0] = 0x45;
        let len = p.len() as u16;
        p[2..4].copy_from_slice(&len.to_be_bytes());
        p[8] = 64;
        p[9] = PROTOCOL_UDP;
        p[12..16].copy_from_slice(&[127, 0, 0, 1]);
        p[16..20].copy_from_slice(&[127, 0, 0, 1]);
        p[20..22].copy_from_slice(&sport.to_be_bytes());
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
            port: 5000,
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
        let marks = marks([(true, 7000, 0, 0x48)].into_iter());
        mark(&mut p, Medium::Ip, &marks);
        let pkt = Ipv6Packet::new_checked(&p[..]).unwrap();
        assert_eq!(pkt.traffic_class(), 0x48);
        assert_eq!(p[0] >> 4, 6);
        assert_eq!(p[1] & 0x0f, 0x0a);
    }
}
