//! AF_UNIX addresses (`struct sockaddr_un`, `man 7 unix`): unnamed, a path in the
//! file tree, or an abstract name (first byte of `sun_path` NUL), read and written
//! with Linux's length rules.

use crate::errno::*;
use alloc::vec::Vec;

pub const AF_UNIX: u16 = 1;
/// `sizeof(sa_family_t)`: the address length of an unnamed socket.
const FAMILY_LEN: usize = 2;
/// `sizeof(struct sockaddr_un)`.
pub const SOCKADDR_UN_LEN: usize = 110;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UnixAddr {
    Unnamed,
    /// A file-system path as the program gave it (without the trailing NUL).
    Path(Vec<u8>),
    /// An abstract name: the bytes after the leading NUL, exactly as long as given.
    Abstract(Vec<u8>),
}

impl UnixAddr {
    /// Parses `len` bytes of a `sockaddr_un` the way Linux's unix_mkname does:
    /// EINVAL for a wrong family or length; a path ends at its first NUL.
    pub fn parse(raw: &[u8]) -> Result<UnixAddr, Errno> {
        if raw.len() < FAMILY_LEN || raw.len() > SOCKADDR_UN_LEN {
            return Err(EINVAL);
        }
        if u16::from_ne_bytes([raw[0], raw[1]]) != AF_UNIX {
            return Err(EINVAL);
        }
        let path = &raw[FAMILY_LEN..];
        Ok(match path.first() {
            None => UnixAddr::Unnamed,
            Some(0) => UnixAddr::Abstract(path[1..].to_vec()),
            Some(_) => {
                let end = path.iter().position(|&b| b == 0).unwrap_or(path.len());
                UnixAddr::Path(path[..end].to_vec())
            }
        })
    }

    /// The `sockaddr_un` bytes getsockname/getpeername/recvfrom report: the family,
    /// then the path with its NUL, or NUL and the abstract name.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(SOCKADDR_UN_LEN);
        out.extend_from_slice(&AF_UNIX.to_ne_bytes());
        match self {
            UnixAddr::Unnamed => {}
            UnixAddr::Path(p) => {
                out.extend_from_slice(p);
                out.push(0);
            }
            UnixAddr::Abstract(name) => {
                out.push(0);
                out.extend_from_slice(name);
            }
        }
        out
    }
}
