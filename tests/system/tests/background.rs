//! Without `-i` the guest runs in the background: `rumprun` prints `qemu:<pid>` and
//! `rumpstop qemu:<pid>` stops it. With `-i`, QEMU ends with the launcher, even one
//! killed with SIGKILL.

use rumprun_system_tests::*;
use std::path::Path;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

/// Whether the process is alive (a zombie counts as gone).
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat.rsplit(')').next().unwrap_or("").trim_start();
            !state.starts_with('Z')
        }
        Err(_) => false,
    }
}

#[test]
fn background_guest_is_stopped_by_rumpstop() {
    let image = bake(&build_c("args.c", Flavor::Musl));
    let run = run_with_timeout(
        Command::new(tool("rumprun"))
            .arg("qemu")
            .arg(&image)
            .args(["--", "-sleep", "120"]),
        BOOT_TIMEOUT,
    );
    run.assert_status(0);
    let cookie = run
        .stdout
        .lines()
        .find(|l| l.starts_with("qemu:"))
        .unwrap_or_else(|| panic!("no qemu:<pid> line:\n{}", run.dump()))
        .to_string();
    let pid: u32 = cookie["qemu:".len()..]
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("bad cookie {cookie:?}"));
    // Make sure QEMU never outlives the test, whatever happens below.
    struct Reaper(u32);
    impl Drop for Reaper {
        fn drop(&mut self) {
            let _ = Command::new("kill")
                .args(["-KILL", &self.0.to_string()])
                .status();
        }
    }
    let _reaper = Reaper(pid);
    assert!(
        Path::new(&format!("/proc/{pid}")).exists() && alive(pid),
        "QEMU {pid} is not running after `rumprun qemu` returned:\n{}",
        run.dump()
    );

    let stop = run_with_timeout(
        Command::new(tool("rumpstop")).arg(&cookie),
        Duration::from_secs(30),
    );
    stop.assert_status(0);
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive(pid) && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    assert!(
        !alive(pid),
        "QEMU {pid} still runs after rumpstop:\n{}",
        stop.dump()
    );
}

#[test]
fn harness_timeout_kills_a_hung_guest() {
    // The harness itself: a guest that outlives the timeout is killed, QEMU too,
    // so that a hung boot fails its test instead of hanging the suite.
    let dir = scratch_dir("hung");
    let image = dir.join("hung.bin");
    std::fs::copy(bake(&build_c("args.c", Flavor::Musl)), &image).unwrap();
    let run = run_with_timeout(
        Command::new(tool("rumprun"))
            .args(["qemu", "-i"])
            .arg(&image)
            .args(["--", "-sleep", "120"]),
        Duration::from_secs(3),
    );
    assert!(run.timed_out, "expected a timeout:\n{}", run.dump());
    assert!(run.elapsed < Duration::from_secs(20), "{:?}", run.elapsed);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = running_with(image.to_str().unwrap().as_bytes());
        if left.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "QEMU left running: {left:?}");
        thread::sleep(Duration::from_millis(50));
    }
}

/// The QEMU processes running `image` (found by the image path in their command line,
/// which the launcher's has too: QEMU's has `-kernel` before it).
fn qemus_running(image: &Path) -> Vec<u32> {
    running_with(&[b"-kernel\0", image.to_str().unwrap().as_bytes()].concat())
}

/// The live processes whose command line contains `needle`.
fn running_with(needle: &[u8]) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| c.windows(needle.len()).any(|w| w == needle))
                .unwrap_or(false)
                && alive(*pid)
        })
        .collect()
}

#[test]
fn sigkilled_launcher_takes_its_qemu_with_it() {
    // `rumprun qemu -i` killed with SIGKILL (as a harness does on a timeout, killing
    // only the launcher): its QEMU must not keep running.
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let dir = scratch_dir("orphan");
    let image = dir.join("orphan.bin");
    std::fs::copy(bake(&build_c("args.c", Flavor::Musl)), &image).unwrap();
    let mut launcher = Command::new(tool("rumprun"))
        .args(["qemu", "-i"])
        .arg(&image)
        .args(["--", "-sleep", "120"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(launcher.stdout.take().unwrap()).lines();
    let started = Instant::now();
    let mut seen = String::new();
    loop {
        match lines.next() {
            Some(Ok(l)) if l.contains("sleeping") => break,
            Some(Ok(l)) => seen.push_str(&(l + "\n")),
            _ => {
                let _ = launcher.kill();
                panic!("guest ended before sleeping:\n{seen}");
            }
        }
        assert!(started.elapsed() < BOOT_TIMEOUT, "no boot:\n{seen}");
    }
    let before = qemus_running(&image);
    assert_eq!(
        before.len(),
        1,
        "expected one QEMU for {image:?}: {before:?}"
    );
    launcher.kill().unwrap(); // SIGKILL, only the launcher
    launcher.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = qemus_running(&image);
        if left.is_empty() {
            break;
        }
        if Instant::now() >= deadline {
            for pid in &left {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
            panic!("QEMU {left:?} still runs 10 s after its launcher was killed");
        }
        thread::sleep(Duration::from_millis(50));
    }
}
