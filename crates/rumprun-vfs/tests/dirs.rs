//! mkdir, rmdir, rename (all Linux rules), readdir cookies, getdents64, mounts.

mod common;
use common::*;
use rumprun_vfs::flags::*;
use rumprun_vfs::*;
use std::sync::Arc;

#[test]
fn mkdir_rules() {
    let e = Env::new();
    e.mkdir("/d").unwrap();
    e.mkdir("/d/e/").unwrap();
    assert_eq!(e.mkdir("/d").unwrap_err(), Errno::EEXIST);
    assert_eq!(e.mkdir("/").unwrap_err(), Errno::EEXIST);
    assert_eq!(e.mkdir("/d/.").unwrap_err(), Errno::EEXIST);
    assert_eq!(e.mkdir("/d/..").unwrap_err(), Errno::EEXIST);
    assert_eq!(e.mkdir("/x/y").unwrap_err(), Errno::ENOENT);
    e.write_file("/f", b"");
    assert_eq!(e.mkdir("/f").unwrap_err(), Errno::EEXIST);
    assert_eq!(e.mkdir("/f/x").unwrap_err(), Errno::ENOTDIR);
    e.symlink("/nowhere", "/dl").unwrap();
    assert_eq!(
        e.mkdir("/dl").unwrap_err(),
        Errno::EEXIST,
        "mkdir does not follow"
    );
    assert_eq!(e.symlink("x", "/sl/").unwrap_err(), Errno::ENOENT);
    assert_eq!(e.symlink("x", "/d/").unwrap_err(), Errno::EEXIST);
    let s = e.vfs.mkdir(&e.root, b"/s", 0o7777, Cred::ROOT).unwrap();
    assert_eq!(s.stat().mode, 0o41777, "mkdir drops setuid/setgid");
    assert_eq!((e.stat("/d").unwrap().nlink, e.root.stat().nlink), (3, 4));
}

#[test]
fn rmdir_rules() {
    let e = Env::new();
    e.mkdir("/d").unwrap();
    e.mkdir("/d/e").unwrap();
    e.write_file("/f", b"");
    e.symlink("/d/e", "/l").unwrap();
    assert_eq!(e.rmdir("/d").unwrap_err(), Errno::ENOTEMPTY);
    assert_eq!(e.rmdir("/d/e/.").unwrap_err(), Errno::EINVAL);
    assert_eq!(e.rmdir("/d/e/..").unwrap_err(), Errno::ENOTEMPTY);
    assert_eq!(e.rmdir("/").unwrap_err(), Errno::EBUSY);
    assert_eq!(e.rmdir("/f").unwrap_err(), Errno::ENOTDIR);
    assert_eq!(e.rmdir("/l").unwrap_err(), Errno::ENOTDIR);
    assert_eq!(e.rmdir("/nope").unwrap_err(), Errno::ENOENT);
    assert_eq!(e.stat("/d").unwrap().nlink, 3);
    let dir = e.lookup("/d/e").unwrap();
    e.rmdir("/d/e/").unwrap();
    assert_eq!(dir.stat().nlink, 0);
    assert_eq!(e.stat("/d").unwrap().nlink, 2);
    assert_eq!(dir.read_dir(0).unwrap_err(), Errno::ENOENT);
    e.rmdir("/d").unwrap();
    assert_eq!(e.root.stat().nlink, 2);
}

