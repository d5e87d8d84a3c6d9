//! CI's subset of CPython's own regression tests (issue 20): Debian's python3.11 and
//! libpython3.11-testsuite, run by tests/conformance/cpython on the host and in the
//! unikernel, must not fall below the guest passes recorded in
//! tests/conformance/floor-ci, and no run may hang the guest or stop the kernel. The
//! full list of modules is a documented command (README, docs/conformance.md).

use rumprun_system_tests::*;
use std::process::Command;
use std::time::Duration;

#[test]
fn cpython_regression_tests_subset_stays_above_its_floor() {
    let root = repo_root();
    let floor = root.join("tests/conformance/floor-ci");
    let modules: Vec<String> = std::fs::read_to_string(&floor)
        .expect("tests/conformance/floor-ci")
        .lines()
        .filter_map(|l| {
            l.split('#')
                .next()?
                .split_whitespace()
                .next()
                .map(String::from)
        })
        .collect();
    assert!(!modules.is_empty(), "no modules in {}", floor.display());
    let work = work_dir().join("conformance-ci");
    let mut cmd = Command::new(root.join("tests/conformance/cpython"));
    cmd.arg("--modules")
        .arg(modules.join(","))
        .arg("--floor")
        .arg(&floor)
        .arg("--check")
        .args(["--timeout", "120", "--module-timeout", "200"])
        .arg("--work")
        .arg(&work)
        .env("RUMPRUN_DESTDIR", destdir());
    let run = run_with_timeout(&mut cmd, Duration::from_secs(1500));
    assert_eq!(
        run.status,
        Some(0),
        "the CPython subset regressed (logs in {}/logs):\n{}",
        work.display(),
        run.dump()
    );
    run.assert_output_contains("total: guest passes");
}
