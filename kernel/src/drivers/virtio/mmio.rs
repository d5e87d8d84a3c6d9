//! virtio over MMIO: the devices the kernel command line names with
//! `virtio_mmio.device=SIZE@BASE:IRQ` words (`rumprun_config::virtio_mmio`), as QEMU's
//! microvm (with `acpi=off`) and Firecracker give them. Each window is reached through
//! the direct map; its interrupt is a level-triggered IOAPIC line.

use super::{Interrupts, Transport};
use crate::arch::paging::phys_to_virt;
use core::ptr::NonNull;
use rumprun_config::VirtioMmio;
use virtio_drivers::transport::mmio::{MmioTransport, VirtIOHeader};

/// Starts the driver of each device, in the order given.
pub fn start_all(devices: &[VirtioMmio], verbose: bool) {
    for d in devices {
        if d.base.saturating_add(d.size) > 1 << 32 {
            kprintln!(
                "rumprun: virtio-mmio at {:#x}: above 4 GiB, not mapped; device ignored",
                d.base
            );
            continue;
        }
        let registers = phys_to_virt(d.base);
        let Some(header) = NonNull::new(registers as *mut VirtIOHeader) else {
            continue;
        };
        // SAFETY: the command line names this window as a virtio-mmio device; it stays
        // mapped (direct map) for the kernel's life and only this transport uses it.
        match unsafe { MmioTransport::new(header, d.size as usize) } {
            Ok(t) => super::start(
                Transport::from(t),
                Interrupts::Line {
                    gsi: d.irq,
                    registers: registers as u64,
                },
                verbose,
            ),
            Err(e) => kprintln!(
                "rumprun: virtio-mmio at {:#x}: cannot start ({e:?}); device ignored",
                d.base
            ),
        }
    }
}
