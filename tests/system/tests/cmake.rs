//! A CMake project built with the installed toolchain file, baked and booted.
//! Needs cmake (Debian package `cmake`, in debian-packages): without it the test fails
//! saying so.

use rumprun_system_tests::*;
use std::fs;
use std::process::Command;

#[test]
fn cmake_project_with_the_toolchain_file() {
    let mut version = Command::new("cmake");
    version.arg("--version");
    if let Err(e) = version.output() {
        panic!("{}", cannot_run(&version, &e));
    }
    let dir = scratch_dir("cmake");
    let src = dir.join("src");
    fs::create_dir_all(&src).unwrap();
    fs::copy(program_source("hello.c"), src.join("hello.c")).unwrap();
    fs::copy(program_source("hellopp.cc"), src.join("hellopp.cc")).unwrap();
    fs::write(
        src.join("CMakeLists.txt"),
        "cmake_minimum_required(VERSION 3.13)\n\
         project(rumprun_cmake_test C CXX)\n\
         add_executable(hello hello.c)\n\
         add_executable(hellopp hellopp.cc)\n",
    )
    .unwrap();
    let toolchain = destdir().join("share/rumprun/x86_64-rumprun-linux-toolchain.cmake");
    let build = dir.join("build");
    check_output(
        Command::new("cmake")
            .arg("-S")
            .arg(&src)
            .arg("-B")
            .arg(&build)
            .arg(format!("-DCMAKE_TOOLCHAIN_FILE={}", toolchain.display())),
        "cmake configure",
    );
    check_output(
        Command::new("cmake").arg("--build").arg(&build),
        "cmake build",
    );
    for prog in ["hello", "hellopp"] {
        assert_eq!(
            elf_kind(&build.join(prog)),
            (2, false),
            "{prog}: CMake with the toolchain file must link statically"
        );
    }
    let run = rumprun_qemu(&bake(&build.join("hellopp")), &[], &[]);
    run.assert_status(0).assert_stdout_line("hello, c++");
}
