//! Files from the host: `rumprun-cookfs` (x86_64-rumprun-linux-cookfs) on a real tree
//! (nested directories, a symlink, an empty directory, modes, mtimes, `-s`, `-p`) and its
//! errors; `rumprun-bake -m "add x.fs"` and `-r DIR`, with the baked payload read back
//! with `rumprun_image::cpio` entry by entry, and the conflict errors.

use rumprun_image::cpio::{self, CpioWriter, Owner, S_IFDIR, S_IFLNK, S_IFREG};
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, UNIX_EPOCH};

const KERNEL_C: &str = r#"
struct bakeinfo { char magic[8]; unsigned long long paddr, size; char config[32]; unsigned long long data_offset, data_size, data_id; };
__attribute__((section(".rumprun_bakeinfo"), used))
struct bakeinfo rumprun_bakeinfo = { {'R','R','B','A','K','E','0','1'}, 0, 0, {0} };
void _start(void) { for (;;) __asm__ volatile("hlt"); }
"#;

const HELLO_C: &str = "int main(void) { return 0; }\n";

const MTIME: u64 = 1_600_000_000;

fn gcc(dir: &Path, args: &[&str]) {
    let out = Command::new("gcc")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("gcc must be installed to run these tests");
    assert!(
        out.status.success(),
        "gcc {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn set_mode(p: &Path, mode: u32) {
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
}

fn set_mtime(p: &Path, secs: u64) {
    let f = fs::File::options().write(true).open(p).unwrap();
    f.set_modified(UNIX_EPOCH + Duration::from_secs(secs))
        .unwrap();
}

/// The fixtures (built once per process): `kernel.elf`, a static `hello`, and the tree
/// `data/` with nested directories, a symlink and an empty directory.
fn fixtures() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
        if let Ok(rd) = fs::read_dir(base) {
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if let Some(pid) = name.strip_prefix("rootfs-fixtures-") {
                    if !Path::new("/proc").join(pid).exists() {
                        let _ = fs::remove_dir_all(e.path());
                    }
                }
            }
        }
        let dir = base.join(format!("rootfs-fixtures-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("kernel.c"), KERNEL_C).unwrap();
        fs::write(dir.join("hello.c"), HELLO_C).unwrap();
        gcc(
            &dir,
            &[
                "-nostdlib",
                "-static",
                "-no-pie",
                "-O2",
                "-o",
                "kernel.elf",
                "kernel.c",
            ],
        );
        gcc(&dir, &["-static", "-O2", "-o", "hello", "hello.c"]);

        let d = dir.join("data");
        fs::create_dir_all(d.join("etc")).unwrap();
        fs::create_dir_all(d.join("sub/deeper")).unwrap();
        fs::create_dir_all(d.join("empty")).unwrap();
        fs::write(d.join("etc/passwd"), "root:x:0:0:root:/:/bin/sh\n").unwrap();
        fs::write(d.join("run.sh"), "#!/bin/sh\n").unwrap();
        fs::write(d.join("sub/deeper/f.txt"), "deep").unwrap();
        std::os::unix::fs::symlink("etc/passwd", d.join("link")).unwrap();
        set_mode(&d.join("etc/passwd"), 0o600);
        set_mode(&d.join("run.sh"), 0o755);
        set_mode(&d.join("sub/deeper/f.txt"), 0o644);
        for f in ["etc/passwd", "run.sh", "sub/deeper/f.txt"] {
            set_mtime(&d.join(f), MTIME);
        }
        for (sub, mode) in [
            ("", 0o755),
            ("etc", 0o755),
            ("sub", 0o750),
            ("sub/deeper", 0o755),
            ("empty", 0o700),
        ] {
            set_mode(&d.join(sub), mode);
        }

        // Another tree for merging: other/etc/hosts.
        fs::create_dir_all(dir.join("other/etc")).unwrap();
        fs::write(dir.join("other/etc/hosts"), "127.0.0.1 localhost\n").unwrap();
        set_mode(&dir.join("other/etc"), 0o755);
        set_mode(&dir.join("other/etc/hosts"), 0o644);
        dir
    })
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(exe: &str, args: &[&str]) -> Run {
    let out = Command::new(exe)
        .args(args)
        .current_dir(fixtures())
        .env_remove("RUMPRUN_DESTDIR")
        .env("RUMPRUN_KERNEL", fixtures().join("kernel.elf"))
        .output()
        .unwrap();
    let r = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(!r.stderr.contains("panicked"), "panic: {}", r.stderr);
    r
}

