//! Randomized model test: 10,000 deterministic pseudo-random operations run on the VFS
//! and on a simple model (a map from paths to nodes), comparing every result (errno
//! included) and, every 100 operations, the whole tree (types, sizes, link counts,
//! contents, which names share an inode).

mod common;
use common::*;
use rumprun_test_support::Rng;
use rumprun_vfs::flags::*;
use rumprun_vfs::*;
use std::collections::BTreeMap;

type Path = Vec<&'static str>;
/// path -> (type, size, nlink, contents)
type Tree = BTreeMap<String, (FileType, u64, u32, Vec<u8>)>;

#[derive(Clone, Debug, PartialEq)]
enum Node {
    Dir,
    Leaf(u32),
}

#[derive(Clone, Debug, PartialEq)]
enum Leaf {
    File(Vec<u8>),
    Symlink(String),
}

/// Symlinks point here: a path that never exists, so following one gives ENOENT.
const TARGET: &str = "/nodir/zz";
/// How often the whole tree is compared.
const CHECK_EVERY: usize = 100;
const NAMES: [&str; 3] = ["a", "b", "c"];

#[derive(Default)]
struct Model {
    nodes: BTreeMap<Path, Node>,
    leaves: BTreeMap<u32, Leaf>,
    next_id: u32,
}

