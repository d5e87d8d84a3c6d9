//! The bake-info block: the kernel's record of where its payload is and which config baked it.

use core::fmt;

/// Magic bytes at the start of every bake-info block.
pub const MAGIC: [u8; 8] = *b"RRBAKE01";

/// Name of the ELF section that holds the [`BakeInfo`] block in the kernel.
pub const SECTION_NAME: &str = ".rumprun_bakeinfo";

/// Size of the `config` field: the config name is NUL padded to this many bytes
/// (a name of exactly `CONFIG_LEN` bytes has no NUL).
pub const CONFIG_LEN: usize = 32;

/// The bake-info block, exactly as it lies in the kernel image (`#[repr(C)]`, 80 bytes,
/// fields little endian on x86_64).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BakeInfo {
    /// Always [`MAGIC`].
    pub magic: [u8; 8],
    /// Physical address of the payload (the cpio archive); 0 when unbaked.
    pub payload_paddr: u64,
    /// Size of the payload in bytes; 0 when unbaked.
    pub payload_size: u64,
    /// The bake config name (e.g. `hw_virtio`), NUL padded; all NUL when unbaked.
    pub config: [u8; CONFIG_LEN],
    /// Byte offset in the image file of its *file data region* (page aligned): the
    /// data of the baked files that are read on demand from the image itself,
    /// attached as a read-only disk ([`crate::cpio::split_for_disk`]); 0 when there is
    /// none (everything is in the payload).
    pub data_offset: u64,
    /// Size of the file data region in bytes (its header page included); 0: none.
    pub data_size: u64,
    /// The region's identity (a hash of its contents), also in its header page, so
    /// the kernel knows the disk that holds it.
    pub data_id: u64,
}

/// Why bytes could not be read as, or a value could not be put into, a [`BakeInfo`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BakeInfoError {
    /// Fewer than [`BakeInfo::SIZE`] bytes were given.
    TooShort,
    /// The bytes do not start with [`MAGIC`].
    BadMagic,
    /// A config name is longer than [`CONFIG_LEN`] bytes or contains a NUL.
    BadConfigName,
}

impl fmt::Display for BakeInfoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BakeInfoError::TooShort => "bake-info block is too short",
            BakeInfoError::BadMagic => "bake-info block has a bad magic (expected RRBAKE01)",
            BakeInfoError::BadConfigName => "config name is longer than 32 bytes or contains a NUL",
        })
    }
}

impl core::error::Error for BakeInfoError {}

impl BakeInfo {
    /// Size of the block in bytes (also `size_of::<BakeInfo>()`).
    pub const SIZE: usize = 80;

    /// The block of an unbaked kernel: magic set, everything else zero.
    pub const fn unbaked() -> BakeInfo {
        BakeInfo {
            magic: MAGIC,
            payload_paddr: 0,
            payload_size: 0,
            config: [0; CONFIG_LEN],
            data_offset: 0,
            data_size: 0,
            data_id: 0,
        }
    }

    /// A baked block for a payload at `payload_paddr` of `payload_size` bytes, made with
    /// the config `config`.
    pub fn baked(
        payload_paddr: u64,
        payload_size: u64,
        config: &str,
    ) -> Result<Self, BakeInfoError> {
        let name = config.as_bytes();
        if name.len() > CONFIG_LEN || name.contains(&0) {
            return Err(BakeInfoError::BadConfigName);
        }
        let mut info = BakeInfo {
            payload_paddr,
            payload_size,
            ..BakeInfo::unbaked()
        };
        info.config[..name.len()].copy_from_slice(name);
        Ok(info)
    }

    /// True when a payload has been baked in (`payload_size != 0`).
    pub const fn is_baked(&self) -> bool {
        self.payload_size != 0
    }

    /// The config name: the bytes of `config` up to the first NUL. `None` if they are not
    /// UTF-8. Empty for an unbaked kernel.
    pub fn config_name(&self) -> Option<&str> {
        let len = self
            .config
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(CONFIG_LEN);
        core::str::from_utf8(&self.config[..len]).ok()
    }

