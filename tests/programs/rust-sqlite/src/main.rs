//! rust-sqlite: real third-party C code in a unikernel. SQLite (the `rusqlite`
//! crate's bundled amalgamation, compiled by the cc crate and linked statically)
//! with its default configuration: a database file in /tmp, a table, 10,000 rows
//! inserted in one transaction, count/sum queried back, an index and a lookup through
//! it, `PRAGMA integrity_check`, then close, reopen and read again. Prints one
//! `ok: ...` line per check with the values, the timings, and `ALL OK`; a failed
//! check panics, which ends the program with status 101.

use rusqlite::{params, Connection};
use std::time::Instant;

const DB: &str = "/tmp/rumprun-test.db";
const ROWS: i64 = 10_000;

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

/// The row's value: deterministic, so the host knows the sums.
fn value(i: i64) -> i64 {
    (i * 7919) % 10_007
}

fn main() {
    let total = Instant::now();
    println!("sqlite version {}", rusqlite::version());

    let _ = std::fs::remove_file(DB);
    let t = Instant::now();
    let mut db = Connection::open(DB).expect("open database");
    db.execute_batch(
        "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, value INTEGER NOT NULL);",
    )
    .expect("create table");
    println!("ok: created table in {DB} ({:.1} ms)", ms(t));

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

    let want_sum: i64 = (1..=ROWS).map(value).sum();
    let check_counts = |db: &Connection, when: &str| {
        let t = Instant::now();
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
    };
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
    let size = std::fs::metadata(DB).expect("stat database").len();
    assert!(size > 100_000, "database file is only {size} bytes");
    println!("ok: closed; database file is {size} bytes");

    let t = Instant::now();
    let db = Connection::open(DB).expect("reopen database");
    check_counts(&db, "after reopen");
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
    println!("ok: reopened, rows and integrity ok ({:.1} ms)", ms(t));
    drop(db);

    println!(
        "timings: insert {insert_ms:.1} ms, total {:.1} ms",
        ms(total)
    );
    println!("ALL OK");
}
