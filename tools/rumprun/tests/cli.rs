//! Runs the built `rumprun` and `rumpstop` binaries: usage errors, `-D` dumps, kvm host
//! checks, and exit-status handling with a fake QEMU (a shell script given through
//! `RUMPRUN_QEMU` that records its arguments and plays the guest's part).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use rumprun_config::{quote_arg, Config};

const RUMPRUN: &str = env!("CARGO_BIN_EXE_rumprun");
const RUMPSTOP: &str = env!("CARGO_BIN_EXE_rumpstop");

/// A scratch directory for one test, removed at the end.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "rumprun-cli-test.{}.{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).to_str().unwrap().to_string()
    }

    /// A file that passes the launcher's ELF check (an x86_64 ELF64 header).
    fn app(&self) -> String {
        let mut h = vec![0u8; 64];
        h[..4].copy_from_slice(b"\x7fELF");
        h[4] = 2;
        h[5] = 1;
        h[6] = 1;
        h[18] = 62;
        let p = self.path("app.bin");
        std::fs::write(&p, h).unwrap();
        p
    }

    /// A fake QEMU: records its arguments (one per line) in `args.txt`, writes
    /// `status` (if not empty) to the status file, runs `extra`, exits with `exit`.
    fn fake_qemu(&self, status: &str, exit: i32, extra: &str) -> String {
        let script = format!(
            r#"#!/bin/sh
status_file=
for a in "$@"; do
  case "$a" in
    file,id=rrstatus,path=*) status_file="${{a#file,id=rrstatus,path=}}" ;;
  esac
done
: > {args}
for a in "$@"; do printf '%s\n' "$a" >> {args}; done
if [ -n "{status}" ]; then printf '%s\n' "{status}" > "$status_file"; fi
{extra}
exit {exit}
"#,
            args = quote_arg(&self.path("args.txt")),
        );
        let p = self.path("fake-qemu");
        std::fs::write(&p, script).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    fn recorded_args(&self) -> Vec<String> {
        std::fs::read_to_string(self.path("args.txt"))
            .unwrap()
            .lines()
            .map(String::from)
            .collect()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(bin: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(bin);
    c.args(args).stdin(Stdio::null());
    c.env_remove("RUMPRUN_QEMU")
        .env_remove("RUMPRUN_KVM_DEV")
        .env_remove("RUMPRUN_SYSFS_ROOT");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Exit 1 with `first` as the first stderr line, and no panic.
fn assert_error(o: &Output, first: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "stderr: {err}");
    assert_eq!(err.lines().next(), Some(first), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn help() {
    let o = run(RUMPRUN, &["-h"], &[]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(out.starts_with("usage: rumprun [script args] PLATFORM [guest args] APP"));
    assert!(out.contains("(not yet)"));
    assert!(!out.contains("experimental"));
}

#[test]
fn usage_errors() {
    let s = Scratch::new();
    let app = s.app();
    let o = run(RUMPRUN, &[], &[]);
    assert_error(&o, "rumprun: error: missing PLATFORM");
    assert!(stderr(&o).contains("usage: rumprun"));
    assert_error(
        &run(RUMPRUN, &["-x", "qemu", &app], &[]),
        "rumprun: error: unknown option -x",
    );
    assert_error(
        &run(RUMPRUN, &["qemu", "-y", &app], &[]),
        "rumprun: error: unknown option -y",
    );
    assert_error(
        &run(RUMPRUN, &["qemu", "-i"], &[]),
        "rumprun: error: missing APP",
    );
    assert_error(
        &run(RUMPRUN, &["vbox", &app], &[]),
        "rumprun: error: invalid platform \"vbox\"",
    );
    // Not in a dom0: no xl to run.
    assert_error(
        &run(RUMPRUN, &["xen", &app], &[("PATH", "/nonexistent")]),
        "rumprun: error: cannot run xl: No such file or directory (rumprun xen runs in a Xen dom0 with the Xen tools)",
    );
    assert_error(
        &run(RUMPRUN, &["xen", "-F", "8080:80", &app], &[]),
        "rumprun: error: -F (port forwarding) is not supported on xen: reach the guest's address from dom0",
    );
    assert_error(
        &run(RUMPRUN, &["iso", "-b", "d.img", &app], &[]),
        "rumprun: error: -b d.img: No such file or directory",
    );
    // Without grub-mkrescue in PATH nothing is written and the package is named.
    assert_error(
        &run(RUMPRUN, &["iso", "-N", "/nonexistent/x", &app], &[("PATH", "/nonexistent")]),
        "rumprun: error: iso: grub-mkrescue not found: install the Debian package grub-common (apt-get install grub-pc-bin grub-common xorriso mtools)",
    );
    assert_error(
        &run(RUMPRUN, &["qemu", "-d", &app], &[]),
        "rumprun: error: -d not supported on qemu/kvm",
    );
    assert_error(
        &run(RUMPRUN, &["qemu", "-b", "disk.img", &app], &[]),
        "rumprun: error: -b disk.img: No such file or directory",
    );
}

#[test]
fn app_errors() {
    let s = Scratch::new();
    let missing = s.path("nope.bin");
    assert_error(
        &run(RUMPRUN, &["qemu", "-i", &missing], &[]),
        &format!("rumprun: error: {missing}: No such file or directory"),
    );
    let text = s.path("text");
    std::fs::write(&text, "hello\n").unwrap();
    assert_error(
        &run(RUMPRUN, &["qemu", "-i", &text], &[]),
        &format!(
            "rumprun: error: {text}: not an ELF file (expected an image made by rumprun-bake)"
        ),
    );
}

#[test]
fn dump_prints_the_exact_command() {
    let s = Scratch::new();
    let app = s.app();
    let tmp = s.path("tmp");
    let o = run(
        RUMPRUN,
        &[
            "-D", "-T", &tmp, "qemu", "-M", "128", "-e", "A=B", "-N", "h", "-i", &app, "--", "x y",
            "it's",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let bios = if Path::new("/usr/share/qemu/qboot.rom").is_file() {
        "-bios /usr/share/qemu/qboot.rom "
    } else {
        ""
    };
    let config =
        format!(r#"{{"cmdline": "{app} 'x y' 'it'\\''s'", "env": "A=B", "hostname": "h"}}"#);
    let expected = format!(
        "qemu-system-x86_64 -M q35 -accel tcg -cpu max -m 128 -nodefaults -no-user-config \
         -display none {bios}-serial stdio -chardev file,id=rrstatus,path={tmp}/status \
         -device isa-serial,chardev=rrstatus,iobase=0x2f8,irq=3 \
         -device isa-debug-exit,iobase=0xf4,iosize=4 -kernel {app} -append {}\n",
        quote_arg(&config)
    );
    assert_eq!(stdout(&o), expected);
    assert!(!Path::new(&tmp).exists(), "-D creates nothing");
    let c = Config::parse(&config).unwrap().unwrap();
    assert_eq!(c.argv, Some(vec![app.clone(), "x y".into(), "it's".into()]));
}

#[test]
fn dump_xen_prints_the_xl_config_and_the_xenstore_config() {
    let s = Scratch::new();
    let app = s.app();
    let o = run(
        RUMPRUN,
        &["-D", "xen", "-M", "32", "-d", "-e", "A=B", &app, "--", "x"],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let kernel = std::fs::canonicalize(&app).unwrap();
    let kernel = kernel.to_str().unwrap();
    let name = Path::new(&app).file_name().unwrap().to_str().unwrap();
    assert_eq!(
        stdout(&o),
        format!(
            "name = \"rumprun-{name}\"\ntype = \"pvh\"\nkernel = \"{kernel}\"\nmemory = 32\n\
             vcpus = 1\ntsc_mode = \"native\"\non_poweroff = \"destroy\"\non_crash = \"destroy\"\n\
             on_reboot = \"destroy\"\n\
             # xenstore: /local/domain/<domid>/rumprun/cfg = {{\"cmdline\": \"{app} x\", \"env\": \"A=B\"}}\n"
        )
    );
}

#[test]
fn dump_xen_with_two_cpus_says_vcpus_2() {
    let s = Scratch::new();
    let app = s.app();
    let o = run(RUMPRUN, &["-D", "xen", "-c", "2", &app], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("\nvcpus = 2\n"), "{}", stdout(&o));
    let o = run(RUMPRUN, &["-D", "xen", "-c", "17", &app], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("-c: invalid CPU count \"17\" (expected 1 to 16)"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn dump_kvm_with_gdb_and_extra_args() {
    let s = Scratch::new();
    let app = s.app();
    let o = run(
        RUMPRUN,
        &["-D", "-t", "/t", "kvm", "-D", "1234", "-g", "-smp 1", &app],
        &[("RUMPRUN_QEMU", "/opt/qemu")],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("/opt/qemu -M q35 -accel kvm -cpu host,-arch-capabilities -m 64 "));
    assert!(out.contains(" -gdb tcp::1234 -S -smp 1 -kernel "), "{out}");
}

#[test]
fn kvm_host_checks() {
    let s = Scratch::new();
    let app = s.app();
    let dev = s.path("kvm");
    std::fs::write(&dev, "").unwrap();
    let sys = s.path("sys");
    std::fs::create_dir_all(&sys).unwrap();
    let qemu = s.fake_qemu("0", 1, "");
    let o = run(
        RUMPRUN,
        &["kvm", "-i", &app],
        &[
            ("RUMPRUN_KVM_DEV", "/nonexistent/kvm"),
            ("RUMPRUN_SYSFS_ROOT", &sys),
            ("RUMPRUN_QEMU", &qemu),
        ],
    );
    assert_error(
        &o,
        "rumprun: error: kvm: /nonexistent/kvm not present (use \"rumprun qemu\")",
    );
    // A KVM that works: the fake QEMU runs with the kvm accelerator.
    let o = run(
        RUMPRUN,
        &["kvm", "-i", &app],
        &[
            ("RUMPRUN_KVM_DEV", &dev),
            ("RUMPRUN_SYSFS_ROOT", &sys),
            ("RUMPRUN_QEMU", &qemu),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let args = s.recorded_args();
    assert!(args.windows(2).any(|w| w == ["-accel", "kvm"]), "{args:?}");
    std::fs::create_dir_all(format!("{sys}/module/kvm_pvm")).unwrap();
    let o = run(
        RUMPRUN,
        &["kvm", "-i", &app],
        &[
            ("RUMPRUN_KVM_DEV", &dev),
            ("RUMPRUN_SYSFS_ROOT", &sys),
            ("RUMPRUN_QEMU", &qemu),
        ],
    );
    assert_error(
        &o,
        "rumprun: error: kvm: this host's KVM is kvm_pvm (software, nested), which cannot run ring-0 unikernels; use \"rumprun qemu\"",
    );
}

#[test]
fn status_file_gives_the_exit_status() {
    let s = Scratch::new();
    let app = s.app();
    let qemu = s.fake_qemu("3", 7, "");
    let tmp = s.path("tmp");
    let o = run(
        RUMPRUN,
        &[
            "-t",
            &tmp,
            "qemu",
            "-i",
            "-e",
            "A=B",
            &app,
            "--",
            "one",
            "two words",
            "",
        ],
        &[("RUMPRUN_QEMU", &qemu)],
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(!Path::new(&tmp).exists(), "-t dir removed after -i");
    // The config QEMU got reads back as the exact argv.
    let args = s.recorded_args();
    let i = args.iter().position(|a| a == "-append").unwrap();
    let c = Config::parse(&args[i + 1]).unwrap().unwrap();
    assert_eq!(
        c.argv,
        Some(vec![
            app.clone(),
            "one".into(),
            "two words".into(),
            "".into()
        ])
    );
    assert_eq!(c.env, vec!["A=B".to_string()]);
}

#[test]
fn keep_dir_with_capital_t() {
    let s = Scratch::new();
    let app = s.app();
    let qemu = s.fake_qemu("5", 1, "");
    let tmp = s.path("kept");
    let o = run(
        RUMPRUN,
        &["-T", &tmp, "qemu", "-i", &app],
        &[("RUMPRUN_QEMU", &qemu)],
    );
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(format!("{tmp}/status")).unwrap(),
        "5\n"
    );
    let o = run(
        RUMPRUN,
        &["-T", &tmp, "qemu", "-i", &app],
        &[("RUMPRUN_QEMU", &qemu)],
    );
    assert_error(&o, &format!("rumprun: error: {tmp} already exists"));
}

#[test]
fn odd_qemu_status_is_the_fallback() {
    let s = Scratch::new();
    let app = s.app();
    let qemu = s.fake_qemu("", 9, "");
    let o = run(RUMPRUN, &["qemu", "-i", &app], &[("RUMPRUN_QEMU", &qemu)]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
}

#[test]
fn no_status_and_even_qemu_status_is_an_error() {
    let s = Scratch::new();
    let app = s.app();
    let qemu = s.fake_qemu("", 0, "");
    let o = run(RUMPRUN, &["qemu", "-i", &app], &[("RUMPRUN_QEMU", &qemu)]);
    assert_error(
        &o,
        "rumprun: error: guest ended without reporting an exit status (qemu exited with 0)",
    );
    let qemu = s.fake_qemu("", 0, "kill -9 $$");
    let o = run(RUMPRUN, &["qemu", "-i", &app], &[("RUMPRUN_QEMU", &qemu)]);
    assert_error(
        &o,
        "rumprun: error: guest ended without reporting an exit status (qemu was killed by signal 9)",
    );
}

#[test]
fn missing_qemu() {
    let s = Scratch::new();
    let app = s.app();
    let empty = s.path("empty-path");
    std::fs::create_dir_all(&empty).unwrap();
    let o = run(RUMPRUN, &["qemu", "-i", &app], &[("PATH", &empty)]);
    assert_error(
        &o,
        "rumprun: error: cannot run qemu-system-x86_64: No such file or directory (apt-get install qemu-system-x86)",
    );
    let o = run(
        RUMPRUN,
        &["qemu", &app],
        &[("RUMPRUN_QEMU", "/nonexistent/qemu")],
    );
    assert_error(
        &o,
        "rumprun: error: cannot run /nonexistent/qemu: No such file or directory",
    );
}

fn pid_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => !matches!(
            s.rsplit_once(')').map(|x| x.1.trim_start().as_bytes()[0]),
            Some(b'Z')
        ),
        Err(_) => false,
    }
}

#[test]
fn background_guest_and_rumpstop() {
    let s = Scratch::new();
    let app = s.app();
    let qemu = s.fake_qemu(
        "",
        0,
        "echo console-line\ntrap 'kill $!; exit 0' TERM\nsleep 30 &\nwait",
    );
    let tmp = s.path("bg");
    let o = run(
        RUMPRUN,
        &["-t", &tmp, "qemu", &app],
        &[("RUMPRUN_QEMU", &qemu)],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let pid: u32 = out.trim().strip_prefix("qemu:").unwrap().parse().unwrap();
    assert_eq!(
        stderr(&o),
        format!("rumprun: console log: {tmp}/console.log\n")
    );
    assert!(pid_alive(pid));
    assert_eq!(
        std::fs::read_to_string(format!("{tmp}/console.log")).unwrap(),
        "console-line\n"
    );
    let o = run(RUMPSTOP, &[out.trim()], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!pid_alive(pid));
    let o = run(RUMPSTOP, &[out.trim()], &[]);
    assert_error(
        &o,
        &format!("rumpstop: error: no such guest: process {pid} does not exist"),
    );
}

#[test]
fn background_qemu_that_fails_at_once() {
    let s = Scratch::new();
    let app = s.app();
    let qemu = s.fake_qemu("", 1, "echo 'qemu: bad option' >&2");
    let o = run(RUMPRUN, &["qemu", &app], &[("RUMPRUN_QEMU", &qemu)]);
    assert_error(
        &o,
        "rumprun: error: qemu ended at once (status 1): qemu: bad option",
    );
}

#[test]
fn rumpstop_errors() {
    assert_error(
        &run(RUMPSTOP, &["x"], &[]),
        "rumpstop: error: invalid guest spec \"x\" (expected qemu:<pid>, xen:<domid> or libvirt:<name>)",
    );
    assert_error(
        &run(RUMPSTOP, &["xen:3"], &[("PATH", "/nonexistent")]),
        "rumpstop: error: cannot run xl: No such file or directory (rumprun xen runs in a Xen dom0 with the Xen tools)",
    );
    assert_error(&run(RUMPSTOP, &[], &[]), "rumpstop: error: missing GUEST");
    let o = run(RUMPSTOP, &["qemu:1"], &[]);
    assert_error(
        &o,
        "rumpstop: error: invalid guest spec \"qemu:1\" (expected qemu:<pid>, xen:<domid> or libvirt:<name>)",
    );
}
