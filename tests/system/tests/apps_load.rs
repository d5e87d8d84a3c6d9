//! Real servers under load, through a tap device (QEMU user networking's port
//! forward listens with a backlog of 1, so many clients at once stall on the host
//! side whatever the guest does): Debian's nginx with 200 concurrent keep-alive
//! connections fetching a 1 MiB file for 20 s, every body checked byte for byte; and
//! redis-benchmark with 50 clients and 100,000 requests (50,000 SET, 50,000 GET),
//! without an error; on 2 CPUs (-c 2), memcached with 2 worker threads under
//! bench/mcload.c (every reply checked; its request rates at least a quarter of
//! those at -c 1) and redis with 2 I/O threads answering
//! redis-benchmark. Run them alone with `tests/run -- apps_load`.
//!
//! Each test runs again inside its own user and network namespace (`unshare -rn`)
//! with `tap0` at 10.9.0.1/24 and its guest at 10.9.0.2, as tap_network.rs does: no
//! traffic leaves the namespace.

mod apps_common;

use apps_common::*;
use rumprun_system_tests::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const IN_NAMESPACE: &str = "RUMPRUN_TEST_IN_APPS_LOAD_NAMESPACE";
const HOST: &str = "10.9.0.1";
const GUEST: &str = "10.9.0.2";
const HOST6: &str = "fd00:9::1";
const GUEST6: &str = "fd00:9::2";

/// Runs test `name` again inside a new user and network namespace with tap0 and
/// checks that it passed there. True when the caller is that re-run.
fn in_tap_namespace(name: &str) -> bool {
    let host = format!("ip addr add {HOST}/24 dev tap0");
    in_net_namespace(
        name,
        IN_NAMESPACE,
        &[
            "ip tuntap add dev tap0 mode tap",
            "ip link set tap0 up",
            "ip link set lo up",
            &host,
            &format!("ip -6 addr add {HOST6}/64 dev tap0 nodad"),
        ],
    )
}

fn tap_card(mem: &str) -> Vec<String> {
    [
        "-M",
        mem,
        "-I",
        "net0,vioif,tap,ifname=tap0,script=no,downscript=no",
        "-W",
        &format!("net0,inet,static,{GUEST}/24,{HOST}"),
    ]
    .map(String::from)
    .into()
}

/// Waits until the guest accepts TCP connections on `port`.
fn wait_for_port(port: u16, guest: &Guest) {
    let start = Instant::now();
    while TcpStream::connect_timeout(
        &format!("{GUEST}:{port}").parse().unwrap(),
        Duration::from_secs(2),
    )
    .is_err()
    {
        assert!(
            start.elapsed() < Duration::from_secs(120) && !guest.ended(),
            "the guest never listened on {port}:\n{}",
            guest.console()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Reads one HTTP/1.1 response with a Content-Length from `s`: (status line, body).
fn read_response(s: &mut TcpStream) -> Result<(String, Vec<u8>), String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match s.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            Ok(_) => return Err(format!("closed in the header after {} bytes", head.len())),
            Err(e) => return Err(format!("reading the header: {e}")),
        }
    }
    let head = String::from_utf8_lossy(&head).to_string();
    let len: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .ok_or_else(|| format!("no Content-Length in {head:?}"))?;
    let mut body = vec![0u8; len];
    s.read_exact(&mut body)
        .map_err(|e| format!("reading the {len}-byte body: {e}"))?;
    Ok((head.lines().next().unwrap_or("").to_string(), body))
}

/// nginx's image for test `name` run again inside the tap namespace (`in_tap_namespace`):
/// Some there, None in the caller. Baked outside, where all of the host's files can be
/// read.
fn nginx_in_tap_namespace(name: &str) -> Option<std::path::PathBuf> {
    if std::env::var_os(IN_NAMESPACE).is_none() {
        nginx_image();
    }
    in_tap_namespace(name).then(|| baked_image("app-nginx"))
}

#[test]
fn nginx_200_connections_for_20_seconds_every_body_checked() {
    let Some(image) =
        nginx_in_tap_namespace("nginx_200_connections_for_20_seconds_every_body_checked")
    else {
        return;
    };
    let guest = Guest::start("nginx-load", &image, &tap_card("512"), NGINX_ARGS);
    wait_for_port(80, &guest);
    let want = Arc::new(pseudo_random(1 << 20, 1));
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(20);
    let clients: Vec<_> = (0..200)
        .map(|i| {
            let (want, done) = (want.clone(), done.clone());
            std::thread::spawn(move || -> Result<u64, String> {
                let mut s = TcpStream::connect(format!("{GUEST}:80"))
                    .map_err(|e| format!("client {i}: connect: {e}"))?;
                s.set_read_timeout(Some(Duration::from_secs(90))).unwrap();
                let mut n = 0;
                // At least one request each, then until the deadline.
                while n == 0 || Instant::now() < deadline {
                    s.write_all(b"GET /1m.bin HTTP/1.1\r\nHost: rumprun\r\n\r\n")
                        .map_err(|e| format!("client {i}: request {n}: {e}"))?;
                    let (status, body) = read_response(&mut s)
                        .map_err(|e| format!("client {i}: request {n}: {e}"))?;
                    if !status.contains(" 200 ") {
                        return Err(format!("client {i}: request {n}: {status}"));
                    }
                    if body != *want {
                        let at = body.iter().zip(want.iter()).position(|(a, b)| a != b);
                        return Err(format!(
                            "client {i}: request {n}: body differs (first at {at:?})"
                        ));
                    }
                    n += 1;
                    done.fetch_add(1, Ordering::Relaxed);
                }
                Ok(n)
            })
        })
        .collect();
    let mut errors = Vec::new();
    for c in clients {
        if let Err(e) = c.join().unwrap() {
            errors.push(e);
        }
    }
    let total = done.load(Ordering::Relaxed);
    assert!(
        errors.is_empty(),
        "{} of 200 clients failed ({total} bodies were right), first: {}\nguest:\n{}",
        errors.len(),
        errors[0],
        guest.console()
    );
    eprintln!("nginx under load: {total} bodies of 1 MiB, all right");
    assert!(total >= 200);
}

