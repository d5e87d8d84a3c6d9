//! Keeps a GPT disk image valid after it grew: `rumprun image` pads grub-mkrescue's
//! output to a whole MiB, and a GPT's backup header and entry array must sit at the
//! disk's last sectors (UEFI firmware and partitioning tools check). [`grow`] moves
//! them there, updates both headers (alternate LBA, last usable LBA, CRC32s) and the
//! protective MBR's size, as `sfdisk --relocate gpt-bak-std` does.

/// The sector size of the images we write.
pub const SECTOR: usize = 512;
const SIGNATURE: &[u8; 8] = b"EFI PART";
/// The protective MBR's partition type.
const PROTECTIVE: u8 = 0xee;

fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(b[o..o + 4].try_into().unwrap())
}
fn u64_at(b: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(b[o..o + 8].try_into().unwrap())
}
fn put32(b: &mut [u8], o: usize, v: u32) {
    b[o..o + 4].copy_from_slice(&v.to_le_bytes());
}
fn put64(b: &mut [u8], o: usize, v: u64) {
    b[o..o + 8].copy_from_slice(&v.to_le_bytes());
}

/// Whether `disk` has a GPT (its header's signature in sector 1).
pub fn has_gpt(disk: &[u8]) -> bool {
    disk.get(SECTOR..SECTOR + 8) == Some(SIGNATURE)
}

/// Recomputes the header CRC32 of the `size`-byte header at `at`.
fn seal(disk: &mut [u8], at: usize, size: usize) {
    put32(disk, at + 16, 0);
    let crc = crc32fast::hash(&disk[at..at + size]);
    put32(disk, at + 16, crc);
}

/// Moves the backup GPT of `disk` (whose length is a whole number of sectors and at
/// least its old size) to its last sectors. The old backup copy is wiped.
pub fn grow(disk: &mut [u8]) -> Result<(), &'static str> {
    if !has_gpt(disk) || !disk.len().is_multiple_of(SECTOR) {
        return Err("not a GPT disk image");
    }
    let primary = SECTOR;
    let header_size = u32_at(disk, primary + 12) as usize;
    if !(92..=SECTOR).contains(&header_size) {
        return Err("bad GPT header size");
    }
    let entries = u32_at(disk, primary + 80) as usize * u32_at(disk, primary + 84) as usize;
    let entry_sectors = entries.div_ceil(SECTOR);
    let last = (disk.len() / SECTOR - 1) as u64;
    let old_backup = u64_at(disk, primary + 32) as usize;
    let primary_entries = u64_at(disk, primary + 72) as usize * SECTOR;
    if primary_entries + entries > disk.len() || old_backup * SECTOR + SECTOR > disk.len() {
        return Err("GPT entries outside the image");
    }
    let array: Vec<u8> = disk[primary_entries..primary_entries + entries].to_vec();
    // Wipe the old backup (header and its entries) unless it already is the new one.
    if old_backup as u64 != last {
        let old_entries = u64_at(disk, old_backup * SECTOR + 72) as usize * SECTOR;
        if has_backup_signature(disk, old_backup) && old_entries + entries <= disk.len() {
            disk[old_entries..old_entries + entries].fill(0);
        }
        disk[old_backup * SECTOR..old_backup * SECTOR + SECTOR].fill(0);
    }
    let backup_entries_lba = last - entry_sectors as u64;
    let last_usable = backup_entries_lba - 1;
    put64(disk, primary + 32, last);
    put64(disk, primary + 48, last_usable);
    seal(disk, primary, header_size);
    let b_entries = backup_entries_lba as usize * SECTOR;
    disk[b_entries..b_entries + entries].copy_from_slice(&array);
    let header: Vec<u8> = disk[primary..primary + SECTOR].to_vec();
    let b = last as usize * SECTOR;
    disk[b..b + SECTOR].copy_from_slice(&header);
    put64(disk, b + 24, last);
    put64(disk, b + 32, 1);
    put64(disk, b + 72, backup_entries_lba);
    seal(disk, b, header_size);
    // The protective MBR entry covers the whole disk (up to 2^32-1 sectors).
    for i in 0..4 {
        let e = 446 + 16 * i;
        if disk[e + 4] == PROTECTIVE {
            put32(disk, e + 12, last.min(u32::MAX as u64) as u32);
        }
    }
    Ok(())
}

