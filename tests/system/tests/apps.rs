//! Real programs as their users run them: Debian 12's own binaries, baked from the
//! host's packages with `rumprun-bake -D` (the program's package and its libraries'),
//! `-d PKG` for more (a stdlib, tzdata), `-r` for what the packages' install scripts
//! would have made, with their stock configurations, checked from the host: every body
//! byte for byte, the exit status, data on ext2 with the host's e2fsck, debugfs and
//! sqlite3. A missing program fails naming its Debian package (CI installs them,
//! .ci/run's PACKAGES).
//!
//! Load through a tap device is in apps_load.rs.

mod apps_common;

use apps_common::*;
use rumprun_system_tests::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const BOOT: Duration = Duration::from_secs(120);

#[test]
fn nginx_with_debians_config_serves_small_and_large_files() {
    let image = nginx_image();
    let port = free_port();
    let guest = Guest::start("nginx", &image, &user_net("256", &[(port, 80)]), NGINX_ARGS);
    for (name, want) in web_files() {
        let got = curl(&format!("http://127.0.0.1:{port}/{name}"), &guest);
        assert_same_bytes(&format!("nginx /{name}"), &got, &want);
    }
    let console = guest.console();
    assert!(!console.contains("[emerg]"), "nginx:\n{console}");
}

/// The rc lines that start redis-server with Debian's config (plus `extra`) in the
/// background and wait until it answers.
fn redis_rc(extra: &str) -> Vec<String> {
    [
        "-r".to_string(),
        format!("redis-server /etc/redis/redis.conf --daemonize no {extra} &"),
        "-r".to_string(),
        // Ready when it answers: it accepts connections while loading its data.
        "wait_tcp-glibc 127.0.0.1 6379 60 'PING\\r\\n' +PONG".to_string(),
    ]
    .into()
}

fn boot_redis(opts: Vec<String>, clients: &[&str]) -> Run {
    let image = redis_image();
    let mut opts = opts;
    for c in clients {
        opts.push("-r".into());
        opts.push(c.to_string());
    }
    let opts: Vec<&str> = opts.iter().map(String::as_str).collect();
    let mut cmd = Command::new(tool("rumprun"));
    cmd.args(["qemu", "-i"]).args(&opts).arg(&image);
    run_with_timeout(&mut cmd, BOOT)
}

/// Debian's redis.conf as it is (bound to 127.0.0.1 and ::1, protected mode, logging
/// to /var/log/redis): redis-cli in the same image sets and gets a key.
#[test]
fn redis_with_its_default_config_answers_redis_cli() {
    redis_set_get("256", "hello-from-rumprun");
}

/// Boots Debian's redis with its default config at `-M mem`; redis-cli in the same
/// image sets a key to `value` and gets it back.
fn redis_set_get(mem: &str, value: &str) {
    let mut opts = vec!["-M".to_string(), mem.to_string()];
    opts.extend(redis_rc(""));
    let set = format!("redis-cli --raw set greeting {value}");
    let run = boot_redis(opts, &[&set, "redis-cli --raw get greeting"]);
    run.assert_status(0)
        .assert_stdout_line("OK")
        .assert_stdout_line(value);
}

/// The same at -M 20: the image file is 31 MB (its libraries and Debian's files are
/// read on demand from the image as a disk, not loaded); before that, QEMU loaded the
/// whole image into guest RAM, so the launcher refused a -M below its size and
/// redis's floor was 38 MB.
#[test]
fn redis_answers_redis_cli_in_20_mib() {
    redis_set_get("20", "small-and-fine");
}

