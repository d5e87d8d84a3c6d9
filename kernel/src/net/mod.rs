//! The TCP/IP stack (crate `rumprun-net`, on smoltcp) over the network cards
//! (`drivers::netdev`): created at boot when the config has `net` blocks (or on the
//! first socket, for loopback), configured from those blocks (static, DHCP — the boot
//! waits for the lease and writes /etc/resolv.conf —, IPv6 link-local and SLAAC — the
//! boot waits up to 5 s for a router advertisement), and driven by
//! `poll`: on every socket operation and whenever a waiter wakes. Cards wake waiters
//! by interrupt when a frame arrives; a waiter otherwise sleeps until the stack's next
//! timer (`next_deadline`: retransmits, delayed ACKs, DHCP renewal), so an idle guest
//! halts. A card without interrupts is polled every `POLL_INTERVAL_NS`.

pub mod device;
pub mod ifreq;
pub mod metadata;
pub mod netlink;
pub mod socket;

use crate::drivers::netdev;
use alloc::format;
use alloc::string::String;
use core::sync::atomic::{AtomicBool, Ordering};
use device::Nic;
use rumprun_config::Net;
use rumprun_net::Stack;
use spin::Mutex;

static STACK: Mutex<Option<Stack<Nic>>> = Mutex::new(None);

/// How often a waiter on sockets re-checks cards that have no interrupts.
pub const POLL_INTERVAL_NS: u64 = 2_000_000;

/// The longest a thread blocked on one socket (`wait_bits`) sleeps before it looks
/// at its socket again by itself.
const SOCKET_WAIT_CAP_NS: u64 = 100_000_000;

fn now_ms() -> u64 {
    crate::time::monotonic_ns() / 1_000_000
}

fn new_stack() -> Stack<Nic> {
    let mut seed = [0u8; 8];
    crate::random::fill(&mut seed);
    let mut stack = Stack::new(u64::from_le_bytes(seed), now_ms());
    for (i, dev) in netdev::all().into_iter().enumerate() {
        let mac = dev.mac();
        let name = format!("eth{i}");
        let notifies = dev.interrupt_driven();
        let index = if dev.large_send() {
            let link_mtu = dev.mtu() - 14;
            stack.add_large_send_interface(&name, Nic(dev), mac, link_mtu)
        } else {
            stack.add_interface(&name, Nic(dev), mac)
        };
        // Its interrupt notifies waiters (`fd::wait::notify`), so a frame that comes
        // while the stack polls makes the next `poll` run: polls need no last look.
        stack.set_notifies(index, notifies);
    }
    stack
}

/// What the last poll left behind, so that the many readiness checks of one
/// poll/epoll scan (one per socket) cost one stack poll rather than one each: a poll
/// in the same millisecond, with no `fd::wait::notify` since (cards notify when a
/// frame arrives; socket calls poll after themselves) and no work left queued
/// (`Stack::needs_poll`), would find nothing to do.
struct LastPoll {
    /// The ms of a poll that left nothing queued, or u64::MAX (also when a card has
    /// no interrupts: then only polling finds its frames).
    idle_at_ms: u64,
    /// `fd::wait::notifications()` right after it.
    notifications: u64,
    /// The stack's next timer (ms) as the last poll left it, once a waiter asked
    /// (None: not computed since that poll; it walks every socket).
    next_timer_ms: Option<Option<u64>>,
}

static LAST_POLL: Mutex<LastPoll> = Mutex::new(LastPoll {
    idle_at_ms: u64::MAX,
    notifications: 0,
    next_timer_ms: None,
});

/// The send buffer for the TCP connections made next (`Stack::set_tcp_send_buffer`):
/// 1/256 of the free memory, so that a bulk transfer has room in flight when memory
/// is plentiful (512 KiB at most, from 128 MiB free), while connections made one
/// after another can take only a shrinking share of what is left (64 KiB, the
/// smallest, below 16 MiB free).
fn tcp_send_buffer() -> usize {
    let (free_frames, _) = crate::mm::frames::stats();
    free_frames.saturating_mul(crate::arch::paging::PAGE_SIZE as usize) / 256
}

