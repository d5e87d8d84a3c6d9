//! UDP between two stacks over an in-memory wire, and over `lo`.

mod common;
use common::*;
use rumprun_net::errno::*;
use rumprun_net::options::*;
use rumprun_net::{Family, SockAddr, SockType, Stack};
use std::net::{Ipv4Addr, Ipv6Addr};

#[test]
fn echo_both_ways() {
    let mut net = Net::new();
    let srv = udp4(&mut net.b);
    net.b.bind(srv, v4(Ipv4Addr::UNSPECIFIED, 5353)).unwrap();
    let cli = udp4(&mut net.a);
    assert_eq!(net.a.poll_bits(cli), POLLOUT);
    assert_eq!(net.b.poll_bits(srv), POLLOUT);
    let mut buf = [0u8; 100];
    assert_eq!(net.b.recv(srv, &mut buf, 0), Err(EAGAIN));
    assert_eq!(net.a.send(cli, b"x", None), Err(EDESTADDRREQ));
    // sendto on an unbound socket binds an ephemeral port.
    assert_eq!(net.a.send(cli, b"ping", Some(v4(B_IP, 5353))), Ok(4));
    let me = net.a.local_addr(cli).unwrap();
    assert!(me.port() >= 32768);
    let g = net.b.generation(srv);
    net.until(2000, |n| n.b.poll_bits(srv) & POLLIN != 0);
    assert!(net.b.generation(srv) > g);
    assert_eq!(net.b.bytes_readable(srv), Ok(4));
    let r = net.b.recv(srv, &mut buf, MSG_PEEK).unwrap();
    assert_eq!((r.len, r.from), (4, Some(v4(A_IP, me.port()))));
    let r = net.b.recv(srv, &mut buf, 0).unwrap();
    assert_eq!(&buf[..r.len], b"ping");
    assert_eq!(net.b.recv(srv, &mut buf, 0), Err(EAGAIN));
    assert_eq!(net.b.poll_bits(srv), POLLOUT);
    // Echo back to the sender.
    assert_eq!(net.b.send(srv, b"pong!", r.from), Ok(5));
    net.until(100, |n| n.a.poll_bits(cli) & POLLIN != 0);
    let r = net.a.recv(cli, &mut buf, 0).unwrap();
    assert_eq!(&buf[..r.len], b"pong!");
    assert_eq!(r.from, Some(v4(B_IP, 5353)));
}

#[test]
fn connected_truncation_and_filter() {
    let mut net = Net::new();
    let srv = udp4(&mut net.b);
    net.b.bind(srv, v4(B_IP, 9000)).unwrap();
    let cli = udp4(&mut net.a);
    net.a.connect(cli, v4(B_IP, 9000)).unwrap();
    assert_eq!(net.a.peer_addr(cli), Ok(v4(B_IP, 9000)));
    let other = udp4(&mut net.b);
    net.b.bind(other, v4(B_IP, 9001)).unwrap();
    let cport = net.a.local_addr(cli).unwrap().port();
    // A datagram from another port is filtered out by the connected socket.
    net.b.send(other, b"spam", Some(v4(A_IP, cport))).unwrap();
    net.run(1500);
    // Below the MTU: the stack does not reassemble IP fragments (see Cargo.toml).
    let big = pattern(1400, 1);
    net.b.send(srv, &big, Some(v4(A_IP, cport))).unwrap();
    net.run(10);
    let mut small = [0u8; 1000];
    let r = net.a.recv(cli, &mut small, 0).unwrap();
    assert_eq!((r.len, r.full_len), (1000, 1400), "truncated");
    assert_eq!(&small[..], &big[..1000]);
    assert_eq!(net.a.recv(cli, &mut small, 0), Err(EAGAIN));
    // send without an address goes to the peer.
    net.a.send(cli, b"hi", None).unwrap();
    net.run(10);
    let mut buf = [0u8; 10];
    assert_eq!(net.b.recv(srv, &mut buf, 0).unwrap().len, 2);
    assert_eq!(net.a.send(cli, &vec![0u8; 70000], None), Err(EMSGSIZE));
}

#[test]
fn bind_conflicts() {
    let mut net = Net::new();
    let x = udp4(&mut net.b);
    let y = udp4(&mut net.b);
    net.b.bind(x, v4(B_IP, 700)).unwrap();
    assert_eq!(
        net.b.bind(y, v4(Ipv4Addr::UNSPECIFIED, 700)),
        Err(EADDRINUSE)
    );
    assert_eq!(net.b.listen(x, 1), Err(EOPNOTSUPP));
}

