//! brk, mmap, munmap, mprotect, madvise, mremap over the address space (mm).

use super::errno::*;
use crate::mm::address_space::{self as aspace, page_up, Error};

const MAP_SHARED: u64 = 0x01;
const MAP_PRIVATE: u64 = 0x02;
const MAP_FIXED: u64 = 0x10;
const MAP_ANONYMOUS: u64 = 0x20;
const MAP_FIXED_NOREPLACE: u64 = 0x10_0000;

fn errno(e: Error) -> Errno {
    match e {
        Error::Exists => EEXIST,
        Error::NoMemory => ENOMEM,
        Error::Invalid => EINVAL,
    }
}

pub fn brk(addr: u64) -> SysResult {
    Ok(aspace::brk(addr))
}

pub fn mmap(addr: u64, len: u64, prot: u64, flags: u64, fd: u64, _off: u64) -> SysResult {
    if flags & (MAP_SHARED | MAP_PRIVATE) == 0 || prot & !7 != 0 {
        return Err(EINVAL);
    }
    if flags & MAP_ANONYMOUS == 0 {
        // No files yet: every fd is the console or /dev/null.
        return Err(if (fd as i32) < 0 { EBADF } else { ENODEV });
    }
    let noreplace = flags & MAP_FIXED_NOREPLACE != 0;
    let fixed = flags & MAP_FIXED != 0 || noreplace;
    aspace::map_anonymous(addr, len, prot as u32, fixed, noreplace).map_err(errno)
}

pub fn munmap(addr: u64, len: u64) -> SysResult {
    aspace::unmap(addr, len).map(|_| 0).map_err(errno)
}

pub fn mprotect(addr: u64, len: u64, prot: u64) -> SysResult {
    if prot & !7 != 0 {
        return Err(EINVAL);
    }
    aspace::protect(addr, len, prot as u32)
        .map(|_| 0)
        .map_err(errno)
}

pub fn madvise(addr: u64, len: u64, advice: u64) -> SysResult {
    const MADV_DONTNEED: u64 = 4;
    if !addr.is_multiple_of(4096) {
        return Err(EINVAL);
    }
    if advice == MADV_DONTNEED {
        aspace::discard(addr, addr + page_up(len));
    }
    Ok(0)
}
