//! execve: replacing the running process's program with one from the root file
//! system. Everything that can fail with an errno is checked first (the file: ENOENT,
//! EACCES without an x bit or for a non-regular file, ENOEXEC for neither ELF nor
//! `#!`, ETXTBSY for one open for writing; `#!` scripts resolved through up to 4
//! interpreters, else ELOOP; E2BIG for
//! argument lists over Linux's limits; a missing ELF interpreter: ENOENT); then the
//! old program goes: other threads end, the address space is emptied (a vfork child
//! takes a root of its own and lets its parent go on), close-on-exec descriptors
//! close, handled signals go back to SIG_DFL, POSIX timers go; the new image is loaded
//! as the first program is (`loader`), with a Linux initial stack, and entered.

use super::{current, Program};
use crate::errno::*;
use crate::loader;
use crate::mm::address_space;
use alloc::string::String;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

/// Linux's MAX_ARG_STRLEN (one argument or environment string, with its NUL).
pub const MAX_ARG_STRLEN: usize = 32 * 4096;
/// The most bytes of arguments and environment (strings and pointers): a quarter of
/// the 8 MiB stack, as Linux allows.
pub const MAX_ARGS_SIZE: usize = 2 << 20;
/// Interpreters (`#!`) followed before ELOOP (Linux's BINPRM_MAX_RECURSION).
const MAX_INTERPRETERS: usize = 4;

/// A file found for exec: where it is and what it holds.
struct Found {
    /// The path as the caller named it, made absolute (a `#!` interpreter's argv).
    path: String,
    /// The path with every symbolic link resolved, as Linux's /proc/self/exe names
    /// it (exec of `/proc/self/exe` or of a link names the file itself).
    real: String,
    /// The file, its head read (its pages are mapped when it is loaded).
    image: loader::Image<'static>,
}

/// Links followed while resolving a path for /proc/self/exe (Linux's MAXSYMLINKS).
const MAX_LINKS: usize = 40;

/// The absolute path of the file `path` (relative to `at`) names, with symbolic
/// links resolved in every component; the path as given when it cannot be resolved.
fn real_path(at: &rumprun_vfs::InodeRef, path: &[u8]) -> String {
    let vfs = crate::fs::vfs();
    let mut at = at.clone();
    let mut path = path.to_vec();
    for _ in 0..MAX_LINKS {
        let (dir, last) = match path.iter().rposition(|&c| c == b'/') {
            Some(0) => (&b"/"[..], &path[1..]),
            Some(i) => (&path[..i], &path[i + 1..]),
            None => (&b"."[..], &path[..]),
        };
        let Ok(dir_node) = vfs.lookup(&at, dir) else {
            break;
        };
        let Ok(node) = vfs.resolve(&dir_node, last, false) else {
            break;
        };
        if node.file_type() == rumprun_vfs::FileType::Symlink {
            let Ok(target) = node.readlink() else {
                break;
            };
            at = dir_node;
            path = target;
            continue;
        }
        let Ok(mut full) = vfs.path_of(&dir_node) else {
            break;
        };
        if full.last() != Some(&b'/') {
            full.push(b'/');
        }
        full.extend_from_slice(last);
        return String::from_utf8_lossy(&full).into_owned();
    }
    String::from_utf8_lossy(path.as_slice()).into_owned()
}

/// Finds and reads the executable at `path` (relative to `at`): ENOENT, ENOTDIR,
/// ELOOP from the lookup; EACCES when it is not a regular file with an x bit;
/// ETXTBSY when it is open for writing.
fn read_executable(at: &rumprun_vfs::InodeRef, path: &[u8]) -> Result<Found, Errno> {
    let vfs = crate::fs::vfs();
    if path.is_empty() {
        return Err(ENOENT);
    }
    let node = vfs.lookup(at, path).map_err(crate::fs::err)?;
    let st = node.stat();
    if node.file_type() != rumprun_vfs::FileType::Regular || st.mode & 0o111 == 0 {
        return Err(EACCES);
    }
    crate::fs::textbusy::check_runnable(node.key())?;
    let image = loader::Image::open(node).map_err(crate::fs::err)?;
    let mut full = if path.first() == Some(&b'/') {
        Vec::new()
    } else {
        let mut p = vfs.path_of(at).unwrap_or_default();
        if p.last() != Some(&b'/') {
            p.push(b'/');
        }
        p
    };
    full.extend_from_slice(path);
    Ok(Found {
        path: String::from_utf8_lossy(&full).into_owned(),
        real: real_path(at, path),
        image,
    })
}

