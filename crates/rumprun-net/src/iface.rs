//! One network interface: a smoltcp [`Interface`], the sockets that live on it
//! (`sockets`: a set for listeners, UDP and DHCP, one per TCP connection), its device (the kernel's card, or smoltcp's [`Loopback`] for `lo`),
//! its name and index, and its configuration: static IPv4 and IPv6 addresses, default
//! gateways, the DHCPv4 client (leases applied as they come, DNS servers kept for
//! `/etc/resolv.conf`), the IPv6 link-local address derived from the MAC (EUI-64) and
//! SLAAC ([`crate::slaac`]: addresses and the default router from advertisements).

use crate::addr::{ip_to_smol, smol_to_ip};
use crate::errno::*;
use crate::slaac::Slaac;
use crate::sockets::{Handle, Route, Sockets};
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use smoltcp::iface::{Config, Interface, PollIngressSingleResult, PollResult, SocketSet};
use smoltcp::phy::{self, Device, DeviceCapabilities, Loopback, Medium, PacketMeta};
use smoltcp::socket::{dhcpv4, AnySocket};
use smoltcp::time::Instant;
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpCidr};

/// The device behind an interface.
pub(crate) enum Dev<D> {
    /// `lo`
    Loopback(Loopback),
    /// A card the kernel passed in.
    Net(D),
}

/// Runs `$body` with `$d` bound to the concrete device of `$dev`.
macro_rules! with_dev {
    ($dev:expr, $d:ident => $body:expr) => {
        match $dev {
            $crate::iface::Dev::Loopback($d) => $body,
            $crate::iface::Dev::Net($d) => $body,
        }
    };
}

/// What a DHCPv4 server gave an interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DhcpLease {
    /// The address.
    pub address: Ipv4Addr,
    /// Its prefix length.
    pub prefix_len: u8,
    /// The default gateway, if any.
    pub router: Option<Ipv4Addr>,
    /// DNS servers (up to 3).
    pub dns_servers: Vec<Ipv4Addr>,
}

/// A snapshot of an interface, for SIOCGIFCONF, getifaddrs and `/proc/net`.
#[derive(Clone, Debug)]
pub struct IfaceInfo {
    /// The interface index (`lo` is 1, the cards follow in the order they were added).
    pub index: u32,
    /// `lo`, `eth0`, `vioif0`...
    pub name: String,
    /// The MAC address (None for `lo`).
    pub mac: Option<[u8; 6]>,
    /// The MTU.
    pub mtu: usize,
    /// Whether this is `lo`.
    pub loopback: bool,
    /// Addresses with prefix lengths.
    pub addrs: Vec<(IpAddr, u8)>,
    /// IPv4 default gateway.
    pub ipv4_gateway: Option<Ipv4Addr>,
    /// IPv6 default gateway.
    pub ipv6_gateway: Option<Ipv6Addr>,
    /// The current DHCPv4 lease.
    pub dhcp: Option<DhcpLease>,
}

/// A network interface and the sockets on it.
pub(crate) struct Iface<D> {
    pub(crate) name: String,
    pub(crate) index: u32,
    /// Boxed: its IP reassembly and fragmentation buffers are inline (tens of KiB).
    pub(crate) iface: Box<Interface>,
    pub(crate) sockets: Sockets,
    pub(crate) dev: Dev<D>,
    /// Ethernet frames or IP packets.
    pub(crate) medium: Medium,
    pub(crate) mac: Option<[u8; 6]>,
    pub(crate) mtu: usize,
    /// The device does large send (`tso::Segmenter`): smoltcp sees a larger MTU.
    pub(crate) large_send: bool,
    pub(crate) dhcp: Option<Handle>,
    pub(crate) lease: Option<DhcpLease>,
    pub(crate) gw4: Option<Ipv4Addr>,
    pub(crate) gw6: Option<Ipv6Addr>,
    pub(crate) slaac: Option<Slaac>,
    /// The classes (IP_TOS, IPV6_TCLASS) outgoing UDP packets get (`tclass`).
    pub(crate) marks: Vec<crate::tclass::Mark>,
    /// While sniffing: the UDP packets received since the last poll (`ancillary`).
    pub(crate) sniffed: Option<Vec<crate::ancillary::Seen>>,
    /// A frame that reaches the card after a poll looked makes its owner poll again
    /// (an interrupt notifies the kernel's waiters): see [`Iface::poll`].
    pub(crate) notifies: bool,
}

