//! The rumprun kernel: boots (PVH or multiboot2), sets up the CPU and memory, reads the
//! runtime config from the command line and the program from the baked payload, and
//! runs that unmodified static Linux program in ring 0, answering its syscalls.
//!
//! Layout: `arch` (CPU), `platform` (the machine seam), `mm` (memory), `loader`,
//! `syscalls` (the Linux ABI), `signal` (signal state and delivery), `process` (the
//! program's life), `fault` (reports).

#![no_std]
#![no_main]

extern crate alloc;

#[macro_use]
mod console;
mod arch;
mod drivers;
mod errno;
mod fault;
mod fd;
mod fs;
mod ipc;
mod loader;
mod mm;
mod net;
mod payload;
mod platform;
mod process;
mod random;
mod rt;
mod sched;
mod selftest;
mod signal;
mod sync;
mod syscalls;
mod time;
mod util;

use alloc::string::String;
use alloc::vec::Vec;
use arch::paging::{phys_to_virt, KERNEL_VMA};

extern "C" {
    static _kernel_end: u8;
}

/// Exit status for a boot that cannot go on (bad config, no program).
const BOOT_FAILED: i32 = 1;

/// Connects the bottom layer to the ones above it, which it reaches only through these
/// hooks (docs/ARCHITECTURE.md "Layers"): the panic and trap reports, signals on the
/// way back to program code, the scheduler's timers and signal checks, the cards'
/// wake-ups. Runs first.
fn install_hooks() {
    rt::set_panic_hook(fault::kernel_panic);
    arch::trap::install(arch::trap::TrapHooks {
        to_handler: signal::deliver::fault,
        fatal: fault::fatal_trap,
        out_of_memory: fault::out_of_memory,
        return_to_program: |frame| signal::deliver::on_return(frame, None),
    });
    sched::hooks::install(sched::hooks::Hooks {
        should_interrupt: signal::state::should_interrupt,
        cpu_timers: signal::itimer::expire_cpu,
        deadlock: process::deadlock,
    });
    // Cards wake the I/O wait queue (drivers sit below fd and do not call it).
    drivers::netdev::set_frame_hook(fd::wait::notify_frame);
}

/// The values the command line's config gives the kernel's own environment knob
/// `name` (`NAME=value` entries the launcher passes with `-e`), in order.
fn env_values<'a>(
    config: Option<&'a rumprun_config::Config>,
    name: &'a str,
) -> impl Iterator<Item = &'a str> + 'a {
    config
        .into_iter()
        .flat_map(|c| c.env.iter())
        .filter_map(move |e| e.strip_prefix(name)?.strip_prefix('='))
}

/// The last valid value (a number of microseconds, 0 to `max`) of the knob `name`; a
/// bad one is ignored with one line, as the launcher's own knobs are.
fn env_u64(config: Option<&rumprun_config::Config>, name: &str, max: u64) -> Option<u64> {
    let mut found = None;
    for value in env_values(config, name) {
        match value.parse::<u64>() {
            Ok(us) if us <= max => found = Some(us),
            _ => kprintln!("rumprun: ignoring {name}={value} (want microseconds, 0 to {max})"),
        }
    }
    found
}

