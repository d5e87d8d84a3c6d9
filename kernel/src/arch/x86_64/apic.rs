//! The local APIC: its timer, in one-shot mode, and inter-processor interrupts.
//! Sleeping code arms it for its deadline and halts; the interrupt (vector
//! `TIMER_VECTOR`, on an IST stack) just wakes the CPU.
//!
//! Its registers are reached as x2APIC MSRs when the CPU has x2APIC (CPUID.1:ECX
//! bit 21: Xen's HVM and PVH guests, KVM), else through the direct map at the APIC's
//! physical base (xAPIC: QEMU 7.2's TCG has no x2APIC). With a hypervisor both are
//! traps, but an MMIO access must be decoded and emulated by the hypervisor, an MSR
//! access need not be: on the Xen test host (Xen nested under QEMU's TCG) a guest
//! vCPU now and then triple-faulted, or stopped making progress, right after an
//! xAPIC register write (the timer's initial count, the end of interrupt), which no
//! guest code explains; the x2APIC interface leaves Xen's instruction emulator out.

use super::cpu::{self, rdmsr, wrmsr};
use super::paging::phys_to_virt;
use super::percpu::MAX_CPUS;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use spin::Once;

pub const TIMER_VECTOR: u8 = 0x20;
/// Inter-processor interrupts: flush this CPU's TLB (smp::shootdown), and look at the
/// run queue (a thread became runnable).
pub const TLB_VECTOR: u8 = 0xf0;
pub const RESCHEDULE_VECTOR: u8 = 0xf1;
/// Ends the halt of a CPU waiting for the big kernel lock: its turn has come.
pub const LOCK_WAKE_VECTOR: u8 = 0xf2;
/// The spurious-interrupt vector.
pub const SPURIOUS_VECTOR: u8 = 0xff;

const MSR_APIC_BASE: u32 = 0x1b;
/// IA32_APIC_BASE: the APIC is enabled; x2APIC mode (only from xAPIC mode).
const APIC_BASE_ENABLE: u64 = 1 << 11;
const APIC_BASE_X2APIC: u64 = 1 << 10;
/// The first x2APIC register MSR: xAPIC register offset `o` is MSR `X2APIC_MSR + o / 16`.
const X2APIC_MSR: u32 = 0x800;
const REG_ID: usize = 0x20;
const REG_EOI: usize = 0xb0;
const REG_ICR_LOW: usize = 0x300;
const REG_ICR_HIGH: usize = 0x310;
const ICR_PENDING: u32 = 1 << 12;
const REG_SPURIOUS: usize = 0xf0;
const REG_LVT_TIMER: usize = 0x320;
const REG_TIMER_INITIAL: usize = 0x380;
const REG_TIMER_CURRENT: usize = 0x390;
const REG_TIMER_DIVIDE: usize = 0x3e0;
const LVT_MASKED: u32 = 1 << 16;

/// APIC timer ticks per second (after the divider), measured against the TSC.
static TICKS_PER_SEC: Once<u64> = Once::new();

/// How every CPU's APIC registers are reached (chosen by the boot CPU; set once the
/// APIC is enabled: unset, there is no usable APIC).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// xAPIC: the register page at this address in the direct map.
    Mmio(u64),
    /// x2APIC: MSRs.
    X2Apic,
}

static MODE: Once<Mode> = Once::new();

fn usable() -> bool {
    MODE.get().is_some()
}

fn read(offset: usize) -> u32 {
    match MODE.get() {
        Some(Mode::X2Apic) => rdmsr(X2APIC_MSR + (offset >> 4) as u32) as u32,
        // SAFETY: `base` is the local APIC's register page in the direct map (the boot
        // direct map covers the first 4 GiB, where the APIC sits) and every offset used
        // here is a register inside that 4 KiB page.
        Some(&Mode::Mmio(base)) => unsafe {
            ((base as usize + offset) as *const u32).read_volatile()
        },
        None => 0,
    }
}

fn write(offset: usize, v: u32) {
    match MODE.get() {
        Some(Mode::X2Apic) => wrmsr(X2APIC_MSR + (offset >> 4) as u32, u64::from(v)),
        // SAFETY: as for `read`: an aligned 32-bit register inside the mapped APIC page.
        Some(&Mode::Mmio(base)) => unsafe {
            ((base as usize + offset) as *mut u32).write_volatile(v)
        },
        None => {}
    }
}