/// The most polling rounds one `poll` spends on an interface before yielding.
const MAX_ROUNDS: usize = 4096;

impl<D: Device> Iface<D> {
    /// The loopback interface `lo` with 127.0.0.1/8 and ::1/128.
    pub(crate) fn loopback(seed: u64, now: Instant) -> Self {
        let mut dev = Loopback::new(Medium::Ip);
        let mut cfg = Config::new(HardwareAddress::Ip);
        cfg.random_seed = seed;
        let mut iface = Box::new(Interface::new(cfg, &mut dev, now));
        iface.update_ip_addrs(|a| {
            let _ = a.push(IpCidr::new(ip_to_smol(Ipv4Addr::LOCALHOST.into()), 8));
            let _ = a.push(IpCidr::new(ip_to_smol(Ipv6Addr::LOCALHOST.into()), 128));
        });
        Iface {
            name: "lo".into(),
            index: 1,
            iface,
            sockets: Sockets::new(),
            dev: Dev::Loopback(dev),
            medium: Medium::Ip,
            mac: None,
            mtu: 65536,
            large_send: false,
            dhcp: None,
            lease: None,
            gw4: None,
            gw6: None,
            slaac: None,
            marks: Vec::new(),
            sniffed: None,
            notifies: false,
        }
    }

    /// A card: Ethernet when the device says so (then `mac` is its address), else IP.
    /// `link_mtu`: the wire's IP MTU when the device reports smoltcp a larger one
    /// (large send, `tso::Segmenter`).
    pub(crate) fn card(
        name: &str,
        index: u32,
        mut dev: D,
        mac: [u8; 6],
        seed: u64,
        now: Instant,
        link_mtu: Option<usize>,
    ) -> Self {
        let caps = dev.capabilities();
        let (hw, mac) = match caps.medium {
            Medium::Ethernet => (HardwareAddress::Ethernet(EthernetAddress(mac)), Some(mac)),
            _ => (HardwareAddress::Ip, None),
        };
        let mut cfg = Config::new(hw);
        cfg.random_seed = seed;
        let iface = Box::new(Interface::new(cfg, &mut dev, now));
        let mtu = link_mtu.unwrap_or(match caps.medium {
            Medium::Ethernet => caps.max_transmission_unit.saturating_sub(14),
            _ => caps.max_transmission_unit,
        });
        Iface {
            name: name.into(),
            index,
            iface,
            sockets: Sockets::new(),
            dev: Dev::Net(dev),
            medium: caps.medium,
            mac,
            mtu,
            large_send: link_mtu.is_some(),
            dhcp: None,
            lease: None,
            gw4: None,
            gw6: None,
            slaac: None,
            marks: Vec::new(),
            sniffed: None,
            notifies: false,
        }
    }

    pub(crate) fn is_loopback(&self) -> bool {
        matches!(self.dev, Dev::Loopback(_))
    }

    /// Adds `addr/prefix` (EINVAL for a bad prefix, ENOBUFS when the table is full).
    pub(crate) fn add_addr(&mut self, addr: IpAddr, prefix: u8) -> Result<(), Errno> {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if prefix > max {
            return Err(EINVAL);
        }
        let cidr = IpCidr::new(ip_to_smol(addr), prefix);
        let mut res = Ok(());
        self.iface.update_ip_addrs(|a| {
            if a.iter().any(|c| c.address() == cidr.address()) {
                return;
            }
            if a.push(cidr).is_err() {
                res = Err(ENOBUFS);
            }
        });
        res
    }

    /// Removes every IPv4 address.
    pub(crate) fn clear_ipv4(&mut self) {
        self.iface
            .update_ip_addrs(|a| a.retain(|c| !matches!(c, IpCidr::Ipv4(_))));
    }

    /// Sets (or clears) the IPv4 default gateway.
    pub(crate) fn set_gateway4(&mut self, gw: Option<Ipv4Addr>) {
        self.iface.routes_mut().remove_default_ipv4_route();
        if let Some(g) = gw {
            let _ = self.iface.routes_mut().add_default_ipv4_route(g);
        }
        self.gw4 = gw;
    }

