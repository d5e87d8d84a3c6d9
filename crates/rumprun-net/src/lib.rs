//! The rumprun kernel's TCP/IP stack: smoltcp interfaces and sockets with the Linux
//! socket semantics the kernel's socket syscalls need (errno values, readiness bits,
//! a real listen backlog, `sockaddr` layouts). `no_std` + `alloc`.
//!
//! The kernel owns one [`Stack`] over its virtio-net device type, maps [`SocketId`]s
//! to file descriptors, and calls [`Stack::poll`] from its network interrupt, after
//! socket calls and at [`Stack::poll_at`]; when `poll` returns true it wakes its I/O
//! wait queue. Calls never block (EAGAIN / EINPROGRESS).
//!
//! ```text
//! let mut net = Stack::new(seed, now_ms());
//! let eth0 = net.add_interface("eth0", virtio_dev, mac);
//! net.start_dhcpv4(eth0)?;
//! let s = net.socket(Family::Inet, SockType::Stream)?;
//! net.bind(s, SockAddr::v4(Ipv4Addr::UNSPECIFIED, 80))?;
//! net.listen(s, 128)?;
//! net.poll(now_ms());
//! let (conn, peer) = net.accept(s)?;
//! ```
//!
//! Modules: [`addr`] (addresses and `sockaddr` bytes), [`iface`] (interfaces and their
//! configuration), [`stack`] (the stack, socket table, ports, routing, polling and
//! readiness), [`tcp`], [`udp`], [`options`] (socket options and Linux constants),
//! `sockets` (an interface's smoltcp sockets: one set per TCP connection, so that
//! a packet costs the same with 1 or 200 connections), [`netlink`] (answers to
//! NETLINK_ROUTE link and address dumps), [`slaac`] (IPv6
//! router solicitations and advertisements), [`offload`] (TCP/UDP checksums for cards
//! that compute and check them), [`tso`] (joining TCP segments for cards that cut
//! them), `tclass` (IP_TOS / IPV6_TCLASS on outgoing UDP packets), [`errno`].
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

#[macro_use]
pub mod iface;
pub mod addr;
pub mod ancillary;
pub mod errno;
pub mod lite;
pub mod netlink;
pub mod offload;
pub mod options;
pub mod slaac;
mod sockets;
pub mod stack;
mod tclass;
pub mod tcp;
pub mod tso;
pub mod udp;

pub use addr::{Family, SockAddr};
pub use errno::Errno;
pub use iface::{DhcpLease, IfaceInfo};
pub use options::SockOpts;
pub use smoltcp;
pub use stack::{wait_bit, Received, Shutdown, SockType, SocketId, Stack, Woken};
