//! Event channels: notifying the other end (EVTCHNOP_send), waiting for one port with
//! SCHEDOP_poll (works with interrupts off: boot, exit, fault reports), and delivery as
//! an interrupt through the HVM callback vector (HVM_PARAM_CALLBACK_IRQ, type vector),
//! which Xen injects directly while vCPU 0's `evtchn_upcall_pending` is set. The upcall
//! handler takes the pending unmasked ports and runs their handlers.

use super::{clock, hypercall, shared_info};
use spin::Mutex;

const EVTCHNOP_SEND: u64 = 4;
const EVTCHNOP_ALLOC_UNBOUND: u64 = 6;
const SCHEDOP_POLL: u64 = 3;
/// HVM_PARAM_CALLBACK_IRQ value type 2: "deliver as this vector".
const CALLBACK_TYPE_VECTOR: u64 = 2 << 56;

/// Ports with a handler (the rest stay masked and are only polled).
const MAX_HANDLERS: usize = 8;
/// A port and the function its events run.
type PortHandler = (u32, fn());
static HANDLERS: Mutex<[Option<PortHandler>; MAX_HANDLERS]> = Mutex::new([None; MAX_HANDLERS]);

/// Tells the other end of `port` that there is something for it.
pub fn notify(port: u32) {
    let mut arg = port;
    hypercall::event_channel_op(EVTCHNOP_SEND, &mut arg);
}

#[repr(C)]
struct AllocUnbound {
    dom: u16,
    remote_dom: u16,
    port: u32,
}

/// A new port for domain `remote` to bind to (a backend, told through xenstore).
pub fn alloc_unbound(remote: u16) -> Result<u32, i64> {
    let mut arg = AllocUnbound {
        dom: hypercall::DOMID_SELF,
        remote_dom: remote,
        port: 0,
    };
    match hypercall::event_channel_op(EVTCHNOP_ALLOC_UNBOUND, &mut arg) {
        0 => Ok(arg.port),
        e => Err(e),
    }
}

#[repr(C)]
struct SchedPoll {
    ports: u64,
    nr_ports: u32,
    timeout: u64,
}

/// Blocks the vCPU until `port` is pending or `deadline_ns` (Xen system time) passes,
/// then clears the port's pending bit.
pub fn poll(port: u32, deadline_ns: u64) {
    let mut p = port;
    let mut arg = SchedPoll {
        ports: &mut p as *mut u32 as u64,
        nr_ports: 1,
        timeout: deadline_ns,
    };
    hypercall::sched_op(SCHEDOP_POLL, &mut arg);
    shared_info::clear_pending(port);
}

/// Xen system time `ms` milliseconds from now, for `poll` deadlines.
pub fn deadline_in_ms(ms: u64) -> u64 {
    clock::system_time_ns() + ms * 1_000_000
}

/// Starts interrupt delivery of events through a device vector.
pub fn init_upcall() -> Result<(), &'static str> {
    // Everything masked until a handler asks for its port.
    shared_info::mask_all();
    let vector = crate::drivers::irq::allocate_direct(alloc::boxed::Box::new(upcall))
        .ok_or("no interrupt vector is free")?;
    hypercall::hvm_set_param(
        hypercall::HVM_PARAM_CALLBACK_IRQ,
        CALLBACK_TYPE_VECTOR | vector as u64,
    )
    .map_err(|_| "Xen refused the event callback vector")?;
    shared_info::set_upcall_mask(false);
    Ok(())
}

/// Runs `handler` (in interrupt context) whenever `port` fires, and unmasks it.
pub fn bind(port: u32, handler: fn()) -> Result<(), &'static str> {
    let mut h = HANDLERS.lock();
    let slot = h
        .iter()
        .position(Option::is_none)
        .ok_or("too many event channel handlers")?;
    h[slot] = Some((port, handler));
    shared_info::set_masked(port, false);
    Ok(())
}

/// The callback vector's handler.
fn upcall() {
    let mut selector = shared_info::take_pending_selector();
    while selector != 0 {
        let w = selector.trailing_zeros() as usize;
        selector &= selector - 1;
        let mut ready = shared_info::take_pending_word(w);
        while ready != 0 {
            let port = (w * 64) as u32 + ready.trailing_zeros();
            ready &= ready - 1;
            let handler = HANDLERS
                .try_lock()
                .and_then(|h| h.iter().flatten().find(|(p, _)| *p == port).map(|e| e.1));
            if let Some(f) = handler {
                f();
            }
        }
    }
}
