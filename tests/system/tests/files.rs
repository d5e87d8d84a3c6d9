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

/// Baked files with the same contents are stored once (a hard-link group in the
/// payload: the image holds the 64 KiB once) and are still separate files in the
/// guest: each reads back right, and writing, truncating or a MAP_SHARED change of
/// one leaves the others as they were.
#[test]
fn same_contents_stored_once_files_stay_separate() {
    let root = scratch_dir("same-files").join("root");
    std::fs::create_dir_all(root.join("data")).unwrap();
    let data: Vec<u8> = (0..65536u32).map(|i| (i * 7 + i / 4096) as u8).collect();
    for name in ["a", "b", "c"] {
        std::fs::write(root.join("data").join(name), &data).unwrap();
    }
    let mut other = data.clone();
    *other.last_mut().unwrap() ^= 0xff;
    std::fs::write(root.join("data/d"), &other).unwrap();
    for flavor in [Flavor::Glibc, Flavor::Musl] {
        let prog = build_c("same_files.c", flavor);
        let image = bake_with(&prog, "same-files", &["-r".as_ref(), root.as_os_str()]);
        let plain = bake_with(&prog, "same-files-none", &[]);
        let (with, without) = (
            std::fs::metadata(&image).unwrap().len(),
            std::fs::metadata(&plain).unwrap().len(),
        );
        // a, b and c once, d once: two copies of 64 KiB and some padding, not four.
        assert!(
            with - without < 2 * 65536 + 3 * 4096,
            "the image grew by {} bytes for the files",
            with - without
        );
        rumprun_qemu(&image, &["-M", "64"], &[])
            .assert_status(0)
            .assert_output_lacks("FAIL ")
            .assert_stdout_line("ALL OK");
    }
}
