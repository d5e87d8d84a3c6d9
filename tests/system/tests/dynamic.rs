//! Dynamically linked programs, built by the ordinary toolchains (gcc, musl-gcc, g++)
//! without -static: rumprun-bake adds the ELF interpreter and the libraries from the
//! host, and the kernel starts the interpreter, which loads them. tests/programs/
//! dyn_test.c also dlopen()s a library at run time (baked with `rumprun-bake -l`).

use rumprun_system_tests::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Builds `src` (in tests/programs) with `compiler` and the given flags, dynamically.
fn build_dynamic(compiler: &str, src: &str, out_name: &str, flags: &[&str]) -> PathBuf {
    let out = scratch_dir("dynamic").join(out_name);
    check_output(
        Command::new(compiler)
            .args(["-O2", "-g", "-Wall", "-Werror"])
            .arg("-o")
            .arg(&out)
            .arg(program_source(src))
            .args(flags),
        &format!("building {src} dynamically with {compiler}"),
    );
    assert!(elf_kind(&out).1, "{compiler} should link {src} dynamically");
    out
}

fn boot(prog: &Path, bake_args: &[&str], args: &[&str]) -> Run {
    let name = prog.file_name().unwrap().to_str().unwrap();
    let bake_args: Vec<&std::ffi::OsStr> = bake_args.iter().map(|a| a.as_ref()).collect();
    rumprun_qemu(&bake_with(prog, name, &bake_args), &[], args)
}

#[test]
fn glibc_dynamic_program_runs_with_args_and_status() {
    let prog = build_dynamic("gcc", "dyn_test.c", "dyn-glibc", &["-ldl"]);
    // libm is not in DT_NEEDED: `-l` adds it for the dlopen.
    boot(&prog, &["-l", "libm.so.6"], &["exit", "7", "two words"])
        .assert_status(7)
        .assert_output_lacks("FAIL")
        .assert_stdout_line("argv[3] = two words")
        .assert_stdout_line("ok: cos(0) through dlopen(libm) = 1")
        .assert_stdout_line("ok: AT_BASE is the interpreter's load address");
}

#[test]
fn musl_dynamic_program_runs() {
    let prog = build_dynamic("musl-gcc", "dyn_test.c", "dyn-musl", &[]);
    boot(&prog, &[], &["exit", "0"])
        .assert_status(0)
        .assert_output_lacks("FAIL")
        .assert_stdout_line("ok: AT_BASE is the interpreter's load address");
}

#[test]
fn cxx_dynamic_program_runs_static_constructors_and_destructors() {
    let prog = build_dynamic("g++", "hellopp.cc", "dyn-hellopp", &[]);
    boot(&prog, &[], &[])
        .assert_status(0)
        .assert_stdout_line("static ctor ran")
        .assert_stdout_line("hello, c++")
        .assert_stdout_line("static dtor ran");
}
