//! Which programs run when (the original rumprun's `rc` list): the launch plan built
//! from the config and the payload, starting programs in order, and ending the image.
//!
//! Entries start in order. A foreground entry (no runmode) is waited for: the next
//! entry starts when it has exited. `&` (background) and `|` (stdout piped into the
//! next entry's stdin) let the next entry start at once. The image ends when the last
//! foreground program has exited, with its exit status; background programs still
//! running then are stopped. With no foreground program at all, the image ends when
//! every program has exited, with the status of the last one.
//!
//! Without `rc`, every baked program runs in the foreground, one after the other, in
//! bake order, each with the `cmdline` argv (or its own name as argv), as in the
//! original. Every program's argv\[0\] is a path in the guest (`guest_argv`).

use super::{Ending, Pid, Process, Program};
use crate::fd::{pipe, OpenFile, O_RDONLY, O_WRONLY};
use crate::sync::SpinLock;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use rumprun_config::{Config, RunMode};

/// One program to start.
pub struct Launch {
    /// Its payload file name (`bin/<file_name>`).
    pub file_name: &'static str,
    pub image: &'static [u8],
    pub argv: Vec<String>,
    pub runmode: RunMode,
}

/// The launch plan for `config` and the payload `archive`: the `rc` entries (each
/// `bin` must name a baked program: `name`, `bin/name` or `/bin/name`), or else every
/// baked program. The error is one line for the console.
pub fn plan(config: &Config, archive: &'static [u8]) -> Result<Vec<Launch>, String> {
    let mut programs = Vec::new();
    for p in rumprun_image::cpio::programs(archive) {
        let e = p.map_err(|_| String::from("the baked payload is corrupt (bad cpio archive)"))?;
        programs.push((e.program_name().unwrap_or("program"), e.data));
    }
    if programs.is_empty() {
        return Err(String::from(
            "the baked payload holds no program (no bin/<name> entry)",
        ));
    }
    if config.rc.is_empty() {
        return Ok(programs
            .into_iter()
            .map(|(name, image)| Launch {
                file_name: name,
                image,
                argv: config
                    .argv
                    .clone()
                    .unwrap_or_else(|| alloc::vec![String::from(name)]),
                runmode: RunMode::Foreground,
            })
            .collect());
    }
    config
        .rc
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let wanted = entry.bin.trim_start_matches('/');
            let wanted = wanted.strip_prefix("bin/").unwrap_or(wanted);
            let Some(&(name, image)) = programs.iter().find(|(n, _)| *n == wanted) else {
                let baked: Vec<&str> = programs.iter().map(|(n, _)| *n).collect();
                return Err(format!(
                    "config error: \"rc\": entry {}: no baked program \"{}\" (baked: {})",
                    i + 1,
                    entry.bin,
                    baked.join(", ")
                ));
            };
            Ok(Launch {
                file_name: name,
                image,
                argv: entry.argv(),
                runmode: entry.runmode,
            })
        })
        .collect()
}

struct Rc {
    plan: Vec<Launch>,
    env: Vec<String>,
    /// The next entry to start.
    next: usize,
    /// The foreground program being waited for.
    waiting_for: Option<Pid>,
    /// Exit status of the last foreground program that ended.
    foreground_status: Option<i32>,
}

/// The plan and where it stands. Held only to read or update it: starting a program
/// (its files, its argv's path lookup) happens with the lock dropped.
static RC: SpinLock<Rc> = SpinLock::new(Rc {
    plan: Vec::new(),
    env: Vec::new(),
    next: 0,
    waiting_for: None,
    foreground_status: None,
});

/// Starts the plan: the first entry runs on the calling (boot) thread, as pid 1, in
/// the boot page tables; entries that start with it get their own threads.
pub fn start(plan: Vec<Launch>, env: Vec<String>) -> ! {
    {
        let mut r = RC.lock();
        r.plan = plan;
        r.env = env;
    }
    start_more(Some(super::first()));
    super::run()
}

