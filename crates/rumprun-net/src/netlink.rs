//! The read-only part of NETLINK_ROUTE that C libraries use to list interfaces
//! (glibc's and musl's `getifaddrs` and `if_nameindex`): answers to RTM_GETLINK and
//! RTM_GETADDR dump requests, built from [`IfaceInfo`] snapshots as Linux lays them
//! out (`nlmsghdr`, `ifinfomsg`/`ifaddrmsg`, `rtattr`s), ending with NLMSG_DONE.
//! Anything else (changing links, addresses or routes; other requests) is answered
//! with an NLMSG_ERROR carrying EOPNOTSUPP, so callers fail cleanly.

use crate::errno::EOPNOTSUPP;
use crate::iface::IfaceInfo;
use alloc::vec::Vec;
use core::net::IpAddr;

pub use rumprun_abi::netlink::{
    ARPHRD_ETHER, ARPHRD_LOOPBACK, IFF_BROADCAST, IFF_LOOPBACK, IFF_MULTICAST, IFF_RUNNING, IFF_UP,
    NETLINK_ROUTE, NLMSGHDR_LEN, NLMSG_DONE, NLMSG_ERROR, NLM_F_ACK, NLM_F_DUMP, NLM_F_MULTI,
    NLM_F_REQUEST, RTATTR_LEN, RTM_GETADDR, RTM_GETLINK, RTM_NEWADDR, RTM_NEWLINK,
};
use rumprun_abi::netlink::{
    IFA_ADDRESS, IFA_BROADCAST, IFA_LABEL, IFA_LOCAL, IFLA_ADDRESS, IFLA_BROADCAST, IFLA_IFNAME,
    IFLA_MTU, RT_SCOPE_HOST, RT_SCOPE_LINK, RT_SCOPE_UNIVERSE,
};

const AF_INET: u8 = rumprun_abi::net::AF_INET as u8;
const AF_INET6: u8 = rumprun_abi::net::AF_INET6 as u8;

/// Linux's datagram size for dump answers: messages are packed into datagrams of at
/// most this many bytes (a reader with a smaller buffer sees MSG_TRUNC).
pub const DUMP_DATAGRAM: usize = 4096;

/// The `SIOCGIFFLAGS` / `ifi_flags` of an interface (all are up and running).
pub fn iface_flags(i: &IfaceInfo) -> u32 {
    if i.loopback {
        IFF_UP | IFF_RUNNING | IFF_LOOPBACK
    } else {
        IFF_UP | IFF_RUNNING | IFF_BROADCAST | IFF_MULTICAST
    }
}

/// One request's header fields the answer echoes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    /// `nlmsg_type`
    pub kind: u16,
    /// `nlmsg_flags`
    pub flags: u16,
    /// `nlmsg_seq`
    pub seq: u32,
    /// The address family asked for (first payload byte; 0 = all).
    pub family: u8,
}

/// Splits a datagram sent to the socket into its requests (ignores a trailing
/// partial header, as Linux does).
pub fn parse_requests(data: &[u8]) -> Vec<Request> {
    let mut out = Vec::new();
    let mut off = 0;
    while off + NLMSGHDR_LEN <= data.len() {
        let len = u32::from_ne_bytes(data[off..off + 4].try_into().unwrap()) as usize;
        if len < NLMSGHDR_LEN || off + len > data.len() {
            break;
        }
        out.push(Request {
            kind: u16::from_ne_bytes([data[off + 4], data[off + 5]]),
            flags: u16::from_ne_bytes([data[off + 6], data[off + 7]]),
            seq: u32::from_ne_bytes(data[off + 8..off + 12].try_into().unwrap()),
            // The first byte of the payload (ifinfomsg's or ifaddrmsg's family).
            family: data
                .get(off + NLMSGHDR_LEN)
                .copied()
                .filter(|_| len > NLMSGHDR_LEN)
                .unwrap_or(0),
        });
        off += (len + 3) & !3;
    }
    out
}

/// Builds netlink messages into datagrams.
struct Writer {
    pid: u32,
    seq: u32,
    datagrams: Vec<Vec<u8>>,
    msg: Vec<u8>,
}

impl Writer {
    fn new(pid: u32, seq: u32) -> Self {
        Writer {
            pid,
            seq,
            datagrams: Vec::new(),
            msg: Vec::new(),
        }
    }

    /// Starts a message of `kind` with `flags`; the body follows.
    fn begin(&mut self, kind: u16, flags: u16) {
        self.msg.clear();
        self.msg.extend_from_slice(&0u32.to_ne_bytes()); // length, set in `end`
        self.msg.extend_from_slice(&kind.to_ne_bytes());
        self.msg.extend_from_slice(&flags.to_ne_bytes());
        self.msg.extend_from_slice(&self.seq.to_ne_bytes());
        self.msg.extend_from_slice(&self.pid.to_ne_bytes());
    }

    fn bytes(&mut self, b: &[u8]) {
        self.msg.extend_from_slice(b);
    }

