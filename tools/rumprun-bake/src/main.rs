//! `rumprun-bake`: bakes static Linux x86_64 programs and a rumprun kernel into one
//! bootable ELF image. This module owns the command flow, the usage text and how errors
//! are reported (one `rumprun-bake: error: ...` line on stderr, exit status 1).

mod bake;
mod cli;
mod config;
mod elf;
mod install;

use cli::Command;
use config::Configs;
use install::{ConfSource, Install};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

/// At most this many programs go into one image (as in the original).
const MAX_INPUTS: usize = 8;

const USAGE: &str = "rumprun-bake version: 20160209

usage:\trumprun-bake [-c conffile ...] list
\trumprun-bake [-c conffile ...] [-m cmd ...] describe config
\trumprun-bake [-c conffile ...] [-m cmd ...] config out in [in ...]

\"list\" outputs available configs.

\"describe\" outputs details for the given config.

Final usage creates a unikernel image:
\tconfig\t: rumprun board configuration to use.
\toutput\t: output file name for the unikernel image.
\tinput\t: executable(s) to bake.

Environment:
\tRUMPRUN_DESTDIR\t: install root (default: the directory above this program's bin/).
\tRUMPRUN_KERNEL\t: kernel to bake instead of <root>/lib/rumprun-x86_64/<platform>/kernel.elf.
";

enum Failure {
    /// Bad command line: the message, then the usage text.
    Usage(String),
    /// Anything else: one line.
    Error(String),
}

impl From<String> for Failure {
    fn from(s: String) -> Self {
        Failure::Error(s)
    }
}

/// An I/O error's text without Rust's ` (os error N)` suffix, like strerror.
fn io_msg(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

fn print(text: &str) -> Result<(), Failure> {
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Failure::Error(format!("stdout: {}", io_msg(&e))))
        }
        _ => Ok(()),
    }
}

fn load_configs(install: &Install, extra: &[String]) -> Result<Configs, String> {
    let mut configs = Configs::new();
    match install.default_conf() {
        ConfSource::File(path) => {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("{}: {}", path.display(), io_msg(&e)))?;
            configs.load(&path.display().to_string(), &text)?;
        }
        ConfSource::Builtin => {
            configs.load("rumprun-bake.conf (built in)", install::BUILTIN_CONF)?
        }
    }
    for file in extra {
        let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {}", io_msg(&e)))?;
        configs.load(file, &text)?;
    }
    Ok(configs)
}

fn xen_not_built(name: &str) -> String {
    format!("config {name} is not available yet: the Xen platform is not built")
}

/// The sanitised config name for `raw`, after checking it exists and applying `-m`.
fn resolve(configs: &mut Configs, raw: &str, directives: &[String]) -> Result<String, String> {
    let name = config::sanitize(raw);
    if configs.get(&name).is_none() {
        if config::platform(&name) == "xen" {
            return Err(xen_not_built(&name));
        }
        return Err(format!(
            "unsupported config \"{raw}\" (see \"rumprun-bake list\")"
        ));
    }
    configs.apply(&name, directives)?;
    if configs.get(&name).is_none() {
        return Err(format!("config {name} was nuked by -m"));
    }
    Ok(name)
}

/// Reads and checks one input; returns its name in the image and its bytes.
fn read_input(path: &str) -> Result<(String, Vec<u8>), String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{path}: {}", io_msg(&e)))?;
    if !meta.is_file() && !meta.is_dir() {
        // Devices and FIFOs: reading them could block or never end.
        return Err(format!("{path}: not a regular file"));
    }
    let data = std::fs::read(path).map_err(|e| format!("{path}: {}", io_msg(&e)))?;
    elf::Elf::parse(&data)
        .and_then(|e| e.check_static_program())
        .map_err(|e| format!("{path}: {e}"))?;
    let name = Path::new(path)
        .file_name()
        .ok_or_else(|| format!("{path}: not a file name"))?
        .to_str()
        .ok_or_else(|| format!("{path}: the file name is not UTF-8"))?
        .to_string();
    Ok((name, data))
}

