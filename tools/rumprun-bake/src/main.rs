//! `rumprun-bake`: bakes Linux x86_64 programs and a rumprun kernel into one
//! bootable ELF image. This module owns the command flow, the usage text and how errors
//! are reported (one `rumprun-bake: error: ...` line on stderr, exit status 1).
//!
//! Files from the host: a config component that names a cpio newc archive (a path
//! ending in `.fs`, or any existing file starting with the newc magic), as added by
//! `-m "add x.fs"`, and each `-r DIR` (cooked on the fly, DIR's contents at `/`) add
//! their entries to the payload after the programs (see `rumprun_bake::rootfs`).
//! A dynamically linked program brings its interpreter and shared libraries from the
//! host, placed right after the programs (see `shared_libs`; `-L DIR` adds a search
//! directory).

#![forbid(unsafe_code)]

mod bake;
mod cli;
mod config;
mod debs;
mod elf;
mod install;
mod ksyms;
mod shared_libs;

use cli::Command;
use config::Configs;
use install::{ConfSource, Install};
use rumprun_bake::rootfs::{self, Tree};
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

Files from the host (the root file system; programs are also /bin/<name>):
\t-m \"add FILE.fs\"\t: add the files of FILE.fs, a cpio newc archive
\t\t\t  made with x86_64-rumprun-linux-cookfs.
\t-r dir, --root dir\t: add dir's contents as / (dir/etc/x is /etc/x).

Dynamically linked programs: their interpreter (PT_INTERP) and shared libraries
(DT_NEEDED, transitively) are copied from this host into the image, at the paths
the interpreter searches by default. Libraries are searched like ld.so does:
RPATH, the -L dirs, RUNPATH, then /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu
/lib64 /usr/lib64 /lib /usr/lib /usr/lib/x86_64-linux-musl /usr/local/lib.
\t-L dir\t\t: also search dir (like LD_LIBRARY_PATH; repeatable). Libraries
\t\t\t  found outside the loader's default dirs go to
\t\t\t  /usr/lib/x86_64-linux-gnu (glibc) or /usr/lib (musl) in the image.

Debian packages (on a Debian host; dpkg's file lists; /usr/share/doc, man, info,
locale and the like are left out; files given otherwise win):
\t-D, --debs\t: add the files of the packages the programs and their
\t\t\t  libraries come from (dpkg -S, dpkg -L).
\t-d pkg, --deb pkg\t: add the files of the installed package pkg (repeatable).
Every ELF shared object that goes into the image (an extension module, a plugin)
gets the libraries it needs from this host too.

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

