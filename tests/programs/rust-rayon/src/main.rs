//! rust-rayon: a Rust program for the rumprun system tests that runs rayon's work
//! stealing pool on every CPU the kernel reports: a parallel sum, a parallel sort and
//! a parallel map-reduce, each checked against the sequential result, and which CPUs
//! (sched_getcpu) the pool's threads ran on. Prints `ok: ...` per check and `ALL OK`;
//! a failed check panics (status 101).

use rayon::prelude::*;
use std::collections::BTreeSet;
use std::sync::Mutex;

fn main() {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let threads = rayon::current_num_threads();
    println!("cpus: available_parallelism {cpus}, rayon threads {threads}");
    assert_eq!(threads, cpus, "rayon sizes its pool by the CPUs");

    let n: u64 = 20_000_000;
    let par: u64 = (0..n).into_par_iter().map(|x| x % 7).sum();
    let seq: u64 = (0..n).map(|x| x % 7).sum();
    assert_eq!(par, seq);
    println!("ok: parallel sum of {n} terms equals the sequential one ({par})");

    let mut v: Vec<u64> = (0..2_000_000u64)
        .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 11)
        .collect();
    let mut sorted = v.clone();
    sorted.sort_unstable();
    v.par_sort_unstable();
    assert!(v == sorted);
    println!("ok: par_sort_unstable of 2000000 numbers equals sort_unstable");

    let seen = Mutex::new(BTreeSet::new());
    let words: usize = (0..100_000u32)
        .into_par_iter()
        .map(|i| {
            // SAFETY: sched_getcpu has no preconditions.
            let cpu = unsafe { libc_sched_getcpu() };
            seen.lock().unwrap().insert(cpu);
            format!("{i:x}").len()
        })
        .sum();
    let expect: usize = (0..100_000u32).map(|i| format!("{i:x}").len()).sum();
    assert_eq!(words, expect);
    let seen = seen.into_inner().unwrap();
    println!("ok: parallel map-reduce; pool threads ran on CPUs {seen:?}");
    assert!(seen.iter().all(|&c| c >= 0 && (c as usize) < cpus));
    println!("ALL OK");
}

extern "C" {
    #[link_name = "sched_getcpu"]
    fn libc_sched_getcpu() -> i32;
}
