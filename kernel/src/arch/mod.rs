//! Architecture support. Only x86_64 so far; the rest of the kernel reaches the CPU
//! through these re-exports.

pub mod x86_64;

pub use self::x86_64::*;
