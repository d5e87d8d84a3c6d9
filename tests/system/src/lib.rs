//! Helpers for the rumprun system tests.
//!
//! The tests use the *installed* tools, exactly as a user would: the compiler
//! wrappers, `rumprun-bake` and `rumprun` from `$RUMPRUN_DESTDIR/bin`, or from
//! `<repo>/rumprun/bin` (what `./build-rr.sh hw` installs). They build each test
//! program from `tests/programs/` once into `<repo>/target/system-tests/` (rebuilt
//! when the source or the wrapper is newer), bake it with `rumprun-bake hw_virtio`,
//! boot it with `rumprun qemu -i` (stdin null, a hard timeout that kills QEMU) and
//! hand back the output and the exit status for the tests to check.

use std::collections::HashSet;
use std::fs;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

/// How long one boot may take before the test kills QEMU and fails.
pub const BOOT_TIMEOUT: Duration = Duration::from_secs(60);

/// The repository root (this crate is `<repo>/tests/system`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

/// Where the tools are installed: `$RUMPRUN_DESTDIR`, else `<repo>/rumprun`.
pub fn destdir() -> PathBuf {
    match std::env::var_os("RUMPRUN_DESTDIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => repo_root().join("rumprun"),
    }
}

/// An installed tool, `<destdir>/bin/<name>`; panics with a hint when it is missing.
pub fn tool(name: &str) -> PathBuf {
    let p = destdir().join("bin").join(name);
    assert!(
        p.is_file(),
        "{} not found: run ./build-rr.sh hw first (or set RUMPRUN_DESTDIR)",
        p.display()
    );
    p
}

/// The Debian package of each host program the tests run, so that a missing one
/// fails its test naming the package. `debian-packages` at the repository root is the
/// list the scripts install from (tests/system/tests/packages.rs checks they agree).
pub const HOST_PROGRAMS: &[(&str, &str)] = &[
    ("gcc", "gcc"),
    ("readelf", "binutils"),
    ("nm", "binutils"),
    ("qemu-system-x86_64", "qemu-system-x86"),
    ("cmake", "cmake"),
    ("gdb", "gdb"),
    ("mke2fs", "e2fsprogs"),
    ("e2fsck", "e2fsprogs"),
    ("debugfs", "e2fsprogs"),
    ("dumpe2fs", "e2fsprogs"),
    ("genisoimage", "genisoimage"),
    ("xorriso", "xorriso"),
    ("qemu-img", "qemu-utils"),
    ("sfdisk", "fdisk"),
    ("curl", "curl"),
    ("ip", "iproute2"),
    ("ps", "procps"),
    ("kill", "procps"),
    ("busybox", "busybox"),
    ("mkfs.vfat", "dosfstools"),
    ("mcopy", "mtools"),
    ("virsh", "libvirt-clients"),
    ("libvirtd", "libvirt-daemon-system"),
];

/// Why `cmd` could not start: `e`, and for a program that is not installed, which
/// Debian package has it.
pub fn cannot_run(cmd: &Command, e: &std::io::Error) -> String {
    let program = Path::new(cmd.get_program());
    let name = program.file_name().unwrap_or_default().to_string_lossy();
    match HOST_PROGRAMS.iter().find(|(p, _)| *p == name) {
        Some((_, package)) if e.kind() == std::io::ErrorKind::NotFound => format!(
            "cannot run {cmd:?}: {name} is not installed (install the Debian package {package}: \
             apt-get install {package})"
        ),
        _ => format!("cannot run {cmd:?}: {e}"),
    }
}

/// A test program's source, `tests/programs/<name>`.
pub fn program_source(name: &str) -> PathBuf {
    repo_root().join("tests/programs").join(name)
}

/// The cache directory for built programs and baked images.
pub fn work_dir() -> PathBuf {
    let d = repo_root().join("target/system-tests");
    fs::create_dir_all(&d).expect("create target/system-tests");
    d
}

