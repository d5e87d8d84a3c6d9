//! Real programs as their users run them: Debian 12's own binaries, baked from the
//! host's packages with `rumprun-bake -D` (the program's package and its libraries'),
//! `-d PKG` for more (a stdlib, tzdata), `-r` for what the packages' install scripts
//! would have made, with their stock configurations, checked from the host: every body
//! byte for byte, the exit status, data on ext2 with the host's e2fsck, debugfs and
//! sqlite3. A missing program fails naming its Debian package (CI installs them,
//! .ci/run's PACKAGES).
//!
//! Load through a tap device is in apps_load.rs.

mod apps_common;

use apps_common::*;
use rumprun_system_tests::*;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

const BOOT: Duration = Duration::from_secs(120);

/// The rc lines that start redis-server with Debian's config (plus `extra`) in the
/// background and wait until it answers.
fn redis_rc(extra: &str) -> Vec<String> {
    [
        "-r".to_string(),
        format!("redis-server /etc/redis/redis.conf --daemonize no {extra} &"),
        "-r".to_string(),
        // Ready when it answers: it accepts connections while loading its data.
        "wait_tcp-glibc 127.0.0.1 6379 60 'PING\\r\\n' +PONG".to_string(),
    ]
    .into()
}

fn boot_redis(opts: Vec<String>, clients: &[&str]) -> Run {
    let image = redis_image();
    let mut opts = opts;
    for c in clients {
        opts.push("-r".into());
        opts.push(c.to_string());
    }
    let opts: Vec<&str> = opts.iter().map(String::as_str).collect();
    let mut cmd = Command::new(tool("rumprun"));
    cmd.args(["qemu", "-i"]).args(&opts).arg(&image);
    run_with_timeout(&mut cmd, BOOT)
}

/// Debian's redis.conf as it is (bound to 127.0.0.1 and ::1, protected mode, logging
/// to /var/log/redis): redis-cli in the same image sets and gets a key.
#[test]
fn redis_with_its_default_config_answers_redis_cli() {
    let mut opts = vec!["-M".to_string(), "256".to_string()];
    opts.extend(redis_rc(""));
    let run = boot_redis(
        opts,
        &[
            "redis-cli --raw set greeting hello-from-rumprun",
            "redis-cli --raw get greeting",
        ],
    );
    run.assert_status(0)
        .assert_stdout_line("OK")
        .assert_stdout_line("hello-from-rumprun");
}

/// redis with an append-only file on an ext2 disk: 1,000 keys written in one boot are
/// all there in the next; the disk is clean after each.
#[test]
fn redis_appendonly_on_ext2_survives_a_reboot() {
    let dir = scratch_dir("redis-aof");
    let disk = mke2fs(&dir, 4096, "64M", None, &[]);
    let disk_opt = format!("{},/data", disk.display());
    let base = |extra: &str| {
        let mut o = vec![
            "-M".to_string(),
            "256".to_string(),
            "-b".to_string(),
            disk_opt.clone(),
        ];
        o.extend(redis_rc(extra));
        o
    };
    let aof = "--appendonly yes --dir /data";
    let run = boot_redis(
        base(aof),
        &[
            "redis-cli --raw eval \"for i=1,1000 do redis.call('set','key:'..i,'value-'..i) end return 1000\" 0",
            "redis-cli --raw dbsize",
            "redis-cli --raw shutdown",
        ],
    );
    run.assert_status(0).assert_stdout_line("1000");
    assert_e2fsck_clean(&disk);

    let run = boot_redis(
        base(aof),
        &[
            "redis-cli --raw dbsize",
            "redis-cli --raw get key:1",
            "redis-cli --raw get key:777",
            "redis-cli --raw get key:1000",
            "redis-cli --raw shutdown",
        ],
    );
    run.assert_status(0)
        .assert_stdout_line("1000")
        .assert_stdout_line("value-1")
        .assert_stdout_line("value-777")
        .assert_stdout_line("value-1000");
    assert_e2fsck_clean(&disk);
}

