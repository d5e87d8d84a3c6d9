//! Images made by the host's `genisoimage` and `xorriso` from a temporary tree, mounted
//! through `rumprun_vfs::Vfs` and compared with the tree: every path, type, size, mode,
//! owner, mtime, content (checksummed), symlink target and directory listing. Also the
//! read-only rules, non-ISO devices, plain and Joliet names, deep (relocated)
//! directories and a multi-extent file made by patching an image.
//!
//! Needs `genisoimage` and `xorriso` on the host (`apt-get install genisoimage xorriso`).

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use rumprun_iso9660::{Iso9660, MountOptions, Naming, ISOFS_SUPER_MAGIC};
use rumprun_vfs::flags::{O_CREAT, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, W_OK};
use rumprun_vfs::{
    BlockDevice, Cred, Errno, FileType, InodeRef, MemDisk, Tmpfs, Vfs, ZeroClock, SECTOR_SIZE,
};

/// A scratch directory removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let p = std::env::temp_dir().join(format!(
            "rumprun-iso9660-{tag}-{}-{:?}",
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

/// Deterministic pseudo-random bytes.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// FNV-1a, the checksum the comparisons report.
fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

const LONG_NAME: &str = "A Very Long Mixed-Case File Name, longer than eight-dot-three \
    and long enough that Rock Ridge must continue it in a CE area - padding padding \
    padding padding padding padding.Data";

/// The tree every image is made from.
fn make_tree(root: &Path) {
    let w = |p: &str, data: &[u8], mode: u32| {
        let path = root.join(p);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, data).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
    };
    w("README.TXT", b"hello, iso\n", 0o644);
    w("empty", b"", 0o644);
    w("run.sh", b"#!/bin/sh\necho hi\n", 0o755);
    w("private", b"secret", 0o600);
    w("big.bin", &noise(2 * 1024 * 1024 + 12345, 1), 0o644);
    w(LONG_NAME, &noise(5000, 2), 0o640);
    w("MixedCase/Sub Dir/notes.md", b"# notes\n", 0o644);
    w("MixedCase/lower.c", &noise(2048, 3), 0o644);
    w("a/b/c/d/e/f/g/h/i/j/deep.txt", b"deep file\n", 0o644);
    w("a/b/c/d/e/f/g/h/i/j/k/deeper.txt", b"deeper\n", 0o644);
    fs::create_dir_all(root.join("emptydir")).unwrap();
    symlink("README.TXT", root.join("rel-link")).unwrap();
    symlink("/etc/passwd", root.join("abs-link")).unwrap();
    symlink("../big.bin", root.join("MixedCase/up-link")).unwrap();
    symlink("./Sub Dir/../lower.c", root.join("MixedCase/dots-link")).unwrap();
    symlink("a/b/c/d", root.join("dir-link")).unwrap();
    let long_target = format!("/{}", ["segment-of-a-long-target"; 12].join("/"));
    symlink(&long_target, root.join("long-link")).unwrap();
    // Directories get fixed modes too (the umask must not matter).
    for d in ["MixedCase", "MixedCase/Sub Dir", "emptydir", "a"] {
        fs::set_permissions(root.join(d), fs::Permissions::from_mode(0o750)).unwrap();
    }
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success() || !o.stdout.is_empty())
}