/// redis with an append-only file on an ext2 disk: 1,000 keys written in one boot are
/// all there in the next; the disk is clean after each.
#[test]
fn redis_appendonly_on_ext2_survives_a_reboot() {
    let dir = scratch_dir("redis-aof");
    let disk = mke2fs(&dir, 4096, "64M", None, &[]);
    let disk_opt = format!("{},/data", disk.display());
    let base = |extra: &str| {
        let mut o = vec![
            "-M".to_string(),
            "256".to_string(),
            "-b".to_string(),
            disk_opt.clone(),
        ];
        o.extend(redis_rc(extra));
        o
    };
    let aof = "--appendonly yes --dir /data";
    let run = boot_redis(
        base(aof),
        &[
            "redis-cli --raw eval \"for i=1,1000 do redis.call('set','key:'..i,'value-'..i) end return 1000\" 0",
            "redis-cli --raw dbsize",
            "redis-cli --raw shutdown",
        ],
    );
    run.assert_status(0).assert_stdout_line("1000");
    assert_e2fsck_clean(&disk);

    let run = boot_redis(
        base(aof),
        &[
            "redis-cli --raw dbsize",
            "redis-cli --raw get key:1",
            "redis-cli --raw get key:777",
            "redis-cli --raw get key:1000",
            "redis-cli --raw shutdown",
        ],
    );
    run.assert_status(0)
        .assert_stdout_line("1000")
        .assert_stdout_line("value-1")
        .assert_stdout_line("value-777")
        .assert_stdout_line("value-1000");
    assert_e2fsck_clean(&disk);
}

/// One text-protocol exchange: sends `req`, reads until the reply ends with `end`.
fn memcached_says(s: &mut TcpStream, req: &str, end: &str) -> String {
    s.write_all(req.as_bytes()).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.ends_with(end.as_bytes()) {
        let n = s.read(&mut buf).unwrap();
        assert!(
            n > 0,
            "memcached closed after {req:?}: {:?}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8(got).unwrap()
}

/// Connects to the guest's memcached through the port forward, retried while it boots.
fn memcached_connect(port: u16, guest: &Guest) -> TcpStream {
    let start = Instant::now();
    loop {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
            let mut line = String::new();
            if s.write_all(b"version\r\n").is_ok()
                && BufReader::new(&mut s).read_line(&mut line).is_ok()
                && line.starts_with("VERSION ")
            {
                return s;
            }
        }
        assert!(
            start.elapsed() < BOOT && !guest.ended(),
            "memcached on port {port} never answered:\n{}",
            guest.console()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// memcached dropping to root (-u root) and to its own user (-u memcache, which needs
/// setgroups): set, get, incr, delete through the text protocol.
#[test]
fn memcached_as_root_and_as_memcache_serve_the_text_protocol() {
    let memcached = debian_program("/usr/bin/memcached", "memcached");
    let image = bake_programs(&[&memcached], "app-memcached", &["-D".as_ref()]);
    let (p1, p2) = (free_port(), free_port());
    let mut opts = user_net("256", &[(p1, 11211), (p2, 11212)]);
    for rc in [
        "memcached -u root -p 11211 &",
        "memcached -u memcache -p 11212 &",
    ] {
        opts.extend(["-r".to_string(), rc.to_string()]);
    }
    let guest = Guest::start("memcached", &image, &opts, &[]);
    for port in [p1, p2] {
        let mut s = memcached_connect(port, &guest);
        let said = |s: &mut TcpStream, req: &str, end: &str| memcached_says(s, req, end);
        assert_eq!(
            said(&mut s, "set k 5 0 5\r\nhello\r\n", "\r\n"),
            "STORED\r\n"
        );
        assert_eq!(
            said(&mut s, "get k\r\n", "END\r\n"),
            "VALUE k 5 5\r\nhello\r\nEND\r\n"
        );
        assert_eq!(said(&mut s, "set n 0 0 2\r\n41\r\n", "\r\n"), "STORED\r\n");
        assert_eq!(said(&mut s, "incr n 1\r\n", "\r\n"), "42\r\n");
        assert_eq!(said(&mut s, "delete k\r\n", "\r\n"), "DELETED\r\n");
        assert_eq!(said(&mut s, "get k\r\n", "END\r\n"), "END\r\n");
    }
    let console = guest.console();
    assert!(!console.contains("failed to"), "memcached:\n{console}");
}

/// A DNS server for the guest on the host's 127.0.0.1:53 (the guest's 10.0.2.2:53
/// through QEMU user networking): `web.rumprun.test` is 10.0.2.2 (A); AAAA and any
/// other name have no records. Answers until the returned socket is dropped... the
/// thread ends when the test process does.
fn host_dns() {
    let sock = UdpSocket::bind("127.0.0.1:53").unwrap_or_else(|e| {
        panic!("the DNS test needs UDP port 53 on 127.0.0.1 (root, and no DNS server there): {e}")
    });
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while let Ok((n, from)) = sock.recv_from(&mut buf) {
            if let Some(reply) = dns_reply(&buf[..n]) {
                let _ = sock.send_to(&reply, from);
            }
        }
    });
}

/// The answer to one DNS query (RFC 1035): the question copied back, one A record
/// for web.rumprun.test, NXDOMAIN for other names.
fn dns_reply(q: &[u8]) -> Option<Vec<u8>> {
    if q.len() < 12 {
        return None;
    }
    let mut i = 12;
    let mut labels = Vec::new();
    while *q.get(i)? != 0 {
        let len = q[i] as usize;
        labels.push(String::from_utf8_lossy(q.get(i + 1..i + 1 + len)?).to_lowercase());
        i += 1 + len;
    }
    let qtype = u16::from_be_bytes([*q.get(i + 1)?, *q.get(i + 2)?]);
    let question_end = i + 5;
    let name = labels.join(".");
    let known = name == "web.rumprun.test";
    let answer = known && qtype == 1;
    let mut r = q[..2].to_vec(); // id
    r.extend_from_slice(&[0x81, if known { 0x80 } else { 0x83 }]); // QR RD RA, rcode
    r.extend_from_slice(&[0, 1, 0, answer as u8, 0, 0, 0, 0]);
    r.extend_from_slice(q.get(12..question_end)?);
    if answer {
        // Name by pointer to the question, A, IN, TTL 60, 4 bytes: 10.0.2.2.
        r.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 2, 2]);
    }
    Some(r)
}

