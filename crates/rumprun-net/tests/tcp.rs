//! TCP between two stacks over an in-memory wire, and over `lo`.

mod common;
use common::*;
use rumprun_net::errno::*;
use rumprun_net::options::*;
use rumprun_net::{wait_bit, Family, Shutdown, SockAddr, SockType, SocketId, Stack};

/// B listens on `port`; A connects; returns (client on A, server conn on B).
/// A socket of B listening on `port` with `backlog`.
fn listener(net: &mut Net, port: u16, backlog: i32) -> SocketId {
    let l = tcp4(&mut net.b);
    net.b.bind(l, v4(B_IP, port)).unwrap();
    net.b.listen(l, backlog).unwrap();
    l
}

fn connected(net: &mut Net, port: u16) -> (SocketId, SocketId, SocketId) {
    let l = listener(net, port, 16);
    let c = tcp4(&mut net.a);
    assert_eq!(net.a.connect(c, v4(B_IP, port)), Err(EINPROGRESS));
    net.until(1000, |n| {
        n.a.connect_result(c).is_some() && n.b.poll_bits(l) & POLLIN != 0
    });
    let (s, peer) = net.b.accept(l).unwrap();
    assert_eq!(peer, net.a.local_addr(c).unwrap());
    (l, c, s)
}

#[test]
fn echo_one_mib_both_directions() {
    let mut net = Net::new();
    let (_l, c, s) = connected(&mut net, 7000);
    let data = pattern(1 << 20, 7);
    let (mut sent, mut got_b, mut echoed, mut back) = (0, Vec::new(), 0, Vec::new());
    let mut buf = vec![0u8; 50000];
    net.until(200_000, |n| {
        if sent < data.len() {
            match n.a.send(c, &data[sent..], None) {
                Ok(k) => sent += k,
                Err(e) => assert_eq!(e, EAGAIN),
            }
        }
        match n.b.recv(s, &mut buf, 0) {
            Ok(r) => got_b.extend_from_slice(&buf[..r.len]),
            Err(e) => assert_eq!(e, EAGAIN),
        }
        if echoed < got_b.len() {
            match n.b.send(s, &got_b[echoed..], None) {
                Ok(k) => echoed += k,
                Err(e) => assert_eq!(e, EAGAIN),
            }
        }
        match n.a.recv(c, &mut buf, 0) {
            Ok(r) => back.extend_from_slice(&buf[..r.len]),
            Err(e) => assert_eq!(e, EAGAIN),
        }
        back.len() == data.len()
    });
    assert!(got_b == data, "server got the bytes");
    assert!(back == data, "client got them back");
}

#[test]
fn two_hundred_concurrent_connections() {
    let mut net = Net::new();
    let l = tcp4(&mut net.b);
    net.b
        .bind(
            l,
            v4(
                SockAddr::v4(std::net::Ipv4Addr::UNSPECIFIED, 0)
                    .ip()
                    .to_string()
                    .parse()
                    .unwrap(),
                8080,
            ),
        )
        .unwrap();
    net.b.listen(l, 256).unwrap();
    let clients: Vec<SocketId> = (0..200)
        .map(|_| {
            let c = tcp4(&mut net.a);
            assert_eq!(net.a.connect(c, v4(B_IP, 8080)), Err(EINPROGRESS));
            c
        })
        .collect();
    net.until(2000, |n| {
        clients
            .iter()
            .all(|&c| n.a.connect_result(c) == Some(Ok(())))
    });
    let mut accepted = Vec::new();
    while let Ok((s, _)) = net.b.accept(l) {
        accepted.push(s);
    }
    assert_eq!(accepted.len(), 200);
    assert_eq!(net.b.accept(l), Err(EAGAIN));
    for (i, &c) in clients.iter().enumerate() {
        assert_eq!(net.a.send(c, &(i as u32).to_le_bytes(), None), Ok(4));
    }
    net.run(50);
    let mut seen: Vec<u32> = accepted
        .iter()
        .map(|&s| {
            let mut b = [0u8; 4];
            assert_eq!(net.b.recv(s, &mut b, 0).unwrap().len, 4);
            u32::from_le_bytes(b)
        })
        .collect();
    seen.sort();
    assert_eq!(seen, (0..200).collect::<Vec<u32>>());
}

/// 64 connections echo 64 KiB each at once, every byte checked: each connection's
/// segments reach its own socket set (the stack routes them by addresses and ports)
/// and each set sends everything it has, whatever the others do.
#[test]
fn sixty_four_connections_echo_at_once() {
    let mut net = Net::new();
    let l = listener(&mut net, 7100, 128);
    let clients: Vec<SocketId> = (0..64)
        .map(|_| {
            let c = tcp4(&mut net.a);
            assert_eq!(net.a.connect(c, v4(B_IP, 7100)), Err(EINPROGRESS));
            c
        })
        .collect();
    let mut servers = Vec::new();
    net.until(2000, |n| {
        while let Ok((s, _)) = n.b.accept(l) {
            servers.push(s);
        }
        servers.len() == 64
    });
    // Which client is which server: the first bytes say.
    let data: Vec<Vec<u8>> = (0..64).map(|i| pattern(65536, i as u8)).collect();
    let mut sent = [0usize; 64];
    let mut back: Vec<Vec<u8>> = vec![Vec::new(); 64];
    let mut at_server: Vec<Vec<u8>> = vec![Vec::new(); 64];
    let mut echoed = [0usize; 64];
    let mut buf = vec![0u8; 70000];
    net.until(60_000, |n| {
        for i in 0..64 {
            if sent[i] < data[i].len() {
                match n.a.send(clients[i], &data[i][sent[i]..], None) {
                    Ok(k) => sent[i] += k,
                    Err(e) => assert_eq!(e, EAGAIN),
                }
            }
            match n.b.recv(servers[i], &mut buf, 0) {
                Ok(r) => at_server[i].extend_from_slice(&buf[..r.len]),
                Err(e) => assert_eq!(e, EAGAIN),
            }
            if echoed[i] < at_server[i].len() {
                match n.b.send(servers[i], &at_server[i][echoed[i]..], None) {
                    Ok(k) => echoed[i] += k,
                    Err(e) => assert_eq!(e, EAGAIN),
                }
            }
            match n.a.recv(clients[i], &mut buf, 0) {
                Ok(r) => back[i].extend_from_slice(&buf[..r.len]),
                Err(e) => assert_eq!(e, EAGAIN),
            }
        }
        back.iter().all(|b| b.len() == 65536)
    });
    for i in 0..64 {
        assert!(back[i] == data[i], "client {i} got its own bytes back");
    }
    let mut firsts: Vec<&[u8]> = at_server.iter().map(|d| &d[..16]).collect();
    firsts.sort();
    firsts.dedup();
    assert_eq!(
        firsts.len(),
        64,
        "each server socket got one client's stream"
    );
}

