//! Rock Ridge (RRIP 1.10/1.12) from a record's SUSP entries: `NM` alternate names
//! (continued over several entries), `PX` POSIX attributes (mode, links, owner, and the
//! serial number if the 1.12 form has it), `TF` timestamps (short or long form), `SL`
//! symlink targets (components with root/current/parent flags, continued within and
//! across entries), `PN` device numbers, and the directory relocation entries `CL`
//! (child link), `PL` (parent link) and `RE` (relocated).

use alloc::vec::Vec;

use rumprun_vfs::{makedev, Timespec};

use crate::record::both32;
use crate::susp::Entry;
use crate::time;

/// What Rock Ridge says about one file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RockRidge {
    /// The POSIX name (`NM`).
    pub name: Option<Vec<u8>>,
    /// `st_mode` (`PX`).
    pub mode: Option<u32>,
    /// `st_nlink`.
    pub nlink: Option<u32>,
    /// Owner.
    pub uid: Option<u32>,
    /// Group.
    pub gid: Option<u32>,
    /// File serial number (RRIP 1.12 `PX`), unused for `st_ino` (see the crate docs).
    pub serial: Option<u32>,
    /// Creation time (`TF`).
    pub btime: Option<Timespec>,
    /// Modification time.
    pub mtime: Option<Timespec>,
    /// Access time.
    pub atime: Option<Timespec>,
    /// Attribute change time.
    pub ctime: Option<Timespec>,
    /// Symlink target (`SL`).
    pub symlink: Option<Vec<u8>>,
    /// Device number (`PN`), [`makedev`] encoding.
    pub rdev: Option<u64>,
    /// Child link: this entry stands for the directory at this block (`CL`).
    pub child_link: Option<u64>,
    /// Parent link: the real parent of a relocated directory (`PL`, in its `..`).
    pub parent_link: Option<u64>,
    /// This is a relocated directory's entry in the relocation directory: hide it.
    pub relocated: bool,
}

/// `NM` and `SL` flag bits.
const CONTINUE: u8 = 0x01;
const CURRENT: u8 = 0x02;
const PARENT: u8 = 0x04;
const ROOT: u8 = 0x08;

/// Reads a both-endian 32-bit field at `at` if present.
fn field(d: &[u8], at: usize) -> Option<u32> {
    d.get(at..at + 8).map(both32)
}

impl RockRidge {
    /// Interprets `entries` (other signatures are ignored).
    pub fn parse(entries: &[Entry]) -> RockRidge {
        let mut rr = RockRidge::default();
        let mut name: Option<Vec<u8>> = None;
        let mut link = SymlinkBuilder::default();
        for e in entries {
            let d = &e.data[..];
            match &e.sig {
                b"NM" if !d.is_empty() && d[0] & (CURRENT | PARENT) == 0 => {
                    name.get_or_insert_with(Vec::new).extend_from_slice(&d[1..]);
                }
                b"PX" => {
                    rr.mode = field(d, 0);
                    rr.nlink = field(d, 8);
                    rr.uid = field(d, 16);
                    rr.gid = field(d, 24);
                    rr.serial = field(d, 32);
                }
                b"TF" if !d.is_empty() => rr.parse_tf(d),
                b"SL" if !d.is_empty() => link.add(d),
                b"PN" => {
                    if let (Some(hi), Some(lo)) = (field(d, 0), field(d, 8)) {
                        rr.rdev = Some(if hi == 0 {
                            // One 32-bit dev_t in Linux's new_encode_dev layout.
                            makedev((lo & 0xfff00) >> 8, (lo & 0xff) | ((lo >> 12) & 0xfff00))
                        } else {
                            makedev(hi, lo)
                        });
                    }
                }
                b"CL" => rr.child_link = field(d, 0).map(u64::from),
                b"PL" => rr.parent_link = field(d, 0).map(u64::from),
                b"RE" => rr.relocated = true,
                _ => {}
            }
        }
        rr.name = name.filter(|n| !n.is_empty());
        rr.symlink = link.finish();
        rr
    }

    /// `TF`: flags, then the recorded times in the order creation, modify, access,
    /// attributes, backup, expiration, effective; 7 bytes each, or 17 if bit 7 is set.
    fn parse_tf(&mut self, d: &[u8]) {
        let flags = d[0];
        let size = if flags & 0x80 != 0 { 17 } else { 7 };
        let mut pos = 1;
        for bit in 0..7 {
            if flags & (1 << bit) == 0 {
                continue;
            }
            let Some(raw) = d.get(pos..pos + size) else {
                return;
            };
            pos += size;
            let t = if size == 17 {
                time::from_17byte(raw)
            } else {
                time::from_7byte(raw)
            };
            match bit {
                0 => self.btime = Some(t),
                1 => self.mtime = Some(t),
                2 => self.atime = Some(t),
                3 => self.ctime = Some(t),
                _ => {}
            }
        }
    }
}

