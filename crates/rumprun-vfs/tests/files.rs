//! open/create flags, data, truncate, fallocate, metadata, times, link, unlink.

mod common;
use common::*;
use rumprun_vfs::flags::*;
use rumprun_vfs::*;

#[test]
fn open_flags() {
    let e = Env::new();
    assert_eq!(e.open("/f", O_RDONLY).unwrap_err(), Errno::ENOENT);
    let f = e.open("/f", O_CREAT | O_RDWR).unwrap();
    assert_eq!(f.stat().mode, 0o100644);
    assert_eq!(
        e.open("/f", O_CREAT | O_EXCL | O_RDWR).unwrap_err(),
        Errno::EEXIST
    );
    assert_eq!(e.open("/f", O_CREAT | O_RDWR).unwrap().key(), f.key());
    assert_eq!(e.open("/f", O_DIRECTORY).unwrap_err(), Errno::ENOTDIR);
    assert_eq!(e.open("/f/", O_RDONLY).unwrap_err(), Errno::ENOTDIR);
    assert_eq!(
        e.open("/g/", O_CREAT | O_WRONLY).unwrap_err(),
        Errno::EISDIR
    );
    assert_eq!(
        e.open("/nodir/g", O_CREAT | O_WRONLY).unwrap_err(),
        Errno::ENOENT
    );
    assert_eq!(
        e.open("/d", O_CREAT | O_DIRECTORY).unwrap_err(),
        Errno::EINVAL
    );
    e.mkdir("/d").unwrap();
    assert!(e.open("/d", O_RDONLY | O_DIRECTORY).is_ok());
    assert!(e.open("/d", O_RDONLY).is_ok());
    assert_eq!(e.open("/d", O_WRONLY).unwrap_err(), Errno::EISDIR);
    assert_eq!(e.open("/d", O_RDWR).unwrap_err(), Errno::EISDIR);
    assert_eq!(e.open("/d", O_CREAT | O_RDONLY).unwrap_err(), Errno::EISDIR);
    assert_eq!(e.open("/d", O_RDONLY | O_TRUNC).unwrap_err(), Errno::EISDIR);
    assert_eq!(e.open("/", O_CREAT | O_RDONLY).unwrap_err(), Errno::EISDIR);
    assert_eq!(
        e.open("/d/.", O_CREAT | O_RDONLY).unwrap_err(),
        Errno::EISDIR
    );
    assert!(e.open("/d", O_PATH).is_ok());
    // perm is masked to 07777 and applied.
    let g = e
        .vfs
        .open(
            &e.root,
            b"/g",
            O_CREAT | O_WRONLY,
            0o170600,
            Cred { uid: 7, gid: 8 },
        )
        .unwrap();
    let st = g.stat();
    assert_eq!((st.mode, st.uid, st.gid, st.nlink), (0o100600, 7, 8, 1));
}

#[test]
fn open_symlinks() {
    let e = Env::new();
    e.write_file("/f", b"abc");
    e.symlink("/f", "/l").unwrap();
    e.symlink("/new", "/dangling").unwrap();
    e.symlink("/nodir/new", "/dangling2").unwrap();
    assert_eq!(
        e.open("/l", O_RDONLY).unwrap().key(),
        e.lookup("/f").unwrap().key()
    );
    assert_eq!(
        e.open("/l", O_RDONLY | O_NOFOLLOW).unwrap_err(),
        Errno::ELOOP
    );
    let l = e.open("/l", O_PATH | O_NOFOLLOW).unwrap();
    assert_eq!(l.file_type(), FileType::Symlink);
    // O_CREAT|O_EXCL never follows: an existing symlink, even dangling, is EEXIST.
    assert_eq!(
        e.open("/l", O_CREAT | O_EXCL | O_WRONLY).unwrap_err(),
        Errno::EEXIST
    );
    assert_eq!(
        e.open("/dangling", O_CREAT | O_EXCL | O_WRONLY)
            .unwrap_err(),
        Errno::EEXIST
    );
    // O_CREAT through a dangling symlink creates the target.
    let n = e.open("/dangling", O_CREAT | O_WRONLY).unwrap();
    assert_eq!(e.lookup("/new").unwrap().key(), n.key());
    assert_eq!(
        e.open("/dangling2", O_CREAT | O_WRONLY).unwrap_err(),
        Errno::ENOENT
    );
    assert_eq!(
        e.open("/l", O_CREAT | O_WRONLY | O_NOFOLLOW).unwrap_err(),
        Errno::ELOOP
    );
}

