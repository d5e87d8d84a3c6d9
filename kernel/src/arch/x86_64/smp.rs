//! Several CPUs: starting the application processors (INIT-SIPI-SIPI into a real-mode
//! trampoline below 1 MiB that goes straight to long mode), the page-table root each
//! CPU has loaded, TLB shootdown, the reschedule interrupt, and the halt of a CPU that
//! waits for the big kernel lock (`halt_for_ipi`, `wake_halted`).
//!
//! TLB shootdown: a change that narrows or removes a present mapping (munmap,
//! mprotect, a copy-on-write break, fork write-protecting the parent) must not leave
//! another CPU that has the same root loaded using the old entry. `shootdown(root)`
//! asks every other CPU with `root` loaded to reload CR3 and waits until each did:
//! by interrupt when it runs program code or halts, by polling when it spins for the
//! big kernel lock (`sync::bkl`), which the caller holds. Frames are freed only after
//! the shootdown (paging::unmap_range).

use super::{apic, cpu, paging, percpu};
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

/// Where the trampoline (ap_trampoline.S, assembled with boot.S in mod.rs) is copied
/// (SIPI vector 0x08).
pub(super) const TRAMPOLINE: u64 = 0x8000;
const AP_STACK_SIZE: usize = 64 * 1024;

/// Root (CR3) each CPU has loaded.
static LOADED_ROOT: [AtomicU64; percpu::MAX_CPUS] = [const { AtomicU64::new(0) }; percpu::MAX_CPUS];
/// Set by a CPU asking this one to flush its TLB; cleared once it did.
static FLUSH_PENDING: [AtomicBool; percpu::MAX_CPUS] =
    [const { AtomicBool::new(false) }; percpu::MAX_CPUS];
/// Set by an application processor once it runs Rust code on its own stack.
static AP_STARTED: AtomicU32 = AtomicU32::new(0);
/// What an application processor runs once its CPU state is set up.
static AP_MAIN: AtomicU64 = AtomicU64::new(0);

extern "C" {
    static ap_trampoline_start: u8;
    static ap_trampoline_end: u8;
    static ap_tramp_cr3: u8;
}

/// One turn of a loop that waits for another CPU. Not `pause`: QEMU's TCG turns it
/// into an exit from the vCPU's execution loop, and a vCPU waiting that way slowed
/// the CPU it waited for so much that sched_yield across two CPUs fell from
/// thousands to a dozen a second.
#[inline]
pub fn spin_wait() {
    core::hint::black_box(());
}

/// Records the root this CPU loads and loads it (CR3).
pub fn load_root(root: u64) {
    LOADED_ROOT[percpu::cpu_id() as usize].store(root, Ordering::Relaxed);
    cpu::write_cr3(root);
}

/// The root this CPU has loaded, as `load_root` recorded it.
pub fn loaded_root() -> u64 {
    LOADED_ROOT[percpu::cpu_id() as usize].load(Ordering::Relaxed)
}

/// Flushes this CPU's TLB if another CPU asked it to (the TLB IPI, and the BKL spin).
#[inline]
pub fn poll_flush() {
    let pending = &FLUSH_PENDING[percpu::cpu_id() as usize];
    if pending.load(Ordering::Acquire) {
        cpu::write_cr3(cpu::read_cr3());
        pending.store(false, Ordering::Release);
    }
}

/// Makes every other CPU with `root` loaded drop its TLB entries, and waits until
/// each has. Nothing to do with one CPU.
pub fn shootdown(root: u64) {
    let online = percpu::online();
    if online < 2 {
        return;
    }
    let root = root & 0x000f_ffff_ffff_f000;
    let me = percpu::cpu_id();
    let mut asked = 0u32;
    for c in 0..online.min(percpu::MAX_CPUS as u32) {
        if c == me
            || LOADED_ROOT[c as usize].load(Ordering::Relaxed) & 0x000f_ffff_ffff_f000 != root
        {
            continue;
        }
        if let Some(apic_id) = percpu::apic_id_of(c) {
            FLUSH_PENDING[c as usize].store(true, Ordering::Release);
            apic::send_ipi(apic_id, apic::TLB_VECTOR);
            asked |= 1 << c;
        }
    }
    for c in 0..percpu::MAX_CPUS as u32 {
        if asked & (1 << c) != 0 {
            while FLUSH_PENDING[c as usize].load(Ordering::Acquire) {
                spin_wait();
            }
        }
    }
}