/// How many more polls `poll_stack` makes for frames that wait on a card after a
/// poll (bounded: a flood must not keep one caller polling forever; the frames left
/// then raise an interrupt or are taken by the next poll).
///
/// Why a look after the poll: the virtio-net driver re-arms its receive interrupt when
/// it finds the ring empty (writes `used_event`, a full fence, then reads the used
/// index once more: a Dekker handshake with the device, which writes the index, fences
/// and reads `used_event`). Under QEMU's TCG with one vCPU, QEMU before 8.1 drops the
/// guest's fences (commit c914d46d0a64 "tcg: Do not elide memory barriers for
/// !CF_PARALLEL in system mode"), so the store can still sit in the host CPU's store
/// buffer while the re-read runs: a frame the device pushes then is neither seen nor
/// interrupted for, and as `used_event` now lags the index no later frame interrupts
/// either, until the driver looks at the ring again. The guest halted with frames in
/// the ring (the benchmark smoke run's HTTP server behind user networking). A look
/// after the poll's egress (microseconds later, the store long visible) finds such a
/// frame; one pushed after the store is visible raises its interrupt.
const LAST_LOOKS: usize = 4;

/// Whether `poll_stack` takes its last look (`RUMPRUN_NET_LAST_LOOK=0` turns it off, to
/// show what it prevents: tests/system/tests/network.rs).
static LAST_LOOK: AtomicBool = AtomicBool::new(true);

/// Turns the last look after each poll on or off (see `LAST_LOOKS`).
pub fn set_last_look(on: bool) {
    LAST_LOOK.store(on, Ordering::Relaxed);
}

/// Polls `stack` at `now` and records the outcome in LAST_POLL; wakes waiters when
/// something changed.
fn poll_stack(stack: &mut Stack<Nic>, now: u64) -> bool {
    // Before the poll: a SYN it takes re-arms the listener with a new connection.
    stack.set_tcp_send_buffer(tcp_send_buffer());
    let mut changed = stack.poll(now);
    // Sent frames wait for the batch's kick (see `netdev::kick_pending`).
    netdev::schedule_kick(crate::time::monotonic_ns());
    wake_waiters(stack, changed);
    // The last look: a frame the card took while the poll re-armed its interrupt may
    // have raised none (see LAST_LOOKS); another poll takes it now.
    let look = LAST_LOOK.load(Ordering::Relaxed);
    let mut waiting = look && netdev::any_frame_waiting();
    for _ in 0..LAST_LOOKS {
        if !waiting {
            break;
        }
        // Each poll's waiters are woken after it (a poll forgets whom the last woke).
        let again = stack.poll(now);
        netdev::schedule_kick(crate::time::monotonic_ns());
        wake_waiters(stack, again);
        changed |= again;
        waiting = look && netdev::any_frame_waiting();
    }
    if waiting {
        // Still more (a flood): the next poll must not be skipped, and whoever waits
        // looks again.
        crate::fd::wait::notify_frame();
    }
    // Skippable also after a poll that changed something (it received a request,
    // sent a reply): it sent what the frames called for and the last look found no
    // frame waiting, so unless it left work queued, the next readiness check of the
    // same scan (one per epoll entry) or the program's next wait would poll for
    // nothing. (redis at one client: three polls per request are left, the request's,
    // the read's and the reply's.)
    let skippable = !waiting && !stack.needs_poll() && netdev::all_interrupt_driven();
    *LAST_POLL.lock() = LastPoll {
        idle_at_ms: if skippable { now } else { u64::MAX },
        notifications: crate::fd::wait::notifications(),
        next_timer_ms: None,
    };
    changed
}

/// Wakes the waiters of what the stack's last poll or settle changed.
fn wake_waiters(stack: &Stack<Nic>, changed: bool) {
    if changed {
        // Threads blocked on one socket wake only for their socket's bit; poll,
        // select and epoll waiters for any.
        let woken = stack.woken();
        if woken.all {
            crate::fd::wait::notify();
        } else if woken.sockets != 0 {
            crate::fd::wait::notify_bits(woken.sockets);
        }
    }
}

/// Whether a poll at `now` (ms) would find nothing to do: the last one left nothing
/// queued in this same millisecond and nothing was notified since (see LastPoll).
fn idle_since_last_poll(now: u64) -> bool {
    let last = LAST_POLL.lock();
    last.idle_at_ms == now && last.notifications == crate::fd::wait::notifications()
}

/// Runs `f` on the stack (created on first use), then polls it; or, when `f` queued
/// nothing and a poll would find nothing else to do, only settles the readiness `f`
/// may have changed (nginx at one connection: its TCP_CORK settings and the corked
/// writes of a response made half of its six polls per request).
pub fn with<R>(f: impl FnOnce(&mut Stack<Nic>) -> R) -> R {
    let mut guard = STACK.lock();
    // smoltcp interfaces hold their IP reassembly and fragmentation buffers inline
    // and are built on the stack before they reach the heap: too big for a
    // kernel stack, so they are built on a heap stack of their own.
    let stack = guard.get_or_insert_with(|| {
        crate::arch::x86_64::bigstack::call_on_heap_stack(1 << 20, new_stack)
    });
    stack.set_tcp_send_buffer(tcp_send_buffer()); // for a connect or listen in `f`
    let r = f(stack);
    let now = now_ms();
    if !stack.needs_poll() && idle_since_last_poll(now) {
        let changed = stack.settle(now);
        wake_waiters(stack, changed);
        // A call may have moved a timer (TCP_CORK's 200 ms, keep-alive): asked anew.
        LAST_POLL.lock().next_timer_ms = None;
    } else {
        poll_stack(stack, now);
    }
    r
}