/// An HTTP server on the host's 127.0.0.1 answering every request with `body`.
fn host_http(body: &'static str) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let mut req = Vec::new();
            let mut buf = [0u8; 1024];
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf) {
                    Ok(n @ 1..) => req.extend_from_slice(&buf[..n]),
                    _ => break,
                }
            }
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

/// The resolver configuration baked into the images that look names up: the host's
/// DNS server of [`host_dns`].
fn resolv_root(r: &Path) {
    write(r, "etc/resolv.conf", b"nameserver 10.0.2.2\n");
}

fn python_image() -> PathBuf {
    let python = debian_program("/usr/bin/python3.11", "python3.11");
    let root = tree_once("python-root", |r| {
        resolv_root(r);
        for (name, data) in web_files().into_iter().take(2) {
            write(r, &format!("srv/{name}"), &data);
        }
        mkdirs(r, &["data"]);
        write(r, "root/stdlib_check.py", STDLIB_CHECK.as_bytes());
    });
    bake_programs(
        &[&python],
        "app-python",
        &[
            "-D".as_ref(),
            "-d".as_ref(),
            "libpython3.11-minimal".as_ref(),
            "-d".as_ref(),
            "libpython3.11-stdlib".as_ref(),
            "-r".as_ref(),
            root.as_os_str(),
        ],
    )
}

/// curl in the guest resolves a name through the host's DNS server (glibc's resolver
/// sends A and AAAA together with sendmmsg) and fetches a page from a host server;
/// python's socket.getaddrinfo resolves the same name.
#[test]
fn curl_and_python_resolve_names_through_a_dns_server_on_the_host() {
    host_dns();
    let port = host_http("page from the host, found by name\n");
    let curl_prog = debian_program("/usr/bin/curl", "curl");
    let root = tree_once("curl-root", resolv_root);
    let image = bake_programs(
        &[&curl_prog],
        "app-curl",
        &["-D".as_ref(), "-r".as_ref(), root.as_os_str()],
    );
    let opts = user_net("256", &[]);
    let opts: Vec<&str> = opts.iter().map(String::as_str).collect();
    rumprun_qemu(
        &image,
        &opts,
        &["-sS", &format!("http://web.rumprun.test:{port}/")],
    )
    .assert_status(0)
    .assert_stdout_line("page from the host, found by name");

    let run = rumprun_qemu(
        &python_image(),
        &opts.iter().map(|o| if *o == "256" { "512" } else { o }).collect::<Vec<_>>(),
        &[
            "-c",
            "import socket; print('resolved', socket.getaddrinfo('web.rumprun.test', 80, socket.AF_INET)[0][4][0])",
        ],
    );
    run.assert_status(0).assert_stdout_line("resolved 10.0.2.2");
}

