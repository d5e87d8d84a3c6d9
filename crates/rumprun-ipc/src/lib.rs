//! In-memory IPC buffers the rumprun kernel's pipes and AF_UNIX sockets are built on,
//! kept apart from the kernel so their rules are tested on the host:
//!
//! - [`ByteRing`]: a bounded byte queue with Linux's pipe write rules (small writes
//!   are all-or-nothing, larger ones take what fits);
//! - [`StreamQueue`]: a byte stream with attachments (SCM_RIGHTS) that arrive with the
//!   bytes they were sent with and are never glued to another send's attachment;
//! - [`MessageQueue`]: a queue of whole messages (datagrams, seqpackets) bounded in
//!   bytes and in count, with truncation reported as Linux's MSG_TRUNC needs it;
//! - [`FileLocks`]: the advisory locks of one file (flock's per open file description,
//!   POSIX record locks per process and byte range) and when they conflict.
//!
//! `no_std` + `alloc`, no dependencies; locking and waking are the kernel's business.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

mod locks;
mod message;
mod ring;
mod stream;

pub use locks::{FileLocks, RangeLock, TO_EOF};
pub use message::{Message, MessageQueue, Received};
pub use ring::ByteRing;
pub use stream::StreamQueue;
