//! Filling the tree from an archive: the "files from the host" that `rumprun-bake`
//! packs (as cpio entries) into the image. The kernel parses the payload and hands each
//! member over as an [`ArchiveEntry`]; [`populate`] creates it, with any missing parent
//! directories, replacing what is in the way (except that a directory is never replaced
//! by a non-directory: EISDIR).

use crate::errno::{Errno, VfsResult};
use crate::flags::{O_CREAT, O_TRUNC, O_WRONLY};
use crate::inode::{Cred, InodeRef, SetAttr, TimeUpdate};
use crate::stat::{FileType, Timespec, S_IALLUGO};
use crate::store::PageStore;
use crate::vfs::Vfs;
use alloc::sync::Arc;
use alloc::vec::Vec;

/// One archive member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArchiveEntry<'a> {
    /// Path relative to the target directory (a leading `/` or `./` is ignored).
    pub path: &'a [u8],
    /// Type and permission bits (`S_IFREG | 0o644`, ...).
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Modification time (seconds since the epoch); also the access time.
    pub mtime: i64,
    /// Device number of a device node.
    pub rdev: u64,
    /// Contents of a regular file, or the target of a symlink.
    pub data: &'a [u8],
    /// The kernel page `data` starts at, when it starts a page and stays in place for
    /// good (the baked payload): the file borrows its whole pages instead of copying
    /// them ([`crate::Inode::borrow_pages`]).
    pub data_page: Option<u64>,
    /// For a regular file: its contents are not `data` but `size` bytes in a page
    /// store from a page on ([`crate::Inode::back_pages`]), read on demand.
    pub stored: Option<StoredData<'a>>,
}

/// Where a regular file's contents lie in a [`PageStore`].
#[derive(Clone, Copy)]
pub struct StoredData<'a> {
    /// The store.
    pub store: &'a Arc<PageStore>,
    /// The store page of the file's first byte.
    pub first: u64,
    /// The file's size.
    pub size: u64,
}

impl PartialEq for StoredData<'_> {
    fn eq(&self, o: &Self) -> bool {
        Arc::ptr_eq(self.store, o.store) && (self.first, self.size) == (o.first, o.size)
    }
}

impl Eq for StoredData<'_> {}

impl core::fmt::Debug for StoredData<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "StoredData {{ first: {}, size: {} }}",
            self.first, self.size
        )
    }
}

/// The path without leading slashes and `./`; None for the directory itself.
/// EINVAL for a `..` component (an archive must not escape its directory).
fn clean(path: &[u8]) -> VfsResult<Option<Vec<u8>>> {
    let mut out = Vec::new();
    for comp in path
        .split(|&b| b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
    {
        if comp == b".." {
            return Err(Errno::EINVAL);
        }
        if !out.is_empty() {
            out.push(b'/');
        }
        out.extend_from_slice(comp);
    }
    Ok(if out.is_empty() { None } else { Some(out) })
}

/// Creates every directory on the way to `path` (relative to `dir`).
fn make_parents(vfs: &Vfs, dir: &InodeRef, path: &[u8]) -> VfsResult<()> {
    for (i, &b) in path.iter().enumerate() {
        if b == b'/' {
            match vfs.mkdir(dir, &path[..i], 0o755, Cred::ROOT) {
                Ok(_) | Err(Errno::EEXIST) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

/// Creates one entry under `dir`.
pub fn add_entry(vfs: &Vfs, dir: &InodeRef, e: &ArchiveEntry<'_>) -> VfsResult<()> {
    let kind = FileType::from_mode(e.mode).ok_or(Errno::EINVAL)?;
    let Some(path) = clean(e.path)? else {
        // The archive's "." entry: the directory's own attributes.
        return set_attrs(dir, e);
    };
    make_parents(vfs, dir, &path)?;
    let existing = vfs.resolve(dir, &path, false).ok();
    if let Some(old) = &existing {
        match (old.file_type(), kind) {
            (FileType::Directory, FileType::Directory) => return set_attrs(old, e),
            (FileType::Directory, _) => return Err(Errno::EISDIR),
            (_, FileType::Regular) if old.file_type() == FileType::Regular => {}
            _ => vfs.unlink(dir, &path)?,
        }
    }
    let perm = e.mode & S_IALLUGO;
    let node = match kind {
        FileType::Directory => vfs.mkdir(dir, &path, perm, Cred::ROOT)?,
        FileType::Regular => {
            let f = vfs.open(dir, &path, O_CREAT | O_WRONLY | O_TRUNC, perm, Cred::ROOT)?;
            if let Some(s) = &e.stored {
                if !f.back_pages(s.store, s.first, s.size)? {
                    return Err(Errno::EOPNOTSUPP);
                }
                return set_attrs(&f, e);
            }
            let borrowed = match e.data_page {
                Some(first) => f.borrow_pages(e.data, first)?,
                None => false,
            };
            let mut off = if borrowed { e.data.len() } else { 0 };
            while off < e.data.len() {
                off += Vfs::write_at(&f, off as u64, &e.data[off..])?;
            }
            f
        }
        FileType::Symlink => vfs.symlink(e.data, dir, &path, Cred::ROOT)?,
        _ => vfs.mknod(dir, &path, e.mode, e.rdev, Cred::ROOT)?,
    };
    set_attrs(&node, e)
}

fn set_attrs(node: &InodeRef, e: &ArchiveEntry<'_>) -> VfsResult<()> {
    let t = TimeUpdate::Set(Timespec {
        sec: e.mtime,
        nsec: 0,
    });
    let mode = if node.file_type() == FileType::Symlink {
        None
    } else {
        Some(e.mode & S_IALLUGO)
    };
    node.set_attr(&SetAttr {
        uid: Some(e.uid),
        gid: Some(e.gid),
        ..SetAttr::NONE
    })?;
    node.set_attr(&SetAttr {
        mode,
        atime: t,
        mtime: t,
        ..SetAttr::NONE
    })
}

/// Creates all `entries` under `dir` (usually [`Vfs::root`]); returns how many.
pub fn populate<'a>(
    vfs: &Vfs,
    dir: &InodeRef,
    entries: impl IntoIterator<Item = ArchiveEntry<'a>>,
) -> VfsResult<usize> {
    let mut n = 0;
    for e in entries {
        add_entry(vfs, dir, &e)?;
        n += 1;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleaning() {
        assert_eq!(clean(b"./a//b/").unwrap(), Some(b"a/b".to_vec()));
        assert_eq!(clean(b"/etc/x").unwrap(), Some(b"etc/x".to_vec()));
        assert_eq!(clean(b".").unwrap(), None);
        assert_eq!(clean(b"a/../b").unwrap_err(), Errno::EINVAL);
    }
}
