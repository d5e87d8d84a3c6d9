//! Little-endian field access: every on-disk ext2 structure is little-endian, and this
//! crate reads and patches fields in place in raw byte buffers.

/// The `u16` at byte offset `o`.
pub(crate) fn get16(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([b[o], b[o + 1]])
}

/// The `u32` at byte offset `o`.
pub(crate) fn get32(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
}

/// Stores `v` at byte offset `o`.
pub(crate) fn put16(b: &mut [u8], o: usize, v: u16) {
    b[o..o + 2].copy_from_slice(&v.to_le_bytes());
}

/// Stores `v` at byte offset `o`.
pub(crate) fn put32(b: &mut [u8], o: usize, v: u32) {
    b[o..o + 4].copy_from_slice(&v.to_le_bytes());
}
