//! What the crates' model and property tests share: [`Rng`], a small deterministic
//! random-number generator (xorshift64*), so that a test needs no dependency and
//! checks the same cases on every run. A crate's own helpers for drawing its values
//! (ranges, signals, paths) stay in its tests, as functions taking `&mut Rng`.

/// xorshift64* (Vigna): `Rng(seed)` with any nonzero seed.
#[derive(Clone, Debug)]
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    // Not an Iterator: the sequence never ends, and `rng.next()` reads better than
    // `rng.next().unwrap()` in the tests.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// An index in `0..n` (`n` > 0).
    pub fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    /// `n` random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| (self.next() >> 32) as u8).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sequence_is_xorshift64_star_and_stays_below_its_bound() {
        let mut r = Rng(1);
        // xorshift64* from 1: the state after one step is 0x2000001, then scrambled.
        assert_eq!(r.next(), 0x2000001u64.wrapping_mul(0x2545_f491_4f6c_dd1d));
        let mut a = Rng(42);
        let mut b = Rng(42);
        for _ in 0..1000 {
            assert_eq!(a.next(), b.next());
            assert!(a.below(7) < 7 && b.below(7) < 7);
            assert!(a.index(3) < 3 && b.index(3) < 3);
            assert_eq!(a.bytes(5), b.bytes(5));
        }
    }
}
