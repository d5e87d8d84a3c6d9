//! The program's memory as the kernel reaches it: typed pointers (`UserPtr<T>`), byte
//! ranges (`UserSlice`) and C strings, read and written only by copying through
//! `arch::extable`'s fault-tolerant `copy_user`, with errno results (a bad pointer is
//! EFAULT, as on Linux, never a fault inside the kernel). An address range that is not wholly
//! below `USER_END` is refused before any access (so a kernel-half or non-canonical
//! address never reaches the CPU); a page that is not committed yet is committed by
//! the page-fault handler as if the program had touched it; a fault it cannot resolve
//! (no area, PROT_NONE, a write to read-only memory, a page unmapped meanwhile by
//! another thread) ends the copy with EFAULT. Every layer (syscalls, signals, device
//! ioctls, the scheduler) copies the program's buffers into kernel memory and back
//! through here; the kernel never holds a reference into program memory.

use crate::arch::extable;
use crate::arch::paging::USER_END;
use crate::errno::{Errno, EFAULT, ENAMETOOLONG};
use crate::mm::address_space;
use alloc::vec::Vec;
use core::marker::PhantomData;

/// The longest path a C string argument may hold (Linux's PATH_MAX, NUL included).
const PATH_MAX: usize = 4096;

/// Whether `[addr, addr + len)` lies wholly in the program's half (an empty range
/// anywhere does).
fn in_user_half(addr: u64, len: usize) -> bool {
    len == 0
        || addr
            .checked_add(len as u64)
            .is_some_and(|end| end <= USER_END)
}

/// How many times a copy reads a page from a disk (`fault_in`) without getting on.
const PAGE_INS: u32 = 16;

/// Runs `copy(done)` (which copies from byte `done` on and returns the bytes it left
/// uncopied) until all of `len` is copied, or it stops at a fault that is no page a
/// disk must give: a fault in kernel code cannot wait for a disk (see
/// `address_space::PageFault::NeedsPageIn`), so the copy stops there, the page is read
/// here, in the syscall's context with no lock held, and the copy goes on.
fn copy_paging_in(len: usize, mut copy: impl FnMut(usize) -> usize) -> usize {
    let mut done = 0;
    let mut page_ins = 0;
    loop {
        // Left from an earlier copy that stopped at an invalid address.
        let _ = address_space::take_page_in();
        let now = len - copy(done);
        if now > done {
            page_ins = 0;
        }
        done = now;
        if done == len {
            return done;
        }
        let Some((page, write)) = address_space::take_page_in() else {
            return done;
        };
        // Pages read and dropped again before the copy got on: give up (short copy).
        page_ins += 1;
        if page_ins > PAGE_INS || address_space::fault_in(page, write).is_err() {
            return done;
        }
    }
}

/// Copies program memory at `src` into `dst`; returns how many bytes were copied (all,
/// or those before the first one that cannot be read).
pub fn copy_in_partial(dst: &mut [u8], src: u64) -> usize {
    if !in_user_half(src, dst.len()) {
        return 0;
    }
    let (ptr, len) = (dst.as_mut_ptr(), dst.len());
    copy_paging_in(len, |done| {
        // SAFETY: `dst` is kernel memory valid for its length (`done <= len`); `src`
        // is a program range below USER_END, whose faults copy_user catches.
        unsafe { extable::copy(ptr.add(done), (src + done as u64) as *const u8, len - done) }
    })
}

/// Copies `src` into program memory at `dst`; returns how many bytes were copied.
pub fn copy_out_partial(dst: u64, src: &[u8]) -> usize {
    if !in_user_half(dst, src.len()) {
        return 0;
    }
    copy_paging_in(src.len(), |done| {
        // SAFETY: `src` is kernel memory valid for its length (`done <= len`); `dst`
        // is a program range below USER_END, whose faults copy_user catches.
        unsafe {
            extable::copy(
                (dst + done as u64) as *mut u8,
                src.as_ptr().add(done),
                src.len() - done,
            )
        }
    })
}

/// Fills `dst` from program memory at `src`, all of it or EFAULT.
pub fn copy_in(dst: &mut [u8], src: u64) -> Result<(), Errno> {
    if copy_in_partial(dst, src) == dst.len() {
        Ok(())
    } else {
        Err(EFAULT)
    }
}

/// Writes all of `src` to program memory at `dst`, or EFAULT (some bytes before the
/// bad one may have been written, as on Linux).
pub fn copy_out(dst: u64, src: &[u8]) -> Result<(), Errno> {
    if copy_out_partial(dst, src) == src.len() {
        Ok(())
    } else {
        Err(EFAULT)
    }
}

/// Plain data: a type for which every byte pattern of its size is a valid value, so
/// it may be read from program memory as bytes.
///
/// # Safety
/// Implement only for types with no invalid bit patterns and no padding whose reading
/// would matter (integers, arrays of them, `#[repr(C)]` structs of them).
pub unsafe trait Pod: Copy {}

macro_rules! pod {
    ($($t:ty),*) => { $(
        // SAFETY: every bit pattern is a valid value of a primitive integer.
        unsafe impl Pod for $t {}
    )* };
}
pod!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize);
// SAFETY: an array of plain data is plain data.
unsafe impl<T: Pod, const N: usize> Pod for [T; N] {}
// SAFETY: `struct msghdr` is integers and raw pointers (any bit pattern is a valid
// value of either; the pointers are only turned into addresses), and its padding is
// never read as a field.
unsafe impl Pod for rumprun_abi::net::msghdr {}

