//! The smoltcp sockets of one interface, split so that the stack's work per packet does
//! not grow with the number of connections: a *main* [`SocketSet`] for listeners, UDP
//! and DHCP sockets, and a set of its own for each TCP connection (connected, accepted,
//! or closed and finishing).
//!
//! smoltcp's `Interface` finds the socket of an incoming segment, and the sockets with
//! something to send, by walking the set it is handed, and lets each socket emit one
//! segment per walk: with one set for everything, a 64 KiB burst on one of 64
//! connections walked all of them 44 times. Here ingress hands smoltcp only the set the
//! frame belongs to ([`Sockets::route`]: the connection's own set, found by its
//! addresses and ports in a map, else the main set, where listeners answer SYNs and
//! unknown segments get their reset as before), and egress polls only the sets that may
//! have something to send: those a socket call or a received frame touched since
//! their last egress ([`Sockets::get_mut`] marks them) and those whose next timer is
//! due, each until it has nothing more to send.
//!
//! [`Handle`] names a socket in either kind of set; the other modules use [`Sockets`]
//! as they would a `SocketSet` (`add`, `get`, `get_mut`, `remove`). `add` puts a TCP
//! socket that already has both endpoints in a set of its own; [`Sockets::adopt`] moves
//! a listener's socket there once a SYN made it a connection.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use smoltcp::iface::{SocketHandle, SocketSet};
use smoltcp::phy::Medium;
use smoltcp::socket::{tcp, AnySocket, Socket};
use smoltcp::time::Instant;
use smoltcp::wire::{IpAddress, IpEndpoint, Ipv4Address, Ipv6Address};

/// A socket of an interface: in the main set, or alone in set number `n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Handle {
    /// In the main set.
    Main(SocketHandle),
    /// Alone in its own set.
    Own(u32),
}

/// A TCP connection's addresses and ports: (local, remote).
type Flow = (IpEndpoint, IpEndpoint);

/// A set holding one TCP connection.
struct Own {
    set: SocketSet<'static>,
    handle: SocketHandle,
    flow: Option<Flow>,
    /// Touched since its last egress (a socket call or a received frame).
    dirty: bool,
    /// Its next timer as of its last egress (None: only a frame or a call moves it).
    next: Option<Instant>,
    /// Egress polled it (or a frame or a call reached it) since the stack last
    /// recomputed the connection's readiness ([`Sockets::take_changed`]).
    changed: bool,
    /// The stack socket (its index) whose connection this is, as the stack's last
    /// readiness update of it said ([`Sockets::set_owner`]); None for a listener's
    /// pending connection and an orphan.
    owner: Option<u32>,
}

/// Where a received frame goes.
pub(crate) enum Route {
    /// The main set.
    Main,
    /// A connection's own set.
    Own(u32),
    /// Nowhere: a TCP fragment (see [`Sockets::route`]).
    Drop,
}

/// The sockets of one interface.
pub(crate) struct Sockets {
    main: SocketSet<'static>,
    own: Vec<Option<Own>>,
    /// Emptied sets, kept for the next connection.
    spare: Vec<SocketSet<'static>>,
    free: Vec<u32>,
    flows: BTreeMap<Flow, u32>,
    /// The sets marked dirty since the last egress, each once per marking (a slot
    /// freed or reused meanwhile is skipped, or polled as it is then): egress polls
    /// these rather than looking at every connection, whose number a server's
    /// request does not otherwise depend on.
    touched: Vec<u32>,
    /// No connection's timer ([`Own::next`]) is earlier than this (None: none has
    /// one). Egress looks at every set only once it is due, and then recomputes it.
    timer_floor: Option<Instant>,
    /// The sets whose [`Own::changed`] was set since the last
    /// [`Sockets::drain_changed`], each once per setting: the stack recomputes the
    /// readiness of their owners only, not of every connection.
    changed: Vec<u32>,
}

