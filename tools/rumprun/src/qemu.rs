//! The QEMU command line for the `qemu` and `kvm` platforms. Machine, firmware and
//! device choices are the named constants below.

use rumprun_config::quote_arg;

use crate::cli::{Machine, Options, Platform};

/// Environment variable naming the QEMU to run.
pub const QEMU_ENV: &str = "RUMPRUN_QEMU";
/// The QEMU run when `RUMPRUN_QEMU` is unset or empty.
pub const DEFAULT_QEMU: &str = "qemu-system-x86_64";
/// The default machine type (`-m q35`).
pub const MACHINE: &[&str] = &["-M", "q35"];
/// `-m microvm`: without ACPI, QEMU names each virtio-mmio device on the kernel
/// command line (`virtio_mmio.device=512@0xfeb00e00:12`), which is how the kernel
/// finds them (with ACPI they are only in the DSDT, which the kernel does not read).
pub const MACHINE_MICROVM: &[&str] = &["-M", "microvm,acpi=off"];
/// Accelerator and CPU for the `qemu` platform (software emulation).
pub const TCG_ACCEL: &[&str] = &["-accel", "tcg", "-cpu", "max"];
/// Accelerator and CPU for the `kvm` platform.
pub const KVM_ACCEL: &[&str] = &["-accel", "kvm", "-cpu", "host,-arch-capabilities"];
/// No default devices, no user config, no display.
pub const LEAN: &[&str] = &["-nodefaults", "-no-user-config", "-display", "none"];
/// Fast firmware, used when it is installed (Debian: qemu-system-data).
pub const FIRMWARE: &str = "/usr/share/qemu/qboot.rom";
/// The console: COM1 on QEMU's stdio.
pub const CONSOLE: &[&str] = &["-serial", "stdio"];
/// The chardev id of the status file.
pub const STATUS_CHARDEV_ID: &str = "rrstatus";
/// COM2 (0x2f8, IRQ 3), where the guest writes its exit status as a decimal line.
pub const STATUS_UART: &str = "isa-serial,chardev=rrstatus,iobase=0x2f8,irq=3";
/// The device the guest writes its exit status to; QEMU then exits with 2*v+1.
pub const EXIT_DEVICE: &str = "isa-debug-exit,iobase=0xf4,iosize=4";
/// The status file's name inside the temp dir.
pub const STATUS_FILE: &str = "status";

/// The QEMU to run: `$RUMPRUN_QEMU`, else [`DEFAULT_QEMU`].
pub fn program() -> String {
    match std::env::var(QEMU_ENV) {
        Ok(q) if !q.is_empty() => q,
        _ => DEFAULT_QEMU.to_string(),
    }
}

/// [`FIRMWARE`] if it is installed.
pub fn firmware() -> Option<&'static str> {
    std::path::Path::new(FIRMWARE).is_file().then_some(FIRMWARE)
}

/// `<tmpdir>/status`.
pub fn status_path(tmpdir: &str) -> String {
    format!("{}/{STATUS_FILE}", tmpdir.trim_end_matches('/'))
}

/// Escapes a value inside a QEMU `key=value,...` option (commas are doubled).
fn opt_value(v: &str) -> String {
    v.replace(',', ",,")
}

/// The full argv (program first).
pub fn command(
    o: &Options,
    program: &str,
    tmpdir: &str,
    firmware: Option<&str>,
    config: &str,
) -> Vec<String> {
    let mut a: Vec<String> = vec![program.to_string()];
    let mut push = |xs: &[&str]| a.extend(xs.iter().map(|s| s.to_string()));
    push(match o.machine {
        Machine::Q35 => MACHINE,
        Machine::Microvm => MACHINE_MICROVM,
    });
    push(match o.platform {
        Platform::Qemu | Platform::Iso | Platform::Image | Platform::Xen | Platform::Libvirt => {
            TCG_ACCEL
        }
        Platform::Kvm => KVM_ACCEL,
    });
    push(&["-m", &o.mem_mb.to_string()]);
    if o.cpus > 1 {
        push(&["-smp", &o.cpus.to_string()]);
    }
    push(LEAN);
    // microvm's own firmware is already qboot.
    if let (Some(fw), Machine::Q35) = (firmware, o.machine) {
        push(&["-bios", fw]);
    }
    push(CONSOLE);
    push(&[
        "-chardev",
        &format!(
            "file,id={STATUS_CHARDEV_ID},path={}",
            opt_value(&status_path(tmpdir))
        ),
        "-device",
        STATUS_UART,
        "-device",
        EXIT_DEVICE,
    ]);
    if let Some(port) = o.gdb_port {
        push(&["-gdb", &format!("tcp::{port}"), "-S"]);
    } else if o.paused {
        push(&["-S"]);
    }
    for (i, d) in o.disks.iter().enumerate() {
        push(&[
            "-drive",
            &format!(
                "file={},if=none,id=vd{i},format=raw{}",
                opt_value(&d.path),
                if d.read_only { ",readonly=on" } else { "" }
            ),
            "-device",
            &format!("virtio-blk-{},drive=vd{i}", virtio_bus(o.machine)),
        ]);
    }
    push(
        &o.net
            .qemu_args(virtio_bus(o.machine))
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    push(&o.qemu_args.iter().map(String::as_str).collect::<Vec<_>>());
    push(&["-kernel", &o.app, "-append", config]);
    a
}

/// The suffix of QEMU's virtio device names on `machine`: `pci`, or `device` (MMIO).
/// On microvm QEMU gives devices the transports in command-line order and names them
/// on the kernel command line in that order, so the first `-b` is still /dev/vda.
pub fn virtio_bus(machine: Machine) -> &'static str {
    match machine {
        Machine::Q35 => "pci",
        Machine::Microvm => "device",
    }
}

