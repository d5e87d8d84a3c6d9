//! The socket calls (`fd::socket::Socket`) of an AF_UNIX socket: its addresses
//! (`sockaddr_un`), SCM_RIGHTS and SCM_CREDENTIALS control messages, and the
//! SOL_SOCKET options it has (`man 7 unix`).

use super::addr::UnixAddr;
use super::{Kind, Rights, UnixSocket};
use crate::errno::*;
use crate::fd::socket::{self, Cmsg, Socket};
use crate::fd::{self, FileOps, OpenFile};
use alloc::sync::Arc;
use alloc::vec::Vec;

const AF_UNSPEC: u16 = 0;
const MSG_PEEK: u32 = 0x2;

const SOL_SOCKET: i32 = 1;
const SCM_RIGHTS: i32 = 1;
const SCM_CREDENTIALS: i32 = 2;
/// SCM_MAX_FD: the most files one message carries.
const SCM_MAX_FD: usize = 253;

const SO_REUSEADDR: i32 = 2;
const SO_TYPE: i32 = 3;
const SO_ERROR: i32 = 4;
const SO_SNDBUF: i32 = 7;
const SO_RCVBUF: i32 = 8;
const SO_PASSCRED: i32 = 16;
const SO_PEERCRED: i32 = 17;
const SO_RCVTIMEO: i32 = 20;
const SO_SNDTIMEO: i32 = 21;
const SO_ACCEPTCONN: i32 = 30;
const SO_SNDBUFFORCE: i32 = 32;
const SO_RCVBUFFORCE: i32 = 33;
const SO_PROTOCOL: i32 = 38;
const SO_DOMAIN: i32 = 39;

/// The sender's address as recvfrom/recvmsg report it: nothing for an unnamed one.
fn sender_bytes(from: Option<UnixAddr>) -> Vec<u8> {
    match from {
        None | Some(UnixAddr::Unnamed) => Vec::new(),
        Some(a) => a.to_bytes(),
    }
}

/// The files of SCM_RIGHTS control messages (SCM_CREDENTIALS can only be our own
/// identity, which the receiver gets anyway; any other SOL_SOCKET type is EINVAL).
fn rights_from_control(control: &[Cmsg]) -> Result<Option<Rights>, Errno> {
    let mut files: Rights = Vec::new();
    for c in control.iter().filter(|c| c.level == SOL_SOCKET) {
        match c.ty {
            SCM_RIGHTS => {
                let n = c.data.len() / 4;
                if files.len() + n > SCM_MAX_FD {
                    return Err(EINVAL);
                }
                for fdn in c.data.chunks_exact(4) {
                    let fdn = i32::from_ne_bytes([fdn[0], fdn[1], fdn[2], fdn[3]]);
                    files.push(fd::get(fdn as u64)?);
                }
            }
            SCM_CREDENTIALS => {}
            _ => return Err(EINVAL),
        }
    }
    Ok((!files.is_empty()).then_some(files))
}

/// struct ucred of our one identity: the program's pid, uid and gid 0.
fn our_ucred() -> Vec<u8> {
    let mut b = alloc::vec![0u8; 12];
    b[..4].copy_from_slice(&super::current_pid().to_ne_bytes());
    b
}

fn timeval_ns(val: &[u8]) -> Result<u64, Errno> {
    let word = |i: usize| i64::from_ne_bytes(val[i..i + 8].try_into().expect("8 bytes"));
    let (sec, usec) = (word(0), word(8));
    if sec < 0 || !(0..1_000_000).contains(&usec) {
        return Err(EDOM);
    }
    Ok(sec as u64 * 1_000_000_000 + usec as u64 * 1000)
}

fn ns_timeval(ns: u64) -> Vec<u8> {
    let sec = (ns / 1_000_000_000) as i64;
    let usec = (ns % 1_000_000_000 / 1000) as i64;
    [sec.to_ne_bytes(), usec.to_ne_bytes()].concat()
}

fn unsupported_option(name: i32) -> Errno {
    crate::console::log_once(
        "unix-sockopt",
        &alloc::format!(
            "rumprun: AF_UNIX socket option {name} is not supported; returning ENOPROTOOPT"
        ),
    );
    ENOPROTOOPT
}

impl Socket for UnixSocket {
    fn bind(&self, addr: &[u8]) -> Result<(), Errno> {
        UnixSocket::bind(&self.arc(), UnixAddr::parse(addr)?)
    }

    fn listen(&self, backlog: i32) -> Result<(), Errno> {
        UnixSocket::listen(self, backlog)
    }

    fn accept(&self) -> Result<(Arc<dyn FileOps>, Vec<u8>), Errno> {
        let new = UnixSocket::accept(self)?;
        let peer = new.peer_addr().unwrap_or(UnixAddr::Unnamed);
        Ok((new, peer.to_bytes()))
    }