#[test]
fn rename_files() {
    let e = Env::new();
    e.write_file("/a", b"A");
    e.write_file("/b", b"B");
    e.mkdir("/d").unwrap();
    e.rename("/a", "/d/a2").unwrap();
    assert_eq!(e.read_file("/d/a2").unwrap(), b"A");
    assert_eq!(e.stat("/a").unwrap_err(), Errno::ENOENT);
    let b = e.lookup("/b").unwrap();
    e.rename("/d/a2", "/b").unwrap();
    assert_eq!(e.read_file("/b").unwrap(), b"A");
    assert_eq!(b.stat().nlink, 0, "the replaced file lost its name");
    assert_eq!(e.rename("/nope", "/x").unwrap_err(), Errno::ENOENT);
    assert_eq!(e.rename("/b", "/nodir/x").unwrap_err(), Errno::ENOENT);
    assert_eq!(e.rename("/b", "/d").unwrap_err(), Errno::EISDIR);
    assert_eq!(e.rename("/b/", "/c").unwrap_err(), Errno::ENOTDIR);
    assert_eq!(e.rename("/b", "/c/").unwrap_err(), Errno::ENOTDIR);
    // Same inode (hard links): a no-op, both names stay.
    e.link("/b", "/b2").unwrap();
    e.rename("/b", "/b2").unwrap();
    assert!(e.stat("/b").is_ok() && e.stat("/b2").is_ok());
    e.rename("/b", "/b").unwrap();
    // Symlinks are renamed, not followed.
    e.symlink("/b", "/l").unwrap();
    e.rename("/l", "/l2").unwrap();
    assert_eq!(e.lstat("/l2").unwrap().file_type(), FileType::Symlink);
    assert_eq!(e.stat("/b").unwrap().file_type(), FileType::Regular);
}

#[test]
fn rename_directories() {
    let e = Env::new();
    e.mkdir("/a").unwrap();
    e.mkdir("/a/sub").unwrap();
    e.mkdir("/empty").unwrap();
    e.mkdir("/full").unwrap();
    e.write_file("/full/x", b"");
    e.write_file("/f", b"");
    assert_eq!(e.rename("/a", "/f").unwrap_err(), Errno::ENOTDIR);
    assert_eq!(e.rename("/a", "/full").unwrap_err(), Errno::ENOTEMPTY);
    assert_eq!(e.rename("/a", "/a/sub/x").unwrap_err(), Errno::EINVAL);
    assert_eq!(e.rename("/a", "/a/x").unwrap_err(), Errno::EINVAL);
    assert_eq!(e.rename("/a/sub", "/a").unwrap_err(), Errno::ENOTEMPTY);
    assert_eq!(e.rename("/a", "/").unwrap_err(), Errno::EBUSY);
    assert_eq!(e.rename("/", "/z").unwrap_err(), Errno::EBUSY);
    assert_eq!(e.rename("/a/.", "/z").unwrap_err(), Errno::EBUSY);
    assert_eq!(e.rename("/a", "/empty/..").unwrap_err(), Errno::EBUSY);
    assert_eq!(
        e.rename2("/a", "/empty/..", RENAME_NOREPLACE).unwrap_err(),
        Errno::EEXIST
    );
    let sub = e.lookup("/a/sub").unwrap();
    let empty = e.lookup("/empty").unwrap();
    e.rename("/a", "/empty/").unwrap();
    assert_eq!(empty.stat().nlink, 0);
    assert_eq!(e.lookup("/empty/sub").unwrap().key(), sub.key());
    assert_eq!(e.root.stat().nlink, 2 + 2, "/empty and /full");
    // Moving a directory fixes `..` and both parents' link counts.
    e.rename("/empty/sub", "/full/sub").unwrap();
    assert_eq!(
        e.stat("/full/sub/..").unwrap().ino,
        e.stat("/full").unwrap().ino
    );
    assert_eq!(
        (
            e.stat("/empty").unwrap().nlink,
            e.stat("/full").unwrap().nlink
        ),
        (2, 3)
    );
    assert_eq!(e.vfs.path_of(&sub).unwrap(), b"/full/sub");
    assert_eq!(e.list("/full"), ["x", "sub"]);
}