/// Runs `tool args... -o out tree`; panics with the tool's output on failure.
fn make_iso(tool: &[&str], args: &[&str], tree: &Path, out: &Path) -> Vec<u8> {
    assert!(
        have(tool[0]),
        "{} not found: apt-get install -y genisoimage xorriso",
        tool[0]
    );
    let o = Command::new(tool[0])
        .args(&tool[1..])
        .args(args)
        .arg("-quiet")
        .arg("-o")
        .arg(out)
        .arg(tree)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{tool:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut data = fs::read(out).unwrap();
    data.resize(data.len().div_ceil(SECTOR_SIZE) * SECTOR_SIZE, 0);
    data
}

const GENISO: &[&str] = &["genisoimage"];
const XORRISO: &[&str] = &["xorriso", "-as", "mkisofs"];

/// Mounts `image` at `/mnt` of a fresh VFS.
fn mount(image: Vec<u8>, opts: MountOptions) -> (Vfs, Arc<Iso9660>) {
    let root = Tmpfs::new(rumprun_vfs::makedev(0, 1), Arc::new(ZeroClock));
    let vfs = Vfs::new(root);
    assert_eq!(vfs.alloc_dev(), rumprun_vfs::makedev(0, 1)); // the root's
    let dev: Arc<dyn BlockDevice> = Arc::new(MemDisk::new(image, true));
    assert!(Iso9660::probe(&dev));
    let fs = Iso9660::mount_with(dev, vfs.alloc_dev(), opts).unwrap();
    vfs.mkdir(&vfs.root(), b"/mnt", 0o755, Cred::ROOT).unwrap();
    vfs.mount(&vfs.root(), b"/mnt", fs.clone()).unwrap();
    (vfs, fs)
}

fn read_all(node: &InodeRef) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 70_000]; // not a multiple of the block size
    loop {
        let n = Vfs::read_at(node, out.len() as u64, &mut buf).unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&buf[..n]);
    }
}

fn listing(vfs: &Vfs, path: &[u8]) -> BTreeMap<Vec<u8>, (u64, FileType)> {
    let dir = vfs.lookup(&vfs.root(), path).unwrap();
    let mut out = BTreeMap::new();
    let mut cookie = 0;
    while let Some(e) = dir.read_dir(cookie).unwrap() {
        assert!(out.insert(e.name.clone(), (e.ino, e.kind)).is_none());
        // Resuming from any cookie gives the next entry again.
        cookie = e.next;
    }
    out
}

/// What the tree should look like on the volume: how modes and owners map.
#[derive(Clone, Copy)]
enum Modes {
    /// `-R`: exact modes and owners.
    Exact,
    /// `-r`: owners 0, everything readable, write bits cleared, execute if any.
    Rationalized,
}

/// Whether the tool records real directory link counts (genisoimage) or 1, the
/// "unknown" that `find` understands (xorriso); either way `stat` reports the `PX`
/// value, like Linux.
fn dir_nlink_counted(tool: &[&str]) -> bool {
    tool[0] == "genisoimage"
}

fn expected_perm(host_mode: u32, is_dir: bool, modes: Modes) -> u32 {
    let perm = host_mode & 0o7777;
    match modes {
        Modes::Exact => perm,
        Modes::Rationalized => {
            let mut p = (perm | 0o444) & !0o222 & !0o7000;
            if is_dir || perm & 0o111 != 0 {
                p |= 0o111;
            }
            p
        }
    }
}

