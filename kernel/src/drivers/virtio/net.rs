//! virtio-net: Ethernet frames through the rx/tx queues (virtio-drivers keeps the rx
//! ring full of buffers and recycles them). Receive interrupts (MSI-X on PCI, the
//! device's IOAPIC line on MMIO) wake the threads waiting on sockets, which then poll
//! the TCP/IP stack (`net`); sending waits for the device synchronously, so transmit
//! completions need no interrupt.

use super::hal::KernelHal;
use super::{Interrupts, Transport};
use crate::drivers::netdev::{self, NetDevice};
use alloc::sync::Arc;
use alloc::vec::Vec;
use spin::Mutex;
use virtio_drivers::device::net::VirtIONet;
use virtio_drivers::transport::Transport as _;

const QUEUE_SIZE: usize = 64;
const BUF_LEN: usize = 2048;
const RECEIVE_QUEUE: u16 = 0;

/// Feature bits (virtio 1.2, 5.1.3) reported at boot: checksum offload. virtio-drivers
/// does not negotiate them, and QEMU offers them only with a vnet-header backend (tap),
/// never on user networking.
const F_CSUM: u64 = 1 << 0;
const F_GUEST_CSUM: u64 = 1 << 1;

pub struct VirtioNet {
    dev: Mutex<VirtIONet<KernelHal, Transport, QUEUE_SIZE>>,
    mac: [u8; 6],
    interrupts: bool,
}

/// A frame arrived: wake every I/O waiter; the socket waiters poll the stack.
fn on_receive() {
    crate::fd::wait::notify();
}

pub fn start(mut transport: Transport, interrupts: Interrupts, verbose: bool) {
    let offered = transport.read_device_features();
    match VirtIONet::<KernelHal, _, QUEUE_SIZE>::new(transport, BUF_LEN) {
        Ok(mut dev) => {
            let mac = dev.mac_address();
            let irq = interrupts.connect(RECEIVE_QUEUE, on_receive);
            if irq {
                dev.enable_interrupts();
            }
            let nic = Arc::new(VirtioNet {
                dev: Mutex::new(dev),
                mac,
                interrupts: irq,
            });
            let name = netdev::register(nic);
            if verbose {
                kprintln!(
                    "rumprun: {name}: virtio-net, mac {}, {}, checksum offload offered: {}",
                    netdev::mac_string(mac),
                    interrupts.describe(irq),
                    match (offered & F_CSUM != 0, offered & F_GUEST_CSUM != 0) {
                        (true, true) => "tx and rx (not used)",
                        (true, false) => "tx (not used)",
                        (false, true) => "rx (not used)",
                        (false, false) => "none",
                    }
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
    fn interrupt_driven(&self) -> bool {
        self.interrupts
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
