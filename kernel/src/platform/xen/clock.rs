//! Xen's PV clock: vCPU 0's `vcpu_time_info` in the shared info page gives Xen's system
//! time (ns since the domain started) as a scaled TSC, so the TSC rate comes from Xen
//! rather than a calibration loop; the wall clock is `wc_*` plus system time.

use super::shared_info::{self as si, VCPU0_TIME, WC_NSEC, WC_SEC, WC_SEC_HI, WC_VERSION};
use crate::arch::cpu;

/// One consistent reading of `vcpu_time_info`.
#[derive(Clone, Copy)]
struct TimeInfo {
    tsc_timestamp: u64,
    system_time: u64,
    mul: u32,
    shift: i8,
}

fn time_info() -> TimeInfo {
    loop {
        let v1 = si::read_u32(VCPU0_TIME);
        core::sync::atomic::fence(core::sync::atomic::Ordering::SeqCst);
        let mul_shift = si::read_u64(VCPU0_TIME + 24);
        let t = TimeInfo {
            tsc_timestamp: si::read_u64(VCPU0_TIME + 8),
            system_time: si::read_u64(VCPU0_TIME + 16),
            mul: mul_shift as u32,
            shift: (mul_shift >> 32) as u8 as i8,
        };
        core::sync::atomic::fence(core::sync::atomic::Ordering::SeqCst);
        if v1 & 1 == 0 && si::read_u32(VCPU0_TIME) == v1 {
            return t;
        }
    }
}

/// Xen system time now, in ns.
pub fn system_time_ns() -> u64 {
    let t = time_info();
    let delta = cpu::rdtsc().wrapping_sub(t.tsc_timestamp);
    let delta = if t.shift >= 0 {
        delta << t.shift
    } else {
        delta >> -t.shift
    };
    t.system_time + ((delta as u128 * t.mul as u128) >> 32) as u64
}

/// The TSC's rate as Xen computed it: ns = ((tsc << shift) * mul) >> 32.
pub fn tsc_hz() -> u64 {
    let t = time_info();
    let scaled = (1u128 << 32) * 1_000_000_000 / t.mul.max(1) as u128;
    let hz = if t.shift >= 0 {
        scaled >> t.shift
    } else {
        scaled << -t.shift
    };
    hz as u64
}

/// Nanoseconds since the Unix epoch: Xen's wall clock at system time 0, plus now.
pub fn realtime_ns() -> u64 {
    loop {
        let v = si::read_u32(WC_VERSION);
        let sec = (si::read_u32(WC_SEC_HI) as u64) << 32 | si::read_u32(WC_SEC) as u64;
        let nsec = si::read_u32(WC_NSEC) as u64;
        if v & 1 == 0 && si::read_u32(WC_VERSION) == v {
            return sec * 1_000_000_000 + nsec + system_time_ns();
        }
    }
}
