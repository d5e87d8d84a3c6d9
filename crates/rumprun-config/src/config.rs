//! The runtime config keys and their checks: turns the config text (the kernel
//! command line) into a [`Config`].
//!
//! Everything before the first `{` is ignored; no `{` at all means "no config"
//! (`Ok(None)`). The object may be followed by whitespace and commas only (the original
//! launcher wrote `}, `). Keys:
//! * `cmdline`: string, split with [`split_cmdline`] into argv (argv\[0\] included);
//!   repeated: the last one wins;
//! * `env`: string `NAME=VALUE`, repeatable, kept in order;
//! * `hostname`: string, not empty; repeated: the last one wins;
//! * `net`, `blk`: see [`Net`] and [`Blk`];
//! * `rc` (and the original's `rc_TESTING`): an array of [`RcEntry`] objects, one per
//!   program to start (repeated keys append);
//! * anything else: `unknown key "X"`.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::cmdline::{split_cmdline, SplitError};
use crate::json::{parse_lax_prefix, JsonError, JsonErrorKind, Value};

/// The runtime config, as given to the kernel.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// The program's argv (argv\[0\] first), or `None` when there was no `cmdline` key.
    pub argv: Option<Vec<String>>,
    /// Environment entries, each `NAME=VALUE` with a non-empty NAME, in config order.
    pub env: Vec<String>,
    /// The hostname, if set.
    pub hostname: Option<String>,
    /// Block devices to mount (`blk` blocks), in config order.
    pub blk: Vec<Blk>,
    /// Network interface configurations (`net` blocks), in config order.
    pub net: Vec<Net>,
    /// The programs to start, in order (`rc`); empty when there was no `rc` key.
    pub rc: Vec<RcEntry>,
}

/// How an `rc` program runs relative to the next one (the original's `runmode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RunMode {
    /// No runmode: the next program starts when this one has exited.
    #[default]
    Foreground,
    /// `&`: the next program starts at once; this one runs in the background.
    Background,
    /// `|`: this program's stdout is the next program's stdin; both run at once.
    Pipe,
}

/// One `rc` entry: `{"bin": NAME, "argv": [ARG...], "runmode": "&" | "|"}`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RcEntry {
    /// The baked program to run (`bin/<bin>` in the payload); also its argv\[0\].
    pub bin: String,
    /// The arguments after argv\[0\].
    pub args: Vec<String>,
    pub runmode: RunMode,
}

impl RcEntry {
    /// The full argv: `bin`, then `args`.
    pub fn argv(&self) -> Vec<String> {
        core::iter::once(self.bin.clone())
            .chain(self.args.iter().cloned())
            .collect()
    }
}

/// One `net` block (NOTES-rumprun §4.2).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Net {
    /// The interface: `vioif0` (the original's name), `eth0`, ...: the trailing
    /// number picks the card.
    pub iface: String,
    /// `inet` or `inet6`.
    pub family: String,
    /// `dhcp` (inet), `auto` (inet6) or `static`.
    pub method: String,
    /// Static address.
    pub addr: Option<String>,
    /// Static prefix length ("24").
    pub mask: Option<String>,
    /// Default gateway.
    pub gw: Option<String>,
}

impl Net {
    /// The card index from the interface name's trailing digits (`vioif1` -> 1).
    pub fn index(&self) -> Option<usize> {
        let digits = self.iface.len()
            - self
                .iface
                .trim_end_matches(|c: char| c.is_ascii_digit())
                .len();
        self.iface[self.iface.len() - digits..].parse().ok()
    }
}

/// One `blk` block (NOTES-rumprun §4.2): a device and, optionally, where to mount it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Blk {
    /// `dev` (a device path such as `/dev/vda` or `/dev/ld0a`); `vnd` and `etfs` are
    /// the original's other sources.
    pub source: String,
    /// The device path.
    pub path: String,
    /// `blk` (detect ext2 or ISO 9660 from the superblock), `ext2` or `iso9660`.
    pub fstype: Option<String>,
    /// Where to mount it; without one the device is only made available.
    pub mountpoint: Option<String>,
}