#[test]
fn rename_flags() {
    let e = Env::new();
    e.write_file("/a", b"A");
    e.write_file("/b", b"B");
    e.mkdir("/d").unwrap();
    e.mkdir("/d/inner").unwrap();
    assert_eq!(
        e.rename2("/a", "/b", RENAME_NOREPLACE).unwrap_err(),
        Errno::EEXIST
    );
    e.rename2("/a", "/c", RENAME_NOREPLACE).unwrap();
    assert_eq!(
        e.rename2("/c", "/b", RENAME_NOREPLACE | RENAME_EXCHANGE)
            .unwrap_err(),
        Errno::EINVAL
    );
    assert_eq!(e.rename2("/c", "/b", 8).unwrap_err(), Errno::EINVAL);
    assert_eq!(
        e.rename2("/c", "/b", RENAME_WHITEOUT).unwrap_err(),
        Errno::EINVAL
    );
    e.rename2("/c", "/b", RENAME_EXCHANGE).unwrap();
    assert_eq!(
        (e.read_file("/b").unwrap(), e.read_file("/c").unwrap()),
        (b"A".to_vec(), b"B".to_vec())
    );
    assert_eq!(
        e.rename2("/c", "/nope", RENAME_EXCHANGE).unwrap_err(),
        Errno::ENOENT
    );
    // Exchange a file and a directory in different parents.
    e.rename2("/b", "/d/inner", RENAME_EXCHANGE).unwrap();
    assert_eq!(e.stat("/b").unwrap().file_type(), FileType::Directory);
    assert_eq!(e.read_file("/d/inner").unwrap(), b"A");
    assert_eq!(e.stat("/b/..").unwrap().ino, e.root.stat().ino);
    assert_eq!((e.stat("/d").unwrap().nlink, e.root.stat().nlink), (2, 4));
    assert_eq!(
        e.rename2("/d", "/d/inner", RENAME_EXCHANGE).unwrap_err(),
        Errno::EINVAL
    );
    e.mkdir("/d/x").unwrap();
    assert_eq!(
        e.rename2("/d/x", "/d", RENAME_EXCHANGE).unwrap_err(),
        Errno::EINVAL
    );
    assert_eq!(
        e.rename2("/d/inner/", "/b", RENAME_EXCHANGE).unwrap_err(),
        Errno::ENOTDIR
    );
    assert_eq!(
        e.rename2("/b", "/d/inner/", RENAME_EXCHANGE).unwrap_err(),
        Errno::ENOTDIR
    );
}

#[test]
fn readdir_order_and_cookies() {
    let e = Env::new();
    let d = e.mkdir("/d").unwrap();
    for n in ["c", "a", "b"] {
        e.write_file(&format!("/d/{n}"), b"");
    }
    e.mkdir("/d/sub").unwrap();
    assert_eq!(e.list("/d"), ["c", "a", "b", "sub"], "creation order");
    let dot = d.read_dir(0).unwrap().unwrap();
    assert_eq!(
        (dot.name.as_slice(), dot.ino, dot.kind),
        (&b"."[..], d.stat().ino, FileType::Directory)
    );
    let dotdot = d.read_dir(dot.next).unwrap().unwrap();
    assert_eq!((dotdot.name.as_slice(), dotdot.ino), (&b".."[..], 1));
    let c = d.read_dir(dotdot.next).unwrap().unwrap();
    assert_eq!(c.name, b"c");
    // Changes between calls: removed entries vanish, the rest are seen exactly once.
    e.unlink("/d/c").unwrap();
    e.unlink("/d/a").unwrap();
    e.write_file("/d/new", b"");
    let mut seen = vec![];
    let mut cookie = c.next;
    while let Some(x) = d.read_dir(cookie).unwrap() {
        seen.push(String::from_utf8(x.name).unwrap());
        cookie = x.next;
    }
    assert_eq!(seen, ["b", "sub", "new"]);
    assert!(d.read_dir(cookie).unwrap().is_none());
    assert!(d.read_dir(u64::MAX).unwrap().is_none());
    let sub = d.lookup(b"sub").unwrap();
    let entry = d.read_dir(0).unwrap().unwrap();
    assert_eq!(entry.kind.d_type(), 4);
    assert_eq!(e.lookup("/d/sub").unwrap().key(), sub.key());
    let f = e.lookup("/d/b").unwrap();
    assert_eq!(f.read_dir(0).unwrap_err(), Errno::ENOTDIR);
    assert_eq!(
        e.root.read_dir(1).unwrap().unwrap().ino,
        1,
        "root's .. is root"
    );
}