#[test]
fn redis_benchmark_50_clients_100000_requests_without_errors() {
    // Baked outside the namespace: Debian's redis.conf is readable only by redis.
    if std::env::var_os(IN_NAMESPACE).is_none() {
        redis_image();
    }
    if !in_tap_namespace("redis_benchmark_50_clients_100000_requests_without_errors") {
        return;
    }
    let bench = debian_program("/usr/bin/redis-benchmark", "redis-tools");
    let image = baked_image("app-redis");
    let mut opts = tap_card("256");
    opts.extend([
        "-r".to_string(),
        "redis-server /etc/redis/redis.conf --daemonize no --bind 0.0.0.0 --protected-mode no"
            .to_string(),
    ]);
    let guest = Guest::start("redis-load", &image, &opts, &[]);
    wait_for_port(6379, &guest);
    // 50,000 SETs then 50,000 GETs: 100,000 requests.
    redis_benchmark_answers(&bench, &guest, "50000", "redis-benchmark over tap");
}

/// bench/mcload.c built with the host's gcc (once per test run).
fn mcload() -> std::path::PathBuf {
    let out = scratch_dir("mcload").join("mcload");
    check_output(
        Command::new("gcc")
            .args(["-O2", "-Wall", "-pthread", "-o"])
            .arg(&out)
            .arg(repo_root().join("bench/mcload.c")),
        "building bench/mcload.c with the host's gcc",
    );
    out
}

/// memcached with 2 worker threads (-t 2) on 2 CPUs (-c 2), loaded from the host by
/// bench/mcload.c: 8 connections setting for 4 s, then getting for 4 s, then one
/// connection getting for 3 s (each request waits for the last reply: latency),
/// every reply checked byte for byte (mcload stops at the first wrong or missing
/// one). Then the request rates with QEMU on one host CPU (taskset), as a loaded
/// host makes the vCPUs take turns: at -c 2 each must be at least a fifth of -c 1's.
/// Issue 17: while the big kernel lock's waiter spun, a vCPU waiting for it kept
/// the host CPU from the one holding it; on one host CPU this -c 2 guest answered
/// no request in 20 s, and on the loaded 2-core test machine 5 gets/s over 8
/// connections against 6,742 at -c 1 (157 against 1,971 over one on a quiet one).
/// With the fix: 533 against 1,462 over one connection, 5,326 against 2,058 over 8.
#[test]
fn memcached_two_threads_on_two_cpus_under_load_every_reply_checked() {
    if !in_tap_namespace("memcached_two_threads_on_two_cpus_under_load_every_reply_checked") {
        return;
    }
    let memcached = debian_program("/usr/bin/memcached", "memcached");
    let image = bake_programs(&[&memcached], "app-memcached", &["-D".as_ref()]);
    let load = mcload();
    memcached_rates(&image, &load, "2", false);
    let one_cpu = memcached_rates(&image, &load, "1", true);
    let two_cpus = memcached_rates(&image, &load, "2", true);
    for ((op, one), (_, two)) in one_cpu.iter().zip(&two_cpus) {
        eprintln!("memcached -t 2 on one host CPU, {op}s/s: {one:.0} at -c 1, {two:.0} at -c 2");
        assert!(
            *two >= one / 5.0,
            "memcached -t 2 on one host CPU answered {two:.0} {op}s/s at -c 2, less than a \
             fifth of the {one:.0}/s at -c 1"
        );
    }
}

