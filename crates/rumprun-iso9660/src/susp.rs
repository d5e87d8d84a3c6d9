//! The System Use Sharing Protocol (SUSP 1.12): the entries in a directory record's
//! system use area (two-letter signature, length, version, data), followed through `CE`
//! continuation areas elsewhere on the volume, up to an `ST` terminator. `SP` (in the
//! root's `.` record) says SUSP is in use and how many bytes to skip in every record.

use alloc::vec::Vec;

use rumprun_vfs::VfsResult;

use crate::cache::{BlockReader, BLOCK_SIZE};
use crate::record::{both32, DirRecord};

/// One system use entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The signature (`b"NM"`).
    pub sig: [u8; 2],
    /// The entry's data after its 4-byte header.
    pub data: Vec<u8>,
}

/// Most continuation areas followed for one record (a loop guard).
const MAX_CONTINUATIONS: usize = 16;

/// Largest continuation area read.
const MAX_CE_LEN: u64 = 16 * BLOCK_SIZE as u64;

/// Parses the entries of one area into `out`; returns the `CE` pointer (block, offset,
/// length) if there is one, and whether an `ST` ended the area.
fn parse_area(area: &[u8], out: &mut Vec<Entry>) -> (Option<(u64, u64, u64)>, bool) {
    let mut ce = None;
    let mut pos = 0;
    while pos + 4 <= area.len() {
        let len = area[pos + 2] as usize;
        if len < 4 || pos + len > area.len() {
            break; // padding or damage: the rest of the area is unusable
        }
        let sig = [area[pos], area[pos + 1]];
        let data = &area[pos + 4..pos + len];
        match &sig {
            b"CE" if data.len() >= 24 => {
                ce = Some((
                    both32(&data[0..]) as u64,
                    both32(&data[8..]) as u64,
                    both32(&data[16..]) as u64,
                ));
            }
            b"ST" => return (ce, true),
            _ => out.push(Entry {
                sig,
                data: data.to_vec(),
            }),
        }
        pos += len;
    }
    (ce, false)
}

/// All entries of `rec`'s system use area and its continuation areas, skipping `skip`
/// bytes at the start of the area (from `SP`).
pub fn entries(reader: &BlockReader, rec: &DirRecord, skip: usize) -> VfsResult<Vec<Entry>> {
    let mut out = Vec::new();
    let (mut ce, _) = parse_area(rec.system_use(skip), &mut out);
    let mut hops = 0;
    while let Some((block, offset, len)) = ce.take() {
        hops += 1;
        if hops > MAX_CONTINUATIONS || len == 0 || len > MAX_CE_LEN {
            break;
        }
        let area = reader.read_vec(block * BLOCK_SIZE as u64 + offset, len as usize)?;
        ce = parse_area(&area, &mut out).0;
    }
    Ok(out)
}

/// If `rec` (the root directory's `.` record) starts with a valid `SP` entry, the skip
/// length it gives.
pub fn sp_skip(rec: &DirRecord) -> Option<usize> {
    let su = rec.system_use(0);
    (su.len() >= 7 && &su[0..2] == b"SP" && su[2] >= 7 && su[4] == 0xbe && su[5] == 0xef)
        .then(|| su[6] as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn areas() {
        let mut out = Vec::new();
        let area = [
            b'N', b'M', 7, 1, 0, b'a', b'b', b'S', b'T', 4, 1, b'P', b'X', 4, 1,
        ];
        assert_eq!(parse_area(&area, &mut out), (None, true));
        assert_eq!(
            out,
            [Entry {
                sig: *b"NM",
                data: alloc::vec![0, b'a', b'b']
            }]
        );
        let mut out = Vec::new();
        let mut ce = alloc::vec![b'C', b'E', 28, 1];
        for v in [5u32, 100, 60] {
            ce.extend_from_slice(&v.to_le_bytes());
            ce.extend_from_slice(&v.to_be_bytes());
        }
        ce.extend_from_slice(&[0, 0]);
        assert_eq!(parse_area(&ce, &mut out), (Some((5, 100, 60)), false));
        assert!(out.is_empty());
        // A bad length stops the walk instead of looping or panicking.
        assert_eq!(
            parse_area(&[b'X', b'X', 2, 1, 0, 0], &mut out),
            (None, false)
        );
        assert_eq!(
            parse_area(&[b'X', b'X', 200, 1, 0, 0], &mut out),
            (None, false)
        );
    }
}
