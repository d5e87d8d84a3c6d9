//! A hand-written TCP peer that breaks the rules, against the stack: whatever a peer
//! sends, the stack must not panic (in the kernel a panic is the whole VM).
//!
//! Issue 20: smoltcp 0.12 accepted bytes beyond the receive window it had advertised
//! when its buffer had room (after the program read some), and its next window
//! computation (`last_ack + last_win - next_ack`) then panicked with "attempt to
//! subtract sequence numbers with underflow". smoltcp 0.13 trims such segments to the
//! window (upstream #1079).

mod common;
use common::*;
use rumprun_net::options::*;
use rumprun_net::smoltcp::phy::ChecksumCapabilities;
use rumprun_net::smoltcp::wire::{
    ArpOperation, ArpPacket, ArpRepr, EthernetAddress, EthernetFrame, EthernetProtocol,
    EthernetRepr, IpAddress, IpProtocol, Ipv4Packet, Ipv4Repr, TcpControl, TcpPacket, TcpRepr,
    TcpSeqNumber,
};
use rumprun_net::{SocketId, Stack};

const PEER_MAC: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 2]);
const GUEST_MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];
const PEER_PORT: u16 = 40000;
const PORT: u16 = 7000;

/// A segment the stack sent to the peer.
#[derive(Debug, Clone, Copy)]
struct Seg {
    syn: bool,
    rst: bool,
    seq: u32,
    ack: Option<u32>,
    win: u16,
}

struct Peer {
    end: WireEnd,
    seen: Vec<Seg>,
    /// The MSS its SYN announces.
    syn_mss: u16,
}

impl Peer {
    /// Answers ARP and records the TCP segments the stack sent since the last call.
    fn pump(&mut self) {
        while let Some(f) = self.end.take() {
            let eth = EthernetFrame::new_checked(&f[..]).unwrap();
            match eth.ethertype() {
                EthernetProtocol::Arp => {
                    let req = ArpRepr::parse(&ArpPacket::new_checked(eth.payload()).unwrap());
                    if let Ok(ArpRepr::EthernetIpv4 {
                        operation: ArpOperation::Request,
                        source_hardware_addr,
                        source_protocol_addr,
                        target_protocol_addr,
                        ..
                    }) = req
                    {
                        assert_eq!(target_protocol_addr, B_IP);
                        let reply = ArpRepr::EthernetIpv4 {
                            operation: ArpOperation::Reply,
                            source_hardware_addr: PEER_MAC,
                            source_protocol_addr: B_IP,
                            target_hardware_addr: source_hardware_addr,
                            target_protocol_addr: source_protocol_addr,
                        };
                        let mut out = vec![0u8; 14 + reply.buffer_len()];
                        let mut fr = EthernetFrame::new_unchecked(&mut out[..]);
                        EthernetRepr {
                            src_addr: PEER_MAC,
                            dst_addr: source_hardware_addr,
                            ethertype: EthernetProtocol::Arp,
                        }
                        .emit(&mut fr);
                        reply.emit(&mut ArpPacket::new_unchecked(fr.payload_mut()));
                        self.end.put(out);
                    }
                }
                EthernetProtocol::Ipv4 => {
                    let ip = Ipv4Packet::new_checked(eth.payload()).unwrap();
                    if ip.next_header() != IpProtocol::Tcp {
                        continue;
                    }
                    let caps = ChecksumCapabilities::default();
                    let tcp = TcpPacket::new_checked(ip.payload()).unwrap();
                    let r = TcpRepr::parse(
                        &tcp,
                        &IpAddress::Ipv4(ip.src_addr()),
                        &IpAddress::Ipv4(ip.dst_addr()),
                        &caps,
                    )
                    .unwrap();
                    self.seen.push(Seg {
                        syn: r.control == TcpControl::Syn,
                        rst: r.control == TcpControl::Rst,
                        seq: r.seq_number.0 as u32,
                        ack: r.ack_number.map(|a| a.0 as u32),
                        win: r.window_len,
                    });
                }
                _ => {}
            }
        }
    }

