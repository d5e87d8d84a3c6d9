//! `rumprun xen`: runs an image as a Xen PVH guest from dom0, as the original did:
//! writes an xl config (type "pvh"), `xl create -p`, puts the runtime config in
//! xenstore at `/local/domain/<domid>/rumprun/cfg` (the directory made writable for the
//! guest, which answers with `rumprun/exit-status`), attaches to the console with `-i`
//! ([`crate::xen_console`]), then `xl unpause`. With `-i` it waits for the exit status and returns it; without,
//! it prints `xen:<domid>` (for rumpstop).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::cli::Options;
use crate::error::{io_message, Error};
use crate::xen_console::Console;
use crate::xenstore::Xenstore;

/// How often `-i` looks for the exit status, and how often for the domain's state.
const STATUS_POLL: Duration = Duration::from_millis(50);
const STATE_POLL: Duration = Duration::from_secs(1);

/// Why option `-c` cannot be used on xen, if it cannot.
pub fn refused_option(c: char) -> Option<&'static str> {
    Some(match c {
        'F' => "-F (port forwarding) is not supported on xen: reach the guest's address from dom0",
        'g' => "-g is not supported on xen: there is no QEMU command to add to",
        'D' => "-D (gdb port) is not supported on xen",
        _ => return None,
    })
}

/// The xl guest name: `-N`, else `rumprun-<image file name>`.
pub fn guest_name(o: &Options) -> String {
    o.hostname.clone().unwrap_or_else(|| {
        let base = std::path::Path::new(&o.app)
            .file_name()
            .map_or_else(|| o.app.clone(), |n| n.to_string_lossy().into_owned());
        format!("rumprun-{base}")
    })
}

/// An xl config string value: refuses what xl's quoting cannot carry.
fn xl_string(what: &str, value: &str) -> Result<String, Error> {
    if value.contains(['"', '\\', '\n']) {
        return Err(Error::new(format!(
            "{what} \"{value}\" cannot be put in an xl config (no quotes, backslashes or newlines)"
        )));
    }
    Ok(format!("\"{value}\""))
}

/// The xl config. Disks (`-b`) become `xvda`, `xvdb`, ... (the guest's `/dev/vda`, ...),
/// through the host's block hotplug script, or `$RUMPRUN_XEN_BLOCK_SCRIPT`; cards
/// (`-I`) vifs (the guest's `eth0`, ...) on the bridge given as the card's backend,
/// through the host's vif script or `$RUMPRUN_XEN_VIF_SCRIPT`. The kernel reads time through Xen's PV clock (TSC scaled by Xen),
/// so a native TSC is right (Xen starts every vCPU with vCPU 0's TSC offset; needed under
/// QEMU 7.2's nested SVM). `-c N` is `vcpus = N`.
pub fn xl_config(o: &Options, kernel_path: &str) -> Result<String, Error> {
    let keep = if o.destroy { "destroy" } else { "preserve" };
    // -i reads the exit status after the guest stopped: keep it until then.
    let on_stop = if o.interactive { "preserve" } else { keep };
    let mut text = format!(
        "name = {}\ntype = \"pvh\"\nkernel = {}\nmemory = {}\nvcpus = {}\ntsc_mode = \"native\"\n\
         on_poweroff = \"{on_stop}\"\non_crash = \"{on_stop}\"\non_reboot = \"destroy\"\n",
        xl_string("-N", &guest_name(o))?,
        xl_string("APP", kernel_path)?,
        o.mem_mb,
        o.cpus
    );
    if !o.disks.is_empty() {
        let script = std::env::var("RUMPRUN_XEN_BLOCK_SCRIPT")
            .ok()
            .filter(|s| !s.is_empty());
        let mut specs = Vec::new();
        for (i, d) in o.disks.iter().enumerate() {
            let path = std::fs::canonicalize(&d.path)
                .map_err(|e| Error::new(format!("-b {}: {}", d.path, io_message(&e))))?;
            let path = path.to_string_lossy();
            if path.contains([',', '\'', '"', '\\', '\n']) {
                return Err(Error::new(format!(
                    "-b {path}: the path cannot be put in an xl disk spec (no commas or quotes)"
                )));
            }
            let script = script
                .as_deref()
                .map(|s| format!("script={s}, "))
                .unwrap_or_default();
            let vdev = format!("xvd{}", (b'a' + i as u8) as char);
            specs.push(format!(
                "'format=raw, vdev={vdev}, access=rw, {script}target={path}'"
            ));
        }
        text.push_str(&format!("disk = [ {} ]\n", specs.join(", ")));
    }
    if !o.net.cards.is_empty() {
        let script = std::env::var("RUMPRUN_XEN_VIF_SCRIPT")
            .ok()
            .filter(|s| !s.is_empty());
        let mut specs = Vec::new();
        for card in &o.net.cards {
            let mut parts = Vec::new();
            if let Some(bridge) = &card.backend {
                parts.push(format!("bridge={bridge}"));
            }
            if let Some(s) = &script {
                parts.push(format!("script={s}"));
            }
            let spec = parts.join(", ");
            if spec.contains(['\'', '"', '\\', '\n']) {
                return Err(Error::new(format!(
                    "-I {}: cannot be put in an xl vif spec (no quotes)",
                    card.tag
                )));
            }
            specs.push(format!("'{spec}'"));
        }
        text.push_str(&format!("vif = [ {} ]\n", specs.join(", ")));
    }
    Ok(text)
}

