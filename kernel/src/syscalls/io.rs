//! File descriptors and the I/O syscalls. For now the only files are the console
//! (fds 0-2, /dev/console, /dev/tty) and /dev/null; the VFS (tmpfs, /proc, baked
//! files) arrives with the Linux ABI issue and plugs in behind `File`.

use super::errno::*;
use super::user;
use alloc::string::String;
use alloc::vec::Vec;
use spin::Mutex;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum File {
    Console,
    Null,
}

#[derive(Clone, Copy)]
struct Fd {
    file: File,
    cloexec: bool,
    status_flags: u32,
}

const MAX_FDS: usize = 1024;
const O_RDWR: u32 = 2;
const O_CLOEXEC: u32 = 0o2000000;
const AT_FDCWD: i64 = -100;
const AT_EMPTY_PATH: u64 = 0x1000;

static FDS: Mutex<Vec<Option<Fd>>> = Mutex::new(Vec::new());
static EXE_PATH: Mutex<String> = Mutex::new(String::new());

pub fn init_console_fds() {
    let console = Fd {
        file: File::Console,
        cloexec: false,
        status_flags: O_RDWR,
    };
    let mut fds = FDS.lock();
    fds.clear();
    fds.extend([Some(console), Some(console), Some(console)]);
}

/// The program's path as /proc/self/exe shows it.
pub fn set_exe_path(name: &str) {
    let mut p = EXE_PATH.lock();
    p.clear();
    p.push_str("/bin/");
    p.push_str(name);
}

fn get(fd: u64) -> Result<Fd, Errno> {
    FDS.lock().get(fd as usize).copied().flatten().ok_or(EBADF)
}

fn install(entry: Fd, min: usize) -> Result<u64, Errno> {
    let mut fds = FDS.lock();
    let slot = (min..MAX_FDS)
        .find(|&i| fds.get(i).is_none_or(|e| e.is_none()))
        .ok_or(EMFILE)?;
    if fds.len() <= slot {
        fds.resize(slot + 1, None);
    }
    fds[slot] = Some(entry);
    Ok(slot as u64)
}

fn write_file(file: File, data: &[u8]) -> u64 {
    if file == File::Console {
        crate::console::write_bytes(data);
    }
    data.len() as u64
}

pub fn read(fd: u64, buf: u64, len: u64) -> SysResult {
    let f = get(fd)?;
    let buf = user::slice_mut(buf, len as usize)?;
    Ok(match f.file {
        File::Console => crate::platform::console_read(buf) as u64,
        File::Null => 0,
    })
}

pub fn write(fd: u64, buf: u64, len: u64) -> SysResult {
    let f = get(fd)?;
    Ok(write_file(f.file, user::slice(buf, len as usize)?))
}

#[derive(Clone, Copy)]
#[repr(C)]
struct IoVec {
    base: u64,
    len: u64,
}

pub fn writev(fd: u64, iov: u64, count: u64) -> SysResult {
    let f = get(fd)?;
    if count > 1024 {
        return Err(EINVAL);
    }
    let mut total = 0;
    for i in 0..count {
        let v: IoVec = user::read(iov + i * 16)?;
        total += write_file(f.file, user::slice(v.base, v.len as usize)?);
    }
    Ok(total)
}

pub fn readv(fd: u64, iov: u64, count: u64) -> SysResult {
    if count > 1024 {
        return Err(EINVAL);
    }
    for i in 0..count {
        let v: IoVec = user::read(iov + i * 16)?;
        if v.len > 0 {
            // A console read returns what is there; one buffer at a time is enough.
            return read(fd, v.base, v.len);
        }
    }
    get(fd).map(|_| 0)
}

pub fn pread_pwrite_lseek(fd: u64) -> SysResult {
    get(fd)?;
    Err(ESPIPE)
}

pub fn close(fd: u64) -> SysResult {
    let mut fds = FDS.lock();
    match fds.get_mut(fd as usize) {
        Some(slot @ Some(_)) => {
            *slot = None;
            Ok(0)
        }
        _ => Err(EBADF),
    }
}

pub fn dup(fd: u64) -> SysResult {
    let f = get(fd)?;
    install(
        Fd {
            cloexec: false,
            ..f
        },
        0,
    )
}

