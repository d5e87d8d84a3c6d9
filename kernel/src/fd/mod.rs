//! Open files and the file-descriptor table. Every kind of file (console, device
//! nodes, pipes, eventfd, timerfd, signalfd, epoll, and regular files once the VFS is in)
//! implements [`FileOps`] (sockets also [`socket::Socket`]); an [`OpenFile`] adds what `open` creates (offset, status
//! flags), shared by dup'd descriptors; the table maps numbers to open files (one
//! table: all threads share it, as with CLONE_FILES).
//!
//! Blocking: operations never block inside `FileOps`; they return EAGAIN, and the
//! syscall layer waits on the I/O wait queue ([`wait`]) until some file changes state.

pub mod console;
pub mod devices;
pub mod epoll;
pub mod eventfd;
pub mod locks;
pub mod pipe;
pub mod pty;
pub mod signalfd;
pub mod socket;
pub mod stat;
pub mod timerfd;
pub mod unix;
pub mod vfs_file;
pub mod wait;

use crate::errno::*;
use crate::fd::stat::Stat;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;
use core::sync::atomic::{AtomicU32, Ordering};
use spin::Mutex;

pub const POLLIN: u32 = 0x001;
pub const POLLPRI: u32 = 0x002;
pub const POLLOUT: u32 = 0x004;
pub const POLLERR: u32 = 0x008;
pub const POLLHUP: u32 = 0x010;
pub const POLLNVAL: u32 = 0x020;

pub const O_ACCMODE: u32 = 3;
pub const O_RDONLY: u32 = 0;
pub const O_WRONLY: u32 = 1;
pub const O_RDWR: u32 = 2;
pub const O_APPEND: u32 = 0o2000;
pub const O_NONBLOCK: u32 = 0o4000;
/// Signal-driven I/O requested (F_SETFL, FIOASYNC): kept, but no SIGIO is sent yet.
pub const O_ASYNC: u32 = 0o20000;
pub const O_CLOEXEC: u32 = 0o2000000;

/// Which way a blocking call moves data: it decides which socket timeout
/// (SO_RCVTIMEO or SO_SNDTIMEO) bounds it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Direction {
    Receive,
    Send,
}

/// What a kind of file can do. Defaults give Linux's answer for files that lack
/// the operation.
pub trait FileOps: Send + Sync + Any {
    /// Reads at the open file's position (which it advances when it has one).
    fn read(&self, _file: &OpenFile, _buf: &mut [u8]) -> Result<usize, Errno> {
        Err(EINVAL)
    }
    fn write(&self, _file: &OpenFile, _buf: &[u8]) -> Result<usize, Errno> {
        Err(EINVAL)
    }
    fn pread(&self, _buf: &mut [u8], _offset: u64) -> Result<usize, Errno> {
        Err(ESPIPE)
    }
    fn pwrite(&self, _buf: &[u8], _offset: u64) -> Result<usize, Errno> {
        Err(ESPIPE)
    }
    fn seek(&self, _file: &OpenFile, _offset: i64, _whence: u32) -> Result<u64, Errno> {
        Err(ESPIPE)
    }
    /// Current readiness as POLL* bits.
    fn poll(&self) -> u32 {
        POLLIN | POLLOUT
    }
    /// Bumped whenever the file becomes readier (for edge-triggered epoll).
    fn generation(&self) -> u64 {
        0
    }
    /// The next time (monotonic ns) this file's readiness changes by itself (timerfd).
    fn next_deadline(&self) -> Option<u64> {
        None
    }
    /// Whether a network card's frame or a socket event (`wait::notify_bits`) may
    /// change this file's readiness: a poll, select or epoll over files that all say no
    /// sleeps through them (`wait::wait_files`). Yes unless the file says otherwise.
    fn network_driven(&self) -> bool {
        true
    }
    /// Whether readiness can change without any other file changing (console input,
    /// which arrives without interrupts): pollers re-check it periodically.
    fn needs_polling(&self) -> bool {
        false
    }
    fn stat(&self) -> Result<Stat, Errno>;
    fn ioctl(&self, _file: &OpenFile, _req: u64, _arg: u64) -> Result<u64, Errno> {
        Err(ENOTTY)
    }
    /// How long a blocking read or write may wait, in ns (a socket's SO_RCVTIMEO /
    /// SO_SNDTIMEO); 0: until the file is ready.
    fn timeout_ns(&self, _dir: Direction) -> u64 {
        0
    }
    /// Sleeps until this file may have changed or `deadline` (monotonic ns) passes;
    /// files whose readiness is computed lazily (sockets: the TCP/IP stack) update it
    /// before returning.
    fn sleep(&self, deadline: Option<u64>) -> crate::sched::Wake {
        let poll_again = self
            .needs_polling()
            .then(|| crate::time::monotonic_ns() + wait::POLL_INTERVAL_NS);
        wait::wait(wait::earliest(
            deadline,
            wait::earliest(poll_again, self.next_deadline()),
        ))
    }
    /// A byte stream (pipe, stream socket): a blocking write goes on until all of it
    /// is written (`syscalls::io::write_file`). Other files write all they can at once.
    fn is_stream(&self) -> bool {
        false
    }
    /// Bytes ready to read (FIONREAD).
    fn bytes_readable(&self) -> Option<usize> {
        None
    }
    /// For a byte stream: how many bytes a read would return now, when that is known
    /// without work (no stack poll: a TCP socket's received bytes as the last poll
    /// left them); None when unknown. Sizes a read's kernel buffer
    /// (`syscalls::transfer::read_len`).
    fn ready_to_read(&self) -> Option<usize> {
        None
    }
    /// How many bytes a write would take now, for files that buffer writes with a
    /// limit (a TCP socket's send buffer); None when unknown. `sendfile` reads no more
    /// than this from its source, so it does not copy bytes the socket would refuse.
    fn write_room(&self) -> Option<usize> {
        None
    }
    /// A write of up to `len` bytes that `fill` puts straight where the file keeps
    /// them (a TCP socket's send buffer), for `sendfile` from the page cache with no
    /// buffer in between: `fill(dst)` writes the next bytes into `dst` and returns how
    /// many, fewer ending the write; it runs under the file's lock and must not wait.
    /// The result as `write`'s; None when this file cannot (the caller copies through
    /// a buffer).
    fn write_with(
        &self,
        _len: usize,
        _fill: &mut dyn FnMut(&mut [u8]) -> usize,
    ) -> Option<Result<usize, Errno>> {
        None
    }
    /// fsync/fdatasync: makes written data durable.
    fn sync(&self) -> Result<(), Errno> {
        Ok(())
    }
    /// Called when the last descriptor of the open file is closed.
    fn release(&self) {}
    /// What /proc/self/fd/N points at: a path, or `pipe:[ino]`-style names.
    fn describe(&self) -> String {
        let ino = self.stat().map_or(0, |s| s.ino);
        alloc::format!("anon_inode:[{ino}]")
    }
    fn as_any(&self) -> &dyn Any;
    /// The socket calls of a socket file (`socket::Socket`); None: ENOTSOCK.
    fn as_socket(self: Arc<Self>) -> Option<Arc<dyn socket::Socket>> {
        None
    }
}