/// True when the CPU has a local APIC.
pub fn present() -> bool {
    cpu::cpuid(1, 0).edx & (1 << 9) != 0
}

/// Enables the APIC with the timer masked; the PIC (if any) stays masked.
pub fn init() {
    if !present() {
        return;
    }
    // Mask the legacy 8259 PICs so only the APIC delivers interrupts.
    cpu::outb(0x21, 0xff);
    cpu::outb(0xa1, 0xff);
    let base_msr = rdmsr(MSR_APIC_BASE);
    // The boot CPU chooses (x2APIC when the CPU has it, or when something before us
    // turned it on, which cannot be undone without disabling the APIC); the
    // application processors follow.
    let mode = *MODE.call_once(|| {
        if base_msr & APIC_BASE_X2APIC != 0 || cpu::cpuid(1, 0).ecx & (1 << 21) != 0 {
            Mode::X2Apic
        } else {
            Mode::Mmio(phys_to_virt(base_msr & 0xf_ffff_f000) as u64)
        }
    });
    // x2APIC mode is entered from xAPIC mode (enabled), never straight from disabled.
    let xapic = (base_msr | APIC_BASE_ENABLE) & !APIC_BASE_X2APIC;
    if base_msr & APIC_BASE_X2APIC == 0 {
        wrmsr(MSR_APIC_BASE, xapic);
    }
    if mode == Mode::X2Apic {
        wrmsr(MSR_APIC_BASE, xapic | APIC_BASE_X2APIC);
    }
    write(REG_SPURIOUS, (1 << 8) | SPURIOUS_VECTOR as u32);
    write(REG_TIMER_DIVIDE, 0x3); // divide by 16
    write(REG_LVT_TIMER, LVT_MASKED | TIMER_VECTOR as u32);
    forget_timer_state();
}

/// This CPU's LVT entry was just masked (or its timer stopped): the next arm writes both.
fn forget_timer_state() {
    let me = super::percpu::cpu_id() as usize;
    LVT_ARMED[me].store(false, Ordering::Relaxed);
    ARMED_AT[me].store(0, Ordering::Relaxed);
}

/// Measures the timer's rate against `tsc_hz` (runs once, ~1 ms).
fn ticks_per_sec(tsc_hz: u64) -> u64 {
    *TICKS_PER_SEC.call_once(|| {
        write(REG_LVT_TIMER, LVT_MASKED | TIMER_VECTOR as u32);
        write(REG_TIMER_INITIAL, u32::MAX);
        let t0 = cpu::rdtsc();
        let wait = tsc_hz / 1000;
        while cpu::rdtsc() - t0 < wait {
            cpu::pause();
        }
        let elapsed_ticks = u32::MAX - read(REG_TIMER_CURRENT);
        let elapsed_tsc = cpu::rdtsc() - t0;
        write(REG_TIMER_INITIAL, 0);
        forget_timer_state();
        (elapsed_ticks as u128 * tsc_hz as u128 / elapsed_tsc.max(1) as u128) as u64
    })
}

/// Arms a one-shot interrupt `ns` from now. False when there is no usable APIC.
fn arm_oneshot(ns: u64, tsc_hz: u64) -> bool {
    if !usable() {
        return false;
    }
    let rate = ticks_per_sec(tsc_hz);
    if rate == 0 {
        return false;
    }
    let me = super::percpu::cpu_id() as usize;
    let ticks = (ns as u128 * rate as u128 / 1_000_000_000).clamp(1, u32::MAX as u128) as u32;
    // The LVT entry (one-shot, our vector, unmasked) needs writing once per CPU: each
    // register write is a trap to the hypervisor (under TCG, QEMU re-arms its own
    // timer for it), and this runs several times per request served.
    if !LVT_ARMED[me].swap(true, Ordering::Relaxed) {
        write(REG_LVT_TIMER, TIMER_VECTOR as u32);
    }
    write(REG_TIMER_INITIAL, ticks);
    true
}

