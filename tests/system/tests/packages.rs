//! The Debian package list (`debian-packages`) and the script that checks and
//! installs from it (`tests/need-packages`): every package the tests name for a
//! missing program is in the list, and the script names exactly the missing
//! packages and the apt-get command that installs them.

use rumprun_system_tests::*;
use std::process::Command;

/// (group, package) pairs of debian-packages.
fn listed() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(repo_root().join("debian-packages")).unwrap();
    text.lines()
        .map(|l| l.split('#').next().unwrap())
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            Some((w.next()?.to_string(), w.next()?.to_string()))
        })
        .collect()
}

#[test]
fn every_package_the_tests_name_is_in_the_list() {
    let listed = listed();
    for (program, package) in HOST_PROGRAMS {
        assert!(
            listed
                .iter()
                .any(|(g, p)| p == package && (g == "build" || g == "test")),
            "{program} comes from {package}, which debian-packages does not list as build or test"
        );
    }
}

/// tests/need-packages with `args`, the packages in `missing` made to look missing.
fn need_packages(args: &[&str], missing: &str) -> Run {
    let mut cmd = Command::new(repo_root().join("tests/need-packages"));
    cmd.args(args).env("RUMPRUN_ASSUME_MISSING", missing);
    run_with_timeout(&mut cmd, BOOT_TIMEOUT)
}

#[test]
fn missing_packages_are_named_with_the_command_that_installs_them() {
    // This machine ran the tests, so it has every package: none is missing.
    need_packages(&["build", "test"], "").assert_status(0);
    let run = need_packages(&["test"], "cmake genisoimage");
    run.assert_status(1).assert_output_contains(
        "install them as root: apt-get update && \
         apt-get install -y -q --no-install-recommends cmake genisoimage",
    );
    // A package of another group is not asked for.
    need_packages(&["build"], "cmake").assert_status(0);
}

#[test]
fn install_runs_apt_get_for_the_missing_packages_only() {
    let run = need_packages(&["--install", "--dry-run", "all"], "gdb wrk");
    run.assert_status(0)
        .assert_stdout_line("would run: apt-get update -q")
        .assert_stdout_line("would run: apt-get install -y -q --no-install-recommends gdb wrk");
}

#[test]
fn an_unknown_group_is_an_error() {
    need_packages(&["tests"], "")
        .assert_status(2)
        .assert_output_contains("unknown argument 'tests'");
}
