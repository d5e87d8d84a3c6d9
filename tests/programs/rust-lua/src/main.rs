//! rust-lua: real third-party C code in a unikernel. Lua 5.4 (the `mlua` crate with
//! vendored Lua sources, compiled by the cc crate and linked statically) runs
//! `/scripts/sum.lua`, which reads the data files baked into the image under `/data`
//! (`rumprun-bake -r tests/programs/lua-data`), computes statistics and word counts,
//! and writes a summary to /tmp. The Rust side computes the same numbers from the
//! same file with std and checks the script's result and its summary file. Prints
//! one `ok: ...` line per check and `ALL OK`; a failed check panics (status 101).
//!
//! Arguments: `[DATADIR [SCRIPT]]`, default `/data` and `/scripts/sum.lua`.

use mlua::{Function, Lua, Table};
use std::collections::HashMap;
use std::time::Instant;

/// The numbers of `numbers.txt`, read with std (lines that are not blank or `#`).
fn numbers(path: &str) -> Vec<i64> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("read {path}: {e}"))
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.parse().expect("integer"))
        .collect()
}

fn main() -> mlua::Result<()> {
    let t = Instant::now();
    let datadir = std::env::args().nth(1).unwrap_or_else(|| "/data".into());
    let script = std::env::args()
        .nth(2)
        .unwrap_or_else(|| "/scripts/sum.lua".into());

    let mut nums = numbers(&format!("{datadir}/numbers.txt"));
    nums.sort_unstable();
    let want_sum: i64 = nums.iter().sum();
    let n = nums.len();
    println!("ok: rust read {n} numbers from {datadir}/numbers.txt, sum {want_sum}");

    let lua = Lua::new();
    // A Rust function the script could call, and a check that Lua calls into Rust.
    let add = lua.create_function(|_, (a, b): (i64, i64)| Ok(a + b))?;
    lua.globals().set("rust_add", add)?;
    let three: i64 = lua.load("return rust_add(1, 2)").eval()?;
    assert_eq!(three, 3);

    // loadfile: Lua's own loader opens and reads the baked script (C stdio); the
    // script gets the data directory as its `...`.
    let run: Function = lua
        .load("local script, dir = ...; return assert(loadfile(script))(dir)")
        .into_function()?;
    let res: Table = run.call((script.as_str(), datadir.as_str()))?;

    let version: String = res.get("version")?;
    let count: i64 = res.get("count")?;
    let sum: i64 = res.get("sum")?;
    let min: i64 = res.get("min")?;
    let max: i64 = res.get("max")?;
    let median: f64 = res.get("median")?;
    let words: i64 = res.get("words")?;
    let distinct: i64 = res.get("distinct")?;
    let top: String = res.get("top")?;
    println!("ok: {version} ran {script}");

    assert_eq!(count, n as i64, "count");
    assert_eq!(sum, want_sum, "sum");
    assert_eq!((min, max), (nums[0], nums[n - 1]), "min/max");
    let want_median = (nums[n / 2 - 1] + nums[n / 2]) as f64 / 2.0;
    assert_eq!(median, want_median, "median");
    println!("ok: lua count={count} sum={sum} min={min} max={max} median={median:.1}");

    // Word counts, the same way in Rust.
    let text = std::fs::read_to_string(format!("{datadir}/words.txt")).expect("words");
    let mut wc: HashMap<String, i64> = HashMap::new();
    let lower = text.to_lowercase();
    let all: Vec<&str> = lower
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
        .collect();
    for w in &all {
        *wc.entry((*w).to_owned()).or_default() += 1;
    }
    let mut sorted: Vec<_> = wc.iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let want_top = sorted[..5]
        .iter()
        .map(|(w, c)| format!("{w}={c}"))
        .collect::<Vec<_>>()
        .join(",");
    assert_eq!(words, all.len() as i64, "word count");
    assert_eq!(distinct, wc.len() as i64, "distinct words");
    assert_eq!(top, want_top, "top words");
    println!("ok: lua words={words} distinct={distinct} top={top}");

    let summary = std::fs::read_to_string("/tmp/lua-summary.txt").expect("summary file");
    let first = format!("count={count} sum={sum} min={min} max={max} median={median:.1}");
    assert_eq!(summary, format!("{first}\ntop={top}\n"), "summary file");
    println!("ok: /tmp/lua-summary.txt written by lua: {first}");

    // Lua errors come back as Rust errors, with the script's message.
    let err = lua
        .load("error('boom from lua')")
        .exec()
        .expect_err("error() must fail");
    assert!(err.to_string().contains("boom from lua"), "{err}");
    println!("ok: a Lua error() reaches Rust as an Err");

    println!("lua total {:.1} ms", t.elapsed().as_secs_f64() * 1000.0);
    println!("ALL OK");
    Ok(())
}
