//! Volume descriptors (ECMA-119 8): the `CD001` signature that identifies an image
//! ([`probe`]), the primary volume descriptor (volume size, logical block size, root
//! directory record) and a Joliet supplementary descriptor, found by walking the
//! descriptor set from block 16 to its terminator.

use alloc::sync::Arc;
use alloc::vec::Vec;

use rumprun_vfs::{BlockDevice, Errno, VfsResult, SECTOR_SIZE};

use crate::cache::{BlockReader, BLOCK_SIZE};
use crate::record::{both32, DirRecord};

/// First block of the volume descriptor set (after the 32 KiB system area).
pub const FIRST_DESCRIPTOR: u64 = 16;

/// The standard identifier of every volume descriptor.
pub const STANDARD_ID: &[u8; 5] = b"CD001";

/// How many descriptors [`read`] looks at before giving up on a terminator.
const MAX_DESCRIPTORS: u64 = 64;

/// Descriptor types.
const TYPE_PRIMARY: u8 = 1;
const TYPE_SUPPLEMENTARY: u8 = 2;
const TYPE_TERMINATOR: u8 = 255;

/// What mounting needs from the descriptors.
#[derive(Clone, Debug)]
pub struct Volume {
    /// Volume space size in logical blocks.
    pub blocks: u64,
    /// The primary descriptor's root directory record.
    pub root: DirRecord,
    /// The Joliet descriptor's root directory record, if there is one.
    pub joliet_root: Option<DirRecord>,
}

/// Whether `dev` holds an ISO 9660 image: `CD001` in the descriptor at byte 32768
/// (sector 64).
pub fn probe(dev: &Arc<dyn BlockDevice>) -> bool {
    let sector = FIRST_DESCRIPTOR * (BLOCK_SIZE / SECTOR_SIZE) as u64;
    if dev.sectors() <= sector {
        return false;
    }
    let mut buf = [0u8; SECTOR_SIZE];
    dev.read(sector, &mut buf).is_ok() && &buf[1..6] == STANDARD_ID && buf[6] == 1
}

/// Walks the descriptor set. EINVAL if there is no primary descriptor or its logical
/// block size is not 2048 (the only size this crate reads), EIO on a malformed root
/// record.
pub fn read(reader: &BlockReader) -> VfsResult<Volume> {
    let mut primary: Option<(u64, DirRecord)> = None;
    let mut joliet = None;
    for lba in FIRST_DESCRIPTOR..FIRST_DESCRIPTOR + MAX_DESCRIPTORS {
        let vd: Vec<u8> = match reader.with_block(lba, |b| b.to_vec()) {
            Ok(v) => v,
            // A truncated image without a terminator: use what was found.
            Err(_) if primary.is_some() => break,
            Err(_) => return Err(Errno::EINVAL),
        };
        if &vd[1..6] != STANDARD_ID {
            break;
        }
        match vd[0] {
            TYPE_PRIMARY if primary.is_none() => {
                let block_size = u16::from_le_bytes([vd[128], vd[129]]);
                if block_size as usize != BLOCK_SIZE {
                    return Err(Errno::EINVAL);
                }
                let root = DirRecord::parse(&vd[156..190]).ok_or(Errno::EIO)?;
                primary = Some((both32(&vd[80..84]) as u64, root));
            }
            TYPE_SUPPLEMENTARY if joliet.is_none() && is_joliet(&vd) => {
                joliet = DirRecord::parse(&vd[156..190]);
            }
            TYPE_TERMINATOR => break,
            _ => {}
        }
    }
    let (blocks, root) = primary.ok_or(Errno::EINVAL)?;
    Ok(Volume {
        blocks,
        root,
        joliet_root: joliet,
    })
}

/// A supplementary descriptor is Joliet if its escape sequences name UCS-2 level 1, 2
/// or 3 (`%/@`, `%/C`, `%/E`) and its block size is 2048.
fn is_joliet(vd: &[u8]) -> bool {
    let esc = &vd[88..91];
    matches!(esc, b"%/@" | b"%/C" | b"%/E")
        && u16::from_le_bytes([vd[128], vd[129]]) as usize == BLOCK_SIZE
}
