//! virtio devices (virtio-drivers drives blk's rings; net has its own, `virtqueue`) over both transports:
//! PCI (`-M q35`/`pc`: found on the bus, interrupts through MSI-X) and MMIO
//! (`-M microvm`, Firecracker: found through the kernel command line's
//! `virtio_mmio.device=` words, interrupts on an IOAPIC line; see `mmio`). Which
//! devices we know, how a queue's interrupts reach its driver, starting the drivers.

pub mod blk;
pub mod hal;
pub mod mmio;
pub mod net;
pub mod virtqueue;

use super::pci::{self, Device};
use super::{ioapic, irq};
use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use virtio_drivers::transport::pci::bus::DeviceFunction;
use virtio_drivers::transport::{pci::PciTransport, DeviceType, SomeTransport, Transport as _};

/// A device's transport, PCI or MMIO.
pub type Transport = SomeTransport<'static>;

/// Where a device's interrupts come from.
pub enum Interrupts {
    /// MSI-X of this PCI function: each queue can have its own vector, or none.
    Msix(DeviceFunction),
    /// One IOAPIC line for the whole device (every queue and config changes);
    /// `registers` is the (virtual) address of its virtio-mmio registers, where the
    /// handler acknowledges the interrupt so the line drops.
    Line { gsi: u32, registers: u64 },
}

/// virtio-mmio registers: InterruptStatus and InterruptACK.
const MMIO_INTERRUPT_STATUS: u64 = 0x60;
const MMIO_INTERRUPT_ACK: u64 = 0x64;

impl Interrupts {
    /// Makes `queue`'s used-buffer interrupts run `handler` (with MMIO, the device's
    /// other queues interrupt too). False when that cannot be done: the driver polls.
    pub fn connect(&self, queue: u16, handler: fn()) -> bool {
        match *self {
            Interrupts::Msix(df) => {
                let Some(vector) = irq::allocate(Box::new(handler)) else {
                    return false;
                };
                pci::enable_msix(df, vector).is_some() && route_msix_queue(df, queue)
            }
            Interrupts::Line { gsi, registers } => {
                let ack = move || {
                    // SAFETY: the device's register window, mapped through the direct map.
                    unsafe {
                        let status =
                            ((registers + MMIO_INTERRUPT_STATUS) as *const u32).read_volatile();
                        ((registers + MMIO_INTERRUPT_ACK) as *mut u32).write_volatile(status);
                    }
                    handler();
                };
                let Some(vector) = irq::allocate(Box::new(ack)) else {
                    return false;
                };
                ioapic::route_level(gsi, vector)
            }
        }
    }

    /// For boot messages: how interrupts arrive.
    pub fn describe(&self, connected: bool) -> String {
        match (connected, self) {
            (false, _) => String::from("polled"),
            (true, Interrupts::Msix(_)) => String::from("interrupt-driven (MSI-X)"),
            (true, Interrupts::Line { gsi, .. }) => format!("interrupt-driven (IOAPIC line {gsi})"),
        }
    }
}

/// Points `queue` at MSI-X table entry 0 and turns config-change interrupts off
/// (virtio_pci_common_cfg: msix_config @16, queue_select @22, queue_msix_vector @26).
/// Other queues keep no vector (the device's reset default), so they stay silent.
fn route_msix_queue(df: DeviceFunction, queue: u16) -> bool {
    const NO_VECTOR: u16 = 0xffff;
    let Some(common) = pci::virtio_cap_address(df, 1) else {
        return false;
    };
    let cfg = crate::arch::paging::phys_to_virt(common);
    // SAFETY: the common configuration structure, mapped through the direct map.
    unsafe {
        (cfg.add(16) as *mut u16).write_volatile(NO_VECTOR);
        (cfg.add(22) as *mut u16).write_volatile(queue);
        (cfg.add(26) as *mut u16).write_volatile(0);
        // The device answers NO_VECTOR when it refuses.
        (cfg.add(26) as *const u16).read_volatile() == 0
    }
}

/// The notification register of `queue` (direct-map address) when `interrupts` are a
/// PCI function's (virtio 1.2 §4.1.4.4: the notify capability's window plus the
/// queue's `queue_notify_off` times `notify_off_multiplier`), so that a driver can
/// ring it without the transport's per-notification lookups. None on MMIO (there a
/// notification is one register write already) or when the capability is missing.
pub fn doorbell(interrupts: &Interrupts, queue: u16) -> Option<*mut u16> {
    let Interrupts::Msix(df) = *interrupts else {
        return None;
    };
    let (notify, multiplier) = pci::virtio_notify_cap(df)?;
    let common = pci::virtio_cap_address(df, 1)?;
    let cfg = crate::arch::paging::phys_to_virt(common);
    // SAFETY: the common configuration structure (queue_select @22, queue_notify_off
    // @30), mapped through the direct map; the driver owns the device (nothing else
    // selects a queue meanwhile).
    let offset = unsafe {
        (cfg.add(22) as *mut u16).write_volatile(queue);
        (cfg.add(30) as *const u16).read_volatile()
    };
    let address = notify + u64::from(offset) * u64::from(multiplier);
    Some(crate::arch::paging::phys_to_virt(address) as *mut u16)
}

pub fn device_type(dev: &Device) -> Option<DeviceType> {
    virtio_drivers::transport::pci::virtio_device_type(&dev.info)
}

/// Starts the driver for a virtio PCI function.
pub fn start_pci(dev: Device, kind: DeviceType, verbose: bool) {
    let f = dev.function;
    if !pci::configure(f) {
        kprintln!(
            "rumprun: pci {:02x}:{:02x}.{}: no room for its memory windows; device ignored",
            f.bus,
            f.device,
            f.function
        );
        return;
    }
    match PciTransport::new::<hal::KernelHal, _>(&mut pci::root(), f) {
        Ok(t) => start(t.into(), Interrupts::Msix(f), verbose),
        Err(e) => kprintln!(
            "rumprun: virtio {:?} at {:02x}:{:02x}.{}: cannot start ({:?})",
            kind,
            f.bus,
            f.device,
            f.function,
            e
        ),
    }
}

/// Starts the driver for a device on either transport.
fn start(transport: Transport, interrupts: Interrupts, verbose: bool) {
    match transport.device_type() {
        DeviceType::Block => blk::start(transport, interrupts, verbose),
        DeviceType::Network => net::start(transport, interrupts, verbose),
        other => {
            if verbose {
                kprintln!("rumprun: virtio {:?} device: no driver yet", other);
            }
        }
    }
}
