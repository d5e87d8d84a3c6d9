//! The rumprun runtime config, shared by the host launcher and the kernel.
//!
//! The launcher builds the config with [`join_cmdline`] and [`json_string`]; the kernel
//! reads it with [`Config::parse`]. Everything here is `no_std` + `alloc`.
//!
//! * [`json`]: a lax JSON parser (strict JSON plus the original rumprun's quirks) and
//!   the JSON string emitter.
//! * [`cmdline`]: splitting a command line into argv (the original's `parseargs`) and
//!   quoting argv back into a command line.
//! * [`config`]: the config keys (`cmdline`, `env`, `hostname`, ...) and their checks.
//! * [`virtio_mmio`]: the `virtio_mmio.device=` words a hypervisor without PCI adds to
//!   the kernel command line.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod cmdline;
pub mod config;
pub mod json;
pub mod virtio_mmio;

pub use cmdline::{join_cmdline, quote_arg, split_cmdline, SplitError};
pub use config::{Blk, Config, ConfigError, Net, RcEntry, RunMode};
pub use json::{json_string, parse_lax, JsonError, JsonErrorKind, Value};
pub use virtio_mmio::{take_virtio_mmio, VirtioMmio};
