//! `rumprun libvirt`: runs an image as a libvirt domain, so anything that drives
//! libvirt (virsh, OpenStack Nova, KubeVirt, oVirt) can run it.
//!
//! The domain XML ([`domain_xml`]) boots the image directly (`<os><kernel>`, the
//! runtime config JSON as `<cmdline>`), type `qemu` (TCG; `kvm` with `--kvm`), q35,
//! qboot when installed;
//! COM1 is the console (a pty with `-i`, a file `<tmpdir>/console.log` in the
//! background), COM2 a file chardev `<tmpdir>/status` where the guest writes its exit
//! status (the channel `rumprun qemu` reads), and QEMU's isa-debug-exit (through
//! `<qemu:commandline>`, libvirt has no element for it) so the domain ends when the
//! program does. `-b` disks are virtio disks (`vda`, ...), `-I` cards virtio
//! interfaces on a libvirt network (the card's backend names it, `default` if none).
//!
//! Domains are transient (`virsh create`): they disappear from libvirt when they
//! stop, so nothing is left defined behind a finished run. `-i` creates the domain
//! paused, opens its console pty, resumes it, copies the console to stdout (and
//! stdin to the console) until QEMU ends, and returns the program's exit status;
//! without `-i` it prints `libvirt:<name>` (for `rumpstop`). `--xml` prints the domain
//! XML instead. Everything goes through `virsh` (Debian: libvirt-clients): it is what
//! users have, and the few calls needed (create, ttyconsole, resume, destroy) do not
//! justify binding libvirt's C library.

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::cli::{Machine, Options};
use crate::error::{io_message, Error};
use crate::status::{decide, QemuEnd};
use crate::{qemu, tmpdir};

/// The client program (Debian: libvirt-clients).
pub const VIRSH: &str = "virsh";
/// The domain XML file's name inside the temp dir.
pub const XML_FILE: &str = "domain.xml";
/// The background console log's name inside the temp dir.
pub const CONSOLE_LOG: &str = "console.log";
/// How long `-i` waits for QEMU to end after the guest reported its status (a domain
/// without isa-debug-exit, e.g. its XML edited by an engine, only halts).
const HALT_GRACE: Duration = Duration::from_secs(2);

/// Why option `-c` cannot be used with libvirt, if it cannot.
pub fn refused_option(c: char) -> Option<&'static str> {
    Some(match c {
        'F' => "-F (port forwarding) is not supported with libvirt: put the card on a libvirt network and reach the guest's address",
        'D' => "-D (gdb port) is not supported with libvirt",
        'm' => "-m is not supported with libvirt: domains are q35 machines",
        _ => return None,
    })
}

/// Escapes text for an XML attribute value or element content.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\'' => out.push_str("&apos;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// The domain name: `-N`, else `rumprun-<image file name>-<suffix>` (`suffix`
/// tells apart several instances of one image).
pub fn domain_name(o: &Options, suffix: &str) -> String {
    o.hostname.clone().unwrap_or_else(|| {
        let base = std::path::Path::new(&o.app)
            .file_name()
            .map_or_else(|| o.app.clone(), |n| n.to_string_lossy().into_owned());
        format!("rumprun-{base}-{suffix}")
    })
}

/// An absolute path for a file the daemon opens (it does not share our working
/// directory).
pub fn absolute(path: &str) -> Result<String, Error> {
    std::path::absolute(path)
        .map(|p| p.to_string_lossy().into_owned())
        .map_err(|e| Error::new(format!("{path}: {}", io_message(&e))))
}

/// The PCI slot of the first disk or card on the root bus. libvirt would put them
/// behind PCIe root ports (bus 1, ...), and the kernel scans bus 0 only; so every
/// virtio device gets a slot of its own on bus 0, in `-b` then `-I` order.
pub const FIRST_SLOT: usize = 3;

fn pci_address(slot: usize) -> String {
    format!("      <address type='pci' domain='0x0000' bus='0x00' slot='{slot:#04x}' function='0x0'/>\n")
}

