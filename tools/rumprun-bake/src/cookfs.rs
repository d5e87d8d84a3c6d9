//! `rumprun-cookfs`, installed as `x86_64-rumprun-linux-cookfs` (the original's
//! `<tuple>-cookfs`): `[-s count] [-p] outfile directory ...` writes a cpio newc archive
//! of the directories' files, directories and symlinks, for `rumprun-bake -m "add
//! outfile"`. See [`rumprun_bake::rootfs`] for the archive conventions. Errors are one
//! `<name>: error: ...` line on stderr and exit status 1.

#![forbid(unsafe_code)]

use rumprun_bake::rootfs::{self, io_msg, Tree};
use rumprun_image::cpio::CpioWriter;
use std::process::ExitCode;

const USAGE: &str = "usage: NAME [-s count] [-p] outfile directory ...

Writes a cpio newc archive of the directories' contents (regular files, directories
and symbolic links, with their modes and mtimes) for rumprun-bake -m \"add outfile\".
Each directory is stored under its own relative path (data/x.txt for data) unless:
\t-s count\t: strip count leading path components (-s 1 rootfs/etc stores etc/...).
\t-p, --preserve-owner\t: keep uid and gid (default: 0).
";

struct Args {
    strip: usize,
    preserve_owner: bool,
    out: String,
    dirs: Vec<String>,
}

enum Parsed {
    Help,
    Run(Args),
}

fn parse(argv: &[String]) -> Result<Parsed, String> {
    let mut strip = 0;
    let mut preserve_owner = false;
    let mut i = 0;
    while i < argv.len() {
        let a = argv[i].as_str();
        match a {
            "--" => {
                i += 1;
                break;
            }
            "--help" => return Ok(Parsed::Help),
            "--preserve-owner" => preserve_owner = true,
            _ if a.starts_with("--") => return Err(format!("unknown option {a}")),
            _ if a.starts_with('-') && a.len() > 1 => {
                for (pos, c) in a[1..].char_indices() {
                    match c {
                        'h' => return Ok(Parsed::Help),
                        'p' => preserve_owner = true,
                        's' => {
                            let rest = &a[1 + pos + 1..];
                            let value = if !rest.is_empty() {
                                rest.to_string()
                            } else {
                                i += 1;
                                argv.get(i)
                                    .cloned()
                                    .ok_or("option requires an argument -- s")?
                            };
                            strip = value
                                .parse()
                                .map_err(|_| format!("-s: invalid count \"{value}\""))?;
                            break;
                        }
                        other => return Err(format!("illegal option -- {other}")),
                    }
                }
            }
            _ => break,
        }
        i += 1;
    }
    match &argv[i..] {
        [out, dirs @ ..] if !dirs.is_empty() => Ok(Parsed::Run(Args {
            strip,
            preserve_owner,
            out: out.clone(),
            dirs: dirs.to_vec(),
        })),
        _ => Err("need an output file and at least one directory".into()),
    }
}

fn cookfs(args: &Args, name: &str) -> Result<(), String> {
    let mut tree = Tree::new();
    for dir in &args.dirs {
        let prefix = rootfs::stored_prefix(dir, args.strip)?;
        for e in rootfs::cook(dir, &prefix, args.preserve_owner, dir)? {
            tree.add(e)?;
        }
    }
    // Several directories may interleave (-s 1 a/etc b/etc): sort the result.
    let mut entries = tree.entries().to_vec();
    rootfs::sort(&mut entries);
    let mut sorted = Tree::new();
    for e in entries {
        sorted.add(e)?;
    }
    if let Some(w) = rootfs::size_warning(sorted.data_size()) {
        eprintln!("{name}: warning: {w}");
    }
    let mut w = CpioWriter::new();
    sorted.write(&mut w)?;
    std::fs::write(&args.out, w.finish()).map_err(|e| format!("{}: {}", args.out, io_msg(&e)))
}

fn main() -> ExitCode {
    let mut raw = std::env::args_os();
    let name = raw
        .next()
        .and_then(|a| {
            std::path::Path::new(&a)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "rumprun-cookfs".into());
    let usage = USAGE.replace("NAME", &name);
    let argv: Vec<String> = match raw.map(|a| a.into_string()).collect() {
        Ok(v) => v,
        Err(bad) => {
            eprintln!(
                "{name}: error: argument is not UTF-8: {}",
                bad.to_string_lossy()
            );
            return ExitCode::FAILURE;
        }
    };
    match parse(&argv) {
        Ok(Parsed::Help) => {
            print!("{usage}");
            ExitCode::SUCCESS
        }
        Ok(Parsed::Run(args)) => match cookfs(&args, &name) {
            Ok(()) => ExitCode::SUCCESS,
            Err(msg) => {
                eprintln!("{name}: error: {msg}");
                ExitCode::FAILURE
            }
        },
        Err(msg) => {
            eprintln!("{name}: error: {msg}");
            eprint!("{usage}");
            ExitCode::FAILURE
        }
    }
}
