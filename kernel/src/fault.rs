//! Fatal events and their reports: a program fault (signal, faulting address, register
//! dump, symbol and a frame-pointer backtrace), a fatal signal sent by the program to
//! itself (abort) or a signal that cannot be delivered, running out of memory, and a
//! kernel panic. A program's fatal event ends that program with status 128 + signal
//! (and the image with it when it was the last foreground program, see
//! `process::rc`); running out of memory (137: a forked process alone is killed) and
//! kernel faults (255) end the VM.

use crate::arch::paging::USER_END;
use crate::arch::trap::{exception_name, TrapFrame};
use crate::process;

pub const SIGILL: i32 = 4;
pub const SIGTRAP: i32 = 5;
pub const SIGBUS: i32 = 7;
pub const SIGFPE: i32 = 8;
pub const SIGKILL: i32 = 9;
pub const SIGSEGV: i32 = 11;

/// Exit status when every thread is blocked with nothing that could wake one.
pub const DEADLOCK_STATUS: i32 = 1;

pub fn signal_name(sig: i32) -> &'static str {
    const NAMES: [&str; 32] = [
        "0",
        "SIGHUP",
        "SIGINT",
        "SIGQUIT",
        "SIGILL",
        "SIGTRAP",
        "SIGABRT",
        "SIGBUS",
        "SIGFPE",
        "SIGKILL",
        "SIGUSR1",
        "SIGSEGV",
        "SIGUSR2",
        "SIGPIPE",
        "SIGALRM",
        "SIGTERM",
        "SIGSTKFLT",
        "SIGCHLD",
        "SIGCONT",
        "SIGSTOP",
        "SIGTSTP",
        "SIGTTIN",
        "SIGTTOU",
        "SIGURG",
        "SIGXCPU",
        "SIGXFSZ",
        "SIGVTALRM",
        "SIGPROF",
        "SIGWINCH",
        "SIGIO",
        "SIGPWR",
        "SIGSYS",
    ];
    NAMES
        .get(sig as usize)
        .copied()
        .unwrap_or("a real-time signal")
}

fn signal_for_vector(vector: i64) -> i32 {
    match vector {
        0 | 7 | 16 | 19 => SIGFPE,
        1 | 3 => SIGTRAP,
        6 => SIGILL,
        12 | 17 => SIGBUS,
        _ => SIGSEGV,
    }
}

/// "0x401745 <main+0x15>" for program addresses with a known symbol.
struct Addr(u64);

impl core::fmt::Display for Addr {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:#x}", self.0)?;
        if self.0 < USER_END {
            if let Some(p) = process::program() {
                let base = process::current().base();
                if let Some((name, off)) = crate::loader::symbols::lookup(p.image, base, self.0) {
                    return write!(f, " <{name}+{off:#x}>");
                }
            }
        } else {
            match crate::payload::kernel_symbol(self.0) {
                Some((name, off)) => write!(f, " <kernel: {name}+{off:#x}>")?,
                None => write!(f, " <kernel>")?,
            }
        }
        Ok(())
    }
}

fn dump_registers(r: &TrapFrame) {
    kprintln!(
        "rumprun:   rax={:016x} rbx={:016x} rcx={:016x} rdx={:016x}",
        r.rax,
        r.rbx,
        r.rcx,
        r.rdx
    );
    kprintln!(
        "rumprun:   rsi={:016x} rdi={:016x} rbp={:016x} rsp={:016x}",
        r.rsi,
        r.rdi,
        r.rbp,
        r.rsp
    );
    kprintln!(
        "rumprun:   r8 ={:016x} r9 ={:016x} r10={:016x} r11={:016x}",
        r.r8,
        r.r9,
        r.r10,
        r.r11
    );
    kprintln!(
        "rumprun:   r12={:016x} r13={:016x} r14={:016x} r15={:016x}",
        r.r12,
        r.r13,
        r.r14,
        r.r15
    );
    kprintln!(
        "rumprun:   rip={:016x} rflags={:016x} error={:#x}",
        r.rip,
        r.rflags,
        r.error_code
    );
}