/// Compares the whole tree under `host` with `/mnt` + `rel`, recursively.
fn compare(vfs: &Vfs, host: &Path, rel: &str, modes: Modes, counted: bool, seen: &mut Vec<u64>) {
    let vpath = format!("/mnt{rel}");
    let list = listing(vfs, vpath.as_bytes());
    let dir_st = vfs.stat(&vfs.root(), vpath.as_bytes(), true).unwrap();
    assert_eq!(
        list[&b"."[..]],
        (dir_st.ino, FileType::Directory),
        "{vpath}"
    );
    if !rel.is_empty() {
        let parent = vfs
            .stat(&vfs.root(), format!("{vpath}/..").as_bytes(), true)
            .unwrap();
        assert_eq!(list[&b".."[..]].0, parent.ino, "{vpath}/..");
        assert_eq!(
            vfs.path_of(&vfs.lookup(&vfs.root(), vpath.as_bytes()).unwrap())
                .unwrap(),
            vpath.as_bytes()
        );
    }
    let mut host_names: Vec<Vec<u8>> = fs::read_dir(host)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_encoded_bytes())
        .collect();
    host_names.extend([b".".to_vec(), b"..".to_vec()]);
    host_names.sort();
    let mut iso_names: Vec<Vec<u8>> = list.keys().cloned().collect();
    if rel.is_empty() {
        // The relocation directory genisoimage adds for deep trees (empty in the Rock
        // Ridge view, since the relocated directories are hidden there).
        if let Some(i) = iso_names.iter().position(|n| n == b"rr_moved") {
            let moved = listing(vfs, b"/mnt/rr_moved");
            assert_eq!(moved.len(), 2, "rr_moved shows only . and ..");
            iso_names.remove(i);
        }
    }
    assert_eq!(
        iso_names
            .iter()
            .map(|n| String::from_utf8_lossy(n))
            .collect::<Vec<_>>(),
        host_names
            .iter()
            .map(|n| String::from_utf8_lossy(n))
            .collect::<Vec<_>>(),
        "listing of {vpath}"
    );
    for name in host_names {
        if name == b"." || name == b".." {
            continue;
        }
        let name = String::from_utf8(name).unwrap();
        let hp = host.join(&name);
        let vp = format!("{vpath}/{name}");
        let hm = fs::symlink_metadata(&hp).unwrap();
        let st = vfs.stat(&vfs.root(), vp.as_bytes(), false).unwrap();
        let (ino, kind) = list[name.as_bytes()];
        assert_eq!(ino, st.ino, "{vp}: dirent ino vs stat");
        assert_eq!(kind, st.file_type(), "{vp}");
        assert!(!seen.contains(&st.ino), "{vp}: inode number reused");
        seen.push(st.ino);
        let is_dir = hm.is_dir();
        if !hm.file_type().is_symlink() {
            assert_eq!(
                st.perm(),
                expected_perm(hm.mode(), is_dir, modes),
                "{vp}: mode"
            );
        }
        if let Modes::Exact = modes {
            assert_eq!((st.uid, st.gid), (hm.uid(), hm.gid()), "{vp}: owner");
        } else {
            assert_eq!((st.uid, st.gid), (0, 0), "{vp}: owner");
        }
        if !is_dir {
            assert_eq!(st.mtime.sec, hm.mtime(), "{vp}: mtime");
            assert_eq!(st.nlink, 1, "{vp}: nlink");
        }
        if hm.file_type().is_symlink() {
            assert_eq!(st.file_type(), FileType::Symlink, "{vp}");
            let target = fs::read_link(&hp)
                .unwrap()
                .into_os_string()
                .into_encoded_bytes();
            assert_eq!(
                vfs.readlink(&vfs.root(), vp.as_bytes()).unwrap(),
                target,
                "{vp}"
            );
            assert_eq!(st.size, target.len() as u64);
        } else if is_dir {
            assert_eq!(st.file_type(), FileType::Directory, "{vp}");
            let subdirs = fs::read_dir(&hp)
                .unwrap()
                .filter(|e| e.as_ref().unwrap().file_type().unwrap().is_dir())
                .count();
            let nlink = if counted { 2 + subdirs } else { 1 };
            assert_eq!(st.nlink as usize, nlink, "{vp}: nlink");
            compare(vfs, &hp, &format!("{rel}/{name}"), modes, counted, seen);
        } else {
            assert_eq!(st.file_type(), FileType::Regular, "{vp}");
            let want = fs::read(&hp).unwrap();
            assert_eq!(st.size, want.len() as u64, "{vp}: size");
            assert_eq!(
                st.blocks,
                want.len().div_ceil(2048) as u64 * 4,
                "{vp}: blocks"
            );
            let node = vfs
                .open(&vfs.root(), vp.as_bytes(), O_RDONLY, 0, Cred::ROOT)
                .unwrap();
            let got = read_all(&node);
            assert_eq!(fnv(&got), fnv(&want), "{vp}: content checksum");
            assert_eq!(got.len(), want.len(), "{vp}: content length");
        }
    }
}

