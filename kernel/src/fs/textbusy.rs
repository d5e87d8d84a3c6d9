//! ETXTBSY ("text file busy"): a file that a live process runs as its program may not
//! be opened for writing or truncated, and a file open for writing may not be
//! exec'd, as on Linux (its `i_writecount`/`deny_write_access`). Files are counted by
//! their `(dev, ino)` key: how many open file descriptions may write to each, and how
//! many live processes run it (a forked child runs its parent's program too; a
//! zombie runs nothing). The counts are held by guards: `Writer` in a writable open
//! file, `Running` in a process.

use crate::errno::*;
use crate::sync::SpinLock;
use alloc::collections::BTreeMap;

type Key = (u64, u64);

#[derive(Default)]
struct Counts {
    writers: u32,
    running: u32,
}

static FILES: SpinLock<BTreeMap<Key, Counts>> = SpinLock::new(BTreeMap::new());

fn change(key: Key, f: impl FnOnce(&mut Counts)) {
    let mut files = FILES.lock();
    let c = files.entry(key).or_default();
    f(c);
    if c.writers == 0 && c.running == 0 {
        files.remove(&key);
    }
}

/// ETXTBSY when a live process runs the file `key`: it may not be written.
pub fn check_writable(key: Key) -> Result<(), Errno> {
    match FILES.lock().get(&key) {
        Some(c) if c.running > 0 => Err(ETXTBSY),
        _ => Ok(()),
    }
}

/// ETXTBSY when the file `key` is open for writing: it may not be run.
pub fn check_runnable(key: Key) -> Result<(), Errno> {
    match FILES.lock().get(&key) {
        Some(c) if c.writers > 0 => Err(ETXTBSY),
        _ => Ok(()),
    }
}

/// An open file description that may write to a file (dropped with it).
pub struct Writer(Key);

impl Writer {
    /// Counts a writer of `key`, or ETXTBSY when a live process runs it.
    pub fn new(key: Key) -> Result<Writer, Errno> {
        let mut files = FILES.lock();
        let c = files.entry(key).or_default();
        if c.running > 0 {
            if c.writers == 0 {
                files.remove(&key);
            }
            return Err(ETXTBSY);
        }
        c.writers += 1;
        Ok(Writer(key))
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        change(self.0, |c| c.writers -= 1);
    }
}

/// A live process running the file (dropped when it execs another or ends).
pub struct Running(Key);

impl Running {
    /// Counts a process running `key` (its writers were checked by `check_runnable`
    /// before the point of no return; one opened since does not undo the exec).
    pub fn new(key: Key) -> Running {
        change(key, |c| c.running += 1);
        Running(key)
    }
}

impl Clone for Running {
    /// fork: the child runs the same file.
    fn clone(&self) -> Running {
        Running::new(self.0)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        change(self.0, |c| c.running -= 1);
    }
}