/// python3 -m http.server serves a file.
#[test]
fn python_http_server_serves_a_file() {
    let port = free_port();
    let guest = Guest::start(
        "python-http",
        &python_image(),
        &user_net("512", &[(port, 8000)]),
        &[
            "-m",
            "http.server",
            "8000",
            "--bind",
            "0.0.0.0",
            "--directory",
            "/srv",
        ],
    );
    let want = pseudo_random(1 << 20, 1);
    let got = curl(&format!("http://127.0.0.1:{port}/1m.bin"), &guest);
    assert_same_bytes("python http.server /1m.bin", &got, &want);
}

/// What python checks of its stdlib: sqlite3 on the ext2 disk, ssl, hashlib, json.
const STDLIB_CHECK: &str = r#"
import hashlib, json, sqlite3, ssl
db = sqlite3.connect("/data/app.db")
db.execute("create table t (id integer primary key, x integer, s text)")
db.executemany("insert into t (x, s) values (?, ?)", ((i, "row %d" % i) for i in range(1, 1001)))
db.commit()
print("sqlite", db.execute("select count(*), sum(x) from t").fetchone())
db.close()
print("sha256", hashlib.sha256(b"rumprun").hexdigest())
print("json", json.dumps(json.loads('{"a": [1, 2, {"b": null}]}'), sort_keys=True))
ctx = ssl.create_default_context()
print("ssl", ssl.OPENSSL_VERSION.split()[0], ctx.verify_mode == ssl.CERT_REQUIRED)
"#;

/// python's sqlite3 module writes a database on an ext2 disk that the host's sqlite3
/// then reads; ssl, hashlib and json work.
#[test]
fn python_sqlite_on_ext2_ssl_hashlib_json() {
    let dir = scratch_dir("python-sqlite");
    let disk = mke2fs(&dir, 4096, "32M", None, &[]);
    let disk_opt = format!("{},/data", disk.display());
    let run = rumprun_qemu(
        &python_image(),
        &["-M", "512", "-b", &disk_opt],
        &["/root/stdlib_check.py"],
    );
    let sha = String::from_utf8(
        check_output(
            Command::new("sh").args(["-c", "printf rumprun | sha256sum"]),
            "sha256sum",
        )
        .stdout,
    )
    .unwrap();
    run.assert_status(0)
        .assert_stdout_line("sqlite (1000, 500500)")
        .assert_stdout_line(&format!("sha256 {}", &sha[..64]))
        .assert_stdout_line("json {\"a\": [1, 2, {\"b\": null}]}")
        .assert_stdout_line("ssl OpenSSL True");
    assert_e2fsck_clean(&disk);
    let db = dir.join("app.db");
    std::fs::write(&db, debugfs_cat(&disk, "/app.db")).unwrap();
    let out = Command::new("sqlite3")
        .arg(&db)
        .arg("select count(*), sum(x), max(s) from t")
        .output()
        .expect("the apps tests need the Debian package sqlite3");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "1000|500500|row 999\n"
    );
}

/// php's built-in web server with opcache loaded and on.
#[test]
fn php_builtin_server_with_opcache() {
    let php = debian_program("/usr/bin/php8.2", "php8.2-cli");
    debian_program("/usr/lib/php/20220829/opcache.so", "php8.2-opcache");
    let root = tree_once("php-root", |r| {
        write(
            r,
            "srv/index.php",
            b"<?php $s = opcache_get_status(false); echo 'php ', PHP_MAJOR_VERSION, ' opcache ', json_encode($s['opcache_enabled']), ' ', 6 * 7, \"\\n\";\n",
        );
    });
    let image = bake_programs(
        &[&php],
        "app-php",
        &[
            "-D".as_ref(),
            "-d".as_ref(),
            "php8.2-opcache".as_ref(),
            "-d".as_ref(),
            "tzdata".as_ref(),
            "-r".as_ref(),
            root.as_os_str(),
        ],
    );
    let port = free_port();
    let guest = Guest::start(
        "php",
        &image,
        &user_net("512", &[(port, 8000)]),
        &[
            "-d",
            "zend_extension=opcache",
            "-d",
            "opcache.enable_cli=1",
            "-S",
            "0.0.0.0:8000",
            "-t",
            "/srv",
        ],
    );
    let got = curl(&format!("http://127.0.0.1:{port}/index.php"), &guest);
    assert_eq!(String::from_utf8_lossy(&got), "php 8 opcache true 42\n");
}

