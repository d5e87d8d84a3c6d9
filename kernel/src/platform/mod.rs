//! The platform seam: everything that differs between the machines we boot on (boot
//! information, console, exit). `hw` (PVH/multiboot2 on QEMU and PCs) is the only
//! platform so far; Xen will be a second implementation of the same functions.

pub mod hw;

pub use hw::{console_has_input, console_try_read, console_write, exit, BootInfo};
