//! Clocks: the TSC counts, calibrated once (lazily, on first use) against CPUID or the
//! PIT; the wall clock comes from the CMOS RTC at that moment. A platform with its own
//! clock (Xen's PV clock) gives both the TSC rate and the wall clock instead.

use crate::arch::cpu::{self, inb, outb};
use spin::Once;

struct Calibration {
    tsc_hz: u64,
    /// Nanoseconds per TSC tick, times 2^`NS_SHIFT` (`ticks_to_ns`).
    ns_mult: u64,
    /// TSC value at which the kernel started.
    tsc_boot: u64,
    /// Wall-clock nanoseconds since the epoch at `tsc_rtc`.
    rtc_ns: u64,
    tsc_rtc: u64,
}

static BOOT_TSC: Once<u64> = Once::new();
static CAL: Once<Calibration> = Once::new();

pub fn init() {
    BOOT_TSC.call_once(cpu::rdtsc);
}

fn tsc_hz_from_cpuid() -> Option<u64> {
    let max = cpu::cpuid(0, 0).eax;
    if max >= 0x15 {
        let l = cpu::cpuid(0x15, 0);
        if l.eax != 0 && l.ebx != 0 && l.ecx != 0 {
            return Some(l.ecx as u64 * l.ebx as u64 / l.eax as u64);
        }
    }
    let hv = cpu::cpuid(0x4000_0000, 0).eax;
    if (0x4000_0010..0x5000_0000).contains(&hv) {
        let khz = cpu::cpuid(0x4000_0010, 0).eax;
        if khz != 0 {
            return Some(khz as u64 * 1000);
        }
    }
    None
}

const PIT_HZ: u64 = 1_193_182;
const CALIBRATION_MS: u64 = 10;

/// Counts TSC ticks across 10 ms of the PIT: channel 2 gated through port 0x61 where
/// that port exists (pc, q35), else channel 0 read back by latching (microvm has a PIT
/// but no port 0x61, which then reads all ones).
fn tsc_hz_from_pit() -> u64 {
    let ticks = if inb(0x61) == 0xff {
        tsc_ticks_pit_channel0()
    } else {
        tsc_ticks_pit_channel2()
    };
    (ticks * 1000 / CALIBRATION_MS).max(1_000_000)
}

fn tsc_ticks_pit_channel2() -> u64 {
    let count = (PIT_HZ * CALIBRATION_MS / 1000) as u16;
    outb(0x61, (inb(0x61) & !0x02) | 0x01);
    outb(0x43, 0xb0);
    outb(0x42, count as u8);
    outb(0x42, (count >> 8) as u8);
    let t0 = cpu::rdtsc();
    let mut spins = 0u64;
    while inb(0x61) & 0x20 == 0 && spins < 50_000_000 {
        spins += 1;
    }
    cpu::rdtsc() - t0
}

fn tsc_ticks_pit_channel0() -> u64 {
    fn read_count() -> u16 {
        outb(0x43, 0x00); // latch channel 0
        let lo = inb(0x40) as u16;
        lo | (inb(0x40) as u16) << 8
    }
    let count = PIT_HZ * CALIBRATION_MS / 1000;
    outb(0x43, 0x30); // channel 0, low then high byte, mode 0 (count down once)
    outb(0x40, 0xff);
    outb(0x40, 0xff);
    let start = read_count();
    let t0 = cpu::rdtsc();
    let mut spins = 0u64;
    while (start.wrapping_sub(read_count()) as u64) < count && spins < 50_000_000 {
        spins += 1;
    }
    cpu::rdtsc() - t0
}

fn cmos(reg: u8) -> u8 {
    outb(0x70, reg);
    inb(0x71)
}

/// Seconds since the epoch from the CMOS RTC.
fn rtc_seconds() -> u64 {
    let mut spins = 0;
    while cmos(0x0a) & 0x80 != 0 && spins < 1_000_000 {
        spins += 1;
    }
    let status_b = cmos(0x0b);
    let bcd = status_b & 0x04 == 0;
    let conv = |v: u8| if bcd { (v & 0x0f) + (v >> 4) * 10 } else { v } as u64;
    let sec = conv(cmos(0x00));
    let min = conv(cmos(0x02));
    let hour_raw = cmos(0x04);
    let mut hour = conv(hour_raw & 0x7f);
    if status_b & 0x02 == 0 && hour_raw & 0x80 != 0 {
        hour = (hour % 12) + 12;
    }
    let day = conv(cmos(0x07));
    let month = conv(cmos(0x08));
    let year = 2000 + conv(cmos(0x09));
    days_from_civil(year as i64, month as i64, day as i64) as u64 * 86400
        + hour * 3600
        + min * 60
        + sec
}

