//! IPv6 stateless address autoconfiguration (RFC 4862) for `inet6,auto` interfaces:
//! router solicitations to ff02::2 (one at once, then every 4 s until a router
//! answers), and router advertisements read off the wire: a prefix with the
//! autonomous flag gives the address prefix + EUI-64 of the MAC, the advertising
//! router becomes the IPv6 default gateway. smoltcp 0.12 neither solicits routers
//! nor hands advertisements to the user, so the interface shows `Slaac::inspect` each
//! received frame before smoltcp gets it.
//! Lifetimes are not tracked: an address stays until the VM ends.

use core::net::Ipv6Addr;
use smoltcp::phy::{self, ChecksumCapabilities, Device};
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{
    EthernetAddress, EthernetFrame, EthernetProtocol, EthernetRepr, Icmpv6Packet, Icmpv6Repr,
    IpProtocol, Ipv6Packet, Ipv6Repr, NdiscPrefixInfoFlags, NdiscRepr, RawHardwareAddress,
};

/// How often an unanswered router solicitation is repeated.
const RS_INTERVAL: Duration = Duration::from_secs(4);

/// What a router advertisement configured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Advertised {
    /// The address made from the prefix and the interface identifier.
    pub address: Ipv6Addr,
    /// The prefix length (64 for SLAAC on Ethernet).
    pub prefix_len: u8,
    /// The router, when it offers to be a default router (lifetime > 0).
    pub router: Option<Ipv6Addr>,
}

/// The SLAAC state of one interface.
#[derive(Debug)]
pub(crate) struct Slaac {
    mac: [u8; 6],
    next_solicit: Instant,
    /// The last advertisement's configuration, not yet applied by the interface.
    pub(crate) fresh: Option<Advertised>,
    pub(crate) configured: Option<Advertised>,
}

/// The EUI-64 interface identifier of `mac` (RFC 4291 appendix A).
pub fn interface_id(mac: [u8; 6]) -> [u8; 8] {
    [
        mac[0] ^ 2,
        mac[1],
        mac[2],
        0xff,
        0xfe,
        mac[3],
        mac[4],
        mac[5],
    ]
}

/// The link-local address of `mac`.
pub fn link_local(mac: [u8; 6]) -> Ipv6Addr {
    let mut a = [0u8; 16];
    a[0] = 0xfe;
    a[1] = 0x80;
    a[8..].copy_from_slice(&interface_id(mac));
    Ipv6Addr::from(a)
}

impl Slaac {
    pub(crate) fn new(mac: [u8; 6], now: Instant) -> Self {
        Slaac {
            mac,
            next_solicit: now,
            fresh: None,
            configured: None,
        }
    }

    /// When the next solicitation is due (None once a router answered).
    pub(crate) fn poll_at(&self) -> Option<Instant> {
        self.configured.is_none().then_some(self.next_solicit)
    }

    /// Sends a router solicitation through `dev` if one is due.
    pub(crate) fn solicit<D: Device>(&mut self, dev: &mut D, now: Instant) {
        if self.configured.is_some() || now < self.next_solicit {
            return;
        }
        self.next_solicit = now + RS_INTERVAL;
        let src = link_local(self.mac);
        let dst = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2);
        let icmp = Icmpv6Repr::Ndisc(NdiscRepr::RouterSolicit {
            lladdr: Some(RawHardwareAddress::from_bytes(&self.mac)),
        });
        let ip = Ipv6Repr {
            src_addr: src,
            dst_addr: dst,
            next_header: IpProtocol::Icmpv6,
            payload_len: icmp.buffer_len(),
            hop_limit: 255,
        };
        let eth = EthernetRepr {
            src_addr: EthernetAddress(self.mac),
            // 33:33 + the low 32 bits of ff02::2
            dst_addr: EthernetAddress([0x33, 0x33, 0, 0, 0, 2]),
            ethertype: EthernetProtocol::Ipv6,
        };
        let len = eth.buffer_len() + ip.buffer_len() + icmp.buffer_len();
        let Some(tx) = dev.transmit(now) else { return };
        phy::TxToken::consume(tx, len, |buf| {
            let mut frame = EthernetFrame::new_unchecked(buf);
            eth.emit(&mut frame);
            let mut packet = Ipv6Packet::new_unchecked(frame.payload_mut());
            ip.emit(&mut packet);
            let mut msg = Icmpv6Packet::new_unchecked(packet.payload_mut());
            icmp.emit(&src, &dst, &mut msg, &ChecksumCapabilities::default());
        });
    }

    /// Looks at a received Ethernet frame; a router advertisement with an
    /// autonomous prefix of length 64 is remembered in `fresh`.
    pub(crate) fn inspect(&mut self, frame: &[u8]) {
        if let Some(a) = parse_advert(frame, self.mac) {
            if self.configured != Some(a) {
                self.fresh = Some(a);
            }
        }
    }
}

