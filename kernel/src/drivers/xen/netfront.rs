//! netfront: Xen virtual network interfaces (vif) as `NetDevice`s, so they become
//! `eth0`, ... like virtio cards and the TCP/IP stack polls them the same way. Each vif
//! under `device/vif/<id>` gets a tx and an rx ring (netif.h) and 64 pages for each
//! direction, granted to the backend once: received frames are copied by the backend
//! into posted rx pages (request-rx-copy); sent frames are copied into a free tx page.
//! Checksums are always complete (feature-no-csum-offload), as the stack wants them.
//! The vif's event channel is bound to a handler that wakes I/O waiters, so a frame
//! arriving wakes a waiting socket at once and an idle guest is not polled; the
//! receive side asks for the next event before it reports the ring empty, and looks
//! again after asking (the backend may have answered in between).

use crate::drivers::netdev::{self, NetDevice};
use crate::mm::frames;
use crate::platform::xen::{evtchn, grant, xenstore};
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{fence, Ordering};
use spin::Mutex;

/// Shared ring header offsets (as in blkfront: `struct ..._sring`).
const REQ_PROD: usize = 0;
const REQ_EVENT: usize = 4;
const RSP_PROD: usize = 8;
const RSP_EVENT: usize = 12;
const ENTRIES_AT: usize = 64;
/// `netif_tx_request` is 12 bytes, `netif_rx_request`/`_response` 8; both rings are
/// used with 256 slots (a power of two that fits in a page).
const TX_ENTRY: usize = 12;
const RX_ENTRY: usize = 8;
const RING_SIZE: u32 = 256;
/// Buffers per direction (at most RING_SIZE).
const BUFFERS: usize = 64;
const PAGE: usize = 4096;

const XENBUS_CONNECTED: u64 = 4;
const CONNECT_TIMEOUT_MS: u64 = 10_000;

struct Page {
    va: usize,
    gref: u32,
}

struct Rings {
    tx: usize,
    rx: usize,
    tx_prod: u32,
    tx_cons: u32,
    rx_prod: u32,
    rx_cons: u32,
    tx_pages: Vec<Page>,
    rx_pages: Vec<Page>,
    /// Tx buffer ids not in flight.
    tx_free: Vec<u16>,
}

pub struct Netfront {
    rings: Mutex<Rings>,
    port: u32,
    mac: [u8; 6],
}

fn get(ring: usize, off: usize) -> u32 {
    // SAFETY: `ring` is one of this device's shared ring pages (direct map) and `off` an
    // aligned header field.
    unsafe { ((ring + off) as *const u32).read_volatile() }
}

fn set(ring: usize, off: usize, v: u32) {
    // SAFETY: as in `get`: an aligned header field of our shared ring page.
    unsafe { ((ring + off) as *mut u32).write_volatile(v) }
}

fn granted_page(backend: u16, read_only: bool) -> Result<Page, String> {
    let paddr = frames::alloc_zeroed().ok_or("out of memory")?;
    let gref = grant::grant(backend, paddr, read_only).ok_or("no free grant entries")?;
    Ok(Page {
        va: crate::arch::paging::phys_to_virt(paddr) as usize,
        gref,
    })
}

fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut parts = text.trim().split(':');
    for b in mac.iter_mut() {
        *b = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

/// Connects every vif xenstore lists and registers it as a network card.
pub fn probe(verbose: bool) {
    let Ok(ids) = xenstore::directory("device/vif") else {
        return; // no cards
    };
    for id in ids {
        match Netfront::connect(&id) {
            Ok(nic) => {
                let mac = nic.mac;
                let name = netdev::register(Arc::new(nic));
                if verbose {
                    kprintln!("rumprun: xen vif {id}: {name}, {}", netdev::mac_string(mac));
                }
            }
            Err(why) => kprintln!("rumprun: xen vif {id}: {why}"),
        }
    }
}

impl Netfront {
    fn connect(id: &str) -> Result<Netfront, String> {
        let fe = format!("device/vif/{id}");
        let xs = |what: &str, e: xenstore::Error| format!("{what}: {e}");
        let backend = xenstore::read_string(&format!("{fe}/backend"))
            .map_err(|e| xs("no backend path", e))?;
        let backend_id = xenstore::read_u64(&format!("{fe}/backend-id"))
            .map_err(|e| xs("no backend id", e))? as u16;
        let mac_text =
            xenstore::read_string(&format!("{fe}/mac")).map_err(|e| xs("no MAC address", e))?;
        let mac = parse_mac(&mac_text).ok_or_else(|| format!("bad MAC address {mac_text:?}"))?;
        let tx = granted_page(backend_id, false)?;
        let rx = granted_page(backend_id, false)?;
        for ring in [tx.va, rx.va] {
            set(ring, REQ_EVENT, 1);
            set(ring, RSP_EVENT, 1);
        }
        let mut tx_pages = Vec::new();
        let mut rx_pages = Vec::new();
        for _ in 0..BUFFERS {
            tx_pages.push(granted_page(backend_id, true)?);
            rx_pages.push(granted_page(backend_id, false)?);
        }
        let port = evtchn::alloc_unbound(backend_id)
            .map_err(|e| format!("no event channel (error {e})"))?;
        // A frame (or a finished send) wakes whoever waits on sockets.
        evtchn::bind(port, crate::drivers::netdev::frame_arrived)
            .map_err(|e| format!("cannot bind the event channel: {e}"))?;
        let mut rings = Rings {
            tx: tx.va,
            rx: rx.va,
            tx_prod: 0,
            tx_cons: 0,
            rx_prod: 0,
            rx_cons: 0,
            tx_pages,
            rx_pages,
            tx_free: (0..BUFFERS as u16).rev().collect(),
        };
        for i in 0..BUFFERS as u16 {
            rings.post_rx(i);
        }
        set(rings.rx, REQ_PROD, rings.rx_prod);
        for (key, value) in [
            ("tx-ring-ref", format!("{}", tx.gref)),
            ("rx-ring-ref", format!("{}", rx.gref)),
            ("event-channel", format!("{port}")),
            ("request-rx-copy", String::from("1")),
            ("feature-rx-notify", String::from("1")),
            ("feature-no-csum-offload", String::from("1")),
            ("feature-sg", String::from("0")),
            ("feature-gso-tcpv4", String::from("0")),
            ("state", String::from("4")),
        ] {
            xenstore::write(&format!("{fe}/{key}"), value.as_bytes())
                .map_err(|e| xs("cannot publish the rings", e))?;
        }
        xenstore::wait_until(&format!("{backend}/state"), CONNECT_TIMEOUT_MS, |v| {
            v.trim().parse() == Ok(XENBUS_CONNECTED)
        })
        .map_err(|(e, state)| format!("the backend did not connect (state {state:?}: {e})"))?;
        evtchn::notify(port);
        Ok(Netfront {
            rings: Mutex::new(rings),
            port,
            mac,
        })
    }
}

impl Rings {
    /// Offers rx buffer `id` to the backend (published by the caller's REQ_PROD write).
    fn post_rx(&mut self, id: u16) {
        let slot = self.rx + ENTRIES_AT + (self.rx_prod % RING_SIZE) as usize * RX_ENTRY;
        // SAFETY: `slot` is entry `rx_prod % RING_SIZE` of our rx ring page; both fields
        // lie within it.
        unsafe {
            (slot as *mut u16).write_volatile(id);
            ((slot + 4) as *mut u32).write_volatile(self.rx_pages[id as usize].gref);
        }
        self.rx_prod = self.rx_prod.wrapping_add(1);
    }

    /// Takes back the tx buffers the backend is done with.
    fn reap_tx(&mut self) {
        let prod = get(self.tx, RSP_PROD);
        fence(Ordering::SeqCst);
        while self.tx_cons != prod {
            let slot = self.tx + ENTRIES_AT + (self.tx_cons % RING_SIZE) as usize * TX_ENTRY;
            // SAFETY: `slot` is an entry of our tx ring page the backend has answered.
            let id = unsafe { (slot as *const u16).read_volatile() };
            if (id as usize) < BUFFERS {
                self.tx_free.push(id);
            }
            self.tx_cons = self.tx_cons.wrapping_add(1);
        }
        set(self.tx, RSP_EVENT, self.tx_cons.wrapping_add(1));
    }
}

impl NetDevice for Netfront {
    fn mac(&self) -> [u8; 6] {
        self.mac
    }

    fn interrupt_driven(&self) -> bool {
        true // the event channel wakes waiters (see `new`)
    }

    fn transmit(&self, frame: &[u8]) -> bool {
        if frame.len() > PAGE {
            return true; // cannot be sent: drop it rather than retry forever
        }
        let mut r = self.rings.lock();
        r.reap_tx();
        let Some(id) = r.tx_free.pop() else {
            return false;
        };
        let page = &r.tx_pages[id as usize];
        // SAFETY: `page.va` is a free tx buffer page of ours (4 KiB, direct map; the
        // backend returned it) and frames are at most one MTU, smaller than the page.
        unsafe {
            core::slice::from_raw_parts_mut(page.va as *mut u8, frame.len()).copy_from_slice(frame);
        }
        let gref = page.gref;
        let slot = r.tx + ENTRIES_AT + (r.tx_prod % RING_SIZE) as usize * TX_ENTRY;
        // SAFETY: `slot` is entry `tx_prod % RING_SIZE` of our tx ring page; all fields lie
        // within it.
        unsafe {
            (slot as *mut u32).write_volatile(gref);
            ((slot + 4) as *mut u16).write_volatile(0); // offset
            ((slot + 6) as *mut u16).write_volatile(0); // flags
            ((slot + 8) as *mut u16).write_volatile(id);
            ((slot + 10) as *mut u16).write_volatile(frame.len() as u16);
        }
        r.tx_prod = r.tx_prod.wrapping_add(1);
        fence(Ordering::SeqCst);
        set(r.tx, REQ_PROD, r.tx_prod);
        evtchn::notify(self.port);
        true
    }

    fn receive(&self) -> Option<Vec<u8>> {
        let mut r = self.rings.lock();
        loop {
            if get(r.rx, RSP_PROD) == r.rx_cons {
                // Ask for an event at the next response, then look again: one that
                // came before the backend saw the request raises no event.
                set(r.rx, RSP_EVENT, r.rx_cons.wrapping_add(1));
                fence(Ordering::SeqCst);
                if get(r.rx, RSP_PROD) == r.rx_cons {
                    return None;
                }
            }
            fence(Ordering::SeqCst);
            let slot = r.rx + ENTRIES_AT + (r.rx_cons % RING_SIZE) as usize * RX_ENTRY;
            // SAFETY: `slot` is an entry of our rx ring page that the backend has answered.
            let (id, offset, status) = unsafe {
                (
                    (slot as *const u16).read_volatile(),
                    ((slot + 2) as *const u16).read_volatile() as usize,
                    ((slot + 6) as *const i16).read_volatile(),
                )
            };
            r.rx_cons = r.rx_cons.wrapping_add(1);
            let frame = (status > 0 && (id as usize) < BUFFERS).then(|| {
                let va = r.rx_pages[id as usize].va;
                let len = (status as usize).min(PAGE - offset.min(PAGE));
                // SAFETY: `va` is rx buffer page `id < BUFFERS`, and `offset + len <= PAGE`
                // by the min above, so the slice stays in that page, which the backend has
                // filled and handed back.
                unsafe { core::slice::from_raw_parts((va + offset) as *const u8, len) }.to_vec()
            });
            if (id as usize) < BUFFERS {
                r.post_rx(id);
                fence(Ordering::SeqCst);
                set(r.rx, REQ_PROD, r.rx_prod);
                evtchn::notify(self.port);
            }
            if frame.is_some() {
                return frame;
            }
        }
    }
}
