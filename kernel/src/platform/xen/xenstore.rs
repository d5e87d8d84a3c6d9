//! A xenstore client over the shared ring (xs_wire.h): one request at a time, the
//! answer awaited with SCHEDOP_poll on the store's event channel, so it works at boot,
//! at exit and in fault reports alike; watches (`wait_until`) let a driver sleep until
//! a node changes instead of polling it. Relative paths are relative to our domain's
//! home, `/local/domain/<domid>`.

use super::{evtchn, hypercall};
use crate::arch::paging::phys_to_virt;
use alloc::string::String;
use alloc::vec::Vec;
use core::sync::atomic::{fence, Ordering};
use spin::{Mutex, Once};

const RING_SIZE: u32 = 1024;
const REQ: usize = 0;
const RSP: usize = 1024;
const REQ_CONS: usize = 2048;
const REQ_PROD: usize = 2052;
const RSP_CONS: usize = 2056;
const RSP_PROD: usize = 2060;
const HEADER: usize = 16;
/// The largest payload xenstored accepts (XENSTORE_PAYLOAD_MAX).
const PAYLOAD_MAX: usize = 4096;

const XS_DIRECTORY: u32 = 1;
const XS_READ: u32 = 2;
const XS_WATCH: u32 = 4;
const XS_UNWATCH: u32 = 5;
const XS_WRITE: u32 = 11;
const XS_WATCH_EVENT: u32 = 15;
const XS_ERROR: u32 = 16;

/// How long one request may take before we give up on xenstored.
const TIMEOUT_MS: u64 = 5000;

struct Store {
    ring: usize,
    port: u32,
    next_id: u32,
    /// Tokens of watch events that arrived and nobody has waited for yet.
    fired: Vec<Vec<u8>>,
}

static STORE: Once<Mutex<Store>> = Once::new();

#[derive(Debug)]
pub enum Error {
    /// xenstored's error name (ENOENT, EACCES, ...).
    Xen(String),
    TimedOut,
    TooLong,
    NotConnected,
    Busy,
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        match self {
            Error::Xen(e) => f.write_str(e),
            Error::TimedOut => f.write_str("xenstored did not answer"),
            Error::TooLong => f.write_str("message too long"),
            Error::NotConnected => f.write_str("no xenstore ring"),
            Error::Busy => f.write_str("a request is already in flight"),
        }
    }
}

/// Finds the ring and its event channel (HVM params set by the toolstack).
pub fn init() -> Result<(), &'static str> {
    let pfn =
        hypercall::hvm_get_param(hypercall::HVM_PARAM_STORE_PFN).map_err(|_| "no xenstore page")?;
    let port = hypercall::hvm_get_param(hypercall::HVM_PARAM_STORE_EVTCHN)
        .map_err(|_| "no xenstore event channel")?;
    if pfn == 0 {
        return Err("no xenstore page");
    }
    STORE.call_once(|| {
        Mutex::new(Store {
            ring: phys_to_virt(pfn << 12) as usize,
            port: port as u32,
            next_id: 1,
            fired: Vec::new(),
        })
    });
    Ok(())
}

impl Store {
    fn idx(&self, off: usize) -> *mut u32 {
        (self.ring + off) as *mut u32
    }
    fn get(&self, off: usize) -> u32 {
        // SAFETY: `ring` is xenstore's ring page Xen gave at boot (direct map) and `off` an
        // aligned index field inside it.
        unsafe { self.idx(off).read_volatile() }
    }
    fn set(&self, off: usize, v: u32) {
        // SAFETY: as in `get`: an aligned index field of the xenstore ring page.
        unsafe { self.idx(off).write_volatile(v) }
    }

    /// Waits (polling the event channel) until `ready` holds or the deadline passes.
    fn wait(&self, deadline: u64, ready: impl Fn(&Self) -> bool) -> Result<(), Error> {
        loop {
            if ready(self) {
                return Ok(());
            }
            if super::clock::system_time_ns() >= deadline {
                return Err(Error::TimedOut);
            }
            evtchn::poll(self.port, deadline);
        }
    }

    fn send(&self, bytes: &[u8], deadline: u64) -> Result<(), Error> {
        let mut sent = 0;
        while sent < bytes.len() {
            self.wait(deadline, |s| {
                s.get(REQ_PROD).wrapping_sub(s.get(REQ_CONS)) < RING_SIZE
            })?;
            fence(Ordering::SeqCst);
            let prod = self.get(REQ_PROD);
            let room = (RING_SIZE - prod.wrapping_sub(self.get(REQ_CONS))) as usize;
            let n = room.min(bytes.len() - sent);
            for (i, &b) in bytes[sent..sent + n].iter().enumerate() {
                let at = self.ring + REQ + (prod as usize + i) % RING_SIZE as usize;
                // SAFETY: `at` is inside the ring page's request buffer (index taken modulo
                // RING_SIZE).
                unsafe { (at as *mut u8).write_volatile(b) };
            }
            fence(Ordering::SeqCst);
            self.set(REQ_PROD, prod.wrapping_add(n as u32));
            evtchn::notify(self.port);
            sent += n;
        }
        Ok(())
    }

