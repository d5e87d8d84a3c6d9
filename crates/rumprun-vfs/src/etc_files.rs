//! The contents of the standard files in `/etc` that a libc reads (users, groups, name
//! resolution, services, protocols). [`crate::boot_tree`] writes them at boot.

/// `/etc/passwd`: root and nobody.
pub const PASSWD: &str = "\
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
";

/// `/etc/group`.
pub const GROUP: &str = "\
root:x:0:
nogroup:x:65534:
";

/// `/etc/hosts` without the hostname line ([`hosts`] adds it).
pub const HOSTS_BASE: &str = "\
127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
";

/// `/etc/resolv.conf`: QEMU's user-mode network DNS server.
pub const RESOLV_CONF: &str = "\
# rumprun: QEMU user-mode networking's DNS server
nameserver 10.0.2.3
";

/// `/etc/nsswitch.conf`: files for everything, DNS for hosts.
pub const NSSWITCH_CONF: &str = "\
passwd:     files
group:      files
shadow:     files
hosts:      files dns
networks:   files
protocols:  files
services:   files
ethers:     files
rpc:        files
";

/// `/etc/services`: a small selection.
pub const SERVICES: &str = "\
echo\t\t7/tcp
echo\t\t7/udp
discard\t\t9/tcp\t\tsink null
discard\t\t9/udp\t\tsink null
daytime\t\t13/tcp
ftp-data\t20/tcp
ftp\t\t21/tcp
ssh\t\t22/tcp
telnet\t\t23/tcp
smtp\t\t25/tcp\t\tmail
time\t\t37/tcp\t\ttimserver
domain\t\t53/tcp
domain\t\t53/udp
bootps\t\t67/udp
bootpc\t\t68/udp
tftp\t\t69/udp
http\t\t80/tcp\t\twww
pop3\t\t110/tcp\t\tpop-3
ntp\t\t123/udp
imap2\t\t143/tcp\t\timap
snmp\t\t161/udp
ldap\t\t389/tcp
https\t\t443/tcp
https\t\t443/udp
submission\t587/tcp
ldaps\t\t636/tcp
imaps\t\t993/tcp
pop3s\t\t995/tcp
mysql\t\t3306/tcp
postgresql\t5432/tcp
redis\t\t6379/tcp
http-alt\t8080/tcp\twebcache
";

/// `/etc/protocols`.
pub const PROTOCOLS: &str = "\
ip\t0\tIP
icmp\t1\tICMP
igmp\t2\tIGMP
tcp\t6\tTCP
udp\t17\tUDP
ipv6\t41\tIPv6
ipv6-route\t43\tIPv6-Route
ipv6-frag\t44\tIPv6-Frag
gre\t47\tGRE
esp\t50\tIPSEC-ESP
ah\t51\tIPSEC-AH
ipv6-icmp\t58\tIPv6-ICMP
ipv6-nonxt\t59\tIPv6-NoNxt
ipv6-opts\t60\tIPv6-Opts
sctp\t132\tSCTP
udplite\t136\tUDPLite
raw\t255\tRAW
";

/// `/etc/hosts` with `127.0.1.1 <hostname>` when there is a hostname.
pub fn hosts(hostname: &[u8]) -> alloc::vec::Vec<u8> {
    let mut v = HOSTS_BASE.as_bytes().to_vec();
    if !hostname.is_empty() {
        v.extend_from_slice(b"127.0.1.1\t");
        v.extend_from_slice(hostname);
        v.push(b'\n');
    }
    v
}
