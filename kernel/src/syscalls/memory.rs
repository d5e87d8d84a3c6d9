//! brk, mmap, munmap, mprotect, madvise, mremap over the address space (mm).

use crate::errno::*;
use crate::mm::address_space::{self as aspace, page_up, Error};

const MAP_SHARED: u64 = 0x01;
const MAP_PRIVATE: u64 = 0x02;
const MAP_FIXED: u64 = 0x10;
const MAP_ANONYMOUS: u64 = 0x20;
const MAP_32BIT: u64 = 0x40;
const MAP_HUGETLB: u64 = 0x4_0000;
const MAP_FIXED_NOREPLACE: u64 = 0x10_0000;

fn errno(e: Error) -> Errno {
    match e {
        Error::Exists => EEXIST,
        Error::NoMemory => ENOMEM,
        Error::Invalid => EINVAL,
        Error::Fault => EFAULT,
    }
}

pub fn brk(addr: u64) -> SysResult {
    Ok(aspace::brk(addr))
}

pub fn mmap(addr: u64, len: u64, prot: u64, flags: u64, fd: u64, off: u64) -> SysResult {
    if flags & (MAP_SHARED | MAP_PRIVATE) == 0 || prot & !7 != 0 {
        return Err(EINVAL);
    }
    let mut noreplace = flags & MAP_FIXED_NOREPLACE != 0;
    let mut fixed = flags & MAP_FIXED != 0 || noreplace;
    if flags & MAP_HUGETLB != 0 {
        // No huge pages are reserved (Linux: ENOMEM for anonymous memory; EINVAL for
        // a file not on hugetlbfs).
        return Err(if flags & MAP_ANONYMOUS != 0 {
            ENOMEM
        } else {
            EINVAL
        });
    }
    let mut addr = addr;
    if flags & MAP_32BIT != 0 && !fixed && len != 0 {
        // In the low window Linux uses (1-2 GiB), below any hint.
        addr = aspace::free_below_2g(len).ok_or(ENOMEM)?;
        (fixed, noreplace) = (true, true);
    }
    if flags & MAP_ANONYMOUS != 0 {
        let shared = flags & MAP_SHARED != 0;
        return aspace::map_anonymous(addr, len, prot as u32, fixed, noreplace, shared)
            .map_err(errno);
    }
    if !off.is_multiple_of(4096) {
        return Err(EINVAL);
    }
    let file = crate::fd::get(fd)?;
    if let Some(dev) = file
        .ops
        .as_any()
        .downcast_ref::<crate::fd::devices::Device>()
    {
        if *dev == crate::fd::devices::Device::Zero {
            let shared = flags & MAP_SHARED != 0;
            return aspace::map_anonymous(addr, len, prot as u32, fixed, noreplace, shared)
                .map_err(errno);
        }
        return Err(ENODEV);
    }
    let vf = file
        .ops
        .as_any()
        .downcast_ref::<crate::fd::vfs_file::VfsFile>()
        .ok_or(ENODEV)?;
    if vf.inode.file_type() != rumprun_vfs::FileType::Regular {
        return Err(ENODEV);
    }
    let shared = flags & MAP_SHARED != 0;
    if !file.readable() || (shared && prot & 2 != 0 && !file.writable()) {
        return Err(EACCES);
    }
    let backing = aspace::Backing {
        source: alloc::sync::Arc::new(crate::fs::InodePages(vf.inode.clone())),
        offset: off,
        shared,
    };
    aspace::map_file(addr, len, prot as u32, fixed, noreplace, backing).map_err(errno)
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

/// madvise: MADV_DONTNEED/MADV_FREE drop the pages (they read as zero next time);
/// the other advice Linux knows is accepted and has nothing to change here.
pub fn madvise(addr: u64, len: u64, advice: u64) -> SysResult {
    const MADV_DONTNEED: u64 = 4;
    const MADV_FREE: u64 = 8;
    // NORMAL..WILLNEED, DONTNEED, FREE..COLLAPSE (incl. MERGEABLE, HUGEPAGE, DONTDUMP,
    // WIPEONFORK, COLD, PAGEOUT, POPULATE_*), HWPOISON, SOFT_OFFLINE.
    let known = matches!(advice, 0..=4 | 8..=25 | 100 | 101);
    if !addr.is_multiple_of(4096) || !known {
        return Err(EINVAL);
    }
    let end = addr.checked_add(page_up(len)).ok_or(EINVAL)?;
    if end > crate::arch::paging::USER_END {
        return Err(EINVAL);
    }
    if !aspace::is_mapped(addr, end) {
        return Err(ENOMEM);
    }
    if advice == MADV_DONTNEED || advice == MADV_FREE {
        aspace::discard(addr, end);
    }
    Ok(0)
}

pub fn mremap(old: u64, old_len: u64, new_len: u64, flags: u64, new_addr: u64) -> SysResult {
    const MREMAP_MAYMOVE: u64 = 1;
    const MREMAP_FIXED: u64 = 2;
    if flags & !(MREMAP_MAYMOVE | MREMAP_FIXED) != 0
        || (flags & MREMAP_FIXED != 0 && flags & MREMAP_MAYMOVE == 0)
    {
        return Err(EINVAL);
    }
    let fixed = (flags & MREMAP_FIXED != 0).then_some(new_addr);
    aspace::remap(old, old_len, new_len, flags & MREMAP_MAYMOVE != 0, fixed).map_err(errno)
}

/// msync: shared file mappings in the range go back to their files.
pub fn msync(addr: u64, len: u64, flags: u64) -> SysResult {
    const MS_ASYNC: u64 = 1;
    const MS_INVALIDATE: u64 = 2;
    const MS_SYNC: u64 = 4;
    if !addr.is_multiple_of(4096)
        || flags & !(MS_ASYNC | MS_INVALIDATE | MS_SYNC) != 0
        || flags & (MS_ASYNC | MS_SYNC) == (MS_ASYNC | MS_SYNC)
    {
        return Err(EINVAL);
    }
    aspace::sync_range(addr, len).map(|_| 0).map_err(errno)
}

/// mlock, munlock, mlockall, munlockall: memory is never paged out, so these only
/// check their arguments.
pub fn no_op_range(addr: u64) -> SysResult {
    if !addr.is_multiple_of(4096) {
        return Err(EINVAL);
    }
    Ok(0)
}