    /// An `rtattr` of `kind` holding `data`, padded to 4 bytes.
    fn attr(&mut self, kind: u16, data: &[u8]) {
        self.bytes(&((RTATTR_LEN + data.len()) as u16).to_ne_bytes());
        self.bytes(&kind.to_ne_bytes());
        self.bytes(data);
        while !self.msg.len().is_multiple_of(4) {
            self.msg.push(0);
        }
    }

    /// Finishes the message and packs it into the current datagram (or a new one).
    fn end(&mut self) {
        let len = self.msg.len() as u32;
        self.msg[..4].copy_from_slice(&len.to_ne_bytes());
        match self.datagrams.last_mut() {
            Some(d) if d.len() + self.msg.len() <= DUMP_DATAGRAM => d.extend_from_slice(&self.msg),
            _ => self.datagrams.push(self.msg.clone()),
        }
    }
}

fn name_attr(name: &str) -> Vec<u8> {
    let mut v = Vec::from(name.as_bytes());
    v.push(0);
    v
}

fn link(w: &mut Writer, i: &IfaceInfo) {
    w.begin(RTM_NEWLINK, NLM_F_MULTI);
    w.bytes(&[0, 0]); // ifi_family, pad
    let ty = if i.loopback {
        ARPHRD_LOOPBACK
    } else {
        ARPHRD_ETHER
    };
    w.bytes(&ty.to_ne_bytes());
    w.bytes(&(i.index as i32).to_ne_bytes());
    w.bytes(&iface_flags(i).to_ne_bytes());
    w.bytes(&0xffff_ffffu32.to_ne_bytes()); // ifi_change
    w.attr(IFLA_IFNAME, &name_attr(&i.name));
    w.attr(IFLA_MTU, &(i.mtu as u32).to_ne_bytes());
    let mac = i.mac.unwrap_or([0; 6]);
    w.attr(IFLA_ADDRESS, &mac);
    let bcast = if i.loopback { [0; 6] } else { [0xff; 6] };
    w.attr(IFLA_BROADCAST, &bcast);
    w.end();
}

fn addr(w: &mut Writer, i: &IfaceInfo, ip: IpAddr, prefix: u8) {
    w.begin(RTM_NEWADDR, NLM_F_MULTI);
    let (family, scope) = match ip {
        IpAddr::V4(a) if a.is_loopback() => (AF_INET, RT_SCOPE_HOST),
        IpAddr::V4(_) => (AF_INET, RT_SCOPE_UNIVERSE),
        IpAddr::V6(a) if a.is_loopback() => (AF_INET6, RT_SCOPE_HOST),
        IpAddr::V6(a) if a.segments()[0] & 0xffc0 == 0xfe80 => (AF_INET6, RT_SCOPE_LINK),
        IpAddr::V6(_) => (AF_INET6, RT_SCOPE_UNIVERSE),
    };
    w.bytes(&[family, prefix, 0x80 /* IFA_F_PERMANENT */, scope]);
    w.bytes(&i.index.to_ne_bytes());
    match ip {
        IpAddr::V4(a) => {
            w.attr(IFA_ADDRESS, &a.octets());
            w.attr(IFA_LOCAL, &a.octets());
            if !i.loopback && prefix < 31 {
                let host_bits = u32::MAX.checked_shr(prefix as u32).unwrap_or(0);
                let b = u32::from(a) | host_bits;
                w.attr(IFA_BROADCAST, &b.to_be_bytes());
            }
            w.attr(IFA_LABEL, &name_attr(&i.name));
        }
        IpAddr::V6(a) => w.attr(IFA_ADDRESS, &a.octets()),
    }
    w.end();
}

fn done(w: &mut Writer) {
    w.begin(NLMSG_DONE, NLM_F_MULTI);
    w.bytes(&0i32.to_ne_bytes());
    w.end();
}

/// An NLMSG_ERROR answer: `errno` 0 is an acknowledgement.
fn error(w: &mut Writer, req: &Request, errno: i32) {
    w.begin(NLMSG_ERROR, 0);
    w.bytes(&(-errno).to_ne_bytes());
    // The offending request's header (without payload, as with NETLINK_CAP_ACK).
    w.bytes(&16u32.to_ne_bytes());
    w.bytes(&req.kind.to_ne_bytes());
    w.bytes(&req.flags.to_ne_bytes());
    w.bytes(&req.seq.to_ne_bytes());
    let pid = w.pid;
    w.bytes(&pid.to_ne_bytes());
    w.end();
}

