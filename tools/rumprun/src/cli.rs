//! The `rumprun` command line: script options, PLATFORM, guest options, APP and its
//! arguments, checked into [`Options`]; and the usage text.
//!
//! As in the original: `rumprun [-h] [-D] [-t dir] [-T dir] PLATFORM [guest args] APP
//! [--] [args...]`, script getopts `DhSt:T:`, guest getopts `b:dD:e:g:iI:M:n:N:pW:`
//! plus our `-F` (port forwards) and `-m` (machine) (stopping at the first non-option,
//! APP), read with `lexopt` in getopt(3)'s rules. `-D` before PLATFORM dumps the command;
//! `-D port` after it is the gdb port.

use rumprun_config::split_cmdline;

use crate::error::Error;

/// Default guest memory in megabytes (as in the original).
pub const DEFAULT_MEM_MB: u32 = 64;
/// The most CPUs `-c` asks for (the kernel runs on at most 16).
pub const MAX_CPUS: u32 = 16;

/// A CPU count given to `option` (`-c`, or libvirt's `--cpus`): 1 to MAX_CPUS.
fn parse_cpus(option: &str, value: &str) -> Result<u32, Error> {
    match value.parse::<u32>() {
        Ok(n) if (1..=MAX_CPUS).contains(&n) => Ok(n),
        _ => Err(Error::new(format!(
            "{option}: invalid CPU count \"{value}\" (expected 1 to {MAX_CPUS})"
        ))),
    }
}

/// The platforms that work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Platform {
    /// QEMU with TCG (software emulation).
    Qemu,
    /// QEMU with KVM.
    Kvm,
    /// A bootable ISO image (GRUB, multiboot2); nothing is booted.
    Iso,
    /// A bootable disk image (the same GRUB image, as a raw or qcow2 disk); nothing
    /// is booted.
    Image,
    /// A Xen PVH guest started with xl(1) from dom0.
    Xen,
    /// A libvirt domain (through virsh).
    Libvirt,
}

/// The QEMU machine the guest runs on (`-m`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Machine {
    /// `q35`: PCI; virtio-blk and virtio-net are PCI devices (the default).
    #[default]
    Q35,
    /// `microvm`: no PCI, no ACPI; virtio-mmio devices named on the kernel command line.
    Microvm,
}

/// The disk image format of `rumprun image` (`-f`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ImageFormat {
    /// A raw disk image (the default).
    #[default]
    Raw,
    /// QEMU's qcow2 (written with `qemu-img convert`).
    Qcow2,
}

/// Where temporary files go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TmpDir {
    /// A fresh `/tmp/rumprun.XXXXXXXX`.
    Auto,
    /// `-t dir`: created (must not exist), removed afterwards.
    Remove(String),
    /// `-T dir`: created (must not exist), kept.
    Keep(String),
}

/// Everything `rumprun` was asked to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// `-D` before PLATFORM: print the backend command instead of running it.
    pub dump: bool,
    pub tmpdir: TmpDir,
    pub platform: Platform,
    /// `-i`: run in the foreground, attached to the console.
    pub interactive: bool,
    /// `-p`: start paused (`qemu -S`, `xl create -p`).
    pub paused: bool,
    /// `-d` (xen): destroy the guest when it stops.
    pub destroy: bool,
    /// `-M`: memory in megabytes.
    pub mem_mb: u32,
    /// `-m`: the QEMU machine.
    pub machine: Machine,
    /// `-f` (image only): the disk image format.
    pub image_format: ImageFormat,
    /// `-e`: `NAME=VALUE` entries in order.
    pub env: Vec<String>,
    /// `-N`: the hostname.
    pub hostname: Option<String>,
    /// `-g`: extra QEMU arguments (already split).
    pub qemu_args: Vec<String>,
    /// `-D port` after PLATFORM: gdb server port.
    pub gdb_port: Option<u16>,
    /// `-b hostpath[,mountpoint]`: disks, in order (the first is /dev/vda).
    pub disks: Vec<Disk>,
    /// `-I`, `-W`, `-F`: network cards, their configuration, port forwards.
    pub net: crate::net::Network,
    /// The image to boot (argv\[0\] of the program).
    pub app: String,
    /// The program's arguments.
    pub args: Vec<String>,
    /// `-c N` (qemu, kvm, xen): the number of CPUs (QEMU's `-smp N`, xl's `vcpus`; default 1).
    pub cpus: u32,
    /// `-c URI` (libvirt only): the libvirt connection.
    pub libvirt_uri: Option<String>,
    /// `--xml` (libvirt only): print the domain XML instead of starting it.
    pub xml: bool,
    /// `--kvm` (libvirt only): a domain of type `kvm` (hardware virtualization) rather
    /// than `qemu` (TCG).
    pub kvm: bool,
    /// `-r 'PROG [ARGS...] [&||]'`: the programs to start (the config's `rc`), in order.
    pub rc: Vec<RcProgram>,
}