/// Arms this CPU's one-shot interrupt for the monotonic time `at` (ns; `now` is the
/// time now), unless it is armed already, has not fired, and fires at `at` or
/// before (`keeps`): the scheduler re-computes its next deadline at every switch,
/// wake and timeout change, and the deadline mostly did not move, or moved later (a
/// re-arm is a trap to the hypervisor). Fires at least `min_ns` from
/// now. False when there is no usable APIC.
///
/// A timer kept that way fires early; the code it wakes finds nothing due and arms
/// the timer again for what is left (the scheduler's loop, the timer interrupt's
/// handler: the only places a timer interrupt is taken).
pub fn arm_at(at: u64, now: u64, min_ns: u64, tsc_hz: u64) -> bool {
    let me = super::percpu::cpu_id() as usize;
    if usable() && keeps(ARMED_AT[me].load(Ordering::Relaxed), at, now) {
        return true;
    }
    let armed = arm_oneshot(at.saturating_sub(now).max(min_ns), tsc_hz);
    ARMED_AT[me].store(if armed { at } else { 0 }, Ordering::Relaxed);
    armed
}

/// True when a timer armed for `armed` (0: none, or fired) may stay for deadline
/// `at`: it fires no later. As Linux's high-resolution timers, the timer is moved
/// only when the next deadline comes before the armed one: after a wake-up the
/// deadline that ended the wait is gone and the next one is often far off (seen
/// with redis: ~9 s), but the woken thread waits again within microseconds with a
/// deadline near the old one (its `epoll_wait` counted down to its own next timer,
/// ~100 ms away): re-armed for the far one, that was two writes per request. A timer
/// left armed early costs one interrupt when it fires instead.
fn keeps(armed: u64, at: u64, now: u64) -> bool {
    armed > now && armed <= at
}

/// The timer interrupt came: whatever was armed on this CPU has fired.
pub fn timer_fired() {
    ARMED_AT[super::percpu::cpu_id() as usize].store(0, Ordering::Relaxed);
}

/// Per CPU: the LVT timer entry is set for one-shot interrupts on `TIMER_VECTOR`.
static LVT_ARMED: [AtomicBool; MAX_CPUS] = [const { AtomicBool::new(false) }; MAX_CPUS];
/// Per CPU: the monotonic time (ns) its timer is armed for and has not fired yet; 0
/// when none (or unknown).
static ARMED_AT: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];

pub fn eoi() {
    write(REG_EOI, 0);
}

/// This CPU's local APIC id.
pub fn id() -> u32 {
    match MODE.get() {
        // The x2APIC id is the whole register.
        Some(Mode::X2Apic) => read(REG_ID),
        _ => read(REG_ID) >> 24,
    }
}

/// Writes the interrupt command register (xAPIC: and waits until the APIC has sent
/// it; an x2APIC has no such wait, its ICR is one 64-bit MSR write).
fn command(apic_id: u32, low: u32) {
    match MODE.get() {
        Some(Mode::X2Apic) => {
            // A WRMSR to an x2APIC register is not serializing: without a fence the IPI
            // can reach the other CPU before this CPU's earlier stores (the work it is
            // told about) are visible there (Intel SDM 11.12.3; Linux's weak_wrmsr_fence).
            // SAFETY: fences only order this CPU's memory accesses.
            unsafe { core::arch::asm!("mfence", "lfence", options(nostack, preserves_flags)) };
            wrmsr(
                X2APIC_MSR + (REG_ICR_LOW >> 4) as u32,
                u64::from(apic_id) << 32 | u64::from(low),
            )
        }
        Some(Mode::Mmio(_)) => {
            write(REG_ICR_HIGH, apic_id << 24);
            write(REG_ICR_LOW, low);
            while read(REG_ICR_LOW) & ICR_PENDING != 0 {
                cpu::pause();
            }
        }
        None => {}
    }
}

/// Sends interrupt `vector` (fixed delivery) to the CPU with APIC id `apic_id`.
pub fn send_ipi(apic_id: u32, vector: u8) {
    command(apic_id, vector as u32);
}

/// INIT (assert, level) to an application processor: it resets and waits for a SIPI.
pub fn send_init(apic_id: u32) {
    command(apic_id, 0x0000_4500);
}

/// Startup IPI: the processor starts in real mode at `page` * 4 KiB.
pub fn send_startup(apic_id: u32, page: u8) {
    command(apic_id, 0x0000_4600 | page as u32);
}
