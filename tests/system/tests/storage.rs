//! Disks: `rumprun -b` attaches host images as virtio-blk devices; programs see them
//! as /dev/vda, ... and what they write is on the host image afterwards.

use rumprun_system_tests::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `-b IMG,/data`.
fn data_disk(img: &Path) -> String {
    format!("{},/data", img.display())
}

/// A host tree with one file, `from-host.txt`.
fn host_tree(dir: &Path) -> PathBuf {
    let tree = dir.join("tree");
    fs::create_dir_all(&tree).unwrap();
    fs::write(tree.join("from-host.txt"), "written on the host\n").unwrap();
    tree
}

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

/// Zeros and random bytes (no superblock, or garbage where one would be) are not
/// a file system: one clear line, status 1, the program never starts.
#[test]
fn mounting_a_disk_without_a_file_system_stops_the_boot_clearly() {
    let dir = scratch_dir("nofs");
    let zeros = dir.join("zeros.img");
    fs::write(&zeros, vec![0u8; 1 << 20]).unwrap();
    let random = dir.join("random.img");
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let bytes: Vec<u8> = (0..1 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    fs::write(&random, bytes).unwrap();
    let image = bake(&build_c("hello.c", Flavor::Musl));
    for img in [zeros, random] {
        rumprun_qemu(&image, &["-b", &data_disk(&img)], &[])
            .assert_status(1)
            .assert_output_contains(
                "rumprun: blk /dev/vda: unknown file system (not ext2 or ISO 9660)",
            )
            .assert_output_lacks("=== calling");
    }
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
    let tree = host_tree(&dir);
    let img = mke2fs(&dir, 4096, "16M", Some(&tree), &[]);
    let image = bake(&build_c("ext2_rw.c", Flavor::Glibc));
    rumprun_qemu(&image, &["-b", &data_disk(&img)], &[])
        .assert_status(0)
        .assert_output_lacks("FAIL ")
        .assert_stdout_line("ALL OK");
    assert_e2fsck_clean(&img);
    assert_eq!(
        debugfs_cat(&img, "/dir/guest.txt"),
        b"written by the unikernel\n"
    );
}

/// Threads and a forked process use the ext2 disk at once (their own files, fsync,
/// one shared O_APPEND descriptor): a disk wait sleeps with the file system locked,
/// and the others must sleep on the lock, not spin (the kernel hung).
#[test]
fn ext2_from_threads_and_processes_at_once() {
    for flavor in [Flavor::Glibc, Flavor::Musl] {
        let dir = scratch_dir("ext2-concurrent");
        let img = mke2fs(&dir, 4096, "64M", None, &[]);
        boot_c(
            "disk_concurrent.c",
            flavor,
            &["-M", "128", "-b", &data_disk(&img)],
            &[],
        )
        .assert_status(0)
        .assert_output_lacks("FAIL ")
        .assert_stdout_line("ALL OK");
        assert_e2fsck_clean(&img);
    }
}

/// The write-heavy workload (tests/programs/ext2_workload.c: thousands of creates,
/// appends, overwrites, truncates, renames, unlinks, directory renames and removals,
/// 600 names in one directory, links, a sparse file past 4 GiB) on an image with
/// `block_size` blocks, e2fsck on the host, then a second boot reads every file back
/// and checks it against the manifest the first wrote.
fn write_heavy_workload(block_size: u32, ops: &str) {
    let dir = scratch_dir("ext2-workload");
    let img = mke2fs(&dir, block_size, "96M", None, &[]);
    let image = bake(&build_c("ext2_workload.c", Flavor::Glibc));
    let disk = data_disk(&img);
    let run = rumprun_qemu(&image, &["-M", "128", "-b", &disk], &["write", ops]);
    run.assert_status(0)
        .assert_output_lacks("FAIL")
        .assert_stdout_line("ok: 600 files in one directory, every third unlinked")
        .assert_stdout_line("ALL OK");
    assert_e2fsck_clean(&img);
    rumprun_qemu(&image, &["-M", "128", "-b", &disk], &["verify"])
        .assert_status(0)
        .assert_output_lacks("FAIL")
        .assert_stdout_line("ok: hard link, symlink and the sparse file past 4 GiB")
        .assert_stdout_line("ok: the tree holds exactly the manifest's files and directories")
        .assert_stdout_line("ALL OK");
    assert_e2fsck_clean(&img);
}

/// 1 KiB blocks: files reach double and the sparse file triple indirect blocks.
#[test]
fn ext2_write_heavy_workload_is_fsck_clean_and_reads_back_after_reboot() {
    write_heavy_workload(1024, "3000");
}

/// 4 KiB blocks, the usual size, and a longer run (5000 operations).
#[test]
fn ext2_write_heavy_workload_on_4k_blocks() {
    write_heavy_workload(4096, "5000");
}

/// SQLite keeps its database on an ext2 disk: 10,000 rows, e2fsck, reboot, the rows
/// and `PRAGMA integrity_check` read back.
#[test]
fn sqlite_database_on_ext2_survives_a_reboot() {
    let dir = scratch_dir("sqlite-ext2");
    let img = mke2fs(&dir, 4096, "32M", None, &[]);
    let image = bake(&build_rust_with_deps("rust-sqlite"));
    let disk = data_disk(&img);
    let run = rumprun_qemu(&image, &["-b", &disk], &["/data/test.db"]);
    run.assert_status(0)
        .assert_output_lacks("panicked")
        .assert_stdout_line("ALL OK");
    assert!(
        run.stdout.contains("ok: reopened, rows and integrity ok"),
        "{}",
        run.dump()
    );
    assert_e2fsck_clean(&img);
    let run = rumprun_qemu(&image, &["-b", &disk], &["--read-back", "/data/test.db"]);
    run.assert_status(0)
        .assert_output_lacks("panicked")
        .assert_stdout_line("ALL OK");
    assert!(
        run.stdout
            .contains("ok: read back: count=10000 sum(value)=50041187 sum(id)=50005000 ")
            && run
                .stdout
                .contains("ok: read back /data/test.db: rows and integrity ok"),
        "{}",
        run.dump()
    );
}

/// fsync's promise under a power cut: the guest fsyncs a new file (and its
/// directories), prints "fsynced" and goes on writing other files; QEMU is killed as
/// soon as `kill_line` appears. The file must be whole on the image as it is
/// (debugfs), e2fsck must not lose it, and the next boot reads it back intact.
fn fsynced_file_survives_a_kill_at(kill_line: &str) {
    let dir = scratch_dir("fsync-kill");
    let img = mke2fs(&dir, 4096, "64M", None, &[]);
    let image = bake(&build_c("fsync_kill.c", Flavor::Glibc));
    let disk = data_disk(&img);
    let mut cmd = Command::new(tool("rumprun"));
    cmd.args(["qemu", "-i", "-b", &disk])
        .arg(&image)
        .args(["--", "write"]);
    let run = run_until_line(&mut cmd, BOOT_TIMEOUT, kill_line);
    assert!(
        !run.timed_out
            && run.status.is_some_and(|s| s != 0)
            && run.stdout.contains("\nfsynced\n")
            && run.stdout.contains(&format!("\n{kill_line}\n")),
        "the guest did not get to {kill_line:?}, or was not killed:\n{}",
        run.dump()
    );
    let want: Vec<u8> = (0..3usize << 20)
        .map(|i| (i * 31 + i / 4096) as u8)
        .collect();
    // Before any repair: the fsynced file is on the image as it is.
    let cat = debugfs_cat(&img, "/keep/precious");
    assert!(
        cat == want,
        "debugfs reads {} bytes of /keep/precious, not the 3 MiB written",
        cat.len()
    );
    // e2fsck may find what the unsynced churn left half-written, but repairing it
    // must not cost the fsynced file.
    let (status, text) = e2fsck(&img);
    eprintln!("e2fsck -fn after the kill at {kill_line:?}: {status:?}\n{text}");
    assert!(
        !text.contains("precious") && !text.contains("/keep"),
        "e2fsck complains about the fsynced file:\n{text}"
    );
    let fix = Command::new("e2fsck")
        .arg("-fy")
        .arg(&img)
        .output()
        .unwrap();
    assert!(
        matches!(fix.status.code(), Some(0 | 1)),
        "e2fsck -fy could not repair the image:\n{}",
        String::from_utf8_lossy(&fix.stdout)
    );
    rumprun_qemu(&image, &["-b", &disk], &["verify"])
        .assert_status(0)
        .assert_output_lacks("FAIL")
        .assert_stdout_line("ok: the fsynced file is intact")
        .assert_stdout_line("ALL OK");
}

/// Killed the moment "fsynced" appears.
#[test]
fn fsynced_file_survives_killing_qemu() {
    fsynced_file_survives_a_kill_at("fsynced");
}

/// Killed later, in the middle of unsynced writes large enough that the block
/// cache has been evicting (writing some metadata of the churn, not all of it).
#[test]
fn fsynced_file_survives_killing_qemu_mid_churn() {
    fsynced_file_survives_a_kill_at("churn 30");
}

/// A full disk: write gets ENOSPC after a short write, mkdir too, creates run out of
/// inodes with ENOSPC, freed space is used again, and the image stays e2fsck-clean.
#[test]
fn full_ext2_disk_gives_enospc_and_stays_consistent() {
    let dir = scratch_dir("ext2-full");
    let img = mke2fs(&dir, 1024, "2M", None, &["-N", "64"]);
    let image = bake(&build_c("ext2_full.c", Flavor::Glibc));
    rumprun_qemu(&image, &["-b", &data_disk(&img)], &[])
        .assert_status(0)
        .assert_output_lacks("FAIL")
        .assert_stdout_line("ok: statfs says full; mkdir gets ENOSPC")
        .assert_stdout_line("ok: space freed by unlink is used again")
        .assert_stdout_line("ALL OK");
    assert_e2fsck_clean(&img);
}

/// `dumpe2fs -h IMG`'s value for `field`.
fn dumpe2fs_field(img: &Path, field: &str) -> u64 {
    let out = check_output(Command::new("dumpe2fs").arg("-h").arg(img), "dumpe2fs");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("dumpe2fs has no {field}:\n{text}"))
        .trim()
        .parse()
        .unwrap()
}

