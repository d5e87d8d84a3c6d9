//! rust-std: a Rust std program for the rumprun system tests, centred on std::fs in
//! /tmp, with std::env, std::time, threads and channels, Mutex/Condvar, Unix-domain
//! sockets between threads and a panic caught with `catch_unwind` (panic=unwind). Prints one `ok: ...` line per check
//! and `ALL OK`; a failed check panics outside `catch_unwind` (status 101).
//!
//! Arguments: `--exit N` makes the program end with `std::process::exit(N)` after
//! `ALL OK`; every argument is printed as `arg[i]=<arg>`.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, ErrorKind, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixDatagram, UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// 2024-01-01T00:00:00Z.
const JAN_1_2024: u64 = 1_704_067_200;

const ROOT: &str = "/tmp/rust-std";

fn fs_basics() {
    let _ = fs::remove_dir_all(ROOT);
    let deep = Path::new(ROOT).join("a/b/c");
    fs::create_dir_all(&deep).expect("create_dir_all");
    fs::create_dir_all(&deep).expect("create_dir_all of an existing tree");
    assert!(deep.is_dir());
    let err = fs::create_dir(&deep).expect_err("create_dir of an existing dir");
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    println!("ok: create_dir_all {}", deep.display());

    let f = deep.join("hello.txt");
    fs::write(&f, "hello, rumprun\n").expect("write");
    assert_eq!(fs::read_to_string(&f).expect("read"), "hello, rumprun\n");
    let md = fs::metadata(&f).expect("metadata");
    assert!(md.is_file() && !md.is_dir());
    assert_eq!(md.len(), 15);
    let mtime = md.modified().expect("mtime");
    let secs = mtime.duration_since(UNIX_EPOCH).unwrap().as_secs();
    assert!(secs > JAN_1_2024, "mtime {secs} is before 2024");
    println!(
        "ok: write + read_to_string + metadata: len {} mtime {secs}",
        md.len()
    );

    let mut perms = md.permissions();
    perms.set_mode(0o640);
    fs::set_permissions(&f, perms).expect("set_permissions");
    let md = fs::metadata(&f).unwrap();
    assert_eq!(md.permissions().mode() & 0o7777, 0o640);
    assert_eq!(md.mode() & 0o170000, 0o100000, "S_IFREG");
    let mut ro = md.permissions();
    ro.set_readonly(true);
    fs::set_permissions(&f, ro).unwrap();
    assert!(fs::metadata(&f).unwrap().permissions().readonly());
    println!("ok: permissions 0640, then readonly");

    let g = Path::new(ROOT).join("a/renamed.txt");
    fs::rename(&f, &g).expect("rename");
    assert!(!f.exists() && g.is_file());
    assert_eq!(fs::read(&g).unwrap(), b"hello, rumprun\n");
    let err = fs::rename(&f, &g).expect_err("rename of a missing file");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    println!("ok: rename across directories");

    let err = File::open(Path::new(ROOT).join("missing")).expect_err("open missing");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let err = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&g)
        .expect_err("create_new of an existing file");
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    println!("ok: NotFound and AlreadyExists errors");
}

