//! Descriptor I/O syscalls over `fd`: read/write and their vectored and positioned
//! forms, lseek, close, dup*, fcntl, ioctl, fstat, and the file kinds that are not
//! in a file system: pipe/pipe2, eventfd, signalfd, timerfd. A blocking descriptor
//! waits on the I/O queue when its file says EAGAIN.

use super::transfer;
use crate::errno::*;
use crate::fd::stat::Statx;
use crate::fd::{
    self, eventfd::EventFd, pipe, signalfd::SignalFd, timerfd::TimerFd, wait, Direction, OpenFile,
    O_CLOEXEC, O_NONBLOCK, O_RDONLY, O_RDWR, O_WRONLY,
};
use crate::mm::user;
use alloc::sync::Arc;
use alloc::vec::Vec;

/// Runs `op` until it does not say EAGAIN, waiting for file activity in between,
/// unless the descriptor is non-blocking; a socket's timeout for `dir` bounds the wait.
pub fn blocking<T>(
    file: &OpenFile,
    dir: Direction,
    op: impl FnMut() -> Result<T, Errno>,
) -> Result<T, Errno> {
    wait::retry_blocking(
        file.nonblocking(),
        || file.ops.timeout_ns(dir),
        |deadline| file.ops.sleep(deadline),
        op,
    )
}

pub fn read(fd: u64, buf: u64, len: u64) -> SysResult {
    let f = fd::get(fd)?;
    if !f.readable() {
        return Err(EBADF);
    }
    let len = transfer::read_len(&f, len as usize);
    transfer::read_through(buf, len, |b, turn| match turn {
        0 => blocking(&f, Direction::Receive, || f.ops.read(&f, b)),
        _ => f.ops.read(&f, b),
    })
    .map(|n| n as u64)
}

/// One write of `buf` to `f`. A blocking write to a byte stream (pipe, stream
/// socket) goes on until all of `buf` is written, as on Linux; when a signal, a
/// socket's SO_SNDTIMEO or an error (EPIPE) ends it after some bytes went, the
/// count so far. Non-blocking: what fits now.
pub fn write_file(f: &OpenFile, buf: &[u8]) -> Result<usize, Errno> {
    let mut done = 0;
    loop {
        match blocking(f, Direction::Send, || f.ops.write(f, &buf[done..])) {
            Ok(n) => {
                done += n;
                if n == 0 || done == buf.len() || f.nonblocking() || !f.ops.is_stream() {
                    return Ok(done);
                }
            }
            Err(_) if done > 0 => return Ok(done),
            Err(e) => return Err(e),
        }
    }
}

pub fn write(fd: u64, buf: u64, len: u64) -> SysResult {
    let f = fd::get(fd)?;
    if !f.writable() {
        return Err(EBADF);
    }
    transfer::write_through(buf, len as usize, transfer::turns_for(&f), |b, _| {
        write_file(&f, b)
    })
    .map(|n| n as u64)
}

pub(super) fn iovecs(iov: u64, count: u64) -> Result<Vec<(u64, u64)>, Errno> {
    if count > 1024 {
        return Err(EINVAL);
    }
    let raw = user::read_bytes(iov, count as usize * 16)?;
    let mut v = Vec::with_capacity(count as usize);
    parse_iovecs(&raw, |pair| v.push(pair))?;
    Ok(v)
}

/// Hands each (base, len) pair of the raw iovec array `raw` to `each`; returns their
/// total length, EINVAL (as Linux) when it goes beyond ssize_t.
fn parse_iovecs(raw: &[u8], mut each: impl FnMut((u64, u64))) -> Result<u64, Errno> {
    let mut total = 0u64;
    for c in raw.chunks_exact(16) {
        let word = |i: usize| u64::from_ne_bytes(c[i..i + 8].try_into().unwrap());
        let pair = (word(0), word(8));
        total = total
            .checked_add(pair.1)
            .filter(|&t| t <= isize::MAX as u64)
            .ok_or(EINVAL)?;
        each(pair);
    }
    Ok(total)
}

/// The bytes of an iovec array gathered into one buffer (one vectored write is one
/// write: atomic for pipes, one datagram for sockets). At most `GATHER_MAX` bytes, or
/// fewer (down to `GATHER_MIN`, whole datagrams of UDP) when the kernel heap cannot
/// grow that much: a longer vectored write is a partial one; ENOMEM when not even
/// that much memory is left. Only the bytes before the first that cannot be read (a
/// partial write, as Linux's); EFAULT when there are bytes to write but the first
/// cannot be read.
const GATHER_MAX: usize = 16 << 20;
const GATHER_MIN: usize = 64 << 10;

pub(super) fn gather(iov: u64, count: u64) -> Result<Gathered, Errno> {
    // A few iovecs and a small total (memcached's replies: sendmsg of a few short
    // pieces) go on the stack: three heap allocations per call otherwise (the raw
    // iovec array, its pairs, the data).
    if count <= IOV_INLINE as u64 {
        let mut raw = [0u8; IOV_INLINE * 16];
        let raw = &mut raw[..count as usize * 16];
        user::copy_in(raw, iov)?;
        let mut pairs = [(0u64, 0u64); IOV_INLINE];
        let mut n = 0;
        let total = parse_iovecs(raw, |pair| {
            pairs[n] = pair;
            n += 1;
        })?;
        if total as usize <= GATHER_SMALL {
            let mut data = [0u8; GATHER_SMALL];
            let at = gather_into(&pairs[..count as usize], &mut data[..total as usize])?;
            return Ok(Gathered::Small(data, at));
        }
    }
    let iov = iovecs(iov, count)?;
    let total = iov.iter().map(|v| v.1 as usize).sum::<usize>();
    let mut data = transfer::buffer(total.min(GATHER_MAX), GATHER_MIN)?;
    let at = gather_into(&iov, &mut data)?;
    data.truncate(at);
    Ok(Gathered::Big(data))
}

