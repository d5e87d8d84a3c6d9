//! The mounted volume: [`Iso9660::probe`] and [`Iso9660::mount`] read the volume
//! descriptors, choose the naming scheme (Rock Ridge if the root's `.` record has a SUSP
//! `SP` entry, else Joliet if there is a Joliet descriptor, else plain ISO names), and
//! build the root inode. [`Shared`] is what every inode of the volume holds.

use alloc::sync::Arc;

use rumprun_vfs::{BlockDevice, Errno, FileSystem, InodeRef, VfsResult};

use crate::cache::BlockReader;
use crate::dir::DirExtent;
use crate::node::IsoInode;
use crate::susp;
use crate::volume;

/// How names (and metadata) are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Naming {
    /// Rock Ridge: POSIX names, modes, owners, times, symlinks, devices. `skip` is the
    /// SUSP skip length from `SP`.
    RockRidge {
        /// Bytes to skip at the start of every system use area.
        skip: usize,
    },
    /// Joliet: UCS-2 names from the supplementary tree; no POSIX metadata.
    Joliet,
    /// Plain ISO 9660 names, lowercased, without `;1`.
    Plain,
}

/// Mount options (Linux's `norock` and `nojoliet`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MountOptions {
    /// Use Rock Ridge if the volume has it.
    pub rock_ridge: bool,
    /// Use Joliet if the volume has it and no Rock Ridge is used.
    pub joliet: bool,
}

impl Default for MountOptions {
    fn default() -> Self {
        MountOptions {
            rock_ridge: true,
            joliet: true,
        }
    }
}

/// The state every inode of a mounted volume shares.
pub struct Shared {
    /// The device, read in logical blocks.
    pub reader: BlockReader,
    /// Device number reported as `st_dev`.
    pub dev_id: u64,
    /// Volume space size in blocks (`statfs`).
    pub blocks: u64,
    /// The naming scheme in use.
    pub naming: Naming,
    /// The root directory's extent (of the tree in use).
    pub root: DirExtent,
}

/// A mounted ISO 9660 volume. Mount it with [`rumprun_vfs::Vfs::mount`].
pub struct Iso9660 {
    shared: Arc<Shared>,
    root: Arc<IsoInode>,
}

impl Iso9660 {
    /// Whether `dev` holds an ISO 9660 image (`CD001` at byte 32768).
    pub fn probe(dev: &Arc<dyn BlockDevice>) -> bool {
        volume::probe(dev)
    }

    /// Mounts `dev` read-only with the default options; inodes report `dev_id` as
    /// `st_dev`. EINVAL if it is not an ISO 9660 image (or uses a logical block size
    /// other than 2048), EIO if its structures are damaged or the device fails.
    pub fn mount(dev: Arc<dyn BlockDevice>, dev_id: u64) -> VfsResult<Arc<Iso9660>> {
        Iso9660::mount_with(dev, dev_id, MountOptions::default())
    }

    /// [`Iso9660::mount`] with explicit options.
    pub fn mount_with(
        dev: Arc<dyn BlockDevice>,
        dev_id: u64,
        opts: MountOptions,
    ) -> VfsResult<Arc<Iso9660>> {
        if !volume::probe(&dev) {
            return Err(Errno::EINVAL);
        }
        let reader = BlockReader::new(dev);
        let vol = volume::read(&reader)?;
        let primary = DirExtent {
            block: vol.root.data_block(),
            size: vol.root.data_len(),
        };
        let dot = primary.entry_at(&reader, 0)?.ok_or(Errno::EIO)?;
        let (naming, root) = match (susp::sp_skip(&dot.record), &vol.joliet_root) {
            (Some(skip), _) if opts.rock_ridge => (Naming::RockRidge { skip }, primary),
            (_, Some(j)) if opts.joliet => (
                Naming::Joliet,
                DirExtent {
                    block: j.data_block(),
                    size: j.data_len(),
                },
            ),
            _ => (Naming::Plain, primary),
        };
        let shared = Arc::new(Shared {
            reader,
            dev_id,
            blocks: vol.blocks,
            naming,
            root,
        });
        let root = IsoInode::load_dir(&shared, root.block)?;
        Ok(Arc::new(Iso9660 { shared, root }))
    }

    /// The naming scheme chosen at mount.
    pub fn naming(&self) -> Naming {
        self.shared.naming
    }

    /// Volume size in 2048-byte blocks.
    pub fn blocks(&self) -> u64 {
        self.shared.blocks
    }
}

impl FileSystem for Iso9660 {
    fn root(&self) -> InodeRef {
        self.root.clone()
    }

    fn name(&self) -> &'static str {
        "iso9660"
    }
}
