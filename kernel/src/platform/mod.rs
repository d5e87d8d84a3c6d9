//! The platform seam: everything that differs between the machines we boot on (boot
//! information, console, clock source, config source, exit). `hw` is QEMU and PCs;
//! `xen` is a Xen PVH guest. Both boot through the same PVH entry, so one kernel image
//! serves both: CPUID tells them apart at the first instruction of `kernel_main`.

pub mod hw;
pub mod xen;

use alloc::string::String;
use core::sync::atomic::{AtomicBool, Ordering};

pub use hw::BootInfo;

static ON_XEN: AtomicBool = AtomicBool::new(false);

fn on_xen() -> bool {
    ON_XEN.load(Ordering::Relaxed)
}

/// Finds out where we run and starts early console output (COM1, or Xen's port 0xE9).
pub fn init_early() {
    if xen::detect() {
        ON_XEN.store(true, Ordering::Relaxed);
    } else {
        hw::init_console();
        crate::sync::bkl::let_waiters_halt();
    }
}

/// The platform's name, for the boot log.
pub fn name() -> &'static str {
    if on_xen() {
        "xen"
    } else {
        "hw"
    }
}

/// Reads the boot information (PVH or multiboot2; Xen PVH uses the same structures).
pub fn boot_info(magic: u32, info: u64) -> Result<BootInfo, &'static str> {
    hw::boot_info(magic, info)
}

/// Sets up the platform's own devices once the frame allocator works.
pub fn init() -> Result<(), &'static str> {
    if on_xen() {
        xen::init()
    } else {
        Ok(())
    }
}

/// The APIC ids of the machine's CPUs (boot CPU included), from ACPI's MADT; empty if
/// unknown. A Xen PVH guest has one too: Xen's toolstack builds it (vCPU `n` has APIC
/// id `2n`), and Xen's emulated local APIC starts a vCPU on INIT-SIPI-SIPI into a
/// real-mode trampoline as hardware does, so both platforms start their CPUs the same
/// way (`arch::smp::start_aps`).
pub fn cpu_apic_ids(boot: &BootInfo) -> alloc::vec::Vec<u32> {
    hw::acpi::cpu_apic_ids(boot.rsdp)
}

/// Finds and starts the platform's own devices (Xen: PV disks), after the PCI probe.
pub fn probe_devices(verbose: bool) {
    if on_xen() {
        xen::probe_devices(verbose)
    }
}

/// A clock the platform provides (TSC rate, wall-clock ns now), or None to calibrate
/// the TSC and read the RTC.
pub fn clock() -> Option<(u64, u64)> {
    if on_xen() {
        xen::clock()
    } else {
        None
    }
}

/// The runtime config from a platform source (Xen: xenstore), which wins over the
/// kernel command line.
pub fn config() -> Option<String> {
    if on_xen() {
        xen::config()
    } else {
        None
    }
}

pub fn console_write(bytes: &[u8]) {
    if on_xen() {
        xen::console_write(bytes)
    } else {
        hw::console_write(bytes)
    }
}

/// Reads what the console has received (0 when nothing is waiting).
pub fn console_try_read(buf: &mut [u8]) -> usize {
    if on_xen() {
        xen::console_try_read(buf)
    } else {
        hw::console_try_read(buf)
    }
}

pub fn console_has_input() -> bool {
    if on_xen() {
        xen::console_has_input()
    } else {
        hw::console_has_input()
    }
}

/// Ends the machine after the program ended normally with `status`.
pub fn exit(status: i32) -> ! {
    if on_xen() {
        xen::exit(status, false)
    } else {
        hw::exit(status)
    }
}

/// Ends the machine after a fault, a fatal signal or a kernel panic (Xen: a "crash"
/// shutdown rather than "poweroff").
pub fn exit_after_fault(status: i32) -> ! {
    if on_xen() {
        xen::exit(status, true)
    } else {
        hw::exit(status)
    }
}
