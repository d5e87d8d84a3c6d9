//! `rumprun` from start to end: options → checks → config → QEMU command → dump, run in
//! the foreground, or start in the background.

use crate::cli::{self, Command, Options, Platform, TmpDir};
use crate::error::Error;
use crate::{app, config, iso, kvm, launch, libvirt, qemu, tmpdir, xen};

/// Runs `rumprun` with these arguments (without argv\[0\]); returns the exit status.
pub fn rumprun(args: &[String]) -> Result<i32, Error> {
    let o = match cli::parse(args)? {
        Command::Help => {
            print!("{}", cli::USAGE);
            return Ok(0);
        }
        Command::Run(o) => o,
    };
    let mut o = o;
    check_disks(&mut o.disks)?;
    // The image's file data region is read from the image itself, attached as the
    // last disk, read-only (the kernel takes it out of the program's /dev/vdX; the
    // iso and image platforms load it as one more RAM disk module).
    if app::has_file_data(&o.app) {
        o.disks.push(cli::Disk {
            path: o.app.clone(),
            mountpoint: None,
            read_only: true,
        });
    }
    if o.platform == Platform::Iso || o.platform == Platform::Image {
        return iso::run(&o);
    }
    let min_mb = app::check(&o.app)?;
    if o.mem_mb < min_mb {
        return Err(Error::new(format!(
            "-M {}: {} needs at least {} MiB of guest memory (its kernel and program alone take that much)",
            o.mem_mb, o.app, min_mb
        )));
    }
    let config = config::build(&o);
    if o.platform == Platform::Xen {
        return xen::run(&o, &config);
    }
    if o.platform == Platform::Libvirt {
        return libvirt::run(&o, &config);
    }
    if o.platform == Platform::Kvm && !o.dump {
        kvm::check_host()?;
    }
    let program = qemu::program();
    if o.dump {
        // Nothing is created: the line names the temp dir that would be used.
        let dir = match &o.tmpdir {
            TmpDir::Auto => tmpdir::fresh_name(),
            TmpDir::Remove(d) | TmpDir::Keep(d) => d.clone(),
        };
        let argv = qemu::command(&o, &program, &dir, qemu::firmware(), &config);
        println!("{}", qemu::shell_line(&argv));
        return Ok(0);
    }
    if o.interactive {
        run_foreground(&o, &program, &config)
    } else {
        start_background(&o, &program, &config)
    }
}

/// Every `-b` image must be a file we can read; one we cannot write is attached
/// read-only.
fn check_disks(disks: &mut [cli::Disk]) -> Result<(), Error> {
    for d in disks {
        match std::fs::metadata(&d.path) {
            Ok(m) if m.is_dir() => {
                return Err(Error::new(format!(
                    "-b {}: is a directory, not a disk image",
                    d.path
                )))
            }
            Ok(_) => d.read_only = !writable(&d.path),
            Err(e) => {
                return Err(Error::new(format!(
                    "-b {}: {}",
                    d.path,
                    crate::error::io_message(&e)
                )))
            }
        }
    }
    Ok(())
}

/// Whether we may write the file at `path` (opening it for writing changes nothing).
fn writable(path: &str) -> bool {
    match std::fs::OpenOptions::new().write(true).open(path) {
        Ok(_) => true,
        // Permission denied, a read-only file system: attach it read-only. Other
        // errors are QEMU's to report.
        Err(e) => !matches!(
            e.kind(),
            std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem
        ),
    }
}

fn run_foreground(o: &Options, program: &str, config: &str) -> Result<i32, Error> {
    let dir = tmpdir::create(&o.tmpdir, true)?;
    let argv = qemu::command(o, program, &dir.path, qemu::firmware(), config);
    launch::foreground(&argv, &qemu::status_path(&dir.path))
}

fn start_background(o: &Options, program: &str, config: &str) -> Result<i32, Error> {
    let mut dir = tmpdir::create(&o.tmpdir, true)?;
    let argv = qemu::command(o, program, &dir.path, qemu::firmware(), config);
    let log = format!("{}/console.log", dir.path);
    let pid = launch::background(&argv, &log, &qemu::status_path(&dir.path))?;
    dir.keep();
    println!("qemu:{pid}");
    eprintln!("rumprun: console log: {log}");
    Ok(0)
}
