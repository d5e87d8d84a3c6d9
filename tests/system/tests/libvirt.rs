//! `rumprun libvirt`: images run as libvirt domains under Debian's libvirtd with the
//! QEMU driver (TCG): a program's argv, environment and exit status through `-i`; an
//! HTTP server on a libvirt network answering the host; a disk mounted read-write and
//! e2fsck-clean after; a background start stopped with `rumpstop libvirt:NAME`;
//! `--xml`; and the one-line error when no libvirtd answers.
//!
//! Each test runs again inside its own mount and network namespace (`unshare -mn`, as
//! root) where it starts its own libvirtd (and virtlogd) with libvirt's state
//! directories on fresh tmpfs mounts: nothing is shared with the machine's libvirt (if
//! any) or with the other tests, the domains' bridge and traffic never leave the
//! namespace, and the daemon and its domains are killed when the test ends. The
//! namespace's qemu.conf sets only `namespaces = [ ]`, and /dev/kvm is hidden there
//! (a root-only file over it): on machines whose /dev/kvm cannot run guests (this
//! project's kvm_pvm builders), libvirt's KVM probe fails on every start and it then
//! re-probes QEMU's capabilities before every domain (a minute each); with the node
//! hidden libvirt probes TCG once, and its per-domain /dev namespace would not cope
//! with the bind mount.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rumprun_system_tests::*;

/// Set in the re-run inside the namespace.
const IN_NAMESPACE: &str = "RUMPRUN_TEST_IN_LIBVIRT_NAMESPACE";
/// A domain's boot and run under TCG, plus libvirt's first capability probe.
const TIMEOUT: Duration = Duration::from_secs(180);
/// The libvirt network of the HTTP test: the host's end of its bridge, and the
/// guest's static address.
const HOST: &str = "10.9.7.1";
const GUEST: &str = "10.9.7.2";

/// Runs test `name` again inside a new mount and network namespace and checks that
/// it passed there. True when the caller is that re-run and must do the test's work
/// (after [`Libvirtd::start`]).
fn in_libvirt_namespace(name: &str) -> bool {
    if std::env::var_os(IN_NAMESPACE).is_some() {
        return true;
    }
    rerun_under_unshare(
        name,
        IN_NAMESPACE,
        &["-mn", "--propagation", "private"],
        "a mount and network namespace (as root)",
    );
    false
}

fn sh(line: &str) {
    let words: Vec<&str> = line.split(' ').collect();
    check_output(Command::new(words[0]).args(&words[1..]), line);
}

/// The namespace's own libvirtd and virtlogd; dropping it destroys every domain and
/// kills both.
struct Libvirtd {
    dir: PathBuf,
}