#[test]
fn truncate_on_open() {
    let e = Env::new();
    e.write_file("/f", b"hello");
    e.set_time(2000);
    let f = e.open("/f", O_WRONLY | O_TRUNC).unwrap();
    let st = f.stat();
    assert_eq!((st.size, st.mtime.sec, st.ctime.sec), (0, 2000, 2000));
    e.write_file("/f", b"hello");
    e.open("/f", O_RDONLY | O_TRUNC).unwrap();
    assert_eq!(
        e.stat("/f").unwrap().size,
        0,
        "Linux truncates even with O_RDONLY"
    );
    // O_TRUNC on a device node is ignored.
    let dev = e
        .vfs
        .mknod(
            &e.root,
            b"/null",
            stat::S_IFCHR | 0o666,
            makedev(1, 3),
            Cred::ROOT,
        )
        .unwrap();
    assert_eq!(
        e.open("/null", O_WRONLY | O_TRUNC).unwrap().key(),
        dev.key()
    );
}

#[test]
fn read_write_sparse() {
    let e = Env::new();
    let f = e.create("/f").unwrap();
    assert_eq!(Vfs::write_at(&f, 0, b"abc").unwrap(), 3);
    assert_eq!(Vfs::write_at(&f, 10_000, b"xyz").unwrap(), 3);
    let st = f.stat();
    assert_eq!(st.size, 10_003);
    assert_eq!(st.blocks, 16, "two pages, the middle one is a hole");
    let mut buf = vec![0xffu8; 20_000];
    assert_eq!(Vfs::read_at(&f, 0, &mut buf).unwrap(), 10_003);
    assert_eq!(&buf[..3], b"abc");
    assert!(buf[3..10_000].iter().all(|&b| b == 0));
    assert_eq!(&buf[10_000..10_003], b"xyz");
    assert_eq!(Vfs::read_at(&f, 10_003, &mut buf).unwrap(), 0);
    assert_eq!(Vfs::read_at(&f, 99_999, &mut buf).unwrap(), 0);
    assert_eq!(Vfs::read_at(&f, 10_001, &mut buf[..1]).unwrap(), 1);
    assert_eq!(buf[0], b'y');
    assert_eq!(Vfs::write_at(&f, 0, b"").unwrap(), 0);
    // Overwrite across a page boundary.
    let data: Vec<u8> = (0..9000u32).map(|i| (i % 251) as u8).collect();
    assert_eq!(Vfs::write_at(&f, 4000, &data).unwrap(), 9000);
    let mut back = vec![0; 9000];
    Vfs::read_at(&f, 4000, &mut back).unwrap();
    assert_eq!(back, data);
    let d = e.mkdir("/d").unwrap();
    assert_eq!(Vfs::read_at(&d, 0, &mut buf).unwrap_err(), Errno::EISDIR);
    assert_eq!(Vfs::write_at(&d, 0, b"x").unwrap_err(), Errno::EISDIR);
}

#[test]
fn write_limits() {
    let e = Env::new();
    let f = e.create("/f").unwrap();
    let max = i64::MAX as u64;
    assert_eq!(Vfs::write_at(&f, max, b"x").unwrap_err(), Errno::EFBIG);
    assert_eq!(
        Vfs::write_at(&f, max - 1, b"xy").unwrap(),
        1,
        "shortened at the limit"
    );
    assert_eq!(f.stat().size, max);
    assert_eq!(f.stat().blocks, 8);
    assert_eq!(Vfs::truncate_inode(&f, max + 1).unwrap_err(), Errno::EFBIG);

    let e = Env::with_options(TmpfsOptions {
        max_bytes: Some(8192),
        ..Default::default()
    });
    let f = e.create("/f").unwrap();
    assert_eq!(Vfs::write_at(&f, 0, &[1; 8192]).unwrap(), 8192);
    assert_eq!(Vfs::write_at(&f, 8192, b"x").unwrap_err(), Errno::ENOSPC);
    let sf = e.vfs.statfs(&e.root, b"/f").unwrap();
    assert_eq!(
        (sf.blocks, sf.bfree, sf.bsize, sf.fs_type),
        (2, 0, 4096, stat::TMPFS_MAGIC)
    );
    Vfs::truncate_inode(&f, 100).unwrap();
    assert_eq!(e.vfs.statfs(&e.root, b"/").unwrap().bfree, 1);
    drop(f);
    e.unlink("/f").unwrap();
    assert_eq!(
        e.vfs.statfs(&e.root, b"/").unwrap().bfree,
        2,
        "freed with the last reference"
    );

    let e = Env::with_options(TmpfsOptions {
        max_inodes: Some(3),
        ..Default::default()
    });
    e.create("/a").unwrap();
    e.mkdir("/b").unwrap();
    assert_eq!(e.create("/c").unwrap_err(), Errno::ENOSPC);
    assert_eq!(e.vfs.statfs(&e.root, b"/").unwrap().ffree, 0);
    e.unlink("/a").unwrap();
    e.create("/c").unwrap();
}