fn bake_command(
    install: &Install,
    config: &str,
    out: &str,
    inputs: &[String],
    dry_run: bool,
) -> Result<(), Failure> {
    if inputs.len() > MAX_INPUTS {
        return Err(Failure::Error(format!(
            "at most {MAX_INPUTS} programs can be baked into one image (got {})",
            inputs.len()
        )));
    }
    if config.len() > rumprun_image::CONFIG_LEN {
        return Err(Failure::Error(format!(
            "config name {config} is longer than {} bytes",
            rumprun_image::CONFIG_LEN
        )));
    }
    let mut programs: Vec<(String, Vec<u8>)> = Vec::new();
    for input in inputs {
        let (name, data) = read_input(input)?;
        if programs.iter().any(|(n, _)| *n == name) {
            return Err(Failure::Error(format!(
                "{input}: another input is also named {name} (programs are stored as bin/<name>)"
            )));
        }
        programs.push((name, data));
    }

    let platform = config::platform(config);
    let kernel_path = install
        .kernel(platform)
        .ok_or("cannot find the install root: set RUMPRUN_DESTDIR or RUMPRUN_KERNEL".to_string())?;
    let kernel = std::fs::read(&kernel_path).map_err(|e| {
        if platform == "xen" {
            xen_not_built(config)
        } else if e.kind() == std::io::ErrorKind::NotFound {
            format!(
                "kernel for platform {platform} not found: {} (build it with \"build-rr.sh {platform}\", or set RUMPRUN_DESTDIR or RUMPRUN_KERNEL)",
                kernel_path.display()
            )
        } else {
            format!("{}: {}", kernel_path.display(), io_msg(&e))
        }
    })?;
    let payload = bake::payload(&programs)?;
    let image = bake::bake(&kernel, config, &payload)
        .map_err(|e| format!("{}: {e}", kernel_path.display()))?;
    if dry_run {
        let names: Vec<&str> = programs.iter().map(|(n, _)| n.as_str()).collect();
        return print(&format!(
            "rumprun-bake: would write {out} ({} bytes): config {config}, kernel {}, programs {} ({} bytes of payload)\n",
            image.len(),
            kernel_path.display(),
            names.join(" "),
            payload.len()
        ));
    }
    bake::write_atomically(Path::new(out), &image)
        .map_err(|e| Failure::Error(format!("{out}: {}", io_msg(&e))))
}

fn run(argv: &[String]) -> Result<(), Failure> {
    let args = cli::parse(argv).map_err(Failure::Usage)?;
    match &args.command {
        Command::Help => return print(USAGE),
        Command::Version => {
            return print(&format!(
                "rumprun-bake {} (config version {})\n",
                env!("CARGO_PKG_VERSION"),
                config::VERSION
            ))
        }
        _ => {}
    }
    let install = Install::find();
    let mut configs = load_configs(&install, &args.conf_files)?;
    match &args.command {
        Command::List => {
            let mut text = String::new();
            for c in configs.public() {
                text.push_str(&format!("{:<16}: {}\n", c.name, c.description));
            }
            print(&text)
        }
        Command::Describe { config } => {
            let name = resolve(&mut configs, config, &args.directives)?;
            let c = configs.get(&name).expect("resolved");
            print(&format!(
                "config:      {}\ndescription: {}\nplatform:    {}\ncomponents:  {}\n",
                c.name,
                c.description,
                config::platform(&c.name),
                c.unique_components().join(" ")
            ))
        }
        Command::Bake {
            config,
            out,
            inputs,
        } => {
            let name = resolve(&mut configs, config, &args.directives)?;
            bake_command(&install, &name, out, inputs, args.dry_run)
        }
        Command::Help | Command::Version => unreachable!("handled above"),
    }
}

fn main() -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        eprintln!("rumprun-bake: error: internal error: {msg}");
        std::process::exit(1);
    }));
    let argv: Vec<String> = match std::env::args_os()
        .skip(1)
        .map(|a| a.into_string())
        .collect::<Result<_, _>>()
    {
        Ok(v) => v,
        Err(bad) => {
            eprintln!(
                "rumprun-bake: error: argument is not UTF-8: {}",
                bad.to_string_lossy()
            );
            return ExitCode::FAILURE;
        }
    };
    match run(&argv) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(msg)) => {
            if msg != "missing command" {
                eprintln!("rumprun-bake: error: {msg}");
            }
            eprint!("{USAGE}");
            ExitCode::FAILURE
        }
        Err(Failure::Error(msg)) => {
            eprintln!("rumprun-bake: error: {msg}");
            ExitCode::FAILURE
        }
    }
}