/// A pointer to a `T` in program memory.
pub struct UserPtr<T> {
    addr: u64,
    _t: PhantomData<fn() -> T>,
}

impl<T> Clone for UserPtr<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for UserPtr<T> {}

impl<T: Pod> UserPtr<T> {
    pub const fn new(addr: u64) -> Self {
        UserPtr {
            addr,
            _t: PhantomData,
        }
    }

    /// Reads the `T` (unaligned is fine).
    pub fn read(self) -> Result<T, Errno> {
        let mut v = core::mem::MaybeUninit::<T>::uninit();
        // SAFETY: the buffer is the `size_of::<T>()` bytes of `v`, which copy_in
        // writes completely on success; any bytes form a valid `T` (Pod).
        unsafe {
            let bytes = core::slice::from_raw_parts_mut(
                v.as_mut_ptr() as *mut u8,
                core::mem::size_of::<T>(),
            );
            copy_in(bytes, self.addr)?;
            Ok(v.assume_init())
        }
    }

    /// Writes `*value` (unaligned is fine). By reference: a large value is then not
    /// copied on its way, which the compiler may do through xmm4+ (check-fpu-use).
    pub fn write(self, value: &T) -> Result<(), Errno> {
        // SAFETY: `value` is a live `T`; its bytes are plain data.
        let bytes = unsafe {
            core::slice::from_raw_parts(value as *const T as *const u8, core::mem::size_of::<T>())
        };
        copy_out(self.addr, bytes)
    }
}

/// `len` bytes of program memory at `addr`.
#[derive(Clone, Copy, Debug)]
pub struct UserSlice {
    pub addr: u64,
    pub len: usize,
}

impl UserSlice {
    pub const fn new(addr: u64, len: usize) -> Self {
        UserSlice { addr, len }
    }

    /// The bytes, copied into a new kernel buffer (the caller bounds the length).
    pub fn to_vec(self) -> Result<Vec<u8>, Errno> {
        if !in_user_half(self.addr, self.len) {
            return Err(EFAULT);
        }
        let mut v = alloc::vec![0u8; self.len];
        copy_in(&mut v, self.addr)?;
        Ok(v)
    }
}

/// Why a C string could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CStrError {
    Fault,
    /// No NUL within the limit.
    TooLong,
}

/// The bytes (without the NUL) of the NUL-terminated string at `addr`, if it ends
/// within `max` bytes. Reads a page at a time, never past the page holding the NUL.
pub fn read_cstr(addr: u64, max: usize) -> Result<Vec<u8>, CStrError> {
    let mut out = Vec::new();
    let mut at = addr;
    let mut chunk = [0u8; 256];
    loop {
        let to_page_end = (4096 - (at & 4095)) as usize;
        let n = chunk.len().min(to_page_end);
        let got = copy_in_partial(&mut chunk[..n], at);
        if let Some(nul) = chunk[..got].iter().position(|&b| b == 0) {
            out.extend_from_slice(&chunk[..nul]);
            return if out.len() < max {
                Ok(out)
            } else {
                Err(CStrError::TooLong)
            };
        }
        if got < n {
            return Err(CStrError::Fault);
        }
        out.extend_from_slice(&chunk[..got]);
        if out.len() >= max {
            return Err(CStrError::TooLong);
        }
        at = at.checked_add(got as u64).ok_or(CStrError::Fault)?;
    }
}

/// Reads a `T` at `ptr`.
pub fn read<T: Pod>(ptr: u64) -> Result<T, Errno> {
    UserPtr::<T>::new(ptr).read()
}

/// Writes `value` at `ptr`.
#[inline(always)]
pub fn write<T: Pod>(ptr: u64, value: T) -> Result<(), Errno> {
    UserPtr::<T>::new(ptr).write(&value)
}

/// The `len` bytes at `ptr`, copied into a kernel buffer.
pub fn read_bytes(ptr: u64, len: usize) -> Result<Vec<u8>, Errno> {
    UserSlice::new(ptr, len).to_vec()
}

/// The bytes of a NUL-terminated string (a path) shorter than PATH_MAX.
pub fn cstr_bytes(ptr: u64) -> Result<Vec<u8>, Errno> {
    read_cstr(ptr, PATH_MAX).map_err(|e| match e {
        CStrError::Fault => EFAULT,
        CStrError::TooLong => ENAMETOOLONG,
    })
}

/// Refuses an output buffer that the program's areas say cannot be written whole,
/// before anything is consumed for it (a pipe's or socket's data must not be lost into
/// a buffer that cannot take it). Only a first check: the copy itself still catches
/// what the bookkeeping missed.
pub fn check_writable(ptr: u64, len: usize) -> Result<(), Errno> {
    if writable_prefix(ptr, len) == len {
        Ok(())
    } else {
        Err(EFAULT)
    }
}

/// How much of the output buffer `[ptr, ptr + len)` the program's areas say may be
/// written, from its start.
pub fn writable_prefix(ptr: u64, len: usize) -> usize {
    if len == 0 {
        return 0;
    }
    let end = match ptr.checked_add(len as u64) {
        Some(e) if e <= USER_END => e,
        _ => return 0,
    };
    super::address_space::writable_len(ptr, end) as usize
}