/// A read-only device (QEMU `readonly=on`: VIRTIO_BLK_F_RO): the ext2 on it is mounted
/// read-only, every write gets EROFS, the image is untouched, and statfs reports the
/// file system's real numbers (the same as dumpe2fs).
#[test]
fn read_only_disk_gives_erofs_and_statfs_is_real() {
    let dir = scratch_dir("ext2-ro");
    let tree = host_tree(&dir);
    let img = mke2fs(&dir, 4096, "16M", Some(&tree), &[]);
    let before = fs::read(&img).unwrap();
    let image = bake(&build_c("ext2_readonly.c", Flavor::Glibc));
    // The launcher names its first drive vd0; -set makes it read-only.
    let run = rumprun_qemu(
        &image,
        &["-b", &data_disk(&img), "-g", "-set drive.vd0.readonly=on"],
        &[],
    );
    run.assert_status(0)
        .assert_output_lacks("FAIL")
        .assert_stdout_line("ok: writes get EROFS")
        .assert_stdout_line("ALL OK");
    assert!(
        fs::read(&img).unwrap() == before,
        "the read-only image changed"
    );
    let want = format!(
        "statfs: bsize=4096 blocks={} bfree={} bavail={} files={} ffree={}",
        // f_blocks leaves out the file system's own overhead, as Linux's ext2 does
        run.stdout
            .lines()
            .find_map(|l| l.strip_prefix("statfs: bsize=4096 blocks="))
            .and_then(|l| l.split(' ').next())
            .unwrap_or("?"),
        dumpe2fs_field(&img, "Free blocks"),
        dumpe2fs_field(&img, "Free blocks") - dumpe2fs_field(&img, "Reserved block count"),
        dumpe2fs_field(&img, "Inode count"),
        dumpe2fs_field(&img, "Free inodes"),
    );
    run.assert_stdout_line(&want);
    let blocks: u64 = want
        .split("blocks=")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let total = dumpe2fs_field(&img, "Block count");
    assert!(
        blocks <= total && blocks > total * 9 / 10,
        "f_blocks {blocks} of {total}"
    );
}

