//! Extended attributes: the in-memory store a file system keeps per inode ([`Xattrs`],
//! what Linux's tmpfs has as `simple_xattrs`) and the Linux rules around it that do not
//! depend on the file system ([`get`], [`set`], [`list`], [`remove`]): the name checks
//! (ERANGE for an empty or over-long name, EINVAL for a bare namespace prefix,
//! EOPNOTSUPP for an unknown namespace), `XATTR_CREATE`/`XATTR_REPLACE` (EEXIST,
//! ENODATA), the size limits (E2BIG for a value over 64 KiB, ERANGE for a buffer too
//! small), `user.*` only on regular files and directories (EPERM to set, ENODATA to
//! get on anything else), and `trusted.*` only for CAP_SYS_ADMIN. POSIX ACLs are not
//! kept (setting one is EOPNOTSUPP): a file has none (ENODATA), and removing one it does
//! not have succeeds, as on Linux.
//!
//! A file system that keeps attributes returns its store from
//! [`crate::Inode::xattrs`]; one that does not (the default) answers as a Linux file
//! system without them (the kernel decides the errno).

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use spin::Mutex;

use crate::errno::{Errno, VfsResult};
use crate::inode::{Inode, SetAttr};
use crate::stat::FileType;

/// Longest attribute name (bytes, with its namespace prefix).
pub const XATTR_NAME_MAX: usize = 255;
/// Largest attribute value.
pub const XATTR_SIZE_MAX: usize = 65536;
/// Longest list `listxattr` returns.
pub const XATTR_LIST_MAX: usize = 65536;
/// `setxattr` flag: fail with EEXIST if the attribute exists.
pub const XATTR_CREATE: u32 = 1;
/// `setxattr` flag: fail with ENODATA if the attribute does not exist.
pub const XATTR_REPLACE: u32 = 2;

/// What the space of one attribute costs against a file system's limit (Linux's
/// `simple_xattr_space`: the node, the name with its NUL, the value).
pub fn space(name: &[u8], value_len: usize) -> u64 {
    40 + name.len() as u64 + 1 + value_len as u64
}

/// The namespaces of attribute names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Namespace {
    /// `user.*`: any program, on regular files and directories.
    User,
    /// `trusted.*`: CAP_SYS_ADMIN only.
    Trusted,
    /// `security.*`: security modules (none here; stored as given).
    Security,
    /// `system.posix_acl_access` / `system.posix_acl_default`.
    PosixAcl,
}

/// The namespace of `name`, after the checks every file system's call makes: ERANGE
/// for an empty or too long name, EOPNOTSUPP for an unknown prefix, EINVAL for a bare
/// prefix (`"user."`).
pub fn namespace(name: &[u8]) -> VfsResult<Namespace> {
    if name.is_empty() || name.len() > XATTR_NAME_MAX {
        return Err(Errno::ERANGE);
    }
    if name == b"system.posix_acl_access" || name == b"system.posix_acl_default" {
        return Ok(Namespace::PosixAcl);
    }
    for (prefix, ns) in [
        (&b"user."[..], Namespace::User),
        (b"trusted.", Namespace::Trusted),
        (b"security.", Namespace::Security),
    ] {
        if let Some(rest) = name.strip_prefix(prefix) {
            return if rest.is_empty() {
                Err(Errno::EINVAL)
            } else {
                Ok(ns)
            };
        }
    }
    Err(Errno::EOPNOTSUPP)
}

/// The attributes of one inode, in name order.
#[derive(Default)]
pub struct Xattrs {
    map: Mutex<BTreeMap<Vec<u8>, Vec<u8>>>,
}

/// A file system's budget for attribute space ([`space`]): ENOSPC when it would run
/// out. Linux's tmpfs gives 1 KiB per inode of its inode limit, no limit without one.
pub trait XattrBudget {
    /// Takes `n` bytes (ENOSPC if not available).
    fn reserve(&self, n: u64) -> VfsResult<()>;
    /// Gives `n` bytes back.
    fn release(&self, n: u64);
}

