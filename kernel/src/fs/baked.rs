//! The image's baked files read on demand: `rumprun-bake` puts the data of the root
//! file system's files of a page or more into the *file data region* at the end of
//! the image file, which no boot loader loads; the launcher attaches the image file
//! itself as a read-only disk (the last one), and this module finds it (the region's
//! header page, `RRDATA01` and the identity the bake-info block names, at the
//! region's offset), takes it out of the program's disks (`/dev/vdX` stay the
//! launcher's `-b` disks) and makes the region a `rumprun_vfs::PageStore`: tmpfs
//! files read and map its pages, read on first use and dropped again when memory
//! runs short (see ARCHITECTURE.md "The page cache").

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use rumprun_image::cpio::DATA_MAGIC;
use rumprun_vfs::{BlockDevice, PageStore, StoreSource, VfsResult, SECTOR_SIZE};
use spin::Once;

const PAGE: u64 = 4096;

/// The region on its disk: page `i` of the store is the region's byte `i * 4096`.
struct Region {
    disk: Arc<dyn BlockDevice>,
    /// The region's first sector on the disk.
    sector: u64,
    pages: u64,
}

impl StoreSource for Region {
    fn pages(&self) -> u64 {
        self.pages
    }
    fn read(&self, first: u64, buf: &mut [u8]) -> VfsResult<()> {
        self.disk
            .read(self.sector + first * (PAGE / SECTOR_SIZE as u64), buf)
    }
}

static STORE: Once<Arc<PageStore>> = Once::new();

/// The store of the image's file data region (None: the image has none).
pub fn store() -> Option<&'static Arc<PageStore>> {
    STORE.get()
}

/// True when `disk` holds the region `(offset, size, id)` at `offset`.
fn holds(disk: &dyn BlockDevice, offset: u64, size: u64, id: u64) -> bool {
    let sector = offset / SECTOR_SIZE as u64;
    if disk.sectors() < (offset + size).div_ceil(SECTOR_SIZE as u64) {
        return false;
    }
    let mut head = alloc::vec![0u8; SECTOR_SIZE];
    disk.read(sector, &mut head).is_ok()
        && head[..8] == DATA_MAGIC
        && head[8..16] == id.to_le_bytes()
        && head[16..24] == size.to_le_bytes()
}

/// Finds the disk holding the image's file data region and makes its store (before
/// anything looks at the disks: the config drive, `/dev` nodes, mounts). Nothing to
/// do for an image without a region; Err (one line) when no disk holds it.
pub fn attach(verbose: bool) -> Result<(), String> {
    let Some((offset, size, id)) = crate::payload::data_region() else {
        return Ok(());
    };
    let disks = crate::drivers::blockdev::all();
    // The launcher attaches it last.
    let Some(index) = (0..disks.len())
        .rev()
        .find(|&i| holds(&*disks[i], offset, size, id))
    else {
        return Err(format!(
            "the image's files ({} MiB) are read from the image file itself as a disk, and no disk holds them: start it with `rumprun qemu -i IMAGE` (or give QEMU `-drive file=IMAGE,format=raw,if=virtio,readonly=on` after any other disk)",
            size.div_ceil(1 << 20)
        ));
    };
    let disk = crate::drivers::blockdev::remove(index).expect("found above");
    if verbose {
        kprintln!(
            "rumprun: the image's file data ({} KiB) is read on demand from disk {} (not a /dev disk)",
            size / 1024,
            index
        );
    }
    let region = Region {
        disk,
        sector: offset / SECTOR_SIZE as u64,
        pages: size / PAGE,
    };
    STORE.call_once(|| PageStore::new(Box::new(region)));
    Ok(())
}