/// An open file description: what open/pipe/socket create and dup shares.
pub struct OpenFile {
    pub ops: Arc<dyn FileOps>,
    status: AtomicU32,
    /// F_SETOWN: the process (> 0) or process group (< 0) that signal-driven I/O
    /// would signal; 0: none.
    owner: core::sync::atomic::AtomicI32,
    /// `locks::FLOCKED`: a flock lock was taken through it.
    locks: core::sync::atomic::AtomicU8,
}

impl OpenFile {
    pub fn new(ops: Arc<dyn FileOps>, status: u32) -> Arc<OpenFile> {
        Arc::new(OpenFile {
            ops,
            status: AtomicU32::new(status & !O_CLOEXEC),
            owner: core::sync::atomic::AtomicI32::new(0),
            locks: core::sync::atomic::AtomicU8::new(0),
        })
    }
    pub fn owner(&self) -> i32 {
        self.owner.load(Ordering::Relaxed)
    }
    pub fn set_owner(&self, owner: i32) {
        self.owner.store(owner, Ordering::Relaxed);
    }
    pub fn status(&self) -> u32 {
        self.status.load(Ordering::Relaxed)
    }
    /// F_SETFL: only O_APPEND, O_NONBLOCK and O_ASYNC change (others are ignored).
    pub fn set_status(&self, flags: u32) {
        let keep = self.status() & O_ACCMODE;
        self.status.store(
            keep | (flags & (O_APPEND | O_NONBLOCK | O_ASYNC)),
            Ordering::Relaxed,
        );
    }
    /// Notes that a file lock of kind `bit` (`locks::FLOCKED`) was taken through this
    /// description, so that its end releases the lock.
    pub fn mark_locked(&self, bit: u8) {
        self.locks.fetch_or(bit, Ordering::Relaxed);
    }
    /// The `locks::*` bits of the locks ever taken through this description.
    pub fn locked(&self) -> u8 {
        self.locks.load(Ordering::Relaxed)
    }
    pub fn nonblocking(&self) -> bool {
        self.status() & O_NONBLOCK != 0
    }
    pub fn readable(&self) -> bool {
        self.status() & O_ACCMODE != O_WRONLY
    }
    pub fn writable(&self) -> bool {
        self.status() & O_ACCMODE != O_RDONLY
    }
}

impl Drop for OpenFile {
    fn drop(&mut self) {
        locks::description_closed(self);
        self.ops.release();
        wait::notify();
    }
}

#[derive(Clone)]
struct Slot {
    file: Arc<OpenFile>,
    cloexec: bool,
}

pub const MAX_FDS: usize = 1024;