/// Days since 1970-01-01 of a Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn cal() -> &'static Calibration {
    CAL.call_once(|| {
        let (tsc_hz, rtc_ns) = crate::platform::clock().unwrap_or_else(|| {
            let tsc_hz = tsc_hz_from_cpuid().unwrap_or_else(tsc_hz_from_pit);
            (tsc_hz, rtc_seconds() * 1_000_000_000)
        });
        Calibration {
            tsc_hz,
            ns_mult: ns_mult(tsc_hz),
            tsc_boot: *BOOT_TSC.get().unwrap_or(&0),
            rtc_ns,
            tsc_rtc: cpu::rdtsc(),
        }
    })
}

/// The TSC's rate in Hz.
pub fn tsc_hz() -> u64 {
    cal().tsc_hz
}

/// TSC ticks as nanoseconds (calibrates the clock on first use).
pub fn tsc_ticks_to_ns(ticks: u64) -> u64 {
    ticks_to_ns(ticks, cal().ns_mult)
}

/// `ns_mult`'s scale: 2^40 keeps the rate exact to a few parts in 10^12 at any TSC
/// rate from 1 MHz (the calibration's floor; the product then stays below 2^114).
const NS_SHIFT: u32 = 40;

fn ns_mult(hz: u64) -> u64 {
    ((1_000_000_000u128 << NS_SHIFT) / hz.max(1) as u128).min(u64::MAX as u128) as u64
}

/// A multiplication and a shift, not a 128-bit division: the clock is read many
/// times per request served (redis: 18; the division was a software routine).
fn ticks_to_ns(ticks: u64, ns_mult: u64) -> u64 {
    ((ticks as u128 * ns_mult as u128) >> NS_SHIFT) as u64
}

/// Nanoseconds since boot.
pub fn monotonic_ns() -> u64 {
    // Read the TSC before a first call calibrates it: that takes 10 ms, which is not
    // part of the time being asked for.
    let now = cpu::rdtsc();
    let c = cal();
    ticks_to_ns(now.saturating_sub(c.tsc_boot), c.ns_mult)
}

static BOOT_RTC_NS: Once<u64> = Once::new();

/// Wall-clock nanoseconds without forcing the TSC calibration: exact once the clock
/// is calibrated, before that the RTC's whole seconds (read once).
pub fn realtime_ns_cheap() -> u64 {
    match CAL.get() {
        Some(_) => realtime_ns(),
        None if crate::platform::clock().is_some() => realtime_ns(),
        None => *BOOT_RTC_NS.call_once(|| rtc_seconds() * 1_000_000_000),
    }
}

/// What clock_settime/settimeofday moved the wall clock by, in ns (0: the RTC's time).
static REALTIME_SHIFT: core::sync::atomic::AtomicI64 = core::sync::atomic::AtomicI64::new(0);

/// Nanoseconds since the Unix epoch.
pub fn realtime_ns() -> u64 {
    let c = cal();
    let rtc = c.rtc_ns + ticks_to_ns(cpu::rdtsc().saturating_sub(c.tsc_rtc), c.ns_mult);
    rtc.saturating_add_signed(REALTIME_SHIFT.load(core::sync::atomic::Ordering::Relaxed))
}

/// Sets the wall clock (CLOCK_REALTIME) to `ns` since the epoch; the monotonic clocks
/// do not move.
pub fn set_realtime_ns(ns: u64) {
    use core::sync::atomic::Ordering;
    let shift = REALTIME_SHIFT.load(Ordering::Relaxed);
    let rtc = realtime_ns().saturating_add_signed(shift.saturating_neg());
    REALTIME_SHIFT.store((ns as i64).saturating_sub(rtc as i64), Ordering::Relaxed);
}