fn cookfs(args: &[&str]) -> Run {
    run(env!("CARGO_BIN_EXE_rumprun-cookfs"), args)
}

fn bake(args: &[&str]) -> Run {
    run(env!("CARGO_BIN_EXE_rumprun-bake"), args)
}

fn ok(r: Run) {
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stderr, "");
}

/// Expects exit status 1 and exactly one line `<prog>: error: <msg>` on stderr.
fn expect_error(r: Run, prog: &str, msg: &str) {
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.stderr, format!("{prog}: error: {msg}\n"));
    assert_eq!(r.stdout, "");
}

/// A fresh output directory (relative to the fixtures) for one test.
fn scratch(name: &str) -> String {
    let rel = format!("out/{name}");
    let d = fixtures().join(&rel);
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    rel
}

/// One entry as (name, mode, data, uid, gid, mtime).
type E = (String, u32, Vec<u8>, u32, u32, u32);

/// The payload's file entries, without the kernel's symbol table (`rumprun/...`).
fn read_entries(archive: &[u8]) -> Vec<E> {
    cpio::entries_with_meta(archive)
        .filter(|r| {
            r.as_ref()
                .map_or(true, |(e, _)| !e.name.starts_with("rumprun/"))
        })
        .map(|r| {
            let (e, m) = r.unwrap();
            (
                e.name.to_string(),
                e.mode,
                e.data.to_vec(),
                m.owner.uid,
                m.owner.gid,
                m.owner.mtime,
            )
        })
        .collect()
}

fn read_archive_file(rel: &str) -> Vec<E> {
    read_entries(&fs::read(fixtures().join(rel)).unwrap())
}

/// The payload of a baked image: the bytes of its last program header's segment, with
/// the data of the files in its file data region (the `RRDATA01` page after it) put back.
fn payload_of(rel: &str) -> Vec<u8> {
    let d = fs::read(fixtures().join(rel)).unwrap();
    let u64le = |o: usize| u64::from_le_bytes(d[o..o + 8].try_into().unwrap());
    let (phoff, phnum) = (
        u64le(32) as usize,
        u16::from_le_bytes([d[56], d[57]]) as usize,
    );
    let last = phoff + 56 * (phnum - 1);
    let (off, size) = (u64le(last + 8) as usize, u64le(last + 32) as usize);
    let payload = &d[off..off + size];
    let region = ((off + size).next_multiple_of(4096)..d.len())
        .step_by(4096)
        .find(|&o| d[o..].starts_with(b"RRDATA01"));
    match region {
        Some(o) => cpio::join_from_disk(payload, &d[o..]).unwrap(),
        None => payload.to_vec(),
    }
}

fn host_mtime(rel: &str) -> u32 {
    fs::symlink_metadata(fixtures().join(rel)).unwrap().mtime() as u32
}

