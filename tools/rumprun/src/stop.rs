//! `rumpstop GUEST`: stops a guest started in the background by `rumprun`, given the
//! cookie it printed: `qemu:<pid>` (SIGTERM, up to 2 s, then SIGKILL), `xen:<domid>`
//! (`xl destroy`, run in dom0) or `libvirt:<name>` (`virsh destroy`, libvirt's default
//! URI or `$LIBVIRT_DEFAULT_URI`).

use std::time::{Duration, Instant};

use crate::error::Error;

/// How long to wait after SIGTERM before SIGKILL.
pub const TERM_GRACE: Duration = Duration::from_secs(2);

/// The usage text.
pub const USAGE: &str = "usage: rumpstop GUEST\n\nGUEST is what rumprun printed when it started the guest: qemu:<pid>,\nxen:<domid> (xl destroy, run in dom0) or libvirt:<name> (virsh destroy; the\nconnection is $LIBVIRT_DEFAULT_URI or libvirt's default).\n";

/// A guest to stop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Guest {
    Qemu(u32),
    Xen(u32),
    Libvirt(String),
}

/// Parses `qemu:<pid>`, `xen:<domid>` or `libvirt:<name>`.
pub fn parse_spec(spec: &str) -> Result<Guest, Error> {
    let invalid = || {
        Error::new(format!(
            "invalid guest spec \"{spec}\" (expected qemu:<pid>, xen:<domid> or libvirt:<name>)"
        ))
    };
    if let Some(name) = spec.strip_prefix("libvirt:") {
        return match name {
            "" => Err(invalid()),
            n if n.starts_with('-') || n.contains(['/', '\n']) => Err(invalid()),
            n => Ok(Guest::Libvirt(n.to_string())),
        };
    }
    if let Some(domid) = spec.strip_prefix("xen:") {
        // Domain 0 is the host itself; ids stop below DOMID_FIRST_RESERVED.
        return match domid.parse::<u32>() {
            Ok(d) if d > 0 && d < 0x7ff0 && domid.bytes().all(|b| b.is_ascii_digit()) => {
                Ok(Guest::Xen(d))
            }
            _ => Err(invalid()),
        };
    }
    let pid = spec.strip_prefix("qemu:").ok_or_else(invalid)?;
    if !pid.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    match pid.parse::<u32>() {
        Ok(p) if p > 1 && p <= i32::MAX as u32 => Ok(Guest::Qemu(p)),
        _ => Err(invalid()),
    }
}

/// The process's state letter from /proc (None if it is gone).
fn state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

/// Gone or a zombie (dead, waiting to be reaped).
fn is_gone(pid: u32) -> bool {
    matches!(state(pid), None | Some('Z') | Some('X'))
}

fn wait_gone(pid: u32, limit: Duration) -> bool {
    let start = Instant::now();
    loop {
        if is_gone(pid) {
            return true;
        }
        if start.elapsed() >= limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn signal(pid: u32, sig: libc::c_int) -> std::io::Result<()> {
    // SAFETY: kill(2) on a positive pid.
    if unsafe { libc::kill(pid as libc::pid_t, sig) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Stops the guest.
pub fn stop(guest: Guest) -> Result<(), Error> {
    let pid = match guest {
        Guest::Qemu(pid) => pid,
        Guest::Xen(domid) => return crate::xen::destroy(domid),
        Guest::Libvirt(name) => return crate::libvirt::destroy(&name),
    };
    if is_gone(pid) {
        return Err(Error::new(format!(
            "no such guest: process {pid} does not exist"
        )));
    }
    // Only ever kill what rumprun started: a QEMU command line has -kernel.
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    if !cmdline.split(|b| *b == 0).any(|a| a == b"-kernel") {
        return Err(Error::new(format!(
            "process {pid} is not a rumprun guest (no -kernel in its command line)"
        )));
    }
    let fail = |e: std::io::Error| {
        Error::new(format!(
            "cannot stop process {pid}: {}",
            crate::error::io_message(&e)
        ))
    };
    match signal(pid, libc::SIGTERM) {
        Err(e) if e.raw_os_error() == Some(libc::ESRCH) => return Ok(()),
        r => r.map_err(fail)?,
    }
    if wait_gone(pid, TERM_GRACE) {
        return Ok(());
    }
    match signal(pid, libc::SIGKILL) {
        Err(e) if e.raw_os_error() == Some(libc::ESRCH) => return Ok(()),
        r => r.map_err(fail)?,
    }
    if wait_gone(pid, Duration::from_secs(1)) {
        Ok(())
    } else {
        Err(Error::new(format!("process {pid} did not stop")))
    }
}

/// Runs `rumpstop` with these arguments (without argv\[0\]).
pub fn rumpstop(args: &[String]) -> Result<i32, Error> {
    match args {
        [h] if h == "-h" || h == "--help" => {
            print!("{USAGE}");
            Ok(0)
        }
        [spec] if !spec.starts_with('-') => {
            stop(parse_spec(spec)?)?;
            Ok(0)
        }
        [opt, ..] if opt.starts_with('-') => Err(Error::usage(format!("unknown option {opt}"))),
        [] => Err(Error::usage("missing GUEST")),
        _ => Err(Error::usage("too many arguments")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        assert_eq!(parse_spec("qemu:1234"), Ok(Guest::Qemu(1234)));
        for bad in [
            "x",
            "qemu:",
            "qemu:abc",
            "qemu:-5",
            "qemu:+5",
            "qemu:0",
            "qemu:1",
            "qemu:99999999999",
            "kvm:3",
            "xen:",
            "xen:0",
            "xen:+3",
            "xen:32752",
            "libvirt:",
            "libvirt:-x",
        ] {
            assert_eq!(
                parse_spec(bad).unwrap_err().message,
                format!("invalid guest spec \"{bad}\" (expected qemu:<pid>, xen:<domid> or libvirt:<name>)")
            );
        }
        assert_eq!(parse_spec("xen:3"), Ok(Guest::Xen(3)));
        assert_eq!(
            parse_spec("libvirt:web-1"),
            Ok(Guest::Libvirt("web-1".into()))
        );
    }

    #[test]
    fn refuses_a_process_that_is_not_a_guest() {
        let me = std::process::id();
        assert!(stop(Guest::Qemu(me))
            .unwrap_err()
            .message
            .contains("is not a rumprun guest"));
    }
}
