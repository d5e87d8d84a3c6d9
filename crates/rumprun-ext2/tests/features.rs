//! Single features: fallocate modes, changing a hashed (dir_index) directory made by
//! mke2fs, device errors (EIO), timestamps (seconds, from the clock), `sync_node`, and
//! read_dir cookies surviving changes.

mod common;
use common::*;
use rumprun_ext2::{sync_node, Ext2};
use rumprun_vfs::flags::*;
use rumprun_vfs::*;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;

const C: Cred = Cred::ROOT;

#[test]
fn fallocate_modes() {
    let tmp = TempDir::new("falloc");
    let img = mkfs(
        tmp.path(),
        "img",
        &["-t", "ext2", "-b", "1024"],
        None,
        "16M",
    );
    let (fs, d) = mount(&img, false);
    {
        let vfs = Vfs::new(fs.clone());
        let f = vfs
            .open(&vfs.root(), b"/f", O_CREAT | O_RDWR, 0o644, C)
            .unwrap();
        Vfs::fallocate(&f, 0, 1000, 300_000).unwrap();
        let st = f.stat();
        assert_eq!(st.size, 301_000);
        assert!(st.blocks >= 301_000 / 512, "{}", st.blocks);
        Vfs::write_at(&f, 0, &vec![5u8; 301_000]).unwrap();
        Vfs::fallocate(
            &f,
            FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
            10_000,
            100_000,
        )
        .unwrap();
        let st2 = f.stat();
        assert_eq!(st2.size, 301_000);
        assert!(
            st2.blocks < st.blocks - 150,
            "{} vs {}",
            st2.blocks,
            st.blocks
        );
        Vfs::fallocate(&f, FALLOC_FL_ZERO_RANGE, 200_000, 150_000).unwrap();
        assert_eq!(f.stat().size, 350_000);
        Vfs::fallocate(&f, FALLOC_FL_KEEP_SIZE, 340_000, 100_000).unwrap();
        assert_eq!(f.stat().size, 350_000);
        let mut buf = vec![9u8; 350_000];
        assert_eq!(Vfs::read_at(&f, 0, &mut buf).unwrap(), 350_000);
        for (i, &b) in buf.iter().enumerate() {
            let want = if (10_000..110_000).contains(&i) || i >= 200_000 {
                0
            } else {
                5
            };
            assert_eq!(b, want, "byte {i}");
        }
    }
    fs.sync().unwrap();
    save(&d, &img);
    fsck_clean(&img);
}

#[test]
fn changing_a_hashed_directory_keeps_it_valid() {
    let tmp = TempDir::new("htree");
    let src = tmp.path().join("src");
    std::fs::create_dir_all(src.join("big")).unwrap();
    for i in 0..2000 {
        std::fs::write(src.join(format!("big/entry-number-{i:05}")), format!("{i}")).unwrap();
    }
    let img = mkfs(
        tmp.path(),
        "img",
        &["-t", "ext2", "-b", "1024"],
        Some(&src),
        "32M",
    );
    // e2fsck -D builds the hash index of large directories.
    let (code, out) = run("e2fsck", &["-fyD", img.to_str().unwrap()]);
    assert!(code <= 1, "{out}");
    let (_, out) = run("debugfs", &["-R", "htree /big", img.to_str().unwrap()]);
    assert!(
        out.contains("Root node dump"),
        "not indexed: {}",
        &out[..out.len().min(300)]
    );
    let (fs, d) = mount(&img, false);
    {
        let vfs = Vfs::new(fs.clone());
        let root = vfs.root();
        let f = vfs.lookup(&root, b"/big/entry-number-01234").unwrap();
        let mut b = [0u8; 8];
        assert_eq!(Vfs::read_at(&f, 0, &mut b).unwrap(), 4);
        assert_eq!(&b[..4], b"1234");
        for i in (0..2000).step_by(3) {
            vfs.unlink(&root, format!("/big/entry-number-{i:05}").as_bytes())
                .unwrap();
        }
        for i in 0..300 {
            let p = format!("/big/new-{i}");
            vfs.open(&root, p.as_bytes(), O_CREAT | O_WRONLY, 0o644, C)
                .unwrap();
        }
        vfs.rename(&root, b"/big/entry-number-00001", &root, b"/moved", 0)
            .unwrap();
    }
    fs.sync().unwrap();
    save(&d, &img);
    fsck_clean(&img);
    drop(fs);
    let (fs, _) = mount(&img, true);
    let t = tree(&fs);
    let n = t.keys().filter(|k| k.starts_with("/big/")).count();
    assert_eq!(n, 2000 - 667 - 1 + 300);
    assert!(t.contains_key("/moved") && t.contains_key("/big/new-299"));
    assert!(!t.contains_key("/big/entry-number-00003"));
}

