//! Large send offload (TSO) for cards that cut big TCP frames into segments
//! themselves (virtio-net's HOST_TSO4/HOST_TSO6; with a tap backend the host kernel
//! does the cutting, or never does when the frame is for the host itself). smoltcp
//! only emits segments of at most the peer's MSS, so a driver joins the segments of
//! one connection that one stack poll emits back to back into one frame
//! ([`Joiner`]): each must continue the previous one's sequence numbers with the same
//! addresses, ports, acknowledgment, window and options, and all but the last carry
//! exactly the first one's payload size (the MSS the card cuts at). The joined frame
//! gets its IP length (and IPv4 header checksum) fixed and the pseudo-header sum of
//! its whole length in the TCP checksum field, as Linux's TSO expects
//! (`tcp_gso_segment` adjusts that sum per segment). One frame for 44 segments is one
//! descriptor, one trip through the device model and, for the host, one segment to
//! receive and acknowledge.
//!
//! Only plain data segments take part (ACK, with PSH on the last one only); SYN, FIN,
//! RST, URG and the ECN flags, IP options and fragments go out as they are.
//!
//! With TSO for both IPv4 and IPv6 the driver does better than joining: large send
//! ([`Segmenter`]), where smoltcp itself builds segments of up to 64 KiB (it is told
//! a 64 KiB MTU and a raised MSS for each peer) and the card cuts them at the peer's
//! real MSS; the joiner then only sees the segments smoltcp sends at most an MTU
//! long.

use crate::offload::{self, Partial};
use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;

const ETHERNET_HEADER_LEN: usize = 14;
const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const PROTOCOL_TCP: u8 = 6;
const FLAG_PSH: u8 = 0x08;
const FLAG_ACK: u8 = 0x10;
/// The largest IP packet (its length field is 16 bits).
const MAX_IP_LEN: usize = 65535;

/// How a card must cut a joined frame (virtio_net_hdr's gso fields).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gso {
    /// Over IPv6 (else IPv4).
    pub ipv6: bool,
    /// Bytes of headers (Ethernet, IP, TCP) in front of the payload.
    pub header_len: usize,
    /// Payload bytes per segment.
    pub mss: usize,
    /// Where the card completes the TCP checksum of each segment.
    pub partial: Partial,
}

/// Where a TCP data segment's parts lie in its frame, and the fields that must match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Tcp {
    ipv6: bool,
    /// Offset of the TCP header.
    l4: usize,
    /// Offset of the payload (end of the TCP header).
    payload: usize,
    seq: u32,
    flags: u8,
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// A TCP segment with payload that may be joined: IPv4 without options or fragments,
/// or IPv6 without extension headers; flags ACK or ACK|PSH; its frame ends where
/// its IP packet does (no padding).
fn data_segment(frame: &[u8]) -> Option<Tcp> {
    if frame.len() < ETHERNET_HEADER_LEN + 40 {
        return None;
    }
    let ip = ETHERNET_HEADER_LEN;
    let (ipv6, l4) = match be16(frame, 12) {
        ETHERTYPE_IPV4 => {
            let frag = be16(frame, ip + 6);
            if frame[ip] != 0x45
                || frame[ip + 9] != PROTOCOL_TCP
                || frag & 0x3fff != 0
                || ip + usize::from(be16(frame, ip + 2)) != frame.len()
            {
                return None;
            }
            (false, ip + 20)
        }
        ETHERTYPE_IPV6 => {
            if frame[ip] >> 4 != 6
                || frame[ip + 6] != PROTOCOL_TCP
                || ip + 40 + usize::from(be16(frame, ip + 4)) != frame.len()
            {
                return None;
            }
            (true, ip + 40)
        }
        _ => return None,
    };
    if frame.len() < l4 + 20 {
        return None;
    }
    let payload = l4 + usize::from(frame[l4 + 12] >> 4) * 4;
    let flags = frame[l4 + 13];
    if payload < l4 + 20 || payload >= frame.len() || flags & !FLAG_PSH != FLAG_ACK {
        return None;
    }
    Some(Tcp {
        ipv6,
        l4,
        payload,
        seq: be32(frame, l4 + 4),
        flags,
    })
}

/// The segments joined so far.
#[derive(Clone, Copy)]
struct Run {
    tcp: Tcp,
    /// The first segment's payload size: the MSS the card cuts at.
    mss: usize,
    /// The sequence number the next segment must start at.
    next_seq: u32,
    /// A segment shorter than `mss` or with PSH came last: nothing may follow.
    closed: bool,
    segments: usize,
}

/// Joins consecutive TCP segments into one frame (see the module doc). The frame is
/// built in a buffer with `prefix` bytes free in front (the driver's header).
///
/// The buffers are kept for reuse ([`Joiner::recycle`], once the card has sent them):
/// each has room for the largest joined frame, and what of it was ever written stays
/// initialised (its length), so a segment can be written straight into place by
/// [`Joiner::push_with`] (no copy from a scratch buffer; a buffer is zeroed only where
/// no earlier frame reached, once).
pub struct Joiner {
    prefix: usize,
    ipv4: bool,
    ipv6: bool,
    /// The frame being joined (`prefix` bytes, then the frame up to `used`), with
    /// room for [`Joiner::capacity`] bytes while a run is held.
    buf: Vec<u8>,
    used: usize,
    run: Option<Run>,
    /// Sent buffers given back, for the next runs.
    spare: Vec<Vec<u8>>,
}

/// Buffers kept for reuse at most (each about 64 KiB).
const SPARE_KEPT: usize = 8;
/// The longest header (Ethernet, IP, TCP with options) a frame written in place may
/// have: what it overwrites of the held payload is saved in a buffer this long.
const MAX_HEADER_LEN: usize = ETHERNET_HEADER_LEN + 40 + 60;

/// `a == b` for two slices of the same length, eight bytes at a time: this runs for
/// every segment sent, and the kernel's `memcmp` (which slice equality calls, or
/// inlines as a loop) goes a byte at a time, which under TCG cost as much as copying
/// the segment's payload.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let (mut a8, mut b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let word = |c: &[u8]| u64::from_ne_bytes(c.try_into().expect("8-byte chunk"));
    a.len() == b.len()
        && a8
            .by_ref()
            .zip(b8.by_ref())
            .all(|(x, y)| word(x) == word(y))
        && a8
            .remainder()
            .iter()
            .zip(b8.remainder())
            .all(|(x, y)| x == y)
}