/// Runs `f` on the stack without polling it (readiness of a socket that exists:
/// callers poll first). None when there is no stack yet.
pub fn peek<R>(f: impl FnOnce(&Stack<Nic>) -> R) -> Option<R> {
    STACK.lock().as_ref().map(f)
}

/// Drives timers and moves packets; wakes waiters when something changed. Skipped
/// when the last poll found nothing to do in this same millisecond and nothing has
/// been notified since (see LastPoll).
pub fn poll() {
    // A readiness check: the program is about to wait, or to learn it need not.
    netdev::kick_pending();
    let now = now_ms();
    if idle_since_last_poll(now) {
        return;
    }
    if let Some(stack) = STACK.lock().as_mut() {
        poll_stack(stack, now);
    }
}

/// When a socket waiter must look again by itself (monotonic ns): the stack's next
/// timer (as the last poll left it); with a card that has no interrupts, within
/// `POLL_INTERVAL_NS` too. None: only an interrupt or another thread's socket call
/// changes anything.
pub fn next_deadline() -> Option<u64> {
    let now = crate::time::monotonic_ns();
    let now_ms = now / 1_000_000;
    let cached = LAST_POLL.lock().next_timer_ms;
    let timer_ms = cached.unwrap_or_else(|| {
        let t = STACK.lock().as_mut().and_then(|s| s.poll_at(now_ms));
        LAST_POLL.lock().next_timer_ms = Some(t);
        t
    });
    let at = timer_ms.map(|ms| {
        if ms > now_ms {
            ms * 1_000_000
        } else {
            // Due now: the stack counts in ms, so wake at the next one (no spinning).
            (now_ms + 1) * 1_000_000
        }
    });
    let polled = (!netdev::all_interrupt_driven()).then_some(now + POLL_INTERVAL_NS);
    crate::fd::wait::earliest(at, polled)
}

/// Sleeps until a socket may have changed (an interrupt, another thread's socket call,
/// the stack's next timer) or `deadline` passes, then polls the stack.
pub fn wait(deadline: Option<u64>) -> crate::sched::Wake {
    wait_bits(u32::MAX, deadline)
}

/// As `wait`, for a thread blocked on the sockets of `bits` (`rumprun_net::wait_bit`):
/// another socket's event does not wake it.
pub fn wait_bits(bits: u32, deadline: Option<u64>) -> crate::sched::Wake {
    netdev::kick_pending();
    let mut deadline = crate::fd::wait::earliest(deadline, next_deadline());
    if bits != u32::MAX {
        // A backstop, not the way it wakes: a readiness change that a poll failed to
        // attribute to this socket costs at most this long, never a hang (before
        // per-socket bits any socket's event woke every waiter, which hid such a miss).
        let cap = crate::time::monotonic_ns() + SOCKET_WAIT_CAP_NS;
        deadline = crate::fd::wait::earliest(deadline, Some(cap));
    }
    let wake = crate::fd::wait::wait_bits(bits, deadline);
    poll();
    wake
}

/// A static `net` block's address, prefix length and optional gateway, parsed as
/// IPv4 or IPv6 addresses (`A`); the error names the field that did not parse.
fn static_address<A: core::str::FromStr>(n: &Net) -> Result<(A, u8, Option<A>), &'static str> {
    fn field<T: core::str::FromStr>(
        v: &Option<String>,
        err: &'static str,
    ) -> Result<T, &'static str> {
        v.as_deref().unwrap_or("").parse().map_err(|_| err)
    }
    let addr = field(&n.addr, "bad addr")?;
    let prefix = field(&n.mask, "bad mask")?;
    let gw = match n.gw {
        Some(_) => Some(field(&n.gw, "bad gw")?),
        None => None,
    };
    Ok((addr, prefix, gw))
}

/// Applies the config's `net` blocks; DHCP waits (up to 10 s) for its lease.
pub fn configure(nets: &[Net], verbose: bool) -> Result<(), String> {
    configure_before_fs(nets, verbose)?;
    if nets.iter().any(|n| n.method == "dhcp") {
        write_resolv_conf();
    }
    Ok(())
}

