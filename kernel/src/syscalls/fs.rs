//! Path-based file syscalls. Until the VFS is wired in, the only paths are the /dev
//! nodes, /proc/self/exe and the root directory.

use super::errno::*;
use super::user;
use crate::fd::{self, console::Console, devices::Device, OpenFile, O_CLOEXEC};
use alloc::string::String;
use alloc::sync::Arc;
use spin::Mutex;

const AT_FDCWD: i64 = -100;
const AT_EMPTY_PATH: u64 = 0x1000;

static EXE_PATH: Mutex<String> = Mutex::new(String::new());

/// The program's path as /proc/self/exe shows it.
pub fn set_exe_path(name: &str) {
    let mut p = EXE_PATH.lock();
    p.clear();
    p.push_str("/bin/");
    p.push_str(name);
}

fn lookup(path: &str) -> Result<Arc<dyn fd::FileOps>, Errno> {
    Ok(match path {
        "/dev/null" => Arc::new(Device::Null),
        "/dev/zero" => Arc::new(Device::Zero),
        "/dev/full" => Arc::new(Device::Full),
        "/dev/random" | "/dev/urandom" => Arc::new(Device::Random),
        "/dev/console" | "/dev/tty" => Arc::new(Console),
        _ => return Err(ENOENT),
    })
}

pub fn stat(path: u64, buf: u64) -> SysResult {
    let st = lookup(user::cstr(path)?)?.stat()?;
    user::write(buf, st).map(|_| 0)
}

pub fn newfstatat(dirfd: u64, path: u64, buf: u64, flags: u64) -> SysResult {
    let p = user::cstr(path)?;
    if p.is_empty() && flags & AT_EMPTY_PATH != 0 {
        return super::io::fstat(dirfd, buf);
    }
    stat(path, buf)
}

pub fn statx(dirfd: u64, path: u64, flags: u64, buf: u64) -> SysResult {
    let p = user::cstr(path)?;
    if p.is_empty() && flags & AT_EMPTY_PATH != 0 {
        return super::io::fstatx(dirfd, buf);
    }
    let st = lookup(p)?.stat()?;
    user::write(buf, super::stat::Statx::from(&st)).map(|_| 0)
}

pub fn openat(dirfd: u64, path: u64, flags: u64) -> SysResult {
    let p = user::cstr(path)?;
    if !p.starts_with('/') && dirfd as i64 != AT_FDCWD {
        fd::get(dirfd)?;
        return Err(ENOTDIR);
    }
    let ops = lookup(p)?;
    fd::install(
        OpenFile::new(ops, flags as u32),
        flags as u32 & O_CLOEXEC != 0,
        0,
    )
}

pub fn faccessat(path: u64) -> SysResult {
    lookup(user::cstr(path)?).map(|_| 0)
}

pub fn readlinkat(path: u64, buf: u64, size: u64) -> SysResult {
    let p = user::cstr(path)?;
    if p != "/proc/self/exe" {
        return Err(if lookup(p).is_ok() { EINVAL } else { ENOENT });
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
