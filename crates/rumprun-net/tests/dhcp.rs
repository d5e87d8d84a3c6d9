//! DHCPv4: the stack's client against a tiny DHCP server written here, speaking raw
//! Ethernet frames on the other end of the wire.

mod common;
use common::*;
use rumprun_net::smoltcp::phy::ChecksumCapabilities;
use rumprun_net::smoltcp::wire::{
    DhcpMessageType, DhcpPacket, DhcpRepr, EthernetAddress, EthernetFrame, EthernetProtocol,
    EthernetRepr, IpAddress, IpProtocol, Ipv4Packet, Ipv4Repr, UdpPacket, UdpRepr,
};
use rumprun_net::Stack;
use std::net::{IpAddr, Ipv4Addr};

const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 2);
const GIVEN: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 15);
const DNS: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 3);
const SERVER_MAC: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 0x99]);

/// Answers one DHCP frame: DISCOVER with OFFER, REQUEST with ACK.
fn serve(frame: &[u8]) -> Option<Vec<u8>> {
    let eth = EthernetFrame::new_checked(frame).ok()?;
    if eth.ethertype() != EthernetProtocol::Ipv4 {
        return None;
    }
    let ip = Ipv4Packet::new_checked(eth.payload()).ok()?;
    if ip.next_header() != IpProtocol::Udp {
        return None;
    }
    let udp = UdpPacket::new_checked(ip.payload()).ok()?;
    if udp.dst_port() != 67 {
        return None;
    }
    let pkt = DhcpPacket::new_checked(udp.payload()).ok()?;
    let req = DhcpRepr::parse(&pkt).ok()?;
    let message_type = match req.message_type {
        DhcpMessageType::Discover => DhcpMessageType::Offer,
        DhcpMessageType::Request => DhcpMessageType::Ack,
        _ => return None,
    };
    let mut dns = heapless::Vec::new();
    dns.push(DNS).unwrap();
    let reply = DhcpRepr {
        message_type,
        transaction_id: req.transaction_id,
        secs: 0,
        client_hardware_address: req.client_hardware_address,
        client_ip: Ipv4Addr::UNSPECIFIED,
        your_ip: GIVEN,
        server_ip: SERVER,
        router: Some(SERVER),
        subnet_mask: Some(Ipv4Addr::new(255, 255, 255, 0)),
        relay_agent_ip: Ipv4Addr::UNSPECIFIED,
        broadcast: false,
        requested_ip: None,
        client_identifier: None,
        server_identifier: Some(SERVER),
        parameter_request_list: None,
        dns_servers: Some(dns),
        max_size: None,
        lease_duration: Some(3600),
        renew_duration: None,
        rebind_duration: None,
        additional_options: &[],
    };
    let dlen = reply.buffer_len();
    let mut out = vec![0u8; 14 + 20 + 8 + dlen];
    let caps = ChecksumCapabilities::default();
    let mut f = EthernetFrame::new_unchecked(&mut out[..]);
    EthernetRepr {
        src_addr: SERVER_MAC,
        dst_addr: req.client_hardware_address,
        ethertype: EthernetProtocol::Ipv4,
    }
    .emit(&mut f);
    let mut ipp = Ipv4Packet::new_unchecked(f.payload_mut());
    Ipv4Repr {
        src_addr: SERVER,
        dst_addr: Ipv4Addr::BROADCAST,
        next_header: IpProtocol::Udp,
        payload_len: 8 + dlen,
        hop_limit: 64,
    }
    .emit(&mut ipp, &caps);
    let mut u = UdpPacket::new_unchecked(ipp.payload_mut());
    UdpRepr {
        src_port: 67,
        dst_port: 68,
    }
    .emit(
        &mut u,
        &IpAddress::Ipv4(SERVER),
        &IpAddress::Ipv4(Ipv4Addr::BROADCAST),
        dlen,
        |b| reply.emit(&mut DhcpPacket::new_unchecked(b)).unwrap(),
        &caps,
    );
    Some(out)
}

#[test]
fn dhcp_lease_is_applied() {
    let (client_end, server_end) = wire();
    let mut st = Stack::new(3, 0);
    let eth0 = st.add_interface("eth0", client_end, [2, 0, 0, 0, 0, 7]);
    assert_eq!(st.interface_index("eth0"), Some(eth0));
    st.start_dhcpv4(eth0).unwrap();
    let mut leased = false;
    for t in 0..10_000 {
        leased |= st.poll(t) && st.interfaces()[1].dhcp.is_some();
        while let Some(f) = server_end.take() {
            if let Some(r) = serve(&f) {
                server_end.put(r);
            }
        }
        if leased {
            break;
        }
    }
    let info = &st.interfaces()[1];
    assert_eq!(info.name, "eth0");
    let lease = info.dhcp.as_ref().expect("a lease");
    assert_eq!(lease.address, GIVEN);
    assert_eq!(lease.prefix_len, 24);
    assert_eq!(lease.router, Some(SERVER));
    assert_eq!(info.ipv4_gateway, Some(SERVER));
    assert!(info.addrs.contains(&(IpAddr::V4(GIVEN), 24)));
    assert_eq!(st.dns_servers(), vec![IpAddr::V4(DNS)]);
    assert_eq!(st.resolv_conf(), "nameserver 10.0.2.3\n");
    // lo is always there.
    let lo = &st.interfaces()[0];
    assert!(lo.loopback && lo.index == 1 && lo.name == "lo");
    assert!(lo.addrs.contains(&(IpAddr::V4(Ipv4Addr::LOCALHOST), 8)));
    // IPv6 auto: a link-local address from the MAC.
    st.enable_ipv6_auto(eth0).unwrap();
    let ll: IpAddr = "fe80::ff:fe00:7".parse().unwrap();
    assert!(st.interfaces()[1].addrs.contains(&(ll, 64)));
}
