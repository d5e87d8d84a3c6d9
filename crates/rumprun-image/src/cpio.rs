//! The payload archive: cpio "newc" (SVR4, `070701`) writing and zero-copy reading.
//!
//! Layout of one entry: a 110-byte ASCII header (`070701` and 13 fields of 8 hex digits:
//! ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor,
//! namesize (with the NUL), check), the NUL-terminated name padded so that header + name
//! is a multiple of 4 bytes, then the data padded to 4. The entry named `TRAILER!!!`
//! ends the archive. The reader also accepts `070702` (same layout, checksum ignored).
//!
//! Hard links: regular files with the same `ino` and `nlink` > 1 are one file's data
//! under several names; one entry of the group holds the data (the first, as
//! [`CpioWriter::add_linked`] writes them and Linux's initramfs unpacker expects, or
//! the last, as GNU cpio writes them), the others have a size of 0. The reader gives
//! every entry of the group that data (the same bytes of the archive), so the payload
//! holds files with the same contents once.

use alloc::vec::Vec;
use core::fmt;

/// Name of the entry that ends every archive.
pub const TRAILER: &str = "TRAILER!!!";
/// File type bits of `mode`.
pub const S_IFMT: u32 = 0o170_000;
/// File type of a regular file.
pub const S_IFREG: u32 = 0o100_000;
/// File type of a directory.
pub const S_IFDIR: u32 = 0o040_000;
/// File type of a symbolic link; the entry's data is the link target.
pub const S_IFLNK: u32 = 0o120_000;

const HEADER_LEN: usize = 110;
const MAGIC_NEWC: &[u8; 6] = b"070701";
const MAGIC_CRC: &[u8; 6] = b"070702";

/// What is wrong with an archive (reader) or an entry (writer). `offset` is the byte
/// offset in the archive of the header of the entry that is wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpioError {
    /// The archive ends inside an entry, or before its `TRAILER!!!` entry.
    Truncated {
        /// Offset of the incomplete entry.
        offset: usize,
    },
    /// The header does not start with `070701` (or `070702`).
    BadMagic {
        /// Offset of the header.
        offset: usize,
    },
    /// A header field is not 8 hex digits, or the name size is 0.
    BadHeader {
        /// Offset of the header.
        offset: usize,
    },
    /// The name is not NUL terminated or not UTF-8.
    BadName {
        /// Offset of the header.
        offset: usize,
    },
    /// Writer: the name is empty, contains a NUL, or is `TRAILER!!!`.
    InvalidName,
    /// Writer: the data or the name is 4 GiB or more (newc sizes are 32 bits).
    TooLarge,
}

impl fmt::Display for CpioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CpioError::Truncated { offset } => {
                write!(f, "cpio archive truncated (entry at offset {offset})")
            }
            CpioError::BadMagic { offset } => {
                write!(f, "not a cpio newc header at offset {offset}")
            }
            CpioError::BadHeader { offset } => {
                write!(f, "bad cpio header field at offset {offset}")
            }
            CpioError::BadName { offset } => write!(f, "bad cpio entry name at offset {offset}"),
            CpioError::InvalidName => f.write_str("invalid cpio entry name"),
            CpioError::TooLarge => f.write_str("cpio entry too large (4 GiB or more)"),
        }
    }
}

impl core::error::Error for CpioError {}

#[cfg(feature = "std")]
impl From<CpioError> for std::io::Error {
    fn from(e: CpioError) -> Self {
        std::io::Error::new(std::io::ErrorKind::InvalidData, e)
    }
}

/// Data of regular files this large or larger starts on a page of the archive.
const PAGE: usize = 4096;

const fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// Builds a newc archive in memory. Entries keep the order they are added in; uid, gid
/// and mtime are 0 unless given with [`CpioWriter::add_entry_with`], so the output
/// depends only on the entries.
#[derive(Debug, Default)]
pub struct CpioWriter {
    buf: Vec<u8>,
    next_ino: u32,
}

impl CpioWriter {
    /// An empty archive.
    pub fn new() -> Self {
        CpioWriter {
            buf: Vec::new(),
            next_ino: 1,
        }
    }

    /// Adds a regular file `name` (e.g. `bin/hello`) with permission bits `perm`
    /// (e.g. `0o755`; bits outside `0o7777` are ignored).
    pub fn add_file(&mut self, name: &str, perm: u32, data: &[u8]) -> Result<(), CpioError> {
        self.add_entry(name, S_IFREG | (perm & 0o7777), data)
    }

    /// Adds a directory `name` with permission bits `perm`.
    pub fn add_dir(&mut self, name: &str, perm: u32) -> Result<(), CpioError> {
        self.add_entry(name, S_IFDIR | (perm & 0o7777), &[])
    }

