//! TCP under TLS-like write patterns (issue 20: asyncio's SSL-over-SSL test panicked
//! smoltcp inside the kernel): tests/programs/tcp_stress.c runs nine connections at
//! once (records written as a 5-byte header and payload in separate small writes or
//! one writev, half-close, resets mid-stream) against an echo server on the guest's
//! loopback and, over virtio-net, against one the test runs on the host. Every echo
//! is checked byte for byte (hash and length) and the kernel must live on.

use rumprun_system_tests::*;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

fn assert_stress_ok(run: &Run) {
    run.assert_status(0)
        .assert_stdout_line("ALL OK")
        .assert_output_lacks("FAIL:")
        .assert_output_lacks("panicked")
        .assert_stdout_line("ok: 3 connections reset mid-stream, the stack lives on");
    assert!(
        run.stdout.lines().any(|l| l
            .starts_with("ok: 6 connections with TLS-like records half-closed and echoed intact")),
        "{}",
        run.dump()
    );
}

#[test]
fn tcp_tls_like_writes_half_close_and_resets_over_loopback_glibc() {
    assert_stress_ok(&boot_c("tcp_stress.c", Flavor::Glibc, &["-M", "128"], &[]));
}

#[test]
fn tcp_tls_like_writes_half_close_and_resets_over_loopback_musl() {
    assert_stress_ok(&boot_c("tcp_stress.c", Flavor::Musl, &["-M", "128"], &[]));
}

/// The same against an echo server on the host (10.0.2.2 in the guest, over QEMU's
/// user networking and virtio-net): it echoes until end of file, then half-closes.
#[test]
fn tcp_tls_like_writes_half_close_and_resets_over_virtio() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let ended = Arc::new(AtomicUsize::new(0));
    let e = ended.clone();
    std::thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(mut s) = s else { break };
            let e = e.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                loop {
                    match s.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            if s.write_all(&buf[..n]).is_err() {
                                break;
                            }
                        }
                    }
                }
                let _ = s.shutdown(Shutdown::Write);
                e.fetch_add(1, Ordering::SeqCst);
            });
        }
    });
    let image = bake(&build_c("tcp_stress.c", Flavor::Musl));
    let run = rumprun_qemu(
        &image,
        &["-M", "128", "-I", "net0,vioif", "-W", "net0,inet,dhcp"],
        &["10.0.2.2", &port.to_string()],
    );
    assert_stress_ok(&run);
    // Every connection reached the host and ended there (the resets included).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while ended.load(Ordering::SeqCst) < 9 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(
        ended.load(Ordering::SeqCst),
        9,
        "connections the host saw end"
    );
}