fn fs_listing() {
    let dir = Path::new(ROOT).join("list");
    fs::create_dir(&dir).unwrap();
    for name in ["delta", "alpha", "charlie", "bravo", "echo"] {
        fs::write(dir.join(name), name).unwrap();
    }
    fs::create_dir(dir.join("sub")).unwrap();
    let mut names: Vec<(String, bool)> = fs::read_dir(&dir)
        .expect("read_dir")
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().into_string().unwrap(),
                e.file_type().unwrap().is_dir(),
            )
        })
        .collect();
    names.sort();
    let listing: Vec<String> = names
        .iter()
        .map(|(n, d)| if *d { format!("{n}/") } else { n.clone() })
        .collect();
    assert_eq!(
        listing,
        ["alpha", "bravo", "charlie", "delta", "echo", "sub/"],
        "listing"
    );
    println!("ok: read_dir sorted: {}", listing.join(" "));

    fs::remove_file(dir.join("charlie")).expect("remove_file");
    assert!(!dir.join("charlie").exists());
    let err = fs::remove_file(dir.join("charlie")).expect_err("remove twice");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(fs::read_dir(&dir).unwrap().count(), 5);
    println!("ok: remove_file");

    fs::hard_link(dir.join("alpha"), dir.join("alpha2")).expect("hard_link");
    assert_eq!(fs::metadata(dir.join("alpha")).unwrap().nlink(), 2);
    std::os::unix::fs::symlink("bravo", dir.join("bravo-link")).expect("symlink");
    assert_eq!(
        fs::read_link(dir.join("bravo-link")).unwrap(),
        PathBuf::from("bravo")
    );
    assert_eq!(fs::read_to_string(dir.join("bravo-link")).unwrap(), "bravo");
    assert!(fs::symlink_metadata(dir.join("bravo-link"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        fs::canonicalize(dir.join("sub/../bravo-link")).unwrap(),
        dir.join("bravo")
    );
    println!("ok: hard_link, symlink, read_link, canonicalize");

    let n = fs::copy(dir.join("delta"), dir.join("delta-copy")).expect("fs::copy");
    assert_eq!(n, 5);
    assert_eq!(fs::read_to_string(dir.join("delta-copy")).unwrap(), "delta");
    println!("ok: fs::copy");
}

fn fs_seek_append() {
    let p = Path::new(ROOT).join("seek.bin");
    let mut f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&p)
        .unwrap();
    let data: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
    f.write_all(&data).unwrap();
    assert_eq!(f.stream_position().unwrap(), 100_000);
    f.seek(SeekFrom::Start(1000)).unwrap();
    let mut buf = [0u8; 4];
    f.read_exact(&mut buf).unwrap();
    assert_eq!(buf, [232, 233, 234, 235]);
    f.seek(SeekFrom::Current(-2)).unwrap();
    f.read_exact(&mut buf).unwrap();
    assert_eq!(buf, [234, 235, 236, 237]);
    assert_eq!(f.seek(SeekFrom::End(-1)).unwrap(), 99_999);
    f.read_exact(&mut buf[..1]).unwrap();
    assert_eq!(buf[0], (99_999 % 256) as u8);
    // A write past the end leaves a hole that reads as zeros.
    f.seek(SeekFrom::Start(200_000)).unwrap();
    f.write_all(b"END").unwrap();
    f.sync_all().expect("sync_all");
    assert_eq!(f.metadata().unwrap().len(), 200_003);
    f.seek(SeekFrom::Start(150_000)).unwrap();
    f.read_exact(&mut buf).unwrap();
    assert_eq!(buf, [0; 4]);
    f.set_len(50).expect("set_len");
    assert_eq!(fs::metadata(&p).unwrap().len(), 50);
    drop(f);
    println!("ok: File seek Start/Current/End, hole reads zeros, sync_all, set_len");

    let log = Path::new(ROOT).join("log.txt");
    for i in 0..3 {
        let mut f = OpenOptions::new()
            .append(true)
            .create(true)
            .open(&log)
            .unwrap();
        writeln!(f, "line {i}").unwrap();
    }
    // Append mode writes at the end even after a seek.
    let mut f = OpenOptions::new().append(true).open(&log).unwrap();
    f.seek(SeekFrom::Start(0)).unwrap();
    f.write_all(b"line 3\n").unwrap();
    drop(f);
    assert_eq!(
        fs::read_to_string(&log).unwrap(),
        "line 0\nline 1\nline 2\nline 3\n"
    );
    println!("ok: OpenOptions append (4 lines, the last after a seek to 0)");
}

fn fs_cleanup() {
    fs::remove_dir_all(ROOT).expect("remove_dir_all");
    assert!(!Path::new(ROOT).exists());
    assert!(Path::new("/tmp").is_dir());
    println!("ok: remove_dir_all {ROOT}");
}

