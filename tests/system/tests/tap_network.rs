//! Networking over a tap device, where QEMU's virtio-net offers checksum offload
//! (vnet headers; user networking never does): the guest must negotiate it, and
//! HTTP (a page, 1 MiB) and UDP (both ways, fragments included) must come through
//! intact with the checksums left to the driver and the host.
//!
//! Each test runs again inside its own user and network namespace (`unshare -rn`)
//! with tap devices `tap0` at 10.9.0.1/24 (its guest is 10.9.0.2) and `tap1` at
//! 10.9.1.1/24 (its guest is 10.9.1.2), routed to each other. Without `unshare` or
//! `/dev/net/tun` the tests fail (they do not skip).
//!
//! Linux trusts a partial checksum from a tap device when it delivers the frame
//! locally, so the host side of tap0 alone would not notice a wrong pseudo-header
//! sum. The routed tests send from a guest with offload (tap0) to a guest with offload
//! turned off (tap1): the host kernel completes the checksum as the frame leaves on
//! tap1, and the second guest's stack verifies every checksum, so a wrong sum loses
//! the traffic.

use rumprun_system_tests::*;
use std::net::UdpSocket;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Set in the re-run inside the namespace.
const IN_NAMESPACE: &str = "RUMPRUN_TEST_IN_TAP_NAMESPACE";
const HOST: &str = "10.9.0.1";
const GUEST: &str = "10.9.0.2";
/// The guest on tap1, reached through the host's routing.
const FAR_GUEST: &str = "10.9.1.2";
const OFFLOAD_LINE: &str = "rumprun: eth0: virtio-net, mac 52:54:00:12:34:56, interrupt-driven (MSI-X), checksum offload: tx and rx";

/// Runs test `name` again inside a new user and network namespace with a tap device
/// and checks that it passed there. True when the caller is that re-run and must do
/// the test's work.
fn in_tap_namespace(name: &str) -> bool {
    let host = format!("ip addr add {HOST}/24 dev tap0");
    let inside = in_net_namespace(
        name,
        IN_NAMESPACE,
        &[
            "ip tuntap add dev tap0 mode tap",
            "ip tuntap add dev tap1 mode tap",
            "ip link set tap0 up",
            "ip link set tap1 up",
            "ip link set lo up",
            &host,
            "ip addr add 10.9.1.1/24 dev tap1",
        ],
    );
    if inside {
        std::fs::write("/proc/sys/net/ipv4/ip_forward", "1").expect("enable IPv4 forwarding");
    }
    inside
}

/// A test program, built and baked.
fn image(src: &str, flavor: Flavor) -> std::path::PathBuf {
    bake(&build_c(src, flavor))
}

/// `rumprun qemu` options for one card on tap0 with the guest's static address.
fn tap_card(extra_env: Option<&str>) -> Vec<String> {
    card_on("tap0", GUEST, HOST, extra_env)
}

/// `rumprun qemu` options for one card on `tap` with a static address and a gateway.
fn card_on(tap: &str, addr: &str, gateway: &str, extra_env: Option<&str>) -> Vec<String> {
    let mut opts: Vec<String> = [
        "-I",
        &format!("net0,vioif,tap,ifname={tap},script=no,downscript=no"),
        "-W",
        &format!("net0,inet,static,{addr}/24,{gateway}"),
        "-e",
        "RUMPRUN_VERBOSE=1",
    ]
    .map(String::from)
    .into();
    if let Some(env) = extra_env {
        opts.extend(["-e".to_string(), env.to_string()]);
    }
    opts
}

/// A guest running in the background (the launcher and its QEMU, in a process group
/// of their own): killed if the test ends without `finish`ing it.
struct Guest(Option<Child>);

impl Drop for Guest {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.wait();
        }
    }
}

/// Starts a guest in the background, its output captured.
fn spawn_guest(image: &Path, opts: &[String], args: &[&str]) -> Guest {
    let child = Command::new(tool("rumprun"))
        .args(["qemu", "-i"])
        .args(opts)
        .arg(image)
        .arg("--")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("start rumprun");
    Guest(Some(child))
}