fn xl_missing(e: &std::io::Error) -> Error {
    let hint = if e.kind() == std::io::ErrorKind::NotFound {
        " (rumprun xen runs in a Xen dom0 with the Xen tools)"
    } else {
        ""
    };
    Error::new(format!("cannot run xl: {}{hint}", io_message(e)))
}

fn xl(args: &[&str]) -> Result<String, Error> {
    let out = Command::new("xl")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| xl_missing(&e))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err
            .lines()
            .rfind(|l| !l.trim().is_empty())
            .unwrap_or("no message");
        return Err(Error::new(format!("xl {} failed: {last}", args.join(" "))));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// What `xl list` says of a domain.
enum Seen {
    /// Listed, running, blocked or paused.
    Alive,
    /// Listed as shut down, crashed or dying.
    Stopped(String),
    /// `xl list` failed (the domain is gone, or xl could not answer this time): its
    /// last error line.
    Unlisted(String),
}

fn look(domid: u32) -> Seen {
    match xl(&["list", &domid.to_string()]) {
        Err(e) => Seen::Unlisted(e.to_string()),
        Ok(out) => match out.lines().nth(1).and_then(|l| l.split_whitespace().nth(4)) {
            Some(state) if state.contains(['s', 'c', 'd']) => Seen::Stopped(state.to_string()),
            Some(_) => Seen::Alive,
            None => Seen::Unlisted(format!("xl list {domid} printed no state")),
        },
    }
}

/// Consecutive failed `xl list`s (one per STATE_POLL) after which a guest without an
/// exit status counts as gone. One failure is not enough: under load `xl list` can
/// fail once for a guest that runs on, and taking that for its end destroyed a
/// running guest (the syscall fuzzer on Xen, once in CI).
const UNLISTED_LIMIT: u32 = 3;

/// Runs the guest (see the module comment); returns the program's exit status with
/// `-i`, else 0.
pub fn run(o: &Options, config_json: &str) -> Result<i32, Error> {
    let kernel = std::fs::canonicalize(&o.app)
        .map_err(|e| Error::new(format!("{}: {}", o.app, io_message(&e))))?;
    let xl_cfg = xl_config(o, &kernel.to_string_lossy())?;
    if o.dump {
        println!("{xl_cfg}# xenstore: /local/domain/<domid>/rumprun/cfg = {config_json}");
        return Ok(0);
    }
    let dir = crate::tmpdir::create(&o.tmpdir, true)?;
    let cfg_path = format!("{}/xl.cfg", dir.path);
    std::fs::write(&cfg_path, &xl_cfg)
        .map_err(|e| Error::new(format!("cannot write {cfg_path}: {}", io_message(&e))))?;
    let name = guest_name(o);
    xl(&["create", "-p", &cfg_path])?;
    let domid = match xl(&["domid", &name])
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
    {
        Some(d) => d,
        None => {
            let _ = xl(&["destroy", &name]);
            return Err(Error::new(format!(
                "xl created \"{name}\" but has no domain id for it"
            )));
        }
    };
    if let Err(e) = publish_config(domid, config_json) {
        let _ = xl(&["destroy", &domid.to_string()]);
        return Err(e);
    }
    let console = if o.interactive {
        let mut xs = Xenstore::open()?;
        match Console::attach(&mut xs, domid) {
            Ok(c) => Some(c),
            Err(e) => {
                let _ = xl(&["destroy", &domid.to_string()]);
                return Err(e);
            }
        }
    } else {
        None
    };
    if !o.paused {
        xl(&["unpause", &domid.to_string()])?;
    }
    match console {
        Some(console) => wait_for_exit(o, domid, console),
        None => {
            println!("xen:{domid}");
            if o.paused {
                eprintln!("rumprun: the guest is paused: xl unpause {domid}");
            }
            Ok(0)
        }
    }
}