fn has_backup_signature(disk: &[u8], lba: usize) -> bool {
    disk.get(lba * SECTOR..lba * SECTOR + 8) == Some(SIGNATURE)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A GPT disk of `sectors` sectors, 128 entries of 128 bytes (32 sectors), one
    /// partition, its backup at the end, a protective MBR.
    fn disk(sectors: usize) -> Vec<u8> {
        let mut d = vec![0u8; sectors * SECTOR];
        let last = (sectors - 1) as u64;
        d[446 + 4] = PROTECTIVE;
        put32(&mut d, 446 + 8, 1);
        put32(&mut d, 446 + 12, last as u32);
        d[510] = 0x55;
        d[511] = 0xaa;
        // One entry: some type GUID, LBAs 40..=50.
        let e = 2 * SECTOR;
        d[e] = 0xaf;
        put64(&mut d, e + 32, 40);
        put64(&mut d, e + 40, 50);
        let h = SECTOR;
        d[h..h + 8].copy_from_slice(SIGNATURE);
        put32(&mut d, h + 8, 0x10000);
        put32(&mut d, h + 12, 92);
        put64(&mut d, h + 24, 1);
        put64(&mut d, h + 32, last);
        put64(&mut d, h + 40, 34);
        put64(&mut d, h + 48, last - 33);
        put64(&mut d, h + 72, 2);
        put32(&mut d, h + 80, 128);
        put32(&mut d, h + 84, 128);
        let crc = crc32fast::hash(&d[e..e + 128 * 128]);
        put32(&mut d, h + 88, crc);
        seal(&mut d, h, 92);
        let array = d[e..e + 128 * 128].to_vec();
        let be = (sectors - 33) * SECTOR;
        d[be..be + array.len()].copy_from_slice(&array);
        let header = d[h..h + SECTOR].to_vec();
        let b = (sectors - 1) * SECTOR;
        d[b..b + SECTOR].copy_from_slice(&header);
        put64(&mut d, b + 24, last);
        put64(&mut d, b + 32, 1);
        put64(&mut d, b + 72, last - 32);
        seal(&mut d, b, 92);
        d
    }

    fn header_ok(d: &[u8], at: usize) -> bool {
        let mut h = d[at..at + 92].to_vec();
        let crc = u32_at(&h, 16);
        put32(&mut h, 16, 0);
        crc32fast::hash(&h) == crc
    }

    #[test]
    fn the_backup_moves_to_the_new_end() {
        let small = disk(100);
        assert!(header_ok(&small, SECTOR) && header_ok(&small, 99 * SECTOR));
        let mut d = small.clone();
        d.resize(2048 * SECTOR, 0);
        grow(&mut d).unwrap();
        let last = 2047u64;
        assert!(header_ok(&d, SECTOR));
        assert_eq!(u64_at(&d, SECTOR + 32), last);
        assert_eq!(u64_at(&d, SECTOR + 48), last - 33);
        let b = last as usize * SECTOR;
        assert_eq!(&d[b..b + 8], SIGNATURE);
        assert!(header_ok(&d, b));
        assert_eq!(u64_at(&d, b + 24), last);
        assert_eq!(u64_at(&d, b + 32), 1);
        assert_eq!(u64_at(&d, b + 72), last - 32);
        // The backup entries are the primary's, and their CRC still holds.
        let be = (last as usize - 32) * SECTOR;
        assert_eq!(
            &d[be..be + 128 * 128],
            &d[2 * SECTOR..2 * SECTOR + 128 * 128]
        );
        assert_eq!(crc32fast::hash(&d[be..be + 128 * 128]), u32_at(&d, b + 88));
        // The old backup is gone, the partition data untouched, the PMBR covers all.
        assert!(d[99 * SECTOR..100 * SECTOR].iter().all(|&x| x == 0));
        assert!(d[67 * SECTOR..99 * SECTOR].iter().all(|&x| x == 0));
        assert_eq!(u32_at(&d, 446 + 12), last as u32);
        assert_eq!(&d[..446], &small[..446]);
    }

    #[test]
    fn not_a_gpt() {
        let mut d = vec![0u8; 4096];
        assert!(!has_gpt(&d));
        assert!(grow(&mut d).is_err());
    }

    #[test]
    fn unchanged_size_is_a_no_op_in_effect() {
        let mut d = disk(100);
        let before = d.clone();
        grow(&mut d).unwrap();
        assert_eq!(d, before);
    }
}