fn env(args: &[String]) {
    for (i, a) in args.iter().enumerate() {
        println!("arg[{i}]={a}");
    }
    assert!(!args.is_empty(), "argv[0]");
    assert_eq!(std::env::var("RUST_STD").as_deref(), Ok("env value"));
    assert!(std::env::var_os("RUST_STD_UNSET").is_none());
    assert!(std::env::vars().any(|(k, v)| k == "RUST_STD" && v == "env value"));
    std::env::set_var("RUST_STD_SET", "1");
    assert_eq!(std::env::var("RUST_STD_SET").as_deref(), Ok("1"));
    println!("ok: env args ({}) and vars", args.len());

    let cwd = std::env::current_dir().expect("current_dir");
    println!("ok: current_dir {}", cwd.display());
    fs::create_dir_all(Path::new(ROOT).join("cwd")).unwrap();
    std::env::set_current_dir(Path::new(ROOT).join("cwd")).expect("set_current_dir");
    assert_eq!(
        std::env::current_dir().unwrap(),
        Path::new(ROOT).join("cwd")
    );
    fs::write("relative.txt", "rel").unwrap();
    assert_eq!(
        fs::read_to_string(Path::new(ROOT).join("cwd/relative.txt")).unwrap(),
        "rel"
    );
    assert_eq!(fs::read_to_string("../cwd/relative.txt").unwrap(), "rel");
    std::env::set_current_dir(&cwd).unwrap();
    assert_eq!(std::env::current_dir().unwrap(), cwd);
    assert_eq!(std::env::temp_dir(), Path::new("/tmp"));
    println!(
        "ok: set_current_dir, relative paths, back to {}",
        cwd.display()
    );
}

fn time() {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after the epoch")
        .as_secs();
    assert!(now > JAN_1_2024, "SystemTime {now} is before 2024");
    let t = Instant::now();
    thread::sleep(Duration::from_millis(30));
    let e = t.elapsed();
    assert!(e >= Duration::from_millis(30), "slept {e:?}");
    assert!(e < Duration::from_secs(5), "slept {e:?}");
    let a = Instant::now();
    let b = Instant::now();
    assert!(b >= a);
    println!("ok: SystemTime {now} after 2024, Instant: 30 ms sleep took {e:?}");
}

fn threads() {
    let (tx, rx) = mpsc::channel::<u64>();
    let workers: Vec<_> = (0..4u64)
        .map(|w| {
            let tx = tx.clone();
            thread::spawn(move || {
                for i in 0..100 {
                    tx.send(w * 1000 + i).unwrap();
                }
                w
            })
        })
        .collect();
    drop(tx);
    let received: Vec<u64> = rx.iter().collect();
    let ids: u64 = workers.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(ids, 6);
    assert_eq!(received.len(), 400);
    assert_eq!(received.iter().sum::<u64>(), 6 * 100 * 1000 + 4 * 4950);
    println!("ok: 4 threads sent 400 messages over a channel");

    let counter = Arc::new(Mutex::new(0u64));
    let hs: Vec<_> = (0..4)
        .map(|_| {
            let c = Arc::clone(&counter);
            thread::spawn(move || {
                for _ in 0..10_000 {
                    *c.lock().unwrap() += 1;
                }
            })
        })
        .collect();
    hs.into_iter().for_each(|h| h.join().unwrap());
    assert_eq!(*counter.lock().unwrap(), 40_000);
    println!("ok: Arc<Mutex> counter 40000");

    let pair = Arc::new((Mutex::new(Vec::<u32>::new()), Condvar::new()));
    let p2 = Arc::clone(&pair);
    let producer = thread::spawn(move || {
        for i in 1..=5 {
            thread::sleep(Duration::from_millis(5));
            let (m, cv) = &*p2;
            m.lock().unwrap().push(i);
            cv.notify_one();
        }
    });
    let (m, cv) = &*pair;
    let mut got = Vec::new();
    while got.len() < 5 {
        let mut q = cv.wait_while(m.lock().unwrap(), |q| q.is_empty()).unwrap();
        got.append(&mut q);
    }
    producer.join().unwrap();
    assert_eq!(got, [1, 2, 3, 4, 5]);
    let (_g, timeout) = cv
        .wait_timeout(m.lock().unwrap(), Duration::from_millis(20))
        .unwrap();
    assert!(timeout.timed_out());
    println!("ok: Condvar queue 1..5 and wait_timeout timed out");
}

