//! End-to-end tests of the `rumprun-bake` binary: fake kernels and real static, static-pie
//! and dynamic programs built with gcc, baked images checked field by field (and by
//! `readelf`), the libraries dynamic programs bring from the host, and every error
//! message with its exit status.

use rumprun_image::{cpio, BakeInfo};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const KERNEL_C: &str = r#"
struct bakeinfo { char magic[8]; unsigned long long paddr, size; char config[32]; unsigned long long data_offset, data_size, data_id; };
__attribute__((section(".rumprun_bakeinfo"), used))
struct bakeinfo rumprun_bakeinfo = { {'R','R','B','A','K','E','0','1'}, 0, 0, {0}, 0, 0, 0 };
unsigned char bss_area[20000];
void _start(void) { for (;;) __asm__ volatile("hlt"); }
"#;

const NO_SECTION_C: &str = r#"
void _start(void) { for (;;) __asm__ volatile("hlt"); }
"#;

/// A kernel QEMU can boot through PVH: its 32-bit entry reads byte 110 of the payload
/// (the first byte of the first entry's name, `b` of `bin/...`) through the bake-info
/// block and writes it to isa-debug-exit, so QEMU exits with 2 * b'b' + 1 = 197.
const PVH_KERNEL_C: &str = r#"
struct bakeinfo { char magic[8]; unsigned long long paddr, size; char config[32]; unsigned long long data_offset, data_size, data_id; };
__attribute__((section(".rumprun_bakeinfo"), used))
struct bakeinfo bi = { {'R','R','B','A','K','E','0','1'}, 0, 0, {0}, 0, 0, 0 };
__asm__(
".pushsection .note.Xen,\"a\",@note\n"
".balign 4\n.long 4, 8, 18\n.asciz \"Xen\"\n.balign 4\n.quad pvh_entry\n.popsection\n"
".text\n.code32\n.globl pvh_entry\npvh_entry:\n"
"mov bi+8, %esi\n movzbl 110(%esi), %eax\n mov $0xf4, %dx\n out %al, %dx\n1: hlt\n jmp 1b\n"
".code64\n.globl _start\n_start: hlt\n");
"#;

const HELLO_C: &str = r#"
#include <stdio.h>
int main(void) { puts("hello"); return 0; }
"#;

/// A shared library (built as `libs/libgreet.so`) and a program linked against it.
const GREET_LIB_C: &str = r#"
#include <stdio.h>
void greet(void) { puts("hello from libgreet"); }
"#;
const GREET_C: &str = r#"
void greet(void);
int main(void) { greet(); return 0; }
"#;

fn gcc(dir: &Path, args: &[&str]) {
    let out = Command::new("gcc")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("gcc must be installed to run these tests");
    assert!(
        out.status.success(),
        "gcc {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Builds the fixtures once per test process and returns their directory.
fn fixtures() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
        // Remove fixture dirs of test processes that are gone.
        if let Ok(rd) = fs::read_dir(base) {
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if let Some(pid) = name.strip_prefix("bake-fixtures-") {
                    if !Path::new("/proc").join(pid).exists() {
                        let _ = fs::remove_dir_all(e.path());
                    }
                }
            }
        }
        let dir = base.join(format!("bake-fixtures-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("sub")).unwrap();
        fs::write(dir.join("kernel.c"), KERNEL_C).unwrap();
        fs::write(dir.join("nosec.c"), NO_SECTION_C).unwrap();
        fs::write(dir.join("hello.c"), HELLO_C).unwrap();
        fs::write(dir.join("pvh.c"), PVH_KERNEL_C).unwrap();
        let k = [
            "-nostdlib",
            "-static",
            "-no-pie",
            "-O2",
            "-Wl,--build-id=none",
        ];
        gcc(&dir, &[&k[..], &["-o", "kernel.elf", "kernel.c"]].concat());
        gcc(&dir, &[&k[..], &["-o", "nosec.elf", "nosec.c"]].concat());
        gcc(&dir, &[&k[..], &["-o", "pvh.elf", "pvh.c"]].concat());
        gcc(&dir, &["-static", "-O2", "-o", "hello", "hello.c"]);
        gcc(&dir, &["-static-pie", "-O2", "-o", "hello-pie", "hello.c"]);
        gcc(&dir, &["-O2", "-o", "hello-dyn", "hello.c"]);
        gcc(&dir, &["-c", "-O2", "-o", "hello.o", "hello.c"]);
        fs::create_dir_all(dir.join("libs")).unwrap();
        fs::write(dir.join("greet-lib.c"), GREET_LIB_C).unwrap();
        fs::write(dir.join("greet.c"), GREET_C).unwrap();
        gcc(
            &dir,
            &["-shared", "-fPIC", "-o", "libs/libgreet.so", "greet-lib.c"],
        );
        gcc(&dir, &["-o", "hello-greet", "greet.c", "-Llibs", "-lgreet"]);
        fs::write(dir.join("notelf"), "#!/bin/sh\necho hi\n").unwrap();
        let mut arm = fs::read(dir.join("hello")).unwrap();
        arm[18..20].copy_from_slice(&183u16.to_le_bytes());
        fs::write(dir.join("hello-arm"), arm).unwrap();
        let mut core = fs::read(dir.join("hello")).unwrap();
        core[16..18].copy_from_slice(&4u16.to_le_bytes());
        fs::write(dir.join("core"), core).unwrap();
        fs::copy(dir.join("hello"), dir.join("sub/hello")).unwrap();
        dir
    })
}