#[test]
fn truncate_rules() {
    let e = Env::new();
    let f = e.write_file("/f", b"0123456789");
    Vfs::truncate_inode(&f, 4).unwrap();
    Vfs::truncate_inode(&f, 8).unwrap();
    assert_eq!(
        e.read_file("/f").unwrap(),
        b"0123\0\0\0\0",
        "grown bytes read as zeros"
    );
    e.vfs.truncate(&e.root, b"/f", 0).unwrap();
    assert_eq!(f.stat().size, 0);
    assert_eq!(f.stat().blocks, 0);
    e.vfs.truncate(&e.root, b"/f", 1 << 40).unwrap();
    assert_eq!((f.stat().size, f.stat().blocks), (1 << 40, 0));
    e.mkdir("/d").unwrap();
    assert_eq!(
        e.vfs.truncate(&e.root, b"/d", 0).unwrap_err(),
        Errno::EISDIR
    );
    assert_eq!(
        e.vfs.truncate(&e.root, b"/nope", 0).unwrap_err(),
        Errno::ENOENT
    );
    e.symlink("/f", "/l").unwrap();
    e.vfs.truncate(&e.root, b"/l", 3).unwrap();
    assert_eq!(f.stat().size, 3);
    let dev = e
        .vfs
        .mknod(
            &e.root,
            b"/c",
            stat::S_IFCHR | 0o600,
            makedev(1, 3),
            Cred::ROOT,
        )
        .unwrap();
    assert_eq!(Vfs::truncate_inode(&dev, 0).unwrap_err(), Errno::EINVAL);
}

#[test]
fn fallocate_modes() {
    let e = Env::new();
    let f = e.create("/f").unwrap();
    Vfs::fallocate(&f, 0, 0, 10_000).unwrap();
    assert_eq!((f.stat().size, f.stat().blocks), (10_000, 24));
    Vfs::fallocate(&f, FALLOC_FL_KEEP_SIZE, 10_000, 10_000).unwrap();
    assert_eq!(f.stat().size, 10_000);
    assert!(f.stat().blocks > 24);
    Vfs::write_at(&f, 0, &[7; 10_000]).unwrap();
    Vfs::fallocate(&f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 100, 8192).unwrap();
    let mut buf = vec![0; 10_000];
    Vfs::read_at(&f, 0, &mut buf).unwrap();
    assert!(buf[..100].iter().all(|&b| b == 7));
    assert!(buf[100..8292].iter().all(|&b| b == 0));
    assert!(buf[8292..].iter().all(|&b| b == 7));
    assert_eq!(f.stat().size, 10_000);
    Vfs::fallocate(&f, FALLOC_FL_ZERO_RANGE, 9_000, 2_000).unwrap();
    assert_eq!(f.stat().size, 11_000);
    Vfs::read_at(&f, 8_000, &mut buf[..3000]).unwrap();
    assert!(buf[292..1000].iter().all(|&b| b == 7));
    assert!(buf[1000..3000].iter().all(|&b| b == 0));
    assert_eq!(Vfs::fallocate(&f, 0, 0, 0).unwrap_err(), Errno::EINVAL);
    assert_eq!(
        Vfs::fallocate(&f, FALLOC_FL_PUNCH_HOLE, 0, 1).unwrap_err(),
        Errno::EOPNOTSUPP
    );
    assert_eq!(
        Vfs::fallocate(&f, 0x100, 0, 1).unwrap_err(),
        Errno::EOPNOTSUPP
    );
    assert_eq!(
        Vfs::fallocate(&f, 0, i64::MAX as u64, 1).unwrap_err(),
        Errno::EFBIG
    );
    let d = e.mkdir("/d").unwrap();
    assert_eq!(Vfs::fallocate(&d, 0, 0, 1).unwrap_err(), Errno::EISDIR);
    let c = e
        .vfs
        .mknod(&e.root, b"/c", stat::S_IFIFO | 0o600, 0, Cred::ROOT)
        .unwrap();
    assert_eq!(Vfs::fallocate(&c, 0, 0, 1).unwrap_err(), Errno::ENODEV);
}

