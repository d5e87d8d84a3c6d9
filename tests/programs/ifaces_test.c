/* ifaces_test: the interfaces as programs see them, on a card configured by DHCP
 * from QEMU user networking (eth0 10.0.2.15/24, MAC 52:54:00:12:34:56): the SIOCGIF*
 * ioctls, if_nametoindex/if_indextoname (ioctls on an AF_INET socket in glibc, on an
 * AF_UNIX one in musl), if_nameindex and getifaddrs (both over NETLINK_ROUTE in glibc and
 * musl), and clear errors for what is not supported. */
#define _GNU_SOURCE
#include "check_fatal.h"
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#define NETLINK_AUDIT 9 /* <linux/netlink.h>, which musl-gcc does not have */
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *ip4(const struct sockaddr *sa)
{
	static char buf[4][INET_ADDRSTRLEN];
	static int k;
	char *b = buf[k++ % 4];
	inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, b, INET_ADDRSTRLEN);
	return b;
}

static void ioctls(int s)
{
	struct ifreq r;
	memset(&r, 0, sizeof r);
	strcpy(r.ifr_name, "eth0");
	CHECK(ioctl(s, SIOCGIFINDEX, &r) == 0 && r.ifr_ifindex == 2, "SIOCGIFINDEX eth0: %d", r.ifr_ifindex);
	CHECK(ioctl(s, SIOCGIFADDR, &r) == 0 && strcmp(ip4(&r.ifr_addr), "10.0.2.15") == 0,
	      "SIOCGIFADDR eth0: %s", ip4(&r.ifr_addr));
	CHECK(ioctl(s, SIOCGIFNETMASK, &r) == 0 && strcmp(ip4(&r.ifr_netmask), "255.255.255.0") == 0,
	      "SIOCGIFNETMASK eth0: %s", ip4(&r.ifr_netmask));
	CHECK(ioctl(s, SIOCGIFBRDADDR, &r) == 0 && strcmp(ip4(&r.ifr_broadaddr), "10.0.2.255") == 0,
	      "SIOCGIFBRDADDR eth0: %s", ip4(&r.ifr_broadaddr));
	CHECK(ioctl(s, SIOCGIFFLAGS, &r) == 0, "SIOCGIFFLAGS: %s", strerror(errno));
	CHECK((r.ifr_flags & (IFF_UP | IFF_RUNNING)) == (IFF_UP | IFF_RUNNING) && !(r.ifr_flags & IFF_LOOPBACK),
	      "eth0 flags %#x", r.ifr_flags);
	CHECK(ioctl(s, SIOCGIFMTU, &r) == 0 && r.ifr_mtu == 1500, "SIOCGIFMTU eth0: %d", r.ifr_mtu);
	CHECK(ioctl(s, SIOCGIFHWADDR, &r) == 0, "SIOCGIFHWADDR: %s", strerror(errno));
	const unsigned char mac[6] = {0x52, 0x54, 0, 0x12, 0x34, 0x56};
	CHECK(memcmp(r.ifr_hwaddr.sa_data, mac, 6) == 0, "eth0 MAC differs");
	ok("SIOCGIFINDEX/ADDR/NETMASK/BRDADDR/FLAGS/MTU/HWADDR of eth0");
	strcpy(r.ifr_name, "lo");
	CHECK(ioctl(s, SIOCGIFFLAGS, &r) == 0 && (r.ifr_flags & IFF_LOOPBACK), "lo flags %#x", r.ifr_flags);
	r.ifr_ifindex = 2;
	CHECK(ioctl(s, SIOCGIFNAME, &r) == 0 && strcmp(r.ifr_name, "eth0") == 0, "SIOCGIFNAME 2: %s", r.ifr_name);
	strcpy(r.ifr_name, "nope0");
	CHECK(ioctl(s, SIOCGIFINDEX, &r) < 0 && errno == ENODEV, "unknown interface: %s", strerror(errno));
	strcpy(r.ifr_name, "eth0");
	r.ifr_flags = 0;
	CHECK(ioctl(s, SIOCSIFFLAGS, &r) < 0 && errno == EOPNOTSUPP, "SIOCSIFFLAGS: %s", strerror(errno));
	ok("SIOCGIFNAME, ENODEV for an unknown name, EOPNOTSUPP for SIOCSIFFLAGS");

	struct ifconf ifc = {.ifc_len = 0, .ifc_buf = NULL};
	CHECK(ioctl(s, SIOCGIFCONF, &ifc) == 0 && ifc.ifc_len == 2 * (int)sizeof(struct ifreq),
	      "SIOCGIFCONF size query: %d", ifc.ifc_len);
	struct ifreq reqs[8];
	ifc.ifc_len = sizeof reqs;
	ifc.ifc_req = reqs;
	CHECK(ioctl(s, SIOCGIFCONF, &ifc) == 0 && ifc.ifc_len == 2 * (int)sizeof(struct ifreq),
	      "SIOCGIFCONF: %d", ifc.ifc_len);
	CHECK(strcmp(reqs[0].ifr_name, "lo") == 0 && strcmp(ip4(&reqs[0].ifr_addr), "127.0.0.1") == 0,
	      "SIOCGIFCONF[0] %s %s", reqs[0].ifr_name, ip4(&reqs[0].ifr_addr));
	CHECK(strcmp(reqs[1].ifr_name, "eth0") == 0 && strcmp(ip4(&reqs[1].ifr_addr), "10.0.2.15") == 0,
	      "SIOCGIFCONF[1] %s %s", reqs[1].ifr_name, ip4(&reqs[1].ifr_addr));
	ok("SIOCGIFCONF lists lo 127.0.0.1 and eth0 10.0.2.15");
}

