//! Hello world in every supported flavour, built with the wrappers, baked with
//! `rumprun-bake hw_virtio` and run with `rumprun qemu -i`.

use rumprun_system_tests::*;

fn hello(flavor: Flavor) {
    let run = boot_c("hello.c", flavor, &[], &[]);
    run.assert_status(0)
        .assert_stdout_line("Hello, world!")
        .assert_main_markers("Hello, world!", 0);
}

#[test]
fn hello_glibc_static() {
    let prog = build_c("hello.c", Flavor::Glibc);
    assert_eq!(
        elf_kind(&prog),
        (2, false),
        "wrapper must build a static ET_EXEC"
    );
    hello(Flavor::Glibc);
}

#[test]
fn hello_glibc_static_pie() {
    let prog = build_c("hello.c", Flavor::GlibcStaticPie);
    assert_eq!(
        elf_kind(&prog),
        (3, false),
        "-static-pie must give a static ET_DYN"
    );
    hello(Flavor::GlibcStaticPie);
}

#[test]
fn hello_musl_static() {
    let prog = build_c("hello.c", Flavor::Musl);
    assert_eq!(
        elf_kind(&prog),
        (2, false),
        "musl wrapper must build a static ET_EXEC"
    );
    hello(Flavor::Musl);
}

#[test]
fn hello_cxx_iostream() {
    let run = boot_c("hellopp.cc", Flavor::Cxx, &[], &[]);
    run.assert_status(0)
        .assert_stdout_line("hello, c++")
        .assert_stdout_line("vector: 1 4 9 16 25")
        .assert_order("static ctor ran", "hello, c++")
        .assert_order("hello, c++", "static dtor ran")
        .assert_main_markers("hello, c++", 0);
}

#[test]
fn hello_rust_std() {
    let prog = build_rust("rust-hello");
    let (_, interp) = elf_kind(&prog);
    assert!(!interp, "the cargo wrapper must build a static program");
    let image = bake(&prog);
    let run = rumprun_qemu(&image, &["-e", "WORLD=rust"], &["two words", "--exit", "7"]);
    run.assert_status(7)
        .assert_stdout_line("rust: argc=4")
        .assert_stdout_line("rust: argv[1]=[two words]")
        .assert_stdout_line("rust: argv[2]=[--exit]")
        .assert_stdout_line("rust: argv[3]=[7]")
        .assert_stdout_line("rust: Hello, rust!")
        .assert_stdout_line("rust: squares=[1, 4, 9, 16, 25, 36, 49, 64, 81, 100] sum=385")
        .assert_stdout_line("rust: counts[the]=3 words=9")
        .assert_stdout_line("rust: float 6.283")
        .assert_stdout_line("rust: exiting with 7");
}
