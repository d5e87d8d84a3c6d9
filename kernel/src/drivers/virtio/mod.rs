//! virtio devices over PCI (the `virtio-drivers` crate drives the rings): which
//! devices we know, and starting their drivers.

pub mod blk;
pub mod hal;
pub mod net;

use super::pci::{self, Device};
use virtio_drivers::transport::{pci::PciTransport, DeviceType};

pub fn device_type(dev: &Device) -> Option<DeviceType> {
    virtio_drivers::transport::pci::virtio_device_type(&dev.info)
}

pub fn start(dev: Device, kind: DeviceType, verbose: bool) {
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
    let transport = match PciTransport::new::<hal::KernelHal, _>(&mut pci::root(), f) {
        Ok(t) => t,
        Err(e) => {
            kprintln!(
                "rumprun: virtio {:?} at {:02x}:{:02x}.{}: cannot start ({:?})",
                kind,
                f.bus,
                f.device,
                f.function,
                e
            );
            return;
        }
    };
    match kind {
        DeviceType::Block => blk::start(transport, f, verbose),
        DeviceType::Network => net::start(transport, verbose),
        other => {
            if verbose {
                kprintln!("rumprun: virtio {:?} device: no driver yet", other);
            }
        }
    }
}
