//! UDP-Lite (RFC 3828, udplite(7)): datagram sockets of IP protocol 136 whose
//! checksum covers only the first `UDPLITE_SEND_CSCOV` bytes (0: all). smoltcp has
//! no UDP-Lite, so this is a small datagram layer over its raw IP sockets: one per
//! interface and IP version, made with the first UDP-Lite socket, through which
//! datagrams leave (IP header, UDP-Lite header and checksum built here) and arrive
//! (checked against the coverage the receiver accepts, `UDPLITE_RECV_CSCOV`, then
//! queued on the UDP-Lite socket of their port in its `held` queue).
//!
//! Everything else is a UDP socket's (`udp.rs`): binding, connecting, addresses,
//! timeouts, ancillary data. UDP-Lite's ports are a space of their own, as on Linux
//! (`stack::PortSpace`): a UDP and a UDP-Lite socket may bind the same port.

use crate::errno::*;
use crate::stack::{Conn, Proto, Stack};
use crate::udp::Held;
use crate::{Family, SockAddr, SocketId};
use alloc::vec;
use alloc::vec::Vec;
use core::net::IpAddr;
use smoltcp::phy::Device;
use smoltcp::socket::raw;
use smoltcp::wire::{
    IpAddress, IpEndpoint, IpProtocol, IpVersion, Ipv4Packet, Ipv4Repr, Ipv6Packet, Ipv6Repr,
};

/// IPPROTO_UDPLITE, also the option level SOL_UDPLITE.
pub const IPPROTO_UDPLITE: i32 = 136;
/// SOL_UDPLITE: the checksum coverage of sent datagrams.
pub const UDPLITE_SEND_CSCOV: i32 = 10;
/// SOL_UDPLITE: the least coverage a received datagram must have.
pub const UDPLITE_RECV_CSCOV: i32 = 11;
const PROTO: IpProtocol = IpProtocol::Unknown(136);
const HEADER: usize = 8;

/// A UDP-Lite socket's coverages (0: the whole datagram).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    /// UDPLITE_SEND_CSCOV: the bytes the checksum of a sent datagram covers.
    pub send: u16,
    /// UDPLITE_RECV_CSCOV: the least coverage a received datagram must have.
    pub recv: u16,
}

/// The raw sockets UDP-Lite datagrams leave and arrive through.
#[derive(Default)]
pub(crate) struct LiteRaw {
    socks: Vec<(Conn, IpVersion)>,
    ifaces: usize,
}

const RAW_PACKETS: usize = 64;
const RAW_BYTES: usize = 256 * 1024;

/// The Internet checksum of `data` added to `sum`.
fn add(mut sum: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u16::from_be_bytes([c[0], c[1]]) as u32;
    }
    if let [b] = chunks.remainder() {
        sum += (*b as u32) << 8;
    }
    sum
}

fn fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The pseudo header's sum (RFC 768 / RFC 2460 layout, protocol 136).
fn pseudo(src: IpAddr, dst: IpAddr, len: usize) -> u32 {
    let mut sum = 0;
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            sum = add(sum, &s.octets());
            sum = add(sum, &d.octets());
            sum = add(sum, &[0, 136]);
            sum = add(sum, &(len as u16).to_be_bytes());
        }
        (s, d) => {
            let v6 = |a: IpAddr| match a {
                IpAddr::V4(a) => a.to_ipv6_mapped(),
                IpAddr::V6(a) => a,
            };
            sum = add(sum, &v6(s).octets());
            sum = add(sum, &v6(d).octets());
            sum = add(sum, &(len as u32).to_be_bytes());
            sum = add(sum, &[0, 0, 0, 136]);
        }
    }
    sum
}

/// The effective coverage of a datagram of `len` bytes with coverage field `cscov`.
fn covered(cscov: u16, len: usize) -> Option<usize> {
    match cscov as usize {
        0 => Some(len),
        c if c < HEADER || c > len => None,
        c => Some(c),
    }
}

/// A UDP-Lite datagram (header and payload) from `sport` to `dport`.
pub(crate) fn build(
    src: IpAddr,
    dst: IpAddr,
    sport: u16,
    dport: u16,
    cscov: u16,
    payload: &[u8],
) -> Vec<u8> {
    let len = HEADER + payload.len();
    // A coverage beyond the datagram covers all of it (Linux: cscov > len is 0).
    let cscov = if cscov as usize > len { 0 } else { cscov };
    let mut d = Vec::with_capacity(len);
    d.extend_from_slice(&sport.to_be_bytes());
    d.extend_from_slice(&dport.to_be_bytes());
    d.extend_from_slice(&cscov.to_be_bytes());
    d.extend_from_slice(&[0, 0]);
    d.extend_from_slice(payload);
    let n = covered(cscov, len).unwrap_or(len);
    let mut sum = fold(add(pseudo(src, dst, len), &d[..n]));
    if sum == 0 {
        sum = 0xffff;
    }
    d[6..8].copy_from_slice(&sum.to_be_bytes());
    d
}