impl Sockets {
    pub(crate) fn new() -> Self {
        Sockets {
            main: SocketSet::new(Vec::new()),
            own: Vec::new(),
            spare: Vec::new(),
            free: Vec::new(),
            flows: BTreeMap::new(),
            touched: Vec::new(),
            timer_floor: None,
            changed: Vec::new(),
        }
    }

    /// Adds a socket: a TCP socket with both endpoints (a connect) to a set of its own,
    /// any other to the main set.
    pub(crate) fn add<T: AnySocket<'static>>(&mut self, socket: T) -> Handle {
        let socket = socket.upcast();
        match &socket {
            Socket::Tcp(t) if flow_of(t).is_some() => self.add_own(socket),
            _ => Handle::Main(self.main.add(socket)),
        }
    }

    fn add_own(&mut self, socket: Socket<'static>) -> Handle {
        let flow = match &socket {
            Socket::Tcp(t) => flow_of(t),
            _ => None,
        };
        let mut set = self
            .spare
            .pop()
            .unwrap_or_else(|| SocketSet::new(Vec::new()));
        let handle = set.add(socket);
        let own = Own {
            set,
            handle,
            flow,
            dirty: true,
            changed: true,
            next: None,
            owner: None,
        };
        let n = match self.free.pop() {
            Some(n) => {
                self.own[n as usize] = Some(own);
                n
            }
            None => {
                self.own.push(Some(own));
                self.own.len() as u32 - 1
            }
        };
        if let Some(f) = flow {
            self.flows.insert(f, n);
        }
        self.touched.push(n);
        self.changed.push(n);
        Handle::Own(n)
    }

    /// Moves a main-set TCP socket that has become a connection (a listener's, after
    /// a SYN) to a set of its own; other sockets stay where they are.
    pub(crate) fn adopt(&mut self, h: Handle) -> Handle {
        match h {
            Handle::Main(m) => match self.main.get::<Socket>(m) {
                Socket::Tcp(t) if flow_of(t).is_some() => {
                    let socket = self.main.remove(m);
                    self.add_own(socket)
                }
                _ => h,
            },
            Handle::Own(_) => h,
        }
    }

    fn own(&self, n: u32) -> &Own {
        self.own[n as usize]
            .as_ref()
            .expect("a handle to a removed socket")
    }

    fn own_mut(&mut self, n: u32) -> &mut Own {
        self.own[n as usize]
            .as_mut()
            .expect("a handle to a removed socket")
    }

    /// Marks set `n` for the next egress (and its readiness for recomputing).
    fn touch(&mut self, n: u32) -> &mut Own {
        let o = self.own[n as usize]
            .as_mut()
            .expect("a handle to a removed socket");
        if !o.dirty {
            o.dirty = true;
            self.touched.push(n);
        }
        mark_changed(o, n, &mut self.changed);
        o
    }

    /// The socket `h` (panics on a handle of another type, as `SocketSet::get`).
    pub(crate) fn get<T: AnySocket<'static>>(&self, h: Handle) -> &T {
        match h {
            Handle::Main(m) => self.main.get(m),
            Handle::Own(n) => {
                let o = self.own(n);
                o.set.get(o.handle)
            }
        }
    }

    /// The socket `h`, to change: its set is polled for egress next time.
    pub(crate) fn get_mut<T: AnySocket<'static>>(&mut self, h: Handle) -> &mut T {
        match h {
            Handle::Main(m) => self.main.get_mut(m),
            Handle::Own(n) => {
                let o = self.touch(n);
                o.set.get_mut(o.handle)
            }
        }
    }

    /// Removes the socket `h` and returns it.
    pub(crate) fn remove(&mut self, h: Handle) -> Socket<'static> {
        match h {
            Handle::Main(m) => self.main.remove(m),
            Handle::Own(n) => {
                let mut o = self.own[n as usize]
                    .take()
                    .expect("a handle to a removed socket");
                if let Some(f) = o.flow {
                    if self.flows.get(&f) == Some(&n) {
                        self.flows.remove(&f);
                    }
                }
                self.free.push(n);
                let socket = o.set.remove(o.handle);
                self.spare.push(o.set);
                socket
            }
        }
    }

    /// Every socket.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Socket<'static>> {
        self.main.iter().map(|(_, s)| s).chain(
            self.own
                .iter()
                .flatten()
                .flat_map(|o| o.set.iter().map(|(_, s)| s)),
        )
    }

    /// The set a route names, marked for egress.
    pub(crate) fn set_mut(&mut self, r: &Route) -> &mut SocketSet<'static> {
        match r {
            Route::Own(n) => &mut self.touch(*n).set,
            _ => &mut self.main,
        }
    }

    /// Where the received `frame` (an Ethernet frame, or an IP packet on an IP
    /// medium) goes: a TCP segment of a live connection with a set of its own to that
    /// set, anything else to the main set. TCP fragments are dropped: only their
    /// reassembly would show whose they are (Linux's TCP sends no fragments: it sets
    /// DF; the virtio-net driver drops them already when it checks TCP checksums).
    ///
    /// An ARP or ICMPv6 frame (a neighbor's address, which a connection may have been
    /// waiting for to send) marks every connection's set for egress.
    pub(crate) fn route(&mut self, frame: &[u8], medium: Medium) -> Route {
        let Some(seg) = parse_tcp(frame, medium) else {
            if is_neighbor_frame(frame, medium) {
                for (n, o) in self.own.iter_mut().enumerate() {
                    if let Some(o) = o.as_mut().filter(|o| !o.dirty) {
                        o.dirty = true;
                        self.touched.push(n as u32);
                    }
                }
            }
            return Route::Main;
        };
        let Some(flow) = seg else {
            return Route::Drop;
        };
        match self.flows.get(&flow) {
            Some(&n) => {
                let o = self.own(n);
                let t = o.set.get::<tcp::Socket>(o.handle);
                if t.state() != tcp::State::Closed && flow_of(t) == Some(flow) {
                    Route::Own(n)
                } else {
                    Route::Main
                }
            }
            None => Route::Main,
        }
    }

    /// Calls `egress` on the main set and on each connection's set that was touched
    /// since its last egress or whose timer is due at `now`; it returns whether it
    /// sent anything and, when its second argument is true (a connection's set), the
    /// set's next timer after that (the main set's is not kept here: asked for only
    /// when a waiter needs it, `Iface::poll_at`). Returns whether any sent.
    /// Looks at the touched sets only ([`Sockets::touched`]) until the earliest timer
    /// may be due.
    pub(crate) fn egress(
        &mut self,
        now: Instant,
        mut egress: impl FnMut(&mut SocketSet<'static>, bool) -> (bool, Option<Instant>),
    ) -> bool {
        let mut moved = egress(&mut self.main, false).0;
        let changed = &mut self.changed;
        let mut poll = |n: u32, o: &mut Own| {
            let (sent, next) = egress(&mut o.set, true);
            o.dirty = false;
            mark_changed(o, n, changed);
            o.next = next;
            sent
        };
        if self.timer_floor.is_some_and(|t| t <= now) {
            let mut floor = None;
            for (n, o) in self.own.iter_mut().enumerate() {
                let Some(o) = o else { continue };
                if o.dirty || o.next.is_some_and(|t| t <= now) {
                    moved |= poll(n as u32, o);
                }
                floor = earliest(floor, o.next);
            }
            self.touched.clear();
            self.timer_floor = floor;
        } else {
            let mut touched = core::mem::take(&mut self.touched);
            for &n in &touched {
                if let Some(o) = self.own[n as usize].as_mut().filter(|o| o.dirty) {
                    moved |= poll(n, o);
                    self.timer_floor = earliest(self.timer_floor, o.next);
                }
            }
            touched.clear();
            self.touched = touched;
        }
        moved
    }

    /// The earliest timer of the connections' sets as of their last egress (`now`
    /// for one touched since).
    pub(crate) fn own_poll_at(&self, now: Instant) -> Option<Instant> {
        self.own
            .iter()
            .flatten()
            .filter_map(|o| if o.dirty { Some(now) } else { o.next })
            .min()
    }

    /// Whether socket `h` may have changed since the last call for it (always for
    /// the main set's sockets): a connection's set that no frame, call or timer
    /// reached since cannot have, so its readiness need not be recomputed. Records
    /// stack socket `owner` as its owner ([`Sockets::set_owner`]).
    pub(crate) fn take_changed(&mut self, h: Handle, owner: u32) -> bool {
        match h {
            Handle::Main(_) => true,
            Handle::Own(n) => {
                let o = self.own_mut(n);
                o.owner = Some(owner);
                core::mem::take(&mut o.changed)
            }
        }
    }

    /// Records that connection `h` is stack socket `owner`'s (None: nobody's, as a
    /// listener's pending connection or an orphan): [`Sockets::drain_changed`] names
    /// it when the connection changes. Main-set sockets have no owner here.
    pub(crate) fn set_owner(&mut self, h: Handle, owner: Option<u32>) {
        if let Handle::Own(n) = h {
            self.own_mut(n).owner = owner;
        }
    }

    /// Calls `f` with the owner of each connection that changed (a frame, a call or
    /// its timer reached it, [`Sockets::take_changed`] would say true) since the last
    /// drain, and forgets them. A changed connection without an owner is not named
    /// (and not again until its flag is taken): its readiness is nobody's yet, and
    /// the socket that takes it (accept) is updated then anyway.
    pub(crate) fn drain_changed(&mut self, mut f: impl FnMut(u32)) {
        for &n in &self.changed {
            if let Some(Own {
                changed: true,
                owner: Some(owner),
                ..
            }) = self.own[n as usize]
            {
                f(owner);
            }
        }
        self.changed.clear();
    }

    /// The main set, to compute its timers.
    pub(crate) fn main(&self) -> &SocketSet<'static> {
        &self.main
    }
}