#[test]
fn getdents64_buffers() {
    let e = Env::new();
    let d = e.mkdir("/d").unwrap();
    for i in 0..100 {
        e.write_file(&format!("/d/file-{i:03}"), b"");
    }
    let mut names = vec![];
    let mut cookie = 0;
    let mut buf = [0u8; 200];
    loop {
        let (n, next) = fill_dirents64(&*d, cookie, &mut buf).unwrap();
        if n == 0 {
            break;
        }
        let mut off = 0;
        while off < n {
            let reclen = u16::from_le_bytes([buf[off + 16], buf[off + 17]]) as usize;
            let name = &buf[off + 19..off + reclen];
            let name = &name[..name.iter().position(|&b| b == 0).unwrap()];
            names.push(String::from_utf8(name.to_vec()).unwrap());
            off += reclen;
        }
        cookie = next;
    }
    assert_eq!(names.len(), 102);
    assert_eq!(&names[..3], [".", "..", "file-000"]);
    assert_eq!(names[101], "file-099");
    assert_eq!(
        fill_dirents64(&*d, 0, &mut buf[..10]).unwrap_err(),
        Errno::EINVAL
    );
}

#[test]
fn mounts() {
    let e = Env::new();
    e.mkdir("/mnt").unwrap();
    e.write_file("/mnt/hidden", b"");
    let dev = e.vfs.alloc_dev();
    let dev = if dev == makedev(0, 1) {
        e.vfs.alloc_dev()
    } else {
        dev
    };
    let fs = Tmpfs::new(dev, e.clock());
    e.vfs.mount(&e.root, b"/mnt", fs.clone()).unwrap();
    assert_eq!(e.stat("/mnt/hidden").unwrap_err(), Errno::ENOENT);
    assert_eq!(e.stat("/mnt").unwrap().dev, dev);
    assert_eq!(e.stat("/mnt").unwrap().mode, 0o41777);
    e.mkdir("/mnt/sub").unwrap();
    e.write_file("/mnt/sub/f", b"in the mount");
    assert_eq!(e.read_file("/mnt/sub/../sub/f").unwrap(), b"in the mount");
    assert_eq!(e.stat("/mnt/..").unwrap().ino, 1);
    assert_eq!(e.stat("/mnt/sub/../..").unwrap().dev, makedev(0, 1));
    let sub = e.lookup("/mnt/sub").unwrap();
    assert_eq!(e.vfs.stat(&sub, b"../../mnt/sub/f", true).unwrap().size, 12);
    assert_eq!(e.vfs.path_of(&sub).unwrap(), b"/mnt/sub");
    assert_eq!(e.vfs.path_of(&e.lookup("/mnt").unwrap()).unwrap(), b"/mnt");
    // Cross-device operations.
    e.write_file("/top", b"");
    assert_eq!(e.rename("/top", "/mnt/top").unwrap_err(), Errno::EXDEV);
    assert_eq!(e.rename("/mnt/sub/f", "/f").unwrap_err(), Errno::EXDEV);
    assert_eq!(e.link("/top", "/mnt/top").unwrap_err(), Errno::EXDEV);
    e.rename("/mnt/sub/f", "/mnt/f").unwrap();
    // The mount point is busy.
    assert_eq!(e.rmdir("/mnt").unwrap_err(), Errno::EBUSY);
    e.mkdir("/other").unwrap();
    assert_eq!(e.rename("/mnt", "/m2").unwrap_err(), Errno::EBUSY);
    assert_eq!(e.rename("/other", "/mnt").unwrap_err(), Errno::EBUSY);
    assert_eq!(
        e.vfs.mount(&e.root, b"/other", fs.clone()).unwrap_err(),
        Errno::EBUSY
    );
    assert_eq!(
        e.vfs
            .mount(&e.root, b"/", Tmpfs::new(e.vfs.alloc_dev(), e.clock()))
            .unwrap_err(),
        Errno::EBUSY
    );
    assert_eq!(
        e.vfs
            .mount(&e.root, b"/top", Tmpfs::new(e.vfs.alloc_dev(), e.clock()))
            .unwrap_err(),
        Errno::ENOTDIR
    );
    let names: Vec<_> = e
        .vfs
        .mounts()
        .into_iter()
        .map(|(p, n)| (String::from_utf8(p).unwrap(), n))
        .collect();
    assert_eq!(
        names,
        [("/".to_string(), "tmpfs"), ("/mnt".to_string(), "tmpfs")]
    );
    // Nested mount, then unmount in order.
    let inner = Tmpfs::new(e.vfs.alloc_dev(), e.clock());
    e.vfs.mount(&e.root, b"/mnt/sub", inner).unwrap();
    assert_eq!(
        e.vfs.path_of(&e.lookup("/mnt/sub").unwrap()).unwrap(),
        b"/mnt/sub"
    );
    assert_eq!(e.vfs.umount(&e.root, b"/mnt").unwrap_err(), Errno::EBUSY);
    assert_eq!(e.vfs.umount(&e.root, b"/other").unwrap_err(), Errno::EINVAL);
    e.vfs.umount(&e.root, b"/mnt/sub").unwrap();
    let back: Arc<dyn FileSystem> = e.vfs.umount(&e.root, b"/mnt").unwrap();
    assert_eq!(back.name(), "tmpfs");
    assert!(e.stat("/mnt/hidden").is_ok());
    e.rmdir("/mnt/sub").unwrap_err();
    // statfs goes to the right file system.
    let sf = e.vfs.statfs(&e.root, b"/").unwrap();
    assert_eq!((sf.namelen, sf.fsid[0]), (255, makedev(0, 1) as u32));
}

