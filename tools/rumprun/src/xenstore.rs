//! A minimal xenstore client for dom0: the xenstored wire protocol (xs_wire.h: a
//! 16-byte header `type, req_id, tx_id, len`, then the payload) over xenstored's Unix
//! socket, or Linux's `/dev/xen/xenbus` when xenstored runs elsewhere. Enough for the
//! launcher: read, write, set permissions.

use std::io::{Read, Write};

use crate::error::{io_message, Error};

const XS_READ: u32 = 2;
const XS_WRITE: u32 = 11;
const XS_SET_PERMS: u32 = 14;
const XS_ERROR: u32 = 16;

/// Where xenstored listens (newest first), and the kernel's device as the fallback.
const PATHS: [&str; 3] = [
    "/run/xenstored/socket",
    "/var/run/xenstored/socket",
    "/dev/xen/xenbus",
];

/// A connection to xenstored.
pub struct Xenstore {
    conn: Box<dyn ReadWrite>,
    next_id: u32,
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

/// What a request can end with.
#[derive(Debug)]
pub enum XsError {
    /// xenstored's answer: ENOENT, EACCES, ...
    Refused(String),
    Io(String),
}

impl std::fmt::Display for XsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            XsError::Refused(e) | XsError::Io(e) => f.write_str(e),
        }
    }
}

impl Xenstore {
    /// Connects through `XENSTORED_PATH` if set, else the usual places.
    pub fn open() -> Result<Self, Error> {
        let custom = std::env::var("XENSTORED_PATH").ok();
        let mut last = String::from("not found");
        for path in custom.iter().map(String::as_str).chain(PATHS) {
            let conn: std::io::Result<Box<dyn ReadWrite>> = if path.starts_with("/dev/") {
                std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open(path)
                    .map(|f| Box::new(f) as Box<dyn ReadWrite>)
            } else {
                std::os::unix::net::UnixStream::connect(path)
                    .map(|s| Box::new(s) as Box<dyn ReadWrite>)
            };
            match conn {
                Ok(conn) => return Ok(Xenstore { conn, next_id: 1 }),
                Err(e) => last = format!("{path}: {}", io_message(&e)),
            }
        }
        Err(Error::new(format!(
            "cannot reach xenstored ({last}); is this a Xen dom0 with xenstored running?"
        )))
    }

    fn request(&mut self, kind: u32, payload: &[u8]) -> Result<Vec<u8>, XsError> {
        let id = self.next_id;
        self.next_id += 1;
        let mut msg = Vec::with_capacity(16 + payload.len());
        for v in [kind, id, 0, payload.len() as u32] {
            msg.extend_from_slice(&v.to_le_bytes());
        }
        msg.extend_from_slice(payload);
        let io = |e: std::io::Error| XsError::Io(format!("xenstore: {}", io_message(&e)));
        // One write per message: /dev/xen/xenbus wants whole messages.
        self.conn.write_all(&msg).map_err(io)?;
        loop {
            let mut header = [0u8; 16];
            self.conn.read_exact(&mut header).map_err(io)?;
            let field = |i: usize| u32::from_le_bytes(header[4 * i..4 * i + 4].try_into().unwrap());
            let mut body = vec![0u8; field(3) as usize];
            self.conn.read_exact(&mut body).map_err(io)?;
            if field(1) != id {
                continue;
            }
            if field(0) == XS_ERROR {
                let name = body.split(|&b| b == 0).next().unwrap_or(&[]);
                return Err(XsError::Refused(String::from_utf8_lossy(name).into_owned()));
            }
            return Ok(body);
        }
    }

    /// The value at `path`.
    pub fn read(&mut self, path: &str) -> Result<Vec<u8>, XsError> {
        self.request(XS_READ, &nul_joined(&[path.as_bytes()]))
    }

    /// Writes `value` at `path`, creating it and its parents.
    pub fn write(&mut self, path: &str, value: &[u8]) -> Result<(), XsError> {
        let mut payload = nul_joined(&[path.as_bytes()]);
        payload.extend_from_slice(value);
        self.request(XS_WRITE, &payload).map(|_| ())
    }

    /// Sets `path`'s permissions (`n0`, `b5`, ...: the first names the owner).
    pub fn set_perms(&mut self, path: &str, perms: &[&str]) -> Result<(), XsError> {
        let mut parts = vec![path.as_bytes()];
        parts.extend(perms.iter().map(|p| p.as_bytes()));
        self.request(XS_SET_PERMS, &nul_joined(&parts)).map(|_| ())
    }
}

/// Each part followed by a NUL.
fn nul_joined(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts {
        out.extend_from_slice(p);
        out.push(0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_are_nul_separated() {
        assert_eq!(nul_joined(&[b"/a", b"n0", b"b5"]), b"/a\0n0\0b5\0");
    }
}
