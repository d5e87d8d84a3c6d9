//! Pseudo-terminals: /dev/ptmx opens a new master, whose slave is /dev/pts/N (a
//! device node made in the VFS while the pair lives, so stat, chown and chmod work as
//! glibc's grantpt wants). Unlocked with TIOCSPTLCK (unlockpt); TIOCGPTN (ptsname)
//! and TIOCGPTPEER (openpty) as Linux.
//!
//! A modest line discipline, driven by the slave's termios: what the master writes
//! is the slave's input (ICRNL/INLCR/IGNCR; with ICANON lines are edited with ERASE
//! and KILL and handed out whole, EOF ends a read; with ISIG the INTR, QUIT and SUSP
//! characters signal the foreground process group, or the program that opened the
//! slave; ECHO/ECHOE/ECHOCTL/ECHONL echo to the master); what the slave writes is the
//! master's to read, with OPOST/ONLCR/OCRNL. The master reads EIO once every slave
//! descriptor is closed (after the slave had been opened), as on Linux; the slave
//! reads end of file and writes EIO once the master is gone.

use super::{FileOps, OpenFile, POLLHUP, POLLIN, POLLOUT};
use crate::errno::*;
use crate::fd::stat::{makedev, Stat, S_IFCHR};
use crate::mm::user;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;
use spin::Mutex;

const EIO: Errno = Errno::EIO;

/// Linux's major numbers: /dev/ptmx is (5, 2), slaves are (136, N).
pub const PTMX_MAJOR: u32 = 5;
pub const PTMX_MINOR: u32 = 2;
pub const SLAVE_MAJOR: u32 = 136;
/// How many pairs may exist at once.
const MAX_PTYS: u32 = 256;
/// What one direction buffers before writers wait (Linux: about 4 KiB per side for
/// canonical input, more for output; one size keeps it simple).
const BUF: usize = 64 * 1024;

// termios flags (asm-generic/termbits.h).
const IGNCR: u32 = 0o200;
const ICRNL: u32 = 0o400;
const INLCR: u32 = 0o100;
const OPOST: u32 = 0o1;
const ONLCR: u32 = 0o4;
const OCRNL: u32 = 0o10;
const ISIG: u32 = 0o1;
const ICANON: u32 = 0o2;
const ECHO: u32 = 0o10;
const ECHOE: u32 = 0o20;
const ECHOK: u32 = 0o40;
const ECHONL: u32 = 0o100;
const NOFLSH: u32 = 0o200;
const ECHOCTL: u32 = 0o1000;
// c_cc indices.
const VINTR: usize = 0;
const VQUIT: usize = 1;
const VERASE: usize = 2;
const VKILL: usize = 3;
const VEOF: usize = 4;
const VSUSP: usize = 10;
const VEOL: usize = 11;

// ioctls.
const TCGETS: u64 = 0x5401;
const TCSETS: u64 = 0x5402;
const TCSETSW: u64 = 0x5403;
const TCSETSF: u64 = 0x5404;
const TCSBRK: u64 = 0x5409;
const TCXONC: u64 = 0x540a;
const TCFLSH: u64 = 0x540b;
const TIOCSCTTY: u64 = 0x540e;
const TIOCGPGRP: u64 = 0x540f;
const TIOCSPGRP: u64 = 0x5410;
const TIOCOUTQ: u64 = 0x5411;
const TIOCGWINSZ: u64 = 0x5413;
const TIOCSWINSZ: u64 = 0x5414;
const FIONREAD: u64 = 0x541b;
const TIOCNOTTY: u64 = 0x5422;
const TIOCGSID: u64 = 0x5429;
const TIOCGPTN: u64 = 0x8004_5430;
const TIOCSPTLCK: u64 = 0x4004_5431;
const TIOCGPTLCK: u64 = 0x8004_5439;
const TIOCGPTPEER: u64 = 0x5441;

/// Linux's `struct termios` as TCGETS/TCSETS pass it: four flag words, c_line, and
/// 19 control characters (36 bytes).
#[derive(Clone, Copy)]
struct Termios {
    iflag: u32,
    oflag: u32,
    cflag: u32,
    lflag: u32,
    line: u8,
    cc: [u8; 19],
}

