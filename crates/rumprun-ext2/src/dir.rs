//! Directories: the linked list of entries (`inode`, `rec_len`, `name_len`,
//! `file_type`, name) in each directory block. Entries never cross a block, records are
//! 4-byte aligned (`8 + name_len` rounded up), the last record of a block stretches to
//! its end. Inserting takes the slack of an existing record (splitting it) or a new
//! block; deleting merges the record into the one before it (or clears the inode of
//! the first record of a block). Read cookies are byte offsets in the directory: a
//! cookie that lands inside a merged record resumes at the next record, so cookies
//! stay valid while entries come and go. Changing a hashed (`dir_index`) directory
//! clears its index flag, leaving a valid linear directory.
//!
//! The `*_at` methods take the directory's inode number and re-read and write its
//! record themselves, so several steps on the same directory (rename) compose.

use alloc::vec::Vec;
use rumprun_vfs::{Errno, VfsResult};

use crate::fs::Inner;
use crate::inode::{DiskInode, INDEX_FL};
use crate::le::{get16, get32, put16, put32};

/// The record length an entry with a name of `len` bytes needs.
pub(crate) fn rec_size(len: usize) -> usize {
    (8 + len + 3) & !3
}

/// One entry as found on disk.
#[derive(Clone, Debug)]
pub(crate) struct Found {
    /// Byte offset of the record in the directory.
    pub(crate) pos: u64,
    /// Inode number.
    pub(crate) ino: u32,
    /// Type code (0 without the filetype feature).
    pub(crate) ftype: u8,
    /// Record length.
    pub(crate) rec_len: usize,
    /// Length of the name.
    pub(crate) name_len: usize,
    /// Name (empty when the scan did not ask for names).
    pub(crate) name: Vec<u8>,
}

/// Parses the record at `off` of a directory block (EIO if malformed).
fn parse(b: &[u8], off: usize) -> VfsResult<(u32, usize, usize, u8)> {
    if off + 8 > b.len() {
        return Err(Errno::EIO);
    }
    let ino = get32(b, off);
    let rec_len = get16(b, off + 4) as usize;
    let name_len = b[off + 6] as usize;
    if rec_len < 8
        || !rec_len.is_multiple_of(4)
        || off + rec_len > b.len()
        || 8 + name_len > rec_len
    {
        return Err(Errno::EIO);
    }
    Ok((ino, rec_len, name_len, b[off + 7]))
}

fn write_entry(b: &mut [u8], off: usize, ino: u32, rec_len: usize, name: &[u8], ftype: u8) {
    put32(b, off, ino);
    put16(b, off + 4, rec_len as u16);
    b[off + 6] = name.len() as u8;
    b[off + 7] = ftype;
    b[off + 8..off + 8 + name.len()].copy_from_slice(name);
}

impl Inner {
    fn ftype_code(&self, ftype: u8) -> u8 {
        if self.sb.has_filetype() {
            ftype
        } else {
            0
        }
    }

    /// All records of directory block `i` of `di` (deleted ones included), with their
    /// names if `names`, else only those matching `only` (if given).
    fn block_entries(
        &mut self,
        di: &DiskInode,
        i: u64,
        names: bool,
        only: Option<&[u8]>,
    ) -> VfsResult<(u32, Vec<Found>)> {
        let pb = self.bmap(di, i)?;
        if pb == 0 {
            return Err(Errno::EIO); // directories have no holes
        }
        let b = self.cache.get(pb as u64)?;
        let mut out = Vec::new();
        let mut off = 0;
        while off < b.len() {
            let (ino, rec_len, name_len, ft) = parse(b, off)?;
            let name = &b[off + 8..off + 8 + name_len];
            if only.is_none_or(|n| n == name && ino != 0) {
                out.push(Found {
                    pos: i * b.len() as u64 + off as u64,
                    ino,
                    ftype: ft,
                    rec_len,
                    name_len,
                    name: if names || only.is_some() {
                        name.to_vec()
                    } else {
                        Vec::new()
                    },
                });
            }
            off += rec_len;
        }
        Ok((pb, out))
    }

    fn dir_blocks(&self, di: &DiskInode) -> u64 {
        di.size / self.bs as u64
    }

    /// Finds `name` in the directory `di`.
    pub(crate) fn dir_find(&mut self, di: &DiskInode, name: &[u8]) -> VfsResult<Option<Found>> {
        for i in 0..self.dir_blocks(di) {
            let (_, entries) = self.block_entries(di, i, false, Some(name))?;
            if let Some(e) = entries.into_iter().next() {
                return Ok(Some(e));
            }
        }
        Ok(None)
    }

    /// The first live entry at or after byte position `cookie`, and the cookie after it.
    pub(crate) fn dir_next(
        &mut self,
        di: &DiskInode,
        cookie: u64,
    ) -> VfsResult<Option<(Found, u64)>> {
        let bs = self.bs as u64;
        for i in cookie / bs..self.dir_blocks(di) {
            let (_, entries) = self.block_entries(di, i, true, None)?;
            if let Some(e) = entries.into_iter().find(|e| e.ino != 0 && e.pos >= cookie) {
                let next = e.pos + e.rec_len as u64;
                return Ok(Some((e, next)));
            }
        }
        Ok(None)
    }