/// The sanitised config name for `raw`, after checking it exists and applying `-m`.
fn resolve(configs: &mut Configs, raw: &str, directives: &[String]) -> Result<String, String> {
    let name = config::sanitize(raw);
    if configs.get(&name).is_none() {
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

/// One program to bake: its name in the image, its bytes, and the interpreter and
/// libraries it needs (none for a static program).
struct Program {
    name: String,
    data: Vec<u8>,
    runtime: Vec<shared_libs::RuntimeFile>,
}

/// Reads and checks one input, and finds what it needs at run time on the host.
fn read_input(path: &str, libs: &shared_libs::HostLibs) -> Result<Program, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{path}: {}", io_msg(&e)))?;
    if !meta.is_file() && !meta.is_dir() {
        // Devices and FIFOs: reading them could block or never end.
        return Err(format!("{path}: not a regular file"));
    }
    let data = std::fs::read(path).map_err(|e| format!("{path}: {}", io_msg(&e)))?;
    let elf = elf::Elf::parse(&data).map_err(|e| format!("{path}: {e}"))?;
    let linking = elf.check_program().map_err(|e| format!("{path}: {e}"))?;
    let name = Path::new(path)
        .file_name()
        .ok_or_else(|| format!("{path}: not a file name"))?
        .to_str()
        .ok_or_else(|| format!("{path}: the file name is not UTF-8"))?
        .to_string();
    let runtime = match linking {
        elf::Linking::Static => Vec::new(),
        elf::Linking::Dynamic { interpreter } => {
            shared_libs::runtime_files(path, Path::new(path), &elf, &interpreter, libs)?
        }
    };
    Ok(Program {
        name,
        data,
        runtime,
    })
}

/// The `-L` directories as absolute paths, after checking they are directories.
fn absolute_lib_dirs(dirs: &[String]) -> Result<Vec<std::path::PathBuf>, String> {
    dirs.iter()
        .map(|d| {
            let meta = std::fs::metadata(d).map_err(|e| format!("-L {d}: {}", io_msg(&e)))?;
            if !meta.is_dir() {
                return Err(format!("-L {d}: not a directory"));
            }
            std::path::absolute(d).map_err(|e| format!("-L {d}: {}", io_msg(&e)))
        })
        .collect()
}

/// Whether the config component `c` is a file system archive: a path ending in `.fs`
/// (which must then be one), or an existing file that starts with the newc magic.
fn archive_component(c: &str) -> Result<Option<Vec<u8>>, String> {
    let must = c.ends_with(".fs");
    if !must {
        let mut magic = [0u8; 6];
        let is_archive = std::fs::File::open(c)
            .and_then(|mut f| {
                if !f.metadata()?.is_file() {
                    return Ok(false);
                }
                std::io::Read::read_exact(&mut f, &mut magic)?;
                Ok(rootfs::is_cpio(&magic))
            })
            .unwrap_or(false);
        if !is_archive {
            return Ok(None);
        }
    }
    let meta = std::fs::metadata(c).map_err(|e| format!("{c}: {}", io_msg(&e)))?;
    if !meta.is_file() {
        return Err(format!("{c}: not a regular file"));
    }
    let bytes = std::fs::read(c).map_err(|e| format!("{c}: {}", io_msg(&e)))?;
    if !rootfs::is_cpio(&bytes) {
        return Err(format!(
            "{c}: not a cpio newc archive (make one with x86_64-rumprun-linux-cookfs)"
        ));
    }
    Ok(Some(bytes))
}

/// What goes into the root file system besides the programs.
struct Files<'a> {
    /// Config components: the archives among them are added.
    components: &'a [String],
    /// `-r` directories.
    roots: &'a [String],
    /// `-D`: the Debian packages of the programs and their libraries.
    from_debs: bool,
    /// `-d PKG`.
    debs: &'a [String],
}

/// Adds the programs, then their interpreters and libraries, then the archives among
/// the components, then the `roots`, then the files of Debian packages (those not
/// there yet), then the libraries that the shared objects among all these need
/// (extension modules, plugins) and the image lacks.
fn payload_tree(
    programs: Vec<Program>,
    inputs: &[String],
    files: &Files,
    host: &shared_libs::HostLibs,
) -> Result<Tree, String> {
    let mut tree = Tree::new();
    let mut runtime = Vec::new();
    let interpreter = programs
        .iter()
        .find_map(|p| p.runtime.first())
        .map(|f| format!("/{}", f.image_path));
    let mut owned_paths: Vec<String> = Vec::new();
    for (program, input) in programs.into_iter().zip(inputs) {
        tree.add(bake::program_entry(&program.name, input, program.data))?;
        owned_paths.push(
            std::path::absolute(input).map_or_else(|_| input.clone(), |p| p.display().to_string()),
        );
        runtime.extend(program.runtime.into_iter().map(|f| (f, input)));
    }
    for (file, input) in runtime {
        owned_paths.push(file.host_path.display().to_string());
        add_runtime_file(&mut tree, file, &format!(" of {input}"))?;
    }
    let programs_size = tree.data_size();
    for c in files.components {
        if let Some(bytes) = archive_component(c)? {
            for e in rootfs::read_archive(&bytes, c)? {
                tree.add(e)?;
            }
        }
    }
    for dir in files.roots {
        for e in rootfs::cook(dir, &[], false, &format!("root directory {dir}"))? {
            tree.add(e)?;
        }
    }
    add_debs(&mut tree, files, &owned_paths)?;
    if let Some(interpreter) = interpreter {
        add_needed_of_objects(&mut tree, &interpreter, host)?;
    }
    if let Some(w) = rootfs::size_warning(tree.data_size() - programs_size) {
        eprintln!("rumprun-bake: warning: {w}");
    }
    Ok(tree)
}

/// Adds an interpreter or library found on the host (`why` ends its source).
fn add_runtime_file(
    tree: &mut Tree,
    file: shared_libs::RuntimeFile,
    why: &str,
) -> Result<(), String> {
    let same_file_added = tree
        .entries()
        .iter()
        .any(|e| e.path == file.image_path && e.data == file.data);
    if same_file_added {
        return Ok(());
    }
    tree.add(rootfs::FsEntry {
        path: file.image_path,
        mode: rumprun_image::cpio::S_IFREG | 0o755,
        owner: Default::default(),
        data: file.data,
        source: format!("{} {}{why}", file.kind, file.host_path.display()),
    })
}

