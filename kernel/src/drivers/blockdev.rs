//! Block devices found at boot, in discovery order: `/dev/vda`, `/dev/vdb`, ... (the
//! original's `/dev/ld0a`-style names are symlinks to them), each a
//! `rumprun_vfs::BlockDevice` that file systems mount. Opening a node gives a raw
//! device file: `fd::devices::BlockFile`.

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use rumprun_vfs::{makedev, BlockDevice, Cred, Vfs};
use spin::Mutex;

/// Linux gives virtio-blk a dynamic major; 254 is what it usually gets.
pub const MAJOR: u32 = 254;

static DISKS: Mutex<Vec<Arc<dyn BlockDevice>>> = Mutex::new(Vec::new());

/// The name of disk `index` (`vda`, ...).
pub fn name(index: usize) -> String {
    format!("vd{}", (b'a' + index as u8) as char)
}

/// Adds a disk; returns its name (`vda`, ...).
pub fn register(disk: Arc<dyn BlockDevice>) -> String {
    let mut d = DISKS.lock();
    d.push(disk);
    name(d.len() - 1)
}

/// Takes the disk `index` out of the list (the image's own disk, which is no disk of
/// the program's): the disks after it move up a name.
pub fn remove(index: usize) -> Option<Arc<dyn BlockDevice>> {
    let mut d = DISKS.lock();
    (index < d.len()).then(|| d.remove(index))
}

pub fn get(index: usize) -> Option<Arc<dyn BlockDevice>> {
    DISKS.lock().get(index).cloned()
}

/// The disk a `/dev` path names (`/dev/vdb`, or the original's `/dev/ld1a`).
pub fn by_path(path: &str) -> Option<Arc<dyn BlockDevice>> {
    let dev = path.strip_prefix("/dev/")?;
    let index = if let Some(letter) = dev.strip_prefix("vd") {
        (letter.len() == 1).then(|| letter.as_bytes()[0].wrapping_sub(b'a') as usize)?
    } else {
        dev.strip_prefix("ld")?.strip_suffix('a')?.parse().ok()?
    };
    get(index)
}

/// Every disk, for syncing at exit.
pub fn all() -> Vec<Arc<dyn BlockDevice>> {
    DISKS.lock().clone()
}

/// Creates the device nodes in /dev.
pub fn create_nodes(vfs: &Vfs) {
    let root = vfs.root();
    for i in 0..DISKS.lock().len() {
        let n = name(i);
        let path = format!("/dev/{n}");
        let _ = vfs.mknod(
            &root,
            path.as_bytes(),
            0o060660,
            makedev(MAJOR, 16 * i as u32),
            Cred::ROOT,
        );
        let alias = format!("/dev/ld{i}a");
        let _ = vfs.symlink(n.as_bytes(), &root, alias.as_bytes(), Cred::ROOT);
    }
}
