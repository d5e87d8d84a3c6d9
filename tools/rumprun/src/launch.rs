//! Running QEMU: in the foreground (`-i`, console on our stdio, then the program's exit
//! status; QEMU dies with the launcher) or in the background (own session, console
//! appended to a log file, outliving the launcher).

use std::fs::OpenOptions;
use std::io::ErrorKind;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{io_message, Error};
use crate::status::{decide, QemuEnd};

/// How long a background start watches for QEMU failing at once.
pub const BACKGROUND_GRACE: Duration = Duration::from_millis(300);

fn spawn_error(program: &str, e: &std::io::Error) -> Error {
    let hint = if e.kind() == ErrorKind::NotFound && program == crate::qemu::DEFAULT_QEMU {
        " (apt-get install qemu-system-x86)"
    } else {
        ""
    };
    Error::new(format!("cannot run {program}: {}{hint}", io_message(e)))
}

fn read_status(path: &str) -> Option<String> {
    std::fs::read(path)
        .ok()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// Sets SIGINT and SIGQUIT to `action`, returning the previous actions.
fn set_interrupt_signals(action: [libc::sighandler_t; 2]) -> [libc::sighandler_t; 2] {
    // SAFETY: signal() with SIG_IGN/SIG_DFL or a previously returned handler.
    unsafe {
        [
            libc::signal(libc::SIGINT, action[0]),
            libc::signal(libc::SIGQUIT, action[1]),
        ]
    }
}

/// Makes the child get SIGKILL when we end, however we end (SIGKILL included): a
/// foreground QEMU must not outlive the launcher that waits for it (a test harness
/// killing `rumprun` on a timeout left QEMU spinning). If we are already gone when
/// the child starts, it ends at once.
fn die_with_parent(cmd: &mut Command) {
    // SAFETY: getpid is async-signal-safe; it runs before the fork.
    let parent = unsafe { libc::getpid() };
    // SAFETY: prctl, getppid and raise are async-signal-safe, as pre_exec requires.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            if libc::getppid() != parent {
                libc::raise(libc::SIGKILL);
            }
            Ok(())
        });
    }
}

/// Runs QEMU with our stdio and returns the program's exit status.
pub fn foreground(argv: &[String], status_path: &str) -> Result<i32, Error> {
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..]);
    die_with_parent(&mut cmd);
    let mut child = cmd.spawn().map_err(|e| spawn_error(&argv[0], &e))?;
    // Like system(3): ^C goes to QEMU (same process group); we wait for it to end.
    let old = set_interrupt_signals([libc::SIG_IGN, libc::SIG_IGN]);
    let waited = child.wait();
    set_interrupt_signals(old);
    let end = QemuEnd::from(
        waited.map_err(|e| Error::new(format!("waiting for qemu: {}", io_message(&e))))?,
    );
    decide(read_status(status_path).as_deref(), end)
}

/// Starts QEMU in its own session, stdin from /dev/null, stdout and stderr appended to
/// `console_log`. Returns its pid; fails if QEMU cannot start or exits at once with an
/// error.
pub fn background(argv: &[String], console_log: &str, status_path: &str) -> Result<u32, Error> {
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(console_log)
        .map_err(|e| Error::new(format!("cannot open {console_log}: {}", io_message(&e))))?;
    let log2 = log
        .try_clone()
        .map_err(|e| Error::new(format!("cannot open {console_log}: {}", io_message(&e))))?;
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2);
    // SAFETY: setsid is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child: Child = cmd.spawn().map_err(|e| spawn_error(&argv[0], &e))?;
    let pid = child.id();
    let start = Instant::now();
    while start.elapsed() < BACKGROUND_GRACE {
        match child.try_wait() {
            Ok(Some(status)) => {
                // Ended already: fine if the guest reported its exit status, else QEMU
                // failed (its exit status 1 for bad options looks like a debug-exit 0).
                let reported = read_status(status_path).is_some_and(|s| !s.trim().is_empty());
                if !reported {
                    let last = std::fs::read_to_string(console_log)
                        .ok()
                        .and_then(|s| s.lines().rfind(|l| !l.trim().is_empty()).map(String::from))
                        .unwrap_or_default();
                    let code = QemuEnd::from(status);
                    let how = match code {
                        QemuEnd::Exited(c) => format!("status {c}"),
                        QemuEnd::Signaled(s) => format!("signal {s}"),
                    };
                    return Err(Error::new(if last.is_empty() {
                        format!("qemu ended at once ({how})")
                    } else {
                        format!("qemu ended at once ({how}): {last}")
                    }));
                }
                return Ok(pid);
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(_) => break,
        }
    }
    Ok(pid)
}