    /// Sends a segment from the peer to the stack's listening port.
    fn send(&mut self, control: TcpControl, seq: u32, ack: Option<u32>, payload: &[u8]) {
        let repr = TcpRepr {
            src_port: PEER_PORT,
            dst_port: PORT,
            control,
            seq_number: TcpSeqNumber(seq as i32),
            ack_number: ack.map(|a| TcpSeqNumber(a as i32)),
            window_len: 65535,
            window_scale: None,
            max_seg_size: (control == TcpControl::Syn).then_some(self.syn_mss),
            sack_permitted: false,
            sack_ranges: [None; 3],
            timestamp: None,
            payload,
        };
        let caps = ChecksumCapabilities::default();
        let len = repr.buffer_len();
        let mut out = vec![0u8; 14 + 20 + len];
        let mut f = EthernetFrame::new_unchecked(&mut out[..]);
        EthernetRepr {
            src_addr: PEER_MAC,
            dst_addr: EthernetAddress(GUEST_MAC),
            ethertype: EthernetProtocol::Ipv4,
        }
        .emit(&mut f);
        let mut ip = Ipv4Packet::new_unchecked(f.payload_mut());
        Ipv4Repr {
            src_addr: B_IP,
            dst_addr: A_IP,
            next_header: IpProtocol::Tcp,
            payload_len: len,
            hop_limit: 64,
        }
        .emit(&mut ip, &caps);
        repr.emit(
            &mut TcpPacket::new_unchecked(ip.payload_mut()),
            &IpAddress::Ipv4(B_IP),
            &IpAddress::Ipv4(A_IP),
            &caps,
        );
        self.end.put(out);
    }
}

struct Rig {
    st: Stack<WireEnd>,
    peer: Peer,
    now: u64,
}

impl Rig {
    /// Polls the stack for `ms` simulated milliseconds, the peer pumping in between.
    fn run(&mut self, ms: u64) {
        for _ in 0..ms {
            self.st.poll(self.now);
            self.peer.pump();
            self.now += 1;
        }
    }

    /// Runs until the stack sent a segment acknowledging `ack`; returns it.
    fn until_ack(&mut self, ack: u32) -> Seg {
        for _ in 0..1000 {
            self.run(1);
            if let Some(s) = self.peer.seen.iter().rev().find(|s| s.ack == Some(ack)) {
                return *s;
            }
        }
        panic!("no ACK of {ack}; saw {:?}", self.peer.seen);
    }
}

/// A listener on A_IP:PORT with a small receive buffer, a connection from the peer
/// accepted on it. Returns the rig, the accepted socket, the peer's next sequence
/// number, the stack's, and the window the stack advertised (its buffer).
fn established() -> (Rig, SocketId, u32, u32, usize) {
    let (ours, theirs) = wire();
    let mut st = Stack::new(1, 0);
    let i = st.add_interface("eth0", ours, GUEST_MAC);
    st.set_ipv4(i, A_IP, 24, None).unwrap();
    let l = tcp4(&mut st);
    // The smallest SO_RCVBUF: a buffer of a few KiB (rx_buffer_len).
    st.setsockopt(l, SOL_SOCKET, SO_RCVBUF, &2048i32.to_ne_bytes())
        .unwrap();
    let (rig, s, seq, ours, win) = connect(st, theirs, l, 1460);
    assert!((2048..8192).contains(&win), "window {win}");
    (rig, s, seq, ours, win)
}

/// Listens with `l` on A_IP:PORT and accepts a connection from the peer on `theirs`,
/// whose SYN announces `mss`: as `established` returns.
fn connect(
    mut st: Stack<WireEnd>,
    theirs: WireEnd,
    l: SocketId,
    mss: u16,
) -> (Rig, SocketId, u32, u32, usize) {
    st.bind(l, v4(A_IP, PORT)).unwrap();
    st.listen(l, 4).unwrap();
    let mut rig = Rig {
        st,
        peer: Peer {
            end: theirs,
            seen: Vec::new(),
            syn_mss: mss,
        },
        now: 0,
    };
    rig.run(2);
    let isn = 1000u32;
    rig.peer.send(TcpControl::Syn, isn, None, &[]);
    let synack = rig.until_ack(isn + 1);
    assert!(synack.syn, "expected a SYN-ACK, got {synack:?}");
    let win = synack.win as usize;
    let ours = synack.seq.wrapping_add(1);
    rig.peer.send(TcpControl::None, isn + 1, Some(ours), &[]);
    rig.run(5);
    let (s, _) = rig.st.accept(l).expect("the connection is established");
    (rig, s, isn + 1, ours, win)
}

