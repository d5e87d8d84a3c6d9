//! Kernel console output: `kprint!`/`kprintln!` over the platform console, and the
//! once-per-key log lines used for "unsupported" messages.

use core::fmt::{self, Write};
use spin::Mutex;

struct Console;

impl Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        crate::platform::console_write(s.as_bytes());
        Ok(())
    }
}

static LOCK: Mutex<()> = Mutex::new(());

pub fn print(args: fmt::Arguments) {
    // A fault while printing must still be able to print: don't wait on ourselves.
    let _guard = LOCK.try_lock();
    let _ = Console.write_fmt(args);
}

pub fn write_bytes(bytes: &[u8]) {
    crate::platform::console_write(bytes);
}

#[macro_export]
macro_rules! kprint {
    ($($arg:tt)*) => ($crate::console::print(format_args!($($arg)*)));
}

#[macro_export]
macro_rules! kprintln {
    () => ($crate::kprint!("\n"));
    ($($arg:tt)*) => ($crate::console::print(format_args!("{}\n", format_args!($($arg)*))));
}

static LOGGED: Mutex<alloc::collections::BTreeSet<&'static str>> =
    Mutex::new(alloc::collections::BTreeSet::new());

/// Prints `line` the first time `key` is seen.
pub fn log_once(key: &'static str, line: &str) {
    if LOGGED.lock().insert(key) {
        print(format_args!("{line}\n"));
    }
}
