//! IP ancillary data of UDP sockets (ip(7), ipv6(7), RFC 3542): which control
//! messages a socket asked to receive (IP_PKTINFO, IP_RECVTTL, IP_RECVTOS,
//! IPV6_RECVPKTINFO, IPV6_RECVHOPLIMIT, IPV6_RECVTCLASS) and their Linux encodings
//! ([`recv_control`]); what sendmsg's control messages ask of one datagram
//! ([`SendInfo`]: IP_PKTINFO/IPV6_PKTINFO choose the source address, IP_TTL/
//! IPV6_HOPLIMIT its hop limit, IP_TOS/IPV6_TCLASS its traffic class).
//!
//! smoltcp's UDP sockets keep a datagram's sender and destination address but not
//! its hop limit or traffic class: those come from sniffing, which each interface
//! starts when the first socket asks for hop limits, TTLs, TOS or traffic classes
//! (it reads every received UDP packet's IP header before smoltcp takes the frame).
//! Each poll moves what was seen into a short list that a receive matches its
//! datagram against (sender, ports, length). smoltcp writes a traffic class (TOS) of
//! 0 on every packet; `tclass` marks those of sockets that set one.

use crate::errno::*;
use crate::stack::Stack;
use crate::Family;
use alloc::collections::VecDeque;
use alloc::vec;
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use smoltcp::phy::{Device, Medium};
use smoltcp::wire::{IpProtocol, Ipv4Packet, Ipv6Packet, UdpPacket};

use rumprun_abi::net::{IPPROTO_IP, IPPROTO_IPV6, IP_TOS, IP_TTL};
pub use rumprun_abi::net::{
    IPV6_HOPLIMIT, IPV6_PKTINFO, IPV6_RECVHOPLIMIT, IPV6_RECVPKTINFO, IPV6_RECVTCLASS, IPV6_TCLASS,
    IP_PKTINFO, IP_RECVTOS, IP_RECVTTL,
};

/// [`crate::SockOpts::recv_info`] bits: the control messages a receive hands back.
pub const RECV_PKTINFO: u8 = 1;
/// IP_RECVTTL
pub const RECV_TTL: u8 = 2;
/// IP_RECVTOS
pub const RECV_TOS: u8 = 4;
/// IPV6_RECVPKTINFO
pub const RECV_PKTINFO6: u8 = 8;
/// IPV6_RECVHOPLIMIT
pub const RECV_HOPLIMIT: u8 = 16;
/// IPV6_RECVTCLASS
pub const RECV_TCLASS: u8 = 32;
/// The bits that need the hop limit or the traffic class from the wire.
const NEEDS_SNIFFER: u8 = RECV_TTL | RECV_HOPLIMIT | RECV_TOS | RECV_TCLASS;

/// The option bit of (level, name), for the options that ask for control messages.
pub fn recv_bit(level: i32, name: i32) -> Option<u8> {
    match (level, name) {
        (IPPROTO_IP, IP_PKTINFO) => Some(RECV_PKTINFO),
        (IPPROTO_IP, IP_RECVTTL) => Some(RECV_TTL),
        (IPPROTO_IP, IP_RECVTOS) => Some(RECV_TOS),
        (IPPROTO_IPV6, IPV6_RECVPKTINFO) => Some(RECV_PKTINFO6),
        (IPPROTO_IPV6, IPV6_RECVHOPLIMIT) => Some(RECV_HOPLIMIT),
        (IPPROTO_IPV6, IPV6_RECVTCLASS) => Some(RECV_TCLASS),
        _ => None,
    }
}

/// What a received datagram carries besides its data and sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketInfo {
    /// The address it was sent to.
    pub dst: IpAddr,
    /// The interface it arrived on.
    pub ifindex: u32,
    /// Its hop limit (TTL), when a sniffer saw it.
    pub hop_limit: Option<u8>,
    /// Its traffic class (the IPv4 TOS byte), when a sniffer saw it.
    pub class: Option<u8>,
}

/// One control message: level, type, data.
pub type Control = (i32, i32, Vec<u8>);

fn int(v: i32) -> Vec<u8> {
    v.to_ne_bytes().to_vec()
}

