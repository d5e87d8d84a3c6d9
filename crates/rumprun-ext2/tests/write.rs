//! Write workloads: create/extend/overwrite/truncate/rename/unlink many files and
//! directories, hard links, symlinks, device nodes, a sparse file with a byte past
//! 4 GiB, through a `Vfs` whose root is the ext2 file system; then sync, `e2fsck -fn`
//! must be clean, and a remount (and `debugfs`) must read back every file.

mod common;
use common::*;
use rumprun_ext2::Ext2;
use rumprun_vfs::flags::*;
use rumprun_vfs::*;
use std::collections::BTreeMap;
use std::sync::Arc;

const C: Cred = Cred::ROOT;

fn open(vfs: &Vfs, p: &str, flags: u32) -> InodeRef {
    vfs.open(&vfs.root(), p.as_bytes(), flags, 0o644, C)
        .unwrap_or_else(|e| panic!("open {p}: {e:?}"))
}

fn write(vfs: &Vfs, p: &str, off: u64, data: &[u8]) {
    let f = open(vfs, p, O_CREAT | O_WRONLY);
    assert_eq!(Vfs::write_at(&f, off, data).unwrap(), data.len(), "{p}");
}

/// Applies a write to the expected contents.
fn model_write(want: &mut BTreeMap<String, Entry>, p: &str, off: u64, data: &[u8]) {
    let e = want.entry(p.to_string()).or_insert(Entry::File {
        perm: 0o644,
        data: vec![],
    });
    let Entry::File { data: d, .. } = e else {
        panic!("{p} is not a file")
    };
    let end = off as usize + data.len();
    if d.len() < end {
        d.resize(end, 0);
    }
    d[off as usize..end].copy_from_slice(data);
}

fn model_truncate(want: &mut BTreeMap<String, Entry>, p: &str, size: u64) {
    let Some(Entry::File { data, .. }) = want.get_mut(p) else {
        panic!("{p}")
    };
    data.resize(size as usize, 0);
}

/// Renames `from` (and everything under it) to `to` in the model.
fn model_rename(want: &mut BTreeMap<String, Entry>, from: &str, to: &str) {
    let keys: Vec<String> = want
        .keys()
        .filter(|k| *k == from || k.starts_with(&format!("{from}/")))
        .cloned()
        .collect();
    let moved: Vec<(String, Entry)> = keys
        .iter()
        .map(|k| (format!("{to}{}", &k[from.len()..]), want.remove(k).unwrap()))
        .collect();
    want.retain(|k, _| k != to && !k.starts_with(&format!("{to}/")));
    want.extend(moved);
}

