//! The mount table: which file system's root covers which directory. [`crate::Vfs`]
//! consults it at every step of a path walk (crossing down into a mounted root, and
//! `..` from a mounted root up to the covered directory's parent).
//!
//! Directories are identified by their `(dev, ino)` key, so file systems must have
//! distinct `dev` numbers ([`crate::Vfs::alloc_dev`] hands out anonymous ones).
//! Mounts stack: mounting on a directory that already has something mounted covers the
//! topmost root.

use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::inode::{FileSystem, InodeRef};

/// One mount.
#[derive(Clone)]
pub struct Mount {
    /// The directory that is covered (in the parent file system).
    pub covered: InodeRef,
    /// The mounted file system.
    pub fs: Arc<dyn FileSystem>,
    /// Its root (cached `fs.root()`).
    pub root: InodeRef,
}

/// The keys of a mount's two directories, kept beside it: a path walk compares them at
/// every step, and an inode's key is a call through its trait object.
#[derive(Clone, Copy)]
struct Keys {
    covered: (u64, u64),
    root: (u64, u64),
}

/// All mounts, in mount order.
#[derive(Default)]
pub struct MountTable {
    mounts: Vec<Mount>,
    /// `keys[i]` are `mounts[i]`'s.
    keys: Vec<Keys>,
}

impl MountTable {
    /// An empty table.
    pub const fn new() -> MountTable {
        MountTable {
            mounts: Vec::new(),
            keys: Vec::new(),
        }
    }

    /// The root mounted directly on the directory with this key.
    pub fn mounted_on(&self, key: (u64, u64)) -> Option<InodeRef> {
        let i = self.keys.iter().rposition(|k| k.covered == key)?;
        Some(self.mounts[i].root.clone())
    }

    /// If `key` is a mounted root: the directory it covers.
    pub fn covered_by(&self, key: (u64, u64)) -> Option<InodeRef> {
        let i = self.keys.iter().position(|k| k.root == key)?;
        Some(self.mounts[i].covered.clone())
    }

    /// Whether something is mounted on the directory with this key.
    pub fn is_mount_point(&self, key: (u64, u64)) -> bool {
        self.keys.iter().any(|k| k.covered == key)
    }

    /// Whether a file system with this root key is mounted.
    pub fn is_mounted_root(&self, key: (u64, u64)) -> bool {
        self.keys.iter().any(|k| k.root == key)
    }

    /// Whether some mount covers a directory on the file system with device `dev`.
    pub fn has_mounts_on_dev(&self, dev: u64) -> bool {
        self.keys.iter().any(|k| k.covered.0 == dev)
    }

    /// Adds a mount.
    pub fn add(&mut self, mount: Mount) {
        self.keys.push(Keys {
            covered: mount.covered.key(),
            root: mount.root.key(),
        });
        self.mounts.push(mount);
    }

    /// Removes the mount whose root has this key; returns it.
    pub fn remove_root(&mut self, key: (u64, u64)) -> Option<Mount> {
        let i = self.keys.iter().position(|k| k.root == key)?;
        self.keys.remove(i);
        Some(self.mounts.remove(i))
    }

    /// All mounts in mount order.
    pub fn iter(&self) -> impl Iterator<Item = &Mount> {
        self.mounts.iter()
    }
}
