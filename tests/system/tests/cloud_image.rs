//! `rumprun image`: the GRUB image of `rumprun iso` written as a disk (raw or qcow2),
//! booted as a user or a cloud would, from a hard disk with plain
//! `qemu-system-x86_64 -drive file=…` (no -kernel; SeaBIOS, and UEFI with OVMF), the console on the
//! serial port; and, for an image that carries no config, the config read from a
//! NoCloud/OpenStack config drive (ISO 9660 or vfat) attached next to it, or fetched
//! from a metadata service the test serves on the host.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use rumprun_system_tests::*;

/// SeaBIOS + GRUB under TCG take a few seconds at most; be generous.
const DISK_BOOT_TIMEOUT: Duration = Duration::from_secs(120);

/// Builds `src` with glibc, bakes it and copies the image into `dir` as `<name>`.
fn image_in(dir: &Path, src: &str, name: &str) -> PathBuf {
    let image = bake(&build_c(src, Flavor::Glibc));
    let copy = dir.join(name);
    fs::copy(&image, &copy).unwrap();
    copy
}

/// `rumprun image <args>` in `dir`.
fn rumprun_image(dir: &Path, args: &[&str]) -> Run {
    let mut cmd = Command::new(tool("rumprun"));
    cmd.arg("image").args(args).current_dir(dir);
    run_with_timeout(&mut cmd, DISK_BOOT_TIMEOUT)
}

/// Boots the disk image `disk` (format `format`) as QEMU's first hard disk with the
/// default machine and firmware, `extra` drives after it, the console on stdio and
/// isa-debug-exit for the exit status. Returns the run and the program's exit
/// status (from isa-debug-exit's `2*v+1`).
fn boot_disk(disk: &Path, format: &str, extra: &[String]) -> (Run, i32) {
    let drives: Vec<String> = extra
        .iter()
        .flat_map(|d| ["-drive".to_string(), d.clone()])
        .collect();
    boot_disk_args(disk, format, &drives)
}

/// [`boot_disk`] with `extra` QEMU arguments.
fn boot_disk_args(disk: &Path, format: &str, extra: &[String]) -> (Run, i32) {
    let mut cmd = Command::new("qemu-system-x86_64");
    cmd.arg("-drive")
        .arg(format!(
            "file={},format={format}",
            disk.display().to_string().replace(',', ",,")
        ))
        .args([
            "-display",
            "none",
            "-serial",
            "stdio",
            "-m",
            "128",
            "-device",
            "isa-debug-exit,iobase=0xf4,iosize=4",
        ]);
    cmd.args(extra);
    let run = run_with_timeout(&mut cmd, DISK_BOOT_TIMEOUT);
    assert!(!run.timed_out, "disk boot timed out:\n{}", run.dump());
    let qemu = run.status.expect("QEMU killed by a signal");
    assert!(
        run.stdout.contains("  Booting `rumprun'"),
        "GRUB's boot line missing:\n{}",
        run.dump()
    );
    // GRUB's own errors (`error: file '…' not found.`).
    assert!(
        !run.stdout
            .lines()
            .any(|l| l.trim_start().starts_with("error:")),
        "GRUB error:\n{}",
        run.dump()
    );
    (run, (qemu - 1) / 2)
}

/// The partition table as `sfdisk` sees it: a valid GPT (`sfdisk -V`: the backup
/// header at the disk's end after the padding, the protective MBR covering the
/// disk) with an EFI system partition inside the disk, and GRUB's BIOS boot code in
/// the MBR (its boot signature).
fn check_partition_table(img: &Path) {
    let verify = check_output(Command::new("sfdisk").arg("-V").arg(img), "sfdisk -V");
    let verify = String::from_utf8_lossy(&verify.stdout).into_owned();
    assert!(
        verify.contains("No errors detected"),
        "sfdisk -V:\n{verify}"
    );
    let out = check_output(Command::new("sfdisk").arg("-d").arg(img), "sfdisk -d");
    let dump = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(dump.contains("label: gpt"), "not a GPT disk:\n{dump}");
    // `vm.img2 : start=  288, size=  5760, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, ...`
    let esp = dump
        .lines()
        .find(|l| l.contains("type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B"))
        .unwrap_or_else(|| panic!("no EFI system partition:\n{dump}"));
    let fields = esp.split_once(':').unwrap().1;
    let field = |name: &str| -> u64 {
        fields
            .split(',')
            .find_map(|f| f.trim().strip_prefix(name)?.strip_prefix('='))
            .unwrap_or_else(|| panic!("no {name} in {esp}"))
            .trim()
            .parse()
            .unwrap()
    };
    let (start, size) = (field("start"), field("size"));
    let sectors = fs::metadata(img).unwrap().len() / 512;
    assert!(
        start >= 1 && start + size <= sectors,
        "partition {start}+{size} outside a disk of {sectors} sectors:\n{dump}"
    );
    let mbr = fs::read(img).unwrap();
    assert_eq!(&mbr[510..512], &[0x55, 0xaa], "no MBR boot signature");
    assert!(
        mbr[..440].iter().any(|&b| b != 0),
        "no boot code in the MBR"
    );
}