/// Why a config was rejected. [`fmt::Display`] gives one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// The text is not (lax) JSON.
    Json(JsonError),
    /// A key this kernel does not know.
    UnknownKey(String),
    /// A key whose value must be a string got something else.
    NotAString { key: String, found: &'static str },
    /// An `env` value without `=` or with an empty name.
    BadEnv(String),
    /// `hostname` is empty.
    EmptyHostname,
    /// `cmdline` could not be split.
    Cmdline(SplitError),
    /// `cmdline` has no words at all.
    EmptyCmdline,
    /// A `blk` block is malformed; the text says how.
    BadBlk(String),
    /// A `net` block is malformed; the text says how.
    BadNet(String),
    /// An `rc` list or entry is malformed; the text says how.
    BadRc(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Json(e) => write!(f, "invalid JSON: {e}"),
            ConfigError::UnknownKey(k) => write!(f, "unknown key {}", Quoted(k)),
            ConfigError::NotAString { key, found } => {
                write!(f, "{} must be a string, not {found}", Quoted(key))
            }
            ConfigError::BadEnv(v) => {
                write!(
                    f,
                    "env {}: expected NAME=VALUE with a non-empty NAME",
                    Quoted(v)
                )
            }
            ConfigError::EmptyHostname => f.write_str("\"hostname\" must not be empty"),
            ConfigError::Cmdline(e) => write!(f, "\"cmdline\": {e}"),
            ConfigError::EmptyCmdline => f.write_str("\"cmdline\" is empty"),
            ConfigError::BadBlk(why) => write!(f, "\"blk\": {why}"),
            ConfigError::BadNet(why) => write!(f, "\"net\": {why}"),
            ConfigError::BadRc(why) => write!(f, "\"rc\": {why}"),
        }
    }
}

impl From<JsonError> for ConfigError {
    fn from(e: JsonError) -> Self {
        ConfigError::Json(e)
    }
}

/// Writes a user string in double quotes on one line (control characters escaped).
struct Quoted<'a>(&'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for c in self.0.chars() {
            match c {
                '"' | '\\' => write!(f, "\\{c}")?,
                c if c.is_control() => write!(f, "{}", c.escape_default())?,
                c => write!(f, "{c}")?,
            }
        }
        f.write_str("\"")
    }
}

impl Config {
    /// Parses the config text. `Ok(None)` when there is no `{` at all (no config).
    pub fn parse(text: &str) -> Result<Option<Config>, ConfigError> {
        let Some(start) = text.find('{') else {
            return Ok(None);
        };
        let (value, end) = parse_lax_prefix(text, start)?;
        if let Some(extra) =
            text[end..].find(|c: char| !matches!(c, ' ' | '\t' | '\n' | '\r' | ','))
        {
            return Err(ConfigError::Json(JsonError {
                kind: JsonErrorKind::TrailingText,
                offset: end + extra,
            }));
        }
        let Value::Object(members) = value else {
            // parse_lax_prefix started at a '{', so this is an object.
            unreachable!("value starting with '{{' is an object")
        };
        let mut config = Config::default();
        for (key, value) in members {
            match key.as_str() {
                "cmdline" | "env" | "hostname" => {}
                "blk" => {
                    config.blk.push(parse_blk(value)?);
                    continue;
                }
                "net" => {
                    config.net.push(parse_net(value)?);
                    continue;
                }
                "rc" | "rc_TESTING" => {
                    parse_rc(value, &mut config.rc)?;
                    continue;
                }
                _ => return Err(ConfigError::UnknownKey(key)),
            }
            let Value::String(s) = value else {
                return Err(ConfigError::NotAString {
                    found: value.type_name(),
                    key,
                });
            };
            match key.as_str() {
                "cmdline" => {
                    let argv = split_cmdline(&s).map_err(ConfigError::Cmdline)?;
                    if argv.is_empty() {
                        return Err(ConfigError::EmptyCmdline);
                    }
                    config.argv = Some(argv);
                }
                "env" => {
                    match s.find('=') {
                        Some(i) if i > 0 => {}
                        _ => return Err(ConfigError::BadEnv(s)),
                    }
                    config.env.push(s);
                }
                _ => {
                    if s.is_empty() {
                        return Err(ConfigError::EmptyHostname);
                    }
                    config.hostname = Some(s);
                }
            }
        }
        if config.rc.last().is_some_and(|e| e.runmode == RunMode::Pipe) {
            return Err(ConfigError::BadRc(String::from(
                "the last program's runmode cannot be \"|\" (nothing reads its output)",
            )));
        }
        Ok(Some(config))
    }
}

