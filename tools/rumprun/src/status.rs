//! The program's exit status, from what the guest and QEMU left behind: the status
//! line the guest wrote on COM2 (the status file), else `(s-1)/2` when QEMU's exit
//! status `s` is odd and not 1 (isa-debug-exit), else an error.

use crate::error::Error;

/// How QEMU ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QemuEnd {
    Exited(i32),
    Signaled(i32),
}

impl From<std::process::ExitStatus> for QemuEnd {
    fn from(s: std::process::ExitStatus) -> Self {
        use std::os::unix::process::ExitStatusExt;
        match (s.code(), s.signal()) {
            (Some(c), _) => QemuEnd::Exited(c),
            (None, Some(sig)) => QemuEnd::Signaled(sig),
            (None, None) => QemuEnd::Exited(-1),
        }
    }
}

/// The exit status `rumprun` returns, given the status file's contents (if any) and
/// how QEMU ended.
pub fn decide(status_file: Option<&str>, qemu: QemuEnd) -> Result<i32, Error> {
    let line = status_file.and_then(|s| s.lines().map(str::trim).rfind(|l| !l.is_empty()));
    if let Some(line) = line {
        return match line.parse::<u8>() {
            Ok(v) => Ok(v as i32),
            Err(_) => Err(Error::new(format!(
                "guest reported an invalid exit status \"{}\"",
                line.escape_debug()
            ))),
        };
    }
    match qemu {
        // 1 is also what QEMU exits with when it fails (bad option, kernel not
        // loadable), and a guest that exits 0 writes its status line first: so without
        // a status line, 1 is an error rather than a silent success.
        QemuEnd::Exited(1) => Err(Error::new(
            "guest ended without reporting an exit status (qemu exited with 1: qemu failed, see its message above)",
        )),
        QemuEnd::Exited(s) if s > 0 && s % 2 == 1 => Ok((s - 1) / 2),
        QemuEnd::Exited(s) => Err(Error::new(format!(
            "guest ended without reporting an exit status (qemu exited with {s})"
        ))),
        QemuEnd::Signaled(sig) => Err(Error::new(format!(
            "guest ended without reporting an exit status (qemu was killed by signal {sig})"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_file_wins() {
        assert_eq!(decide(Some("3\n"), QemuEnd::Exited(7)), Ok(3));
        assert_eq!(decide(Some("0\n"), QemuEnd::Exited(0)), Ok(0));
        assert_eq!(decide(Some("139\n"), QemuEnd::Signaled(15)), Ok(139));
        assert_eq!(decide(Some("junk\n 42 \n\n"), QemuEnd::Exited(1)), Ok(42));
    }

    #[test]
    fn falls_back_to_debug_exit() {
        assert_eq!(decide(None, QemuEnd::Exited(9)), Ok(4));
        assert_eq!(decide(Some(""), QemuEnd::Exited(3)), Ok(1));
        assert_eq!(decide(Some("\n"), QemuEnd::Exited(255)), Ok(127));
    }

    #[test]
    fn errors() {
        assert_eq!(
            decide(Some(""), QemuEnd::Exited(1)).unwrap_err().message,
            "guest ended without reporting an exit status (qemu exited with 1: qemu failed, see its message above)"
        );
        assert_eq!(
            decide(None, QemuEnd::Exited(0)).unwrap_err().message,
            "guest ended without reporting an exit status (qemu exited with 0)"
        );
        assert_eq!(
            decide(None, QemuEnd::Signaled(9)).unwrap_err().message,
            "guest ended without reporting an exit status (qemu was killed by signal 9)"
        );
        assert_eq!(
            decide(Some("300\n"), QemuEnd::Exited(1))
                .unwrap_err()
                .message,
            "guest reported an invalid exit status \"300\""
        );
    }
}
