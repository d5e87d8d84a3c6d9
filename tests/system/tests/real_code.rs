//! Real programs and real third-party code (issue 3): a Rust std program centred on
//! std::fs, SQLite (rusqlite's bundled C sources) building a 10,000-row database in
//! /tmp, and Lua 5.4 (mlua's vendored C sources) running a script over data files
//! baked into the image. Each program is an ordinary cargo project in
//! `tests/programs/` built with `x86_64-rumprun-linux-cargo` (cached in
//! `target/system-tests/<project>`), baked and booted; each prints `ok: ...` lines
//! with its values and `ALL OK`, which the tests check together with the values.

use rumprun_system_tests::*;
use std::ffi::OsStr;
use std::process::Command;

/// The kernel's line for a syscall it does not have.
const UNSUPPORTED: &str = "rumprun: unsupported syscall";

/// Asserts a test program's success: status 0 (an uncaught panic is 101), an
/// `ALL OK` line and no `FAIL:` line.
#[track_caller]
fn assert_all_ok(run: &Run) {
    run.assert_status(0)
        .assert_stdout_line("ALL OK")
        .assert_output_lacks("FAIL:");
}

/// Asserts that stdout has a line starting with `prefix` (the rest holds timings).
#[track_caller]
fn assert_line_starts(run: &Run, prefix: &str) {
    assert!(
        run.stdout.lines().any(|l| l.starts_with(prefix)),
        "stdout has no line starting with {prefix:?}:\n{}",
        run.dump()
    );
}

// ---- Rust std ----

#[test]
fn rust_std_fs_env_time_threads_unix_sockets_panic() {
    let image = bake(&build_rust("rust-std"));
    let run = rumprun_qemu(&image, &["-e", "RUST_STD=env value"], &["a", "two words"]);
    assert_all_ok(&run);
    for line in [
        "ok: create_dir_all /tmp/rust-std/a/b/c",
        "ok: permissions 0640, then readonly",
        "ok: rename across directories",
        "ok: NotFound and AlreadyExists errors",
        "ok: read_dir sorted: alpha bravo charlie delta echo sub/",
        "ok: remove_file",
        "ok: hard_link, symlink, read_link, canonicalize",
        "ok: fs::copy",
        "ok: File seek Start/Current/End, hole reads zeros, sync_all, set_len",
        "ok: OpenOptions append (4 lines, the last after a seek to 0)",
        "arg[1]=a",
        "arg[2]=two words",
        "ok: env args (3) and vars",
        "ok: current_dir /",
        "ok: set_current_dir, relative paths, back to /",
        "ok: remove_dir_all /tmp/rust-std",
        "ok: 4 threads sent 400 messages over a channel",
        "ok: Arc<Mutex> counter 40000",
        "ok: Condvar queue 1..5 and wait_timeout timed out",
        "ok: UnixListener served 3 client threads; UnixStream::pair; UnixDatagram send_to/recv_from",
    ] {
        run.assert_stdout_line(line);
    }
    assert_line_starts(&run, "ok: write + read_to_string + metadata: len 15 mtime ");
    assert_line_starts(&run, "ok: SystemTime ");
    run.assert_stdout_line(
        "ok: catch_unwind caught \"index out of bounds: the len is 0 but the index is 3\"; \
         a thread's panic came back from join",
    )
    .assert_order("ok: Condvar queue", "ALL OK")
    .assert_main_markers("ALL OK", 0);
}

#[test]
fn rust_std_process_exit_code_from_argv() {
    let image = bake(&build_rust("rust-std"));
    let run = rumprun_qemu(&image, &["-e", "RUST_STD=env value"], &["--exit", "42"]);
    run.assert_status(42)
        .assert_stdout_line("ALL OK")
        .assert_stdout_line("exiting with 42")
        .assert_order("ALL OK", "exiting with 42");
}

// ---- SQLite ----