/// Everything a read-only mount must refuse.
fn check_read_only(vfs: &Vfs) {
    let r = vfs.root();
    let c = Cred::ROOT;
    let erofs = Err(Errno::EROFS);
    assert_eq!(
        vfs.open(&r, b"/mnt/README.TXT", O_WRONLY, 0, c).err(),
        Some(Errno::EROFS)
    );
    assert_eq!(
        vfs.open(&r, b"/mnt/README.TXT", O_RDWR, 0, c).err(),
        Some(Errno::EROFS)
    );
    assert_eq!(
        vfs.open(&r, b"/mnt/README.TXT", O_RDONLY | O_TRUNC, 0, c)
            .err(),
        Some(Errno::EROFS)
    );
    assert_eq!(
        vfs.open(&r, b"/mnt/new", O_CREAT | O_WRONLY, 0o644, c)
            .err(),
        Some(Errno::EROFS)
    );
    assert_eq!(
        vfs.mkdir(&r, b"/mnt/newdir", 0o755, c).err(),
        Some(Errno::EROFS)
    );
    assert_eq!(
        vfs.symlink(b"x", &r, b"/mnt/newlink", c).err(),
        Some(Errno::EROFS)
    );
    assert_eq!(vfs.unlink(&r, b"/mnt/README.TXT"), erofs);
    assert_eq!(vfs.rmdir(&r, b"/mnt/emptydir"), erofs);
    assert_eq!(vfs.rename(&r, b"/mnt/README.TXT", &r, b"/mnt/x", 0), erofs);
    assert_eq!(vfs.chmod(&r, b"/mnt/README.TXT", 0o777, true), erofs);
    assert_eq!(vfs.truncate(&r, b"/mnt/README.TXT", 0), erofs);
    assert_eq!(vfs.access(&r, b"/mnt/README.TXT", W_OK, true, c), erofs);
    let node = vfs.open(&r, b"/mnt/README.TXT", O_RDONLY, 0, c).unwrap();
    assert_eq!(Vfs::write_at(&node, 0, b"x"), Err(Errno::EROFS));
    // Nothing changed.
    assert_eq!(read_all(&node), b"hello, iso\n");
}

fn check_statfs(vfs: &Vfs, fs: &Iso9660, image_len: usize) {
    let s = vfs.statfs(&vfs.root(), b"/mnt/MixedCase").unwrap();
    assert_eq!(s.fs_type, ISOFS_SUPER_MAGIC);
    assert_eq!(s.fs_type, 0x9660);
    assert_eq!(s.bsize, 2048);
    assert_eq!(s.blocks, fs.blocks());
    assert!(s.blocks > 2 * 1024 * 1024 / 2048, "at least the big file");
    assert!(s.blocks * 2048 <= image_len as u64);
    assert_eq!(s.bfree, 0);
    assert_eq!(s.flags & 1, 1, "ST_RDONLY");
}