/// Where COM1 goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsoleTo<'a> {
    /// A pty (`virsh console`, or `-i`).
    Pty,
    /// A file (background runs).
    File(&'a str),
}

/// The domain XML. `kernel`, `status` and the disk paths must be absolute. COM2 (the
/// exit status) is a file chardev at `status`, or a pty without one (`--xml`: the
/// XML must start wherever it is handed, with no temp dir of ours).
pub fn domain_xml(
    o: &Options,
    name: &str,
    kernel: &str,
    config: &str,
    status: Option<&str>,
    console: ConsoleTo,
    firmware: Option<&str>,
) -> String {
    let e = xml_escape;
    let mut x = String::new();
    let kind = if o.kvm { "kvm" } else { "qemu" };
    x += &format!(
        "<domain type='{kind}' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>\n"
    );
    x += &format!("  <name>{}</name>\n", e(name));
    x += &format!("  <memory unit='MiB'>{}</memory>\n", o.mem_mb);
    x += &format!("  <vcpu>{}</vcpu>\n", o.cpus);
    x += "  <os>\n    <type arch='x86_64' machine='q35'>hvm</type>\n";
    if let Some(fw) = firmware {
        x += &format!("    <loader type='rom'>{}</loader>\n", e(fw));
    }
    x += &format!("    <kernel>{}</kernel>\n", e(kernel));
    x += &format!("    <cmdline>{}</cmdline>\n  </os>\n", e(config));
    x += "  <cpu mode='maximum'/>\n";
    x += "  <on_poweroff>destroy</on_poweroff>\n  <on_reboot>destroy</on_reboot>\n  <on_crash>destroy</on_crash>\n";
    x += "  <devices>\n";
    x += "    <controller type='usb' model='none'/>\n";
    let mut slot = FIRST_SLOT;
    for (i, d) in o.disks.iter().enumerate() {
        x += &format!(
            "    <disk type='file' device='disk'>\n      <driver name='qemu' type='raw'/>\n      <source file='{}'/>\n      <target dev='vd{}' bus='virtio'/>\n{}{}    </disk>\n",
            e(&d.path),
            (b'a' + i as u8) as char,
            if d.read_only { "      <readonly/>\n" } else { "" },
            pci_address(slot)
        );
        slot += 1;
    }
    for (i, c) in o.net.cards.iter().enumerate() {
        x += &format!(
            "    <interface type='network'>\n      <source network='{}'/>\n      <mac address='52:54:00:12:34:{:02x}'/>\n      <model type='virtio'/>\n{}    </interface>\n",
            e(c.backend.as_deref().unwrap_or("default")),
            0x56 + i,
            pci_address(slot)
        );
        slot += 1;
    }
    match console {
        ConsoleTo::Pty => x += "    <serial type='pty'>\n      <target port='0'/>\n    </serial>\n",
        ConsoleTo::File(path) => {
            x += &format!(
                "    <serial type='file'>\n      <source path='{}'/>\n      <target port='0'/>\n    </serial>\n",
                e(path)
            )
        }
    }
    match status {
        Some(path) => {
            x += &format!(
                "    <serial type='file'>\n      <source path='{}'/>\n      <target port='1'/>\n    </serial>\n",
                e(path)
            )
        }
        None => x += "    <serial type='pty'>\n      <target port='1'/>\n    </serial>\n",
    }
    x += "    <memballoon model='none'/>\n  </devices>\n";
    x += "  <qemu:commandline>\n";
    let mut qemu_args = vec!["-device".to_string(), qemu::EXIT_DEVICE.to_string()];
    qemu_args.extend(o.qemu_args.iter().cloned());
    for a in &qemu_args {
        x += &format!("    <qemu:arg value='{}'/>\n", e(a));
    }
    x += "  </qemu:commandline>\n</domain>\n";
    x
}

fn in_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|d| d.join(program).is_file()))
}