/// An `rc` array: each element an object with `bin` (required, non-empty string),
/// `argv` (array of strings, optional) and `runmode` (`""`, `"&"` or `"|"`, optional).
fn parse_rc(value: Value, out: &mut Vec<RcEntry>) -> Result<(), ConfigError> {
    use alloc::format;
    let bad = |s: String| ConfigError::BadRc(s);
    let Value::Array(items) = value else {
        return Err(bad(format!(
            "must be an array of {{\"bin\", \"argv\", \"runmode\"}} objects, not {}",
            value.type_name()
        )));
    };
    for item in items {
        let n = out.len() + 1;
        let Value::Object(fields) = item else {
            return Err(bad(format!(
                "entry {n} must be an object, not {}",
                item.type_name()
            )));
        };
        let mut e = RcEntry::default();
        for (k, v) in fields {
            match (k.as_str(), v) {
                ("bin", Value::String(s)) => e.bin = s,
                ("runmode", Value::String(s)) => {
                    e.runmode = match s.as_str() {
                        "" => RunMode::Foreground,
                        "&" => RunMode::Background,
                        "|" => RunMode::Pipe,
                        _ => {
                            return Err(bad(format!(
                                "entry {n}: runmode {} is not \"\", \"&\" or \"|\"",
                                Quoted(&s)
                            )))
                        }
                    }
                }
                ("argv", Value::Array(args)) => {
                    for a in args {
                        let Value::String(s) = a else {
                            return Err(bad(format!(
                                "entry {n}: \"argv\" must hold strings, not {}",
                                a.type_name()
                            )));
                        };
                        e.args.push(s);
                    }
                }
                ("bin" | "runmode" | "argv", v) => {
                    let want = if k == "argv" {
                        "an array of strings"
                    } else {
                        "a string"
                    };
                    return Err(bad(format!(
                        "entry {n}: {} must be {want}, not {}",
                        Quoted(&k),
                        v.type_name()
                    )));
                }
                _ => return Err(bad(format!("entry {n}: unknown field {}", Quoted(&k)))),
            }
        }
        if e.bin.is_empty() {
            return Err(bad(format!("entry {n}: \"bin\" is required")));
        }
        out.push(e);
    }
    Ok(())
}

/// A `blk` object: string fields `source` (required: `dev`, `vnd`, `etfs`), `path`
/// (required), `fstype` (required with `mountpoint`), `mountpoint`.
fn parse_blk(value: Value) -> Result<Blk, ConfigError> {
    let bad = |s: &str| ConfigError::BadBlk(String::from(s));
    let Value::Object(fields) = value else {
        return Err(bad(
            "must be an object with source, path, fstype and mountpoint",
        ));
    };
    let mut b = Blk::default();
    for (k, v) in fields {
        let Value::String(s) = v else {
            return Err(ConfigError::BadBlk(alloc::format!(
                "{} must be a string, not {}",
                Quoted(&k),
                v.type_name()
            )));
        };
        match k.as_str() {
            "source" => b.source = s,
            "path" => b.path = s,
            "fstype" => b.fstype = Some(s),
            "mountpoint" => b.mountpoint = Some(s),
            _ => {
                return Err(ConfigError::BadBlk(alloc::format!(
                    "unknown field {}",
                    Quoted(&k)
                )))
            }
        }
    }
    match b.source.as_str() {
        "dev" => {}
        "" => return Err(bad("\"source\" is required (dev)")),
        "vnd" | "etfs" => {
            return Err(ConfigError::BadBlk(alloc::format!(
                "source {} is not supported (use \"dev\")",
                Quoted(&b.source)
            )))
        }
        other => {
            return Err(ConfigError::BadBlk(alloc::format!(
                "unknown source {}",
                Quoted(other)
            )))
        }
    }
    if b.path.is_empty() {
        return Err(bad("\"path\" is required"));
    }
    if b.mountpoint.is_some() && b.fstype.is_none() {
        return Err(bad("\"fstype\" is required with \"mountpoint\""));
    }
    if let Some(mp) = &b.mountpoint {
        if !mp.starts_with('/') {
            return Err(ConfigError::BadBlk(alloc::format!(
                "mountpoint {} must be an absolute path",
                Quoted(mp)
            )));
        }
    }
    Ok(b)
}

