//! The config drive: where the runtime config comes from when the kernel gets none on
//! its command line (`rumprun image` without -e/-N/-b/args), so one disk image serves
//! many instances. Clouds attach a small disk holding each instance's data: an ISO 9660
//! or vfat (FAT12/16/32, read with `rumprun_fat`) volume labelled `cidata`
//! (cloud-init's NoCloud) or `config-2` (OpenStack). From the first such disk, in
//! `/dev/vdX` order, we read `rumprun/config.json` (the same JSON as the command-line
//! config), else the user-data (`user-data` for NoCloud, `openstack/latest/user_data`
//! for OpenStack) when it is a JSON object.

use crate::drivers::blockdev;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use rumprun_vfs::{BlockDevice, FileSystem, InodeRef, SECTOR_SIZE};

/// The volume labels of config drives.
pub const LABELS: [&str; 2] = ["cidata", "config-2"];
/// Our own file on a config drive.
pub const CONFIG_FILE: &str = "rumprun/config.json";
/// The user-data files (NoCloud, OpenStack), used when they hold a JSON object.
pub const USER_DATA: [&str; 2] = ["user-data", "openstack/latest/user_data"];
/// A config bigger than this is refused (it is read into memory at boot).
const MAX_CONFIG: u64 = 1 << 20;

/// A config found on a config drive: where, and its text.
pub struct Found {
    /// For the boot log and errors: `/dev/vdb (ISO 9660 cidata): rumprun/config.json`.
    pub source: String,
    pub text: String,
}

/// The ISO 9660 volume label of `dev` (the primary volume descriptor's volume
/// identifier at byte 32808, trailing spaces dropped), if it is an ISO 9660 disk.
fn iso_label(dev: &dyn BlockDevice) -> Option<String> {
    let mut vd = vec![0u8; SECTOR_SIZE];
    if dev.sectors() <= 64 || dev.read(64, &mut vd).is_err() || &vd[1..6] != b"CD001" {
        return None;
    }
    let id = &vd[40..72];
    Some(
        String::from_utf8_lossy(id)
            .trim_end_matches([' ', '\0'])
            .into(),
    )
}

/// A config drive's files.
enum Drive {
    Iso(InodeRef),
    Fat(rumprun_fat::Fat),
}

impl Drive {
    /// The file at `path`: `Ok(None)` if there is none.
    fn read(&self, path: &str) -> Result<Option<String>, String> {
        match self {
            Drive::Iso(root) => lookup(root, path).map(|n| read_text(&n)).transpose(),
            Drive::Fat(fat) => match fat.read_file(path, MAX_CONFIG) {
                Ok(None) => Ok(None),
                Ok(Some(bytes)) => String::from_utf8(bytes)
                    .map(Some)
                    .map_err(|_| String::from("not UTF-8 text")),
                Err(why) => Err(String::from(why)),
            },
        }
    }
}

/// The config drive on `dev` (`name` for messages): `Ok(None)` if `dev` is no ISO
/// 9660 or FAT volume with one of [`LABELS`]; the drive's description and files.
fn open_drive(name: &str, dev: &Arc<dyn BlockDevice>) -> Result<Option<(String, Drive)>, String> {
    let is_ours = |label: &str| LABELS.iter().any(|l| l.eq_ignore_ascii_case(label));
    if let Some(label) = iso_label(&**dev) {
        if !is_ours(&label) {
            return Ok(None);
        }
        let drive = format!("{name} (ISO 9660 {label})");
        let fs = rumprun_iso9660::Iso9660::mount(dev.clone(), 0)
            .map_err(|e| format!("{drive}: cannot read the ISO 9660 volume: {}", e.name()))?;
        return Ok(Some((drive, Drive::Iso(fs.root()))));
    }
    let Ok(fat) = rumprun_fat::Fat::open(dev.clone()) else {
        return Ok(None);
    };
    let label = fat
        .label()
        .map_err(|why| format!("{name} (vfat): cannot read the root directory: {why}"))?;
    if !is_ours(&label) {
        return Ok(None);
    }
    Ok(Some((format!("{name} (vfat {label})"), Drive::Fat(fat))))
}

/// Follows the `/`-separated `path` from `root`.
fn lookup(root: &InodeRef, path: &str) -> Option<InodeRef> {
    let mut node = root.clone();
    for part in path.split('/') {
        node = node.lookup(part.as_bytes()).ok()?;
    }
    Some(node)
}

/// The whole regular file `node`, as text.
fn read_text(node: &InodeRef) -> Result<String, String> {
    let size = node.stat().size;
    if size > MAX_CONFIG {
        return Err(format!("{size} bytes, more than {MAX_CONFIG}"));
    }
    let mut buf = vec![0u8; size as usize];
    let mut done = 0;
    while done < buf.len() {
        match node.read_at(done as u64, &mut buf[done..]) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) => return Err(format!("read error {}", e.name())),
        }
    }
    buf.truncate(done);
    String::from_utf8(buf).map_err(|_| String::from("not UTF-8 text"))
}

/// Looks at every disk for a config drive. `Ok(None)`: no config drive, or one with
/// neither file; `Err`: a config drive whose config cannot be read (one line).
/// `skipped` collects what was looked at and passed over, for the verbose log.
pub fn find(skipped: &mut Vec<String>) -> Result<Option<Found>, String> {
    for (i, dev) in blockdev::all().into_iter().enumerate() {
        let name = format!("/dev/vd{}", (b'a' + i as u8) as char);
        let dev = dev as Arc<dyn BlockDevice>;
        let Some((drive, files)) = open_drive(&name, &dev)? else {
            continue;
        };
        if let Some(text) = files
            .read(CONFIG_FILE)
            .map_err(|why| format!("{drive}: {CONFIG_FILE}: {why}"))?
        {
            return Ok(Some(Found {
                source: format!("{drive}: {CONFIG_FILE}"),
                text,
            }));
        }
        for file in USER_DATA {
            let Some(text) = files
                .read(file)
                .map_err(|why| format!("{drive}: {file}: {why}"))?
            else {
                continue;
            };
            if text.trim_start().starts_with('{') {
                return Ok(Some(Found {
                    source: format!("{drive}: {file}"),
                    text,
                }));
            }
            skipped.push(format!("{drive}: {file} is not a JSON config"));
        }
        skipped.push(format!("{drive}: no {CONFIG_FILE} and no JSON user-data"));
    }
    Ok(None)
}