    /// Sets (or clears) the IPv6 default gateway.
    pub(crate) fn set_gateway6(&mut self, gw: Option<Ipv6Addr>) {
        self.iface.routes_mut().remove_default_ipv6_route();
        if let Some(g) = gw {
            let _ = self.iface.routes_mut().add_default_ipv6_route(g);
        }
        self.gw6 = gw;
    }

    /// Adds fe80::/64 + EUI-64 of the MAC.
    pub(crate) fn add_link_local6(&mut self) -> Result<(), Errno> {
        let m = self.mac.ok_or(EINVAL)?;
        self.add_addr(crate::slaac::link_local(m).into(), 64)
    }

    /// Adds the link-local address and starts soliciting routers (SLAAC).
    pub(crate) fn start_slaac(&mut self, now: Instant) -> Result<(), Errno> {
        self.add_link_local6()?;
        let m = self.mac.ok_or(EINVAL)?;
        self.slaac.get_or_insert_with(|| Slaac::new(m, now));
        Ok(())
    }

    /// Applies what the last router advertisement offered; true when it changed
    /// the configuration.
    fn apply_advert(&mut self) -> bool {
        let Some(a) = self.slaac.as_mut().and_then(|s| s.fresh.take()) else {
            return false;
        };
        if self.add_addr(a.address.into(), a.prefix_len).is_err() {
            return false;
        }
        if a.router.is_some() {
            self.set_gateway6(a.router);
        }
        if let Some(s) = self.slaac.as_mut() {
            s.configured = Some(a);
        }
        true
    }

    /// Starts the DHCPv4 client (the lease replaces any IPv4 address).
    pub(crate) fn start_dhcp(&mut self) {
        if self.dhcp.is_none() {
            let h = self.sockets.add(dhcpv4::Socket::new());
            self.dhcp = Some(h);
        }
    }

    /// Applies DHCP events; true when the configuration changed.
    pub(crate) fn process_dhcp(&mut self) -> bool {
        let Some(h) = self.dhcp else { return false };
        let ev = match self.sockets.get_mut::<dhcpv4::Socket>(h).poll() {
            None => return false,
            Some(dhcpv4::Event::Configured(c)) => Some(DhcpLease {
                address: c.address.address(),
                prefix_len: c.address.prefix_len(),
                router: c.router,
                dns_servers: c.dns_servers.iter().copied().collect(),
            }),
            Some(dhcpv4::Event::Deconfigured) => None,
        };
        self.clear_ipv4();
        match &ev {
            Some(l) => {
                let _ = self.add_addr(l.address.into(), l.prefix_len);
                self.set_gateway4(l.router);
            }
            None => self.set_gateway4(None),
        }
        self.lease = ev;
        true
    }

    /// Whether `ip` is one of this interface's addresses.
    pub(crate) fn has_addr(&self, ip: IpAddr) -> bool {
        self.iface.has_ip_addr(ip_to_smol(ip))
    }

    /// Whether `ip` is on one of this interface's subnets.
    pub(crate) fn on_link(&self, ip: IpAddr) -> bool {
        let s = ip_to_smol(ip);
        self.iface.ip_addrs().iter().any(|c| c.contains_addr(&s))
    }

