//! virtio-net: Ethernet frames through the rx/tx queues of virtio-drivers' raw
//! driver. The rx ring is kept full of buffers, each recycled once its frame is
//! copied out; receive interrupts (MSI-X on PCI, the device's IOAPIC line on MMIO)
//! wake the threads waiting on sockets, which then poll the TCP/IP stack (`net`).
//! Sending does not wait for the device: a frame stays queued (up to the ring's size)
//! and its buffer is reclaimed on a later send, so QEMU can take many at once;
//! transmit completions need no interrupt. `flush` waits until all are sent.

use super::hal::KernelHal;
use super::{Interrupts, Transport};
use crate::drivers::netdev::{self, NetDevice};
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use spin::Mutex;
use virtio_drivers::device::net::VirtIONetRaw;
use virtio_drivers::transport::Transport as _;

const QUEUE_SIZE: usize = 64;
const BUF_LEN: usize = 2048;
const RECEIVE_QUEUE: u16 = 0;
/// How long a send waits for room in a full transmit ring before dropping the frame.
const FULL_RING_WAIT_NS: u64 = 10_000_000;
/// How long `flush` waits for the device to send what is queued.
const FLUSH_TIMEOUT_NS: u64 = 100_000_000;

/// Feature bits (virtio 1.2, 5.1.3) reported at boot: checksum offload. virtio-drivers
/// does not negotiate them, and QEMU offers them only with a vnet-header backend (tap),
/// never on user networking.
const F_CSUM: u64 = 1 << 0;
const F_GUEST_CSUM: u64 = 1 << 1;

pub struct VirtioNet {
    queues: Mutex<Queues>,
    mac: [u8; 6],
    interrupts: bool,
}

/// The device and the buffers it owns, by descriptor token.
struct Queues {
    raw: VirtIONetRaw<KernelHal, Transport, QUEUE_SIZE>,
    /// Length of the virtio-net header in front of every frame.
    header_len: usize,
    /// Buffers the device fills with received frames.
    rx: [Option<Vec<u8>>; QUEUE_SIZE],
    /// Frames handed to the device and not yet sent.
    tx: [Option<Vec<u8>>; QUEUE_SIZE],
}

impl Queues {
    fn new(raw: VirtIONetRaw<KernelHal, Transport, QUEUE_SIZE>) -> Option<Queues> {
        let header_len = raw.fill_buffer_header(&mut [0u8; 32]).ok()?;
        let mut q = Queues {
            raw,
            header_len,
            rx: [const { None }; QUEUE_SIZE],
            tx: [const { None }; QUEUE_SIZE],
        };
        for _ in 0..QUEUE_SIZE {
            q.give_rx(vec![0u8; BUF_LEN])?;
        }
        Some(q)
    }

    /// Hands an empty receive buffer to the device.
    fn give_rx(&mut self, mut buf: Vec<u8>) -> Option<()> {
        // SAFETY: the buffer is kept in `rx` (its heap memory never moves) until the
        // device returns it with this token.
        let token = unsafe { self.raw.receive_begin(&mut buf) }.ok()?;
        self.rx[token as usize] = Some(buf);
        Some(())
    }

    /// Frees the buffers of frames the device has sent; true when none is left.
    fn reap_sent(&mut self) -> bool {
        while let Some(token) = self.raw.poll_transmit() {
            let Some(buf) = self.tx[token as usize].take() else {
                break;
            };
            // SAFETY: the buffer that was passed to transmit_begin for this token.
            let _ = unsafe { self.raw.transmit_complete(token, &buf) };
        }
        self.tx.iter().all(Option::is_none)
    }
}

/// A frame arrived: wake every I/O waiter; the socket waiters poll the stack.
fn on_receive() {
    crate::fd::wait::notify();
}

pub fn start(mut transport: Transport, interrupts: Interrupts, verbose: bool) {
    let offered = transport.read_device_features();
    let queues = match VirtIONetRaw::<KernelHal, _, QUEUE_SIZE>::new(transport) {
        Ok(raw) => Queues::new(raw),
        Err(e) => {
            kprintln!("rumprun: virtio-net: cannot start ({e:?})");
            return;
        }
    };
    let Some(mut queues) = queues else {
        kprintln!("rumprun: virtio-net: cannot fill its receive ring");
        return;
    };
    let mac = queues.raw.mac_address();
    let irq = interrupts.connect(RECEIVE_QUEUE, on_receive);
    if irq {
        queues.raw.enable_interrupts();
    }
    let nic = Arc::new(VirtioNet {
        queues: Mutex::new(queues),
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

impl NetDevice for VirtioNet {
    fn mac(&self) -> [u8; 6] {
        self.mac
    }
    fn interrupt_driven(&self) -> bool {
        self.interrupts
    }
    fn transmit(&self, frame: &[u8]) -> bool {
        let mut q = self.queues.lock();
        q.reap_sent();
        if !q.raw.can_send() {
            // The ring is full: give the device a moment rather than drop the frame
            // (a dropped TCP segment costs a retransmission timeout).
            let deadline = crate::time::monotonic_ns() + FULL_RING_WAIT_NS;
            while !q.raw.can_send() && crate::time::monotonic_ns() < deadline {
                crate::arch::cpu::pause();
                q.reap_sent();
            }
            if !q.raw.can_send() {
                return false;
            }
        }
        let mut buf = vec![0u8; q.header_len + frame.len()];
        if q.raw.fill_buffer_header(&mut buf).is_err() {
            return false;
        }
        buf[q.header_len..].copy_from_slice(frame);
        // SAFETY: the buffer is kept in `tx` (its heap memory never moves) until the
        // device is done with this token (`reap_sent`).
        match unsafe { q.raw.transmit_begin(&buf) } {
            Ok(token) => {
                q.tx[token as usize] = Some(buf);
                true
            }
            Err(_) => false,
        }
    }
    fn receive(&self) -> Option<Vec<u8>> {
        let mut q = self.queues.lock();
        let token = q.raw.poll_receive()?;
        let mut buf = q.rx[token as usize].take()?;
        // SAFETY: the buffer that was passed to receive_begin for this token.
        let frame = match unsafe { q.raw.receive_complete(token, &mut buf) } {
            Ok((header, len)) => Some(buf[header..header + len].to_vec()),
            Err(_) => None,
        };
        q.give_rx(buf);
        frame
    }
    fn flush(&self) {
        let deadline = crate::time::monotonic_ns() + FLUSH_TIMEOUT_NS;
        while !self.queues.lock().reap_sent() && crate::time::monotonic_ns() < deadline {
            crate::arch::cpu::pause();
        }
    }
}
