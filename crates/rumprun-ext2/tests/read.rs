//! Images made by `mke2fs -d DIR` read back identically: contents, sizes, modes,
//! symlinks, nested and large directories, sparse files, special files; for 1 KiB and
//! 4 KiB blocks, revision 0 and 1, 128- and 256-byte inodes.

mod common;
use common::*;
use rumprun_ext2::Ext2;
use rumprun_vfs::*;
use std::collections::BTreeMap;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;

/// Builds the source tree on the host and returns what the walk should find.
fn make_source(dir: &Path) -> BTreeMap<String, Entry> {
    let mut rng = Rng(0x1234_5678);
    let mut want = BTreeMap::new();
    let mut file = |rel: &str, data: Vec<u8>, perm: u32| {
        let p = dir.join(&rel[1..]);
        std::fs::write(&p, &data).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(perm)).unwrap();
        want.insert(rel.to_string(), Entry::File { perm, data });
    };
    for d in ["a", "a/b", "a/b/c", "many", "empty"] {
        std::fs::create_dir(dir.join(d)).unwrap();
    }
    file("/empty.txt", vec![], 0o644);
    file("/hello", b"hello, world\n".to_vec(), 0o600);
    file("/exe", rng.bytes(5000), 0o755);
    file("/a/b/c/deep.bin", rng.bytes(70_000), 0o640);
    // 1 KiB blocks: direct, indirect and double indirect.
    file("/big", rng.bytes(1_300_000), 0o644);
    for i in 0..300 {
        file(
            &format!("/many/file-with-a-longish-name-{i:04}"),
            format!("{i}\n").into_bytes(),
            0o644,
        );
    }
    for (d, perm) in [
        ("/a", 0o755),
        ("/a/b", 0o700),
        ("/a/b/c", 0o755),
        ("/many", 0o755),
        ("/empty", 0o1777),
    ] {
        std::fs::set_permissions(dir.join(&d[1..]), std::fs::Permissions::from_mode(perm)).unwrap();
        want.insert(d.to_string(), Entry::Dir { perm });
    }
    symlink("hello", dir.join("short-link")).unwrap();
    want.insert("/short-link".into(), Entry::Symlink(b"hello".to_vec()));
    let long = format!("a/b/c/{}", "x".repeat(150));
    symlink(&long, dir.join("long-link")).unwrap();
    want.insert("/long-link".into(), Entry::Symlink(long.into_bytes()));
    // A sparse file: data at 0, a hole, data at 3 MiB.
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut f = std::fs::File::create(dir.join("sparse")).unwrap();
        f.write_all(b"start").unwrap();
        f.seek(SeekFrom::Start(3 << 20)).unwrap();
        f.write_all(b"end").unwrap();
        std::fs::set_permissions(dir.join("sparse"), std::fs::Permissions::from_mode(0o644))
            .unwrap();
        let mut data = vec![0u8; (3 << 20) + 3];
        data[..5].copy_from_slice(b"start");
        data[3 << 20..].copy_from_slice(b"end");
        want.insert("/sparse".into(), Entry::File { perm: 0o644, data });
    }
    let (code, out) = run("mkfifo", &[dir.join("fifo").to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    want.insert("/fifo".into(), Entry::Other(FileType::Fifo));
    want
}

fn check(extra: &[&str]) {
    let tmp = TempDir::new("read");
    let src = tmp.path().join("src");
    std::fs::create_dir(&src).unwrap();
    let mut want = make_source(&src);
    want.insert("/lost+found".into(), Entry::Dir { perm: 0o700 });
    let img = mkfs(tmp.path(), "img", extra, Some(&src), "32M");
    fsck_clean(&img);
    let info = Ext2::probe(&*disk(&img, true)).unwrap();
    assert_eq!(
        info.read_only_reason,
        Some("read-only: the device is read-only")
    );
    let (fs, _) = mount(&img, true);
    let got = tree(&fs);
    let missing: Vec<_> = want.keys().filter(|k| !got.contains_key(*k)).collect();
    let extra: Vec<_> = got.keys().filter(|k| !want.contains_key(*k)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}, extra {extra:?}"
    );
    for (k, w) in &want {
        assert!(got[k] == *w, "{k} differs ({extra:?})");
    }
    let root = fs.root();
    assert_eq!(root.key().1, 2);
    let st = root.lookup(b"hello").unwrap().stat();
    assert_eq!((st.size, st.nlink, st.mode), (13, 1, 0o100600));
    assert_eq!(st.atime.nsec, 0);
    let big = root.lookup(b"big").unwrap().stat();
    assert!(big.blocks >= 1_300_000 / 512, "blocks {}", big.blocks);
    let sparse = root.lookup(b"sparse").unwrap().stat();
    assert!(
        sparse.blocks < 64,
        "sparse file allocates {} sectors",
        sparse.blocks
    );
    let a = root.lookup(b"a").unwrap().stat();
    assert_eq!(a.nlink, 3);
    let sf = root.statfs();
    assert_eq!(sf.fs_type, 0xEF53);
    assert!(sf.bfree > 0 && sf.bfree < sf.blocks && sf.ffree < sf.files);
    assert!(root.is_read_only());
}

#[test]
fn reads_mke2fs_tree_1k() {
    check(&["-t", "ext2", "-b", "1024"]);
}

#[test]
fn reads_mke2fs_tree_4k() {
    check(&["-t", "ext2", "-b", "4096"]);
}

#[test]
fn reads_mke2fs_tree_2k_128_byte_inodes() {
    check(&["-t", "ext2", "-b", "2048", "-I", "128"]);
}

#[test]
fn reads_mke2fs_tree_revision_0() {
    check(&["-t", "ext2", "-b", "1024", "-r", "0"]);
}

#[test]
fn reads_ext3_without_recovery() {
    check(&["-t", "ext3", "-b", "1024"]);
}