#[test]
fn small_backlog_drops_syns_and_clients_retry() {
    let mut net = Net::new();
    let l = tcp4(&mut net.b);
    net.b.bind(l, v4(B_IP, 81)).unwrap();
    net.b.listen(l, 4).unwrap();
    let clients: Vec<SocketId> = (0..20)
        .map(|_| {
            let c = tcp4(&mut net.a);
            let _ = net.a.connect(c, v4(B_IP, 81));
            c
        })
        .collect();
    let mut accepted = 0;
    net.until(60_000, |n| {
        while n.b.accept(l).is_ok() {
            accepted += 1;
        }
        accepted == 20
    });
    for &c in &clients {
        assert_eq!(net.a.connect_result(c), Some(Ok(())));
    }
}

#[test]
fn connect_to_closed_port_is_refused() {
    let mut net = Net::new();
    let c = tcp4(&mut net.a);
    assert_eq!(net.a.connect(c, v4(B_IP, 9)), Err(EINPROGRESS));
    assert_eq!(net.a.poll_bits(c), 0);
    assert_eq!(net.a.connect(c, v4(B_IP, 9)), Err(EALREADY));
    net.until(1000, |n| n.a.poll_bits(c) != 0);
    let bits = net.a.poll_bits(c);
    assert_eq!(
        bits & (POLLERR | POLLHUP | POLLOUT),
        POLLERR | POLLHUP | POLLOUT
    );
    let mut v = [0u8; 4];
    assert_eq!(net.a.getsockopt(c, SOL_SOCKET, SO_ERROR, &mut v), Ok(4));
    assert_eq!(i32::from_ne_bytes(v), ECONNREFUSED.0);
    assert_eq!(net.a.poll_bits(c) & POLLERR, 0);
    // The socket is unconnected again: the next connect reports the failure (its
    // error was taken: ECONNABORTED), the one after starts over, as on Linux.
    assert_eq!(net.a.connect(c, v4(B_IP, 9)), Err(ECONNABORTED));
    let l = tcp4(&mut net.b);
    net.b.bind(l, v4(B_IP, 9)).unwrap();
    net.b.listen(l, 1).unwrap();
    assert_eq!(net.a.connect(c, v4(B_IP, 9)), Err(EINPROGRESS));
    net.until(1000, |n| n.a.connect_result(c).is_some());
    assert!(net.b.accept(l).is_ok());
}

#[test]
fn nonblocking_connect_then_writable() {
    let mut net = Net::new();
    let l = tcp4(&mut net.b);
    net.b.bind(l, v4(B_IP, 80)).unwrap();
    net.b.listen(l, 1).unwrap();
    assert_eq!(net.b.poll_bits(l), 0);
    let c = tcp4(&mut net.a);
    assert_eq!(net.a.poll_bits(c), POLLOUT | POLLHUP, "fresh socket");
    assert_eq!(net.a.connect(c, v4(B_IP, 80)), Err(EINPROGRESS));
    assert_eq!(net.a.connect_result(c), None);
    assert_eq!(net.a.peer_addr(c), Err(ENOTCONN));
    assert_eq!(net.a.send(c, b"x", None), Err(EAGAIN));
    let g0 = net.a.generation(c);
    net.until(1000, |n| n.a.poll_bits(c) & POLLOUT != 0);
    assert_eq!(net.a.poll_bits(c), POLLOUT);
    assert!(net.a.generation(c) > g0);
    assert_eq!(net.a.take_error(c), Ok(None));
    assert_eq!(net.a.connect(c, v4(B_IP, 80)), Err(EISCONN));
    assert_eq!(net.a.peer_addr(c), Ok(v4(B_IP, 80)));
    net.until(100, |n| n.b.poll_bits(l) == POLLIN);
    let (s, _) = net.b.accept(l).unwrap();
    assert_eq!(net.b.poll_bits(l), 0);
    assert_eq!(net.b.poll_bits(s), POLLOUT);
    assert_eq!(net.b.local_addr(s), Ok(v4(B_IP, 80)));
    let mut buf = [0u8; 8];
    assert_eq!(net.b.recv(s, &mut buf, 0), Err(EAGAIN));
    let g = net.b.generation(s);
    net.a.send(c, b"hello", None).unwrap();
    net.until(100, |n| n.b.poll_bits(s) & POLLIN != 0);
    assert!(net.b.generation(s) > g);
    assert_eq!(net.b.bytes_readable(s), Ok(5));
    assert_eq!(net.b.recv(s, &mut buf, MSG_PEEK).unwrap().len, 5);
    assert_eq!(net.b.recv(s, &mut buf, 0).unwrap().len, 5);
    assert_eq!(&buf[..5], b"hello");
    assert_eq!(net.b.poll_bits(s), POLLOUT);
}

#[test]
fn shutdown_and_eof() {
    let mut net = Net::new();
    let (l, c, s) = connected(&mut net, 5000);
    net.a.send(c, b"last words", None).unwrap();
    net.a.shutdown(c, Shutdown::Write).unwrap();
    assert_eq!(net.a.send(c, b"more", None), Err(EPIPE));
    assert_eq!(net.a.poll_bits(c) & POLLOUT, POLLOUT);
    net.until(100, |n| n.b.poll_bits(s) & POLLRDHUP != 0);
    assert_eq!(net.b.poll_bits(s), POLLIN | POLLOUT | POLLRDHUP);
    let mut buf = [0u8; 64];
    assert_eq!(net.b.recv(s, &mut buf, 0).unwrap().len, 10);
    assert_eq!(net.b.recv(s, &mut buf, 0).unwrap().len, 0, "EOF");
    assert_eq!(net.b.recv(s, &mut buf, 0).unwrap().len, 0, "EOF again");
    // The other direction still works.
    net.b.send(s, b"reply", None).unwrap();
    net.until(100, |n| n.a.poll_bits(c) & POLLIN != 0);
    assert_eq!(net.a.recv(c, &mut buf, 0).unwrap().len, 5);
    net.b.close(s).unwrap();
    net.until(100, |n| n.a.poll_bits(c) & POLLHUP != 0);
    assert_eq!(net.a.recv(c, &mut buf, 0).unwrap().len, 0);
    assert_eq!(net.a.take_error(c), Ok(None));
    net.a.close(c).unwrap();
    net.b.close(l).unwrap();
    net.run(20);
    // Closing an unknown id.
    assert_eq!(net.a.close(c), Err(EBADF));
}

