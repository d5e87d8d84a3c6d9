//! QEMU's microvm machine (`rumprun qemu -m microvm`): no PCI and no ACPI; the kernel
//! finds its virtio-mmio disks and network cards through the `virtio_mmio.device=`
//! words QEMU adds to the kernel command line, and their interrupts arrive on IOAPIC
//! lines.

use rumprun_system_tests::*;
use std::fs;
use std::time::Duration;

#[test]
fn hello_runs_on_microvm() {
    boot_c("hello.c", Flavor::Musl, &["-m", "microvm"], &[])
        .assert_status(0)
        .assert_stdout_line("Hello, world!")
        .assert_main_markers("Hello, world!", 0);
}

#[test]
fn sleeping_on_microvm_keeps_time() {
    // microvm's PIT has no port 0x61: the TSC is calibrated against channel 0.
    boot_c("time_test.c", Flavor::Glibc, &["-m", "microvm"], &[])
        .assert_status(0)
        .assert_output_lacks("FAIL")
        .assert_stdout_line("ALL OK");
}

#[test]
fn ext2_disk_is_read_and_written_on_microvm() {
    let dir = scratch_dir("microvm-ext2");
    let tree = dir.join("tree");
    fs::create_dir_all(&tree).unwrap();
    fs::write(tree.join("from-host.txt"), "written on the host\n").unwrap();
    let img = mke2fs(&dir, 4096, "16M", Some(&tree), &[]);
    let image = bake(&build_c("ext2_rw.c", Flavor::Glibc));
    let arg = format!("{},/data", img.display());
    rumprun_qemu(
        &image,
        &["-m", "microvm", "-b", &arg, "-e", "RUMPRUN_VERBOSE=1"],
        &[],
    )
    .assert_status(0)
    .assert_output_contains("rumprun: /dev/vda: virtio-blk, 16 MiB, interrupt-driven (IOAPIC line")
    .assert_output_lacks("FAIL ")
    .assert_stdout_line("ALL OK");
    assert_e2fsck_clean(&img);
    assert_eq!(
        debugfs_cat(&img, "/dir/guest.txt"),
        b"written by the unikernel\n"
    );
}

#[test]
fn dhcp_and_tcp_to_the_host_on_microvm() {
    let (port, server) = delayed_host_server(Duration::from_secs(1));
    let image = bake(&build_c("net_idle.c", Flavor::Glibc));
    rumprun_qemu(
        &image,
        &[
            "-m",
            "microvm",
            "-I",
            "net0,vioif",
            "-W",
            "net0,inet,dhcp",
            "-e",
            "RUMPRUN_VERBOSE=1",
        ],
        &[&port.to_string(), "50"],
    )
    .assert_status(0)
    .assert_output_contains("virtio-net, mac 52:54:00:12:34:56, interrupt-driven (IOAPIC line")
    .assert_output_contains("rumprun: eth0: [(10.0.2.15, 24)]")
    .assert_stdout_line("ok: idle waits do not poll")
    .assert_stdout_line("got: late hello");
    server.join().unwrap();
}

#[test]
fn disks_and_cards_keep_command_line_order_on_microvm() {
    let dir = scratch_dir("microvm-order");
    let (a, b) = (dir.join("a.img"), dir.join("b.img"));
    fs::write(&a, vec![0u8; 1 << 20]).unwrap();
    fs::write(&b, vec![0u8; 2 << 20]).unwrap();
    boot_c(
        "hello.c",
        Flavor::Musl,
        &[
            "-m",
            "microvm",
            "-e",
            "RUMPRUN_VERBOSE=1",
            "-b",
            a.to_str().unwrap(),
            "-b",
            b.to_str().unwrap(),
            "-I",
            "n0,vioif",
            "-I",
            "n1,vioif",
        ],
        &[],
    )
    .assert_status(0)
    .assert_output_contains("rumprun: /dev/vda: virtio-blk, 1 MiB")
    .assert_output_contains("rumprun: /dev/vdb: virtio-blk, 2 MiB")
    .assert_output_contains("rumprun: eth0: virtio-net, mac 52:54:00:12:34:56")
    .assert_output_contains("rumprun: eth1: virtio-net, mac 52:54:00:12:34:57");
}

#[test]
fn microvm_with_acpi_says_why_there_is_no_card() {
    // With ACPI (QEMU's default) microvm describes its devices only in the DSDT and
    // adds no virtio_mmio.device= words: the boot stops and says so.
    let image = bake(&build_c("hello.c", Flavor::Musl));
    let run = run_with_timeout(
        std::process::Command::new("qemu-system-x86_64")
            .args(["-M", "microvm", "-accel", "tcg", "-m", "64", "-nodefaults"])
            .args(["-no-user-config", "-display", "none", "-serial", "stdio"])
            .args([
                "-netdev",
                "user,id=n0",
                "-device",
                "virtio-net-device,netdev=n0",
            ])
            .args(["-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-kernel"])
            .arg(&image)
            .args([
                "-append",
                r#"{"net": {"if": "vioif0", "type": "inet", "method": "dhcp"}}"#,
            ]),
        Duration::from_secs(60),
    );
    run.assert_status(3) // isa-debug-exit: 2 * 1 + 1
        .assert_output_contains(
            "rumprun: net vioif0: no such card (rumprun -I adds them; there are 0; there is no PCI bus and no virtio_mmio.device= word on the command line (on QEMU's microvm, ACPI must be off: -M microvm,acpi=off))",
        )
        .assert_output_lacks("=== calling");
}
