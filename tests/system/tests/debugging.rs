//! Debugging with gdb: `rumprun qemu -D PORT` starts the guest paused with a gdb stub,
//! and the `OUT.gdb` script rumprun-bake writes gives gdb the kernel's and the
//! program's symbols at their load addresses (static and static-pie).

use rumprun_system_tests::*;
use std::process::Command;
use std::time::Duration;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn gdb_session(flavor: Flavor) {
    let prog = build_c("gdb_target.c", flavor);
    // Baked here, not through the cached helper: the image and its script must keep
    // the names rumprun-bake gave them.
    let image = scratch_dir("gdb").join("gdb_target.bin");
    check_output(
        Command::new(tool("rumprun-bake"))
            .arg("hw_virtio")
            .arg(&image)
            .arg(&prog),
        "baking gdb_target",
    );
    let script = format!("{}.gdb", image.display());
    assert!(
        std::path::Path::new(&script).exists(),
        "rumprun-bake wrote no {script}"
    );
    let port = free_port();
    let guest = spawn_rumprun(
        &[
            "qemu",
            "-D",
            &port.to_string(),
            "-i",
            image.to_str().unwrap(),
        ],
        None,
    );
    std::thread::sleep(Duration::from_millis(300));
    let mut gdb = Command::new("gdb");
    gdb.args(["-batch", "-nx", "-x", &script])
        .args(["-ex", &format!("target remote 127.0.0.1:{port}")])
        .args(["-ex", "break square", "-ex", "continue", "-ex", "print x"])
        .args([
            "-ex",
            "bt",
            "-ex",
            "finish",
            "-ex",
            "print counter",
            "-ex",
            "continue",
        ]);
    let g = run_with_timeout(&mut gdb, Duration::from_secs(60));
    let out = g.all_output();
    for want in [
        "Breakpoint 1, square (x=42)",
        "$1 = 42",
        "in main",
        "Value returned is $2 = 1764",
        "$3 = 1764",
    ] {
        assert!(out.contains(want), "gdb output lacks {want:?}:\n{out}");
    }
    let guest = guest.wait_with_output().unwrap();
    let console = String::from_utf8_lossy(&guest.stdout);
    assert_eq!(guest.status.code(), Some(0), "guest: {console}");
    assert!(
        console.contains("square=1764 counter=1764"),
        "guest: {console}"
    );
}

#[test]
fn gdb_breaks_in_main_program_static() {
    gdb_session(Flavor::Glibc);
}

#[test]
fn gdb_breaks_in_main_program_static_pie() {
    gdb_session(Flavor::GlibcStaticPie);
}