    /// Adds a symbolic link `name` (mode `0o777`) pointing to `target`.
    pub fn add_symlink(&mut self, name: &str, target: &str) -> Result<(), CpioError> {
        self.add_entry(name, S_IFLNK | 0o777, target.as_bytes())
    }

    /// Adds an entry with the full `mode` (type and permission bits) given as is.
    pub fn add_entry(&mut self, name: &str, mode: u32, data: &[u8]) -> Result<(), CpioError> {
        self.add_entry_with(name, mode, Owner::default(), data)
    }

    /// Adds an entry with the full `mode` and the given owner and mtime.
    pub fn add_entry_with(
        &mut self,
        name: &str,
        mode: u32,
        owner: Owner,
        data: &[u8],
    ) -> Result<(), CpioError> {
        if name.is_empty() || name.contains('\0') || name == TRAILER {
            return Err(CpioError::InvalidName);
        }
        let nlink = if mode & S_IFMT == S_IFDIR { 2 } else { 1 };
        let ino = self.next_ino;
        self.next_ino = self.next_ino.wrapping_add(1);
        self.push(ino, mode, nlink, owner, name, data, 0)
    }

    /// Adds a regular file that may share its data with others as hard links: with
    /// `first` None it is a new group's first entry (its data written, `nlink` the
    /// group's size) and its ino is returned; with `Some(ino)` (what the first entry
    /// returned) it is one more name for that data (no data written).
    pub fn add_linked(
        &mut self,
        name: &str,
        mode: u32,
        owner: Owner,
        data: &[u8],
        nlink: u32,
        first: Option<u32>,
    ) -> Result<u32, CpioError> {
        if name.is_empty() || name.contains('\0') || name == TRAILER || mode & S_IFMT != S_IFREG {
            return Err(CpioError::InvalidName);
        }
        match first {
            Some(ino) => self
                .push(ino, mode, nlink, owner, name, &[], 0)
                .map(|_| ino),
            None => {
                let ino = self.next_ino;
                self.next_ino = self.next_ino.wrapping_add(1);
                self.push(ino, mode, nlink, owner, name, data, 0)
                    .map(|_| ino)
            }
        }
    }

    /// Appends the `TRAILER!!!` entry and returns the archive.
    pub fn finish(mut self) -> Vec<u8> {
        self.push(0, 0, 1, Owner::default(), TRAILER, &[], 0)
            .expect("the trailer entry is always valid");
        self.buf
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        ino: u32,
        mode: u32,
        nlink: u32,
        owner: Owner,
        name: &str,
        data: &[u8],
        check: u32,
    ) -> Result<(), CpioError> {
        let filesize = u32::try_from(data.len()).map_err(|_| CpioError::TooLarge)?;
        // A regular file of a page or more starts its data on a page boundary (of the
        // archive, which is loaded page-aligned): the kernel's tmpfs then uses the
        // payload's pages in place instead of copying them. The name's NUL is followed
        // by as many more NULs as that takes (counted in namesize; readers take the
        // name up to its first NUL).
        let pad = if mode & S_IFMT == S_IFREG && data.len() >= PAGE {
            let data_start = align4(self.buf.len() + HEADER_LEN + name.len() + 1);
            (PAGE - data_start % PAGE) % PAGE
        } else {
            0
        };
        let namesize = u32::try_from(name.len() + 1 + pad).map_err(|_| CpioError::TooLarge)?;
        let Owner { uid, gid, mtime } = owner;
        let fields = [
            ino, mode, uid, gid, nlink, mtime, filesize, 0, 0, 0, 0, namesize, check,
        ];
        self.buf.extend_from_slice(MAGIC_NEWC);
        for field in fields {
            for shift in (0..8).rev() {
                let digit = (field >> (shift * 4)) & 0xf;
                self.buf.push(b"0123456789abcdef"[digit as usize]);
            }
        }
        self.buf.extend_from_slice(name.as_bytes());
        self.buf.resize(self.buf.len() + 1 + pad, 0);
        self.pad();
        self.buf.extend_from_slice(data);
        self.pad();
        Ok(())
    }

    fn pad(&mut self) {
        let len = align4(self.buf.len());
        self.buf.resize(len, 0);
    }
}

/// Owner and modification time of an entry (all 0 by default).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Owner {
    /// User id.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
    /// Modification time, seconds since the epoch.
    pub mtime: u32,
}

/// The header fields of an entry that [`Entry`] does not carry, as stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Meta {
    /// Inode number (hard links share one).
    pub ino: u32,
    /// uid, gid and mtime.
    pub owner: Owner,
    /// Link count.
    pub nlink: u32,
    /// Device number of a device node: major.
    pub rdevmajor: u32,
    /// Device number of a device node: minor.
    pub rdevminor: u32,
    /// The entry's data is a [`DiskExtent`]: the file's bytes are in the image's file
    /// data region (`check` field [`ON_DISK`], see [`split_for_disk`]).
    pub on_disk: bool,
}