    fn connect(&self, file: &OpenFile, addr: &[u8]) -> Result<(), Errno> {
        if addr.len() >= 2 && u16::from_ne_bytes([addr[0], addr[1]]) == AF_UNSPEC {
            return UnixSocket::connect(self, None);
        }
        let to = UnixAddr::parse(addr)?;
        if to == UnixAddr::Unnamed {
            return Err(EINVAL);
        }
        self.arc().autobind_if_passcred()?;
        let nonblock = file.nonblocking();
        socket::blocking(file, nonblock, crate::fd::Direction::Send, || {
            UnixSocket::connect(self, Some(&to))
        })
    }

    fn send(
        &self,
        data: &[u8],
        to: Option<&[u8]>,
        control: &[Cmsg],
        _flags: u32,
    ) -> Result<usize, Errno> {
        // No address (or an empty one) means the connected peer, as on Linux.
        let to = match to {
            Some(a) if !a.is_empty() => Some(UnixAddr::parse(a)?),
            _ => None,
        };
        let mut rights = rights_from_control(control)?;
        self.arc().autobind_if_passcred()?;
        UnixSocket::send(self, data, to.as_ref(), &mut rights)
    }

    fn recv(&self, buf: &mut [u8], flags: u32) -> Result<socket::Received, Errno> {
        let got = UnixSocket::recv(self, buf, flags & MSG_PEEK != 0)?;
        let from = if self.kind == Kind::Stream {
            self.peer_addr().ok()
        } else {
            got.from
        };
        let mut control = Vec::new();
        if self.options().passcred {
            control.push(Cmsg {
                level: SOL_SOCKET,
                ty: SCM_CREDENTIALS,
                data: our_ucred(),
            });
        }
        Ok(socket::Received {
            len: got.len,
            full_len: got.full_len,
            from: Some(sender_bytes(from)),
            control,
            files: got.rights,
        })
    }

    fn shutdown(&self, how: i32) -> Result<(), Errno> {
        match how {
            0 => UnixSocket::shutdown(self, true, false),
            1 => UnixSocket::shutdown(self, false, true),
            2 => UnixSocket::shutdown(self, true, true),
            _ => return Err(EINVAL),
        }
        Ok(())
    }

    fn local_name(&self) -> Result<Vec<u8>, Errno> {
        Ok(self.local_addr().to_bytes())
    }

    fn peer_name(&self) -> Result<Vec<u8>, Errno> {
        Ok(self.peer_addr()?.to_bytes())
    }

    fn setsockopt(&self, level: i32, name: i32, val: &[u8]) -> Result<(), Errno> {
        if level != SOL_SOCKET {
            return Err(EOPNOTSUPP);
        }
        if name == SO_RCVTIMEO || name == SO_SNDTIMEO {
            if val.len() < 16 {
                return Err(EINVAL);
            }
            let t = timeval_ns(val)?;
            let (rcv, snd) = if name == SO_RCVTIMEO {
                (Some(t), None)
            } else {
                (None, Some(t))
            };
            self.set_timeouts(rcv, snd);
            return Ok(());
        }
        if val.len() < 4 {
            return Err(EINVAL);
        }
        let v = i32::from_ne_bytes([val[0], val[1], val[2], val[3]]);
        let size = v.max(0) as usize;
        match name {
            SO_SNDBUF | SO_SNDBUFFORCE => self.set_sndbuf(size),
            SO_RCVBUF | SO_RCVBUFFORCE => self.set_rcvbuf(size),
            SO_PASSCRED => self.set_passcred(v != 0),
            SO_REUSEADDR => {} // no meaning for AF_UNIX (as on Linux)
            _ => return Err(unsupported_option(name)),
        }
        Ok(())
    }

    fn getsockopt(&self, level: i32, name: i32, _cap: usize) -> Result<Vec<u8>, Errno> {
        if level != SOL_SOCKET {
            return Err(EOPNOTSUPP);
        }
        let o = self.options();
        let int = |v: usize| (v as i32).to_ne_bytes().to_vec();
        Ok(match name {
            SO_TYPE => int(self.kind.linux() as usize),
            SO_DOMAIN => int(super::addr::AF_UNIX as usize),
            SO_PROTOCOL | SO_REUSEADDR => int(0),
            SO_ERROR => int(self.take_error().map_or(0, |e| e.0 as usize)),
            SO_SNDBUF => int(o.sndbuf),
            SO_RCVBUF => int(o.rcvbuf),
            SO_PASSCRED => int(o.passcred as usize),
            SO_ACCEPTCONN => int(o.listening as usize),
            SO_RCVTIMEO => ns_timeval(o.rcvtimeo),
            SO_SNDTIMEO => ns_timeval(o.sndtimeo),
            SO_PEERCRED => {
                // struct ucred: the peer program (root); Linux reports no pid and the
                // overflow ids before a connection.
                let ids = match o.peer_pid {
                    Some(pid) => [pid, 0, 0],
                    None => [0u32, 65534, 65534],
                };
                ids.iter().flat_map(|v| v.to_ne_bytes()).collect()
            }
            _ => return Err(unsupported_option(name)),
        })
    }
}
