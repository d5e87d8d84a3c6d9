//! [`StreamQueue`]: the receive buffer of a stream socket.

use crate::ByteRing;
use alloc::collections::VecDeque;

/// An attachment and the stream positions of the bytes it was sent with.
#[derive(Debug)]
struct Attached<R> {
    start: u64,
    end: u64,
    item: R,
}

/// A bounded byte stream whose sends may carry an attachment (the files of an
/// SCM_RIGHTS message). As on Linux, a read that reaches the first byte of a send
/// with an attachment takes the attachment and stops at the end of that send, so two
/// attachments never arrive in one read and their bytes are not merged with later ones.
#[derive(Debug)]
pub struct StreamQueue<R> {
    ring: ByteRing,
    attached: VecDeque<Attached<R>>,
    /// Stream positions of the next byte read and the next byte written.
    read_pos: u64,
    write_pos: u64,
}

impl<R> StreamQueue<R> {
    /// An empty stream buffering at most `capacity` bytes.
    pub fn new(capacity: usize) -> StreamQueue<R> {
        StreamQueue {
            ring: ByteRing::new(capacity),
            attached: VecDeque::new(),
            read_pos: 0,
            write_pos: 0,
        }
    }

    /// Bytes queued.
    pub fn len(&self) -> usize {
        self.ring.len()
    }

    /// True when no byte is queued.
    pub fn is_empty(&self) -> bool {
        self.ring.is_empty()
    }

    /// Free space.
    pub fn room(&self) -> usize {
        self.ring.room()
    }

    /// The bound in bytes.
    pub fn capacity(&self) -> usize {
        self.ring.capacity()
    }

    /// Changes the bound (SO_RCVBUF).
    pub fn set_capacity(&mut self, capacity: usize) {
        self.ring.set_capacity(capacity)
    }

    /// Appends what fits of `data` with `attachment` on its first byte. `Err` gives
    /// the attachment back when nothing fits now. An empty send queues nothing and
    /// drops the attachment, as Linux does.
    pub fn push(&mut self, data: &[u8], attachment: Option<R>) -> Result<usize, Option<R>> {
        let Some(n) = self.ring.push(data, 0) else {
            return Err(attachment);
        };
        if n > 0 {
            if let Some(item) = attachment {
                self.attached.push_back(Attached {
                    start: self.write_pos,
                    end: self.write_pos + n as u64,
                    item,
                });
            }
        }
        self.write_pos += n as u64;
        Ok(n)
    }

    /// How many bytes a read of `want` takes now, and whether it reaches an
    /// attachment (which cuts the read at the end of its send).
    fn plan(&self, want: usize) -> (usize, bool) {
        let n = want.min(self.ring.len());
        match self.attached.front() {
            Some(a) if n > 0 && a.start < self.read_pos + n as u64 => {
                (n.min((a.end - self.read_pos) as usize), true)
            }
            _ => (n, false),
        }
    }

    /// Moves up to `out.len()` bytes out, with the attachment they bring.
    pub fn pop(&mut self, out: &mut [u8]) -> (usize, Option<R>) {
        let (n, attached) = self.plan(out.len());
        let n = self.ring.pop(&mut out[..n]);
        self.read_pos += n as u64;
        let item = if attached {
            self.attached.pop_front().map(|a| a.item)
        } else {
            None
        };
        (n, item)
    }

    /// Takes every attachment still queued (to be dropped outside the caller's locks)
    /// and empties the stream.
    pub fn drain(&mut self) -> impl Iterator<Item = R> {
        self.read_pos = self.write_pos;
        self.ring.clear();
        core::mem::take(&mut self.attached)
            .into_iter()
            .map(|a| a.item)
    }
}

impl<R: Clone> StreamQueue<R> {
    /// Copies what [`pop`](Self::pop) would move, leaving it queued (MSG_PEEK); an
    /// attachment comes as a copy.
    pub fn peek(&self, out: &mut [u8]) -> (usize, Option<R>) {
        let (n, attached) = self.plan(out.len());
        let n = self.ring.peek(&mut out[..n]);
        let item = if attached {
            self.attached.front().map(|a| a.item.clone())
        } else {
            None
        };
        (n, item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn bytes_without_attachments_merge_across_sends() {
        let mut q: StreamQueue<u32> = StreamQueue::new(16);
        assert_eq!(q.push(b"ab", None), Ok(2));
        assert_eq!(q.push(b"cd", None), Ok(2));
        let mut out = [0u8; 8];
        assert_eq!(q.pop(&mut out), (4, None));
        assert_eq!(&out[..4], b"abcd");
    }

    #[test]
    fn attachment_arrives_with_its_first_byte_and_cuts_the_read() {
        let mut q = StreamQueue::new(64);
        q.push(b"head", None).unwrap();
        q.push(b"FDS", Some(7u32)).unwrap();
        q.push(b"tail", None).unwrap();
        let mut out = [0u8; 64];
        // the plain bytes before it merge with the send that carries it
        assert_eq!(q.peek(&mut out), (7, Some(7)));
        assert_eq!(q.pop(&mut out), (7, Some(7)));
        assert_eq!(&out[..7], b"headFDS");
        assert_eq!(q.pop(&mut out), (4, None));
        assert_eq!(&out[..4], b"tail");
    }

    #[test]
    fn two_attachments_never_arrive_together() {
        let mut q = StreamQueue::new(64);
        q.push(b"a", Some(1u32)).unwrap();
        q.push(b"b", Some(2u32)).unwrap();
        let mut out = [0u8; 8];
        assert_eq!(q.pop(&mut out), (1, Some(1)));
        assert_eq!(q.pop(&mut out), (1, Some(2)));
        assert!(q.is_empty());
    }

    #[test]
    fn short_read_takes_attachment_once() {
        let mut q = StreamQueue::new(64);
        q.push(b"xyz", Some(9u32)).unwrap();
        let mut one = [0u8; 1];
        assert_eq!(q.pop(&mut one), (1, Some(9)));
        let mut rest = [0u8; 8];
        assert_eq!(q.pop(&mut rest), (2, None));
        assert_eq!(&rest[..2], b"yz");
    }

    #[test]
    fn full_stream_gives_attachment_back_and_partial_send_keeps_it() {
        let mut q = StreamQueue::new(4);
        assert_eq!(q.push(b"123456", Some(5u32)), Ok(4));
        assert_eq!(q.push(b"7", Some(6u32)), Err(Some(6)));
        let mut out = [0u8; 8];
        assert_eq!(q.pop(&mut out), (4, Some(5)));
    }

    #[test]
    fn empty_send_queues_nothing() {
        let mut q = StreamQueue::new(4);
        assert_eq!(q.push(b"", Some(1u32)), Ok(0));
        let mut out = [0u8; 8];
        assert_eq!(q.pop(&mut out), (0, None));
    }

    #[test]
    fn drain_returns_attachments_and_empties() {
        let mut q = StreamQueue::new(64);
        q.push(b"a", Some(1u32)).unwrap();
        q.push(b"b", None).unwrap();
        q.push(b"c", Some(3u32)).unwrap();
        let got: Vec<u32> = q.drain().collect();
        assert_eq!(got, [1, 3]);
        assert!(q.is_empty());
        q.push(b"d", Some(4)).unwrap();
        let mut out = [0u8; 8];
        assert_eq!(q.pop(&mut out), (1, Some(4)));
    }
}