#[test]
fn bytes_beyond_the_advertised_window_do_not_panic_the_stack() {
    let (mut rig, s, mut seq, ours, win) = established();
    let total = win + 100;
    let data = pattern(total, 9);

    // 1200 bytes: the stack acknowledges them with what is left of the window.
    rig.peer
        .send(TcpControl::Psh, seq, Some(ours), &data[..1200]);
    seq += 1200;
    let ack = rig.until_ack(seq);
    assert_eq!(
        ack.win as usize,
        win - 1200,
        "window after 1200 bytes: {ack:?}"
    );

    // The program reads 100 bytes: the buffer has room for 100 more than the
    // window, which is not worth updating (smoltcp updates when it at least doubles).
    let mut got = vec![0u8; 100];
    assert_eq!(rig.st.recv(s, &mut got, 0).unwrap().len, 100);
    rig.run(20);

    // The peer fills the buffer: 100 bytes beyond the right edge it was told.
    rig.peer
        .send(TcpControl::Psh, seq, Some(ours), &data[1200..total]);
    rig.run(50); // smoltcp 0.12 panicked here

    // The stack lives on, keeps at most what was in the window, and the stream is
    // intact: the peer resends from what was acknowledged until all arrived.
    let mut received = got;
    let mut next = seq;
    for _ in 0..200 {
        let mut buf = vec![0u8; 4096];
        if let Ok(r) = rig.st.recv(s, &mut buf, 0) {
            received.extend_from_slice(&buf[..r.len]);
        }
        if received.len() >= total {
            break;
        }
        if let Some(a) = rig.peer.seen.iter().rev().find_map(|s| s.ack) {
            next = next.max(a);
        }
        let from = (next - 1001) as usize;
        rig.peer
            .send(TcpControl::Psh, next, Some(ours), &data[from..total]);
        rig.run(20);
    }
    assert_eq!(received.len(), total, "the stream stalled");
    assert_eq!(received, data, "the stream is corrupt");
    assert!(
        !rig.peer.seen.iter().any(|s| s.rst),
        "the stack reset the connection: {:?}",
        rig.peer.seen
    );
}

/// Large send (`tso::Segmenter`, in the virtio-net driver): the device reports a 64 KiB
/// MTU and a peer's SYN reaches the stack with its MSS raised to 44 real ones. smoltcp
/// acknowledges at once only when more than that MSS arrived, so without help a peer
/// that sent its initial window (10 segments, 14600 bytes) would wait 10 ms for the
/// ACK: full segments must be acknowledged at once, smaller ones may wait as before.
#[test]
fn with_large_send_full_segments_are_acknowledged_at_once_and_small_ones_later() {
    let (ours, theirs) = wire();
    let mut st = Stack::new(1, 0);
    let i = st.add_large_send_interface(
        "eth0",
        ours.with_mtu(14 + rumprun_net::tso::LARGE_SEND_IP_MTU),
        GUEST_MAC,
        1500,
    );
    st.set_ipv4(i, A_IP, 24, None).unwrap();
    let l = tcp4(&mut st);
    let (mut rig, s, mut seq, ours, _) = connect(st, theirs, l, 44 * 1460);
    let data = pattern(10 * 1460, 3);
    for piece in data.chunks(1460) {
        rig.peer.send(TcpControl::None, seq, Some(ours), piece);
        seq += piece.len() as u32;
        // the same millisecond: no delayed-ACK timer may have run
        rig.st.poll(rig.now);
        rig.peer.pump();
        assert!(
            rig.peer.seen.iter().any(|a| a.ack == Some(seq)),
            "no ACK of a full segment at once; saw {:?}",
            rig.peer.seen
        );
    }
    let mut got = vec![0u8; data.len()];
    assert_eq!(rig.st.recv(s, &mut got, 0).unwrap().len, data.len());
    assert_eq!(got, data);
    // a request-sized segment: its ACK waits (it may ride on an answer)
    rig.peer
        .send(TcpControl::Psh, seq, Some(ours), &data[..100]);
    seq += 100;
    rig.run(3);
    assert!(
        !rig.peer.seen.iter().any(|a| a.ack == Some(seq)),
        "a small segment acknowledged at once"
    );
    rig.until_ack(seq);
}