/// One `-r` program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RcProgram {
    /// argv: the baked program's name first.
    pub argv: Vec<String>,
    /// `""` (foreground), `"&"` (background) or `"|"` (stdout into the next one's stdin).
    pub runmode: &'static str,
}

impl RcProgram {
    /// Parses `-r`'s value: words split like a shell command line; a last word `&` or
    /// `|` is the runmode.
    fn parse(value: &str) -> Result<RcProgram, Error> {
        let mut argv =
            split_cmdline(value).map_err(|e| Error::new(format!("-r \"{value}\": {e}")))?;
        let runmode = match argv.last().map(String::as_str) {
            Some("&") => "&",
            Some("|") => "|",
            _ => "",
        };
        if !runmode.is_empty() {
            argv.pop();
        }
        if argv.is_empty() {
            return Err(Error::new(format!(
                "-r \"{value}\": expected a program name (PROG [ARGS...] [&|])"
            )));
        }
        Ok(RcProgram { argv, runmode })
    }
}

/// One `-b` disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disk {
    /// The image file on the host.
    pub path: String,
    /// Where the guest mounts it (file system detected), if anywhere.
    pub mountpoint: Option<String>,
    /// Attached read-only (QEMU `readonly=on`): the host file is not writable for us.
    pub read_only: bool,
}

/// What the command line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Help,
    Run(Box<Options>),
}

/// The one-line synopsis printed after command-line errors.
pub const SYNOPSIS: &str = "usage: rumprun [script args] PLATFORM [guest args] APP [ -- ] [app args]  (rumprun -h for help)";

/// The `-h` text.
pub const USAGE: &str = "\
usage: rumprun [script args] PLATFORM [guest args] APP [ -- ] [app args]

PLATFORM is the rumprun runtime platform to use
    kvm  : hw guest via qemu -accel kvm (needs hardware virtualisation)
    qemu : hw guest via qemu -accel tcg
    xen  : xen PVH guest via xl(1), run in dom0
    iso  : bake app and config into a bootable iso image (GRUB, BIOS boot)
    image: the same as a disk image for PCs and clouds (-f raw|qcow2)
    libvirt: a libvirt domain through virsh (-c URI; --xml prints its XML; --kvm; --cpus N)
    ec2, hvf (not yet)

APP is the image to rumprun (made by rumprun-bake).  app args are processed by APP.

script args are:
\t[-h] [-D] [-t tmpdir] [-T tmpdir]

   -h display this message

   -D dump backend command instead of running it
   -t use tmpdir as dir for temp files (default: /tmp/rumprun.XXXXXXXX);
      it must not exist yet
   -T same as -t, except do not remove temporary directory

