//! What the compiler expects a freestanding binary to provide: the C memory functions
//! (compiler_builtins has no "mem" feature on this target), the panic handler (which
//! hands the panic to the report `main` installs: `fault::kernel_panic`), and the
//! never-called unwinding symbols that precompiled core/alloc refer to.

use spin::Once;

// memcpy, memset and memmove_down: arch/x86_64/mem.S.
extern "C" {
    fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8;
    fn memmove_down(dst: *mut u8, src: *const u8, n: usize) -> *mut u8;
}

#[no_mangle]
pub unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dst as usize).wrapping_sub(src as usize) >= n {
        // No overlap, or dst below src: a forward copy reads each block before it
        // writes over it.
        // SAFETY: the caller gives n readable bytes at src and n writable at dst
        // (memmove's contract); a forward copy is right for this overlap.
        return unsafe { memcpy(dst, src, n) };
    }
    // SAFETY: as above; dst above src within n bytes needs the backward copy.
    unsafe { memmove_down(dst, src, n) }
}

#[no_mangle]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    let mut i = 0;
    while i < n {
        // SAFETY: i < n, and the caller gives n readable bytes at a and at b
        // (memcmp's contract).
        let (x, y) = unsafe {
            (
                core::ptr::read_volatile(a.add(i)),
                core::ptr::read_volatile(b.add(i)),
            )
        };
        if x != y {
            return x as i32 - y as i32;
        }
        i += 1;
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: bcmp has memcmp's contract.
    unsafe { memcmp(a, b, n) }
}

#[no_mangle]
pub unsafe extern "C" fn strlen(s: *const u8) -> usize {
    let mut n = 0;
    // SAFETY: the caller gives a NUL-terminated string (strlen's contract), so every
    // byte up to and including the NUL is readable.
    while unsafe { core::ptr::read_volatile(s.add(n)) } != 0 {
        n += 1;
    }
    n
}

#[no_mangle]
extern "C" fn rust_eh_personality() {}

#[no_mangle]
extern "C" fn _Unwind_Resume() -> ! {
    crate::arch::cpu::halt_forever()
}

static ON_PANIC: Once<fn(&core::panic::PanicInfo) -> !> = Once::new();

/// Sets what a panic runs (once, at the start of boot).
pub fn set_panic_hook(hook: fn(&core::panic::PanicInfo) -> !) {
    ON_PANIC.call_once(|| hook);
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    match ON_PANIC.get() {
        Some(hook) => hook(info),
        None => {
            kprintln!("rumprun: kernel panic: {}", info);
            crate::platform::exit_after_fault(255)
        }
    }
}
