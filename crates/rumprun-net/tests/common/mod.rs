//! Test helpers: an in-memory Ethernet "wire" joining two stacks, and a driver that
//! polls both while simulated time advances.
#![allow(dead_code)]

use rumprun_net::smoltcp::phy::{self, Device, DeviceCapabilities, Medium};
use rumprun_net::smoltcp::time::Instant;
use rumprun_net::{Family, SockAddr, SockType, SocketId, Stack};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::net::Ipv4Addr;
use std::rc::Rc;

type Queue = Rc<RefCell<VecDeque<Vec<u8>>>>;

/// One end of a wire: what it transmits the other end receives.
pub struct WireEnd {
    rx: Queue,
    tx: Queue,
    /// The frame size the device reports (1514; larger for a large-send card).
    mtu: usize,
}

/// Two connected ends.
pub fn wire() -> (WireEnd, WireEnd) {
    let a: Queue = Default::default();
    let b: Queue = Default::default();
    (
        WireEnd {
            rx: a.clone(),
            tx: b.clone(),
            mtu: 1514,
        },
        WireEnd {
            rx: b,
            tx: a,
            mtu: 1514,
        },
    )
}

impl WireEnd {
    /// This end with a device reporting frames of up to `mtu` bytes.
    pub fn with_mtu(self, mtu: usize) -> WireEnd {
        WireEnd { mtu, ..self }
    }
    /// Frames waiting to be received by this end.
    pub fn pending(&self) -> usize {
        self.rx.borrow().len()
    }
    /// Takes a frame this end would receive (for a hand-written peer).
    pub fn take(&self) -> Option<Vec<u8>> {
        self.rx.borrow_mut().pop_front()
    }
    /// Sends a frame to the other end (for a hand-written peer: use the other end).
    pub fn put(&self, f: Vec<u8>) {
        self.tx.borrow_mut().push_back(f)
    }
}

pub struct Rx(Vec<u8>);
pub struct Tx<'a>(&'a Queue);

impl phy::RxToken for Rx {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

impl phy::TxToken for Tx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut buf = vec![0u8; len];
        let r = f(&mut buf);
        self.0.borrow_mut().push_back(buf);
        r
    }
}

impl Device for WireEnd {
    type RxToken<'a> = Rx;
    type TxToken<'a> = Tx<'a>;
    fn receive(&mut self, _t: Instant) -> Option<(Rx, Tx<'_>)> {
        let f = self.rx.borrow_mut().pop_front()?;
        Some((Rx(f), Tx(&self.tx)))
    }
    fn transmit(&mut self, _t: Instant) -> Option<Tx<'_>> {
        Some(Tx(&self.tx))
    }
    fn capabilities(&self) -> DeviceCapabilities {
        let mut c = DeviceCapabilities::default();
        c.medium = Medium::Ethernet;
        c.max_transmission_unit = self.mtu;
        c
    }
}

pub const A_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
pub const B_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

/// Two stacks, `eth0` each, on 10.0.0.0/24 (A .1, B .2), with IPv6 link-local
/// addresses and fd00::1 / fd00::2.
pub struct Net {
    pub a: Stack<WireEnd>,
    pub b: Stack<WireEnd>,
    pub now: u64,
}

impl Net {
    pub fn new() -> Net {
        let (wa, wb) = wire();
        let mut a = Stack::new(1, 0);
        let mut b = Stack::new(2, 0);
        let ia = a.add_interface("eth0", wa, [2, 0, 0, 0, 0, 1]);
        let ib = b.add_interface("eth0", wb, [2, 0, 0, 0, 0, 2]);
        assert_eq!(ia, 2);
        // As the kernel sets its cards that interrupt: `step` polls each stack again
        // for what reached it meanwhile, so a poll's rounds end at the first.
        a.set_notifies(ia, true);
        b.set_notifies(ib, true);
        a.set_ipv4(ia, A_IP, 24, None).unwrap();
        b.set_ipv4(ib, B_IP, 24, None).unwrap();
        a.add_ipv6(ia, "fd00::1".parse().unwrap(), 64, None)
            .unwrap();
        b.add_ipv6(ib, "fd00::2".parse().unwrap(), 64, None)
            .unwrap();
        Net { a, b, now: 0 }
    }

    /// One step: poll both stacks, advance 1 ms.
    pub fn step(&mut self) {
        self.a.poll(self.now);
        self.b.poll(self.now);
        self.now += 1;
    }

    /// Steps until `cond` holds (panics after `max_ms` simulated ms).
    pub fn until(&mut self, max_ms: u64, mut cond: impl FnMut(&mut Net) -> bool) {
        let end = self.now + max_ms;
        while self.now < end {
            self.step();
            if cond(self) {
                return;
            }
        }
        panic!("condition not reached in {max_ms} ms");
    }

    /// Steps `ms` milliseconds.
    pub fn run(&mut self, ms: u64) {
        for _ in 0..ms {
            self.step();
        }
    }
}

pub fn v4(ip: Ipv4Addr, port: u16) -> SockAddr {
    SockAddr::v4(ip, port)
}

pub fn tcp4<D: Device>(s: &mut Stack<D>) -> SocketId {
    s.socket(Family::Inet, SockType::Stream).unwrap()
}

pub fn udp4<D: Device>(s: &mut Stack<D>) -> SocketId {
    s.socket(Family::Inet, SockType::Dgram).unwrap()
}

/// A deterministic byte pattern.
pub fn pattern(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| {
            (i as u32)
                .wrapping_mul(2654435761)
                .wrapping_add(seed as u32) as u8
                ^ (i >> 12) as u8
        })
        .collect()
}
