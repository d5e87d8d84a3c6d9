//! The `hw` platform: QEMU and PCs. Boot information comes from PVH's hvm_start_info
//! (`qemu -kernel`, Firecracker, Xen PVH) or multiboot2 (GRUB); the console is COM1;
//! the program's exit status leaves through COM2 and QEMU's isa-debug-exit device.

pub mod acpi;
mod multiboot2;
mod pvh;
pub mod serial;

use crate::arch::cpu;
use alloc::vec::Vec;

#[derive(Clone, Copy, Debug)]
pub struct MemoryRange {
    pub start: u64,
    pub end: u64,
}

/// What the boot loader told us.
pub struct BootInfo {
    /// Usable RAM.
    pub memory: Vec<MemoryRange>,
    /// Physical ranges holding boot data that must not be handed out before it is read.
    pub reserved: Vec<MemoryRange>,
    /// Physical address and length of the kernel command line (NUL excluded).
    pub cmdline: Option<(u64, usize)>,
    pub loader: &'static str,
    /// Disk images the boot loader put in memory (multiboot2 modules named
    /// [`RAM_DISK_MODULE`], in order; also in `reserved`, never handed out).
    pub ram_disks: Vec<MemoryRange>,
    /// Physical address of the ACPI RSDP, when the boot loader tells it (PVH).
    pub rsdp: Option<u64>,
}

/// The name (module command line) `rumprun iso` gives each `-b` image it has GRUB load.
pub const RAM_DISK_MODULE: &str = "rumprun-disk";

const PVH_MAGIC: u32 = 0x336e_c578;
const MULTIBOOT2_MAGIC: u32 = 0x36d7_6289;

/// Reads the boot information (runs on the small early heap, before frames exist).
pub fn boot_info(magic: u32, info: u64) -> Result<BootInfo, &'static str> {
    if magic == MULTIBOOT2_MAGIC {
        return multiboot2::parse(info);
    }
    // PVH leaves the start_info pointer in %ebx and nothing useful in %eax.
    let m =
        // SAFETY: `info` is the boot loader's info pointer (PVH's start_info), below 4 GiB
        // in the direct map; an unaligned read of one u32.
        unsafe { core::ptr::read_unaligned(crate::arch::paging::phys_to_virt(info) as *const u32) };
    if m == PVH_MAGIC {
        return pvh::parse(info);
    }
    Err("unknown boot protocol (neither PVH nor multiboot2)")
}

pub fn init_console() {
    serial::init();
}

pub fn console_write(bytes: &[u8]) {
    serial::COM1.write(bytes);
}

/// Reads what the console has received (0 when nothing is waiting).
pub fn console_try_read(buf: &mut [u8]) -> usize {
    serial::COM1.try_read(buf)
}

pub fn console_has_input() -> bool {
    serial::COM1.has_input()
}

/// Ends the VM with the program's exit status: the status as a decimal line on COM2
/// (read by the `rumprun` launcher), then QEMU's isa-debug-exit. Halts if neither
/// exists (bare hardware).
pub fn exit(status: i32) -> ! {
    let mut line = [0u8; 16];
    let text = crate::util::format_decimal(&mut line, status as i64);
    serial::COM2.write(text);
    serial::COM2.write(b"\n");
    cpu::outl(0xf4, status as u32 & 0xff);
    serial::COM1.write(b"rumprun: halted\n");
    cpu::halt_forever()
}
