//! 16550 UART: COM1 is the console, COM2 carries the exit status to the launcher.

use crate::arch::cpu::{inb, outb, pause};

pub struct Uart {
    base: u16,
}

pub static COM1: Uart = Uart { base: 0x3f8 };
pub static COM2: Uart = Uart { base: 0x2f8 };

const LSR_DATA_READY: u8 = 1;
const LSR_THR_EMPTY: u8 = 1 << 5;

pub fn init() {
    for u in [&COM1, &COM2] {
        outb(u.base + 1, 0x00); // no interrupts
        outb(u.base + 3, 0x80); // DLAB
        outb(u.base, 0x01); // 115200 baud
        outb(u.base + 1, 0x00);
        outb(u.base + 3, 0x03); // 8N1
        outb(u.base + 2, 0xc7); // FIFO on
        outb(u.base + 4, 0x03); // DTR, RTS
    }
}

impl Uart {
    pub fn write(&self, bytes: &[u8]) {
        for &b in bytes {
            // A missing UART reads 0xff: THR "empty", so we never spin forever.
            let mut spins = 0;
            while inb(self.base + 5) & LSR_THR_EMPTY == 0 && spins < 100_000 {
                pause();
                spins += 1;
            }
            outb(self.base, b);
        }
    }

    pub fn has_input(&self) -> bool {
        let lsr = inb(self.base + 5);
        lsr != 0xff && lsr & LSR_DATA_READY != 0
    }

    pub fn try_read(&self, buf: &mut [u8]) -> usize {
        let mut n = 0;
        while n < buf.len() && self.has_input() {
            buf[n] = inb(self.base);
            n += 1;
        }
        n
    }
}
