//! ISO 9660 timestamps as Unix time: the 7-byte "recording date and time" of directory
//! records (ECMA-119 9.1.5) and the 17-byte digit form of volume descriptors and of Rock
//! Ridge `TF` entries in long form (8.4.26.1). Both carry an offset from GMT in 15-minute
//! units, which is subtracted to get UTC.

use rumprun_vfs::Timespec;

/// Days from 1970-01-01 to `y-m-d` (proleptic Gregorian; Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn to_unix(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32, gmtoff: i8) -> i64 {
    // Out-of-range fields are clamped rather than rejected: a bad date must not make a
    // file unreadable.
    let mo = mo.clamp(1, 12);
    let d = d.clamp(1, 31);
    days_from_civil(y, mo, d) * 86_400
        + h.min(23) as i64 * 3600
        + mi.min(59) as i64 * 60
        + s.min(60) as i64
        - gmtoff as i64 * 15 * 60
}

/// The 7-byte form: years since 1900, month, day, hour, minute, second, GMT offset.
/// All zero means "not specified" (the epoch).
pub fn from_7byte(b: &[u8]) -> Timespec {
    if b.len() < 7 || b[..6].iter().all(|&x| x == 0) {
        return Timespec::ZERO;
    }
    let sec = to_unix(
        1900 + b[0] as i64,
        b[1] as u32,
        b[2] as u32,
        b[3] as u32,
        b[4] as u32,
        b[5] as u32,
        b[6] as i8,
    );
    Timespec { sec, nsec: 0 }
}

fn digits(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u32;
    }
    Some(v)
}

/// The 17-byte form: `YYYYMMDDHHMMSScc` in ASCII digits (cc = hundredths) and the GMT
/// offset byte. All zero digits (or garbage) means "not specified" (the epoch).
pub fn from_17byte(b: &[u8]) -> Timespec {
    if b.len() < 17 {
        return Timespec::ZERO;
    }
    let f = |r: core::ops::Range<usize>| digits(&b[r]);
    let (Some(y), Some(mo), Some(d), Some(h), Some(mi), Some(s), Some(cs)) = (
        f(0..4),
        f(4..6),
        f(6..8),
        f(8..10),
        f(10..12),
        f(12..14),
        f(14..16),
    ) else {
        return Timespec::ZERO;
    };
    if y == 0 && mo == 0 && d == 0 {
        return Timespec::ZERO;
    }
    Timespec {
        sec: to_unix(y as i64, mo, d, h, mi, s, b[16] as i8),
        nsec: cs.min(99) * 10_000_000,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seven_byte() {
        // 2000-03-01 12:34:56 at GMT+1 (4 quarter hours) = 11:34:56 UTC.
        let t = from_7byte(&[100, 3, 1, 12, 34, 56, 4]);
        assert_eq!(t.sec, 951_910_496);
        assert_eq!(from_7byte(&[0; 7]), Timespec::ZERO);
        assert_eq!(from_7byte(&[70, 1, 1, 0, 0, 0, 0]).sec, 0);
        // Negative offset: 1970-01-01 00:00 at GMT-5 is 05:00 UTC.
        assert_eq!(
            from_7byte(&[70, 1, 1, 0, 0, 0, (-20i8) as u8]).sec,
            5 * 3600
        );
    }

    #[test]
    fn seventeen_byte() {
        let mut b = *b"2024022912000050\0";
        b[16] = 0;
        let t = from_17byte(&b);
        assert_eq!(t.sec, 1_709_208_000);
        assert_eq!(t.nsec, 500_000_000);
        assert_eq!(from_17byte(b"0000000000000000\0"), Timespec::ZERO);
    }
}