/// The workload; returns the expected tree (sparse big file excluded: checked apart).
fn workload(vfs: &Vfs, seed: u64) -> BTreeMap<String, Entry> {
    let mut rng = Rng(seed);
    let mut want = BTreeMap::new();
    want.insert("/lost+found".to_string(), Entry::Dir { perm: 0o700 });
    let root = vfs.root();
    // Directories, nested.
    for d in ["/d0", "/d1", "/d2", "/d0/x", "/d0/x/y", "/d1/z"] {
        vfs.mkdir(&root, d.as_bytes(), 0o755, C).unwrap();
        want.insert(d.to_string(), Entry::Dir { perm: 0o755 });
    }
    // Many files of random sizes in several directories (multi-block directories).
    let dirs = ["/d0", "/d1", "/d2", "/d0/x/y", "/d1/z"];
    let mut files = Vec::new();
    for i in 0..400 {
        let dir = dirs[rng.below(dirs.len() as u64) as usize];
        let pad = rng.below(40) as usize;
        let p = format!("{dir}/file-{i:03}-{}", "n".repeat(pad));
        let size = match rng.below(10) {
            0 => 0,
            1..=6 => rng.below(3000) as usize,
            7 | 8 => rng.below(70_000) as usize,
            _ => 300_000 + rng.below(200_000) as usize,
        };
        let data = rng.bytes(size);
        write(vfs, &p, 0, &data);
        model_write(&mut want, &p, 0, &data);
        files.push(p);
    }
    // Overwrite, extend, truncate at random.
    for _ in 0..600 {
        let p = files[rng.below(files.len() as u64) as usize].clone();
        if !want.contains_key(&p) {
            continue;
        }
        let Entry::File { data, .. } = &want[&p] else {
            continue;
        };
        let len = data.len() as u64;
        match rng.below(4) {
            0 | 1 => {
                let off = rng.below(len + 5000);
                let n = rng.below(9000) as usize + 1;
                let d = rng.bytes(n);
                write(vfs, &p, off, &d);
                model_write(&mut want, &p, off, &d);
            }
            2 => {
                let size = rng.below(len + 1);
                vfs.truncate(&root, p.as_bytes(), size).unwrap();
                model_truncate(&mut want, &p, size);
            }
            _ => {
                let size = len + rng.below(100_000);
                vfs.truncate(&root, p.as_bytes(), size).unwrap();
                model_truncate(&mut want, &p, size);
            }
        }
    }
    // Unlink a third of the files.
    for p in files.iter().step_by(3) {
        vfs.unlink(&root, p.as_bytes()).unwrap();
        want.remove(p);
    }
    // Hard links (across directories), then unlink some originals.
    for (i, p) in files
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 7 == 1)
        .take(40)
    {
        if !want.contains_key(p) {
            continue;
        }
        let l = format!("/d2/link-{i}");
        vfs.link(&root, p.as_bytes(), &root, l.as_bytes(), false)
            .unwrap();
        let e = want[p].clone();
        want.insert(l, e);
        if i % 2 == 0 {
            vfs.unlink(&root, p.as_bytes()).unwrap();
            want.remove(p);
        }
    }
    // Symlinks, fast and slow.
    for i in 0..20 {
        let target = if i % 2 == 0 {
            format!("t{i}")
        } else {
            format!("/some/long/target/{}", "q".repeat(50 + i * 10))
        };
        let l = format!("/d1/sym-{i}");
        vfs.symlink(target.as_bytes(), &root, l.as_bytes(), C)
            .unwrap();
        want.insert(l, Entry::Symlink(target.into_bytes()));
    }
    // Device nodes, fifo, socket.
    vfs.mknod(&root, b"/d2/null", S_IFCHR_ | 0o666, makedev(1, 3), C)
        .unwrap();
    vfs.mknod(
        &root,
        b"/d2/bigdev",
        S_IFBLK_ | 0o600,
        makedev(259, 70000),
        C,
    )
    .unwrap();
    vfs.mknod(&root, b"/d2/fifo", S_IFIFO_ | 0o644, 0, C)
        .unwrap();
    vfs.mknod(&root, b"/d2/sock", S_IFSOCK_ | 0o644, 0, C)
        .unwrap();
    want.insert("/d2/null".into(), Entry::Other(FileType::CharDevice));
    want.insert("/d2/bigdev".into(), Entry::Other(FileType::BlockDevice));
    want.insert("/d2/fifo".into(), Entry::Other(FileType::Fifo));
    want.insert("/d2/sock".into(), Entry::Other(FileType::Socket));
    // Renames: files within and across directories, replacing existing files.
    let live: Vec<String> = want
        .iter()
        .filter(|(k, v)| matches!(v, Entry::File { .. }) && k.contains("/file-"))
        .map(|(k, _)| k.clone())
        .collect();
    for (i, p) in live.iter().enumerate().take(60) {
        if !want.contains_key(p) {
            continue;
        }
        let to = if i % 3 == 0 {
            // Replace another live file.
            live[(i * 7 + 11) % live.len()].clone()
        } else {
            format!("{}/renamed-{i}", dirs[i % dirs.len()])
        };
        if to == *p || !want.contains_key(p) {
            continue;
        }
        vfs.rename(&root, p.as_bytes(), &root, to.as_bytes(), 0)
            .unwrap();
        model_rename(&mut want, p, &to);
    }
    // Directory renames: move a subtree, replace an empty directory, exchange.
    vfs.rename(&root, b"/d0/x", &root, b"/d1/moved", 0).unwrap();
    model_rename(&mut want, "/d0/x", "/d1/moved");
    vfs.mkdir(&root, b"/d2/empty", 0o700, C).unwrap();
    vfs.rename(&root, b"/d1/z", &root, b"/d2/empty", 0).unwrap();
    model_rename(&mut want, "/d1/z", "/d2/empty");
    vfs.rename(&root, b"/d1/moved", &root, b"/d2", RENAME_EXCHANGE)
        .unwrap();
    {
        let a: Vec<(String, Entry)> = want
            .iter()
            .filter(|(k, _)| *k == "/d1/moved" || k.starts_with("/d1/moved/"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let b: Vec<(String, Entry)> = want
            .iter()
            .filter(|(k, _)| *k == "/d2" || k.starts_with("/d2/"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        want.retain(|k, _| {
            !(k == "/d1/moved"
                || k.starts_with("/d1/moved/")
                || k == "/d2"
                || k.starts_with("/d2/"))
        });
        for (k, v) in a {
            want.insert(format!("/d2{}", &k["/d1/moved".len()..]), v);
        }
        for (k, v) in b {
            want.insert(format!("/d1/moved{}", &k["/d2".len()..]), v);
        }
    }
    // rmdir of an empty and refusal of a non-empty directory.
    vfs.mkdir(&root, b"/gone", 0o755, C).unwrap();
    vfs.mkdir(&root, b"/gone/sub", 0o755, C).unwrap();
    assert_eq!(vfs.rmdir(&root, b"/gone"), Err(Errno::ENOTEMPTY));
    vfs.rmdir(&root, b"/gone/sub").unwrap();
    vfs.rmdir(&root, b"/gone").unwrap();
    // chmod/chown/utimens kept.
    vfs.mkdir(&root, b"/attrs", 0o755, C).unwrap();
    write(vfs, "/attrs/f", 0, b"attrs");
    vfs.chmod(&root, b"/attrs/f", 0o4751, true).unwrap();
    vfs.chown(&root, b"/attrs/f", Some(70000), Some(1234), true)
        .unwrap();
    vfs.utimens(
        &root,
        b"/attrs/f",
        TimeUpdate::Set(Timespec {
            sec: 1_000_000,
            nsec: 5,
        }),
        TimeUpdate::Set(Timespec {
            sec: 2_000_000,
            nsec: 0,
        }),
        true,
    )
    .unwrap();
    want.insert("/attrs".into(), Entry::Dir { perm: 0o755 });
    // chown cleared setuid.
    want.insert(
        "/attrs/f".into(),
        Entry::File {
            perm: 0o751,
            data: b"attrs".to_vec(),
        },
    );
    want
}

// The VFS takes the mode with the type bits.
const S_IFCHR_: u32 = 0o020000;
const S_IFBLK_: u32 = 0o060000;
const S_IFIFO_: u32 = 0o010000;
const S_IFSOCK_: u32 = 0o140000;

fn run_workload(block: &str) {
    run_workload_on(&["-t", "ext2", "-b", block], true);
}

fn run_workload_on(mkfs_args: &[&str], huge: bool) {
    let tmp = TempDir::new("write");
    let img = mkfs(tmp.path(), "img", mkfs_args, None, "64M");
    let (fs, d) = mount(&img, false);
    let before = fs.root().statfs();
    let want;
    {
        let vfs = Vfs::new(fs.clone());
        want = workload(&vfs, 42);
        if !huge {
            let f = open(&vfs, "/huge", O_CREAT | O_RDWR);
            assert_eq!(Vfs::write_at(&f, 1 << 31, b"X").err(), Some(Errno::EFBIG));
            drop(f);
            vfs.unlink(&vfs.root(), b"/huge").unwrap();
        }
    }
    if huge {
        let vfs = Vfs::new(fs.clone());
        // A sparse file with one byte past 4 GiB.
        let big = open(&vfs, "/huge", O_CREAT | O_RDWR);
        Vfs::write_at(&big, 0, b"head").unwrap();
        Vfs::write_at(&big, (5 << 30) + 17, b"X").unwrap();
        let st = big.stat();
        assert_eq!(st.size, (5 << 30) + 18);
        assert!(st.blocks < 100, "sparse: {} sectors", st.blocks);
        let mut b = [1u8; 4];
        assert_eq!(Vfs::read_at(&big, 1 << 32, &mut b).unwrap(), 4);
        assert_eq!(b, [0; 4]);
        let after = big.statfs();
        assert!(after.bfree < before.bfree);
    }
    fs.sync().unwrap();
    assert_eq!(fs.dirty_blocks(), 0);
    save(&d, &img);
    fsck_clean(&img);
    if huge {
        let (_, out) = run("dumpe2fs", &["-h", img.to_str().unwrap()]);
        let features = out
            .lines()
            .find(|l| l.starts_with("Filesystem features"))
            .unwrap();
        assert!(features.contains("large_file"), "{features}");
    }
    // debugfs agrees on a file.
    assert_eq!(debugfs_cat(&img, "/attrs/f"), b"attrs");
    let (_, st) = run("debugfs", &["-R", "stat /attrs/f", img.to_str().unwrap()]);
    assert!(
        st.contains("User: 70000") && st.contains("Group:  1234"),
        "{st}"
    );
    drop(fs);
    // Remount and compare everything.
    let (fs2, _) = mount(&img, true);
    let mut got = tree(&fs2);
    if !huge {
        compare(&want, &got);
        return;
    }
    assert_eq!(got.remove("/huge"), Some(Entry::Other(FileType::Regular)));
    let huge = fs2.root().lookup(b"huge").unwrap();
    assert_eq!(huge.stat().size, (5 << 30) + 18);
    let mut buf = vec![1u8; 1 << 20];
    for off in [0u64, 1 << 20, 1 << 32, (5 << 30) + 17 - (1 << 20) + 1] {
        let n = huge.read_at(off, &mut buf).unwrap();
        assert_eq!(n, 1 << 20);
        for (i, &b) in buf.iter().enumerate() {
            let pos = off + i as u64;
            let want = match pos {
                0..=3 => b"head"[pos as usize],
                p if p == (5 << 30) + 17 => b'X',
                _ => 0,
            };
            assert_eq!(b, want, "/huge at {pos}");
        }
    }
    compare(&want, &got);
    let root = fs2.root();
    let f = root.lookup(b"attrs").unwrap().lookup(b"f").unwrap().stat();
    assert_eq!(
        (f.uid, f.gid, f.atime.sec, f.mtime.sec),
        (70000, 1234, 1_000_000, 2_000_000)
    );
    let dev = root
        .lookup(b"d1")
        .unwrap()
        .lookup(b"moved")
        .unwrap()
        .lookup(b"bigdev")
        .unwrap();
    assert_eq!(dev.stat().rdev, makedev(259, 70000));
    let null = root
        .lookup(b"d1")
        .unwrap()
        .lookup(b"moved")
        .unwrap()
        .lookup(b"null")
        .unwrap();
    assert_eq!(null.stat().rdev, makedev(1, 3));
}

fn compare(want: &BTreeMap<String, Entry>, got: &BTreeMap<String, Entry>) {
    let missing: Vec<_> = want.keys().filter(|k| !got.contains_key(*k)).collect();
    let extra: Vec<_> = got.keys().filter(|k| !want.contains_key(*k)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}, extra {extra:?}"
    );
    for (k, w) in want {
        assert!(got[k] == *w, "{k} differs");
    }
}

#[test]
fn workload_revision_0_passes_e2fsck() {
    // Revision 0: 128-byte inodes, no filetype in directory entries, 2 GiB file limit.
    run_workload_on(&["-t", "ext2", "-b", "1024", "-r", "0"], false);
}

#[test]
fn workload_2k_blocks_128_byte_inodes_passes_e2fsck() {
    run_workload_on(&["-t", "ext2", "-b", "2048", "-I", "128"], true);
}

#[test]
fn workload_without_large_file_sets_it() {
    run_workload_on(&["-t", "ext2", "-b", "4096", "-O", "^large_file"], true);
}

#[test]
fn workload_on_ext3_without_journal_use_passes_e2fsck() {
    run_workload_on(&["-t", "ext3", "-b", "1024"], true);
}

#[test]
fn workload_1k_blocks_passes_e2fsck() {
    run_workload("1024");
}

#[test]
fn workload_4k_blocks_passes_e2fsck() {
    run_workload("4096");
}

/// Deleting everything gives back every block and inode (counts as after mke2fs).
#[test]
fn delete_everything_restores_free_counts() {
    let tmp = TempDir::new("free");
    let img = mkfs(
        tmp.path(),
        "img",
        &["-t", "ext2", "-b", "1024"],
        None,
        "64M",
    );
    let (fs, d) = mount(&img, false);
    let before = fs.root().statfs();
    {
        let vfs = Vfs::new(fs.clone());
        let root = vfs.root();
        workload(&vfs, 7);
        let big = open(&vfs, "/huge", O_CREAT | O_RDWR);
        Vfs::write_at(&big, (5 << 30) + 17, b"X").unwrap();
        drop(big);
        fn rm(vfs: &Vfs, dir: &InodeRef, path: &str) {
            let mut names = vec![];
            let mut c = 0;
            while let Some(e) = dir.read_dir(c).unwrap() {
                c = e.next;
                if e.name != b"." && e.name != b".." && e.name != b"lost+found" {
                    names.push((String::from_utf8(e.name).unwrap(), e.kind));
                }
            }
            for (n, k) in names {
                let p = format!("{path}/{n}");
                if k == FileType::Directory {
                    rm(vfs, &dir.lookup(n.as_bytes()).unwrap(), &p);
                    vfs.rmdir(&vfs.root(), p.as_bytes()).unwrap();
                } else {
                    vfs.unlink(&vfs.root(), p.as_bytes()).unwrap();
                }
            }
        }
        rm(&vfs, &root, "");
    }
    let after = fs.root().statfs();
    assert_eq!((after.bfree, after.ffree), (before.bfree, before.ffree));
    fs.unmount().unwrap();
    save(&d, &img);
    fsck_clean(&img);
    let (_, out) = run("dumpe2fs", &["-h", img.to_str().unwrap()]);
    assert!(out.contains("Filesystem state:         clean"), "{out}");
}

/// An unlinked file stays readable while open, and is freed at the last close.
#[test]
fn unlinked_open_file_lives_until_closed() {
    let tmp = TempDir::new("orphan");
    let img = mkfs(
        tmp.path(),
        "img",
        &["-t", "ext2", "-b", "4096"],
        None,
        "16M",
    );
    let (fs, d) = mount(&img, false);
    let vfs = Vfs::new(fs.clone());
    let root = vfs.root();
    let before = root.statfs();
    let f = open(&vfs, "/tmpfile", O_CREAT | O_RDWR);
    Vfs::write_at(&f, 0, &vec![7u8; 100_000]).unwrap();
    vfs.unlink(&root, b"/tmpfile").unwrap();
    assert_eq!(
        vfs.stat(&root, b"/tmpfile", true).err(),
        Some(Errno::ENOENT)
    );
    let mut buf = vec![0u8; 100_000];
    assert_eq!(Vfs::read_at(&f, 0, &mut buf).unwrap(), 100_000);
    assert!(buf.iter().all(|&b| b == 7));
    assert_eq!(f.stat().nlink, 0);
    assert!(root.statfs().bfree < before.bfree);
    drop(f);
    assert_eq!(root.statfs().bfree, before.bfree);
    assert_eq!(root.statfs().ffree, before.ffree);
    drop(root);
    drop(vfs);
    fs.sync().unwrap();
    save(&d, &img);
    fsck_clean(&img);
}

/// ENOSPC when full, and the file system is still clean afterwards.
#[test]
fn full_disk_gives_enospc_and_stays_clean() {
    let tmp = TempDir::new("full");
    let img = mkfs(tmp.path(), "img", &["-t", "ext2", "-b", "1024"], None, "4M");
    let (fs, d) = mount(&img, false);
    {
        let vfs = Vfs::new(fs.clone());
        let f = open(&vfs, "/fill", O_CREAT | O_RDWR);
        let chunk = vec![9u8; 64 * 1024];
        let mut off = 0u64;
        let err = loop {
            match Vfs::write_at(&f, off, &chunk) {
                Ok(n) => off += n as u64,
                Err(e) => break e,
            }
        };
        assert_eq!(err, Errno::ENOSPC);
        assert_eq!(f.stat().size, off);
        assert_eq!(f.statfs().bfree, 0);
        // Creating files still works until inodes or directory blocks run out.
        let mut made = 0;
        for i in 0..5000 {
            match vfs.open(
                &vfs.root(),
                format!("/e{i}").as_bytes(),
                O_CREAT | O_WRONLY,
                0o644,
                C,
            ) {
                Ok(_) => made += 1,
                Err(e) => {
                    assert_eq!(e, Errno::ENOSPC);
                    break;
                }
            }
        }
        assert!(made > 0);
        assert_eq!(
            vfs.mkdir(&vfs.root(), b"/nodir", 0o755, C).err(),
            Some(Errno::ENOSPC)
        );
        vfs.truncate(&vfs.root(), b"/fill", 1000).unwrap();
        vfs.mkdir(&vfs.root(), b"/nowdir", 0o755, C).unwrap();
    }
    fs.sync().unwrap();
    save(&d, &img);
    fsck_clean(&img);
}

/// Refusals: ext4 is refused naming extents; a read-only device gives EROFS; an
/// unknown ro_compat feature mounts read-only.
#[test]
fn refusals_and_read_only() {
    let tmp = TempDir::new("refuse");
    let img = mkfs(tmp.path(), "ext4", &["-t", "ext4"], None, "16M");
    let err = Ext2::probe(&*disk(&img, false)).unwrap_err();
    assert!(err.contains("extents"), "{err}");
    assert!(Ext2::mount(disk(&img, false), 1, clock(0)).is_err());
    let journal = mkfs(tmp.path(), "ext3", &["-t", "ext3"], None, "16M");
    let (code, out) = run(
        "debugfs",
        &[
            "-w",
            "-R",
            "feature needs_recovery",
            journal.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{out}");
    let err = Ext2::probe(&*disk(&journal, false)).unwrap_err();
    assert!(err.contains("needs_recovery"), "{err}");
    let not_fs = tmp.path().join("zeros");
    std::fs::write(&not_fs, vec![0u8; 1 << 20]).unwrap();
    assert!(Ext2::probe(&*disk(&not_fs, false))
        .unwrap_err()
        .contains("magic"));
    // huge_file (an ro_compat feature we do not write) mounts read-only.
    let ro = mkfs(
        tmp.path(),
        "ro",
        &["-t", "ext2", "-O", "huge_file"],
        None,
        "16M",
    );
    let info = Ext2::probe(&*disk(&ro, false)).unwrap();
    assert!(info.read_only_reason.unwrap().contains("huge_file"));
    let (fs, _) = mount(&ro, false);
    assert!(fs.is_read_only());
    let vfs = Vfs::new(fs.clone() as Arc<dyn FileSystem>);
    assert_eq!(
        vfs.mkdir(&vfs.root(), b"/x", 0o755, C).err(),
        Some(Errno::EROFS)
    );
    // A read-only device.
    let plain = mkfs(tmp.path(), "plain", &["-t", "ext2"], None, "16M");
    let (fs, _) = mount(&plain, true);
    let vfs = Vfs::new(fs.clone());
    assert_eq!(
        vfs.open(&vfs.root(), b"/new", O_CREAT | O_WRONLY, 0o644, C)
            .err(),
        Some(Errno::EROFS)
    );
    assert_eq!(
        fs.root()
            .create(b"direct", NewNode::Regular, 0o644, C)
            .err(),
        Some(Errno::EROFS)
    );
    assert!(fs.root().statfs().flags & 1 != 0);
}