/// One archive entry, borrowing from the archive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry<'a> {
    /// The path as stored (e.g. `bin/hello`).
    pub name: &'a str,
    /// Type and permission bits (`S_IFREG | 0o755`, ...).
    pub mode: u32,
    /// The file contents (empty for directories).
    pub data: &'a [u8],
}

impl<'a> Entry<'a> {
    /// True for a regular file.
    pub fn is_file(&self) -> bool {
        self.mode & S_IFMT == S_IFREG
    }

    /// True for a directory.
    pub fn is_dir(&self) -> bool {
        self.mode & S_IFMT == S_IFDIR
    }

    /// True for a symbolic link (the data is the target).
    pub fn is_symlink(&self) -> bool {
        self.mode & S_IFMT == S_IFLNK
    }

    /// The permission bits (`mode & 0o7777`).
    pub fn permissions(&self) -> u32 {
        self.mode & 0o7777
    }

    /// `Some(name)` if this is a program: a regular file named `bin/<name>` (a leading
    /// `./` or `/` is allowed) where `<name>` is not empty and has no `/`.
    pub fn program_name(&self) -> Option<&'a str> {
        if !self.is_file() {
            return None;
        }
        let path = self.name;
        let path = path
            .strip_prefix("./")
            .or_else(|| path.strip_prefix('/'))
            .unwrap_or(path);
        let name = path.strip_prefix("bin/")?;
        (!name.is_empty() && !name.contains('/')).then_some(name)
    }
}

/// The entries of `archive`, in order, up to (not including) `TRAILER!!!`.
///
/// Yields `Err` once and then stops if the archive is malformed; an archive without a
/// trailer is [`CpioError::Truncated`]. Bytes after the trailer are ignored.
pub fn entries(archive: &[u8]) -> Entries<'_> {
    Entries {
        archive,
        pos: 0,
        done: false,
        resolve_links: true,
    }
}

/// The data of the hard-link group `ino`: the entry of it whose size is not 0.
fn linked_data(archive: &[u8], ino: u32) -> Option<&[u8]> {
    let mut raw = Entries {
        archive,
        pos: 0,
        done: false,
        resolve_links: false,
    };
    while let Some(Ok((e, meta))) = raw.next_with_meta() {
        if meta.ino == ino && meta.nlink > 1 && e.is_file() && !e.data.is_empty() {
            return Some(e.data);
        }
    }
    None
}

/// Like [`entries`], with each entry's [`Meta`] (owner, mtime, inode, link count, device).
pub fn entries_with_meta(archive: &[u8]) -> EntriesWithMeta<'_> {
    EntriesWithMeta {
        inner: entries(archive),
    }
}

/// The programs of `archive` in archive order: the entries for which
/// [`Entry::program_name`] is `Some`. Errors are passed through as in [`entries`].
pub fn programs(archive: &[u8]) -> Programs<'_> {
    Programs {
        inner: entries(archive),
    }
}

/// Iterator returned by [`entries`].
#[derive(Clone, Debug)]
pub struct Entries<'a> {
    archive: &'a [u8],
    pos: usize,
    done: bool,
    /// Give hard links without data their group's data.
    resolve_links: bool,
}

/// Iterator returned by [`entries_with_meta`].
#[derive(Clone, Debug)]
pub struct EntriesWithMeta<'a> {
    inner: Entries<'a>,
}

impl<'a> Iterator for EntriesWithMeta<'a> {
    type Item = Result<(Entry<'a>, Meta), CpioError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next_with_meta()
    }
}

/// Iterator returned by [`programs`].
#[derive(Clone, Debug)]
pub struct Programs<'a> {
    inner: Entries<'a>,
}

impl<'a> Iterator for Programs<'a> {
    type Item = Result<Entry<'a>, CpioError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.inner.next()? {
                Ok(e) if e.program_name().is_none() => continue,
                other => return Some(other),
            }
        }
    }
}

fn hex_field(b: &[u8]) -> Option<u32> {
    let mut v: u32 = 0;
    for &c in b {
        let d = (c as char).to_digit(16)?;
        v = (v << 4) | d;
    }
    Some(v)
}

