//! Small helpers with no better home: decimal formatting without `fmt`, C strings.

/// Writes `v` in decimal into `buf` and returns the digits.
pub fn format_decimal(buf: &mut [u8; 16], v: i64) -> &[u8] {
    let mut n = v.unsigned_abs();
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        i -= 1;
        buf[i] = b'-';
    }
    &buf[i..]
}