/// A program's descriptor table (each program has its own, in its
/// `process::Process`; the functions below act on the running program's).
pub struct Table(Mutex<Vec<Option<Slot>>>);

impl Table {
    pub const fn new() -> Self {
        Table(Mutex::new(Vec::new()))
    }

    fn lock(&self) -> spin::MutexGuard<'_, Vec<Option<Slot>>> {
        self.0.lock()
    }

    /// Puts `file` at exactly `fd`, closing what was there.
    pub fn install_at(&self, fd: u64, file: Arc<OpenFile>, cloexec: bool) -> Result<u64, Errno> {
        if fd as usize >= MAX_FDS {
            return Err(EBADF);
        }
        let old = {
            let mut t = self.lock();
            if t.len() <= fd as usize {
                t.resize(fd as usize + 1, None);
            }
            t[fd as usize].replace(Slot { file, cloexec })
        };
        if let Some(old) = &old {
            locks::closed_by(crate::process::current().pid(), &old.file);
        }
        drop(old); // outside the lock: dropping may release a file
        Ok(fd)
    }

    /// fork: the same open files at the same numbers (offsets and status shared, as
    /// the open file descriptions are), close-on-exec flags included.
    pub fn copy_from(&self, parent: &Table) {
        let slots = parent.lock().clone();
        let old = core::mem::replace(&mut *self.lock(), slots);
        drop(old);
    }

    /// execve: closes the close-on-exec descriptors.
    pub fn close_on_exec(&self) {
        let closed: Vec<Slot> = {
            let mut t = self.lock();
            t.iter_mut()
                .filter(|s| s.as_ref().is_some_and(|s| s.cloexec))
                .filter_map(Option::take)
                .collect()
        };
        let pid = crate::process::current().pid();
        for s in &closed {
            locks::closed_by(pid, &s.file);
        }
        drop(closed); // outside the lock: dropping may release files
    }

    /// Closes every descriptor.
    pub fn close_all(&self) {
        let all = core::mem::take(&mut *self.lock());
        drop(all); // outside the lock: dropping may release files
    }

    /// fds 0, 1 and 2 on the console.
    pub fn init_stdio(&self) {
        let console = OpenFile::new(Arc::new(console::Console), O_RDWR);
        for fd in 0..3 {
            let _ = self.install_at(fd, console.clone(), false);
        }
    }
}

/// The running program's descriptor table.
fn table() -> &'static Table {
    &crate::process::current().fds
}

pub fn get(fd: u64) -> Result<Arc<OpenFile>, Errno> {
    let t = table().lock();
    t.get(fd as usize)
        .and_then(|s| s.as_ref())
        .map(|s| s.file.clone())
        .ok_or(EBADF)
}

/// Installs `file` at the lowest free descriptor >= `min`.
pub fn install(file: Arc<OpenFile>, cloexec: bool, min: usize) -> Result<u64, Errno> {
    let mut t = table().lock();
    let fd = (min..MAX_FDS)
        .find(|&i| t.get(i).is_none_or(|s| s.is_none()))
        .ok_or(EMFILE)?;
    if t.len() <= fd {
        t.resize(fd + 1, None);
    }
    t[fd] = Some(Slot { file, cloexec });
    Ok(fd as u64)
}

/// Puts `file` at exactly `fd`, closing what was there.
pub fn install_at(fd: u64, file: Arc<OpenFile>, cloexec: bool) -> Result<u64, Errno> {
    table().install_at(fd, file, cloexec)
}

pub fn close(fd: u64) -> Result<(), Errno> {
    let old = table()
        .lock()
        .get_mut(fd as usize)
        .and_then(Option::take)
        .ok_or(EBADF)?;
    locks::closed_by(crate::process::current().pid(), &old.file);
    drop(old);
    Ok(())
}

pub fn cloexec(fd: u64) -> Result<bool, Errno> {
    table()
        .lock()
        .get(fd as usize)
        .and_then(|s| s.as_ref())
        .map(|s| s.cloexec)
        .ok_or(EBADF)
}

pub fn set_cloexec(fd: u64, on: bool) -> Result<(), Errno> {
    let mut t = table().lock();
    let s = t
        .get_mut(fd as usize)
        .and_then(|s| s.as_mut())
        .ok_or(EBADF)?;
    s.cloexec = on;
    Ok(())
}

/// Open descriptors and what they refer to, for /proc/self/fd.
pub fn list() -> Vec<(u64, String)> {
    let t = table().lock();
    (0..t.len())
        .filter_map(|i| t[i].as_ref().map(|s| (i as u64, s.file.ops.describe())))
        .collect()
}

pub fn describe(fd: u64) -> Result<String, Errno> {
    Ok(get(fd)?.ops.describe())
}

/// Closes every descriptor (the program has ended): files unlinked while open are
/// released, sockets closed, before the file systems are synced.
pub fn close_all() {
    table().close_all();
    locks::process_ended(crate::process::current().pid());
}
