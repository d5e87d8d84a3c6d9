//! Socket addresses: [`SockAddr`] (IPv4 or IPv6 plus port) and its conversions to and
//! from the Linux `sockaddr_in` / `sockaddr_in6` byte layouts the kernel copies to and
//! from the program (family in host order, port in network order, address bytes), and
//! to and from smoltcp endpoints (IPv4-mapped IPv6 addresses `::ffff:a.b.c.d` of
//! AF_INET6 sockets become plain IPv4 endpoints).

use crate::errno::*;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use smoltcp::wire::{IpAddress, IpEndpoint, IpListenEndpoint};

pub use rumprun_abi::net::{AF_INET, AF_INET6, SOCKADDR_IN6_LEN, SOCKADDR_IN_LEN};

/// An address family of the sockets this crate provides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// AF_INET
    Inet,
    /// AF_INET6
    Inet6,
}

impl Family {
    /// From the `domain` argument of socket(2).
    pub fn from_linux(domain: u16) -> Result<Family, Errno> {
        match domain {
            AF_INET => Ok(Family::Inet),
            AF_INET6 => Ok(Family::Inet6),
            _ => Err(EAFNOSUPPORT),
        }
    }

    /// The Linux `AF_*` value.
    pub fn to_linux(self) -> u16 {
        match self {
            Family::Inet => AF_INET,
            Family::Inet6 => AF_INET6,
        }
    }

    /// The unspecified address with port 0 of this family (what getsockname reports
    /// for an unbound socket).
    pub fn unspecified(self) -> SockAddr {
        match self {
            Family::Inet => SockAddr::V4 {
                addr: Ipv4Addr::UNSPECIFIED,
                port: 0,
            },
            Family::Inet6 => SockAddr::V6 {
                addr: Ipv6Addr::UNSPECIFIED,
                port: 0,
                flowinfo: 0,
                scope_id: 0,
            },
        }
    }
}

/// An IPv4 or IPv6 socket address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SockAddr {
    /// `sockaddr_in`
    V4 {
        /// The address.
        addr: Ipv4Addr,
        /// The port (host order).
        port: u16,
    },
    /// `sockaddr_in6`
    V6 {
        /// The address.
        addr: Ipv6Addr,
        /// The port (host order).
        port: u16,
        /// `sin6_flowinfo` (kept, not used).
        flowinfo: u32,
        /// `sin6_scope_id` (kept, not used for routing).
        scope_id: u32,
    },
}

impl SockAddr {
    /// An IPv4 address and port.
    pub const fn v4(addr: Ipv4Addr, port: u16) -> SockAddr {
        SockAddr::V4 { addr, port }
    }

    /// An IPv6 address and port.
    pub const fn v6(addr: Ipv6Addr, port: u16) -> SockAddr {
        SockAddr::V6 {
            addr,
            port,
            flowinfo: 0,
            scope_id: 0,
        }
    }

    /// The family of this address.
    pub fn family(&self) -> Family {
        match self {
            SockAddr::V4 { .. } => Family::Inet,
            SockAddr::V6 { .. } => Family::Inet6,
        }
    }

    /// The port.
    pub fn port(&self) -> u16 {
        match *self {
            SockAddr::V4 { port, .. } | SockAddr::V6 { port, .. } => port,
        }
    }

    /// The same address with another port.
    pub fn with_port(mut self, p: u16) -> SockAddr {
        match &mut self {
            SockAddr::V4 { port, .. } | SockAddr::V6 { port, .. } => *port = p,
        }
        self
    }

