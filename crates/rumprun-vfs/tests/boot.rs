//! The standard boot tree and populating from archive entries.

mod common;
use common::*;
use rumprun_vfs::archive::{populate, ArchiveEntry};
use rumprun_vfs::stat::*;
use rumprun_vfs::*;

#[test]
fn boot_tree() {
    let e = Env::new();
    boot_tree::populate(&e.vfs, b"myhost").unwrap();
    boot_tree::populate(&e.vfs, b"myhost").unwrap();
    assert_eq!(e.root.stat().mode, 0o40755);
    let passwd = String::from_utf8(e.read_file("/etc/passwd").unwrap()).unwrap();
    assert!(passwd.lines().any(|l| l == "root:x:0:0:root:/root:/bin/sh"));
    for f in [
        "group",
        "hosts",
        "resolv.conf",
        "nsswitch.conf",
        "services",
        "protocols",
        "hostname",
    ] {
        let st = e.stat(&format!("/etc/{f}")).unwrap();
        assert!(st.size > 0 && st.mode == 0o100644, "{f}");
    }
    let hosts = String::from_utf8(e.read_file("/etc/hosts").unwrap()).unwrap();
    assert!(hosts.contains("127.0.0.1\tlocalhost") && hosts.contains("myhost"));
    assert_eq!(e.read_file("/etc/hostname").unwrap(), b"myhost\n");
    assert!(String::from_utf8(e.read_file("/etc/services").unwrap())
        .unwrap()
        .contains("http\t\t80/tcp"));
    assert!(String::from_utf8(e.read_file("/etc/protocols").unwrap())
        .unwrap()
        .contains("tcp\t6\tTCP"));
    assert_eq!(e.stat("/tmp").unwrap().mode, 0o41777);
    for d in ["/proc", "/bin", "/root", "/home", "/dev/shm", "/dev/pts"] {
        assert_eq!(e.stat(d).unwrap().file_type(), FileType::Directory, "{d}");
    }
    for (name, ma, mi) in [
        ("null", 1, 3),
        ("zero", 1, 5),
        ("full", 1, 7),
        ("random", 1, 8),
        ("urandom", 1, 9),
        ("console", 5, 1),
        ("tty", 5, 0),
        ("ptmx", 5, 2),
    ] {
        let st = e.stat(&format!("/dev/{name}")).unwrap();
        assert_eq!(
            (st.mode & S_IFMT, major(st.rdev), minor(st.rdev)),
            (S_IFCHR, ma, mi),
            "{name}"
        );
    }
    for (i, n) in ["stdin", "stdout", "stderr"].iter().enumerate() {
        let target = e
            .vfs
            .readlink(&e.root, format!("/dev/{n}").as_bytes())
            .unwrap();
        assert_eq!(target, format!("/proc/self/fd/{i}").as_bytes());
    }
    let e = Env::new();
    boot_tree::populate(&e.vfs, b"").unwrap();
    assert_eq!(e.stat("/etc/hostname").unwrap_err(), Errno::ENOENT);
}

fn entry<'a>(path: &'a str, mode: u32, data: &'a [u8]) -> ArchiveEntry<'a> {
    ArchiveEntry {
        path: path.as_bytes(),
        mode,
        uid: 1,
        gid: 2,
        mtime: 1234,
        rdev: 0,
        data,
        data_page: None,
        stored: None,
    }
}

#[test]
fn archive_population() {
    let e = Env::new();
    boot_tree::populate(&e.vfs, b"").unwrap();
    let entries = [
        entry(".", S_IFDIR | 0o755, b""),
        entry("./data/deep/file.txt", S_IFREG | 0o640, b"hello"),
        entry("data", S_IFDIR | 0o750, b""),
        entry("/etc/passwd", S_IFREG | 0o644, b"root:x:0:0::/:/bin/sh\n"),
        entry("data/link", S_IFLNK | 0o777, b"deep/file.txt"),
        entry("data/fifo", S_IFIFO | 0o600, b""),
        ArchiveEntry {
            rdev: makedev(1, 3),
            ..entry("data/null", S_IFCHR | 0o666, b"")
        },
        entry("data/link", S_IFREG | 0o600, b"replaced"),
    ];
    assert_eq!(populate(&e.vfs, &e.root, entries).unwrap(), 8);
    assert_eq!(e.read_file("/data/deep/file.txt").unwrap(), b"hello");
    let st = e.stat("/data/deep/file.txt").unwrap();
    assert_eq!(
        (st.mode, st.uid, st.gid, st.mtime.sec),
        (0o100640, 1, 2, 1234)
    );
    assert_eq!(e.stat("/data").unwrap().mode, 0o40750);
    assert_eq!(
        e.stat("/data/deep").unwrap().mode,
        0o40755,
        "made on the way"
    );
    assert_eq!(
        e.read_file("/etc/passwd").unwrap(),
        b"root:x:0:0::/:/bin/sh\n"
    );
    assert_eq!(
        e.lstat("/data/link").unwrap().file_type(),
        FileType::Regular
    );
    assert_eq!(e.read_file("/data/link").unwrap(), b"replaced");
    assert_eq!(e.stat("/data/fifo").unwrap().file_type(), FileType::Fifo);
    assert_eq!(e.stat("/data/null").unwrap().rdev, makedev(1, 3));
    assert_eq!(
        populate(&e.vfs, &e.root, [entry("../x", S_IFREG, b"")]).unwrap_err(),
        Errno::EINVAL
    );
    assert_eq!(
        populate(&e.vfs, &e.root, [entry("data", S_IFREG, b"")]).unwrap_err(),
        Errno::EISDIR
    );
    assert_eq!(
        populate(&e.vfs, &e.root, [entry("x", 0o644, b"")]).unwrap_err(),
        Errno::EINVAL
    );
    let big = vec![7u8; 100_000];
    populate(
        &e.vfs,
        &e.root,
        [
            entry("big", S_IFREG | 0o644, &big),
            entry("l2", S_IFLNK | 0o777, b"big"),
        ],
    )
    .unwrap();
    assert_eq!(e.read_file("/l2").unwrap(), big);
}
