//! `poll(2)` event bits (also what `epoll` reports, as `u32`).

use linux_raw_sys::general as g;

/// There is data to read.
pub const POLLIN: u32 = g::POLLIN;
/// Writing will not block.
pub const POLLOUT: u32 = g::POLLOUT;
/// An error is pending.
pub const POLLERR: u32 = g::POLLERR;
/// Hung up.
pub const POLLHUP: u32 = g::POLLHUP;
/// The peer closed its writing half.
pub const POLLRDHUP: u32 = g::POLLRDHUP;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_match_linux() {
        assert_eq!(
            (POLLIN, POLLOUT, POLLERR, POLLHUP, POLLRDHUP),
            (1, 4, 8, 0x10, 0x2000)
        );
    }
}