/// A fallocate of a huge range (found by the syscall fuzzer: it hung the kernel by
/// walking 2^48 pages one by one) is refused by the size limit at once.
#[test]
fn huge_fallocate_is_refused_at_once() {
    let e = Env::with_options(TmpfsOptions {
        max_bytes: Some(1 << 20),
        ..Default::default()
    });
    let f = e.create("/f").unwrap();
    Vfs::write_at(&f, 0, &[1; 5000]).unwrap();
    let huge = 0x1ce0_4f97_8090_6d4d;
    let start = std::time::Instant::now();
    assert_eq!(
        Vfs::fallocate(&f, 0, 0x80, huge).unwrap_err(),
        Errno::ENOSPC
    );
    assert_eq!(
        Vfs::fallocate(&f, FALLOC_FL_ZERO_RANGE, 0x80, huge).unwrap_err(),
        Errno::ENOSPC
    );
    Vfs::fallocate(&f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, huge).unwrap();
    assert!(start.elapsed() < std::time::Duration::from_secs(1));
    let mut buf = vec![9; 5000];
    Vfs::read_at(&f, 0, &mut buf).unwrap();
    assert!(
        buf[..0x80].iter().all(|&b| b == 1),
        "the zero range before ENOSPC"
    );
    assert!(buf[4096..].iter().all(|&b| b == 0), "the punched hole");
    assert_eq!(f.stat().size, 5000);
}

#[test]
fn metadata_and_inode_numbers() {
    let e = Env::new();
    let root = e.root.stat();
    assert_eq!((root.ino, root.nlink, root.mode), (1, 2, 0o41777));
    assert_eq!(root.dev, makedev(0, 1));
    let a = e.create("/a").unwrap().stat();
    let b = e.mkdir("/b").unwrap().stat();
    assert!(a.ino != b.ino && a.ino > 1 && b.ino > 1);
    assert_eq!(b.nlink, 2);
    assert_eq!(b.mode, 0o40755);
    assert_eq!(a.blksize, 4096);
    assert_eq!(e.root.stat().nlink, 3);
    e.unlink("/a").unwrap();
    let c = e.create("/c").unwrap().stat();
    assert!(c.ino != a.ino, "inode numbers are not reused");
    let dev = e
        .vfs
        .mknod(
            &e.root,
            b"/tty",
            stat::S_IFCHR | 0o620,
            makedev(5, 0),
            Cred::ROOT,
        )
        .unwrap();
    let st = dev.stat();
    assert_eq!((st.mode, major(st.rdev), minor(st.rdev)), (0o20620, 5, 0));
    let blk = e
        .vfs
        .mknod(
            &e.root,
            b"/sda",
            stat::S_IFBLK | 0o660,
            makedev(8, 0),
            Cred::ROOT,
        )
        .unwrap();
    assert_eq!(blk.file_type(), FileType::BlockDevice);
    assert_eq!(
        e.vfs
            .mknod(&e.root, b"/x", 0, 0, Cred::ROOT)
            .unwrap()
            .file_type(),
        FileType::Regular
    );
    assert_eq!(
        e.vfs
            .mknod(&e.root, b"/s", stat::S_IFSOCK | 0o600, 0, Cred::ROOT)
            .unwrap()
            .file_type(),
        FileType::Socket
    );
    assert_eq!(
        e.vfs
            .mknod(&e.root, b"/y", stat::S_IFDIR | 0o755, 0, Cred::ROOT)
            .unwrap_err(),
        Errno::EPERM
    );
    assert_eq!(
        e.vfs
            .mknod(&e.root, b"/y", 0o170000, 0, Cred::ROOT)
            .unwrap_err(),
        Errno::EINVAL
    );
    assert_eq!(
        e.vfs
            .mknod(&e.root, b"/tty", stat::S_IFCHR, 0, Cred::ROOT)
            .unwrap_err(),
        Errno::EEXIST
    );
}