/// Assembles a symlink target from `SL` entries.
#[derive(Default)]
struct SymlinkBuilder {
    target: Option<Vec<u8>>,
    /// The last component was flagged "continues in the next component".
    joined: bool,
}

impl SymlinkBuilder {
    /// One `SL` entry: flags byte, then components (flags, length, content).
    fn add(&mut self, d: &[u8]) {
        let target = self.target.get_or_insert_with(Vec::new);
        let mut pos = 1;
        while pos + 2 <= d.len() {
            let flags = d[pos];
            let len = d[pos + 1] as usize;
            let Some(content) = d.get(pos + 2..pos + 2 + len) else {
                break;
            };
            pos += 2 + len;
            if flags & ROOT != 0 {
                target.clear();
                target.push(b'/');
                self.joined = false;
                continue;
            }
            if !self.joined && !target.is_empty() && !target.ends_with(b"/") {
                target.push(b'/');
            }
            if flags & CURRENT != 0 {
                target.push(b'.');
            } else if flags & PARENT != 0 {
                target.extend_from_slice(b"..");
            } else {
                target.extend_from_slice(content);
            }
            self.joined = flags & CONTINUE != 0;
        }
    }

    fn finish(self) -> Option<Vec<u8>> {
        self.target
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn e(sig: &[u8; 2], data: &[u8]) -> Entry {
        Entry {
            sig: *sig,
            data: data.to_vec(),
        }
    }

    fn both(v: u32) -> Vec<u8> {
        let mut b = v.to_le_bytes().to_vec();
        b.extend_from_slice(&v.to_be_bytes());
        b
    }

    #[test]
    fn names_continue() {
        let rr = RockRidge::parse(&[e(b"NM", b"\x01Hello"), e(b"NM", b"\x00World")]);
        assert_eq!(rr.name.as_deref(), Some(&b"HelloWorld"[..]));
        let rr = RockRidge::parse(&[e(b"NM", b"\x02")]);
        assert_eq!(rr.name, None);
    }

    #[test]
    fn px_and_pn() {
        let mut px = Vec::new();
        for v in [0o100644, 3, 1000, 100] {
            px.extend(both(v));
        }
        let rr = RockRidge::parse(&[e(b"PX", &px)]);
        assert_eq!(
            (rr.mode, rr.nlink, rr.uid, rr.gid, rr.serial),
            (Some(0o100644), Some(3), Some(1000), Some(100), None)
        );
        let mut pn = both(0);
        pn.extend(both(0x0803));
        assert_eq!(RockRidge::parse(&[e(b"PN", &pn)]).rdev, Some(makedev(8, 3)));
        let mut pn = both(259);
        pn.extend(both(70000));
        assert_eq!(
            RockRidge::parse(&[e(b"PN", &pn)]).rdev,
            Some(makedev(259, 70000))
        );
    }

    #[test]
    fn symlinks() {
        // /usr/../lib/x, split across two SL entries in the middle of "lib".
        let a = [
            0x01, ROOT, 0, 0, 3, b'u', b's', b'r', PARENT, 0, CONTINUE, 2, b'l', b'i',
        ];
        let b = [0x00, 0, 1, b'b', 0, 1, b'x'];
        let rr = RockRidge::parse(&[e(b"SL", &a), e(b"SL", &b)]);
        assert_eq!(rr.symlink.as_deref(), Some(&b"/usr/../lib/x"[..]));
        let rel = [0, CURRENT, 0, 0, 3, b'a', b'b', b'c'];
        let rr = RockRidge::parse(&[e(b"SL", &rel)]);
        assert_eq!(rr.symlink.as_deref(), Some(&b"./abc"[..]));
        // Truncated component: no panic.
        let rr = RockRidge::parse(&[e(b"SL", &[0, 0, 9, b'a'])]);
        assert_eq!(rr.symlink.as_deref(), Some(&b""[..]));
    }

    #[test]
    fn times_and_links() {
        let mut tf = vec![0x06];
        tf.extend_from_slice(&[70, 1, 2, 0, 0, 0, 0]);
        tf.extend_from_slice(&[70, 1, 3, 0, 0, 0, 0]);
        let rr = RockRidge::parse(&[e(b"TF", &tf), e(b"CL", &both(42)), e(b"RE", b"")]);
        assert_eq!(rr.mtime.unwrap().sec, 86_400);
        assert_eq!(rr.atime.unwrap().sec, 2 * 86_400);
        assert_eq!(rr.btime, None);
        assert_eq!(rr.child_link, Some(42));
        assert!(rr.relocated);
    }
}