#[test]
fn reset_gives_econnreset_once() {
    let mut net = Net::new();
    let (_l, c, s) = connected(&mut net, 5001);
    let lin = [1i32.to_ne_bytes(), 0i32.to_ne_bytes()].concat();
    net.b.setsockopt(s, SOL_SOCKET, SO_LINGER, &lin).unwrap();
    net.b.close(s).unwrap();
    net.until(100, |n| n.a.poll_bits(c) & POLLERR != 0);
    assert_eq!(
        net.a.poll_bits(c),
        POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDHUP
    );
    let mut buf = [0u8; 4];
    assert_eq!(net.a.recv(c, &mut buf, 0), Err(ECONNRESET));
    assert_eq!(net.a.recv(c, &mut buf, 0).unwrap().len, 0);
    assert_eq!(net.a.send(c, b"x", None), Err(EPIPE));
}

#[test]
fn bind_rules() {
    let mut net = Net::new();
    let b = &mut net.b;
    let x = tcp4(b);
    let y = tcp4(b);
    b.bind(x, v4(B_IP, 4000)).unwrap();
    assert_eq!(b.bind(x, v4(B_IP, 4001)), Err(EINVAL), "bound twice");
    assert_eq!(b.bind(y, v4(B_IP, 4000)), Err(EADDRINUSE));
    assert_eq!(
        b.bind(y, v4(std::net::Ipv4Addr::UNSPECIFIED, 4000)),
        Err(EADDRINUSE)
    );
    assert_eq!(b.bind(y, v4(A_IP, 4002)), Err(EADDRNOTAVAIL));
    // UDP has its own port space.
    let u = udp4(b);
    b.bind(u, v4(B_IP, 4000)).unwrap();
    // SO_REUSEPORT on both.
    let one = 1i32.to_ne_bytes();
    let p = tcp4(b);
    let q = tcp4(b);
    b.setsockopt(p, SOL_SOCKET, SO_REUSEPORT, &one).unwrap();
    b.setsockopt(q, SOL_SOCKET, SO_REUSEPORT, &one).unwrap();
    b.bind(p, v4(B_IP, 4100)).unwrap();
    b.bind(q, v4(B_IP, 4100)).unwrap();
    // Port 0: ephemeral.
    let e = tcp4(b);
    b.bind(e, v4(B_IP, 0)).unwrap();
    let port = b.local_addr(e).unwrap().port();
    assert!((32768..=60999).contains(&port));
    // unbound getsockname
    let f = tcp4(b);
    assert_eq!(b.local_addr(f), Ok(v4(std::net::Ipv4Addr::UNSPECIFIED, 0)));
    assert_eq!(b.accept(f), Err(EINVAL));
    let mut buf = [0u8; 4];
    assert_eq!(b.recv(f, &mut buf, 0), Err(ENOTCONN));
    assert_eq!(b.send(f, b"x", None), Err(EPIPE));
    assert_eq!(b.shutdown(f, Shutdown::Both), Err(ENOTCONN));
}

#[test]
fn reuseaddr_after_close() {
    let mut net = Net::new();
    let (l, c, s) = connected(&mut net, 6000);
    // Server closes first: its side goes through FIN_WAIT/TIME_WAIT holding the port.
    net.b.close(s).unwrap();
    net.b.close(l).unwrap();
    net.run(20);
    net.a.close(c).unwrap();
    net.run(20);
    let again = tcp4(&mut net.b);
    assert_eq!(net.b.bind(again, v4(B_IP, 6000)), Err(EADDRINUSE));
    net.b
        .setsockopt(again, SOL_SOCKET, SO_REUSEADDR, &1i32.to_ne_bytes())
        .unwrap();
    net.b.bind(again, v4(B_IP, 6000)).unwrap();
    net.b.listen(again, 8).unwrap();
}

#[test]
fn options_round_trip() {
    let mut net = Net::new();
    let (_l, c, _s) = connected(&mut net, 6100);
    let a = &mut net.a;
    let mut v = [0u8; 4];
    a.setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &1i32.to_ne_bytes())
        .unwrap();
    a.getsockopt(c, IPPROTO_TCP, TCP_NODELAY, &mut v).unwrap();
    assert_eq!(i32::from_ne_bytes(v), 1);
    a.setsockopt(c, SOL_SOCKET, SO_KEEPALIVE, &1i32.to_ne_bytes())
        .unwrap();
    a.getsockopt(c, SOL_SOCKET, SO_RCVBUF, &mut v).unwrap();
    assert_eq!(i32::from_ne_bytes(v), 131072);
    a.setsockopt(c, SOL_SOCKET, SO_SNDBUF, &65536i32.to_ne_bytes())
        .unwrap();
    a.getsockopt(c, SOL_SOCKET, SO_SNDBUF, &mut v).unwrap();
    assert_eq!(i32::from_ne_bytes(v), 131072);
    a.getsockopt(c, SOL_SOCKET, SO_TYPE, &mut v).unwrap();
    assert_eq!(i32::from_ne_bytes(v), SOCK_STREAM);
    assert_eq!(a.setsockopt(c, SOL_SOCKET, 9999, &v), Err(ENOPROTOOPT));
    assert_eq!(
        a.setsockopt(c, IPPROTO_IPV6, IPV6_V6ONLY, &v),
        Err(ENOPROTOOPT)
    );
    // Accepted (glibc's resolver gives up without it), reported back.
    a.setsockopt(c, IPPROTO_IP, IP_RECVERR, &1i32.to_ne_bytes())
        .unwrap();
    a.getsockopt(c, IPPROTO_IP, IP_RECVERR, &mut v).unwrap();
    assert_eq!(i32::from_ne_bytes(v), 1);
    let mut lin = [0u8; 8];
    assert_eq!(a.getsockopt(c, SOL_SOCKET, SO_LINGER, &mut lin), Ok(8));
    assert_eq!(lin, [0; 8]);
}

fn lo_echo(fam: Family, addr: SockAddr) {
    let mut st: Stack<WireEnd> = Stack::new(9, 0);
    let l = st.socket(fam, SockType::Stream).unwrap();
    st.bind(l, addr).unwrap();
    st.listen(l, 4).unwrap();
    let c = st.socket(fam, SockType::Stream).unwrap();
    assert_eq!(st.connect(c, addr), Err(EINPROGRESS));
    let mut t = 0;
    while st.connect_result(c).is_none() {
        st.poll(t);
        t += 1;
        assert!(t < 100);
    }
    let (s, peer) = st.accept(l).unwrap();
    assert_eq!(peer, st.local_addr(c).unwrap());
    let data = pattern(300_000, 3);
    let (mut sent, mut got) = (0, Vec::new());
    let mut buf = vec![0u8; 65536];
    while got.len() < data.len() {
        if let Ok(k) = st.send(c, &data[sent..], None) {
            sent += k;
        }
        st.poll(t);
        t += 1;
        if let Ok(r) = st.recv(s, &mut buf, 0) {
            got.extend_from_slice(&buf[..r.len]);
        }
        assert!(t < 10_000);
    }
    assert!(got == data);
}