/// The control messages a receive on a `family` socket with option bits `bits`
/// hands back, in Linux's order. A hop limit nobody saw is reported as 64, the
/// default every sender here uses.
pub fn recv_control(bits: u8, family: Family, info: &PacketInfo) -> Vec<Control> {
    let mut out = Vec::new();
    let hop = info.hop_limit.unwrap_or(64) as i32;
    match family {
        Family::Inet => {
            let IpAddr::V4(dst) = info.dst else {
                return out;
            };
            if bits & RECV_PKTINFO != 0 {
                // struct in_pktinfo: ifindex, the local address (spec_dst), the
                // header's destination.
                let mut b = int(info.ifindex as i32);
                b.extend_from_slice(&dst.octets());
                b.extend_from_slice(&dst.octets());
                out.push((IPPROTO_IP, IP_PKTINFO, b));
            }
            if bits & RECV_TTL != 0 {
                out.push((IPPROTO_IP, IP_TTL, int(hop)));
            }
            if bits & RECV_TOS != 0 {
                out.push((IPPROTO_IP, IP_TOS, vec![info.class.unwrap_or(0)]));
            }
        }
        Family::Inet6 => {
            let dst = match info.dst {
                IpAddr::V4(a) => a.to_ipv6_mapped(),
                IpAddr::V6(a) => a,
            };
            if bits & RECV_PKTINFO6 != 0 {
                // struct in6_pktinfo: the destination, the interface.
                let mut b = dst.octets().to_vec();
                b.extend_from_slice(&(info.ifindex as i32).to_ne_bytes());
                out.push((IPPROTO_IPV6, IPV6_PKTINFO, b));
            }
            if bits & RECV_HOPLIMIT != 0 {
                out.push((IPPROTO_IPV6, IPV6_HOPLIMIT, int(hop)));
            }
            if bits & RECV_TCLASS != 0 {
                out.push((
                    IPPROTO_IPV6,
                    IPV6_TCLASS,
                    int(info.class.unwrap_or(0).into()),
                ));
            }
        }
    }
    out
}

/// What sendmsg's control messages ask of one datagram.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SendInfo {
    /// The source address (IP_PKTINFO's ipi_spec_dst, IPV6_PKTINFO's ipi6_addr).
    pub src: Option<IpAddr>,
    /// The hop limit (IP_TTL, IPV6_HOPLIMIT).
    pub hop_limit: Option<u8>,
    /// The traffic class (IP_TOS, IPV6_TCLASS).
    pub class: Option<u8>,
}

fn int_data(data: &[u8]) -> Result<i32, Errno> {
    // The kernel wants exactly an int (CMSG_LEN(sizeof(int))), as Linux does.
    let b: [u8; 4] = data.try_into().map_err(|_| EINVAL)?;
    Ok(i32::from_ne_bytes(b))
}