impl Libvirtd {
    fn start(test: &str) -> Libvirtd {
        for (program, package) in [
            ("libvirtd", "libvirt-daemon-system"),
            ("virtlogd", "libvirt-daemon-system"),
            ("virsh", "libvirt-clients"),
        ] {
            assert!(
                ["/usr/sbin", "/usr/bin"]
                    .iter()
                    .any(|d| Path::new(d).join(program).is_file()),
                "{program} is not installed (install the Debian package {package}: apt-get install --no-install-recommends {package})"
            );
        }
        let dir = scratch_dir(test);
        for d in [
            "/run/libvirt",
            "/var/lib/libvirt",
            "/var/cache/libvirt",
            "/var/log/libvirt",
        ] {
            fs::create_dir_all(d).unwrap();
            sh(&format!("mount -t tmpfs tmpfs {d}"));
        }
        fs::create_dir_all("/var/lib/libvirt/dnsmasq").unwrap();
        let conf = dir.join("qemu.conf");
        fs::write(&conf, "namespaces = [ ]\n").unwrap();
        sh(&format!(
            "mount --bind {} /etc/libvirt/qemu.conf",
            conf.display()
        ));
        if Path::new("/dev/kvm").exists() {
            fs::write("/run/libvirt/no-kvm", "").unwrap();
            sh("chmod 600 /run/libvirt/no-kvm");
            sh("mount --bind /run/libvirt/no-kvm /dev/kvm");
        }
        sh("ip link set lo up");
        sh("virtlogd -d -p /run/libvirt/virtlogd.pid");
        sh("libvirtd -d -p /run/libvirt/libvirtd.pid");
        let start = Instant::now();
        while !Command::new("virsh")
            .args(["-q", "version"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
        {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "libvirtd did not answer"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Libvirtd { dir }
    }
}

impl Drop for Libvirtd {
    fn drop(&mut self) {
        if let Ok(out) = Command::new("virsh")
            .args(["-q", "list", "--name"])
            .output()
        {
            for name in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                let _ = Command::new("virsh").args(["-q", "destroy", name]).output();
            }
        }
        for pidfile in ["/run/libvirt/libvirtd.pid", "/run/libvirt/virtlogd.pid"] {
            if let Ok(pid) = fs::read_to_string(pidfile) {
                let _ = Command::new("kill").arg(pid.trim()).status();
            }
        }
    }
}

fn rumprun_libvirt(args: &[&str]) -> Run {
    let mut cmd = Command::new(tool("rumprun"));
    cmd.arg("libvirt").args(args);
    let run = run_with_timeout(&mut cmd, TIMEOUT);
    assert!(!run.timed_out, "rumprun libvirt timed out:\n{}", run.dump());
    run
}

fn image(src: &str) -> PathBuf {
    bake(&build_c(src, Flavor::Glibc))
}

#[test]
fn argv_env_and_exit_status_through_i() {
    if !in_libvirt_namespace("argv_env_and_exit_status_through_i") {
        return;
    }
    let daemon = Libvirtd::start("libvirt-args");
    let args = image("args.c");
    rumprun_libvirt(&[
        "-i",
        "-N",
        "box",
        "-e",
        "WORLD=mars",
        args.to_str().unwrap(),
        "--",
        "two words",
        "it's",
        "-env",
        "WORLD",
        "-hostname",
    ])
    .assert_status(0)
    .assert_stdout_line("argc=6")
    .assert_stdout_line("argv[1]=[two words]")
    .assert_stdout_line("argv[2]=[it's]")
    .assert_stdout_line("env[WORLD]=[mars]")
    .assert_stdout_line("hostname=[box]");
    let status = image("exit_status.c");
    rumprun_libvirt(&["-i", status.to_str().unwrap(), "42", "nested"])
        .assert_status(42)
        .assert_stdout_line("calling exit(42) from a nested function");
    // --xml gives a domain any libvirt client can start as it is (virsh create);
    // the program runs to its end and the domain goes.
    let hello = image("hello.c");
    let run = rumprun_libvirt(&[
        "--xml",
        "-N",
        "from-xml",
        "-e",
        "WORLD=xml",
        hello.to_str().unwrap(),
    ]);
    run.assert_status(0);
    let xml = daemon.dir.join("from-xml.xml");
    fs::write(&xml, &run.stdout).unwrap();
    check_output(
        Command::new("virsh").arg("create").arg(&xml),
        "virsh create",
    );
    let start = Instant::now();
    while Command::new("virsh")
        .args(["-q", "domstate", "from-xml"])
        .output()
        .is_ok_and(|o| o.status.success())
    {
        assert!(start.elapsed() < TIMEOUT, "the --xml domain did not end");
        std::thread::sleep(Duration::from_millis(200));
    }
    // The transient domains are gone.
    let out = check_output(
        Command::new("virsh").args(["-q", "list", "--all", "--name"]),
        "virsh list",
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "");
}

#[test]
fn disk_is_mounted_read_write_and_e2fsck_clean() {
    if !in_libvirt_namespace("disk_is_mounted_read_write_and_e2fsck_clean") {
        return;
    }
    let daemon = Libvirtd::start("libvirt-disk");
    let tree = daemon.dir.join("tree");
    fs::create_dir_all(&tree).unwrap();
    fs::write(tree.join("from-host.txt"), "written on the host\n").unwrap();
    let img = mke2fs(&daemon.dir, 4096, "16M", Some(&tree), &[]);
    let disk = format!("{},/data", img.display());
    rumprun_libvirt(&[
        "-i",
        "-b",
        &disk,
        "-e",
        "RUMPRUN_VERBOSE=1",
        image("ext2_rw.c").to_str().unwrap(),
    ])
    .assert_status(0)
    .assert_output_contains("rumprun: /dev/vda: virtio-blk, 16 MiB")
    .assert_output_lacks("FAIL ")
    .assert_stdout_line("ALL OK");
    assert_e2fsck_clean(&img);
    assert_eq!(
        debugfs_cat(&img, "/dir/guest.txt"),
        b"written by the unikernel\n"
    );
}

/// The libvirt network `rrnet`: an isolated bridge (no forwarding, no DHCP, no DNS)
/// with the host at [`HOST`].
fn define_network(dir: &Path) {
    let xml = dir.join("net.xml");
    fs::write(
        &xml,
        format!(
            "<network>\n  <name>rrnet</name>\n  <bridge name='rrbr0'/>\n  <dns enable='no'/>\n  \
             <ip address='{HOST}' netmask='255.255.255.0'/>\n</network>\n"
        ),
    )
    .unwrap();
    check_output(
        Command::new("virsh").args(["-q", "net-create"]).arg(&xml),
        "virsh net-create",
    );
}

fn curl(path: &str) -> Vec<u8> {
    let start = Instant::now();
    loop {
        let out = Command::new("curl")
            .args(["-sS", "--fail", "--connect-timeout", "2", "-m", "60"])
            .arg(format!("http://{GUEST}{path}"))
            .output()
            .unwrap_or_else(|e| panic!("curl (Debian: curl): {e}"));
        if out.status.success() {
            return out.stdout;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "curl {path}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Background start on a libvirt network, the host's requests answered, then
/// `rumpstop libvirt:NAME` (the server runs until stopped).
#[test]
fn http_server_on_a_libvirt_network_and_rumpstop() {
    if !in_libvirt_namespace("http_server_on_a_libvirt_network_and_rumpstop") {
        return;
    }
    let daemon = Libvirtd::start("libvirt-net");
    define_network(&daemon.dir);
    let w = format!("net0,inet,static,{GUEST}/24,{HOST}");
    let run = rumprun_libvirt(&[
        "-N",
        "web",
        "-M",
        "96",
        "-I",
        "net0,vioif,rrnet",
        "-W",
        &w,
        image("http_server.c").to_str().unwrap(),
    ]);
    run.assert_status(0).assert_stdout_line("libvirt:web");
    let log = run
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("rumprun: console log: "))
        .unwrap_or_else(|| panic!("no console log named:\n{}", run.dump()))
        .to_string();
    let state = check_output(
        Command::new("virsh").args(["-q", "domstate", "web"]),
        "virsh domstate",
    );
    assert_eq!(String::from_utf8_lossy(&state.stdout).trim(), "running");
    assert_eq!(curl("/"), b"hello from the unikernel\n");
    let big = curl("/big");
    assert!(
        big.iter()
            .enumerate()
            .all(|(i, b)| *b == b'a' + (i % 26) as u8)
            && big.len() == 1 << 20,
        "1 MiB body differs ({} bytes)",
        big.len()
    );
    let stop = Command::new(tool("rumpstop"))
        .arg("libvirt:web")
        .output()
        .unwrap();
    assert!(
        stop.status.success(),
        "rumpstop: {}",
        String::from_utf8_lossy(&stop.stderr)
    );
    let gone = Command::new("virsh")
        .args(["-q", "domstate", "web"])
        .output()
        .unwrap();
    assert!(
        !gone.status.success(),
        "domain web still there after rumpstop"
    );
    let console = fs::read_to_string(&log).unwrap();
    assert!(console.contains("=== calling"), "console log:\n{console}");
    // Stopping it again: one clear line.
    let again = Command::new(tool("rumpstop"))
        .arg("libvirt:web")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(
        !again.status.success() && err.lines().count() == 1 && err.contains("web"),
        "second rumpstop: {err}"
    );
}

/// `--xml` prints the domain without starting anything (started by virsh in
/// `argv_env_and_exit_status_through_i`); with no libvirtd the error is
/// one line naming the package (this test runs in the namespace without starting
/// the daemon).
#[test]
fn xml_and_no_daemon() {
    if !in_libvirt_namespace("xml_and_no_daemon") {
        return;
    }
    for d in ["/run/libvirt", "/var/run/libvirt"] {
        if Path::new(d).is_dir() {
            sh(&format!("mount -t tmpfs tmpfs {d}"));
        }
    }
    let hello = image("hello.c");
    let run = rumprun_libvirt(&[
        "--xml",
        "-N",
        "a&b",
        "-e",
        "WORLD=<x>",
        hello.to_str().unwrap(),
    ]);
    run.assert_status(0);
    let xml = &run.stdout;
    assert!(xml.starts_with("<domain type='qemu'"), "{xml}");
    assert!(xml.contains("<name>a&amp;b</name>"), "{xml}");
    assert!(
        xml.contains(&format!(
            "<kernel>{}</kernel>",
            std::path::absolute(&hello).unwrap().display()
        )),
        "{xml}"
    );
    assert!(
        xml.contains("&quot;env&quot;: &quot;WORLD=&lt;x&gt;&quot;"),
        "{xml}"
    );
    let run = rumprun_libvirt(&["-i", hello.to_str().unwrap()]);
    assert_ne!(run.status, Some(0));
    let err: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(err.len(), 1, "{}", run.dump());
    assert!(
        err[0].starts_with("rumprun: error: libvirt: cannot connect to")
            && err[0].contains("libvirt-daemon-system"),
        "{}",
        run.dump()
    );
}