guest args are:
\t[-ip] [-D port] [-e VAR=VALUE] [-g args] [-M mem] [-N name] [-r prog]

   -D attaches a gdb server on port to the guest (the guest starts paused)
   -e set environment VAR to VALUE (repeatable)
   -g specify 'args' to qemu (split like a shell command line, appended)
   -i attaches to guest console on startup, and exits with the program's
      exit status
   -m run on QEMU machine q35 (the default: PCI devices) or microvm (no PCI,
      no ACPI: virtio-mmio devices, which QEMU names on the kernel command
      line; starts faster)
   -M set the guest's memory to mem megabytes, default is 64
   -N set the guest's hostname to name
   -p creates the guest but leaves it paused
   -r 'PROG [ARGS...] [&|]': runs baked program PROG with ARGS (split like a
      shell command line; PROG is argv[0]); repeatable, in order. A last word &
      runs it in the background, | pipes its stdout into the next -r program's
      stdin; otherwise the next one starts when it has exited. The guest ends
      when the last program without & or | has exited, with its exit status;
      background programs still running are stopped. Without -r every baked
      program runs in turn with APP and the app args as argv. With -r, app args
      are refused (give each program's args in its -r).
   -b hostpath[,mountpoint]: attaches a disk image (virtio-blk: the first is
      /dev/vda, also /dev/ld0a) and, with a mountpoint, mounts the file system
      on it there (ext2 or ISO 9660, detected); an image we cannot write is
      attached read-only
   -I iftag,ifbasename[,backend]: adds a virtio-net card; the guest calls it
      <ifbasename><n> (n from 0, in -I order); without a backend it is on QEMU
      user networking; a backend is a -netdev spec (tap,ifname=tap0,...)
   -W iftag,inet,dhcp | iftag,inet,static,ADDR/MASK[,GW] | iftag,inet6,auto
      configures the card with that iftag (the guest's TCP/IP stack is not
      there yet: the guest refuses net configs for now)
   -F [tcp:|udp:]HOSTPORT:GUESTPORT forwards 127.0.0.1:HOSTPORT on the host to
      the guest (first user-networking card)
   -d destroys the guest on poweroff or crash (xen; libvirt domains always go)
   -c N (qemu, kvm, xen) run on N CPUs (1 to 16; default 1)
   -c URI (libvirt) the libvirt connection (default: virsh's, $LIBVIRT_DEFAULT_URI)

iso writes <name>.iso (default rumprun-<APP basename>.iso; an existing file
is never overwritten) and prints its path: GRUB loads APP with multiboot2 and
the config (-e, argv) on its command line; console on COM1. -N names the ISO
and is the guest's hostname. Needs grub-mkrescue (Debian: grub-pc-bin
grub-common xorriso mtools). Boot it: qemu-system-x86_64 -cdrom <name>.iso
-serial stdio. Only -b, -e, -N, -t and -T apply; -b images go on the ISO and
GRUB loads them into memory: the guest's disks are RAM-backed (writes are
lost at power-off; the machine needs memory for them).

image [-f raw|qcow2] writes the same GRUB image as a disk image: <name>.img
(raw, the default, padded to a whole MiB) or <name>.qcow2 (-f qcow2, needs
qemu-img: Debian qemu-utils). It has GRUB's BIOS boot code in its MBR and a
GPT with an EFI system partition (needs grub-efi-amd64-bin): it boots as a hard
disk under BIOS or UEFI, console on COM1: qemu-system-x86_64 -drive
file=<name>.img,format=raw -serial stdio. The options are those of iso. An
image made with none of -e, -N, -b, -r or app args carries no config: its
kernel reads one from a config drive (an ISO 9660 or vfat disk labelled
cidata or config-2 holding rumprun/config.json or a JSON user-data), else runs
the baked programs with no arguments.

Without -i the guest runs in the background: rumprun prints qemu:<pid>
(give it to rumpstop to stop the guest) and the console goes to
<tmpdir>/console.log.

xen writes an xl config (type \"pvh\", name -N or rumprun-<APP file name>),
runs xl create -p, writes the config to xenstore at
/local/domain/<domid>/rumprun/cfg, attaches to its console with -i and unpauses
the guest. With -i it exits with the program's exit status (which the guest
writes to /local/domain/<domid>/rumprun/exit-status); without, it prints
xen:<domid> (give it to rumpstop). -b disks are xvda, xvdb, ... (the guest's
/dev/vda, ...; RUMPRUN_XEN_BLOCK_SCRIPT names another hotplug script than the
host's); -I cards are vifs (the guest's eth0, ...; the backend, if given, is
the bridge; RUMPRUN_XEN_VIF_SCRIPT names another hotplug script). -F, -g and
-D port are not supported on xen.

libvirt [--xml] [--kvm] [--cpus N] [-c URI] creates a transient libvirt domain
(type qemu, or kvm with --kvm; N vCPUs, 1 to 16, default 1; q35,
direct kernel boot: the image as <kernel>, the config as <cmdline>) with virsh
(Debian: libvirt-clients; a local libvirtd: libvirt-daemon-system). Its name is
-N, else rumprun-<APP file name>-<random>. -b disks are virtio disks vda, ...; -I
cards virtio interfaces on the libvirt network named by the card's backend
(default: default). COM2 is a file chardev <tmpdir>/status for the exit status;
QEMU's isa-debug-exit (a <qemu:commandline> argument, as -g ones are) ends the
domain with the program. With -i the console pty is attached and rumprun exits
with the program's exit status; without, the console goes to
<tmpdir>/console.log and rumprun prints libvirt:<name> (give it to rumpstop).
--xml prints the domain XML and starts nothing (COM1 and COM2 on ptys, so it
starts anywhere as it is). -F, -m and -D port are not supported.

