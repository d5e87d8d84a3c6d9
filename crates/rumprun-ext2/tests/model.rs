//! Randomized differential test: thousands of deterministic pseudo-random operations
//! run through two `Vfs`es, one on ext2 and one on tmpfs (the model), comparing every
//! result (errno included); every few hundred operations the whole trees (types,
//! permissions, link counts, sizes, contents, symlink targets) are compared and the
//! ext2 file system is unmounted and mounted again from its disk. Files stay open
//! across unlinks (orphans). At the end `e2fsck -fn` must be clean.

mod common;
use common::*;
use rumprun_ext2::Ext2;
use rumprun_vfs::flags::*;
use rumprun_vfs::*;
use std::collections::BTreeMap;

const C: Cred = Cred::ROOT;
const NAMES: [&str; 3] = ["a", "b", "c"];
const OPS: usize = 6000;
const CHECK_EVERY: usize = 300;

struct Side {
    vfs: Vfs,
    open: Vec<Option<InodeRef>>,
}

fn random_path(rng: &mut Rng, max_depth: u64) -> String {
    let depth = 1 + rng.below(max_depth) as usize;
    (0..depth)
        .map(|_| format!("/{}", NAMES[rng.below(3) as usize]))
        .collect()
}

/// One operation on one side; the result is compared between sides.
#[derive(Clone, Debug)]
enum Op {
    Mkdir(String),
    Create(String),
    Write(String, u64, Vec<u8>),
    Truncate(String, u64),
    Unlink(String),
    Rmdir(String),
    Rename(String, String, u32),
    Link(String, String),
    Symlink(Vec<u8>, String),
    Read(String),
    Stat(String),
    List(String),
    Hold(String, usize),
    WriteHeld(usize, u64, Vec<u8>),
    ReadHeld(usize),
    Release(usize),
    Chmod(String, u32),
}

fn gen(rng: &mut Rng, depth: u64) -> Op {
    let p = random_path(rng, depth);
    match rng.below(24) {
        0 | 1 => Op::Mkdir(p),
        2 | 3 => Op::Create(p),
        4..=6 => {
            let off = match rng.below(4) {
                0 => 0,
                1 => rng.below(5000),
                2 => rng.below(300_000),
                _ => rng.below(3_000_000),
            };
            let max = if rng.below(5) == 0 { 70_000 } else { 3000 };
            let n = rng.below(max) as usize;
            Op::Write(p, off, rng.bytes(n))
        }
        7 => Op::Truncate(p, rng.below(400_000)),
        8 | 22 => Op::Unlink(p),
        9 | 23 => Op::Rmdir(p),
        10 | 11 => {
            let flags = match rng.below(6) {
                0 => RENAME_NOREPLACE,
                1 => RENAME_EXCHANGE,
                _ => 0,
            };
            Op::Rename(p, random_path(rng, depth), flags)
        }
        12 => Op::Link(p, random_path(rng, depth)),
        13 => {
            let len = if rng.below(2) == 0 {
                5
            } else {
                100 + rng.below(400)
            } as usize;
            Op::Symlink(vec![b'z'; len], p)
        }
        14 => Op::Read(p),
        15 => Op::Stat(p),
        16 => Op::List(p),
        17 => Op::Hold(p, rng.below(4) as usize),
        18 => {
            let n = rng.below(5000) as usize;
            Op::WriteHeld(rng.below(4) as usize, rng.below(100_000), rng.bytes(n))
        }
        19 => Op::ReadHeld(rng.below(4) as usize),
        20 => Op::Release(rng.below(4) as usize),
        _ => Op::Chmod(p, rng.below(0o1000) as u32),
    }
}

fn read_all(f: &InodeRef) -> Result<Vec<u8>, Errno> {
    let size = f.stat().size as usize;
    let mut v = vec![0u8; size];
    let n = Vfs::read_at(f, 0, &mut v)?;
    v.truncate(n);
    Ok(v)
}

