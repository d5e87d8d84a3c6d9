//! rtnetlink constants: the protocol, message types and flags, interface flags and
//! hardware types, and the link and address attributes, in the widths of their wire
//! fields.

use core::mem::size_of;
use linux_raw_sys::{if_arp, net as n, netlink as nl};

/// The `#[repr(C)]` headers of rtnetlink messages.
pub use linux_raw_sys::netlink::{ifaddrmsg, ifinfomsg, nlmsghdr, rtattr};

/// `sizeof(struct nlmsghdr)`: a message's header, before its payload.
pub const NLMSGHDR_LEN: usize = size_of::<nlmsghdr>();
/// `sizeof(struct ifinfomsg)`: a link message's fixed part, before its attributes.
pub const IFINFOMSG_LEN: usize = size_of::<ifinfomsg>();
/// `sizeof(struct ifaddrmsg)`: an address message's fixed part, before its attributes.
pub const IFADDRMSG_LEN: usize = size_of::<ifaddrmsg>();
/// `sizeof(struct rtattr)`: an attribute's header, before its value.
pub const RTATTR_LEN: usize = size_of::<rtattr>();

/// The routing netlink protocol.
pub const NETLINK_ROUTE: i32 = nl::NETLINK_ROUTE as i32;
/// An error (or ACK) message.
pub const NLMSG_ERROR: u16 = nl::NLMSG_ERROR as u16;
/// The end of a multipart dump.
pub const NLMSG_DONE: u16 = nl::NLMSG_DONE as u16;
/// A link (interface) description.
pub const RTM_NEWLINK: u16 = nl::RTM_NEWLINK as u16;
/// Asks for links.
pub const RTM_GETLINK: u16 = nl::RTM_GETLINK as u16;
/// An address description.
pub const RTM_NEWADDR: u16 = nl::RTM_NEWADDR as u16;
/// Asks for addresses.
pub const RTM_GETADDR: u16 = nl::RTM_GETADDR as u16;
/// A request.
pub const NLM_F_REQUEST: u16 = nl::NLM_F_REQUEST as u16;
/// Part of a multipart reply.
pub const NLM_F_MULTI: u16 = nl::NLM_F_MULTI as u16;
/// Asks for an ACK.
pub const NLM_F_ACK: u16 = nl::NLM_F_ACK as u16;
/// Asks for a dump of everything (`ROOT | MATCH`).
pub const NLM_F_DUMP: u16 = nl::NLM_F_DUMP as u16;

/// Interface is up.
pub const IFF_UP: u32 = n::net_device_flags::IFF_UP as u32;
/// Has a broadcast address.
pub const IFF_BROADCAST: u32 = n::net_device_flags::IFF_BROADCAST as u32;
/// The loopback interface.
pub const IFF_LOOPBACK: u32 = n::net_device_flags::IFF_LOOPBACK as u32;
/// Resources allocated (operational).
pub const IFF_RUNNING: u32 = n::net_device_flags::IFF_RUNNING as u32;
/// Supports multicast.
pub const IFF_MULTICAST: u32 = n::net_device_flags::IFF_MULTICAST as u32;
/// Ethernet hardware.
pub const ARPHRD_ETHER: u16 = if_arp::ARPHRD_ETHER as u16;
/// The loopback device.
pub const ARPHRD_LOOPBACK: u16 = if_arp::ARPHRD_LOOPBACK as u16;

/// Link attribute: hardware address.
pub const IFLA_ADDRESS: u16 = nl::IFLA_ADDRESS as u16;
/// Link attribute: hardware broadcast address.
pub const IFLA_BROADCAST: u16 = nl::IFLA_BROADCAST as u16;
/// Link attribute: interface name.
pub const IFLA_IFNAME: u16 = nl::IFLA_IFNAME as u16;
/// Link attribute: MTU.
pub const IFLA_MTU: u16 = nl::IFLA_MTU as u16;
/// Address attribute: the (peer) address.
pub const IFA_ADDRESS: u16 = nl::IFA_ADDRESS as u16;
/// Address attribute: the local address.
pub const IFA_LOCAL: u16 = nl::IFA_LOCAL as u16;
/// Address attribute: the label (interface name).
pub const IFA_LABEL: u16 = nl::IFA_LABEL as u16;
/// Address attribute: the broadcast address.
pub const IFA_BROADCAST: u16 = nl::IFA_BROADCAST as u16;
/// Address scope: global.
pub const RT_SCOPE_UNIVERSE: u8 = nl::rt_scope_t::RT_SCOPE_UNIVERSE as u8;
/// Address scope: this link.
pub const RT_SCOPE_LINK: u8 = nl::rt_scope_t::RT_SCOPE_LINK as u8;
/// Address scope: this host.
pub const RT_SCOPE_HOST: u8 = nl::rt_scope_t::RT_SCOPE_HOST as u8;

#[cfg(test)]
mod tests {
    use super::*;

    /// The numbers of the headers, written out so a wrong binding would show.
    #[test]
    fn values_match_linux() {
        assert_eq!((NETLINK_ROUTE, NLMSG_ERROR, NLMSG_DONE), (0, 2, 3));
        assert_eq!(
            (RTM_NEWLINK, RTM_GETLINK, RTM_NEWADDR, RTM_GETADDR),
            (16, 18, 20, 22)
        );
        assert_eq!(
            (NLM_F_REQUEST, NLM_F_MULTI, NLM_F_ACK, NLM_F_DUMP),
            (1, 2, 4, 0x300)
        );
        assert_eq!(
            (
                IFF_UP,
                IFF_BROADCAST,
                IFF_LOOPBACK,
                IFF_RUNNING,
                IFF_MULTICAST
            ),
            (1, 2, 8, 0x40, 0x1000)
        );
        assert_eq!((ARPHRD_ETHER, ARPHRD_LOOPBACK), (1, 772));
        assert_eq!(
            (IFLA_ADDRESS, IFLA_BROADCAST, IFLA_IFNAME, IFLA_MTU),
            (1, 2, 3, 4)
        );
        assert_eq!(
            (IFA_ADDRESS, IFA_LOCAL, IFA_LABEL, IFA_BROADCAST),
            (1, 2, 3, 4)
        );
        assert_eq!(
            (RT_SCOPE_UNIVERSE, RT_SCOPE_LINK, RT_SCOPE_HOST),
            (0, 253, 254)
        );
        assert_eq!(
            (NLMSGHDR_LEN, IFINFOMSG_LEN, IFADDRMSG_LEN, RTATTR_LEN),
            (16, 16, 8, 4)
        );
    }
}