#[test]
fn loopback_v4() {
    lo_echo(Family::Inet, v4(std::net::Ipv4Addr::LOCALHOST, 1234));
}

#[test]
fn loopback_v6() {
    lo_echo(
        Family::Inet6,
        SockAddr::v6(std::net::Ipv6Addr::LOCALHOST, 1234),
    );
}

#[test]
fn ipv6_over_the_wire_and_mapped_v4() {
    let mut net = Net::new();
    let l = net.b.socket(Family::Inet6, SockType::Stream).unwrap();
    net.b
        .bind(l, SockAddr::v6(std::net::Ipv6Addr::UNSPECIFIED, 443))
        .unwrap();
    net.b.listen(l, 8).unwrap();
    let c6 = net.a.socket(Family::Inet6, SockType::Stream).unwrap();
    let _ = net
        .a
        .connect(c6, SockAddr::v6("fd00::2".parse().unwrap(), 443));
    let c4 = tcp4(&mut net.a);
    let _ = net.a.connect(c4, v4(B_IP, 443));
    // smoltcp sends one neighbor request per second: the second waits.
    net.until(3000, |n| {
        n.a.connect_result(c6).is_some() && n.a.connect_result(c4).is_some()
    });
    let (_, p1) = net.b.accept(l).unwrap();
    let (_, p2) = net.b.accept(l).unwrap();
    let mut peers = [p1, p2];
    peers.sort_by_key(|p| p.ip().is_ipv4());
    assert_eq!(
        peers[0].ip(),
        "fd00::1".parse::<std::net::IpAddr>().unwrap()
    );
    // The IPv4 peer is reported as ::ffff:10.0.0.1 to the AF_INET6 socket.
    match peers[1] {
        SockAddr::V6 { addr, .. } => assert_eq!(addr, A_IP.to_ipv6_mapped()),
        _ => panic!("v4 peer of an AF_INET6 listener must be mapped"),
    }
}

/// An AF_INET6 TCP socket, with IPV6_V6ONLY if `only`.
fn tcp6(st: &mut Stack<WireEnd>, only: bool) -> SocketId {
    let s = st.socket(Family::Inet6, SockType::Stream).unwrap();
    st.setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &(only as i32).to_ne_bytes())
        .unwrap();
    s
}

/// Connects a new `fam` client to `to` over lo; the connect result.
fn lo_connect(
    st: &mut Stack<WireEnd>,
    t: &mut u64,
    fam: Family,
    to: SockAddr,
) -> Result<(), Errno> {
    let c = st.socket(fam, SockType::Stream).unwrap();
    assert_eq!(st.connect(c, to), Err(EINPROGRESS));
    for _ in 0..200 {
        st.poll(*t);
        *t += 1;
        if let Some(r) = st.connect_result(c) {
            return r;
        }
    }
    panic!("connect to {to:?} neither completed nor failed");
}

#[test]
fn v6only_wildcard_binds_next_to_the_ipv4_wildcard_and_each_gets_its_family() {
    use std::net::{Ipv4Addr, Ipv6Addr};
    let mut st: Stack<WireEnd> = Stack::new(9, 0);
    let any4 = v4(Ipv4Addr::UNSPECIFIED, 6379);
    let any6 = SockAddr::v6(Ipv6Addr::UNSPECIFIED, 6379);
    let l4 = tcp4(&mut st);
    st.bind(l4, any4).unwrap();
    st.listen(l4, 16).unwrap();
    // Without V6ONLY the IPv6 wildcard takes IPv4 too: clash.
    let both = tcp6(&mut st, false);
    assert_eq!(st.bind(both, any6), Err(EADDRINUSE));
    let l6 = tcp6(&mut st, true);
    st.bind(l6, any6).unwrap();
    st.listen(l6, 16).unwrap();
    // A V6ONLY socket still clashes with another IPv6 wildcard.
    let again = tcp6(&mut st, true);
    assert_eq!(st.bind(again, any6), Err(EADDRINUSE));
    // Whichever armed listener smoltcp hands a SYN to, each family is accepted by its
    // own listener.
    let mut t = 0;
    for _ in 0..4 {
        lo_connect(&mut st, &mut t, Family::Inet, v4(Ipv4Addr::LOCALHOST, 6379)).unwrap();
        lo_connect(
            &mut st,
            &mut t,
            Family::Inet6,
            SockAddr::v6(Ipv6Addr::LOCALHOST, 6379),
        )
        .unwrap();
    }
    for _ in 0..4 {
        let (_, p4) = st.accept(l4).unwrap();
        assert!(matches!(p4, SockAddr::V4 { .. }), "{p4:?}");
        let (_, p6) = st.accept(l6).unwrap();
        assert_eq!(p6.ip(), std::net::IpAddr::V6(Ipv6Addr::LOCALHOST));
    }
    assert_eq!(st.accept(l4), Err(EAGAIN));
    assert_eq!(st.accept(l6), Err(EAGAIN));
}

#[test]
fn ipv6_wildcard_first_then_ipv4_wildcard() {
    use std::net::{Ipv4Addr, Ipv6Addr};
    let mut st: Stack<WireEnd> = Stack::new(9, 0);
    let l6 = tcp6(&mut st, false);
    st.bind(l6, SockAddr::v6(Ipv6Addr::UNSPECIFIED, 80))
        .unwrap();
    let l4 = tcp4(&mut st);
    assert_eq!(st.bind(l4, v4(Ipv4Addr::UNSPECIFIED, 80)), Err(EADDRINUSE));
    let l6only = tcp6(&mut st, true);
    st.bind(l6only, SockAddr::v6(Ipv6Addr::UNSPECIFIED, 81))
        .unwrap();
    st.bind(l4, v4(Ipv4Addr::UNSPECIFIED, 81)).unwrap();
}

/// A connect to a port of this host that nothing listens on is refused at once (as
/// Linux's loopback answers before connect returns); once something listens, the same
/// socket connects.
#[test]
fn connect_to_own_unlistened_port_is_refused_at_once() {
    use std::net::Ipv4Addr;
    let mut st: Stack<WireEnd> = Stack::new(9, 0);
    let l = st.socket(Family::Inet, SockType::Stream).unwrap();
    let addr = v4(Ipv4Addr::LOCALHOST, 4321);
    st.bind(l, addr).unwrap();
    let c = st.socket(Family::Inet, SockType::Stream).unwrap();
    assert_eq!(st.connect(c, addr), Err(ECONNREFUSED));
    st.listen(l, 4).unwrap();
    assert_eq!(st.connect(c, addr), Err(EINPROGRESS));
    let mut t = 0;
    while st.connect_result(c).is_none() {
        st.poll(t);
        t += 1;
        assert!(t < 100);
    }
    assert_eq!(st.connect_result(c), Some(Ok(())));
    assert!(st.accept(l).is_ok());
    let c6 = st.socket(Family::Inet6, SockType::Stream).unwrap();
    assert_eq!(
        st.connect(c6, SockAddr::v6(std::net::Ipv6Addr::LOCALHOST, 4322)),
        Err(ECONNREFUSED)
    );
}

