//! A split virtqueue (virtio 1.2 §2.7) set up through virtio-drivers' public
//! `Transport` trait: descriptor table, available ring and used ring in one DMA
//! allocation, laid out the legacy way (used ring on its own page) so that modern and
//! legacy virtio-mmio devices both accept it. Each buffer is one descriptor; the queue
//! owns the buffer while the device holds it and hands it back with the length the
//! device wrote. Notifications and interrupts are suppressed through the event
//! indexes when VIRTIO_F_EVENT_IDX was negotiated, else through the rings' flags.
//! Where things lie and the index arithmetic are `rumprun-virtqueue`'s (host-tested);
//! this module does the DMA memory and the volatile accesses.

use super::hal::{self, KernelHal};
use alloc::vec::Vec;
use core::sync::atomic::{fence, AtomicU64, Ordering};
use rumprun_virtqueue::{need_event, Layout};
use virtio_drivers::transport::Transport;
use virtio_drivers::{BufferDirection, Hal};

/// Descriptor flag: the device writes this buffer (else it reads it).
const DESC_F_WRITE: u16 = 2;
/// Available ring flag: the driver wants no interrupt when buffers are used.
const AVAIL_F_NO_INTERRUPT: u16 = 1;
/// Used ring flag: the device wants no notification when buffers are added.
const USED_F_NO_NOTIFY: u16 = 1;

/// For tests (`RUMPRUN_NET_REARM_DELAY_US`): how long (ns) a queue that finds its used
/// ring empty waits before it asks for the next interrupt, without looking again
/// after. It makes the race of a re-armed interrupt wide enough to hit at will: a
/// buffer the device uses meanwhile raises no interrupt (the device reads the old
/// `used_event`) and is not seen, as happens (rarely, for nanoseconds) when the fence
/// between the request and the second look is dropped (QEMU before 8.1 under TCG with
/// one vCPU). The network layer's last look after each poll must find such frames
/// (`net::LAST_LOOKS`).
static REARM_DELAY_NS: AtomicU64 = AtomicU64::new(0);

/// Sets the test delay of `REARM_DELAY_NS`, in microseconds (0: none, the default).
pub fn set_rearm_delay_us(us: u64) {
    REARM_DELAY_NS.store(us.saturating_mul(1000), Ordering::Relaxed);
}

pub struct SplitQueue {
    index: u16,
    size: u16,
    paddr: u64,
    /// Where the descriptor table, available ring and used ring lie from `base`.
    layout: Layout,
    /// The queue's memory (direct-map address), `layout.len` bytes.
    base: *mut u8,
    /// Descriptors the driver may fill.
    free: Vec<u16>,
    /// The buffer behind each descriptor the device holds.
    buffers: Vec<Option<Vec<u8>>>,
    /// Our copy of the available ring's index (the next slot to fill).
    next_available: u16,
    /// The used ring's index up to which buffers came back.
    last_used: u16,
    /// The available index at the last notification (EVENT_IDX).
    last_notified: u16,
    /// Whether VIRTIO_F_EVENT_IDX was negotiated.
    event_idx: bool,
    /// Whether the driver wants an interrupt for each used buffer.
    interrupts: bool,
    /// The queue's notification register (direct-map address), when the driver found
    /// it (`set_doorbell`): a notification is then one register write instead of the
    /// transport's three (on PCI, virtio-drivers selects the queue and reads its
    /// notify offset each time; every access is a trap to the hypervisor).
    doorbell: Option<*mut u16>,
}

// SAFETY: the raw pointers are into DMA memory owned by this queue alone.
unsafe impl Send for SplitQueue {}

