//! Disks: `rumprun -b` attaches host images as virtio-blk devices; programs see them
//! as /dev/vda, ... and what they write is on the host image afterwards.

use rumprun_system_tests::*;
use std::fs;

#[test]
fn raw_disk_is_read_and_written_through_dev_vda() {
    let dir = scratch_dir("rawdisk");
    let img = dir.join("disk.img");
    let mut data = b"HOST-WROTE-THIS!".to_vec();
    data.resize(4 << 20, 0);
    fs::write(&img, &data).unwrap();
    let prog = build_c("rawdisk_test.c", Flavor::Glibc);
    let image = bake(&prog);
    let run = rumprun_qemu(&image, &["-b", img.to_str().unwrap()], &[]);
    run.assert_status(0)
        .assert_output_lacks("FAIL ")
        .assert_stdout_line("ALL OK");
    let after = fs::read(&img).unwrap();
    assert_eq!(&after[1000..1020], b"written by the guest");
    assert!(after[1020..1600].iter().all(|&b| b == b'Q'));
    assert_eq!(after[1600], 0, "the write went past its end");
    assert_eq!(&after[..16], b"HOST-WROTE-THIS!");
}

#[test]
fn missing_disk_image_is_a_launcher_error() {
    let prog = build_c("hello.c", Flavor::Musl);
    let image = bake(&prog);
    let run = rumprun_qemu(&image, &["-b", "/nonexistent/disk.img"], &[]);
    run.assert_status(1);
    assert!(
        run.stderr
            .contains("rumprun: error: -b /nonexistent/disk.img: No such file or directory"),
        "{}",
        run.dump()
    );
}

#[test]
fn mounting_a_disk_without_a_file_system_stops_the_boot_clearly() {
    let dir = scratch_dir("nofs");
    let img = dir.join("zeros.img");
    fs::write(&img, vec![0u8; 1 << 20]).unwrap();
    let prog = build_c("hello.c", Flavor::Musl);
    let image = bake(&prog);
    let arg = format!("{},/data", img.display());
    let run = rumprun_qemu(&image, &["-b", &arg], &[]);
    run.assert_status(1)
        .assert_output_contains("rumprun: blk /dev/vda: unknown file system (not ext2 or ISO 9660)")
        .assert_output_lacks("=== calling");
}

#[test]
fn disk_io_is_interrupt_driven() {
    let dir = scratch_dir("irqdisk");
    let img = dir.join("disk.img");
    let mut data = b"HOST-WROTE-THIS!".to_vec();
    data.resize(4 << 20, 0);
    fs::write(&img, &data).unwrap();
    let image = bake(&build_c("rawdisk_test.c", Flavor::Glibc));
    rumprun_qemu(
        &image,
        &["-b", img.to_str().unwrap(), "-e", "RUMPRUN_VERBOSE=1"],
        &[],
    )
    .assert_status(0)
    .assert_output_contains("rumprun: /dev/vda: virtio-blk, 4 MiB, interrupt-driven (MSI-X)")
    .assert_stdout_line("ALL OK");
}

#[test]
fn iso9660_image_is_mounted_read_only() {
    let dir = scratch_dir("iso");
    let tree = dir.join("tree");
    fs::create_dir_all(tree.join("docs")).unwrap();
    fs::write(
        tree.join("docs/A Long Mixed-Case Name.txt"),
        "hello from the iso\n",
    )
    .unwrap();
    std::os::unix::fs::symlink("docs/A Long Mixed-Case Name.txt", tree.join("link")).unwrap();
    let big: Vec<u8> = (0..3 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    fs::write(tree.join("big.bin"), &big).unwrap();
    let iso = dir.join("data.iso");
    check_output(
        std::process::Command::new("genisoimage")
            .args(["-quiet", "-r", "-o"])
            .arg(&iso)
            .arg(&tree),
        "genisoimage",
    );
    let image = bake(&build_c("iso_reader.c", Flavor::Glibc));
    let arg = format!("{},/data", iso.display());
    rumprun_qemu(&image, &["-b", &arg], &[])
        .assert_status(0)
        .assert_output_lacks("FAIL ")
        .assert_stdout_line("ALL OK");
}

#[test]
fn ext2_image_is_written_and_e2fsck_finds_it_clean() {
    let dir = scratch_dir("ext2");
    let tree = dir.join("tree");
    fs::create_dir_all(&tree).unwrap();
    fs::write(tree.join("from-host.txt"), "written on the host\n").unwrap();
    let img = dir.join("disk.img");
    check_output(
        std::process::Command::new("mke2fs")
            .args(["-q", "-t", "ext2", "-b", "4096", "-d"])
            .arg(&tree)
            .arg(&img)
            .arg("16M"),
        "mke2fs",
    );
    let image = bake(&build_c("ext2_rw.c", Flavor::Glibc));
    let arg = format!("{},/data", img.display());
    rumprun_qemu(&image, &["-b", &arg], &[])
        .assert_status(0)
        .assert_output_lacks("FAIL ")
        .assert_stdout_line("ALL OK");
    let fsck = std::process::Command::new("e2fsck")
        .arg("-fn")
        .arg(&img)
        .output()
        .unwrap();
    assert_eq!(
        fsck.status.code(),
        Some(0),
        "e2fsck:\n{}",
        String::from_utf8_lossy(&fsck.stdout)
    );
    let cat = check_output(
        std::process::Command::new("debugfs")
            .args(["-R", "cat /dir/guest.txt"])
            .arg(&img),
        "debugfs",
    );
    assert_eq!(
        String::from_utf8_lossy(&cat.stdout),
        "written by the unikernel\n"
    );
}
