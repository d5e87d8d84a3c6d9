//! The file system tree the program sees: a tmpfs root holding the standard boot
//! tree (/etc, /tmp, /dev nodes, ...) and every file baked into the payload (programs
//! under /bin), with /proc mounted on top. Owns the VFS instance, the working
//! directory and the umask; `fd::vfs_file` turns opened inodes into files.

pub mod baked;
pub mod configdrive;
pub mod mounts;
pub mod pages;
pub mod procfs;
pub mod textbusy;

use crate::errno::*;
use alloc::sync::Arc;
use rumprun_vfs::{archive, boot_tree, Cred, InodeRef, Timespec, Tmpfs, TmpfsOptions, Vfs};
use spin::{Mutex, Once};

static VFS: Once<Vfs> = Once::new();

/// A program's place in the tree: its working directory and umask (each program has
/// its own, in its `process::Process`; the functions below act on the running one's).
pub struct ProcessFs {
    cwd: Mutex<Option<InodeRef>>,
    umask: Mutex<u32>,
}

impl ProcessFs {
    /// At the root (until `chdir`), umask 022.
    pub const fn new() -> Self {
        ProcessFs {
            cwd: Mutex::new(None),
            umask: Mutex::new(0o022),
        }
    }

    /// fork: the child starts in the same directory with the same umask.
    pub fn copy_from(&self, parent: &ProcessFs) {
        *self.cwd.lock() = parent.cwd.lock().clone();
        *self.umask.lock() = *parent.umask.lock();
    }
}

fn process_fs() -> &'static ProcessFs {
    &crate::process::current().fs
}

pub const CRED: Cred = Cred::ROOT;

/// File timestamps: the calibrated wall clock once it exists; until then (boot) the
/// RTC's seconds, which cost no calibration.
pub(crate) fn now() -> Timespec {
    Timespec::from_nanos(crate::time::realtime_ns_cheap())
}

/// What `init` is doing, for the report when memory runs out there: the baked file
/// being added, and the payload's files and bytes not yet added.
struct Loading {
    name: &'static str,
    files_left: u64,
    bytes_left: u64,
}

static LOADING: spin::Mutex<Option<Loading>> = spin::Mutex::new(None);

/// While the baked files go into the root: the file being added and about how many
/// MiB of RAM the boot needs (for the out-of-memory report; takes no lock that could
/// be held). The estimate: the RAM there is, plus what the files not yet added take
/// in the kernel (a copied last page and its inode each, and the page list of the
/// payload pages they borrow), plus a few MiB for the program to start.
pub fn loading_estimate() -> Option<(&'static str, u64)> {
    let guard = LOADING.try_lock()?;
    let l = guard.as_ref()?;
    const PER_FILE: u64 = 4096 + 1024;
    const START: u64 = 4 << 20;
    let more = l.files_left * PER_FILE + l.bytes_left / 128 + START;
    let need = crate::mm::frames::end() + more;
    Some((l.name, need.div_ceil(1 << 20)))
}

/// Memory ran out while the baked files went into the root: one line saying how
/// much the image needs, and the boot ends with 137 (out of memory).
pub fn out_of_memory_loading() -> ! {
    if let Some((name, need)) = loading_estimate() {
        kprintln!(
            "rumprun: out of memory loading /{}: the VM has {} MiB, the image needs about {} MiB; use rumprun -M {} or more",
            name,
            crate::mm::frames::end() >> 20,
            need,
            need
        );
    }
    crate::platform::exit(137)
}

/// /sys/devices/system/cpu/{online,possible,present}: "0-N" for the CPUs running
/// (glibc's get_nprocs and sysconf(_SC_NPROCESSORS_ONLN) read `online`).
pub fn write_cpu_list(cpus: u32) {
    let vfs = vfs();
    let root = vfs.root();
    for dir in [
        &b"/sys"[..],
        b"/sys/devices",
        b"/sys/devices/system",
        b"/sys/devices/system/cpu",
    ] {
        let _ = vfs.mkdir(&root, dir, 0o755, CRED);
    }
    let list = if cpus > 1 {
        alloc::format!("0-{}\n", cpus - 1)
    } else {
        alloc::string::String::from("0\n")
    };
    for name in ["online", "possible", "present"] {
        let path = alloc::format!("/sys/devices/system/cpu/{name}");
        let _ = rumprun_vfs::boot_tree::write_file(vfs, path.as_bytes(), list.as_bytes());
    }
}

