//! blkfront: Xen virtual disks (vbd) as `BlockDevice`s, so they become `/dev/vda`, ...
//! like virtio disks. Each disk under `device/vbd/<id>` in xenstore gets a shared ring
//! (blkif.h, x86_64 ABI) and eleven bounce pages granted to the backend once; a request
//! copies through them (up to 44 KiB at a time) and waits for its answer with
//! SCHEDOP_poll on the disk's event channel: synchronous, one request in flight.

use crate::mm::frames;
use crate::platform::xen::{evtchn, grant, xenstore};
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use core::sync::atomic::{fence, Ordering};
use rumprun_vfs::{BlockDevice, Errno, VfsResult, SECTOR_SIZE};
use spin::Mutex;

/// Offsets in the shared ring page (`struct blkif_sring`).
const REQ_PROD: usize = 0;
const REQ_EVENT: usize = 4;
const RSP_PROD: usize = 8;
const RSP_EVENT: usize = 12;
const RING_ENTRIES_AT: usize = 64;
/// `union blkif_sring_entry` (a request is 112 bytes) and how many fit, as a power of 2.
const ENTRY_SIZE: usize = 112;
const RING_SIZE: u32 = 32;

const OP_READ: u8 = 0;
const OP_WRITE: u8 = 1;
const OP_FLUSH_DISKCACHE: u8 = 3;
const MAX_SEGMENTS: usize = 11;
const SECTORS_PER_PAGE: usize = 4096 / SECTOR_SIZE;
/// `info` bit: the backend only allows reads.
const VDISK_READONLY: u64 = 4;

const XENBUS_INITIALISED: &str = "3";
const XENBUS_CONNECTED: u64 = 4;
/// How long the backend gets to connect, and one request to complete.
const CONNECT_TIMEOUT_MS: u64 = 10_000;
const REQUEST_TIMEOUT_MS: u64 = 30_000;

struct Ring {
    /// Virtual address of the shared ring page.
    sring: usize,
    req_prod: u32,
    rsp_cons: u32,
    /// (virtual address, grant ref) of each bounce page.
    bounce: [(usize, u32); MAX_SEGMENTS],
}

pub struct Blkfront {
    ring: Mutex<Ring>,
    port: u32,
    sectors: u64,
    read_only: bool,
    can_flush: bool,
}

fn xs_err(what: &str, e: xenstore::Error) -> String {
    format!("{what}: {e}")
}

/// Connects every disk xenstore lists and registers it (`/dev/vda`, ...).
pub fn probe(verbose: bool) {
    let Ok(ids) = xenstore::directory("device/vbd") else {
        return; // no disks
    };
    for id in ids {
        match Blkfront::connect(&id) {
            Ok(disk) => {
                let (sectors, ro) = (disk.sectors, disk.read_only);
                let name = crate::drivers::blockdev::register(Arc::new(disk));
                if verbose {
                    kprintln!(
                        "rumprun: xen vbd {id}: /dev/{name}, {} KiB{}",
                        sectors / 2,
                        if ro { ", read-only" } else { "" }
                    );
                }
            }
            Err(why) => kprintln!("rumprun: xen vbd {id}: {why}"),
        }
    }
}

fn ring_u32(sring: usize, off: usize) -> u32 {
    // SAFETY: `sring` is the shared ring page this front-end allocated (direct map) and
    // `off` one of its aligned header fields.
    unsafe { ((sring + off) as *const u32).read_volatile() }
}

fn set_ring_u32(sring: usize, off: usize, v: u32) {
    // SAFETY: as in `ring_u32`: an aligned header field of our shared ring page.
    unsafe { ((sring + off) as *mut u32).write_volatile(v) }
}

/// A granted, zeroed page: (virtual address, grant ref).
fn granted_page(backend: u16) -> Result<(usize, u32, u64), String> {
    let paddr = frames::alloc_zeroed().ok_or("out of memory")?;
    let gref = grant::grant(backend, paddr, false).ok_or("no free grant entries")?;
    Ok((
        crate::arch::paging::phys_to_virt(paddr) as usize,
        gref,
        paddr,
    ))
}