/// Waits for a background guest and returns its console, checking it exited 0.
fn finish_guest(mut guest: Guest) -> String {
    let out = guest.0.take().unwrap().wait_with_output().unwrap();
    let console = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "guest:\n{console}");
    console
}

/// `curl` fetches http://GUEST/path, retried while the guest boots (up to 2 minutes).
fn curl(path: &str) -> Vec<u8> {
    curl_from(GUEST, path)
}

fn curl_from(guest: &str, path: &str) -> Vec<u8> {
    let start = Instant::now();
    loop {
        let out = Command::new("curl")
            .args(["-sS", "--fail", "--connect-timeout", "2", "-m", "120"])
            .arg(format!("http://{guest}{path}"))
            .output()
            .expect("tap networking tests need curl");
        if out.status.success() {
            return out.stdout;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "curl {path}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// The guest's HTTP server over tap: the page and 1 MiB byte for byte, and the boot
/// log says which checksum offload was negotiated (`want_line`).
fn http_over_tap(extra_env: Option<&str>, want_line: &str) {
    let guest = spawn_guest(
        &image("http_server.c", Flavor::Glibc),
        &tap_card(extra_env),
        &[],
    );
    assert_eq!(curl("/"), b"hello from the unikernel\n");
    let big = curl("/big");
    assert!(
        big == big_body(),
        "1 MiB body differs ({} bytes)",
        big.len()
    );
    assert_eq!(curl("/quit"), b"bye\n");
    let console = finish_guest(guest);
    assert!(console.contains(want_line), "guest:\n{console}");
}

/// What the HTTP server answers to /big.
fn big_body() -> Vec<u8> {
    (0..1 << 20).map(|i| b'a' + (i % 26) as u8).collect()
}

#[test]
fn http_over_tap_with_checksum_offload() {
    if in_tap_namespace("http_over_tap_with_checksum_offload") {
        http_over_tap(None, OFFLOAD_LINE);
    }
}

/// The switch the benchmark uses: offload off, checksums in software, same traffic.
#[test]
fn http_over_tap_with_offload_turned_off() {
    if in_tap_namespace("http_over_tap_with_offload_turned_off") {
        http_over_tap(
            Some("RUMPRUN_NET_OFFLOAD=0"),
            "checksum offload: none (turned off by RUMPRUN_NET_OFFLOAD=0)",
        );
    }
}

const UDP_SIZES: [usize; 4] = [1, 512, 1472, 8192];

/// The guest sends datagrams to an echo server on the host side of tap0 and checks
/// every echo (8 KiB as IP fragments).
#[test]
fn udp_echo_guest_to_host_over_tap() {
    if !in_tap_namespace("udp_echo_guest_to_host_over_tap") {
        return;
    }
    let sock = UdpSocket::bind((HOST, 0)).unwrap();
    let port = sock.local_addr().unwrap().port().to_string();
    sock.set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    let echo = std::thread::spawn(move || {
        let mut buf = vec![0u8; 65536];
        while let Ok((n, from)) = sock.recv_from(&mut buf) {
            sock.send_to(&buf[..n], from).unwrap();
            if n == 8192 {
                break;
            }
        }
    });
    udp_echo_to(HOST, &port);
    echo.join().unwrap();
}

/// Boots `udp_echo to ADDR PORT` (with offload, on tap0) and checks every echo.
fn udp_echo_to(addr: &str, port: &str) {
    let mut args = vec!["to", addr, port];
    let sizes: Vec<String> = UDP_SIZES.iter().map(usize::to_string).collect();
    args.extend(sizes.iter().map(String::as_str));
    let opts = tap_card(None);
    let opts: Vec<&str> = opts.iter().map(String::as_str).collect();
    let run = rumprun_qemu(&image("udp_echo.c", Flavor::Musl), &opts, &args);
    run.assert_status(0).assert_output_contains(OFFLOAD_LINE);
    for len in UDP_SIZES {
        run.assert_stdout_line(&format!("ok: the host echoed {len} bytes"));
    }
}

/// A guest on tap1 without offload, whose stack verifies every checksum.
fn far_guest(src: &str, args: &[&str]) -> Guest {
    spawn_guest(
        &image(src, Flavor::Glibc),
        &card_on("tap1", FAR_GUEST, "10.9.1.1", Some("RUMPRUN_NET_OFFLOAD=0")),
        args,
    )
}

/// UDP from the guest with offload to the far guest, which echoes: every datagram
/// the first guest sent had its checksum completed by the host and verified by the
/// far guest's stack.
#[test]
fn udp_between_guests_checks_offloaded_checksums() {
    if !in_tap_namespace("udp_between_guests_checks_offloaded_checksums") {
        return;
    }
    let far = far_guest("udp_echo.c", &["serve", "7"]);
    udp_echo_to(FAR_GUEST, "7");
    // The far guest stops at "quit".
    let sock = UdpSocket::bind((HOST, 0)).unwrap();
    sock.send_to(b"quit", (FAR_GUEST, 7)).unwrap();
    let console = finish_guest(far);
    assert!(
        console.contains("checksum offload: none (turned off by RUMPRUN_NET_OFFLOAD=0)"),
        "far guest:\n{console}"
    );
}

/// TCP from the guest with offload (a client) to the far guest's HTTP server: the
/// client's segments (its SYN, request and ACKs) reach a stack that verifies them, and
/// the 1 MiB answer arrives intact.
#[test]
fn tcp_between_guests_checks_offloaded_checksums() {
    if !in_tap_namespace("tcp_between_guests_checks_offloaded_checksums") {
        return;
    }
    let far = far_guest("http_server.c", &[]);
    // Wait until the far guest serves (from the host: delivered locally).
    assert_eq!(curl_from(FAR_GUEST, "/"), b"hello from the unikernel\n");
    let opts = tap_card(None);
    let opts: Vec<&str> = opts.iter().map(String::as_str).collect();
    let run = rumprun_qemu(
        &image("tcp_client.c", Flavor::Musl),
        &opts,
        &["80", FAR_GUEST, "/big"],
    );
    let hash = big_body()
        .iter()
        .fold(0u64, |h, &b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    run.assert_status(0)
        .assert_output_contains(OFFLOAD_LINE)
        .assert_stdout_line("status: HTTP/1.0 200 OK")
        .assert_stdout_line(&format!("body: 1048576 bytes, hash {hash:x}"));
    assert_eq!(curl_from(FAR_GUEST, "/quit"), b"bye\n");
    finish_guest(far);
}

/// The host side of tap0 sends datagrams to an echo server in the guest and checks
/// every echo, resending while the guest boots.
#[test]
fn udp_echo_host_to_guest_over_tap() {
    if !in_tap_namespace("udp_echo_host_to_guest_over_tap") {
        return;
    }
    let guest = spawn_guest(
        &image("udp_echo.c", Flavor::Glibc),
        &tap_card(None),
        &["serve", "7"],
    );
    let sock = UdpSocket::bind((HOST, 0)).unwrap();
    sock.connect((GUEST, 7)).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    let start = Instant::now();
    let mut buf = vec![0u8; 65536];
    for len in UDP_SIZES {
        let want: Vec<u8> = (0..len).map(|k| (k * 13 + len) as u8).collect();
        loop {
            // Fails at once while the guest does not answer ARP yet.
            if sock.send(&want).is_err() {
                std::thread::sleep(Duration::from_millis(100));
            }
            match sock.recv(&mut buf) {
                Ok(n) if n == len => {
                    assert_eq!(&buf[..n], &want[..], "echo of {len} bytes differs");
                    break;
                }
                // A late echo of an earlier, resent size, or nothing yet.
                _ => assert!(
                    start.elapsed() < Duration::from_secs(120),
                    "no echo of {len} bytes from the guest"
                ),
            }
        }
    }
    sock.send(b"quit").unwrap();
    let console = finish_guest(guest);
    assert!(console.contains(OFFLOAD_LINE), "guest:\n{console}");
    for len in UDP_SIZES {
        assert!(
            console.lines().any(|l| l == format!("echoed {len} bytes")),
            "guest:\n{console}"
        );
    }
}
