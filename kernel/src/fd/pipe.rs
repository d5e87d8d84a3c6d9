//! Pipes: a 64 KiB ring buffer with a read end and a write end. Reading an empty pipe
//! whose writers are all gone gives end of file; writing with no readers left gives
//! EPIPE. Writes of up to PIPE_BUF bytes are atomic.

use super::{wait, FileOps, OpenFile, POLLERR, POLLHUP, POLLIN, POLLOUT};
use crate::syscalls::errno::*;
use crate::syscalls::stat::{Stat, S_IFIFO};
use alloc::sync::Arc;
use core::any::Any;
use core::sync::atomic::{AtomicU64, Ordering};
use rumprun_ipc::ByteRing;
use spin::Mutex;

const CAPACITY: usize = 64 * 1024;
const PIPE_BUF: usize = 4096;

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