#[test]
fn ipv4_syn_to_a_v6only_listener_is_reset() {
    use std::net::{Ipv4Addr, Ipv6Addr};
    let mut st: Stack<WireEnd> = Stack::new(9, 0);
    let l6 = tcp6(&mut st, true);
    st.bind(l6, SockAddr::v6(Ipv6Addr::UNSPECIFIED, 8080))
        .unwrap();
    st.listen(l6, 16).unwrap();
    let mut t = 0;
    assert_eq!(
        lo_connect(&mut st, &mut t, Family::Inet, v4(Ipv4Addr::LOCALHOST, 8080)),
        Err(ECONNREFUSED)
    );
    assert_eq!(st.accept(l6), Err(EAGAIN));
    // The listener still works for its own family.
    lo_connect(
        &mut st,
        &mut t,
        Family::Inet6,
        SockAddr::v6(Ipv6Addr::LOCALHOST, 8080),
    )
    .unwrap();
    assert!(st.accept(l6).is_ok());
}

/// Reads what has arrived on `s` (nothing: empty).
fn drain(st: &mut Stack<WireEnd>, s: SocketId) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 65536];
    while let Ok(r) = st.recv(s, &mut buf, 0) {
        if r.len == 0 {
            break;
        }
        out.extend_from_slice(&buf[..r.len]);
    }
    out
}

#[test]
fn tcp_cork_holds_partial_segments_until_uncorked_full_or_200_ms() {
    let mut net = Net::new();
    let (_l, c, s) = connected(&mut net, 6200);
    let on = 1i32.to_ne_bytes();
    let off = 0i32.to_ne_bytes();
    net.a.setsockopt(c, IPPROTO_TCP, TCP_CORK, &on).unwrap();
    let mut v = [0u8; 4];
    net.a.getsockopt(c, IPPROTO_TCP, TCP_CORK, &mut v).unwrap();
    assert_eq!(i32::from_ne_bytes(v), 1);

    // A small write is held back, then uncorking sends it at once.
    assert_eq!(net.a.send(c, b"headers", None), Ok(7));
    net.run(50);
    assert!(drain(&mut net.b, s).is_empty(), "corked bytes went out");
    net.a.setsockopt(c, IPPROTO_TCP, TCP_CORK, &off).unwrap();
    net.run(5);
    assert_eq!(drain(&mut net.b, s), b"headers");

    // Full segments go out while corked; the tail waits for the 200 ms limit.
    net.a.setsockopt(c, IPPROTO_TCP, TCP_CORK, &on).unwrap();
    let data = pattern(3000, 5);
    assert_eq!(net.a.send(c, &data, None), Ok(3000));
    net.run(20);
    let first = drain(&mut net.b, s);
    assert_eq!(first.len(), 2920, "two full segments, not the 80-byte tail");
    net.run(100);
    assert!(
        drain(&mut net.b, s).is_empty(),
        "the tail left before 200 ms"
    );
    net.run(120);
    let tail = drain(&mut net.b, s);
    assert_eq!([first, tail].concat(), data);

    // TCP_NODELAY pushes what the cork holds; closing sends the rest before the FIN.
    assert_eq!(net.a.send(c, b"x", None), Ok(1));
    net.a.setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &on).unwrap();
    net.run(5);
    assert_eq!(drain(&mut net.b, s), b"x");
    assert_eq!(net.a.send(c, b"bye", None), Ok(3));
    net.a.close(c).unwrap();
    net.run(10);
    let mut buf = [0u8; 16];
    let r = net.b.recv(s, &mut buf, 0).unwrap();
    assert_eq!(&buf[..r.len], b"bye");
    assert_eq!(
        net.b.recv(s, &mut buf, 0).map(|r| r.len),
        Ok(0),
        "EOF after the data"
    );
}

/// nginx's calls per request (read, cork, corked writes, uncork) leave the stack
/// clean until the uncork, so the kernel only settles readiness after them
/// (`Stack::settle`) and polls once to send; settling updates the connection's
/// readiness as a poll would and leaves the listener listed for the next poll.
#[test]
fn calls_that_queue_nothing_leave_the_stack_clean() {
    let mut net = Net::new();
    let (l, c, s) = connected(&mut net, 6250);
    let on = 1i32.to_ne_bytes();
    let off = 0i32.to_ne_bytes();
    for round in 0..3 {
        assert_eq!(net.a.send(c, b"GET / HTTP/1.1\r\n\r\n", None), Ok(18));
        net.until(100, |n| n.b.ready_bits(s) & POLLIN != 0);
        assert!(!net.b.needs_poll(), "round {round}: the poll left work");
        let mut buf = [0u8; 1024];
        assert_eq!(net.b.recv(s, &mut buf, 0).map(|r| r.len), Ok(18));
        assert!(!net.b.needs_poll(), "a small read opens no window");
        net.b.settle(net.now);
        assert_eq!(net.b.ready_bits(s) & POLLIN, 0, "settled: read");
        net.b.setsockopt(s, IPPROTO_TCP, TCP_CORK, &on).unwrap();
        assert!(!net.b.needs_poll(), "setting the cork queues nothing");
        assert_eq!(net.b.send(s, b"headers ", None), Ok(8));
        assert_eq!(net.b.send(s, b"body", None), Ok(4));
        assert!(!net.b.needs_poll(), "corked bytes queue nothing");
        net.b.settle(net.now);
        net.b.setsockopt(s, IPPROTO_TCP, TCP_CORK, &off).unwrap();
        assert!(net.b.needs_poll(), "uncorking queues the held bytes");
        net.run(5);
        assert_eq!(drain(&mut net.a, c), b"headers body");
    }
    // A connection arriving while only settles ran still reaches the listener.
    let c2 = tcp4(&mut net.a);
    assert_eq!(net.a.connect(c2, v4(B_IP, 6250)), Err(EINPROGRESS));
    net.b.settle(net.now);
    net.until(1000, |n| n.b.ready_bits(l) & POLLIN != 0);
    assert!(net.b.accept(l).is_ok());
}