/// `rumpstop xen:<domid>`.
pub fn destroy(domid: u32) -> Result<(), Error> {
    xl(&["destroy", &domid.to_string()]).map(|_| ())
}

/// Writes the runtime config and lets the guest write its exit status next to it.
fn publish_config(domid: u32, config_json: &str) -> Result<(), Error> {
    let dir = format!("/local/domain/{domid}/rumprun");
    let mut xs = Xenstore::open()?;
    let fail = |what: &str, e: crate::xenstore::XsError| {
        Error::new(format!("cannot {what} {dir} in xenstore: {e}"))
    };
    xs.write(&format!("{dir}/cfg"), config_json.as_bytes())
        .map_err(|e| fail("write", e))?;
    xs.set_perms(&dir, &["n0", &format!("b{domid}")])
        .map_err(|e| fail("set permissions of", e))
}

/// Waits for `rumprun/exit-status` (or the domain stopping without one), drains the
/// console, destroys the guest with `-d`, returns the status.
fn wait_for_exit(o: &Options, domid: u32, console: Console) -> Result<i32, Error> {
    let node = format!("/local/domain/{domid}/rumprun/exit-status");
    let mut xs = Xenstore::open()?;
    let mut last_state_check = Instant::now();
    let read_status = |xs: &mut Xenstore| {
        xs.read(&node)
            .ok()
            .and_then(|b| String::from_utf8_lossy(&b).trim().parse::<i32>().ok())
    };
    let mut unlisted = 0;
    let (status, how) = loop {
        if let Some(s) = read_status(&mut xs) {
            break (Some(s), String::new());
        }
        if last_state_check.elapsed() >= STATE_POLL {
            last_state_check = Instant::now();
            match look(domid) {
                Seen::Alive => unlisted = 0,
                Seen::Stopped(state) => break (read_status(&mut xs), format!("state {state}")),
                Seen::Unlisted(why) => {
                    unlisted += 1;
                    if unlisted >= UNLISTED_LIMIT {
                        break (read_status(&mut xs), why);
                    }
                }
            }
        }
        std::thread::sleep(STATUS_POLL);
    };
    console.drain();
    if o.destroy {
        let _ = xl(&["destroy", &domid.to_string()]);
    }
    status.ok_or_else(|| {
        Error::new(format!(
            "the guest (domain {domid}) stopped without an exit status ({how}; see xl dmesg)"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(args: &[&str]) -> Options {
        crate::cli::run_options(args)
    }

    #[test]
    fn config_text() {
        let o = options(&["xen", "-M", "32", "-d", "/x/hello.bin"]);
        assert_eq!(
            xl_config(&o, "/x/hello.bin").unwrap(),
            "name = \"rumprun-hello.bin\"\ntype = \"pvh\"\nkernel = \"/x/hello.bin\"\nmemory = 32\n\
             vcpus = 1\ntsc_mode = \"native\"\non_poweroff = \"destroy\"\non_crash = \"destroy\"\n\
             on_reboot = \"destroy\"\n"
        );
        let o = options(&["xen", "-i", "-N", "web", "a"]);
        let text = xl_config(&o, "/a").unwrap();
        assert!(text.starts_with("name = \"web\"\n"), "{text}");
        assert!(text.contains("on_poweroff = \"preserve\"\n"), "{text}");
    }

    #[test]
    fn disks_become_xvd_specs() {
        let dir = std::env::temp_dir().join(format!("rumprun-xen-disk-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (a, b) = (dir.join("a.img"), dir.join("b.img"));
        std::fs::write(&a, b"").unwrap();
        std::fs::write(&b, b"").unwrap();
        let o = options(&[
            "xen",
            "-b",
            &format!("{},/data", a.display()),
            "-b",
            b.to_str().unwrap(),
            "app",
        ]);
        let text = xl_config(&o, "/app").unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let (a, b) = (a.display(), b.display());
        assert!(
            text.ends_with(&format!(
                "disk = [ 'format=raw, vdev=xvda, access=rw, target={a}', \
                 'format=raw, vdev=xvdb, access=rw, target={b}' ]\n"
            )),
            "{text}"
        );
    }

    #[test]
    fn refuses_unquotable_names() {
        let o = options(&["xen", "-N", "a\"b", "a"]);
        assert!(xl_config(&o, "/a")
            .unwrap_err()
            .message
            .contains("cannot be put"));
    }
}
