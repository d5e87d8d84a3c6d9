//! Random bytes for getrandom and AT_RANDOM: RDRAND where the CPU has it, else a
//! xorshift generator seeded from the TSC (not cryptographic; said so in the docs).

use crate::arch::cpu;
use spin::Mutex;

static STATE: Mutex<u64> = Mutex::new(0);

fn next() -> u64 {
    if let Some(v) = cpu::rdrand() {
        return v;
    }
    let mut s = STATE.lock();
    if *s == 0 {
        *s = cpu::rdtsc() | 1;
    }
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    *s
}

pub fn fill(buf: &mut [u8]) {
    for chunk in buf.chunks_mut(8) {
        let v = next().to_le_bytes();
        chunk.copy_from_slice(&v[..chunk.len()]);
    }
}