impl Blkfront {
    fn connect(id: &str) -> Result<Blkfront, String> {
        let fe = format!("device/vbd/{id}");
        let backend = xenstore::read_string(&format!("{fe}/backend"))
            .map_err(|e| xs_err("no backend path", e))?;
        let backend_id = xenstore::read_u64(&format!("{fe}/backend-id"))
            .map_err(|e| xs_err("no backend id", e))? as u16;
        let (sring, ring_ref, _) = granted_page(backend_id)?;
        set_ring_u32(sring, REQ_EVENT, 1);
        set_ring_u32(sring, RSP_EVENT, 1);
        let mut bounce = [(0usize, 0u32); MAX_SEGMENTS];
        for b in bounce.iter_mut() {
            let (va, gref, _) = granted_page(backend_id)?;
            *b = (va, gref);
        }
        let port = evtchn::alloc_unbound(backend_id)
            .map_err(|e| format!("no event channel (error {e})"))?;
        for (key, value) in [
            ("ring-ref", format!("{ring_ref}")),
            ("event-channel", format!("{port}")),
            ("protocol", String::from("x86_64-abi")),
            ("state", String::from(XENBUS_INITIALISED)),
        ] {
            xenstore::write(&format!("{fe}/{key}"), value.as_bytes())
                .map_err(|e| xs_err("cannot publish the ring", e))?;
        }
        xenstore::wait_until(&format!("{backend}/state"), CONNECT_TIMEOUT_MS, |v| {
            v.trim().parse() == Ok(XENBUS_CONNECTED)
        })
        .map_err(|(e, state)| format!("the backend did not connect (state {state:?}: {e})"))?;
        let sectors =
            xenstore::read_u64(&format!("{backend}/sectors")).map_err(|e| xs_err("no size", e))?;
        let sector_size = xenstore::read_u64(&format!("{backend}/sector-size")).unwrap_or(512);
        if sector_size != SECTOR_SIZE as u64 {
            return Err(format!("{sector_size}-byte sectors are not supported"));
        }
        let info = xenstore::read_u64(&format!("{backend}/info")).unwrap_or(0);
        let can_flush =
            xenstore::read_u64(&format!("{backend}/feature-flush-cache")).unwrap_or(0) == 1;
        xenstore::write(&format!("{fe}/state"), b"4")
            .map_err(|e| xs_err("cannot say connected", e))?;
        Ok(Blkfront {
            ring: Mutex::new(Ring {
                sring,
                req_prod: 0,
                rsp_cons: 0,
                bounce,
            }),
            port,
            sectors,
            read_only: info & VDISK_READONLY != 0,
            can_flush,
        })
    }

    /// Sends one request of `count` sectors (through the first pages of the bounce
    /// buffer) and waits for its answer.
    fn request(&self, ring: &mut Ring, op: u8, sector: u64, count: usize) -> VfsResult<()> {
        let slot = ring.sring + RING_ENTRIES_AT + (ring.req_prod % RING_SIZE) as usize * ENTRY_SIZE;
        let segments = count.div_ceil(SECTORS_PER_PAGE);
        // SAFETY: `slot` is entry `req_prod % RING_SIZE` of our shared ring page, and every
        // field written lies within its ENTRY_SIZE bytes.
        unsafe {
            let req = slot as *mut u8;
            req.write_volatile(op);
            req.add(1).write_volatile(segments as u8);
            (slot as *mut u16).add(1).write_volatile(0);
            ((slot + 8) as *mut u64).write_volatile(ring.req_prod as u64);
            ((slot + 16) as *mut u64).write_volatile(sector);
            for (i, &(_, gref)) in ring.bounce.iter().enumerate().take(segments) {
                let seg = slot + 24 + 8 * i;
                let in_page = (count - i * SECTORS_PER_PAGE).min(SECTORS_PER_PAGE);
                (seg as *mut u32).write_volatile(gref);
                ((seg + 4) as *mut u8).write_volatile(0);
                ((seg + 5) as *mut u8).write_volatile(in_page as u8 - 1);
            }
        }
        ring.req_prod = ring.req_prod.wrapping_add(1);
        fence(Ordering::SeqCst);
        set_ring_u32(ring.sring, REQ_PROD, ring.req_prod);
        evtchn::notify(self.port);
        let deadline = evtchn::deadline_in_ms(REQUEST_TIMEOUT_MS);
        while ring_u32(ring.sring, RSP_PROD) == ring.rsp_cons {
            if crate::platform::xen::clock::system_time_ns() >= deadline {
                kprintln!("rumprun: xen vbd: request timed out");
                return Err(Errno::EIO);
            }
            evtchn::poll(self.port, deadline);
        }
        fence(Ordering::SeqCst);
        let rsp = ring.sring + RING_ENTRIES_AT + (ring.rsp_cons % RING_SIZE) as usize * ENTRY_SIZE;
        // SAFETY: `rsp` is an entry of our shared ring page; the status field lies within
        // it.
        let status = unsafe { ((rsp + 10) as *const i16).read_volatile() };
        ring.rsp_cons = ring.rsp_cons.wrapping_add(1);
        set_ring_u32(ring.sring, RSP_EVENT, ring.rsp_cons.wrapping_add(1));
        if status == 0 {
            Ok(())
        } else {
            Err(Errno::EIO)
        }
    }

