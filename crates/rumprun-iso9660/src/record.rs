//! Directory records (ECMA-119 9.1): the fixed 33-byte header (extent, data length,
//! recording date, file flags), the file identifier and the system use area after it,
//! where Rock Ridge keeps its entries. Records never cross a logical block; a zero length
//! byte means the rest of the block is padding.

use alloc::vec::Vec;

use rumprun_vfs::Timespec;

use crate::time;

/// File flag: hidden ("existence" bit); such files are still listed, like Linux does.
pub const FLAG_HIDDEN: u8 = 0x01;
/// File flag: a directory.
pub const FLAG_DIRECTORY: u8 = 0x02;
/// File flag: an associated file (Macintosh resource forks); not listed.
pub const FLAG_ASSOCIATED: u8 = 0x04;
/// File flag: more records of the same file follow (multi-extent files, > 4 GiB).
pub const FLAG_MULTI_EXTENT: u8 = 0x80;

/// Size of the fixed part of a directory record.
pub const HEADER_LEN: usize = 33;

/// A directory record, copied out of its block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirRecord {
    /// The whole record as stored (`bytes[0]` is its length).
    bytes: Vec<u8>,
}

/// Reads a both-endian 32-bit number (7.3.3) by its little-endian half.
pub fn both32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

impl DirRecord {
    /// Parses the record at the start of `buf`; `None` if it is malformed (too short
    /// for its header and identifier, or longer than `buf`).
    pub fn parse(buf: &[u8]) -> Option<DirRecord> {
        let len = *buf.first()? as usize;
        if len < HEADER_LEN + 1 || len > buf.len() {
            return None;
        }
        let id_len = buf[32] as usize;
        if HEADER_LEN + id_len > len {
            return None;
        }
        Some(DirRecord {
            bytes: buf[..len].to_vec(),
        })
    }

    /// Length of the record in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Always false (a parsed record has a header); for clippy's `len_without_is_empty`.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// First logical block of the data: the extent plus the extended attribute record.
    pub fn data_block(&self) -> u64 {
        both32(&self.bytes[2..6]) as u64 + self.bytes[1] as u64
    }

    /// The extent field itself (what `..` and Rock Ridge `CL`/`PL` point at).
    pub fn extent(&self) -> u64 {
        both32(&self.bytes[2..6]) as u64
    }

    /// Data length in bytes (of this extent, for a multi-extent file).
    pub fn data_len(&self) -> u64 {
        both32(&self.bytes[10..14]) as u64
    }

    /// Recording date and time as Unix time.
    pub fn date(&self) -> Timespec {
        time::from_7byte(&self.bytes[18..25])
    }

    /// File flags (`FLAG_*`).
    pub fn flags(&self) -> u8 {
        self.bytes[25]
    }

    /// Whether the record describes a directory.
    pub fn is_dir(&self) -> bool {
        self.flags() & FLAG_DIRECTORY != 0
    }

    /// The file identifier as stored (`\0` for `.`, `\x01` for `..`).
    pub fn ident(&self) -> &[u8] {
        let n = self.bytes[32] as usize;
        &self.bytes[HEADER_LEN..HEADER_LEN + n]
    }

    /// The system use area after the identifier (and its padding byte), skipping the
    /// first `skip` bytes (SUSP's `SP` skip length).
    pub fn system_use(&self, skip: usize) -> &[u8] {
        let n = self.bytes[32] as usize;
        let start = HEADER_LEN + n + (1 - n % 2) + skip;
        self.bytes.get(start..).unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(ident: &[u8], su: &[u8]) -> Vec<u8> {
        let pad = 1 - ident.len() % 2;
        let len = HEADER_LEN + ident.len() + pad + su.len();
        let mut b = alloc::vec![0u8; len];
        b[0] = len as u8;
        b[1] = 1;
        b[2..6].copy_from_slice(&20u32.to_le_bytes());
        b[6..10].copy_from_slice(&20u32.to_be_bytes());
        b[10..14].copy_from_slice(&4096u32.to_le_bytes());
        b[18..25].copy_from_slice(&[70, 1, 2, 0, 0, 0, 0]);
        b[25] = FLAG_DIRECTORY;
        b[32] = ident.len() as u8;
        b[HEADER_LEN..HEADER_LEN + ident.len()].copy_from_slice(ident);
        b[HEADER_LEN + ident.len() + pad..].copy_from_slice(su);
        b
    }

    #[test]
    fn fields() {
        let b = record(b"AB", b"XYZ");
        let r = DirRecord::parse(&b).unwrap();
        assert_eq!(r.extent(), 20);
        assert_eq!(r.data_block(), 21);
        assert_eq!(r.data_len(), 4096);
        assert_eq!(r.date().sec, 86_400);
        assert!(r.is_dir());
        assert_eq!(r.ident(), b"AB");
        assert_eq!(r.system_use(0), b"XYZ");
        assert_eq!(r.system_use(1), b"YZ");
        assert_eq!(r.system_use(9), b"");
        let odd = record(b"ABC", b"Q");
        assert_eq!(DirRecord::parse(&odd).unwrap().system_use(0), b"Q");
    }

    #[test]
    fn malformed() {
        assert_eq!(DirRecord::parse(&[]), None);
        assert_eq!(DirRecord::parse(&[10; 10]), None);
        let mut b = record(b"AB", b"");
        b[32] = 200;
        assert_eq!(DirRecord::parse(&b), None);
        let b = record(b"AB", b"");
        assert_eq!(DirRecord::parse(&b[..b.len() - 1]), None);
    }
}
