//! A small read-only FAT reader (FAT12, FAT16, FAT32, VFAT long names) for the rumprun
//! kernel's config drives: cloud-init's NoCloud seeds are often `mkfs.vfat -n cidata`
//! images. It finds the volume label and reads whole files by path; it is not a
//! mountable file system.
//!
//! Why our own: `fatfs` 0.3 (crates.io) needs std (`core_io`), and `embedded-sdmmc`
//! has no FAT12 (what mkfs.vfat makes for small seeds) and expects a partition table.
//!
//! The volume is the whole device (a "superfloppy", as mkfs.vfat and clouds make
//! config drives); partitioned disks are not looked into. Names compare
//! case-insensitively (ASCII), as Linux's vfat does; a long name is used when its
//! checksum matches the short entry that follows it, else the 8.3 name (with the
//! Windows NT lower-case flags).
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use rumprun_vfs::{BlockDevice, SECTOR_SIZE};

/// Why a volume or a file cannot be read (one short phrase).
pub type Error = &'static str;

/// Which FAT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// 12-bit entries (fewer than 4085 clusters).
    Fat12,
    /// 16-bit entries (fewer than 65525 clusters).
    Fat16,
    /// 28-bit entries.
    Fat32,
}

/// Where the root directory is.
#[derive(Clone, Copy, Debug)]
enum Root {
    /// FAT12/16: a fixed region (byte offset, entry count).
    Fixed(u64, u32),
    /// FAT32: a cluster chain.
    Chain(u32),
}

const ATTR_DIR: u8 = 0x10;
const ATTR_VOLUME: u8 = 0x08;
const ATTR_LFN: u8 = 0x0f;

/// A FAT volume on a block device.
pub struct Fat {
    dev: Arc<dyn BlockDevice>,
    kind: Kind,
    cluster_bytes: u64,
    fat_offset: u64,
    data_offset: u64,
    clusters: u32,
    root: Root,
    bpb_label: String,
}

fn u16_at(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([b[o], b[o + 1]])
}
fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
}

/// An 11-byte label field, trailing spaces dropped.
fn label_text(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw)
        .trim_end_matches([' ', '\0'])
        .into()
}

/// One directory entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Its name (the long name when there is one).
    pub name: String,
    /// A directory.
    pub is_dir: bool,
    /// First cluster (0: empty file).
    pub cluster: u32,
    /// Size in bytes (files).
    pub size: u32,
}

/// The 8.3 name of a short entry, `.`-joined, lower-cased as its NT flags say.
fn short_name(e: &[u8]) -> String {
    let mut base: Vec<u8> = e[..8].to_vec();
    if base[0] == 0x05 {
        base[0] = 0xe5;
    }
    let mut ext: Vec<u8> = e[8..11].to_vec();
    while base.last() == Some(&b' ') {
        base.pop();
    }
    while ext.last() == Some(&b' ') {
        ext.pop();
    }
    if e[12] & 0x08 != 0 {
        base.make_ascii_lowercase();
    }
    if e[12] & 0x10 != 0 {
        ext.make_ascii_lowercase();
    }
    let mut name = String::from_utf8_lossy(&base).into_owned();
    if !ext.is_empty() {
        name.push('.');
        name.push_str(&String::from_utf8_lossy(&ext));
    }
    name
}

/// The checksum of an 11-byte short name that its long-name entries carry.
fn lfn_checksum(short: &[u8]) -> u8 {
    short
        .iter()
        .fold(0u8, |sum, &c| sum.rotate_right(1).wrapping_add(c))
}

/// Parses the 32-byte entries of a directory's bytes (stops at the end marker).
pub fn parse_dir(bytes: &[u8]) -> Vec<Entry> {
    let mut out = Vec::new();
    // Long-name pieces (sequence number -> 13 UTF-16 units) and their checksum.
    let mut lfn: Vec<(u8, [u16; 13])> = Vec::new();
    let mut lfn_sum = None;
    for e in bytes.chunks_exact(32) {
        match e[0] {
            0x00 => break,
            0xe5 => {
                lfn.clear();
                continue;
            }
            _ => {}
        }
        if e[11] & 0x3f == ATTR_LFN {
            if e[0] & 0x40 != 0 {
                lfn.clear();
            }
            let mut units = [0u16; 13];
            for (i, o) in [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30]
                .into_iter()
                .enumerate()
            {
                units[i] = u16_at(e, o);
            }
            lfn.push((e[0] & 0x1f, units));
            lfn_sum = Some(e[13]);
            continue;
        }
        if e[11] & ATTR_VOLUME != 0 {
            lfn.clear();
            continue;
        }
        let short = short_name(e);
        let mut name = short.clone();
        if !lfn.is_empty() && lfn_sum == Some(lfn_checksum(&e[..11])) {
            lfn.sort_by_key(|(seq, _)| *seq);
            let units: Vec<u16> = lfn
                .iter()
                .flat_map(|(_, u)| u.iter().copied())
                .take_while(|&u| u != 0 && u != 0xffff)
                .collect();
            if let Ok(long) = String::from_utf16(&units) {
                name = long;
            }
        }
        lfn.clear();
        if name == "." || name == ".." {
            continue;
        }
        out.push(Entry {
            name,
            is_dir: e[11] & ATTR_DIR != 0,
            cluster: (u32::from(u16_at(e, 20)) << 16) | u32::from(u16_at(e, 26)),
            size: u32_at(e, 28),
        });
    }
    out
}

