//! PCI: configuration space through the legacy ports 0xCF8/0xCFC, enumeration of bus 0,
//! and memory BAR assignment from a window in the 32-bit PCI hole for devices the
//! firmware did not configure, then memory decoding and bus mastering switched on.

use crate::arch::cpu::outl;
use alloc::vec::Vec;
use spin::Mutex;
use virtio_drivers::transport::pci::bus::{
    BarInfo, Command, ConfigurationAccess, DeviceFunction, DeviceFunctionInfo, MemoryBarType,
    PciRoot,
};

/// Where unassigned BARs are placed: the 32-bit PCI hole of QEMU's q35 and pc
/// machines (above their low RAM, below the IOAPIC at 0xFEC00000).
const WINDOW_START: u64 = 0xc000_0000;
const WINDOW_END: u64 = 0xfec0_0000;

static NEXT_BAR: Mutex<u64> = Mutex::new(WINDOW_START);

/// Port-I/O configuration access (mechanism #1).
pub struct PortCam;

fn address(df: DeviceFunction, offset: u8) -> u32 {
    0x8000_0000
        | (df.bus as u32) << 16
        | (df.device as u32) << 11
        | (df.function as u32) << 8
        | (offset as u32 & 0xfc)
}

impl ConfigurationAccess for PortCam {
    fn read_word(&self, df: DeviceFunction, offset: u8) -> u32 {
        outl(0xcf8, address(df, offset));
        let v: u32;
        unsafe {
            core::arch::asm!("in eax, dx", out("eax") v, in("dx") 0xcfcu16, options(nostack, preserves_flags))
        };
        v
    }
    fn write_word(&mut self, df: DeviceFunction, offset: u8, data: u32) {
        outl(0xcf8, address(df, offset));
        outl(0xcfc, data);
    }
    unsafe fn unsafe_clone(&self) -> Self {
        PortCam
    }
}

pub struct Device {
    pub function: DeviceFunction,
    pub info: DeviceFunctionInfo,
}

/// Whether a PCI host bridge answers at all (not on microvm without PCI).
fn bus_present() -> bool {
    let v = PortCam.read_word(
        DeviceFunction {
            bus: 0,
            device: 0,
            function: 0,
        },
        0,
    );
    v != 0xffff_ffff && v != 0
}

/// The functions on bus 0.
pub fn devices() -> Vec<Device> {
    if !bus_present() {
        return Vec::new();
    }
    let root = PciRoot::new(PortCam);
    root.enumerate_bus(0)
        .map(|(function, info)| Device { function, info })
        .collect()
}

/// Gives every unassigned memory BAR of `df` an address, then enables memory space
/// decoding and bus mastering. Returns false when the window is exhausted.
pub fn configure(df: DeviceFunction) -> bool {
    let mut root = PciRoot::new(PortCam);
    let Ok(bars) = root.bars(df) else {
        return false;
    };
    for (index, bar) in bars.iter().enumerate() {
        let Some(BarInfo::Memory {
            address_type,
            address,
            size,
            ..
        }) = bar
        else {
            continue;
        };
        if *address != 0 || *size == 0 {
            continue;
        }
        let mut next = NEXT_BAR.lock();
        let base = next.div_ceil(*size) * size;
        if base + size > WINDOW_END {
            return false;
        }
        *next = base + size;
        match address_type {
            MemoryBarType::Width64 => root.set_bar_64(df, index as u8, base),
            _ => root.set_bar_32(df, index as u8, base as u32),
        }
    }
    let (_, cmd) = root.get_status_command(df);
    root.set_command(df, cmd | Command::MEMORY_SPACE | Command::BUS_MASTER);
    true
}

/// A PCI root for drivers that need one (virtio's PCI transport).
pub fn root() -> PciRoot<PortCam> {
    PciRoot::new(PortCam)
}
