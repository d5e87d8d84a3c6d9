//! The console as a file: fds 0-2, /dev/console, /dev/tty. Writes go to the platform
//! console; reads take what has arrived (input is polled: no interrupt yet). It
//! answers the terminal ioctls libcs ask at start-up (isatty, window size) and a
//! shell's job control asks (tcgetpgrp/tcsetpgrp, TIOCSCTTY, TIOCGSID).

use super::{FileOps, OpenFile, POLLIN, POLLOUT};
use crate::errno::*;
use crate::fd::stat::{makedev, Stat, S_IFCHR};
use core::any::Any;

/// The console's foreground process group (tcsetpgrp; 0: none set, tcgetpgrp answers
/// the caller's group). Job control stops nobody: this only remembers it.
static FOREGROUND: core::sync::atomic::AtomicU32 = core::sync::atomic::AtomicU32::new(0);

pub struct Console;

impl FileOps for Console {
    fn read(&self, _file: &OpenFile, buf: &mut [u8]) -> Result<usize, Errno> {
        match crate::platform::console_try_read(buf) {
            0 if !buf.is_empty() => Err(EAGAIN),
            n => Ok(n),
        }
    }
    fn write(&self, _file: &OpenFile, buf: &[u8]) -> Result<usize, Errno> {
        crate::console::write_bytes(buf);
        Ok(buf.len())
    }
    fn poll(&self) -> u32 {
        POLLOUT
            | if crate::platform::console_has_input() {
                POLLIN
            } else {
                0
            }
    }
    fn needs_polling(&self) -> bool {
        true
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat::special(S_IFCHR | 0o620, 3, makedev(5, 1)))
    }
    fn ioctl(&self, _file: &OpenFile, req: u64, arg: u64) -> Result<u64, Errno> {
        use crate::mm::user;
        use core::sync::atomic::Ordering;
        const TCGETS: u64 = 0x5401;
        const TCSETS: u64 = 0x5402;
        const TCSETSF: u64 = 0x5404;
        const TIOCGPGRP: u64 = 0x540f;
        const TIOCSPGRP: u64 = 0x5410;
        const TIOCSCTTY: u64 = 0x540e;
        const TIOCNOTTY: u64 = 0x5422;
        const TIOCGSID: u64 = 0x5429;
        const TIOCGWINSZ: u64 = 0x5413;
        const TIOCSWINSZ: u64 = 0x5414;
        match req {
            TCGETS => {
                // Linux's struct termios for TCGETS: 4 flags, c_line, c_cc[19]: 36
                // bytes. iflag ICRNL|IXON, oflag OPOST|ONLCR, cflag B38400|CS8|CREAD,
                // lflag ISIG|ICANON|ECHO|ECHOE|ECHOK|IEXTEN.
                let mut t = [0u8; 36];
                t[0..4].copy_from_slice(&(0o400u32 | 0o2000).to_le_bytes());
                t[4..8].copy_from_slice(&(0o1u32 | 0o4).to_le_bytes());
                t[8..12].copy_from_slice(&(0o17u32 | 0o60 | 0o200).to_le_bytes());
                t[12..16]
                    .copy_from_slice(&(0o1u32 | 0o2 | 0o10 | 0o20 | 0o40 | 0o100000).to_le_bytes());
                let cc = [
                    3u8, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22, 0,
                ];
                t[17..17 + cc.len()].copy_from_slice(&cc);
                user::copy_out(arg, &t)?;
                Ok(0)
            }
            TCSETS..=TCSETSF | TIOCSWINSZ => Ok(0),
            TIOCGWINSZ => user::write(arg, [24u16, 80, 0, 0]).map(|_| 0),
            TIOCGPGRP => {
                let fg = FOREGROUND.load(Ordering::Relaxed);
                let fg = if fg == 0 {
                    crate::process::current().pgid.load(Ordering::Relaxed)
                } else {
                    fg
                };
                user::write(arg, fg as i32).map(|_| 0)
            }
            TIOCSPGRP => {
                let pgid: i32 = user::read(arg)?;
                if pgid <= 0 {
                    return Err(EINVAL);
                }
                FOREGROUND.store(pgid as u32, Ordering::Relaxed);
                Ok(0)
            }
            TIOCGSID => user::write(
                arg,
                crate::process::current().sid.load(Ordering::Relaxed) as i32,
            )
            .map(|_| 0),
            TIOCSCTTY | TIOCNOTTY => Ok(0),
            _ => Err(ENOTTY),
        }
    }
    fn describe(&self) -> alloc::string::String {
        alloc::string::String::from("/dev/console")
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