/// The configuration a router advertisement in `frame` offers to `mac`, if the
/// frame is one (checksum checked) with an autonomous /64 prefix.
pub fn parse_advert(frame: &[u8], mac: [u8; 6]) -> Option<Advertised> {
    let eth = EthernetFrame::new_checked(frame).ok()?;
    if eth.ethertype() != EthernetProtocol::Ipv6 {
        return None;
    }
    let ip = Ipv6Packet::new_checked(eth.payload()).ok()?;
    if ip.next_header() != IpProtocol::Icmpv6 || ip.hop_limit() != 255 {
        return None;
    }
    let (src, dst) = (ip.src_addr(), ip.dst_addr());
    let msg = Icmpv6Packet::new_checked(ip.payload()).ok()?;
    let repr = Icmpv6Repr::parse(&src, &dst, &msg, &ChecksumCapabilities::default()).ok()?;
    let Icmpv6Repr::Ndisc(NdiscRepr::RouterAdvert {
        router_lifetime,
        prefix_info: Some(p),
        ..
    }) = repr
    else {
        return None;
    };
    if !p.flags.contains(NdiscPrefixInfoFlags::ADDRCONF)
        || p.prefix_len != 64
        || p.valid_lifetime == Duration::ZERO
    {
        return None;
    }
    let mut a = p.prefix.octets();
    a[8..].copy_from_slice(&interface_id(mac));
    Some(Advertised {
        address: Ipv6Addr::from(a),
        prefix_len: 64,
        router: (router_lifetime > Duration::ZERO).then_some(src),
    })
}

/// A device that lets [`Slaac`] see every received frame before smoltcp does.
#[cfg(test)]
mod tests {
    use super::*;
    use smoltcp::wire::{Ipv6Address, NdiscPrefixInformation, NdiscRouterFlags};

    const MAC: [u8; 6] = [0x52, 0x54, 0, 0x12, 0x34, 0x56];

    /// An advertisement of `prefix`/`len` from fe80::2 as QEMU's user network sends.
    fn advert(prefix: Ipv6Address, len: u8, flags: NdiscPrefixInfoFlags) -> alloc::vec::Vec<u8> {
        let src = Ipv6Address::new(0xfe80, 0, 0, 0, 0, 0, 0, 2);
        let dst = Ipv6Address::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
        let icmp = Icmpv6Repr::Ndisc(NdiscRepr::RouterAdvert {
            hop_limit: 64,
            flags: NdiscRouterFlags::empty(),
            router_lifetime: Duration::from_secs(1800),
            reachable_time: Duration::ZERO,
            retrans_time: Duration::ZERO,
            lladdr: None,
            mtu: None,
            prefix_info: Some(NdiscPrefixInformation {
                prefix_len: len,
                flags,
                valid_lifetime: Duration::from_secs(86400),
                preferred_lifetime: Duration::from_secs(14400),
                prefix,
            }),
        });
        let ip = Ipv6Repr {
            src_addr: src,
            dst_addr: dst,
            next_header: IpProtocol::Icmpv6,
            payload_len: icmp.buffer_len(),
            hop_limit: 255,
        };
        let eth = EthernetRepr {
            src_addr: EthernetAddress([0x52, 0x55, 10, 0, 2, 2]),
            dst_addr: EthernetAddress([0x33, 0x33, 0, 0, 0, 1]),
            ethertype: EthernetProtocol::Ipv6,
        };
        let mut buf = alloc::vec![0u8; eth.buffer_len() + ip.buffer_len() + icmp.buffer_len()];
        let mut frame = EthernetFrame::new_unchecked(&mut buf[..]);
        eth.emit(&mut frame);
        let mut packet = Ipv6Packet::new_unchecked(frame.payload_mut());
        ip.emit(&mut packet);
        let mut msg = Icmpv6Packet::new_unchecked(packet.payload_mut());
        icmp.emit(&src, &dst, &mut msg, &ChecksumCapabilities::default());
        buf
    }

    #[test]
    fn an_autonomous_prefix_gives_prefix_plus_eui64() {
        let fec0 = Ipv6Address::new(0xfec0, 0, 0, 0, 0, 0, 0, 0);
        let a = parse_advert(&advert(fec0, 64, NdiscPrefixInfoFlags::ADDRCONF), MAC).unwrap();
        assert_eq!(
            a.address,
            "fec0::5054:ff:fe12:3456".parse::<Ipv6Addr>().unwrap()
        );
        assert_eq!(a.router, Some("fe80::2".parse().unwrap()));
    }

    #[test]
    fn other_prefixes_are_ignored() {
        let p = Ipv6Address::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0);
        assert_eq!(
            parse_advert(&advert(p, 64, NdiscPrefixInfoFlags::empty()), MAC),
            None
        );
        assert_eq!(
            parse_advert(&advert(p, 48, NdiscPrefixInfoFlags::ADDRCONF), MAC),
            None
        );
        let mut bad = advert(p, 64, NdiscPrefixInfoFlags::ADDRCONF);
        let last = bad.len() - 1;
        bad[last] ^= 1; // checksum no longer matches
        assert_eq!(parse_advert(&bad, MAC), None);
    }

    #[test]
    fn link_local_is_fe80_plus_eui64() {
        assert_eq!(
            link_local(MAC),
            "fe80::5054:ff:fe12:3456".parse::<Ipv6Addr>().unwrap()
        );
    }
}
