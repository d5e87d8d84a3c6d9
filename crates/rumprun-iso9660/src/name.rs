//! File names without Rock Ridge: plain ISO 9660 identifiers mapped the way Linux's
//! `map=normal` does (lowercase, the `;1` version and a trailing `.` dropped), and
//! Joliet identifiers (UCS-2 big-endian, to UTF-8, version dropped).

use alloc::vec::Vec;

/// Drops a `;version` suffix.
fn strip_version(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|&c| c == b';') {
        Some(i) if name[i + 1..].iter().all(u8::is_ascii_digit) => &name[..i],
        _ => name,
    }
}

/// A plain ISO 9660 identifier as a Linux name: lowercase, without `;1` and without a
/// trailing `.` (`README.TXT;1` -> `readme.txt`, `MAKEFILE.;1` -> `makefile`).
pub fn map_plain(ident: &[u8]) -> Vec<u8> {
    let mut name = strip_version(ident);
    if name.len() > 1 && name.ends_with(b".") {
        name = &name[..name.len() - 1];
    }
    name.iter()
        .map(|&c| match c {
            b'/' => b'.',
            0 => b'_',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// A Joliet identifier (UCS-2/UTF-16 big-endian) as UTF-8, without `;1`. Unpaired
/// surrogates become U+FFFD; `/` and NUL become `_`.
pub fn map_joliet(ident: &[u8]) -> Vec<u8> {
    let units = ident
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]));
    let mut out = Vec::with_capacity(ident.len());
    for ch in char::decode_utf16(units) {
        let ch = match ch.unwrap_or(char::REPLACEMENT_CHARACTER) {
            '/' | '\0' => '_',
            c => c,
        };
        let mut b = [0u8; 4];
        out.extend_from_slice(ch.encode_utf8(&mut b).as_bytes());
    }
    let n = strip_version(&out).len();
    out.truncate(n);
    if out.len() > 1 && out.ends_with(b".") {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names() {
        assert_eq!(map_plain(b"README.TXT;1"), b"readme.txt");
        assert_eq!(map_plain(b"MAKEFILE.;1"), b"makefile");
        assert_eq!(map_plain(b"DIR"), b"dir");
        assert_eq!(map_plain(b"A.B;12"), b"a.b");
        assert_eq!(map_plain(b"X;Y"), b"x;y");
    }

    #[test]
    fn joliet_names() {
        let enc = |s: &str| -> Vec<u8> { s.encode_utf16().flat_map(|u| u.to_be_bytes()).collect() };
        assert_eq!(map_joliet(&enc("Hello World.txt;1")), b"Hello World.txt");
        assert_eq!(map_joliet(&enc("caf\u{e9}")), "caf\u{e9}".as_bytes());
        assert_eq!(map_joliet(&enc("\u{1f600}")), "\u{1f600}".as_bytes());
        assert_eq!(map_joliet(&enc("a/b")), b"a_b");
    }
}