#[test]
fn sqlite_10000_rows_in_tmp() {
    let image = bake(&build_rust_with_deps("rust-sqlite"));
    let run = rumprun_qemu(&image, &[], &[]);
    assert_all_ok(&run);
    run.assert_output_lacks(UNSUPPORTED);
    assert_line_starts(&run, "sqlite version 3.");
    assert_line_starts(&run, "ok: created table in /tmp/rumprun-test.db ");
    assert_line_starts(&run, "ok: inserted 10000 rows in one transaction ");
    // sum(value) = sum of (i * 7919) % 10007 for i in 1..=10000.
    let want_sum: i64 = (1..=10_000i64).map(|i| (i * 7919) % 10_007).sum();
    assert_eq!(want_sum, 50_041_187);
    let counts = format!("count=10000 sum(value)={want_sum} sum(id)=50005000 ");
    assert_line_starts(&run, &format!("ok: after insert: {counts}"));
    assert_line_starts(
        &run,
        "ok: index lookup item-4242 -> id=4242 value=8906 via \
         \"SEARCH items USING COVERING INDEX items_name (name=?)\"",
    );
    assert_line_starts(&run, "ok: updated 100 rows and back ");
    assert_line_starts(&run, "ok: integrity_check = ok ");
    assert_line_starts(&run, "ok: closed; database file is ");
    assert_line_starts(&run, &format!("ok: after reopen: {counts}"));
    assert_line_starts(&run, "ok: reopened, rows and integrity ok ");
    assert_line_starts(&run, "timings: insert ");
    run.assert_main_markers("ALL OK", 0);
}

// ---- Lua ----

/// What the Lua script computes from `tests/programs/lua-data/data`.
const LUA_NUMBERS: &str = "count=1000 sum=13517 min=-4997 max=5000 median=11.0";
const LUA_WORDS: &str = "words=48 distinct=26 top=the=9,program=5,and=3,kernel=3,no=3";

#[track_caller]
fn assert_lua_results(run: &Run) {
    assert_all_ok(run);
    run.assert_output_lacks(UNSUPPORTED)
        .assert_stdout_line(&format!("lua: {LUA_NUMBERS}"))
        .assert_stdout_line(&format!("lua: {LUA_WORDS}"))
        .assert_stdout_line(&format!("ok: lua {LUA_NUMBERS}"))
        .assert_stdout_line(&format!("ok: lua {LUA_WORDS}"))
        .assert_stdout_line(&format!(
            "ok: /tmp/lua-summary.txt written by lua: {LUA_NUMBERS}"
        ))
        .assert_stdout_line("ok: a Lua error() reaches Rust as an Err")
        .assert_main_markers("ALL OK", 0);
}

/// `rumprun-bake -r tests/programs/lua-data`: the script is /scripts/sum.lua and
/// the data /data.
#[test]
fn lua_script_over_baked_root() {
    let prog = build_rust_with_deps("rust-lua");
    let root = program_source("lua-data");
    let image = bake_with(
        &prog,
        "rust-lua-root",
        &[OsStr::new("-r"), root.as_os_str()],
    );
    let run = rumprun_qemu(&image, &[], &[]);
    assert_lua_results(&run);
    run.assert_stdout_line("ok: rust read 1000 numbers from /data/numbers.txt, sum 13517")
        .assert_stdout_line("ok: Lua 5.4 ran /scripts/sum.lua");
}

/// The original's interface: `x86_64-rumprun-linux-cookfs` + `rumprun-bake -m "add
/// x.fs"`; `lua-data` keeps its name, so the files are under /lua-data.
#[test]
fn lua_script_over_cooked_fs() {
    let prog = build_rust_with_deps("rust-lua");
    let fs_image = scratch_dir("lua-cookfs").join("lua-data.fs");
    check_output(
        Command::new(tool("x86_64-rumprun-linux-cookfs"))
            .current_dir(program_source(""))
            .arg(&fs_image)
            .arg("lua-data"),
        "cooking tests/programs/lua-data",
    );
    let add = format!("add {}", fs_image.display());
    let image = bake_with(
        &prog,
        "rust-lua-cookfs",
        &[OsStr::new("-m"), OsStr::new(&add)],
    );
    let run = rumprun_qemu(
        &image,
        &[],
        &["/lua-data/data", "/lua-data/scripts/sum.lua"],
    );
    assert_lua_results(&run);
    run.assert_stdout_line("ok: rust read 1000 numbers from /lua-data/data/numbers.txt, sum 13517")
        .assert_stdout_line("ok: Lua 5.4 ran /lua-data/scripts/sum.lua");
}
