//! Images made by the host's `mkfs.vfat` (FAT12, FAT16, FAT32) with files copied in by
//! `mcopy`, as cloud-init's NoCloud docs make seeds: the label, every file byte for
//! byte (long and short names, nested directories, a file over many clusters, a
//! directory over several clusters), missing files, and non-FAT devices.
//!
//! Needs `mkfs.vfat` (Debian: dosfstools) and `mcopy`/`mmd` (Debian: mtools).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use rumprun_fat::{Fat, Kind};
use rumprun_vfs::{BlockDevice, MemDisk};

struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let p = std::env::temp_dir().join(format!(
            "rumprun-fat-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn run(cmd: &mut Command, package: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e} (install the Debian package {package})"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The files put on every image (path, contents).
fn files() -> Vec<(&'static str, Vec<u8>)> {
    let big: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    vec![
        ("rumprun/config.json", br#"{"cmdline": "x"}"#.to_vec()),
        ("user-data", b"#cloud-config\n".to_vec()),
        ("meta-data", b"instance-id: i-1\n".to_vec()),
        (
            "openstack/latest/user_data",
            b"{\"hostname\": \"h\"}".to_vec(),
        ),
        ("A Long File Name With Spaces.text", b"spaces\n".to_vec()),
        ("UPPER.TXT", b"upper\n".to_vec()),
        ("empty", Vec::new()),
        ("big.bin", big),
    ]
}

/// A `size` image made with `mkfs.vfat <fat_args> -n cidata`, holding [`files`] and
/// 80 more in `many/` (a directory over several clusters).
fn image(dir: &Path, name: &str, size: &str, fat_args: &[&str]) -> Vec<u8> {
    let img = dir.join(name);
    run(
        Command::new("truncate").args(["-s", size]).arg(&img),
        "coreutils",
    );
    run(
        Command::new("mkfs.vfat")
            .args(fat_args)
            .args(["-n", "cidata"])
            .arg(&img),
        "dosfstools",
    );
    let tree = dir.join(format!("{name}-tree"));
    for (path, data) in files() {
        let p = tree.join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, data).unwrap();
    }
    for i in 0..80 {
        let p = tree.join("many");
        fs::create_dir_all(&p).unwrap();
        fs::write(p.join(format!("file number {i}.txt")), format!("{i}\n")).unwrap();
    }
    let mut mcopy = Command::new("mcopy");
    mcopy.arg("-s").arg("-i").arg(&img);
    for e in fs::read_dir(&tree).unwrap() {
        mcopy.arg(e.unwrap().path());
    }
    mcopy.arg("::/");
    run(&mut mcopy, "mtools");
    fs::read(&img).unwrap()
}

fn check(bytes: Vec<u8>, kind: Kind) {
    let dev: Arc<dyn BlockDevice> = Arc::new(MemDisk::new(bytes, true));
    let fat = Fat::open(dev).unwrap();
    assert_eq!(fat.kind(), kind);
    assert_eq!(fat.label().unwrap(), "cidata");
    for (path, data) in files() {
        assert_eq!(
            fat.read_file(path, 1 << 20).unwrap().as_deref(),
            Some(&data[..]),
            "{path}"
        );
    }
    // Case-insensitive, as Linux's vfat.
    assert_eq!(
        fat.read_file("RUMPRUN/Config.JSON", 1 << 20)
            .unwrap()
            .as_deref(),
        Some(&br#"{"cmdline": "x"}"#[..])
    );
    let many = fat.read_dir("many").unwrap().unwrap();
    assert_eq!(many.len(), 80);
    for i in [0, 41, 79] {
        assert_eq!(
            fat.read_file(&format!("many/file number {i}.txt"), 100)
                .unwrap()
                .unwrap(),
            format!("{i}\n").as_bytes()
        );
    }
    assert_eq!(fat.read_file("nope", 100).unwrap(), None);
    assert_eq!(fat.read_file("nope/config.json", 100).unwrap(), None);
    assert_eq!(fat.read_file("rumprun", 100).unwrap(), None);
    assert!(fat.read_file("big.bin", 1000).is_err());
}

#[test]
fn fat12_seed() {
    let s = Scratch::new("12");
    check(image(&s.0, "seed.img", "2M", &[]), Kind::Fat12);
}

#[test]
fn fat16() {
    let s = Scratch::new("16");
    check(image(&s.0, "f16.img", "20M", &["-F", "16"]), Kind::Fat16);
}

#[test]
fn fat32() {
    let s = Scratch::new("32");
    check(
        image(&s.0, "f32.img", "40M", &["-F", "32", "-s", "1"]),
        Kind::Fat32,
    );
}

#[test]
fn not_fat() {
    let zeros: Arc<dyn BlockDevice> = Arc::new(MemDisk::new(vec![0u8; 65536], true));
    assert!(Fat::open(zeros).is_err());
    let s = Scratch::new("ext2");
    let img = s.0.join("e.img");
    run(
        Command::new("truncate").args(["-s", "1M"]).arg(&img),
        "coreutils",
    );
    run(
        Command::new("mke2fs").args(["-q", "-F"]).arg(&img),
        "e2fsprogs",
    );
    let ext2: Arc<dyn BlockDevice> = Arc::new(MemDisk::new(fs::read(&img).unwrap(), true));
    assert!(Fat::open(ext2).is_err());
    // A boot sector claiming more sectors than the disk has.
    let mut bytes = image(&s.0, "t.img", "2M", &[]);
    bytes.truncate(1 << 20);
    let short: Arc<dyn BlockDevice> = Arc::new(MemDisk::new(bytes, true));
    assert!(Fat::open(short).is_err());
}
