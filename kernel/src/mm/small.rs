//! Free lists of small heap blocks in front of talc: a block of up to [`MAX_SMALL`]
//! bytes (alignment up to [`CLASS_BYTES`]) that the kernel frees goes onto the list of
//! its size class, and the next allocation of that class takes it back, without
//! talc's search and coalescing. A server's request makes ten to twenty such
//! allocations (a path's components, an iovec array, a socket option, a frame's
//! bookkeeping), each a malloc and a free of ~140 and ~50 instructions in talc; a
//! list push or pop is a few.
//!
//! Every small allocation reaches talc rounded up to its class's size and alignment,
//! so any block on a class's list fits any request of that class, and a block that
//! goes back to talc goes back with the layout it came with. A list holds at most
//! [`KEEP_BYTES`] bytes; a block freed onto a full list goes straight to talc.
//! [`Lists::take_all`] empties every list (the heap does so before it trims, so that
//! cached blocks do not keep whole pages from going back to the frame allocator).
//!
//! The lists are intrusive (a free block holds the next block's address), behind one
//! spin lock that is never held while talc's is taken.

use core::alloc::Layout;
use core::ptr::NonNull;

/// The size classes' step and the alignment every small block gets.
pub const CLASS_BYTES: usize = 16;
/// The largest allocation served from the lists.
pub const MAX_SMALL: usize = 512;
/// How many classes there are.
const CLASSES: usize = MAX_SMALL / CLASS_BYTES;
/// The most bytes a class's list keeps.
const KEEP_BYTES: usize = 4096;

/// The class of `layout`, if it is small.
pub fn class_of(layout: Layout) -> Option<usize> {
    let size = layout.size();
    (size != 0 && size <= MAX_SMALL && layout.align() <= CLASS_BYTES)
        .then(|| (size - 1) / CLASS_BYTES)
}

/// The layout every block of class `class` has in talc.
pub fn class_layout(class: usize) -> Layout {
    // The size is a non-zero multiple of the alignment, a power of two.
    Layout::from_size_align((class + 1) * CLASS_BYTES, CLASS_BYTES).unwrap_or(Layout::new::<u8>())
}

/// The most blocks class `class`'s list keeps.
fn keep(class: usize) -> u16 {
    (KEEP_BYTES / class_layout(class).size()).max(4) as u16
}

/// A free block: its first word is the next free block of its class.
struct Free {
    next: Option<NonNull<Free>>,
}

/// The free lists, one per class.
pub struct Lists {
    heads: [Option<NonNull<Free>>; CLASSES],
    lens: [u16; CLASSES],
}

// SAFETY: the lists own the free blocks they point to (nothing else refers to a block
// once it is freed), and the kernel moves them only behind the heap's lock.
unsafe impl Send for Lists {}

impl Lists {
    /// No block kept.
    pub const fn new() -> Lists {
        Lists {
            heads: [None; CLASSES],
            lens: [0; CLASSES],
        }
    }

    /// A kept block of class `class`, if there is one.
    pub fn pop(&mut self, class: usize) -> Option<NonNull<u8>> {
        let head = self.heads[class]?;
        // SAFETY: a block on a list is a free block of at least CLASS_BYTES, aligned to
        // CLASS_BYTES, that `push` wrote a `Free` into; nothing else uses it.
        self.heads[class] = unsafe { head.as_ref().next };
        self.lens[class] -= 1;
        Some(head.cast())
    }

    /// Keeps the freed block `block` of class `class`; false if its list is full (the
    /// caller gives it back to talc).
    ///
    /// # Safety
    /// `block` came from the heap with `class_layout(class)` and is no longer used.
    pub unsafe fn push(&mut self, class: usize, block: NonNull<u8>) -> bool {
        if self.lens[class] >= keep(class) {
            return false;
        }
        let free = block.cast::<Free>();
        // SAFETY: the caller gives up the block, which is large and aligned enough for
        // a `Free` (every class is at least CLASS_BYTES, aligned to CLASS_BYTES).
        unsafe {
            free.write(Free {
                next: self.heads[class],
            })
        };
        self.heads[class] = Some(free);
        self.lens[class] += 1;
        true
    }

    /// Empties every list: the blocks and their classes, for the caller to give back
    /// to talc.
    pub fn take_all(&mut self) -> Taken {
        let taken = Taken {
            heads: self.heads,
            class: 0,
        };
        *self = Lists::new();
        taken
    }
}

impl Default for Lists {
    fn default() -> Self {
        Lists::new()
    }
}

/// The blocks [`Lists::take_all`] took, as (block, class).
pub struct Taken {
    heads: [Option<NonNull<Free>>; CLASSES],
    class: usize,
}

impl Iterator for Taken {
    type Item = (NonNull<u8>, usize);

    fn next(&mut self) -> Option<Self::Item> {
        while self.class < CLASSES {
            if let Some(head) = self.heads[self.class] {
                // SAFETY: as in `Lists::pop`: the block was pushed and is owned here.
                self.heads[self.class] = unsafe { head.as_ref().next };
                return Some((head.cast(), self.class));
            }
            self.class += 1;
        }
        None
    }
}