/// No limit.
pub struct Unlimited;

impl XattrBudget for Unlimited {
    fn reserve(&self, _n: u64) -> VfsResult<()> {
        Ok(())
    }
    fn release(&self, _n: u64) {}
}

impl Xattrs {
    /// An empty store.
    pub fn new() -> Xattrs {
        Xattrs::default()
    }

    /// The value of `name` (ENODATA if absent).
    pub fn get(&self, name: &[u8]) -> VfsResult<Vec<u8>> {
        self.map.lock().get(name).cloned().ok_or(Errno::ENODATA)
    }

    /// Sets `name` to `value` under `flags` ([`XATTR_CREATE`], [`XATTR_REPLACE`]),
    /// charging the change in space to `budget`.
    pub fn set(
        &self,
        name: &[u8],
        value: &[u8],
        flags: u32,
        budget: &dyn XattrBudget,
    ) -> VfsResult<()> {
        let mut map = self.map.lock();
        let old = map.get(name).map(|v| space(name, v.len()));
        match old {
            Some(_) if flags & XATTR_CREATE != 0 => return Err(Errno::EEXIST),
            None if flags & XATTR_REPLACE != 0 => return Err(Errno::ENODATA),
            _ => {}
        }
        budget.reserve(space(name, value.len()))?;
        if let Some(old) = old {
            budget.release(old);
        }
        map.insert(name.to_vec(), value.to_vec());
        Ok(())
    }

    /// Removes `name` (ENODATA if absent).
    pub fn remove(&self, name: &[u8], budget: &dyn XattrBudget) -> VfsResult<()> {
        let v = self.map.lock().remove(name).ok_or(Errno::ENODATA)?;
        budget.release(space(name, v.len()));
        Ok(())
    }

    /// The names, each followed by a NUL, leaving out `trusted.*` unless `trusted`.
    pub fn names(&self, trusted: bool) -> Vec<u8> {
        let mut out = Vec::new();
        for name in self.map.lock().keys() {
            if trusted || !name.starts_with(b"trusted.") {
                out.extend_from_slice(name);
                out.push(0);
            }
        }
        out
    }

    /// The space all attributes take ([`space`]), to give back when the inode goes.
    pub fn total_space(&self) -> u64 {
        self.map.lock().iter().map(|(n, v)| space(n, v.len())).sum()
    }
}

/// Who asks: whether the caller has CAP_SYS_ADMIN (for `trusted.*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct XattrCaller {
    /// CAP_SYS_ADMIN in the effective set.
    pub sys_admin: bool,
}

/// The namespace and permission checks (Linux's `xattr_permission`) for reading
/// (`write` false) or changing `name` on `node`.
fn permission(
    node: &dyn Inode,
    name: &[u8],
    write: bool,
    who: XattrCaller,
) -> VfsResult<Namespace> {
    let deny = if write { Errno::EPERM } else { Errno::ENODATA };
    match namespace(name)? {
        Namespace::Trusted if !who.sys_admin => Err(deny),
        Namespace::User if !matches!(node.file_type(), FileType::Regular | FileType::Directory) => {
            Err(deny)
        }
        ns => Ok(ns),
    }
}

/// getxattr on an inode whose file system keeps attributes (`store`).
pub fn get(node: &dyn Inode, store: &Xattrs, name: &[u8], who: XattrCaller) -> VfsResult<Vec<u8>> {
    if permission(node, name, false, who)? == Namespace::PosixAcl {
        return Err(Errno::ENODATA);
    }
    store.get(name)
}