/// At most this many iovecs of a `gather` are read onto the stack.
const IOV_INLINE: usize = 8;
/// At most this many bytes of a `gather` go on the stack.
const GATHER_SMALL: usize = 512;

/// What `gather` gathered: on the stack (its first `.1` bytes) or on the heap.
// The small variant's size is the point, as for `transfer::Bounce`.
#[allow(clippy::large_enum_variant)]
pub(super) enum Gathered {
    Small([u8; GATHER_SMALL], usize),
    Big(Vec<u8>),
}

impl core::ops::Deref for Gathered {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Gathered::Small(data, len) => &data[..*len],
            Gathered::Big(data) => data,
        }
    }
}

/// Copies the buffers of `iov` in order into `data` until it is full; the bytes
/// copied (only those before the first that cannot be read). EFAULT when there are
/// bytes to copy but the first cannot be read.
fn gather_into(iov: &[(u64, u64)], data: &mut [u8]) -> Result<usize, Errno> {
    let cap = data.len();
    let total = iov.iter().map(|v| v.1 as usize).sum::<usize>();
    let mut at = 0;
    for &(base, len) in iov {
        let n = (len as usize).min(cap - at);
        let got = crate::mm::user::copy_in_partial(&mut data[at..at + n], base);
        at += got;
        if got < n || at == cap {
            break;
        }
    }
    if total > 0 && at == 0 {
        return Err(EFAULT);
    }
    Ok(at)
}

/// Copies `data` out over the buffers of `iov` in order (a vectored read).
pub(super) fn scatter(iov: &[(u64, u64)], data: &[u8]) -> Result<(), Errno> {
    let mut off = 0;
    for &(base, len) in iov {
        if off == data.len() {
            break;
        }
        let n = (len as usize).min(data.len() - off);
        user::copy_out(base, &data[off..off + n])?;
        off += n;
    }
    Ok(())
}

/// readv: a seekable file is read iovec by iovec at its position; anything else
/// (a socket, pipe, terminal) in one read through a kernel buffer, so one readv takes
/// one datagram and never waits for more once some bytes arrived, as on Linux.
pub fn readv(fd: u64, iov: u64, count: u64) -> SysResult {
    const SEEK_CUR: u32 = 1;
    // The kernel buffer: 64 KiB, or what is ready if more (a large datagram), at most
    // 16 MiB; a stream read may be short anyway.
    const STREAM_PIECE: u64 = 64 * 1024;
    const STREAM_MAX: u64 = 16 << 20;
    let f = fd::get(fd)?;
    if !f.readable() {
        return Err(EBADF);
    }
    let iov = iovecs(iov, count)?;
    if f.ops.seek(&f, 0, SEEK_CUR).is_err() {
        let total = iov
            .iter()
            .fold(0u64, |a, v| a.saturating_add(v.1))
            .min(STREAM_PIECE.max(f.ops.bytes_readable().unwrap_or(0) as u64))
            .min(STREAM_MAX);
        for &(base, len) in &iov {
            user::check_writable(base, len as usize)?;
        }
        let mut buf = transfer::buffer(total as usize, STREAM_PIECE as usize)?;
        let n = blocking(&f, Direction::Receive, || f.ops.read(&f, &mut buf))?;
        scatter(&iov, &buf[..n])?;
        return Ok(n as u64);
    }
    let mut total = 0;
    for (base, len) in iov {
        if len == 0 {
            continue;
        }
        let n = match read(fd, base, len) {
            Ok(n) => n,
            Err(e) if total == 0 => return Err(e),
            Err(_) => break,
        };
        total += n;
        if n < len {
            break;
        }
    }
    Ok(total)
}

pub fn writev(fd: u64, iov: u64, count: u64) -> SysResult {
    let f = fd::get(fd)?;
    if !f.writable() {
        return Err(EBADF);
    }
    let data = gather(iov, count)?;
    write_file(&f, &data).map(|n| n as u64)
}

pub fn pread(fd: u64, buf: u64, len: u64, off: u64) -> SysResult {
    let f = fd::get(fd)?;
    if (off as i64) < 0 {
        return Err(EINVAL);
    }
    let mut at = off;
    transfer::read_through(buf, len as usize, |b, _| {
        let n = f.ops.pread(b, at)?;
        at += n as u64;
        Ok(n)
    })
    .map(|n| n as u64)
}

pub fn pwrite(fd: u64, buf: u64, len: u64, off: u64) -> SysResult {
    let f = fd::get(fd)?;
    if (off as i64) < 0 {
        return Err(EINVAL);
    }
    let mut at = off;
    transfer::write_through(buf, len as usize, transfer::Turns::Bounded, |b, _| {
        let n = f.ops.pwrite(b, at)?;
        at += n as u64;
        Ok(n)
    })
    .map(|n| n as u64)
}

