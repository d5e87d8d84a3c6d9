//! The two AF_UNIX name spaces: abstract names (a table here) and paths (a socket
//! inode made in the file tree by bind, found again by its device and inode number).
//! A name belongs to a socket from bind until the socket is closed; a path's inode
//! stays in the tree until unlinked, and connecting to it afterwards is refused.

use super::addr::UnixAddr;
use super::UnixSocket;
use crate::errno::*;
use crate::fs;
use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use rumprun_net::errno::{EADDRINUSE, ECONNREFUSED};
use rumprun_vfs::stat::{S_IFMT, S_IFSOCK};
use spin::Mutex;

/// A name held by a socket, released when it closes.
pub enum Binding {
    Abstract(Vec<u8>),
    /// The (device, inode) of the socket file bind made.
    Inode(u64, u64),
}

static ABSTRACT: Mutex<BTreeMap<Vec<u8>, Weak<UnixSocket>>> = Mutex::new(BTreeMap::new());
static INODES: Mutex<BTreeMap<(u64, u64), Weak<UnixSocket>>> = Mutex::new(BTreeMap::new());

/// Gives `sock` the name `addr`: a path makes a socket file (EADDRINUSE if the path
/// exists, the file-system errors otherwise); an abstract name must be free.
pub fn bind(sock: &Arc<UnixSocket>, addr: &UnixAddr) -> Result<Binding, Errno> {
    match addr {
        UnixAddr::Unnamed => Err(EINVAL),
        UnixAddr::Abstract(name) => {
            let mut names = ABSTRACT.lock();
            if names.get(name).is_some_and(|w| w.strong_count() > 0) {
                return Err(EADDRINUSE);
            }
            names.insert(name.clone(), Arc::downgrade(sock));
            Ok(Binding::Abstract(name.clone()))
        }
        UnixAddr::Path(path) => {
            let mode = S_IFSOCK | (0o777 & !fs::umask());
            let node = fs::vfs()
                .mknod(&fs::cwd(), path, mode, 0, fs::CRED)
                .map_err(|e| if e == EEXIST { EADDRINUSE } else { e })?;
            let st = node.stat();
            INODES.lock().insert((st.dev, st.ino), Arc::downgrade(sock));
            Ok(Binding::Inode(st.dev, st.ino))
        }
    }
}

/// bind with an empty address (autobind): a free abstract name of five hex digits,
/// as Linux picks.
pub fn autobind(sock: &Arc<UnixSocket>) -> Result<(UnixAddr, Binding), Errno> {
    static NEXT: Mutex<u32> = Mutex::new(0);
    for _ in 0..0x100000 {
        let n = {
            let mut next = NEXT.lock();
            *next = (*next + 1) & 0xfffff;
            *next
        };
        let addr = UnixAddr::Abstract(alloc::format!("{n:05x}").into_bytes());
        match bind(sock, &addr) {
            Ok(b) => return Ok((addr, b)),
            Err(EADDRINUSE) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(Errno::ENOBUFS) // every name taken
}

/// The socket bound to `addr`: ENOENT (and other path errors) when a path does not
/// resolve, ECONNREFUSED when nothing is bound there (a non-socket file, or a socket
/// file whose socket has closed).
pub fn lookup(addr: &UnixAddr) -> Result<Arc<UnixSocket>, Errno> {
    let found = match addr {
        UnixAddr::Unnamed => return Err(EINVAL),
        UnixAddr::Abstract(name) => ABSTRACT.lock().get(name).and_then(Weak::upgrade),
        UnixAddr::Path(path) => {
            let st = fs::lookup(path)?.stat();
            if st.mode & S_IFMT != S_IFSOCK {
                return Err(ECONNREFUSED);
            }
            INODES.lock().get(&(st.dev, st.ino)).and_then(Weak::upgrade)
        }
    };
    found.ok_or(ECONNREFUSED)
}

/// Releases a closed socket's name (the socket file itself stays until unlinked).
pub fn unbind(binding: Binding) {
    match binding {
        Binding::Abstract(name) => {
            ABSTRACT.lock().remove(&name);
        }
        Binding::Inode(dev, ino) => {
            INODES.lock().remove(&(dev, ino));
        }
    }
}
