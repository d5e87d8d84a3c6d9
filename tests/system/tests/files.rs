//! The file system tree: tmpfs root with the boot tree, /dev, /proc, and the
//! file syscalls with their errno values, as glibc and musl programs use them.

use rumprun_system_tests::*;

#[test]
fn file_syscalls_glibc() {
    boot_c("files_test.c", Flavor::Glibc, &[], &[])
        .assert_status(0)
        .assert_output_lacks("FAIL ")
        .assert_stdout_line("ALL OK");
}

#[test]
fn file_syscalls_musl() {
    boot_c("files_test.c", Flavor::Musl, &[], &[])
        .assert_status(0)
        .assert_output_lacks("FAIL ")
        .assert_stdout_line("ALL OK");
}

#[test]
fn file_mappings_glibc() {
    boot_c("mmap_file_test.c", Flavor::Glibc, &[], &[])
        .assert_status(0)
        .assert_output_lacks("FAIL ")
        .assert_stdout_line("ALL OK");
}

#[test]
fn file_mappings_musl() {
    boot_c("mmap_file_test.c", Flavor::Musl, &[], &[])
        .assert_status(0)
        .assert_output_lacks("FAIL ")
        .assert_stdout_line("ALL OK");
}

#[test]
fn vectored_positioned_copy_and_lock_calls() {
    boot_c("fileio_extra_test.c", Flavor::Glibc, &[], &[])
        .assert_status(0)
        .assert_output_lacks("FAIL ")
        .assert_stdout_line("ALL OK");
}