pub fn lseek(fd: u64, off: u64, whence: u64) -> SysResult {
    let f = fd::get(fd)?;
    if whence > 4 {
        return Err(EINVAL);
    }
    f.ops.seek(&f, off as i64, whence as u32)
}

pub fn close(fd: u64) -> SysResult {
    fd::close(fd).map(|_| 0)
}

pub fn dup(fd: u64) -> SysResult {
    fd::install(fd::get(fd)?, false, 0)
}

pub fn dup3(old: u64, new: u64, flags: u64) -> SysResult {
    if flags & !(O_CLOEXEC as u64) != 0 || old == new {
        return Err(EINVAL);
    }
    fd::install_at(new, fd::get(old)?, flags != 0)
}

pub fn dup2(old: u64, new: u64) -> SysResult {
    let f = fd::get(old)?;
    if old == new {
        return Ok(new);
    }
    fd::install_at(new, f, false)
}

pub fn fcntl(fd: u64, cmd: u64, arg: u64) -> SysResult {
    const F_DUPFD: u64 = 0;
    const F_GETFD: u64 = 1;
    const F_SETFD: u64 = 2;
    const F_GETFL: u64 = 3;
    const F_SETFL: u64 = 4;
    const F_GETLK: u64 = 5;
    const F_SETLK: u64 = 6;
    const F_SETLKW: u64 = 7;
    const F_SETOWN: u64 = 8;
    const F_GETOWN: u64 = 9;
    const F_SETOWN_EX: u64 = 15;
    const F_GETOWN_EX: u64 = 16;
    const F_NOTIFY: u64 = 1026;
    const F_DUPFD_CLOEXEC: u64 = 1030;
    const F_SETPIPE_SZ: u64 = 1031;
    const F_GETPIPE_SZ: u64 = 1032;
    let f = fd::get(fd)?;
    match cmd {
        F_DUPFD | F_DUPFD_CLOEXEC => {
            if arg as usize >= fd::MAX_FDS {
                return Err(EINVAL);
            }
            fd::install(f, cmd == F_DUPFD_CLOEXEC, arg as usize)
        }
        F_GETFD => fd::cloexec(fd).map(|c| c as u64),
        F_SETFD => fd::set_cloexec(fd, arg & 1 != 0).map(|_| 0),
        F_GETFL => Ok(f.status() as u64),
        F_SETFL => {
            f.set_status(arg as u32);
            Ok(0)
        }
        // POSIX record locks, between processes (`fd::locks`).
        F_GETLK => fd::locks::getlk(&f, arg).map(|_| 0),
        F_SETLK | F_SETLKW => fd::locks::setlk(&f, arg, cmd == F_SETLKW).map(|_| 0),
        // Remembered for signal-driven I/O (nginx's master sets its workers' channels
        // up so); no SIGIO is sent yet.
        F_SETOWN => {
            f.set_owner(arg as i32);
            Ok(0)
        }
        F_GETOWN => Ok(f.owner() as i64 as u64),
        // struct f_owner_ex { int type; pid_t pid; } (glibc's F_GETOWN uses it).
        F_GETOWN_EX | F_SETOWN_EX => {
            const F_OWNER_TID: i32 = 0;
            const F_OWNER_PID: i32 = 1;
            const F_OWNER_PGRP: i32 = 2;
            if cmd == F_GETOWN_EX {
                let o = f.owner();
                let ex = if o < 0 {
                    [F_OWNER_PGRP, -o]
                } else {
                    [F_OWNER_PID, o]
                };
                return user::write(arg, ex).map(|_| 0);
            }
            let [kind, pid]: [i32; 2] = user::read(arg)?;
            match kind {
                F_OWNER_TID | F_OWNER_PID if pid >= 0 => f.set_owner(pid),
                F_OWNER_PGRP if pid >= 0 => f.set_owner(-pid),
                _ => return Err(EINVAL),
            }
            Ok(0)
        }
        // dnotify, as Linux's fcntl_dirnotify answers: clearing (no events) always
        // succeeds, a watch on anything but a directory is ENOTDIR. The SIGIO a watch
        // asks for is not sent: one log line says so.
        F_NOTIFY => {
            const DN_MULTISHOT: u32 = 0x8000_0000;
            if arg as u32 & !DN_MULTISHOT == 0 {
                return Ok(0);
            }
            let dir = f
                .ops
                .as_any()
                .downcast_ref::<crate::fd::vfs_file::VfsFile>()
                .is_some_and(|v| v.inode.file_type() == rumprun_vfs::FileType::Directory);
            if !dir {
                return Err(ENOTDIR);
            }
            crate::console::log_once(
                "dnotify",
                "rumprun: fcntl(F_NOTIFY): the watch is accepted, but no signal is sent when the directory changes",
            );
            Ok(0)
        }
        F_GETPIPE_SZ => pipe::size(f.ops.as_any()).map(|n| n as u64),
        F_SETPIPE_SZ => {
            const CAP_SYS_RESOURCE: u64 = 1 << 24;
            let privileged =
                crate::process::current().creds.lock().effective & CAP_SYS_RESOURCE != 0;
            pipe::resize(f.ops.as_any(), arg, privileged).map(|n| n as u64)
        }
        _ => Err(EINVAL),
    }
}