fn check_rock_ridge(tool: &[&str], args: &[&str], modes: Modes) {
    let scratch = Scratch::new(&format!("{}{}", tool[0], args.join("")));
    let tree = scratch.0.join("tree");
    make_tree(&tree);
    let image = make_iso(tool, args, &tree, &scratch.0.join("x.iso"));
    let len = image.len();
    let (vfs, fs) = mount(image, MountOptions::default());
    assert!(matches!(fs.naming(), Naming::RockRidge { .. }));
    let root = vfs.stat(&vfs.root(), b"/mnt", true).unwrap();
    assert_eq!(root.ino, 1);
    assert_eq!(root.file_type(), FileType::Directory);
    let mut seen = vec![root.ino];
    compare(&vfs, &tree, "", modes, dir_nlink_counted(tool), &mut seen);
    // Paths through symlinks and `..`.
    let via = vfs
        .lookup(&vfs.root(), b"/mnt/dir-link/e/../e/f/g/h/i/j/deep.txt")
        .unwrap();
    assert_eq!(read_all(&via), b"deep file\n");
    let up = vfs.lookup(&vfs.root(), b"/mnt/MixedCase/up-link").unwrap();
    assert_eq!(up.stat().size, 2 * 1024 * 1024 + 12345);
    assert_eq!(
        vfs.stat(&vfs.root(), b"/mnt/..", true).unwrap().ino,
        vfs.root().stat().ino
    );
    assert_eq!(
        vfs.lookup(&vfs.root(), b"/mnt/readme.txt").err(),
        Some(Errno::ENOENT)
    );
    assert_eq!(
        vfs.lookup(&vfs.root(), b"/mnt/README.TXT/x").err(),
        Some(Errno::ENOTDIR)
    );
    let emptydir = vfs.lookup(&vfs.root(), b"/mnt/emptydir").unwrap();
    assert!(emptydir.is_empty_dir().unwrap());
    assert!(!vfs
        .lookup(&vfs.root(), b"/mnt/a")
        .unwrap()
        .is_empty_dir()
        .unwrap());
    // Reads at odd offsets and past the end.
    let big = vfs.lookup(&vfs.root(), b"/mnt/big.bin").unwrap();
    let want = noise(2 * 1024 * 1024 + 12345, 1);
    for &(off, len) in &[
        (0usize, 1usize),
        (2047, 2),
        (4095, 10_000),
        (want.len() - 5, 100),
    ] {
        let mut buf = vec![0u8; len];
        let n = Vfs::read_at(&big, off as u64, &mut buf).unwrap();
        let end = (off + len).min(want.len());
        assert_eq!(&buf[..n], &want[off..end]);
    }
    let mut buf = [0u8; 8];
    assert_eq!(Vfs::read_at(&big, want.len() as u64 + 10, &mut buf), Ok(0));
    assert_eq!(
        Vfs::read_at(&vfs.lookup(&vfs.root(), b"/mnt/a").unwrap(), 0, &mut buf),
        Err(Errno::EISDIR)
    );
    assert_eq!(
        vfs.readlink(&vfs.root(), b"/mnt/README.TXT"),
        Err(Errno::EINVAL)
    );
    // Stable: a second mount of the same image gives the same inode numbers.
    let again = vfs
        .stat(&vfs.root(), b"/mnt/a/b/c/d/e/f/g/h/i/j/deep.txt", true)
        .unwrap();
    assert!(seen.contains(&again.ino));
    check_read_only(&vfs);
    check_statfs(&vfs, &fs, len);
}

#[test]
fn genisoimage_rock_ridge_rationalized() {
    check_rock_ridge(GENISO, &["-r"], Modes::Rationalized);
}

#[test]
fn genisoimage_rock_ridge_exact() {
    check_rock_ridge(GENISO, &["-R"], Modes::Exact);
}

#[test]
fn xorriso_rock_ridge_rationalized() {
    check_rock_ridge(XORRISO, &["-r"], Modes::Rationalized);
}

#[test]
fn xorriso_rock_ridge_exact() {
    check_rock_ridge(XORRISO, &["-R"], Modes::Exact);
}

/// A plain image: 8.3 upper-case names map to lower case without `;1` or a trailing dot.
#[test]
fn plain_iso_names() {
    let scratch = Scratch::new("plain");
    let tree = scratch.0.join("tree");
    fs::create_dir_all(tree.join("SUBDIR")).unwrap();
    fs::write(tree.join("README.TXT"), b"plain\n").unwrap();
    fs::write(tree.join("MAKEFILE"), b"all:\n").unwrap();
    fs::write(tree.join("SUBDIR/DATA.BIN"), noise(10_000, 4)).unwrap();
    let image = make_iso(GENISO, &[], &tree, &scratch.0.join("p.iso"));
    let (vfs, fs) = mount(image, MountOptions::default());
    assert_eq!(fs.naming(), Naming::Plain);
    let names: Vec<Vec<u8>> = listing(&vfs, b"/mnt").into_keys().collect();
    assert_eq!(
        names,
        [&b"."[..], b"..", b"makefile", b"readme.txt", b"subdir"]
    );
    let f = vfs.lookup(&vfs.root(), b"/mnt/subdir/data.bin").unwrap();
    assert_eq!(read_all(&f), noise(10_000, 4));
    let st = f.stat();
    assert_eq!(st.mode, 0o100555);
    assert_eq!(
        st.mtime.sec,
        fs::metadata(tree.join("SUBDIR/DATA.BIN")).unwrap().mtime()
    );
    assert_eq!(
        read_all(&vfs.lookup(&vfs.root(), b"/mnt/makefile").unwrap()),
        b"all:\n"
    );
    assert_eq!(
        vfs.stat(&vfs.root(), b"/mnt/subdir", true).unwrap().mode,
        0o40555
    );
    assert_eq!(
        vfs.path_of(&vfs.lookup(&vfs.root(), b"/mnt/subdir").unwrap())
            .unwrap(),
        b"/mnt/subdir"
    );
    assert_eq!(
        vfs.open(
            &vfs.root(),
            b"/mnt/x",
            O_CREAT | O_WRONLY,
            0o644,
            Cred::ROOT
        )
        .err(),
        Some(Errno::EROFS)
    );
}