/// A fresh, empty scratch directory for one test, under
/// `target/system-tests/scratch/` (entries older than an hour are removed).
pub fn scratch_dir(name: &str) -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    static CLEANED: std::sync::Once = std::sync::Once::new();
    let root = work_dir().join("scratch");
    CLEANED.call_once(|| {
        let hour_ago = SystemTime::now() - Duration::from_secs(3600);
        for e in fs::read_dir(&root).into_iter().flatten().flatten() {
            if mtime(&e.path()) < hour_ago {
                let _ = fs::remove_dir_all(e.path());
            }
        }
    });
    let d = root.join(format!(
        "{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).expect("create scratch dir");
    d
}

/// How a C/C++ program is compiled and linked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// `x86_64-rumprun-linux-gcc`: glibc, static (`ET_EXEC`).
    Glibc,
    /// `x86_64-rumprun-linux-gcc -static-pie`: glibc, static-pie (`ET_DYN`).
    GlibcStaticPie,
    /// `x86_64-rumprun-linux-musl-gcc`: musl, static.
    Musl,
    /// `x86_64-rumprun-linux-g++`: C++ with glibc and libstdc++, static.
    Cxx,
}

impl Flavor {
    fn suffix(self) -> &'static str {
        match self {
            Flavor::Glibc => "glibc",
            Flavor::GlibcStaticPie => "glibc-pie",
            Flavor::Musl => "musl",
            Flavor::Cxx => "cxx",
        }
    }

    /// The wrapper that builds this flavour.
    pub fn wrapper(self) -> &'static str {
        match self {
            Flavor::Glibc | Flavor::GlibcStaticPie => "x86_64-rumprun-linux-gcc",
            Flavor::Musl => "x86_64-rumprun-linux-musl-gcc",
            Flavor::Cxx => "x86_64-rumprun-linux-g++",
        }
    }
}

/// Serialises builds and bakes inside one test process.
static BUILD_LOCK: Mutex<()> = Mutex::new(());

