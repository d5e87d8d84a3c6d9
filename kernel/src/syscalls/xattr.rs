//! Extended attributes (getxattr, setxattr, listxattr, removexattr and their l*/f*
//! forms): the user-memory side (buffer sizes: 0 asks for the size, ERANGE when too
//! small) over `rumprun_vfs::xattr`, which keeps them for file systems that store them
//! (tmpfs: user.*, trusted.*, security.*, as Linux's tmpfs since 6.6). On the others
//! (ext2, ISO 9660, synthetic files, sockets and pipes) the answers are those of a Linux
//! file that has none: get and remove give ENODATA in the namespaces the file system
//! would have (security.*, trusted.*, system.posix_acl_*; user.* on ext2), EOPNOTSUPP
//! elsewhere; lists are empty; set gives EOPNOTSUPP (a program's attribute would be
//! lost, so none is pretended to be kept).

use crate::errno::*;
use crate::fd::{self, vfs_file::VfsFile};
use crate::mm::user;
use rumprun_vfs::xattr::{self as vx, XATTR_LIST_MAX, XATTR_NAME_MAX, XATTR_SIZE_MAX};
use rumprun_vfs::{InodeRef, XattrCaller};

const XATTR_CREATE: u64 = vx::XATTR_CREATE as u64;
const XATTR_REPLACE: u64 = vx::XATTR_REPLACE as u64;
const CAP_SYS_ADMIN: u64 = 21;

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

fn caller() -> XattrCaller {
    let effective = crate::process::current().creds.lock().effective;
    XattrCaller {
        sys_admin: effective & (1 << CAP_SYS_ADMIN) != 0,
    }
}

/// Copies `data` out to a user buffer of `size` bytes the Linux way: with size 0 only
/// the length is returned, a smaller buffer is ERANGE (sizes past `max` count as `max`).
fn copy_value(data: &[u8], ptr: u64, size: u64, max: usize) -> SysResult {
    if size == 0 {
        return Ok(data.len() as u64);
    }
    if data.len() > (size as usize).min(max) {
        return Err(ERANGE);
    }
    user::copy_out(ptr, data)?;
    Ok(data.len() as u64)
}

/// getxattr/lgetxattr/fgetxattr.
pub fn get(t: Target, name_ptr: u64, value: u64, size: u64) -> SysResult {
    let node = inode(t)?;
    let n = name(name_ptr)?;
    if let Some(node) = &node {
        if let Some((store, _)) = node.xattrs() {
            let v = vx::get(&**node, store, &n, caller()).map_err(crate::fs::err)?;
            return copy_value(&v, value, size, XATTR_SIZE_MAX);
        }
    }
    Err(missing(&node, &n))
}

/// setxattr/lsetxattr/fsetxattr.
pub fn set(t: Target, name_ptr: u64, value: u64, size: u64, flags: u64) -> SysResult {
    let node = inode(t)?;
    if flags & !(XATTR_CREATE | XATTR_REPLACE) != 0 {
        return Err(EINVAL);
    }
    let n = name(name_ptr)?;
    if size > XATTR_SIZE_MAX as u64 {
        return Err(E2BIG);
    }
    if let Some(node) = &node {
        if let Some((store, budget)) = node.xattrs() {
            let v = if size == 0 {
                alloc::vec::Vec::new()
            } else {
                user::read_bytes(value, size as usize)?
            };
            vx::set(&**node, store, &n, &v, flags as u32, caller(), budget)
                .map_err(crate::fs::err)?;
            return Ok(0);
        }
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

/// listxattr/llistxattr/flistxattr: the NUL-terminated names (empty where the file
/// system keeps none).
pub fn list(t: Target, list: u64, size: u64) -> SysResult {
    let node = inode(t)?;
    if let Some(node) = &node {
        if let Some((store, _)) = node.xattrs() {
            let names = vx::list(store, caller()).map_err(crate::fs::err)?;
            return copy_value(&names, list, size, XATTR_LIST_MAX);
        }
    }
    Ok(0)
}

/// removexattr/lremovexattr/fremovexattr. Removing an ACL the file does not have
/// succeeds, as on Linux.
pub fn remove(t: Target, name_ptr: u64) -> SysResult {
    let node = inode(t)?;
    let n = name(name_ptr)?;
    if let Some(node) = &node {
        if let Some((store, budget)) = node.xattrs() {
            vx::remove(&**node, store, &n, caller(), budget).map_err(crate::fs::err)?;
            return Ok(0);
        }
    }
    if node.is_some() && (n == b"system.posix_acl_access" || n == b"system.posix_acl_default") {
        return Ok(0);
    }
    Err(missing(&node, &n))
}