impl Fat {
    /// Reads the boot sector of `dev`; `Err` if it is not a FAT volume.
    pub fn open(dev: Arc<dyn BlockDevice>) -> Result<Fat, Error> {
        let mut bs = vec![0u8; SECTOR_SIZE];
        if dev.sectors() < 1 || dev.read(0, &mut bs).is_err() {
            return Err("cannot read the boot sector");
        }
        if bs[510] != 0x55 || bs[511] != 0xaa || !matches!(bs[0], 0xeb | 0xe9) {
            return Err("not a FAT boot sector");
        }
        let bytes_per_sector = u64::from(u16_at(&bs, 11));
        let per_cluster = u64::from(bs[13]);
        let reserved = u64::from(u16_at(&bs, 14));
        let fats = u64::from(bs[16]);
        let root_entries = u32::from(u16_at(&bs, 17));
        let total = match u16_at(&bs, 19) {
            0 => u64::from(u32_at(&bs, 32)),
            n => u64::from(n),
        };
        let fat_sectors = match u16_at(&bs, 22) {
            0 => u64::from(u32_at(&bs, 36)),
            n => u64::from(n),
        };
        if !matches!(bytes_per_sector, 512 | 1024 | 2048 | 4096)
            || !per_cluster.is_power_of_two()
            || reserved == 0
            || fats == 0
            || fat_sectors == 0
        {
            return Err("bad FAT boot sector fields");
        }
        let root_sectors = (u64::from(root_entries) * 32).div_ceil(bytes_per_sector);
        let data_start = reserved + fats * fat_sectors + root_sectors;
        if total <= data_start || total * bytes_per_sector > dev.sectors() * SECTOR_SIZE as u64 {
            return Err("FAT volume larger than its disk");
        }
        let clusters = ((total - data_start) / per_cluster) as u32;
        let kind = if clusters < 4085 {
            Kind::Fat12
        } else if clusters < 65525 {
            Kind::Fat16
        } else {
            Kind::Fat32
        };
        let (root, label_at) = match kind {
            Kind::Fat32 => (Root::Chain(u32_at(&bs, 44)), 71),
            _ => (
                Root::Fixed(
                    (reserved + fats * fat_sectors) * bytes_per_sector,
                    root_entries,
                ),
                43,
            ),
        };
        Ok(Fat {
            dev,
            kind,
            cluster_bytes: per_cluster * bytes_per_sector,
            fat_offset: reserved * bytes_per_sector,
            data_offset: data_start * bytes_per_sector,
            clusters,
            root,
            bpb_label: label_text(&bs[label_at..label_at + 11]),
        })
    }

    /// Which FAT it is.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Reads `buf.len()` bytes at byte `offset` of the device.
    fn read_bytes(&self, offset: u64, buf: &mut [u8]) -> Result<(), Error> {
        let first = offset / SECTOR_SIZE as u64;
        let end = (offset + buf.len() as u64).div_ceil(SECTOR_SIZE as u64);
        if end > self.dev.sectors() {
            return Err("read past the end of the disk");
        }
        let mut tmp = vec![0u8; ((end - first) as usize) * SECTOR_SIZE];
        self.dev.read(first, &mut tmp).map_err(|_| "read error")?;
        let skip = (offset - first * SECTOR_SIZE as u64) as usize;
        buf.copy_from_slice(&tmp[skip..skip + buf.len()]);
        Ok(())
    }

    /// The FAT entry of cluster `n`: `None` at the end of a chain.
    fn next(&self, n: u32) -> Result<Option<u32>, Error> {
        let (off, width) = match self.kind {
            Kind::Fat12 => (u64::from(n) + u64::from(n) / 2, 2),
            Kind::Fat16 => (u64::from(n) * 2, 2),
            Kind::Fat32 => (u64::from(n) * 4, 4),
        };
        let mut b = [0u8; 4];
        self.read_bytes(self.fat_offset + off, &mut b[..width])?;
        let v = u32::from_le_bytes(b);
        let (v, eoc) = match self.kind {
            Kind::Fat12 => (if n & 1 == 1 { v >> 4 } else { v & 0xfff }, 0xff8),
            Kind::Fat16 => (v, 0xfff8),
            Kind::Fat32 => (v & 0x0fff_ffff, 0x0fff_fff8),
        };
        if v >= eoc {
            return Ok(None);
        }
        if v < 2 || v >= self.clusters + 2 {
            return Err("broken cluster chain");
        }
        Ok(Some(v))
    }