/// Walks saved frame pointers while they look like a real call chain: each frame
/// pointer above the last, inside the same stack area as the faulting rsp, and each
/// return address inside executable code and not at a function's first byte (code
/// built without frame pointers leaves rbp holding data; better a short trace than a
/// wrong one).
fn backtrace(rip: u64, rsp: u64, mut rbp: u64) {
    kprintln!("rumprun: backtrace:");
    kprintln!("rumprun:   #0 {}", Addr(rip));
    let in_program = rip < USER_END;
    let stack_area = if in_program {
        crate::mm::address_space::area_at(rsp)
    } else {
        None
    };
    let on_stack = |a: u64| {
        if in_program {
            stack_area
                .as_ref()
                .is_some_and(|(start, area)| a >= *start && a + 16 <= area.end)
        } else {
            a >= crate::arch::paging::PHYS_OFFSET
        }
    };
    let mut prev = rsp;
    for i in 1..16 {
        if rbp < prev || !rbp.is_multiple_of(8) || !on_stack(rbp) || !readable(rbp, 16) {
            break;
        }
        // SAFETY: the loop checked that rbp is 8-aligned and that [rbp, rbp+16) lies on the
        // faulting stack and is mapped readable, so both loads stay inside mapped memory.
        let (next, ret) = unsafe { (*(rbp as *const u64), *((rbp + 8) as *const u64)) };
        if !plausible_return(ret, in_program) {
            break;
        }
        kprintln!("rumprun:   #{} {}", i, Addr(ret));
        prev = rbp + 16;
        rbp = next;
    }
}

fn plausible_return(addr: u64, in_program: bool) -> bool {
    if !in_program {
        return addr >= 0xffff_ffff_8000_0000;
    }
    let executable = crate::mm::address_space::area_at(addr)
        .is_some_and(|(_, a)| a.prot & crate::mm::address_space::PROT_EXEC != 0);
    let at_function_start = process::program()
        .and_then(|p| crate::loader::symbols::lookup(p.image, process::current().base(), addr))
        .is_some_and(|(_, off)| off == 0);
    executable && !at_function_start
}

fn readable(addr: u64, len: u64) -> bool {
    if addr >= USER_END {
        return addr >= crate::arch::paging::PHYS_OFFSET;
    }
    use crate::arch::paging::{is_present, lookup};
    is_present(&lookup(addr)) && is_present(&lookup(addr + len - 1))
}

fn describe_page_fault(addr: u64, err: u64) -> &'static str {
    let access = if err & 0x10 != 0 {
        "instruction fetch"
    } else if err & 2 != 0 {
        "write"
    } else {
        "read"
    };
    if crate::mm::address_space::sigbus_at(addr) {
        return "access to a file mapping past the end of the file";
    }
    match (
        access,
        err & 1 != 0,
        crate::mm::address_space::area_at(addr).is_some(),
    ) {
        ("instruction fetch", true, _) => "instruction fetch from non-executable memory",
        (_, _, true) => match access {
            "write" => "write to protected memory",
            _ => "read of protected memory",
        },
        ("write", _, false) => "write to unmapped memory",
        ("instruction fetch", _, false) => "instruction fetch from unmapped memory",
        _ => "read of unmapped memory",
    }
}

/// A CPU exception nobody could resolve.
pub fn fatal_trap(frame: &TrapFrame, fault_addr: Option<u64>) -> ! {
    let in_program = frame.rip < USER_END;
    let what = exception_name(frame.vector);
    if in_program {
        let sig = match fault_addr {
            Some(a) if crate::mm::address_space::sigbus_at(a) => SIGBUS,
            _ => signal_for_vector(frame.vector),
        };
        match fault_addr {
            Some(a) => kprintln!(
                "rumprun: \"{}\" killed by {} ({}): {} at address {:#x}, {}",
                process::name(),
                signal_name(sig),
                what,
                describe_page_fault(a, frame.error_code),
                a,
                Addr(frame.rip)
            ),
            None => kprintln!(
                "rumprun: \"{}\" killed by {} ({}) at {}",
                process::name(),
                signal_name(sig),
                what,
                Addr(frame.rip)
            ),
        }
        dump_registers(frame);
        backtrace(frame.rip, frame.rsp, frame.rbp);
        process::killed(128 + sig)
    }
    match fault_addr {
        Some(a) => kprintln!(
            "rumprun: kernel fault: {} at address {:#x}, {}",
            what,
            a,
            Addr(frame.rip)
        ),
        None => kprintln!("rumprun: kernel fault: {} at {}", what, Addr(frame.rip)),
    }
    kprintln!("rumprun: while running \"{}\"", process::name());
    dump_registers(frame);
    backtrace(frame.rip, frame.rsp, frame.rbp);
    crate::platform::exit_after_fault(255)
}