/// OVMF's code and variable store (Debian: ovmf).
const OVMF_CODE: &str = "/usr/share/OVMF/OVMF_CODE_4M.fd";
const OVMF_VARS: &str = "/usr/share/OVMF/OVMF_VARS_4M.fd";

/// Boots the disk image `disk` under UEFI (OVMF, q35, the disk on its AHCI
/// controller) as [`boot_disk`] does under BIOS.
fn boot_disk_uefi(disk: &Path, format: &str) -> (Run, i32) {
    for f in [OVMF_CODE, OVMF_VARS] {
        assert!(
            Path::new(f).is_file(),
            "{f} not found: install the Debian package ovmf"
        );
    }
    let vars = disk.with_extension("vars.fd");
    fs::copy(OVMF_VARS, &vars).unwrap();
    let mut cmd = Command::new("qemu-system-x86_64");
    cmd.args(["-M", "q35", "-drive"])
        .arg(format!("if=pflash,format=raw,readonly=on,file={OVMF_CODE}"))
        .arg("-drive")
        .arg(format!(
            "if=pflash,format=raw,file={}",
            vars.display().to_string().replace(',', ",,")
        ))
        .arg("-drive")
        .arg(format!(
            "file={},format={format}",
            disk.display().to_string().replace(',', ",,")
        ))
        .args([
            "-display",
            "none",
            "-serial",
            "stdio",
            "-m",
            "128",
            "-device",
            "isa-debug-exit,iobase=0xf4,iosize=4",
        ]);
    let run = run_with_timeout(&mut cmd, DISK_BOOT_TIMEOUT);
    assert!(!run.timed_out, "UEFI disk boot timed out:\n{}", run.dump());
    let qemu = run.status.expect("QEMU killed by a signal");
    assert!(
        run.stdout.contains("  Booting `rumprun'"),
        "GRUB's boot line missing:\n{}",
        run.dump()
    );
    (run, (qemu - 1) / 2)
}

#[test]
fn raw_and_qcow2_images_boot_from_a_hard_disk() {
    let dir = scratch_dir("cloud-image");
    image_in(&dir, "args.c", "args");
    rumprun_image(
        &dir,
        &[
            "-N",
            "vm",
            "-e",
            "WORLD=cloud",
            "--",
            "args",
            "one",
            "two words",
            "-env",
            "WORLD",
            "-hostname",
        ],
    )
    .assert_status(0)
    .assert_stdout_line("vm.img");
    let raw = dir.join("vm.img");
    assert_eq!(
        fs::metadata(&raw).unwrap().len() % (1 << 20),
        0,
        "not a whole MiB"
    );
    check_partition_table(&raw);
    let expected = [
        "argc=6",
        "argv[0]=[/bin/args-glibc]",
        "argv[1]=[one]",
        "argv[2]=[two words]",
        "env[WORLD]=[cloud]",
        "hostname=[vm]",
    ];
    let (run, status) = boot_disk(&raw, "raw", &[]);
    assert_eq!(status, 0, "{}", run.dump());
    for line in expected {
        run.assert_stdout_line(line);
    }
    let (run, status) = boot_disk_uefi(&raw, "raw");
    assert_eq!(status, 0, "{}", run.dump());
    for line in expected {
        run.assert_stdout_line(line);
    }

    rumprun_image(
        &dir,
        &[
            "-f",
            "qcow2",
            "-N",
            "vm",
            "-e",
            "WORLD=cloud",
            "--",
            "args",
            "one",
            "two words",
            "-env",
            "WORLD",
            "-hostname",
        ],
    )
    .assert_status(0)
    .assert_stdout_line("vm.qcow2");
    let info = check_output(
        Command::new("qemu-img")
            .args(["info", "--output=json"])
            .arg(dir.join("vm.qcow2")),
        "qemu-img info",
    );
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(info.contains("\"format\": \"qcow2\""), "{info}");
    let (run, status) = boot_disk(&dir.join("vm.qcow2"), "qcow2", &[]);
    assert_eq!(status, 0, "{}", run.dump());
    for line in expected {
        run.assert_stdout_line(line);
    }
    let (run, status) = boot_disk_uefi(&dir.join("vm.qcow2"), "qcow2");
    assert_eq!(status, 0, "{}", run.dump());
    for line in expected {
        run.assert_stdout_line(line);
    }

    // Never overwritten; a bad format is one line.
    let again = rumprun_image(&dir, &["-N", "vm", "args"]);
    assert_ne!(again.status, Some(0));
    assert!(
        again.stderr.contains("vm.img already exists"),
        "{}",
        again.dump()
    );
    let bad = rumprun_image(&dir, &["-f", "vmdk", "args"]);
    assert_ne!(bad.status, Some(0));
    assert!(
        bad.stderr
            .contains("-f: unknown image format \"vmdk\" (expected raw or qcow2)"),
        "{}",
        bad.dump()
    );
}

