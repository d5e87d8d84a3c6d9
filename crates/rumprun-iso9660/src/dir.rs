//! Walking a directory's extent: the records in order, by byte position (which is what
//! `read_dir` cookies are), skipping the zero padding at the end of each block and
//! gathering the records of a multi-extent file into one entry.

use alloc::vec::Vec;

use rumprun_vfs::{Errno, VfsResult};

use crate::cache::{BlockReader, BLOCK_SIZE};
use crate::record::{DirRecord, FLAG_MULTI_EXTENT};

/// Most records one multi-extent file may have (4 GiB each; a loop guard).
const MAX_EXTENTS: usize = 4096;

/// A directory extent: where it starts and how long it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirExtent {
    /// First logical block.
    pub block: u64,
    /// Length in bytes.
    pub size: u64,
}

/// One file's records, found at a position in a directory.
#[derive(Clone, Debug)]
pub struct RawEntry {
    /// Byte position of the (first) record in the directory.
    pub pos: u64,
    /// Byte position of the record after this entry.
    pub next: u64,
    /// The first record (name, flags, system use area).
    pub record: DirRecord,
    /// Data extents in file order: (byte offset on the volume, length).
    pub extents: Vec<(u64, u64)>,
}

impl DirExtent {
    /// Absolute byte offset on the volume of position `pos` in this directory.
    pub fn byte_offset(&self, pos: u64) -> u64 {
        self.block * BLOCK_SIZE as u64 + pos
    }

    /// The record at or after position `pos`, with its position; `None` at the end.
    fn record_at(&self, reader: &BlockReader, mut pos: u64) -> VfsResult<Option<(u64, DirRecord)>> {
        let bs = BLOCK_SIZE as u64;
        while pos < self.size {
            let within = (pos % bs) as usize;
            let rec = reader.with_block(self.block + pos / bs, |b| {
                if b[within] == 0 {
                    Ok(None)
                } else {
                    DirRecord::parse(&b[within..]).map(Some).ok_or(Errno::EIO)
                }
            })??;
            match rec {
                Some(r) => return Ok(Some((pos, r))),
                None => pos = (pos / bs + 1) * bs,
            }
        }
        Ok(None)
    }

    /// The entry at or after position `pos` (a cookie from an earlier entry, or 0).
    pub fn entry_at(&self, reader: &BlockReader, pos: u64) -> VfsResult<Option<RawEntry>> {
        let Some((pos, record)) = self.record_at(reader, pos)? else {
            return Ok(None);
        };
        let mut next = pos + record.len() as u64;
        let bs = BLOCK_SIZE as u64;
        let mut extents = alloc::vec![(record.data_block() * bs, record.data_len())];
        let mut last = record.clone();
        while last.flags() & FLAG_MULTI_EXTENT != 0 {
            let Some((p, r)) = self.record_at(reader, next)? else {
                return Err(Errno::EIO); // the final extent is missing
            };
            if r.ident() != record.ident() || extents.len() >= MAX_EXTENTS {
                return Err(Errno::EIO);
            }
            extents.push((r.data_block() * bs, r.data_len()));
            next = p + r.len() as u64;
            last = r;
        }
        Ok(Some(RawEntry {
            pos,
            next,
            record,
            extents,
        }))
    }
}
