//! The syscall trace (`-e RUMPRUN_VERBOSE=2`): one line per syscall on the console,
//! strace-like: thread, name, the six argument registers, and the result or errno.
//! Off by default; checking it costs one load per syscall.

use crate::errno::Errno;
use core::sync::atomic::{AtomicBool, Ordering};

static ON: AtomicBool = AtomicBool::new(false);

pub fn enable() {
    ON.store(true, Ordering::Relaxed);
}

#[inline]
pub fn enabled() -> bool {
    ON.load(Ordering::Relaxed)
}

pub fn enter(nr: usize, a: &[u64; 6]) {
    let name = super::name(nr).unwrap_or("?");
    kprintln!(
        "[{}] {name}({:#x}, {:#x}, {:#x}, {:#x}, {:#x}, {:#x}) ...",
        crate::sched::current(),
        a[0],
        a[1],
        a[2],
        a[3],
        a[4],
        a[5]
    );
}

pub fn exit(nr: usize, r: &Result<u64, Errno>) {
    let name = super::name(nr).unwrap_or("?");
    match r {
        Ok(v) => kprintln!("[{}] {name} = {v:#x}", crate::sched::current()),
        Err(e) => kprintln!(
            "[{}] {name} = -{} ({})",
            crate::sched::current(),
            e.0,
            e.name()
        ),
    }
}
