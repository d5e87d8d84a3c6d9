//! The arithmetic of a split virtqueue (virtio 1.2 §2.7), apart from the memory it
//! describes, so it is tested on the host: where the descriptor table, the available
//! ring and the used ring lie in the queue's memory ([`Layout`], laid out the legacy
//! way with the used ring on its own page, which modern and legacy devices both
//! accept), which ring slot a free-running 16-bit index names, and whether the device
//! asked to be told about new buffers ([`need_event`], VIRTIO_F_EVENT_IDX). The kernel
//! (`drivers/virtio/virtqueue.rs`) does the volatile reads and writes at these offsets.
#![no_std]
#![forbid(unsafe_code)]

/// Bytes of one descriptor (`addr: u64, len: u32, flags: u16, next: u16`).
pub const DESCRIPTOR_LEN: usize = 16;
/// Bytes of one used-ring element (`id: u32, len: u32`).
pub const USED_ELEMENT_LEN: usize = 8;
/// The alignment of the used ring in the legacy layout.
pub const LEGACY_ALIGN: usize = 4096;
/// The largest queue a split virtqueue can have.
pub const MAX_SIZE: u16 = 32768;

/// Where the parts of a queue of `size` descriptors lie, in bytes from the start of
/// its memory. The available ring is `flags: u16, idx: u16, ring: [u16; size],
/// used_event: u16`; the used ring is `flags: u16, idx: u16, ring: [{u32, u32}; size],
/// avail_event: u16`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Descriptors in the queue (a power of two).
    pub size: u16,
    /// The available ring (right after the descriptor table).
    pub available: usize,
    /// The used ring (on the next [`LEGACY_ALIGN`] boundary after the available ring).
    pub used: usize,
    /// The whole queue's memory, in bytes, rounded up to whole [`LEGACY_ALIGN`] pages.
    pub len: usize,
}

const fn align_up(n: usize) -> usize {
    n.div_ceil(LEGACY_ALIGN) * LEGACY_ALIGN
}

impl Layout {
    /// The layout of a queue of `size` descriptors; `None` unless `size` is a power of
    /// two no larger than [`MAX_SIZE`] (§2.7: "Queue Size ... a power of 2").
    pub const fn new(size: u16) -> Option<Layout> {
        if !size.is_power_of_two() || size > MAX_SIZE {
            return None;
        }
        let n = size as usize;
        let available = DESCRIPTOR_LEN * n;
        // flags, idx, ring[size], used_event.
        let used = align_up(available + 2 * (n + 3));
        // flags, idx, ring[size], avail_event.
        let len = align_up(used + 6 + USED_ELEMENT_LEN * n);
        Some(Layout {
            size,
            available,
            used,
            len,
        })
    }

    /// The pages of [`LEGACY_ALIGN`] bytes the queue needs.
    pub const fn pages(&self) -> usize {
        self.len / LEGACY_ALIGN
    }

    /// The ring slot that the free-running index `index` names.
    #[inline]
    pub const fn slot(&self, index: u16) -> usize {
        (index % self.size) as usize
    }

    /// Descriptor `id`.
    #[inline]
    pub const fn descriptor(&self, id: u16) -> usize {
        id as usize * DESCRIPTOR_LEN
    }

    /// The available ring's `flags`.
    #[inline]
    pub const fn available_flags(&self) -> usize {
        self.available
    }

    /// The available ring's `idx` (the driver's free-running count of added buffers).
    #[inline]
    pub const fn available_index(&self) -> usize {
        self.available + 2
    }

    /// The available ring's entry for the free-running index `index`.
    #[inline]
    pub const fn available_entry(&self, index: u16) -> usize {
        self.available + 4 + 2 * self.slot(index)
    }

    /// `used_event`: the driver wants an interrupt once the used index passes it.
    #[inline]
    pub const fn used_event(&self) -> usize {
        self.available + 4 + 2 * self.size as usize
    }

    /// The used ring's `flags`.
    #[inline]
    pub const fn used_flags(&self) -> usize {
        self.used
    }

    /// The used ring's `idx` (the device's free-running count of used buffers).
    #[inline]
    pub const fn used_index(&self) -> usize {
        self.used + 2
    }

    /// The used ring's element for the free-running index `index`.
    #[inline]
    pub const fn used_element(&self, index: u16) -> usize {
        self.used + 4 + USED_ELEMENT_LEN * self.slot(index)
    }

    /// `avail_event`: the device wants a notification once the available index
    /// passes it.
    #[inline]
    pub const fn avail_event(&self) -> usize {
        self.used + 4 + USED_ELEMENT_LEN * self.size as usize
    }
}