Environment: RUMPRUN_QEMU  the QEMU to run (default qemu-system-x86_64)
";

fn not_yet(what: &str) -> Error {
    Error::new(format!("{what} is not supported yet"))
}

/// One getopt(3) option of `optstring` (a letter followed by ':' takes an argument)
/// from `parser`, its argument if it takes one, `None` at the first operand (which
/// starts `rest`, followed by every argument after it, untouched), or a usage error.
fn getopt(
    parser: &mut lexopt::Parser,
    optstring: &str,
    rest: &mut Vec<String>,
) -> Result<Option<(char, String)>, Error> {
    let text = |v: std::ffi::OsString| v.to_string_lossy().into_owned();
    let c = match parser.next().map_err(|e| Error::usage(e.to_string()))? {
        None => return Ok(None),
        Some(lexopt::Arg::Value(first)) => {
            rest.push(text(first));
            let after = parser.raw_args().map_err(|e| Error::usage(e.to_string()))?;
            rest.extend(after.map(text));
            return Ok(None);
        }
        // A long option is, to getopt, the unknown option '-'.
        Some(lexopt::Arg::Long(_)) => '-',
        Some(lexopt::Arg::Short(c)) => c,
    };
    let takes_arg = match optstring.find(c) {
        Some(i) if c != ':' && c != '-' => optstring[i + c.len_utf8()..].starts_with(':'),
        _ => return Err(Error::usage(format!("unknown option -{c}"))),
    };
    let value = if takes_arg {
        let v = parser.value();
        text(v.map_err(|_| Error::usage(format!("option -{c} requires an argument")))?)
    } else {
        String::new()
    };
    Ok(Some((c, value)))
}

/// A `lexopt` parser with getopt(3)'s rules: `-X=v` is the value "=v".
fn posix_parser(args: &[String]) -> lexopt::Parser {
    let mut parser = lexopt::Parser::from_args(args);
    parser.set_short_equals(false);
    parser
}

