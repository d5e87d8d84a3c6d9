//! Checksum offload: the packet logic behind a network card that computes and checks
//! TCP/UDP checksums (virtio-net's CSUM and GUEST_CSUM). It finds the TCP or UDP
//! segment of an Ethernet frame (IPv4, or IPv6 through its extension headers), writes
//! the pseudo-header sum a card completes on transmit, completes a partial checksum a
//! host left on a received frame, and verifies a received segment in software. Drivers
//! call it; it never touches a device.

const ETHERNET_HEADER_LEN: usize = 14;
const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const IPV6_HEADER_LEN: usize = 40;
const PROTOCOL_TCP: u8 = 6;
const PROTOCOL_UDP: u8 = 17;
/// IPv6 extension headers walked to reach the segment: hop-by-hop options, routing,
/// destination options (all sized `(byte 1 + 1) * 8`), and the fragment header.
const IPV6_HOP_BY_HOP: u8 = 0;
const IPV6_ROUTING: u8 = 43;
const IPV6_FRAGMENT: u8 = 44;
const IPV6_DESTINATION_OPTIONS: u8 = 60;

/// The transport protocols whose checksums a card can take over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// TCP: checksum at byte 16 of its header.
    Tcp,
    /// UDP: checksum at byte 6 of its header; 0 means "none" over IPv4.
    Udp,
}

impl Transport {
    fn from_protocol(protocol: u8) -> Option<Transport> {
        match protocol {
            PROTOCOL_TCP => Some(Transport::Tcp),
            PROTOCOL_UDP => Some(Transport::Udp),
            _ => None,
        }
    }

    /// Where the checksum field sits in the transport header.
    pub fn checksum_offset(self) -> usize {
        match self {
            Transport::Tcp => 16,
            Transport::Udp => 6,
        }
    }

    fn min_header_len(self) -> usize {
        match self {
            Transport::Tcp => 20,
            Transport::Udp => 8,
        }
    }
}

/// A whole TCP or UDP segment inside a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Its protocol.
    pub transport: Transport,
    /// Offset of its header in the frame.
    pub start: usize,
    /// Its length, header and payload (Ethernet padding after it excluded).
    pub len: usize,
    /// One's-complement sum of the IP pseudo-header (addresses, protocol, length),
    /// folded to 16 bits, not complemented.
    pub pseudo_header_sum: u16,
    /// Carried over IPv6, where a UDP checksum of 0 is not allowed.
    pub ipv6: bool,
}

/// What a frame carries, as far as checksum offload is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Contents {
    /// A whole TCP or UDP segment.
    Segment(Segment),
    /// One fragment of a TCP or UDP packet: its checksum covers the fragments together,
    /// so no single frame can be checked or completed.
    Fragment(Transport),
    /// Anything else (ARP, ICMP, other protocols, malformed or truncated packets).
    Other,
}

/// Where a card should complete a checksum the driver started (`prepare_transmit`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Partial {
    /// Offset in the frame where checksumming starts (the transport header).
    pub start: usize,
    /// Offset of the checksum field from `start`.
    pub offset: usize,
}

/// The software verdict on a received frame's transport checksum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The segment's checksum is right.
    Valid(Transport),
    /// The segment's checksum is wrong: drop the frame.
    Invalid(Transport),
    /// A fragment: only the reassembled packet can be checked.
    Fragment(Transport),
    /// Not TCP or UDP: nothing to check here.
    Other,
}

fn be16(bytes: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([bytes[at], bytes[at + 1]])
}

