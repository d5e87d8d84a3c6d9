//! Bad inputs to `rumprun-bake`: each gives one `rumprun-bake: error:` line, exit
//! status 1 and no output file.

use rumprun_system_tests::*;
use std::fs;
use std::path::Path;
use std::process::Command;

/// Runs `rumprun-bake <config> <out> <input>` and checks the failure.
fn bake_fails(config: &str, input: &Path, mentions: &str) {
    let dir = scratch_dir("bake-error");
    let out = dir.join("out.bin");
    let run = run_with_timeout(
        Command::new(tool("rumprun-bake"))
            .arg(config)
            .arg(&out)
            .arg(input),
        std::time::Duration::from_secs(30),
    );
    assert_eq!(
        run.status,
        Some(1),
        "exit status 1 expected:\n{}",
        run.dump()
    );
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "exactly one line on stderr:\n{}",
        run.dump()
    );
    assert!(
        lines[0].starts_with("rumprun-bake: error:"),
        "the line starts with `rumprun-bake: error:`:\n{}",
        run.dump()
    );
    assert!(
        lines[0].to_lowercase().contains(&mentions.to_lowercase()),
        "the error mentions {mentions:?}:\n{}",
        run.dump()
    );
    assert!(!out.exists(), "no output file on error:\n{}", run.dump());
}

#[test]
fn missing_input_file() {
    let dir = scratch_dir("missing");
    let missing = dir.join("no-such-program");
    bake_fails("hw_virtio", &missing, "no-such-program");
}

#[test]
fn non_elf_input() {
    let dir = scratch_dir("non-elf");
    let f = dir.join("script.sh");
    fs::write(&f, "#!/bin/sh\necho not an ELF file\n").unwrap();
    bake_fails("hw_virtio", &f, "ELF");
}

#[test]
fn dynamic_program_with_a_missing_library() {
    // A dynamically linked program is baked with its libraries from the host; one that
    // rumprun-bake cannot find is a clear error naming it.
    let dir = scratch_dir("missing-lib");
    fs::write(dir.join("greet.c"), "void greet(void) {}\n").unwrap();
    fs::write(
        dir.join("main.c"),
        "void greet(void);\nint main(void) { greet(); return 0; }\n",
    )
    .unwrap();
    check_output(
        Command::new("gcc").current_dir(&dir).args([
            "-shared",
            "-fPIC",
            "-o",
            "librrgreet.so",
            "greet.c",
        ]),
        "building librrgreet.so",
    );
    check_output(
        Command::new("gcc").current_dir(&dir).args([
            "-o",
            "needs-greet",
            "main.c",
            "-L.",
            "-lrrgreet",
        ]),
        "linking a program against librrgreet.so",
    );
    let prog = dir.join("needs-greet");
    assert!(elf_kind(&prog).1, "plain gcc should link dynamically");
    bake_fails(
        "hw_virtio",
        &prog,
        "needs librrgreet.so (needed by needs-greet), not found in: /lib/x86_64-linux-gnu",
    );
}

#[test]
fn shared_library_input() {
    // A shared library is not a program, even though it is an ELF file of type ET_DYN.
    let dir = scratch_dir("shared-lib");
    fs::write(dir.join("lib.c"), "int f(void) { return 1; }\n").unwrap();
    check_output(
        Command::new("gcc")
            .current_dir(&dir)
            .args(["-shared", "-fPIC", "-o", "libf.so", "lib.c"]),
        "building libf.so",
    );
    bake_fails("hw_virtio", &dir.join("libf.so"), "shared library");
}

#[test]
fn non_x86_64_elf_input() {
    let dir = scratch_dir("foreign");
    let mut b = fs::read(build_c("hello.c", Flavor::Musl)).unwrap();
    b[18..20].copy_from_slice(&183u16.to_le_bytes()); // e_machine = EM_AARCH64
    let f = dir.join("hello-aarch64");
    fs::write(&f, b).unwrap();
    bake_fails("hw_virtio", &f, "x86");
}

#[test]
fn unknown_config() {
    let prog = build_c("hello.c", Flavor::Musl);
    bake_fails("hw_nosuchconfig", &prog, "hw_nosuchconfig");
}

#[test]
fn good_input_bakes_and_lists() {
    // The counterpart: the same tool accepts a good program, and `list` names the
    // configs the tests use.
    let list = check_output(
        Command::new(tool("rumprun-bake")).arg("list"),
        "rumprun-bake list",
    );
    let list = String::from_utf8_lossy(&list.stdout);
    assert!(list.contains("hw_virtio"), "list lacks hw_virtio:\n{list}");
    assert!(
        list.contains("hw_generic"),
        "list lacks hw_generic:\n{list}"
    );
    let img = bake(&build_c("hello.c", Flavor::Musl));
    assert!(fs::metadata(&img).unwrap().len() > 0);
}

#[test]
fn extra_library_for_a_static_program() {
    let prog = build_c("hello.c", Flavor::Musl);
    let dir = scratch_dir("extra-lib");
    let out = dir.join("out.bin");
    let run = run_with_timeout(
        Command::new(tool("rumprun-bake"))
            .args(["-l", "libm.so.6", "hw_virtio"])
            .arg(&out)
            .arg(&prog),
        std::time::Duration::from_secs(30),
    );
    assert_eq!(run.status, Some(1), "{}", run.dump());
    assert!(
        run.stderr
            .contains("-l libm.so.6: no dynamically linked program"),
        "{}",
        run.dump()
    );
    assert!(!out.exists());
}
