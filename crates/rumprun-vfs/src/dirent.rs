//! Directory entries: [`DirEntry`] (what [`crate::Inode::read_dir`] yields, with its
//! resumable cookie) and the `struct linux_dirent64` encoding getdents64 copies out
//! ([`encode_dirent64`], [`fill_dirents64`]).

use alloc::vec::Vec;

use crate::errno::{Errno, VfsResult};
use crate::inode::Inode;
use crate::stat::FileType;

/// One entry of a directory listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    /// Inode number (`d_ino`).
    pub ino: u64,
    /// Type (`d_type` via [`FileType::d_type`]).
    pub kind: FileType,
    /// Name (no NUL).
    pub name: Vec<u8>,
    /// Cookie of the next entry (`d_off`): pass it to `read_dir` to resume after this one.
    pub next: u64,
}

/// Size of the fixed part of `linux_dirent64` (ino 8, off 8, reclen 2, type 1).
const DIRENT64_HEADER: usize = 19;

/// The record length of `entry` as `linux_dirent64` (header, name, NUL, padded to 8).
pub fn dirent64_len(entry: &DirEntry) -> usize {
    (DIRENT64_HEADER + entry.name.len() + 1 + 7) & !7
}

/// Writes `entry` as a `linux_dirent64` at the start of `buf`; returns its length, or
/// `None` if it does not fit.
pub fn encode_dirent64(entry: &DirEntry, buf: &mut [u8]) -> Option<usize> {
    let len = dirent64_len(entry);
    let rec = buf.get_mut(..len)?;
    rec.fill(0);
    rec[0..8].copy_from_slice(&entry.ino.to_le_bytes());
    rec[8..16].copy_from_slice(&entry.next.to_le_bytes());
    rec[16..18].copy_from_slice(&(len as u16).to_le_bytes());
    rec[18] = entry.kind.d_type();
    rec[19..19 + entry.name.len()].copy_from_slice(&entry.name);
    Some(len)
}

/// getdents64: fills `buf` with entries of `dir` starting at `cookie`. Returns the bytes
/// written and the cookie to continue from (the kernel stores it as the file offset).
/// 0 bytes means the end; EINVAL if not even the first entry fits (Linux's rule).
pub fn fill_dirents64(dir: &dyn Inode, cookie: u64, buf: &mut [u8]) -> VfsResult<(usize, u64)> {
    let mut pos = cookie;
    let mut used = 0;
    while let Some(entry) = dir.read_dir(pos)? {
        match encode_dirent64(&entry, &mut buf[used..]) {
            Some(n) => used += n,
            None if used == 0 => return Err(Errno::EINVAL),
            None => break,
        }
        pos = entry.next;
    }
    Ok((used, pos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_layout() {
        let e = DirEntry {
            ino: 7,
            kind: FileType::Directory,
            name: b"abc".to_vec(),
            next: 42,
        };
        assert_eq!(dirent64_len(&e), 24);
        let mut buf = [0xffu8; 32];
        assert_eq!(encode_dirent64(&e, &mut buf), Some(24));
        assert_eq!(u64::from_le_bytes(buf[0..8].try_into().unwrap()), 7);
        assert_eq!(i64::from_le_bytes(buf[8..16].try_into().unwrap()), 42);
        assert_eq!(u16::from_le_bytes(buf[16..18].try_into().unwrap()), 24);
        assert_eq!(buf[18], 4);
        assert_eq!(&buf[19..23], b"abc\0");
        assert_eq!(buf[24], 0xff);
        assert_eq!(encode_dirent64(&e, &mut buf[..23]), None);
        let long = DirEntry {
            name: b"abcde".to_vec(),
            ..e
        };
        assert_eq!(dirent64_len(&long), 32);
    }
}