    /// Whether this interface has a default route for `ip`'s family.
    pub(crate) fn has_default_route(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(_) => self.gw4.is_some(),
            IpAddr::V6(_) => self.gw6.is_some(),
        }
    }

    /// Whether the interface has an address of `ip`'s family to send from.
    pub(crate) fn has_family_addr(&self, ip: IpAddr) -> bool {
        self.iface
            .ip_addrs()
            .iter()
            .any(|c| smol_to_ip(c.address()).is_ipv4() == ip.is_ipv4())
    }

    /// Polls the device until nothing moves (bounded). `after_packet` runs after every
    /// ingress packet that may have changed socket state in the main set (the
    /// listeners re-arm there). Returns (socket state changed, ran out of rounds).
    pub(crate) fn poll(
        &mut self,
        now: Instant,
        mut after_packet: impl FnMut(&mut Sockets),
    ) -> (bool, bool) {
        let mut changed = false;
        if let (Dev::Net(d), Some(slaac)) = (&mut self.dev, self.slaac.as_mut()) {
            slaac.solicit(d, now);
        }
        for _ in 0..MAX_ROUNDS {
            let mut moved = false;
            loop {
                let (iface, sockets, slaac, medium, sniffed) = (
                    &mut *self.iface,
                    &mut self.sockets,
                    self.slaac.as_mut(),
                    self.medium,
                    self.sniffed.as_mut(),
                );
                let pace = self.large_send.then_some(self.mtu);
                let r = with_dev!(&mut self.dev, d => ingress_one(iface, d, sockets, (slaac, sniffed), (medium, pace), now));
                match r {
                    Ingress::None => break,
                    Ingress::Processed => moved = true,
                    Ingress::Changed(main) => {
                        moved = true;
                        changed = true;
                        if main {
                            after_packet(&mut self.sockets);
                        }
                    }
                }
            }
            if self.apply_advert() {
                changed = true;
            }
            let (iface, sockets, marks, medium) = (
                &mut *self.iface,
                &mut self.sockets,
                &self.marks,
                self.medium,
            );
            let mut cut_short = false;
            let sent = with_dev!(&mut self.dev, d => if marks.is_empty() {
                sockets.egress(now, |set, next| {
                    let (sent, more) = egress_all(iface, &mut *d, set, now);
                    cut_short |= more;
                    (sent, next.then(|| iface.poll_at(now, set)).flatten())
                })
            } else {
                let mut d = crate::tclass::Marking { inner: d, marks, medium };
                sockets.egress(now, |set, next| {
                    let (sent, more) = egress_all(iface, &mut d, set, now);
                    cut_short |= more;
                    (sent, next.then(|| iface.poll_at(now, set)).flatten())
                })
            });
            if sent {
                moved = true;
                changed = true;
            }
            // Another round finds work only in frames that came since this one's
            // ingress stopped: its egress sent what the frames called for, and on a
            // card (not `lo`) sending brings nothing in by itself. On a card that
            // notifies, such a frame makes the kernel poll again, as one that comes
            // just after a poll does (the kernel also looks at the card once after
            // each poll: a frame that came while the driver re-armed its interrupt
            // may have raised none, `net::LAST_LOOKS`), so the round that finds nothing (one per poll:
            // 11 interface rounds per memcached request, bench/insn-profile) is left out
            // (unless the egress stopped at its bound with more to send).
            if !moved || (self.notifies && !self.is_loopback() && !cut_short) {
                return (changed, false);
            }
        }
        (changed, true)
    }

    /// The interface's next timer.
    pub(crate) fn poll_at(&mut self, now: Instant) -> Option<Instant> {
        let solicit = self.slaac.as_ref().and_then(|s| s.poll_at());
        let main = self.iface.poll_at(now, self.sockets.main());
        [main, self.sockets.own_poll_at(now), solicit]
            .into_iter()
            .flatten()
            .min()
    }

    pub(crate) fn info(&self) -> IfaceInfo {
        IfaceInfo {
            index: self.index,
            name: self.name.clone(),
            mac: self.mac,
            mtu: self.mtu,
            loopback: self.is_loopback(),
            addrs: self
                .iface
                .ip_addrs()
                .iter()
                .map(|c| (smol_to_ip(c.address()), c.prefix_len()))
                .collect(),
            ipv4_gateway: self.gw4,
            ipv6_gateway: self.gw6,
            dhcp: self.lease.clone(),
        }
    }
}

/// What one ingress step did.
enum Ingress {
    /// No frame was waiting.
    None,
    /// A frame that changed no socket.
    Processed,
    /// A frame that may have changed a socket; true when in the main set.
    Changed(bool),
}