impl SendInfo {
    /// Reads the IP-level control messages of a sendmsg on a `family` socket, as
    /// Linux's ip_cmsg_send / ip6_datagram_send_ctl do: other levels are ignored, an
    /// unknown type or a bad length or value at the socket's level is EINVAL.
    pub fn parse(family: Family, control: &[Control]) -> Result<SendInfo, Errno> {
        let mut info = SendInfo::default();
        for (level, ty, data) in control {
            match (family, *level, *ty) {
                (Family::Inet, IPPROTO_IP, IP_PKTINFO) => {
                    if data.len() != 12 {
                        return Err(EINVAL);
                    }
                    let spec_dst = Ipv4Addr::new(data[4], data[5], data[6], data[7]);
                    if !spec_dst.is_unspecified() {
                        info.src = Some(IpAddr::V4(spec_dst));
                    }
                }
                (Family::Inet, IPPROTO_IP, IP_TTL) => {
                    let v = int_data(data)?;
                    if !(1..=255).contains(&v) {
                        return Err(EINVAL);
                    }
                    info.hop_limit = Some(v as u8);
                }
                (Family::Inet, IPPROTO_IP, IP_TOS) => {
                    // An int or one byte, as Linux's ip_cmsg_send takes it.
                    let v = match data.len() {
                        1 => i32::from(data[0]),
                        _ => int_data(data)?,
                    };
                    if !(0..=255).contains(&v) {
                        return Err(EINVAL);
                    }
                    info.class = Some(v as u8);
                }
                (Family::Inet, IPPROTO_IP, _) => return Err(EINVAL),
                (Family::Inet6, IPPROTO_IPV6, IPV6_PKTINFO) => {
                    if data.len() != 20 {
                        return Err(EINVAL);
                    }
                    let a: [u8; 16] = data[..16].try_into().expect("16 bytes");
                    let a = Ipv6Addr::from(a);
                    if !a.is_unspecified() {
                        info.src = Some(match a.to_ipv4_mapped() {
                            Some(v4) => IpAddr::V4(v4),
                            None => IpAddr::V6(a),
                        });
                    }
                }
                (Family::Inet6, IPPROTO_IPV6, IPV6_HOPLIMIT) => {
                    let v = int_data(data)?;
                    if !(-1..=255).contains(&v) {
                        return Err(EINVAL);
                    }
                    info.hop_limit = (v >= 0).then_some(v as u8);
                }
                (Family::Inet6, IPPROTO_IPV6, IPV6_TCLASS) => {
                    // -1: RFC 3542's kernel default, 0 (Linux 6.1 sends 0xff).
                    let v = int_data(data)?;
                    if !(-1..=255).contains(&v) {
                        return Err(EINVAL);
                    }
                    info.class = Some(v.max(0) as u8);
                }
                (Family::Inet6, IPPROTO_IPV6, _) => return Err(EINVAL),
                _ => {}
            }
        }
        Ok(info)
    }
}

/// A UDP packet a sniffer saw: who sent it to which port, how long, its hop limit
/// and traffic class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Seen {
    src: IpAddr,
    sport: u16,
    dport: u16,
    len: usize,
    hop: u8,
    class: u8,
}

/// What the interfaces' sniffing saw lately (see the module doc).
#[derive(Default)]
pub(crate) struct Sniffer {
    /// Interfaces covered (sniffing starts per interface present at the time).
    ifaces: usize,
    seen: VecDeque<Seen>,
}

/// Packets remembered for receives to match (older ones are forgotten).
const SEEN_MAX: usize = 512;

/// The sender, ports, payload length, hop limit and class of a UDP packet in `ip`
/// (a whole one, or the first fragment of one: the length is the UDP header's).
fn parse(ip: &[u8]) -> Option<Seen> {
    let (src, hop, class, payload) = match ip.first()? >> 4 {
        4 => {
            let p = Ipv4Packet::new_checked(ip).ok()?;
            if p.next_header() != IpProtocol::Udp || p.frag_offset() != 0 {
                return None;
            }
            let hl = p.header_len() as usize;
            (
                IpAddr::V4(p.src_addr()),
                p.hop_limit(),
                ip[1],
                ip.get(hl..)?,
            )
        }
        6 => {
            let p = Ipv6Packet::new_checked(ip).ok()?;
            if p.next_header() != IpProtocol::Udp {
                return None;
            }
            let class = p.traffic_class();
            (
                IpAddr::V6(p.src_addr()),
                p.hop_limit(),
                class,
                ip.get(40..)?,
            )
        }
        _ => return None,
    };
    let u = UdpPacket::new_unchecked(payload.get(..8)?);
    Some(Seen {
        src,
        sport: u.src_port(),
        dport: u.dst_port(),
        len: usize::from(u.len()).checked_sub(8)?,
        hop,
        class,
    })
}

/// Records the UDP packet in a received `frame` (an Ethernet frame or a bare IP
/// packet, as `medium` says), if it is one: the interface's sniffing, before smoltcp
/// takes the frame (its raw sockets rebuild the IP header and lose the class).
pub(crate) fn sniff(frame: &[u8], medium: Medium, into: &mut Vec<Seen>) {
    let ip = match medium {
        Medium::Ethernet => match frame.get(12..14) {
            Some([0x08, 0x00] | [0x86, 0xdd]) => &frame[14..],
            _ => return,
        },
        _ => frame,
    };
    if let Some(seen) = parse(ip) {
        into.push(seen);
    }
}