/// The datagrams answering `req` from socket `pid`, and whether the request was one
/// this module serves (false: the answer is an EOPNOTSUPP error).
pub fn answer(req: &Request, pid: u32, ifaces: &[IfaceInfo]) -> (Vec<Vec<u8>>, bool) {
    let mut w = Writer::new(pid, req.seq);
    let dump = req.flags & NLM_F_DUMP == NLM_F_DUMP;
    let served = match req.kind {
        RTM_GETLINK if dump => {
            ifaces.iter().for_each(|i| link(&mut w, i));
            true
        }
        RTM_GETADDR if dump => {
            for i in ifaces {
                for &(ip, prefix) in &i.addrs {
                    let fam = if ip.is_ipv4() { AF_INET } else { AF_INET6 };
                    if req.family == 0 || req.family == fam {
                        addr(&mut w, i, ip, prefix);
                    }
                }
            }
            true
        }
        _ => false,
    };
    if served {
        done(&mut w);
        // Linux sends DONE in a datagram of its own after a multi-part dump.
    } else {
        error(&mut w, req, EOPNOTSUPP.0);
    }
    if served && req.flags & NLM_F_ACK != 0 {
        error(&mut w, req, 0);
    }
    (w.datagrams, served)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;
    use core::net::{Ipv4Addr, Ipv6Addr};

    fn ifaces() -> Vec<IfaceInfo> {
        let lo = IfaceInfo {
            index: 1,
            name: "lo".to_string(),
            mac: None,
            mtu: 65536,
            loopback: true,
            addrs: vec![
                (Ipv4Addr::LOCALHOST.into(), 8),
                (Ipv6Addr::LOCALHOST.into(), 128),
            ],
            ipv4_gateway: None,
            ipv6_gateway: None,
            dhcp: None,
        };
        let eth = IfaceInfo {
            index: 2,
            name: "eth0".to_string(),
            mac: Some([0x52, 0x54, 0, 0x12, 0x34, 0x56]),
            mtu: 1500,
            loopback: false,
            addrs: vec![(Ipv4Addr::new(10, 0, 2, 15).into(), 24)],
            ipv4_gateway: None,
            ipv6_gateway: None,
            dhcp: None,
        };
        vec![lo, eth]
    }

    /// (type, flags, seq, pid, payload) of every message in the datagrams.
    fn messages(dgrams: &[Vec<u8>]) -> Vec<(u16, u16, u32, u32, Vec<u8>)> {
        let mut out = Vec::new();
        for d in dgrams {
            let mut off = 0;
            while off < d.len() {
                let len = u32::from_ne_bytes(d[off..off + 4].try_into().unwrap()) as usize;
                let h = &d[off..off + 16];
                out.push((
                    u16::from_ne_bytes([h[4], h[5]]),
                    u16::from_ne_bytes([h[6], h[7]]),
                    u32::from_ne_bytes(h[8..12].try_into().unwrap()),
                    u32::from_ne_bytes(h[12..16].try_into().unwrap()),
                    d[off + 16..off + len].to_vec(),
                ));
                off += (len + 3) & !3;
            }
        }
        out
    }

    fn request(kind: u16, family: u8) -> Vec<u8> {
        let mut r = Vec::new();
        r.extend_from_slice(&20u32.to_ne_bytes());
        r.extend_from_slice(&kind.to_ne_bytes());
        r.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
        r.extend_from_slice(&7u32.to_ne_bytes());
        r.extend_from_slice(&0u32.to_ne_bytes());
        r.extend_from_slice(&[family, 0, 0, 0]);
        r
    }

    #[test]
    fn link_dump_lists_every_interface_then_done() {
        let reqs = parse_requests(&request(RTM_GETLINK, 0));
        assert_eq!(reqs.len(), 1);
        let (d, served) = answer(&reqs[0], 42, &ifaces());
        assert!(served);
        let m = messages(&d);
        assert_eq!(m.len(), 3);
        assert!(m.iter().all(|x| x.2 == 7 && x.3 == 42));
        assert_eq!(m[0].0, RTM_NEWLINK);
        assert_eq!(u16::from_ne_bytes([m[1].4[2], m[1].4[3]]), ARPHRD_ETHER);
        assert_eq!(i32::from_ne_bytes(m[1].4[4..8].try_into().unwrap()), 2);
        // IFLA_IFNAME follows the 16-byte ifinfomsg.
        assert_eq!(&m[1].4[16..24], &[9, 0, 3, 0, b'e', b't', b'h', b'0']);
        assert_eq!(m[2].0, NLMSG_DONE);
    }

    #[test]
    fn addr_dump_filters_by_family() {
        let (d, _) = answer(
            &parse_requests(&request(RTM_GETADDR, AF_INET))[0],
            1,
            &ifaces(),
        );
        let m = messages(&d);
        assert_eq!(m.len(), 3); // 127.0.0.1, 10.0.2.15, DONE
        assert_eq!(&m[1].4[..4], &[AF_INET, 24, 0x80, RT_SCOPE_UNIVERSE]);
        assert_eq!(&m[1].4[8..16], &[8, 0, 1, 0, 10, 0, 2, 15]);
        let (all, _) = answer(&parse_requests(&request(RTM_GETADDR, 0))[0], 1, &ifaces());
        assert_eq!(messages(&all).len(), 4);
    }

    #[test]
    fn other_requests_get_eopnotsupp() {
        let mut r = request(RTM_NEWLINK, 0);
        r[6..8].copy_from_slice(&(NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
        let (d, served) = answer(&parse_requests(&r)[0], 1, &ifaces());
        assert!(!served);
        let m = messages(&d);
        assert_eq!(m[0].0, NLMSG_ERROR);
        assert_eq!(
            i32::from_ne_bytes(m[0].4[..4].try_into().unwrap()),
            -EOPNOTSUPP.0
        );
    }
}