pub fn ioctl(fd: u64, req: u64, arg: u64) -> SysResult {
    const FIONREAD: u64 = 0x541b;
    const FIONBIO: u64 = 0x5421;
    const FIOCLEX: u64 = 0x5451;
    const FIONCLEX: u64 = 0x5450;
    const FIOASYNC: u64 = 0x5452;
    let f = fd::get(fd)?;
    // The request is an unsigned int (musl passes an int: 0x80045430 arrives
    // sign-extended, as Linux ignores).
    let req = req as u32 as u64;
    match req {
        FIONBIO => {
            let on: i32 = user::read(arg)?;
            let flags = if on != 0 {
                f.status() | O_NONBLOCK
            } else {
                f.status() & !O_NONBLOCK
            };
            f.set_status(flags);
            Ok(0)
        }
        FIOCLEX | FIONCLEX => fd::set_cloexec(fd, req == FIOCLEX).map(|_| 0),
        FIOASYNC => {
            let on: i32 = user::read(arg)?;
            let flags = if on != 0 {
                f.status() | fd::O_ASYNC
            } else {
                f.status() & !fd::O_ASYNC
            };
            f.set_status(flags);
            Ok(0)
        }
        FIONREAD if f.ops.bytes_readable().is_some() => {
            user::write(arg, f.ops.bytes_readable().unwrap_or(0) as i32).map(|_| 0)
        }
        _ => f.ops.ioctl(&f, req, arg),
    }
}

pub fn fstat(fd: u64, buf: u64) -> SysResult {
    let st = fd::get(fd)?.ops.stat()?;
    user::write(buf, st).map(|_| 0)
}

pub fn fstatx(fd: u64, buf: u64) -> SysResult {
    let st = fd::get(fd)?.ops.stat()?;
    user::write(buf, Statx::from(&st)).map(|_| 0)
}

pub fn pipe2(fds: u64, flags: u64) -> SysResult {
    if flags & !((O_CLOEXEC | O_NONBLOCK | 0o40000/* O_DIRECT */) as u64) != 0 {
        return Err(EINVAL);
    }
    let (r, w) = pipe::new();
    let nb = flags as u32 & O_NONBLOCK;
    let cloexec = flags as u32 & O_CLOEXEC != 0;
    let rfd = fd::install(OpenFile::new(Arc::new(r), O_RDONLY | nb), cloexec, 0)?;
    let wfd = match fd::install(OpenFile::new(Arc::new(w), O_WRONLY | nb), cloexec, 0) {
        Ok(w) => w,
        Err(e) => {
            let _ = fd::close(rfd);
            return Err(e);
        }
    };
    if let Err(e) = user::write(fds, [rfd as i32, wfd as i32]) {
        // As Linux: the descriptors are made, then found not to fit; undo them.
        let _ = fd::close(rfd);
        let _ = fd::close(wfd);
        return Err(e);
    }
    Ok(0)
}

pub fn eventfd2(initval: u64, flags: u64) -> SysResult {
    const EFD_SEMAPHORE: u64 = 1;
    if flags & !((O_CLOEXEC | O_NONBLOCK) as u64 | EFD_SEMAPHORE) != 0 {
        return Err(EINVAL);
    }
    let file = OpenFile::new(
        Arc::new(EventFd::new(
            initval & 0xffff_ffff,
            flags & EFD_SEMAPHORE != 0,
        )),
        O_RDWR | (flags as u32 & O_NONBLOCK),
    );
    fd::install(file, flags as u32 & O_CLOEXEC != 0, 0)
}

/// signalfd4(fd, mask, size, flags): a new signalfd for the set at `mask` (fd -1), or
/// a new set for the signalfd `fd`.
pub fn signalfd4(fdn: u64, mask: u64, size: u64, flags: u64) -> SysResult {
    if flags & !((O_CLOEXEC | O_NONBLOCK) as u64) != 0 || size != 8 {
        return Err(EINVAL);
    }
    let set: u64 = user::read(mask)?;
    if fdn as i32 != -1 {
        let f = fd::get(fdn)?;
        let s = f.ops.as_any().downcast_ref::<SignalFd>().ok_or(EINVAL)?;
        s.set_mask(set);
        return Ok(fdn);
    }
    let file = OpenFile::new(
        Arc::new(SignalFd::new(set)),
        O_RDONLY | (flags as u32 & O_NONBLOCK),
    );
    fd::install(file, flags as u32 & O_CLOEXEC != 0, 0)
}

pub fn timerfd_create(clock: u64, flags: u64) -> SysResult {
    const CLOCK_REALTIME: u64 = 0;
    const CLOCK_MONOTONIC: u64 = 1;
    const CLOCK_BOOTTIME: u64 = 7;
    if !matches!(clock, CLOCK_REALTIME | CLOCK_MONOTONIC | CLOCK_BOOTTIME) {
        return Err(EINVAL);
    }
    if flags & !((O_CLOEXEC | O_NONBLOCK) as u64) != 0 {
        return Err(EINVAL);
    }
    let file = OpenFile::new(
        Arc::new(TimerFd::new(clock == CLOCK_REALTIME)),
        O_RDWR | (flags as u32 & O_NONBLOCK),
    );
    fd::install(file, flags as u32 & O_CLOEXEC != 0, 0)
}

fn timer_of(fd: u64) -> Result<Arc<OpenFile>, Errno> {
    let f = fd::get(fd)?;
    if f.ops.as_any().downcast_ref::<TimerFd>().is_none() {
        return Err(EINVAL);
    }
    Ok(f)
}

