//! Pipes: a ring buffer (64 KiB unless F_SETPIPE_SZ changes it) with a read end and a
//! write end. Reading an empty pipe whose writers are all gone gives end of file;
//! writing with no readers left gives EPIPE. Writes of up to PIPE_BUF bytes are atomic.

use super::{wait, FileOps, OpenFile, POLLERR, POLLHUP, POLLIN, POLLOUT};
use crate::errno::*;
use crate::fd::stat::{Stat, S_IFIFO};
use alloc::sync::Arc;
use core::any::Any;
use core::sync::atomic::{AtomicU64, Ordering};
use rumprun_ipc::ByteRing;
use spin::Mutex;

const CAPACITY: usize = 64 * 1024;
const PIPE_BUF: usize = 4096;
/// Linux's default /proc/sys/fs/pipe-max-size: F_SETPIPE_SZ above it is EPERM.
const MAX_CAPACITY: u64 = 1024 * 1024;

static NEXT_INO: AtomicU64 = AtomicU64::new(1000);

struct Shared {
    buf: ByteRing,
    readers: usize,
    writers: usize,
    generation: u64,
}

pub struct Pipe {
    shared: Arc<Mutex<Shared>>,
    ino: u64,
}

pub struct ReadEnd(Pipe);
pub struct WriteEnd(Pipe);

/// A new pipe's two ends.
pub fn new() -> (ReadEnd, WriteEnd) {
    let shared = Arc::new(Mutex::new(Shared {
        buf: ByteRing::new(CAPACITY),
        readers: 1,
        writers: 1,
        generation: 0,
    }));
    let ino = NEXT_INO.fetch_add(1, Ordering::Relaxed);
    (
        ReadEnd(Pipe {
            shared: shared.clone(),
            ino,
        }),
        WriteEnd(Pipe { shared, ino }),
    )
}

/// The shared state of the pipe `ops` is an end of (None: not a pipe).
fn shared_of(ops: &dyn Any) -> Option<&Arc<Mutex<Shared>>> {
    if let Some(r) = ops.downcast_ref::<ReadEnd>() {
        Some(&r.0.shared)
    } else {
        ops.downcast_ref::<WriteEnd>().map(|w| &w.0.shared)
    }
}

/// Opens the pipe `ops` is an end of again (`open("/proc/self/fd/N")`, `/dev/stdin`):
/// a new read end for O_RDONLY, a new write end for O_WRONLY, as opening a FIFO does.
/// None if `ops` is not a pipe; EINVAL for O_RDWR (ours has no end that is both).
pub fn reopen(ops: &dyn Any, accmode: u32) -> Option<Result<Arc<dyn FileOps>, Errno>> {
    let shared = shared_of(ops)?.clone();
    let ino = ops
        .downcast_ref::<ReadEnd>()
        .map(|r| r.0.ino)
        .or_else(|| ops.downcast_ref::<WriteEnd>().map(|w| w.0.ino))?;
    Some(match accmode {
        0 => {
            shared.lock().readers += 1;
            Ok(Arc::new(ReadEnd(Pipe { shared, ino })))
        }
        1 => {
            shared.lock().writers += 1;
            Ok(Arc::new(WriteEnd(Pipe { shared, ino })))
        }
        _ => Err(EINVAL),
    })
}

/// F_GETPIPE_SZ: the capacity of the pipe `ops` is an end of; EBADF if not a pipe
/// (Linux's pipe_fcntl).
pub fn size(ops: &dyn Any) -> Result<usize, Errno> {
    Ok(shared_of(ops).ok_or(EBADF)?.lock().buf.capacity())
}

/// F_SETPIPE_SZ as Linux does it: the size is rounded up to a power-of-two number of
/// pages (at least one); above pipe-max-size (1 MiB) EPERM unless `privileged`
/// (CAP_SYS_RESOURCE), below what is queued EBUSY, not a pipe EBADF. Returns the new
/// capacity. The ring only takes memory for what is queued, so a large capacity
/// costs nothing.
pub fn resize(ops: &dyn Any, req: u64, privileged: bool) -> Result<usize, Errno> {
    let shared = shared_of(ops).ok_or(EBADF)?;
    if req > 1 << 31 {
        return Err(EINVAL);
    }
    let size = req.max(PIPE_BUF as u64).next_power_of_two();
    if size > MAX_CAPACITY && !privileged {
        return Err(EPERM);
    }
    let mut s = shared.lock();
    if s.buf.len() as u64 > size {
        return Err(EBUSY);
    }
    s.buf.set_capacity(size as usize);
    s.generation += 1;
    drop(s);
    wait::notify();
    Ok(size as usize)
}

fn stat(ino: u64) -> Result<Stat, Errno> {
    Ok(Stat {
        ino,
        nlink: 1,
        mode: S_IFIFO | 0o600,
        blksize: 4096,
        ..Default::default()
    })
}

impl FileOps for ReadEnd {
    fn network_driven(&self) -> bool {
        false
    }
    fn read(&self, _file: &OpenFile, buf: &mut [u8]) -> Result<usize, Errno> {
        let mut s = self.0.shared.lock();
        if s.buf.is_empty() {
            return if s.writers == 0 || buf.is_empty() {
                Ok(0)
            } else {
                Err(EAGAIN)
            };
        }
        let n = s.buf.pop(buf);
        s.generation += 1;
        drop(s);
        wait::notify();
        Ok(n)
    }
    fn poll(&self) -> u32 {
        let s = self.0.shared.lock();
        let mut ev = 0;
        if !s.buf.is_empty() {
            ev |= POLLIN;
        }
        if s.writers == 0 {
            ev |= POLLHUP;
        }
        ev
    }
    fn generation(&self) -> u64 {
        self.0.shared.lock().generation
    }
    fn bytes_readable(&self) -> Option<usize> {
        Some(self.0.shared.lock().buf.len())
    }
    fn stat(&self) -> Result<Stat, Errno> {
        stat(self.0.ino)
    }
    fn release(&self) {
        self.0.shared.lock().readers -= 1;
    }
    fn describe(&self) -> alloc::string::String {
        alloc::format!("pipe:[{}]", self.0.ino)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl FileOps for WriteEnd {
    fn network_driven(&self) -> bool {
        false
    }
    fn is_stream(&self) -> bool {
        true
    }
    fn write(&self, _file: &OpenFile, buf: &[u8]) -> Result<usize, Errno> {
        let mut s = self.0.shared.lock();
        if s.readers == 0 {
            return Err(EPIPE);
        }
        // Small writes go in whole or not at all (PIPE_BUF atomicity).
        let n = s.buf.push(buf, PIPE_BUF).ok_or(EAGAIN)?;
        if n == 0 {
            return Ok(0);
        }
        s.generation += 1;
        drop(s);
        wait::notify();
        Ok(n)
    }
    fn poll(&self) -> u32 {
        let s = self.0.shared.lock();
        if s.readers == 0 {
            return POLLOUT | POLLERR;
        }
        if s.buf.room() >= PIPE_BUF {
            POLLOUT
        } else {
            0
        }
    }
    fn generation(&self) -> u64 {
        self.0.shared.lock().generation
    }
    fn stat(&self) -> Result<Stat, Errno> {
        stat(self.0.ino)
    }
    fn release(&self) {
        self.0.shared.lock().writers -= 1;
    }
    fn describe(&self) -> alloc::string::String {
        alloc::format!("pipe:[{}]", self.0.ino)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