/// Runs `op`; the returned debug string is compared between the two sides.
fn apply(s: &mut Side, op: &Op) -> String {
    let vfs = &s.vfs;
    let root = vfs.root();
    let r: Result<String, Errno> = (|| {
        Ok(match op {
            Op::Mkdir(p) => vfs
                .mkdir(&root, p.as_bytes(), 0o755, C)
                .map(|_| String::new())?,
            Op::Create(p) => vfs
                .open(&root, p.as_bytes(), O_CREAT | O_EXCL | O_WRONLY, 0o644, C)
                .map(|_| String::new())?,
            Op::Write(p, off, d) => {
                let f = vfs.open(&root, p.as_bytes(), O_CREAT | O_WRONLY, 0o644, C)?;
                Vfs::write_at(&f, *off, d)?.to_string()
            }
            Op::Truncate(p, n) => vfs
                .truncate(&root, p.as_bytes(), *n)
                .map(|_| String::new())?,
            Op::Unlink(p) => vfs.unlink(&root, p.as_bytes()).map(|_| String::new())?,
            Op::Rmdir(p) => vfs.rmdir(&root, p.as_bytes()).map(|_| String::new())?,
            Op::Rename(a, b, f) => vfs
                .rename(&root, a.as_bytes(), &root, b.as_bytes(), *f)
                .map(|_| String::new())?,
            Op::Link(a, b) => vfs
                .link(&root, a.as_bytes(), &root, b.as_bytes(), false)
                .map(|_| String::new())?,
            Op::Symlink(t, p) => vfs
                .symlink(t, &root, p.as_bytes(), C)
                .map(|_| String::new())?,
            Op::Read(p) => {
                let f = vfs.open(&root, p.as_bytes(), O_RDONLY, 0, C)?;
                let d = read_all(&f)?;
                format!("{} {:x}", d.len(), checksum(&d))
            }
            Op::Stat(p) => {
                let st = vfs.stat(&root, p.as_bytes(), false)?;
                let size = if st.file_type() == FileType::Directory {
                    0
                } else {
                    st.size
                };
                format!("{:o} {} {}", st.mode, st.nlink, size)
            }
            Op::List(p) => {
                let d = vfs.open(&root, p.as_bytes(), O_RDONLY | O_DIRECTORY, 0, C)?;
                let mut names = vec![];
                let mut c = 0;
                while let Some(e) = d.read_dir(c)? {
                    c = e.next;
                    if e.name != b"lost+found" {
                        names.push((String::from_utf8(e.name).unwrap(), e.kind.d_type()));
                    }
                }
                names.sort();
                format!("{names:?}")
            }
            Op::Hold(p, i) => {
                let f = vfs.open(&root, p.as_bytes(), O_RDWR, 0, C)?;
                s.open[*i] = Some(f);
                String::new()
            }
            Op::WriteHeld(i, off, d) => match &s.open[*i] {
                Some(f) => Vfs::write_at(f, *off, d)?.to_string(),
                None => "none".into(),
            },
            Op::ReadHeld(i) => match &s.open[*i] {
                Some(f) => {
                    let d = read_all(f)?;
                    format!("{} {:x} {}", d.len(), checksum(&d), f.stat().nlink)
                }
                None => "none".into(),
            },
            Op::Release(i) => {
                s.open[*i] = None;
                String::new()
            }
            Op::Chmod(p, m) => vfs
                .chmod(&root, p.as_bytes(), *m, false)
                .map(|_| String::new())?,
        })
    })();
    format!("{r:?}")
}

fn checksum(d: &[u8]) -> u64 {
    d.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

/// Trees with link counts.
fn full_tree(vfs: &Vfs) -> BTreeMap<String, (Entry, u32)> {
    let mut t = BTreeMap::new();
    walk(&vfs.root(), "", &mut t);
    t.retain(|k, _| !k.starts_with("/lost+found"));
    t.into_iter()
        .map(|(k, e)| {
            let nlink = vfs.stat(&vfs.root(), k.as_bytes(), false).unwrap().nlink;
            (k, (e, nlink))
        })
        .collect()
}

fn run_model(block: &str, seed: u64, depth: u64) {
    let tmp = TempDir::new("model");
    let img = mkfs(tmp.path(), "img", &["-t", "ext2", "-b", block], None, "32M");
    let d = disk(&img, false);
    let mut fs = Ext2::mount_with(d.clone(), 1, clock(1000), 64).unwrap();
    let mut e = Side {
        vfs: Vfs::new(fs.clone()),
        open: vec![None, None, None, None],
    };
    let mut m = Side {
        vfs: Vfs::new(Tmpfs::new(2, clock(1000))),
        open: vec![None, None, None, None],
    };
    let mut rng = Rng(seed);
    let mut stats: BTreeMap<String, (u32, u32)> = BTreeMap::new();
    for i in 0..OPS {
        let op = gen(&mut rng, depth);
        let (re, rm) = (apply(&mut e, &op), apply(&mut m, &op));
        assert_eq!(re, rm, "op {i}: {op:?}");
        let kind = format!("{op:?}").split('(').next().unwrap().to_string();
        let st = stats.entry(kind).or_default();
        if re.starts_with("Ok") {
            st.0 += 1;
        } else {
            st.1 += 1;
        }
        if i % CHECK_EVERY == CHECK_EVERY - 1 {
            assert_eq!(full_tree(&e.vfs), full_tree(&m.vfs), "trees after op {i}");
            // Unmount (dropping open files on both sides) and mount again.
            e.open = vec![None, None, None, None];
            m.open = vec![None, None, None, None];
            e.vfs = Vfs::new(Tmpfs::new(9, clock(0)));
            fs.unmount().unwrap();
            drop(fs);
            fs = Ext2::mount_with(d.clone(), 1, clock(1000), 64).unwrap();
            e.vfs = Vfs::new(fs.clone());
            assert_eq!(
                full_tree(&e.vfs),
                full_tree(&m.vfs),
                "trees after remount {i}"
            );
        }
    }
    println!("op: (ok, err) {stats:?}");
    let ok: u32 = stats.values().map(|s| s.0).sum();
    assert!(
        ok as usize > OPS / 4,
        "too few operations succeed: {stats:?}"
    );
    e.open = vec![None, None, None, None];
    e.vfs = Vfs::new(Tmpfs::new(9, clock(0)));
    fs.sync().unwrap();
    save(&d, &img);
    fsck_clean(&img);
}

#[test]
fn model_1k() {
    run_model("1024", 0x9e37_79b9_7f4a_7c15, 3);
}

#[test]
fn model_4k() {
    run_model("4096", 0x1234_5678_9abc_def1, 3);
}

#[test]
fn model_1k_shallow() {
    run_model("1024", 77, 2);
}

#[test]
fn model_2k_shallow() {
    run_model("2048", 4242, 2);
}