/// Whether moving a free-running index from `old` to `new` passes `event`, i.e. the
/// other side asked to be told (§2.7.10, the spec's `vring_need_event`): `event` is
/// one of `old, old + 1, .., new - 1`, all modulo 2^16.
#[inline]
pub const fn need_event(event: u16, new: u16, old: u16) -> bool {
    new.wrapping_sub(event).wrapping_sub(1) < new.wrapping_sub(old)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference: walk the indexes from `old` to `new` one by one.
    fn passes(event: u16, new: u16, old: u16) -> bool {
        let mut i = old;
        while i != new {
            if i == event {
                return true;
            }
            i = i.wrapping_add(1);
        }
        false
    }

    #[test]
    fn need_event_is_passing_the_event_modulo_2_16() {
        // Every start index, across the wrap, with moves of 0 to 300 and some long
        // ones, and events just before, inside and just after each move.
        let mut checked = 0u64;
        for old in 0..=u16::MAX {
            for delta in (0..=3).chain([255, 256, 300, 32767, 32768, 65535]) {
                let new = old.wrapping_add(delta);
                for e in [
                    0u16,
                    1,
                    2,
                    delta / 2,
                    delta.wrapping_sub(1),
                    delta,
                    delta.wrapping_add(1),
                ]
                .into_iter()
                .chain([u16::MAX, u16::MAX - 1])
                {
                    let event = old.wrapping_add(e);
                    assert_eq!(
                        need_event(event, new, old),
                        passes(event, new, old),
                        "event {event} new {new} old {old}"
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 5_000_000);
    }

    #[test]
    fn need_event_examples() {
        assert!(need_event(0, 1, 0));
        assert!(!need_event(1, 1, 0), "not passed yet");
        assert!(!need_event(5, 5, 5), "no move, no event");
        assert!(need_event(u16::MAX, 1, u16::MAX - 1), "across the wrap");
        assert!(need_event(0, 1, u16::MAX), "across the wrap");
        assert!(!need_event(2, 1, u16::MAX));
    }

    /// The legacy layout of virtio 1.2 §2.7 for every size: the three parts in order,
    /// not overlapping, the used ring aligned, all inside `len`.
    #[test]
    fn layouts_of_every_size() {
        for bits in 0..=15 {
            let size = 1u16 << bits;
            let n = usize::from(size);
            let l = Layout::new(size).unwrap();
            assert_eq!(l.descriptor(size - 1) + DESCRIPTOR_LEN, 16 * n);
            assert_eq!(l.available, 16 * n, "available ring after the table");
            assert_eq!(l.used_event() + 2, l.available + 6 + 2 * n);
            assert!(l.used >= l.used_event() + 2, "no overlap");
            assert_eq!(l.used % LEGACY_ALIGN, 0);
            assert!(
                l.used - (l.used_event() + 2) < LEGACY_ALIGN,
                "the next boundary"
            );
            assert_eq!(l.avail_event() + 2, l.used + 6 + 8 * n);
            assert!(l.avail_event() + 2 <= l.len && l.len - (l.avail_event() + 2) < LEGACY_ALIGN);
            assert_eq!(l.len % LEGACY_ALIGN, 0);
            assert_eq!(l.pages() * LEGACY_ALIGN, l.len);
            // vring_size(num, align) = ALIGN(16 num + 2 (3 + num)) + ALIGN(6 + 8 num).
            let spec = align_up(16 * n + 2 * (3 + n)) + align_up(6 + 8 * n);
            assert_eq!(l.len, spec, "size {size}");
            // Every slot of both rings, reached from indexes across the wrap.
            for index in [0, 1, size - 1, size, u16::MAX, u16::MAX - size + 1] {
                let slot = usize::from(index) % n;
                assert_eq!(l.slot(index), slot);
                assert_eq!(l.available_entry(index), l.available + 4 + 2 * slot);
                assert!(l.available_entry(index) < l.used_event());
                assert_eq!(l.used_element(index), l.used + 4 + 8 * slot);
                assert!(l.used_element(index) < l.avail_event());
            }
        }
        // 256 descriptors (QEMU's virtio-net and -blk) in 3 pages, 1024 in 8: the
        // legacy `vring_size(num, 4096)` of the spec, in pages.
        assert_eq!(Layout::new(256).unwrap().pages(), 3);
        assert_eq!(Layout::new(1024).unwrap().pages(), 8);
    }

    #[test]
    fn sizes_that_are_not_powers_of_two_are_refused() {
        for size in [0, 3, 6, 100, 1000, 32769, 40000, u16::MAX] {
            assert_eq!(Layout::new(size), None, "{size}");
        }
    }
}