fn to_itimerspec(remaining: u64, interval: u64) -> [i64; 4] {
    let ts = |ns: u64| [(ns / 1_000_000_000) as i64, (ns % 1_000_000_000) as i64];
    let (i, v) = (ts(interval), ts(remaining));
    [i[0], i[1], v[0], v[1]]
}

pub fn timerfd_settime(fd: u64, flags: u64, new: u64, old: u64) -> SysResult {
    const TFD_TIMER_ABSTIME: u64 = 1;
    let f = timer_of(fd)?;
    let t = f.ops.as_any().downcast_ref::<TimerFd>().unwrap();
    let spec: [i64; 4] = user::read(new)?;
    for pair in [(spec[0], spec[1]), (spec[2], spec[3])] {
        if pair.0 < 0 || !(0..1_000_000_000).contains(&pair.1) {
            return Err(EINVAL);
        }
    }
    let interval = spec[0] as u64 * 1_000_000_000 + spec[1] as u64;
    let value = spec[2] as u64 * 1_000_000_000 + spec[3] as u64;
    let now = crate::time::monotonic_ns();
    let expiry = if value == 0 {
        0
    } else if flags & TFD_TIMER_ABSTIME != 0 {
        let base = if t.realtime {
            crate::time::realtime_ns()
        } else {
            now
        };
        now + value.saturating_sub(base).max(1)
    } else {
        now + value
    };
    let (rem, int) = t.set(expiry, interval);
    if old != 0 {
        user::write(old, to_itimerspec(rem, int))?;
    }
    wait::notify();
    Ok(0)
}

pub fn timerfd_gettime(fd: u64, cur: u64) -> SysResult {
    let f = timer_of(fd)?;
    let (rem, int) = f.ops.as_any().downcast_ref::<TimerFd>().unwrap().get();
    user::write(cur, to_itimerspec(rem, int)).map(|_| 0)
}

/// preadv/preadv2: positioned scatter read (offset -1 with preadv2 = the file position).
pub fn preadv(fd: u64, iov: u64, count: u64, off: u64) -> SysResult {
    if off as i64 == -1 {
        return readv(fd, iov, count);
    }
    if (off as i64) < 0 {
        return Err(EINVAL);
    }
    let f = fd::get(fd)?;
    let mut total = 0u64;
    for (base, len) in iovecs(iov, count)? {
        let mut at = off + total;
        let read = transfer::read_through(base, len as usize, |b, _| {
            let n = f.ops.pread(b, at)?;
            at += n as u64;
            Ok(n)
        });
        let n = match read {
            Ok(n) => n as u64,
            Err(e) if total == 0 => return Err(e),
            Err(_) => break,
        };
        total += n;
        if n < len {
            break;
        }
    }
    Ok(total)
}

/// pwritev/pwritev2: positioned gather write (offset -1 with pwritev2 = the position).
pub fn pwritev(fd: u64, iov: u64, count: u64, off: u64) -> SysResult {
    if off as i64 == -1 {
        return writev(fd, iov, count);
    }
    if (off as i64) < 0 {
        return Err(EINVAL);
    }
    let f = fd::get(fd)?;
    let data = gather(iov, count)?;
    f.ops.pwrite(&data, off).map(|n| n as u64)
}

/// The largest piece `copy_between` moves at once (and Linux's MAX_RW_COUNT cap).
const COPY_PIECE: usize = 64 * 1024;
const MAX_RW_COUNT: u64 = 0x7fff_f000;

/// The kernel buffers `copy_between` copies through, kept for the next call: nginx
/// calls sendfile once per burst of ACKs, and a buffer allocated and zeroed each time
/// cost as much as a copy of the bytes it carried. A taken buffer holds whatever an
/// earlier copy left in it (kernel bytes, overwritten by the read before any of it is
/// written out); it goes back to the pool when dropped.
struct CopyBuffer(Vec<u8>);

/// Spare copy buffers (each COPY_PIECE bytes); a few suffice, as calls rarely overlap
/// (only when one sleeps on its output).
static COPY_BUFFERS: spin::Mutex<Vec<Vec<u8>>> = spin::Mutex::new(Vec::new());
const COPY_BUFFERS_KEPT: usize = 4;

impl CopyBuffer {
    /// A buffer of `len` bytes (at most COPY_PIECE), from the pool when it has one.
    fn take(len: usize) -> CopyBuffer {
        let mut v = COPY_BUFFERS
            .lock()
            .pop()
            .unwrap_or_else(|| alloc::vec![0u8; COPY_PIECE]);
        v.truncate(len.min(COPY_PIECE));
        CopyBuffer(v)
    }
}

impl Drop for CopyBuffer {
    fn drop(&mut self) {
        let mut v = core::mem::take(&mut self.0);
        // Back to its full length: the bytes past `len` were kept when it was cut.
        // SAFETY: every pooled vector was created with COPY_PIECE initialised bytes and
        // only ever truncated, so its capacity still holds COPY_PIECE initialised bytes.
        unsafe { v.set_len(COPY_PIECE.min(v.capacity())) };
        let mut pool = COPY_BUFFERS.lock();
        if pool.len() < COPY_BUFFERS_KEPT {
            pool.push(v);
        }
    }
}