/// send_room (what sendfile reads at most): the free send buffer, less what TCP_CORK
/// holds; exactly what a send then takes. None for sockets a send takes nothing from.
#[test]
fn send_room_is_what_a_send_takes() {
    let mut net = Net::new();
    let (l, c, s) = connected(&mut net, 6300);
    assert_eq!(net.b.send_room(l), None, "a listener");
    let room = net.a.send_room(c).unwrap();
    assert!(room > 0);
    let on = 1i32.to_ne_bytes();
    net.a.setsockopt(c, IPPROTO_TCP, TCP_CORK, &on).unwrap();
    assert_eq!(net.a.send(c, b"held", None), Ok(4));
    assert_eq!(net.a.send_room(c), Some(room - 4), "the corked bytes count");
    // Nobody reads on b: fill a's buffer up, then the room is what a send takes.
    let big = pattern(1 << 20, 1);
    let mut sent = 0;
    while let Ok(n) = net.a.send(c, &big[sent..], None) {
        sent += n;
        net.run(1);
    }
    assert_eq!(
        net.a.send_room(c),
        Some(0),
        "full: the last send said EAGAIN"
    );
    // b reads some: a's buffer empties as b acknowledges, and a send takes the room.
    drain(&mut net.b, s);
    net.run(50);
    let left = net.a.send_room(c).unwrap();
    assert!(left > 0);
    assert_eq!(net.a.send(c, &big[..left + 100], None), Ok(left));
    assert_eq!(net.a.send_room(c), Some(0));
    net.a.shutdown(c, Shutdown::Write).unwrap();
    assert_eq!(net.a.send_room(c), None, "shut down for writing");
    let u = udp4(&mut net.a);
    assert_eq!(net.a.send_room(u), None, "UDP");
}

/// A poll names the sockets whose readiness it changed (`Stack::woken`), so that the
/// kernel wakes only the threads blocked on those: data for one of two connections of
/// a listener wakes that connection's bit, not the other's.
#[test]
fn a_poll_wakes_only_the_sockets_it_changed() {
    let mut net = Net::new();
    let (l, c1, s1) = connected(&mut net, 7100);
    let c2 = tcp4(&mut net.a);
    assert_eq!(net.a.connect(c2, v4(B_IP, 7100)), Err(EINPROGRESS));
    net.until(1000, |n| {
        n.a.connect_result(c2).is_some() && n.b.poll_bits(l) & POLLIN != 0
    });
    let (s2, _) = net.b.accept(l).unwrap();
    net.run(100);
    assert_ne!(wait_bit(s1), wait_bit(s2));
    assert_eq!(net.a.send(c1, b"x", None), Ok(1));
    net.a.poll(net.now);
    assert!(net.b.poll(net.now), "the byte arrived");
    let w = net.b.woken();
    assert!(!w.all);
    assert_eq!(
        w.sockets & wait_bit(s1),
        wait_bit(s1),
        "its connection is woken"
    );
    assert_eq!(w.sockets & wait_bit(s2), 0, "the other one is not");
    assert_ne!(net.b.poll_bits(s1) & POLLIN, 0);
}

/// A connection whose send buffer filled up becomes writable again (POLLOUT, and a
/// wake-up) only once a third of it has been acknowledged, as on Linux
/// (`__sk_stream_is_writeable`: free space at least half of what is queued); the
/// acknowledgments before that wake nobody.
#[test]
fn a_full_send_buffer_is_writable_again_after_a_third_is_acknowledged() {
    let mut net = Net::new();
    let (_l, c, s) = connected(&mut net, 7200);
    assert_ne!(net.a.poll_bits(c) & POLLOUT, 0, "empty: writable");
    // Nobody reads on b yet: fill a's send buffer.
    let big = pattern(1 << 20, 3);
    let mut sent = 0;
    while net.a.send_room(c) != Some(0) {
        while let Ok(n) = net.a.send(c, &big[sent..], None) {
            sent += n;
            net.run(1);
        }
        net.run(50); // b's window fills too
    }
    // The send buffer's size: what is queued when it is full.
    let cap = DEFAULT_SNDBUF / 2;
    assert_eq!(net.a.poll_bits(c) & POLLOUT, 0, "full: not writable");
    // b reads a little at a time; a's buffer drains as b acknowledges it.
    let mut got = Vec::new();
    let mut buf = vec![0u8; 1024];
    let mut woken_before = 0;
    loop {
        let r = net.b.recv(s, &mut buf, 0).unwrap();
        assert!(r.len > 0, "b has a's bytes");
        got.extend_from_slice(&buf[..r.len]);
        net.b.poll(net.now);
        let changed = net.a.poll(net.now);
        let woken = changed && net.a.woken().sockets & wait_bit(c) != 0;
        let room = net.a.send_room(c).unwrap();
        let queued = cap - room;
        let writable = net.a.poll_bits(c) & POLLOUT != 0;
        assert_eq!(
            writable,
            room > 0 && room >= queued / 2,
            "POLLOUT with {room} free and {queued} queued"
        );
        if writable {
            assert!(woken, "becoming writable wakes the connection's waiters");
            assert!(room * 3 >= cap - 2, "a third free ({room} of {cap})");
            break;
        }
        if room > 0 {
            woken_before += woken as usize;
        }
        net.run(1);
    }
    assert_eq!(
        woken_before, 0,
        "an ACK that left it unwritable woke a waiter"
    );
    assert_eq!(got, big[..got.len()]);
}