impl SplitQueue {
    /// Sets up queue `index` with `size` descriptors (fewer if the device allows
    /// fewer; a power of two). Call between FEATURES_OK and DRIVER_OK.
    pub fn new(
        transport: &mut impl Transport,
        index: u16,
        size: u16,
        event_idx: bool,
    ) -> Result<Self, &'static str> {
        if transport.queue_used(index) {
            return Err("queue already in use");
        }
        let max = transport.max_queue_size(index);
        if max == 0 {
            return Err("queue not available");
        }
        let size = size.min(u16::try_from(max).unwrap_or(u16::MAX));
        let layout = Layout::new(size).ok_or("queue size not a power of two")?;
        // Zeroed memory: empty rings, interrupts wanted.
        let (paddr, vaddr) = KernelHal::dma_alloc(layout.pages(), BufferDirection::Both);
        transport.queue_set(
            index,
            u32::from(size),
            paddr,
            paddr + layout.available as u64,
            paddr + layout.used as u64,
        );
        Ok(SplitQueue {
            index,
            size,
            paddr,
            layout,
            base: vaddr.as_ptr(),
            free: (0..size).rev().collect(),
            buffers: (0..size).map(|_| None).collect(),
            next_available: 0,
            last_used: 0,
            last_notified: 0,
            event_idx,
            interrupts: true,
            doorbell: None,
        })
    }

    /// Notifications go straight to `register` (this queue's notification address in
    /// the device's memory window, direct-mapped) from now on.
    ///
    /// # Safety
    /// `register` must stay this queue's notification register, mapped and writable,
    /// for as long as the queue lives.
    pub unsafe fn set_doorbell(&mut self, register: *mut u16) {
        self.doorbell = Some(register);
    }

    /// Whether a buffer can be added now.
    pub fn has_room(&self) -> bool {
        !self.free.is_empty()
    }

    /// A pointer to the `T` at `offset` (one of `layout`'s) in the queue's memory.
    /// (Dereferencing it is the caller's `unsafe`; `layout`'s offsets lie inside the
    /// allocation of `layout.len` bytes.)
    fn at<T>(&self, offset: usize) -> *mut T {
        debug_assert!(offset + core::mem::size_of::<T>() <= self.layout.len);
        self.base.wrapping_add(offset).cast()
    }

    /// Whether the device holds no buffer of this queue.
    pub fn is_idle(&self) -> bool {
        self.free.len() == usize::from(self.size)
    }

    /// Offers the first `len` bytes of `buf` to the device, to write into
    /// (`device_writes`) or to read. Gives the buffer back when the ring is full. The
    /// device learns of it at the next `notify`.
    pub fn add(&mut self, buf: Vec<u8>, len: usize, device_writes: bool) -> Result<(), Vec<u8>> {
        let Some(id) = self.free.pop() else {
            return Err(buf);
        };
        let len = len.min(buf.len()) as u32;
        let addr = hal::virt_to_phys(buf.as_ptr() as u64);
        let flags = if device_writes { DESC_F_WRITE } else { 0 };
        let d = self.layout.descriptor(id);
        // SAFETY: descriptor `id` is inside the table and free (the device does not
        // read it); the buffer's heap memory stays put while `buffers` owns it.
        unsafe {
            self.at::<u64>(d).write_volatile(addr);
            self.at::<u32>(d + 8).write_volatile(len);
            self.at::<u16>(d + 12).write_volatile(flags);
            self.at::<u16>(d + 14).write_volatile(0);
        }
        self.buffers[usize::from(id)] = Some(buf);
        let entry = self.layout.available_entry(self.next_available);
        // SAFETY: ring entries and the index are inside the available ring.
        unsafe {
            self.at::<u16>(entry).write_volatile(id);
            // The device must see the descriptor and the ring entry before the index.
            fence(Ordering::SeqCst);
            self.next_available = self.next_available.wrapping_add(1);
            self.at::<u16>(self.layout.available_index())
                .write_volatile(self.next_available);
        }
        Ok(())
    }

    /// Tells the device about added buffers, unless it asked not to be told.
    pub fn notify(&mut self, transport: &mut impl Transport) {
        // The index write must be visible before we read what the device asked for.
        fence(Ordering::SeqCst);
        let (old, new) = (self.last_notified, self.next_available);
        self.last_notified = new;
        let wanted = if self.event_idx {
            // SAFETY: avail_event, after the used ring's elements.
            let event = unsafe { self.at::<u16>(self.layout.avail_event()).read_volatile() };
            // The device asked to be told once the index passes `event` (§2.7.10).
            need_event(event, new, old)
        } else {
            // SAFETY: the used ring's flags word.
            let flags = unsafe { self.at::<u16>(self.layout.used_flags()).read_volatile() };
            flags & USED_F_NO_NOTIFY == 0
        };
        if wanted {
            match self.doorbell {
                // SAFETY: `set_doorbell`'s contract: the queue's notification register.
                // The value written is the queue's index (virtio 1.2 §4.1.5.2).
                Some(register) => unsafe { register.write_volatile(self.index) },
                None => transport.notify(self.index),
            }
        }
    }

    fn used_index(&self) -> u16 {
        // SAFETY: the used ring's index word.
        unsafe { self.at::<u16>(self.layout.used_index()).read_volatile() }
    }

    /// Whether the device has used a buffer that `pop_used` has not returned yet: one
    /// read of the used ring's index, no interrupt asked for.
    pub fn has_used(&self) -> bool {
        self.used_index() != self.last_used
    }

    /// The next buffer the device is done with, and how many bytes it wrote into it.
    pub fn pop_used(&mut self) -> Option<(Vec<u8>, usize)> {
        if self.used_index() == self.last_used {
            if !(self.event_idx && self.interrupts) {
                return None;
            }
            let delay = REARM_DELAY_NS.load(Ordering::Relaxed);
            if delay != 0 {
                // The lost-interrupt window widened (for tests, see
                // `set_rearm_delay_us`): the request reaches the device late and the
                // driver does not look again, as when a fence is dropped.
                let until = crate::time::monotonic_ns() + delay;
                while crate::time::monotonic_ns() < until {
                    crate::arch::cpu::pause();
                }
                // SAFETY: used_event, after the available ring's entries.
                unsafe {
                    self.at::<u16>(self.layout.used_event())
                        .write_volatile(self.last_used)
                };
                return None;
            }
            // Ask for an interrupt when the next buffer is used (used_event), then look
            // again: the device may have used one before it saw the request.
            // SAFETY: used_event, after the available ring's entries.
            unsafe {
                self.at::<u16>(self.layout.used_event())
                    .write_volatile(self.last_used)
            };
            fence(Ordering::SeqCst);
            if self.used_index() == self.last_used {
                return None;
            }
        }
        // Read the element only after seeing the index that publishes it.
        fence(Ordering::SeqCst);
        let e = self.layout.used_element(self.last_used);
        // SAFETY: an element of the used ring.
        let (id, len) = unsafe {
            (
                self.at::<u32>(e).read_volatile(),
                self.at::<u32>(e + 4).read_volatile(),
            )
        };
        self.last_used = self.last_used.wrapping_add(1);
        let buf = self.buffers.get_mut(id as usize)?.take()?;
        self.free.push(id as u16);
        Some((buf, len as usize))
    }

    /// Asks the device to interrupt (or not) when it uses buffers of this queue.
    pub fn set_interrupts(&mut self, wanted: bool) {
        self.interrupts = wanted;
        // With EVENT_IDX the device ignores the flag; used_event (written by
        // `pop_used` only when interrupts are wanted) stays behind instead.
        let flags = if wanted { 0 } else { AVAIL_F_NO_INTERRUPT };
        // SAFETY: the available ring's flags word.
        unsafe {
            self.at::<u16>(self.layout.available_flags())
                .write_volatile(flags)
        };
    }
}

impl Drop for SplitQueue {
    /// Frees the rings; the device must have been reset (it no longer reads them).
    fn drop(&mut self) {
        // SAFETY: allocated by `new` with this size; the device is reset.
        unsafe {
            KernelHal::dma_dealloc(
                self.paddr,
                core::ptr::NonNull::new(self.base).unwrap(),
                self.layout.pages(),
            );
        }
    }
}