/// Parses the arguments after `rumprun` itself.
pub fn parse(args: &[String]) -> Result<Command, Error> {
    let mut dump = false;
    let mut tmpdir = TmpDir::Auto;
    let mut parser = posix_parser(args);
    let mut rest = Vec::new();
    while let Some(opt) = getopt(&mut parser, "DhSt:T:", &mut rest)? {
        match opt {
            ('h', _) => return Ok(Command::Help),
            ('D', _) => dump = true,
            ('S', _) => return Err(not_yet("-S (sudo)")),
            ('t', d) => tmpdir = TmpDir::Remove(d),
            ('T', d) => tmpdir = TmpDir::Keep(d),
            (c, _) => unreachable!("option -{c} is in the optstring"),
        }
    }
    let Some((platform, rest)) = rest.split_first() else {
        return Err(Error::usage("missing PLATFORM"));
    };
    let platform = match platform.as_str() {
        "qemu" => Platform::Qemu,
        "kvm" => Platform::Kvm,
        "iso" => Platform::Iso,
        "image" => Platform::Image,
        "xen" => Platform::Xen,
        "libvirt" => Platform::Libvirt,
        "ec2" | "hvf" => return Err(not_yet(&format!("platform \"{platform}\""))),
        _ => return Err(Error::usage(format!("invalid platform \"{platform}\""))),
    };

    let mut o = Options {
        dump,
        tmpdir,
        platform,
        interactive: false,
        paused: false,
        destroy: false,
        mem_mb: DEFAULT_MEM_MB,
        cpus: 1,
        machine: Machine::default(),
        image_format: ImageFormat::default(),
        env: Vec::new(),
        hostname: None,
        qemu_args: Vec::new(),
        gdb_port: None,
        disks: Vec::new(),
        net: crate::net::Network::default(),
        app: String::new(),
        args: Vec::new(),
        libvirt_uri: None,
        xml: false,
        kvm: false,
        rc: Vec::new(),
    };
    // `rumprun libvirt [--xml] [--kvm] ...`: long options getopt does not know, taken
    // first, in either order.
    let mut rest = rest;
    while platform == Platform::Libvirt && !rest.is_empty() {
        match rest[0].as_str() {
            "--xml" => o.xml = true,
            "--kvm" => o.kvm = true,
            // -c is the URI on libvirt: the CPU count (<vcpu>) is --cpus N.
            "--cpus" => {
                let value = rest.get(1).map(String::as_str).unwrap_or("");
                o.cpus = parse_cpus("--cpus", value)?;
                rest = &rest[1..];
            }
            _ => break,
        }
        rest = &rest[1..];
    }
    // The guest options: a new parser, so a `--` before PLATFORM ended only the
    // script options.
    let mut parser = posix_parser(rest);
    let mut rest = Vec::new();
    while let Some((c, value)) = getopt(&mut parser, "b:c:dD:e:f:F:g:iI:m:M:n:N:pr:W:", &mut rest)?
    {
        if platform == Platform::Iso || platform == Platform::Image {
            if let Some(why) = crate::iso::refused_option(platform, c) {
                return Err(Error::new(why));
            }
        }
        if platform == Platform::Xen {
            if let Some(why) = crate::xen::refused_option(c) {
                return Err(Error::new(why));
            }
        }
        if platform == Platform::Libvirt {
            if let Some(why) = crate::libvirt::refused_option(c) {
                return Err(Error::new(why));
            }
        }
        match c {
            'i' => o.interactive = true,
            'p' => o.paused = true,
            'f' if platform == Platform::Image => {
                o.image_format = match value.as_str() {
                    "raw" => ImageFormat::Raw,
                    "qcow2" => ImageFormat::Qcow2,
                    _ => {
                        return Err(Error::new(format!(
                            "-f: unknown image format \"{value}\" (expected raw or qcow2)"
                        )))
                    }
                }
            }
            'f' => return Err(Error::new("-f (image format) is only for rumprun image")),
            'M' => {
                o.mem_mb = match value.parse::<u32>() {
                    Ok(m) if m > 0 => m,
                    _ => {
                        return Err(Error::new(format!(
                            "-M: invalid memory size \"{value}\" (expected megabytes, e.g. 128)"
                        )))
                    }
                }
            }
            'm' => {
                o.machine = match value.as_str() {
                    "q35" => Machine::Q35,
                    "microvm" => Machine::Microvm,
                    _ => {
                        return Err(Error::new(format!(
                            "-m: unknown machine \"{value}\" (expected q35 or microvm)"
                        )))
                    }
                }
            }
            'e' => {
                match value.find('=') {
                    Some(i) if i > 0 => {}
                    _ => return Err(Error::new(format!("-e \"{value}\": expected VAR=VALUE"))),
                }
                o.env.push(value);
            }
            'N' => {
                if value.is_empty() {
                    return Err(Error::new("-N: the name must not be empty"));
                }
                o.hostname = Some(value);
            }
            'g' => {
                let words = split_cmdline(&value)
                    .map_err(|e| Error::new(format!("-g \"{value}\": {e}")))?;
                o.qemu_args.extend(words);
            }
            'D' => {
                o.gdb_port = match value.parse::<u16>() {
                    Ok(p) if p > 0 => Some(p),
                    _ => return Err(Error::new(format!("-D: invalid gdb port \"{value}\""))),
                }
            }
            'b' => {
                let (path, mountpoint) = match value.split_once(',') {
                    Some((p, m)) => (p.to_string(), Some(m.to_string())),
                    None => (value.clone(), None),
                };
                if path.is_empty() {
                    return Err(Error::new("-b: expected hostpath[,mountpoint]"));
                }
                if let Some(m) = &mountpoint {
                    if !m.starts_with('/') {
                        return Err(Error::new(format!(
                            "-b {value}: the mountpoint must be an absolute path"
                        )));
                    }
                }
                o.disks.push(Disk {
                    path,
                    mountpoint,
                    read_only: false,
                });
            }
            'r' => o.rc.push(RcProgram::parse(&value)?),
            'I' => o.net.add_card(&value)?,
            'W' => o.net.add_config(&value)?,
            'F' => o.net.add_forward(&value)?,
            'n' => {
                return Err(Error::new(
                    "-n (old-style networking) is not supported: use -I and -W",
                ))
            }
            'c' if platform == Platform::Libvirt => o.libvirt_uri = Some(value),
            'c' if matches!(platform, Platform::Qemu | Platform::Kvm | Platform::Xen) => {
                o.cpus = parse_cpus("-c", &value)?
            }
            'c' => return Err(Error::new(
                "-c is the CPU count on qemu, kvm and xen, the libvirt URI on libvirt; not supported here",
            )),
            'd' if platform == Platform::Xen || platform == Platform::Libvirt => o.destroy = true,
            'd' => return Err(Error::new("-d not supported on qemu/kvm")),
            c => unreachable!("option -{c} is in the optstring"),
        }
    }
    o.net.check()?;
    let Some((app, mut args)) = rest.split_first() else {
        return Err(Error::usage("missing APP"));
    };
    if args.first().map(String::as_str) == Some("--") {
        args = &args[1..];
    }
    o.app = app.clone();
    o.args = args.to_vec();
    if !o.rc.is_empty() && !o.args.is_empty() {
        return Err(Error::new(
            "app args cannot go with -r: give each program's args in its -r",
        ));
    }
    if o.rc.last().is_some_and(|r| r.runmode == "|") {
        return Err(Error::new(
            "the last -r program cannot end in | (nothing would read its output)",
        ));
    }
    Ok(Command::Run(Box::new(o)))
}

