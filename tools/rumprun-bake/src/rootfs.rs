//! Files from the host: the root file system part of the payload (ARCHITECTURE.md "The
//! baked image"), shared by `rumprun-bake` (`-m "add x.fs"`, `-r DIR`) and
//! `rumprun-cookfs` (`x86_64-rumprun-linux-cookfs`).
//!
//! Conventions of a cooked archive (a cpio newc archive, like the payload):
//! * paths are relative to `/`, with no leading `/` or `./`, no `..`, no empty or `.`
//!   components; parents come before their children (cookfs sorts by path components);
//! * only regular files, directories and symbolic links (`S_IFLNK`, data = target);
//! * mode = type + permission bits (`0o7777`) of the host file, mtime in seconds,
//!   uid/gid 0 unless the owner is preserved.
//!
//! [`cook`] walks host directories; [`read_archive`] reads an existing archive
//! (normalising `./` prefixes, and resolving newc hard links); [`Tree`] merges entries
//! from several sources and refuses conflicts with one line naming both sources.

use rumprun_image::cpio::{self, CpioWriter, Owner, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG};
use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Component, Path};

/// Above this many bytes of file data a warning says the image file gets large (the
/// data of files of a page or more is not loaded at boot but read from the image,
/// attached as a disk, when used).
pub const WARN_SIZE: u64 = 64 << 20;

/// One file, directory or symlink of the root file system.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FsEntry {
    /// Path relative to `/` (`etc/passwd`).
    pub path: String,
    /// Type and permission bits.
    pub mode: u32,
    /// uid, gid, mtime.
    pub owner: Owner,
    /// File contents or symlink target; empty for a directory.
    pub data: Vec<u8>,
    /// Where it came from, for error messages (a host directory, an archive, a program).
    pub source: String,
}

impl FsEntry {
    fn is_dir(&self) -> bool {
        self.mode & S_IFMT == S_IFDIR
    }
}