/// The ports, coverage and payload of a UDP-Lite datagram `d` from `src` to `dst`
/// whose checksum is right.
pub(crate) fn parse(src: IpAddr, dst: IpAddr, d: &[u8]) -> Option<(u16, u16, usize, &[u8])> {
    if d.len() < HEADER {
        return None;
    }
    let sport = u16::from_be_bytes([d[0], d[1]]);
    let dport = u16::from_be_bytes([d[2], d[3]]);
    let cscov = u16::from_be_bytes([d[4], d[5]]);
    let n = covered(cscov, d.len())?;
    if fold(add(pseudo(src, dst, d.len()), &d[..n])) != 0 {
        return None;
    }
    Some((sport, dport, n, &d[HEADER..]))
}

impl<D: Device> Stack<D> {
    /// Makes the raw sockets of every interface that has none yet.
    pub(crate) fn ensure_lite(&mut self) {
        let from = self.lite.ifaces;
        for (i, iface) in self.ifaces.iter_mut().enumerate().skip(from) {
            for version in [IpVersion::Ipv4, IpVersion::Ipv6] {
                let buf = || {
                    raw::PacketBuffer::new(
                        vec![raw::PacketMetadata::EMPTY; RAW_PACKETS],
                        vec![0u8; RAW_BYTES],
                    )
                };
                let sk = raw::Socket::new(Some(version), Some(PROTO), buf(), buf());
                let c = Conn {
                    iface: i,
                    handle: iface.sockets.add(sk),
                };
                self.lite.socks.push((c, version));
            }
        }
        self.lite.ifaces = self.ifaces.len();
    }

    /// Queues one UDP-Lite datagram on interface `i` (EAGAIN when its queue is full).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn lite_send(
        &mut self,
        i: usize,
        src: Option<IpAddr>,
        from_port: u16,
        to: SockAddr,
        hop_limit: u8,
        cscov: u16,
        payload: &[u8],
    ) -> Result<usize, Errno> {
        self.ensure_lite();
        let dst = to.ip();
        let src = match src {
            Some(s) => s,
            None => {
                let d = crate::addr::ip_to_smol(dst);
                let s = self.ifaces[i]
                    .iface
                    .get_source_address(&d)
                    .ok_or(EADDRNOTAVAIL)?;
                crate::addr::smol_to_ip(s)
            }
        };
        let (src, dst) = match (src, dst) {
            (IpAddr::V6(s), IpAddr::V6(d)) => match (s.to_ipv4_mapped(), d.to_ipv4_mapped()) {
                (Some(s), Some(d)) => (IpAddr::V4(s), IpAddr::V4(d)),
                _ => (IpAddr::V6(s), IpAddr::V6(d)),
            },
            (IpAddr::V6(s), d @ IpAddr::V4(_)) => {
                (s.to_ipv4_mapped().map_or(IpAddr::V6(s), IpAddr::V4), d)
            }
            x => x,
        };
        let body = build(src, dst, from_port, to.port(), cscov, payload);
        let version = if dst.is_ipv4() {
            IpVersion::Ipv4
        } else {
            IpVersion::Ipv6
        };
        let c = self
            .lite
            .socks
            .iter()
            .find(|(c, v)| c.iface == i && *v == version)
            .map(|(c, _)| *c)
            .ok_or(ENETUNREACH)?;
        let packet = match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                let repr = Ipv4Repr {
                    src_addr: s,
                    dst_addr: d,
                    next_header: PROTO,
                    payload_len: body.len(),
                    hop_limit,
                };
                let mut p = vec![0u8; repr.buffer_len() + body.len()];
                let mut pkt = Ipv4Packet::new_unchecked(&mut p[..]);
                repr.emit(&mut pkt, &Default::default());
                pkt.payload_mut().copy_from_slice(&body);
                p
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                let repr = Ipv6Repr {
                    src_addr: s,
                    dst_addr: d,
                    next_header: PROTO,
                    payload_len: body.len(),
                    hop_limit,
                };
                let mut p = vec![0u8; repr.buffer_len() + body.len()];
                let mut pkt = Ipv6Packet::new_unchecked(&mut p[..]);
                repr.emit(&mut pkt);
                pkt.payload_mut().copy_from_slice(&body);
                p
            }
            _ => return Err(EAFNOSUPPORT),
        };
        let sk = self.ifaces[i].sockets.get_mut::<raw::Socket>(c.handle);
        sk.send_slice(&packet).map_err(|_| EAGAIN)?;
        self.dirty = true;
        Ok(payload.len())
    }

    /// Moves the UDP-Lite datagrams that arrived to their sockets (each poll).
    pub(crate) fn drain_lite(&mut self) {
        let mut arrived = Vec::new();
        for (c, _) in &self.lite.socks {
            let sk = self.ifaces[c.iface]
                .sockets
                .get_mut::<raw::Socket>(c.handle);
            while let Ok(pkt) = sk.recv() {
                if let Some(d) = parse_ip(pkt, c.iface) {
                    arrived.push(d);
                }
            }
        }
        for (held, dport, cov) in arrived {
            self.lite_deliver(held, dport, cov);
        }
    }

    /// Queues `d` on the UDP-Lite socket of port `dport` that takes it.
    fn lite_deliver(&mut self, d: Held, dport: u16, cov: usize) {
        let dst = crate::addr::smol_to_ip(d.dst).to_canonical();
        let from_v4 = matches!(d.from.addr, IpAddress::Ipv4(_));
        let target = self.socks.iter_mut().flatten().find(|s| {
            let Proto::Udp(u) = &s.proto else {
                return false;
            };
            let Some(local) = s.local else { return false };
            u.lite.is_some()
                && local.port() == dport
                && (local.is_unspecified() || local.ip().to_canonical() == dst)
                && match s.family {
                    Family::Inet => from_v4,
                    Family::Inet6 => !from_v4 || !s.opts.v6only,
                }
        });
        let Some(s) = target else { return };
        let Proto::Udp(u) = &mut s.proto else {
            unreachable!()
        };
        let min = u.lite.map_or(0, |l| l.recv) as usize;
        // A receiver's minimum coverage: datagrams covering less are dropped.
        if min != 0 && cov < min {
            return;
        }
        if u.held.len() < 64 {
            u.held.push_back(d);
            self.dirty = true;
        }
    }

    /// Whether socket `id` is a UDP-Lite socket.
    pub fn is_lite(&self, id: SocketId) -> bool {
        matches!(self.sock(id).map(|s| &s.proto), Ok(Proto::Udp(u)) if u.lite.is_some())
    }
}

