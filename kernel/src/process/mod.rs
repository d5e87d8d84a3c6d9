//! The one program this kernel runs: its identity (argv[0], image for symbols), its
//! start, and its end (the original rumprun's console markers, then the exit status to
//! the platform).

use crate::loader;
use alloc::string::String;
use alloc::vec::Vec;
use spin::Once;

pub struct Program {
    /// argv[0], as shown in the console markers.
    pub name: String,
    /// The ELF image (inside the payload), for symbol lookup.
    pub image: &'static [u8],
    /// Load bias (0 for ET_EXEC).
    pub base: u64,
    /// The program's argv, for /proc/self/cmdline.
    pub argv: Vec<String>,
    /// Where the program lies in the file system (/bin/<name>).
    pub exe_path: String,
}

static PROGRAM: Once<Program> = Once::new();

pub fn current() -> Option<&'static Program> {
    PROGRAM.get()
}

/// The program's argv.
pub fn argv() -> Vec<String> {
    current().map_or_else(Vec::new, |p| p.argv.clone())
}

/// The program's path, as /proc/self/exe shows it.
pub fn exe_path() -> String {
    current().map_or_else(String::new, |p| p.exe_path.clone())
}

/// The program's display name, or "kernel" before it exists.
pub fn name() -> &'static str {
    current().map_or("kernel", |p| p.name.as_str())
}

/// Loads `image` and jumps to it. Never returns: the program ends through exit_group
/// or a fatal signal.
pub fn start(image: &'static [u8], file_name: &str, argv: Vec<String>, env: Vec<String>) -> ! {
    let loaded = match loader::load(image) {
        Ok(l) => l,
        Err(loader::LoadError::Elf(why)) => {
            kprintln!("rumprun: cannot load bin/{file_name}: {why}");
            crate::platform::exit(126)
        }
        Err(loader::LoadError::NoMemory) => {
            kprintln!("rumprun: out of memory loading bin/{file_name}; give the VM more memory (rumprun -M)");
            crate::platform::exit(137)
        }
    };
    let argv0 = argv
        .first()
        .cloned()
        .unwrap_or_else(|| String::from(file_name));
    let exe_path = alloc::format!("/bin/{file_name}");
    PROGRAM.call_once(|| Program {
        name: argv0,
        image,
        base: loaded.base,
        argv: argv.clone(),
        exe_path,
    });
    let argv_refs: Vec<&str> = argv.iter().map(String::as_str).collect();
    let env_refs: Vec<&str> = env.iter().map(String::as_str).collect();
    let mut random = [0u8; 16];
    crate::random::fill(&mut random);
    let Ok(sp) = loader::stack::build(&loaded, &argv_refs, &env_refs, random) else {
        kprintln!("rumprun: out of memory building the initial stack; give the VM more memory (rumprun -M)");
        crate::platform::exit(137)
    };
    kprint!("\n=== calling \"{}\" main() ===\n\n", name());
    extern "C" {
        fn enter_program(entry: u64, sp: u64) -> !;
    }
    unsafe { enter_program(loaded.entry, sp) }
}

/// exit_group: the program is done.
pub fn exit(status: i32) -> ! {
    let status = status & 0xff;
    crate::mm::address_space::sync_all();
    crate::fd::close_all();
    let _ = crate::fs::mounts::sync_all();
    crate::net::drain();
    kprint!("\n=== main() of \"{}\" returned {} ===\n", name(), status);
    crate::platform::exit(status)
}