    /// The IP address, IPv4-mapped IPv6 addresses turned into IPv4.
    pub fn ip(&self) -> IpAddr {
        match *self {
            SockAddr::V4 { addr, .. } => IpAddr::V4(addr),
            SockAddr::V6 { addr, .. } => match addr.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => IpAddr::V6(addr),
            },
        }
    }

    /// Whether the address part is the unspecified address (0.0.0.0 or ::).
    pub fn is_unspecified(&self) -> bool {
        match *self {
            SockAddr::V4 { addr, .. } => addr.is_unspecified(),
            SockAddr::V6 { addr, .. } => addr.is_unspecified(),
        }
    }

    /// Parses a `sockaddr_in`/`sockaddr_in6` of `family` from the program's bytes.
    /// EINVAL if it is too short; EAFNOSUPPORT if its family is not `family`
    /// (AF_UNSPEC too: connect(AF_UNSPEC) to dissolve an association is not supported).
    pub fn from_bytes(bytes: &[u8], family: Family) -> Result<SockAddr, Errno> {
        if bytes.len() < 2 {
            return Err(EINVAL);
        }
        let fam = u16::from_ne_bytes([bytes[0], bytes[1]]);
        match (fam, family) {
            (AF_INET, Family::Inet) => {
                if bytes.len() < SOCKADDR_IN_LEN {
                    return Err(EINVAL);
                }
                Ok(SockAddr::V4 {
                    port: u16::from_be_bytes([bytes[2], bytes[3]]),
                    addr: Ipv4Addr::new(bytes[4], bytes[5], bytes[6], bytes[7]),
                })
            }
            (AF_INET6, Family::Inet6) => {
                if bytes.len() < SOCKADDR_IN6_LEN {
                    return Err(EINVAL);
                }
                let mut a = [0u8; 16];
                a.copy_from_slice(&bytes[8..24]);
                Ok(SockAddr::V6 {
                    port: u16::from_be_bytes([bytes[2], bytes[3]]),
                    flowinfo: u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]),
                    addr: Ipv6Addr::from(a),
                    scope_id: u32::from_ne_bytes([bytes[24], bytes[25], bytes[26], bytes[27]]),
                })
            }
            (AF_INET6, Family::Inet) if bytes.len() >= SOCKADDR_IN_LEN => Err(EAFNOSUPPORT),
            (AF_INET, Family::Inet6) => Err(EINVAL),
            _ => Err(EAFNOSUPPORT),
        }
    }

    /// The Linux bytes of this address and how many of them are used (16 or 28). The
    /// kernel copies `min(len, program's addrlen)` bytes and reports `len`.
    pub fn to_bytes(&self) -> ([u8; SOCKADDR_IN6_LEN], usize) {
        let mut b = [0u8; SOCKADDR_IN6_LEN];
        match *self {
            SockAddr::V4 { addr, port } => {
                b[0..2].copy_from_slice(&AF_INET.to_ne_bytes());
                b[2..4].copy_from_slice(&port.to_be_bytes());
                b[4..8].copy_from_slice(&addr.octets());
                (b, SOCKADDR_IN_LEN)
            }
            SockAddr::V6 {
                addr,
                port,
                flowinfo,
                scope_id,
            } => {
                b[0..2].copy_from_slice(&AF_INET6.to_ne_bytes());
                b[2..4].copy_from_slice(&port.to_be_bytes());
                b[4..8].copy_from_slice(&flowinfo.to_be_bytes());
                b[8..24].copy_from_slice(&addr.octets());
                b[24..28].copy_from_slice(&scope_id.to_ne_bytes());
                (b, SOCKADDR_IN6_LEN)
            }
        }
    }

    /// The address as a smoltcp endpoint (IPv4-mapped addresses become IPv4).
    pub fn to_endpoint(&self) -> IpEndpoint {
        IpEndpoint::new(ip_to_smol(self.ip()), self.port())
    }

    /// The address as a smoltcp listen endpoint: unspecified addresses match any.
    pub fn to_listen_endpoint(&self) -> IpListenEndpoint {
        IpListenEndpoint {
            addr: if self.is_unspecified() {
                None
            } else {
                Some(ip_to_smol(self.ip()))
            },
            port: self.port(),
        }
    }

    /// A smoltcp endpoint as an address of a `family` socket (IPv4 becomes IPv4-mapped
    /// IPv6 for AF_INET6 sockets).
    pub fn from_endpoint(ep: IpEndpoint, family: Family) -> SockAddr {
        Self::from_ip(smol_to_ip(ep.addr), ep.port, family)
    }

    /// An IP address and port as an address of a `family` socket.
    pub fn from_ip(ip: IpAddr, port: u16, family: Family) -> SockAddr {
        match (ip, family) {
            (IpAddr::V4(a), Family::Inet) => SockAddr::v4(a, port),
            (IpAddr::V4(a), Family::Inet6) => SockAddr::v6(a.to_ipv6_mapped(), port),
            (IpAddr::V6(a), _) => SockAddr::v6(a, port),
        }
    }
}

/// core::net to smoltcp.
pub fn ip_to_smol(ip: IpAddr) -> IpAddress {
    match ip {
        IpAddr::V4(a) => IpAddress::Ipv4(a),
        IpAddr::V6(a) => IpAddress::Ipv6(a),
    }
}

/// smoltcp to core::net.
pub fn smol_to_ip(ip: IpAddress) -> IpAddr {
    match ip {
        IpAddress::Ipv4(a) => IpAddr::V4(a),
        IpAddress::Ipv6(a) => IpAddr::V6(a),
    }
}

/// Whether `ip` is a loopback address (127.0.0.0/8, ::1).
pub fn is_loopback(ip: IpAddr) -> bool {
    ip.is_loopback()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockaddr_in_round_trip() {
        let a = SockAddr::v4(Ipv4Addr::new(10, 0, 2, 15), 8080);
        let (b, n) = a.to_bytes();
        assert_eq!(n, 16);
        assert_eq!(&b[..8], &[2, 0, 0x1f, 0x90, 10, 0, 2, 15]);
        assert_eq!(SockAddr::from_bytes(&b[..n], Family::Inet), Ok(a));
        assert_eq!(SockAddr::from_bytes(&b[..8], Family::Inet), Err(EINVAL));
    }

    #[test]
    fn sockaddr_in6_round_trip() {
        let a = SockAddr::v6(Ipv6Addr::LOCALHOST, 443);
        let (b, n) = a.to_bytes();
        assert_eq!(n, 28);
        assert_eq!(&b[..4], &[10, 0, 1, 0xbb]);
        assert_eq!(b[23], 1);
        assert_eq!(SockAddr::from_bytes(&b[..n], Family::Inet6), Ok(a));
        assert_eq!(
            SockAddr::from_bytes(&b[..n], Family::Inet),
            Err(EAFNOSUPPORT)
        );
    }

    #[test]
    fn mapped_addresses() {
        let m = SockAddr::v6(Ipv4Addr::new(1, 2, 3, 4).to_ipv6_mapped(), 7);
        assert_eq!(m.ip(), IpAddr::V4(Ipv4Addr::new(1, 2, 3, 4)));
        let ep = m.to_endpoint();
        assert_eq!(SockAddr::from_endpoint(ep, Family::Inet6), m);
        assert_eq!(
            SockAddr::from_endpoint(ep, Family::Inet),
            SockAddr::v4(Ipv4Addr::new(1, 2, 3, 4), 7)
        );
    }
}
