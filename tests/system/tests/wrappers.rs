//! The compiler and cargo wrappers, without booting anything.

use rumprun_system_tests::*;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

#[test]
fn wrappers_print_the_tuple() {
    for w in [
        "x86_64-rumprun-linux-gcc",
        "x86_64-rumprun-linux-g++",
        "x86_64-rumprun-linux-musl-gcc",
    ] {
        let out = check_output(Command::new(tool(w)).arg("-dumpmachine"), w);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "x86_64-rumprun-linux\n"
        );
    }
}

#[test]
fn shared_is_refused() {
    let dir = scratch_dir("shared");
    let out = Command::new(tool("x86_64-rumprun-linux-gcc"))
        .args(["-shared", "-fPIC", "-o"])
        .arg(dir.join("x.so"))
        .arg(program_source("hello.c"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("-shared is not supported"), "{err}");
    assert!(!dir.join("x.so").exists());
}

#[test]
fn separate_compile_and_link_is_static() {
    let dir = scratch_dir("two-step");
    let obj = dir.join("hello.o");
    let prog = dir.join("hello");
    let gcc = tool("x86_64-rumprun-linux-gcc");
    check_output(
        Command::new(&gcc)
            .arg("-c")
            .arg("-o")
            .arg(&obj)
            .arg(program_source("hello.c")),
        "compile",
    );
    check_output(Command::new(&gcc).arg("-o").arg(&prog).arg(&obj), "link");
    assert_eq!(elf_kind(&prog), (2, false));
}

#[test]
fn cargo_wrapper_adds_target_and_crt_static() {
    // Run the wrapper with a fake cargo that prints what it was given.
    let dir = scratch_dir("cargo-wrapper");
    let fake = dir.join("fake-cargo");
    fs::write(
        &fake,
        "#!/bin/sh\necho \"RUSTFLAGS=$RUSTFLAGS\"\nfor a in \"$@\"; do echo \"[$a]\"; done\n",
    )
    .unwrap();
    fs::set_permissions(&fake, fs::Permissions::from_mode(0o755)).unwrap();
    let run = |args: &[&str], rustflags: Option<&str>| {
        let mut c = Command::new(tool("x86_64-rumprun-linux-cargo"));
        c.env("RUMPRUN_BACKING_CARGO", &fake).args(args);
        match rustflags {
            Some(f) => c.env("RUSTFLAGS", f),
            None => c.env_remove("RUSTFLAGS"),
        };
        String::from_utf8(check_output(&mut c, "cargo wrapper").stdout).unwrap()
    };

    let out = run(&["run", "--release", "--", "--x"], Some("-C opt-level=2"));
    assert_eq!(
        out,
        "RUSTFLAGS=-C opt-level=2 -C target-feature=+crt-static\n\
         [run]\n[--target]\n[x86_64-unknown-linux-gnu]\n[--release]\n[--]\n[--x]\n"
    );
    // An explicit --target is kept; non-building subcommands pass through untouched.
    let out = run(&["build", "--target=x86_64-unknown-linux-musl"], None);
    assert_eq!(
        out,
        "RUSTFLAGS=-C target-feature=+crt-static\n[build]\n[--target=x86_64-unknown-linux-musl]\n"
    );
    let out = run(&["metadata", "--format-version", "1"], None);
    assert_eq!(out, "RUSTFLAGS=\n[metadata]\n[--format-version]\n[1]\n");
}

#[test]
fn cmake_toolchain_file_is_installed() {
    let f = destdir().join("share/rumprun/x86_64-rumprun-linux-toolchain.cmake");
    let text = fs::read_to_string(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
    assert!(text.contains("x86_64-rumprun-linux-gcc"));
    assert!(text.contains("x86_64-rumprun-linux-g++"));
}