pub fn dup3(old: u64, new: u64, flags: u64) -> SysResult {
    let f = get(old)?;
    if new as usize >= MAX_FDS || flags & !(O_CLOEXEC as u64) != 0 {
        return Err(if flags != 0 { EINVAL } else { EBADF });
    }
    let mut fds = FDS.lock();
    if fds.len() <= new as usize {
        fds.resize(new as usize + 1, None);
    }
    fds[new as usize] = Some(Fd {
        cloexec: flags != 0,
        ..f
    });
    Ok(new)
}

pub fn dup2(old: u64, new: u64) -> SysResult {
    if old == new {
        return get(old).map(|_| new);
    }
    dup3(old, new, 0)
}

pub fn fcntl(fd: u64, cmd: u64, arg: u64) -> SysResult {
    const F_DUPFD: u64 = 0;
    const F_GETFD: u64 = 1;
    const F_SETFD: u64 = 2;
    const F_GETFL: u64 = 3;
    const F_SETFL: u64 = 4;
    const F_DUPFD_CLOEXEC: u64 = 1030;
    let f = get(fd)?;
    match cmd {
        F_DUPFD | F_DUPFD_CLOEXEC => install(
            Fd {
                cloexec: cmd == F_DUPFD_CLOEXEC,
                ..f
            },
            arg as usize,
        ),
        F_GETFD => Ok(f.cloexec as u64),
        F_SETFD | F_SETFL => {
            let mut fds = FDS.lock();
            let e = fds[fd as usize].as_mut().ok_or(EBADF)?;
            if cmd == F_SETFD {
                e.cloexec = arg & 1 != 0;
            } else {
                e.status_flags = (e.status_flags & 3) | (arg as u32 & !3);
            }
            Ok(0)
        }
        F_GETFL => Ok(f.status_flags as u64),
        _ => Err(EINVAL),
    }
}

pub fn ioctl(fd: u64, req: u64, arg: u64) -> SysResult {
    const TCGETS: u64 = 0x5401;
    const TCSETS: u64 = 0x5402;
    const TCSETSF: u64 = 0x5404;
    const TIOCGPGRP: u64 = 0x540f;
    const TIOCGWINSZ: u64 = 0x5413;
    const TIOCSWINSZ: u64 = 0x5414;
    const FIONBIO: u64 = 0x5421;
    let f = get(fd)?;
    if f.file != File::Console {
        return Err(ENOTTY);
    }
    match req {
        TCGETS => {
            // termios: iflag ICRNL|IXON, oflag OPOST|ONLCR, cflag B38400|CS8|CREAD,
            // lflag ISIG|ICANON|ECHO|ECHOE|ECHOK|IEXTEN, line 0, cc[] Linux defaults.
            // Linux's struct termios for TCGETS: 4 flags, c_line, c_cc[19]: 36 bytes.
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
            user::slice_mut(arg, t.len())?.copy_from_slice(&t);
            Ok(0)
        }
        TCSETS..=TCSETSF | TIOCSWINSZ | FIONBIO => Ok(0),
        TIOCGWINSZ => user::write(arg, [24u16, 80, 0, 0]).map(|_| 0),
        TIOCGPGRP => user::write(arg, 1i32).map(|_| 0),
        _ => Err(ENOTTY),
    }
}

/// Linux's `struct stat` (x86_64), 144 bytes.
#[derive(Clone, Copy, Default)]
#[repr(C)]
struct Stat {
    dev: u64,
    ino: u64,
    nlink: u64,
    mode: u32,
    uid: u32,
    gid: u32,
    pad0: u32,
    rdev: u64,
    size: i64,
    blksize: i64,
    blocks: i64,
    atime: [i64; 2],
    mtime: [i64; 2],
    ctime: [i64; 2],
    reserved: [i64; 3],
}

const S_IFCHR: u32 = 0o020000;

fn stat_of(file: File) -> Stat {
    let (rdev, ino, mode) = match file {
        File::Console => ((5 << 8) | 1, 3, S_IFCHR | 0o620),
        File::Null => ((1 << 8) | 3, 4, S_IFCHR | 0o666),
    };
    Stat {
        dev: 5,
        ino,
        nlink: 1,
        mode,
        rdev,
        blksize: 1024,
        ..Default::default()
    }
}

