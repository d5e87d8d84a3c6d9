//! Socket constants: address families, socket types, option levels and names (`int`
//! arguments: `i32`), message flags and `shutdown(2)` modes.

use core::mem::size_of;
use linux_raw_sys::net as n;

/// `struct iovec` (the one of `general`: `net`'s is only declared, and `msghdr`'s
/// `msg_iov` points to that opaque one, so cast it).
pub use linux_raw_sys::general::iovec;
/// The `#[repr(C)]` structs of the socket calls, as the uapi headers lay them out.
pub use linux_raw_sys::net::{
    cmsghdr, linger, mmsghdr, msghdr, sockaddr_in, sockaddr_in6, sockaddr_un,
};

/// `sizeof(struct sockaddr_in)`.
pub const SOCKADDR_IN_LEN: usize = size_of::<sockaddr_in>();
/// `sizeof(struct sockaddr_in6)`.
pub const SOCKADDR_IN6_LEN: usize = size_of::<sockaddr_in6>();
/// `sizeof(struct sockaddr_un)`.
pub const SOCKADDR_UN_LEN: usize = size_of::<sockaddr_un>();

/// IPv4.
pub const AF_INET: u16 = n::AF_INET as u16;
/// IPv6.
pub const AF_INET6: u16 = n::AF_INET6 as u16;

/// Stream socket.
pub const SOCK_STREAM: i32 = n::SOCK_STREAM as i32;
/// Datagram socket.
pub const SOCK_DGRAM: i32 = n::SOCK_DGRAM as i32;

/// Option level of the socket itself.
pub const SOL_SOCKET: i32 = n::SOL_SOCKET as i32;
/// Option level and protocol: IPv4.
pub const IPPROTO_IP: i32 = n::IPPROTO_IP as i32;
/// Option level and protocol: TCP.
pub const IPPROTO_TCP: i32 = n::IPPROTO_TCP as i32;
/// Option level and protocol: UDP.
pub const IPPROTO_UDP: i32 = n::IPPROTO_UDP as i32;
/// Option level and protocol: IPv6.
pub const IPPROTO_IPV6: i32 = n::IPPROTO_IPV6 as i32;

/// `SOL_SOCKET`: reuse a local address in TIME_WAIT.
pub const SO_REUSEADDR: i32 = n::SO_REUSEADDR as i32;
/// `SOL_SOCKET`: the socket type.
pub const SO_TYPE: i32 = n::SO_TYPE as i32;
/// `SOL_SOCKET`: fetch and clear the pending error.
pub const SO_ERROR: i32 = n::SO_ERROR as i32;
/// `SOL_SOCKET`: may send broadcasts.
pub const SO_BROADCAST: i32 = n::SO_BROADCAST as i32;
/// `SOL_SOCKET`: send buffer size.
pub const SO_SNDBUF: i32 = n::SO_SNDBUF as i32;
/// `SOL_SOCKET`: receive buffer size.
pub const SO_RCVBUF: i32 = n::SO_RCVBUF as i32;
/// `SOL_SOCKET`: TCP keepalives.
pub const SO_KEEPALIVE: i32 = n::SO_KEEPALIVE as i32;
/// `SOL_SOCKET`: linger on close.
pub const SO_LINGER: i32 = n::SO_LINGER as i32;
/// `SOL_SOCKET`: several sockets on one port.
pub const SO_REUSEPORT: i32 = n::SO_REUSEPORT as i32;
/// `SOL_SOCKET`: receive timeout.
pub const SO_RCVTIMEO: i32 = n::SO_RCVTIMEO_OLD as i32;
/// `SOL_SOCKET`: send timeout.
pub const SO_SNDTIMEO: i32 = n::SO_SNDTIMEO_OLD as i32;
/// `SOL_SOCKET`: is it listening.
pub const SO_ACCEPTCONN: i32 = n::SO_ACCEPTCONN as i32;
/// `SOL_SOCKET`: the protocol.
pub const SO_PROTOCOL: i32 = n::SO_PROTOCOL as i32;
/// `SOL_SOCKET`: the address family.
pub const SO_DOMAIN: i32 = n::SO_DOMAIN as i32;

/// `IPPROTO_TCP`: no Nagle delay.
pub const TCP_NODELAY: i32 = n::TCP_NODELAY as i32;
/// `IPPROTO_TCP`: maximum segment size.
pub const TCP_MAXSEG: i32 = n::TCP_MAXSEG as i32;
/// `IPPROTO_TCP`: hold back partial segments.
pub const TCP_CORK: i32 = n::TCP_CORK as i32;
/// `IPPROTO_TCP`: idle time before keepalives.
pub const TCP_KEEPIDLE: i32 = n::TCP_KEEPIDLE as i32;
/// `IPPROTO_TCP`: time between keepalives.
pub const TCP_KEEPINTVL: i32 = n::TCP_KEEPINTVL as i32;
/// `IPPROTO_TCP`: keepalives before dropping.
pub const TCP_KEEPCNT: i32 = n::TCP_KEEPCNT as i32;

