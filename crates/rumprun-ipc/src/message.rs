//! [`MessageQueue`]: the receive queue of a datagram or seqpacket socket.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

/// One queued message: its bytes, the sender's address and an attachment
/// (SCM_RIGHTS files).
#[derive(Debug)]
pub struct Message<A, R> {
    /// The payload.
    pub data: Vec<u8>,
    /// Who sent it (for recvfrom).
    pub from: A,
    /// Files passed with it.
    pub attachment: Option<R>,
}

/// What a receive got: `len` bytes copied of a message of `full_len` bytes (the rest
/// of a longer message is discarded, MSG_TRUNC).
#[derive(Debug, PartialEq, Eq)]
pub struct Received<A, R> {
    /// Bytes copied out.
    pub len: usize,
    /// The message's whole length.
    pub full_len: usize,
    /// The sender's address.
    pub from: A,
    /// Files passed with the message.
    pub attachment: Option<R>,
}

/// Whole messages in arrival order, bounded by total bytes and by count. A message
/// larger than the byte bound still goes into an empty queue, so one big datagram
/// cannot block forever.
#[derive(Debug)]
pub struct MessageQueue<A, R> {
    queue: VecDeque<Message<A, R>>,
    bytes: usize,
    capacity: usize,
    max_count: usize,
}

impl<A, R> MessageQueue<A, R> {
    /// An empty queue for at most `capacity` bytes in at most `max_count` messages.
    pub fn new(capacity: usize, max_count: usize) -> MessageQueue<A, R> {
        MessageQueue {
            queue: VecDeque::new(),
            bytes: 0,
            capacity,
            max_count,
        }
    }

    /// Messages queued.
    pub fn count(&self) -> usize {
        self.queue.len()
    }

    /// True when no message is queued.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Payload bytes queued.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The byte bound.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Changes the byte bound (SO_RCVBUF).
    pub fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity;
    }

    /// Length of the next message (FIONREAD on a datagram socket).
    pub fn next_len(&self) -> Option<usize> {
        self.queue.front().map(|m| m.data.len())
    }

    /// Whether a message of `len` bytes would be accepted now.
    pub fn has_room_for(&self, len: usize) -> bool {
        self.queue.is_empty()
            || (self.queue.len() < self.max_count && self.bytes + len <= self.capacity)
    }

    /// Queues `msg`, or gives it back when there is no room now.
    pub fn push(&mut self, msg: Message<A, R>) -> Result<(), Message<A, R>> {
        if !self.has_room_for(msg.data.len()) {
            return Err(msg);
        }
        self.bytes += msg.data.len();
        self.queue.push_back(msg);
        Ok(())
    }

    /// Takes the next message, copying what fits of it into `out`.
    pub fn pop(&mut self, out: &mut [u8]) -> Option<Received<A, R>> {
        let msg = self.queue.pop_front()?;
        self.bytes -= msg.data.len();
        let len = copy(&msg.data, out);
        Some(Received {
            len,
            full_len: msg.data.len(),
            from: msg.from,
            attachment: msg.attachment,
        })
    }

    /// Takes every queued message (to be dropped outside the caller's locks).
    pub fn drain(&mut self) -> impl Iterator<Item = Message<A, R>> {
        self.bytes = 0;
        core::mem::take(&mut self.queue).into_iter()
    }
}

impl<A: Clone, R: Clone> MessageQueue<A, R> {
    /// Copies the next message without taking it (MSG_PEEK).
    pub fn peek(&self, out: &mut [u8]) -> Option<Received<A, R>> {
        let msg = self.queue.front()?;
        Some(Received {
            len: copy(&msg.data, out),
            full_len: msg.data.len(),
            from: msg.from.clone(),
            attachment: msg.attachment.clone(),
        })
    }
}

fn copy(data: &[u8], out: &mut [u8]) -> usize {
    let n = data.len().min(out.len());
    out[..n].copy_from_slice(&data[..n]);
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn msg(data: &[u8], from: u8) -> Message<u8, u32> {
        Message {
            data: data.to_vec(),
            from,
            attachment: None,
        }
    }

    #[test]
    fn messages_keep_their_boundaries() {
        let mut q = MessageQueue::new(100, 10);
        q.push(msg(b"one", 1)).unwrap();
        q.push(msg(b"two!", 2)).unwrap();
        assert_eq!(q.next_len(), Some(3));
        let mut out = [0u8; 16];
        let r = q.pop(&mut out).unwrap();
        assert_eq!((r.len, r.full_len, r.from), (3, 3, 1));
        assert_eq!(&out[..3], b"one");
        let r = q.pop(&mut out).unwrap();
        assert_eq!((r.len, r.from), (4, 2));
        assert!(q.pop(&mut out).is_none());
    }

    #[test]
    fn short_buffer_truncates_and_discards_the_rest() {
        let mut q = MessageQueue::new(100, 10);
        q.push(msg(b"abcdef", 1)).unwrap();
        q.push(msg(b"g", 1)).unwrap();
        let mut out = [0u8; 2];
        let r = q.pop(&mut out).unwrap();
        assert_eq!((r.len, r.full_len), (2, 6));
        assert_eq!(&out, b"ab");
        let r = q.pop(&mut out).unwrap();
        assert_eq!((r.len, r.full_len), (1, 1));
        assert_eq!(q.bytes(), 0);
    }

    #[test]
    fn peek_leaves_the_message() {
        let mut q: MessageQueue<u8, u32> = MessageQueue::new(100, 10);
        q.push(Message {
            data: b"hi".to_vec(),
            from: 3,
            attachment: Some(42),
        })
        .unwrap();
        let mut out = [0u8; 8];
        let p = q.peek(&mut out).unwrap();
        assert_eq!((p.len, p.from, p.attachment), (2, 3, Some(42)));
        let r = q.pop(&mut out).unwrap();
        assert_eq!(r.attachment, Some(42));
    }

    #[test]
    fn bounded_by_bytes_and_count_but_an_empty_queue_takes_anything() {
        let mut q = MessageQueue::new(10, 2);
        assert!(
            q.push(msg(&[0; 50], 0)).is_ok(),
            "empty queue takes a big one"
        );
        assert!(q.push(msg(b"x", 0)).is_err(), "over the byte bound");
        let mut out = vec![0u8; 64];
        q.pop(&mut out);
        q.push(msg(b"a", 0)).unwrap();
        q.push(msg(b"b", 0)).unwrap();
        let back = q.push(msg(b"c", 7)).unwrap_err();
        assert_eq!(back.from, 7, "over the count bound: the message comes back");
        assert!(!q.has_room_for(1));
        assert_eq!(q.drain().count(), 2);
        assert!(q.is_empty() && q.has_room_for(1));
    }
}