impl Model {
    fn get(&self, p: &[&'static str]) -> Option<&Node> {
        if p.is_empty() {
            return Some(&Node::Dir);
        }
        self.nodes.get(p)
    }

    /// Checks that the parent of `p` is a directory (the walk of all but the last
    /// component).
    fn parent_ok(&self, p: &[&'static str]) -> Result<(), Errno> {
        for i in 1..p.len() {
            match self.get(&p[..i]) {
                None => return Err(Errno::ENOENT),
                Some(Node::Dir) => {}
                Some(Node::Leaf(id)) => match self.leaves[id] {
                    Leaf::File(_) => return Err(Errno::ENOTDIR),
                    Leaf::Symlink(_) => return Err(Errno::ENOENT),
                },
            }
        }
        Ok(())
    }

    fn children(&self, p: &[&'static str]) -> Vec<Path> {
        self.nodes
            .keys()
            .filter(|k| k.len() == p.len() + 1 && k.starts_with(p))
            .cloned()
            .collect()
    }

    fn new_leaf(&mut self, leaf: Leaf) -> u32 {
        self.next_id += 1;
        self.leaves.insert(self.next_id, leaf);
        self.next_id
    }

    fn mkdir(&mut self, p: &Path) -> Result<(), Errno> {
        self.parent_ok(p)?;
        if self.get(p).is_some() {
            return Err(Errno::EEXIST);
        }
        self.nodes.insert(p.clone(), Node::Dir);
        Ok(())
    }

    fn symlink(&mut self, p: &Path) -> Result<(), Errno> {
        self.parent_ok(p)?;
        if self.get(p).is_some() {
            return Err(Errno::EEXIST);
        }
        let id = self.new_leaf(Leaf::Symlink(TARGET.into()));
        self.nodes.insert(p.clone(), Node::Leaf(id));
        Ok(())
    }

    fn write(&mut self, p: &Path, off: usize, data: &[u8]) -> Result<(), Errno> {
        self.parent_ok(p)?;
        let id = match self.get(p) {
            None => {
                let id = self.new_leaf(Leaf::File(vec![]));
                self.nodes.insert(p.clone(), Node::Leaf(id));
                id
            }
            Some(Node::Dir) => return Err(Errno::EISDIR),
            Some(Node::Leaf(id)) => *id,
        };
        match self.leaves.get_mut(&id).unwrap() {
            Leaf::File(v) => {
                if !data.is_empty() {
                    if v.len() < off + data.len() {
                        v.resize(off + data.len(), 0);
                    }
                    v[off..off + data.len()].copy_from_slice(data);
                }
                Ok(())
            }
            Leaf::Symlink(_) => Err(Errno::ENOENT),
        }
    }

    fn truncate(&mut self, p: &Path, size: usize) -> Result<(), Errno> {
        self.parent_ok(p)?;
        match self.get(p) {
            None => Err(Errno::ENOENT),
            Some(Node::Dir) => Err(Errno::EISDIR),
            Some(Node::Leaf(id)) => match self.leaves.get_mut(&id.clone()).unwrap() {
                Leaf::File(v) => {
                    v.resize(size, 0);
                    Ok(())
                }
                Leaf::Symlink(_) => Err(Errno::ENOENT),
            },
        }
    }

    fn unlink(&mut self, p: &Path) -> Result<(), Errno> {
        self.parent_ok(p)?;
        match self.get(p) {
            None => Err(Errno::ENOENT),
            Some(Node::Dir) => Err(Errno::EISDIR),
            Some(Node::Leaf(_)) => {
                self.nodes.remove(p);
                Ok(())
            }
        }
    }

    fn rmdir(&mut self, p: &Path) -> Result<(), Errno> {
        self.parent_ok(p)?;
        match self.get(p) {
            None => Err(Errno::ENOENT),
            Some(Node::Leaf(_)) => Err(Errno::ENOTDIR),
            Some(Node::Dir) if !self.children(p).is_empty() => Err(Errno::ENOTEMPTY),
            Some(Node::Dir) => {
                self.nodes.remove(p);
                Ok(())
            }
        }
    }

    fn link(&mut self, a: &Path, b: &Path) -> Result<(), Errno> {
        self.parent_ok(a)?;
        let old = self.get(a).cloned().ok_or(Errno::ENOENT)?;
        self.parent_ok(b)?;
        if self.get(b).is_some() {
            return Err(Errno::EEXIST);
        }
        if old == Node::Dir {
            return Err(Errno::EPERM);
        }
        self.nodes.insert(b.clone(), old);
        Ok(())
    }

    fn rename(&mut self, a: &Path, b: &Path) -> Result<(), Errno> {
        self.parent_ok(a)?;
        self.parent_ok(b)?;
        let old = self.get(a).cloned().ok_or(Errno::ENOENT)?;
        let new = self.get(b).cloned();
        let b_parent = &b[..b.len() - 1];
        let a_parent = &a[..a.len() - 1];
        if old == Node::Dir && b_parent.starts_with(a) {
            return Err(Errno::EINVAL);
        }
        if let Some(new) = &new {
            if *new == Node::Dir && a_parent.starts_with(b) {
                return Err(Errno::ENOTEMPTY);
            }
            if a == b || *new == old && old != Node::Dir {
                return Ok(());
            }
            match (&old, new) {
                (Node::Dir, Node::Leaf(_)) => return Err(Errno::ENOTDIR),
                (Node::Leaf(_), Node::Dir) => return Err(Errno::EISDIR),
                (Node::Dir, Node::Dir) if !self.children(b).is_empty() => {
                    return Err(Errno::ENOTEMPTY)
                }
                _ => {}
            }
        }
        self.nodes.remove(b);
        let moved: Vec<(Path, Node)> = self
            .nodes
            .iter()
            .filter(|(k, _)| k.starts_with(a))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (k, v) in moved {
            self.nodes.remove(&k);
            let mut nk = b.clone();
            nk.extend_from_slice(&k[a.len()..]);
            self.nodes.insert(nk, v);
        }
        Ok(())
    }

    /// What a walk of the VFS should find: path -> (type, size, nlink, contents).
    fn snapshot(&self) -> Tree {
        let mut out = BTreeMap::new();
        for (p, n) in &self.nodes {
            let key = format!("/{}", p.join("/"));
            let v = match n {
                Node::Dir => {
                    let subdirs = self
                        .children(p)
                        .iter()
                        .filter(|c| self.nodes[*c] == Node::Dir)
                        .count();
                    (FileType::Directory, 0, 2 + subdirs as u32, vec![])
                }
                Node::Leaf(id) => {
                    let nlink = self
                        .nodes
                        .values()
                        .filter(|x| **x == Node::Leaf(*id))
                        .count() as u32;
                    match &self.leaves[id] {
                        Leaf::File(d) => (FileType::Regular, d.len() as u64, nlink, d.clone()),
                        Leaf::Symlink(t) => (
                            FileType::Symlink,
                            t.len() as u64,
                            nlink,
                            t.as_bytes().to_vec(),
                        ),
                    }
                }
            };
            out.insert(key, v);
        }
        out
    }
}

fn vfs_snapshot(e: &Env) -> (Tree, BTreeMap<String, u64>) {
    let mut out = BTreeMap::new();
    let mut inos = BTreeMap::new();
    let mut stack = vec![("".to_string(), e.root.clone())];
    while let Some((prefix, dir)) = stack.pop() {
        for name in list_dir(&dir) {
            let path = format!("{prefix}/{name}");
            let node = dir.lookup(name.as_bytes()).unwrap();
            let st = node.stat();
            let size = if st.file_type() == FileType::Directory {
                0
            } else {
                st.size
            };
            let data = match st.file_type() {
                FileType::Directory => {
                    stack.push((path.clone(), node.clone()));
                    vec![]
                }
                FileType::Symlink => node.readlink().unwrap(),
                _ => {
                    let mut buf = vec![0; st.size as usize];
                    Vfs::read_at(&node, 0, &mut buf).unwrap();
                    buf
                }
            };
            inos.insert(path.clone(), st.ino);
            out.insert(path, (st.file_type(), size, st.nlink, data));
        }
    }
    (out, inos)
}

/// Type, size, nlink and a checksum of the contents (short failure messages).
fn digest(v: &(FileType, u64, u32, Vec<u8>)) -> (FileType, u64, u32, u64) {
    let sum =
        v.3.iter()
            .fold(0u64, |h, &b| h.wrapping_mul(31).wrapping_add(b as u64));
    (v.0, v.1, v.2, sum)
}

/// What these tests draw besides numbers.
trait VfsDraws {
    fn path(&mut self) -> Path;
}

impl VfsDraws for Rng {
    fn path(&mut self) -> Path {
        let depth = 1 + self.below(3) as usize;
        (0..depth)
            .map(|_| NAMES[self.below(NAMES.len() as u64) as usize])
            .collect()
    }
}

fn s(p: &Path) -> String {
    format!("/{}", p.join("/"))
}

#[test]
fn random_operations_match_the_model() {
    let e = Env::new();
    let mut m = Model::default();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut ok_count = 0;
    for step in 0..10_000 {
        let a = rng.path();
        let b = rng.path();
        let op = rng.below(100);
        let (what, got, want) = match op {
            0..=14 => ("mkdir", e.mkdir(&s(&a)).map(|_| ()), m.mkdir(&a)),
            15..=34 => {
                let off = rng.below(9000) as usize;
                let len = rng.below(300) as usize;
                let byte = rng.below(255) as u8 + 1;
                let data = vec![byte; len];
                let got = e
                    .open(&s(&a), O_CREAT | O_WRONLY)
                    .and_then(|f| Vfs::write_at(&f, off as u64, &data).map(|_| ()));
                ("write", got, m.write(&a, off, &data))
            }
            35..=44 => ("unlink", e.unlink(&s(&a)), m.unlink(&a)),
            45..=54 => ("rmdir", e.rmdir(&s(&a)), m.rmdir(&a)),
            55..=74 => ("rename", e.rename(&s(&a), &s(&b)), m.rename(&a, &b)),
            75..=81 => ("link", e.link(&s(&a), &s(&b)), m.link(&a, &b)),
            82..=87 => (
                "symlink",
                e.symlink(TARGET, &s(&a)).map(|_| ()),
                m.symlink(&a),
            ),
            88..=93 => {
                let size = rng.below(10_000) as usize;
                (
                    "truncate",
                    e.vfs.truncate(&e.root, s(&a).as_bytes(), size as u64),
                    m.truncate(&a, size),
                )
            }
            _ => {
                // stat with and without following, compared by type only.
                let got = e.stat(&s(&a)).map(|st| st.file_type());
                let want = m.parent_ok(&a).and_then(|_| match m.get(&a) {
                    None => Err(Errno::ENOENT),
                    Some(Node::Dir) => Ok(FileType::Directory),
                    Some(Node::Leaf(id)) => match m.leaves[id] {
                        Leaf::File(_) => Ok(FileType::Regular),
                        Leaf::Symlink(_) => Err(Errno::ENOENT),
                    },
                });
                assert_eq!(got, want, "step {step}: stat {}", s(&a));
                ("stat", got.map(|_| ()), want.map(|_| ()))
            }
        };
        if std::env::var("MODEL_TRACE").is_ok() {
            eprintln!("{step}: {what} {} {} -> {got:?}", s(&a), s(&b));
        }
        assert_eq!(got, want, "step {step}: {what} {} {}", s(&a), s(&b));
        ok_count += got.is_ok() as u32;
        if step % CHECK_EVERY == CHECK_EVERY - 1 {
            let (tree, inos) = vfs_snapshot(&e);
            let want = m.snapshot();
            for k in tree.keys().chain(want.keys()) {
                let (g, w) = (tree.get(k).map(digest), want.get(k).map(digest));
                assert_eq!(g, w, "after step {step}: {k}");
            }
            assert_eq!(
                e.root.stat().nlink,
                2 + m
                    .children(&[])
                    .iter()
                    .filter(|c| m.nodes[*c] == Node::Dir)
                    .count() as u32
            );
            // Names of one model node share one inode; different nodes have different ones.
            for (p1, n1) in &m.nodes {
                for (p2, n2) in &m.nodes {
                    let same = inos[&s(p1)] == inos[&s(p2)];
                    assert_eq!(
                        same,
                        n1 == n2 && (*n1 != Node::Dir || p1 == p2),
                        "{p1:?} {p2:?}"
                    );
                }
            }
        }
    }
    assert!(
        ok_count > 1500,
        "the sequence exercises successes too ({ok_count})"
    );
}