impl core::ops::Deref for CopyBuffer {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl core::ops::DerefMut for CopyBuffer {
    fn deref_mut(&mut self) -> &mut [u8] {
        &mut self.0
    }
}

/// Where `copy_between` reads from: a position of a seekable file (given, or the
/// file's own, which is moved by what was written at the end), or a stream.
#[derive(Clone, Copy)]
enum Source {
    At(u64),
    Position(u64),
    Stream,
}

/// Copies up to `count` bytes from `in_fd` (at `*in_off`, or its position) to
/// `out_fd` through a kernel buffer: sendfile and copy_file_range. As on Linux, a
/// failure after some bytes were copied (EAGAIN from a non-blocking socket, a signal,
/// an I/O error) ends the call with the bytes copied so far, and the offsets (and the
/// input's file position) say exactly what was written: a seekable input is read with
/// pread and advanced only by what the output took, so nothing is skipped or sent
/// twice. Returns (copied, input offset after, output offset after).
/// How `copy_between` runs: `single` stops after the first piece (splice returns
/// what one transfer moved, as a read does); `nonblock` makes both sides non-blocking
/// (SPLICE_F_NONBLOCK).
#[derive(Clone, Copy, Default)]
struct CopyMode {
    single: bool,
    nonblock: bool,
}

/// `blocking` with the file's own O_NONBLOCK, or non-blocking when `force`.
fn blocking_unless<T>(
    file: &OpenFile,
    force: bool,
    dir: Direction,
    op: impl FnMut() -> Result<T, Errno>,
) -> Result<T, Errno> {
    wait::retry_blocking(
        force || file.nonblocking(),
        || file.ops.timeout_ns(dir),
        |deadline| file.ops.sleep(deadline),
        op,
    )
}

fn copy_between(
    out_fd: u64,
    in_fd: u64,
    in_off: Option<u64>,
    out_off: Option<u64>,
    count: u64,
    mode: CopyMode,
) -> Result<(u64, u64, u64), Errno> {
    const SEEK_SET: u32 = 0;
    const SEEK_CUR: u32 = 1;
    // As the kernel's own code runs with interrupts off, at most COPY_SLICE_NS of
    // copying: an endless source (or a file copied onto itself) gives a short count,
    // never a call that does not return.
    const COPY_SLICE_NS: u64 = 20_000_000;
    let (inf, outf) = (fd::get(in_fd)?, fd::get(out_fd)?);
    if !inf.readable() || !outf.writable() {
        return Err(EBADF);
    }
    let count = count.min(MAX_RW_COUNT);
    let src = match in_off {
        Some(off) => Source::At(off),
        None => match inf.ops.seek(&inf, 0, SEEK_CUR) {
            Ok(pos) => Source::Position(pos),
            Err(ESPIPE) => Source::Stream,
            Err(e) => return Err(e),
        },
    };
    let start_off = match src {
        Source::At(o) | Source::Position(o) => o,
        Source::Stream => 0,
    };
    let began = crate::time::monotonic_ns();
    // After a piece (`short`: it moved less than asked): whether the call returns now.
    let ends_call = |short: bool| {
        short
            || mode.single
            || crate::time::monotonic_ns().saturating_sub(began) > COPY_SLICE_NS
            || crate::signal::state::should_interrupt(crate::sched::current())
    };
    // No bigger than the output takes now (a socket's send buffer, see below): the
    // buffer is zeroed on every call, and sendfile is called once per burst.
    let room = match outf.ops.write_room() {
        Some(r) if r > 0 && out_off.is_none() && !matches!(src, Source::Stream) => r,
        _ => COPY_PIECE,
    };
    let piece = (count as usize).min(COPY_PIECE).min(room);
    // Taken only when a piece goes through it (not for a file sent from its pages).
    let mut buf: Option<CopyBuffer> = None;
    // A file whose pages are in memory, sent to a socket: straight from the pages
    // into the send buffer, one copy instead of two (`send_from_pages`).
    let mut pages = match (src, out_off) {
        (Source::At(_) | Source::Position(_), None) => {
            crate::fd::vfs_file::page_cache_of(&*inf.ops)
        }
        _ => None,
    };
    let (mut done, mut ooff) = (0u64, out_off.unwrap_or(0));
    let mut failed = None;
    while done < count {
        let first = done == 0;
        let mut want = ((count - done) as usize).min(piece);
        // A seekable source is read only as far as the output takes now (a socket's
        // send buffer): the rest would be read again by the next call. A full output
        // ends the copy, unless this first piece may wait for room.
        if !matches!(src, Source::Stream) && out_off.is_none() {
            match outf.ops.write_room() {
                Some(0) if !first || mode.nonblock || outf.nonblocking() => {
                    if first {
                        failed = Some(EAGAIN);
                    }
                    break;
                }
                Some(room) if room > 0 => want = want.min(room),
                _ => {}
            }
        }
        if let (Some(inode), Source::At(o) | Source::Position(o)) = (&pages, src) {
            let block = first && !mode.nonblock;
            match send_from_pages(&outf, inode, o + done, want, block) {
                Direct::Sent(Ok(0)) => break, // end of file
                Direct::Sent(Ok(w)) => {
                    done += w as u64;
                    if ends_call(w < want) {
                        break;
                    }
                    continue;
                }
                Direct::Sent(Err(e)) => {
                    failed = Some(e);
                    break;
                }
                Direct::Unsupported => pages = None,
                Direct::NotCached => {}
            }
        }
        let buf = buf.get_or_insert_with(|| CopyBuffer::take(piece));
        // Only the first piece may wait; after it, what is there is what is copied.
        let read = match src {
            Source::At(o) | Source::Position(o) => inf.ops.pread(&mut buf[..want], o + done),
            Source::Stream if first => {
                blocking_unless(&inf, mode.nonblock, Direction::Receive, || {
                    inf.ops.read(&inf, &mut buf[..want])
                })
            }
            Source::Stream => inf.ops.read(&inf, &mut buf[..want]),
        };
        let n = match read {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                failed = Some(e);
                break;
            }
        };
        let written = match (out_off, src) {
            (Some(_), _) => outf.ops.pwrite(&buf[..n], ooff),
            // Bytes taken from a stream cannot be put back: write them all, waiting
            // for room even on a non-blocking output.
            (None, Source::Stream) => write_all(&outf, &buf[..n]),
            (None, _) if first && !mode.nonblock => {
                blocking(&outf, Direction::Send, || outf.ops.write(&outf, &buf[..n]))
            }
            (None, _) => outf.ops.write(&outf, &buf[..n]),
        };
        let w = match written {
            Ok(w) => w,
            Err(e) => {
                failed = Some(e);
                break;
            }
        };
        done += w as u64;
        ooff += w as u64;
        if ends_call(w < n) {
            break;
        }
    }
    if let Source::Position(pos) = src {
        inf.ops.seek(&inf, (pos + done) as i64, SEEK_SET)?;
    }
    match failed {
        Some(e) if done == 0 => Err(e),
        _ => Ok((done, start_off + done, ooff)),
    }
}