/// Joliet without Rock Ridge keeps long mixed-case names; `norock` on a Rock Ridge image
/// with Joliet uses Joliet; with neither, plain names.
#[test]
fn joliet_and_norock() {
    let scratch = Scratch::new("joliet");
    let tree = scratch.0.join("tree");
    fs::create_dir_all(tree.join("Some Dir")).unwrap();
    fs::write(tree.join("Some Dir/Long Mixed Name.txt"), b"joliet\n").unwrap();
    let image = make_iso(GENISO, &["-J", "-R"], &tree, &scratch.0.join("j.iso"));
    let (vfs, fs) = mount(image.clone(), MountOptions::default());
    assert!(matches!(fs.naming(), Naming::RockRidge { .. }));
    let (jvfs, jfs) = mount(
        image.clone(),
        MountOptions {
            rock_ridge: false,
            joliet: true,
        },
    );
    assert_eq!(jfs.naming(), Naming::Joliet);
    let (pvfs, pfs) = mount(
        image,
        MountOptions {
            rock_ridge: false,
            joliet: false,
        },
    );
    assert_eq!(pfs.naming(), Naming::Plain);
    for v in [&vfs, &jvfs] {
        let f = v
            .lookup(&v.root(), b"/mnt/Some Dir/Long Mixed Name.txt")
            .unwrap();
        assert_eq!(read_all(&f), b"joliet\n");
    }
    let names: Vec<Vec<u8>> = listing(&pvfs, b"/mnt").into_keys().collect();
    assert_eq!(names, [&b"."[..], b"..", b"some_dir"]);
}

/// Not an ISO image: probe says no, mount fails with EINVAL.
#[test]
fn non_iso_refused() {
    for data in [vec![0u8; 1 << 20], noise(1 << 20, 9), vec![0u8; 4096]] {
        let dev: Arc<dyn BlockDevice> = Arc::new(MemDisk::new(data, true));
        assert!(!Iso9660::probe(&dev));
        assert_eq!(Iso9660::mount(dev, 7).err(), Some(Errno::EINVAL));
    }
    // An ext2-looking image is not an ISO either.
    let mut ext2 = vec![0u8; 1 << 20];
    ext2[1024 + 56..1024 + 58].copy_from_slice(&0xef53u16.to_le_bytes());
    let dev: Arc<dyn BlockDevice> = Arc::new(MemDisk::new(ext2, true));
    assert!(!Iso9660::probe(&dev));
}