/// A signal whose default action is to terminate was delivered (sent by process
/// `sender`, or by the kernel for the program's own timers and pipes). The line is
/// printed for programs the image started; a forked process ends silently, as on
/// Linux, and its parent sees the signal in its wait status.
pub fn killed_by_signal(sig: i32, sender: u32) -> ! {
    if process::is_from_rc() {
        if sender == 0 || sender == process::current().pid() {
            kprintln!(
                "rumprun: \"{}\" killed by {} (sent by itself)",
                process::name(),
                signal_name(sig)
            );
        } else {
            kprintln!(
                "rumprun: \"{}\" killed by {} (sent by process {})",
                process::name(),
                signal_name(sig),
                sender
            );
        }
    }
    process::killed(128 + sig)
}

/// A handler could not be entered (no room for the signal frame, no restorer) or
/// rt_sigreturn found a bad frame: Linux kills the program with SIGSEGV.
pub fn undeliverable(sig: i32, why: &str) -> ! {
    kprintln!(
        "rumprun: \"{}\" killed by SIGSEGV: cannot deliver {}: {}",
        process::name(),
        signal_name(sig),
        why
    );
    process::killed(128 + SIGSEGV)
}

/// A valid access that no memory is left to back.
pub fn out_of_memory(addr: u64) -> ! {
    let (free, total) = crate::mm::frames::stats();
    kprintln!(
        "rumprun: out of memory: \"{}\" touched {:#x} but all {} KiB are in use ({} KiB free); give the VM more memory (rumprun -M)",
        process::name(),
        addr,
        total * 4,
        free * 4
    );
    if !process::is_from_rc() {
        // A forked process (a copy-on-write fault, say): it alone is killed, and its
        // parent sees SIGKILL in its wait status.
        process::killed(128 + SIGKILL)
    }
    crate::platform::exit_after_fault(128 + SIGKILL)
}

/// The start of a panic message, kept without allocating.
struct MessageHead {
    buf: [u8; 64],
    len: usize,
}

impl core::fmt::Write for MessageHead {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let n = s.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// The size in Rust's allocation-failure panic ("memory allocation of N bytes failed").
fn failed_allocation(info: &core::panic::PanicInfo) -> Option<usize> {
    use core::fmt::Write;
    let mut head = MessageHead {
        buf: [0; 64],
        len: 0,
    };
    let _ = write!(head, "{}", info.message());
    let text = core::str::from_utf8(&head.buf[..head.len]).ok()?;
    let rest = text.strip_prefix("memory allocation of ")?;
    rest.split(' ').next()?.parse().ok()
}

/// A panic; when the kernel heap could not grow (Rust's allocation failure panics),
/// it is reported as running out of memory (137), naming what was being loaded.
pub fn kernel_panic(info: &core::panic::PanicInfo) -> ! {
    if let Some(bytes) = failed_allocation(info) {
        // Nothing here may allocate: the heap is full.
        let (free, total) = crate::mm::frames::stats();
        match crate::fs::loading_estimate() {
            Some(_) => crate::fs::out_of_memory_loading(),
            None => kprintln!(
                "rumprun: out of memory in the kernel (running \"{}\": {} bytes for the kernel heap, {} of {} KiB free); give the VM more memory (rumprun -M)",
                process::name(),
                bytes,
                free * 4,
                total * 4
            ),
        }
        crate::platform::exit_after_fault(128 + SIGKILL)
    }
    kprintln!("rumprun: kernel panic: {}", info);
    crate::platform::exit_after_fault(255)
}