/// `virsh [-c URI] args...`: its stdout, or its error as one line.
fn virsh(uri: Option<&str>, args: &[&str]) -> Result<String, Error> {
    if !in_path(VIRSH) {
        return Err(Error::new(
            "libvirt: virsh not found: install the Debian package libvirt-clients (and libvirt-daemon-system for a local libvirtd)",
        ));
    }
    let mut cmd = Command::new(VIRSH);
    cmd.arg("-q");
    if let Some(u) = uri {
        cmd.args(["-c", u]);
    }
    let out = cmd
        .args(args)
        .output()
        .map_err(|e| Error::new(format!("cannot run {VIRSH}: {}", io_message(&e))))?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr
        .lines()
        .map(|l| l.trim().trim_start_matches("error: ").trim())
        .filter(|l| !l.is_empty())
        .collect();
    let text = lines.join(": ");
    if text.contains("failed to connect to the hypervisor") {
        return Err(Error::new(format!(
            "libvirt: cannot connect to {}: {} (is libvirtd running? Debian: libvirt-daemon-system)",
            uri.unwrap_or("libvirt's default URI"),
            lines.last().copied().unwrap_or("")
        )));
    }
    Err(Error::new(format!(
        "virsh {}: {}",
        args.first().copied().unwrap_or(""),
        if text.is_empty() {
            format!("failed ({})", out.status)
        } else {
            text
        }
    )))
}

/// `rumprun libvirt`.
pub fn run(o: &Options, config: &str) -> Result<i32, Error> {
    let kernel = absolute(&o.app)?;
    let mut o = o.clone();
    for d in &mut o.disks {
        d.path = absolute(&d.path)?;
    }
    let o = &o;
    if o.machine != Machine::Q35 {
        return Err(Error::new(refused_option('m').unwrap_or_default()));
    }
    if o.xml || o.dump {
        // Nothing is created: COM1 and COM2 are ptys (virsh console NAME, and
        // virsh console NAME serial1 for the exit status line).
        let dir = tmpdir::fresh_name();
        let suffix = dir.rsplit('.').next().unwrap_or("x").to_lowercase();
        let name = domain_name(o, &suffix);
        print!(
            "{}",
            domain_xml(
                o,
                &name,
                &kernel,
                config,
                None,
                ConsoleTo::Pty,
                qemu::firmware()
            )
        );
        return Ok(0);
    }
    let uri = o.libvirt_uri.as_deref();
    let mut dir = tmpdir::create(&o.tmpdir, true)?;
    dir.path = absolute(&dir.path)?;
    let suffix = dir.path.rsplit('.').next().unwrap_or("x").to_lowercase();
    let name = domain_name(o, &suffix);
    let log = format!("{}/{CONSOLE_LOG}", dir.path);
    let console = if o.interactive {
        ConsoleTo::Pty
    } else {
        ConsoleTo::File(&log)
    };
    let xml = domain_xml(
        o,
        &name,
        &kernel,
        config,
        Some(&qemu::status_path(&dir.path)),
        console,
        qemu::firmware(),
    );
    let xml_path = format!("{}/{XML_FILE}", dir.path);
    std::fs::write(&xml_path, &xml)
        .map_err(|e| Error::new(format!("{xml_path}: {}", io_message(&e))))?;
    if !o.interactive {
        let mut args = vec!["create", xml_path.as_str()];
        if o.paused {
            args.push("--paused");
        }
        virsh(uri, &args)?;
        dir.keep();
        println!("libvirt:{name}");
        eprintln!("rumprun: console log: {log}");
        return Ok(0);
    }
    virsh(uri, &["create", &xml_path, "--paused"])?;
    let result = attach_and_run(uri, &name, &dir.path, o.paused);
    // Transient: destroying removes it; it is usually gone already.
    let _ = virsh(uri, &["destroy", &name]);
    result
}