/// Whether `frame` continues the run whose first segment's headers are `held` (at
/// least `run.tcp.payload` bytes) and whose frame is `held_len` bytes long: the same
/// Ethernet, IP (addresses; version/class/flow or TOS/TTL) and TCP headers but for
/// the lengths, IDs, sequence number, flags and checksums, the next sequence number,
/// at most the run's MSS, and room left in the IP length.
fn continues(run: &Run, held: &[u8], held_len: usize, frame: &[u8]) -> Option<Tcp> {
    if run.closed {
        return None;
    }
    let tcp = data_segment(frame)?;
    let len = frame.len() - tcp.payload;
    let ip = ETHERNET_HEADER_LEN;
    let same = |from: usize, to: usize| same_bytes(&held[from..to], &frame[from..to]);
    let same_ip = if tcp.ipv6 {
        same(ip, ip + 4) && same(ip + 6, ip + 40)
    } else {
        held[ip + 1] == frame[ip + 1] && same(ip + 6, ip + 10) && same(ip + 12, ip + 20)
    };
    let l4 = tcp.l4;
    let same_tcp = tcp.ipv6 == run.tcp.ipv6
        && tcp.payload == run.tcp.payload
        && same(l4, l4 + 4) // ports
        && same(l4 + 8, l4 + 13) // ack, data offset
        && same(l4 + 14, l4 + 16) // window
        && same(l4 + 18, tcp.payload); // urgent, options
    (same(0, ip)
        && same_ip
        && same_tcp
        && tcp.seq == run.next_seq
        && len <= run.mss
        && held_len - run.tcp.l4 + len <= MAX_IP_LEN - (run.tcp.l4 - ip))
        .then_some(tcp)
}

impl Joiner {
    /// An empty joiner whose frames have `prefix` bytes in front; it joins segments
    /// over IPv4 and/or IPv6 (what the card can cut).
    pub fn new(prefix: usize, ipv4: bool, ipv6: bool) -> Joiner {
        Joiner {
            prefix,
            ipv4,
            ipv6,
            buf: Vec::new(),
            used: 0,
            run: None,
            spare: Vec::new(),
        }
    }

    /// The length of every buffer the joiner builds frames in: room for the largest
    /// joined frame.
    pub fn capacity(&self) -> usize {
        self.prefix + ETHERNET_HEADER_LEN + MAX_IP_LEN
    }

    /// Whether a frame is held.
    pub fn is_empty(&self) -> bool {
        self.run.is_none()
    }

    /// Gives back a buffer [`Joiner::take`] returned, once the card is done with it
    /// (others are dropped).
    pub fn recycle(&mut self, buf: Vec<u8>) {
        if buf.capacity() >= self.capacity() && self.spare.len() < SPARE_KEPT {
            self.spare.push(buf);
        }
    }

    /// A buffer of at least `len` bytes (at most [`Joiner::capacity`]) for a frame
    /// built elsewhere (a large send), the prefix zeroed: one of the spare ones when
    /// there is one. Give it back with [`Joiner::recycle`] once sent.
    pub fn buffer(&mut self, len: usize) -> Vec<u8> {
        let cap = self.capacity();
        let mut buf = self.spare.pop().unwrap_or_else(|| Vec::with_capacity(cap));
        if buf.len() < len {
            buf.resize(len, 0);
        }
        let prefix = self.prefix.min(buf.len());
        buf[..prefix].fill(0);
        buf
    }

    /// Makes `buf[..end]` usable (zeroing only what was never written).
    fn reach(&mut self, end: usize) {
        if self.buf.len() < end {
            self.buf.resize(end, 0);
        }
    }

    /// Adds `frame` to the frame held when it continues it, else starts a new frame
    /// with it when it is a data segment. False (nothing done) otherwise: the caller
    /// must `take` what is held first if it has to keep the order, then send `frame`
    /// as it is.
    pub fn push(&mut self, frame: &[u8]) -> bool {
        if let Some(run) = self.run.as_ref() {
            let held = &self.buf[self.prefix..self.used];
            let Some(tcp) = continues(run, held, held.len(), frame) else {
                return false;
            };
            let len = frame.len() - tcp.payload;
            self.reach(self.used + len);
            self.buf[self.used..self.used + len].copy_from_slice(&frame[tcp.payload..]);
            self.used += len;
            self.extend_run(tcp, len);
            return true;
        }
        let Some(tcp) = data_segment(frame) else {
            return false;
        };
        if !(if tcp.ipv6 { self.ipv6 } else { self.ipv4 }) {
            return false;
        }
        let len = frame.len() - tcp.payload;
        let cap = self.capacity();
        self.buf = self.spare.pop().unwrap_or_else(|| Vec::with_capacity(cap));
        self.reach(self.prefix + frame.len());
        // A reused buffer: the driver's header starts zeroed, as in a new one.
        self.buf[..self.prefix].fill(0);
        self.buf[self.prefix..self.prefix + frame.len()].copy_from_slice(frame);
        self.used = self.prefix + frame.len();
        self.run = Some(Run {
            tcp,
            mss: len,
            next_seq: tcp.seq.wrapping_add(len as u32),
            closed: tcp.flags & FLAG_PSH != 0,
            segments: 1,
        });
        true
    }

    /// [`Joiner::push`] of a frame of `len` bytes that `fill` writes. When a run is
    /// held, the frame is written in place: its headers over the end of the held
    /// payload (saved and put back) and its payload right behind it, so a joined
    /// segment's bytes are written once. Otherwise (and when it does not join) `fill`
    /// writes into `scratch`; on false, `scratch[..len]` holds the frame, which the
    /// caller sends as for `push`.
    pub fn push_with(
        &mut self,
        len: usize,
        fill: &mut dyn FnMut(&mut [u8]),
        scratch: &mut Vec<u8>,
    ) -> bool {
        if let Some(run) = self.run {
            let header = run.tcp.payload;
            if !run.closed
                && len > header
                && len - header <= run.mss
                && header <= MAX_HEADER_LEN
                && self.used >= self.prefix + 2 * header
                && self.used - header + len <= self.capacity()
            {
                let at = self.used - header;
                self.reach(at + len);
                let mut saved = [0u8; MAX_HEADER_LEN];
                saved[..header].copy_from_slice(&self.buf[at..self.used]);
                fill(&mut self.buf[at..at + len]);
                let (held, frame) = self.buf.split_at(at);
                let joined = continues(
                    &run,
                    &held[self.prefix..],
                    self.used - self.prefix,
                    &frame[..len],
                );
                if joined.is_none() {
                    scratch.clear();
                    scratch.extend_from_slice(&frame[..len]);
                }
                self.buf[at..self.used].copy_from_slice(&saved[..header]);
                return match joined {
                    Some(tcp) => {
                        self.used = at + len;
                        self.extend_run(tcp, len - header);
                        true
                    }
                    None => false,
                };
            }
        }
        if scratch.len() < len {
            scratch.resize(len, 0);
        }
        fill(&mut scratch[..len]);
        self.push(&scratch[..len])
    }

