//! The contents of the standard files in `/etc` that a libc reads (users, groups, name
//! resolution, services, protocols). [`crate::boot_tree`] writes them at boot.

/// `/etc/passwd`: Debian's system users (base-passwd's fixed ones, with the same ids),
/// and the users that Debian's packaged servers create and drop to (`memcache`,
/// `redis`, ...; Debian gives those dynamic ids, here fixed ones from 101), so a server
/// started as root that switches to its user finds it.
pub const PASSWD: &str = "\
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
bin:x:2:2:bin:/bin:/usr/sbin/nologin
sys:x:3:3:sys:/dev:/usr/sbin/nologin
sync:x:4:65534:sync:/bin:/bin/sync
games:x:5:60:games:/usr/games:/usr/sbin/nologin
man:x:6:12:man:/var/cache/man:/usr/sbin/nologin
lp:x:7:7:lp:/var/spool/lpd:/usr/sbin/nologin
mail:x:8:8:mail:/var/mail:/usr/sbin/nologin
news:x:9:9:news:/var/spool/news:/usr/sbin/nologin
uucp:x:10:10:uucp:/var/spool/uucp:/usr/sbin/nologin
proxy:x:13:13:proxy:/bin:/usr/sbin/nologin
www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin
backup:x:34:34:backup:/var/backups:/usr/sbin/nologin
list:x:38:38:Mailing List Manager:/var/list:/usr/sbin/nologin
irc:x:39:39:ircd:/run/ircd:/usr/sbin/nologin
_apt:x:42:65534::/nonexistent:/usr/sbin/nologin
memcache:x:101:101:Memcached:/nonexistent:/bin/false
redis:x:102:102::/var/lib/redis:/usr/sbin/nologin
mysql:x:103:103:MySQL Server:/nonexistent:/bin/false
postgres:x:104:104:PostgreSQL administrator:/var/lib/postgresql:/bin/sh
mosquitto:x:105:105::/var/lib/mosquitto:/usr/sbin/nologin
messagebus:x:106:106::/nonexistent:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
";

/// `/etc/group`: Debian's system groups (base-passwd's) and the servers' groups of
/// [`PASSWD`].
pub const GROUP: &str = "\
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
news:x:9:
uucp:x:10:
man:x:12:
proxy:x:13:
kmem:x:15:
dialout:x:20:
cdrom:x:24:
sudo:x:27:
audio:x:29:
dip:x:30:
www-data:x:33:
backup:x:34:
operator:x:37:
list:x:38:
irc:x:39:
src:x:40:
shadow:x:42:
utmp:x:43:
video:x:44:
plugdev:x:46:
staff:x:50:
games:x:60:
users:x:100:
memcache:x:101:
redis:x:102:
mysql:x:103:
postgres:x:104:
mosquitto:x:105:
messagebus:x:106:
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

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn fields(table: &str, n: usize) -> Vec<Vec<&str>> {
        table
            .lines()
            .map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                assert_eq!(f.len(), n, "{l}");
                f
            })
            .collect()
    }

    #[test]
    fn users_and_groups_are_consistent() {
        let users = fields(PASSWD, 7);
        let groups = fields(GROUP, 4);
        let unique = |v: Vec<&str>| {
            let mut s = v.clone();
            s.sort();
            s.dedup();
            s.len() == v.len()
        };
        assert!(unique(users.iter().map(|u| u[0]).collect()));
        assert!(unique(users.iter().map(|u| u[2]).collect()));
        assert!(unique(groups.iter().map(|g| g[0]).collect()));
        assert!(unique(groups.iter().map(|g| g[2]).collect()));
        for u in &users {
            assert!(
                groups.iter().any(|g| g[2] == u[3]),
                "{}'s group {} is missing",
                u[0],
                u[3]
            );
        }
        for name in [
            "root", "daemon", "bin", "sys", "www-data", "memcache", "redis", "nobody",
        ] {
            assert!(users.iter().any(|u| u[0] == name), "{name}");
        }
        for name in ["root", "adm", "www-data", "nogroup", "memcache", "redis"] {
            assert!(groups.iter().any(|g| g[0] == name), "{name}");
        }
        let www = users.iter().find(|u| u[0] == "www-data").unwrap();
        assert_eq!((www[2], www[3]), ("33", "33"), "Debian's fixed id");
    }
}
