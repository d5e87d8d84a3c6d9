//! The console as a file: fds 0-2, /dev/console, /dev/tty. Writes go to the platform
//! console; reads take what has arrived (input is polled: no interrupt yet). It
//! answers the terminal ioctls libcs ask at start-up (isatty, window size) and a
//! shell's job control asks (tcgetpgrp/tcsetpgrp, TIOCSCTTY, TIOCGSID), and keeps
//! job control's rules (Linux's `__tty_check_change`): once a session has set a
//! foreground group, a process of that session in another group that reads the
//! console, sets its foreground group or its termios, or writes with TOSTOP set, gets
//! SIGTTIN/SIGTTOU sent to its group (the call restarts once it is continued), or EIO
//! when its group is orphaned or it ignores SIGTTIN (an ignored or blocked SIGTTOU
//! lets the call through).

use super::{FileOps, OpenFile, POLLIN, POLLOUT};
use crate::errno::*;
use crate::fd::stat::{makedev, Stat, S_IFCHR};
use crate::process::{self, pgrp};
use crate::signal::{self, SIGTTIN, SIGTTOU};
use core::any::Any;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// The console's foreground process group (tcsetpgrp; 0: none set, tcgetpgrp answers
/// the caller's group).
static FOREGROUND: AtomicU32 = AtomicU32::new(0);
/// The session whose foreground group that is: the console is the controlling
/// terminal of that session (the last one to set a foreground group).
static SESSION: AtomicU32 = AtomicU32::new(0);
/// termios' TOSTOP: background writers get SIGTTOU.
static TOSTOP: AtomicBool = AtomicBool::new(false);
const TOSTOP_FLAG: u32 = 0o400;

/// Job control for a call of the running process that reads (`SIGTTIN`) or writes or
/// changes the terminal (`SIGTTOU`): Ok when it may go on.
fn job_control(sig: i32) -> Result<(), Errno> {
    let fg = FOREGROUND.load(Ordering::Relaxed);
    let me = process::current();
    if fg == 0 || me.sid.load(Ordering::Relaxed) != SESSION.load(Ordering::Relaxed) {
        return Ok(()); // not the controlling terminal of its session
    }
    let pgid = me.pgid.load(Ordering::Relaxed);
    if pgid == fg {
        return Ok(());
    }
    let handler = me.signals.action_of(sig).handler;
    let blocked = signal::state::with_current(|t| t.mask) & signal::bit(sig) != 0;
    // pid 1 does not stop on signals it has no handler for (`signal::job`): as if
    // it ignored them.
    let ignored =
        handler == signal::SIG_IGN || blocked || (me.pid() == 1 && handler == signal::SIG_DFL);
    if ignored {
        return if sig == SIGTTIN { Err(EIO) } else { Ok(()) };
    }
    if pgrp::is_orphaned(pgid) {
        return Err(EIO);
    }
    pgrp::send(pgid, sig);
    Err(ERESTARTSYS)
}

pub struct Console;

impl FileOps for Console {
    fn read(&self, _file: &OpenFile, buf: &mut [u8]) -> Result<usize, Errno> {
        job_control(SIGTTIN)?;
        match crate::platform::console_try_read(buf) {
            0 if !buf.is_empty() => Err(EAGAIN),
            n => Ok(n),
        }
    }
    fn write(&self, _file: &OpenFile, buf: &[u8]) -> Result<usize, Errno> {
        if TOSTOP.load(Ordering::Relaxed) {
            job_control(SIGTTOU)?;
        }
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
                let tostop = if TOSTOP.load(Ordering::Relaxed) {
                    TOSTOP_FLAG
                } else {
                    0
                };
                t[12..16].copy_from_slice(
                    &(0o1u32 | 0o2 | 0o10 | 0o20 | 0o40 | 0o100000 | tostop).to_le_bytes(),
                );
                let cc = [
                    3u8, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22, 0,
                ];
                t[17..17 + cc.len()].copy_from_slice(&cc);
                user::copy_out(arg, &t)?;
                Ok(0)
            }
            TCSETS..=TCSETSF => {
                let lflag: u32 = user::read(arg + 12)?;
                job_control(SIGTTOU)?;
                TOSTOP.store(lflag & TOSTOP_FLAG != 0, Ordering::Relaxed);
                Ok(0)
            }
            TIOCSWINSZ => Ok(0),
            TIOCGWINSZ => user::write(arg, [24u16, 80, 0, 0]).map(|_| 0),
            TIOCGPGRP => {
                let me = process::current();
                let fg = FOREGROUND.load(Ordering::Relaxed);
                let fg = if fg == 0
                    || me.sid.load(Ordering::Relaxed) != SESSION.load(Ordering::Relaxed)
                {
                    me.pgid.load(Ordering::Relaxed)
                } else {
                    fg
                };
                user::write(arg, fg as i32).map(|_| 0)
            }
            TIOCSPGRP => {
                let pgid: i32 = user::read(arg)?;
                if pgid < 0 {
                    return Err(EINVAL);
                }
                job_control(SIGTTOU)?;
                // A group of the caller's session (Linux: ESRCH for none, EPERM for
                // one of another session); the console becomes its session's.
                let sid = process::current().sid.load(Ordering::Relaxed);
                let group =
                    || process::running().filter(|q| q.pgid.load(Ordering::Relaxed) == pgid as u32);
                if group().next().is_none() {
                    return Err(ESRCH);
                }
                if !group().any(|q| q.sid.load(Ordering::Relaxed) == sid) {
                    return Err(EPERM);
                }
                SESSION.store(sid, Ordering::Relaxed);
                FOREGROUND.store(pgid as u32, Ordering::Relaxed);
                Ok(0)
            }
            TIOCGSID => {
                user::write(arg, process::current().sid.load(Ordering::Relaxed) as i32).map(|_| 0)
            }
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