    /// The bytes of the cluster chain from `first`, at most `limit` bytes.
    fn read_chain(&self, first: u32, limit: u64) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        let mut c = Some(first);
        let mut steps = 0u32;
        while let Some(n) = c {
            if out.len() as u64 >= limit {
                break;
            }
            if n < 2 || n >= self.clusters + 2 || steps > self.clusters {
                return Err("broken cluster chain");
            }
            steps += 1;
            let at = out.len();
            let take = self.cluster_bytes.min(limit - at as u64) as usize;
            out.resize(at + take, 0);
            let offset = self.data_offset + u64::from(n - 2) * self.cluster_bytes;
            self.read_bytes(offset, &mut out[at..])?;
            c = self.next(n)?;
        }
        Ok(out)
    }

    /// The raw bytes of the root directory.
    fn root_bytes(&self) -> Result<Vec<u8>, Error> {
        match self.root {
            Root::Fixed(offset, entries) => {
                let mut b = vec![0u8; entries as usize * 32];
                self.read_bytes(offset, &mut b)?;
                Ok(b)
            }
            Root::Chain(c) => self.read_chain(c, u64::MAX),
        }
    }

    /// The volume label: the root directory's label entry (what `mkfs.vfat -n` and
    /// `fatlabel` write, and what Linux's blkid reports), else the boot sector's.
    pub fn label(&self) -> Result<String, Error> {
        let root = self.root_bytes()?;
        for e in root.chunks_exact(32) {
            if e[0] == 0 {
                break;
            }
            if e[0] != 0xe5 && e[11] & 0x3f != ATTR_LFN && e[11] & ATTR_VOLUME != 0 {
                return Ok(label_text(&e[..11]));
            }
        }
        Ok(match self.bpb_label.as_str() {
            "NO NAME" => String::new(),
            l => l.into(),
        })
    }

    /// The entries of the directory at `/`-separated `path` ("" is the root); `None`
    /// if a component is missing or not a directory.
    pub fn read_dir(&self, path: &str) -> Result<Option<Vec<Entry>>, Error> {
        let mut entries = parse_dir(&self.root_bytes()?);
        for part in path.split('/').filter(|p| !p.is_empty()) {
            let Some(e) = entries
                .iter()
                .find(|e| e.is_dir && e.name.eq_ignore_ascii_case(part))
            else {
                return Ok(None);
            };
            entries = if e.cluster == 0 {
                parse_dir(&self.root_bytes()?)
            } else {
                parse_dir(&self.read_chain(e.cluster, u64::MAX)?)
            };
        }
        Ok(Some(entries))
    }

    /// The whole file at `/`-separated `path`; `None` if there is no such file.
    /// Files over `max` bytes are an error.
    pub fn read_file(&self, path: &str, max: u64) -> Result<Option<Vec<u8>>, Error> {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        let Some(entries) = self.read_dir(dir)? else {
            return Ok(None);
        };
        let Some(e) = entries
            .into_iter()
            .find(|e| !e.is_dir && e.name.eq_ignore_ascii_case(name))
        else {
            return Ok(None);
        };
        if u64::from(e.size) > max {
            return Err("file too big");
        }
        if e.size == 0 {
            return Ok(Some(Vec::new()));
        }
        let data = self.read_chain(e.cluster, u64::from(e.size))?;
        if data.len() < e.size as usize {
            return Err("file shorter than its size");
        }
        Ok(Some(data))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_and_case_flags() {
        let mut e = [b' '; 32];
        e[..11].copy_from_slice(b"CONFIG  JSO");
        e[12] = 0;
        assert_eq!(short_name(&e), "CONFIG.JSO");
        e[12] = 0x18;
        assert_eq!(short_name(&e), "config.jso");
        e[..11].copy_from_slice(b"RUMPRUN    ");
        e[12] = 0x08;
        assert_eq!(short_name(&e), "rumprun");
    }

    #[test]
    fn a_long_name_with_a_bad_checksum_is_ignored() {
        let mut dir = vec![0u8; 96];
        // LFN entry "ab" (last, seq 1), checksum 0 (wrong).
        dir[0] = 0x41;
        dir[1] = b'a';
        dir[3] = b'b';
        dir[11] = ATTR_LFN;
        dir[13] = 0;
        for o in [7, 9, 14, 16, 18, 20, 22, 24, 28, 30] {
            dir[o] = 0xff;
            dir[o + 1] = 0xff;
        }
        dir[32..43].copy_from_slice(b"AB~1       ");
        dir[32 + 28] = 5;
        let entries = parse_dir(&dir);
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].name, "AB~1");
        // With the right checksum the long name wins.
        dir[13] = lfn_checksum(b"AB~1       ");
        assert_eq!(parse_dir(&dir)[0].name, "ab");
    }
}