int main(void)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(s >= 0, "socket: %s", strerror(errno));
	ioctls(s);
	close(s);

	CHECK(if_nametoindex("eth0") == 2 && if_nametoindex("lo") == 1 && if_nametoindex("nope0") == 0,
	      "if_nametoindex");
	char name[IF_NAMESIZE];
	CHECK(if_indextoname(2, name) && strcmp(name, "eth0") == 0, "if_indextoname(2)");
	ok("if_nametoindex and if_indextoname");

	struct if_nameindex *ni = if_nameindex();
	CHECK(ni, "if_nameindex: %s", strerror(errno));
	int n = 0, saw_eth0 = 0;
	for (struct if_nameindex *p = ni; p->if_index; p++, n++)
		saw_eth0 |= p->if_index == 2 && strcmp(p->if_name, "eth0") == 0;
	if_freenameindex(ni);
	CHECK(n == 2 && saw_eth0, "if_nameindex gave %d entries", n);
	ok("if_nameindex lists lo and eth0");

	struct ifaddrs *ifa;
	CHECK(getifaddrs(&ifa) == 0, "getifaddrs: %s", strerror(errno));
	int eth0_inet = 0, lo_inet = 0, eth0_link = 0;
	for (struct ifaddrs *p = ifa; p; p = p->ifa_next) {
		if (!p->ifa_addr)
			continue;
		if (p->ifa_addr->sa_family == AF_INET) {
			printf("getifaddrs: %s %s/%s flags %#x\n", p->ifa_name, ip4(p->ifa_addr),
			       ip4(p->ifa_netmask), p->ifa_flags);
			if (strcmp(p->ifa_name, "eth0") == 0 && strcmp(ip4(p->ifa_addr), "10.0.2.15") == 0 &&
			    strcmp(ip4(p->ifa_netmask), "255.255.255.0") == 0 && (p->ifa_flags & IFF_UP))
				eth0_inet = 1;
			if (strcmp(p->ifa_name, "lo") == 0 && strcmp(ip4(p->ifa_addr), "127.0.0.1") == 0 &&
			    (p->ifa_flags & IFF_LOOPBACK))
				lo_inet = 1;
		}
		if (p->ifa_addr->sa_family == AF_PACKET && strcmp(p->ifa_name, "eth0") == 0)
			eth0_link = 1;
	}
	freeifaddrs(ifa);
	CHECK(eth0_inet && lo_inet && eth0_link, "getifaddrs: eth0 inet %d, lo inet %d, eth0 link %d",
	      eth0_inet, lo_inet, eth0_link);
	ok("getifaddrs: eth0 10.0.2.15/24, lo 127.0.0.1, eth0's link entry");

	CHECK(socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT) < 0 && errno == EPROTONOSUPPORT,
	      "NETLINK_AUDIT: %s", strerror(errno));
	ok("other netlink protocols: EPROTONOSUPPORT");
	return 0;
}
