//! Access to the program's memory from syscalls. Pointers are checked against the
//! address space first, so a bad pointer gives EFAULT (as on Linux) instead of a fault
//! inside the kernel. Pages are committed on touch by the page-fault handler.

use super::errno::{Errno, EFAULT, ENAMETOOLONG};
use crate::arch::paging::USER_END;
use crate::mm::address_space;

const PATH_MAX: usize = 4096;

fn check(ptr: u64, len: usize) -> Result<(), Errno> {
    check_range(ptr, len, address_space::is_accessible)
}

/// As `check`, for memory the kernel is about to write: a read-only buffer is EFAULT
/// (with CR0.WP the write would otherwise fault inside the kernel).
fn check_writable(ptr: u64, len: usize) -> Result<(), Errno> {
    check_range(ptr, len, address_space::is_writable)
}

fn check_range(ptr: u64, len: usize, allowed: fn(u64, u64) -> bool) -> Result<(), Errno> {
    if len == 0 {
        return Ok(());
    }
    let end = ptr.checked_add(len as u64).ok_or(EFAULT)?;
    if ptr == 0 || end > USER_END || !allowed(ptr, end) {
        return Err(EFAULT);
    }
    Ok(())
}

/// Touches every page of a checked range, so page faults (lazy commit, file
/// mappings) happen here and not inside a file system holding its locks.
fn prefault(ptr: u64, len: usize) {
    let end = ptr + len as u64;
    let mut page = ptr & !0xfff;
    while page < end {
        let at = page.max(ptr);
        unsafe { core::ptr::read_volatile(at as *const u8) };
        page += 4096;
    }
}

pub fn slice<'a>(ptr: u64, len: usize) -> Result<&'a [u8], Errno> {
    check(ptr, len)?;
    prefault(ptr, len);
    if len == 0 {
        return Ok(&[]);
    }
    Ok(unsafe { core::slice::from_raw_parts(ptr as *const u8, len) })
}

pub fn slice_mut<'a>(ptr: u64, len: usize) -> Result<&'a mut [u8], Errno> {
    check_writable(ptr, len)?;
    prefault(ptr, len);
    if len == 0 {
        return Ok(&mut []);
    }
    Ok(unsafe { core::slice::from_raw_parts_mut(ptr as *mut u8, len) })
}

pub fn read<T: Copy>(ptr: u64) -> Result<T, Errno> {
    check(ptr, core::mem::size_of::<T>())?;
    Ok(unsafe { core::ptr::read_unaligned(ptr as *const T) })
}

pub fn write<T: Copy>(ptr: u64, value: T) -> Result<(), Errno> {
    check_writable(ptr, core::mem::size_of::<T>())?;
    unsafe { core::ptr::write_unaligned(ptr as *mut T, value) };
    Ok(())
}

/// The bytes of a NUL-terminated string (a path) of at most PATH_MAX bytes.
pub fn cstr_bytes<'a>(ptr: u64) -> Result<&'a [u8], Errno> {
    let mut len = 0;
    loop {
        if len >= PATH_MAX {
            return Err(ENAMETOOLONG);
        }
        let b: u8 = read(ptr + len as u64)?;
        if b == 0 {
            break;
        }
        len += 1;
    }
    slice(ptr, len)
}