    /// The block as it lies in the image (little endian).
    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut out = [0u8; Self::SIZE];
        out[0..8].copy_from_slice(&self.magic);
        out[8..16].copy_from_slice(&self.payload_paddr.to_le_bytes());
        out[16..24].copy_from_slice(&self.payload_size.to_le_bytes());
        out[24..56].copy_from_slice(&self.config);
        out[56..64].copy_from_slice(&self.data_offset.to_le_bytes());
        out[64..72].copy_from_slice(&self.data_size.to_le_bytes());
        out[72..80].copy_from_slice(&self.data_id.to_le_bytes());
        out
    }

    /// Reads a block from the first [`BakeInfo::SIZE`] bytes of `bytes` (extra bytes are
    /// ignored). Fails if there are too few bytes or the magic is wrong.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BakeInfoError> {
        let b = bytes.get(..Self::SIZE).ok_or(BakeInfoError::TooShort)?;
        if b[0..8] != MAGIC {
            return Err(BakeInfoError::BadMagic);
        }
        let u64_at = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&b[i..i + 8]);
            u64::from_le_bytes(w)
        };
        let mut config = [0u8; CONFIG_LEN];
        config.copy_from_slice(&b[24..56]);
        Ok(BakeInfo {
            magic: MAGIC,
            payload_paddr: u64_at(8),
            payload_size: u64_at(16),
            config,
            data_offset: u64_at(56),
            data_size: u64_at(64),
            data_id: u64_at(72),
        })
    }
}

impl Default for BakeInfo {
    fn default() -> Self {
        BakeInfo::unbaked()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_the_contract() {
        assert_eq!(core::mem::size_of::<BakeInfo>(), BakeInfo::SIZE);
        assert_eq!(core::mem::align_of::<BakeInfo>(), 8);
        assert_eq!(SECTION_NAME, ".rumprun_bakeinfo");
        assert_eq!(&MAGIC, b"RRBAKE01");
    }

    #[test]
    fn unbaked_is_magic_then_zeroes() {
        let b = BakeInfo::unbaked().to_bytes();
        assert_eq!(&b[..8], b"RRBAKE01");
        assert!(b[8..].iter().all(|&x| x == 0));
        let u = BakeInfo::from_bytes(&b).unwrap();
        assert!(!u.is_baked());
        assert_eq!(u.config_name(), Some(""));
        assert_eq!(u, BakeInfo::default());
    }

    #[test]
    fn round_trip_little_endian() {
        let info = BakeInfo::baked(0x0123_4567_89ab_c000, 0x1122, "hw_virtio").unwrap();
        let b = info.to_bytes();
        assert_eq!(&b[8..16], &[0x00, 0xc0, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01]);
        assert_eq!(&b[16..24], &[0x22, 0x11, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&b[24..33], b"hw_virtio");
        assert!(b[33..].iter().all(|&x| x == 0));
        let info = BakeInfo {
            data_offset: 0x20_0000,
            data_size: 0x3000,
            data_id: 7,
            ..info
        };
        let b = info.to_bytes();
        assert_eq!(&b[56..59], &[0, 0, 0x20]);
        assert_eq!((b[64], b[65], b[72]), (0, 0x30, 7));
        let back = BakeInfo::from_bytes(&b).unwrap();
        assert_eq!(back, info);
        assert!(back.is_baked());
        assert_eq!(back.config_name(), Some("hw_virtio"));
    }

    #[test]
    fn config_name_edge_cases() {
        let full = "a".repeat(CONFIG_LEN);
        let info = BakeInfo::baked(1, 2, &full).unwrap();
        assert_eq!(info.config_name(), Some(full.as_str()));
        assert_eq!(
            BakeInfo::baked(1, 2, &"a".repeat(CONFIG_LEN + 1)),
            Err(BakeInfoError::BadConfigName)
        );
        assert_eq!(
            BakeInfo::baked(1, 2, "a\0b"),
            Err(BakeInfoError::BadConfigName)
        );
        let mut bad = BakeInfo::unbaked();
        bad.config[0] = 0xff;
        assert_eq!(bad.config_name(), None);
    }

    #[test]
    fn malformed_bytes() {
        let b = BakeInfo::unbaked().to_bytes();
        assert_eq!(BakeInfo::from_bytes(&b[..79]), Err(BakeInfoError::TooShort));
        assert_eq!(BakeInfo::from_bytes(&[]), Err(BakeInfoError::TooShort));
        let mut m = b;
        m[7] = b'2';
        assert_eq!(BakeInfo::from_bytes(&m), Err(BakeInfoError::BadMagic));
        let mut longer = [0u8; 88];
        longer[..80].copy_from_slice(&b);
        assert!(BakeInfo::from_bytes(&longer).is_ok());
    }
}
