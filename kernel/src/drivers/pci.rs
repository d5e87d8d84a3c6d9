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
        // SAFETY: port input from PCI's configuration data port in ring 0; only EAX
        // changes.
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
pub fn bus_present() -> bool {
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

const CAP_MSIX: u8 = 0x11;

/// Switches `df` to MSI-X with every table entry delivering `vector` to CPU 0's
/// LAPIC. Returns the number of entries, or None when the device has no MSI-X.
pub fn enable_msix(df: DeviceFunction, vector: u8) -> Option<u16> {
    let mut root = PciRoot::new(PortCam);
    let cap = root.capabilities(df).find(|c| c.id == CAP_MSIX)?;
    let control = cap.private_header;
    let entries = (control & 0x7ff) + 1;
    let table = PortCam.read_word(df, cap.offset + 4);
    let (bir, offset) = ((table & 7) as u8, (table & !7) as u64);
    let (bar_addr, _) = root.bar_info(df, bir).ok()??.memory_address_size()?;
    if bar_addr == 0 {
        return None;
    }
    let base = crate::arch::paging::phys_to_virt(bar_addr + offset) as *mut u32;
    for i in 0..entries as usize {
        // SAFETY: the MSI-X table lies in the device's memory BAR, which the kernel
        // assigned below 4 GiB (so in the direct map); `i < entries`, the table size the
        // capability gives, keeps each 16-byte entry inside it.
        unsafe {
            let e = base.add(i * 4);
            e.write_volatile(0xfee0_0000); // message address: LAPIC of CPU 0
            e.add(1).write_volatile(0);
            e.add(2).write_volatile(vector as u32); // message data: the vector
            e.add(3).write_volatile(0); // unmasked
        }
    }
    // Message control: MSI-X enable (bit 15), function mask off (bit 14).
    let word = PortCam.read_word(df, cap.offset);
    let new_control = (control | 0x8000) & !0x4000;
    PortCam.write_word_to(df, cap.offset, (word & 0xffff) | (new_control as u32) << 16);
    Some(entries)
}

impl PortCam {
    fn write_word_to(&self, df: DeviceFunction, offset: u8, data: u32) {
        outl(0xcf8, address(df, offset));
        outl(0xcfc, data);
    }
}

/// The (BAR address + offset) of a virtio PCI capability of `cfg_type` (1 = common
/// configuration), found through the vendor-specific capabilities.
pub fn virtio_cap_address(df: DeviceFunction, cfg_type: u8) -> Option<u64> {
    virtio_cap(df, cfg_type).map(|(address, _)| address)
}

/// The virtio notification window (BAR address + offset) and its
/// `notify_off_multiplier` (virtio 1.2 §4.1.4.4).
pub fn virtio_notify_cap(df: DeviceFunction) -> Option<(u64, u32)> {
    const CFG_NOTIFY: u8 = 2;
    let (address, cap) = virtio_cap(df, CFG_NOTIFY)?;
    Some((address, PortCam.read_word(df, cap + 16)))
}

/// A virtio PCI capability of `cfg_type`: its window's address (BAR address +
/// offset) and where the capability lies in configuration space.
fn virtio_cap(df: DeviceFunction, cfg_type: u8) -> Option<(u64, u8)> {
    const CAP_VENDOR: u8 = 0x09;
    let mut root = PciRoot::new(PortCam);
    let caps: Vec<_> = root
        .capabilities(df)
        .filter(|c| c.id == CAP_VENDOR)
        .collect();
    for cap in caps {
        let w0 = PortCam.read_word(df, cap.offset);
        if (w0 >> 24) as u8 != cfg_type {
            continue;
        }
        let bar = PortCam.read_word(df, cap.offset + 4) as u8;
        let offset = PortCam.read_word(df, cap.offset + 8) as u64;
        let (addr, _) = root.bar_info(df, bar).ok()??.memory_address_size()?;
        return Some((addr + offset, cap.offset));
    }
    None
}