#[test]
fn loopback_v6_udp() {
    let mut st: Stack<WireEnd> = Stack::new(5, 0);
    let a = st.socket(Family::Inet6, SockType::Dgram).unwrap();
    let b = st.socket(Family::Inet6, SockType::Dgram).unwrap();
    st.bind(a, SockAddr::v6(Ipv6Addr::LOCALHOST, 1000)).unwrap();
    st.send(b, b"six", Some(SockAddr::v6(Ipv6Addr::LOCALHOST, 1000)))
        .unwrap();
    st.poll(1);
    let mut buf = [0u8; 8];
    let r = st.recv(a, &mut buf, 0).unwrap();
    assert_eq!(&buf[..3], b"six");
    assert_eq!(r.from.unwrap().ip(), Ipv6Addr::LOCALHOST);
    // And v4 through a v4-mapped destination from an AF_INET6 socket.
    let c = udp4(&mut st);
    st.bind(c, v4(Ipv4Addr::LOCALHOST, 1001)).unwrap();
    st.send(
        b,
        b"four",
        Some(SockAddr::v6(Ipv4Addr::LOCALHOST.to_ipv6_mapped(), 1001)),
    )
    .unwrap();
    st.poll(2);
    assert_eq!(st.recv(c, &mut buf, 0).unwrap().len, 4);
}

#[test]
fn unreachable_without_route() {
    let mut net = Net::new();
    let u = udp4(&mut net.a);
    assert_eq!(
        net.a.send(u, b"x", Some(v4(Ipv4Addr::new(8, 8, 8, 8), 53))),
        Err(ENETUNREACH)
    );
    let t = tcp4(&mut net.a);
    assert_eq!(
        net.a.connect(t, v4(Ipv4Addr::new(8, 8, 8, 8), 53)),
        Err(ENETUNREACH)
    );
}

/// Datagrams larger than the MTU travel as IPv4 fragments and are reassembled; past
/// the fragmentation buffer the send is refused rather than silently dropped.
#[test]
fn fragmented_datagrams() {
    let mut net = Net::new();
    let srv = udp4(&mut net.b);
    net.b.bind(srv, v4(Ipv4Addr::UNSPECIFIED, 5300)).unwrap();
    let cli = udp4(&mut net.a);
    let big: Vec<u8> = (0..12000).map(|i| (i * 7) as u8).collect();
    assert_eq!(net.a.send(cli, &big, Some(v4(B_IP, 5300))), Ok(12000));
    net.until(2000, |n| n.b.poll_bits(srv) & POLLIN != 0);
    let mut buf = vec![0u8; 65536];
    let r = net.b.recv(srv, &mut buf, 0).unwrap();
    assert_eq!(&buf[..r.len], &big[..]);
    assert_eq!(
        net.a.send(cli, &vec![0u8; 20000], Some(v4(B_IP, 5300))),
        Err(EMSGSIZE)
    );
}

/// IP_TOS / IPV6_TCLASS go onto the wire and come back in IP_TOS / IPV6_TCLASS
/// control messages, between two stacks and over `lo`.
#[test]
fn traffic_class_on_the_wire() {
    let int = |v: i32| v.to_ne_bytes();
    let mut net = Net::new();
    let srv = udp4(&mut net.b);
    net.b.bind(srv, v4(Ipv4Addr::UNSPECIFIED, 5354)).unwrap();
    net.b.setsockopt(srv, IPPROTO_IP, 13, &int(1)).unwrap(); // IP_RECVTOS
    let cli = udp4(&mut net.a);
    net.a
        .setsockopt(cli, IPPROTO_IP, IP_TOS, &int(0x28))
        .unwrap();
    assert_eq!(net.a.send(cli, b"ping", Some(v4(B_IP, 5354))), Ok(4));
    net.until(2000, |n| n.b.poll_bits(srv) & POLLIN != 0);
    let mut buf = [0u8; 16];
    let (r, control) = net.b.recv_msg(srv, &mut buf, 0).unwrap();
    assert_eq!(r.len, 4);
    assert_eq!(control, vec![(IPPROTO_IP, IP_TOS, vec![0x28])]);

    let mut lo = Stack::<WireEnd>::new(1, 0);
    let a = lo.socket(Family::Inet6, SockType::Dgram).unwrap();
    let b = lo.socket(Family::Inet6, SockType::Dgram).unwrap();
    lo.bind(b, SockAddr::v6(Ipv6Addr::LOCALHOST, 5355)).unwrap();
    lo.setsockopt(b, IPPROTO_IPV6, 66, &int(1)).unwrap(); // IPV6_RECVTCLASS
    lo.setsockopt(a, IPPROTO_IPV6, 67, &int(0x48)).unwrap(); // IPV6_TCLASS
    assert_eq!(
        lo.send(a, b"ping", Some(SockAddr::v6(Ipv6Addr::LOCALHOST, 5355))),
        Ok(4)
    );
    for t in 1..10 {
        lo.poll(t);
    }
    let (r, control) = lo.recv_msg(b, &mut buf, 0).unwrap();
    assert_eq!(r.len, 4);
    assert_eq!(
        control,
        vec![(IPPROTO_IPV6, 67, 0x48i32.to_ne_bytes().to_vec())]
    );
}
