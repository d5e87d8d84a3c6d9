//! Networking: virtio-net cards on QEMU user networking, DHCP, the socket syscalls.
//! A guest HTTP server is reached from the host through `rumprun -F` (127.0.0.1 only),
//! and the guest connects out to a server the test runs on the host (10.0.2.2).

use rumprun_system_tests::*;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// GET `path` from 127.0.0.1:port, retrying (for up to 3 minutes) until a whole
/// answer arrives: QEMU's port forward accepts before the guest listens, and under
/// load it may reset a connection the guest was slow to take. The server runs until
/// /quit, so a retried request does no harm.
fn get(port: u16, path: &str) -> Vec<u8> {
    let start = Instant::now();
    loop {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
            if s.write_all(format!("GET {path} HTTP/1.0\r\n\r\n").as_bytes())
                .is_ok()
            {
                let mut out = Vec::new();
                if s.read_to_end(&mut out).is_ok() && out.windows(4).any(|w| w == b"\r\n\r\n") {
                    return out;
                }
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(180),
            "no answer from the guest for {path}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn body(resp: &[u8]) -> &[u8] {
    let at = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("no header end");
    &resp[at + 4..]
}

fn start_server(port: u16) -> std::process::Child {
    let image = bake(&build_c("http_server.c", Flavor::Glibc));
    Command::new(tool("rumprun"))
        .args(["qemu", "-i", "-I", "net0,vioif", "-W", "net0,inet,dhcp"])
        .args(["-F", &format!("{port}:80")])
        .arg(&image)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start rumprun")
}

/// Asks the server to stop, then checks it served at least `served` requests.
fn finish(child: std::process::Child, port: u16, served: usize) {
    assert_eq!(body(&get(port, "/quit")), b"bye\n");
    let out = child.wait_with_output().unwrap();
    let console = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "guest:\n{console}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let count = console.lines().find_map(|l| {
        l.strip_prefix("served ")?
            .strip_suffix(" requests")?
            .parse::<usize>()
            .ok()
    });
    assert!(
        count.is_some_and(|n| n >= served),
        "expected at least {served} requests served; guest:\n{console}"
    );
}

#[test]
fn guest_http_server_serves_a_page_and_a_mebibyte() {
    let port = free_port();
    let guest = start_server(port);
    assert_eq!(body(&get(port, "/")), b"hello from the unikernel\n");
    let big = get(port, "/big");
    let want: Vec<u8> = (0..1 << 20).map(|i| b'a' + (i % 26) as u8).collect();
    assert!(
        body(&big) == want.as_slice(),
        "1 MiB body differs ({} bytes)",
        body(&big).len()
    );
    finish(guest, port, 2);
}

#[test]
fn many_concurrent_connections_all_complete() {
    let port = free_port();
    let guest = start_server(port);
    get(port, "/");
    let clients: Vec<_> = (0..32)
        .map(|_| std::thread::spawn(move || body(&get(port, "/")).to_vec()))
        .collect();
    for c in clients {
        assert_eq!(c.join().unwrap(), b"hello from the unikernel\n");
    }
    finish(guest, port, 33);
}

#[test]
fn guest_connects_out_to_a_host_server() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 64];
        let n = s.read(&mut buf).unwrap();
        s.write_all(b"pong from the host\n").unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    });
    let image = bake(&build_c("tcp_client.c", Flavor::Musl));
    let run = rumprun_qemu(
        &image,
        &["-I", "net0,vioif", "-W", "net0,inet,dhcp"],
        &[&port.to_string()],
    );
    run.assert_status(0)
        .assert_stdout_line("got: pong from the host")
        .assert_stdout_line("local address 10.0.2.15");
    assert_eq!(server.join().unwrap(), "ping from the unikernel\n");
}

#[test]
fn static_address_is_configured() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 64];
        let _ = s.read(&mut buf).unwrap();
        s.write_all(b"pong\n").unwrap();
    });
    let image = bake(&build_c("tcp_client.c", Flavor::Musl));
    let run = rumprun_qemu(
        &image,
        &[
            "-I",
            "net0,vioif",
            "-W",
            "net0,inet,static,10.0.2.77/24,10.0.2.2",
        ],
        &[&port.to_string()],
    );
    run.assert_status(0)
        .assert_stdout_line("local address 10.0.2.77");
    server.join().unwrap();
}

/// An idle server waiting in epoll_wait/poll/select sleeps until its timeout: network
/// cards interrupt instead of being polled every 2 ms (~1250 wake-ups in the 2.5 s
/// it waits; at most 50 allowed); the frame that ends a blocking read wakes it.
#[test]
fn idle_network_waits_do_not_poll_and_a_frame_wakes_the_reader() {
    let (port, server) = delayed_host_server(Duration::from_secs(1));
    let image = bake(&build_c("net_idle.c", Flavor::Glibc));
    let run = rumprun_qemu(
        &image,
        &[
            "-I",
            "net0,vioif",
            "-W",
            "net0,inet,dhcp",
            "-e",
            "RUMPRUN_VERBOSE=1",
        ],
        &[&port.to_string(), "50"],
    );
    // User networking offers no checksum offload (only tap with vnet headers would).
    run.assert_status(0)
        .assert_output_contains(
            "rumprun: eth0: virtio-net, mac 52:54:00:12:34:56, interrupt-driven (MSI-X), checksum offload offered: none",
        )
        .assert_stdout_line("ok: idle waits do not poll")
        .assert_stdout_line("got: late hello");
    server.join().unwrap();
}