#[test]
fn timestamps() {
    let e = Env::new();
    e.set_time(100);
    let d = e.mkdir("/d").unwrap();
    e.set_time(200);
    let f = e.create("/d/f").unwrap();
    let st = f.stat();
    assert_eq!(
        (st.atime.sec, st.mtime.sec, st.ctime.sec, st.btime.sec),
        (200, 200, 200, 200)
    );
    assert_eq!(
        (d.stat().mtime.sec, d.stat().ctime.sec),
        (200, 200),
        "parent changed"
    );
    e.set_time(300);
    Vfs::write_at(&f, 0, b"x").unwrap();
    assert_eq!(
        (f.stat().mtime.sec, f.stat().ctime.sec, f.stat().atime.sec),
        (300, 300, 200)
    );
    e.set_time(400);
    Vfs::read_at(&f, 0, &mut [0; 1]).unwrap();
    assert_eq!(
        f.stat().atime.sec,
        400,
        "relatime: atime was older than mtime"
    );
    e.set_time(500);
    Vfs::read_at(&f, 0, &mut [0; 1]).unwrap();
    assert_eq!(
        f.stat().atime.sec,
        400,
        "relatime: no update when atime is newer"
    );
    e.set_time(600);
    Vfs::chmod_inode(&f, 0o600).unwrap();
    assert_eq!((f.stat().ctime.sec, f.stat().mtime.sec), (600, 300));
    e.set_time(700);
    let t = Timespec { sec: 5, nsec: 6 };
    e.vfs
        .utimens(&e.root, b"/d/f", TimeUpdate::Set(t), TimeUpdate::Omit, true)
        .unwrap();
    let st = f.stat();
    assert_eq!((st.atime, st.mtime.sec, st.ctime.sec), (t, 300, 700));
    e.set_time(800);
    Vfs::utimens_inode(&f, TimeUpdate::Omit, TimeUpdate::Now).unwrap();
    assert_eq!((f.stat().atime, f.stat().mtime.sec), (t, 800));
    e.set_time(900);
    Vfs::utimens_inode(&f, TimeUpdate::Omit, TimeUpdate::Omit).unwrap();
    assert_eq!(f.stat().ctime.sec, 800, "both omitted: nothing changes");
    e.set_time(1000);
    e.unlink("/d/f").unwrap();
    assert_eq!((d.stat().mtime.sec, f.stat().ctime.sec), (1000, 1000));
    assert_eq!(TimeUpdate::from_raw(1, UTIME_NOW).unwrap(), TimeUpdate::Now);
    assert_eq!(
        TimeUpdate::from_raw(1, UTIME_OMIT).unwrap(),
        TimeUpdate::Omit
    );
    assert_eq!(
        TimeUpdate::from_raw(1, 1_000_000_000).unwrap_err(),
        Errno::EINVAL
    );
    assert_eq!(TimeUpdate::from_raw(1, -1).unwrap_err(), Errno::EINVAL);
    // Symlinks' own times can be set (lutimes).
    let l = e.symlink("x", "/l").unwrap();
    e.vfs
        .utimens(&e.root, b"/l", TimeUpdate::Omit, TimeUpdate::Set(t), false)
        .unwrap();
    assert_eq!(l.stat().mtime, t);
}