/// What cooking `data` must give, with the stored prefix `prefix` ("" or "data/").
fn expected_data(prefix: &str, with_top: bool) -> Vec<E> {
    let f = |p: &str, mode: u32, data: &[u8]| {
        let mtime = host_mtime(&format!("data/{p}"));
        (format!("{prefix}{p}"), mode, data.to_vec(), 0, 0, mtime)
    };
    let mut v = Vec::new();
    if with_top {
        v.push((
            "data".to_string(),
            S_IFDIR | 0o755,
            vec![],
            0,
            0,
            host_mtime("data"),
        ));
    }
    v.extend([
        f("empty", S_IFDIR | 0o700, b""),
        f("etc", S_IFDIR | 0o755, b""),
        f(
            "etc/passwd",
            S_IFREG | 0o600,
            b"root:x:0:0:root:/:/bin/sh\n",
        ),
        f("link", S_IFLNK | 0o777, b"etc/passwd"),
        f("run.sh", S_IFREG | 0o755, b"#!/bin/sh\n"),
        f("sub", S_IFDIR | 0o750, b""),
        f("sub/deeper", S_IFDIR | 0o755, b""),
        f("sub/deeper/f.txt", S_IFREG | 0o644, b"deep"),
    ]);
    v
}

#[test]
fn cookfs_stores_the_tree() {
    let o = scratch("cook");
    ok(cookfs(&[&format!("{o}/a.fs"), "data"]));
    let got = read_archive_file(&format!("{o}/a.fs"));
    assert_eq!(got, expected_data("data/", true));
    assert_eq!(got[3].5, MTIME as u32, "mtime kept");
    // Deterministic: the same bytes again, and with "./data/" spelled differently.
    ok(cookfs(&[&format!("{o}/b.fs"), "./data/"]));
    assert_eq!(
        fs::read(fixtures().join(format!("{o}/a.fs"))).unwrap(),
        fs::read(fixtures().join(format!("{o}/b.fs"))).unwrap()
    );
    // -s 1: the contents at the root, without the directory itself.
    ok(cookfs(&["-s", "1", &format!("{o}/s.fs"), "data"]));
    assert_eq!(
        read_archive_file(&format!("{o}/s.fs")),
        expected_data("", false)
    );
    // -s1 clustered, and -s on a deeper path: data/sub -> sub/...
    ok(cookfs(&["-s1", &format!("{o}/sub.fs"), "data/sub"]));
    let names: Vec<_> = read_archive_file(&format!("{o}/sub.fs"))
        .into_iter()
        .map(|e| e.0)
        .collect();
    assert_eq!(names, ["sub", "sub/deeper", "sub/deeper/f.txt"]);
    // Two directories merge, sorted; a directory in both is stored once.
    ok(cookfs(&["-s", "1", &format!("{o}/m.fs"), "other", "data"]));
    let names: Vec<_> = read_archive_file(&format!("{o}/m.fs"))
        .into_iter()
        .map(|e| e.0)
        .collect();
    assert_eq!(
        names,
        [
            "empty",
            "etc",
            "etc/hosts",
            "etc/passwd",
            "link",
            "run.sh",
            "sub",
            "sub/deeper",
            "sub/deeper/f.txt"
        ]
    );
    // -p keeps the owner.
    ok(cookfs(&["-p", "-s", "1", &format!("{o}/p.fs"), "data"]));
    let me = fs::metadata(fixtures().join("data/etc/passwd")).unwrap();
    for e in read_archive_file(&format!("{o}/p.fs")) {
        assert_eq!((e.3, e.4), (me.uid(), me.gid()), "{}", e.0);
    }
    // -s strips a leading ".." too: ../<fixtures>/data with -s 2 is stored as data/.
    let up = format!(
        "../{}/data",
        fixtures().file_name().unwrap().to_str().unwrap()
    );
    ok(cookfs(&["-s", "2", &format!("{o}/up.fs"), &up]));
    assert_eq!(
        read_archive_file(&format!("{o}/up.fs")),
        expected_data("data/", true)
    );
}