impl Termios {
    /// Linux's tty_std_termios: what a new slave has.
    fn standard() -> Termios {
        Termios {
            iflag: ICRNL | 0o2000, // IXON
            oflag: OPOST | ONLCR,
            cflag: 0o17 | 0o60 | 0o200 | 0o2000, // B38400 CS8 CREAD HUPCL
            lflag: ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | 0o4000 | 0o100000,
            line: 0,
            cc: [
                3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22, 0, 0, 0,
            ],
        }
    }
    /// A master's own termios (Linux: raw, B38400 CS8 CREAD).
    fn master() -> Termios {
        Termios {
            iflag: 0,
            oflag: 0,
            cflag: 0o17 | 0o60 | 0o200,
            lflag: 0,
            ..Termios::standard()
        }
    }
    fn to_bytes(self) -> [u8; 36] {
        let mut b = [0u8; 36];
        b[0..4].copy_from_slice(&self.iflag.to_ne_bytes());
        b[4..8].copy_from_slice(&self.oflag.to_ne_bytes());
        b[8..12].copy_from_slice(&self.cflag.to_ne_bytes());
        b[12..16].copy_from_slice(&self.lflag.to_ne_bytes());
        b[16] = self.line;
        b[17..36].copy_from_slice(&self.cc);
        b
    }
    fn from_bytes(b: &[u8; 36]) -> Termios {
        let w = |i: usize| u32::from_ne_bytes(b[i..i + 4].try_into().unwrap());
        let mut cc = [0u8; 19];
        cc.copy_from_slice(&b[17..36]);
        Termios {
            iflag: w(0),
            oflag: w(4),
            cflag: w(8),
            lflag: w(12),
            line: b[16],
            cc,
        }
    }
}

struct State {
    index: u32,
    locked: bool,
    slave_termios: Termios,
    master_termios: Termios,
    winsize: [u16; 4],
    /// What the slave wrote (after output processing) and echoes: the master reads it.
    to_master: VecDeque<u8>,
    /// Input ready for the slave to read. In canonical mode `lines` holds where each
    /// complete line ends (EOF ends one without a character: an empty one is end of
    /// file).
    to_slave: VecDeque<u8>,
    lines: VecDeque<usize>,
    /// The canonical line being edited.
    editing: Vec<u8>,
    masters: usize,
    slaves: usize,
    slave_opened: bool,
    /// The foreground process group (TIOCSPGRP), else 0.
    pgrp: i32,
    /// The program that opened the slave first (signals go there without a pgrp).
    session: u32,
    generation: u64,
}

type Shared = Arc<Mutex<State>>;

struct Table(Mutex<BTreeMap<u32, Shared>>);
static PTYS: Table = Table(Mutex::new(BTreeMap::new()));

/// The master end.
pub struct Master(Shared);
/// The slave end.
pub struct Slave(Shared);

/// open("/dev/ptmx"): a new pair, its slave node /dev/pts/N made in the VFS.
pub fn open_master() -> Result<Arc<dyn FileOps>, Errno> {
    let mut table = PTYS.0.lock();
    let index = (0..MAX_PTYS)
        .find(|i| !table.contains_key(i))
        .ok_or(ENOSPC)?;
    let state = Arc::new(Mutex::new(State {
        index,
        locked: true,
        slave_termios: Termios::standard(),
        master_termios: Termios::master(),
        winsize: [0; 4],
        to_master: VecDeque::new(),
        to_slave: VecDeque::new(),
        lines: VecDeque::new(),
        editing: Vec::new(),
        masters: 1,
        slaves: 0,
        slave_opened: false,
        pgrp: 0,
        session: 0,
        generation: 0,
    }));
    make_node(index)?;
    table.insert(index, state.clone());
    Ok(Arc::new(Master(state)))
}

/// open("/dev/pts/N"): the slave of pair N; EIO while it is locked or its master is
/// gone.
pub fn open_slave(index: u32) -> Result<Arc<dyn FileOps>, Errno> {
    let state = PTYS.0.lock().get(&index).cloned().ok_or(EIO)?;
    {
        let mut s = state.lock();
        if s.locked || s.masters == 0 {
            return Err(EIO);
        }
        s.slaves += 1;
        if !s.slave_opened {
            s.slave_opened = true;
            s.session = crate::process::current().pid();
        }
    }
    Ok(Arc::new(Slave(state)))
}

fn pts_dir() -> Result<rumprun_vfs::InodeRef, Errno> {
    let vfs = crate::fs::vfs();
    vfs.resolve(&vfs.root(), b"/dev/pts", true)
}

/// /dev/pts/N as a character device (136, N), 0620, owned by the caller.
fn make_node(index: u32) -> Result<(), Errno> {
    let dir = pts_dir()?;
    let name = format!("{index}");
    let vfs = crate::fs::vfs();
    let _ = vfs.unlink(&dir, name.as_bytes());
    vfs.mknod(
        &dir,
        name.as_bytes(),
        S_IFCHR | 0o620,
        rumprun_vfs::makedev(SLAVE_MAJOR, index),
        crate::fs::CRED,
    )?;
    Ok(())
}

