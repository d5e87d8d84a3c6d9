//! What a directory entry means once the naming scheme is applied: its Linux name (Rock
//! Ridge `NM`, Joliet, or the mapped ISO name), its file type, where a directory's own
//! extent is (following a Rock Ridge child link), its inode number, and its `Stat`.
//!
//! Inode numbers: a directory's is its first block times 2048 (the byte offset of its
//! `.` record), so it is the same whether it is reached by name, by `..` or through a
//! relocation link; the root's is [`ROOT_INO`]. Any other file's is the byte offset of
//! its (first) directory record. Both are unique and stable across mounts, and never
//! collide: a file's record is never the first record of a directory extent.

use alloc::vec::Vec;

use rumprun_vfs::{FileType, Stat, Timespec, VfsResult};

use crate::cache::BLOCK_SIZE;
use crate::dir::{DirExtent, RawEntry};
use crate::fs::{Naming, Shared};
use crate::name;
use crate::record::FLAG_ASSOCIATED;
use crate::rrip::RockRidge;
use crate::susp;

/// The inode number of the root directory.
pub const ROOT_INO: u64 = 1;

/// Permissions of files and directories without Rock Ridge (Linux's default, 0555).
const DEFAULT_PERM: u32 = 0o555;

/// Identifier bytes of the `.` and `..` records.
pub const DOT: &[u8] = &[0];
/// See [`DOT`].
pub const DOTDOT: &[u8] = &[1];

/// A directory entry with its Rock Ridge information decoded.
pub struct Entry {
    /// The records.
    pub raw: RawEntry,
    /// Rock Ridge information (empty without Rock Ridge).
    pub rr: RockRidge,
}

impl Shared {
    /// Decodes the Rock Ridge information of `raw` (if the volume uses Rock Ridge).
    pub fn entry(&self, raw: RawEntry) -> VfsResult<Entry> {
        let rr = match self.naming {
            Naming::RockRidge { skip } => {
                RockRidge::parse(&susp::entries(&self.reader, &raw.record, skip)?)
            }
            _ => RockRidge::default(),
        };
        Ok(Entry { raw, rr })
    }

    /// The inode number of the directory whose extent starts at `block`.
    pub fn dir_ino(&self, block: u64) -> u64 {
        if block == self.root.block {
            ROOT_INO
        } else {
            block * BLOCK_SIZE as u64
        }
    }
}

impl Entry {
    /// Whether a listing shows this entry: not `.`/`..` (the caller handles them), not
    /// an associated file, not a relocated directory in the relocation directory.
    pub fn visible(&self) -> bool {
        let id = self.raw.record.ident();
        id != DOT
            && id != DOTDOT
            && self.raw.record.flags() & FLAG_ASSOCIATED == 0
            && !self.rr.relocated
    }

    /// The name in `naming`.
    pub fn name(&self, naming: Naming) -> Vec<u8> {
        let id = self.raw.record.ident();
        match naming {
            Naming::RockRidge { .. } => match &self.rr.name {
                Some(n) => n.clone(),
                None => name::map_plain(id),
            },
            Naming::Joliet => name::map_joliet(id),
            Naming::Plain => name::map_plain(id),
        }
    }

    /// For a directory (or a Rock Ridge child link), the first block of its extent.
    pub fn dir_block(&self) -> Option<u64> {
        match self.rr.child_link {
            Some(b) => Some(b),
            None if self.raw.record.is_dir() => Some(self.raw.record.data_block()),
            None => None,
        }
    }

    /// The file type.
    pub fn kind(&self) -> FileType {
        if self.dir_block().is_some() {
            return FileType::Directory;
        }
        match self.rr.mode.and_then(FileType::from_mode) {
            Some(FileType::Directory) | None if self.rr.symlink.is_some() => FileType::Symlink,
            Some(FileType::Directory) | None => FileType::Regular,
            Some(t) => t,
        }
    }

    /// The inode number (see the module documentation) in the directory `dir`.
    pub fn ino(&self, sh: &Shared, dir: &DirExtent) -> u64 {
        match self.dir_block() {
            Some(b) => sh.dir_ino(b),
            None => dir.byte_offset(self.raw.pos),
        }
    }

    /// Total data length.
    pub fn data_len(&self) -> u64 {
        self.raw.extents.iter().map(|e| e.1).sum()
    }

    /// The `Stat` of this entry as inode `ino` on device `dev`.
    pub fn stat(&self, dev: u64, ino: u64, kind: FileType) -> Stat {
        let rr = &self.rr;
        let perm = rr.mode.map_or(DEFAULT_PERM, |m| m & 0o7777);
        let date = self.raw.record.date();
        let mtime = rr.mtime.unwrap_or(date);
        let (size, blocks) = match kind {
            FileType::Regular | FileType::Directory => {
                let bs = BLOCK_SIZE as u64;
                let alloc: u64 = self.raw.extents.iter().map(|e| e.1.div_ceil(bs)).sum();
                (self.data_len(), alloc * (bs / 512))
            }
            FileType::Symlink => (rr.symlink.as_ref().map_or(0, |s| s.len() as u64), 0),
            _ => (0, 0),
        };
        Stat {
            dev,
            ino,
            mode: kind.mode_bits() | perm,
            nlink: rr
                .nlink
                .unwrap_or(if kind == FileType::Directory { 2 } else { 1 }),
            uid: rr.uid.unwrap_or(0),
            gid: rr.gid.unwrap_or(0),
            rdev: match kind {
                FileType::CharDevice | FileType::BlockDevice => rr.rdev.unwrap_or(0),
                _ => 0,
            },
            size,
            blksize: BLOCK_SIZE as u32,
            blocks,
            atime: rr.atime.unwrap_or(mtime),
            mtime,
            ctime: rr.ctime.unwrap_or(mtime),
            btime: rr.btime.unwrap_or(Timespec::ZERO),
        }
    }
}
