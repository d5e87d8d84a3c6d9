//! Shared helpers of the integration tests: temp dirs, running the host's e2fsprogs
//! (mke2fs, e2fsck, debugfs) as the oracle, mounting an image file through a MemDisk
//! and writing it back, walking a tree through the Inode API, and a small PRNG.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rumprun_ext2::Ext2;
use rumprun_vfs::*;

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh empty directory under the system temp dir (removed on drop).
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let p = std::env::temp_dir().join(format!("rumprun-ext2-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("KEEP_IMAGES").is_none() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Runs a host tool, returning (exit code, stdout + stderr).
pub fn run(cmd: &str, args: &[&str]) -> (i32, String) {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// `mke2fs -q -F [extra] [-d src] img size`; returns the image path.
pub fn mkfs(dir: &Path, name: &str, extra: &[&str], src: Option<&Path>, size: &str) -> PathBuf {
    let img = dir.join(name);
    let mut args: Vec<String> = vec!["-q".into(), "-F".into()];
    args.extend(extra.iter().map(|s| s.to_string()));
    if let Some(s) = src {
        args.push("-d".into());
        args.push(s.to_str().unwrap().into());
    }
    args.push(img.to_str().unwrap().into());
    args.push(size.into());
    let a: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    let (code, out) = run("mke2fs", &a);
    assert_eq!(code, 0, "mke2fs {a:?} failed:\n{out}");
    img
}

/// `e2fsck -fn img` must exit 0 (prints its output either way).
pub fn fsck_clean(img: &Path) {
    let (code, out) = run("e2fsck", &["-fn", img.to_str().unwrap()]);
    println!("e2fsck -fn {}: exit {code}\n{out}", img.display());
    assert_eq!(code, 0, "e2fsck found problems:\n{out}");
}

/// `debugfs -R 'cat path' img` output bytes.
pub fn debugfs_cat(img: &Path, path: &str) -> Vec<u8> {
    let out = Command::new("debugfs")
        .args(["-R", &format!("cat {path}"), img.to_str().unwrap()])
        .output()
        .unwrap();
    out.stdout
}

/// A clock at a fixed, settable second.
pub fn clock(sec: i64) -> Arc<dyn Clock> {
    Arc::new(move || Timespec { sec, nsec: 0 })
}

/// Loads an image file into a MemDisk.
pub fn disk(img: &Path, read_only: bool) -> Arc<MemDisk> {
    Arc::new(MemDisk::new(std::fs::read(img).unwrap(), read_only))
}

/// Mounts an image file (through a MemDisk; see [`save`]).
pub fn mount(img: &Path, read_only: bool) -> (Arc<Ext2>, Arc<MemDisk>) {
    let d = disk(img, read_only);
    let fs = Ext2::mount(d.clone(), makedev(8, 0), clock(1_700_000_000)).unwrap();
    (fs, d)
}

/// Writes the disk contents back to the image file.
pub fn save(d: &MemDisk, img: &Path) {
    std::fs::write(img, d.contents()).unwrap();
}

/// What a tree walk finds at one path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    Dir { perm: u32 },
    File { perm: u32, data: Vec<u8> },
    Symlink(Vec<u8>),
    Other(FileType),
}

/// Walks `dir` through the Inode API (read_dir + lookup), checking `..` and that
/// names are unique.
pub fn walk(dir: &InodeRef, prefix: &str, out: &mut BTreeMap<String, Entry>) {
    let mut cookie = 0;
    let mut seen = std::collections::BTreeSet::new();
    while let Some(e) = dir.read_dir(cookie).unwrap() {
        cookie = e.next;
        let name = String::from_utf8(e.name.clone()).unwrap();
        assert!(seen.insert(name.clone()), "duplicate entry {prefix}/{name}");
        if name == "." || name == ".." {
            continue;
        }
        let node = dir.lookup(&e.name).unwrap();
        assert_eq!(node.key().1, e.ino, "{prefix}/{name}: ino");
        assert_eq!(node.file_type(), e.kind, "{prefix}/{name}: type");
        let st = node.stat();
        let path = format!("{prefix}/{name}");
        let entry = match e.kind {
            FileType::Directory => {
                assert_eq!(node.parent().unwrap().key(), dir.key(), "{path}/..");
                walk(&node, &path, out);
                Entry::Dir { perm: st.perm() }
            }
            // Huge sparse files are checked by the tests themselves.
            FileType::Regular if st.size > 64 << 20 => Entry::Other(FileType::Regular),
            FileType::Regular => {
                let mut data = vec![0u8; st.size as usize];
                let mut done = 0;
                while done < data.len() {
                    let n = node.read_at(done as u64, &mut data[done..]).unwrap();
                    assert!(n > 0, "{path}: short read");
                    done += n;
                }
                Entry::File {
                    perm: st.perm(),
                    data,
                }
            }
            FileType::Symlink => Entry::Symlink(node.readlink().unwrap()),
            k => Entry::Other(k),
        };
        out.insert(path, entry);
    }
}

/// The whole tree of a file system.
pub fn tree(fs: &Arc<Ext2>) -> BTreeMap<String, Entry> {
    let mut out = BTreeMap::new();
    walk(&fs.root(), "", &mut out);
    out
}

/// The deterministic PRNG the crates' model tests share (not every test file that
/// includes this module draws from it).
#[allow(unused_imports)]
pub use rumprun_test_support::Rng;