fn remove_node(index: u32) {
    if let Ok(dir) = pts_dir() {
        let _ = crate::fs::vfs().unlink(&dir, format!("{index}").as_bytes());
    }
}

impl State {
    /// Output processing of bytes for the master to read (the slave's writes, echoes).
    fn output(&mut self, bytes: &[u8]) {
        let o = self.slave_termios.oflag;
        for &c in bytes {
            if o & OPOST != 0 && o & ONLCR != 0 && c == b'\n' {
                self.to_master.extend([b'\r', b'\n']);
            } else if o & OPOST != 0 && o & OCRNL != 0 && c == b'\r' {
                self.to_master.push_back(b'\n');
            } else {
                self.to_master.push_back(c);
            }
        }
    }

    fn echo(&mut self, c: u8) {
        let l = self.slave_termios.lflag;
        if l & ECHO == 0 {
            if c == b'\n' && l & ECHONL != 0 && l & ICANON != 0 {
                self.output(b"\n");
            }
            return;
        }
        if l & ECHOCTL != 0 && (c < 0x20 && c != b'\t' && c != b'\n' || c == 0x7f) {
            self.output(&[b'^', c ^ 0x40]);
        } else {
            self.output(&[c]);
        }
    }

    /// A signal character: the foreground process group's program gets `sig`.
    fn signal(&mut self, sig: i32, c: u8) -> Option<(i32, u32)> {
        if self.slave_termios.lflag & NOFLSH == 0 {
            // Linux flushes both queues.
            self.editing.clear();
            self.to_slave.clear();
            self.lines.clear();
            self.to_master.clear();
        }
        self.echo(c);
        let target = if self.pgrp > 0 {
            self.pgrp as u32
        } else {
            self.session
        };
        (target != 0).then_some((sig, target))
    }

    fn end_line(&mut self) {
        let line = core::mem::take(&mut self.editing);
        self.to_slave.extend(line.iter());
        self.lines.push_back(self.to_slave.len());
    }

    /// Input processing of what the master wrote; returns the signals to send.
    fn input(&mut self, bytes: &[u8]) -> Vec<(i32, u32)> {
        let t = self.slave_termios;
        let mut signals = Vec::new();
        for &b in bytes {
            let mut c = b;
            if c == b'\r' {
                if t.iflag & IGNCR != 0 {
                    continue;
                }
                if t.iflag & ICRNL != 0 {
                    c = b'\n';
                }
            } else if c == b'\n' && t.iflag & INLCR != 0 {
                c = b'\r';
            }
            if t.lflag & ISIG != 0 {
                let sig = match c {
                    _ if c == t.cc[VINTR] && c != 0 => Some(2), // SIGINT
                    _ if c == t.cc[VQUIT] && c != 0 => Some(3), // SIGQUIT
                    _ if c == t.cc[VSUSP] && c != 0 => Some(crate::signal::SIGTSTP),
                    _ => None,
                };
                if let Some(sig) = sig {
                    signals.extend(self.signal(sig, c));
                    continue;
                }
            }
            if t.lflag & ICANON == 0 {
                self.to_slave.push_back(c);
                self.echo(c);
                continue;
            }
            if c == t.cc[VERASE] && c != 0 {
                if self.editing.pop().is_some() && t.lflag & ECHO != 0 {
                    if t.lflag & ECHOE != 0 {
                        self.output(b"\x08 \x08");
                    } else {
                        self.echo(c);
                    }
                }
            } else if c == t.cc[VKILL] && c != 0 {
                self.editing.clear();
                if t.lflag & ECHO != 0 {
                    self.echo(c);
                    if t.lflag & ECHOK != 0 {
                        self.output(b"\n");
                    }
                }
            } else if c == t.cc[VEOF] && c != 0 {
                self.end_line();
            } else if c == b'\n' || (c == t.cc[VEOL] && c != 0) {
                self.editing.push(c);
                self.end_line();
                self.echo(c);
            } else {
                self.editing.push(c);
                self.echo(c);
            }
        }
        self.generation += 1;
        signals
    }

    /// How much a slave read may take now: a whole line in canonical mode (0: end of
    /// file), else all there is; None when it must wait.
    fn slave_readable(&self) -> Option<usize> {
        if self.slave_termios.lflag & ICANON != 0 {
            self.lines.front().copied()
        } else {
            (!self.to_slave.is_empty()).then_some(self.to_slave.len())
        }
    }