/// An I/O error's text without Rust's ` (os error N)` suffix, like strerror.
pub fn io_msg(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// The stored path components of the host directory `dir` after stripping `strip`
/// leading components (a leading `/` and `.` components do not count).
pub fn stored_prefix(dir: &str, strip: usize) -> Result<Vec<String>, String> {
    let mut comps = Vec::new();
    for c in Path::new(dir).components() {
        match c {
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir => comps.push("..".to_string()),
            Component::Normal(n) => comps.push(
                n.to_str()
                    .ok_or_else(|| format!("{dir}: the path is not UTF-8"))?
                    .to_string(),
            ),
            Component::Prefix(_) => return Err(format!("{dir}: unsupported path")),
        }
    }
    if strip > comps.len() {
        return Err(format!(
            "-s {strip}: {dir} has only {} path component{}",
            comps.len(),
            if comps.len() == 1 { "" } else { "s" }
        ));
    }
    let rest = comps.split_off(strip);
    if rest.iter().any(|c| c == "..") {
        return Err(format!(
            "{dir}: \"..\" would escape the root file system (strip it with -s)"
        ));
    }
    Ok(rest)
}

fn kind_name(ft: &fs::FileType) -> &'static str {
    if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_socket() {
        "a socket"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else {
        "of an unknown type"
    }
}

fn unsupported(what: &str, kind: &str) -> String {
    format!("{what}: is {kind}; only regular files, directories and symbolic links can be baked")
}

/// Cooks the host directory `dir` into entries stored under `prefix` (empty: the
/// directory's contents map to `/`). `source` names the directory in conflicts. The
/// directory itself is an entry unless `prefix` is empty; entries are in tree order.
pub fn cook(
    dir: &str,
    prefix: &[String],
    preserve_owner: bool,
    source: &str,
) -> Result<Vec<FsEntry>, String> {
    let meta = fs::metadata(dir).map_err(|e| format!("{dir}: {}", io_msg(&e)))?;
    if !meta.is_dir() {
        return Err(format!("{dir}: not a directory"));
    }
    let mut out = Vec::new();
    let stored = prefix.join("/");
    let owner = |m: &fs::Metadata| Owner {
        uid: if preserve_owner { m.uid() } else { 0 },
        gid: if preserve_owner { m.gid() } else { 0 },
        mtime: m.mtime().clamp(0, u32::MAX as i64) as u32,
    };
    if !stored.is_empty() {
        out.push(FsEntry {
            path: stored.clone(),
            mode: S_IFDIR | (meta.mode() & 0o7777),
            owner: owner(&meta),
            data: Vec::new(),
            source: source.to_string(),
        });
    }
    // Depth first, children sorted by name bytes: parents come first, output is stable.
    let mut stack = vec![(Path::new(dir).to_path_buf(), stored)];
    while let Some((host, stored)) = stack.pop() {
        let rd = fs::read_dir(&host).map_err(|e| format!("{}: {}", host.display(), io_msg(&e)))?;
        let mut names = Vec::new();
        for e in rd {
            let e = e.map_err(|e| format!("{}: {}", host.display(), io_msg(&e)))?;
            names.push(e.file_name());
        }
        names.sort();
        let mut subdirs = Vec::new();
        for name in names {
            let h = host.join(&name);
            let what = h.display().to_string();
            let name = name
                .to_str()
                .ok_or_else(|| format!("{what}: the file name is not UTF-8"))?;
            let path = if stored.is_empty() {
                name.to_string()
            } else {
                format!("{stored}/{name}")
            };
            let m = fs::symlink_metadata(&h).map_err(|e| format!("{what}: {}", io_msg(&e)))?;
            let ft = m.file_type();
            let perm = m.mode() & 0o7777;
            let (mode, data) = if ft.is_dir() {
                subdirs.push((h.clone(), path.clone()));
                (S_IFDIR | perm, Vec::new())
            } else if ft.is_file() {
                let data = fs::read(&h).map_err(|e| format!("{what}: {}", io_msg(&e)))?;
                (S_IFREG | perm, data)
            } else if ft.is_symlink() {
                let target = fs::read_link(&h).map_err(|e| format!("{what}: {}", io_msg(&e)))?;
                let target = target
                    .to_str()
                    .ok_or_else(|| format!("{what}: the symbolic link's target is not UTF-8"))?;
                (S_IFLNK | 0o777, target.as_bytes().to_vec())
            } else {
                return Err(unsupported(&what, kind_name(&ft)));
            };
            out.push(FsEntry {
                path,
                mode,
                owner: owner(&m),
                data,
                source: source.to_string(),
            });
        }
        stack.extend(subdirs.into_iter().rev());
    }
    sort(&mut out);
    Ok(out)
}

/// Sorts entries by path components (tree order; stable for equal paths).
pub fn sort(entries: &mut [FsEntry]) {
    entries.sort_by(|a, b| a.path.split('/').cmp(b.path.split('/')));
}

/// True if `bytes` start like a cpio newc archive (`070701` or `070702`).
pub fn is_cpio(bytes: &[u8]) -> bool {
    bytes.starts_with(b"070701") || bytes.starts_with(b"070702")
}

/// Cleans an archive member's name: `./` prefixes and `.`/empty components go;
/// absolute paths and `..` are refused. `None` for the archive's `.` entry.
fn clean_name(name: &str) -> Result<Option<String>, String> {
    if name.starts_with('/') {
        return Err("absolute paths are not allowed in a file system archive".into());
    }
    let mut comps = Vec::new();
    for c in name.split('/') {
        match c {
            "" | "." => {}
            ".." => return Err("\"..\" is not allowed in a file system archive".into()),
            c => comps.push(c),
        }
    }
    Ok((!comps.is_empty()).then(|| comps.join("/")))
}

/// Reads the archive `bytes` (from the file `source`) as root file system entries, in
/// archive order. uid/gid/mtime are kept; newc hard links (data stored with one of the
/// links) get their data.
pub fn read_archive(bytes: &[u8], source: &str) -> Result<Vec<FsEntry>, String> {
    let mut out: Vec<FsEntry> = Vec::new();
    let mut links: HashMap<u32, Vec<usize>> = HashMap::new();
    for item in cpio::entries_with_meta(bytes) {
        let (e, meta) = item.map_err(|e| format!("{source}: {e}"))?;
        let Some(path) = clean_name(e.name).map_err(|m| format!("{source}: {}: {m}", e.name))?
        else {
            continue;
        };
        let kind = match e.mode & S_IFMT {
            S_IFREG | S_IFDIR | S_IFLNK => None,
            0o010_000 => Some("a FIFO"),
            0o140_000 => Some("a socket"),
            0o020_000 => Some("a character device"),
            0o060_000 => Some("a block device"),
            _ => Some("of an unknown type"),
        };
        if let Some(kind) = kind {
            return Err(unsupported(&format!("{source}: {}", e.name), kind));
        }
        if e.is_symlink() && std::str::from_utf8(e.data).is_err() {
            return Err(format!(
                "{source}: {}: the symbolic link's target is not UTF-8",
                e.name
            ));
        }
        if e.is_file() && meta.nlink > 1 {
            links.entry(meta.ino).or_default().push(out.len());
        }
        out.push(FsEntry {
            path,
            mode: e.mode,
            owner: meta.owner,
            data: if e.is_dir() {
                Vec::new()
            } else {
                e.data.to_vec()
            },
            source: source.to_string(),
        });
    }
    for group in links.values() {
        if let Some(&with_data) = group.iter().find(|&&i| !out[i].data.is_empty()) {
            let data = out[with_data].data.clone();
            for &i in group {
                out[i].data.clone_from(&data);
            }
        }
    }
    Ok(out)
}

/// Entries merged from several sources, in the order added; conflicts are refused.
#[derive(Debug, Default)]
pub struct Tree {
    entries: Vec<FsEntry>,
    /// Path -> index in `entries`.
    index: HashMap<String, usize>,
    /// Directories implied by deeper paths -> the source of the first such path.
    implied: HashMap<String, String>,
}

impl Tree {
    /// An empty tree.
    pub fn new() -> Self {
        Tree::default()
    }

    /// Adds one entry. A directory that is already there is dropped (the first one's
    /// attributes win); any other repeated path, or a path below a non-directory, is
    /// an error naming both sources.
    pub fn add(&mut self, e: FsEntry) -> Result<(), String> {
        if let Some(&i) = self.index.get(&e.path) {
            let old = &self.entries[i];
            if old.is_dir() && e.is_dir() {
                return Ok(());
            }
            return Err(format!(
                "conflict: {} is in both {} and {}",
                e.path, old.source, e.source
            ));
        }
        let mut anc = e.path.as_str();
        while let Some(pos) = anc.rfind('/') {
            anc = &anc[..pos];
            if let Some(&i) = self.index.get(anc) {
                let old = &self.entries[i];
                if !old.is_dir() {
                    return Err(format!(
                        "conflict: {anc} is a directory in {} but not in {}",
                        e.source, old.source
                    ));
                }
            }
        }
        if !e.is_dir() {
            if let Some(src) = self.implied.get(&e.path) {
                return Err(format!(
                    "conflict: {} is a directory in {src} but not in {}",
                    e.path, e.source
                ));
            }
        }
        let mut anc = e.path.as_str();
        while let Some(pos) = anc.rfind('/') {
            anc = &anc[..pos];
            self.implied
                .entry(anc.to_string())
                .or_insert_with(|| e.source.clone());
        }
        self.index.insert(e.path.clone(), self.entries.len());
        self.entries.push(e);
        Ok(())
    }

    /// The entry at `path` (relative to `/`), if there is one.
    pub fn get(&self, path: &str) -> Option<&FsEntry> {
        self.index.get(path).map(|&i| &self.entries[i])
    }

    /// The entries in order.
    pub fn entries(&self) -> &[FsEntry] {
        &self.entries
    }

    /// Total bytes of file data.
    pub fn data_size(&self) -> u64 {
        self.entries.iter().map(|e| e.data.len() as u64).sum()
    }

    /// Appends every entry to `w`. Regular files of a page or more with the same
    /// contents (a library at its /lib and its /usr/lib path, a program and Debian's
    /// copies of it) are written once, as a newc hard-link group (each keeps its own
    /// name and mode): the kernel gives each name a file of its own on the same
    /// payload pages, so the image and the RAM hold the bytes once.
    pub fn write(&self, w: &mut CpioWriter) -> Result<(), String> {
        let mut same: HashMap<&[u8], Vec<usize>> = HashMap::new();
        for (i, e) in self.entries.iter().enumerate() {
            if e.mode & S_IFMT == S_IFREG && e.data.len() >= 4096 {
                same.entry(&e.data[..]).or_default().push(i);
            }
        }
        let mut first_ino: HashMap<&[u8], u32> = HashMap::new();
        for (i, e) in self.entries.iter().enumerate() {
            let group = same
                .get(&e.data[..])
                .filter(|g| g.len() > 1 && g.contains(&i));
            let written = match group {
                Some(g) => {
                    let first = first_ino.get(&e.data[..]).copied();
                    w.add_linked(&e.path, e.mode, e.owner, &e.data, g.len() as u32, first)
                        .map(|ino| {
                            first_ino.insert(&e.data[..], ino);
                        })
                }
                None => w.add_entry_with(&e.path, e.mode, e.owner, &e.data),
            };
            written.map_err(|err| format!("{}: {}: {err}", e.source, e.path))?;
        }
        Ok(())
    }
}

/// The warning printed when `size` bytes of files go into an image, if it is large.
pub fn size_warning(size: u64) -> Option<String> {
    (size > WARN_SIZE).then(|| {
        format!(
            "the files take {} MiB of the image file (read from it as a disk when used, not loaded at boot)",
            size.div_ceil(1 << 20)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(path: &str, mode: u32, source: &str) -> FsEntry {
        FsEntry {
            path: path.into(),
            mode,
            owner: Owner::default(),
            data: Vec::new(),
            source: source.into(),
        }
    }

    #[test]
    fn prefixes() {
        let p = |d, s| stored_prefix(d, s);
        assert_eq!(p("data", 0).unwrap(), ["data"]);
        assert_eq!(p("./rootfs/etc/", 1).unwrap(), ["etc"]);
        assert_eq!(p("/srv/www", 0).unwrap(), ["srv", "www"]);
        assert!(p("/srv/www", 2).unwrap().is_empty());
        assert_eq!(p("../data", 1).unwrap(), ["data"]);
        assert_eq!(
            p("../data", 0).unwrap_err(),
            "../data: \"..\" would escape the root file system (strip it with -s)"
        );
        assert_eq!(
            p("rootfs/etc", 3).unwrap_err(),
            "-s 3: rootfs/etc has only 2 path components"
        );
    }

    #[test]
    fn names() {
        assert_eq!(clean_name("./etc//x").unwrap().unwrap(), "etc/x");
        assert_eq!(clean_name(".").unwrap(), None);
        assert!(clean_name("/etc").is_err());
        assert!(clean_name("a/../b").is_err());
    }

    #[test]
    fn tree_conflicts() {
        let mut t = Tree::new();
        t.add(e("bin/hello", S_IFREG, "program hello")).unwrap();
        t.add(e("etc", S_IFDIR, "a.fs")).unwrap();
        t.add(e("etc", S_IFDIR, "b.fs")).unwrap();
        t.add(e("bin", S_IFDIR, "b.fs")).unwrap();
        assert_eq!(t.entries().len(), 3);
        assert_eq!(
            t.add(e("bin/hello", S_IFREG, "b.fs")).unwrap_err(),
            "conflict: bin/hello is in both program hello and b.fs"
        );
        assert_eq!(
            t.add(e("bin/hello/x", S_IFREG, "b.fs")).unwrap_err(),
            "conflict: bin/hello is a directory in b.fs but not in program hello"
        );
        t.add(e("lib/x", S_IFREG, "c.fs")).unwrap();
        assert_eq!(
            t.add(e("lib", S_IFLNK, "d.fs")).unwrap_err(),
            "conflict: lib is a directory in c.fs but not in d.fs"
        );
    }

    #[test]
    fn sorting_is_tree_order() {
        let mut v = vec![
            e("a/c", S_IFREG, ""),
            e("a-b", S_IFREG, ""),
            e("a", S_IFDIR, ""),
            e("a/b/c", S_IFREG, ""),
            e("a/b", S_IFDIR, ""),
        ];
        sort(&mut v);
        let p: Vec<_> = v.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(p, ["a", "a/b", "a/b/c", "a/c", "a-b"]);
    }
}