/// Starts entries until one in the foreground has started or none are left.
/// `first`: the process for the next entry, already made (the boot one).
fn start_more(mut first: Option<&'static Process>) {
    let mut stdin: Option<Arc<OpenFile>> = None;
    loop {
        let (file_name, image, argv, runmode, env) = {
            let mut r = RC.lock();
            let Some(launch) = r.plan.get(r.next) else {
                return;
            };
            let taken = (
                launch.file_name,
                launch.image,
                launch.argv.clone(),
                launch.runmode,
                r.env.clone(),
            );
            r.next += 1;
            taken
        };
        let spawn = first.is_none();
        let Some(p) = first
            .take()
            .or_else(|| super::create(crate::sched::next_tid()))
        else {
            out_of_memory(file_name)
        };
        // stdin: the read end of the previous entry's pipe, if it was `|`.
        let this_stdin = stdin.take();
        let stdout = (runmode == RunMode::Pipe).then(|| {
            let (reader, writer) = pipe::new();
            stdin = Some(OpenFile::new(Arc::new(reader), O_RDONLY));
            OpenFile::new(Arc::new(writer), O_WRONLY)
        });
        p.prepare(
            Program {
                name: argv
                    .first()
                    .cloned()
                    .unwrap_or_else(|| String::from(file_name)),
                file_name: String::from(file_name),
                image,
                argv: guest_argv(&argv, file_name),
                env,
                exe_path: format!("/bin/{file_name}"),
            },
            this_stdin,
            stdout,
        );
        if spawn && crate::sched::spawn_program(p, super::program_thread_entry).is_none() {
            out_of_memory(file_name)
        }
        if runmode == RunMode::Foreground {
            RC.lock().waiting_for = Some(p.pid());
            return;
        }
    }
}

/// The argv a started program gets: `argv` with argv\[0\] a path to the program
/// in the guest, so that a program that runs itself again (through argv\[0\], as
/// CPython finds `sys.executable`, or /proc/self/exe) finds itself. The launcher
/// writes the image's host path there, and an `rc` entry the program's name: both
/// become `/bin/<file_name>`. An absolute path that exists in the guest (say
/// `/bin/sh`, a link to a baked busybox) is kept.
fn guest_argv(argv: &[String], file_name: &str) -> Vec<String> {
    let mut v = argv.to_vec();
    let keep = |a0: &str| a0.starts_with('/') && crate::fs::lookup(a0.as_bytes()).is_ok();
    match v.first_mut() {
        Some(a0) if keep(a0) => {}
        Some(a0) => *a0 = format!("/bin/{file_name}"),
        None => v.push(format!("/bin/{file_name}")),
    }
    v
}

fn out_of_memory(file_name: &str) -> ! {
    kprintln!(
        "rumprun: out of memory starting bin/{file_name}; give the VM more memory (rumprun -M)"
    );
    crate::platform::exit(137)
}

/// Program `p` (the running one) has ended with `status` and closed its files:
/// starts what waited for it, and ends the image when nothing is left to wait for.
pub fn program_ended(p: &'static Process, status: i32, how: Ending) -> ! {
    let waited_for = {
        let mut r = RC.lock();
        let waited_for = r.waiting_for == Some(p.pid());
        if waited_for {
            r.waiting_for = None;
            r.foreground_status = Some(status);
        }
        waited_for
    };
    if waited_for {
        start_more(None);
    }
    let (all_started, foreground_status) = {
        let r = RC.lock();
        (
            r.next == r.plan.len() && r.waiting_for.is_none(),
            r.foreground_status,
        )
    };
    let others_running = super::running().any(|q| !core::ptr::eq(q, p));
    if all_started && (foreground_status.is_some() || !others_running) {
        let image_status = foreground_status.unwrap_or(status);
        if how == Ending::Killed {
            crate::platform::exit_after_fault(image_status)
        }
        // Background programs stop here: their files close (sockets too, before the
        // network drains); their shared file mappings are not written back.
        for q in super::running().filter(|q| !core::ptr::eq(*q, p)) {
            q.fds.close_all();
        }
        let _ = crate::fs::mounts::sync_all();
        crate::net::drain();
        super::print_end_marker(status);
        crate::platform::exit(image_status)
    }
    if how == Ending::Exited {
        super::print_end_marker(status);
    }
    super::release_and_end()
}