#[test]
fn stacked_mounts() {
    let e = Env::new();
    e.mkdir("/m").unwrap();
    let a = Tmpfs::new(makedev(0, 10), e.clock());
    let b = Tmpfs::new(makedev(0, 11), e.clock());
    e.vfs.mount(&e.root, b"/m", a).unwrap();
    e.vfs.mount(&e.root, b"/m", b).unwrap();
    assert_eq!(e.stat("/m").unwrap().dev, makedev(0, 11));
    assert_eq!(e.stat("/m/..").unwrap().ino, 1);
    assert_eq!(e.vfs.path_of(&e.lookup("/m").unwrap()).unwrap(), b"/m");
    e.vfs.umount(&e.root, b"/m").unwrap();
    assert_eq!(e.stat("/m").unwrap().dev, makedev(0, 10));
}

#[test]
fn dropping_the_fs_frees_it() {
    let time = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(0));
    let fs = Tmpfs::new(makedev(0, 1), clock(&time));
    let vfs = Vfs::new(fs.clone());
    let root = vfs.root();
    vfs.mkdir(&root, b"/a", 0o755, Cred::ROOT).unwrap();
    let f = vfs
        .open(&root, b"/a/f", O_CREAT | O_RDWR, 0o644, Cred::ROOT)
        .unwrap();
    Vfs::write_at(&f, 0, &[1; 10000]).unwrap();
    assert_eq!((fs.used_inodes(), fs.used_bytes()), (3, 12288));
    drop(f);
    vfs.unlink(&root, b"/a/f").unwrap();
    assert_eq!((fs.used_inodes(), fs.used_bytes()), (2, 0));
    let weak = std::sync::Arc::downgrade(&fs);
    drop((vfs, root, fs));
    assert!(weak.upgrade().is_none());
}