    /// Whether the directory has no entries besides `.` and `..`.
    pub(crate) fn dir_is_empty(&mut self, di: &DiskInode) -> VfsResult<bool> {
        for i in 0..self.dir_blocks(di) {
            let (_, entries) = self.block_entries(di, i, true, None)?;
            if entries
                .iter()
                .any(|e| e.ino != 0 && e.name != b"." && e.name != b"..")
            {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Writes the first block of a new directory `ino` (`.` and `..`).
    pub(crate) fn dir_init(&mut self, ino: u32, di: &mut DiskInode, parent: u32) -> VfsResult<()> {
        let goal = self.group_of_ino(ino);
        let (pb, _) = self.bmap_alloc(di, 0, goal)?;
        let bs = self.bs;
        let t = self.ftype_code(2);
        let b = self.cache.get_mut(pb as u64)?;
        write_entry(b, 0, ino, 12, b".", t);
        write_entry(b, 12, parent, bs - 12, b"..", t);
        di.size = bs as u64;
        Ok(())
    }

    /// Adds `name` -> `ino` to directory `dir` (the caller checked it is absent).
    pub(crate) fn dir_add_at(
        &mut self,
        dir: u32,
        name: &[u8],
        ino: u32,
        ftype: u8,
    ) -> VfsResult<()> {
        let mut di = self.read_inode(dir)?;
        let need = rec_size(name.len());
        let ft = self.ftype_code(ftype);
        for i in 0..self.dir_blocks(&di) {
            let (pb, entries) = self.block_entries(&di, i, false, None)?;
            for e in entries {
                let off = (e.pos % self.bs as u64) as usize;
                let b;
                if e.ino == 0 && e.rec_len >= need {
                    b = self.cache.get_mut(pb as u64)?;
                    write_entry(b, off, ino, e.rec_len, name, ft);
                } else if e.ino != 0 && e.rec_len - rec_size(e.name_len) >= need {
                    let used = rec_size(e.name_len);
                    b = self.cache.get_mut(pb as u64)?;
                    put16(b, off + 4, used as u16);
                    write_entry(b, off + used, ino, e.rec_len - used, name, ft);
                } else {
                    continue;
                }
                di.flags &= !INDEX_FL;
                return self.write_inode(dir, &mut di);
            }
        }
        let l = self.dir_blocks(&di);
        let goal = self.group_of_ino(dir);
        let (pb, _) = self.bmap_alloc(&mut di, l, goal)?;
        let bs = self.bs;
        write_entry(self.cache.get_mut(pb as u64)?, 0, ino, bs, name, ft);
        di.size += bs as u64;
        di.flags &= !INDEX_FL;
        self.write_inode(dir, &mut di)
    }

    /// Removes `name` from directory `dir`; returns its inode number (ENOENT).
    pub(crate) fn dir_remove_at(&mut self, dir: u32, name: &[u8]) -> VfsResult<u32> {
        let mut di = self.read_inode(dir)?;
        for i in 0..self.dir_blocks(&di) {
            let (pb, entries) = self.block_entries(&di, i, true, None)?;
            let Some(k) = entries.iter().position(|e| e.ino != 0 && e.name == name) else {
                continue;
            };
            let bs = self.bs as u64;
            let b = self.cache.get_mut(pb as u64)?;
            let e = &entries[k];
            if k == 0 {
                put32(b, (e.pos % bs) as usize, 0);
            } else {
                let prev = &entries[k - 1];
                put16(
                    b,
                    (prev.pos % bs) as usize + 4,
                    (prev.rec_len + e.rec_len) as u16,
                );
            }
            let ino = e.ino;
            di.flags &= !INDEX_FL;
            self.write_inode(dir, &mut di)?;
            return Ok(ino);
        }
        Err(Errno::ENOENT)
    }

    /// Points the existing entry `name` of directory `dir` at `ino` (rename over an
    /// existing name, `..` of a moved directory).
    pub(crate) fn dir_set_at(
        &mut self,
        dir: u32,
        name: &[u8],
        ino: u32,
        ftype: u8,
    ) -> VfsResult<()> {
        let mut di = self.read_inode(dir)?;
        let ft = self.ftype_code(ftype);
        for i in 0..self.dir_blocks(&di) {
            let (pb, entries) = self.block_entries(&di, i, false, Some(name))?;
            if let Some(e) = entries.first() {
                let off = (e.pos % self.bs as u64) as usize;
                let b = self.cache.get_mut(pb as u64)?;
                put32(b, off, ino);
                b[off + 7] = ft;
                di.flags &= !INDEX_FL;
                return self.write_inode(dir, &mut di);
            }
        }
        Err(Errno::ENOENT)
    }
}

#[cfg(test)]
mod tests {
    use super::rec_size;

    #[test]
    fn record_sizes() {
        assert_eq!(rec_size(1), 12);
        assert_eq!(rec_size(2), 12);
        assert_eq!(rec_size(4), 12);
        assert_eq!(rec_size(5), 16);
        assert_eq!(rec_size(255), 264);
    }
}