/// `Stack::set_tcp_send_buffer` sizes the send buffers of the connections made after
/// it, accepted or connected (within 64 KiB and 512 KiB); SO_SNDBUF set on a socket
/// sizes its own instead; the connections made before keep theirs.
#[test]
fn the_stacks_send_buffer_size_applies_to_new_connections_unless_sndbuf_is_set() {
    use rumprun_net::stack::{TCP_SEND_BUFFER_MAX, TCP_SEND_BUFFER_MIN};
    let mut net = Net::new();
    let (l, c0, _s0) = connected(&mut net, 7300);
    assert_eq!(net.a.send_room(c0), Some(TCP_SEND_BUFFER_MIN));
    net.a.set_tcp_send_buffer(300 << 10);
    net.b.set_tcp_send_buffer(100 << 30); // more than the largest
                                          // b's listener was armed before: the next connection it accepts has the old
                                          // size, the one after the new.
    let accept = |net: &mut Net, c| {
        assert_eq!(net.a.connect(c, v4(B_IP, 7300)), Err(EINPROGRESS));
        net.until(1000, |n| {
            n.a.connect_result(c).is_some() && n.b.poll_bits(l) & POLLIN != 0
        });
        net.b.accept(l).unwrap().0
    };
    let c1 = tcp4(&mut net.a);
    let s1 = accept(&mut net, c1);
    assert_eq!(net.a.send_room(c1), Some(300 << 10), "connected after");
    assert_eq!(
        net.b.send_room(s1),
        Some(TCP_SEND_BUFFER_MIN),
        "armed before"
    );
    let c2 = tcp4(&mut net.a);
    let v = (40000i32).to_ne_bytes();
    net.a.setsockopt(c2, SOL_SOCKET, SO_SNDBUF, &v).unwrap();
    let s2 = accept(&mut net, c2);
    assert_eq!(
        net.a.send_room(c2),
        Some(40000),
        "SO_SNDBUF's size (reported 80000)"
    );
    assert_eq!(
        net.b.send_room(s2),
        Some(TCP_SEND_BUFFER_MAX),
        "armed after"
    );
    assert_eq!(
        net.a.send_room(c0),
        Some(TCP_SEND_BUFFER_MIN),
        "made before"
    );
    // A big send queues as much as the buffer holds.
    let big = pattern(1 << 20, 9);
    assert_eq!(net.b.send(s2, &big, None), Ok(TCP_SEND_BUFFER_MAX));
    net.b.set_tcp_send_buffer(0);
    let c3 = tcp4(&mut net.a);
    let s3 = accept(&mut net, c3);
    assert_eq!(
        net.b.send_room(s3),
        Some(TCP_SEND_BUFFER_MAX),
        "armed before"
    );
    let c4 = tcp4(&mut net.a);
    let s4 = accept(&mut net, c4);
    assert_eq!(
        net.b.send_room(s4),
        Some(TCP_SEND_BUFFER_MIN),
        "less than the smallest"
    );
}

/// getsockopt(SO_SNDBUF) on TCP reports twice the send buffer the socket really has
/// (Linux's doubling), not a fixed 131072: a connection its own buffer's size whatever
/// the default has become since, an unconnected socket and a listener the size their
/// next connection gets, SO_SNDBUF set before connecting twice what was set, and set
/// on a connection twice what was set, which then bounds what it queues.
#[test]
fn so_sndbuf_reports_the_send_buffer_a_tcp_socket_has() {
    use rumprun_net::stack::{TCP_SEND_BUFFER_MAX, TCP_SEND_BUFFER_MIN};
    let sndbuf = |s: &mut Stack<WireEnd>, id| {
        let mut v = [0u8; 4];
        assert_eq!(s.getsockopt(id, SOL_SOCKET, SO_SNDBUF, &mut v), Ok(4));
        i32::from_ne_bytes(v) as usize
    };
    let mut net = Net::new();
    let (l, c0, s0) = connected(&mut net, 7310);
    assert_eq!(sndbuf(&mut net.a, c0), 2 * TCP_SEND_BUFFER_MIN);
    assert_eq!(sndbuf(&mut net.b, s0), 2 * TCP_SEND_BUFFER_MIN);
    net.a.set_tcp_send_buffer(300 << 10);
    net.b.set_tcp_send_buffer(TCP_SEND_BUFFER_MAX);
    assert_eq!(
        sndbuf(&mut net.a, c0),
        2 * TCP_SEND_BUFFER_MIN,
        "made before"
    );
    let c1 = tcp4(&mut net.a);
    assert_eq!(sndbuf(&mut net.a, c1), 600 << 10, "not yet connected");
    // b's listener was armed before the change: its next connection has the old size.
    assert_eq!(
        sndbuf(&mut net.b, l),
        2 * TCP_SEND_BUFFER_MIN,
        "armed before"
    );
    assert_eq!(net.a.connect(c1, v4(B_IP, 7310)), Err(EINPROGRESS));
    net.until(1000, |n| {
        n.a.connect_result(c1).is_some() && n.b.poll_bits(l) & POLLIN != 0
    });
    let s1 = net.b.accept(l).unwrap().0;
    assert_eq!(sndbuf(&mut net.a, c1), 600 << 10);
    assert_eq!(net.a.send_room(c1), Some(300 << 10));
    assert_eq!(sndbuf(&mut net.b, s1), 2 * TCP_SEND_BUFFER_MIN);
    assert_eq!(
        sndbuf(&mut net.b, l),
        2 * TCP_SEND_BUFFER_MAX,
        "armed after"
    );
    // Set before connecting: twice what was set, and the buffer is that big.
    let c2 = tcp4(&mut net.a);
    let v = (40000i32).to_ne_bytes();
    net.a.setsockopt(c2, SOL_SOCKET, SO_SNDBUF, &v).unwrap();
    assert_eq!(sndbuf(&mut net.a, c2), 80000);
    // Set on a connection: smoltcp's buffer stays, but what the connection may queue
    // is what was set from then on, reported doubled (Linux's sk_sndbuf follows a
    // later SO_SNDBUF; asyncio's sendfile tests shrink it after connect).
    net.a.setsockopt(c1, SOL_SOCKET, SO_SNDBUF, &v).unwrap();
    assert_eq!(sndbuf(&mut net.a, c1), 80000);
    assert_eq!(net.a.send_room(c1), Some(40000));
    assert_eq!(net.a.send(c1, &[7u8; 50000], None), Ok(40000));
    assert_eq!(net.a.send_room(c1), Some(0));
    assert_eq!(net.a.send(c1, &[7u8; 10], None), Err(EAGAIN));
    assert_eq!(net.a.poll_bits(c1) & POLLOUT, 0, "not writable while full");
    // UDP keeps the reported value.
    let u = udp4(&mut net.a);
    assert_eq!(sndbuf(&mut net.a, u), 131072);
}

/// A source for `send_with` over `data` that gives at most `limit` bytes in all (then
/// says it has no more), counting the bytes it wrote.
fn source<'a>(data: &'a [u8], limit: usize) -> impl FnMut(&mut [u8]) -> usize + 'a {
    let mut at = 0;
    move |dst: &mut [u8]| {
        let n = dst.len().min(limit.min(data.len()) - at);
        dst[..n].copy_from_slice(&data[at..at + n]);
        at += n;
        n
    }
}

