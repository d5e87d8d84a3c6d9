//! Reads and writes of the program's buffers through kernel bounce buffers, in turns
//! of at most `MAX_BOUNCE` bytes, bounded in time: the machinery behind read, write,
//! send and recv and their vectored forms. The single accesses (typed pointers,
//! strings, EFAULT) are `mm::user`'s.

use crate::errno::{Errno, EFAULT};
use crate::mm::user as mu;
use alloc::vec::Vec;

/// A kernel buffer for data on its way to or from the program: on the stack for small
/// transfers, on the heap beyond that. At most `MAX_BOUNCE` bytes per syscall turn;
/// longer transfers go in turns (see io::read).
// The small variant's size is the point: it lives on the syscall's stack, where
// boxing it would be the heap allocation it saves.
#[allow(clippy::large_enum_variant)]
pub enum Bounce {
    /// Its first `len` bytes (only those are zeroed).
    Small([u8; SMALL], usize),
    Big(Vec<u8>),
}

const SMALL: usize = 512;
/// The most one turn of a read or write moves through the kernel.
pub const MAX_BOUNCE: usize = 1 << 20;

impl Bounce {
    /// A zeroed buffer of `len.min(MAX_BOUNCE)` bytes, or fewer when the kernel heap
    /// cannot grow that much (memory is nearly all used): a transfer then goes in
    /// shorter turns (or ends short, which read and write may), never failing.
    pub fn new(len: usize) -> Self {
        let mut len = len.min(MAX_BOUNCE);
        while len > SMALL {
            let mut big = Vec::new();
            if big.try_reserve_exact(len).is_ok() {
                big.resize(len, 0);
                return Bounce::Big(big);
            }
            len = (len / 2).max(SMALL);
        }
        Bounce::Small([0; SMALL], len)
    }

    pub fn capacity(&self) -> usize {
        match self {
            Bounce::Small(_, len) => *len,
            Bounce::Big(big) => big.len(),
        }
    }

    /// The first `n` bytes (at most all of them).
    pub fn prefix(&self, n: usize) -> &[u8] {
        let all = match self {
            Bounce::Small(small, len) => &small[..*len],
            Bounce::Big(big) => &big[..],
        };
        &all[..n.min(all.len())]
    }

    pub fn buf(&mut self) -> &mut [u8] {
        match self {
            Bounce::Small(small, len) => &mut small[..*len],
            Bounce::Big(big) => &mut big[..],
        }
    }
}

/// How much of a `len`-byte read of `f` needs a kernel buffer: no more than the bytes
/// a stream has waiting, when it knows (`FileOps::ready_to_read`; a stream read
/// returns what is there). The buffer is zeroed before the read: redis reads each
/// 73-byte request into a 16 KiB buffer, and zeroing that took 9% of the
/// instructions the guest ran per request.
pub fn read_len(f: &crate::fd::OpenFile, len: usize) -> usize {
    match f.ops.ready_to_read() {
        Some(n) if n > 0 && f.ops.is_stream() => len.min(n),
        _ => len,
    }
}

/// A zeroed kernel buffer of `want` bytes, or of fewer (halving, down to `floor`) when
/// the kernel heap cannot grow that much: callers whose transfer may be short (a
/// vectored read or write, a stream receive) then move less. ENOMEM when not even
/// `floor.min(want)` bytes can be had. The program chooses `want`: an infallible
/// allocation of it once ended the VM.
pub fn buffer(want: usize, floor: usize) -> Result<Vec<u8>, Errno> {
    let floor = floor.min(want);
    let mut len = want;
    loop {
        let mut v = Vec::new();
        if v.try_reserve_exact(len).is_ok() {
            v.resize(len, 0);
            return Ok(v);
        }
        if len == floor {
            return Err(crate::errno::ENOMEM);
        }
        len = (len / 2).max(floor);
    }
}

/// The most time one read or write spends on turns after its first (the kernel runs
/// with interrupts off: a transfer of a gigabyte from /dev/zero ends short instead of
/// holding the CPU for seconds; the program calls again, as for any short count).
const SLICE_NS: u64 = 20_000_000;

