//! The guest's PV console for `rumprun xen -i`, read straight from the pty xenconsoled
//! serves it on (named in xenstore at `/local/domain/<domid>/console/tty`), rather than
//! through `xl console`: the pty is opened before the guest is unpaused, so no output
//! is lost however slowly dom0 runs, and after the guest's end the launcher can drain
//! it before returning. Input lines from stdin go to the guest.

use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::{io_message, Error};
use crate::xenstore::Xenstore;

/// How long xenconsoled gets to publish the pty of a new guest.
const TTY_WAIT: Duration = Duration::from_secs(10);
/// Output is drained once the pty has been quiet this long.
const QUIET: Duration = Duration::from_millis(300);

/// A console being copied to stdout.
pub struct Console {
    /// Milliseconds since `start` when output last arrived.
    last_output_ms: Arc<AtomicU64>,
    start: Instant,
}

fn tty_path(xs: &mut Xenstore, domid: u32) -> Result<String, Error> {
    let node = format!("/local/domain/{domid}/console/tty");
    let deadline = Instant::now() + TTY_WAIT;
    loop {
        if let Ok(bytes) = xs.read(&node) {
            let path = String::from_utf8_lossy(&bytes).trim().to_string();
            if !path.is_empty() {
                return Ok(path);
            }
        }
        if Instant::now() >= deadline {
            return Err(Error::new(format!(
                "domain {domid} has no console pty ({node}): is xenconsoled running?"
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Puts the pty in raw mode: bytes pass unchanged both ways, nothing is echoed.
fn make_raw(f: &File) {
    use std::os::fd::AsRawFd;
    // SAFETY: termios calls on an open descriptor with a zeroed, then filled struct.
    unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(f.as_raw_fd(), &mut t) == 0 {
            libc::cfmakeraw(&mut t);
            libc::tcsetattr(f.as_raw_fd(), libc::TCSANOW, &t);
        }
    }
}

impl Console {
    /// Opens domain `domid`'s console and starts copying it to stdout (and stdin to it).
    pub fn attach(xs: &mut Xenstore, domid: u32) -> Result<Console, Error> {
        let path = tty_path(xs, domid)?;
        let pty = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOCTTY)
            .open(&path)
            .map_err(|e| {
                Error::new(format!(
                    "cannot open the console {path}: {}",
                    io_message(&e)
                ))
            })?;
        make_raw(&pty);
        let console = Console {
            last_output_ms: Arc::new(AtomicU64::new(0)),
            start: Instant::now(),
        };
        let mut reader = pty
            .try_clone()
            .map_err(|e| Error::new(format!("console {path}: {}", io_message(&e))))?;
        let last = console.last_output_ms.clone();
        let start = console.start;
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            let mut out = std::io::stdout();
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let _ = out.write_all(&buf[..n]);
                let _ = out.flush();
                last.store(start.elapsed().as_millis() as u64, Ordering::Relaxed);
            }
        });
        let mut writer = pty;
        std::thread::spawn(move || {
            let mut buf = [0u8; 1024];
            let mut input = std::io::stdin();
            while let Ok(n) = input.read(&mut buf) {
                if n == 0 || writer.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        });
        Ok(console)
    }

    /// Waits until the console has been quiet for a while (the guest has stopped and
    /// flushed its ring before this is called).
    pub fn drain(&self) {
        let limit = Instant::now() + Duration::from_secs(5);
        loop {
            let last = Duration::from_millis(self.last_output_ms.load(Ordering::Relaxed));
            let quiet = self.start.elapsed().saturating_sub(last);
            if quiet >= QUIET || Instant::now() >= limit {
                return;
            }
            std::thread::sleep(QUIET - quiet);
        }
    }
}