/// The run options of a command line that must parse (for the other modules' tests).
#[cfg(test)]
pub(crate) fn run_options(args: &[&str]) -> Options {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    match parse(&args).unwrap() {
        Command::Run(o) => *o,
        Command::Help => unreachable!(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Command, Error> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        parse(&args)
    }

    fn opts(args: &[&str]) -> Options {
        match p(args) {
            Ok(Command::Run(o)) => *o,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    fn err(args: &[&str]) -> Error {
        p(args).unwrap_err()
    }

    #[test]
    fn machine() {
        assert_eq!(opts(&["qemu", "app"]).machine, Machine::Q35);
        assert_eq!(opts(&["qemu", "-m", "q35", "app"]).machine, Machine::Q35);
        assert_eq!(
            opts(&["qemu", "-m", "microvm", "app"]).machine,
            Machine::Microvm
        );
        assert_eq!(
            err(&["qemu", "-m", "pc", "app"]).message,
            "-m: unknown machine \"pc\" (expected q35 or microvm)"
        );
    }

    #[test]
    fn minimal() {
        let o = opts(&["qemu", "app.bin"]);
        assert_eq!(
            o,
            Options {
                dump: false,
                tmpdir: TmpDir::Auto,
                platform: Platform::Qemu,
                interactive: false,
                paused: false,
                destroy: false,
                mem_mb: 64,
                cpus: 1,
                machine: Machine::Q35,
                image_format: ImageFormat::Raw,
                env: vec![],
                hostname: None,
                qemu_args: vec![],
                gdb_port: None,
                disks: vec![],
                net: crate::net::Network::default(),
                app: "app.bin".into(),
                args: vec![],
                libvirt_uri: None,
                xml: false,
                kvm: false,
                rc: vec![],
            }
        );
    }

    #[test]
    fn everything() {
        let o = opts(&[
            "-D",
            "-T",
            "/tmp/d",
            "kvm",
            "-ip",
            "-M",
            "128",
            "-N",
            "myname",
            "-e",
            "FOO=bar",
            "-eX=",
            "-g",
            "-smp 2 -name 'a b'",
            "-D1234",
            "--",
            "app.bin",
            "-c",
            "/data/x y",
        ]);
        assert!(o.dump);
        assert_eq!(o.tmpdir, TmpDir::Keep("/tmp/d".into()));
        assert_eq!(o.platform, Platform::Kvm);
        assert!(o.interactive && o.paused);
        assert_eq!(o.mem_mb, 128);
        assert_eq!(o.hostname.as_deref(), Some("myname"));
        assert_eq!(o.env, vec!["FOO=bar", "X="]);
        assert_eq!(o.qemu_args, vec!["-smp", "2", "-name", "a b"]);
        assert_eq!(o.gdb_port, Some(1234));
        assert_eq!(o.app, "app.bin");
        assert_eq!(o.args, vec!["-c", "/data/x y"]);
    }

    #[test]
    fn app_args_are_not_options() {
        let o = opts(&["qemu", "-i", "app.bin", "-M", "5", "--", "x"]);
        assert_eq!(o.mem_mb, 64);
        assert_eq!(o.args, vec!["-M", "5", "--", "x"]);
        // One `--` right after APP separates it from its arguments.
        let o = opts(&["qemu", "app.bin", "--", "--", "-x"]);
        assert_eq!(o.args, vec!["--", "-x"]);
    }

    #[test]
    fn tmpdir_last_wins() {
        assert_eq!(
            opts(&["-t", "a", "-T", "b", "qemu", "x"]).tmpdir,
            TmpDir::Keep("b".into())
        );
        assert_eq!(
            opts(&["-Tb", "-ta", "qemu", "x"]).tmpdir,
            TmpDir::Remove("a".into())
        );
    }

    #[test]
    fn help() {
        assert_eq!(p(&["-h"]), Ok(Command::Help));
        assert_eq!(p(&["-D", "-h", "qemu"]), Ok(Command::Help));
    }

    #[test]
    fn errors() {
        let e = err(&[]);
        assert_eq!(
            (e.message.as_str(), e.show_usage),
            ("missing PLATFORM", true)
        );
        let e = err(&["qemu", "-i"]);
        assert_eq!((e.message.as_str(), e.show_usage), ("missing APP", true));
        let e = err(&["-x", "qemu", "a"]);
        assert_eq!(
            (e.message.as_str(), e.show_usage),
            ("unknown option -x", true)
        );
        assert_eq!(err(&["qemu", "-z", "a"]).message, "unknown option -z");
        assert_eq!(
            err(&["qemu", "-M"]).message,
            "option -M requires an argument"
        );
        let e = err(&["vbox", "a"]);
        assert_eq!(
            (e.message.as_str(), e.show_usage),
            ("invalid platform \"vbox\"", true)
        );
        for plat in ["ec2", "hvf"] {
            let e = err(&[plat, "a"]);
            assert_eq!(
                e.message,
                format!("platform \"{plat}\" is not supported yet")
            );
            assert!(!e.show_usage);
        }
        assert_eq!(
            err(&["-S", "qemu", "a"]).message,
            "-S (sudo) is not supported yet"
        );
        assert_eq!(
            err(&["qemu", "-b", "d.img,data", "a"]).message,
            "-b d.img,data: the mountpoint must be an absolute path"
        );
        assert_eq!(
            err(&["qemu", "-I", "x", "a"]).message,
            "-I x: expected iftag,ifbasename[,backend]"
        );
        assert_eq!(
            err(&["qemu", "-W", "x,inet,dhcp", "a"]).message,
            "-W x: no -I with iftag x"
        );
        assert_eq!(
            err(&["qemu", "-d", "a"]).message,
            "-d not supported on qemu/kvm"
        );
        assert_eq!(
            err(&["qemu", "-M", "lots", "a"]).message,
            "-M: invalid memory size \"lots\" (expected megabytes, e.g. 128)"
        );
        assert_eq!(
            err(&["qemu", "-M0", "a"]).message,
            err(&["qemu", "-M", "0", "a"]).message
        );
        assert_eq!(
            err(&["qemu", "-e", "FOO", "a"]).message,
            "-e \"FOO\": expected VAR=VALUE"
        );
        assert_eq!(
            err(&["qemu", "-e", "=x", "a"]).message,
            "-e \"=x\": expected VAR=VALUE"
        );
        assert_eq!(
            err(&["qemu", "-N", "", "a"]).message,
            "-N: the name must not be empty"
        );
        assert_eq!(
            err(&["qemu", "-D", "99999", "a"]).message,
            "-D: invalid gdb port \"99999\""
        );
        assert_eq!(
            err(&["qemu", "-g", "-name 'x", "a"]).message,
            "-g \"-name 'x\": unterminated ' quote starting at byte 6"
        );
    }

    /// getopt(3)'s corners, pinned before the parser was replaced: `-X=v` gives the
    /// value "=v", a value may start with '-' (or be `--`), `--` before PLATFORM ends
    /// only the script options, a long option is an unknown `-` option.
    #[test]
    fn posix_getopt_corners() {
        assert_eq!(
            err(&["qemu", "-e=A=B", "a"]).message,
            "-e \"=A=B\": expected VAR=VALUE"
        );
        assert_eq!(
            err(&["qemu", "-M=128", "a"]).message,
            "-M: invalid memory size \"=128\" (expected megabytes, e.g. 128)"
        );
        for args in [&["--frob", "qemu", "a"][..], &["qemu", "--frob", "a"]] {
            let e = err(args);
            assert_eq!(
                (e.message.as_str(), e.show_usage),
                ("unknown option --", true)
            );
        }
        assert_eq!(err(&["qemu", "-i-p", "a"]).message, "unknown option --");
        assert_eq!(err(&["qemu", "-:", "a"]).message, "unknown option -:");
        assert_eq!(
            err(&["qemu", "-\u{e9}", "a"]).message,
            "unknown option -\u{e9}"
        );
        assert_eq!(
            err(&["qemu", "-iM"]).message,
            "option -M requires an argument"
        );
        let o = opts(&["--", "qemu", "-i", "a"]);
        assert!(o.interactive);
        let o = opts(&["-t", "--", "qemu", "-N", "-x", "-iM64", "a"]);
        assert_eq!(o.tmpdir, TmpDir::Remove("--".into()));
        assert_eq!(o.hostname.as_deref(), Some("-x"));
        assert!(o.interactive);
        assert_eq!(o.mem_mb, 64);
        let o = opts(&["qemu", "-pM", "96", "a", "-i"]);
        assert!(o.paused && !o.interactive);
        assert_eq!((o.mem_mb, &o.args[..]), (96, &["-i".to_string()][..]));
        let o = opts(&["qemu", "-i", "--", "-app", "x"]);
        assert_eq!(
            (o.app.as_str(), &o.args[..]),
            ("-app", &["x".to_string()][..])
        );
        let o = opts(&["qemu", "-", "x"]);
        assert_eq!((o.app.as_str(), &o.args[..]), ("-", &["x".to_string()][..]));
        assert_eq!(err(&["-", "a"]).message, "invalid platform \"-\"");
        assert_eq!(err(&["", "a"]).message, "invalid platform \"\"");
        assert_eq!(err(&["qemu", "--"]).message, "missing APP");
    }

    #[test]
    fn iso() {
        let o = opts(&["iso", "-N", "box", "-e", "A=b", "app.bin", "--", "x"]);
        assert_eq!(o.platform, Platform::Iso);
        assert_eq!(o.hostname.as_deref(), Some("box"));
        assert_eq!(o.args, vec!["x"]);
        let o = opts(&["iso", "-b", "d.img,/data", "a"]);
        assert_eq!(o.disks[0].mountpoint.as_deref(), Some("/data"));
        for opt in [
            &["-i"][..],
            &["-p"],
            &["-D", "1"],
            &["-M", "128"],
            &["-g", "x"],
        ] {
            let mut args = vec!["iso"];
            args.extend_from_slice(opt);
            args.push("a");
            assert!(
                err(&args).message.contains("not supported with iso"),
                "{opt:?}"
            );
        }
    }

    #[test]
    fn rc_programs() {
        let o = opts(&[
            "qemu",
            "-r",
            "server -p 80 &",
            "-r",
            "gen 'a b' |",
            "-r",
            "wc",
            "app.bin",
        ]);
        assert_eq!(
            o.rc,
            vec![
                RcProgram {
                    argv: vec!["server".into(), "-p".into(), "80".into()],
                    runmode: "&"
                },
                RcProgram {
                    argv: vec!["gen".into(), "a b".into()],
                    runmode: "|"
                },
                RcProgram {
                    argv: vec!["wc".into()],
                    runmode: ""
                },
            ]
        );
        assert_eq!(
            err(&["qemu", "-r", "&", "app.bin"]).to_string(),
            "-r \"&\": expected a program name (PROG [ARGS...] [&|])"
        );
        assert_eq!(
            err(&["qemu", "-r", "a", "app.bin", "x"]).to_string(),
            "app args cannot go with -r: give each program's args in its -r"
        );
        assert_eq!(
            err(&["qemu", "-r", "a |", "app.bin"]).to_string(),
            "the last -r program cannot end in | (nothing would read its output)"
        );
    }
}