/// Builds the tree: the boot tree, then the payload's entries (programs included).
/// Running out of memory here ends the boot with a report naming the file being
/// added (`loading_estimate`).
pub fn init(hostname: &str, payload: &'static [u8]) -> Result<(), &'static str> {
    // Disk file systems hold their lock across block I/O, during which other threads
    // run: a thread that finds the lock taken sleeps until its release.
    rumprun_vfs::install_wait_hooks(rumprun_vfs::WaitHooks {
        wait: |key| {
            // The deadline is a safety net: the release wakes the waiters.
            let deadline = crate::time::monotonic_ns() + 10_000_000;
            crate::sched::futex::wait_kernel(key, Some(deadline));
        },
        wake: |key| {
            crate::sched::futex::wake_kernel(key);
        },
    });
    // The root (and /tmp in it) holds at most the machine's RAM, which statfs reports
    // with the bytes in use (shutil.disk_usage, df), as Linux's tmpfs reports its size.
    pages::install();
    // The baked files' pages stay in the payload (borrowed, not copied): they count
    // as file data without taking RAM. Files with the same contents share payload
    // pages (a hard-link group), so their sizes, not the payload's, are what counts.
    // Files on the image's disk (`baked`) count with their sizes too.
    let (_, ram_frames) = crate::mm::frames::stats();
    let files: u64 = rumprun_image::cpio::entries_with_meta(payload)
        .filter_map(Result::ok)
        .map(|(e, m)| stored_size(&e, &m).unwrap_or(e.data.len() as u64))
        .map(|n| n.next_multiple_of(4096))
        .sum();
    let baked = crate::payload::physical_range()
        .map_or(0, |(s, e)| e - s)
        .max(files);
    let opts = TmpfsOptions {
        max_bytes: Some(ram_frames as u64 * 4096 + baked),
        ..TmpfsOptions::default()
    };
    let root_fs = Tmpfs::with_options(rumprun_vfs::makedev(0, 1), Arc::new(now), opts);
    let vfs = VFS.call_once(|| Vfs::new(root_fs));
    let (files_left, bytes_left) = rumprun_image::cpio::entries(payload)
        .filter_map(Result::ok)
        .fold((0, 0), |(n, b), e| (n + 1, b + e.data.len() as u64));
    *LOADING.lock() = Some(Loading {
        name: "",
        files_left,
        bytes_left,
    });
    // The boot tree (/etc, /dev, /tmp...) comes first: with the least memory the
    // launcher allows, it is what can run out (a kernel a few KiB larger moved the
    // point), which is the same out-of-memory boot as a baked file's.
    match boot_tree::populate(vfs, hostname.as_bytes()) {
        Ok(_) => {}
        Err(ENOSPC | ENOMEM) => out_of_memory_loading(),
        Err(_) => return Err("cannot create the boot file tree"),
    }
    let root = vfs.root();
    let store = baked::store();
    for entry in rumprun_image::cpio::entries_with_meta(payload) {
        let (e, meta) = entry.map_err(|_| "the baked payload is corrupt (bad cpio archive)")?;
        if let Some(l) = LOADING.lock().as_mut() {
            l.name = e.name;
            l.files_left = l.files_left.saturating_sub(1);
            l.bytes_left = l.bytes_left.saturating_sub(e.data.len() as u64);
        }
        if e.name.starts_with("rumprun/") {
            continue; // the kernel's own data (its symbols), not the program's files
        }
        let stored = match (meta.on_disk, rumprun_image::cpio::DiskExtent::parse(e.data)) {
            (false, _) => None,
            (true, Some(x)) => Some(archive::StoredData {
                store: store.ok_or("the baked payload names file data on a disk, but the image has no file data region")?,
                first: x.offset / 4096,
                size: x.size,
            }),
            (true, None) => return Err("the baked payload is corrupt (bad file data extent)"),
        };
        let a = archive::ArchiveEntry {
            path: e.name.as_bytes(),
            mode: e.mode,
            uid: meta.owner.uid,
            gid: meta.owner.gid,
            mtime: meta.owner.mtime as i64,
            rdev: 0,
            data: e.data,
            data_page: pages::payload_page(e.data),
            stored,
        };
        match archive::add_entry(vfs, &root, &a) {
            Ok(_) => {}
            // No memory for its copied pages or its inode: the boot cannot go on
            // without the file.
            Err(ENOSPC | ENOMEM) => out_of_memory_loading(),
            Err(_) => kprintln!(
                "rumprun: cannot add baked file /{} to the root file system",
                e.name
            ),
        }
    }
    *LOADING.lock() = None;
    let _root_dev = vfs.alloc_dev(); // makedev(0, 1): the root tmpfs above
    let proc_fs = procfs::ProcFs::new(vfs.alloc_dev());
    vfs.mount(&root, b"/proc", proc_fs)
        .map_err(|_| "cannot mount /proc")?;
    Ok(())
}

/// The size of a file whose data is on the image's disk.
fn stored_size(e: &rumprun_image::cpio::Entry<'_>, m: &rumprun_image::cpio::Meta) -> Option<u64> {
    m.on_disk
        .then(|| rumprun_image::cpio::DiskExtent::parse(e.data))
        .flatten()
        .map(|x| x.size)
}

pub fn vfs() -> &'static Vfs {
    VFS.get().expect("file system used before fs::init")
}