    fn recv(&self, out: &mut [u8], deadline: u64) -> Result<(), Error> {
        let mut got = 0;
        while got < out.len() {
            self.wait(deadline, |s| s.get(RSP_PROD) != s.get(RSP_CONS))?;
            fence(Ordering::SeqCst);
            let cons = self.get(RSP_CONS);
            let avail = self.get(RSP_PROD).wrapping_sub(cons) as usize;
            let n = avail.min(out.len() - got);
            for (i, b) in out[got..got + n].iter_mut().enumerate() {
                let at = self.ring + RSP + (cons as usize + i) % RING_SIZE as usize;
                // SAFETY: `at` is inside the ring page's response buffer (index taken
                // modulo RING_SIZE).
                *b = unsafe { (at as *const u8).read_volatile() };
            }
            fence(Ordering::SeqCst);
            self.set(RSP_CONS, cons.wrapping_add(n as u32));
            evtchn::notify(self.port);
            got += n;
        }
        Ok(())
    }

    /// Sends one request and returns the answer's payload.
    fn request(&mut self, kind: u32, parts: &[&[u8]]) -> Result<Vec<u8>, Error> {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        if len > PAYLOAD_MAX {
            return Err(Error::TooLong);
        }
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        let mut msg = Vec::with_capacity(HEADER + len);
        for v in [kind, id, 0, len as u32] {
            msg.extend_from_slice(&v.to_le_bytes());
        }
        for p in parts {
            msg.extend_from_slice(p);
        }
        let deadline = evtchn::deadline_in_ms(TIMEOUT_MS);
        self.send(&msg, deadline)?;
        loop {
            let (kind, msg_id, body) = self.next_message(deadline)?;
            if kind == XS_WATCH_EVENT || msg_id != id {
                continue; // a watch event (kept by next_message) or a stale answer
            }
            if kind == XS_ERROR {
                let name = body.split(|&b| b == 0).next().unwrap_or(&[]);
                return Err(Error::Xen(String::from_utf8_lossy(name).into_owned()));
            }
            return Ok(body);
        }
    }

    /// Reads one message: (type, request id, payload). A watch event's token is also
    /// kept in `fired` for `wait_event`.
    fn next_message(&mut self, deadline: u64) -> Result<(u32, u32, Vec<u8>), Error> {
        let mut header = [0u8; HEADER];
        self.recv(&mut header, deadline)?;
        let field = |i: usize| u32::from_le_bytes(header[4 * i..4 * i + 4].try_into().unwrap());
        let body_len = field(3) as usize;
        if body_len > PAYLOAD_MAX {
            return Err(Error::TooLong);
        }
        let mut body = alloc::vec![0u8; body_len];
        self.recv(&mut body, deadline)?;
        if field(0) == XS_WATCH_EVENT {
            // The payload is "path\0token\0".
            if let Some(token) = body.split(|&b| b == 0).nth(1) {
                self.fired.push(token.to_vec());
            }
        }
        Ok((field(0), field(1), body))
    }

    /// Waits until a watch event with `token` has arrived (since the last wait).
    fn wait_event(&mut self, token: &[u8], deadline: u64) -> Result<(), Error> {
        loop {
            if self.fired.iter().any(|t| t == token) {
                self.fired.retain(|t| t != token);
                return Ok(());
            }
            self.next_message(deadline)?;
        }
    }
}

fn store() -> Result<spin::MutexGuard<'static, Store>, Error> {
    // try_lock: a fault report at exit must not wait for a request it interrupted.
    let store = STORE.get().ok_or(Error::NotConnected)?;
    store.try_lock().ok_or(Error::Busy)
}

/// The value at `path`.
pub fn read(path: &str) -> Result<Vec<u8>, Error> {
    let mut s = store()?;
    s.request(XS_READ, &[path.as_bytes(), b"\0"])
}

/// Writes `value` at `path` (creating it and its parents).
pub fn write(path: &str, value: &[u8]) -> Result<(), Error> {
    let mut s = store()?;
    s.request(XS_WRITE, &[path.as_bytes(), b"\0", value])
        .map(|_| ())
}

/// The value at `path` as text.
pub fn read_string(path: &str) -> Result<String, Error> {
    read(path).map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// The value at `path` as a decimal number.
pub fn read_u64(path: &str) -> Result<u64, Error> {
    let text = read_string(path)?;
    text.trim()
        .parse()
        .map_err(|_| Error::Xen(alloc::format!("{path}: not a number: {text:?}")))
}

/// The names of `path`'s children.
pub fn directory(path: &str) -> Result<Vec<String>, Error> {
    let mut s = store()?;
    let body = s.request(XS_DIRECTORY, &[path.as_bytes(), b"\0"])?;
    Ok(body
        .split(|&b| b == 0)
        .filter(|n| !n.is_empty())
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect())
}

/// Waits (up to `timeout_ms`) until the value at `path` satisfies `done`, sleeping on a
/// xenstore watch between looks; returns the last value read (also on a timeout, as the
/// error's context).
pub fn wait_until(
    path: &str,
    timeout_ms: u64,
    done: impl Fn(&str) -> bool,
) -> Result<String, (Error, String)> {
    let deadline = evtchn::deadline_in_ms(timeout_ms);
    let token = path.as_bytes();
    let request = |kind| {
        let mut s = store()?;
        s.request(kind, &[path.as_bytes(), b"\0", token, b"\0"])
    };
    request(XS_WATCH).map_err(|e| (e, String::new()))?;
    let result = loop {
        let value = read_string(path).unwrap_or_default();
        if done(&value) {
            break Ok(value);
        }
        let waited = store().and_then(|mut s| s.wait_event(token, deadline));
        if let Err(e) = waited {
            break Err((e, value));
        }
    };
    let _ = request(XS_UNWATCH);
    result
}