/// Sets `o.changed` (set `n`), listing the set in `changed` when it was not set.
fn mark_changed(o: &mut Own, n: u32, changed: &mut Vec<u32>) {
    if !o.changed {
        o.changed = true;
        changed.push(n);
    }
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

/// A TCP socket's (local, remote) endpoints, once it has both.
fn flow_of(t: &tcp::Socket) -> Option<Flow> {
    if matches!(t.state(), tcp::State::Closed | tcp::State::Listen) {
        return None;
    }
    Some((t.local_endpoint()?, t.remote_endpoint()?))
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// Whether `frame` may teach smoltcp a neighbor's link address: ARP, or ICMPv6 (its
/// neighbor discovery).
fn is_neighbor_frame(frame: &[u8], medium: Medium) -> bool {
    match medium {
        Medium::Ethernet if frame.len() >= 14 + 40 && be16(frame, 12) == 0x86dd => {
            frame[14 + 6] == 58
        }
        Medium::Ethernet => frame.len() >= 14 && be16(frame, 12) == 0x0806,
        _ => false,
    }
}

/// A frame's TCP (local, remote) endpoints: None when it is not TCP (or cannot be
/// read), Some(None) for a TCP fragment.
fn parse_tcp(frame: &[u8], medium: Medium) -> Option<Option<Flow>> {
    let ip = match medium {
        Medium::Ethernet => {
            if frame.len() < 14 || !matches!(be16(frame, 12), 0x0800 | 0x86dd) {
                return None;
            }
            14
        }
        _ => 0,
    };
    let p = frame.get(ip..)?;
    let (src, dst, l4) = match p.first()? >> 4 {
        4 => {
            let ihl = usize::from(p[0] & 0xf) * 4;
            if p.len() < 20 || ihl < 20 || p[9] != 6 {
                return None;
            }
            if be16(p, 6) & 0x3fff != 0 {
                return Some(None); // more fragments, or not the first
            }
            let a = |at: usize| {
                IpAddress::Ipv4(Ipv4Address::new(p[at], p[at + 1], p[at + 2], p[at + 3]))
            };
            (a(12), a(16), ihl)
        }
        6 => {
            if p.len() < 40 {
                return None;
            }
            let a = |at: usize| {
                let mut b = [0u8; 16];
                b.copy_from_slice(&p[at..at + 16]);
                IpAddress::Ipv6(Ipv6Address::from(b))
            };
            // Extension headers before TCP: hop-by-hop, routing, destination
            // options are skipped; a fragment header of a TCP packet is a fragment.
            let (mut next, mut at) = (p[6], 40usize);
            for _ in 0..8 {
                match next {
                    6 => break,
                    0 | 43 | 60 => {
                        next = *p.get(at)?;
                        at += (usize::from(*p.get(at + 1)?) + 1) * 8;
                    }
                    44 => return (*p.get(at)? == 6).then_some(None),
                    _ => return None,
                }
            }
            if next != 6 {
                return None;
            }
            (a(8), a(24), at)
        }
        _ => return None,
    };
    if p.len() < l4 + 4 {
        return None;
    }
    let (sport, dport) = (be16(p, l4), be16(p, l4 + 2));
    Some(Some((
        IpEndpoint::new(dst, dport),
        IpEndpoint::new(src, sport),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn ipv4_tcp(flags_frag: u16, proto: u8) -> Vec<u8> {
        let mut f = vec![0u8; 14 + 20 + 20];
        f[12] = 0x08;
        f[14] = 0x45;
        f[14 + 6..14 + 8].copy_from_slice(&flags_frag.to_be_bytes());
        f[14 + 9] = proto;
        f[14 + 12..14 + 16].copy_from_slice(&[10, 0, 0, 1]);
        f[14 + 16..14 + 20].copy_from_slice(&[10, 0, 0, 2]);
        f[34..36].copy_from_slice(&1234u16.to_be_bytes());
        f[36..38].copy_from_slice(&80u16.to_be_bytes());
        f
    }

    #[test]
    fn parses_ipv4_tcp_endpoints_and_fragments() {
        let f = ipv4_tcp(0x4000, 6); // DF
        let (local, remote) = parse_tcp(&f, Medium::Ethernet).unwrap().unwrap();
        assert_eq!(
            local,
            IpEndpoint::new(Ipv4Address::new(10, 0, 0, 2).into(), 80)
        );
        assert_eq!(
            remote,
            IpEndpoint::new(Ipv4Address::new(10, 0, 0, 1).into(), 1234)
        );
        assert_eq!(parse_tcp(&f[14..], Medium::Ip), Some(Some((local, remote))));
        assert_eq!(
            parse_tcp(&ipv4_tcp(0x2000, 6), Medium::Ethernet),
            Some(None),
            "MF"
        );
        assert_eq!(
            parse_tcp(&ipv4_tcp(0x0010, 6), Medium::Ethernet),
            Some(None),
            "offset"
        );
        assert_eq!(parse_tcp(&ipv4_tcp(0, 17), Medium::Ethernet), None, "UDP");
        assert_eq!(parse_tcp(&f[..20], Medium::Ethernet), None, "short");
        let mut arp = f.clone();
        arp[12..14].copy_from_slice(&0x0806u16.to_be_bytes());
        assert_eq!(parse_tcp(&arp, Medium::Ethernet), None);
    }

    fn tcp_socket() -> Socket<'static> {
        let buf = || tcp::SocketBuffer::new(vec![0u8; 64]);
        tcp::Socket::new(buf(), buf()).upcast()
    }

    /// Which sets one egress at `now` polls (by their first socket's handle; the main
    /// set as None), each answering with the timer `next` gives it.
    fn egress_at(
        s: &mut Sockets,
        now: u64,
        next: impl Fn(usize) -> Option<Instant>,
    ) -> Vec<Option<usize>> {
        let mut polled = Vec::new();
        let sets: Vec<*const SocketSet<'static>> =
            s.own.iter().flatten().map(|o| &o.set as *const _).collect();
        let main = &s.main as *const _;
        s.egress(Instant::from_millis(now as i64), |set, _| {
            let p = set as *const _;
            let which = (p != main).then(|| sets.iter().position(|&q| q == p).unwrap());
            polled.push(which);
            (false, which.and_then(&next))
        });
        polled
    }

    #[test]
    fn egress_polls_only_touched_sets_until_a_timer_is_due() {
        let mut s = Sockets::new();
        let hs: Vec<Handle> = (0..4).map(|_| s.add_own(tcp_socket())).collect();
        // New sets are touched: all polled once; set 2 then has a timer at 50 ms.
        let timer = |i| (i == 2).then(|| Instant::from_millis(50));
        assert_eq!(
            egress_at(&mut s, 10, timer),
            [None, Some(0), Some(1), Some(2), Some(3)]
        );
        // Nothing touched, no timer due: the main set only.
        assert_eq!(egress_at(&mut s, 20, timer), [None]);
        // A call on set 3 (and a frame for set 1) touch those alone, once each, polled
        // in that order.
        s.get_mut::<tcp::Socket>(hs[3]);
        s.get_mut::<tcp::Socket>(hs[3]);
        s.set_mut(&Route::Own(1));
        assert_eq!(egress_at(&mut s, 30, timer), [None, Some(3), Some(1)]);
        assert_eq!(
            s.own_poll_at(Instant::from_millis(30)),
            Some(Instant::from_millis(50))
        );
        // Set 2's timer comes due: it is polled (and no timer is left).
        assert_eq!(egress_at(&mut s, 49, timer), [None]);
        assert_eq!(egress_at(&mut s, 50, |_| None), [None, Some(2)]);
        assert_eq!(egress_at(&mut s, 60, |_| None), [None]);
        // A removed set's slot, reused, is polled as the new connection's.
        s.get_mut::<tcp::Socket>(hs[0]);
        s.remove(hs[0]);
        let again = s.add_own(tcp_socket());
        assert_eq!(again, hs[0]);
        assert_eq!(egress_at(&mut s, 70, |_| None), [None, Some(0)]);
    }

    /// The owners `drain_changed` names, sorted.
    fn drained(s: &mut Sockets) -> Vec<u32> {
        let mut v = Vec::new();
        s.drain_changed(|o| v.push(o));
        v.sort_unstable();
        v
    }

    #[test]
    fn a_connection_changed_by_a_frame_a_call_or_a_timer_names_its_owner() {
        let mut s = Sockets::new();
        let hs: Vec<Handle> = (0..4).map(|_| s.add_own(tcp_socket())).collect();
        // New connections have no owner yet: nobody is named (the stack updates a
        // new socket anyway), and their flags stay set until taken.
        assert_eq!(drained(&mut s), []);
        // The stack's update takes a connection's flag and records its owner.
        for (i, &h) in hs.iter().enumerate() {
            assert!(s.take_changed(h, 10 + i as u32));
        }
        let timer = |i| (i == 2).then(|| Instant::from_millis(50));
        egress_at(&mut s, 10, timer); // the first egress of each set
        assert_eq!(drained(&mut s), [10, 11, 12, 13]);
        for (i, &h) in hs.iter().enumerate() {
            assert!(s.take_changed(h, 10 + i as u32));
        }
        assert_eq!(drained(&mut s), [], "nothing moved since");
        // A received frame (set 1), a call (set 3, twice: named once).
        s.set_mut(&Route::Own(1));
        s.get_mut::<tcp::Socket>(hs[3]);
        s.get_mut::<tcp::Socket>(hs[3]);
        assert_eq!(drained(&mut s), [11, 13]);
        // A flag taken (the stack updated the socket through another path) before
        // the drain names nobody.
        s.get_mut::<tcp::Socket>(hs[0]);
        assert!(s.take_changed(hs[0], 10));
        assert_eq!(drained(&mut s), []);
        // The egress that sends what the frame and the call queued changes them
        // again: named again, once their flags were taken.
        assert!(s.take_changed(hs[1], 11) && s.take_changed(hs[3], 13));
        assert_eq!(
            egress_at(&mut s, 20, timer),
            [None, Some(1), Some(3), Some(0)]
        );
        assert_eq!(drained(&mut s), [10, 11, 13]);
        for i in [0, 1, 3] {
            assert!(s.take_changed(hs[i], 10 + i as u32));
        }
        // Set 2's timer comes due: egress polls it and its owner is named.
        assert_eq!(egress_at(&mut s, 49, timer), [None]);
        assert_eq!(drained(&mut s), []);
        assert_eq!(egress_at(&mut s, 50, |_| None), [None, Some(2)]);
        assert_eq!(drained(&mut s), [12]);
        assert!(s.take_changed(hs[2], 12));
        // An orphan (no owner) is not named; a set taken over names its new owner.
        s.set_owner(hs[2], None);
        s.get_mut::<tcp::Socket>(hs[2]);
        assert_eq!(drained(&mut s), []);
        assert!(s.take_changed(hs[2], 7));
        s.get_mut::<tcp::Socket>(hs[2]);
        assert_eq!(drained(&mut s), [7]);
        // A removed set's slot reused by a new connection: no owner until set.
        s.get_mut::<tcp::Socket>(hs[0]);
        s.remove(hs[0]);
        assert_eq!(s.add_own(tcp_socket()), hs[0]);
        assert_eq!(drained(&mut s), []);
    }

    fn ipv6_tcp(ext: &[u8], first_next: u8) -> Vec<u8> {
        let mut f = vec![0u8; 14 + 40];
        f[12..14].copy_from_slice(&0x86ddu16.to_be_bytes());
        f[14] = 0x60;
        f[14 + 6] = first_next;
        f[14 + 8 + 15] = 1; // ::1 -> ::2
        f[14 + 24 + 15] = 2;
        f.extend_from_slice(ext);
        let mut tcp = vec![0u8; 20];
        tcp[0..2].copy_from_slice(&5555u16.to_be_bytes());
        tcp[2..4].copy_from_slice(&443u16.to_be_bytes());
        f.extend_from_slice(&tcp);
        f
    }

    #[test]
    fn parses_ipv6_tcp_through_extension_headers() {
        let want = |f: &[u8]| {
            let (l, r) = parse_tcp(f, Medium::Ethernet).unwrap().unwrap();
            assert_eq!((l.port, r.port), (443, 5555));
            assert_eq!(
                l.addr,
                IpAddress::Ipv6(Ipv6Address::from([0, 0, 0, 0, 0, 0, 0, 2]))
            );
        };
        want(&ipv6_tcp(&[], 6));
        // hop-by-hop options (8 bytes) then TCP
        want(&ipv6_tcp(&[6, 0, 1, 4, 0, 0, 0, 0], 0));
        // a fragment header in front of TCP
        assert_eq!(
            parse_tcp(&ipv6_tcp(&[6, 0, 0, 1, 0, 0, 0, 7], 44), Medium::Ethernet),
            Some(None)
        );
        // UDP (17) is not ours to route
        assert_eq!(parse_tcp(&ipv6_tcp(&[], 17), Medium::Ethernet), None);
    }
}