#[test]
fn cookfs_errors() {
    let o = scratch("cookerr");
    let out = format!("{o}/x.fs");
    let p = "rumprun-cookfs";
    expect_error(
        cookfs(&[&out, "nope"]),
        p,
        "nope: No such file or directory",
    );
    expect_error(cookfs(&[&out, "hello"]), p, "hello: not a directory");
    expect_error(
        cookfs(&["-s", "2", &out, "data"]),
        p,
        "-s 2: data has only 1 path component",
    );
    expect_error(
        cookfs(&[&out, "../x"]),
        p,
        "../x: \"..\" would escape the root file system (strip it with -s)",
    );
    let fifo_dir = fixtures().join(format!("{o}/withfifo"));
    fs::create_dir_all(&fifo_dir).unwrap();
    fs::write(fifo_dir.join("a"), "a").unwrap();
    let st = Command::new("mkfifo")
        .arg(fifo_dir.join("pipe"))
        .status()
        .unwrap();
    assert!(st.success());
    expect_error(
        cookfs(&[&out, &format!("{o}/withfifo")]),
        p,
        &format!(
            "{o}/withfifo/pipe: is a FIFO; only regular files, directories and symbolic links can be baked"
        ),
    );
    assert!(!fixtures().join(&out).exists(), "no output on error");
    // Usage errors print the usage.
    for (args, msg) in [
        (&[][..], "need an output file and at least one directory"),
        (
            &["x.fs"][..],
            "need an output file and at least one directory",
        ),
        (&["-s", "x", "o", "d"][..], "-s: invalid count \"x\""),
        (&["-q", "o", "d"][..], "illegal option -- q"),
    ] {
        let r = cookfs(args);
        assert_eq!(r.code, 1);
        assert!(
            r.stderr.starts_with(&format!(
                "{p}: error: {msg}\nusage: {p} [-s count] [-p] outfile directory ...\n"
            )),
            "{args:?}: {}",
            r.stderr
        );
    }
    let r = cookfs(&["--help"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.starts_with("usage: rumprun-cookfs [-s count]"));
}

/// The program entry bake makes for `hello`.
fn hello_entry() -> E {
    (
        "bin/hello".into(),
        S_IFREG | 0o755,
        fs::read(fixtures().join("hello")).unwrap(),
        0,
        0,
        0,
    )
}

#[test]
fn bake_adds_cooked_archives_and_root_dirs() {
    let o = scratch("bake");
    let fsfile = format!("{o}/root.fs");
    ok(cookfs(&["-s", "1", &fsfile, "data"]));
    let cooked = read_archive_file(&fsfile);

    // -m "add x.fs": programs first, then the archive's entries unchanged.
    let img = format!("{o}/a.bin");
    ok(bake(&[
        "-m",
        &format!("add {fsfile}"),
        "hw_virtio",
        &img,
        "hello",
    ]));
    let payload = payload_of(&img);
    let mut want = vec![hello_entry()];
    want.extend(cooked.iter().cloned());
    assert_eq!(read_entries(&payload), want);
    let progs: Vec<_> = cpio::programs(&payload)
        .map(|e| e.unwrap().program_name().unwrap().to_string())
        .collect();
    assert_eq!(progs, ["hello"]);

    // -r DIR: the same entries, cooked on the fly.
    let img = format!("{o}/r.bin");
    ok(bake(&["-r", "data", "hw_virtio", &img, "hello"]));
    assert_eq!(read_entries(&payload_of(&img)), want);
    ok(bake(&["--root=data", "hw_virtio", &img, "hello"]));
    assert_eq!(read_entries(&payload_of(&img)), want);

    // Both, plus a cpio file not named .fs, in -m order then -r; a shared directory
    // (etc) appears once, and a plain component stays a component.
    let other = format!("{o}/other.cpio");
    ok(cookfs(&["-s", "1", &other, "other"]));
    let img = format!("{o}/both.bin");
    ok(bake(&[
        "-m",
        &format!("add {other}"),
        "-m",
        "add some-component",
        "-r",
        "data",
        "hw_virtio",
        &img,
        "hello",
    ]));
    let got = read_entries(&payload_of(&img));
    let names: Vec<_> = got.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "bin/hello",
            "etc",
            "etc/hosts",
            "empty",
            "etc/passwd",
            "link",
            "run.sh",
            "sub",
            "sub/deeper",
            "sub/deeper/f.txt"
        ]
    );
    assert_eq!(got[2].2, b"127.0.0.1 localhost\n");

    // An archive made elsewhere: "./" prefixes and the "." entry are normalised, owners
    // and mtimes kept, a dangling directory parent is fine.
    let mut w = CpioWriter::new();
    let owner = Owner {
        uid: 1000,
        gid: 50,
        mtime: 1234,
    };
    w.add_entry_with(".", S_IFDIR | 0o755, owner, b"").unwrap();
    w.add_entry_with("./srv/www/index.html", S_IFREG | 0o640, owner, b"<p>")
        .unwrap();
    w.add_symlink("./srv/cur", "www").unwrap();
    fs::write(fixtures().join(format!("{o}/foreign.fs")), w.finish()).unwrap();
    let img = format!("{o}/foreign.bin");
    ok(bake(&[
        "-m",
        &format!("add {o}/foreign.fs"),
        "hw_virtio",
        &img,
        "hello",
    ]));
    assert_eq!(
        read_entries(&payload_of(&img)),
        vec![
            hello_entry(),
            (
                "srv/www/index.html".into(),
                S_IFREG | 0o640,
                b"<p>".to_vec(),
                1000,
                50,
                1234
            ),
            ("srv/cur".into(), S_IFLNK | 0o777, b"www".to_vec(), 0, 0, 0),
        ]
    );

    // The dry run counts the files.
    let r = bake(&["-n", "-r", "data", "hw_virtio", &img, "hello"]);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout
            .contains("programs hello, 8 root file system entries ("),
        "{}",
        r.stdout
    );
}