#[test]
fn chmod_chown() {
    let e = Env::new();
    let f = e.create("/f").unwrap();
    e.vfs.chmod(&e.root, b"/f", 0o104755, true).unwrap();
    assert_eq!(
        f.stat().mode,
        0o104755,
        "type bits of the argument are ignored"
    );
    e.vfs.chown(&e.root, b"/f", Some(10), None, true).unwrap();
    let st = f.stat();
    assert_eq!(
        (st.uid, st.gid, st.mode),
        (10, 0, 0o100755),
        "chown clears setuid"
    );
    Vfs::chmod_inode(&f, 0o2775).unwrap();
    Vfs::chown_inode(&f, None, Some(20)).unwrap();
    assert_eq!(
        (f.stat().gid, f.stat().mode),
        (20, 0o100775),
        "and setgid if group-executable"
    );
    Vfs::chmod_inode(&f, 0o2765).unwrap();
    Vfs::chown_inode(&f, None, None).unwrap();
    assert_eq!(f.stat().mode, 0o102765);
    let d = e.mkdir("/d").unwrap();
    Vfs::chmod_inode(&d, 0o6755).unwrap();
    Vfs::chown_inode(&d, Some(1), Some(1)).unwrap();
    assert_eq!(d.stat().mode, 0o46755, "directories keep setuid/setgid");
    e.symlink("/f", "/l").unwrap();
    assert_eq!(
        e.vfs.chmod(&e.root, b"/l", 0o600, false).unwrap_err(),
        Errno::EOPNOTSUPP
    );
    e.vfs
        .chown(&e.root, b"/l", Some(3), Some(4), false)
        .unwrap();
    assert_eq!((e.lstat("/l").unwrap().uid, f.stat().uid), (3, 10));
    assert_eq!(
        e.vfs.chmod(&e.root, b"/nope", 0o600, true).unwrap_err(),
        Errno::ENOENT
    );
}

#[test]
fn setgid_directories_pass_their_group() {
    let e = Env::new();
    let d = e.mkdir("/d").unwrap();
    Vfs::chown_inode(&d, None, Some(50)).unwrap();
    Vfs::chmod_inode(&d, 0o2775).unwrap();
    let f = e.create("/d/f").unwrap();
    let sub = e.mkdir("/d/sub").unwrap();
    assert_eq!((f.stat().gid, sub.stat().gid), (50, 50));
    assert_eq!(sub.stat().mode, 0o42755);
}

#[test]
fn access_checks() {
    let e = Env::new();
    let f = e.create("/f").unwrap();
    Vfs::chmod_inode(&f, 0o640).unwrap();
    Vfs::chown_inode(&f, Some(10), Some(20)).unwrap();
    let acc = |p: &str, m, c| e.vfs.access(&e.root, p.as_bytes(), m, true, c);
    assert_eq!(acc("/f", R_OK | W_OK, Cred::ROOT), Ok(()));
    assert_eq!(acc("/f", X_OK, Cred::ROOT), Err(Errno::EACCES));
    assert_eq!(acc("/f", F_OK, Cred::ROOT), Ok(()));
    assert_eq!(acc("/f", W_OK, Cred { uid: 10, gid: 0 }), Ok(()));
    assert_eq!(
        acc("/f", W_OK, Cred { uid: 11, gid: 20 }),
        Err(Errno::EACCES)
    );
    assert_eq!(acc("/f", 8, Cred::ROOT), Err(Errno::EINVAL));
    assert_eq!(acc("/nope", F_OK, Cred::ROOT), Err(Errno::ENOENT));
    assert_eq!(acc("/", X_OK, Cred::ROOT), Ok(()));
    e.symlink("/nope", "/l").unwrap();
    assert_eq!(acc("/l", F_OK, Cred::ROOT), Err(Errno::ENOENT));
    assert_eq!(
        e.vfs.access(&e.root, b"/l", F_OK, false, Cred::ROOT),
        Ok(())
    );
}

