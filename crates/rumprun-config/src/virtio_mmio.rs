//! `virtio_mmio.device=SIZE@BASE:IRQ[:ID]` words: how a machine without PCI (QEMU's
//! `-M microvm` with `acpi=off`, Firecracker) tells the kernel where its virtio-mmio
//! devices are, in the format Linux reads. The hypervisor adds them to the kernel
//! command line, QEMU after the JSON config; [`take_virtio_mmio`] takes them out of
//! the text (before the first `{` and after the config's closing `}`) so the config
//! parser never sees them.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::json::parse_lax_prefix;

/// One virtio-mmio device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VirtioMmio {
    /// Physical address of its register window.
    pub base: u64,
    /// Size of the window in bytes.
    pub size: u64,
    /// Its interrupt line (a GSI of the IOAPIC).
    pub irq: u32,
}

const PREFIX: &str = "virtio_mmio.device=";

/// Parses a number as Linux's `memparse`/`kstrtoul(…, 0)` would: `0x` hex, a leading
/// `0` octal, else decimal; with `sizes`, an optional K/M/G suffix.
fn number(text: &str, sizes: bool) -> Option<u64> {
    let (digits, shift) = match text.as_bytes().last()? {
        b'k' | b'K' if sizes => (&text[..text.len() - 1], 10),
        b'm' | b'M' if sizes => (&text[..text.len() - 1], 20),
        b'g' | b'G' if sizes => (&text[..text.len() - 1], 30),
        _ => (text, 0),
    };
    let value = if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        u64::from_str_radix(hex, 16).ok()?
    } else if digits.len() > 1 && digits.starts_with('0') {
        u64::from_str_radix(&digits[1..], 8).ok()?
    } else {
        digits.parse().ok()?
    };
    value.checked_mul(1 << shift)
}

/// Parses the value of one `virtio_mmio.device=` word (after the `=`).
pub fn parse_device(value: &str) -> Option<VirtioMmio> {
    let (size, rest) = value.split_once('@')?;
    let mut parts = rest.split(':');
    let base = number(parts.next()?, false)?;
    let irq = number(parts.next()?, false)?;
    if let Some(id) = parts.next() {
        number(id, false)?; // Linux's optional platform device id: checked, unused
    }
    if parts.next().is_some() {
        return None;
    }
    let size = number(size, true)?;
    (size > 0 && irq <= u32::MAX as u64).then_some(VirtioMmio {
        base,
        size,
        irq: irq as u32,
    })
}

/// What [`take_virtio_mmio`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Taken {
    /// The command line without the words (what the config parser reads).
    pub rest: String,
    /// The devices, in command-line order.
    pub devices: Vec<VirtioMmio>,
    /// Words with the prefix that did not parse (to report).
    pub malformed: Vec<String>,
}

/// Takes the `virtio_mmio.device=` words out of `cmdline`: every such word before the
/// first `{` (the config) and after the config's closing `}`. Text the JSON parser
/// cannot read is left alone (the config parser reports it).
pub fn take_virtio_mmio(cmdline: &str) -> Taken {
    let mut taken = Taken::default();
    let (head, config, tail) = match cmdline.find('{') {
        None => (cmdline, "", ""),
        Some(at) => match parse_lax_prefix(cmdline, at) {
            Ok((_, end)) => (&cmdline[..at], &cmdline[at..end], &cmdline[end..]),
            Err(_) => (&cmdline[..at], &cmdline[at..], ""),
        },
    };
    let keep = |part: &str, taken: &mut Taken| -> String {
        let mut kept = Vec::new();
        for word in part.split_ascii_whitespace() {
            match word.strip_prefix(PREFIX) {
                Some(value) => match parse_device(value) {
                    Some(d) => taken.devices.push(d),
                    None => taken.malformed.push(word.to_string()),
                },
                None => kept.push(word),
            }
        }
        kept.join(" ")
    };
    let head = keep(head, &mut taken);
    let tail = keep(tail, &mut taken);
    taken.rest = [head.as_str(), config, tail.as_str()]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    taken
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(base: u64, size: u64, irq: u32) -> VirtioMmio {
        VirtioMmio { base, size, irq }
    }

    #[test]
    fn qemu_microvm_words_after_the_config_are_taken() {
        let t = take_virtio_mmio(
            r#"{"cmdline": "a b", "env": "X=1"} virtio_mmio.device=512@0xfeb00e00:12 virtio_mmio.device=512@0xfeb00c00:11"#,
        );
        assert_eq!(t.rest, r#"{"cmdline": "a b", "env": "X=1"}"#);
        assert_eq!(
            t.devices,
            [dev(0xfeb0_0e00, 512, 12), dev(0xfeb0_0c00, 512, 11)]
        );
        assert!(t.malformed.is_empty());
    }

    #[test]
    fn words_before_the_config_are_taken_and_others_kept() {
        let t = take_virtio_mmio(
            "console=ttyS0 virtio_mmio.device=4K@0xd0000000:5:3 {\"env\": \"a=b c\"}",
        );
        assert_eq!(t.rest, "console=ttyS0 {\"env\": \"a=b c\"}");
        assert_eq!(t.devices, [dev(0xd000_0000, 4096, 5)]);
    }

    #[test]
    fn no_config_at_all() {
        let t = take_virtio_mmio(" virtio_mmio.device=1M@4096:0x10 ");
        assert_eq!(t.rest, "");
        assert_eq!(t.devices, [dev(4096, 1 << 20, 16)]);
        assert_eq!(take_virtio_mmio("").rest, "");
    }

    #[test]
    fn words_inside_the_config_stay() {
        let line = r#"{"cmdline": "prog virtio_mmio.device=512@0x1000:5"}"#;
        let t = take_virtio_mmio(line);
        assert_eq!(t.rest, line);
        assert!(t.devices.is_empty());
    }

    #[test]
    fn malformed_words_are_reported() {
        let t = take_virtio_mmio(
            "{} virtio_mmio.device=512 virtio_mmio.device=x@0x1:1 virtio_mmio.device=512@0x1000:5:1:2",
        );
        assert_eq!(t.rest, "{}");
        assert!(t.devices.is_empty());
        assert_eq!(t.malformed.len(), 3);
    }

    #[test]
    fn numbers() {
        assert_eq!(number("0x10", false), Some(16));
        assert_eq!(number("010", false), Some(8));
        assert_eq!(number("0", false), Some(0));
        assert_eq!(number("2k", true), Some(2048));
        assert_eq!(number("2k", false), None);
        assert_eq!(number("", true), None);
        assert_eq!(parse_device("0@0x1000:5"), None);
    }
}