#[test]
fn bake_file_errors_and_conflicts() {
    let o = scratch("conflicts");
    let p = "rumprun-bake";
    let img = format!("{o}/x.bin");
    let m = |fsfile: &str| format!("add {fsfile}");

    // A tree that has bin/hello conflicts with the program.
    let t = fixtures().join(format!("{o}/t/bin"));
    fs::create_dir_all(&t).unwrap();
    fs::write(t.join("hello"), "x").unwrap();
    let binfs = format!("{o}/bin.fs");
    ok(cookfs(&["-s", "3", &binfs, &format!("{o}/t")]));
    expect_error(
        bake(&["-m", &m(&binfs), "hw_virtio", &img, "hello"]),
        p,
        &format!("conflict: bin/hello is in both program hello and {binfs}"),
    );
    expect_error(
        bake(&["-r", &format!("{o}/t"), "hw_virtio", &img, "hello"]),
        p,
        &format!("conflict: bin/hello is in both program hello and root directory {o}/t"),
    );

    // Two archives with the same file; an archive and a root directory.
    let a = format!("{o}/a.fs");
    let b = format!("{o}/b.fs");
    ok(cookfs(&["-s", "1", &a, "data"]));
    ok(cookfs(&["-s", "1", &b, "data/etc", "other"]));
    expect_error(
        bake(&["-m", &m(&a), "-m", &m(&b), "hw_virtio", &img, "hello"]),
        p,
        &format!("conflict: etc/passwd is in both {a} and {b}"),
    );
    expect_error(
        bake(&["-m", &m(&a), "-r", "data", "hw_virtio", &img, "hello"]),
        p,
        &format!("conflict: etc/passwd is in both {a} and root directory data"),
    );
    // A file where another source has a directory.
    let mut w = CpioWriter::new();
    w.add_file("etc", 0o644, b"not a dir").unwrap();
    let f = format!("{o}/etcfile.fs");
    fs::write(fixtures().join(&f), w.finish()).unwrap();
    expect_error(
        bake(&["-m", &m(&a), "-m", &m(&f), "hw_virtio", &img, "hello"]),
        p,
        &format!("conflict: etc is in both {a} and {f}"),
    );
    expect_error(
        bake(&["-m", &m(&f), "-m", &m(&a), "hw_virtio", &img, "hello"]),
        p,
        &format!("conflict: etc is in both {f} and {a}"),
    );
    // ... also when the directory is only implied by a deeper path, either way round.
    let mut w = CpioWriter::new();
    w.add_file("etc/x", 0o644, b"").unwrap();
    let g = format!("{o}/implied.fs");
    fs::write(fixtures().join(&g), w.finish()).unwrap();
    expect_error(
        bake(&["-m", &m(&f), "-m", &m(&g), "hw_virtio", &img, "hello"]),
        p,
        &format!("conflict: etc is a directory in {g} but not in {f}"),
    );
    expect_error(
        bake(&["-m", &m(&g), "-m", &m(&f), "hw_virtio", &img, "hello"]),
        p,
        &format!("conflict: etc is a directory in {g} but not in {f}"),
    );

    // Bad archives.
    expect_error(
        bake(&["-m", "add missing.fs", "hw_virtio", &img, "hello"]),
        p,
        "missing.fs: No such file or directory",
    );
    expect_error(
        bake(&[
            "-m",
            "add hello.c",
            "-m",
            "add data.fs",
            "hw_virtio",
            &img,
            "hello",
        ]),
        p,
        "data.fs: No such file or directory",
    );
    fs::write(
        fixtures().join(format!("{o}/old.fs")),
        b"\x7fELF old cookfs",
    )
    .unwrap();
    expect_error(
        bake(&["-m", &m(&format!("{o}/old.fs")), "hw_virtio", &img, "hello"]),
        p,
        &format!("{o}/old.fs: not a cpio newc archive (make one with x86_64-rumprun-linux-cookfs)"),
    );
    for (name, mode, msg) in [
        ("/etc/x", S_IFREG | 0o644, "/etc/x: absolute paths are not allowed in a file system archive"),
        ("a/../../x", S_IFREG | 0o644, "a/../../x: \"..\" is not allowed in a file system archive"),
        ("dev/null", 0o020_666, "dev/null: is a character device; only regular files, directories and symbolic links can be baked"),
        ("p", 0o010_644, "p: is a FIFO; only regular files, directories and symbolic links can be baked"),
    ] {
        let mut w = CpioWriter::new();
        w.add_entry(name, mode, b"").unwrap();
        let f = format!("{o}/bad.fs");
        fs::write(fixtures().join(&f), w.finish()).unwrap();
        expect_error(
            bake(&["-m", &m(&f), "hw_virtio", &img, "hello"]),
            p,
            &format!("{f}: {msg}"),
        );
    }
    let mut trunc = fs::read(fixtures().join(&a)).unwrap();
    trunc.truncate(200);
    let f = format!("{o}/trunc.fs");
    fs::write(fixtures().join(&f), trunc).unwrap();
    let r = bake(&["-m", &m(&f), "hw_virtio", &img, "hello"]);
    assert_eq!(r.code, 1);
    assert!(r
        .stderr
        .starts_with(&format!("{p}: error: {f}: cpio archive truncated")));

    // A FIFO under -r, and a missing -r directory.
    let fifo_dir = fixtures().join(format!("{o}/fifo"));
    fs::create_dir_all(&fifo_dir).unwrap();
    assert!(Command::new("mkfifo")
        .arg(fifo_dir.join("pipe"))
        .status()
        .unwrap()
        .success());
    expect_error(
        bake(&["-r", &format!("{o}/fifo"), "hw_virtio", &img, "hello"]),
        p,
        &format!("{o}/fifo/pipe: is a FIFO; only regular files, directories and symbolic links can be baked"),
    );
    expect_error(
        bake(&["-r", "nodir", "hw_virtio", &img, "hello"]),
        p,
        "nodir: No such file or directory",
    );
    assert!(!fixtures().join(&img).exists(), "nothing written on errors");
}

#[test]
fn usage_documents_the_file_options() {
    let r = bake(&["-h"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.starts_with("rumprun-bake version: 20160209\n"));
    assert!(r
        .stdout
        .contains("\t-m \"add FILE.fs\"\t: add the files of FILE.fs"));
    assert!(r
        .stdout
        .contains("\t-r dir, --root dir\t: add dir's contents as /"));
}
