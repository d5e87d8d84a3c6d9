//! File pages: the page cache's unit. A [`Frame`] is one reference to a 4 KiB page of
//! memory that the kernel names by its physical address, so that the very page a file
//! keeps its bytes in can also be mapped into programs (MAP_SHARED: the same page,
//! coherent with read and write; MAP_PRIVATE and exec: mapped read-only and copied on
//! the first write). Pages are reference-counted by the kernel's frame allocator (as
//! fork's copy-on-write pages are): the file holds one reference per page, every
//! mapping one more, and the page goes back to the allocator with the last.
//!
//! A page may also be *borrowed* ([`Frame::borrow`]): memory the file does not own,
//! such as the image's baked payload, read in place and never written: the first
//! write to the file copies it into a page of its own ([`Frame::make_own`]).
//!
//! This crate has no unsafe code and does not know the physical memory: the kernel
//! installs [`PageHooks`] that allocate, count, read and write pages. Without them
//! (host-side tests) pages live on the heap, named by a counter.
//!
//! tmpfs keeps its file data in these pages; [`crate::Inode::page_frame`] hands them to
//! the memory manager. A disk file system can join later by keeping its cached blocks
//! in pages the same way.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use spin::Mutex;

/// Bytes per page.
pub const PAGE_SIZE: usize = 4096;

/// The kernel's page operations. Pages are named by an opaque `u64` (the kernel: the
/// physical address).
#[derive(Clone, Copy)]
pub struct PageHooks {
    /// A new zeroed page with one reference, or None when memory is exhausted.
    pub alloc_zeroed: fn() -> Option<u64>,
    /// Adds a reference to a page; false when it cannot be counted.
    pub add_ref: fn(u64) -> bool,
    /// Drops a reference; the last one frees the page.
    pub release: fn(u64),
    /// Copies bytes of the page, from the byte offset, into the buffer.
    pub read: fn(u64, usize, &mut [u8]),
    /// Copies the buffer into the page at the byte offset.
    pub write: fn(u64, usize, &[u8]),
    /// Copies a whole page onto another (source, destination).
    pub copy: fn(u64, u64),
    /// A file's pages from the given page index on (to the second index, exclusive)
    /// were truncated away or punched out: mappings of them must fault again. Called
    /// with the file's `(dev, ino)` and no lock of the file system held.
    pub invalidate: fn((u64, u64), u64, u64),
    /// True when more than one reference to the page is held (a mapping has it).
    pub shared: fn(u64) -> bool,
    /// Pages that can still be allocated for files and programs.
    pub spare: fn() -> usize,
}

static HOOKS: Mutex<Option<PageHooks>> = Mutex::new(None);

/// Installs the kernel's page operations (before any file has data).
pub fn install_page_hooks(hooks: PageHooks) {
    *HOOKS.lock() = Some(hooks);
}

pub(crate) fn hooks() -> PageHooks {
    HOOKS.lock().unwrap_or(HEAP_HOOKS)
}

/// Tells the kernel that the pages `[first, end)` of the file `key` are gone.
pub(crate) fn invalidate(key: (u64, u64), first: u64, end: u64) {
    if first < end {
        (hooks().invalidate)(key, first, end)
    }
}

/// One reference to a page of file data; dropping it drops the reference.
pub struct Frame {
    id: u64,
    borrowed: bool,
}

impl Frame {
    /// A new zeroed page (None: out of memory).
    pub fn zeroed() -> Option<Frame> {
        (hooks().alloc_zeroed)().map(|id| Frame {
            id,
            borrowed: false,
        })
    }

    /// A reference to a page this file does not own and must never write (the
    /// kernel's baked payload): None when the reference cannot be counted.
    pub fn borrow(id: u64) -> Option<Frame> {
        (hooks().add_ref)(id).then_some(Frame { id, borrowed: true })
    }

    /// The page's name for the kernel (its physical address).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// True for a borrowed page (written only after [`Frame::make_own`]).
    pub fn is_borrowed(&self) -> bool {
        self.borrowed
    }

    /// Another reference to the same page, for the caller (a mapping) to keep.
    pub fn new_ref(&self) -> Option<u64> {
        (hooks().add_ref)(self.id).then_some(self.id)
    }

    /// Makes a borrowed page the file's own (a copy); false when out of memory.
    pub fn make_own(&mut self) -> bool {
        if !self.borrowed {
            return true;
        }
        let h = hooks();
        let Some(new) = (h.alloc_zeroed)() else {
            return false;
        };
        (h.copy)(self.id, new);
        (h.release)(self.id);
        self.id = new;
        self.borrowed = false;
        true
    }