/// Boots memcached -t 2 on `cpus` CPUs (QEMU on one host CPU if `one_host_cpu`) and
/// loads it with mcload (8 connections, sets then gets, 4 s each; then gets over 1
/// connection, 3 s; every reply checked); the request rates (what, requests/s).
fn memcached_rates(
    image: &std::path::Path,
    load: &std::path::Path,
    cpus: &str,
    one_host_cpu: bool,
) -> Vec<(&'static str, f64)> {
    let mut opts = tap_card("256");
    opts.extend(["-c", cpus, "-r", "memcached -u root -t 2 -p 11211"].map(String::from));
    let name = format!(
        "memcached-c{cpus}{}",
        if one_host_cpu { "-one-host-cpu" } else { "" }
    );
    let guest = if one_host_cpu {
        Guest::start_on_one_host_cpu(&name, image, &opts, &[])
    } else {
        Guest::start(&name, image, &opts, &[])
    };
    wait_for_port(11211, &guest);
    let mut rates = Vec::new();
    for (what, op, conns, secs) in [
        ("set", "set", "8", "4"),
        ("get", "get", "8", "4"),
        ("one-connection get", "get", "1", "3"),
    ] {
        let out = Command::new(load)
            .args([GUEST, "11211", conns, secs, op])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success() && text.contains(&format!("mcload: {op} {conns} conns: ")),
            "mcload {what}: {text}\nguest:\n{}",
            guest.console()
        );
        let ops: f64 = text
            .split("ops_per_s=")
            .nth(1)
            .and_then(|r| r.trim().parse().ok())
            .unwrap_or(0.0);
        assert!(ops > 0.0, "mcload {what}: no requests answered: {text}");
        eprintln!(
            "memcached -t 2 at -c {cpus} ({name}) over tap: {}",
            text.trim()
        );
        rates.push((what, ops));
    }
    rates
}

/// redis with 2 I/O threads (io-threads 2, reads too) on 2 CPUs (-c 2) answering
/// redis-benchmark: 50 clients, 20,000 SETs and 20,000 GETs, without an error.
#[test]
fn redis_io_threads_on_two_cpus_answer_redis_benchmark() {
    if std::env::var_os(IN_NAMESPACE).is_none() {
        redis_image();
    }
    if !in_tap_namespace("redis_io_threads_on_two_cpus_answer_redis_benchmark") {
        return;
    }
    let bench = debian_program("/usr/bin/redis-benchmark", "redis-tools");
    let image = baked_image("app-redis");
    let mut opts = tap_card("256");
    opts.extend([
        "-c".to_string(),
        "2".to_string(),
        "-r".to_string(),
        "redis-server /etc/redis/redis.conf --daemonize no --bind 0.0.0.0 --protected-mode no \
         --io-threads 2 --io-threads-do-reads yes"
            .to_string(),
    ]);
    let guest = Guest::start("redis-io-threads", &image, &opts, &[]);
    wait_for_port(6379, &guest);
    redis_benchmark_answers(
        &bench,
        &guest,
        "20000",
        "redis io-threads 2 at -c 2 over tap",
    );
}

/// redis-benchmark with 50 clients, `n` SETs then `n` GETs against the guest: it must
/// end well, print no error and give a result for both; prints them under `label`.
fn redis_benchmark_answers(bench: &std::path::Path, guest: &Guest, n: &str, label: &str) {
    let out = Command::new(bench)
        .args(["-h", GUEST, "-c", "50", "-n", n, "-t", "set,get", "-q"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The progress lines end in \r; the results in \n.
    let results: Vec<&str> = text
        .split(['\r', '\n'])
        .filter(|l| l.contains("requests per second"))
        .collect();
    let errors: Vec<&str> = text
        .split(['\r', '\n'])
        .filter(|l| l.to_lowercase().contains("error"))
        .collect();
    assert!(
        out.status.success() && errors.is_empty(),
        "redis-benchmark: {results:?} {errors:?}\nguest:\n{}",
        guest.console()
    );
    for t in ["SET: ", "GET: "] {
        assert!(
            results.iter().any(|l| l.trim_start().starts_with(t)),
            "no {t} result: {results:?}"
        );
    }
    eprintln!("{label}: {results:?}");
}

/// Large send (virtio-net's TSO on a tap: smoltcp builds segments of up to 64 KiB,
/// the driver raises the peers' MSS for it and the card cuts them at the real one):
/// nginx's files arrive byte for byte over IPv4 and IPv6, and the boot log says large
/// send is on.
#[test]
fn nginx_over_tap_sends_large_segments_over_ipv4_and_ipv6() {
    let Some(image) =
        nginx_in_tap_namespace("nginx_over_tap_sends_large_segments_over_ipv4_and_ipv6")
    else {
        return;
    };
    let mut opts = tap_card("256");
    opts.extend(
        [
            "-W",
            &format!("net0,inet6,static,{GUEST6}/64"),
            "-e",
            "RUMPRUN_VERBOSE=1",
        ]
        .map(String::from),
    );
    let guest = Guest::start("nginx-large-send", &image, &opts, NGINX_ARGS);
    wait_for_port(80, &guest);
    for host in [GUEST.to_string(), format!("[{GUEST6}]")] {
        for (name, want) in web_files() {
            let got = curl(&format!("http://{host}/{name}"), &guest);
            assert_same_bytes(&format!("nginx {host}/{name}"), &got, &want);
        }
    }
    let console = guest.console();
    assert!(
        console.contains("TSO: IPv4 and IPv6 (large send)"),
        "guest:\n{console}"
    );
}