/// What [`send_from_pages`] did.
enum Direct {
    /// Sent: the bytes the output took (0: the offset is at or past the end of the
    /// file), or its error.
    Sent(Result<usize, Errno>),
    /// The output cannot take bytes this way (not a TCP socket).
    Unsupported,
    /// A page was not in memory when the output asked for it (read, then dropped
    /// again meanwhile): this piece goes through a buffer.
    NotCached,
}

/// Sends up to `want` bytes of the file `inode` at `off` to the socket `outf` straight
/// from the page cache into its send buffer (`FileOps::write_with`), waiting for room
/// when `block`. The copy runs under the stack's lock and never waits
/// (`Inode::read_cached`, one lookup per run of pages); when it stops at a page that
/// lies on a disk, the rest of the piece is read into the cache with no lock held
/// (that read sleeps) and the send goes on once. Pages are not looked up before the
/// copy: a file in memory (the common case) costs no second walk.
fn send_from_pages(
    outf: &OpenFile,
    inode: &rumprun_vfs::InodeRef,
    off: u64,
    want: usize,
    block: bool,
) -> Direct {
    use crate::arch::paging::PAGE_SIZE;
    let size = inode.stat().size;
    if off >= size || want == 0 {
        return Direct::Sent(Ok(0));
    }
    let want = want.min((size - off).min(usize::MAX as u64) as usize);
    let (mut sent, mut prefetched) = (0usize, false);
    loop {
        let short = core::cell::Cell::new(false);
        let mut at = off + sent as u64;
        let mut fill = |dst: &mut [u8]| {
            let n = inode.read_cached(at, dst);
            at += n as u64;
            if n < dst.len() {
                short.set(true);
            }
            n
        };
        let mut send = || match outf.ops.write_with(want - sent, &mut fill) {
            None => Ok(None),
            // Nothing taken for want of a page: not a full socket, do not wait.
            Some(Err(EAGAIN)) if short.get() => Ok(Some(0)),
            Some(r) => r.map(Some),
        };
        let r = if block && sent == 0 {
            blocking(outf, Direction::Send, &mut send)
        } else {
            send()
        };
        let n = match r {
            Ok(None) => return Direct::Unsupported,
            Ok(Some(n)) => n,
            Err(e) if sent == 0 => return Direct::Sent(Err(e)),
            Err(_) => return Direct::Sent(Ok(sent)),
        };
        sent += n;
        // Stopped at a page on the disk: read the rest of the piece in, once.
        if !short.get() || sent == want || prefetched {
            return match sent {
                0 if short.get() => Direct::NotCached,
                _ => Direct::Sent(Ok(sent)),
            };
        }
        prefetched = true;
        let from = off + sent as u64;
        for index in from / PAGE_SIZE..=(off + want as u64 - 1) / PAGE_SIZE {
            if let Err(e) = inode.prefetch_page(index) {
                return match sent {
                    0 => Direct::Sent(Err(crate::fs::err(e))),
                    _ => Direct::Sent(Ok(sent)),
                };
            }
        }
    }
}