/// setxattr: checks, then stores. A value over [`XATTR_SIZE_MAX`] is E2BIG; unknown
/// flags EINVAL; read-only file systems EROFS.
pub fn set(
    node: &dyn Inode,
    store: &Xattrs,
    name: &[u8],
    value: &[u8],
    flags: u32,
    who: XattrCaller,
    budget: &dyn XattrBudget,
) -> VfsResult<()> {
    if flags & !(XATTR_CREATE | XATTR_REPLACE) != 0 {
        return Err(Errno::EINVAL);
    }
    namespace(name)?;
    if value.len() > XATTR_SIZE_MAX {
        return Err(Errno::E2BIG);
    }
    if node.is_read_only() {
        return Err(Errno::EROFS);
    }
    if permission(node, name, true, who)? == Namespace::PosixAcl {
        return Err(Errno::EOPNOTSUPP);
    }
    store.set(name, value, flags, budget)?;
    // A changed attribute changes the inode: ctime.
    let _ = node.set_attr(&SetAttr::NONE);
    Ok(())
}

/// removexattr.
pub fn remove(
    node: &dyn Inode,
    store: &Xattrs,
    name: &[u8],
    who: XattrCaller,
    budget: &dyn XattrBudget,
) -> VfsResult<()> {
    namespace(name)?;
    if node.is_read_only() {
        return Err(Errno::EROFS);
    }
    if permission(node, name, true, who)? == Namespace::PosixAcl {
        return Ok(());
    }
    store.remove(name, budget)?;
    let _ = node.set_attr(&SetAttr::NONE);
    Ok(())
}

