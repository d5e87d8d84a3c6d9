//! The kernel's synchronisation primitives: the only way its global mutable state is
//! shared, with types that say what holds.
//!
//! - [`SpinLock`]: state any CPU (or an interrupt handler) may touch. Taking it
//!   disables interrupts on this CPU and spins on an atomic flag, so it is correct
//!   with several CPUs; its guard releases the flag and then puts the interrupt flag
//!   back as it was (as Asterinas' `SpinLock<T, G>` with its IRQ-disabling guard).
//!   Taking a lock this CPU already holds would spin forever: it panics instead,
//!   naming the lock's type.
//! - [`PerCpu`]: state each CPU has its own copy of (the running thread, when its
//!   time slice began). The type says "this CPU only": it hands out a shared
//!   reference to this CPU's slot, so what changes inside is a `Cell` (one CPU, and an
//!   interrupt on it runs between two instructions, never inside a `Cell::set`).
//!   `cpu_id` (the CPU's percpu block, through the GS base) picks the slot.
//! - [`bkl`]: the big kernel lock, which makes several CPUs safe for all the
//!   kernel's other state (see its doc for what it protects and the way to finer
//!   locks).
//!
//! The rule the scheduler checks: no `SpinLock` is held across a context switch
//! (`sched::schedule` panics when `locks_held()` is not 0), since the next thread
//! could take the same lock and spin forever. A blocking path therefore copies what
//! it needs out of the locked state, drops the guard, and only then blocks.

use core::cell::{Cell, UnsafeCell};
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

pub mod bkl;

pub use crate::arch::percpu::MAX_CPUS;

/// The number of the CPU running this code (0 is the boot CPU).
#[inline]
pub fn cpu_id() -> u32 {
    crate::arch::percpu::cpu_id()
}

/// Data of which every CPU has its own copy, reached by the CPU that runs the code.
///
/// A reference from [`PerCpu::get`] belongs to this CPU: it must not be kept across
/// `sched::schedule` (a thread may resume on another CPU).
pub struct PerCpu<T> {
    slots: [T; MAX_CPUS],
}

// SAFETY: each CPU reaches only its own slot (`get` picks it by `cpu_id`), so no two
// CPUs share a `T` through `get`; on one CPU an interrupt handler may use the slot too,
// which is why the contents are `Cell`s or atomics whose every access is a whole load
// or store. `of` reads another CPU's slot: only for atomics (T: Sync there).
unsafe impl<T: Send> Sync for PerCpu<T> {}

impl<T> PerCpu<T> {
    /// One slot per CPU, as given (`[const { ... }; MAX_CPUS]`).
    pub const fn new(slots: [T; MAX_CPUS]) -> Self {
        PerCpu { slots }
    }

    /// This CPU's copy.
    #[inline]
    pub fn get(&self) -> &T {
        let cpu = cpu_id() as usize;
        debug_assert!(cpu < MAX_CPUS);
        // SAFETY: a CPU's number is below MAX_CPUS (`arch::percpu::install` asserts it
        // before the number can be read), so the slot exists; this saves the bounds check on every per-CPU
        // access, syscalls' and switches' included.
        unsafe { self.slots.get_unchecked(cpu) }
    }
}

impl<T: Sync> PerCpu<T> {
    /// CPU `cpu`'s copy, for data other CPUs may read (atomics).
    pub fn of(&self, cpu: u32) -> &T {
        &self.slots[cpu as usize]
    }
}

/// How many `SpinLock`s this CPU holds now.
static LOCKS_HELD: PerCpu<Cell<u32>> = PerCpu::new([const { Cell::new(0) }; MAX_CPUS]);

/// How many `SpinLock`s this CPU holds now (0 is the only count at which it may
/// switch threads).
#[inline]
pub fn locks_held() -> u32 {
    LOCKS_HELD.get().get()
}

/// Interrupts off on this CPU until dropped; then back on if they were on before.
struct IrqOff {
    were_on: bool,
}

impl IrqOff {
    #[inline]
    fn new() -> Self {
        let were_on = crate::arch::cpu::interrupts_enabled();
        if were_on {
            crate::arch::cpu::disable_interrupts();
        }
        IrqOff { were_on }
    }
}

impl Drop for IrqOff {
    #[inline]
    fn drop(&mut self) {
        if self.were_on {
            crate::arch::cpu::enable_interrupts();
        }
    }
}

/// A spin lock that disables interrupts while held (see the module doc).
pub struct SpinLock<T: ?Sized> {
    locked: AtomicBool,
    /// `cpu_id() + 1` of the holder, 0 when free: tells re-entry from contention.
    owner: AtomicU32,
    value: UnsafeCell<T>,
}

// SAFETY: the value is reached only through a guard, and one guard exists at a time
// (the atomic flag, taken with Acquire and released with Release, orders the accesses
// of successive holders, on any CPU).
unsafe impl<T: ?Sized + Send> Sync for SpinLock<T> {}
// SAFETY: moving the lock moves the value; nothing in it is tied to a CPU.
unsafe impl<T: ?Sized + Send> Send for SpinLock<T> {}

impl<T> SpinLock<T> {
    pub const fn new(value: T) -> Self {
        SpinLock {
            locked: AtomicBool::new(false),
            owner: AtomicU32::new(0),
            value: UnsafeCell::new(value),
        }
    }
}

impl<T: ?Sized> SpinLock<T> {
    /// Disables interrupts and takes the lock, spinning while another CPU holds it.
    /// Panics if this CPU holds it already (that would spin forever).
    #[inline]
    pub fn lock(&self) -> SpinLockGuard<'_, T> {
        let irq = IrqOff::new();
        if self
            .locked
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.lock_contended();
        }
        self.owner.store(cpu_id() + 1, Ordering::Relaxed);
        let held = LOCKS_HELD.get();
        held.set(held.get() + 1);
        SpinLockGuard {
            lock: self,
            _irq: irq,
        }
    }

    #[cold]
    fn lock_contended(&self) {
        loop {
            if self.owner.load(Ordering::Relaxed) == cpu_id() + 1 {
                panic!(
                    "a SpinLock<{}> was taken again by the CPU that holds it",
                    core::any::type_name::<T>()
                );
            }
            while self.locked.load(Ordering::Relaxed) {
                core::hint::spin_loop();
                if self.owner.load(Ordering::Relaxed) == cpu_id() + 1 {
                    break;
                }
            }
            if self
                .locked
                .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                return;
            }
        }
    }
}

/// Access to a `SpinLock`'s value; dropping it releases the lock, then restores the
/// interrupt flag.
pub struct SpinLockGuard<'a, T: ?Sized> {
    lock: &'a SpinLock<T>,
    // Dropped after `drop` below has released the lock.
    _irq: IrqOff,
}

impl<T: ?Sized> Deref for SpinLockGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock: no other reference to the value exists.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T: ?Sized> DerefMut for SpinLockGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the lock: no other reference to the value exists.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T: ?Sized> Drop for SpinLockGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        let held = LOCKS_HELD.get();
        held.set(held.get() - 1);
        self.lock.owner.store(0, Ordering::Relaxed);
        self.lock.locked.store(false, Ordering::Release);
    }
}