/// An ISO 9660 config drive labelled `label` holding `files` (path, contents), made
/// as cloud-init's NoCloud docs do (genisoimage with Rock Ridge and Joliet).
fn config_drive(dir: &Path, name: &str, label: &str, files: &[(&str, &str)]) -> PathBuf {
    let tree = dir.join(format!("{name}-tree"));
    for (path, text) in files {
        let p = tree.join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }
    let iso = dir.join(format!("{name}.iso"));
    check_output(
        Command::new("genisoimage")
            .args(["-quiet", "-V", label, "-r", "-J", "-o"])
            .arg(&iso)
            .arg(&tree),
        "genisoimage",
    );
    iso
}

/// The `-drive` for a config drive: a read-only virtio disk, as clouds attach it.
fn drive_arg(iso: &Path) -> String {
    format!(
        "file={},format=raw,if=virtio,readonly=on",
        iso.display().to_string().replace(',', ",,")
    )
}

#[test]
fn an_image_without_config_reads_a_config_drive() {
    let dir = scratch_dir("cloud-config-drive");
    image_in(&dir, "args.c", "args");
    // No -e, -N, -b or args: GRUB passes no command line.
    rumprun_image(&dir, &["args"])
        .assert_status(0)
        .assert_stdout_line("rumprun-args.img");
    let img = dir.join("rumprun-args.img");

    // No config drive: the baked program runs with no arguments.
    let (run, status) = boot_disk(&img, "raw", &[]);
    assert_eq!(status, 0, "{}", run.dump());
    run.assert_stdout_line("argc=1");

    // NoCloud: rumprun/config.json on a `cidata` drive (user-data is cloud-config,
    // not ours, and is passed over).
    let config = r#"{"cmdline": "args from 'the drive' -env WORLD -hostname", "env": "WORLD=nocloud", "env": "RUMPRUN_VERBOSE=1", "hostname": "inst-1"}"#;
    let seed = config_drive(
        &dir,
        "seed",
        "cidata",
        &[
            ("rumprun/config.json", config),
            ("user-data", "#cloud-config\n"),
            ("meta-data", "instance-id: inst-1\n"),
        ],
    );
    let (run, status) = boot_disk(&img, "raw", &[drive_arg(&seed)]);
    assert_eq!(status, 0, "{}", run.dump());
    for line in [
        "rumprun: config from /dev/vda (ISO 9660 cidata): rumprun/config.json",
        "argc=6",
        "argv[0]=[/bin/args-glibc]",
        "argv[1]=[from]",
        "argv[2]=[the drive]",
        "env[WORLD]=[nocloud]",
        "hostname=[inst-1]",
    ] {
        run.assert_stdout_line(line);
    }

    // OpenStack: a `config-2` drive whose user-data is our JSON config.
    let seed = config_drive(
        &dir,
        "configdrive",
        "config-2",
        &[(
            "openstack/latest/user_data",
            r#"{"cmdline": "args -hostname", "hostname": "os-vm", "env": "RUMPRUN_VERBOSE=1"}"#,
        )],
    );
    let (run, status) = boot_disk(&img, "raw", &[drive_arg(&seed)]);
    assert_eq!(status, 0, "{}", run.dump());
    run.assert_stdout_line(
        "rumprun: config from /dev/vda (ISO 9660 config-2): openstack/latest/user_data",
    )
    .assert_stdout_line("hostname=[os-vm]");

    // A broken config.json: one line naming the drive and the file, non-zero exit,
    // the program never runs.
    let seed = config_drive(
        &dir,
        "broken",
        "cidata",
        &[("rumprun/config.json", r#"{"cmdline": "args", "env": }"#)],
    );
    let (run, status) = boot_disk(&img, "raw", &[drive_arg(&seed)]);
    assert_eq!(status, 1, "{}", run.dump());
    let errors: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| {
            l.starts_with(
                "rumprun: config error: /dev/vda (ISO 9660 cidata): rumprun/config.json: ",
            )
        })
        .collect();
    assert_eq!(errors.len(), 1, "{}", run.dump());
    run.assert_output_lacks("argc=");
}

/// A vfat config drive labelled `label` holding `files`, made as cloud-init's NoCloud
/// docs do (`mkfs.vfat -n cidata`, then `mcopy`): FAT12 at this size.
fn vfat_drive(dir: &Path, name: &str, label: &str, files: &[(&str, &str)]) -> PathBuf {
    let tree = dir.join(format!("{name}-tree"));
    for (path, text) in files {
        let p = tree.join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }
    let img = dir.join(format!("{name}.img"));
    fs::write(&img, vec![0u8; 2 << 20]).unwrap();
    check_output(
        Command::new("mkfs.vfat").args(["-n", label]).arg(&img),
        "mkfs.vfat",
    );
    let mut mcopy = Command::new("mcopy");
    mcopy.arg("-s").arg("-i").arg(&img);
    for e in fs::read_dir(&tree).unwrap() {
        mcopy.arg(e.unwrap().path());
    }
    mcopy.arg("::/");
    check_output(&mut mcopy, "mcopy");
    img
}

#[test]
fn an_image_without_config_reads_a_vfat_config_drive() {
    let dir = scratch_dir("cloud-vfat-drive");
    image_in(&dir, "args.c", "args");
    rumprun_image(&dir, &["args"])
        .assert_status(0)
        .assert_stdout_line("rumprun-args.img");
    let img = dir.join("rumprun-args.img");

    let config = r#"{"cmdline": "args from 'a vfat drive' -env WORLD -hostname", "env": "WORLD=vfat", "env": "RUMPRUN_VERBOSE=1", "hostname": "fat-1"}"#;
    let seed = vfat_drive(
        &dir,
        "seed",
        "cidata",
        &[
            ("rumprun/config.json", config),
            ("user-data", "#cloud-config\n"),
            ("meta-data", "instance-id: fat-1\n"),
        ],
    );
    let (run, status) = boot_disk(&img, "raw", &[drive_arg(&seed)]);
    assert_eq!(status, 0, "{}", run.dump());
    for line in [
        "rumprun: config from /dev/vda (vfat cidata): rumprun/config.json",
        "argc=6",
        "argv[1]=[from]",
        "argv[2]=[a vfat drive]",
        "env[WORLD]=[vfat]",
        "hostname=[fat-1]",
    ] {
        run.assert_stdout_line(line);
    }

    // OpenStack's layout on vfat: the user-data (a long name) is the JSON config.
    let seed = vfat_drive(
        &dir,
        "configdrive",
        "config-2",
        &[(
            "openstack/latest/user_data",
            r#"{"cmdline": "args -hostname", "hostname": "os-fat", "env": "RUMPRUN_VERBOSE=1"}"#,
        )],
    );
    let (run, status) = boot_disk(&img, "raw", &[drive_arg(&seed)]);
    assert_eq!(status, 0, "{}", run.dump());
    run.assert_stdout_line(
        "rumprun: config from /dev/vda (vfat config-2): openstack/latest/user_data",
    )
    .assert_stdout_line("hostname=[os-fat]");

    // A vfat drive with another label is not a config drive.
    let other = vfat_drive(&dir, "other", "data", &[("rumprun/config.json", config)]);
    let (run, status) = boot_disk(&img, "raw", &[drive_arg(&other)]);
    assert_eq!(status, 0, "{}", run.dump());
    run.assert_stdout_line("argc=1");
}

/// The QEMU arguments for a virtio-net card on user networking whose network is
/// 169.254.169.0/24 (QEMU forwards only addresses inside it), with connections to
/// 169.254.169.254:80 handed to `busybox httpd -i` serving `root` on the host (one
/// process per connection, inetd style): the cloud's metadata service, on this
/// machine only.
fn metadata_net(root: &Path) -> Vec<String> {
    let busybox = ["/usr/bin/busybox", "/bin/busybox"]
        .into_iter()
        .find(|p| Path::new(p).is_file())
        .expect("busybox not found: install the Debian package busybox");
    vec![
        "-netdev".into(),
        format!(
            "user,id=md,net=169.254.169.0/24,host=169.254.169.2,dns=169.254.169.3,\
             guestfwd=tcp:169.254.169.254:80-cmd:{busybox} httpd -i -h {}",
            root.display().to_string().replace(',', ",,")
        ),
        "-device".into(),
        "virtio-net-pci,netdev=md".into(),
    ]
}

#[test]
fn an_image_without_config_asks_the_metadata_service() {
    let dir = scratch_dir("cloud-metadata");
    image_in(&dir, "args.c", "args");
    rumprun_image(&dir, &["args"])
        .assert_status(0)
        .assert_stdout_line("rumprun-args.img");
    let img = dir.join("rumprun-args.img");

    // OpenStack: /openstack/latest/user_data is the JSON config.
    let openstack = dir.join("openstack-md");
    fs::create_dir_all(openstack.join("openstack/latest")).unwrap();
    fs::write(
        openstack.join("openstack/latest/user_data"),
        r#"{"cmdline": "args from 'the metadata service' -env WORLD -hostname", "env": "WORLD=openstack", "env": "RUMPRUN_VERBOSE=1", "hostname": "md-1"}"#,
    )
    .unwrap();
    let (run, status) = boot_disk_args(&img, "raw", &metadata_net(&openstack));
    assert_eq!(status, 0, "{}", run.dump());
    for line in [
        "rumprun: config from http://169.254.169.254/openstack/latest/user_data",
        "argc=6",
        "argv[1]=[from]",
        "argv[2]=[the metadata service]",
        "env[WORLD]=[openstack]",
        "hostname=[md-1]",
    ] {
        run.assert_stdout_line(line);
    }

    // EC2: no OpenStack path (404), /latest/user-data is.
    let ec2 = dir.join("ec2-md");
    fs::create_dir_all(ec2.join("latest")).unwrap();
    fs::write(
        ec2.join("latest/user-data"),
        r#"{"cmdline": "args -hostname", "hostname": "ec2-1", "env": "RUMPRUN_VERBOSE=1"}"#,
    )
    .unwrap();
    let (run, status) = boot_disk_args(&img, "raw", &metadata_net(&ec2));
    assert_eq!(status, 0, "{}", run.dump());
    run.assert_stdout_line("rumprun: config from http://169.254.169.254/latest/user-data")
        .assert_stdout_line("hostname=[ec2-1]");

    // cloud-config user-data is not ours: the program runs with no arguments.
    let other = dir.join("cloud-config-md");
    fs::create_dir_all(other.join("latest")).unwrap();
    fs::write(other.join("latest/user-data"), "#cloud-config\n").unwrap();
    let (run, status) = boot_disk_args(&img, "raw", &metadata_net(&other));
    assert_eq!(status, 0, "{}", run.dump());
    run.assert_stdout_line("argc=1");

    // A broken JSON config there: one line naming the URL, exit status 1.
    let broken = dir.join("broken-md");
    fs::create_dir_all(broken.join("latest")).unwrap();
    fs::write(
        broken.join("latest/user-data"),
        r#"{"cmdline": "args", "env": }"#,
    )
    .unwrap();
    let (run, status) = boot_disk_args(&img, "raw", &metadata_net(&broken));
    assert_eq!(status, 1, "{}", run.dump());
    let errors: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| {
            l.starts_with("rumprun: config error: http://169.254.169.254/latest/user-data: ")
        })
        .collect();
    assert_eq!(errors.len(), 1, "{}", run.dump());
    run.assert_output_lacks("argc=");
}
