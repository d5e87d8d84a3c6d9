//! Baking dynamically linked programs with the installed `rumprun-bake`: the image's
//! payload holds the program's interpreter and shared libraries, copied from the host
//! to the paths the interpreter searches by default. (Booting them needs the kernel to
//! load `PT_INTERP`; those tests come with that change.)

use rumprun_image::cpio;
use rumprun_system_tests::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Links `tests/programs/hello.c` dynamically with `compiler` (`gcc`, `musl-gcc`).
fn dynamic_hello(compiler: &str, name: &str) -> PathBuf {
    let prog = scratch_dir(name).join(name);
    check_output(
        Command::new(compiler)
            .arg("-O2")
            .arg("-o")
            .arg(&prog)
            .arg(program_source("hello.c")),
        &format!("linking hello.c dynamically with {compiler}"),
    );
    assert!(elf_kind(&prog).1, "{compiler} should link dynamically");
    prog
}

/// The payload of the baked `image` (its last program header, added by the bake) as
/// (path, mode, contents), in archive order; the files in the file data region (the
/// `RRDATA01` page after it) with their data from there.
fn payload(image: &Path) -> Vec<(String, u32, Vec<u8>)> {
    let d = fs::read(image).unwrap();
    let u16_at = |o: usize| u16::from_le_bytes([d[o], d[o + 1]]) as usize;
    let u64_at = |o: usize| u64::from_le_bytes(d[o..o + 8].try_into().unwrap()) as usize;
    let last = u64_at(32) + (u16_at(56) - 1) * u16_at(54);
    let (offset, size) = (u64_at(last + 8), u64_at(last + 32));
    let region = ((offset + size).next_multiple_of(4096)..d.len())
        .step_by(4096)
        .find(|&o| d[o..].starts_with(b"RRDATA01"));
    let archive = match region {
        Some(o) => cpio::join_from_disk(&d[offset..offset + size], &d[o..]).unwrap(),
        None => d[offset..offset + size].to_vec(),
    };
    cpio::entries(&archive)
        .map(|e| {
            let e = e.expect("the payload is a cpio archive");
            (e.name.to_string(), e.mode, e.data.to_vec())
        })
        .collect()
}

/// Checks that the payload has the regular file `path` with the host file's bytes.
fn has_host_file(entries: &[(String, u32, Vec<u8>)], path: &str, host: &str) {
    let names: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
    let (_, mode, data) = entries
        .iter()
        .find(|e| e.0 == path)
        .unwrap_or_else(|| panic!("the image has no {path}: {names:?}"));
    assert_eq!(*mode, 0o100755, "{path}: a regular file, mode 0755");
    assert!(
        *data == fs::read(host).unwrap(),
        "{path} has the bytes of the host's {host}"
    );
}

#[test]
fn glibc_program_brings_its_loader_and_libc() {
    let prog = dynamic_hello("gcc", "hello-dynamic-glibc");
    let entries = payload(&bake(&prog));
    assert_eq!(entries[0].0, "bin/hello-dynamic-glibc");
    has_host_file(
        &entries,
        "lib64/ld-linux-x86-64.so.2",
        "/lib64/ld-linux-x86-64.so.2",
    );
    has_host_file(
        &entries,
        "lib/x86_64-linux-gnu/libc.so.6",
        "/lib/x86_64-linux-gnu/libc.so.6",
    );
    // hello needs libc.so.6 only, which needs the loader: nothing else is added.
    let names: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "bin/hello-dynamic-glibc",
            "lib64/ld-linux-x86-64.so.2",
            "lib/x86_64-linux-gnu/libc.so.6",
            "rumprun/kernel.syms",
        ]
    );
}

#[test]
fn musl_program_brings_only_its_loader() {
    // musl's loader is its libc.so: the program's DT_NEEDED libc.so is not added again.
    let prog = dynamic_hello("musl-gcc", "hello-dynamic-musl");
    let entries = payload(&bake(&prog));
    has_host_file(
        &entries,
        "lib/ld-musl-x86_64.so.1",
        "/lib/ld-musl-x86_64.so.1",
    );
    let names: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "bin/hello-dynamic-musl",
            "lib/ld-musl-x86_64.so.1",
            "rumprun/kernel.syms",
        ]
    );
}
