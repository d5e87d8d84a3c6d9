//! Device drivers and discovery. At boot `probe` starts the virtio-mmio devices the
//! command line names, then walks the PCI bus, assigns memory windows to devices the
//! firmware left unconfigured (qboot does), and starts a driver for each device it
//! knows: virtio-blk disks become `/dev/vda`, `/dev/vdb`, ... (block devices in
//! `blockdev`), virtio-net cards `eth0`, ... (`netdev`). Disk images the boot loader
//! loaded (`ramdisk`) come first. On Xen the PV front-ends (`xen`) are the disks and
//! cards, started by the platform.

pub mod blockdev;
pub mod ioapic;
pub mod irq;
pub mod netdev;
pub mod pci;
pub mod ramdisk;
pub mod virtio;
pub mod xen;

use core::sync::atomic::{AtomicBool, Ordering};

/// Set at boot when there is no PCI bus and the command line names no virtio-mmio
/// device: the machine may have devices the kernel cannot find.
static NOWHERE_TO_LOOK: AtomicBool = AtomicBool::new(false);

/// Added to "no such disk/card" errors: why there may be none at all.
pub fn missing_device_hint() -> &'static str {
    if NOWHERE_TO_LOOK.load(Ordering::Relaxed) {
        "; there is no PCI bus and no virtio_mmio.device= word on the command line (on QEMU's microvm, ACPI must be off: -M microvm,acpi=off)"
    } else {
        ""
    }
}

/// Finds and starts every supported device: `mmio` are the command line's
/// virtio-mmio devices.
pub fn probe(mmio: &[rumprun_config::VirtioMmio], verbose: bool) {
    NOWHERE_TO_LOOK.store(mmio.is_empty() && !pci::bus_present(), Ordering::Relaxed);
    virtio::mmio::start_all(mmio, verbose);
    for dev in pci::devices() {
        if let Some(kind) = virtio::device_type(&dev) {
            virtio::start_pci(dev, kind, verbose);
        } else if verbose {
            kprintln!(
                "rumprun: pci {:02x}:{:02x}.{} {:04x}:{:04x} (class {:02x}.{:02x}): no driver",
                dev.function.bus,
                dev.function.device,
                dev.function.function,
                dev.info.vendor_id,
                dev.info.device_id,
                dev.info.class,
                dev.info.subclass
            );
        }
    }
}