/// Receives one frame from `dev` and hands it to smoltcp with the set it belongs to
/// (`Sockets::route`), after SLAAC and the sniffing (when on) had a look. `pace`:
/// with large send, the wire's IP MTU (see `pace_acks`).
fn ingress_one<T: Device + ?Sized>(
    iface: &mut Interface,
    dev: &mut T,
    sockets: &mut Sockets,
    (slaac, sniffed): (Option<&mut Slaac>, Option<&mut Vec<crate::ancillary::Seen>>),
    (medium, pace): (Medium, Option<usize>),
    now: Instant,
) -> Ingress {
    let caps = dev.capabilities();
    let Some((rx, tx)) = dev.receive(now) else {
        return Ingress::None;
    };
    let meta = phy::RxToken::meta(&rx);
    phy::RxToken::consume(rx, |frame| {
        if let Some(s) = slaac {
            s.inspect(frame);
        }
        if let Some(into) = sniffed {
            crate::ancillary::sniff(frame, medium, into);
        }
        let route = sockets.route(frame, medium);
        if matches!(route, Route::Drop) {
            return Ingress::Processed;
        }
        let main = matches!(route, Route::Main);
        if let Some(link_mtu) = pace {
            pace_acks(sockets, &route, frame, link_mtu);
        }
        let mut one = OneFrame {
            frame: Some(frame),
            meta,
            tx: Some(tx),
            caps,
        };
        match iface.poll_ingress_single(now, &mut one, sockets.set_mut(&route)) {
            PollIngressSingleResult::None | PollIngressSingleResult::PacketProcessed => {
                Ingress::Processed
            }
            PollIngressSingleResult::SocketStateChanged => Ingress::Changed(main),
        }
    })
}

/// smoltcp's delayed-ACK time (its default).
const ACK_DELAY: smoltcp::time::Duration = smoltcp::time::Duration::from_millis(10);

/// With large send (`tso::bulk_data`): a connection receiving full segments
/// acknowledges each batch of frames at once (no ACK delay), as Linux acknowledges
/// every second segment; one receiving less delays its ACK again (10 ms), so that a
/// request's ACK rides on its answer. Connections in their own set only (all but
/// the first frames of a connection).
fn pace_acks(sockets: &mut Sockets, route: &Route, frame: &[u8], link_mtu: usize) {
    let Route::Own(_) = route else {
        return;
    };
    let Some(bulk) = crate::tso::bulk_data(frame, link_mtu) else {
        return;
    };
    let delay = (!bulk).then_some(ACK_DELAY);
    for (_, s) in sockets.set_mut(route).iter_mut() {
        if let Some(t) = <smoltcp::socket::tcp::Socket as AnySocket>::downcast_mut(s) {
            if t.ack_delay() != delay {
                t.set_ack_delay(delay);
            }
        }
    }
}

/// Lets the sockets of `set` send until none has anything more (bounded): whether
/// something was sent, and whether the bound cut it short (more may wait).
fn egress_all<T: Device + ?Sized>(
    iface: &mut Interface,
    dev: &mut T,
    set: &mut SocketSet<'static>,
    now: Instant,
) -> (bool, bool) {
    let mut sent = false;
    for _ in 0..MAX_ROUNDS {
        if iface.poll_egress(now, dev, set) == PollResult::None {
            return (sent, false);
        }
        sent = true;
    }
    (sent, true)
}

/// A device that holds one received frame (and the transmit token that came with
/// it, for smoltcp's immediate answer): how a frame already taken from the card, and
/// routed, reaches `Interface::poll_ingress_single`.
struct OneFrame<'f, T> {
    frame: Option<&'f [u8]>,
    meta: PacketMeta,
    tx: Option<T>,
    caps: DeviceCapabilities,
}

struct FrameRx<'f>(&'f [u8], PacketMeta);

impl phy::RxToken for FrameRx<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(self.0)
    }
    fn meta(&self) -> PacketMeta {
        self.1
    }
}

impl<'f, T: phy::TxToken> Device for OneFrame<'f, T> {
    type RxToken<'a>
        = FrameRx<'f>
    where
        Self: 'a;
    type TxToken<'a>
        = T
    where
        Self: 'a;
    fn receive(&mut self, _t: Instant) -> Option<(FrameRx<'f>, T)> {
        Some((FrameRx(self.frame.take()?, self.meta), self.tx.take()?))
    }
    fn transmit(&mut self, _t: Instant) -> Option<T> {
        // smoltcp answers a received frame through the token that came with it.
        None
    }
    fn capabilities(&self) -> DeviceCapabilities {
        self.caps.clone()
    }
}
