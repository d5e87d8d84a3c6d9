//! What the apps tests (apps.rs, apps_processes.rs) and the apps load tests
//! (apps_load.rs) share: the Debian programs they bake (a missing one fails naming its
//! package), the root trees baked with them, guests running in the background,
//! host-side HTTP fetches.
#![allow(dead_code)] // each test file uses its own part

use rumprun_system_tests::*;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A program installed by a Debian package on this host; fails naming the package.
pub fn debian_program(path: &str, package: &str) -> PathBuf {
    let p = PathBuf::from(path);
    assert!(
        p.is_file(),
        "{path} is missing: the apps tests need the Debian package {package} (apt-get install {package})"
    );
    p
}

/// Deterministic pseudo-random bytes (xorshift64), so a body can be checked byte for
/// byte without storing it.
pub fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// The static files the web servers serve: (path under the document root, contents).
pub fn web_files() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        (
            "index.html",
            b"<html><body>small page from rumprun</body></html>\n".to_vec(),
        ),
        ("1m.bin", pseudo_random(1 << 20, 1)),
        ("20m.bin", pseudo_random(20 << 20, 20)),
    ]
}

/// A directory under target/system-tests/apps made once per test process by `fill`.
pub fn tree_once(name: &str, fill: impl FnOnce(&Path)) -> PathBuf {
    static MADE: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let dir = work_dir().join("apps").join(name);
    let mut made = MADE.lock().unwrap_or_else(|e| e.into_inner());
    if !made.iter().any(|n| n == name) {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        fill(&dir);
        made.push(name.to_string());
    }
    dir
}

pub fn write(root: &Path, path: &str, data: &[u8]) {
    let p = root.join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, data).unwrap();
}