    fn slave_read(&mut self, buf: &mut [u8]) -> usize {
        let Some(end) = self.slave_readable() else {
            return 0;
        };
        let n = end.min(buf.len());
        for (i, b) in self.to_slave.drain(..n).enumerate() {
            buf[i] = b;
        }
        if self.slave_termios.lflag & ICANON != 0 {
            if n == end {
                self.lines.pop_front();
            }
            for l in self.lines.iter_mut() {
                *l -= n;
            }
        }
        n
    }

    fn termios_ioctl(&mut self, master: bool, req: u64, arg: u64) -> Result<u64, Errno> {
        let t = if master {
            &mut self.master_termios
        } else {
            &mut self.slave_termios
        };
        match req {
            TCGETS => user::write(arg, t.to_bytes()).map(|_| 0),
            TCSETS | TCSETSW | TCSETSF => {
                let b: [u8; 36] = user::read(arg)?;
                *t = Termios::from_bytes(&b);
                if req == TCSETSF && !master {
                    self.to_slave.clear();
                    self.lines.clear();
                    self.editing.clear();
                }
                if !master && self.slave_termios.lflag & ICANON == 0 {
                    // Leaving canonical mode: the line being edited becomes input.
                    let line = core::mem::take(&mut self.editing);
                    self.to_slave.extend(line);
                    self.lines.clear();
                }
                self.generation += 1;
                Ok(0)
            }
            TIOCGWINSZ => user::write(arg, self.winsize).map(|_| 0),
            TIOCSWINSZ => {
                self.winsize = user::read(arg)?;
                Ok(0)
            }
            TIOCGPGRP | TIOCGSID => {
                let p = if self.pgrp > 0 {
                    self.pgrp
                } else {
                    self.session as i32
                };
                user::write(arg, p).map(|_| 0)
            }
            TIOCSPGRP => {
                self.pgrp = user::read(arg)?;
                Ok(0)
            }
            TIOCSCTTY | TIOCNOTTY | TCSBRK | TCXONC => Ok(0),
            TCFLSH => {
                // TCIFLUSH 0, TCOFLUSH 1, TCIOFLUSH 2 (the slave's view).
                let (inp, out) = match (arg, master) {
                    (0, false) | (1, true) => (true, false),
                    (1, false) | (0, true) => (false, true),
                    (2, _) => (true, true),
                    _ => return Err(EINVAL),
                };
                if inp {
                    self.to_slave.clear();
                    self.lines.clear();
                    self.editing.clear();
                }
                if out {
                    self.to_master.clear();
                }
                Ok(0)
            }
            TIOCOUTQ => user::write(arg, 0i32).map(|_| 0),
            FIONREAD => {
                let n = if master {
                    self.to_master.len()
                } else {
                    self.slave_readable().unwrap_or(0)
                };
                user::write(arg, n as i32).map(|_| 0)
            }
            _ => Err(ENOTTY),
        }
    }
}

fn send_signals(signals: Vec<(i32, u32)>) {
    for (sig, pid) in signals {
        if let Some(p) = crate::process::running().find(|p| p.pid() == pid) {
            crate::signal::state::send_to(
                p,
                crate::signal::SigInfo {
                    signo: sig,
                    code: 0x80, // SI_KERNEL
                    ..Default::default()
                },
            );
        }
    }
}

/// The slave's node as stat sees it (ttyname compares the two), else a made-up one.
fn slave_stat(index: u32) -> Result<Stat, Errno> {
    let node =
        pts_dir().and_then(|d| crate::fs::vfs().resolve(&d, format!("{index}").as_bytes(), false));
    match node {
        Ok(n) => Ok(super::vfs_file::to_stat(&n.stat())),
        Err(_) => Ok(Stat::special(
            S_IFCHR | 0o620,
            0x7100 + index as u64,
            makedev(SLAVE_MAJOR, index),
        )),
    }
}

