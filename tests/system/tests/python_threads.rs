//! Debian's CPython with threads (issue 20): a thread woken by `Event.set` or a pipe
//! write while the main thread spins in Python must run within a few time slices (the
//! GIL hand-off needs the woken thread scheduled while its waker never blocks).
//! The image holds the host's /usr/bin/python3.11 (dynamic: bake adds its loader and
//! libraries) and only the stdlib modules the script imports, found by asking the
//! host's python3.11 which files it loaded for the same imports.

use rumprun_system_tests::*;
use std::fs;
use std::path::Path;
use std::process::Command;

const PYTHON: &str = "/usr/bin/python3.11";

/// A root tree with the script as /thread_wake.py and the stdlib modules it needs.
fn python_root() -> std::path::PathBuf {
    assert!(
        Path::new(PYTHON).is_file(),
        "{PYTHON} not found: install the Debian package python3.11"
    );
    let root = scratch_dir("python-root");
    let out = check_output(
        Command::new(PYTHON).args([
            "-I",
            "-S",
            "-B",
            "-c",
            "import os, sys, threading, time\n\
             for m in list(sys.modules.values()):\n    \
                 f = getattr(m, '__file__', None)\n    \
                 if f: print(f)",
        ]),
        "listing the stdlib modules the script needs",
    );
    let files = String::from_utf8(out.stdout).expect("module paths are UTF-8");
    let mut n = 0;
    for f in files.lines() {
        let src = Path::new(f);
        assert!(src.is_absolute() && src.is_file(), "odd module path {f:?}");
        let dest = root.join(f.trim_start_matches('/'));
        fs::create_dir_all(dest.parent().unwrap()).unwrap();
        fs::copy(src, &dest).unwrap_or_else(|e| panic!("copy {f}: {e}"));
        n += 1;
    }
    assert!(n > 5, "python3.11 listed only {n} module files:\n{files}");
    fs::copy(
        program_source("python/thread_wake.py"),
        root.join("thread_wake.py"),
    )
    .unwrap();
    root
}

#[test]
fn python_woken_thread_runs_while_main_thread_spins() {
    let root = python_root();
    let image = bake_with(
        Path::new(PYTHON),
        "python-threads",
        &["-r".as_ref(), root.as_os_str()],
    );
    let run = rumprun_qemu(&image, &[], &["-I", "-S", "-B", "/thread_wake.py"]);
    run.assert_status(0)
        .assert_output_lacks("FAIL")
        .assert_stdout_line("ALL OK");
    for what in ["Event.set", "a pipe write"] {
        let prefix = format!("ok: a thread woken by {what} runs while the main thread spins");
        assert!(
            run.stdout.lines().any(|l| l.starts_with(&prefix)),
            "missing {prefix:?}\n{}",
            run.dump()
        );
    }
}