/// A truncated image (the device ends before the data) gives EIO, not a panic.
#[test]
fn truncated_image_gives_eio() {
    let scratch = Scratch::new("trunc");
    let tree = scratch.0.join("tree");
    fs::create_dir_all(&tree).unwrap();
    fs::write(tree.join("big"), noise(300_000, 5)).unwrap();
    let mut image = make_iso(GENISO, &["-r"], &tree, &scratch.0.join("t.iso"));
    // Cut the device in the middle of the file's data.
    let data = noise(300_000, 5);
    let at = image.windows(64).position(|w| w == &data[..64]).unwrap();
    image.truncate((at + 100_000) / SECTOR_SIZE * SECTOR_SIZE);
    let (vfs, _fs) = mount(image, MountOptions::default());
    let f = vfs.lookup(&vfs.root(), b"/mnt/big").unwrap();
    let mut buf = vec![0u8; 300_000];
    assert_eq!(Vfs::read_at(&f, 0, &mut buf), Err(Errno::EIO));
}

/// A multi-extent file: an image whose only file's record is split in two by patching
/// (real ones are > 4 GiB), read back as one file.
#[test]
fn multi_extent_file() {
    let scratch = Scratch::new("multi");
    let tree = scratch.0.join("tree");
    fs::create_dir_all(&tree).unwrap();
    let data = noise(6000, 6);
    fs::write(tree.join("A.DAT"), &data).unwrap();
    let mut image = make_iso(GENISO, &[], &tree, &scratch.0.join("m.iso"));
    // The root directory: from the primary descriptor's root record.
    let root = u32::from_le_bytes(image[32768 + 158..32768 + 162].try_into().unwrap()) as usize;
    let dir = root * 2048;
    // Records: `.`, `..`, then A.DAT;1.
    let mut pos = dir;
    pos += image[pos] as usize;
    pos += image[pos] as usize;
    let len = image[pos] as usize;
    assert_eq!(&image[pos + 33..pos + 33 + 7], b"A.DAT;1");
    assert_eq!(image[pos + len], 0, "the file is the last record");
    let rec: Vec<u8> = image[pos..pos + len].to_vec();
    let extent = u32::from_le_bytes(rec[2..6].try_into().unwrap());
    let set = |r: &mut [u8], extent: u32, size: u32, flags: u8| {
        r[2..6].copy_from_slice(&extent.to_le_bytes());
        r[6..10].copy_from_slice(&extent.to_be_bytes());
        r[10..14].copy_from_slice(&size.to_le_bytes());
        r[14..18].copy_from_slice(&size.to_be_bytes());
        r[25] = flags;
    };
    let mut first = rec.clone();
    set(&mut first, extent, 4096, 0x80);
    let mut second = rec.clone();
    set(&mut second, extent + 2, 6000 - 4096, 0);
    image[pos..pos + len].copy_from_slice(&first);
    image[pos + len..pos + 2 * len].copy_from_slice(&second);
    let (vfs, _fs) = mount(image, MountOptions::default());
    let names: Vec<Vec<u8>> = listing(&vfs, b"/mnt").into_keys().collect();
    assert_eq!(names, [&b"."[..], b"..", b"a.dat"]);
    let f = vfs.lookup(&vfs.root(), b"/mnt/a.dat").unwrap();
    assert_eq!(f.stat().size, 6000);
    assert_eq!(read_all(&f), data);
    let mut buf = vec![0u8; 100];
    assert_eq!(Vfs::read_at(&f, 4050, &mut buf), Ok(100));
    assert_eq!(buf, data[4050..4150]);
}