/// `-D` and `-d PKG`: adds the files of the packages that own `owned_paths` (the
/// programs and their libraries) and of the named packages, skipping paths the tree
/// has already; prints what it added.
fn add_debs(tree: &mut Tree, files: &Files, owned_paths: &[String]) -> Result<(), String> {
    if !files.from_debs && files.debs.is_empty() {
        return Ok(());
    }
    debs::check_installed(files.debs)?;
    let mut packages: Vec<String> = Vec::new();
    if files.from_debs {
        let (owners, unowned) = debs::owners(owned_paths)?;
        for path in unowned {
            eprintln!("rumprun-bake: warning: -D: {path} is not from a Debian package");
        }
        packages = owners;
    }
    for pkg in files.debs {
        if !packages.contains(pkg) {
            packages.push(pkg.clone());
        }
    }
    let listed = debs::listed_files(&packages)?;
    let entries = debs::entries(Path::new("/"), &listed, "the Debian packages")?;
    let (mut count, mut bytes) = (0usize, 0u64);
    for e in entries {
        if tree.get(&e.path).is_some() {
            continue;
        }
        let size = e.data.len() as u64;
        // A path under something given otherwise that is not a directory (a link from
        // -r, say) keeps what was given.
        if tree.add(e).is_ok() {
            count += 1;
            bytes += size;
        }
    }
    print(&format!(
        "rumprun-bake: added {count} entries ({:.1} MiB) of the Debian packages {}\n",
        bytes as f64 / (1u64 << 20) as f64,
        packages.join(" ")
    ))
    .map_err(|f| match f {
        Failure::Usage(m) | Failure::Error(m) => m,
    })
}

/// Adds the libraries that the shared objects in the tree need and the tree lacks
/// (found on the host for the loader `interpreter`); warns about those not found.
fn add_needed_of_objects(
    tree: &mut Tree,
    interpreter: &str,
    host: &shared_libs::HostLibs,
) -> Result<(), String> {
    let objects: Vec<shared_libs::ImageObject> = tree
        .entries()
        .iter()
        .filter(|e| e.mode & rumprun_image::cpio::S_IFMT == rumprun_image::cpio::S_IFREG)
        .filter(|e| shared_libs::is_shared_object(&e.path, &e.data))
        .map(|e| shared_libs::ImageObject {
            image_path: &e.path,
            data: &e.data,
        })
        .collect();
    let present = |p: &str| tree.get(p).is_some();
    let (files, warnings) = shared_libs::closure_of_objects(&objects, interpreter, host, &present)?;
    for w in warnings {
        eprintln!("rumprun-bake: warning: {w}");
    }
    for f in files {
        add_runtime_file(tree, f, " (needed by a shared object in the image)")?;
    }
    Ok(())
}

struct BakeJob<'a> {
    config: &'a str,
    out: &'a str,
    inputs: &'a [String],
    components: &'a [String],
    roots: &'a [String],
    lib_dirs: &'a [String],
    libs: &'a [String],
    from_debs: bool,
    debs: &'a [String],
    dry_run: bool,
}