/// The running root's TLB entries, here and on every other CPU that has it loaded.
pub fn flush_all() {
    let root = cpu::read_cr3();
    cpu::write_cr3(root);
    shootdown(root);
}

/// Set while a CPU polls for work before it halts (`idle_wait`).
static POLLING: [AtomicBool; percpu::MAX_CPUS] =
    [const { AtomicBool::new(false) }; percpu::MAX_CPUS];
/// Set by `kick`: the CPU has work (read by the polling CPU, so that no interrupt is needed).
static KICKED: [AtomicBool; percpu::MAX_CPUS] =
    [const { AtomicBool::new(false) }; percpu::MAX_CPUS];
/// How long an idle CPU polls before it halts. A halted vCPU wakes slowly (QEMU must
/// wake its host thread); a wake-up within this time needs no interrupt at all.
const IDLE_POLL_NS: u64 = 50_000;

/// Makes CPU `cpu` look at the run queue: it idles (polling or halted), or runs
/// program code that should notice a signal or give up the CPU.
pub fn kick(cpu: u32) {
    if cpu == percpu::cpu_id() || cpu as usize >= percpu::MAX_CPUS {
        return;
    }
    // Paired with `idle_wait`: either it sees KICKED after it stops polling, or we see
    // it not polling and interrupt it (an interrupt sent before its `hlt` ends the halt).
    KICKED[cpu as usize].store(true, Ordering::SeqCst);
    if !POLLING[cpu as usize].load(Ordering::SeqCst) {
        if let Some(apic_id) = percpu::apic_id_of(cpu) {
            apic::send_ipi(apic_id, apic::RESCHEDULE_VECTOR);
        }
    }
}

/// An idle CPU (without the big kernel lock) waits for work: it polls a short while
/// for a `kick`, then halts until an interrupt.
pub fn idle_wait(tsc_hz: u64) {
    let me = percpu::cpu_id() as usize;
    POLLING[me].store(true, Ordering::SeqCst);
    let t0 = cpu::rdtsc();
    let ticks = IDLE_POLL_NS * tsc_hz / 1_000_000_000;
    while !KICKED[me].load(Ordering::Relaxed) && cpu::rdtsc() - t0 < ticks {
        poll_flush();
        spin_wait();
    }
    POLLING[me].store(false, Ordering::SeqCst);
    if !KICKED[me].swap(false, Ordering::SeqCst) {
        cpu::wait_for_interrupt();
        KICKED[me].store(false, Ordering::Relaxed);
    }
}

/// Halts this CPU (called with interrupts off) until an inter-processor interrupt
/// arrives: the big kernel lock's wait (`sync::bkl`), which must not burn the host CPU
/// that the lock's holder may need (with QEMU's TCG every vCPU is a host thread, and
/// on a loaded host a spinning waiter kept a preempted holder off the CPU for
/// milliseconds at a time). Only the IPIs get through (the task priority holds the
/// rest back until the lock is taken, as if interrupts stayed off): their handlers
/// need no lock and run on their own IST stack, so that one can interrupt a device
/// interrupt's handler that waits here.
pub fn halt_for_ipi() {
    cpu::write_cr8(0xe);
    cpu::wait_for_interrupt();
    cpu::write_cr8(0);
}

/// Ends `halt_for_ipi` on CPU `cpu` (an interrupt sent before its `hlt` ends the halt).
pub fn wake_halted(cpu: u32) {
    if let Some(apic_id) = percpu::apic_id_of(cpu) {
        apic::send_ipi(apic_id, apic::LOCK_WAKE_VECTOR);
    }
}