#[test]
fn hard_links() {
    let e = Env::new();
    let f = e.write_file("/f", b"data");
    e.mkdir("/d").unwrap();
    e.set_time(5000);
    e.link("/f", "/d/g").unwrap();
    assert_eq!((f.stat().nlink, f.stat().ctime.sec), (2, 5000));
    assert_eq!(e.read_file("/d/g").unwrap(), b"data");
    assert_eq!(e.link("/f", "/d/g").unwrap_err(), Errno::EEXIST);
    assert_eq!(e.link("/f", "/d").unwrap_err(), Errno::EEXIST);
    assert_eq!(e.link("/f", "/d/.").unwrap_err(), Errno::EEXIST);
    assert_eq!(e.link("/f", "/").unwrap_err(), Errno::EEXIST);
    assert_eq!(e.link("/d", "/d2").unwrap_err(), Errno::EPERM);
    assert_eq!(e.link("/nope", "/x").unwrap_err(), Errno::ENOENT);
    assert_eq!(e.link("/f", "/nodir/x").unwrap_err(), Errno::ENOENT);
    assert_eq!(e.link("/f", "/x/").unwrap_err(), Errno::ENOENT);
    // Without AT_SYMLINK_FOLLOW the link itself is linked.
    e.symlink("/f", "/l").unwrap();
    e.link("/l", "/l2").unwrap();
    assert_eq!(e.lstat("/l2").unwrap().file_type(), FileType::Symlink);
    e.vfs.link(&e.root, b"/l", &e.root, b"/f3", true).unwrap();
    assert_eq!(f.stat().nlink, 3);
    e.unlink("/f").unwrap();
    e.unlink("/d/g").unwrap();
    assert_eq!(f.stat().nlink, 1);
    assert_eq!(e.read_file("/f3").unwrap(), b"data");
    e.unlink("/f3").unwrap();
    assert_eq!(f.stat().nlink, 0);
    // The open inode keeps its data after the last name is gone.
    let mut buf = [0; 4];
    assert_eq!(Vfs::read_at(&f, 0, &mut buf).unwrap(), 4);
    assert_eq!(
        f.link_into(&e),
        Errno::ENOENT,
        "a removed inode cannot get a name again"
    );
}

trait LinkInto {
    fn link_into(&self, e: &Env) -> Errno;
}

impl LinkInto for InodeRef {
    fn link_into(&self, e: &Env) -> Errno {
        e.root.link(b"again", self).unwrap_err()
    }
}

#[test]
fn emlink() {
    let e = Env::with_options(TmpfsOptions {
        max_links: 3,
        ..Default::default()
    });
    e.create("/f").unwrap();
    e.link("/f", "/g").unwrap();
    e.link("/f", "/h").unwrap();
    assert_eq!(e.link("/f", "/i").unwrap_err(), Errno::EMLINK);
    e.mkdir("/d").unwrap();
    assert_eq!(
        e.mkdir("/e").unwrap_err(),
        Errno::EMLINK,
        "root has 2 + 1 links"
    );
}

#[test]
fn unlink_rules() {
    let e = Env::new();
    e.mkdir("/d").unwrap();
    e.write_file("/f", b"");
    e.symlink("/d", "/ld").unwrap();
    assert_eq!(e.unlink("/d").unwrap_err(), Errno::EISDIR);
    assert_eq!(e.unlink("/d/").unwrap_err(), Errno::EISDIR);
    assert_eq!(e.unlink("/").unwrap_err(), Errno::EISDIR);
    assert_eq!(e.unlink("/d/.").unwrap_err(), Errno::EISDIR);
    assert_eq!(e.unlink("/d/..").unwrap_err(), Errno::EISDIR);
    assert_eq!(e.unlink("/f/").unwrap_err(), Errno::ENOTDIR);
    assert_eq!(e.unlink("/ld/").unwrap_err(), Errno::ENOTDIR);
    assert_eq!(e.unlink("/nope").unwrap_err(), Errno::ENOENT);
    assert_eq!(e.unlink("/nope/x").unwrap_err(), Errno::ENOENT);
    assert_eq!(e.unlink("/f/x").unwrap_err(), Errno::ENOTDIR);
    e.unlink("/ld").unwrap();
    assert_eq!(
        e.stat("/d").unwrap().file_type(),
        FileType::Directory,
        "the link, not the target"
    );
    e.unlink("/f").unwrap();
    assert_eq!(e.stat("/f").unwrap_err(), Errno::ENOENT);
}

#[test]
fn o_tmpfile() {
    let e = Env::new();
    e.mkdir("/d").unwrap();
    let f = e.open("/d", O_TMPFILE | O_RDWR).unwrap();
    assert_eq!((f.stat().nlink, f.file_type()), (0, FileType::Regular));
    assert!(e.list("/d").is_empty());
    Vfs::write_at(&f, 0, b"tmp").unwrap();
    e.root.lookup(b"d").unwrap().link(b"named", &f).unwrap();
    assert_eq!(e.read_file("/d/named").unwrap(), b"tmp");
    assert_eq!(
        e.open("/d", O_TMPFILE | O_RDONLY).unwrap_err(),
        Errno::EINVAL
    );
    e.write_file("/f", b"");
    assert_eq!(
        e.open("/f", O_TMPFILE | O_RDWR).unwrap_err(),
        Errno::ENOTDIR
    );
}
