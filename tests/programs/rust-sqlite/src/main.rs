//! rust-sqlite: real third-party C code in a unikernel. SQLite (the `rusqlite`
//! crate's bundled amalgamation, compiled by the cc crate and linked statically)
//! with its default configuration: a database file in /tmp, a table, 10,000 rows
//! inserted in one transaction, count/sum queried back, an index and a lookup through
//! it, `PRAGMA integrity_check`, then close, reopen and read again. Prints one
//! `ok: ...` line per check with the values, the timings, and `ALL OK`; a failed
//! check panics, which ends the program with status 101.
//!
//! Usage: `rust-sqlite [DB]` does all that with the database at DB (default
//! /tmp/rumprun-test.db); `rust-sqlite --read-back DB` (a later boot) only opens DB and
//! checks the rows and the integrity; `rust-sqlite --bench-inserts N DB` (bench/run)
//! inserts N rows, one transaction each (so one fsync each, SQLite's default
//! `synchronous=FULL`), and prints `sqlite_inserts: ... inserts_per_s=X`.

use rusqlite::{params, Connection};
use std::time::Instant;

const DEFAULT_DB: &str = "/tmp/rumprun-test.db";
const ROWS: i64 = 10_000;

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

/// The row's value: deterministic, so the host knows the sums.
fn value(i: i64) -> i64 {
    (i * 7919) % 10_007
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args[..] {
        [] => create_and_check(DEFAULT_DB),
        ["--read-back", db] => read_back(db),
        ["--bench-inserts", n, db] => bench_inserts(n.parse().expect("a row count"), db),
        [db] if !db.starts_with('-') => create_and_check(db),
        _ => {
            eprintln!("usage: rust-sqlite [DB] | --read-back DB | --bench-inserts N DB");
            std::process::exit(2);
        }
    }
}

/// Checks count, sum(value) and sum(id) of the table against what the inserts made.
fn check_counts(db: &Connection, when: &str) {
    let t = Instant::now();
    let want_sum: i64 = (1..=ROWS).map(value).sum();
    let (count, sum, id_sum): (i64, i64, i64) = db
        .query_row("SELECT count(*), sum(value), sum(id) FROM items", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .expect("count/sum");
    assert_eq!(count, ROWS, "row count {when}");
    assert_eq!(sum, want_sum, "sum(value) {when}");
    assert_eq!(id_sum, ROWS * (ROWS + 1) / 2, "sum(id) {when}");
    println!(
        "ok: {when}: count={count} sum(value)={sum} sum(id)={id_sum} ({:.1} ms)",
        ms(t)
    );
}

/// Reads rows by id and runs `PRAGMA integrity_check` on an existing database.
fn check_rows_and_integrity(db: &Connection) {
    let names: Vec<String> = db
        .prepare("SELECT name FROM items WHERE id IN (1, 5000, 10000) ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .expect("names");
    assert_eq!(names, ["item-1", "item-5000", "item-10000"]);
    let ic: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check");
    assert_eq!(ic, "ok");
}

fn read_back(path: &str) {
    let t = Instant::now();
    let db = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE)
        .expect("open the existing database");
    check_counts(&db, "read back");
    check_rows_and_integrity(&db);
    println!(
        "ok: read back {path}: rows and integrity ok ({:.1} ms)",
        ms(t)
    );
    println!("ALL OK");
}

fn bench_inserts(n: u32, path: &str) {
    let _ = std::fs::remove_file(path);
    let db = Connection::open(path).expect("open database");
    db.execute_batch("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL);")
        .expect("create table");
    let t = Instant::now();
    let mut ins = db
        .prepare("INSERT INTO items (id, name) VALUES (?1, ?2)")
        .expect("prepare insert");
    for i in 0..n {
        // autocommit: each insert is its own transaction, journalled and fsynced
        ins.execute(params![i, format!("item-{i}")])
            .expect("insert");
    }
    let secs = t.elapsed().as_secs_f64();
    let count: u32 = db
        .query_row("SELECT count(*) FROM items", [], |r| r.get(0))
        .expect("count");
    assert_eq!(count, n);
    println!(
        "sqlite_inserts: n={n} ms={:.1} us_per_op={:.1} inserts_per_s={:.1}",
        secs * 1000.0,
        secs * 1e6 / n as f64,
        n as f64 / secs
    );
}

fn create_and_check(path: &str) {
    let total = Instant::now();
    println!("sqlite version {}", rusqlite::version());

    let _ = std::fs::remove_file(path);
    let t = Instant::now();
    let mut db = Connection::open(path).expect("open database");
    db.execute_batch(
        "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, value INTEGER NOT NULL);",
    )
    .expect("create table");
    println!("ok: created table in {path} ({:.1} ms)", ms(t));

    let t = Instant::now();
    {
        let tx = db.transaction().expect("begin");
        {
            let mut ins = tx
                .prepare("INSERT INTO items (id, name, value) VALUES (?1, ?2, ?3)")
                .expect("prepare insert");
            for i in 1..=ROWS {
                ins.execute(params![i, format!("item-{i}"), value(i)])
                    .expect("insert");
            }
        }
        tx.commit().expect("commit");
    }
    println!(
        "ok: inserted {ROWS} rows in one transaction ({:.1} ms)",
        ms(t)
    );
    let insert_ms = ms(t);

    check_counts(&db, "after insert");

    let t = Instant::now();
    db.execute_batch("CREATE INDEX items_name ON items (name);")
        .expect("create index");
    let (id, v): (i64, i64) = db
        .query_row(
            "SELECT id, value FROM items WHERE name = ?1",
            ["item-4242"],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("lookup");
    assert_eq!((id, v), (4242, value(4242)));
    let plan: String = db
        .query_row(
            "EXPLAIN QUERY PLAN SELECT id FROM items WHERE name = 'item-1'",
            [],
            |r| r.get(3),
        )
        .expect("query plan");
    assert!(
        plan.contains("items_name"),
        "plan does not use the index: {plan}"
    );
    println!(
        "ok: index lookup item-4242 -> id={id} value={v} via {plan:?} ({:.1} ms)",
        ms(t)
    );

    let t = Instant::now();
    let updated = db
        .execute("UPDATE items SET value = value + 1 WHERE id % 100 = 0", [])
        .expect("update");
    assert_eq!(updated, 100);
    let deleted = db
        .execute("DELETE FROM items WHERE id > ?1", [ROWS])
        .expect("delete nothing");
    assert_eq!(deleted, 0);
    db.execute("UPDATE items SET value = value - 1 WHERE id % 100 = 0", [])
        .expect("update back");
    println!("ok: updated {updated} rows and back ({:.1} ms)", ms(t));

    let t = Instant::now();
    let ic: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check");
    assert_eq!(ic, "ok");
    println!("ok: integrity_check = {ic} ({:.1} ms)", ms(t));

    db.close().map_err(|(_, e)| e).expect("close");
    let size = std::fs::metadata(path).expect("stat database").len();
    assert!(size > 100_000, "database file is only {size} bytes");
    println!("ok: closed; database file is {size} bytes");

    let t = Instant::now();
    let db = Connection::open(path).expect("reopen database");
    check_counts(&db, "after reopen");
    check_rows_and_integrity(&db);
    println!("ok: reopened, rows and integrity ok ({:.1} ms)", ms(t));
    drop(db);

    println!(
        "timings: insert {insert_ms:.1} ms, total {:.1} ms",
        ms(total)
    );
    println!("ALL OK");
}
