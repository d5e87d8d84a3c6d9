//! The standard tree a program finds at boot: `/etc` (from [`crate::etc_files`], and
//! `/etc/mtab` linked to `/proc/self/mounts`), `/tmp` (1777), `/dev` with the usual
//! device nodes (ptmx included; the kernel makes the pseudo-terminal slaves in
//! `/dev/pts`) and the `stdin`/`stdout`/`stderr` and `fd` links into `/proc/self`, and
//! the empty directories `/proc` (where the kernel
//! mounts its procfs), `/bin`, `/root`, `/home`.

use crate::errno::{Errno, VfsResult};
use crate::etc_files;
use crate::flags::{O_CREAT, O_TRUNC, O_WRONLY};
use crate::inode::Cred;
use crate::stat::{makedev, S_IFCHR};
use crate::vfs::Vfs;

/// The device nodes created in `/dev`: (name, major, minor, permissions).
pub const DEVICES: &[(&str, u32, u32, u32)] = &[
    ("null", 1, 3, 0o666),
    ("zero", 1, 5, 0o666),
    ("full", 1, 7, 0o666),
    ("random", 1, 8, 0o666),
    ("urandom", 1, 9, 0o666),
    ("tty", 5, 0, 0o666),
    ("console", 5, 1, 0o600),
    ("ptmx", 5, 2, 0o666),
];

/// The symlinks created in `/dev`: (name, target).
pub const DEV_LINKS: &[(&str, &str)] = &[
    ("stdin", "/proc/self/fd/0"),
    ("stdout", "/proc/self/fd/1"),
    ("stderr", "/proc/self/fd/2"),
    ("fd", "/proc/self/fd"),
];

/// Directories: (path, permissions), parents first.
pub const DIRS: &[(&str, u32)] = &[
    ("/etc", 0o755),
    ("/tmp", 0o1777),
    ("/dev", 0o755),
    ("/dev/shm", 0o1777),
    ("/dev/pts", 0o755),
    ("/proc", 0o555),
    ("/bin", 0o755),
    ("/root", 0o700),
    ("/home", 0o755),
];

fn mkdir_or_chmod(vfs: &Vfs, path: &[u8], perm: u32) -> VfsResult<()> {
    let root = vfs.root();
    match vfs.mkdir(&root, path, perm, Cred::ROOT) {
        Ok(_) => Ok(()),
        Err(Errno::EEXIST) => vfs.chmod(&root, path, perm, true),
        Err(e) => Err(e),
    }
}

/// Writes `data` to `path` (created 0644 or truncated).
pub fn write_file(vfs: &Vfs, path: &[u8], data: &[u8]) -> VfsResult<()> {
    let f = vfs.open(
        &vfs.root(),
        path,
        O_CREAT | O_WRONLY | O_TRUNC,
        0o644,
        Cred::ROOT,
    )?;
    let mut off = 0;
    while off < data.len() {
        off += Vfs::write_at(&f, off as u64, &data[off..])?;
    }
    Ok(())
}

/// Creates the standard tree in `vfs` (idempotent: existing entries are kept, files
/// rewritten). `hostname` goes into `/etc/hostname` and `/etc/hosts` if not empty.
pub fn populate(vfs: &Vfs, hostname: &[u8]) -> VfsResult<()> {
    let root = vfs.root();
    Vfs::chmod_inode(&root, 0o755)?;
    for &(path, perm) in DIRS {
        mkdir_or_chmod(vfs, path.as_bytes(), perm)?;
    }
    let files: [(&str, &[u8]); 7] = [
        ("/etc/passwd", etc_files::PASSWD.as_bytes()),
        ("/etc/group", etc_files::GROUP.as_bytes()),
        ("/etc/hosts", &etc_files::hosts(hostname)),
        ("/etc/resolv.conf", etc_files::RESOLV_CONF.as_bytes()),
        ("/etc/nsswitch.conf", etc_files::NSSWITCH_CONF.as_bytes()),
        ("/etc/services", etc_files::SERVICES.as_bytes()),
        ("/etc/protocols", etc_files::PROTOCOLS.as_bytes()),
    ];
    for (path, data) in files {
        write_file(vfs, path.as_bytes(), data)?;
    }
    if !hostname.is_empty() {
        let mut h = hostname.to_vec();
        h.push(b'\n');
        write_file(vfs, b"/etc/hostname", &h)?;
    }
    // /etc/mtab is a link to the live mount table, as on current Linux systems (df).
    let etc = vfs.resolve(&root, b"/etc", true)?;
    match vfs.symlink(b"/proc/self/mounts", &etc, b"mtab", Cred::ROOT) {
        Ok(_) | Err(Errno::EEXIST) => {}
        Err(e) => return Err(e),
    }
    let dev = vfs.resolve(&root, b"/dev", true)?;
    for &(name, ma, mi, perm) in DEVICES {
        match vfs.mknod(
            &dev,
            name.as_bytes(),
            S_IFCHR | perm,
            makedev(ma, mi),
            Cred::ROOT,
        ) {
            Ok(_) | Err(Errno::EEXIST) => {}
            Err(e) => return Err(e),
        }
    }
    for &(name, target) in DEV_LINKS {
        match vfs.symlink(target.as_bytes(), &dev, name.as_bytes(), Cred::ROOT) {
            Ok(_) | Err(Errno::EEXIST) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