/// Adds `bytes` as big-endian 16-bit words (an odd last byte padded with zero) to a
/// one's-complement accumulator (RFC 1071), without folding.
pub(crate) fn add_words(mut sum: u64, bytes: &[u8]) -> u64 {
    let mut words = bytes.chunks_exact(2);
    for w in &mut words {
        sum += u64::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [last] = words.remainder() {
        sum += u64::from(*last) << 8;
    }
    sum
}

/// Folds an accumulator into 16 bits with end-around carries.
pub(crate) fn fold(mut sum: u64) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

fn pseudo_header_sum(source: &[u8], destination: &[u8], protocol: u8, len: usize) -> u16 {
    let mut sum = add_words(0, source);
    sum = add_words(sum, destination);
    sum += u64::from(protocol);
    sum += len as u64;
    fold(sum)
}

/// What `frame` (an Ethernet frame) carries.
pub fn classify(frame: &[u8]) -> Contents {
    if frame.len() < ETHERNET_HEADER_LEN {
        return Contents::Other;
    }
    let ip = &frame[ETHERNET_HEADER_LEN..];
    match be16(frame, 12) {
        ETHERTYPE_IPV4 => classify_ipv4(ip),
        ETHERTYPE_IPV6 => classify_ipv6(ip),
        _ => Contents::Other,
    }
}

fn segment(
    transport: Transport,
    ip_start: usize,
    len: usize,
    pseudo_header_sum: u16,
    ipv6: bool,
) -> Contents {
    if len < transport.min_header_len() {
        return Contents::Other;
    }
    Contents::Segment(Segment {
        transport,
        start: ETHERNET_HEADER_LEN + ip_start,
        len,
        pseudo_header_sum,
        ipv6,
    })
}

fn classify_ipv4(ip: &[u8]) -> Contents {
    if ip.len() < 20 || ip[0] >> 4 != 4 {
        return Contents::Other;
    }
    let header_len = usize::from(ip[0] & 0xf) * 4;
    let total_len = usize::from(be16(ip, 2));
    if header_len < 20 || total_len < header_len || total_len > ip.len() {
        return Contents::Other;
    }
    let Some(transport) = Transport::from_protocol(ip[9]) else {
        return Contents::Other;
    };
    let more_fragments = be16(ip, 6) & 0x2000 != 0;
    let fragment_offset = be16(ip, 6) & 0x1fff;
    if more_fragments || fragment_offset != 0 {
        return Contents::Fragment(transport);
    }
    let len = total_len - header_len;
    let sum = pseudo_header_sum(&ip[12..16], &ip[16..20], ip[9], len);
    segment(transport, header_len, len, sum, false)
}

fn classify_ipv6(ip: &[u8]) -> Contents {
    if ip.len() < IPV6_HEADER_LEN || ip[0] >> 4 != 6 {
        return Contents::Other;
    }
    let end = IPV6_HEADER_LEN + usize::from(be16(ip, 4));
    if end > ip.len() {
        return Contents::Other;
    }
    let mut next = ip[6];
    let mut at = IPV6_HEADER_LEN;
    loop {
        match next {
            IPV6_HOP_BY_HOP | IPV6_ROUTING | IPV6_DESTINATION_OPTIONS => {
                if at + 8 > end {
                    return Contents::Other;
                }
                next = ip[at];
                at += (usize::from(ip[at + 1]) + 1) * 8;
            }
            IPV6_FRAGMENT => {
                if at + 8 > end {
                    return Contents::Other;
                }
                return match Transport::from_protocol(ip[at]) {
                    Some(t) => Contents::Fragment(t),
                    None => Contents::Other,
                };
            }
            _ => break,
        }
    }
    let Some(transport) = Transport::from_protocol(next) else {
        return Contents::Other;
    };
    if at > end {
        return Contents::Other;
    }
    let len = end - at;
    let sum = pseudo_header_sum(&ip[8..24], &ip[24..40], next, len);
    segment(transport, at, len, sum, true)
}

/// Readies a frame whose TCP/UDP checksum field the stack left empty for a card that
/// completes checksums: writes the pseudo-header sum into the field and says where the
/// card must start summing. A segment followed by padding (the card would sum the
/// padding too) gets its full checksum in software instead, and `None`. Frames without
/// a whole TCP or UDP segment are left alone (`None`).
pub fn prepare_transmit(frame: &mut [u8]) -> Option<Partial> {
    let Contents::Segment(seg) = classify(frame) else {
        return None;
    };
    let field = seg.start + seg.transport.checksum_offset();
    if seg.start + seg.len != frame.len() {
        checksum_in_software(frame, &seg);
        return None;
    }
    frame[field..field + 2].copy_from_slice(&seg.pseudo_header_sum.to_be_bytes());
    Some(Partial {
        start: seg.start,
        offset: seg.transport.checksum_offset(),
    })
}

/// Writes the full TCP/UDP checksum of `seg` (found in `frame` by `classify`).
fn checksum_in_software(frame: &mut [u8], seg: &Segment) {
    let field = seg.start + seg.transport.checksum_offset();
    frame[field..field + 2].fill(0);
    let sum = add_words(
        u64::from(seg.pseudo_header_sum),
        &frame[seg.start..seg.start + seg.len],
    );
    frame[field..field + 2].copy_from_slice(&nonzero_checksum(sum).to_be_bytes());
}

/// Completes in software the TCP/UDP checksum the stack left to the card, for a frame
/// the card will not checksum (one about to be cut into IP fragments). Other frames
/// are left alone.
pub fn complete_in_software(frame: &mut [u8]) {
    if let Contents::Segment(seg) = classify(frame) {
        checksum_in_software(frame, &seg);
    }
}

/// The checksum for an accumulated sum: its complement, with 0 sent as 0xffff (the
/// same value in one's complement; 0 would mean "no checksum" to UDP).
fn nonzero_checksum(sum: u64) -> u16 {
    match !fold(sum) {
        0 => 0xffff,
        c => c,
    }
}

/// Completes a received frame's partial checksum as a card would on transmit: sums
/// from `start` to the end of the frame (the field holds the pseudo-header sum) and
/// stores the complement at `start + offset`. False when those offsets do not fit.
pub fn complete_partial(frame: &mut [u8], start: usize, offset: usize) -> bool {
    let field = start.saturating_add(offset);
    if start >= frame.len() || field.saturating_add(2) > frame.len() {
        return false;
    }
    let sum = add_words(0, &frame[start..]);
    frame[field..field + 2].copy_from_slice(&nonzero_checksum(sum).to_be_bytes());
    true
}

/// Checks a received frame's TCP or UDP checksum in software.
pub fn verify(frame: &[u8]) -> Verdict {
    match classify(frame) {
        Contents::Segment(seg) => {
            let field = seg.start + seg.transport.checksum_offset();
            if seg.transport == Transport::Udp && !seg.ipv6 && be16(frame, field) == 0 {
                // UDP over IPv4 may go without a checksum.
                return Verdict::Valid(seg.transport);
            }
            let sum = add_words(
                u64::from(seg.pseudo_header_sum),
                &frame[seg.start..seg.start + seg.len],
            );
            if fold(sum) == 0xffff {
                Verdict::Valid(seg.transport)
            } else {
                Verdict::Invalid(seg.transport)
            }
        }
        Contents::Fragment(t) => Verdict::Fragment(t),
        Contents::Other => Verdict::Other,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;
    use smoltcp::phy::ChecksumCapabilities;
    use smoltcp::wire::{
        EthernetAddress, EthernetFrame, EthernetProtocol, EthernetRepr, IpAddress, IpProtocol,
        Ipv4Address, Ipv4Packet, Ipv4Repr, Ipv6Address, Ipv6Packet, Ipv6Repr, TcpControl,
        TcpPacket, TcpRepr, TcpSeqNumber, UdpPacket, UdpRepr,
    };

    const V4_SRC: Ipv4Address = Ipv4Address::new(10, 9, 0, 2);
    const V4_DST: Ipv4Address = Ipv4Address::new(10, 9, 0, 1);
    const V6_SRC: Ipv6Address = Ipv6Address::new(0xfe80, 0, 0, 0, 0x5054, 0xff, 0xfe12, 0x3456);
    const V6_DST: Ipv6Address = Ipv6Address::new(0xfd00, 0, 0, 0, 0, 0, 0, 1);

    fn tcp_repr(payload: &[u8]) -> TcpRepr<'_> {
        TcpRepr {
            src_port: 80,
            dst_port: 40000,
            control: TcpControl::Psh,
            seq_number: TcpSeqNumber(0x1234_5678),
            ack_number: Some(TcpSeqNumber(0x0abc_def0)),
            window_len: 64240,
            window_scale: None,
            max_seg_size: None,
            sack_permitted: false,
            sack_ranges: [None, None, None],
            timestamp: None,
            payload,
        }
    }

    fn udp_repr() -> UdpRepr {
        UdpRepr {
            src_port: 7,
            dst_port: 5353,
        }
    }

    /// An Ethernet frame around an IP packet: `ipv6` picks the header, `emit` writes
    /// the transport segment (with or without its checksum, per `caps`). The TSO tests
    /// build their segments with it too.
    pub(crate) fn frame(
        ipv6: bool,
        protocol: IpProtocol,
        segment_len: usize,
        emit: impl FnOnce(&mut [u8], IpAddress, IpAddress),
    ) -> Vec<u8> {
        let ip_len = if ipv6 { 40 } else { 20 };
        let mut buf = vec![0u8; 14 + ip_len + segment_len];
        let mut eth = EthernetFrame::new_unchecked(&mut buf[..]);
        EthernetRepr {
            src_addr: EthernetAddress([0x52, 0x54, 0, 0x12, 0x34, 0x56]),
            dst_addr: EthernetAddress([0x52, 0x54, 0, 0x12, 0x34, 0x57]),
            ethertype: if ipv6 {
                EthernetProtocol::Ipv6
            } else {
                EthernetProtocol::Ipv4
            },
        }
        .emit(&mut eth);
        let ip = eth.payload_mut();
        let (src, dst) = if ipv6 {
            Ipv6Repr {
                src_addr: V6_SRC,
                dst_addr: V6_DST,
                next_header: protocol,
                payload_len: segment_len,
                hop_limit: 64,
            }
            .emit(&mut Ipv6Packet::new_unchecked(&mut ip[..]));
            (IpAddress::Ipv6(V6_SRC), IpAddress::Ipv6(V6_DST))
        } else {
            Ipv4Repr {
                src_addr: V4_SRC,
                dst_addr: V4_DST,
                next_header: protocol,
                payload_len: segment_len,
                hop_limit: 64,
            }
            .emit(
                &mut Ipv4Packet::new_unchecked(&mut ip[..]),
                &ChecksumCapabilities::default(),
            );
            (IpAddress::Ipv4(V4_SRC), IpAddress::Ipv4(V4_DST))
        };
        emit(&mut ip[ip_len..], src, dst);
        buf
    }

    fn tcp_frame(ipv6: bool, payload: &[u8], caps: &ChecksumCapabilities) -> Vec<u8> {
        let repr = tcp_repr(payload);
        frame(ipv6, IpProtocol::Tcp, repr.buffer_len(), |seg, src, dst| {
            repr.emit(&mut TcpPacket::new_unchecked(seg), &src, &dst, caps)
        })
    }

    fn udp_frame(ipv6: bool, payload: &[u8], caps: &ChecksumCapabilities) -> Vec<u8> {
        let repr = udp_repr();
        frame(ipv6, IpProtocol::Udp, 8 + payload.len(), |seg, src, dst| {
            repr.emit(
                &mut UdpPacket::new_unchecked(seg),
                &src,
                &dst,
                payload.len(),
                |p| p.copy_from_slice(payload),
                caps,
            )
        })
    }

    /// Frames as smoltcp emits them: with its checksum (the reference), and without
    /// (what the stack hands a card that computes checksums).
    fn both_ways(build: impl Fn(&ChecksumCapabilities) -> Vec<u8>) -> (Vec<u8>, Vec<u8>) {
        let mut off = ChecksumCapabilities::default();
        off.tcp = smoltcp::phy::Checksum::None;
        off.udp = smoltcp::phy::Checksum::None;
        (build(&ChecksumCapabilities::default()), build(&off))
    }

    fn all_kinds() -> Vec<(Vec<u8>, Vec<u8>)> {
        let odd_payload: Vec<u8> = (0..1001u32).map(|i| (i * 7 + 3) as u8).collect();
        let mut frames = Vec::new();
        for ipv6 in [false, true] {
            frames.push(both_ways(|c| tcp_frame(ipv6, &odd_payload, c)));
            frames.push(both_ways(|c| tcp_frame(ipv6, b"", c)));
            frames.push(both_ways(|c| udp_frame(ipv6, &odd_payload, c)));
            frames.push(both_ways(|c| udp_frame(ipv6, b"ping", c)));
        }
        frames
    }

    #[test]
    fn transmit_partial_completed_like_a_card_matches_smoltcp() {
        for (reference, mut sent) in all_kinds() {
            assert_ne!(reference, sent, "the stack left the checksum empty");
            let partial = prepare_transmit(&mut sent).expect("a whole segment");
            assert!(complete_partial(&mut sent, partial.start, partial.offset));
            assert_eq!(sent, reference);
            assert!(matches!(verify(&sent), Verdict::Valid(_)));
        }
    }

    #[test]
    fn pseudo_header_sum_is_what_the_field_holds() {
        let (_, mut sent) = both_ways(|c| tcp_frame(false, b"abc", c));
        let partial = prepare_transmit(&mut sent).unwrap();
        assert_eq!(
            partial,
            Partial {
                start: 34,
                offset: 16
            }
        );
        // 10.9.0.2 + 10.9.0.1 + protocol 6 + length (20 + 3), by hand.
        let by_hand = 0x0a09 + 0x0002 + 0x0a09 + 0x0001 + 6 + 23;
        assert_eq!(be16(&sent, 34 + 16), by_hand);
    }

    #[test]
    fn smoltcp_checksums_verify_and_a_wrong_one_is_rejected() {
        for (reference, _) in all_kinds() {
            assert!(matches!(verify(&reference), Verdict::Valid(_)));
            let Contents::Segment(seg) = classify(&reference) else {
                panic!("not a segment");
            };
            // Flip one payload or header bit: the checksum no longer matches.
            let mut corrupt = reference.clone();
            *corrupt.last_mut().unwrap() ^= 0x10;
            assert_eq!(verify(&corrupt), Verdict::Invalid(seg.transport));
            // A checksum off by one.
            let mut wrong = reference.clone();
            let field = seg.start + seg.transport.checksum_offset();
            wrong[field + 1] = wrong[field + 1].wrapping_add(1);
            assert_eq!(verify(&wrong), Verdict::Invalid(seg.transport));
        }
    }

    #[test]
    fn a_wrong_pseudo_header_sum_yields_a_bad_checksum() {
        let (_, mut sent) = both_ways(|c| tcp_frame(true, b"hello", c));
        let partial = prepare_transmit(&mut sent).unwrap();
        let field = partial.start + partial.offset;
        sent[field] ^= 1;
        assert!(complete_partial(&mut sent, partial.start, partial.offset));
        assert_eq!(verify(&sent), Verdict::Invalid(Transport::Tcp));
    }

    #[test]
    fn udp_zero_checksum_means_none_over_ipv4_only() {
        let (_, v4) = both_ways(|c| udp_frame(false, b"x", c));
        assert_eq!(verify(&v4), Verdict::Valid(Transport::Udp));
        let (_, v6) = both_ways(|c| udp_frame(true, b"x", c));
        assert_eq!(verify(&v6), Verdict::Invalid(Transport::Udp));
    }

    #[test]
    fn padding_after_the_segment_gets_a_software_checksum() {
        let (reference, mut sent) = both_ways(|c| tcp_frame(false, b"", c));
        assert_eq!(sent.len(), 54);
        sent.resize(60, 0);
        assert_eq!(prepare_transmit(&mut sent), None);
        assert_eq!(&sent[..54], &reference[..]);
        assert!(matches!(verify(&sent), Verdict::Valid(Transport::Tcp)));
    }

    #[test]
    fn fragments_and_other_protocols_are_left_alone() {
        let (_, mut first) = both_ways(|c| udp_frame(false, &[1; 64], c));
        // More fragments follow.
        first[14 + 6] |= 0x20;
        let before = first.clone();
        assert_eq!(classify(&first), Contents::Fragment(Transport::Udp));
        assert_eq!(prepare_transmit(&mut first), None);
        assert_eq!(first, before);
        assert_eq!(verify(&first), Verdict::Fragment(Transport::Udp));

        let mut arp = vec![0u8; 42];
        arp[12..14].copy_from_slice(&[0x08, 0x06]);
        assert_eq!(classify(&arp), Contents::Other);
        assert_eq!(prepare_transmit(&mut arp), None);
        assert_eq!(verify(&arp), Verdict::Other);
        // Truncated: the IP header promises more than the frame holds.
        let (reference, _) = both_ways(|c| tcp_frame(false, b"abcdef", c));
        assert_eq!(classify(&reference[..reference.len() - 1]), Contents::Other);
    }

    #[test]
    fn ipv6_extension_headers_are_walked() {
        let (reference, _) = both_ways(|c| udp_frame(true, b"through options", c));
        // Insert an 8-byte destination-options header (PadN) before the UDP header.
        let mut with_options = reference[..54].to_vec();
        with_options.extend_from_slice(&[17, 0, 1, 4, 0, 0, 0, 0]);
        with_options.extend_from_slice(&reference[54..]);
        with_options[14 + 6] = IPV6_DESTINATION_OPTIONS;
        let payload_len = be16(&with_options, 14 + 4) + 8;
        with_options[18..20].copy_from_slice(&payload_len.to_be_bytes());
        // The pseudo-header uses the UDP length, so the checksum still holds.
        assert_eq!(verify(&with_options), Verdict::Valid(Transport::Udp));
        let Contents::Segment(seg) = classify(&with_options) else {
            panic!("not a segment");
        };
        assert_eq!(seg.start, 14 + 40 + 8);
    }

    #[test]
    fn complete_partial_rejects_offsets_outside_the_frame() {
        let mut f = vec![0u8; 60];
        assert!(!complete_partial(&mut f, 60, 0));
        assert!(!complete_partial(&mut f, 34, 25));
        assert!(!complete_partial(&mut f, usize::MAX, 16));
        assert!(complete_partial(&mut f, 34, 16));
    }
}
