//! Real programs that start processes (issue 15), Debian 12's own binaries baked with
//! `rumprun-bake -D`: busybox httpd forking per connection, redis's BGSAVE and
//! BGREWRITEAOF children (their files checked by the host's redis-check-rdb and
//! redis-check-aof), nginx's master with two workers, python's subprocess and
//! multiprocessing, perl's backticks, node's child_process, Go's os/exec. Bodies are
//! checked byte for byte from the host.

mod apps_common;

use apps_common::*;
use rumprun_system_tests::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const BOOT: Duration = Duration::from_secs(180);

/// busybox (dynamically linked: its libc comes with -D) with applet links in /bin
/// and `extra` files in the root.
fn busybox_root(r: &Path, applets: &[&str]) {
    mkdirs(r, &["bin"]);
    for a in applets {
        std::os::unix::fs::symlink("busybox", r.join("bin").join(a)).unwrap();
    }
}

/// `busybox httpd -f` forks a child per connection: 50 requests from the host, each
/// body checked (a small page and 1 MiB).
#[test]
fn busybox_httpd_forks_a_child_per_request() {
    let busybox = debian_program("/bin/busybox", "busybox");
    let root = tree_once("httpd-root", |r| {
        busybox_root(r, &["sh"]);
        for (name, data) in web_files().into_iter().take(2) {
            write(r, &format!("www/{name}"), &data);
        }
    });
    let image = bake_programs(
        &[&busybox],
        "app-httpd",
        &["-D".as_ref(), "-r".as_ref(), root.as_os_str()],
    );
    let port = free_port();
    let mut opts = user_net("256", &[(port, 80)]);
    opts.extend(["-r".into(), "busybox httpd -f -p 80 -h /www".into()]);
    let guest = Guest::start("httpd", &image, &opts, &[]);
    let files = web_files();
    for i in 0..50 {
        let (name, want) = &files[if i % 10 == 9 { 1 } else { 0 }];
        let got = curl(&format!("http://127.0.0.1:{port}/{name}"), &guest);
        assert_same_bytes(&format!("httpd /{name} (request {i})"), &got, want);
    }
    let console = guest.console();
    assert!(!console.contains("can't fork"), "httpd:\n{console}");
}

