//! The idle poll: the CPU, with nothing to run, spins a short while with interrupts on
//! before it halts (`wait`). Under a hypervisor an interrupt for a halted vCPU first
//! has to wake the host thread that runs it (26-31 µs measured under QEMU's TCG,
//! docs/benchmarks-apps.md), where a running vCPU takes it at once: a server that
//! answers one client at a time would wait that long on every request. Linux does
//! the same in KVM guests (its haltpoll cpuidle governor). How long to spin, and how
//! that adapts so that an idle machine does not spin, is `rumprun_haltpoll::Window`.
//! `RUMPRUN_IDLE_POLL_US` sets the maximum (0: never poll). One CPU only: with
//! several, `arch::smp::idle_wait` polls for a kick from another CPU instead.

use crate::arch::cpu;
use crate::sync::SpinLock;
use rumprun_haltpoll::{Window, DEFAULT_MAX_NS};

/// The window (only the one CPU that idles here uses it; the lock is never contended).
static WINDOW: SpinLock<Window> = SpinLock::new(Window::new(DEFAULT_MAX_NS));

/// Sets the largest window, in microseconds (0 turns the poll off).
pub fn set_max_us(us: u64) {
    *WINDOW.lock() = Window::new(us.saturating_mul(1000));
}

/// Waits for the next interrupt (taken, its handler run): polls first, then halts.
pub fn wait() {
    let window = *WINDOW.lock();
    if window.ns > 0 && cpu::poll_idle(window.ns * crate::time::tsc_hz() / 1_000_000_000) {
        return;
    }
    let t0 = cpu::rdtsc();
    cpu::wait_for_interrupt();
    let halted_ns = crate::time::tsc_ticks_to_ns(cpu::rdtsc().wrapping_sub(t0));
    WINDOW.lock().missed(halted_ns);
}