pub fn mkdirs(root: &Path, dirs: &[&str]) {
    for d in dirs {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
}

/// nginx from Debian's packages (nginx and its libraries with -D, nginx-common's
/// configuration with -d), with what nginx-common's install script makes: the enabled
/// default site, /var/www/html (here with the test files), the log and state dirs.
pub fn nginx_image() -> PathBuf {
    let nginx = debian_program("/usr/sbin/nginx", "nginx");
    debian_program("/etc/nginx/sites-available/default", "nginx-common");
    let root = tree_once("nginx-root", |r| {
        nginx_install_tree(r);
        for (name, data) in web_files() {
            write(r, &format!("var/www/html/{name}"), &data);
        }
    });
    bake_programs(
        &[&nginx],
        "app-nginx",
        &[
            "-D".as_ref(),
            "-d".as_ref(),
            "nginx-common".as_ref(),
            "-r".as_ref(),
            root.as_os_str(),
        ],
    )
}

/// What nginx-common's install script makes under `r`: the enabled default site (a
/// link to Debian's sites-available/default), the log and state directories, /run.
pub fn nginx_install_tree(r: &Path) {
    mkdirs(
        r,
        &[
            "etc/nginx/sites-enabled",
            "var/log/nginx",
            "var/lib/nginx",
            "run",
        ],
    );
    std::os::unix::fs::symlink(
        "/etc/nginx/sites-available/default",
        r.join("etc/nginx/sites-enabled/default"),
    )
    .unwrap();
}

/// nginx's command line: Debian's config, in the foreground, one process.
pub const NGINX_ARGS: &[&str] = &["-g", "daemon off; master_process off;"];

/// redis-server and redis-cli (and wait_tcp), with the directories redis's install
/// script makes and an empty /data for the disk tests.
pub fn redis_image() -> PathBuf {
    let server = debian_program("/usr/bin/redis-server", "redis-server");
    let cli = debian_program("/usr/bin/redis-cli", "redis-tools");
    let wait = build_c("wait_tcp.c", Flavor::Glibc);
    let root = tree_once("redis-root", |r| {
        mkdirs(r, &["var/lib/redis", "var/log/redis", "run/redis", "data"]);
    });
    bake_programs(
        &[&server, &cli, &wait],
        "app-redis",
        &["-D".as_ref(), "-r".as_ref(), root.as_os_str()],
    )
}

/// An image baked earlier in this run (by the process that started this one, say,
/// outside a namespace where the host's files cannot all be read).
pub fn baked_image(name: &str) -> PathBuf {
    let p = work_dir().join("images").join(format!("{name}.bin"));
    assert!(p.is_file(), "{} was not baked", p.display());
    p
}

/// A free TCP port on 127.0.0.1 for a port forward.
pub fn free_port() -> u16 {
    static GIVEN: Mutex<Vec<u16>> = Mutex::new(Vec::new());
    loop {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let mut given = GIVEN.lock().unwrap();
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

/// `rumprun qemu` options: a card on QEMU user networking with a static address
/// (so no DHCP replaces a baked resolv.conf), memory, and port forwards.
pub fn user_net(mem: &str, forwards: &[(u16, u16)]) -> Vec<String> {
    let mut o: Vec<String> = [
        "-M",
        mem,
        "-I",
        "net0,vioif",
        "-W",
        "net0,inet,static,10.0.2.15/24,10.0.2.2",
    ]
    .map(String::from)
    .into();
    for (host, guest) in forwards {
        o.push("-F".into());
        o.push(format!("{host}:{guest}"));
    }
    o
}

/// A guest running in the background (the launcher and QEMU in a process group of
/// their own, the console in a log file): killed when dropped.
pub struct Guest {
    child: Mutex<Option<Child>>,
    log: PathBuf,
}

impl Guest {
    /// `rumprun qemu -i OPTS IMAGE -- ARGS`.
    pub fn start(name: &str, image: &Path, opts: &[String], args: &[&str]) -> Guest {
        Guest::start_in(Command::new(tool("rumprun")), name, image, opts, args)
    }

    /// As `start`, with QEMU (all its vCPU threads) on one host CPU (`taskset`): a
    /// guest with several vCPUs then has them take turns, as a loaded host makes them.
    pub fn start_on_one_host_cpu(
        name: &str,
        image: &Path,
        opts: &[String],
        args: &[&str],
    ) -> Guest {
        let mut cmd = Command::new("taskset");
        cmd.args(["-c", &first_allowed_cpu()]).arg(tool("rumprun"));
        Guest::start_in(cmd, name, image, opts, args)
    }

    fn start_in(
        mut cmd: Command,
        name: &str,
        image: &Path,
        opts: &[String],
        args: &[&str],
    ) -> Guest {
        let log = scratch_dir(name).join("console.log");
        let out = std::fs::File::create(&log).unwrap();
        cmd.args(["qemu", "-i"]).args(opts).arg(image);
        if !args.is_empty() {
            cmd.arg("--").args(args);
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .process_group(0)
            .spawn()
            .expect("start rumprun");
        Guest {
            child: Mutex::new(Some(child)),
            log,
        }
    }

    /// Whether the guest has ended (the launcher exited).
    pub fn ended(&self) -> bool {
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        child
            .as_mut()
            .is_none_or(|c| c.try_wait().ok().flatten().is_some())
    }

    /// The console so far.
    pub fn console(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.log).unwrap_or_default()).replace('\r', "")
    }

    /// Waits up to `timeout` for the guest to end: its exit status (None: it was
    /// killed at the timeout) and console.
    pub fn wait(self, timeout: Duration) -> (Option<i32>, String) {
        let mut child = self
            .child
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .unwrap();
        let start = Instant::now();
        let status = loop {
            if let Some(st) = child.try_wait().unwrap() {
                break st.code();
            }
            if start.elapsed() > timeout {
                kill_group(&mut child);
                break None;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        (status, self.console())
    }
}

/// The first host CPU this process may run on (its `Cpus_allowed_list`).
fn first_allowed_cpu() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let list = status
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
        .expect("Cpus_allowed_list in /proc/self/status");
    let first = list.trim().split([',', '-']).next().unwrap().to_string();
    assert!(
        Command::new("taskset")
            .arg("-V")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success()),
        "the test needs taskset (Debian package util-linux)"
    );
    first
}

fn kill_group(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", child.id())])
        .stderr(Stdio::null())
        .status();
    let _ = child.wait();
}

impl Drop for Guest {
    fn drop(&mut self) {
        let child = self.child.get_mut().unwrap_or_else(|e| e.into_inner());
        if let Some(mut child) = child.take() {
            kill_group(&mut child);
        }
    }
}

/// `curl` GETs `url` from the host, retried while the guest boots (up to 2 minutes);
/// the body. The guest's console is in the failure message.
pub fn curl(url: &str, guest: &Guest) -> Vec<u8> {
    let start = Instant::now();
    loop {
        let out = Command::new("curl")
            .args(["-sS", "--fail", "--connect-timeout", "3", "-m", "120"])
            .arg(url)
            .output()
            .expect("the apps tests need curl (Debian package curl)");
        if out.status.success() {
            return out.stdout;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120) && !guest.ended(),
            "curl {url}: {}\nguest:\n{}",
            String::from_utf8_lossy(&out.stderr),
            guest.console()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Asserts that `got` is `want` byte for byte (lengths and the first difference in
/// the message, not megabytes of bytes).
#[track_caller]
pub fn assert_same_bytes(what: &str, got: &[u8], want: &[u8]) {
    if got != want {
        let first = got.iter().zip(want).position(|(a, b)| a != b);
        panic!(
            "{what}: {} bytes, want {} (first difference at {:?})",
            got.len(),
            want.len(),
            first
        );
    }
}