fn lock_builds() -> std::sync::MutexGuard<'static, ()> {
    BUILD_LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn mtime(p: &Path) -> SystemTime {
    fs::metadata(p)
        .and_then(|m| m.modified())
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

fn is_fresh(out: &Path, inputs: &[&Path]) -> bool {
    out.is_file() && inputs.iter().all(|i| mtime(i) <= mtime(out))
}

/// A temporary name next to `out`, renamed over it when complete, so that a
/// concurrent reader never sees a half-written file.
fn tmp_name(out: &Path) -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let mut s = out.as_os_str().to_owned();
    s.push(format!(
        ".tmp{}.{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    PathBuf::from(s)
}

/// Runs a build step, panicking with its output when it fails.
pub fn check_output(cmd: &mut Command, what: &str) -> std::process::Output {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{what}: {}", cannot_run(cmd, &e)));
    assert!(
        out.status.success(),
        "{what} failed ({}): {cmd:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Builds `tests/programs/<src>` with the wrapper for `flavor` (once; cached in
/// `target/system-tests/bin/<stem>-<flavor>`) and returns the program's path.
pub fn build_c(src: &str, flavor: Flavor) -> PathBuf {
    let source = program_source(src);
    let stem = Path::new(src).file_stem().unwrap().to_str().unwrap();
    let dir = work_dir().join("bin");
    fs::create_dir_all(&dir).unwrap();
    let out = dir.join(format!("{stem}-{}", flavor.suffix()));
    let wrapper = tool(flavor.wrapper());

    let _g = lock_builds();
    // check.h is the shared assertion header of the C test programs.
    let header = program_source("check.h");
    if is_fresh(&out, &[&source, &wrapper, &header]) {
        return out;
    }
    let tmp = tmp_name(&out);
    let mut cmd = Command::new(&wrapper);
    cmd.args(["-O2", "-g", "-Wall", "-Werror"]);
    if flavor == Flavor::GlibcStaticPie {
        cmd.arg("-static-pie");
    }
    cmd.arg("-o").arg(&tmp).arg(&source);
    check_output(&mut cmd, &format!("building {src} ({flavor:?})"));
    fs::rename(&tmp, &out).unwrap();
    out
}

/// Builds the standalone cargo project `tests/programs/<project>` with
/// `x86_64-rumprun-linux-cargo build --release` (cargo's own cache in
/// `target/system-tests/<project>`) and returns the program, named like the project.
pub fn build_rust(project: &str) -> PathBuf {
    let target_dir = work_dir().join(project);
    let _g = lock_builds();
    let mut cmd = Command::new(tool("x86_64-rumprun-linux-cargo"));
    cmd.args([
        "build",
        "--release",
        "--offline",
        "--quiet",
        "--manifest-path",
    ])
    .arg(program_source(&format!("{project}/Cargo.toml")))
    .arg("--target-dir")
    .arg(&target_dir)
    // The tests may run under `cargo test`; keep its settings out.
    .env_remove("CARGO_TARGET_DIR")
    .env_remove("CARGO_BUILD_TARGET")
    .env_remove("RUSTFLAGS")
    .env_remove("CARGO_ENCODED_RUSTFLAGS");
    check_output(&mut cmd, &format!("building {project}"));
    let out = target_dir.join(format!("x86_64-unknown-linux-gnu/release/{project}"));
    assert!(out.is_file(), "cargo wrapper built no {}", out.display());
    out
}

/// Like [`build_rust`], for a project with crates.io dependencies: first
/// `cargo fetch --locked` (for the program's target only), which downloads the
/// crates pinned by the project's `Cargo.lock` unless cargo already has them, so
/// that the `--offline` build works on a fresh machine.
pub fn build_rust_with_deps(project: &str) -> PathBuf {
    {
        let _g = lock_builds();
        let mut cmd = Command::new(tool("x86_64-rumprun-linux-cargo"));
        cmd.args([
            "fetch",
            "--locked",
            "--quiet",
            "--target",
            "x86_64-unknown-linux-gnu",
            "--manifest-path",
        ])
        .arg(program_source(&format!("{project}/Cargo.toml")))
        .env_remove("CARGO_NET_OFFLINE");
        check_output(&mut cmd, &format!("fetching the crates of {project}"));
    }
    build_rust(project)
}

/// Builds the Go program tests/programs/NAME/main.go with Debian's Go (statically,
/// as Go does without cgo) into `target/system-tests/NAME/NAME`; a missing Go fails
/// naming its package.
pub fn build_go(name: &str) -> PathBuf {
    let go = Path::new("/usr/bin/go");
    assert!(
        go.exists(),
        "/usr/bin/go is missing: install the Debian package golang-go"
    );
    let cache = work_dir().join("go-cache");
    let prog = scratch_dir(name).join(name);
    let _g = lock_builds();
    check_output(
        Command::new(go)
            .args(["build", "-o"])
            .arg(&prog)
            .arg(program_source(&format!("{name}/main.go")))
            .env("GOCACHE", &cache)
            .env("GOPATH", cache.join("gopath"))
            .env("GO111MODULE", "off")
            .env("CGO_ENABLED", "0")
            .env("GOFLAGS", ""),
        &format!("go build tests/programs/{name}"),
    );
    prog
}

/// Bakes `prog` with `rumprun-bake hw_virtio` into
/// `target/system-tests/images/<name>.bin` (once per test process) and returns the
/// image's path.
pub fn bake(prog: &Path) -> PathBuf {
    let name = prog.file_name().unwrap().to_str().unwrap();
    bake_with(prog, name, &[])
}

/// Bakes `prog` with `rumprun-bake [bake_args] hw_virtio` (e.g. `["-r", dir]`) into
/// `target/system-tests/images/<image>.bin` (once per test process) and returns the
/// image's path.
pub fn bake_with(prog: &Path, image: &str, bake_args: &[&std::ffi::OsStr]) -> PathBuf {
    bake_config(prog, image, "hw_virtio", bake_args)
}

/// Bakes `prog` with `rumprun-bake [bake_args] CONFIG` into
/// `target/system-tests/images/<image>.bin` (once per test process).
pub fn bake_config(
    prog: &Path,
    image: &str,
    config: &str,
    bake_args: &[&std::ffi::OsStr],
) -> PathBuf {
    bake_programs_config(&[prog], image, config, bake_args)
}

/// Bakes several programs (in this order) into one image, like `bake_with`.
pub fn bake_programs(progs: &[&Path], image: &str, bake_args: &[&std::ffi::OsStr]) -> PathBuf {
    bake_programs_config(progs, image, "hw_virtio", bake_args)
}

/// Bakes several programs (in this order) with `rumprun-bake [bake_args] CONFIG`.
fn bake_programs_config(
    progs: &[&Path],
    image: &str,
    config: &str,
    bake_args: &[&std::ffi::OsStr],
) -> PathBuf {
    static DONE: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);
    let dir = work_dir().join("images");
    fs::create_dir_all(&dir).unwrap();
    let out = dir.join(format!("{image}.bin"));

    let _g = lock_builds();
    let mut done = DONE.lock().unwrap_or_else(|e| e.into_inner());
    let done = done.get_or_insert_with(HashSet::new);
    if done.contains(&out) && out.is_file() {
        return out;
    }
    let tmp = tmp_name(&out);
    check_output(
        Command::new(tool("rumprun-bake"))
            .args(bake_args)
            .arg(config)
            .arg(&tmp)
            .args(progs),
        &format!("baking {image}"),
    );
    fs::rename(&tmp, &out).unwrap();
    done.insert(out.clone());
    out
}

/// What a finished (or killed) command left behind.
#[derive(Debug)]
pub struct Run {
    /// The command, for messages.
    pub what: String,
    /// The exit status, `None` when it timed out or was killed by a signal.
    pub status: Option<i32>,
    /// Standard output, with `\r` removed (the serial console may add them).
    pub stdout: String,
    /// Standard error, with `\r` removed.
    pub stderr: String,
    /// Whether the timeout killed it.
    pub timed_out: bool,
    /// Wall time until it ended.
    pub elapsed: Duration,
}

impl Run {
    /// stdout followed by stderr: everything the console, QEMU and the launcher said.
    pub fn all_output(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// A readable dump of the run, for assertion messages.
    pub fn dump(&self) -> String {
        format!(
            "{}\nstatus: {:?}{}  elapsed: {:?}\n--- stdout\n{}--- stderr\n{}---",
            self.what,
            self.status,
            if self.timed_out { " (TIMED OUT)" } else { "" },
            self.elapsed,
            self.stdout,
            self.stderr
        )
    }

    /// Asserts the exit status, showing the whole run when it differs.
    #[track_caller]
    pub fn assert_status(&self, want: i32) -> &Self {
        assert!(!self.timed_out, "timed out:\n{}", self.dump());
        assert_eq!(
            self.status,
            Some(want),
            "wrong exit status:\n{}",
            self.dump()
        );
        self
    }

    /// Asserts that stdout has a line equal to `line`.
    #[track_caller]
    pub fn assert_stdout_line(&self, line: &str) -> &Self {
        assert!(
            self.stdout.lines().any(|l| l == line),
            "stdout has no line {line:?}:\n{}",
            self.dump()
        );
        self
    }

    /// Asserts that stdout or stderr contains `needle`.
    #[track_caller]
    pub fn assert_output_contains(&self, needle: &str) -> &Self {
        assert!(
            self.all_output().contains(needle),
            "output does not contain {needle:?}:\n{}",
            self.dump()
        );
        self
    }

    /// Asserts that neither stdout nor stderr contains `needle`.
    #[track_caller]
    pub fn assert_output_lacks(&self, needle: &str) -> &Self {
        assert!(
            !self.all_output().contains(needle),
            "output unexpectedly contains {needle:?}:\n{}",
            self.dump()
        );
        self
    }

    /// Asserts that the lines `first` and then `second` appear in stdout, in order.
    #[track_caller]
    pub fn assert_order(&self, first: &str, second: &str) -> &Self {
        let a = self.stdout.find(first);
        let b = self.stdout.rfind(second);
        assert!(
            matches!((a, b), (Some(a), Some(b)) if a < b),
            "expected {first:?} before {second:?} in stdout:\n{}",
            self.dump()
        );
        self
    }

    /// Asserts the kernel's markers around a program that returned `status` from
    /// main: `=== calling "X" main() ===` before `body` and
    /// `=== main() of "X" returned N ===` after it.
    #[track_caller]
    pub fn assert_main_markers(&self, body: &str, status: i32) -> &Self {
        let calling = self
            .stdout
            .lines()
            .position(|l| l.starts_with("=== calling \"") && l.ends_with("\" main() ==="));
        let body_at = self.stdout.lines().position(|l| l.contains(body));
        let returned = self.stdout.lines().position(|l| {
            l.starts_with("=== main() of \"") && l.ends_with(&format!("\" returned {status} ==="))
        });
        assert!(
            matches!((calling, body_at, returned), (Some(c), Some(b), Some(r)) if c < b && b < r),
            "expected `=== calling \"..\" main() ===`, {body:?}, \
             `=== main() of \"..\" returned {status} ===` in that order:\n{}",
            self.dump()
        );
        self
    }
}

/// Runs `cmd` with stdin null, capturing its output, in its own process group; when
/// it outlives `timeout`, the whole group (the launcher and QEMU) is killed.
pub fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> Run {
    run_until(cmd, timeout, None)
}

/// Like [`run_with_timeout`], but the output is watched as it streams: as soon as
/// stdout has a complete line equal to `kill_line`, the command's children (QEMU,
/// under the launcher) are killed with SIGKILL, as a power cut would end the VM; the
/// launcher then reports that and cleans up after itself. The run's status is the
/// launcher's (not 0).
pub fn run_until_line(cmd: &mut Command, timeout: Duration, kill_line: &str) -> Run {
    run_until(cmd, timeout, Some(kill_line))
}

/// SIGKILLs the children of process `pid` (found with `ps --ppid`).
fn kill_children(pid: u32) {
    let mut ps = Command::new("ps");
    ps.args(["-o", "pid=", "--ppid", &pid.to_string()]);
    let out = ps
        .output()
        .unwrap_or_else(|e| panic!("{}", cannot_run(&ps, &e)));
    for child in String::from_utf8_lossy(&out.stdout).split_whitespace() {
        let _ = Command::new("kill")
            .args(["-KILL", child])
            .stderr(Stdio::null())
            .status();
    }
}

/// stdout and stderr of a running command, as its reader threads send them.
struct Streams {
    rx: mpsc::Receiver<(usize, Option<Vec<u8>>)>,
    out: [Vec<u8>; 2],
    /// Streams not at their end yet.
    open: usize,
}

impl Streams {
    /// Takes what arrives within `wait`; false once both streams have ended.
    fn receive(&mut self, wait: Duration) -> bool {
        match self.rx.recv_timeout(wait) {
            Ok((i, Some(chunk))) => self.out[i].extend_from_slice(&chunk),
            Ok((_, None)) => self.open -= 1,
            Err(mpsc::RecvTimeoutError::Disconnected) => thread::sleep(wait),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        self.open > 0
    }
}

fn run_until(cmd: &mut Command, timeout: Duration, kill_line: Option<&str>) -> Run {
    let what = format!("{cmd:?}");
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("{}", cannot_run(cmd, &e)));
    let pgid = child.id();

    // Each reader sends its stream in chunks as they come, then `None` at the end.
    let (tx, rx) = mpsc::channel::<(usize, Option<Vec<u8>>)>();
    let readers: Vec<_> = [
        (
            0,
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
        ),
        (1, Box::new(child.stderr.take().unwrap())),
    ]
    .into_iter()
    .map(|(i, mut r)| {
        let tx = tx.clone();
        thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = r.read(&mut buf) {
                if tx.send((i, Some(buf[..n].to_vec()))).is_err() {
                    return;
                }
            }
            let _ = tx.send((i, None));
        })
    })
    .collect();
    drop(tx);

    let kill_group = || {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{pgid}")])
            .stderr(Stdio::null())
            .status();
    };
    let mut streams = Streams {
        rx,
        out: [Vec::new(), Vec::new()],
        open: 2,
    };
    let saw_kill_line = |streams: &Streams| {
        kill_line.is_some_and(|want| {
            String::from_utf8_lossy(&streams.out[0])
                .split('\n')
                .rev()
                .skip(1) // the last piece is not a complete line yet
                .any(|l| l.trim_end_matches('\r') == want)
        })
    };

    let mut timed_out = false;
    let mut killed_children = false;
    let status: Option<ExitStatus> = loop {
        match child.try_wait() {
            Ok(Some(st)) => break Some(st),
            Ok(None) if start.elapsed() >= timeout => {
                timed_out = true;
                kill_group();
                let _ = child.wait();
                break None;
            }
            Ok(None) if !killed_children && saw_kill_line(&streams) => {
                kill_children(pgid);
                killed_children = true;
            }
            Ok(None) => {
                streams.receive(Duration::from_millis(5));
            }
            Err(e) => panic!("waiting for {what}: {e}"),
        }
    };
    let elapsed = start.elapsed();

    // A QEMU left behind by the launcher would keep the pipes open: give the
    // readers a moment, then end whatever is left of the group.
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline && streams.receive(Duration::from_millis(50)) {}
    if streams.open > 0 {
        kill_group();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline && streams.receive(Duration::from_millis(50)) {}
    }
    for r in readers {
        if r.is_finished() {
            let _ = r.join();
        }
    }
    let clean = |b: &[u8]| String::from_utf8_lossy(b).replace('\r', "");
    Run {
        what,
        status: status.and_then(|s| s.code()),
        stdout: clean(&streams.out[0]),
        stderr: clean(&streams.out[1]),
        timed_out,
        elapsed,
    }
}

/// `rumprun [launcher_opts] qemu -i [run_opts] IMAGE -- args...`, with the boot
/// timeout.
pub fn rumprun_qemu(image: &Path, run_opts: &[&str], args: &[&str]) -> Run {
    let mut cmd = Command::new(tool("rumprun"));
    cmd.args(["qemu", "-i"]).args(run_opts).arg(image);
    if !args.is_empty() {
        cmd.arg("--").args(args);
    }
    run_with_timeout(&mut cmd, BOOT_TIMEOUT)
}

/// Starts `rumprun ARGS` in the background, stdin closed and stdout/stderr piped (for
/// `wait_with_output`): a guest the test talks to while it runs (a server, a gdb
/// stub). `qemu`: a `RUMPRUN_QEMU` to run instead of QEMU (see [`write_script`]).
pub fn spawn_rumprun(args: &[&str], qemu: Option<&Path>) -> std::process::Child {
    let mut cmd = Command::new(tool("rumprun"));
    if let Some(q) = qemu {
        cmd.env("RUMPRUN_QEMU", q);
    }
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{}", cannot_run(&cmd, &e)))
}

/// Writes `text` as an executable script at `path` and returns the path: a stand-in
/// for a tool that rumprun runs (a `RUMPRUN_QEMU` that adds QEMU options, a fake
/// backing cargo).
pub fn write_script(path: &Path, text: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    fs::write(path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
    path.to_path_buf()
}

/// Builds, bakes and boots a C/C++ test program.
pub fn boot_c(src: &str, flavor: Flavor, run_opts: &[&str], args: &[&str]) -> Run {
    let prog = build_c(src, flavor);
    let image = bake(&prog);
    rumprun_qemu(&image, run_opts, args)
}

/// The ELF type (`e_type`: 2 = `ET_EXEC`, 3 = `ET_DYN`) and whether the file has a
/// `PT_INTERP` (dynamically linked) program header.
pub fn elf_kind(path: &Path) -> (u16, bool) {
    let b = fs::read(path).expect("read ELF");
    assert!(b.len() >= 64 && &b[..4] == b"\x7fELF", "not an ELF file");
    let u16_at = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
    let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
    let e_type = u16_at(16);
    let phoff = u64_at(32) as usize;
    let phentsize = u16_at(54) as usize;
    let phnum = u16_at(56) as usize;
    let interp = (0..phnum).any(|i| {
        let o = phoff + i * phentsize;
        u32::from_le_bytes(b[o..o + 4].try_into().unwrap()) == 3
    });
    (e_type, interp)
}

/// Splits a command line printed by a shell-quoting tool into words: whitespace
/// separates, `'…'` is literal, `"…"` allows `\"` and `\\`, a bare `\` quotes the
/// next character.
pub fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut it = line.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                for c in it.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    cur.push(c);
                }
            }
            '"' => {
                in_word = true;
                while let Some(c) = it.next() {
                    match c {
                        '"' => break,
                        '\\' => match it.peek() {
                            Some(&n @ ('"' | '\\' | '$' | '`')) => {
                                cur.push(n);
                                it.next();
                            }
                            _ => cur.push('\\'),
                        },
                        c => cur.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(n) = it.next() {
                    cur.push(n);
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}

/// A TCP server on 127.0.0.1 (the guest reaches it as 10.0.2.2 through QEMU user
/// networking) that accepts one connection, answers "late hello\n" after `delay` and
/// waits for the guest to close. Returns its port and the thread to join.
pub fn delayed_host_server(delay: Duration) -> (u16, thread::JoinHandle<()>) {
    use std::io::Write;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        thread::sleep(delay);
        s.write_all(b"late hello\n").unwrap();
        let _ = s.read(&mut [0u8; 1]); // until the guest closes
    });
    (port, server)
}

/// `mke2fs -t ext2 -b BLOCK_SIZE [-d TREE] [EXTRA...] DIR/disk.img SIZE`: a fresh
/// ext2 image made by the host's tools (the oracle for our ext2).
pub fn mke2fs(
    dir: &Path,
    block_size: u32,
    size: &str,
    tree: Option<&Path>,
    extra: &[&str],
) -> PathBuf {
    let img = dir.join("disk.img");
    let mut cmd = Command::new("mke2fs");
    cmd.args(["-q", "-F", "-t", "ext2", "-b", &block_size.to_string()]);
    if let Some(tree) = tree {
        cmd.arg("-d").arg(tree);
    }
    cmd.args(extra).arg(&img).arg(size);
    check_output(&mut cmd, "mke2fs");
    img
}

/// `e2fsck -fn IMG`: (exit status, output).
pub fn e2fsck(img: &Path) -> (Option<i32>, String) {
    let out = Command::new("e2fsck").arg("-fn").arg(img).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

/// Asserts that host `e2fsck -fn` finds the ext2 image clean.
#[track_caller]
pub fn assert_e2fsck_clean(img: &Path) {
    let (status, text) = e2fsck(img);
    assert_eq!(status, Some(0), "e2fsck -fn {}:\n{text}", img.display());
}

/// A file of an ext2 image, read on the host with debugfs.
pub fn debugfs_cat(img: &Path, path: &str) -> Vec<u8> {
    check_output(
        Command::new("debugfs")
            .args(["-R", &format!("cat {path}")])
            .arg(img),
        "debugfs",
    )
    .stdout
}

/// Runs test `name` of the current test binary again inside a new user and network
/// namespace (`unshare -rn`) and checks that it passed there; `marker` is the
/// environment variable that tells the re-run it is inside. In the re-run, `setup`
/// (shell-free command lines such as `ip tuntap add dev tap0 mode tap`) runs first.
/// True when the caller is that re-run and must do the test's work.
pub fn in_net_namespace(name: &str, marker: &str, setup: &[&str]) -> bool {
    if std::env::var_os(marker).is_some() {
        for step in setup {
            let words: Vec<&str> = step.split(' ').collect();
            check_output(Command::new(words[0]).args(&words[1..]), step);
        }
        return true;
    }
    assert!(
        Path::new("/dev/net/tun").exists(),
        "{name} needs /dev/net/tun (the tun module), which this machine lacks"
    );
    rerun_under_unshare(name, marker, &["-rn"], "a network namespace");
    false
}

/// Runs test `name` of the current test binary again under `unshare UNSHARE_ARGS`
/// with `marker` set in its environment, and checks that it passed there (`what`
/// names the namespaces in the failure message).
pub fn rerun_under_unshare(name: &str, marker: &str, unshare_args: &[&str], what: &str) {
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("unshare")
        .args(unshare_args)
        .arg(&exe)
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(marker, "1")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{name} needs unshare (util-linux): {e}"));
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && log.contains(&format!("test {name} ... ok")),
        "{name} in {what} (unshare {}) failed:\n{log}",
        unshare_args.join(" ")
    );
}