fn bake_command(install: &Install, job: BakeJob) -> Result<(), Failure> {
    let BakeJob {
        config,
        out,
        inputs,
        components,
        roots,
        lib_dirs,
        libs,
        from_debs,
        debs,
        dry_run,
    } = job;
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
    let extra_dirs = absolute_lib_dirs(lib_dirs)?;
    let host_libs = shared_libs::HostLibs {
        sysroot: Path::new("/"),
        extra_dirs: &extra_dirs,
        extra_libs: libs,
    };
    let mut programs: Vec<Program> = Vec::new();
    for input in inputs {
        let program = read_input(input, &host_libs)?;
        if programs.iter().any(|p| p.name == program.name) {
            return Err(Failure::Error(format!(
                "{input}: another input is also named {} (programs are stored as bin/<name>)",
                program.name
            )));
        }
        programs.push(program);
    }
    if let (Some(lib), false) = (libs.first(), programs.iter().any(|p| !p.runtime.is_empty())) {
        return Err(Failure::Error(format!(
            "-l {lib}: no dynamically linked program to load it (static programs cannot dlopen)"
        )));
    }

    let platform = config::platform(config);
    let kernel_path = install
        .kernel(platform)
        .ok_or("cannot find the install root: set RUMPRUN_DESTDIR or RUMPRUN_KERNEL".to_string())?;
    let kernel = std::fs::read(&kernel_path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            format!(
                "kernel for platform {platform} not found: {} (build it with \"build-rr.sh {platform}\", or set RUMPRUN_DESTDIR or RUMPRUN_KERNEL)",
                kernel_path.display()
            )
        } else {
            format!("{}: {}", kernel_path.display(), io_msg(&e))
        }
    })?;
    let names: Vec<String> = programs.iter().map(|p| p.name.clone()).collect();
    let pie: Vec<bool> = programs
        .iter()
        .map(|p| elf::Elf::parse(&p.data).is_ok_and(|e| e.e_type == elf::ET_DYN))
        .collect();
    let files = Files {
        components,
        roots,
        from_debs,
        debs,
    };
    let mut tree = payload_tree(programs, inputs, &files, &host_libs)?;
    let files = tree.entries().len() - names.len();
    if let Some(syms) = ksyms::encode(&kernel) {
        tree.add(rootfs::FsEntry {
            path: ksyms::PAYLOAD_PATH.to_string(),
            mode: rumprun_image::cpio::S_IFREG | 0o444,
            owner: Default::default(),
            data: syms,
            source: "the kernel's symbols".to_string(),
        })?;
    }
    let payload = bake::payload(&tree)?;
    let image = bake::bake(&kernel, config, &payload)
        .map_err(|e| format!("{}: {e}", kernel_path.display()))?;
    if dry_run {
        let files = if files > 0 {
            format!(", {files} root file system entries")
        } else {
            String::new()
        };
        return print(&format!(
            "rumprun-bake: would write {out} ({} bytes): config {config}, kernel {}, programs {}{files} ({} bytes of payload)\n",
            image.len(),
            kernel_path.display(),
            names.join(" "),
            payload.len()
        ));
    }
    bake::write_atomically(Path::new(out), &image)
        .map_err(|e| Failure::Error(format!("{out}: {}", io_msg(&e))))?;
    let debug_kernel = std::path::PathBuf::from(format!("{}.debug", kernel_path.display()));
    let script = gdb_script(
        out,
        debug_kernel.is_file().then_some(debug_kernel.as_path()),
        inputs,
        &pie,
    );
    let script_path = format!("{out}.gdb");
    bake::write_atomically(Path::new(&script_path), script.as_bytes())
        .map_err(|e| Failure::Error(format!("{script_path}: {}", io_msg(&e))))
}

/// Where the kernel loads a static-pie program (kernel/src/loader: PIE_BASE).
const PIE_BASE: u64 = 0x5555_5555_4000;

/// The gdb script written next to the image (`OUT.gdb`): the kernel's symbols and
/// debug info (from `kernel.elf.debug` when installed, else the image), each
/// program's at the address the kernel loads it.
fn gdb_script(out: &str, debug_kernel: Option<&Path>, inputs: &[String], pie: &[bool]) -> String {
    let abs = |p: &str| {
        std::fs::canonicalize(p).map_or_else(|_| p.to_string(), |p| p.display().to_string())
    };
    let mut s = format!(
        "# Written by rumprun-bake: the kernel's and the programs' symbols for {out}.\n\
         # rumprun qemu -D 1234 -i {out}   then   gdb -x {out}.gdb -ex 'target remote :1234'\n\
         file {}\n",
        // The kernel with its debug info (same addresses as the image's), if installed.
        debug_kernel.map_or_else(|| abs(out), |k| abs(&k.display().to_string()))
    );
    for (input, &is_pie) in inputs.iter().zip(pie) {
        let offset = if is_pie { PIE_BASE } else { 0 };
        s += &format!("add-symbol-file {} -o {offset:#x}\n", abs(input));
    }
    s
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
            let components: Vec<String> = configs
                .get(&name)
                .expect("resolved")
                .unique_components()
                .into_iter()
                .map(String::from)
                .collect();
            let job = BakeJob {
                config: &name,
                out,
                inputs,
                components: &components,
                roots: &args.roots,
                lib_dirs: &args.lib_dirs,
                libs: &args.libs,
                from_debs: args.from_debs,
                debs: &args.debs,
                dry_run: args.dry_run,
            };
            bake_command(&install, job)
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
