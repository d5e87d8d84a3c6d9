//! The rumprun launcher and stopper, as a library so that the two binaries stay thin
//! and everything is unit-testable.
//!
//! `rumprun` = [`cli`] (options) → [`app`] (check the image) → [`config`] (runtime
//! config JSON) → [`qemu`] (the command line) → [`launch`] (run it, in the foreground
//! or the background) → [`status`] (the program's exit status).
//! `rumprun iso` = [`iso`] (a GRUB ISO instead of a QEMU command); `rumprun image`
//! the same as a disk ([`gpt`] keeps its GPT valid when padded).
//! `rumprun xen` = [`xen`] (xl in dom0, config through [`xenstore`]).
//! `rumprun libvirt` = [`libvirt`] (a transient libvirt domain through virsh).
//! `rumpstop` = [`stop`].

pub mod app;
pub mod cli;
pub mod config;
pub mod error;
pub mod gpt;
pub mod iso;
pub mod kvm;
pub mod launch;
pub mod libvirt;
pub mod net;
pub mod qemu;
pub mod run;
pub mod status;
pub mod stop;
pub mod tmpdir;
pub mod xen;
pub mod xen_console;
pub mod xenstore;

/// Turns the process arguments (without argv\[0\]) into UTF-8 strings.
pub fn utf8_args(
    args: impl Iterator<Item = std::ffi::OsString>,
) -> Result<Vec<String>, error::Error> {
    args.map(|a| {
        a.into_string()
            .map_err(|a| error::Error::new(format!("argument {a:?} is not valid UTF-8")))
    })
    .collect()
}