/// A disk whose I/O can be made to fail.
struct FailDisk {
    inner: MemDisk,
    fail: AtomicBool,
}

impl BlockDevice for FailDisk {
    fn sectors(&self) -> u64 {
        self.inner.sectors()
    }
    fn read_only(&self) -> bool {
        false
    }
    fn read(&self, s: u64, b: &mut [u8]) -> VfsResult<()> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(Errno::EIO);
        }
        self.inner.read(s, b)
    }
    fn write(&self, s: u64, b: &[u8]) -> VfsResult<()> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(Errno::EIO);
        }
        self.inner.write(s, b)
    }
    fn flush(&self) -> VfsResult<()> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(Errno::EIO);
        }
        Ok(())
    }
}

#[test]
fn device_errors_give_eio() {
    let tmp = TempDir::new("eio");
    let src = tmp.path().join("src");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(src.join("data"), vec![3u8; 200_000]).unwrap();
    let img = mkfs(
        tmp.path(),
        "img",
        &["-t", "ext2", "-b", "1024"],
        Some(&src),
        "8M",
    );
    let disk = Arc::new(FailDisk {
        inner: MemDisk::new(std::fs::read(&img).unwrap(), false),
        fail: AtomicBool::new(false),
    });
    let fs = Ext2::mount_with(disk.clone(), 1, clock(5), 32).unwrap();
    let f = fs.root().lookup(b"data").unwrap();
    let g = fs
        .root()
        .create(b"new", NewNode::Regular, 0o644, C)
        .unwrap();
    disk.fail.store(true, Ordering::SeqCst);
    let mut buf = vec![0u8; 200_000];
    assert_eq!(f.read_at(0, &mut buf).err(), Some(Errno::EIO));
    assert_eq!(fs.sync().err(), Some(Errno::EIO));
    disk.fail.store(false, Ordering::SeqCst);
    g.write_at(0, b"after").unwrap();
    drop((f, g));
    fs.sync().unwrap();
    std::fs::write(&img, disk.inner.contents()).unwrap();
    fsck_clean(&img);
}

#[test]
fn timestamps_are_seconds_from_the_clock() {
    let tmp = TempDir::new("time");
    let img = mkfs(tmp.path(), "img", &["-t", "ext2"], None, "8M");
    let d = disk(&img, false);
    let now = Arc::new(AtomicI64::new(1_000));
    let t = now.clone();
    let clock: Arc<dyn Clock> = Arc::new(move || Timespec {
        sec: t.load(Ordering::SeqCst),
        nsec: 999,
    });
    let fs = Ext2::mount(d.clone(), 1, clock).unwrap();
    let root = fs.root();
    let f = root.create(b"f", NewNode::Regular, 0o600, C).unwrap();
    let st = f.stat();
    assert_eq!(
        (st.mtime.sec, st.ctime.sec, st.atime.sec, st.mtime.nsec),
        (1000, 1000, 1000, 0)
    );
    assert_eq!(root.stat().mtime.sec, 1000);
    now.store(2000, Ordering::SeqCst);
    f.write_at(0, b"x").unwrap();
    let st = f.stat();
    assert_eq!(
        (st.mtime.sec, st.ctime.sec, st.atime.sec),
        (2000, 2000, 1000)
    );
    now.store(3000, Ordering::SeqCst);
    let mut b = [0u8; 1];
    f.read_at(0, &mut b).unwrap();
    assert_eq!(f.stat().atime.sec, 3000, "relatime");
    now.store(4000, Ordering::SeqCst);
    f.set_attr(&SetAttr {
        mode: Some(0o640),
        ..SetAttr::NONE
    })
    .unwrap();
    let st = f.stat();
    assert_eq!(
        (st.mode, st.mtime.sec, st.ctime.sec),
        (0o100640, 2000, 4000)
    );
    root.rename(b"f", &root, b"g", 0).unwrap();
    assert_eq!(root.stat().mtime.sec, 4000);
    drop((f, root));
    fs.unmount().unwrap();
    save(&d, &img);
    fsck_clean(&img);
    let (fs, _) = mount(&img, true);
    let st = fs.root().lookup(b"g").unwrap().stat();
    assert_eq!(
        (st.mode, st.mtime.sec, st.ctime.sec, st.atime.sec),
        (0o100640, 2000, 4000, 3000)
    );
}

