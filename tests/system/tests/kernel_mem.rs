//! The kernel's memcpy, memmove_down and memset (kernel/src/arch/x86_64/mem.S) are
//! hand-written assembly that every copy in the kernel goes through: this assembles
//! the same file on the host (symbols renamed rr_*) with tests/host/mem_functions.c,
//! which checks every length, misalignment and overlap against a byte-wise reference.

use rumprun_system_tests::{check_output, repo_root, scratch_dir};
use std::process::Command;

#[test]
fn kernel_memcpy_memmove_memset_match_a_bytewise_reference() {
    let root = repo_root();
    let dir = scratch_dir("kernel_mem");
    let (obj, exe) = (dir.join("mem.o"), dir.join("mem_functions"));
    // Only the assembly is renamed: the C reference keeps using libc's functions.
    check_output(
        Command::new("gcc")
            .args(["-c", "-Dmemcpy=rr_memcpy", "-Dmemset=rr_memset"])
            .args(["-Dmemmove_down=rr_memmove_down", "-o"])
            .arg(&obj)
            .arg(root.join("kernel/src/arch/x86_64/mem.S")),
        "assembling the kernel's mem.S for the host",
    );
    check_output(
        Command::new("gcc")
            .args(["-O1", "-Wall", "-Werror", "-o"])
            .arg(&exe)
            .arg(root.join("tests/host/mem_functions.c"))
            .arg(&obj),
        "building tests/host/mem_functions.c",
    );
    let out = check_output(&mut Command::new(&exe), "tests/host/mem_functions");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.trim(), "ALL OK", "{stdout}");
}