/// Opens the console pty of paused domain `name`, resumes it, relays the console
/// until QEMU ends, and returns the program's exit status.
fn attach_and_run(uri: Option<&str>, name: &str, dir: &str, paused: bool) -> Result<i32, Error> {
    let pty = virsh(uri, &["ttyconsole", name])?.trim().to_string();
    let console = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY)
        .open(&pty)
        .map_err(|e| Error::new(format!("console {pty}: {}", io_message(&e))))?;
    raw_mode(console.as_raw_fd());
    let mut input = console
        .try_clone()
        .map_err(|e| Error::new(format!("console {pty}: {}", io_message(&e))))?;
    // stdin to the guest's console; the thread ends with the process.
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        let mut stdin = std::io::stdin();
        while let Ok(n) = stdin.read(&mut buf) {
            if n == 0 || input.write_all(&buf[..n]).is_err() {
                break;
            }
        }
    });
    if paused {
        eprintln!("rumprun: domain {name} is paused: virsh resume {name} starts it");
    } else {
        virsh(uri, &["resume", name])?;
    }
    let status_path = qemu::status_path(dir);
    let mut reported_at: Option<Instant> = None;
    let mut stdout = std::io::stdout();
    let mut buf = [0u8; 4096];
    loop {
        let mut pfd = libc::pollfd {
            fd: console.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd for the duration of the call.
        let ready = unsafe { libc::poll(&mut pfd, 1, 200) };
        if ready > 0 {
            // SAFETY: reading into our buffer from an fd we own.
            let n = unsafe { libc::read(pfd.fd, buf.as_mut_ptr().cast(), buf.len()) };
            if n <= 0 {
                // EIO: QEMU closed its end (it ended).
                break;
            }
            let _ = stdout.write_all(&buf[..n as usize]);
            let _ = stdout.flush();
            continue;
        }
        let reported = std::fs::read_to_string(&status_path)
            .is_ok_and(|s| s.lines().any(|l| !l.trim().is_empty()));
        match (reported, reported_at) {
            (true, None) => reported_at = Some(Instant::now()),
            (true, Some(t)) if t.elapsed() > HALT_GRACE => break,
            _ => {}
        }
    }
    let status = std::fs::read_to_string(&status_path).ok();
    decide(status.as_deref(), QemuEnd::Exited(0)).map_err(|_| {
        Error::new(format!(
            "domain {name} ended without reporting an exit status (see the console above)"
        ))
    })
}

/// Puts the pty in raw mode: the guest's bytes arrive as they are (no echo, no
/// newline translation).
fn raw_mode(fd: i32) {
    // SAFETY: tcgetattr/cfmakeraw/tcsetattr on a termios we own and an open fd.
    unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(fd, &mut t) == 0 {
            libc::cfmakeraw(&mut t);
            libc::tcsetattr(fd, libc::TCSANOW, &t);
        }
    }
}