/// The UDP-Lite datagram in IP packet `pkt` that arrived on interface `iface`: held
/// for its socket, with its destination port and checksum coverage.
fn parse_ip(pkt: &[u8], iface: usize) -> Option<(Held, u16, usize)> {
    let (src, dst, hop, body) = match pkt.first()? >> 4 {
        4 => {
            let p = Ipv4Packet::new_checked(pkt).ok()?;
            let hl = p.header_len() as usize;
            let total = (p.total_len() as usize).min(pkt.len());
            (
                IpAddr::V4(p.src_addr()),
                IpAddr::V4(p.dst_addr()),
                p.hop_limit(),
                pkt.get(hl..total)?,
            )
        }
        6 => {
            let p = Ipv6Packet::new_checked(pkt).ok()?;
            let end = (40 + p.payload_len() as usize).min(pkt.len());
            (
                IpAddr::V6(p.src_addr()),
                IpAddr::V6(p.dst_addr()),
                p.hop_limit(),
                pkt.get(40..end)?,
            )
        }
        _ => return None,
    };
    let (sport, dport, cov, payload) = parse(src, dst, body)?;
    let held = Held::new(
        payload.to_vec(),
        IpEndpoint::new(crate::addr::ip_to_smol(src), sport),
        crate::addr::ip_to_smol(dst),
        iface,
        Some(hop),
    );
    Some((held, dport, cov))
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::Ipv6Addr;

    #[test]
    fn checksum_coverage_round_trip() {
        let (s, d) = (
            IpAddr::V6(Ipv6Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        );
        for cscov in [0u16, 8, 10, 1000] {
            let mut dg = build(s, d, 1000, 2000, cscov, b"hello lite");
            let (sp, dp, cov, p) = parse(s, d, &dg).expect("valid");
            assert_eq!((sp, dp, p), (1000, 2000, &b"hello lite"[..]));
            let want = if cscov == 0 || cscov == 1000 {
                18
            } else {
                cscov as usize
            };
            assert_eq!(cov, want);
            // A change outside the coverage passes, inside fails.
            let last = dg.len() - 1;
            dg[last] ^= 1;
            assert_eq!(parse(s, d, &dg).is_some(), cov < dg.len());
        }
    }
}
