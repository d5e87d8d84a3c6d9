//! rust-threads: a Rust std program for the rumprun system tests that uses threads,
//! mpsc channels, `Arc<Mutex>`, a `Condvar` notified by a thread that sleeps first,
//! `Instant`/`SystemTime`, `std::env`, and a panic caught with `catch_unwind`
//! (built with panic=unwind). Prints `ok: ...` per check and `ALL OK`; a failed check
//! panics outside `catch_unwind`, which ends the program with status 101.

use std::panic;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// 2024-01-01T00:00:00Z.
const JAN_1_2024: u64 = 1_704_067_200;

fn threads_and_join() {
    let handles: Vec<_> = (0..8u64)
        .map(|i| {
            thread::Builder::new()
                .name(format!("worker-{i}"))
                .spawn(move || {
                    let name = thread::current().name().map(str::to_owned);
                    (i, (0..=1000 * i).sum::<u64>(), name)
                })
                .expect("spawn")
        })
        .collect();
    for h in handles {
        let (i, sum, name) = h.join().expect("join");
        assert_eq!(sum, 1000 * i * (1000 * i + 1) / 2, "thread {i} sum");
        assert_eq!(name.as_deref(), Some(format!("worker-{i}").as_str()));
    }
    let scoped_total: u64 = thread::scope(|s| {
        let hs: Vec<_> = (1..=4u64).map(|i| s.spawn(move || i * 10)).collect();
        hs.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(scoped_total, 100);
    println!("ok: 8 named threads joined with their results, scoped threads");
}

fn channels() {
    let (tx, rx) = mpsc::channel::<(usize, u32)>();
    let producers: Vec<_> = (0..4)
        .map(|p| {
            let tx = tx.clone();
            thread::spawn(move || {
                for n in 0..250 {
                    tx.send((p, n)).unwrap();
                    if n % 50 == 0 {
                        thread::yield_now();
                    }
                }
            })
        })
        .collect();
    drop(tx);
    let mut next = [0u32; 4];
    let mut count = 0;
    for (p, n) in rx {
        assert_eq!(n, next[p], "messages of producer {p} out of order");
        next[p] += 1;
        count += 1;
    }
    for p in producers {
        p.join().unwrap();
    }
    assert_eq!(count, 1000);

    // A rendezvous channel: the receiver blocks until the sender sleeps and sends.
    let (stx, srx) = mpsc::sync_channel::<&'static str>(0);
    let t = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        stx.send("late").unwrap();
    });
    assert_eq!(srx.recv_timeout(Duration::from_secs(5)), Ok("late"));
    t.join().unwrap();
    let (_keep, rx2) = mpsc::channel::<u8>();
    let start = Instant::now();
    assert_eq!(
        rx2.recv_timeout(Duration::from_millis(50)),
        Err(mpsc::RecvTimeoutError::Timeout)
    );
    assert!(start.elapsed() >= Duration::from_millis(45));
    println!("ok: mpsc: 4 producers x 250 messages in order, sync_channel, recv_timeout");
}