/// Writes all of `data` to `f`, waiting for room whether or not it is non-blocking.
fn write_all(f: &OpenFile, data: &[u8]) -> Result<usize, Errno> {
    let mut off = 0;
    while off < data.len() {
        let n = wait::retry_blocking(
            false,
            || 0,
            |deadline| f.ops.sleep(deadline),
            || f.ops.write(f, &data[off..]),
        );
        match n {
            Ok(n) => off += n,
            Err(e) if off == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(off)
}

/// Reads the `loff_t` at `ptr` (a sendfile/copy_file_range offset): negative is EINVAL.
fn read_offset(ptr: u64) -> Result<Option<u64>, Errno> {
    if ptr == 0 {
        return Ok(None);
    }
    match user::read::<i64>(ptr)? {
        o if o < 0 => Err(EINVAL),
        o => Ok(Some(o as u64)),
    }
}

pub fn sendfile(out_fd: u64, in_fd: u64, offset: u64, count: u64) -> SysResult {
    let (inf, outf) = (fd::get(in_fd)?, fd::get(out_fd)?);
    if !inf.readable() || !outf.writable() {
        return Err(EBADF);
    }
    // Linux reads the source through its splice_read, which a pipe has not: EINVAL
    // (ESPIPE with an offset, which a pipe cannot take).
    let any = inf.ops.as_any();
    if any.is::<pipe::ReadEnd>() || any.is::<pipe::WriteEnd>() {
        return Err(if offset != 0 { ESPIPE } else { EINVAL });
    }
    let in_off = read_offset(offset)?;
    let (done, ioff, _) = copy_between(out_fd, in_fd, in_off, None, count, CopyMode::default())?;
    if offset != 0 {
        user::write(offset, ioff as i64)?;
    }
    Ok(done)
}

pub fn copy_file_range(
    in_fd: u64,
    in_off: u64,
    out_fd: u64,
    out_off: u64,
    len: u64,
    flags: u64,
) -> SysResult {
    const SEEK_CUR: u32 = 1;
    if flags != 0 {
        return Err(EINVAL);
    }
    let (inf, outf) = (fd::get(in_fd)?, fd::get(out_fd)?);
    if !inf.readable() || !outf.writable() {
        return Err(EBADF);
    }
    // Linux's generic_copy_file_checks: a position (the one given, or the file's own)
    // that wraps past 2^64 when the length is added is EOVERFLOW, before
    // rw_verify_area's EINVAL for a negative one: an offset of -5 with a length of
    // 10 is EOVERFLOW, with a length of 3 EINVAL.
    for (f, ptr) in [(&inf, in_off), (&outf, out_off)] {
        let pos = match ptr {
            0 => f.ops.seek(f, 0, SEEK_CUR).unwrap_or(0),
            p => user::read::<i64>(p)? as u64,
        };
        if pos.checked_add(len).is_none() {
            return Err(EOVERFLOW);
        }
    }
    let io = read_offset(in_off)?;
    let oo = read_offset(out_off)?;
    let (done, ioff, ooff) = copy_between(out_fd, in_fd, io, oo, len, CopyMode::default())?;
    if in_off != 0 {
        user::write(in_off, ioff as i64)?;
    }
    if out_off != 0 {
        user::write(out_off, ooff as i64)?;
    }
    Ok(done)
}

/// splice(fd_in, off_in, fd_out, off_out, len, flags): one side must be a pipe (an
/// offset for a pipe is ESPIPE); moves what one transfer can, through a kernel buffer
/// (Linux moves pipe pages instead; the bytes are the same). SPLICE_F_NONBLOCK makes
/// both sides non-blocking; the other flags are hints.
pub fn splice(
    in_fd: u64,
    in_off: u64,
    out_fd: u64,
    out_off: u64,
    len: u64,
    flags: u64,
) -> SysResult {
    const SPLICE_F_NONBLOCK: u64 = 2;
    const SPLICE_FLAGS: u64 = 0xf;
    let is_pipe = |f: &OpenFile| {
        f.ops.as_any().is::<pipe::ReadEnd>() || f.ops.as_any().is::<pipe::WriteEnd>()
    };
    let (inf, outf) = (fd::get(in_fd)?, fd::get(out_fd)?);
    if flags & !SPLICE_FLAGS != 0 {
        return Err(EINVAL);
    }
    if !inf.readable() || !outf.writable() {
        return Err(EBADF);
    }
    let (in_pipe, out_pipe) = (is_pipe(&inf), is_pipe(&outf));
    if !in_pipe && !out_pipe {
        return Err(EINVAL);
    }
    if (in_pipe && in_off != 0) || (out_pipe && out_off != 0) {
        return Err(ESPIPE);
    }
    if len == 0 {
        return Ok(0);
    }
    let io = read_offset(in_off)?;
    let oo = read_offset(out_off)?;
    let mode = CopyMode {
        single: true,
        nonblock: flags & SPLICE_F_NONBLOCK != 0,
    };
    let (done, ioff, ooff) = copy_between(out_fd, in_fd, io, oo, len, mode)?;
    if in_off != 0 {
        user::write(in_off, ioff as i64)?;
    }
    if out_off != 0 {
        user::write(out_off, ooff as i64)?;
    }
    Ok(done)
}

/// flock: a whole-file lock held by the open file description (`fd::locks`).
pub fn flock(fd: u64, op: u64) -> SysResult {
    fd::locks::flock(&*fd::get(fd)?, op).map(|_| 0)
}

/// close_range(first, last, flags): closes (or with CLOSE_RANGE_CLOEXEC marks) fds.
pub fn close_range(first: u64, last: u64, flags: u64) -> SysResult {
    const CLOSE_RANGE_UNSHARE: u64 = 2;
    const CLOSE_RANGE_CLOEXEC: u64 = 4;
    if flags & !(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC) != 0 || first > last {
        return Err(EINVAL);
    }
    let last = last.min(fd::MAX_FDS as u64 - 1);
    for n in first..=last {
        if flags & CLOSE_RANGE_CLOEXEC != 0 {
            let _ = fd::set_cloexec(n, true);
        } else {
            let _ = fd::close(n);
        }
    }
    Ok(0)
}