/// The `#!` line of a script: the interpreter and its optional single argument.
fn shebang(data: &[u8]) -> Option<(Vec<u8>, Option<Vec<u8>>)> {
    let rest = data.strip_prefix(b"#!")?;
    let line = &rest[..rest
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(rest.len())
        .min(254)];
    let trimmed = |s: &[u8]| -> Vec<u8> {
        let s = &s[s
            .iter()
            .position(|b| !b" \t".contains(b))
            .unwrap_or(s.len())..];
        let end = s
            .iter()
            .rposition(|b| !b" \t\r".contains(b))
            .map_or(0, |e| e + 1);
        s[..end].to_vec()
    };
    let line = trimmed(line);
    if line.is_empty() {
        return None;
    }
    let split = line.iter().position(|b| b" \t".contains(b));
    Some(match split {
        None => (line, None),
        Some(i) => {
            let arg = trimmed(&line[i..]);
            (line[..i].to_vec(), (!arg.is_empty()).then_some(arg))
        }
    })
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// execve(path, argv, envp) with argv and envp already copied in; `at` is where a
/// relative path starts. Returns only with an errno (nothing changed); on success
/// the new program runs.
pub fn execve(
    at: &rumprun_vfs::InodeRef,
    path: &[u8],
    mut argv: Vec<Vec<u8>>,
    envp: Vec<Vec<u8>>,
) -> Result<core::convert::Infallible, Errno> {
    let mut found = read_executable(at, path)?;
    let mut depth = 0;
    while let Some((interp, arg)) = shebang(found.image.head()) {
        depth += 1;
        if depth > MAX_INTERPRETERS {
            return Err(ELOOP);
        }
        // argv: interpreter [arg] script original-argv[1..]
        let mut new_argv = alloc::vec![interp.clone()];
        new_argv.extend(arg);
        new_argv.push(found.path.clone().into_bytes());
        new_argv.extend(argv.into_iter().skip(1));
        argv = new_argv;
        found = read_executable(at, &interp)?;
    }
    let elf = loader::elf::Elf::parse(found.image.head()).map_err(|_| ENOEXEC)?;
    loader::check_segments(&elf, &found.image).map_err(|_| ENOEXEC)?;
    if let Some(interp) = loader::interpreter_path_of(&elf, found.image.head()) {
        crate::fs::lookup(interp.as_bytes())?;
    }
    let mut total = 0;
    for s in argv.iter().chain(envp.iter()) {
        if s.len() + 1 > MAX_ARG_STRLEN {
            return Err(E2BIG);
        }
        total += s.len() + 1 + 8;
    }
    if total > MAX_ARGS_SIZE {
        return Err(E2BIG);
    }
    let argv: Vec<String> = argv.iter().map(|a| lossy(a)).collect();
    let env: Vec<String> = envp.iter().map(|e| lossy(e)).collect();
    replace_image(found, argv, env)
}

/// The point of no return: the old program goes and the new one starts.
fn replace_image(found: Found, argv: Vec<String>, env: Vec<String>) -> ! {
    let Found {
        real: path,
        image: data,
        ..
    } = found;
    let me = current();
    crate::sched::end_other_threads(me.pid());
    if me.vfork_borrowed.load(Ordering::Relaxed) {
        // The page tables were the parent's: take our own, and let the parent go on.
        let Some(root) = super::new_root() else {
            kprintln!(
                "rumprun: out of memory in execve of {path}; give the VM more memory (rumprun -M)"
            );
            super::killed(128 + crate::fault::SIGKILL)
        };
        address_space::forget_areas();
        me.root.store(root, Ordering::Relaxed);
        crate::arch::smp::load_root(root);
        me.vfork_borrowed.store(false, Ordering::Relaxed);
        super::wait::vfork_done(me);
    } else {
        address_space::sync_all();
        address_space::release_all();
        crate::ipc::shm::process_released(me.pid());
    }
    me.fds.close_on_exec();
    me.signals.reset_for_exec(crate::sched::current());
    me.timers.clear();
    crate::sched::set_clear_child_tid(0);
    crate::arch::cpu::wrmsr(crate::arch::cpu::MSR_FS_BASE, 0);
    // A program of the payload keeps its static image for symbols in fault reports.
    let file_name = path.rsplit('/').next().unwrap_or("").into();
    let image = path
        .strip_prefix("/bin/")
        .and_then(|n| crate::payload::entry(&alloc::format!("bin/{n}")))
        .filter(|img| img.len() as u64 == data.size() && img.starts_with(data.head()))
        .unwrap_or(&[]);
    let program = Program {
        name: argv.first().cloned().unwrap_or_else(|| path.clone()),
        file_name,
        image,
        argv,
        env,
        exe_path: path,
    };
    let program: &'static Program = alloc::boxed::Box::leak(alloc::boxed::Box::new(program));
    let failed = start(data, program, || {});
    let why = match failed {
        loader::LoadError::Elf(why) => why,
        loader::LoadError::NoMemory => "out of memory",
    };
    kprintln!(
        "rumprun: execve of {}: {why}; the process is killed",
        program.exe_path
    );
    super::killed(128 + crate::fault::SIGKILL)
}

/// Starts `program` from `image` in the running process, whose address space is
/// empty: the image is loaded, the Linux initial stack built, the program recorded
/// (/proc/self/exe, symbols), `ready` called, and the program entered. The one way a
/// program starts: for the rc list's entries (`process::run`) and for execve alike.
/// Returns only when the image cannot be loaded (nothing of it is entered).
pub(super) fn start(
    image: loader::Image<'_>,
    program: &'static Program,
    ready: impl FnOnce(),
) -> loader::LoadError {
    let me = current();
    let running = match &image {
        loader::Image::File { node, .. } => Some(crate::fs::textbusy::Running::new(node.key())),
        loader::Image::Bytes(_) => None,
    };
    let loaded = loader::load(&image);
    drop(image);
    let loaded = match loaded {
        Ok(l) => l,
        Err(e) => return e,
    };
    me.base.store(loaded.base, Ordering::Relaxed);
    let mut random = [0u8; 16];
    crate::random::fill(&mut random);
    let sp = {
        let argv_refs: Vec<&str> = program.argv.iter().map(String::as_str).collect();
        let env_refs: Vec<&str> = program.env.iter().map(String::as_str).collect();
        loader::stack::build(&loaded, &argv_refs, &env_refs, random)
    };
    let Ok(sp) = sp else {
        return loader::LoadError::NoMemory;
    };
    me.set_program(program);
    *me.exe_file.lock() = running;
    ready();
    let entry = loaded.entry;
    extern "C" {
        fn enter_program(entry: u64, sp: u64) -> !;
    }
    // SAFETY: the new image is loaded at `entry` and its initial stack at `sp`; this
    // kernel stack is abandoned (the next entry starts at its top again), and nothing
    // on it needs dropping: everything above was moved or dropped.
    unsafe { enter_program(entry, sp) }
}
