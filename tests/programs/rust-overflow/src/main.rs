//! Overflows the main thread's stack: Rust's std guard handler (a SIGSEGV handler on
//! an alternate signal stack) must run, print its message and abort (SIGABRT).
use std::hint::black_box;

fn recurse(n: u64) -> u64 {
    let a = black_box([n; 64]);
    black_box(recurse(black_box(n + 1))) + a[3]
}

fn main() {
    println!("start");
    println!("{}", recurse(0));
}
