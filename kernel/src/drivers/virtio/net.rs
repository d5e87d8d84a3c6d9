//! virtio-net: Ethernet frames through the rx/tx queues (virtio-drivers keeps the rx
//! ring full of buffers and recycles them). Polled by the TCP/IP stack for now (see
//! `net`); receive interrupts are the next step.

use super::hal::KernelHal;
use crate::drivers::netdev::{self, NetDevice};
use alloc::sync::Arc;
use alloc::vec::Vec;
use spin::Mutex;
use virtio_drivers::device::net::VirtIONet;
use virtio_drivers::transport::pci::PciTransport;

const QUEUE_SIZE: usize = 64;
const BUF_LEN: usize = 2048;

pub struct VirtioNet {
    dev: Mutex<VirtIONet<KernelHal, PciTransport, QUEUE_SIZE>>,
    mac: [u8; 6],
}

pub fn start(transport: PciTransport, verbose: bool) {
    match VirtIONet::<KernelHal, _, QUEUE_SIZE>::new(transport, BUF_LEN) {
        Ok(dev) => {
            let mac = dev.mac_address();
            let nic = Arc::new(VirtioNet {
                dev: Mutex::new(dev),
                mac,
            });
            let name = netdev::register(nic);
            if verbose {
                kprintln!(
                    "rumprun: {name}: virtio-net, mac {}",
                    netdev::mac_string(mac)
                );
            }
        }
        Err(e) => kprintln!("rumprun: virtio-net: cannot start ({e:?})"),
    }
}

impl NetDevice for VirtioNet {
    fn mac(&self) -> [u8; 6] {
        self.mac
    }
    fn transmit(&self, frame: &[u8]) -> bool {
        let mut dev = self.dev.lock();
        if !dev.can_send() {
            return false;
        }
        let mut tx = dev.new_tx_buffer(frame.len());
        tx.packet_mut().copy_from_slice(frame);
        dev.send(tx).is_ok()
    }
    fn receive(&self) -> Option<Vec<u8>> {
        let mut dev = self.dev.lock();
        if !dev.can_recv() {
            return None;
        }
        let rx = dev.receive().ok()?;
        let frame = rx.packet().to_vec();
        let _ = dev.recycle_rx_buffer(rx);
        Some(frame)
    }
}