#[test]
fn sync_node_syncs_ext2_only() {
    let tmp = TempDir::new("syncnode");
    let img = mkfs(tmp.path(), "img", &["-t", "ext2"], None, "8M");
    let (fs, _) = mount(&img, false);
    let f = fs.root().create(b"f", NewNode::Regular, 0o644, C).unwrap();
    f.write_at(0, b"data").unwrap();
    assert!(fs.dirty_blocks() > 0);
    assert_eq!(sync_node(&f), Some(Ok(())));
    assert_eq!(fs.dirty_blocks(), 0);
    let t: InodeRef = Tmpfs::new(3, clock(0)).root();
    assert_eq!(sync_node(&t), None);
}

#[test]
fn read_dir_cookies_survive_changes() {
    let tmp = TempDir::new("cookies");
    let img = mkfs(tmp.path(), "img", &["-t", "ext2", "-b", "1024"], None, "8M");
    let (fs, _) = mount(&img, false);
    let root = fs.root();
    let dir = root.create(b"d", NewNode::Directory, 0o755, C).unwrap();
    for i in 0..100 {
        dir.create(
            format!("name-{i:03}").as_bytes(),
            NewNode::Regular,
            0o644,
            C,
        )
        .unwrap();
    }
    // Read half, delete entries before and after the cookie, add new ones, go on.
    let mut seen = vec![];
    let mut c = 0;
    for _ in 0..52 {
        let e = dir.read_dir(c).unwrap().unwrap();
        c = e.next;
        seen.push(String::from_utf8(e.name).unwrap());
    }
    for i in (0..100).step_by(2) {
        dir.unlink(format!("name-{i:03}").as_bytes()).unwrap();
    }
    while let Some(e) = dir.read_dir(c).unwrap() {
        c = e.next;
        seen.push(String::from_utf8(e.name).unwrap());
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), seen.len(), "no entry twice");
    // Every surviving entry was seen.
    for i in (1..100).step_by(2) {
        assert!(seen.contains(&format!("name-{i:03}")), "name-{i:03}");
    }
}

#[test]
fn o_tmpfile_is_freed_or_linked() {
    let tmp = TempDir::new("tmpfile");
    let img = mkfs(tmp.path(), "img", &["-t", "ext2", "-b", "1024"], None, "8M");
    let (fs, d) = mount(&img, false);
    let before = fs.root().statfs();
    {
        let vfs = Vfs::new(fs.clone());
        let root = vfs.root();
        let gone = vfs.open(&root, b"/", O_TMPFILE | O_RDWR, 0o600, C).unwrap();
        Vfs::write_at(&gone, 0, &vec![1u8; 50_000]).unwrap();
        assert_eq!(gone.stat().nlink, 0);
        drop(gone);
        assert_eq!(root.statfs().bfree, before.bfree);
        assert_eq!(root.statfs().ffree, before.ffree);
        let kept = vfs.open(&root, b"/", O_TMPFILE | O_RDWR, 0o600, C).unwrap();
        Vfs::write_at(&kept, 0, b"kept").unwrap();
        root.link(b"named", &kept).unwrap();
        assert_eq!(kept.stat().nlink, 1);
    }
    fs.sync().unwrap();
    save(&d, &img);
    fsck_clean(&img);
    assert_eq!(debugfs_cat(&img, "/named"), b"kept");
}