fn python_image() -> PathBuf {
    let python = debian_program("/usr/bin/python3.11", "python3.11");
    let root = tree_once("python-root", |r| {
        for (name, data) in web_files().into_iter().take(2) {
            write(r, &format!("srv/{name}"), &data);
        }
        mkdirs(r, &["data"]);
        write(r, "root/stdlib_check.py", STDLIB_CHECK.as_bytes());
    });
    bake_programs(
        &[&python],
        "app-python",
        &[
            "-D".as_ref(),
            "-d".as_ref(),
            "libpython3.11-minimal".as_ref(),
            "-d".as_ref(),
            "libpython3.11-stdlib".as_ref(),
            "-r".as_ref(),
            root.as_os_str(),
        ],
    )
}

/// python3 -m http.server serves a file.
#[test]
fn python_http_server_serves_a_file() {
    let port = free_port();
    let guest = Guest::start(
        "python-http",
        &python_image(),
        &user_net("512", &[(port, 8000)]),
        &[
            "-m",
            "http.server",
            "8000",
            "--bind",
            "0.0.0.0",
            "--directory",
            "/srv",
        ],
    );
    let want = pseudo_random(1 << 20, 1);
    let got = curl(&format!("http://127.0.0.1:{port}/1m.bin"), &guest);
    assert_same_bytes("python http.server /1m.bin", &got, &want);
}

/// What python checks of its stdlib: sqlite3 on the ext2 disk, ssl, hashlib, json.
const STDLIB_CHECK: &str = r#"
import hashlib, json, sqlite3, ssl
db = sqlite3.connect("/data/app.db")
db.execute("create table t (id integer primary key, x integer, s text)")
db.executemany("insert into t (x, s) values (?, ?)", ((i, "row %d" % i) for i in range(1, 1001)))
db.commit()
print("sqlite", db.execute("select count(*), sum(x) from t").fetchone())
db.close()
print("sha256", hashlib.sha256(b"rumprun").hexdigest())
print("json", json.dumps(json.loads('{"a": [1, 2, {"b": null}]}'), sort_keys=True))
ctx = ssl.create_default_context()
print("ssl", ssl.OPENSSL_VERSION.split()[0], ctx.verify_mode == ssl.CERT_REQUIRED)
"#;

/// python's sqlite3 module writes a database on an ext2 disk that the host's sqlite3
/// then reads; ssl, hashlib and json work.
#[test]
fn python_sqlite_on_ext2_ssl_hashlib_json() {
    let dir = scratch_dir("python-sqlite");
    let disk = mke2fs(&dir, 4096, "32M", None, &[]);
    let disk_opt = format!("{},/data", disk.display());
    let run = rumprun_qemu(
        &python_image(),
        &["-M", "512", "-b", &disk_opt],
        &["/root/stdlib_check.py"],
    );
    let sha = String::from_utf8(
        check_output(
            Command::new("sh").args(["-c", "printf rumprun | sha256sum"]),
            "sha256sum",
        )
        .stdout,
    )
    .unwrap();
    run.assert_status(0)
        .assert_stdout_line("sqlite (1000, 500500)")
        .assert_stdout_line(&format!("sha256 {}", &sha[..64]))
        .assert_stdout_line("json {\"a\": [1, 2, {\"b\": null}]}")
        .assert_stdout_line("ssl OpenSSL True");
    assert_e2fsck_clean(&disk);
    let db = dir.join("app.db");
    std::fs::write(&db, debugfs_cat(&disk, "/app.db")).unwrap();
    let out = Command::new("sqlite3")
        .arg(&db)
        .arg("select count(*), sum(x), max(s) from t")
        .output()
        .expect("the apps tests need the Debian package sqlite3");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "1000|500500|row 999\n"
    );
}

/// perl with core modules: XS ones from perl-base, a pure-Perl one from
/// perl-modules-5.36.
#[test]
fn perl_with_core_modules() {
    let perl = debian_program("/usr/bin/perl", "perl-base");
    let image = bake_programs(
        &[&perl],
        "app-perl",
        &["-D".as_ref(), "-d".as_ref(), "perl-modules-5.36".as_ref()],
    );
    rumprun_qemu(
        &image,
        &["-M", "256"],
        &[
            "-MList::Util=sum,max",
            "-MPOSIX=floor",
            "-MText::Wrap=wrap",
            "-e",
            "$Text::Wrap::columns = 12; print sum(1..100), ' ', max(3, 9, 2), ' ', floor(7.9), qq{\\n}, wrap('', '', 'one two three four'), qq{\\n}",
        ],
    )
    .assert_status(0)
    .assert_stdout_line("5050 9 7")
    .assert_stdout_line("one two")
    .assert_stdout_line("three four");
}