impl FileOps for Master {
    fn read(&self, _file: &OpenFile, buf: &mut [u8]) -> Result<usize, Errno> {
        let mut s = self.0.lock();
        if s.to_master.is_empty() {
            if s.slave_opened && s.slaves == 0 {
                return Err(EIO);
            }
            return if buf.is_empty() { Ok(0) } else { Err(EAGAIN) };
        }
        let n = buf.len().min(s.to_master.len());
        for (i, b) in s.to_master.drain(..n).enumerate() {
            buf[i] = b;
        }
        s.generation += 1;
        drop(s);
        super::wait::notify();
        Ok(n)
    }
    fn write(&self, _file: &OpenFile, buf: &[u8]) -> Result<usize, Errno> {
        let mut s = self.0.lock();
        let room = BUF.saturating_sub(s.to_slave.len() + s.editing.len());
        if room == 0 && !buf.is_empty() {
            return Err(EAGAIN);
        }
        let n = buf.len().min(room);
        let signals = s.input(&buf[..n]);
        drop(s);
        send_signals(signals);
        super::wait::notify();
        Ok(n)
    }
    fn is_stream(&self) -> bool {
        true
    }
    fn poll(&self) -> u32 {
        let s = self.0.lock();
        let mut ev = POLLOUT;
        if !s.to_master.is_empty() {
            ev |= POLLIN;
        }
        if s.slave_opened && s.slaves == 0 {
            ev |= POLLHUP;
        }
        ev
    }
    fn generation(&self) -> u64 {
        self.0.lock().generation
    }
    fn bytes_readable(&self) -> Option<usize> {
        Some(self.0.lock().to_master.len())
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat::special(
            S_IFCHR | 0o666,
            0x7000,
            makedev(PTMX_MAJOR, PTMX_MINOR),
        ))
    }
    fn ioctl(&self, _file: &OpenFile, req: u64, arg: u64) -> Result<u64, Errno> {
        let mut s = self.0.lock();
        match req {
            TIOCGPTN => user::write(arg, s.index).map(|_| 0),
            TIOCSPTLCK => {
                let lock: i32 = user::read(arg)?;
                s.locked = lock != 0;
                Ok(0)
            }
            TIOCGPTLCK => user::write(arg, s.locked as i32).map(|_| 0),
            TIOCGPTPEER => {
                let index = s.index;
                drop(s);
                let flags = arg as u32;
                let ops = open_slave(index)?;
                let file = OpenFile::new(ops, flags | super::O_RDWR);
                crate::fd::install(file, flags & super::O_CLOEXEC != 0, 0)
            }
            _ => s.termios_ioctl(true, req, arg),
        }
    }
    fn release(&self) {
        let index = {
            let mut s = self.0.lock();
            s.masters -= 1;
            s.generation += 1;
            s.index
        };
        PTYS.0.lock().remove(&index);
        remove_node(index);
        super::wait::notify();
    }
    fn describe(&self) -> String {
        String::from("/dev/ptmx")
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl FileOps for Slave {
    fn read(&self, _file: &OpenFile, buf: &mut [u8]) -> Result<usize, Errno> {
        let mut s = self.0.lock();
        match s.slave_readable() {
            Some(_) => {
                let n = s.slave_read(buf);
                s.generation += 1;
                drop(s);
                super::wait::notify();
                Ok(n)
            }
            None if s.masters == 0 || buf.is_empty() => Ok(0),
            None => Err(EAGAIN),
        }
    }
    fn write(&self, _file: &OpenFile, buf: &[u8]) -> Result<usize, Errno> {
        let mut s = self.0.lock();
        if s.masters == 0 {
            return Err(EIO);
        }
        let room = BUF.saturating_sub(s.to_master.len());
        if room == 0 && !buf.is_empty() {
            return Err(EAGAIN);
        }
        let n = buf.len().min(room / 2).max(1.min(room));
        s.output(&buf[..n]);
        s.generation += 1;
        drop(s);
        super::wait::notify();
        Ok(n)
    }
    fn is_stream(&self) -> bool {
        true
    }
    fn poll(&self) -> u32 {
        let s = self.0.lock();
        let mut ev = 0;
        if s.masters == 0 {
            return POLLIN | POLLHUP;
        }
        if s.slave_readable().is_some() {
            ev |= POLLIN;
        }
        if s.to_master.len() < BUF {
            ev |= POLLOUT;
        }
        ev
    }
    fn generation(&self) -> u64 {
        self.0.lock().generation
    }
    fn bytes_readable(&self) -> Option<usize> {
        Some(self.0.lock().slave_readable().unwrap_or(0))
    }
    fn stat(&self) -> Result<Stat, Errno> {
        slave_stat(self.0.lock().index)
    }
    fn ioctl(&self, _file: &OpenFile, req: u64, arg: u64) -> Result<u64, Errno> {
        self.0.lock().termios_ioctl(false, req, arg)
    }
    fn release(&self) {
        let mut s = self.0.lock();
        s.slaves -= 1;
        s.generation += 1;
        drop(s);
        super::wait::notify();
    }
    fn describe(&self) -> String {
        format!("/dev/pts/{}", self.0.lock().index)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
