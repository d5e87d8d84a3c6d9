//! Xen hypercalls: finding Xen through CPUID (leaves 0x40000000 + n*0x100, signature
//! "XenVMMXenVMM"), installing the hypercall page (Xen writes one 32-byte stub per
//! hypercall into a page of the kernel image we give it through the MSR CPUID names) and calling the stubs
//! with the 64-bit ABI (rdi, rsi, rdx, r10, r8; result in rax). Pointer arguments are
//! kernel virtual addresses: Xen reads an HVM/PVH guest's memory through its page tables.

use crate::arch::cpu;
use crate::arch::paging::KERNEL_VMA;
use core::sync::atomic::{AtomicU64, Ordering};

const MEMORY_OP: u64 = 12;
const SCHED_OP: u64 = 29;
const EVENT_CHANNEL_OP: u64 = 32;
const HVM_OP: u64 = 34;

/// "XenVMMXenVMM" as CPUID returns it in ebx, ecx, edx.
const SIGNATURE: [u32; 3] = [0x566e_6558, 0x65584d4d, 0x4d4d566e];

pub const DOMID_SELF: u16 = 0x7ff0;

/// The page Xen fills with the stubs: in the kernel image, so hypercalls (shutdown
/// above all) work from the first line of `kernel_main`, before any frame allocator.
#[repr(C, align(4096))]
struct StubPage(core::cell::UnsafeCell<[u8; 4096]>);
// SAFETY: only Xen writes it, once, before anyone calls through it.
unsafe impl Sync for StubPage {}
static STUBS: StubPage = StubPage(core::cell::UnsafeCell::new([0; 4096]));

/// Virtual address of the hypercall page (0 until installed).
static PAGE: AtomicU64 = AtomicU64::new(0);

/// The CPUID base of Xen's leaves, when running on Xen.
pub fn cpuid_base() -> Option<u32> {
    (0x4000_0000..0x4001_0000).step_by(0x100).find(|&base| {
        let r = cpu::cpuid(base, 0);
        [r.ebx, r.ecx, r.edx] == SIGNATURE && r.eax >= base + 2
    })
}

/// Has Xen fill the kernel's stub page with the hypercall stubs.
pub fn install_page(cpuid_base: u32) {
    let virt = STUBS.0.get() as u64;
    let msr = cpu::cpuid(cpuid_base + 2, 0).ebx;
    cpu::wrmsr(msr, virt - KERNEL_VMA);
    PAGE.store(virt, Ordering::Release);
}

/// Calls hypercall `nr` with up to three arguments. Xen's debug builds clobber the
/// argument registers, so they are all treated as clobbered.
fn call(nr: u64, a1: u64, a2: u64, a3: u64) -> i64 {
    let page = PAGE.load(Ordering::Acquire);
    if page == 0 {
        return -38; // ENOSYS: no hypercall page yet
    }
    let ret: i64;
    // SAFETY: `page` is the stub page Xen filled (install_page ran); each hypercall's stub
    // is 32 bytes at `nr * 32`; the stub follows the Xen ABI, and every register it may
    // change is declared clobbered.
    unsafe {
        core::arch::asm!(
            "call {stub}",
            stub = in(reg) page + nr * 32,
            inlateout("rdi") a1 => _,
            inlateout("rsi") a2 => _,
            inlateout("rdx") a3 => _,
            lateout("rax") ret,
            lateout("rcx") _,
            lateout("r8") _,
            lateout("r10") _,
            lateout("r11") _,
        );
    }
    ret
}

pub fn memory_op<T>(cmd: u64, arg: &mut T) -> i64 {
    call(MEMORY_OP, cmd, arg as *mut T as u64, 0)
}

pub fn sched_op<T>(cmd: u64, arg: &mut T) -> i64 {
    call(SCHED_OP, cmd, arg as *mut T as u64, 0)
}

pub fn event_channel_op<T>(cmd: u64, arg: &mut T) -> i64 {
    call(EVENT_CHANNEL_OP, cmd, arg as *mut T as u64, 0)
}

#[repr(C)]
struct HvmParam {
    domid: u16,
    index: u32,
    value: u64,
}

const HVMOP_SET_PARAM: u64 = 0;
const HVMOP_GET_PARAM: u64 = 1;

pub const HVM_PARAM_CALLBACK_IRQ: u32 = 0;
pub const HVM_PARAM_STORE_PFN: u32 = 1;
pub const HVM_PARAM_STORE_EVTCHN: u32 = 2;
pub const HVM_PARAM_CONSOLE_PFN: u32 = 17;
pub const HVM_PARAM_CONSOLE_EVTCHN: u32 = 18;

/// Reads one of our HVM parameters.
pub fn hvm_get_param(index: u32) -> Result<u64, i64> {
    let mut p = HvmParam {
        domid: DOMID_SELF,
        index,
        value: 0,
    };
    match call(HVM_OP, HVMOP_GET_PARAM, &mut p as *mut HvmParam as u64, 0) {
        0 => Ok(p.value),
        e => Err(e),
    }
}

pub fn hvm_set_param(index: u32, value: u64) -> Result<(), i64> {
    let mut p = HvmParam {
        domid: DOMID_SELF,
        index,
        value,
    };
    match call(HVM_OP, HVMOP_SET_PARAM, &mut p as *mut HvmParam as u64, 0) {
        0 => Ok(()),
        e => Err(e),
    }
}

#[repr(C)]
struct AddToPhysmap {
    domid: u16,
    size: u16,
    space: u32,
    idx: u64,
    gpfn: u64,
}

const XENMEM_ADD_TO_PHYSMAP: u64 = 7;
pub const XENMAPSPACE_SHARED_INFO: u32 = 0;

/// Places Xen's page `idx` of `space` at our physical frame `paddr`.
pub fn add_to_physmap(space: u32, idx: u64, paddr: u64) -> Result<(), i64> {
    let mut a = AddToPhysmap {
        domid: DOMID_SELF,
        size: 0,
        space,
        idx,
        gpfn: paddr >> 12,
    };
    match memory_op(XENMEM_ADD_TO_PHYSMAP, &mut a) {
        0 => Ok(()),
        e => Err(e),
    }
}

#[repr(C)]
struct SchedShutdown {
    reason: u32,
}

const SCHEDOP_SHUTDOWN: u64 = 2;
pub const SHUTDOWN_POWEROFF: u32 = 0;
pub const SHUTDOWN_CRASH: u32 = 3;

/// Ends the domain with `reason`; returns only if Xen refused.
pub fn shutdown(reason: u32) -> i64 {
    sched_op(SCHEDOP_SHUTDOWN, &mut SchedShutdown { reason })
}