/// std::os::unix::net: a listener in /tmp serving client threads line by line, a
/// stream pair with a non-blocking end, datagrams with their sender's path.
fn unix_sockets() {
    let path = Path::new("/tmp/rust-std.sock");
    let _ = fs::remove_file(path);
    let listener = UnixListener::bind(path).expect("UnixListener::bind");
    assert!(fs::metadata(path).unwrap().file_type().is_socket());
    let clients: Vec<_> = (0..3)
        .map(|i| {
            thread::spawn(move || {
                let mut s = UnixStream::connect("/tmp/rust-std.sock").expect("connect");
                writeln!(s, "hello {i}").unwrap();
                let mut line = String::new();
                BufReader::new(&s).read_line(&mut line).unwrap();
                line
            })
        })
        .collect();
    for _ in 0..3 {
        let (conn, _) = listener.accept().expect("accept");
        let mut line = String::new();
        BufReader::new(&conn).read_line(&mut line).unwrap();
        (&conn).write_all(line.to_uppercase().as_bytes()).unwrap();
    }
    let mut replies: Vec<String> = clients.into_iter().map(|h| h.join().unwrap()).collect();
    replies.sort();
    assert_eq!(replies, ["HELLO 0\n", "HELLO 1\n", "HELLO 2\n"]);
    assert_eq!(
        listener.local_addr().unwrap().as_pathname(),
        Some(path),
        "listener address"
    );
    drop(listener);
    fs::remove_file(path).unwrap();

    let (a, mut b) = UnixStream::pair().expect("UnixStream::pair");
    a.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(
        (&a).read(&mut buf).unwrap_err().kind(),
        ErrorKind::WouldBlock
    );
    b.write_all(b"pair").unwrap();
    drop(b);
    a.set_nonblocking(false).unwrap();
    let mut all = String::new();
    (&a).read_to_string(&mut all).unwrap();
    assert_eq!(all, "pair");

    let server = UnixDatagram::bind("/tmp/rust-std-dgram.sock").expect("UnixDatagram::bind");
    let client = UnixDatagram::bind("/tmp/rust-std-client.sock").unwrap();
    let sender = thread::spawn(move || {
        for word in ["one", "two", "three"] {
            client
                .send_to(word.as_bytes(), "/tmp/rust-std-dgram.sock")
                .unwrap();
        }
    });
    let mut got = Vec::new();
    for _ in 0..3 {
        let (n, from) = server.recv_from(&mut buf).unwrap();
        assert_eq!(
            from.as_pathname(),
            Some(Path::new("/tmp/rust-std-client.sock"))
        );
        got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    sender.join().unwrap();
    assert_eq!(got, ["one", "two", "three"]);
    fs::remove_file("/tmp/rust-std-dgram.sock").unwrap();
    fs::remove_file("/tmp/rust-std-client.sock").unwrap();
    println!("ok: UnixListener served 3 client threads; UnixStream::pair; UnixDatagram send_to/recv_from");
}

/// A panic payload's message: a `String` (formatted) or a `&str` (constant).
fn payload_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "<not a string>".into())
}

fn catch_panic() {
    std::panic::set_hook(Box::new(|info| {
        println!("panic hook: {info}");
    }));
    let r = std::panic::catch_unwind(|| {
        let v: Vec<u32> = Vec::new();
        let i = v.len() + 3;
        v[i]
    });
    let msg = r.expect_err("index out of bounds must panic");
    let msg = payload_text(&*msg);
    assert!(msg.contains("index out of bounds"), "{msg}");
    let h = thread::spawn(|| panic!("thread panic {}", 7));
    let e = h.join().expect_err("a panicking thread's join is Err");
    assert_eq!(payload_text(&*e), "thread panic 7");
    let _ = std::panic::take_hook();
    println!("ok: catch_unwind caught {msg:?}; a thread's panic came back from join");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let exit_code = args
        .windows(2)
        .find(|w| w[0] == "--exit")
        .map(|w| w[1].parse::<i32>().expect("--exit N"));

    fs_basics();
    fs_listing();
    fs_seek_append();
    env(&args);
    fs_cleanup();
    time();
    threads();
    unix_sockets();
    catch_panic();
    println!("ALL OK");
    if let Some(code) = exit_code {
        println!("exiting with {code}");
        std::process::exit(code);
    }
}