/// A reschedule interrupt to this CPU, taken when interrupts are next on.
pub fn kick_self() {
    apic::send_ipi(apic::id(), apic::RESCHEDULE_VECTOR);
}

/// Where an application processor arrives from the trampoline, on its own stack.
extern "C" fn ap_entry(arg: u64) -> ! {
    let (cpu_no, apic_id) = (arg as u32, (arg >> 32) as u32);
    super::init_ap(cpu_no, apic_id);
    LOADED_ROOT[cpu_no as usize].store(cpu::read_cr3(), Ordering::Relaxed);
    AP_STARTED.store(cpu_no, Ordering::Release);
    let main = AP_MAIN.load(Ordering::Acquire);
    // SAFETY: AP_MAIN holds the `fn() -> !` that `start_aps` stored before the first SIPI.
    let main: fn() -> ! = unsafe { core::mem::transmute::<u64, fn() -> !>(main) };
    main()
}

/// Starts the application processors with APIC ids `apic_ids` (the boot CPU's own id
/// is skipped), one at a time; each runs `main` once its CPU state is set up. The
/// caller holds the big kernel lock (so each new CPU waits for it before `main`
/// does anything). Returns how many started; one that does not answer within a
/// second is reported and skipped.
pub fn start_aps(apic_ids: &[u32], main: fn() -> !, tsc_hz: u64) -> u32 {
    let me = apic::id();
    let Some(root) = paging::new_root_with_low_identity() else {
        return 0;
    };
    AP_MAIN.store(main as *const () as u64, Ordering::Release);
    // Only the addresses of the linker-visible trampoline symbols are taken.
    let (start, end, cr3_at) = (
        &raw const ap_trampoline_start as u64,
        &raw const ap_trampoline_end as u64,
        &raw const ap_tramp_cr3 as u64,
    );
    let len = (end - start) as usize;
    let data = paging::phys_to_virt(TRAMPOLINE) as *mut u64;
    let data_off = ((cr3_at - start) / 8) as usize;
    let mut started = 0;
    for &id in apic_ids.iter().filter(|&&id| id != me) {
        let cpu_no = percpu::online();
        if cpu_no as usize >= percpu::MAX_CPUS {
            kprintln!("rumprun: only {} CPUs are used", percpu::MAX_CPUS);
            break;
        }
        let stack = alloc::vec![0u8; AP_STACK_SIZE].leak();
        let top = (stack.as_mut_ptr() as u64 + AP_STACK_SIZE as u64) & !15;
        // SAFETY: the trampoline's page below 1 MiB is not RAM the frame allocator hands
        // out (it starts at 1 MiB) and nothing else uses it after boot; the copy and
        // its data slots (cr3, stack, entry, argument) lie inside it.
        unsafe {
            core::ptr::copy_nonoverlapping(start as *const u8, data as *mut u8, len);
            data.add(data_off).write(root);
            data.add(data_off + 1).write(top);
            data.add(data_off + 2).write(ap_entry as *const () as u64);
            data.add(data_off + 3)
                .write(cpu_no as u64 | (id as u64) << 32);
        }
        AP_STARTED.store(0, Ordering::Release);
        let wait = |ns: u64| {
            let t0 = cpu::rdtsc();
            let ticks = (ns as u128 * tsc_hz as u128 / 1_000_000_000) as u64;
            while cpu::rdtsc() - t0 < ticks {
                if AP_STARTED.load(Ordering::Acquire) == cpu_no {
                    return true;
                }
                cpu::pause();
            }
            AP_STARTED.load(Ordering::Acquire) == cpu_no
        };
        apic::send_init(id);
        wait(10_000_000);
        apic::send_startup(id, (TRAMPOLINE >> 12) as u8);
        if !wait(1_000_000) {
            apic::send_startup(id, (TRAMPOLINE >> 12) as u8);
            if !wait(1_000_000_000) {
                kprintln!("rumprun: CPU with APIC id {id} did not start; going on without it");
                continue;
            }
        }
        percpu::mark_online();
        started += 1;
    }
    started
}
