//! The runtime config on the kernel command line: a malformed or unsupported config
//! stops the boot with one line and exit status 1; the original's lax JSON form is
//! accepted.
//!
//! The config is replaced by pointing the launcher at a QEMU wrapper
//! (`RUMPRUN_QEMU`) that swaps the value of `-append` for the test's text and runs
//! the real QEMU; the launcher then reads the exit status as always.

use rumprun_system_tests::*;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A QEMU wrapper that replaces the `-append` argument with `$RR_TEST_APPEND`.
fn append_swapping_qemu() -> PathBuf {
    let dir = scratch_dir("qemu-wrapper");
    let w = dir.join("qemu-swap-append");
    fs::write(
        &w,
        r#"#!/bin/bash
set -euo pipefail
args=()
swap=no
for a in "$@"; do
	if [ "$swap" = yes ]; then
		args+=("$RR_TEST_APPEND")
		swap=no
		continue
	fi
	[ "$a" != -append ] || swap=yes
	args+=("$a")
done
exec qemu-system-x86_64 "${args[@]}"
"#,
    )
    .unwrap();
    fs::set_permissions(&w, fs::Permissions::from_mode(0o755)).unwrap();
    w
}

fn boot_with_config(image: &Path, config: &str) -> Run {
    let mut cmd = Command::new(tool("rumprun"));
    cmd.env("RUMPRUN_QEMU", append_swapping_qemu())
        .env("RR_TEST_APPEND", config)
        .args(["qemu", "-i"])
        .arg(image);
    run_with_timeout(&mut cmd, BOOT_TIMEOUT)
}

/// Exit status 1, a `rumprun:` line about the config that contains `mentions`, and
/// the program never started.
fn assert_config_rejected(run: &Run, mentions: &str) {
    run.assert_status(1).assert_output_lacks("=== calling");
    let lines: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("rumprun:") && l.to_lowercase().contains("config"))
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "one `rumprun: ...config...` line:\n{}",
        run.dump()
    );
    assert!(
        lines[0].contains(mentions),
        "the config error mentions {mentions:?}:\n{}",
        run.dump()
    );
}

#[test]
fn malformed_json_stops_the_boot() {
    let image = bake(&build_c("hello.c", Flavor::Musl));
    let run = boot_with_config(&image, r#"{"cmdline": "x",,,"#);
    assert_config_rejected(&run, "JSON");
}

#[test]
fn bad_rc_runmode_stops_the_boot() {
    let image = bake(&build_c("hello.c", Flavor::Musl));
    let run = boot_with_config(
        &image,
        r#"{"rc": [{"bin": "hello", "argv": [], "runmode": "bg"}]}"#,
    );
    assert_config_rejected(&run, "\"rc\": entry 1: runmode \"bg\" is not");
}

#[test]
fn rc_list_in_hand_written_json_runs_its_programs() {
    let image = bake(&build_c("args.c", Flavor::Glibc));
    // The foreground entry sleeps: the guest ends when it exits, stopping background
    // programs, and nothing else makes the background one print first (it did not,
    // twice in loaded full runs of session 13).
    let run = boot_with_config(
        &image,
        r#"{"rc": [{"bin": "args-glibc", "argv": ["x y"], "runmode": "&"}, {"bin": "/bin/args-glibc", "argv": ["z", "-sleep", "2"]}]}"#,
    );
    run.assert_status(0)
        .assert_stdout_line("argv[1]=[x y]")
        .assert_stdout_line("argv[0]=[/bin/args-glibc]")
        .assert_stdout_line("argv[1]=[z]");
}

#[test]
fn lax_json_with_repeated_keys_is_accepted() {
    let image = bake(&build_c("args.c", Flavor::Glibc));
    let run = boot_with_config(
        &image,
        r#"garbage before the brace {,"hostname": "lax",, "cmdline": "args 'a b' \"c d\" -env X -env Y", "env": "X=1", "env": "Y=two words",}"#,
    );
    run.assert_status(0)
        .assert_stdout_line("argc=7")
        // argv[0] is the program's path in the guest, whatever the first word was.
        .assert_stdout_line("argv[0]=[/bin/args-glibc]")
        .assert_stdout_line("argv[1]=[a b]")
        .assert_stdout_line("argv[2]=[c d]")
        .assert_stdout_line("env[X]=[1]")
        .assert_stdout_line("env[Y]=[two words]");
}

#[test]
fn no_config_runs_the_program_by_its_name() {
    // No `{` on the kernel command line: argv is just the program's path.
    let prog = build_c("args.c", Flavor::Musl);
    let image = bake(&prog);
    let run = boot_with_config(&image, "");
    let name = prog.file_name().unwrap().to_str().unwrap();
    run.assert_status(0)
        .assert_stdout_line("argc=1")
        .assert_stdout_line(&format!("argv[0]=[/bin/{name}]"));
}

#[test]
fn launcher_dump_shows_the_command() {
    // `rumprun -D qemu ...` prints the QEMU command instead of running it; its
    // words must carry the image and the argv config, quoting intact.
    let image = bake(&build_c("hello.c", Flavor::Musl));
    let run = run_with_timeout(
        Command::new(tool("rumprun"))
            .args(["-D", "qemu", "-i", "-e", "A=b c", "-N", "box"])
            .arg(&image)
            .args(["--", "two words", "it's"]),
        std::time::Duration::from_secs(30),
    );
    run.assert_status(0);
    let line = run
        .stdout
        .lines()
        .find(|l| l.contains("qemu-system-x86_64"))
        .unwrap_or_else(|| panic!("no QEMU command:\n{}", run.dump()));
    let words = shell_words(line);
    let at = |flag: &str| {
        words
            .iter()
            .position(|w| w == flag)
            .and_then(|i| words.get(i + 1))
            .unwrap_or_else(|| panic!("no {flag} in {words:?}"))
            .clone()
    };
    assert_eq!(Path::new(&at("-kernel")), image.as_path());
    let config = rumprun_config::Config::parse(&at("-append"))
        .expect("the launcher's config parses")
        .expect("the launcher passes a config");
    let argv = config.argv.expect("cmdline");
    assert_eq!(argv[1..], ["two words", "it's"], "argv: {argv:?}");
    assert_eq!(config.env, ["A=b c"]);
    assert_eq!(config.hostname.as_deref(), Some("box"));
}

#[test]
fn malformed_net_block_stops_the_boot() {
    let image = bake(&build_c("hello.c", Flavor::Musl));
    let run = boot_with_config(
        &image,
        r#"{"cmdline": "hello", "net": {"if": "vioif0", "type": "inet", "method": "auto"}}"#,
    );
    assert_config_rejected(&run, "does not go with type inet");
}