pub fn cwd() -> InodeRef {
    process_fs()
        .cwd
        .lock()
        .clone()
        .unwrap_or_else(|| vfs().root())
}

pub fn set_cwd(dir: InodeRef) {
    *process_fs().cwd.lock() = Some(dir);
}

pub fn umask() -> u32 {
    *process_fs().umask.lock()
}

pub fn set_umask(mask: u32) -> u32 {
    core::mem::replace(&mut *process_fs().umask.lock(), mask & 0o777)
}

/// Turns a VFS error into a syscall error (the same numbers).
pub fn err(e: rumprun_vfs::Errno) -> Errno {
    e
}

/// Looks up an absolute or cwd-relative path, following symlinks.
pub fn lookup(path: &[u8]) -> Result<InodeRef, Errno> {
    vfs().lookup(&cwd(), path).map_err(err)
}

/// A file as the backing of a file mapping (see `mm::address_space::PageSource`).
pub struct InodePages(pub InodeRef);

impl crate::mm::address_space::PageSource for InodePages {
    fn frame(
        &self,
        index: u64,
        own: bool,
    ) -> Result<Option<u64>, crate::mm::address_space::PageError> {
        use crate::mm::address_space::PageError;
        self.0.page_frame_now(index, own).map_err(|e| match e {
            ENXIO => PageError::PastEnd,
            EAGAIN => PageError::NeedsRead,
            _ => PageError::NoMemory,
        })
    }
    fn read(&self, offset: u64, page: &mut [u8]) {
        // The page is zeroed: a short read leaves zeros past the end of the file.
        let _ = rumprun_vfs::Vfs::read_at(&self.0, offset, page);
    }
    fn write_back(&self, offset: u64, data: &[u8]) {
        let size = self.0.stat().size;
        if offset < size {
            let n = data.len().min((size - offset) as usize);
            let _ = rumprun_vfs::Vfs::write_at(&self.0, offset, &data[..n]);
        }
    }
    fn size(&self) -> u64 {
        self.0.stat().size
    }
    fn key(&self) -> (u64, u64) {
        self.0.key()
    }
    fn has_pages(&self) -> bool {
        self.0.has_page_cache()
    }
    fn prefetch(&self, index: u64) -> Result<(), crate::mm::address_space::PageError> {
        use crate::mm::address_space::PageError;
        self.0.prefetch_page(index).map_err(|e| match e {
            ENOMEM => PageError::NoMemory,
            _ => PageError::Io,
        })
    }
}
