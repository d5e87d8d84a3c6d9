//! The idle poll: the CPU, with nothing to run, spins a short while with interrupts on
//! before it halts (`wait`). Under a hypervisor an interrupt for a halted vCPU first
//! has to wake the host thread that runs it, where a running vCPU takes it at once: a
//! server that answers one client at a time waits for that on every request. But the
//! spin takes a host CPU that others may need: on this project's 2-core test machine
//! (QEMU's TCG, the client on the same host) it made one-client redis slower, not
//! faster (docs/benchmarks-apps.md, "Session 13: the idle poll"). So, as Linux (whose
//! guest haltpoll is loaded only when KVM says the vCPU has a host CPU of its own), it
//! is on only with that hint (`cpu::host_dedicates_cpus`), or when asked:
//! `RUMPRUN_IDLE_POLL_US` sets the largest window (0: off). How long to spin, and how
//! that adapts so that an idle machine does not spin, is `rumprun_haltpoll::Window`.
//! One CPU only: with several, `arch::smp::idle_wait` polls for a kick instead.

use core::sync::atomic::{AtomicBool, Ordering};

use crate::arch::cpu;
use crate::sync::SpinLock;
use rumprun_haltpoll::{Window, DEFAULT_MAX_NS};

/// The window (only the one CPU that idles here uses it; the lock is never contended).
static WINDOW: SpinLock<Window> = SpinLock::new(Window::new(0));
/// Whether the window may open at all (its largest size is not 0): when it may not,
/// as by default, a halt reads this flag, not the lock.
static ON: AtomicBool = AtomicBool::new(false);

/// Sets the largest window: `us` microseconds when given (0 turns the poll off),
/// else the default (on only when the host dedicates CPUs). Returns it, in µs.
pub fn configure(us: Option<u64>) -> u64 {
    let ns = match us {
        Some(us) => us.saturating_mul(1000),
        None if cpu::host_dedicates_cpus() => DEFAULT_MAX_NS,
        None => 0,
    };
    *WINDOW.lock() = Window::new(ns);
    ON.store(ns > 0, Ordering::Relaxed);
    ns / 1000
}

/// Waits for the next interrupt (taken, its handler run): polls first, then halts.
pub fn wait() {
    if !ON.load(Ordering::Relaxed) {
        cpu::wait_for_interrupt();
        return;
    }
    let window = *WINDOW.lock();
    if window.max_ns == 0 {
        cpu::wait_for_interrupt();
        return;
    }
    if window.ns > 0 && cpu::poll_idle(window.ns * crate::time::tsc_hz() / 1_000_000_000) {
        return;
    }
    let t0 = cpu::rdtsc();
    cpu::wait_for_interrupt();
    let halted_ns = crate::time::tsc_ticks_to_ns(cpu::rdtsc().wrapping_sub(t0));
    WINDOW.lock().missed(halted_ns);
}
