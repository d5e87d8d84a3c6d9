//! Command line parsing (with `lexopt`) in the original's getopts (`c:m:n`) semantics: options come
//! first, may be clustered (`-nc FILE`, `-cFILE`), `--` ends them, and the first operand
//! picks the command. Also `-h`/`--help`, `--version`, and our `-r DIR` /
//! `--root DIR` / `--root=DIR` (a host directory whose contents become `/`) and
//! `-L DIR` (a host directory searched for the shared libraries of dynamically linked
//! programs, like `LD_LIBRARY_PATH`), `-l LIB` (a library to add for `dlopen`), `-D` /
//! `--debs` (the files of the Debian packages the programs and their libraries come
//! from) and `-d PKG` / `--deb PKG` / `--deb=PKG` (the files of one more package).

/// What to do.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Help,
    Version,
    List,
    Describe {
        config: String,
    },
    Bake {
        config: String,
        out: String,
        inputs: Vec<String>,
    },
}

/// A parsed command line.
#[derive(Debug, PartialEq, Eq)]
pub struct Args {
    /// `-c FILE`, in order.
    pub conf_files: Vec<String>,
    /// `-m CMD`, in order.
    pub directives: Vec<String>,
    /// `-n`: check everything, write nothing.
    pub dry_run: bool,
    /// `-r DIR` / `--root DIR`, in order.
    pub roots: Vec<String>,
    /// `-L DIR`, in order.
    pub lib_dirs: Vec<String>,
    /// `-l LIB`: extra shared libraries for dynamically linked programs (dlopen).
    pub libs: Vec<String>,
    /// `-D` / `--debs`: add the Debian packages of the programs and their libraries.
    pub from_debs: bool,
    /// `-d PKG` / `--deb PKG`: more Debian packages, in order.
    pub debs: Vec<String>,
    pub command: Command,
}

/// Parses the arguments after the program name. `Err` is a usage error message.
pub fn parse(args: &[String]) -> Result<Args, String> {
    use lexopt::Arg::{Long, Short, Value};
    let mut a = with(Command::Help);
    let mut parser = lexopt::Parser::from_args(args);
    // getopt(3): `-c=x` is the value "=x".
    parser.set_short_equals(false);
    let text = |v: std::ffi::OsString| v.to_string_lossy().into_owned();
    let mut operands = Vec::new();
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        match arg {
            Short(c @ ('c' | 'm' | 'r' | 'L' | 'l' | 'd')) => {
                let value = parser
                    .value()
                    .map_err(|_| format!("option requires an argument -- {c}"))?;
                let list = match c {
                    'c' => &mut a.conf_files,
                    'm' => &mut a.directives,
                    'L' => &mut a.lib_dirs,
                    'l' => &mut a.libs,
                    'd' => &mut a.debs,
                    _ => &mut a.roots,
                };
                list.push(text(value));
            }
            Short('n') => a.dry_run = true,
            Short('D') => a.from_debs = true,
            Short('h') => return Ok(with(Command::Help)),
            Short(other) => return Err(format!("illegal option -- {other}")),
            Long(name) => {
                // Known by their whole spelling only: `--help=x` is unknown.
                let name = name.to_string();
                let attached = parser.optional_value().map(text);
                let unknown = || match &attached {
                    Some(v) => format!("unknown option --{name}={v}"),
                    None => format!("unknown option --{name}"),
                };
                let mut value = |opt: &str| match attached.clone() {
                    Some(v) => Ok(v),
                    None => parser
                        .value()
                        .map(text)
                        .map_err(|_| format!("option --{opt} requires an argument")),
                };
                match name.as_str() {
                    "help" | "version" | "debs" if attached.is_some() => return Err(unknown()),
                    "help" => return Ok(with(Command::Help)),
                    "version" => return Ok(with(Command::Version)),
                    "debs" => a.from_debs = true,
                    "root" => a.roots.push(value("root")?),
                    "deb" => a.debs.push(value("deb")?),
                    _ => return Err(unknown()),
                }
            }
            // The first operand ends the options (getopts stops there).
            Value(v) => {
                operands.push(text(v));
                let rest = parser.raw_args().map_err(|e| e.to_string())?;
                operands.extend(rest.map(text));
            }
        }
    }
    a.command = match &operands[..] {
        [] => return Err("missing command".into()),
        [cmd, rest @ ..] if cmd == "list" => {
            if !rest.is_empty() {
                return Err("list takes no arguments".into());
            }
            Command::List
        }
        [cmd, rest @ ..] if cmd == "describe" => match rest {
            [config] => Command::Describe {
                config: config.clone(),
            },
            _ => return Err("describe takes exactly one config".into()),
        },
        [config, out, inputs @ ..] if !inputs.is_empty() => Command::Bake {
            config: config.clone(),
            out: out.clone(),
            inputs: inputs.to_vec(),
        },
        _ => return Err("baking needs a config, an output file and at least one input".into()),
    };
    Ok(a)
}