/// The argv as one shell-quoted line (for `-D`).
pub fn shell_line(argv: &[String]) -> String {
    argv.iter()
        .map(|a| quote_arg(a))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(args: &[&str]) -> Options {
        crate::cli::run_options(args)
    }

    fn v(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn qemu_minimal_exact() {
        let o = options(&["qemu", "-i", "app.bin"]);
        let argv = command(
            &o,
            "qemu-system-x86_64",
            "/tmp/rumprun.abc",
            Some(FIRMWARE),
            "{}",
        );
        assert_eq!(
            argv,
            v(&[
                "qemu-system-x86_64",
                "-M",
                "q35",
                "-accel",
                "tcg",
                "-cpu",
                "max",
                "-m",
                "64",
                "-nodefaults",
                "-no-user-config",
                "-display",
                "none",
                "-bios",
                "/usr/share/qemu/qboot.rom",
                "-serial",
                "stdio",
                "-chardev",
                "file,id=rrstatus,path=/tmp/rumprun.abc/status",
                "-device",
                "isa-serial,chardev=rrstatus,iobase=0x2f8,irq=3",
                "-device",
                "isa-debug-exit,iobase=0xf4,iosize=4",
                "-kernel",
                "app.bin",
                "-append",
                "{}",
            ])
        );
    }

    #[test]
    fn kvm_everything_exact() {
        let o = options(&[
            "kvm",
            "-p",
            "-M",
            "256",
            "-D",
            "1234",
            "-g",
            "-smp 2 -name 'a b'",
            "x/app.bin",
            "arg",
        ]);
        let argv = command(&o, "/opt/q", "/t,d/", None, "CFG");
        assert_eq!(
            argv,
            v(&[
                "/opt/q",
                "-M",
                "q35",
                "-accel",
                "kvm",
                "-cpu",
                "host,-arch-capabilities",
                "-m",
                "256",
                "-nodefaults",
                "-no-user-config",
                "-display",
                "none",
                "-serial",
                "stdio",
                "-chardev",
                "file,id=rrstatus,path=/t,,d/status",
                "-device",
                "isa-serial,chardev=rrstatus,iobase=0x2f8,irq=3",
                "-device",
                "isa-debug-exit,iobase=0xf4,iosize=4",
                "-gdb",
                "tcp::1234",
                "-S",
                "-smp",
                "2",
                "-name",
                "a b",
                "-kernel",
                "x/app.bin",
                "-append",
                "CFG",
            ])
        );
    }

    #[test]
    fn microvm_uses_mmio_devices_and_its_own_firmware() {
        let o = options(&[
            "qemu", "-m", "microvm", "-b", "d.img", "-I", "n,vioif", "app.bin",
        ]);
        let argv = command(&o, "q", "/t", Some(FIRMWARE), "{}");
        let line = argv.join(" ");
        assert!(
            line.starts_with("q -M microvm,acpi=off -accel tcg"),
            "{line}"
        );
        assert!(!line.contains("-bios"), "{line}");
        assert!(
            line.contains("-device virtio-blk-device,drive=vd0"),
            "{line}"
        );
        assert!(
            line.contains("-device virtio-net-device,netdev=rrnet0"),
            "{line}"
        );
        assert!(!line.contains("-pci"), "{line}");
    }

    #[test]
    fn paused_without_gdb() {
        let o = options(&["qemu", "-p", "app"]);
        let argv = command(&o, "q", "/t", None, "{}");
        assert_eq!(argv.iter().filter(|a| *a == "-S").count(), 1);
        assert!(!argv.contains(&"-gdb".to_string()));
    }

    #[test]
    fn disks_read_only_when_not_writable() {
        let mut o = options(&["qemu", "-b", "a.img,/data", "-b", "ro.iso", "app"]);
        o.disks[1].read_only = true;
        let argv = command(&o, "q", "/t", None, "{}");
        let drives: Vec<&String> = argv.iter().filter(|a| a.starts_with("file=")).collect();
        assert_eq!(
            drives,
            [
                "file=a.img,if=none,id=vd0,format=raw",
                "file=ro.iso,if=none,id=vd1,format=raw,readonly=on"
            ]
        );
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(
            shell_line(&v(&["q", "-append", "{\"cmdline\": \"a 'b c'\"}", ""])),
            r#"q -append '{"cmdline": "a '\''b c'\''"}' ''"#
        );
    }
}