/// A fresh directory for one test's outputs.
fn scratch(name: &str) -> PathBuf {
    let d = fixtures().join("out").join(name);
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs rumprun-bake in the fixtures directory with `envs` (and no inherited
/// RUMPRUN_* variables).
fn bake(args: &[&str], envs: &[(&str, &Path)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rumprun-bake"));
    cmd.args(args)
        .current_dir(fixtures())
        .env_remove("RUMPRUN_DESTDIR")
        .env_remove("RUMPRUN_KERNEL");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(!run.stderr.contains("panicked"), "panic: {}", run.stderr);
    run
}

fn kernel_env() -> [(&'static str, &'static Path); 1] {
    static K: OnceLock<PathBuf> = OnceLock::new();
    [(
        "RUMPRUN_KERNEL",
        K.get_or_init(|| fixtures().join("kernel.elf")),
    )]
}

/// Expects exit status 1 and exactly `msg` as the one line on stderr.
fn expect_error(args: &[&str], envs: &[(&str, &Path)], msg: &str) {
    let r = bake(args, envs);
    assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
    assert_eq!(
        r.stderr,
        format!("rumprun-bake: error: {msg}\n"),
        "{args:?}"
    );
    assert_eq!(r.stdout, "");
}

// ---- a small independent ELF reader for checking the output ----

struct Ph {
    p_type: u32,
    flags: u32,
    offset: u64,
    vaddr: u64,
    paddr: u64,
    filesz: u64,
    memsz: u64,
    align: u64,
}

fn u16le(d: &[u8], o: usize) -> u16 {
    u16::from_le_bytes(d[o..o + 2].try_into().unwrap())
}
fn u32le(d: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(d[o..o + 4].try_into().unwrap())
}
fn u64le(d: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(d[o..o + 8].try_into().unwrap())
}

fn phdrs(d: &[u8]) -> Vec<Ph> {
    let (off, n) = (u64le(d, 32) as usize, u16le(d, 56) as usize);
    assert_eq!(u16le(d, 54), 56);
    (0..n)
        .map(|i| {
            let p = &d[off + 56 * i..off + 56 * (i + 1)];
            Ph {
                p_type: u32le(p, 0),
                flags: u32le(p, 4),
                offset: u64le(p, 8),
                vaddr: u64le(p, 16),
                paddr: u64le(p, 24),
                filesz: u64le(p, 32),
                memsz: u64le(p, 40),
                align: u64le(p, 48),
            }
        })
        .collect()
}

/// File offset of the section named `name`.
fn section_offset(d: &[u8], name: &str) -> usize {
    let (shoff, shnum, shstrndx) = (
        u64le(d, 40) as usize,
        u16le(d, 60) as usize,
        u16le(d, 62) as usize,
    );
    let sh = |i: usize| &d[shoff + 64 * i..shoff + 64 * (i + 1)];
    let strtab = u64le(sh(shstrndx), 24) as usize;
    (0..shnum)
        .find(|&i| {
            let n = strtab + u32le(sh(i), 0) as usize;
            d[n..].split(|&b| b == 0).next().unwrap() == name.as_bytes()
        })
        .map(|i| u64le(sh(i), 24) as usize)
        .expect("section")
}

/// Checks `out` against the contract for `kernel` and `inputs` baked with `config`.
fn check_image(kernel: &Path, out: &Path, config: &str, inputs: &[&str]) {
    let k = fs::read(kernel).unwrap();
    let o = fs::read(out).unwrap();
    let kph = phdrs(&k);
    let oph = phdrs(&o);
    assert_eq!(oph.len(), kph.len() + 1);
    for (a, b) in kph.iter().zip(&oph) {
        assert_eq!(
            (a.p_type, a.flags, a.offset, a.vaddr, a.paddr, a.filesz, a.memsz, a.align),
            (b.p_type, b.flags, b.offset, b.vaddr, b.paddr, b.filesz, b.memsz, b.align)
        );
    }
    let new = oph.last().unwrap();
    assert_eq!((new.p_type, new.flags, new.align), (1, 4, 4096));
    assert_eq!(new.vaddr, new.paddr);
    assert_eq!(new.paddr % 4096, 0);
    assert_eq!(new.offset % 4096, 0);
    assert_eq!(new.filesz, new.memsz);
    let top = kph.iter().map(|p| p.paddr + p.memsz).max().unwrap();
    assert!(
        new.paddr >= top && new.paddr < top + 4096,
        "paddr {:#x} top {top:#x}",
        new.paddr
    );
    // Everything else of the kernel file is unchanged, except the header and bake-info.
    let bi = section_offset(&k, ".rumprun_bakeinfo");
    assert_eq!(section_offset(&o, ".rumprun_bakeinfo"), bi);
    assert!(o[64..bi] == k[64..bi] && o[bi + 80..k.len()] == k[bi + 80..]);
    assert_eq!(o[..32], k[..32]);
    let info = BakeInfo::from_bytes(&o[bi..]).unwrap();
    assert_eq!(info.payload_paddr, new.paddr);
    assert_eq!(info.payload_size, new.filesz);
    assert_eq!(info.config_name(), Some(config));
    // The payload is a cpio archive of the programs, in order.
    let payload = &o[new.offset as usize..(new.offset + new.filesz) as usize];
    let entries: Vec<_> = cpio::entries(payload).collect::<Result<_, _>>().unwrap();
    // The kernel's symbols (for crash reports) come last; the fake kernel has some.
    let (syms, entries): (Vec<_>, Vec<_>) = entries
        .into_iter()
        .partition(|e| e.name.starts_with("rumprun/"));
    assert!(syms
        .iter()
        .all(|e| e.name == "rumprun/kernel.syms" && e.data.starts_with(b"RRKSYMS1")));
    assert_eq!(entries.len(), inputs.len());
    for (e, input) in entries.iter().zip(inputs) {
        let base = Path::new(input).file_name().unwrap().to_str().unwrap();
        assert_eq!(e.name, format!("bin/{base}"));
        assert_eq!(e.mode, 0o100755);
        assert!(
            e.data == fs::read(fixtures().join(input)).unwrap(),
            "{input} bytes"
        );
    }
    let progs: Vec<_> = cpio::programs(payload).map(|e| e.unwrap().name).collect();
    assert_eq!(progs.len(), inputs.len());
    assert_eq!(
        fs::metadata(out).unwrap().permissions().mode() & 0o777,
        0o755
    );
    // binutils accepts it and sees the new segment.
    let r = Command::new("readelf")
        .args(["-lW"])
        .arg(out)
        .output()
        .expect("readelf (binutils) must be installed");
    let text = String::from_utf8_lossy(&r.stdout);
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(r.status.success() && err.is_empty(), "readelf: {err}");
    let want = format!("{:#018x} {:#018x}", new.vaddr, new.paddr);
    assert!(text.contains(&want), "readelf -lW shows no {want}:\n{text}");
    // No temp files are left next to the output.
    let left: Vec<_> = fs::read_dir(out.parent().unwrap())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".rumprun-bake."))
        .collect();
    assert!(left.is_empty());
}

#[test]
fn bakes_static_and_static_pie_programs() {
    let d = scratch("static");
    let out = d.join("out.bin");
    let r = bake(
        &["hw_virtio", out.to_str().unwrap(), "hello", "hello-pie"],
        &kernel_env(),
    );
    assert_eq!((r.code, r.stderr.as_str(), r.stdout.as_str()), (0, "", ""));
    check_image(
        &fixtures().join("kernel.elf"),
        &out,
        "hw_virtio",
        &["hello", "hello-pie"],
    );

    // Baking over an existing output replaces it.
    let r = bake(
        &["hw-generic", out.to_str().unwrap(), "sub/hello"],
        &kernel_env(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    check_image(
        &fixtures().join("kernel.elf"),
        &out,
        "hw_generic",
        &["sub/hello"],
    );

    // A baked image is not a kernel to bake again.
    let again = d.join("again.bin");
    expect_error(
        &["hw_virtio", again.to_str().unwrap(), "hello"],
        &[("RUMPRUN_KERNEL", &out)],
        &format!(
            "{}: already baked (config hw_generic, payload of {} bytes); bake from an unbaked kernel.elf",
            out.display(),
            BakeInfo::from_bytes(&fs::read(&out).unwrap()[section_offset(&fs::read(&out).unwrap(), ".rumprun_bakeinfo")..])
                .unwrap()
                .payload_size
        ),
    );
    assert!(!again.exists());
}

#[test]
fn eight_programs_fit_nine_do_not() {
    let d = scratch("eight");
    let mut names = Vec::new();
    for i in 1..=9 {
        let name = format!("out/eight/p{i}");
        fs::copy(fixtures().join("hello"), fixtures().join(&name)).unwrap();
        names.push(name);
    }
    let out = d.join("out.bin");
    let mut args = vec!["hw_virtio", out.to_str().unwrap()];
    args.extend(names[..8].iter().map(String::as_str));
    let r = bake(&args, &kernel_env());
    assert_eq!(r.code, 0, "{}", r.stderr);
    let inputs: Vec<&str> = names[..8].iter().map(String::as_str).collect();
    check_image(&fixtures().join("kernel.elf"), &out, "hw_virtio", &inputs);
    args.push(&names[8]);
    expect_error(
        &args,
        &kernel_env(),
        "at most 8 programs can be baked into one image (got 9)",
    );
}

#[test]
fn installed_layout_via_destdir() {
    let root = scratch("destdir");
    fs::create_dir_all(root.join("etc")).unwrap();
    fs::create_dir_all(root.join("lib/rumprun-x86_64/hw")).unwrap();
    let out = root.join("img.bin");
    let out_s = out.to_str().unwrap();
    let env = [("RUMPRUN_DESTDIR", root.as_path())];

    // No config file in the destdir: said clearly.
    expect_error(
        &["list"],
        &env,
        &format!(
            "{}: No such file or directory",
            root.join("etc/rumprun-bake.conf").display()
        ),
    );
    fs::write(
        root.join("etc/rumprun-bake.conf"),
        include_str!("../../../app-tools/rumprun-bake.conf"),
    )
    .unwrap();
    // No kernel yet.
    expect_error(
        &["hw_virtio", out_s, "hello"],
        &env,
        &format!(
            "kernel for platform hw not found: {} (build it with \"build-rr.sh hw\", or set RUMPRUN_DESTDIR or RUMPRUN_KERNEL)",
            root.join("lib/rumprun-x86_64/hw/kernel.elf").display()
        ),
    );
    let kernel = root.join("lib/rumprun-x86_64/hw/kernel.elf");
    fs::copy(fixtures().join("kernel.elf"), &kernel).unwrap();
    let r = bake(&["hw_virtio", out_s, "hello-pie"], &env);
    assert_eq!(r.code, 0, "{}", r.stderr);
    check_image(&kernel, &out, "hw_virtio", &["hello-pie"]);
}

#[test]
fn list_describe_and_config_options() {
    let r = bake(&["list"], &[]);
    assert_eq!(r.code, 0);
    assert_eq!(
        r.stdout,
        "hw_virtio       : virtio targets (e.g. QEMU/KVM)\n\
         hw_generic      : generic targets, includes (almost) all drivers\n\
         xen_pv          : Xen PVH guests (rumprun xen; xl type pvh)\n\
         xen_pvh         : the same as xen_pv\n"
    );
    let r = bake(&["describe", "xen-pv"], &[]);
    assert_eq!(r.code, 0);
    assert_eq!(
        r.stdout,
        "config:      xen_pv\ndescription: Xen PVH guests (rumprun xen; xl type pvh)\nplatform:    xen\n\
         components:  console linux-abi tmpfs xen-hypercall xen-evtchn xen-pvclock xenstore xen-console\n"
    );
    let r = bake(&["describe", "hw-virtio"], &[]);
    assert_eq!(r.code, 0);
    assert_eq!(
        r.stdout,
        "config:      hw_virtio\ndescription: virtio targets (e.g. QEMU/KVM)\nplatform:    hw\n\
         components:  console linux-abi tmpfs virtio-pci virtio-net virtio-blk\n"
    );
    let d = scratch("conf");
    let extra = d.join("extra.conf");
    fs::write(
        &extra,
        "version 20160209\nconf hw_mine\n\tcreate \"my own\"\n\tassimilate hw_virtio\n\tadd console extra\nfnoc\n",
    )
    .unwrap();
    let e = extra.to_str().unwrap();
    let r = bake(&["-c", e, "list"], &[]);
    assert!(
        r.stdout.ends_with("hw_mine         : my own\n"),
        "{}",
        r.stdout
    );
    let r = bake(
        &[
            "-c",
            e,
            "-m",
            "add more",
            "-mremove tmpfs",
            "describe",
            "hw_mine",
        ],
        &[],
    );
    assert!(
        r.stdout.ends_with(
            "components:  console linux-abi virtio-pci virtio-net virtio-blk extra more\n"
        ),
        "{}",
        r.stdout
    );
    let out = d.join("mine.bin");
    let r = bake(
        &["-c", e, "hw_mine", out.to_str().unwrap(), "hello"],
        &kernel_env(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    check_image(&fixtures().join("kernel.elf"), &out, "hw_mine", &["hello"]);
    // -n checks everything and writes nothing.
    let dry = d.join("dry.bin");
    let r = bake(
        &["-n", "hw_virtio", dry.to_str().unwrap(), "hello"],
        &kernel_env(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("would write"), "{}", r.stdout);
    assert!(!dry.exists());

    // Config errors.
    let bad = d.join("bad.conf");
    fs::write(
        &bad,
        "version 20160209\nconf hw_x\n\tcreate \"x\"\n\tfrob\nfnoc\n",
    )
    .unwrap();
    expect_error(
        &["-c", bad.to_str().unwrap(), "list"],
        &[],
        &format!("{}:4: unknown directive \"frob\"", bad.display()),
    );
    expect_error(
        &["-c", "missing.conf", "list"],
        &[],
        "missing.conf: No such file or directory",
    );
    expect_error(
        &["-m", "remove nope", "describe", "hw_virtio"],
        &[],
        "-m \"remove nope\": remove: \"nope\" is not a component of hw_virtio",
    );
}

/// The payload entries of the baked image `out`: (path, mode, data), the data of
/// files in the file data region read from there.
fn payload_entries(out: &Path) -> Vec<(String, u32, Vec<u8>)> {
    let o = fs::read(out).unwrap();
    let new = phdrs(&o).pop().unwrap();
    let payload = &o[new.offset as usize..(new.offset + new.filesz) as usize];
    let info = BakeInfo::from_bytes(&o[section_offset(&o, ".rumprun_bakeinfo")..]).unwrap();
    let region = &o[info.data_offset as usize..(info.data_offset + info.data_size) as usize];
    cpio::entries_with_meta(payload)
        .map(|e| {
            let (e, m) = e.unwrap();
            let data = if m.on_disk {
                let x = cpio::DiskExtent::parse(e.data).unwrap();
                region[x.offset as usize..(x.offset + x.size) as usize].to_vec()
            } else {
                e.data.to_vec()
            };
            (e.name.to_string(), e.mode, data)
        })
        .collect()
}

/// Checks that `entries` has the regular file `path` (mode 0755) with the contents of
/// the host file `host` (symlinks followed).
fn has_host_file(entries: &[(String, u32, Vec<u8>)], path: &str, host: &Path) {
    let names: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
    let e = entries
        .iter()
        .find(|e| e.0 == path)
        .unwrap_or_else(|| panic!("no {path} in the payload: {names:?}"));
    assert_eq!(e.1, 0o100755, "{path} is a regular file, mode 0755");
    assert!(
        e.2 == fs::read(host).unwrap(),
        "{path} has {host:?}'s bytes"
    );
}

#[test]
fn bakes_dynamic_programs_with_their_interpreter_and_libraries() {
    let d = scratch("dynamic");
    let out = d.join("out.bin");
    let r = bake(
        &["hw_virtio", out.to_str().unwrap(), "hello-dyn"],
        &kernel_env(),
    );
    assert_eq!((r.code, r.stderr.as_str(), r.stdout.as_str()), (0, "", ""));
    let entries = payload_entries(&out);
    assert_eq!(entries[0].0, "bin/hello-dyn");
    has_host_file(
        &entries,
        "lib64/ld-linux-x86-64.so.2",
        Path::new("/lib64/ld-linux-x86-64.so.2"),
    );
    has_host_file(
        &entries,
        "lib/x86_64-linux-gnu/libc.so.6",
        Path::new("/lib/x86_64-linux-gnu/libc.so.6"),
    );
    // libc.so.6 needs ld-linux-x86-64.so.2: the interpreter, not added a second time.
    let names: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        names
            .iter()
            .filter(|n| n.ends_with("ld-linux-x86-64.so.2"))
            .count(),
        1,
        "{names:?}"
    );

    // A library from -L goes where glibc's loader looks by default; a second program
    // needing the same libc does not add it twice.
    let r = bake(
        &[
            "-L",
            "libs",
            "hw_virtio",
            out.to_str().unwrap(),
            "hello-greet",
            "hello-dyn",
        ],
        &kernel_env(),
    );
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    let entries = payload_entries(&out);
    has_host_file(
        &entries,
        "usr/lib/x86_64-linux-gnu/libgreet.so",
        &fixtures().join("libs/libgreet.so"),
    );
    let libcs = entries
        .iter()
        .filter(|e| e.0 == "lib/x86_64-linux-gnu/libc.so.6")
        .count();
    assert_eq!(libcs, 1);
    let progs: Vec<_> = entries
        .iter()
        .filter(|e| e.0.starts_with("bin/"))
        .map(|e| e.0.as_str())
        .collect();
    assert_eq!(progs, ["bin/hello-greet", "bin/hello-dyn"]);
}

#[test]
fn input_errors() {
    let d = scratch("inputs");
    let out = d.join("out.bin");
    let o = out.to_str().unwrap();
    let k = kernel_env();
    expect_error(
        &["hw_virtio", o, "nope"],
        &k,
        "nope: No such file or directory",
    );
    expect_error(&["hw_virtio", o, "sub"], &k, "sub: Is a directory");
    expect_error(&["hw_virtio", o, "notelf"], &k, "notelf: not an ELF file");
    expect_error(
        &["hw_virtio", o, "/dev/zero"],
        &k,
        "/dev/zero: not a regular file",
    );
    expect_error(
        &["hw_virtio", o, "hello-arm"],
        &k,
        "hello-arm: not an x86_64 ELF (machine: aarch64)",
    );
    expect_error(
        &["hw_virtio", o, "hello.o"],
        &k,
        "hello.o: a relocatable object file (ET_REL), not a program: link it into an executable",
    );
    // The search list (the same as `rumprun-bake -h` names) from first to last.
    let r = bake(&["hw_virtio", o, "hello-greet"], &k);
    assert_eq!((r.code, r.stdout.as_str()), (1, ""));
    assert!(
        r.stderr.starts_with(
            "rumprun-bake: error: hello-greet: needs libgreet.so (needed by hello-greet), not found in: /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu /lib64 "
        ) && r.stderr.ends_with(" /usr/local/lib\n")
            && r.stderr.lines().count() == 1,
        "{}",
        r.stderr
    );
    expect_error(
        &["-L", "nope", "hw_virtio", o, "hello-greet"],
        &k,
        "-L nope: No such file or directory",
    );
    expect_error(
        &["-L", "hello", "hw_virtio", o, "hello-greet"],
        &k,
        "-L hello: not a directory",
    );
    expect_error(
        &["hw_virtio", o, "core"],
        &k,
        "core: a core dump (ET_CORE), not a program",
    );
    expect_error(
        &["hw_virtio", o, "hello", "sub/hello"],
        &k,
        "sub/hello: another input is also named hello (programs are stored as bin/<name>)",
    );
    // The first bad input is reported even when good ones come first.
    expect_error(
        &["hw_virtio", o, "hello", "notelf"],
        &k,
        "notelf: not an ELF file",
    );
    assert!(!out.exists());
    assert_eq!(fs::read_dir(&d).unwrap().count(), 0, "nothing written");
}

#[test]
fn kernel_config_and_output_errors() {
    let d = scratch("kernel");
    let out = d.join("out.bin");
    let o = out.to_str().unwrap();
    let nosec = fixtures().join("nosec.elf");
    expect_error(
        &["hw_virtio", o, "hello"],
        &[("RUMPRUN_KERNEL", &nosec)],
        &format!(
            "{}: no .rumprun_bakeinfo section: not a rumprun kernel",
            nosec.display()
        ),
    );
    let notelf = fixtures().join("notelf");
    expect_error(
        &["hw_virtio", o, "hello"],
        &[("RUMPRUN_KERNEL", &notelf)],
        &format!("{}: not an ELF file", notelf.display()),
    );
    let k = kernel_env();
    expect_error(
        &["xen_pci", o, "hello"],
        &k,
        "unsupported config \"xen_pci\" (see \"rumprun-bake list\")",
    );
    expect_error(
        &["hw_nope", o, "hello"],
        &k,
        "unsupported config \"hw_nope\" (see \"rumprun-bake list\")",
    );
    expect_error(
        &["_foundation", o, "hello"],
        &k,
        "unsupported config \"_foundation\" (see \"rumprun-bake list\")",
    );
    expect_error(
        &["hw_virtio", "nodir/out.bin", "hello"],
        &k,
        "nodir/out.bin: No such file or directory",
    );
    expect_error(
        &["hw_virtio", d.to_str().unwrap(), "hello"],
        &k,
        &format!("{}: Is a directory", d.display()),
    );
    assert_eq!(fs::read_dir(&d).unwrap().count(), 0, "no temp file left");
}

#[test]
fn usage_help_and_version() {
    for args in [
        &[][..],
        &["-x", "list"],
        &["list", "extra"],
        &["hw_virtio", "out"],
        &["-c"],
    ] {
        let r = bake(args, &[]);
        assert_eq!(r.code, 1, "{args:?}");
        assert!(
            r.stderr
                .contains("usage:\trumprun-bake [-c conffile ...] list\n"),
            "{args:?}: {}",
            r.stderr
        );
        assert_eq!(r.stdout, "");
    }
    let r = bake(&["-x", "list"], &[]);
    assert!(r
        .stderr
        .starts_with("rumprun-bake: error: illegal option -- x\nrumprun-bake version: 20160209\n"));
    for help in ["-h", "--help"] {
        let r = bake(&[help], &[]);
        assert_eq!((r.code, r.stderr.as_str()), (0, ""));
        assert!(r.stdout.starts_with(
            "rumprun-bake version: 20160209\n\nusage:\trumprun-bake [-c conffile ...] list\n"
        ));
        assert!(r
            .stdout
            .contains("\trumprun-bake [-c conffile ...] [-m cmd ...] config out in [in ...]\n"));
        assert!(r.stdout.contains("\t-L dir\t\t: also search dir"));
    }
    let r = bake(&["--version"], &[]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.starts_with("rumprun-bake "), "{}", r.stdout);
}

#[test]
fn qemu_loads_the_payload_where_bakeinfo_says() {
    let qemu = "qemu-system-x86_64";
    if let Err(e) = Command::new(qemu).arg("--version").output() {
        panic!("cannot run {qemu} ({e}): install the Debian package qemu-system-x86");
    }
    let d = scratch("qemu");
    let out = d.join("out.bin");
    let kernel = fixtures().join("pvh.elf");
    let r = bake(
        &["hw_virtio", out.to_str().unwrap(), "hello"],
        &[("RUMPRUN_KERNEL", &kernel)],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut child = Command::new(qemu)
        .args([
            "-accel",
            "tcg",
            "-nodefaults",
            "-no-user-config",
            "-display",
            "none",
        ])
        .args(["-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-kernel"])
        .arg(&out)
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > std::time::Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("qemu did not exit within 60 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(
        status.code(),
        Some(2 * i32::from(b'b') + 1),
        "guest read the wrong byte"
    );
}