/// Writes the DHCP leases' DNS servers to /etc/resolv.conf.
pub fn write_resolv_conf() {
    let conf = with(|s| s.resolv_conf());
    let _ =
        rumprun_vfs::boot_tree::write_file(crate::fs::vfs(), b"/etc/resolv.conf", conf.as_bytes());
}

/// [`configure`] without writing /etc/resolv.conf (the file systems may not exist
/// yet: the metadata service is asked before they are set up).
pub fn configure_before_fs(nets: &[Net], verbose: bool) -> Result<(), String> {
    if nets.is_empty() {
        return Ok(());
    }
    let mut dhcp = alloc::vec::Vec::new();
    let mut slaac = alloc::vec::Vec::new();
    for n in nets {
        let card = n.index().unwrap_or(0);
        let name = format!("eth{card}");
        let index = with(|s| s.interface_index(&name)).ok_or_else(|| {
            format!(
                "net {}: no such card (rumprun -I adds them; there are {}{})",
                n.iface,
                netdev::all().len(),
                crate::drivers::missing_device_hint()
            )
        })?;
        let bad = |what: &str| format!("net {}: {what}", n.iface);
        match (n.family.as_str(), n.method.as_str()) {
            ("inet", "dhcp") => {
                with(|s| s.start_dhcpv4(index)).map_err(|e| bad(&format!("DHCP: {}", e.name())))?;
                dhcp.push((index, n.iface.clone()));
            }
            ("inet", "static") => {
                let (addr, prefix, gw) = static_address(n).map_err(bad)?;
                with(|s| s.set_ipv4(index, addr, prefix, gw)).map_err(|e| bad(e.name()))?;
            }
            ("inet6", "auto") => {
                with(|s| s.enable_ipv6_auto(index)).map_err(|e| bad(e.name()))?;
                slaac.push((index, n.iface.clone()));
            }
            ("inet6", "static") => {
                let (addr, prefix, gw) = static_address(n).map_err(bad)?;
                with(|s| s.add_ipv6(index, addr, prefix, gw)).map_err(|e| bad(e.name()))?;
            }
            _ => return Err(bad("unsupported type/method")),
        }
    }
    if !dhcp.is_empty() {
        let deadline = crate::time::monotonic_ns() + 10_000_000_000;
        loop {
            let leased = with(|s| {
                s.interfaces()
                    .iter()
                    .filter(|i| dhcp.iter().any(|(x, _)| *x == i.index))
                    .all(|i| i.dhcp.is_some())
            });
            if leased {
                break;
            }
            if crate::time::monotonic_ns() >= deadline {
                return Err(format!("net {}: no DHCP lease within 10 s", dhcp[0].1));
            }
            wait(Some(deadline));
        }
    }
    wait_for_slaac(&slaac);
    if verbose {
        for i in with(|s| s.interfaces()) {
            kprintln!("rumprun: {}: {:?} gw {:?}", i.name, i.addrs, i.ipv4_gateway);
        }
    }
    Ok(())
}

/// Waits (up to 5 s) until every `inet6,auto` interface has an address from a router
/// advertisement; a link without a router keeps its link-local address only, which
/// is logged, not an error.
fn wait_for_slaac(ifaces: &[(u32, String)]) {
    if ifaces.is_empty() {
        return;
    }
    let global = |i: &rumprun_net::IfaceInfo| {
        i.addrs.iter().any(|(a, _)| match a {
            core::net::IpAddr::V6(v6) => !v6.is_unicast_link_local() && !v6.is_loopback(),
            _ => false,
        })
    };
    let deadline = crate::time::monotonic_ns() + 5_000_000_000;
    loop {
        let infos = with(|s| s.interfaces());
        let missing = ifaces
            .iter()
            .find(|(x, _)| infos.iter().any(|i| i.index == *x && !global(i)));
        let Some((_, name)) = missing else { return };
        if crate::time::monotonic_ns() >= deadline {
            kprintln!("rumprun: net {name}: no IPv6 router advertisement within 5 s; link-local address only");
            return;
        }
        crate::sched::sleep_until(crate::time::monotonic_ns() + POLL_INTERVAL_NS);
    }
}

/// Before the VM powers off: keeps the stack running (up to 5 s) until every TCP
/// connection has sent what the program wrote, as Linux would after the program exits.
pub fn drain() {
    // Without a stack there is nothing to drain: return before touching the clock,
    // whose first use costs a 10 ms calibration.
    if STACK.lock().is_none() {
        return;
    }
    let deadline = crate::time::monotonic_ns() + 5_000_000_000;
    while STACK.lock().as_ref().is_some_and(|s| s.tcp_send_pending())
        && crate::time::monotonic_ns() < deadline
    {
        wait(Some(deadline));
    }
    poll();
    for nic in netdev::all() {
        nic.flush();
    }
}