    /// A new page of the caller's own with this page's bytes (None: out of memory).
    pub fn duplicate(&self) -> Option<Frame> {
        let h = hooks();
        let new = (h.alloc_zeroed)()?;
        (h.copy)(self.id, new);
        Some(Frame {
            id: new,
            borrowed: false,
        })
    }

    /// Reads `buf.len()` bytes from byte `offset` of the page.
    pub fn read(&self, offset: usize, buf: &mut [u8]) {
        (hooks().read)(self.id, offset, buf)
    }

    /// [`Frame::read`] with the hooks the caller already has (a loop over pages).
    pub(crate) fn read_with(&self, hooks: &PageHooks, offset: usize, buf: &mut [u8]) {
        (hooks.read)(self.id, offset, buf)
    }

    /// Writes `data` at byte `offset` of the page (the caller made it its own).
    pub fn write(&self, offset: usize, data: &[u8]) {
        debug_assert!(!self.borrowed, "write to a borrowed page");
        (hooks().write)(self.id, offset, data)
    }

    /// Zeroes `len` bytes from `offset` (the caller made it its own).
    pub fn zero(&self, offset: usize, len: usize) {
        const ZEROS: [u8; 512] = [0; 512];
        let mut done = 0;
        while done < len {
            let n = (len - done).min(ZEROS.len());
            self.write(offset + done, &ZEROS[..n]);
            done += n;
        }
    }
}

impl Drop for Frame {
    fn drop(&mut self) {
        (hooks().release)(self.id)
    }
}

/// Pages on the heap, for use without the kernel (host-side tests).
struct HeapPage {
    refs: u32,
    data: Box<[u8; PAGE_SIZE]>,
}

struct HeapPages {
    next: u64,
    pages: BTreeMap<u64, HeapPage>,
}

static HEAP: Mutex<HeapPages> = Mutex::new(HeapPages {
    next: 1,
    pages: BTreeMap::new(),
});

fn heap_alloc() -> Option<u64> {
    let mut h = HEAP.lock();
    let id = h.next;
    h.next += 1;
    h.pages.insert(
        id,
        HeapPage {
            refs: 1,
            data: Box::new([0; PAGE_SIZE]),
        },
    );
    Some(id)
}

fn heap_add_ref(id: u64) -> bool {
    HEAP.lock()
        .pages
        .get_mut(&id)
        .map(|p| p.refs += 1)
        .is_some()
}

fn heap_release(id: u64) {
    let mut h = HEAP.lock();
    if let Some(p) = h.pages.get_mut(&id) {
        p.refs -= 1;
        if p.refs == 0 {
            h.pages.remove(&id);
        }
    }
}

fn heap_read(id: u64, offset: usize, buf: &mut [u8]) {
    if let Some(p) = HEAP.lock().pages.get(&id) {
        buf.copy_from_slice(&p.data[offset..offset + buf.len()]);
    }
}

fn heap_write(id: u64, offset: usize, data: &[u8]) {
    if let Some(p) = HEAP.lock().pages.get_mut(&id) {
        p.data[offset..offset + data.len()].copy_from_slice(data);
    }
}

fn heap_copy(from: u64, to: u64) {
    let mut h = HEAP.lock();
    if let Some(src) = h.pages.get(&from).map(|p| p.data.clone()) {
        if let Some(p) = h.pages.get_mut(&to) {
            p.data = src;
        }
    }
}

const HEAP_HOOKS: PageHooks = PageHooks {
    alloc_zeroed: heap_alloc,
    add_ref: heap_add_ref,
    release: heap_release,
    read: heap_read,
    write: heap_write,
    copy: heap_copy,
    invalidate: |_, _, _| {},
    shared: heap_shared,
    spare: || usize::MAX,
};

fn heap_shared(id: u64) -> bool {
    HEAP.lock().pages.get(&id).is_some_and(|p| p.refs > 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrowed_pages_are_copied_before_a_write() {
        let owner = Frame::zeroed().unwrap();
        owner.write(0, b"payload");
        let mut b = Frame::borrow(owner.id()).unwrap();
        assert!(b.is_borrowed());
        assert!(b.make_own());
        assert_ne!(b.id(), owner.id());
        b.write(0, b"changed");
        let (mut x, mut y) = ([0; 7], [0; 7]);
        owner.read(0, &mut x);
        b.read(0, &mut y);
        assert_eq!((&x, &y), (b"payload", b"changed"));
    }
}
