//! The Linux x86_64 syscall ABI: `syscall_handler` (called from entry.S with the saved
//! registers) decodes the number and arguments and dispatches to one module per area,
//! through the `match` the syscall table (`table.rs`) generates. A syscall we lack
//! returns -ENOSYS and is logged once, by name.

#[macro_use]
mod table;

mod creds;
pub mod fs;
pub mod io;
mod ipc;
mod memory;
mod mmsg;
mod net;
mod poll;
mod process;
mod signal;
mod thread;
mod time;
pub mod trace;
mod transfer;
mod xattr;

use crate::arch::trap::TrapFrame;
use crate::errno::*;

use fs::AT_FDCWD;
pub use process::set_hostname;

/// rt_sigreturn: restores every register, rax included, from the signal frame.
const RT_SIGRETURN: usize = 15;

/// Called by entry.S for every syscall; delivers pending signals before returning.
#[no_mangle]
#[link_section = ".text.hot"]
extern "C" fn syscall_handler(frame: &mut TrapFrame) {
    // Released on the way back to the program (entry.S: syscall_return).
    crate::sync::bkl::enter();
    let nr = frame.rax as usize;
    if nr == RT_SIGRETURN {
        signal::rt_sigreturn(frame);
        crate::signal::deliver::on_return(frame, None);
        return;
    }
    let a = [
        frame.rdi, frame.rsi, frame.rdx, frame.r10, frame.r8, frame.r9,
    ];
    if trace::enabled() {
        trace::enter(nr, &a);
    }
    let result = dispatch(nr, a, frame);
    if result == Err(EPIPE) && raises_sigpipe(nr, &a) {
        crate::signal::send_sigpipe(process::pid() as u32);
    }
    if trace::enabled() {
        trace::exit(nr, &result);
    }
    frame.rax = match result {
        Ok(v) => v,
        Err(Errno(e)) => (-(e as i64)) as u64,
    };
    crate::signal::deliver::on_return(frame, Some(nr as u64));
}

/// Makes the kernel's side of the syscall table: `dispatch` (a `match` on the number
/// with each handled entry's handler as its arm), `name` and `COUNT`.
macro_rules! kernel_syscalls {
    (
        [$a:ident, $frame:ident]
        $($nr:literal $name:ident $status:ident $note:literal $(=> $handler:expr)?;)*
    ) => {
        fn dispatch(nr: usize, $a: [u64; 6], $frame: &TrapFrame) -> SysResult {
            match nr {
                $($($nr => $handler,)?)*
                _ => unsupported(nr),
            }
        }

        /// The name of syscall `nr`, or `None` for numbers Linux does not define.
        pub fn name(nr: usize) -> Option<&'static str> {
            match nr {
                $($nr => Some(stringify!($name)),)*
                _ => None,
            }
        }

        /// One more than the highest syscall number Linux defines.
        const COUNT: usize = {
            let numbers = [$($nr),*];
            let mut max = 0;
            let mut i = 0;
            while i < numbers.len() {
                if numbers[i] > max {
                    max = numbers[i];
                }
                i += 1;
            }
            max + 1
        };
    };
}

syscall_table!(kernel_syscalls);

/// Whether EPIPE from syscall `nr` comes with SIGPIPE, as Linux's pipe and socket
/// writes send it (only pipes and sockets give EPIPE here): every write-like call,
/// except a send with MSG_NOSIGNAL.
fn raises_sigpipe(nr: usize, a: &[u64; 6]) -> bool {
    const MSG_NOSIGNAL: u64 = 0x4000;
    match nr {
        1 | 20 | 40 | 296 | 328 => true, // write, writev, sendfile, pwritev(2) at the position
        44 => a[3] & MSG_NOSIGNAL == 0,  // sendto
        46 => a[2] & MSG_NOSIGNAL == 0,  // sendmsg
        307 => a[3] & MSG_NOSIGNAL == 0, // sendmmsg
        _ => false,
    }
}

fn unsupported(nr: usize) -> SysResult {
    if table::QUIET_ENOSYS.contains(&nr) {
        return Err(ENOSYS);
    }
    static SEEN: spin::Mutex<[u64; COUNT.div_ceil(64) + 1]> =
        spin::Mutex::new([0; COUNT.div_ceil(64) + 1]);
    let slot = nr.min(COUNT);
    let first = {
        let mut seen = SEEN.lock();
        let bit = 1u64 << (slot % 64);
        let new = seen[slot / 64] & bit == 0;
        seen[slot / 64] |= bit;
        new
    };
    if first {
        match name(nr) {
            Some(name) => kprintln!("rumprun: unsupported syscall {name} ({nr})"),
            None => kprintln!("rumprun: unknown syscall number {nr}"),
        }
    }
    Err(ENOSYS)
}