/// FIFOs, hard links (Rock Ridge link count; like Linux, each name has its own inode
/// number) and, when the host lets us make one, a device node (`PN`).
#[test]
fn special_files_and_hard_links() {
    for tool in [GENISO, XORRISO] {
        let scratch = Scratch::new(&format!("special-{}", tool[0]));
        let tree = scratch.0.join("tree");
        fs::create_dir_all(&tree).unwrap();
        fs::write(tree.join("x"), b"shared\n").unwrap();
        fs::hard_link(tree.join("x"), tree.join("hard")).unwrap();
        let ok = Command::new("mkfifo")
            .arg(tree.join("pipe"))
            .status()
            .unwrap();
        assert!(ok.success());
        let dev = Command::new("mknod")
            .arg(tree.join("null"))
            .args(["c", "1", "3"])
            .output()
            .is_ok_and(|o| o.status.success());
        let image = make_iso(tool, &["-R"], &tree, &scratch.0.join("s.iso"));
        let (vfs, _fs) = mount(image, MountOptions::default());
        let st = vfs.stat(&vfs.root(), b"/mnt/pipe", false).unwrap();
        assert_eq!(st.file_type(), FileType::Fifo, "{tool:?}");
        assert_eq!(st.size, 0);
        let a = vfs.stat(&vfs.root(), b"/mnt/x", false).unwrap();
        let b = vfs.stat(&vfs.root(), b"/mnt/hard", false).unwrap();
        assert_eq!((a.nlink, b.nlink), (2, 2), "{tool:?}");
        for p in [&b"/mnt/x"[..], b"/mnt/hard"] {
            assert_eq!(read_all(&vfs.lookup(&vfs.root(), p).unwrap()), b"shared\n");
        }
        if dev {
            let st = vfs.stat(&vfs.root(), b"/mnt/null", false).unwrap();
            assert_eq!(st.file_type(), FileType::CharDevice, "{tool:?}");
            assert_eq!(st.rdev, rumprun_vfs::makedev(1, 3), "{tool:?}");
        } else {
            eprintln!("mknod not permitted here: device numbers (PN) not checked");
        }
    }
}

/// Walks everything reachable from `dir` (bounded), ignoring errors: damaged images must
/// give errors, never panics or endless loops.
fn walk_any(vfs: &Vfs, dir: &InodeRef, depth: u32, budget: &mut u32) {
    let mut cookie = 0;
    while let Ok(Some(e)) = dir.read_dir(cookie) {
        if *budget == 0 {
            return;
        }
        *budget -= 1;
        assert!(e.next > cookie, "cookies advance");
        cookie = e.next;
        if e.name == b"." || e.name == b".." {
            let _ = dir.parent();
            continue;
        }
        let Ok(node) = dir.lookup(&e.name) else {
            continue;
        };
        let _ = node.stat();
        let _ = node.readlink();
        let _ = vfs.path_of(&node).err();
        let mut buf = vec![0u8; 5000];
        let _ = node.read_at(0, &mut buf);
        let _ = node.read_at(u64::MAX - 10, &mut buf);
        if node.file_type() == FileType::Directory && depth < 12 {
            walk_any(vfs, &node, depth + 1, budget);
        }
    }
}

#[test]
fn damaged_images_do_not_panic() {
    let scratch = Scratch::new("fuzz");
    let tree = scratch.0.join("tree");
    make_tree(&tree);
    fs::remove_file(tree.join("big.bin")).unwrap();
    for tool in [GENISO, XORRISO] {
        let image = make_iso(tool, &["-R", "-J"], &tree, &scratch.0.join("f.iso"));
        // Metadata lives in the first blocks; damage only those.
        let meta = image.len().min(60 * 2048);
        let rnd = noise(300 * 16, 11);
        for round in 0..300 {
            let mut img = image.clone();
            for k in 0..8 {
                let r = &rnd[(round * 16 + k * 2)..];
                let at = 16 * 2048
                    + (u16::from_le_bytes([r[0], r[1]]) as usize * 7919) % (meta - 16 * 2048);
                img[at] = r[1] ^ (round as u8);
            }
            let root = Tmpfs::new(rumprun_vfs::makedev(0, 1), Arc::new(ZeroClock));
            let vfs = Vfs::new(root);
            let dev: Arc<dyn BlockDevice> = Arc::new(MemDisk::new(img, true));
            let Ok(fs) = Iso9660::mount(dev, 99) else {
                continue;
            };
            vfs.mkdir(&vfs.root(), b"/mnt", 0o755, Cred::ROOT).unwrap();
            vfs.mount(&vfs.root(), b"/mnt", fs).unwrap();
            let mnt = vfs.lookup(&vfs.root(), b"/mnt").unwrap();
            walk_any(&vfs, &mnt, 0, &mut 2000);
        }
    }
}
