//! Disks mounted from the config's `blk` blocks (`rumprun -b image,/mnt`): find the
//! device, detect its file system from the superblock (fstype `blk`) or take the one
//! named, create the mount point, mount. At exit every disk is synced and flushed, so
//! what the program wrote is on the disk ("nothing lost").

use crate::drivers::blockdev;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use rumprun_config::Blk;
use rumprun_vfs::{BlockDevice, Cred, FileSystem, SECTOR_SIZE};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Ext2,
    Iso9660,
}

/// What the superblock says: ext2's magic 0xEF53 at byte 1080, ISO 9660's "CD001"
/// at byte 32769.
fn detect(dev: &dyn BlockDevice) -> Option<Kind> {
    let mut sb = vec![0u8; 2 * SECTOR_SIZE];
    if dev.sectors() >= 4 && dev.read(2, &mut sb).is_ok() && sb[56..58] == [0x53, 0xef] {
        return Some(Kind::Ext2);
    }
    let mut vd = vec![0u8; SECTOR_SIZE];
    if dev.sectors() > 64 && dev.read(64, &mut vd).is_ok() && &vd[1..6] == b"CD001" {
        return Some(Kind::Iso9660);
    }
    None
}

// Not inlined into mount_all: there, building a file system's state beside the
// mount's own locals took a fifth vector register (xmm4), which kernel/check-fpu-use
// refuses (a syscall saves only xmm0-3).
#[inline(never)]
fn open_fs(
    kind: Kind,
    dev: Arc<dyn BlockDevice>,
    dev_id: u64,
) -> Result<Arc<dyn FileSystem>, String> {
    match kind {
        Kind::Iso9660 => rumprun_iso9660::Iso9660::mount(dev, dev_id)
            .map(|fs| fs as Arc<dyn FileSystem>)
            .map_err(|e| format!("ISO 9660: {}", e.name())),
        Kind::Ext2 => {
            // probe says which feature it cannot handle (ext3 journal, ext4 extents...).
            rumprun_ext2::Ext2::probe(&*dev).map_err(|why| format!("ext2: {why}"))?;
            let fs = rumprun_ext2::Ext2::mount(dev, dev_id, Arc::new(super::now))
                .map_err(|e| format!("ext2: {}", e.name()))?;
            EXT2.lock().push(fs.clone());
            Ok(fs as Arc<dyn FileSystem>)
        }
    }
}

/// Mounts every `blk` block that has a mount point.
pub fn mount_all(blks: &[Blk]) -> Result<(), String> {
    let vfs = super::vfs();
    for b in blks {
        let dev = blockdev::by_path(&b.path).ok_or_else(|| {
            format!(
                "blk {}: no such disk (rumprun -b attaches disks: the first is /dev/vda{})",
                b.path,
                crate::drivers::missing_device_hint()
            )
        })?;
        let Some(mp) = &b.mountpoint else { continue };
        let kind = match b.fstype.as_deref().unwrap_or("blk") {
            "blk" => detect(&*dev).ok_or_else(|| {
                format!("blk {}: unknown file system (not ext2 or ISO 9660)", b.path)
            })?,
            "ext2" | "ext2fs" => Kind::Ext2,
            "iso9660" | "cd9660" => Kind::Iso9660,
            other => {
                return Err(format!(
                    "blk {}: unknown fstype \"{other}\" (blk, ext2, iso9660)",
                    b.path
                ))
            }
        };
        let fs =
            open_fs(kind, dev, vfs.alloc_dev()).map_err(|why| format!("blk {}: {why}", b.path))?;
        let root = vfs.root();
        let mut path = String::new();
        for part in mp.split('/').filter(|p| !p.is_empty()) {
            path.push('/');
            path.push_str(part);
            let _ = vfs.mkdir(&root, path.as_bytes(), 0o755, Cred::ROOT);
        }
        vfs.mount(&root, mp.as_bytes(), fs)
            .map_err(|e| format!("blk {}: cannot mount on {mp}: {}", b.path, e.name()))?;
    }
    Ok(())
}

/// Mounted ext2 file systems (they cache blocks and must be synced).
static EXT2: spin::Mutex<alloc::vec::Vec<Arc<rumprun_ext2::Ext2>>> =
    spin::Mutex::new(alloc::vec::Vec::new());

/// Writes every mounted file system's dirty blocks back and flushes every disk:
/// fsync, sync and the program's end ("nothing lost"). One fsync syncs everything.
pub fn sync_all() -> Result<(), rumprun_vfs::Errno> {
    let mut result = Ok(());
    // Not under the list's lock: syncing sleeps in disk I/O while other threads run.
    let mounted = EXT2.lock().clone();
    for fs in mounted.iter() {
        if let Err(e) = fs.sync() {
            result = Err(e);
        }
    }
    for disk in blockdev::all() {
        if let Err(e) = disk.flush() {
            result = Err(e);
        }
    }
    result
}