impl<'a> Entries<'a> {
    fn parse(&mut self) -> Result<Option<(Entry<'a>, Meta)>, CpioError> {
        let offset = self.pos;
        let a = self.archive;
        let header = a
            .get(offset..)
            .and_then(|rest| rest.get(..HEADER_LEN))
            .ok_or(CpioError::Truncated { offset })?;
        if &header[..6] != MAGIC_NEWC && &header[..6] != MAGIC_CRC {
            return Err(CpioError::BadMagic { offset });
        }
        let field = |i: usize| {
            hex_field(&header[6 + 8 * i..14 + 8 * i]).ok_or(CpioError::BadHeader { offset })
        };
        let mut fields = [0u32; 13];
        for (i, f) in fields.iter_mut().enumerate() {
            *f = field(i)?;
        }
        let (mode, filesize, namesize) = (fields[1], fields[6] as usize, fields[11] as usize);
        if namesize == 0 {
            return Err(CpioError::BadHeader { offset });
        }
        let name_start = offset + HEADER_LEN;
        let name_end = name_start
            .checked_add(namesize)
            .ok_or(CpioError::Truncated { offset })?;
        let name_bytes = a
            .get(name_start..name_end)
            .ok_or(CpioError::Truncated { offset })?;
        let (nul, name_bytes) = name_bytes.split_last().expect("namesize is not 0");
        // The name ends at its first NUL; NULs after it only align the data.
        let (name_bytes, padding) = name_bytes.split_at(
            name_bytes
                .iter()
                .position(|&b| b == 0)
                .unwrap_or(name_bytes.len()),
        );
        if *nul != 0 || name_bytes.is_empty() || padding.iter().any(|&b| b != 0) {
            return Err(CpioError::BadName { offset });
        }
        let name = core::str::from_utf8(name_bytes).map_err(|_| CpioError::BadName { offset })?;
        if name == TRAILER {
            return Ok(None);
        }
        let data_start = align4(name_end);
        let data_end = data_start
            .checked_add(filesize)
            .ok_or(CpioError::Truncated { offset })?;
        let mut data = a
            .get(data_start..data_end)
            .ok_or(CpioError::Truncated { offset })?;
        self.pos = align4(data_end);
        let (ino, nlink) = (fields[0], fields[4]);
        if self.resolve_links && data.is_empty() && nlink > 1 && mode & S_IFMT == S_IFREG {
            data = linked_data(a, ino).unwrap_or(data);
        }
        let meta = Meta {
            ino: fields[0],
            owner: Owner {
                uid: fields[2],
                gid: fields[3],
                mtime: fields[5],
            },
            nlink: fields[4],
            rdevmajor: fields[9],
            rdevminor: fields[10],
            on_disk: fields[12] == ON_DISK && mode & S_IFMT == S_IFREG,
        };
        Ok(Some((Entry { name, mode, data }, meta)))
    }
}