#[no_mangle]
extern "C" fn kernel_main(magic: u32, info: u32) -> ! {
    install_hooks();
    time::init();
    platform::init_early();
    mm::heap::init_early();
    arch::init();
    // The first program is the running one (its address space is the memory
    // manager's current one) before anything touches program memory.
    process::init();

    let boot = match platform::boot_info(magic, info as u64) {
        Ok(b) => b,
        Err(why) => {
            kprintln!("rumprun: cannot boot: {why}");
            platform::exit(BOOT_FAILED)
        }
    };
    if let Err(why) = init_memory(&boot) {
        kprintln!("rumprun: cannot boot: {why}");
        platform::exit(BOOT_FAILED)
    }
    if let Err(why) = platform::init() {
        kprintln!("rumprun: {} platform: {why}", platform::name());
        platform::exit(BOOT_FAILED)
    }

    let cmdline = platform::config().unwrap_or_else(|| {
        boot.cmdline.map_or_else(String::new, |(paddr, len)| {
            // SAFETY: the boot loader's command line: `paddr`/`len` come from the boot
            // information, inside the first 4 GiB, which the direct map covers; the
            // identity map is dropped only after the bytes are copied.
            let bytes = unsafe { core::slice::from_raw_parts(phys_to_virt(paddr), len) };
            String::from_utf8_lossy(bytes).into_owned()
        })
    });
    arch::paging::drop_identity_map();

    // A machine without PCI names its virtio-mmio devices on the command line too.
    let mmio = rumprun_config::take_virtio_mmio(&cmdline);
    for word in &mmio.malformed {
        kprintln!("rumprun: ignoring malformed {word} (want virtio_mmio.device=SIZE@BASE:IRQ)");
    }
    let cmdline_config = match rumprun_config::Config::parse(&mmio.rest) {
        Ok(c) => c,
        Err(e) => {
            kprintln!("rumprun: config error: {e}");
            platform::exit(BOOT_FAILED)
        }
    };
    let is_verbose = |c: &rumprun_config::Config| {
        c.env
            .iter()
            .any(|e| e == "RUMPRUN_VERBOSE=1" || e == "RUMPRUN_VERBOSE=2")
    };
    let early_verbose = cmdline_config.as_ref().is_some_and(is_verbose);
    // Thread 1 exists before drivers run: disk I/O during boot may block on interrupts.
    if sched::init_main_thread(process::current()).is_err() {
        kprintln!("rumprun: out of memory before the program started; give the VM more memory (rumprun -M)");
        platform::exit(BOOT_FAILED)
    }
    let knobs = cmdline_config.as_ref();
    // For comparisons: virtio-net without checksum offload.
    drivers::virtio::net::allow_offload(
        !env_values(knobs, "RUMPRUN_NET_OFFLOAD").any(|v| v == "0"),
    );
    // For tests: widen the window in which a received frame's interrupt is lost
    // (drivers::virtio::virtqueue::set_rearm_delay_us).
    if let Some(us) = env_u64(knobs, "RUMPRUN_NET_REARM_DELAY_US", 1_000_000) {
        drivers::virtio::virtqueue::set_rearm_delay_us(us);
    }
    if env_values(knobs, "RUMPRUN_NET_LAST_LOOK").any(|v| v == "0") {
        net::set_last_look(false);
    }
    // How long an idle CPU polls before it halts (sched::idle_poll).
    let idle_poll_us = env_u64(knobs, "RUMPRUN_IDLE_POLL_US", 100_000);
    let idle_poll_us = sched::idle_poll::configure(idle_poll_us);
    if early_verbose && idle_poll_us > 0 {
        kprintln!("rumprun: idle poll: up to {idle_poll_us} us before the CPU halts");
    }
    // The devices come before the rest of the config is used: without a config on
    // the command line, it is on a config drive.
    drivers::ramdisk::register(&boot.ram_disks, early_verbose);
    drivers::probe(&mmio.devices, early_verbose);
    platform::probe_devices(early_verbose);
    // The image's own disk (its file data region) is no disk of the program's.
    if let Err(why) = fs::baked::attach(early_verbose) {
        kprintln!("rumprun: {why}");
        platform::exit(BOOT_FAILED)
    }
    let (config, source) = match cmdline_config {
        Some(c) => (c, None),
        None => config_from_drive(),
    };

    let plan = match payload::archive()
        .map_err(String::from)
        .and_then(|a| process::rc::plan(&config, a))
    {
        Ok(p) => p,
        Err(why) => {
            kprintln!("rumprun: {why}");
            platform::exit(BOOT_FAILED)
        }
    };
    let hostname = config.hostname.as_deref().unwrap_or("rumprun");
    syscalls::set_hostname(hostname);
    if let Err(why) = payload::archive().and_then(|a| fs::init(hostname, a)) {
        kprintln!("rumprun: {why}");
        platform::exit(BOOT_FAILED)
    }
    let verbose = is_verbose(&config);
    if config.env.iter().any(|e| e == "RUMPRUN_VERBOSE=2") {
        syscalls::trace::enable();
    }
    if verbose {
        if let Some(source) = &source {
            kprintln!("rumprun: config from {source}");
        }
    }
    drivers::blockdev::create_nodes(fs::vfs());
    if source
        .as_deref()
        .is_some_and(|s| s.starts_with(net::metadata::URL_PREFIX))
    {
        // The metadata service's DHCP lease came before the file systems.
        net::write_resolv_conf();
    }
    if let Err(why) = net::configure(&config.net, verbose) {
        kprintln!("rumprun: {why}");
        platform::exit(BOOT_FAILED)
    }
    selftest::run(&config.env);
    if let Err(why) = fs::mounts::mount_all(&config.blk) {
        kprintln!("rumprun: {why}");
        platform::exit(BOOT_FAILED)
    }
    if verbose {
        let (free, total) = mm::frames::stats();
        let programs: Vec<String> = plan
            .iter()
            .map(|l| alloc::format!("bin/{} ({} bytes)", l.file_name, l.image.len()))
            .collect();
        kprintln!(
            "rumprun: booted via {} on {}, {} KiB of RAM ({} KiB free), {} {}, {:.1} ms since kernel entry",
            boot.loader,
            platform::name(),
            total * 4,
            free * 4,
            if programs.len() == 1 { "program" } else { "programs" },
            programs.join(", "),
            time::monotonic_ns() as f64 / 1e6
        );
    }
    start_cpus(&boot, verbose);
    fs::write_cpu_list(sched::cpus());
    process::rc::start(plan, config.env)
}