    /// Records a segment of `len` payload bytes joined to the run.
    fn extend_run(&mut self, tcp: Tcp, len: usize) {
        let flags_at = self.prefix + tcp.l4 + 13;
        self.buf[flags_at] |= tcp.flags;
        let run = self.run.as_mut().expect("a run is held");
        run.next_seq = run.next_seq.wrapping_add(len as u32);
        run.closed = len < run.mss || tcp.flags & FLAG_PSH != 0;
        run.segments += 1;
    }

    /// Takes the frame held (with the prefix in front) and its length (the buffer is
    /// longer: give it back with [`Joiner::recycle`] once sent), None when empty. With
    /// several segments joined, its lengths are fixed, the TCP checksum field holds
    /// the pseudo-header sum, and the card must cut it as the [`Gso`] says; a single
    /// segment comes back as it went in (no `Gso`).
    pub fn take(&mut self) -> Option<(Vec<u8>, usize, Option<Gso>)> {
        let run = self.run.take()?;
        let mut buf = core::mem::take(&mut self.buf);
        let used = self.used;
        if run.segments == 1 {
            return Some((buf, used, None));
        }
        let frame = &mut buf[self.prefix..used];
        let ip = ETHERNET_HEADER_LEN;
        if run.tcp.ipv6 {
            let payload_len = (frame.len() - ip - 40) as u16;
            frame[ip + 4..ip + 6].copy_from_slice(&payload_len.to_be_bytes());
        } else {
            let total = (frame.len() - ip) as u16;
            frame[ip + 2..ip + 4].copy_from_slice(&total.to_be_bytes());
            frame[ip + 10..ip + 12].fill(0);
            let sum = ipv4_header_checksum(&frame[ip..ip + 20]);
            frame[ip + 10..ip + 12].copy_from_slice(&sum.to_be_bytes());
        }
        let partial = offload::prepare_transmit(frame)?;
        Some((
            buf,
            used,
            Some(Gso {
                ipv6: run.tcp.ipv6,
                header_len: run.tcp.payload,
                mss: run.mss,
                partial,
            }),
        ))
    }
}

