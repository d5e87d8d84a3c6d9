//! Extended attributes (getxattr, setxattr, listxattr, removexattr and their l*/f*
//! forms). No file system here stores them, so the answers are those of a Linux file
//! that has none: get and remove give ENODATA in the namespaces the file system would
//! have (security.*, trusted.*, system.posix_acl_*; user.* on ext2 but not on tmpfs,
//! as on Linux 6.1), EOPNOTSUPP elsewhere; lists are empty; set gives EOPNOTSUPP (a
//! program's attribute would be lost, so none is pretended to be kept). `ls -l` and
//! `cp -a` then work quietly, as on Linux.

use super::errno::*;
use super::user;
use crate::fd::{self, vfs_file::VfsFile};
use rumprun_vfs::InodeRef;

const XATTR_NAME_MAX: usize = 255;
const XATTR_SIZE_MAX: u64 = 65536;
const XATTR_CREATE: u64 = 1;
const XATTR_REPLACE: u64 = 2;
const ENODATA: Errno = Errno(61);
const E2BIG: Errno = Errno(7);

/// What the call applies to: a path (following a final symlink or not) or a descriptor.
#[derive(Clone, Copy)]
pub enum Target {
    Path(u64, bool),
    Fd(u64),
}

/// The inode of the target, or None for a descriptor that is not a file (a socket,
/// pipe, ...: those keep no attributes either).
fn inode(t: Target) -> Result<Option<InodeRef>, Errno> {
    match t {
        Target::Path(p, follow) => {
            let path = user::cstr_bytes(p)?;
            let vfs = crate::fs::vfs();
            vfs.resolve(&crate::fs::cwd(), &path, follow)
                .map(Some)
                .map_err(crate::fs::err)
        }
        Target::Fd(n) => Ok(fd::get(n)?
            .ops
            .as_any()
            .downcast_ref::<VfsFile>()
            .map(|v| v.inode.clone())),
    }
}

/// The attribute name: ERANGE when empty or longer than XATTR_NAME_MAX.
fn name(ptr: u64) -> Result<alloc::vec::Vec<u8>, Errno> {
    let n = user::cstr_bytes(ptr)?;
    if n.is_empty() || n.len() > XATTR_NAME_MAX {
        return Err(ERANGE);
    }
    Ok(n)
}

/// Whether the file's file system has the namespace of `name` (then a missing
/// attribute is ENODATA), as Linux's tmpfs and ext2 have.
fn has_namespace(node: &Option<InodeRef>, name: &[u8]) -> bool {
    const EXT2_SUPER_MAGIC: u64 = 0xEF53;
    let Some(node) = node else { return false };
    name.starts_with(b"security.")
        || name.starts_with(b"trusted.")
        || name == b"system.posix_acl_access"
        || name == b"system.posix_acl_default"
        || (name.starts_with(b"user.") && node.statfs().fs_type == EXT2_SUPER_MAGIC)
}

fn missing(node: &Option<InodeRef>, name: &[u8]) -> Errno {
    if has_namespace(node, name) {
        ENODATA
    } else {
        EOPNOTSUPP
    }
}

/// getxattr/lgetxattr/fgetxattr.
pub fn get(t: Target, name_ptr: u64, _value: u64, _size: u64) -> SysResult {
    let node = inode(t)?;
    Err(missing(&node, &name(name_ptr)?))
}

/// setxattr/lsetxattr/fsetxattr.
pub fn set(t: Target, name_ptr: u64, _value: u64, size: u64, flags: u64) -> SysResult {
    let node = inode(t)?;
    if flags & !(XATTR_CREATE | XATTR_REPLACE) != 0 {
        return Err(EINVAL);
    }
    let n = name(name_ptr)?;
    if size > XATTR_SIZE_MAX {
        return Err(E2BIG);
    }
    if flags & XATTR_REPLACE != 0 && has_namespace(&node, &n) {
        return Err(ENODATA); // nothing to replace
    }
    crate::console::log_once(
        "setxattr",
        "rumprun: setxattr: extended attributes are not stored; returning EOPNOTSUPP",
    );
    Err(EOPNOTSUPP)
}

/// listxattr/llistxattr/flistxattr: an empty list.
pub fn list(t: Target, _list: u64, _size: u64) -> SysResult {
    inode(t)?;
    Ok(0)
}

/// removexattr/lremovexattr/fremovexattr. Removing an ACL the file does not have
/// succeeds, as on Linux.
pub fn remove(t: Target, name_ptr: u64) -> SysResult {
    let node = inode(t)?;
    let n = name(name_ptr)?;
    if node.is_some() && (n == b"system.posix_acl_access" || n == b"system.posix_acl_default") {
        return Ok(0);
    }
    Err(missing(&node, &n))
}