fn arc_mutex() {
    let counter = Arc::new(Mutex::new(0u64));
    let hs: Vec<_> = (0..6)
        .map(|_| {
            let c = Arc::clone(&counter);
            thread::spawn(move || {
                for i in 0..1000 {
                    *c.lock().unwrap() += 1;
                    if i % 100 == 0 {
                        thread::yield_now();
                    }
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    assert_eq!(*counter.lock().unwrap(), 6000);
    assert_eq!(Arc::strong_count(&counter), 1);
    println!("ok: Arc<Mutex<u64>> incremented 6000 times by 6 threads");
}

fn condvar() {
    let pair = Arc::new((Mutex::new(false), Condvar::new()));
    let notifier = {
        let pair = Arc::clone(&pair);
        thread::spawn(move || {
            thread::sleep(Duration::from_millis(50));
            let (m, cv) = &*pair;
            *m.lock().unwrap() = true;
            cv.notify_all();
        })
    };
    let start = Instant::now();
    let (m, cv) = &*pair;
    let ready = cv
        .wait_while(m.lock().unwrap(), |ready| !*ready)
        .expect("wait_while");
    assert!(*ready);
    drop(ready);
    let waited = start.elapsed();
    notifier.join().unwrap();
    assert!(
        waited >= Duration::from_millis(45) && waited < Duration::from_secs(5),
        "waited {waited:?} for a notifier that slept 50 ms"
    );

    let (m2, cv2) = (Mutex::new(()), Condvar::new());
    let start = Instant::now();
    let (_g, res) = cv2
        .wait_timeout(m2.lock().unwrap(), Duration::from_millis(60))
        .unwrap();
    let waited2 = start.elapsed();
    assert!(res.timed_out());
    assert!(
        waited2 >= Duration::from_millis(55) && waited2 < Duration::from_secs(5),
        "wait_timeout(60 ms) took {waited2:?}"
    );
    println!(
        "ok: Condvar woken by a sleeping notifier after {} ms; wait_timeout timed out",
        waited.as_millis()
    );
}

fn time() {
    let t0 = Instant::now();
    thread::sleep(Duration::from_millis(30));
    let slept = t0.elapsed();
    assert!(
        slept >= Duration::from_millis(30) && slept < Duration::from_secs(5),
        "sleep(30 ms) took {slept:?}"
    );
    let mut prev = Instant::now();
    for _ in 0..1000 {
        let now = Instant::now();
        assert!(now >= prev, "Instant went back");
        prev = now;
    }
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("SystemTime before 1970");
    assert!(
        since_epoch.as_secs() > JAN_1_2024,
        "SystemTime {since_epoch:?} is before 2024"
    );
    println!("ok: Instant monotonic, sleep(30 ms) took {slept:?}, SystemTime after 2024");
}

fn env() {
    let args: Vec<String> = std::env::args().collect();
    assert!(!args.is_empty() && !args[0].is_empty(), "no argv[0]");
    assert_eq!(
        args[1..],
        ["two words", "x"],
        "arguments as passed to rumprun"
    );
    assert_eq!(std::env::var("RUST_THREADS").as_deref(), Ok("env value"));
    assert!(std::env::var_os("RUST_THREADS_UNSET_VARIABLE").is_none());
    std::env::set_var("RUST_THREADS_SET", "1");
    assert_eq!(std::env::var("RUST_THREADS_SET").as_deref(), Ok("1"));
    assert!(std::env::vars().any(|(k, v)| k == "RUST_THREADS" && v == "env value"));
    println!("ok: std::env args and variables");
}

fn catch_panic() {
    let hook_ran = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&hook_ran);
    panic::set_hook(Box::new(move |info| {
        flag.store(true, Ordering::SeqCst);
        println!("panic hook: {info}");
    }));
    let r = panic::catch_unwind(|| {
        let v: Vec<u32> = Vec::new();
        if v.is_empty() {
            panic!("deliberate panic {}", 42);
        }
        v[0]
    });
    let _ = panic::take_hook();
    let err = r.expect_err("the closure panicked");
    // A String, or a &str when the compiler folded the formatting.
    let msg = err
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "<not a string>".into());
    assert_eq!(msg, "deliberate panic 42");
    assert!(hook_ran.load(Ordering::SeqCst));

    // A panic in a thread comes back as the join error.
    panic::set_hook(Box::new(|_| {}));
    let joined = thread::spawn(|| -> u32 { panic!("thread panic") }).join();
    let _ = panic::take_hook();
    let err = joined.expect_err("the thread panicked");
    assert_eq!(err.downcast_ref::<&str>(), Some(&"thread panic"));
    println!("ok: panic caught with catch_unwind; a thread's panic returned by join");
}

fn main() {
    threads_and_join();
    channels();
    arc_mutex();
    condvar();
    time();
    env();
    catch_panic();
    println!("ALL OK");
}