impl<'a> Entries<'a> {
    fn next_with_meta(&mut self) -> Option<Result<(Entry<'a>, Meta), CpioError>> {
        if self.done {
            return None;
        }
        match self.parse() {
            Ok(Some(entry)) => Some(Ok(entry)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

impl<'a> Iterator for Entries<'a> {
    type Item = Result<Entry<'a>, CpioError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_with_meta().map(|r| r.map(|(e, _)| e))
    }
}

impl core::iter::FusedIterator for Entries<'_> {}
impl core::iter::FusedIterator for Programs<'_> {}
impl core::iter::FusedIterator for EntriesWithMeta<'_> {}

/// The `check` field of a regular file whose data lies in the image's file data
/// region: the entry's data is then a [`DiskExtent`] (every name of a hard-link group
/// carries it). `RRD1`.
pub const ON_DISK: u32 = 0x5252_4431;

/// The first bytes of a file data region's header page.
pub const DATA_MAGIC: [u8; 8] = *b"RRDATA01";

/// Where a file's bytes lie in the file data region: `size` bytes from `offset` (a
/// multiple of 4096 past the header page); the last page is padded with zeros.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DiskExtent {
    /// Byte offset in the region.
    pub offset: u64,
    /// The file's size.
    pub size: u64,
}

impl DiskExtent {
    /// Bytes of an extent as an entry's data.
    pub const LEN: usize = 16;

    /// The extent as an entry's data (little endian offset, then size).
    pub fn to_bytes(&self) -> [u8; Self::LEN] {
        let mut b = [0; Self::LEN];
        b[..8].copy_from_slice(&self.offset.to_le_bytes());
        b[8..].copy_from_slice(&self.size.to_le_bytes());
        b
    }

    /// Reads an extent from an entry's data (None unless exactly [`DiskExtent::LEN`]
    /// bytes with a page-aligned offset).
    pub fn parse(data: &[u8]) -> Option<DiskExtent> {
        let b: &[u8; Self::LEN] = data.try_into().ok()?;
        let offset = u64::from_le_bytes(b[..8].try_into().ok()?);
        let size = u64::from_le_bytes(b[8..].try_into().ok()?);
        (offset.is_multiple_of(PAGE as u64) && offset >= PAGE as u64)
            .then_some(DiskExtent { offset, size })
    }
}

/// An archive split by [`split_for_disk`].
#[derive(Debug)]
pub struct Split {
    /// The archive to load into memory: every entry, with the data of the files that
    /// went to the region replaced by their [`DiskExtent`].
    pub payload: Vec<u8>,
    /// The file data region: a header page ([`DATA_MAGIC`], `id`, the region's size,
    /// little endian), then each moved file's bytes from a page boundary, padded with
    /// zeros to a whole page. Empty when no file was moved.
    pub data: Vec<u8>,
    /// The region's identity: a hash of its contents (never 0); 0 when it is empty.
    pub id: u64,
}

/// Moves the data of the regular files of a page or more for which `keep` says
/// false out of `archive` into a file data region, read on demand from a disk instead
/// of loaded whole (ARCHITECTURE.md "The baked image"). Hard-link groups move as one
/// (their data is in the region once); entries keep their order, inode numbers,
/// modes, owners and times.
pub fn split_for_disk(
    archive: &[u8],
    keep: impl Fn(&Entry<'_>) -> bool,
) -> Result<Split, CpioError> {
    let raw = || Entries {
        archive,
        pos: 0,
        done: false,
        resolve_links: false,
    };
    let moves = |e: &Entry<'_>| e.is_file() && e.data.len() >= PAGE && !keep(e);
    // Hard-link groups whose data moves (their data entry may come last, as GNU cpio
    // writes it).
    let mut moved_groups = alloc::collections::BTreeSet::new();
    let mut it = raw();
    while let Some(r) = it.next_with_meta() {
        let (e, meta) = r?;
        if meta.nlink > 1 && moves(&e) {
            moved_groups.insert(meta.ino);
        }
    }
    let mut w = CpioWriter::new();
    let mut data = alloc::vec![0u8; PAGE];
    let mut extents = alloc::collections::BTreeMap::new();
    let mut it = raw();
    while let Some(r) = it.next_with_meta() {
        let (e, meta) = r?;
        let linked = e.is_file() && meta.nlink > 1 && moved_groups.contains(&meta.ino);
        let (bytes, check): (Vec<u8>, u32) = if moves(&e) {
            let ext = DiskExtent {
                offset: data.len() as u64,
                size: e.data.len() as u64,
            };
            data.extend_from_slice(e.data);
            data.resize(data.len().next_multiple_of(PAGE), 0);
            extents.insert(meta.ino, ext);
            (ext.to_bytes().to_vec(), ON_DISK)
        } else if linked && e.data.is_empty() {
            (Vec::new(), ON_DISK)
        } else {
            (e.data.to_vec(), 0)
        };
        w.push(
            meta.ino, e.mode, meta.nlink, meta.owner, e.name, &bytes, check,
        )?;
    }
    let payload = w.finish();
    if data.len() == PAGE {
        return Ok(Split {
            payload,
            data: Vec::new(),
            id: 0,
        });
    }
    // FNV-1a over the files' bytes, the size folded in.
    let mut id: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in &data[PAGE..] {
        id = (id ^ b as u64).wrapping_mul(0x0100_0000_01b3);
    }
    let id = (id ^ data.len() as u64).max(1);
    let len = data.len() as u64;
    data[..8].copy_from_slice(&DATA_MAGIC);
    data[8..16].copy_from_slice(&id.to_le_bytes());
    data[16..24].copy_from_slice(&len.to_le_bytes());
    Ok(Split { payload, data, id })
}

/// The inverse of [`split_for_disk`]: `payload` with every moved file's data taken
/// back from the file data region `data` (for tools and tests that read images).
pub fn join_from_disk(payload: &[u8], data: &[u8]) -> Result<Vec<u8>, CpioError> {
    let mut it = Entries {
        archive: payload,
        pos: 0,
        done: false,
        resolve_links: false,
    };
    let mut w = CpioWriter::new();
    while let Some(r) = it.next_with_meta() {
        let (e, meta) = r?;
        let bytes = match (meta.on_disk, DiskExtent::parse(e.data)) {
            (true, Some(x)) => data
                .get(x.offset as usize..)
                .and_then(|d| d.get(..x.size as usize))
                .ok_or(CpioError::Truncated { offset: it.pos })?,
            _ => e.data,
        };
        w.push(meta.ino, e.mode, meta.nlink, meta.owner, e.name, bytes, 0)?;
    }
    Ok(w.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn all(archive: &[u8]) -> Result<Vec<Entry<'_>>, CpioError> {
        entries(archive).collect()
    }

    #[test]
    fn empty_archive_is_just_a_trailer() {
        let a = CpioWriter::new().finish();
        assert_eq!(a.len(), 124); // 110 + 11, padded to 4
        assert_eq!(&a[..6], b"070701");
        assert_eq!(&a[110..121], b"TRAILER!!!\0");
        assert_eq!(all(&a).unwrap(), vec![]);
    }

    #[test]
    fn header_is_exactly_newc() {
        let mut w = CpioWriter::new();
        w.add_file("bin/a", 0o755, b"xyz").unwrap();
        let a = w.finish();
        let expect_header = concat!(
            "070701", "00000001", "000081ed", "00000000", "00000000", "00000001", "00000000",
            "00000003", "00000000", "00000000", "00000000", "00000000", "00000006", "00000000",
        );
        assert_eq!(&a[..110], expect_header.as_bytes());
        // 110 + 6 = 116 is aligned: the data follows the name's NUL directly.
        assert_eq!(&a[110..116], b"bin/a\0");
        assert_eq!(&a[116..120], b"xyz\0");
        assert_eq!(&a[120..126], b"070701");
    }

    #[test]
    fn round_trip_with_padding_of_every_length() {
        let datas: Vec<Vec<u8>> = (0..9)
            .map(|n| (0..n as u8).map(|b| b ^ 0x5a).collect())
            .collect();
        let names = [
            "bin/a", "bin/ab", "bin/abc", "bin/abcd", "etc", "etc/x", "b", "bin/", "./bin/z",
        ];
        let mut w = CpioWriter::new();
        for (i, (name, data)) in names.iter().zip(&datas).enumerate() {
            if *name == "etc" {
                w.add_dir(name, 0o755).unwrap();
            } else {
                w.add_file(name, 0o600 + i as u32, data).unwrap();
            }
        }
        let a = w.finish();
        assert_eq!(a.len() % 4, 0);
        let got = all(&a).unwrap();
        assert_eq!(got.len(), names.len());
        for (i, e) in got.iter().enumerate() {
            assert_eq!(e.name, names[i]);
            if names[i] == "etc" {
                assert!(e.is_dir() && !e.is_file());
                assert_eq!(e.permissions(), 0o755);
                assert!(e.data.is_empty());
            } else {
                assert!(e.is_file());
                assert_eq!(e.mode, S_IFREG | (0o600 + i as u32));
                assert_eq!(e.data, &datas[i][..]);
            }
        }
        let progs: Vec<_> = programs(&a)
            .map(|e| e.unwrap().program_name().unwrap())
            .collect();
        assert_eq!(progs, ["a", "ab", "abc", "abcd", "z"]);
    }

    #[test]
    fn program_names() {
        let e = |name, mode| Entry {
            name,
            mode,
            data: &[],
        };
        assert_eq!(
            e("bin/hello", S_IFREG | 0o755).program_name(),
            Some("hello")
        );
        assert_eq!(e("/bin/hello", S_IFREG).program_name(), Some("hello"));
        assert_eq!(e("bin/x/y", S_IFREG).program_name(), None);
        assert_eq!(e("bin/", S_IFREG).program_name(), None);
        assert_eq!(e("sbin/x", S_IFREG).program_name(), None);
        assert_eq!(e("bin/d", S_IFDIR | 0o755).program_name(), None);
    }

    #[test]
    fn big_files_start_on_a_page() {
        let mut w = CpioWriter::new();
        w.add_file("bin/small", 0o755, b"tiny").unwrap();
        let big: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
        w.add_file("bin/big", 0o755, &big).unwrap();
        w.add_dir("etc", 0o755).unwrap();
        let a = w.finish();
        let e: Vec<_> = entries(&a).map(Result::unwrap).collect();
        assert_eq!(e.len(), 3);
        assert_eq!((e[1].name, e[1].data), ("bin/big", &big[..]));
        assert_eq!(
            (e[1].data.as_ptr() as usize - a.as_ptr() as usize) % PAGE,
            0
        );
        assert_eq!(e[2].name, "etc");
    }

    #[test]
    fn writer_rejects_bad_names() {
        let mut w = CpioWriter::new();
        assert_eq!(w.add_file("", 0o644, b""), Err(CpioError::InvalidName));
        assert_eq!(w.add_file("a\0b", 0o644, b""), Err(CpioError::InvalidName));
        assert_eq!(w.add_file(TRAILER, 0o644, b""), Err(CpioError::InvalidName));
    }

    #[test]
    fn stops_at_trailer_and_ignores_what_follows() {
        let mut w = CpioWriter::new();
        w.add_file("bin/a", 0o755, b"1").unwrap();
        let mut a = w.finish();
        a.extend_from_slice(&[0u8; 512]);
        a.extend_from_slice(b"garbage");
        assert_eq!(all(&a).unwrap().len(), 1);
        // A trailer with its padding cut off still ends the archive.
        let mut b = CpioWriter::new().finish();
        b.truncate(121);
        assert_eq!(all(&b).unwrap(), vec![]);
    }

    #[test]
    fn malformed_archives() {
        let mut w = CpioWriter::new();
        w.add_file("bin/hello", 0o755, b"hello world").unwrap();
        let a = w.finish();

        assert_eq!(all(&[]), Err(CpioError::Truncated { offset: 0 }));
        assert_eq!(all(&a[..50]), Err(CpioError::Truncated { offset: 0 }));
        // Cut inside the name, inside the data, and before the trailer.
        assert_eq!(all(&a[..115]), Err(CpioError::Truncated { offset: 0 }));
        assert_eq!(all(&a[..125]), Err(CpioError::Truncated { offset: 0 }));
        let first = entries(&a[..132]).next().unwrap().unwrap();
        assert_eq!(first.data, b"hello world");
        assert_eq!(all(&a[..132]), Err(CpioError::Truncated { offset: 132 }));

        let mut bad = a.clone();
        bad[5] = b'7';
        assert_eq!(all(&bad), Err(CpioError::BadMagic { offset: 0 }));
        let mut bad = a.clone();
        bad[132] = b'x';
        assert_eq!(all(&bad), Err(CpioError::BadMagic { offset: 132 }));
        let mut bad = a.clone();
        bad[20] = b'g';
        assert_eq!(all(&bad), Err(CpioError::BadHeader { offset: 0 }));
        let mut bad = a.clone();
        bad[94..102].copy_from_slice(b"00000000"); // namesize 0
        assert_eq!(all(&bad), Err(CpioError::BadHeader { offset: 0 }));
        let mut bad = a.clone();
        bad[119] = b'!'; // the name's NUL
        assert_eq!(all(&bad), Err(CpioError::BadName { offset: 0 }));
        let mut bad = a.clone();
        bad[114] = 0xff; // not UTF-8
        assert_eq!(all(&bad), Err(CpioError::BadName { offset: 0 }));
        let mut bad = a.clone();
        bad[54..62].copy_from_slice(b"ffffffff"); // filesize far past the end
        assert_eq!(all(&bad), Err(CpioError::Truncated { offset: 0 }));

        // After an error the iterator is done.
        let mut it = entries(&a[..50]);
        assert!(it.next().unwrap().is_err());
        assert!(it.next().is_none());
        // programs() passes errors through.
        assert_eq!(
            programs(&a[..50]).next(),
            Some(Err(CpioError::Truncated { offset: 0 }))
        );
    }

    #[test]
    fn symlinks_owner_and_mtime_round_trip() {
        let mut w = CpioWriter::new();
        w.add_symlink("etc/l", "../target").unwrap();
        let owner = Owner {
            uid: 1000,
            gid: 100,
            mtime: 1_700_000_000,
        };
        w.add_entry_with("etc/f", S_IFREG | 0o600, owner, b"data")
            .unwrap();
        w.add_dir("etc", 0o755).unwrap();
        let a = w.finish();
        let got: Vec<_> = entries_with_meta(&a).collect::<Result<_, _>>().unwrap();
        assert_eq!(got.len(), 3);
        let (l, lm) = got[0];
        assert!(l.is_symlink() && !l.is_file() && !l.is_dir());
        assert_eq!(
            (l.name, l.mode, l.data),
            ("etc/l", S_IFLNK | 0o777, &b"../target"[..])
        );
        assert_eq!((lm.ino, lm.nlink, lm.owner), (1, 1, Owner::default()));
        let (f, fm) = got[1];
        assert_eq!(
            (f.name, f.permissions(), f.data),
            ("etc/f", 0o600, &b"data"[..])
        );
        assert_eq!((fm.ino, fm.owner), (2, owner));
        assert_eq!((got[2].1.ino, got[2].1.nlink), (3, 2));
        // The plain iterator sees the same entries.
        let plain: Vec<_> = entries(&a).map(|e| e.unwrap()).collect();
        assert_eq!(plain, got.iter().map(|(e, _)| *e).collect::<Vec<_>>());
        assert_eq!(programs(&a).count(), 0);
    }

    #[test]
    fn accepts_crc_magic_and_uppercase_hex() {
        let mut w = CpioWriter::new();
        w.add_file("bin/a", 0o755, b"abc").unwrap();
        let mut a = w.finish();
        a[5] = b'2';
        a[14..22].copy_from_slice(b"000081ED");
        let e = all(&a).unwrap();
        assert_eq!(e[0].mode, S_IFREG | 0o755);
        assert_eq!(e[0].data, b"abc");
    }

    #[test]
    fn hard_link_groups_share_their_data() {
        let big: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let mut w = CpioWriter::new();
        let o = Owner::default();
        let ino = w
            .add_linked("lib/a.so", S_IFREG | 0o644, o, &big, 3, None)
            .unwrap();
        w.add_file("etc/x", 0o644, b"x").unwrap();
        w.add_linked("usr/lib/a.so", S_IFREG | 0o644, o, &big, 3, Some(ino))
            .unwrap();
        w.add_linked("usr/lib/b.so", S_IFREG | 0o755, o, &[], 3, Some(ino))
            .unwrap();
        let a = w.finish();
        // Stored once.
        assert!(a.len() < big.len() + 4096 * 2 + 1024, "{}", a.len());
        let got: Vec<_> = entries_with_meta(&a).map(|r| r.unwrap()).collect();
        assert_eq!(got.len(), 4);
        for i in [0, 2, 3] {
            assert_eq!(got[i].0.data, &big[..], "{}", got[i].0.name);
            assert_eq!((got[i].1.ino, got[i].1.nlink), (ino, 3));
            // The very same bytes of the archive (the kernel borrows its pages).
            assert_eq!(got[i].0.data.as_ptr(), got[0].0.data.as_ptr());
        }
        assert_eq!(got[3].0.mode, S_IFREG | 0o755);
        assert_eq!(got[1].0.data, b"x");
    }

    #[test]
    fn hard_links_with_the_data_last_as_gnu_cpio_writes_them() {
        let mut w = CpioWriter::new();
        w.push(7, S_IFREG | 0o644, 2, Owner::default(), "one", &[], 0)
            .unwrap();
        w.push(7, S_IFREG | 0o644, 2, Owner::default(), "two", b"data", 0)
            .unwrap();
        let a = w.finish();
        let got: Vec<_> = entries(&a).map(|r| r.unwrap()).collect();
        assert_eq!((got[0].data, got[1].data), (&b"data"[..], &b"data"[..]));
    }

    #[test]
    fn split_moves_big_files_and_keeps_links_and_order() {
        let o = Owner {
            uid: 3,
            gid: 4,
            mtime: 5,
        };
        let big: Vec<u8> = (0..10_000u32).map(|i| (i * 7) as u8).collect();
        let other: Vec<u8> = (0..5000u32).map(|i| (i * 3) as u8).collect();
        let mut w = CpioWriter::new();
        w.add_file("bin/prog", 0o755, &big).unwrap();
        w.add_file("etc/small", 0o644, b"tiny").unwrap();
        let ino = w
            .add_linked("lib/a.so", S_IFREG | 0o644, o, &other, 2, None)
            .unwrap();
        w.add_linked("usr/lib/a.so", S_IFREG | 0o755, o, &[], 2, Some(ino))
            .unwrap();
        w.add_dir("var", 0o700).unwrap();
        w.add_file("usr/big", 0o600, &big).unwrap();
        let a = w.finish();
        let s = split_for_disk(&a, |e| e.program_name().is_some()).unwrap();
        assert_eq!(s.data.len() % PAGE, 0);
        assert_eq!(&s.data[..8], b"RRDATA01");
        assert_eq!(u64::from_le_bytes(s.data[8..16].try_into().unwrap()), s.id);
        assert_eq!(
            u64::from_le_bytes(s.data[16..24].try_into().unwrap()),
            s.data.len() as u64
        );
        assert_ne!(s.id, 0);
        // header page + 2 pages of `other` + 3 pages of `big`
        assert_eq!(s.data.len(), 6 * PAGE);
        let before: Vec<_> = entries_with_meta(&a).map(Result::unwrap).collect();
        let after: Vec<_> = entries_with_meta(&s.payload).map(Result::unwrap).collect();
        assert_eq!(before.len(), after.len());
        for ((b, bm), (e, m)) in before.iter().zip(&after) {
            assert_eq!(
                (b.name, b.mode, bm.ino, bm.nlink, bm.owner),
                (e.name, e.mode, m.ino, m.nlink, m.owner)
            );
            if m.on_disk {
                let x = DiskExtent::parse(e.data).unwrap();
                let bytes = &s.data[x.offset as usize..(x.offset + x.size) as usize];
                assert_eq!(bytes, b.data, "{}", e.name);
                assert!(s.data[(x.offset + x.size) as usize
                    ..(x.offset + x.size).next_multiple_of(4096) as usize]
                    .iter()
                    .all(|&z| z == 0));
            } else {
                assert_eq!(e.data, b.data, "{}", e.name);
            }
        }
        let on_disk: Vec<_> = after
            .iter()
            .filter(|(_, m)| m.on_disk)
            .map(|(e, _)| e.name)
            .collect();
        assert_eq!(on_disk, ["lib/a.so", "usr/lib/a.so", "usr/big"]);
        assert_eq!(join_from_disk(&s.payload, &s.data).unwrap(), a);
        // Nothing to move: no region.
        let s = split_for_disk(&a, |_| true).unwrap();
        assert_eq!((s.data.len(), s.id), (0, 0));
        assert!(entries_with_meta(&s.payload).all(|r| !r.unwrap().1.on_disk));
    }

    #[test]
    fn extents_are_checked() {
        let x = DiskExtent {
            offset: 8192,
            size: 5,
        };
        assert_eq!(DiskExtent::parse(&x.to_bytes()), Some(x));
        assert_eq!(DiskExtent::parse(&x.to_bytes()[..15]), None);
        let unaligned = DiskExtent {
            offset: 8193,
            size: 5,
        };
        assert_eq!(DiskExtent::parse(&unaligned.to_bytes()), None);
        let header = DiskExtent { offset: 0, size: 5 };
        assert_eq!(DiskExtent::parse(&header.to_bytes()), None);
    }
}