/// The IPv4 header checksum of `header` (its checksum field zero).
fn ipv4_header_checksum(header: &[u8]) -> u16 {
    let mut sum: u32 = header
        .chunks_exact(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

// ----- large send: smoltcp emits the big segments itself -----

/// The IP MTU a card that cuts TCP segments presents to smoltcp (large send): smoltcp
/// sizes a segment by the smaller of the peer's MSS and this MTU minus headers, so it
/// builds segments of up to ~64 KiB that the card cuts at the real MSS. Room is left
/// for TCP options (40 bytes) below the IP length field's 65535.
pub const LARGE_SEND_IP_MTU: usize = MAX_IP_LEN - 40;
/// The MSS smoltcp is told a peer announced, in segments of the real one (see
/// [`Segmenter::received`]): as many as fit in 64 KiB, so each segment smoltcp
/// builds is a whole multiple of what the card cuts.
const RAISED_SEGMENTS: usize = 44;
/// The MSS a peer that announced none is held to (RFC 9293 §3.7.1; RFC 8200 §5).
const DEFAULT_MSS_V4: usize = 536;
const DEFAULT_MSS_V6: usize = 1220;
/// Connections whose peer's MSS is remembered at most (the oldest is forgotten: its
/// segments are then cut at the default MSS, which is always safe).
const PEERS_KEPT: usize = 4096;
const FLAG_SYN: u8 = 0x02;
const FLAG_RST: u8 = 0x04;
const OPTION_END: u8 = 0;
const OPTION_NOP: u8 = 1;
const OPTION_MSS: u8 = 2;

/// A connection: IPv6 or not, then its local address and port, then the remote ones
/// (IPv4 addresses in the first four bytes).
type Key = [u8; 37];

/// What to do with a frame longer than the wire's MTU ([`Segmenter::transmit`]).
#[derive(Debug, PartialEq, Eq)]
pub enum Large {
    /// A TCP segment: the card cuts it as the [`Gso`] says (its checksum field holds
    /// the pseudo-header sum).
    Cut(Gso),
    /// An IPv4 packet of another protocol: these IP fragments go out instead (its
    /// transport checksum completed in software first).
    Fragments(Vec<Vec<u8>>),
    /// Nothing the card can send (IPv6 but TCP: smoltcp drops those, not fragmenting
    /// IPv6 either).
    Drop,
}

/// Large send for a card that cuts TCP segments (virtio-net's HOST_TSO4 and
/// HOST_TSO6), with smoltcp unchanged: the stack is given an MTU of
/// [`LARGE_SEND_IP_MTU`] and every peer's SYN announces the largest MSS, so each
/// segment smoltcp builds is as large as the window allows (up to ~64 KiB, built and
/// copied once), where it used to build one per 1460 bytes. The driver then:
/// - gives every received frame to [`Segmenter::received`], which remembers the MSS a
///   peer's SYN announces (per connection) and raises it for smoltcp;
/// - gives every frame sent to [`Segmenter::transmit`]: the MSS smoltcp announces in
///   its own SYNs is lowered back to the wire's; a frame longer than the wire's MTU is
///   a TCP segment the card cuts at the peer's real MSS (less the options it carries),
///   or another IPv4 packet (UDP over 1472 bytes, ICMP) cut into IP fragments here, as
///   smoltcp did with the real MTU.
pub struct Segmenter {
    /// The wire's IP MTU (1500).
    link_mtu: usize,
    peers: BTreeMap<Key, u16>,
    /// The connections in `peers`, oldest first.
    order: VecDeque<Key>,
}

/// Where a TCP segment's parts lie in a frame (checked to be inside it).
struct TcpAt {
    ipv6: bool,
    /// The IP header's length (IPv6: with its extension headers); it starts at
    /// `ETHERNET_HEADER_LEN`.
    ip_header_len: usize,
    /// Offset of the TCP header.
    l4: usize,
    /// Offset of the payload (end of the TCP header and options).
    payload: usize,
    flags: u8,
}

/// The TCP segment of `frame`, when it carries a whole one.
fn tcp_at(frame: &[u8]) -> Option<TcpAt> {
    let offload::Contents::Segment(seg) = offload::classify(frame) else {
        return None;
    };
    if seg.transport != offload::Transport::Tcp {
        return None;
    }
    let l4 = seg.start;
    let payload = l4 + usize::from(frame[l4 + 12] >> 4) * 4;
    if payload < l4 + 20 || payload > l4 + seg.len {
        return None;
    }
    Some(TcpAt {
        ipv6: seg.ipv6,
        ip_header_len: l4 - ETHERNET_HEADER_LEN,
        l4,
        payload,
        flags: frame[l4 + 13],
    })
}

/// The connection of a TCP segment, seen from this side (`outgoing`: its source is
/// local).
fn key(frame: &[u8], tcp: &TcpAt, outgoing: bool) -> Key {
    let ip = ETHERNET_HEADER_LEN;
    let (src, dst) = if tcp.ipv6 {
        (&frame[ip + 8..ip + 24], &frame[ip + 24..ip + 40])
    } else {
        (&frame[ip + 12..ip + 16], &frame[ip + 16..ip + 20])
    };
    let (sport, dport) = (&frame[tcp.l4..tcp.l4 + 2], &frame[tcp.l4 + 2..tcp.l4 + 4]);
    let ((la, lp), (ra, rp)) = if outgoing {
        ((src, sport), (dst, dport))
    } else {
        ((dst, dport), (src, sport))
    };
    let mut k = [0u8; 37];
    k[0] = tcp.ipv6.into();
    k[1..1 + la.len()].copy_from_slice(la);
    k[17..19].copy_from_slice(lp);
    k[19..19 + ra.len()].copy_from_slice(ra);
    k[35..37].copy_from_slice(rp);
    k
}

/// The offset of the MSS option's value in a TCP segment's options, if it has one.
fn mss_option(frame: &[u8], tcp: &TcpAt) -> Option<usize> {
    let mut at = tcp.l4 + 20;
    while at < tcp.payload {
        match frame[at] {
            OPTION_END => return None,
            OPTION_NOP => at += 1,
            kind => {
                let len = usize::from(*frame.get(at + 1)?);
                if len < 2 || at + len > tcp.payload {
                    return None;
                }
                if kind == OPTION_MSS && len == 4 {
                    return Some(at + 2);
                }
                at += len;
            }
        }
    }
    None
}

/// Writes `value` at `at` (a 16-bit field in the TCP segment starting at `l4`) and
/// adjusts the segment's checksum for it (RFC 1624), wherever the field is aligned.
fn rewrite16(frame: &mut [u8], l4: usize, at: usize, value: u16) {
    // the 16-bit words of the segment that the field touches
    let from = l4 + (at - l4) / 2 * 2;
    let to = (at + 2 + 1 - l4) / 2 * 2 + l4;
    let old = offload::add_words(0, &frame[from..to]);
    frame[at..at + 2].copy_from_slice(&value.to_be_bytes());
    let new = offload::add_words(0, &frame[from..to]);
    let field = l4 + 16;
    let check = u16::from_be_bytes([frame[field], frame[field + 1]]);
    // HC' = ~(~HC + ~m + m'), with ~m as 0xffff - m per word of m
    let words = ((to - from) / 2) as u64;
    let sum = u64::from(!check) + words * 0xffff - old + new;
    let sum = offload::fold(sum);
    frame[field..field + 2].copy_from_slice(&(!sum).to_be_bytes());
}

/// The IP and TCP headers without options: what an MSS leaves out of the MTU.
fn fixed_headers(ipv6: bool) -> usize {
    if ipv6 {
        60
    } else {
        40
    }
}

/// With large send, how a received frame should make its connection acknowledge:
/// Some(true) for a TCP segment carrying a full segment's payload over a wire of IP
/// MTU `link_mtu` (at least its MSS less 40 bytes of options: a bulk transfer, to be
/// acknowledged at once), Some(false) for one carrying less (a request: the delayed
/// ACK may ride on the answer), None for anything else. smoltcp acknowledges at once
/// only once more than the peer's MSS arrived unacknowledged, and that MSS is
/// `RAISED_SEGMENTS` times the real one: left alone, a peer that has sent its
/// initial window (10 segments) would wait 10 ms for each ACK (a 16 KiB upload took
/// 12 ms instead of 1.2).
pub fn bulk_data(frame: &[u8], link_mtu: usize) -> Option<bool> {
    let tcp = tcp_at(frame)?;
    let offload::Contents::Segment(seg) = offload::classify(frame) else {
        return None;
    };
    let len = (seg.start + seg.len).checked_sub(tcp.payload)?;
    let full = link_mtu.saturating_sub(fixed_headers(tcp.ipv6) + 40);
    (len > 0).then_some(len >= full)
}

impl Segmenter {
    /// Large send over a wire whose IP MTU is `link_mtu`.
    pub fn new(link_mtu: usize) -> Segmenter {
        Segmenter {
            link_mtu,
            peers: BTreeMap::new(),
            order: VecDeque::new(),
        }
    }

    /// A received frame, before the stack sees it: a SYN's MSS option is remembered
    /// for its connection and replaced by `RAISED_SEGMENTS` times the MSS the wire
    /// allows (its TCP checksum adjusted). A
    /// SYN without one leaves smoltcp at its 536-byte default: no large sends there.
    pub fn received(&mut self, frame: &mut [u8]) {
        let Some(tcp) = tcp_at(frame) else {
            return;
        };
        if tcp.flags & (FLAG_SYN | FLAG_RST) != FLAG_SYN {
            return;
        }
        let Some(at) = mss_option(frame, &tcp) else {
            return;
        };
        let mss = be16(frame, at);
        if mss == 0 {
            return; // smoltcp ignores such a SYN
        }
        let k = key(frame, &tcp, false);
        if self.peers.insert(k, mss).is_none() {
            self.order.push_back(k);
            if self.order.len() > PEERS_KEPT {
                if let Some(old) = self.order.pop_front() {
                    self.peers.remove(&old);
                }
            }
        }
        let wire = self.link_mtu.saturating_sub(fixed_headers(tcp.ipv6));
        let raised = (usize::from(mss).min(wire) * RAISED_SEGMENTS).min(usize::from(u16::MAX));
        rewrite16(frame, tcp.l4, at, raised as u16);
    }

    /// Whether `len` bytes of frame exceed the wire's MTU (then [`Segmenter::transmit`]
    /// says what to send).
    pub fn is_large(&self, len: usize) -> bool {
        len > ETHERNET_HEADER_LEN + self.link_mtu
    }

    /// A frame the stack sends. A SYN's MSS (smoltcp's, from the large MTU) is lowered
    /// to the wire's; the checksum is left to the card, as the stack left it. For a
    /// frame over the wire's MTU, what to send instead (see [`Large`]); None for the
    /// others (sent as they are).
    pub fn transmit(&self, frame: &mut [u8]) -> Option<Large> {
        let tcp = tcp_at(frame);
        if let Some(tcp) = tcp.as_ref().filter(|t| t.flags & FLAG_SYN != 0) {
            if let Some(at) = mss_option(frame, tcp) {
                let wire = self.link_mtu.saturating_sub(fixed_headers(tcp.ipv6));
                let mss = usize::from(be16(frame, at)).min(wire) as u16;
                frame[at..at + 2].copy_from_slice(&mss.to_be_bytes());
            }
        }
        if !self.is_large(frame.len()) {
            return None;
        }
        let Some(tcp) = tcp else {
            return Some(self.fragment(frame));
        };
        let default = if tcp.ipv6 {
            DEFAULT_MSS_V6
        } else {
            DEFAULT_MSS_V4
        };
        let peer = self
            .peers
            .get(&key(frame, &tcp, true))
            .map_or(default, |&m| usize::from(m));
        // The MSS counts the fixed headers only (RFC 6691): a segment carrying
        // options (TCP's, or IPv4's) holds that much less.
        let fixed = fixed_headers(tcp.ipv6);
        let options = tcp.payload - tcp.l4 - 20 + tcp.ip_header_len - (fixed - 20);
        let mss = peer
            .min(self.link_mtu.saturating_sub(fixed))
            .saturating_sub(options)
            .max(1);
        let Some(partial) = offload::prepare_transmit(frame) else {
            return Some(Large::Drop); // padded: never so large
        };
        Some(Large::Cut(Gso {
            ipv6: tcp.ipv6,
            header_len: tcp.payload,
            mss,
            partial,
        }))
    }

    /// An IPv4 packet over the wire's MTU, as IP fragments (its TCP/UDP checksum
    /// completed first: no card checksums fragments); `Drop` for anything else.
    fn fragment(&self, frame: &mut [u8]) -> Large {
        let ip = ETHERNET_HEADER_LEN;
        if frame.len() < ip + 20 || be16(frame, 12) != ETHERTYPE_IPV4 || frame[ip] >> 4 != 4 {
            return Large::Drop;
        }
        let header_len = usize::from(frame[ip] & 0xf) * 4;
        let total = usize::from(be16(frame, ip + 2));
        let flags = be16(frame, ip + 6);
        if header_len < 20 || total < header_len || ip + total > frame.len() || flags & 0x3fff != 0
        {
            return Large::Drop; // malformed, or already a fragment
        }
        offload::complete_in_software(&mut frame[..ip + total]);
        let payload = &frame[ip + header_len..ip + total];
        let step = (self.link_mtu - header_len) / 8 * 8;
        if step == 0 {
            return Large::Drop;
        }
        let pieces = payload.len().div_ceil(step);
        let fragments = payload
            .chunks(step)
            .enumerate()
            .map(|(i, piece)| {
                let mut f = Vec::with_capacity(ip + header_len + piece.len());
                f.extend_from_slice(&frame[..ip + header_len]);
                f.extend_from_slice(piece);
                let len = (header_len + piece.len()) as u16;
                f[ip + 2..ip + 4].copy_from_slice(&len.to_be_bytes());
                let more = if i + 1 < pieces { 0x2000 } else { 0 };
                let field = more | ((i * step / 8) as u16);
                f[ip + 6..ip + 8].copy_from_slice(&field.to_be_bytes());
                f[ip + 10..ip + 12].fill(0);
                let sum = ipv4_header_checksum(&f[ip..ip + header_len]);
                f[ip + 10..ip + 12].copy_from_slice(&sum.to_be_bytes());
                f
            })
            .collect();
        Large::Fragments(fragments)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use smoltcp::phy::ChecksumCapabilities;
    use smoltcp::wire::{IpProtocol, TcpControl, TcpPacket, TcpRepr, TcpSeqNumber};

    const SEQ: u32 = 0xffff_f000; // wraps inside the run

    /// A frame of one TCP segment as smoltcp emits it, its checksum computed in full
    /// (`full`) or left for the card (pseudo-header sum not yet written: zero).
    fn segment(ipv6: bool, seq: u32, payload: &[u8], control: TcpControl, full: bool) -> Vec<u8> {
        let repr = TcpRepr {
            src_port: 80,
            dst_port: 40000,
            control,
            seq_number: TcpSeqNumber(seq as i32),
            ack_number: Some(TcpSeqNumber(0x0abc_def0)),
            window_len: 64240,
            window_scale: None,
            max_seg_size: None,
            sack_permitted: false,
            sack_ranges: [None, None, None],
            timestamp: None,
            payload,
        };
        let caps = if full {
            ChecksumCapabilities::default()
        } else {
            let mut c = ChecksumCapabilities::ignored();
            c.ipv4 = smoltcp::phy::Checksum::Both;
            c
        };
        crate::offload::tests::frame(ipv6, IpProtocol::Tcp, repr.buffer_len(), |seg, src, dst| {
            repr.emit(&mut TcpPacket::new_unchecked(seg), &src, &dst, &caps)
        })
    }

    /// What a card does with a joined frame (Linux's tcp_gso_segment, in short): cuts
    /// the payload at `mss`, gives each piece the headers with its length, sequence
    /// number and flags (PSH on the last one only) and completes its checksums.
    fn cut(frame: &[u8], gso: &Gso) -> Vec<Vec<u8>> {
        let (h, l4) = (gso.header_len, gso.partial.start);
        let payload = &frame[h..];
        let seq0 = be32(frame, l4 + 4);
        let pieces: Vec<&[u8]> = payload.chunks(gso.mss).collect();
        let n = pieces.len();
        pieces
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let mut f = frame[..h].to_vec();
                f.extend_from_slice(p);
                let ip = ETHERNET_HEADER_LEN;
                if gso.ipv6 {
                    let len = (f.len() - ip - 40) as u16;
                    f[ip + 4..ip + 6].copy_from_slice(&len.to_be_bytes());
                } else {
                    let len = (f.len() - ip) as u16;
                    f[ip + 2..ip + 4].copy_from_slice(&len.to_be_bytes());
                    f[ip + 10..ip + 12].fill(0);
                    let c = ipv4_header_checksum(&f[ip..ip + 20]);
                    f[ip + 10..ip + 12].copy_from_slice(&c.to_be_bytes());
                }
                let seq = seq0.wrapping_add((i * gso.mss) as u32);
                f[l4 + 4..l4 + 8].copy_from_slice(&seq.to_be_bytes());
                if i + 1 < n {
                    f[l4 + 13] &= !FLAG_PSH;
                }
                let field = l4 + gso.partial.offset;
                f[field..field + 2].fill(0);
                let partial = offload::prepare_transmit(&mut f).unwrap();
                offload::complete_partial(&mut f, partial.start, partial.offset);
                f
            })
            .collect()
    }

    /// Segments of `sizes` payload bytes in a row (PSH on the last), checksummed in
    /// full (what the wire must carry) and left to the card (what the joiner gets).
    fn run(ipv6: bool, sizes: &[usize]) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
        let mut seq = SEQ;
        let (mut wire, mut given) = (Vec::new(), Vec::new());
        for (i, &n) in sizes.iter().enumerate() {
            let payload: Vec<u8> = (0..n).map(|b| (b * 7 + i * 13) as u8).collect();
            let ctl = if i + 1 == sizes.len() {
                TcpControl::Psh
            } else {
                TcpControl::None
            };
            wire.push(segment(ipv6, seq, &payload, ctl, true));
            given.push(segment(ipv6, seq, &payload, ctl, false));
            seq = seq.wrapping_add(n as u32);
        }
        (wire, given)
    }

    #[test]
    fn joined_segments_cut_back_are_the_segments_byte_for_byte() {
        for ipv6 in [false, true] {
            let (wire, given) = run(ipv6, &[1460, 1460, 1460, 1460, 700]);
            let mut j = Joiner::new(12, true, true);
            for f in &given {
                assert!(j.push(f));
            }
            let (buf, used, gso) = j.take().unwrap();
            let buf = &buf[..used];
            let gso = gso.unwrap();
            assert!(j.is_empty());
            assert_eq!(buf.len(), 12 + given[0].len() + 4 * 1460 + 700 - 1460);
            assert_eq!(gso.mss, 1460);
            assert_eq!(gso.ipv6, ipv6);
            assert_eq!(cut(&buf[12..], &gso), wire);
        }
    }

    #[test]
    fn a_single_segment_goes_out_as_it_came() {
        let (_, given) = run(false, &[1000]);
        let mut j = Joiner::new(10, true, true);
        assert!(j.push(&given[0]));
        let (buf, used, gso) = j.take().unwrap();
        let buf = &buf[..used];
        assert_eq!(gso, None);
        assert_eq!(&buf[10..], &given[0][..]);
        assert!(j.take().is_none());
    }

    #[test]
    fn nothing_follows_a_short_or_pushed_segment() {
        let (_, given) = run(false, &[1460, 800, 1460]);
        let mut j = Joiner::new(0, true, true);
        assert!(j.push(&given[0]));
        assert!(j.push(&given[1]));
        assert!(!j.push(&given[2]), "a segment after a short one");
        // PSH closes a run too
        let (_, pushed) = run(false, &[1460]);
        let next = segment(
            false,
            SEQ.wrapping_add(1460),
            &[1; 1460],
            TcpControl::None,
            false,
        );
        let mut j = Joiner::new(0, true, true);
        assert!(j.push(&pushed[0]));
        assert!(!j.push(&next));
    }

    #[test]
    fn gaps_other_connections_and_control_segments_are_not_joined() {
        let (_, given) = run(false, &[1460, 1460]);
        let mut j = Joiner::new(0, true, true);
        assert!(j.push(&given[0]));
        // a gap in the sequence
        let gap = segment(
            false,
            SEQ.wrapping_add(2000),
            &[1; 1460],
            TcpControl::None,
            false,
        );
        assert!(!j.push(&gap));
        // another port
        let mut other = given[1].clone();
        other[14 + 20 + 1] ^= 1;
        assert!(!j.push(&other));
        // a bigger segment than the first
        let big = segment(
            false,
            SEQ.wrapping_add(1460),
            &[1; 1461],
            TcpControl::None,
            false,
        );
        assert!(!j.push(&big));
        // FIN, and a pure ACK, never join nor start a run
        let fin = segment(
            false,
            SEQ.wrapping_add(1460),
            &[1; 10],
            TcpControl::Fin,
            false,
        );
        assert!(!j.push(&fin));
        let ack = segment(false, SEQ.wrapping_add(1460), &[], TcpControl::None, false);
        assert!(!j.push(&ack));
        assert!(j.push(&given[1]));
        let (_, _, gso) = j.take().unwrap();
        assert!(gso.is_some());
        let mut empty = Joiner::new(0, true, true);
        assert!(!empty.push(&fin));
        assert!(!empty.push(&ack));
        assert!(empty.is_empty());
    }

    #[test]
    fn only_the_families_the_card_cuts_are_joined() {
        let (_, v6) = run(true, &[1460, 1460]);
        let mut j = Joiner::new(0, true, false);
        assert!(!j.push(&v6[0]));
        let (_, v4) = run(false, &[1460, 1460]);
        let mut j = Joiner::new(0, false, true);
        assert!(!j.push(&v4[0]));
        assert!(j.push(&v6[0]) && j.push(&v6[1]));
    }

    #[test]
    fn same_bytes_finds_a_difference_at_any_place() {
        for len in 0..40 {
            let a: Vec<u8> = (0..len as u8).collect();
            assert!(same_bytes(&a, &a.clone()));
            for at in 0..len {
                let mut b = a.clone();
                b[at] ^= 0x80;
                assert!(!same_bytes(&a, &b), "len {len}, differing at {at}");
            }
            assert!(!same_bytes(&a, &[a.as_slice(), &[0]].concat()), "longer");
        }
    }

    #[test]
    fn a_run_stops_below_the_largest_ip_packet() {
        let sizes = vec![1460; 60];
        let (wire, given) = run(false, &sizes);
        let mut j = Joiner::new(0, true, true);
        let joined = given.iter().take_while(|f| j.push(f)).count();
        assert_eq!(joined, (65535 - 40) / 1460);
        let (buf, used, gso) = j.take().unwrap();
        let buf = &buf[..used];
        assert!(buf.len() - 14 <= 65535);
        assert_eq!(cut(buf, &gso.unwrap()), wire[..joined]);
    }

    /// Pushes `frames` through `push_with` (as the driver does: on false, what is
    /// held goes first, then the frame alone); the frames that went out, each cut back
    /// into segments as the card would.
    fn send_all_with(j: &mut Joiner, frames: &[Vec<u8>]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut scratch = Vec::new();
        let flush = |j: &mut Joiner, out: &mut Vec<Vec<u8>>| {
            if let Some((buf, used, gso)) = j.take() {
                match gso {
                    Some(g) => out.extend(cut(&buf[j.prefix..used], &g)),
                    None => out.push(buf[j.prefix..used].to_vec()),
                }
                // dirty the whole buffer before it is reused
                let mut buf = buf;
                buf.fill(0xa5);
                j.recycle(buf);
            }
        };
        for f in frames {
            let mut fill = |b: &mut [u8]| b.copy_from_slice(f);
            if !j.push_with(f.len(), &mut fill, &mut scratch) {
                flush(j, &mut out);
                assert_eq!(&scratch[..f.len()], &f[..], "the frame is in scratch");
                if !j.push(&scratch[..f.len()]) {
                    out.push(f.clone());
                }
            }
        }
        flush(j, &mut out);
        out
    }

    #[test]
    fn segments_written_in_place_are_the_segments_byte_for_byte() {
        for ipv6 in [false, true] {
            // several runs (a full one, short ones, one after a gap), a FIN and an
            // ACK in between: every segment arrives, unchanged, in order
            let mut sizes = vec![1460; 50];
            sizes.extend([700, 1460, 1460, 3]);
            let (mut wire, mut given) = run(ipv6, &sizes);
            let next = SEQ.wrapping_add(sizes.iter().sum::<usize>() as u32);
            let fin = segment(ipv6, next, &[9; 10], TcpControl::Fin, true);
            wire.push(fin.clone());
            given.push(fin);
            let more: Vec<usize> = vec![1000, 1000, 10];
            let mut seq = next.wrapping_add(11);
            for (i, n) in more.iter().enumerate() {
                let p: Vec<u8> = (0..*n).map(|b| (b * 3 + i) as u8).collect();
                wire.push(segment(ipv6, seq, &p, TcpControl::None, true));
                given.push(segment(ipv6, seq, &p, TcpControl::None, false));
                seq = seq.wrapping_add(*n as u32);
            }
            for prefix in [0, 12] {
                let mut j = Joiner::new(prefix, true, true);
                // twice: the second time on recycled (dirty) buffers
                for _ in 0..2 {
                    let out = send_all_with(&mut j, &given);
                    // cut() completes checksums; frames sent alone keep the given
                    // (card-completed) form: compare those after completing them
                    let out: Vec<Vec<u8>> = out
                        .into_iter()
                        .map(|mut f| {
                            if data_segment(&f).is_some() && !wire.contains(&f) {
                                let p = offload::prepare_transmit(&mut f).unwrap();
                                offload::complete_partial(&mut f, p.start, p.offset);
                            }
                            f
                        })
                        .collect();
                    assert_eq!(out.len(), wire.len());
                    assert!(out == wire, "ipv6 {ipv6} prefix {prefix}");
                }
                assert!(!j.spare.is_empty(), "buffers are reused");
            }
        }
    }
    // ----- large send -----

    /// A SYN (with ACK when `ack`) as smoltcp emits it, announcing `mss`, with window
    /// scaling and SACK, checksummed in full (`full`) or left for the card; from the
    /// peer (`incoming`: addresses and ports swapped) or from this side.
    fn syn(ipv6: bool, mss: Option<u16>, ack: bool, full: bool, incoming: bool) -> Vec<u8> {
        let repr = TcpRepr {
            src_port: 80,
            dst_port: 40000,
            control: TcpControl::Syn,
            seq_number: TcpSeqNumber(SEQ as i32),
            ack_number: ack.then_some(TcpSeqNumber(0x0abc_def0)),
            window_len: 64240,
            window_scale: Some(7),
            max_seg_size: mss,
            sack_permitted: true,
            sack_ranges: [None, None, None],
            timestamp: None,
            payload: &[],
        };
        let caps = if full {
            ChecksumCapabilities::default()
        } else {
            ChecksumCapabilities::ignored()
        };
        let mut f =
            crate::offload::tests::frame(ipv6, IpProtocol::Tcp, repr.buffer_len(), |seg, s, d| {
                repr.emit(&mut TcpPacket::new_unchecked(seg), &s, &d, &caps)
            });
        if incoming {
            let ip = ETHERNET_HEADER_LEN;
            let (a, n, l4) = if ipv6 {
                (ip + 8, 16, ip + 40)
            } else {
                (ip + 12, 4, ip + 20)
            };
            for i in 0..n {
                f.swap(a + i, a + n + i);
            }
            f.swap(l4, l4 + 2);
            f.swap(l4 + 1, l4 + 3);
        }
        f
    }

    fn announced_mss(frame: &[u8]) -> Option<u16> {
        let tcp = tcp_at(frame)?;
        mss_option(frame, &tcp).map(|at| be16(frame, at))
    }

    /// A large segment from this side (PSH), as smoltcp emits it for the card, and
    /// the segments of `mss` bytes the wire must carry instead.
    fn large(ipv6: bool, len: usize, mss: usize) -> (Vec<u8>, Vec<Vec<u8>>) {
        let payload: Vec<u8> = (0..len).map(|b| (b * 7 + b / 251) as u8).collect();
        let given = segment(ipv6, SEQ, &payload, TcpControl::Psh, false);
        let n = payload.chunks(mss).count();
        let wire = payload
            .chunks(mss)
            .enumerate()
            .map(|(i, p)| {
                let ctl = if i + 1 == n {
                    TcpControl::Psh
                } else {
                    TcpControl::None
                };
                segment(ipv6, SEQ.wrapping_add((i * mss) as u32), p, ctl, true)
            })
            .collect();
        (given, wire)
    }

    #[test]
    fn a_peers_syn_announces_the_largest_mss_to_the_stack_and_its_own_cuts_the_segments() {
        for ipv6 in [false, true] {
            for ack in [false, true] {
                let mut s = Segmenter::new(1500);
                let mut f = syn(ipv6, Some(1400), ack, true, true);
                s.received(&mut f);
                assert_eq!(announced_mss(&f), Some(44 * 1400));
                assert_eq!(
                    offload::verify(&f),
                    offload::Verdict::Valid(offload::Transport::Tcp)
                );
                let (mut given, wire) = large(ipv6, 60000, 1400);
                assert!(s.is_large(given.len()));
                let Some(Large::Cut(gso)) = s.transmit(&mut given) else {
                    panic!("not cut");
                };
                assert_eq!((gso.mss, gso.ipv6), (1400, ipv6));
                assert!(cut(&given, &gso) == wire, "ipv6 {ipv6}");
            }
        }
    }

    #[test]
    fn segments_are_cut_at_the_wire_mss_when_the_peer_allows_more_and_safely_when_unknown() {
        for ipv6 in [false, true] {
            let wire_mss = if ipv6 { 1440 } else { 1460 };
            let mut s = Segmenter::new(1500);
            let mut f = syn(ipv6, Some(9000), false, true, true);
            s.received(&mut f);
            let (mut given, wire) = large(ipv6, 30000, wire_mss);
            let Some(Large::Cut(gso)) = s.transmit(&mut given) else {
                panic!("not cut");
            };
            assert_eq!(gso.mss, wire_mss);
            assert!(cut(&given, &gso) == wire);
            // a connection whose SYN was not seen: the default MSS
            let s = Segmenter::new(1500);
            let (mut given, _) = large(ipv6, 30000, 1);
            let Some(Large::Cut(gso)) = s.transmit(&mut given) else {
                panic!("not cut");
            };
            assert_eq!(gso.mss, if ipv6 { 1220 } else { 536 });
        }
    }

    #[test]
    fn the_mss_option_is_rewritten_at_any_alignment_with_a_right_checksum() {
        for ipv6 in [false, true] {
            for lead in 0..4 {
                // NOPs in front of the MSS option move it to every alignment
                let mut f = syn(ipv6, Some(1460), false, true, true);
                let tcp = tcp_at(&f).unwrap();
                let opts = tcp.l4 + 20;
                assert!(tcp.payload - opts >= 8);
                f[opts..tcp.payload].fill(OPTION_NOP);
                f[opts + lead..opts + lead + 4].copy_from_slice(&[OPTION_MSS, 4, 0x05, 0xb4]);
                offload::complete_in_software(&mut f);
                let mut s = Segmenter::new(1500);
                s.received(&mut f);
                let raised = if ipv6 { 44 * 1440 } else { 44 * 1460 };
                assert_eq!(announced_mss(&f), Some(raised), "lead {lead}");
                assert_eq!(
                    offload::verify(&f),
                    offload::Verdict::Valid(offload::Transport::Tcp),
                    "ipv6 {ipv6} lead {lead}"
                );
                assert_eq!(s.peers.values().copied().collect::<Vec<_>>(), [1460]);
            }
        }
    }

    #[test]
    fn a_syn_without_an_mss_and_other_segments_are_left_alone() {
        for ipv6 in [false, true] {
            let mut s = Segmenter::new(1500);
            let mut f = syn(ipv6, None, false, true, true);
            let before = f.clone();
            s.received(&mut f);
            assert_eq!(f, before);
            let (_, mut data) = run(ipv6, &[1400]);
            let before = data[0].clone();
            s.received(&mut data[0]);
            assert_eq!(data[0], before);
            assert!(s.peers.is_empty());
            // and segments up to the MTU go out as they are
            assert_eq!(s.transmit(&mut data[0]), None);
            assert_eq!(data[0], before);
        }
    }

    #[test]
    fn the_stacks_own_syn_announces_the_wire_mss() {
        for ipv6 in [false, true] {
            for ack in [false, true] {
                let s = Segmenter::new(1500);
                let big = (LARGE_SEND_IP_MTU - fixed_headers(ipv6)) as u16;
                let mut f = syn(ipv6, Some(big), ack, false, false);
                assert_eq!(s.transmit(&mut f), None);
                assert_eq!(announced_mss(&f), Some(if ipv6 { 1440 } else { 1460 }));
            }
        }
    }

    #[test]
    fn a_large_udp_datagram_over_ipv4_goes_out_as_fragments_and_over_ipv6_not_at_all() {
        use smoltcp::wire::{UdpPacket, UdpRepr};
        let payload: Vec<u8> = (0..5000u32).map(|i| (i * 13 + 5) as u8).collect();
        let udp = |ipv6: bool| {
            crate::offload::tests::frame(ipv6, IpProtocol::Udp, 8 + payload.len(), |seg, s, d| {
                UdpRepr {
                    src_port: 7,
                    dst_port: 5353,
                }
                .emit(
                    &mut UdpPacket::new_unchecked(seg),
                    &s,
                    &d,
                    payload.len(),
                    |p| p.copy_from_slice(&payload),
                    &ChecksumCapabilities::ignored(),
                )
            })
        };
        let s = Segmenter::new(1500);
        let mut f = udp(false);
        let Some(Large::Fragments(fragments)) = s.transmit(&mut f) else {
            panic!("not fragmented");
        };
        assert_eq!(fragments.len(), 4);
        // put back together: the datagram, with a right checksum
        let mut whole = f[..14 + 20].to_vec();
        for (i, frag) in fragments.iter().enumerate() {
            assert!(frag.len() <= 1514);
            let ip = smoltcp::wire::Ipv4Packet::new_checked(&frag[14..]).unwrap();
            assert!(ip.verify_checksum());
            assert_eq!(ip.more_frags(), i + 1 < fragments.len());
            assert!(!ip.dont_frag());
            assert_eq!(usize::from(ip.frag_offset()), whole.len() - 34);
            whole.extend_from_slice(ip.payload());
        }
        assert_eq!(whole.len(), f.len());
        assert_eq!(
            offload::verify(&whole),
            offload::Verdict::Valid(offload::Transport::Udp)
        );
        assert_eq!(&whole[14 + 28..], &payload[..]);
        assert_eq!(s.transmit(&mut udp(true)), Some(Large::Drop));
    }
}