/// A `net` object: `if`, `type` (`inet`/`inet6`), `method` (`dhcp`, `static`, `auto`),
/// `addr`, `mask` (prefix length), `gw`; the original's `cloner` is accepted.
fn parse_net(value: Value) -> Result<Net, ConfigError> {
    use alloc::format;
    let bad = |s: String| ConfigError::BadNet(s);
    let Value::Object(fields) = value else {
        return Err(bad(String::from(
            "must be an object with if, type, method (and addr, mask, gw)",
        )));
    };
    let mut n = Net::default();
    for (k, v) in fields {
        let Value::String(s) = v else {
            return Err(bad(format!(
                "{} must be a string, not {}",
                Quoted(&k),
                v.type_name()
            )));
        };
        match k.as_str() {
            "if" => n.iface = s,
            "type" => n.family = s,
            "method" => n.method = s,
            "addr" => n.addr = Some(s),
            "mask" => n.mask = Some(s),
            "gw" => n.gw = Some(s),
            "cloner" => {}
            _ => return Err(bad(format!("unknown field {}", Quoted(&k)))),
        }
    }
    if n.iface.is_empty() || n.index().is_none() {
        return Err(bad(format!(
            "\"if\" must name an interface ending in its number (vioif0, eth1), not {}",
            Quoted(&n.iface)
        )));
    }
    let max_prefix = match n.family.as_str() {
        "inet" => 32,
        "inet6" => 128,
        other => return Err(bad(format!("type {} is not inet or inet6", Quoted(other)))),
    };
    match (n.family.as_str(), n.method.as_str()) {
        ("inet", "dhcp") | ("inet6", "auto") => {}
        (_, "static") => {
            let (Some(addr), Some(mask)) = (&n.addr, &n.mask) else {
                return Err(bad(String::from("method static needs addr and mask")));
            };
            if addr.is_empty() {
                return Err(bad(String::from("empty addr")));
            }
            match mask.parse::<u32>() {
                Ok(m) if m <= max_prefix => {}
                _ => {
                    return Err(bad(format!(
                        "mask {} is not a prefix length 0..{max_prefix}",
                        Quoted(mask)
                    )))
                }
            }
        }
        (fam, m) => {
            return Err(bad(format!(
            "method {} does not go with type {fam} (inet: dhcp or static; inet6: auto or static)",
            Quoted(m)
        )))
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmdline::join_cmdline;
    use crate::json::json_string;
    use alloc::string::ToString;
    use alloc::vec;
    use alloc::{format, string::String};

    fn parse(text: &str) -> Config {
        Config::parse(text).unwrap().unwrap()
    }

    fn err(text: &str) -> String {
        Config::parse(text).unwrap_err().to_string()
    }

    fn strs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| String::from(*s)).collect()
    }

    #[test]
    fn no_config() {
        assert_eq!(Config::parse(""), Ok(None));
        assert_eq!(Config::parse("console=ttyS0 quiet"), Ok(None));
    }

    #[test]
    fn empty_object() {
        assert_eq!(parse("{}"), Config::default());
        assert_eq!(parse("junk before {}  ,, \n"), Config::default());
    }

    #[test]
    fn strict_json() {
        let c = parse(
            r#"{"cmdline": "app.bin -c '/data/x y'", "env": "A=B", "env": "C=", "hostname": "h1"}"#,
        );
        assert_eq!(c.argv, Some(strs(&["app.bin", "-c", "/data/x y"])));
        assert_eq!(c.env, strs(&["A=B", "C="]));
        assert_eq!(c.hostname.as_deref(), Some("h1"));
    }

    /// The text the original launcher wrote for `rumprun -D -T d kvm -i -M 128 -N myname
    /// -e FOO=bar -- app.bin args` (NOTES-rumprun §3.2, without -b/-I/-W).
    const ORIGINAL: &str = " {, \n\t\"env\": \"FOO=bar\", \n\t\"cmdline\": \"app.bin args\", \n\t\"hostname\": \"myname\", \n}, \n";

    #[test]
    fn original_launcher_text() {
        let c = parse(ORIGINAL);
        assert_eq!(c.argv, Some(strs(&["app.bin", "args"])));
        assert_eq!(c.env, strs(&["FOO=bar"]));
        assert_eq!(c.hostname.as_deref(), Some("myname"));
        // For qemu the original doubled every comma.
        let doubled = ORIGINAL.replace(',', ",,");
        assert_eq!(parse(&doubled), c);
    }

    #[test]
    fn original_launcher_text_with_blk_and_net() {
        // The full §3.2 example: valid lax JSON, rejected because blk is not supported.
        let full = " {, \n\t\"env\": \"FOO=bar\", \n\t\"blk\" :  {, \n\t\t\"source\":\t\"dev\", \n\t\t\"path\":\t\"/dev/ld0a\", \n\t\t\"fstype\":\t\"blk\", \n\t\t\"mountpoint\":\t\"/data\", \n\t}, \n\t\"net\" :  {, \n\t\t\"if\":\t\t\"vioif0\", \n\t\t\"type\":\t\"inet\", \n\t\t\"method\":\t\"static\", \n\t\t\"addr\":\t\"10.0.0.2\", \n\t\t\"mask\":\t\"24\", \n\t\t\"gw\":\t\t\"10.0.0.1\", \n\t}, \n\t\"cmdline\": \"app.bin args\", \n\t\"hostname\": \"myname\", \n}, \n";
        assert!(crate::json::parse_lax_prefix(full, 1).is_ok());
        let c = parse(full);
        assert_eq!(c.net.len(), 1);
        assert_eq!(c.net[0].iface, "vioif0");
        assert_eq!(c.net[0].index(), Some(0));
        assert_eq!(c.net[0].addr.as_deref(), Some("10.0.0.2"));
        assert_eq!(parse(&full.replace(',', ",,")), c);
        let without_net = full
            .replace(
                full.split("\"net\"")
                    .nth(1)
                    .unwrap()
                    .split("\"cmdline\"")
                    .next()
                    .unwrap(),
                "",
            )
            .replace("\"net\"", "");
        let c = parse(&without_net);
        assert_eq!(
            c.blk,
            vec![Blk {
                source: "dev".into(),
                path: "/dev/ld0a".into(),
                fstype: Some("blk".into()),
                mountpoint: Some("/data".into())
            }]
        );
    }

    #[test]
    fn blk_blocks() {
        let c = parse(
            r#"{"blk": {"source": "dev", "path": "/dev/vda"}, "blk": {"source": "dev", "path": "/dev/vdb", "fstype": "blk", "mountpoint": "/data"}}"#,
        );
        assert_eq!(c.blk.len(), 2);
        assert_eq!(c.blk[0].mountpoint, None);
        assert_eq!(c.blk[1].mountpoint.as_deref(), Some("/data"));
        assert_eq!(
            err(r#"{"blk": "x"}"#),
            "\"blk\": must be an object with source, path, fstype and mountpoint"
        );
        assert_eq!(
            err(r#"{"blk": {"path": "/dev/vda"}}"#),
            "\"blk\": \"source\" is required (dev)"
        );
        assert_eq!(
            err(r#"{"blk": {"source": "dev"}}"#),
            "\"blk\": \"path\" is required"
        );
        assert_eq!(
            err(r#"{"blk": {"source": "dev", "path": "/dev/vda", "mountpoint": "/d"}}"#),
            "\"blk\": \"fstype\" is required with \"mountpoint\""
        );
        assert_eq!(
            err(r#"{"blk": {"source": "vnd", "path": "x"}}"#),
            "\"blk\": source \"vnd\" is not supported (use \"dev\")"
        );
        assert_eq!(
            err(r#"{"blk": {"source": "dev", "path": "/dev/vda", "x": "1"}}"#),
            "\"blk\": unknown field \"x\""
        );
        assert_eq!(
            err(
                r#"{"blk": {"source": "dev", "path": "/dev/vda", "fstype": "blk", "mountpoint": "data"}}"#
            ),
            "\"blk\": mountpoint \"data\" must be an absolute path"
        );
    }

    #[test]
    fn unsupported_and_unknown_keys() {
        assert_eq!(
            err(r#"{"net": {"if": "vioif0"}}"#),
            "\"net\": type \"\" is not inet or inet6"
        );
        assert_eq!(
            err(r#"{"net": {"if": "vioif0", "type": "inet", "method": "auto"}}"#),
            "\"net\": method \"auto\" does not go with type inet (inet: dhcp or static; inet6: auto or static)"
        );
        assert_eq!(
            err(
                r#"{"net": {"if": "vioif0", "type": "inet", "method": "static", "addr": "1.2.3.4", "mask": "33"}}"#
            ),
            "\"net\": mask \"33\" is not a prefix length 0..32"
        );
        assert_eq!(
            err(r#"{"net": {"if": "vioif", "type": "inet", "method": "dhcp"}}"#),
            "\"net\": \"if\" must name an interface ending in its number (vioif0, eth1), not \"vioif\""
        );
        assert_eq!(err(r#"{"cmd": "x"}"#), "unknown key \"cmd\"");
        assert_eq!(err(r#"{"a\nb": "x"}"#), "unknown key \"a\\nb\"");
    }

    #[test]
    fn value_types() {
        assert_eq!(
            err(r#"{"cmdline": 1}"#),
            "\"cmdline\" must be a string, not a number"
        );
        assert_eq!(
            err(r#"{"env": ["A=B"]}"#),
            "\"env\" must be a string, not an array"
        );
        assert_eq!(
            err(r#"{"hostname": null}"#),
            "\"hostname\" must be a string, not null"
        );
        assert_eq!(
            err(r#"{"hostname": {}}"#),
            "\"hostname\" must be a string, not an object"
        );
        assert_eq!(
            err(r#"{"hostname": true}"#),
            "\"hostname\" must be a string, not a boolean"
        );
        assert_eq!(err(r#"{"hostname": ""}"#), "\"hostname\" must not be empty");
    }

    #[test]
    fn env_checks() {
        assert_eq!(
            err(r#"{"env": "FOO"}"#),
            "env \"FOO\": expected NAME=VALUE with a non-empty NAME"
        );
        assert_eq!(
            err(r#"{"env": "=x"}"#),
            "env \"=x\": expected NAME=VALUE with a non-empty NAME"
        );
        assert_eq!(parse(r#"{"env": "A==b"}"#).env, strs(&["A==b"]));
    }

    #[test]
    fn cmdline_checks() {
        assert_eq!(
            err(r#"{"cmdline": "a 'b"}"#),
            "\"cmdline\": unterminated ' quote starting at byte 2"
        );
        assert_eq!(err(r#"{"cmdline": "  "}"#), "\"cmdline\" is empty");
        assert_eq!(
            parse(r#"{"cmdline": "a", "cmdline": "b c"}"#).argv,
            Some(strs(&["b", "c"]))
        );
    }

    #[test]
    fn json_errors_have_offsets_into_the_whole_text() {
        assert_eq!(
            err(r#"prefix {"cmdline" "x"}"#),
            "invalid JSON: expected ':' after key at byte 18"
        );
        assert_eq!(
            err(r#"{"a": "b"} x"#),
            "invalid JSON: unexpected text after the value at byte 11"
        );
        assert_eq!(err(r#"{"a": "b""#), "invalid JSON: unexpected end of text, expected ',' or '}' after object member at byte 9");
    }

    #[test]
    fn launcher_style_config_round_trips() {
        let argv = [
            "app.bin",
            "-c",
            "/data/x y",
            "",
            "it's \"q\" \\ ü 😀",
            "a\nb",
        ];
        let text = format!(
            "{{\"cmdline\": {}, \"env\": {}, \"hostname\": {}}}",
            json_string(&join_cmdline(&argv)),
            json_string("X=a \"b\" \\c"),
            json_string("my-host"),
        );
        let c = parse(&text);
        assert_eq!(c.argv, Some(strs(&argv)));
        assert_eq!(c.env, vec![String::from("X=a \"b\" \\c")]);
        assert_eq!(c.hostname.as_deref(), Some("my-host"));
    }

    #[test]
    fn rc_entries() {
        let c = parse(
            r#"{"rc": [{"bin": "server", "argv": ["-p", "80"], "runmode": "&"},
                       {"bin": "gen", "runmode": "|"},
                       {"bin": "wc", "argv": [], "runmode": ""}]}"#,
        );
        assert_eq!(c.rc.len(), 3);
        assert_eq!(c.rc[0].argv(), strs(&["server", "-p", "80"]));
        assert_eq!(c.rc[0].runmode, RunMode::Background);
        assert_eq!(c.rc[1].argv(), strs(&["gen"]));
        assert_eq!(c.rc[1].runmode, RunMode::Pipe);
        assert_eq!(c.rc[2].runmode, RunMode::Foreground);
        // The original's key name, lax JSON, repeated keys append.
        let lax =
            parse(r#"{, "rc_TESTING": [{"bin": "a", "runmode": "&",},], "rc": [{"bin": "b"}],}"#);
        assert_eq!(lax.rc.len(), 2);
        assert_eq!(lax.rc[1].bin, "b");
        assert_eq!(parse(r#"{"rc": []}"#).rc, vec![]);
    }

    #[test]
    fn rc_errors() {
        assert_eq!(
            err(r#"{"rc": [{"bin": "a", "runmode": "bg"}]}"#),
            "\"rc\": entry 1: runmode \"bg\" is not \"\", \"&\" or \"|\""
        );
        assert_eq!(
            err(r#"{"rc": [{"bin": "a"}, {"argv": ["x"]}]}"#),
            "\"rc\": entry 2: \"bin\" is required"
        );
        assert_eq!(
            err(r#"{"rc": [{"bin": "a", "runmode": "|"}]}"#),
            "\"rc\": the last program's runmode cannot be \"|\" (nothing reads its output)"
        );
        assert_eq!(
            err(r#"{"rc": [{"bin": "a", "argv": [1]}]}"#),
            "\"rc\": entry 1: \"argv\" must hold strings, not a number"
        );
        assert_eq!(
            err(r#"{"rc": [{"bin": "a", "argv": "x y"}]}"#),
            "\"rc\": entry 1: \"argv\" must be an array of strings, not a string"
        );
        assert_eq!(
            err(r#"{"rc": [{"bin": "a", "mode": "&"}]}"#),
            "\"rc\": entry 1: unknown field \"mode\""
        );
        assert_eq!(
            err(r#"{"rc": {"bin": "a"}}"#),
            "\"rc\": must be an array of {\"bin\", \"argv\", \"runmode\"} objects, not an object"
        );
        assert_eq!(
            err(r#"{"rc": ["a"]}"#),
            "\"rc\": entry 1 must be an object, not a string"
        );
    }
}
