//! A network card (`drivers::netdev::NetDevice`) as a smoltcp device: frames in and
//! out, Ethernet, the card's MTU, and which checksums smoltcp leaves to the card.

use crate::drivers::netdev::NetDevice;
use alloc::sync::Arc;
use alloc::vec::Vec;
use rumprun_net::smoltcp::phy::{self, Checksum, Device, DeviceCapabilities, Medium};
use rumprun_net::smoltcp::time::Instant;

pub struct Nic(pub Arc<dyn NetDevice>);

pub struct Rx(Vec<u8>);
pub struct Tx(Arc<dyn NetDevice>);

impl phy::RxToken for Rx {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

impl phy::TxToken for Tx {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        // smoltcp writes the whole frame (padding included) into the card's buffer.
        let mut f = Some(f);
        let mut r = None;
        // A full ring drops the frame, as a busy wire would; TCP retransmits.
        let _ = self
            .0
            .transmit_with(len, &mut |buf| r = f.take().map(|f| f(buf)));
        crate::drivers::netdev::frame_queued();
        r.expect("the card fills every frame it is asked for")
    }
}

impl Device for Nic {
    type RxToken<'a> = Rx;
    type TxToken<'a> = Tx;
    fn receive(&mut self, _t: Instant) -> Option<(Rx, Tx)> {
        let frame = self.0.receive()?;
        Some((Rx(frame), Tx(self.0.clone())))
    }
    fn transmit(&mut self, _t: Instant) -> Option<Tx> {
        Some(Tx(self.0.clone()))
    }
    fn capabilities(&self) -> DeviceCapabilities {
        let mut c = DeviceCapabilities::default();
        c.medium = Medium::Ethernet;
        c.max_transmission_unit = if self.0.large_send() {
            // smoltcp builds TCP segments this large; the card cuts them
            14 + rumprun_net::tso::LARGE_SEND_IP_MTU
        } else {
            self.0.mtu()
        };
        let offload = self.0.checksum_offload();
        c.checksum.tcp = checksum(!offload.transmit, !offload.receive_tcp);
        // Received UDP is always verified here: a fragmented datagram's checksum
        // covers all its fragments, which no card or driver sees together.
        c.checksum.udp = checksum(!offload.transmit, true);
        c
    }
}

/// What smoltcp does with one protocol's checksums.
fn checksum(compute_on_send: bool, verify_on_receive: bool) -> Checksum {
    match (compute_on_send, verify_on_receive) {
        (true, true) => Checksum::Both,
        (true, false) => Checksum::Tx,
        (false, true) => Checksum::Rx,
        (false, false) => Checksum::None,
    }
}
