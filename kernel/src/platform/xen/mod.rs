//! The Xen platform: a PVH guest (booted through the same PVH entry and
//! `hvm_start_info` as `hw`) that talks to Xen through hypercalls and its PV
//! protocols: the shared info page, the PV clock, event channels, xenstore, the PV
//! console, the grant table; its disks and network cards are `drivers::xen`'s
//! blkfront and netfront, which `probe_devices` starts. The runtime config
//! comes from xenstore (`rumprun/cfg` under our domain's home, written by
//! `rumprun xen`), else from the PVH command line; the program's exit status goes to
//! `rumprun/exit-status` before SCHEDOP_shutdown (poweroff for an exit, crash for a
//! fault or panic).

pub mod clock;
mod console;
pub mod evtchn;
pub mod grant;
mod hypercall;
mod shared_info;
pub mod xenstore;

use alloc::string::String;

/// The xenstore node (relative to our home) with the runtime config.
const CONFIG_NODE: &str = "rumprun/cfg";
/// The xenstore node the exit status goes to, as a decimal number.
const EXIT_STATUS_NODE: &str = "rumprun/exit-status";

/// True when CPUID says we run on Xen: installs the hypercall page; from then on
/// output goes to port 0xE9.
pub fn detect() -> bool {
    match hypercall::cpuid_base() {
        Some(base) => {
            hypercall::install_page(base);
            true
        }
        None => false,
    }
}

/// Sets up shared info, the grant table, event delivery, the PV console and
/// xenstore (needs the frame allocator). On failure output stays on port 0xE9.
pub fn init() -> Result<(), &'static str> {
    let info = crate::mm::frames::alloc_zeroed().ok_or("no memory for shared info")?;
    shared_info::map(info).map_err(|_| "Xen refused to map shared info")?;
    let table = crate::mm::frames::alloc_zeroed().ok_or("no memory for the grant table")?;
    grant::init(table)?;
    evtchn::init_upcall()?;
    console::init()?;
    xenstore::init()
}

/// Connects the PV devices xenstore lists (disks, network cards).
pub fn probe_devices(verbose: bool) {
    crate::drivers::xen::blkfront::probe(verbose);
    crate::drivers::xen::netfront::probe(verbose);
}

/// The TSC rate and the wall clock (ns since the epoch) now, from the PV clock.
pub fn clock() -> Option<(u64, u64)> {
    shared_info::is_mapped().then(|| (clock::tsc_hz(), clock::realtime_ns()))
}

/// The runtime config `rumprun xen` put in xenstore, if any.
pub fn config() -> Option<String> {
    match xenstore::read(CONFIG_NODE) {
        Ok(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
        Err(xenstore::Error::Xen(e)) if e == "ENOENT" => None,
        Err(e) => {
            kprintln!(
                "rumprun: cannot read the config from xenstore ({e}); using the command line"
            );
            None
        }
    }
}

pub fn console_write(bytes: &[u8]) {
    console::write(bytes)
}

pub fn console_try_read(buf: &mut [u8]) -> usize {
    console::try_read(buf)
}

pub fn console_has_input() -> bool {
    console::has_input()
}

/// Publishes the exit status in xenstore, lets the console drain and shuts the domain
/// down (crash when `crashed`).
pub fn exit(status: i32, crashed: bool) -> ! {
    // The console first: the launcher takes the status as the sign that the guest's
    // output is all out.
    console::flush();
    let mut line = [0u8; 16];
    let text = crate::util::format_decimal(&mut line, status as i64);
    if let Err(e) = xenstore::write(EXIT_STATUS_NODE, text) {
        kprintln!("rumprun: cannot write the exit status to xenstore: {e}");
        console::flush();
    }
    let reason = if crashed {
        hypercall::SHUTDOWN_CRASH
    } else {
        hypercall::SHUTDOWN_POWEROFF
    };
    let err = hypercall::shutdown(reason);
    kprintln!("rumprun: Xen refused to shut down (error {err}); halted");
    crate::arch::cpu::halt_forever()
}