fn lookup_path(path: &str) -> Result<File, Errno> {
    match path {
        "/dev/null" => Ok(File::Null),
        "/dev/console" | "/dev/tty" | "/dev/stdin" | "/dev/stdout" | "/dev/stderr" => {
            Ok(File::Console)
        }
        "" => Err(ENOENT),
        _ => Err(ENOENT),
    }
}

pub fn fstat(fd: u64, buf: u64) -> SysResult {
    let f = get(fd)?;
    user::write(buf, stat_of(f.file)).map(|_| 0)
}

pub fn stat(path: u64, buf: u64) -> SysResult {
    let file = lookup_path(user::cstr(path)?)?;
    user::write(buf, stat_of(file)).map(|_| 0)
}

pub fn newfstatat(dirfd: u64, path: u64, buf: u64, flags: u64) -> SysResult {
    let p = user::cstr(path)?;
    if p.is_empty() && flags & AT_EMPTY_PATH != 0 {
        return fstat(dirfd, buf);
    }
    stat(path, buf)
}

pub fn openat(dirfd: u64, path: u64, flags: u64) -> SysResult {
    let p = user::cstr(path)?;
    if !p.starts_with('/') && dirfd as i64 != AT_FDCWD {
        get(dirfd)?;
        return Err(ENOTDIR);
    }
    let file = lookup_path(p)?;
    install(
        Fd {
            file,
            cloexec: flags & O_CLOEXEC as u64 != 0,
            status_flags: flags as u32 & !O_CLOEXEC,
        },
        0,
    )
}

pub fn faccessat(path: u64) -> SysResult {
    lookup_path(user::cstr(path)?).map(|_| 0)
}

pub fn readlinkat(path: u64, buf: u64, size: u64) -> SysResult {
    let p = user::cstr(path)?;
    if p != "/proc/self/exe" {
        return Err(if lookup_path(p).is_ok() {
            EINVAL
        } else {
            ENOENT
        });
    }
    let exe = EXE_PATH.lock();
    let n = exe.len().min(size as usize);
    user::slice_mut(buf, n)?.copy_from_slice(&exe.as_bytes()[..n]);
    Ok(n as u64)
}

pub fn getcwd(buf: u64, size: u64) -> SysResult {
    if size < 2 {
        return Err(ERANGE);
    }
    user::slice_mut(buf, 2)?.copy_from_slice(b"/\0");
    Ok(2)
}

pub fn chdir(path: u64) -> SysResult {
    match user::cstr(path)? {
        "/" => Ok(0),
        _ => Err(ENOENT),
    }
}

/// poll/ppoll: the console is always writable; it is readable when a byte waits.
/// With nothing ready and a timeout, waits (spinning) until then.
pub fn poll(fds: u64, nfds: u64, timeout_ns: Option<u64>) -> SysResult {
    const POLLIN: i16 = 1;
    const POLLOUT: i16 = 4;
    const POLLNVAL: i16 = 0x20;
    if nfds > MAX_FDS as u64 {
        return Err(EINVAL);
    }
    let deadline = timeout_ns.map(|t| crate::time::monotonic_ns().saturating_add(t));
    loop {
        let mut ready = 0;
        for i in 0..nfds {
            let at = fds + i * 8;
            let (fd, events): (i32, i16) = (user::read(at)?, user::read(at + 4)?);
            let revents = if fd < 0 {
                0
            } else {
                match get(fd as u64) {
                    Err(_) => POLLNVAL,
                    Ok(Fd {
                        file: File::Null, ..
                    }) => events & (POLLIN | POLLOUT),
                    Ok(_) => events & POLLOUT,
                }
            };
            user::write(at + 6, revents)?;
            if revents != 0 {
                ready += 1;
            }
        }
        if ready > 0 || deadline.is_some_and(|d| crate::time::monotonic_ns() >= d) {
            return Ok(ready);
        }
        if deadline.is_none() {
            // Nothing can become ready while we wait with interrupts off.
            crate::console::log_once(
                "poll-forever",
                "rumprun: poll without timeout on fds that cannot become ready; returning 0",
            );
            return Ok(0);
        }
        if let Some(d) = deadline {
            // Nothing polled here can become ready while we sleep: wait out the timeout
            // (a signal ends the wait: EINTR, poll is never restarted after a handler).
            if crate::sched::sleep_until(d) == crate::sched::Wake::Interrupted {
                return Err(ERESTARTNOHAND);
            }
        }
    }
}