impl<D: Device> Stack<D> {
    /// Starts sniffing on every interface that does not yet.
    pub(crate) fn ensure_sniffers(&mut self) {
        let from = self.sniffer.ifaces;
        for iface in self.ifaces.iter_mut().skip(from) {
            iface.sniffed.get_or_insert_with(Vec::new);
        }
        self.sniffer.ifaces = self.ifaces.len();
    }

    /// Moves what the interfaces saw since the last poll into the list receives match.
    pub(crate) fn drain_sniffers(&mut self) {
        for iface in &mut self.ifaces {
            let Some(sniffed) = iface.sniffed.as_mut() else {
                continue;
            };
            for seen in sniffed.drain(..) {
                if self.sniffer.seen.len() == SEEN_MAX {
                    self.sniffer.seen.pop_front();
                }
                self.sniffer.seen.push_back(seen);
            }
        }
    }

    /// Whether a socket with option bits `bits` needs the sniffers.
    pub(crate) fn wants_sniffers(bits: u8) -> bool {
        bits & NEEDS_SNIFFER != 0
    }

    /// The hop limit and traffic class of the datagram of `len` bytes from (src,
    /// sport) to `dport` (forgotten unless `peek`), if a sniffer saw it.
    pub(crate) fn seen_on_wire(
        &mut self,
        src: IpAddr,
        sport: u16,
        dport: u16,
        len: usize,
        peek: bool,
    ) -> Option<(u8, u8)> {
        let same = |a: IpAddr, b: IpAddr| a.to_canonical() == b.to_canonical();
        let i = self.sniffer.seen.iter().position(|s| {
            same(s.src, src) && s.sport == sport && s.dport == dport && s.len == len
        })?;
        let seen = self.sniffer.seen[i];
        if !peek {
            self.sniffer.seen.remove(i);
        }
        Some((seen.hop, seen.class))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_messages_as_linux_lays_them_out() {
        let info = PacketInfo {
            dst: IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1)),
            ifindex: 1,
            hop_limit: Some(7),
            class: Some(0x28),
        };
        let c = recv_control(RECV_PKTINFO | RECV_TTL | RECV_TOS, Family::Inet, &info);
        assert_eq!(
            c,
            vec![
                (0, 8, vec![1, 0, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1]),
                (0, 2, vec![7, 0, 0, 0]),
                (0, 1, vec![0x28]),
            ]
        );
        let c = recv_control(
            RECV_PKTINFO6 | RECV_HOPLIMIT | RECV_TCLASS,
            Family::Inet6,
            &info,
        );
        let mapped = Ipv4Addr::new(127, 0, 0, 1).to_ipv6_mapped().octets();
        let mut pktinfo = mapped.to_vec();
        pktinfo.extend_from_slice(&[1, 0, 0, 0]);
        assert_eq!(
            c,
            vec![
                (41, 50, pktinfo),
                (41, 52, vec![7, 0, 0, 0]),
                (41, 67, vec![0x28, 0, 0, 0])
            ]
        );
    }

    #[test]
    fn send_control_messages_are_checked() {
        let hop = |v: i32| (41, 52, v.to_ne_bytes().to_vec());
        assert_eq!(
            SendInfo::parse(Family::Inet6, &[hop(2)]).map(|i| i.hop_limit),
            Ok(Some(2))
        );
        assert_eq!(
            SendInfo::parse(Family::Inet6, &[hop(-1)]).map(|i| i.hop_limit),
            Ok(None)
        );
        assert_eq!(SendInfo::parse(Family::Inet6, &[hop(256)]), Err(EINVAL));
        let odd = (41, 67, vec![0, 0, 0, 0, 0]);
        assert_eq!(SendInfo::parse(Family::Inet6, &[odd]), Err(EINVAL));
        // Another level's messages are not the IPv6 layer's business.
        assert_eq!(
            SendInfo::parse(Family::Inet6, &[(0, 2, vec![1])]),
            Ok(SendInfo::default())
        );
        let mut pktinfo = vec![0u8; 12];
        pktinfo[4..8].copy_from_slice(&[10, 0, 0, 2]);
        assert_eq!(
            SendInfo::parse(Family::Inet, &[(0, 8, pktinfo)]).map(|i| i.src),
            Ok(Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2))))
        );
    }
}
