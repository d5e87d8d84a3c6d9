//! The interface ioctls of sockets (`struct ifreq` / `struct ifconf`), read-only, as
//! glibc's `if_nametoindex`/`if_indextoname` and programs that list or inspect
//! interfaces use them: SIOCGIFCONF, SIOCGIFNAME, SIOCGIFINDEX, SIOCGIFFLAGS,
//! SIOCGIFADDR, SIOCGIFNETMASK, SIOCGIFBRDADDR, SIOCGIFMTU, SIOCGIFHWADDR. Setting
//! interface state (SIOCSIF*) and the other socket ioctls in 0x890b..=0x89ff fail with
//! EOPNOTSUPP and one log line.

use crate::errno::*;
use crate::mm::user;
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr};
use rumprun_net::netlink::{iface_flags, ARPHRD_ETHER, ARPHRD_LOOPBACK};
use rumprun_net::IfaceInfo;

const SIOCGIFNAME: u64 = 0x8910;
const SIOCGIFCONF: u64 = 0x8912;
const SIOCGIFFLAGS: u64 = 0x8913;
const SIOCGIFADDR: u64 = 0x8915;
const SIOCGIFBRDADDR: u64 = 0x8919;
const SIOCGIFNETMASK: u64 = 0x891b;
const SIOCGIFMTU: u64 = 0x8921;
const SIOCGIFHWADDR: u64 = 0x8927;
const SIOCGIFINDEX: u64 = 0x8933;
/// The socket-ioctl range (SIOCADDRT..); the ones not above change state.
const SOCKET_IOCTLS: core::ops::RangeInclusive<u64> = 0x890b..=0x89ff;

const IFNAMSIZ: usize = 16;
const IFREQ_SIZE: usize = 40;
const AF_INET: u16 = 2;
const EADDRNOTAVAIL: Errno = Errno::EADDRNOTAVAIL;

/// Handles `req` if it is an interface ioctl (None: not one of ours).
pub fn ioctl(req: u64, arg: u64) -> Option<Result<u64, Errno>> {
    if !SOCKET_IOCTLS.contains(&req) {
        return None;
    }
    let ifaces = super::with(|s| s.interfaces());
    Some(match req {
        SIOCGIFCONF => ifconf(&ifaces, arg),
        SIOCGIFNAME => ifname(&ifaces, arg),
        SIOCGIFINDEX | SIOCGIFFLAGS | SIOCGIFADDR | SIOCGIFBRDADDR | SIOCGIFNETMASK
        | SIOCGIFMTU | SIOCGIFHWADDR => by_name(&ifaces, req, arg),
        _ => {
            crate::console::log_once(
                "sioc-other",
                "rumprun: only the SIOCGIF{CONF,NAME,INDEX,FLAGS,ADDR,NETMASK,BRDADDR,MTU,HWADDR} socket ioctls are supported (interfaces are configured by net blocks); returning EOPNOTSUPP",
            );
            Err(EOPNOTSUPP)
        }
    })
}

/// `struct sockaddr_in` bytes (16) for `ip`.
fn sockaddr_in(ip: Ipv4Addr) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..2].copy_from_slice(&AF_INET.to_ne_bytes());
    b[4..8].copy_from_slice(&ip.octets());
    b
}

/// The interface's first IPv4 address and prefix length.
fn ipv4(i: &IfaceInfo) -> Option<(Ipv4Addr, u8)> {
    i.addrs.iter().find_map(|&(ip, p)| match ip {
        IpAddr::V4(a) => Some((a, p)),
        IpAddr::V6(_) => None,
    })
}

fn netmask(prefix: u8) -> Ipv4Addr {
    Ipv4Addr::from(u32::MAX.checked_shl(32 - prefix as u32).unwrap_or(0))
}

/// SIOCGIFCONF: one `ifreq` (name + sockaddr_in) per interface with an IPv4
/// address; with a NULL buffer, only the length needed.
fn ifconf(ifaces: &[IfaceInfo], arg: u64) -> Result<u64, Errno> {
    let (len, buf): (i32, u64) = {
        let raw: [u64; 2] = user::read(arg)?;
        (raw[0] as u32 as i32, raw[1])
    };
    let mut out = Vec::new();
    for i in ifaces {
        let Some((ip, _)) = ipv4(i) else { continue };
        let mut r = [0u8; IFREQ_SIZE];
        let n = i.name.len().min(IFNAMSIZ - 1);
        r[..n].copy_from_slice(&i.name.as_bytes()[..n]);
        r[16..32].copy_from_slice(&sockaddr_in(ip));
        out.push(r);
    }
    let fits = if buf == 0 {
        out.len()
    } else {
        (len.max(0) as usize / IFREQ_SIZE).min(out.len())
    };
    if buf != 0 {
        for (k, r) in out.iter().take(fits).enumerate() {
            user::copy_out(buf + (k * IFREQ_SIZE) as u64, r)?;
        }
    }
    user::write(arg, (fits * IFREQ_SIZE) as i32).map(|_| 0)
}

/// SIOCGIFNAME: the name of the interface whose index is in `ifr_ifindex`.
fn ifname(ifaces: &[IfaceInfo], arg: u64) -> Result<u64, Errno> {
    let index: i32 = user::read(arg + 16)?;
    let i = ifaces
        .iter()
        .find(|i| i.index as i32 == index)
        .ok_or(ENODEV)?;
    let mut name = [0u8; IFNAMSIZ];
    let n = i.name.len().min(IFNAMSIZ - 1);
    name[..n].copy_from_slice(&i.name.as_bytes()[..n]);
    user::write(arg, name).map(|_| 0)
}

/// The ioctls that name the interface in `ifr_name`.
fn by_name(ifaces: &[IfaceInfo], req: u64, arg: u64) -> Result<u64, Errno> {
    let raw: [u8; IFNAMSIZ] = user::read(arg)?;
    let len = raw.iter().position(|&b| b == 0).unwrap_or(IFNAMSIZ);
    let i = ifaces
        .iter()
        .find(|i| i.name.as_bytes() == &raw[..len])
        .ok_or(ENODEV)?;
    let field = arg + IFNAMSIZ as u64;
    match req {
        SIOCGIFINDEX => user::write(field, i.index as i32),
        SIOCGIFFLAGS => user::write(field, iface_flags(i) as u16),
        SIOCGIFMTU => user::write(field, i.mtu as i32),
        SIOCGIFHWADDR => {
            let mut sa = [0u8; 16];
            let fam = if i.loopback {
                ARPHRD_LOOPBACK
            } else {
                ARPHRD_ETHER
            };
            sa[..2].copy_from_slice(&fam.to_ne_bytes());
            sa[2..8].copy_from_slice(&i.mac.unwrap_or([0; 6]));
            user::write(field, sa)
        }
        _ => {
            let (ip, prefix) = ipv4(i).ok_or(EADDRNOTAVAIL)?;
            let value = match req {
                SIOCGIFADDR => ip,
                SIOCGIFNETMASK => netmask(prefix),
                _ if i.loopback => return Err(EINVAL), // no broadcast on lo
                _ => Ipv4Addr::from(u32::from(ip) | !u32::from(netmask(prefix))),
            };
            user::write(field, sockaddr_in(value))
        }
    }
    .map(|_| 0)
}