fn with(command: Command) -> Args {
    Args {
        conf_files: Vec::new(),
        directives: Vec::new(),
        dry_run: false,
        roots: Vec::new(),
        lib_dirs: Vec::new(),
        libs: Vec::new(),
        from_debs: false,
        debs: Vec::new(),
        command,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &[&str]) -> Result<Args, String> {
        parse(&s.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn commands() {
        assert_eq!(p(&["list"]).unwrap().command, Command::List);
        assert_eq!(
            p(&["describe", "hw-virtio"]).unwrap().command,
            Command::Describe {
                config: "hw-virtio".into()
            }
        );
        assert_eq!(
            p(&["hw_virtio", "out", "a", "b"]).unwrap().command,
            Command::Bake {
                config: "hw_virtio".into(),
                out: "out".into(),
                inputs: vec!["a".into(), "b".into()]
            }
        );
        assert_eq!(p(&["-h"]).unwrap().command, Command::Help);
        assert_eq!(p(&["--help", "x"]).unwrap().command, Command::Help);
        assert_eq!(p(&["--version"]).unwrap().command, Command::Version);
    }

    #[test]
    fn options_like_getopts() {
        let a = p(&[
            "-c",
            "a.conf",
            "-cb.conf",
            "-m",
            "add x",
            "-nmremove y",
            "--",
            "list",
        ])
        .unwrap();
        assert_eq!(a.conf_files, ["a.conf", "b.conf"]);
        assert_eq!(a.directives, ["add x", "remove y"]);
        assert!(a.dry_run);
        assert_eq!(a.command, Command::List);
        assert!(a.roots.is_empty());
        let a = p(&[
            "-r",
            "a",
            "-nrb",
            "--root",
            "c",
            "--root=d",
            "hw_virtio",
            "o",
            "i",
        ])
        .unwrap();
        assert_eq!(a.roots, ["a", "b", "c", "d"]);
        assert!(a.dry_run);
        assert!(a.lib_dirs.is_empty());
        let a = p(&["-L", "/opt/lib", "-nL./libs", "hw_virtio", "o", "i"]).unwrap();
        assert_eq!(a.lib_dirs, ["/opt/lib", "./libs"]);
        assert!(a.dry_run);
        let a = p(&[
            "-Dd",
            "tzdata",
            "--deb",
            "libpython3.11-stdlib",
            "--deb=perl-modules-5.36",
            "-dx",
            "hw_virtio",
            "o",
            "i",
        ])
        .unwrap();
        assert!(a.from_debs);
        assert_eq!(
            a.debs,
            ["tzdata", "libpython3.11-stdlib", "perl-modules-5.36", "x"]
        );
        assert!(!p(&["--debs", "list"]).unwrap().debs.iter().any(|_| true));
        assert!(p(&["--debs", "list"]).unwrap().from_debs);
        assert!(!p(&["list"]).unwrap().from_debs);
        // Options stop at the first operand.
        let a = p(&["hw_virtio", "-c", "x", "y"]).unwrap();
        assert!(a.conf_files.is_empty());
        assert_eq!(
            a.command,
            Command::Bake {
                config: "hw_virtio".into(),
                out: "-c".into(),
                inputs: vec!["x".into(), "y".into()]
            }
        );
        // "-" alone is an operand.
        assert!(matches!(
            p(&["-", "o", "i"]).unwrap().command,
            Command::Bake { .. }
        ));
    }

    /// getopts' corners, pinned before the parser was replaced: `-c=x` gives the
    /// value "=x", a value may start with '-' (or be `--`), a long option is known
    /// only by its whole spelling.
    #[test]
    fn posix_getopt_corners() {
        let a = p(&[
            "-c=x", "-c", "--", "-m", "-n", "--root", "--x", "--root=", "list",
        ])
        .unwrap();
        assert_eq!(a.conf_files, ["=x", "--"]);
        assert_eq!(a.directives, ["-n"]);
        assert!(!a.dry_run);
        assert_eq!(a.roots, ["--x", ""]);
        assert_eq!(a.command, Command::List);
        assert_eq!(
            p(&["--", "-n", "o", "i"]).unwrap().command,
            Command::Bake {
                config: "-n".into(),
                out: "o".into(),
                inputs: vec!["i".into()]
            }
        );
        for bad in [
            "--help=x",
            "--debs=x",
            "--frob=x",
            "--version=",
            "--=x",
            "--debsx",
        ] {
            assert_eq!(
                p(&[bad, "list"]).unwrap_err(),
                format!("unknown option {bad}")
            );
        }
        assert_eq!(p(&["-n-", "list"]).unwrap_err(), "illegal option -- -");
        assert_eq!(
            p(&["-\u{e9}", "list"]).unwrap_err(),
            "illegal option -- \u{e9}"
        );
        assert_eq!(p(&["-hx"]).unwrap().command, Command::Help);
        assert_eq!(p(&["-xh"]).unwrap_err(), "illegal option -- x");
        assert_eq!(p(&["-n", "--help", "-x"]).unwrap().command, Command::Help);
        assert_eq!(
            p(&["list", "--help"]).unwrap_err(),
            "list takes no arguments"
        );
        assert_eq!(p(&["-nc"]).unwrap_err(), "option requires an argument -- c");
    }

    #[test]
    fn usage_errors() {
        assert_eq!(p(&[]).unwrap_err(), "missing command");
        assert_eq!(p(&["-x", "list"]).unwrap_err(), "illegal option -- x");
        assert_eq!(p(&["-c"]).unwrap_err(), "option requires an argument -- c");
        assert_eq!(p(&["--frob"]).unwrap_err(), "unknown option --frob");
        assert_eq!(p(&["-r"]).unwrap_err(), "option requires an argument -- r");
        assert_eq!(p(&["-L"]).unwrap_err(), "option requires an argument -- L");
        assert_eq!(p(&["-d"]).unwrap_err(), "option requires an argument -- d");
        assert_eq!(
            p(&["--deb"]).unwrap_err(),
            "option --deb requires an argument"
        );
        assert_eq!(
            p(&["--root"]).unwrap_err(),
            "option --root requires an argument"
        );
        assert_eq!(p(&["list", "x"]).unwrap_err(), "list takes no arguments");
        assert_eq!(
            p(&["describe"]).unwrap_err(),
            "describe takes exactly one config"
        );
        assert!(p(&["hw_virtio", "out"])
            .unwrap_err()
            .contains("at least one input"));
    }
}