/// Whether the turns since the first took longer than SLICE_NS (`start` is set at the
/// end of the first turn: a one-turn transfer never reads the clock).
fn slice_over(start: &mut Option<u64>) -> bool {
    let now = crate::time::monotonic_ns();
    let since = *start.get_or_insert(now);
    now - since > SLICE_NS
}

/// A read into the program's `len` bytes at `ptr`, through kernel buffers: `op(buf,
/// turn)` fills `buf` and says how much it filled. Turn 0 may block; longer transfers
/// than `MAX_BOUNCE` take more turns, which must not block (they end the transfer at
/// EAGAIN or any error, with what was read so far), and end at the first short turn.
/// A buffer whose end cannot be written is read into only up to there (Linux's
/// partial result: the data past it stays where it was); the result is the number
/// of bytes read, or EFAULT when not even the first byte can be written.
pub fn read_through(
    ptr: u64,
    len: usize,
    mut op: impl FnMut(&mut [u8], usize) -> Result<usize, Errno>,
) -> Result<usize, Errno> {
    let writable = mu::writable_prefix(ptr, len);
    if writable == 0 && len > 0 {
        return Err(EFAULT);
    }
    let len = writable.min(len);
    let mut bounce = Bounce::new(len);
    let mut total = 0;
    let mut turn = 0;
    let mut start = None;
    loop {
        let want = (len - total).min(bounce.capacity());
        let buf = &mut bounce.buf()[..want];
        let n = match op(buf, turn) {
            Ok(n) => n.min(want),
            Err(e) if turn == 0 => return Err(e),
            Err(_) => return Ok(total),
        };
        let copied = mu::copy_out_partial(ptr + total as u64, &buf[..n]);
        total += copied;
        if copied < n {
            // The buffer went away under us (another thread unmapped it).
            return if total == 0 { Err(EFAULT) } else { Ok(total) };
        }
        turn += 1;
        if n < want || total == len || slice_over(&mut start) {
            return Ok(total);
        }
    }
}

/// How many turns of at most `MAX_BOUNCE` bytes a write longer than that takes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Turns {
    /// One (a datagram must not be split): a longer send is a partial one.
    One,
    /// As many as fit in the time slice (files, devices): then a short count.
    Bounded,
    /// All of them, each until written (a blocking write to a pipe or stream socket
    /// writes everything, as on Linux); a short turn (a signal) ends the write.
    All,
}

/// `Turns` for a write to `f`: all for a blocking stream, bounded otherwise.
pub fn turns_for(f: &crate::fd::OpenFile) -> Turns {
    if !f.nonblocking() && f.ops.is_stream() {
        Turns::All
    } else {
        Turns::Bounded
    }
}

/// A write from the program's `len` bytes at `ptr`, through kernel buffers: `op(buf,
/// turn)` consumes a prefix of `buf` and says how much. Turns as `turns` says, later
/// ones ending the write at an error with what was written so far; a buffer that
/// becomes unreadable part way is written up to that point (Linux's partial write),
/// EFAULT when not even its first byte can be read.
pub fn write_through(
    ptr: u64,
    len: usize,
    turns: Turns,
    mut op: impl FnMut(&[u8], usize) -> Result<usize, Errno>,
) -> Result<usize, Errno> {
    let mut bounce = Bounce::new(len);
    let mut total = 0;
    let mut turn = 0;
    let mut start = None;
    loop {
        let want = (len - total).min(bounce.capacity());
        let buf = &mut bounce.buf()[..want];
        let got = mu::copy_in_partial(buf, ptr.wrapping_add(total as u64));
        if got == 0 && want > 0 {
            return if total == 0 { Err(EFAULT) } else { Ok(total) };
        }
        let n = match op(&buf[..got], turn) {
            Ok(n) => n.min(got),
            Err(e) if turn == 0 => return Err(e),
            Err(_) => return Ok(total),
        };
        total += n;
        turn += 1;
        let stop = match turns {
            Turns::One => true,
            Turns::Bounded => slice_over(&mut start),
            Turns::All => false,
        };
        if n < want || total == len || stop {
            return Ok(total);
        }
    }
}