/// An image file the user cannot write is attached read-only by the launcher (QEMU
/// would refuse to open it read-write): the guest sees a read-only device. As root
/// (who may write anything) the launcher runs as `nobody` through setpriv.
#[test]
fn unwritable_image_file_is_attached_read_only() {
    // Outside the repository: `nobody` must be able to reach every path.
    let dir = std::env::temp_dir().join(format!("rumprun-ro-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    let tree = host_tree(&dir);
    let img = mke2fs(&dir, 4096, "16M", Some(&tree), &[]);
    let image = dir.join("ext2_readonly.bin");
    fs::copy(bake(&build_c("ext2_readonly.c", Flavor::Glibc)), &image).unwrap();
    use std::os::unix::fs::PermissionsExt;
    for (p, mode) in [(&dir, 0o755), (&img, 0o444), (&image, 0o644)] {
        fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
    }
    let root = String::from_utf8(Command::new("id").arg("-u").output().unwrap().stdout)
        .unwrap()
        .trim()
        == "0";
    let mut cmd = if root {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(tool("rumprun"));
        c
    } else {
        Command::new(tool("rumprun"))
    };
    cmd.args(["qemu", "-i", "-b", &data_disk(&img)]).arg(&image);
    let run = run_with_timeout(&mut cmd, BOOT_TIMEOUT);
    let _ = fs::remove_dir_all(&dir);
    run.assert_status(0)
        .assert_output_lacks("FAIL")
        .assert_stdout_line("ok: writes get EROFS")
        .assert_stdout_line("ok: BLKROGET says read-only")
        .assert_stdout_line("ALL OK");
}

/// A disk whose sectors fail in the host (QEMU blkdebug injects EIO on reads of
/// sector 100 and writes of sector 200): the program gets EIO for those, and the
/// disk goes on working.
#[test]
fn failing_disk_sectors_give_eio() {
    let dir = scratch_dir("eio");
    let img = dir.join("disk.img");
    fs::write(&img, vec![0u8; 1 << 20]).unwrap();
    let conf = dir.join("blkdebug.conf");
    fs::write(
        &conf,
        "[inject-error]\nevent = \"read_aio\"\nerrno = \"5\"\nsector = \"100\"\n\n\
         [inject-error]\nevent = \"write_aio\"\nerrno = \"5\"\nsector = \"200\"\n",
    )
    .unwrap();
    let qemu_args = format!(
        "-drive file=blkdebug:{}:{},if=none,id=bad0,format=raw -device virtio-blk-pci,drive=bad0",
        conf.display(),
        img.display()
    );
    let image = bake(&build_c("rawdisk_eio.c", Flavor::Glibc));
    rumprun_qemu(&image, &["-g", &qemu_args], &[])
        .assert_status(0)
        .assert_output_lacks("FAIL")
        .assert_stdout_line("ok: failed sectors give EIO; the disk goes on working")
        .assert_stdout_line("ALL OK");
}

/// A failing block under a mounted ext2 file system (QEMU blkdebug fails reads of one
/// data block of /data/bad): the program's read gets EIO, the rest of the disk keeps
/// working (tests/programs/ext2_eio.c).
#[test]
fn ext2_read_of_a_failing_block_gives_eio() {
    let dir = scratch_dir("ext2-eio");
    let tree = dir.join("tree");
    fs::create_dir_all(&tree).unwrap();
    fs::write(tree.join("bad"), vec![0x11u8; 100_000]).unwrap();
    let good: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    fs::write(tree.join("good"), good).unwrap();
    let img = mke2fs(&dir, 1024, "4M", Some(&tree), &[]);
    // The disk block of /data/bad's 10th block, as a 512-byte sector.
    let out = check_output(
        Command::new("debugfs")
            .arg("-R")
            .arg("bmap /bad 10")
            .arg(&img),
        "debugfs bmap",
    );
    let block: u64 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("bmap");
    assert!(block > 0, "/bad has no block 10");
    let conf = dir.join("blkdebug.conf");
    fs::write(
        &conf,
        format!(
            "[inject-error]\nevent = \"read_aio\"\nerrno = \"5\"\nsector = \"{}\"\n",
            block * 2
        ),
    )
    .unwrap();
    let image = bake(&build_c("ext2_eio.c", Flavor::Glibc));
    // -b attaches and mounts the disk; -set then puts blkdebug under its drive.
    let img_arg = format!("{},/data", img.display());
    let qemu_args = format!(
        "-set drive.vd0.file=blkdebug:{}:{}",
        conf.display(),
        img.display()
    );
    rumprun_qemu(&image, &["-b", &img_arg, "-g", &qemu_args], &[])
        .assert_status(0)
        .assert_output_lacks("FAIL")
        .assert_output_lacks("kernel fault")
        .assert_stdout_line("ok: reading a file over a failing block gives EIO")
        .assert_stdout_line("ALL OK");
    assert_e2fsck_clean(&img);
}