/// `rumpstop libvirt:<name>`: destroys the domain (libvirt's default URI, or
/// `$LIBVIRT_DEFAULT_URI`).
pub fn destroy(name: &str) -> Result<(), Error> {
    virsh(None, &["destroy", name]).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(args: &[&str]) -> Options {
        crate::cli::run_options(args)
    }

    #[test]
    fn escaping() {
        assert_eq!(
            xml_escape(r#"{"a": "<b> & 'c'"}"#),
            "{&quot;a&quot;: &quot;&lt;b&gt; &amp; &apos;c&apos;&quot;}"
        );
    }

    #[test]
    fn exact_minimal_xml() {
        let o = options(&["libvirt", "-i", "app.bin"]);
        assert_eq!(
            domain_xml(
                &o,
                "vm",
                "/x/app.bin",
                r#"{"cmdline": "app.bin"}"#,
                Some("/t/status"),
                ConsoleTo::Pty,
                Some("/fw.rom")
            ),
            "<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>vm</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <loader type='rom'>/fw.rom</loader>
    <kernel>/x/app.bin</kernel>
    <cmdline>{&quot;cmdline&quot;: &quot;app.bin&quot;}</cmdline>
  </os>
  <cpu mode='maximum'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <controller type='usb' model='none'/>
    <serial type='pty'>
      <target port='0'/>
    </serial>
    <serial type='file'>
      <source path='/t/status'/>
      <target port='1'/>
    </serial>
    <memballoon model='none'/>
  </devices>
  <qemu:commandline>
    <qemu:arg value='-device'/>
    <qemu:arg value='isa-debug-exit,iobase=0xf4,iosize=4'/>
  </qemu:commandline>
</domain>
"
        );
    }

    #[test]
    fn cpus_become_vcpu() {
        let o = options(&["libvirt", "--cpus", "2", "--xml", "app.bin"]);
        assert_eq!(o.cpus, 2);
        let x = domain_xml(&o, "vm", "/a", "{}", None, ConsoleTo::Pty, None);
        assert!(x.contains("\n  <vcpu>2</vcpu>\n"), "{x}");
        for bad in ["0", "17", "x"] {
            let args = ["libvirt", "--cpus", bad, "app.bin"].map(String::from);
            let Err(err) = crate::cli::parse(&args) else {
                panic!("--cpus {bad} accepted");
            };
            assert!(
                err.message.contains("--cpus: invalid CPU count"),
                "{}",
                err.message
            );
        }
    }

    #[test]
    fn kvm_domain_type() {
        for args in [
            &["libvirt", "--kvm", "app.bin"][..],
            &["libvirt", "--xml", "--kvm", "app.bin"],
            &["libvirt", "--kvm", "--xml", "app.bin"],
        ] {
            let o = options(args);
            assert!(o.kvm && o.xml == args.contains(&"--xml"), "{args:?}");
            let x = domain_xml(&o, "vm", "/a", "{}", None, ConsoleTo::Pty, None);
            assert!(x.starts_with("<domain type='kvm' "), "{x}");
        }
        let o = options(&["libvirt", "--xml", "app.bin"]);
        let x = domain_xml(&o, "vm", "/a", "{}", None, ConsoleTo::Pty, None);
        assert!(!o.kvm && x.starts_with("<domain type='qemu' "), "{x}");
    }

    #[test]
    fn disks_cards_and_console_file() {
        let mut o = options(&[
            "libvirt",
            "-M",
            "128",
            "-b",
            "/d/a.img,/data",
            "-b",
            "/d/b'.iso",
            "-I",
            "n0,vioif,isolated",
            "-I",
            "n1,vioif",
            "-g",
            "-smp 2",
            "app.bin",
        ]);
        o.disks[1].read_only = true;
        let x = domain_xml(
            &o,
            "n",
            "/k",
            "{}",
            Some("/t/status"),
            ConsoleTo::File("/t/console.log"),
            None,
        );
        assert!(x.contains("<memory unit='MiB'>128</memory>"), "{x}");
        assert!(!x.contains("<loader"), "{x}");
        assert!(x.contains("<source file='/d/a.img'/>\n      <target dev='vda' bus='virtio'/>\n      <address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>\n    </disk>"), "{x}");
        assert!(x.contains("<source file='/d/b&apos;.iso'/>\n      <target dev='vdb' bus='virtio'/>\n      <readonly/>\n      <address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/>\n"), "{x}");
        assert!(
            x.contains("<source network='isolated'/>\n      <mac address='52:54:00:12:34:56'/>"),
            "{x}"
        );
        assert!(x.contains("<source network='default'/>\n      <mac address='52:54:00:12:34:57'/>\n      <model type='virtio'/>\n      <address type='pci' domain='0x0000' bus='0x00' slot='0x06' function='0x0'/>"), "{x}");
        assert!(x.contains("<serial type='file'>\n      <source path='/t/console.log'/>\n      <target port='0'/>"), "{x}");
        assert!(
            x.contains("<qemu:arg value='-smp'/>\n    <qemu:arg value='2'/>\n"),
            "{x}"
        );
    }

    #[test]
    fn names() {
        let o = options(&["libvirt", "dir/hello.bin"]);
        assert_eq!(domain_name(&o, "ab12"), "rumprun-hello.bin-ab12");
        let o = options(&["libvirt", "-N", "web1", "dir/hello.bin"]);
        assert_eq!(domain_name(&o, "ab12"), "web1");
    }
}