/// listxattr: the NUL-terminated names (E2BIG past [`XATTR_LIST_MAX`]).
pub fn list(store: &Xattrs, who: XattrCaller) -> VfsResult<Vec<u8>> {
    let names = store.names(who.sys_admin);
    if names.len() > XATTR_LIST_MAX {
        return Err(Errno::E2BIG);
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ZeroClock;
    use crate::inode::{Cred, NewNode};
    use crate::tmpfs::Tmpfs;
    use crate::FileSystem;
    use alloc::sync::Arc;

    const ROOT: XattrCaller = XattrCaller { sys_admin: true };
    const USER: XattrCaller = XattrCaller { sys_admin: false };

    #[test]
    fn names() {
        assert_eq!(namespace(b"user.a"), Ok(Namespace::User));
        assert_eq!(namespace(b"user."), Err(Errno::EINVAL));
        assert_eq!(namespace(b""), Err(Errno::ERANGE));
        assert_eq!(namespace(&[b'u'; 256]), Err(Errno::ERANGE));
        assert_eq!(namespace(b"foo.bar"), Err(Errno::EOPNOTSUPP));
        assert_eq!(namespace(b"system.foo"), Err(Errno::EOPNOTSUPP));
        assert_eq!(namespace(b"trusted.x"), Ok(Namespace::Trusted));
        assert_eq!(
            namespace(b"system.posix_acl_access"),
            Ok(Namespace::PosixAcl)
        );
    }

    #[test]
    fn store_rules() {
        let fs = Tmpfs::new(1, Arc::new(ZeroClock));
        let root = fs.root();
        let f = root
            .create(b"f", NewNode::Regular, 0o644, Cred::ROOT)
            .unwrap();
        let s = Xattrs::new();
        let b = Unlimited;
        assert_eq!(get(&*f, &s, b"user.t", ROOT), Err(Errno::ENODATA));
        set(&*f, &s, b"user.t", b"", 0, ROOT, &b).unwrap();
        assert_eq!(get(&*f, &s, b"user.t", ROOT).unwrap(), b"");
        set(&*f, &s, b"user.t", b"hello", XATTR_REPLACE, ROOT, &b).unwrap();
        assert_eq!(get(&*f, &s, b"user.t", ROOT).unwrap(), b"hello");
        assert_eq!(
            set(&*f, &s, b"user.t", b"x", XATTR_CREATE, ROOT, &b),
            Err(Errno::EEXIST)
        );
        assert_eq!(
            set(&*f, &s, b"user.u", b"x", XATTR_REPLACE, ROOT, &b),
            Err(Errno::ENODATA)
        );
        assert_eq!(
            set(&*f, &s, b"user.u", b"x", 4, ROOT, &b),
            Err(Errno::EINVAL)
        );
        let big = alloc::vec![0u8; XATTR_SIZE_MAX + 1];
        assert_eq!(
            set(&*f, &s, b"user.u", &big, 0, ROOT, &b),
            Err(Errno::E2BIG)
        );
        set(&*f, &s, b"trusted.k", b"1", 0, ROOT, &b).unwrap();
        assert_eq!(list(&s, ROOT).unwrap(), b"trusted.k\0user.t\0");
        assert_eq!(list(&s, USER).unwrap(), b"user.t\0");
        assert_eq!(get(&*f, &s, b"trusted.k", USER), Err(Errno::ENODATA));
        assert_eq!(
            set(&*f, &s, b"trusted.k", b"2", 0, USER, &b),
            Err(Errno::EPERM)
        );
        remove(&*f, &s, b"user.t", ROOT, &b).unwrap();
        assert_eq!(remove(&*f, &s, b"user.t", ROOT, &b), Err(Errno::ENODATA));
        assert_eq!(list(&s, ROOT).unwrap(), b"trusted.k\0");
    }

    #[test]
    fn user_only_on_files_and_dirs() {
        let fs = Tmpfs::new(1, Arc::new(ZeroClock));
        let root = fs.root();
        let l = root
            .create(b"l", NewNode::Symlink(b"x"), 0o777, Cred::ROOT)
            .unwrap();
        let s = Xattrs::new();
        let b = Unlimited;
        assert_eq!(
            set(&*l, &s, b"user.a", b"1", 0, ROOT, &b),
            Err(Errno::EPERM)
        );
        assert_eq!(get(&*l, &s, b"user.a", ROOT), Err(Errno::ENODATA));
        set(&*l, &s, b"trusted.a", b"1", 0, ROOT, &b).unwrap();
        set(&*root, &s, b"user.d", b"1", 0, ROOT, &b).unwrap();
        let acl = b"system.posix_acl_access";
        assert_eq!(get(&*root, &s, acl, ROOT), Err(Errno::ENODATA));
        assert_eq!(
            set(&*root, &s, acl, b"", 0, ROOT, &b),
            Err(Errno::EOPNOTSUPP)
        );
        assert_eq!(remove(&*root, &s, acl, ROOT, &b), Ok(()));
    }

    #[test]
    fn tmpfs_keeps_them_within_its_budget() {
        use crate::tmpfs::TmpfsOptions;
        let opts = TmpfsOptions {
            max_inodes: Some(4),
            ..TmpfsOptions::default()
        };
        let fs = Tmpfs::with_options(1, Arc::new(ZeroClock), opts);
        let f = fs
            .root()
            .create(b"f", NewNode::Regular, 0o644, Cred::ROOT)
            .unwrap();
        let (s, b) = f.xattrs().unwrap();
        set(&*f, s, b"user.a", &[1; 3000], 0, ROOT, b).unwrap();
        assert_eq!(
            set(&*f, s, b"user.b", &[1; 1200], 0, ROOT, b),
            Err(Errno::ENOSPC)
        );
        // Replacing takes the new value's space before giving the old one's back
        // (as Linux does).
        set(&*f, s, b"user.a", &[2; 1000], 0, ROOT, b).unwrap();
        set(&*f, s, b"user.a", &[3; 3000], 0, ROOT, b).unwrap();
        assert_eq!(get(&*f, s, b"user.a", ROOT).unwrap(), [3; 3000]);
        remove(&*f, s, b"user.a", ROOT, b).unwrap();
        set(&*f, s, b"user.b", &[1; 4000], 0, ROOT, b).unwrap();
        // Another inode sees the same store of its own, empty.
        let g = fs
            .root()
            .create(b"g", NewNode::Regular, 0o644, Cred::ROOT)
            .unwrap();
        assert_eq!(list(g.xattrs().unwrap().0, ROOT).unwrap(), b"");
    }
}