    fn check_range(&self, sector: u64, len: usize) -> VfsResult<()> {
        let count = (len / SECTOR_SIZE) as u64;
        if !len.is_multiple_of(SECTOR_SIZE)
            || sector.checked_add(count).is_none_or(|e| e > self.sectors)
        {
            return Err(Errno::EINVAL);
        }
        Ok(())
    }
}

/// The largest transfer one request carries.
const CHUNK: usize = MAX_SEGMENTS * 4096;

impl BlockDevice for Blkfront {
    fn sectors(&self) -> u64 {
        self.sectors
    }

    fn read_only(&self) -> bool {
        self.read_only
    }

    fn read(&self, sector: u64, buf: &mut [u8]) -> VfsResult<()> {
        self.check_range(sector, buf.len())?;
        let mut ring = self.ring.lock();
        for (i, chunk) in buf.chunks_mut(CHUNK).enumerate() {
            let at = sector + (i * CHUNK / SECTOR_SIZE) as u64;
            self.request(&mut ring, OP_READ, at, chunk.len() / SECTOR_SIZE)?;
            for (page, &(va, _)) in chunk.chunks_mut(4096).zip(ring.bounce.iter()) {
                // SAFETY: `va` is one of the ring's granted bounce pages (4 KiB each,
                // direct map) and `page.len() <= 4096`; the backend is done with it (the
                // request completed).
                let src = unsafe { core::slice::from_raw_parts(va as *const u8, page.len()) };
                page.copy_from_slice(src);
            }
        }
        Ok(())
    }

    fn write(&self, sector: u64, buf: &[u8]) -> VfsResult<()> {
        if self.read_only {
            return Err(Errno::EROFS);
        }
        self.check_range(sector, buf.len())?;
        let mut ring = self.ring.lock();
        for (i, chunk) in buf.chunks(CHUNK).enumerate() {
            for (page, &(va, _)) in chunk.chunks(4096).zip(ring.bounce.iter()) {
                // SAFETY: `va` is one of the ring's granted bounce pages (4 KiB, direct
                // map), `page.len() <= 4096`, and no request using it is in flight (the
                // ring lock is held).
                let dst = unsafe { core::slice::from_raw_parts_mut(va as *mut u8, page.len()) };
                dst.copy_from_slice(page);
            }
            let at = sector + (i * CHUNK / SECTOR_SIZE) as u64;
            self.request(&mut ring, OP_WRITE, at, chunk.len() / SECTOR_SIZE)?;
        }
        Ok(())
    }

    fn flush(&self) -> VfsResult<()> {
        if !self.can_flush {
            return Ok(());
        }
        let mut ring = self.ring.lock();
        self.request(&mut ring, OP_FLUSH_DISKCACHE, 0, 0)
    }
}