/// node's http module serves a request; os.cpus() sees the CPU (/proc/stat).
#[test]
fn node_http_server() {
    let node = debian_program("/usr/bin/node", "nodejs");
    let root = tree_once("node-root", |r| {
        write(
            r,
            "srv/server.js",
            b"const http = require('http');\nconst os = require('os');\n\
              const s = http.createServer((req, res) => {\n\
              res.end('node ' + req.url + ' cpus ' + os.cpus().length + '\\n');\n\
              if (req.url === '/quit') s.close();\n});\ns.listen(8080);\n",
        );
    });
    let image = bake_programs(&[&node], "app-node", &["-r".as_ref(), root.as_os_str()]);
    let port = free_port();
    let guest = Guest::start(
        "node",
        &image,
        &user_net("768", &[(port, 8080)]),
        &["/srv/server.js"],
    );
    let got = curl(&format!("http://127.0.0.1:{port}/hello"), &guest);
    assert_eq!(String::from_utf8_lossy(&got), "node /hello cpus 1\n");
    curl(&format!("http://127.0.0.1:{port}/quit"), &guest);
    let (status, console) = guest.wait(BOOT);
    assert_eq!(status, Some(0), "node:\n{console}");
}

/// perl with core modules: XS ones from perl-base, a pure-Perl one from
/// perl-modules-5.36.
#[test]
fn perl_with_core_modules() {
    let perl = debian_program("/usr/bin/perl", "perl-base");
    let image = bake_programs(
        &[&perl],
        "app-perl",
        &["-D".as_ref(), "-d".as_ref(), "perl-modules-5.36".as_ref()],
    );
    rumprun_qemu(
        &image,
        &["-M", "256"],
        &[
            "-MList::Util=sum,max",
            "-MPOSIX=floor",
            "-MText::Wrap=wrap",
            "-e",
            "$Text::Wrap::columns = 12; print sum(1..100), ' ', max(3, 9, 2), ' ', floor(7.9), qq{\\n}, wrap('', '', 'one two three four'), qq{\\n}",
        ],
    )
    .assert_status(0)
    .assert_stdout_line("5050 9 7")
    .assert_stdout_line("one two")
    .assert_stdout_line("three four");
}

/// lighttpd with its default network backend (sendfile), dropping to www-data: the
/// page and 1 MiB byte for byte. Debian's lighttpd.conf runs helper scripts
/// (include_shell), which needs fork and exec: the test's config has only the
/// settings that matter here.
#[test]
fn lighttpd_serves_files_with_sendfile() {
    let lighttpd = debian_program("/usr/sbin/lighttpd", "lighttpd");
    let root = tree_once("lighttpd-root", |r| {
        write(
            r,
            "etc/lighttpd/rumprun.conf",
            br#"server.modules = ( "mod_indexfile", "mod_staticfile" )
server.document-root = "/var/www/html"
server.errorlog = "/var/log/lighttpd/error.log"
server.pid-file = "/run/lighttpd.pid"
server.username = "www-data"
server.groupname = "www-data"
server.port = 80
index-file.names = ( "index.html" )
mimetype.assign = ( ".html" => "text/html", "" => "application/octet-stream" )
"#,
        );
        lighttpd_install_tree(r);
    });
    let image = bake_programs(
        &[&lighttpd],
        "app-lighttpd",
        &["-D".as_ref(), "-r".as_ref(), root.as_os_str()],
    );
    let port = free_port();
    let guest = Guest::start(
        "lighttpd",
        &image,
        &user_net("256", &[(port, 80)]),
        &["-D", "-f", "/etc/lighttpd/rumprun.conf"],
    );
    for (name, want) in web_files().into_iter().take(2) {
        let got = curl(&format!("http://127.0.0.1:{port}/{name}"), &guest);
        assert_same_bytes(&format!("lighttpd /{name}"), &got, &want);
    }
}