/// `redis-cli` on the host against the guest's redis (`args`); its output.
fn redis_cli(port: u16, args: &[&str], guest: &Guest) -> String {
    let out = Command::new("redis-cli")
        .args(["-p", &port.to_string(), "--raw"])
        .args(args)
        .output()
        .expect("the redis tests need redis-cli (Debian package redis-tools)");
    assert!(
        out.status.success(),
        "redis-cli {args:?}: {}\nguest:\n{}",
        String::from_utf8_lossy(&out.stderr),
        guest.console()
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Polls `INFO persistence` until every `field:value` in `want` holds.
fn redis_wait_for(port: u16, want: &[&str], guest: &Guest) {
    let start = Instant::now();
    loop {
        let info = redis_cli(port, &["info", "persistence"], guest);
        let lines: Vec<&str> = info.lines().map(str::trim).collect();
        if want.iter().all(|w| lines.contains(w)) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60) && !guest.ended(),
            "redis never reached {want:?}:\n{info}\nguest:\n{}",
            guest.console()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A host tool on `args`; fails with its output unless it exits 0. Its stdout.
fn host_tool(tool: &str, package: &str, args: &[&Path]) -> String {
    let out = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{tool}: {e} (Debian package {package})"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{tool} {args:?} failed:\n{text}");
    text
}

/// redis with Debian's config (listening on the card so the host reaches it, data
/// on an ext2 disk): BGSAVE and BGREWRITEAOF each fork a child that writes the data
/// set while the parent goes on serving (and an fsync thread appends to the AOF);
/// the host's redis-check-rdb and redis-check-aof accept what they wrote, and a
/// redis on the host loads the AOF with every key.
#[test]
fn redis_bgsave_and_bgrewriteaof_children_write_valid_files() {
    let dir = scratch_dir("redis-bg");
    let disk = mke2fs(&dir, 4096, "64M", None, &[]);
    let image = redis_image();
    let port = free_port();
    let mut opts = user_net("256", &[(port, 6379)]);
    opts.extend([
        "-b".into(),
        format!("{},/data", disk.display()),
        "-r".into(),
        "redis-server /etc/redis/redis.conf --daemonize no --dir /data --logfile '' \
         --bind '* -::*' --protected-mode no"
            .into(),
    ]);
    let guest = Guest::start("redis-bg", &image, &opts, &[]);
    let start = Instant::now();
    while Command::new("redis-cli")
        .args(["-p", &port.to_string(), "ping"])
        .output()
        .map(|o| !String::from_utf8_lossy(&o.stdout).contains("PONG"))
        .unwrap_or(true)
    {
        assert!(
            start.elapsed() < Duration::from_secs(120) && !guest.ended(),
            "redis did not start:\n{}",
            guest.console()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    let fill = "for i=1,1000 do redis.call('set','key:'..i,'value-'..i) end return 1000";
    assert_eq!(redis_cli(port, &["eval", fill, "0"], &guest).trim(), "1000");
    assert!(redis_cli(port, &["bgsave"], &guest).contains("Background saving started"));
    redis_wait_for(
        port,
        &["rdb_bgsave_in_progress:0", "rdb_last_bgsave_status:ok"],
        &guest,
    );
    // The append-only file: turning it on rewrites it in a child; writes go on into
    // the new incremental file (fsynced by a thread), then BGREWRITEAOF again.
    assert_eq!(
        redis_cli(port, &["config", "set", "appendonly", "yes"], &guest).trim(),
        "OK"
    );
    redis_wait_for(
        port,
        &[
            "aof_rewrite_in_progress:0",
            "aof_rewrite_scheduled:0",
            "aof_rewrites:1",
        ],
        &guest,
    );
    for i in 0..3 {
        redis_cli(port, &["incr", "counter"], &guest);
        redis_cli(port, &["set", &format!("between:{i}"), "x"], &guest);
    }
    assert!(redis_cli(port, &["bgrewriteaof"], &guest).contains("rewriting started"));
    redis_wait_for(
        port,
        &[
            "aof_rewrite_in_progress:0",
            "aof_rewrites:2",
            "aof_last_bgrewrite_status:ok",
        ],
        &guest,
    );
    redis_cli(port, &["set", "after-rewrite", "yes"], &guest);
    // SHUTDOWN NOSAVE: no RDB at exit (the dump is the BGSAVE child's); the AOF is
    // flushed and fsynced.
    let _ = Command::new("redis-cli")
        .args(["-p", &port.to_string(), "shutdown", "nosave"])
        .output();
    let (status, console) = guest.wait(BOOT);
    assert_eq!(status, Some(0), "redis:\n{console}");
    for line in [
        "Background saving terminated with success",
        "Background AOF rewrite finished successfully",
    ] {
        assert!(console.contains(line), "no {line:?}:\n{console}");
    }
    assert_e2fsck_clean(&disk);

    let out = scratch_dir("redis-bg-files");
    let rdb = out.join("dump.rdb");
    std::fs::write(&rdb, debugfs_cat(&disk, "/dump.rdb")).unwrap();
    let check = host_tool("redis-check-rdb", "redis-server", &[&rdb]);
    assert!(check.contains("RDB looks OK"), "{check}");
    assert!(check.contains("1000 keys read"), "{check}");

    let aof_dir = out.join("appendonlydir");
    std::fs::create_dir_all(&aof_dir).unwrap();
    let listing = check_output(
        Command::new("debugfs")
            .args(["-R", "ls -l /appendonlydir"])
            .arg(&disk),
        "debugfs",
    )
    .stdout;
    let names: Vec<String> = String::from_utf8_lossy(&listing)
        .lines()
        .filter_map(|l| l.split_whitespace().last().map(String::from))
        .filter(|n| n.starts_with("appendonly.aof"))
        .collect();
    assert!(
        names.iter().any(|n| n.ends_with(".manifest")),
        "no manifest in {names:?}"
    );
    for n in &names {
        std::fs::write(
            aof_dir.join(n),
            debugfs_cat(&disk, &format!("/appendonlydir/{n}")),
        )
        .unwrap();
    }
    let manifest = aof_dir.join("appendonly.aof.manifest");
    let check = host_tool("redis-check-aof", "redis-server", &[&manifest]);
    assert!(check.contains("is valid"), "{check}");
    assert_aof_holds_the_data(&out);
}

/// A redis on the host (loopback, a free port) loads the guest's AOF: every key.
fn assert_aof_holds_the_data(dir: &Path) {
    let port = free_port();
    let mut server = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--appendonly", "yes", "--save", "", "--daemonize", "no"])
        .arg("--dir")
        .arg(dir)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("redis-server (Debian package redis-server)");
    let cli = |args: &[&str]| -> Option<String> {
        let o = Command::new("redis-cli")
            .args(["-p", &port.to_string(), "--raw"])
            .args(args)
            .output()
            .ok()?;
        o.status
            .success()
            .then(|| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let start = Instant::now();
    while cli(&["ping"]).as_deref() != Some("PONG") {
        assert!(start.elapsed() < Duration::from_secs(30), "host redis");
        std::thread::sleep(Duration::from_millis(100));
    }
    let got = (
        cli(&["dbsize"]),
        cli(&["get", "key:777"]),
        cli(&["get", "counter"]),
        cli(&["get", "after-rewrite"]),
    );
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(
        got,
        (
            Some("1005".into()),
            Some("value-777".into()),
            Some("3".into()),
            Some("yes".into())
        ),
        "the AOF as the host's redis loads it"
    );
}

/// nginx with Debian's configuration, in master/worker mode with two workers: the
/// page and 1 MiB (byte for byte), several times over. Debian's nginx.conf says
/// `worker_processes auto;` (one here) and a repeated directive is an error, so the
/// image carries a copy saying 2.
#[test]
fn nginx_master_with_two_workers_serves_pages() {
    let nginx = debian_program("/usr/sbin/nginx", "nginx");
    let conf = std::fs::read_to_string("/etc/nginx/nginx.conf")
        .expect("/etc/nginx/nginx.conf (Debian package nginx-common)");
    assert!(conf.contains("\nworker_processes auto;"), "{conf}");
    let root = tree_once("nginx-mp-root", |r| {
        nginx_install_tree(r);
        write(
            r,
            "etc/nginx/nginx-2-workers.conf",
            conf.replace("\nworker_processes auto;", "\nworker_processes 2;")
                .as_bytes(),
        );
        for (name, data) in web_files().into_iter().take(2) {
            write(r, &format!("var/www/html/{name}"), &data);
        }
    });
    let image = bake_programs(
        &[&nginx],
        "app-nginx-mp",
        &[
            "-D".as_ref(),
            "-d".as_ref(),
            "nginx-common".as_ref(),
            "-r".as_ref(),
            root.as_os_str(),
        ],
    );
    let port = free_port();
    let guest = Guest::start(
        "nginx-mp",
        &image,
        &user_net("256", &[(port, 80)]),
        &[
            "-c",
            "/etc/nginx/nginx-2-workers.conf",
            "-g",
            "daemon off; master_process on; error_log stderr notice;",
        ],
    );
    for round in 0..4 {
        for (name, want) in web_files().into_iter().take(2) {
            let got = curl(&format!("http://127.0.0.1:{port}/{name}"), &guest);
            assert_same_bytes(&format!("nginx /{name} (round {round})"), &got, &want);
        }
    }
    let console = guest.console();
    for line in ["start worker process 2", "start worker process 3"] {
        assert!(console.contains(line), "no {line:?}:\n{console}");
    }
    for bad in ["[emerg]", "[alert]", "[crit]"] {
        assert!(!console.contains(bad), "nginx:\n{console}");
    }
}

/// An image of `prog` (with -D) and busybox, applet links for what the scripts run,
/// and `files`.
fn image_with_busybox(name: &str, prog: &Path, extra: &[&str], files: &[(&str, &str)]) -> PathBuf {
    let busybox = debian_program("/bin/busybox", "busybox");
    let root = tree_once(&format!("{name}-root"), |r| {
        busybox_root(r, &["sh", "echo", "cat", "tr", "wc", "sleep"]);
        for (path, data) in files {
            write(r, path, data.as_bytes());
        }
    });
    let mut args: Vec<&std::ffi::OsStr> = vec!["-D".as_ref()];
    for e in extra {
        args.push("-d".as_ref());
        args.push(e.as_ref());
    }
    args.push("-r".as_ref());
    args.push(root.as_os_str());
    bake_programs(&[prog, &busybox], name, &args)
}

const PYTHON_PROCS: &str = r#"import multiprocessing, os, subprocess, sys
def square(x):
    return x * x
def worker_pid(_):
    return os.getpid()
if __name__ == "__main__":
    print("executable", sys.executable, os.path.exists(sys.executable))
    r = subprocess.run(["/bin/echo", "hello", "from", "echo"], capture_output=True, text=True)
    print("run", r.returncode, r.stdout.strip())
    r = subprocess.run("echo $((6 * 7)) | tr 4 x", shell=True, capture_output=True, text=True)
    print("shell", r.returncode, r.stdout.strip())
    r = subprocess.run(["/bin/sh", "-c", "exit 3"])
    print("status", r.returncode)
    r = subprocess.run([sys.executable, "-c", "import os; print(os.getppid())"],
                       capture_output=True, text=True)
    print("python child", r.returncode, r.stdout.strip() == str(os.getpid()))
    p = subprocess.Popen(["/bin/cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    out, _ = p.communicate(b"x" * 100000)
    print("pipe", len(out), p.returncode)
    with multiprocessing.Pool(2) as pool:
        print("pool", sum(pool.map(square, range(1000))))
    with multiprocessing.Pool(2) as pool:
        pids = set(pool.map(worker_pid, range(200), chunksize=1))
    print("workers", len(pids) >= 1 and os.getpid() not in pids)
    # Fresh interpreters whose locks are named semaphores (sem_open: /dev/shm files
    # each process maps itself): they must share the file's pages.
    for method in ("spawn", "forkserver"):
        multiprocessing.set_start_method(method, force=True)
        with multiprocessing.Pool(2) as pool:
            print(method, sum(pool.map(square, range(1000))))
"#;

/// python3: subprocess.run of programs and of a shell pipeline, exit statuses, a
/// python child, a pipe both ways (Popen.communicate), and multiprocessing.Pool(2).map
/// with the fork (default), spawn and forkserver start methods.
#[test]
fn python_subprocess_and_multiprocessing_pool() {
    let python = debian_program("/usr/bin/python3.11", "python3.11");
    let image = image_with_busybox(
        "app-python-procs",
        &python,
        &["libpython3.11-minimal", "libpython3.11-stdlib"],
        &[("srv/procs.py", PYTHON_PROCS)],
    );
    let run = run_with_timeout(
        Command::new(tool("rumprun"))
            .args(["qemu", "-i", "-M", "512", "-r", "python3.11 /srv/procs.py"])
            .arg(&image),
        BOOT,
    );
    run.assert_status(0)
        .assert_output_lacks("Traceback")
        .assert_stdout_line("executable /bin/python3.11 True")
        .assert_stdout_line("run 0 hello from echo")
        .assert_stdout_line("shell 0 x2")
        .assert_stdout_line("status 3")
        .assert_stdout_line("python child 0 True")
        .assert_stdout_line("pipe 100000 0")
        .assert_stdout_line(&format!(
            "pool {}",
            (0..1000u64).map(|x| x * x).sum::<u64>()
        ))
        .assert_stdout_line("workers True")
        .assert_stdout_line(&format!(
            "spawn {}",
            (0..1000u64).map(|x| x * x).sum::<u64>()
        ))
        .assert_stdout_line(&format!(
            "forkserver {}",
            (0..1000u64).map(|x| x * x).sum::<u64>()
        ));
}

/// perl: backticks (a program, and a shell pipeline through /bin/sh), qx in list
/// context, system with an exit status, and a pipe open.
#[test]
fn perl_backticks_system_and_pipe_open() {
    let perl = debian_program("/usr/bin/perl", "perl-base");
    let script = r#"my $o = `/bin/echo hello from backticks`; print "backticks: $o";
my $s = `echo \$((6 * 7)) | tr 4 x`; print "shell: $s";
my @l = qx(/bin/echo a; /bin/echo b; /bin/echo c); print "lines: ", scalar(@l), "\n";
system("/bin/sh", "-c", "exit 5"); print "status: ", $? >> 8, "\n";
open(my $p, "-|", "/bin/echo", "piped") or die "open: $!"; print "pipe: ", <$p>; close($p);
open(my $w, "|-", "/bin/wc -c") or die "open: $!"; print $w "x" x 5000; close($w);
"#;
    let image = image_with_busybox("app-perl-procs", &perl, &[], &[("srv/procs.pl", script)]);
    run_with_timeout(
        Command::new(tool("rumprun"))
            .args(["qemu", "-i", "-M", "256", "-r", "perl /srv/procs.pl"])
            .arg(&image),
        BOOT,
    )
    .assert_status(0)
    .assert_stdout_line("backticks: hello from backticks")
    .assert_stdout_line("shell: x2")
    .assert_stdout_line("lines: 3")
    .assert_stdout_line("status: 5")
    .assert_stdout_line("pipe: piped")
    .assert_stdout_line("5000");
}

/// node: child_process.execFile, exec through /bin/sh, and spawnSync of node itself
/// (process.execPath). 384 MiB, of which the image itself (node with its package's
/// files) takes 270: the child maps the 100 MB node binary's pages from the page
/// cache, which are the payload's own pages; exec copies nothing (it needed 1 GiB
/// when exec read the binary whole and loaded a private copy for each process).
#[test]
fn node_child_process_exec_file() {
    let node = debian_program("/usr/bin/node", "nodejs");
    let script = r#"const { execFile, exec, spawnSync } = require('child_process');
execFile('/bin/echo', ['hello', 'from', 'execFile'], (err, stdout) => {
  if (err) { console.log('execFile error', err); process.exit(1); }
  console.log('execFile: ' + stdout.trim());
  exec('echo $((6 * 7)) | tr 4 x', (err2, out2) => {
    console.log('exec: ' + (err2 ? err2 : out2.trim()));
    const r = spawnSync(process.execPath, ['-e', 'console.log(process.ppid)']);
    console.log('node child: ' + r.status + ' ' + (r.stdout.toString().trim() === String(process.pid)));
    execFile('/bin/sh', ['-c', 'exit 4'], (err3) => console.log('status: ' + err3.code));
  });
});
"#;
    let image = image_with_busybox("app-node-procs", &node, &[], &[("srv/procs.js", script)]);
    run_with_timeout(
        Command::new(tool("rumprun"))
            .args(["qemu", "-i", "-M", "384", "-r", "node /srv/procs.js"])
            .arg(&image),
        BOOT,
    )
    .assert_status(0)
    .assert_stdout_line("execFile: hello from execFile")
    .assert_stdout_line("exec: x2")
    .assert_stdout_line("node child: 0 true")
    .assert_stdout_line("status: 4");
}

/// A Go program (tests/programs/goexec, built here with Debian's Go, statically as
/// Go does without cgo) using os/exec: a program, a shell pipeline, an exit status,
/// stdin through a child, itself again through os.Executable, and a missing program.
#[test]
fn go_os_exec() {
    let prog = build_go("goexec");
    let image = image_with_busybox("app-goexec", &prog, &[], &[]);
    let run = run_with_timeout(
        Command::new(tool("rumprun"))
            .args(["qemu", "-i", "-M", "256", "-r", "goexec"])
            .arg(&image),
        BOOT,
    );
    run.assert_status(0)
        .assert_stdout_line("run: \"hello from echo\" <nil>")
        .assert_stdout_line("shell: \"x2\" <nil>")
        .assert_stdout_line("status: 3")
        .assert_stdout_line("stdin: \"70000\" <nil>")
        .assert_stdout_line("self: <nil> \"child of 1\" <nil>")
        .assert_stdout_line("my pid 1")
        .assert_stdout_line("missing: fork/exec /bin/does-not-exist: no such file or directory");
}
