//! The local APIC: its timer, in one-shot mode, and inter-processor interrupts.
//! Sleeping code arms it for its deadline and halts; the interrupt (vector
//! `TIMER_VECTOR`, on an IST stack) just wakes the CPU. The APIC is reached through the
//! direct map at its default physical base.

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
static BASE: Once<u64> = Once::new();

fn reg(offset: usize) -> *mut u32 {
    (BASE.get().copied().unwrap_or(0) as usize + offset) as *mut u32
}

fn read(offset: usize) -> u32 {
    // SAFETY: BASE is the local APIC's register page in the direct map (the boot direct map
    // covers the first 4 GiB, where the APIC sits); init sets it before any register is
    // used and every offset is a register inside that 4 KiB page.
    unsafe { reg(offset).read_volatile() }
}

fn write(offset: usize, v: u32) {
    // SAFETY: as for `read`: an aligned 32-bit register inside the mapped APIC page.
    unsafe { reg(offset).write_volatile(v) }
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
    wrmsr(MSR_APIC_BASE, base_msr | (1 << 11));
    BASE.call_once(|| phys_to_virt(base_msr & 0xf_ffff_f000) as u64);
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
    if BASE.get().is_none() {
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
/// time now), unless it is armed for `at` already and has not fired: the scheduler
/// re-computes its next deadline at every switch, wake and timeout change, and the
/// deadline mostly did not move (a re-arm is a trap to the hypervisor). Fires at
/// least `min_ns` from now. False when there is no usable APIC.
pub fn arm_at(at: u64, now: u64, min_ns: u64, tsc_hz: u64) -> bool {
    let me = super::percpu::cpu_id() as usize;
    if BASE.get().is_some() && ARMED_AT[me].load(Ordering::Relaxed) == at && at > now {
        return true;
    }
    let armed = arm_oneshot(at.saturating_sub(now).max(min_ns), tsc_hz);
    ARMED_AT[me].store(if armed { at } else { 0 }, Ordering::Relaxed);
    armed
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
    if BASE.get().is_some() {
        write(REG_EOI, 0);
    }
}

/// This CPU's local APIC id.
pub fn id() -> u32 {
    read(REG_ID) >> 24
}

/// Writes the interrupt command register and waits until the APIC has sent it.
fn command(apic_id: u32, low: u32) {
    if BASE.get().is_none() {
        return;
    }
    write(REG_ICR_HIGH, apic_id << 24);
    write(REG_ICR_LOW, low);
    while read(REG_ICR_LOW) & ICR_PENDING != 0 {
        cpu::pause();
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