/// send_with (sendfile's page cache straight into the send buffer): takes what the
/// source writes, as many bytes as a send of the same bytes would, stops where the
/// source runs short, keeps TCP_CORK's hold of a partial segment (the tail goes to
/// the cork, whole segments to the send buffer), wraps around the send buffer's end;
/// every byte arrives once, in order. EOPNOTSUPP on UDP; EAGAIN when full.
#[test]
fn send_with_fills_the_send_buffer_in_place() {
    let mut net = Net::new();
    let (_l, c, s) = connected(&mut net, 7320);
    let data = pattern(3 << 20, 11);
    let mut expect = Vec::new();
    // A source that runs short: what it gave is what was sent.
    assert_eq!(
        net.a.send_with(c, 10000, &mut source(&data, 4321)),
        Ok(4321)
    );
    expect.extend_from_slice(&data[..4321]);
    // An empty source: nothing taken, EAGAIN (as a send that takes nothing).
    assert_eq!(net.a.send_with(c, 10, &mut source(&data, 0)), Err(EAGAIN));
    assert_eq!(net.a.send_with(c, 0, &mut source(&data, 0)), Ok(0));
    net.run(20);
    let got = drain(&mut net.b, s);
    assert_eq!(got, expect);
    let mut received = got.len();

    // Corked: 3000 bytes are two whole segments sent and an 80-byte tail held.
    let on = 1i32.to_ne_bytes();
    net.a.setsockopt(c, IPPROTO_TCP, TCP_CORK, &on).unwrap();
    let part = &data[4321..7321];
    assert_eq!(net.a.send_with(c, 3000, &mut source(part, 3000)), Ok(3000));
    expect.extend_from_slice(part);
    net.run(20);
    let got = drain(&mut net.b, s);
    assert_eq!(got.len(), 2920, "two full segments, not the 80-byte tail");
    assert_eq!(got, expect[received..received + 2920]);
    received += got.len();
    // Corked, short of a segment with the 80 held: all to the cork.
    let part = &data[7321..8321];
    assert_eq!(net.a.send_with(c, 1000, &mut source(part, 1000)), Ok(1000));
    expect.extend_from_slice(part);
    // Corked, the source short in the middle of the whole segments.
    let part = &data[8321..20000];
    assert_eq!(net.a.send_with(c, 11679, &mut source(part, 2000)), Ok(2000));
    expect.extend_from_slice(&part[..2000]);
    let off = 0i32.to_ne_bytes();
    net.a.setsockopt(c, IPPROTO_TCP, TCP_CORK, &off).unwrap();
    net.run(20);
    let got = drain(&mut net.b, s);
    assert_eq!(got, expect[received..]);
    received += got.len();

    // Bulk: until full (EAGAIN), reading on the other side, wrapping the buffer
    // around many times; every byte once, in order.
    let mut at = 10321;
    let mut bulk = Vec::new();
    while at < data.len() {
        match net
            .a
            .send_with(c, data.len() - at, &mut source(&data[at..], usize::MAX))
        {
            Ok(n) => {
                expect.extend_from_slice(&data[at..at + n]);
                at += n;
            }
            Err(EAGAIN) => {}
            Err(e) => panic!("send_with: {e:?}"),
        }
        net.run(2);
        bulk.extend(drain(&mut net.b, s));
    }
    net.run(200);
    bulk.extend(drain(&mut net.b, s));
    assert_eq!(received + bulk.len(), expect.len());
    assert!(bulk == expect[received..], "the bulk arrived altered");
    let u = udp4(&mut net.a);
    assert_eq!(
        net.a.send_with(u, 10, &mut source(&data, 10)),
        Err(EOPNOTSUPP)
    );
}

/// Every socket's readiness as the last poll left it (`ready_bits`) is what it is
/// now (`poll_bits`).
fn assert_ready_bits_current(s: &Stack<WireEnd>, ids: &[SocketId], when: &str) {
    for &id in ids {
        assert_eq!(s.ready_bits(id), s.poll_bits(id), "{when}: socket {id:?}");
    }
}

/// A poll recomputes the readiness of the connections that may have moved only (not
/// of every socket): among twenty connections, one moved by a received frame, by a
/// call on it (a read, a shutdown), or by its retransmission timer (its first
/// segment lost) has its new readiness after the poll that moved it, and wakes its
/// waiters; the others keep theirs.
#[test]
fn readiness_follows_frames_calls_and_timers_among_many_connections() {
    let mut net = Net::new();
    let l = listener(&mut net, 7300, 64);
    let mut cs = Vec::new();
    let mut ss = Vec::new();
    for _ in 0..20 {
        let c = tcp4(&mut net.a);
        assert_eq!(net.a.connect(c, v4(B_IP, 7300)), Err(EINPROGRESS));
        net.until(1000, |n| {
            n.a.connect_result(c).is_some() && n.b.poll_bits(l) & POLLIN != 0
        });
        cs.push(c);
        ss.push(net.b.accept(l).unwrap().0);
    }
    net.run(100);
    let mut all = ss.clone();
    all.push(l);
    assert_ready_bits_current(&net.b, &all, "settled");
    // A frame: data for connection 5.
    assert_eq!(net.a.send(cs[5], b"frame", None), Ok(5));
    net.a.poll(net.now);
    assert!(net.b.poll(net.now));
    assert_ne!(net.b.woken().sockets & wait_bit(ss[5]), 0);
    assert_ne!(net.b.ready_bits(ss[5]) & POLLIN, 0);
    assert_ready_bits_current(&net.b, &all, "after a frame");
    // A call: reading it all makes connection 5 unreadable again.
    let mut buf = [0u8; 16];
    assert_eq!(net.b.recv(ss[5], &mut buf, 0).map(|r| r.len), Ok(5));
    net.b.poll(net.now);
    assert_eq!(net.b.ready_bits(ss[5]) & POLLIN, 0);
    assert_ready_bits_current(&net.b, &all, "after a read");
    // A call that queues nothing: shutdown(SHUT_RD) of connection 7.
    net.b.shutdown(ss[7], Shutdown::Read).unwrap();
    net.b.poll(net.now);
    assert_ne!(net.b.ready_bits(ss[7]) & (POLLIN | POLLRDHUP), 0);
    assert_ready_bits_current(&net.b, &all, "after a shutdown");
    // A timer: connection 9's segment is lost on the wire; it arrives when A's
    // retransmission timer sends it again.
    net.run(50);
    assert_eq!(net.a.send(cs[9], b"again", None), Ok(5));
    net.a.poll(net.now);
    let wire = net.b.device_mut(2).unwrap();
    let mut lost = 0;
    while wire.take().is_some() {
        lost += 1;
    }
    assert_eq!(lost, 1, "the segment");
    net.run(5);
    assert_eq!(net.b.ready_bits(ss[9]) & POLLIN, 0, "lost, not yet resent");
    let start = net.now;
    net.until(5000, |n| n.b.ready_bits(ss[9]) & POLLIN != 0);
    assert!(net.now - start > 5, "resent by the timer");
    assert_ready_bits_current(&net.b, &all, "after a retransmission");
    assert_ready_bits_current(&net.a, &cs, "the clients");
    for (i, &s) in ss.iter().enumerate() {
        let readable = net.b.ready_bits(s) & POLLIN != 0;
        assert_eq!(readable, i == 7 || i == 9, "connection {i}");
    }
}
