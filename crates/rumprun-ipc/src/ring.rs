//! [`ByteRing`]: a bounded FIFO of bytes.

use alloc::collections::VecDeque;

/// A bounded FIFO of bytes. Writes of up to `atomic` bytes (PIPE_BUF for pipes) go in
/// whole or not at all; larger ones take what fits.
#[derive(Debug, Default)]
pub struct ByteRing {
    buf: VecDeque<u8>,
    capacity: usize,
}

impl ByteRing {
    /// An empty ring holding at most `capacity` bytes.
    pub fn new(capacity: usize) -> ByteRing {
        ByteRing {
            buf: VecDeque::new(),
            capacity,
        }
    }

    /// Bytes queued.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The most bytes the ring holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Changes the bound; bytes already queued beyond it stay.
    pub fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity;
    }

    /// Free space.
    pub fn room(&self) -> usize {
        self.capacity.saturating_sub(self.buf.len())
    }

    /// Appends what fits of `data`: `None` when nothing may go in now (full, or a
    /// write of at most `atomic` bytes that does not fit whole, or no memory left to
    /// hold the bytes), else the count taken. An empty write takes nothing and
    /// succeeds.
    pub fn push(&mut self, data: &[u8], atomic: usize) -> Option<usize> {
        if data.is_empty() {
            return Some(0);
        }
        let room = self.room();
        if room == 0 || (data.len() <= atomic && room < data.len()) {
            return None;
        }
        let n = room.min(data.len());
        self.buf.try_reserve(n).ok()?;
        self.buf.extend(&data[..n]);
        Some(n)
    }

    /// Moves up to `out.len()` bytes out; returns the count.
    pub fn pop(&mut self, out: &mut [u8]) -> usize {
        let n = self.peek(out);
        self.buf.drain(..n);
        n
    }

    /// Copies up to `out.len()` bytes without consuming them; returns the count.
    pub fn peek(&self, out: &mut [u8]) -> usize {
        let n = out.len().min(self.buf.len());
        let (a, b) = self.buf.as_slices();
        let from_a = n.min(a.len());
        out[..from_a].copy_from_slice(&a[..from_a]);
        out[from_a..n].copy_from_slice(&b[..n - from_a]);
        n
    }

    /// Drops everything queued.
    pub fn clear(&mut self) {
        self.buf.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_order_and_counts() {
        let mut r = ByteRing::new(8);
        assert_eq!(r.push(b"abc", 0), Some(3));
        assert_eq!(r.push(b"defgh", 0), Some(5));
        assert_eq!(r.room(), 0);
        assert_eq!(r.push(b"x", 0), None);
        let mut out = [0u8; 4];
        assert_eq!(r.peek(&mut out), 4);
        assert_eq!(&out, b"abcd");
        assert_eq!(r.pop(&mut out), 4);
        assert_eq!(&out, b"abcd");
        // wrap around the deque's end
        assert_eq!(r.push(b"ijkl", 0), Some(4));
        let mut all = [0u8; 16];
        assert_eq!(r.pop(&mut all), 8);
        assert_eq!(&all[..8], b"efghijkl");
        assert!(r.is_empty());
    }

    #[test]
    fn small_writes_are_atomic_large_ones_partial() {
        let mut r = ByteRing::new(10);
        assert_eq!(r.push(b"1234567", 4), Some(7));
        // 4 bytes with atomic 4 and 3 bytes of room: all or nothing
        assert_eq!(r.push(b"abcd", 4), None);
        // 5 bytes is above the atomic size: takes what fits
        assert_eq!(r.push(b"abcde", 4), Some(3));
        assert_eq!(r.len(), 10);
    }

    #[test]
    fn empty_write_succeeds_even_when_full() {
        let mut r = ByteRing::new(1);
        assert_eq!(r.push(b"x", 0), Some(1));
        assert_eq!(r.push(b"", 0), Some(0));
    }

    #[test]
    fn capacity_can_shrink_below_contents() {
        let mut r = ByteRing::new(8);
        r.push(b"12345678", 0);
        r.set_capacity(4);
        assert_eq!(r.room(), 0);
        assert_eq!(r.len(), 8);
        r.clear();
        assert_eq!(r.room(), 4);
    }
}