/// lighttpd with Debian's own /etc/lighttpd/lighttpd.conf as it is: its include_shell
/// lines run /bin/sh (dash) and perl scripts (use-ipv6.pl, create-mime.conf.pl, which
/// reads /etc/mime.types) through popen, i.e. fork and exec inside the guest; it then
/// listens on 0.0.0.0:80 and [::]:80 and drops to www-data. The page and the 1 MiB
/// file byte for byte, the page once more through the guest's IPv6 listener being
/// there (the config's $SERVER["socket"] == "[::]:80" only exists if perl saw IPv6).
#[test]
fn lighttpd_starts_with_debians_stock_config() {
    let lighttpd = debian_program("/usr/sbin/lighttpd", "lighttpd");
    debian_program("/etc/lighttpd/lighttpd.conf", "lighttpd");
    debian_program("/usr/share/lighttpd/use-ipv6.pl", "lighttpd");
    debian_program("/etc/mime.types", "media-types");
    debian_program("/usr/bin/perl", "perl-base");
    let root = tree_once("lighttpd-stock-root", |r| {
        lighttpd_install_tree(r);
    });
    // lighttpd's packages (-D), and what its config's helper scripts run: dash's
    // /bin/sh, perl-base's perl and Socket module, media-types' /etc/mime.types.
    let image = bake_programs(
        &[&lighttpd],
        "app-lighttpd-stock",
        &[
            "-D",
            "-d",
            "dash",
            "-d",
            "perl-base",
            "-d",
            "libcrypt1",
            "-d",
            "media-types",
            "-r",
        ]
        .map(std::ffi::OsStr::new)
        .into_iter()
        .chain([root.as_os_str()])
        .collect::<Vec<_>>(),
    );
    let port = free_port();
    let guest = Guest::start(
        "lighttpd-stock",
        &image,
        &user_net("256", &[(port, 80)]),
        &["-D", "-f", "/etc/lighttpd/lighttpd.conf"],
    );
    for (name, want) in web_files().into_iter().take(2) {
        let got = curl(&format!("http://127.0.0.1:{port}/{name}"), &guest);
        assert_same_bytes(&format!("lighttpd (stock config) /{name}"), &got, &want);
    }
    let console = guest.console();
    assert!(
        !console.contains("include_shell") && !console.contains("(error)"),
        "lighttpd complained:\n{console}"
    );
}

/// busybox's ls -l, df and cat /proc/stat: Linux-shaped output, no error lines.
#[test]
fn busybox_ls_df_and_proc_stat_look_like_linux() {
    let busybox = debian_program("/bin/busybox", "busybox");
    let image = bake_programs(&[&busybox], "app-busybox", &["-D".as_ref()]);
    let mut cmd = Command::new(tool("rumprun"));
    cmd.args(["qemu", "-i", "-M", "128"]);
    for rc in ["busybox ls -l /etc", "busybox df", "busybox cat /proc/stat"] {
        cmd.args(["-r", rc]);
    }
    let run = run_with_timeout(cmd.arg(&image), BOOT);
    run.assert_status(0);
    for bad in [
        "can't",
        "No such file",
        "not implemented",
        "unsupported syscall",
    ] {
        run.assert_output_lacks(bad);
    }
    let lines: Vec<&str> = run.stdout.lines().collect();
    let has = |pred: &dyn Fn(&str) -> bool, what: &str| {
        assert!(
            lines.iter().any(|l| pred(l)),
            "no {what} in:\n{}",
            run.dump()
        );
    };
    has(
        &|l| l.starts_with("-rw-r--r--") && l.ends_with(" passwd"),
        "ls -l line for passwd",
    );
    has(
        &|l| l.starts_with("Filesystem") && l.contains("Mounted on"),
        "df header",
    );
    has(
        &|l| l.split_whitespace().last() == Some("/") && l.split_whitespace().count() == 6,
        "df line for /",
    );
    has(
        &|l| {
            l.starts_with("cpu ")
                && l.split_whitespace()
                    .skip(1)
                    .all(|n| n.parse::<u64>().is_ok())
        },
        "/proc/stat cpu line",
    );
    has(&|l| l.starts_with("btime "), "/proc/stat btime line");
}

/// What lighttpd's install script makes under `r` (log, cache and upload directories,
/// /run, /var/tmp), with the page and the 1 MiB file in /var/www/html.
fn lighttpd_install_tree(r: &Path) {
    mkdirs(
        r,
        &[
            "var/log/lighttpd",
            "run",
            "var/cache/lighttpd/uploads",
            "var/tmp",
        ],
    );
    for (name, data) in web_files().into_iter().take(2) {
        write(r, &format!("var/www/html/{name}"), &data);
    }
}