/// `IPPROTO_IP`: type of service.
pub const IP_TOS: i32 = n::IP_TOS as i32;
/// `IPPROTO_IP`: time to live.
pub const IP_TTL: i32 = n::IP_TTL as i32;
/// `IPPROTO_IP`: extended error reporting.
pub const IP_RECVERR: i32 = n::IP_RECVERR as i32;
/// `IPPROTO_IPV6`: extended error reporting.
pub const IPV6_RECVERR: i32 = n::IPV6_RECVERR as i32;
/// `IPPROTO_IPV6`: hop limit of unicast packets.
pub const IPV6_UNICAST_HOPS: i32 = n::IPV6_UNICAST_HOPS as i32;
/// `IPPROTO_IPV6`: IPv6 only (no v4-mapped addresses).
pub const IPV6_V6ONLY: i32 = n::IPV6_V6ONLY as i32;

/// `IPPROTO_IP`: receive (and send with) `struct in_pktinfo`.
pub const IP_PKTINFO: i32 = n::IP_PKTINFO as i32;
/// `IPPROTO_IP`: receive the TTL (an `IP_TTL` control message).
pub const IP_RECVTTL: i32 = n::IP_RECVTTL as i32;
/// `IPPROTO_IP`: receive the TOS (an `IP_TOS` control message).
pub const IP_RECVTOS: i32 = n::IP_RECVTOS as i32;
/// `IPPROTO_IPV6`: receive `struct in6_pktinfo` (an `IPV6_PKTINFO` message).
pub const IPV6_RECVPKTINFO: i32 = n::IPV6_RECVPKTINFO as i32;
/// `IPPROTO_IPV6`: the control message of `struct in6_pktinfo`.
pub const IPV6_PKTINFO: i32 = n::IPV6_PKTINFO as i32;
/// `IPPROTO_IPV6`: receive the hop limit (an `IPV6_HOPLIMIT` message).
pub const IPV6_RECVHOPLIMIT: i32 = n::IPV6_RECVHOPLIMIT as i32;
/// `IPPROTO_IPV6`: the control message of a hop limit.
pub const IPV6_HOPLIMIT: i32 = n::IPV6_HOPLIMIT as i32;
/// `IPPROTO_IPV6`: receive the traffic class (an `IPV6_TCLASS` message).
pub const IPV6_RECVTCLASS: i32 = n::IPV6_RECVTCLASS as i32;
/// `IPPROTO_IPV6`: the traffic class (option and control message).
pub const IPV6_TCLASS: i32 = n::IPV6_TCLASS as i32;

/// Look at the data without taking it.
pub const MSG_PEEK: u32 = n::MSG_PEEK;
/// Report the real length of a longer datagram.
pub const MSG_TRUNC: u32 = n::MSG_TRUNC;
/// Do not block, this call only.
pub const MSG_DONTWAIT: u32 = n::MSG_DONTWAIT;
/// No SIGPIPE on a broken connection.
pub const MSG_NOSIGNAL: u32 = n::MSG_NOSIGNAL;

/// Shut down reading.
pub const SHUT_RD: i32 = n::SHUT_RD as i32;
/// Shut down writing.
pub const SHUT_WR: i32 = n::SHUT_WR as i32;
/// Shut down both.
pub const SHUT_RDWR: i32 = n::SHUT_RDWR as i32;

#[cfg(test)]
mod tests {
    use super::*;

    /// The numbers of the headers, written out so a wrong binding would show.
    #[test]
    fn values_match_linux() {
        assert_eq!((AF_INET, AF_INET6), (2, 10));
        assert_eq!(
            (SOL_SOCKET, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_IPV6),
            (1, 6, 17, 41)
        );
        assert_eq!(
            (SO_REUSEADDR, SO_RCVTIMEO, SO_SNDTIMEO, SO_DOMAIN),
            (2, 20, 21, 39)
        );
        assert_eq!(
            (TCP_NODELAY, TCP_KEEPCNT, IP_RECVERR, IPV6_V6ONLY),
            (1, 6, 11, 26)
        );
        assert_eq!(
            (MSG_PEEK, MSG_TRUNC, MSG_DONTWAIT, MSG_NOSIGNAL),
            (2, 0x20, 0x40, 0x4000)
        );
        assert_eq!((SHUT_RD, SHUT_WR, SHUT_RDWR), (0, 1, 2));
        assert_eq!((IP_PKTINFO, IP_RECVTTL, IP_RECVTOS), (8, 12, 13));
        assert_eq!(
            (
                IPV6_RECVPKTINFO,
                IPV6_PKTINFO,
                IPV6_RECVHOPLIMIT,
                IPV6_HOPLIMIT,
                IPV6_RECVTCLASS,
                IPV6_TCLASS
            ),
            (49, 50, 51, 52, 66, 67)
        );
        assert_eq!(
            (SOCKADDR_IN_LEN, SOCKADDR_IN6_LEN, SOCKADDR_UN_LEN),
            (16, 28, 110)
        );
        assert_eq!(
            (
                size_of::<msghdr>(),
                size_of::<iovec>(),
                size_of::<mmsghdr>()
            ),
            (56, 16, 64)
        );
        assert_eq!((size_of::<cmsghdr>(), size_of::<linger>()), (16, 8));
    }
}
