//! rust-hello: a Rust std program for the rumprun system tests.
//!
//! Prints its arguments, the environment variable `WORLD`, a formatted `Vec`, and
//! exits with the status given as `--exit N` (default 0) through
//! `std::process::exit`.

use std::collections::BTreeMap;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    println!("rust: argc={}", args.len());
    for (i, a) in args.iter().enumerate() {
        println!("rust: argv[{i}]=[{a}]");
    }
    match std::env::var("WORLD") {
        Ok(w) => println!("rust: Hello, {w}!"),
        Err(_) => println!("rust: Hello, world!"),
    }
    let squares: Vec<u64> = (1..=10).map(|x| x * x).collect();
    let sum: u64 = squares.iter().sum();
    println!("rust: squares={squares:?} sum={sum}");
    let mut counts = BTreeMap::new();
    for word in "the quick brown fox jumps over the lazy dog the end".split(' ') {
        *counts.entry(word).or_insert(0u32) += 1;
    }
    println!("rust: counts[the]={} words={}", counts["the"], counts.len());
    println!("rust: float {:.3}", std::f64::consts::PI * 2.0);
    let status = args
        .iter()
        .position(|a| a == "--exit")
        .and_then(|i| args.get(i + 1))
        .map(|s| s.parse::<i32>().expect("--exit wants a number"))
        .unwrap_or(0);
    println!("rust: exiting with {status}");
    std::process::exit(status);
}
