//! Memory: physical frames, the kernel heap, and the program's address space.

pub mod address_space;
pub mod frames;
pub mod heap;
mod small;
pub mod user;

pub use address_space::{handle_page_fault, PageFault};