/// Starts the machine's other CPUs (the ones ACPI lists: QEMU's `-smp N`, xl's `vcpus`), which then
/// run threads too. From here on, kernel code runs under the big kernel lock.
fn start_cpus(boot: &platform::BootInfo, verbose: bool) {
    let ids = platform::cpu_apic_ids(boot);
    if ids.len() < 2 || !sched::prepare_smp() {
        return;
    }
    sync::bkl::activate();
    let started = arch::smp::start_aps(&ids, sched::run_ap, time::tsc_hz());
    if verbose {
        kprintln!(
            "rumprun: {} CPUs running ({} listed by ACPI)",
            started + 1,
            ids.len()
        );
    }
}

/// The config of a boot without one on its command line: from the first config drive
/// that has one (`fs::configdrive`), else from the cloud's metadata service
/// (`net::metadata`, with a card), else the default (every baked program, no
/// arguments). Returns it and where it came from; a config that cannot be read or
/// parsed stops the boot with one line.
fn config_from_drive() -> (rumprun_config::Config, Option<String>) {
    let mut skipped = Vec::new();
    let found = match fs::configdrive::find(&mut skipped) {
        Ok(Some(f)) => Some((f.source, f.text)),
        Ok(None) => match net::metadata::fetch(&mut skipped) {
            Ok(f) => f.map(|f| (f.source, f.text)),
            Err(why) => {
                kprintln!("rumprun: config error: {why}");
                platform::exit(BOOT_FAILED)
            }
        },
        Err(why) => {
            kprintln!("rumprun: config error: {why}");
            platform::exit(BOOT_FAILED)
        }
    };
    let Some((source, text)) = found else {
        return (rumprun_config::Config::default(), None);
    };
    let found = Found { source, text };
    match rumprun_config::Config::parse(&found.text) {
        Ok(Some(c)) => (c, Some(found.source)),
        Ok(None) => (rumprun_config::Config::default(), Some(found.source)),
        Err(e) => {
            kprintln!("rumprun: config error: {}: {e}", found.source);
            platform::exit(BOOT_FAILED)
        }
    }
}

/// Where a config came from and its text.
struct Found {
    source: String,
    text: String,
}

/// Hands the frame allocator every RAM range above 1 MiB except the kernel, the baked
/// payload and the boot loader's data, then maps RAM above 4 GiB into the direct map.
fn init_memory(boot: &platform::BootInfo) -> Result<(), &'static str> {
    const LOW_MEMORY: u64 = 1 << 20;
    let max = arch::paging::MAX_DIRECT_MAP_SIZE;
    if boot.memory.iter().any(|r| r.end > max) {
        kprintln!("rumprun: only the first {} GiB of RAM are used", max >> 30);
    }
    let usable: Vec<(u64, u64)> = boot
        .memory
        .iter()
        .map(|r| (r.start.max(LOW_MEMORY), r.end.min(max)))
        .filter(|r| r.0 < r.1)
        .collect();
    // SAFETY: only the address of the linker-defined symbol is taken, never its value.
    let kernel_end = unsafe { &_kernel_end as *const u8 as u64 } - KERNEL_VMA;
    let mut reserved = alloc::vec![(0, kernel_end)];
    reserved.extend(payload::physical_range());
    reserved.extend(boot.reserved.iter().map(|r| (r.start, r.end)));
    mm::frames::init(&usable, &reserved)?;
    arch::paging::extend_direct_map(mm::frames::end())
}
