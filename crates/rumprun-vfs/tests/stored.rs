//! tmpfs files whose data lies in a page store (the image's baked files, read on
//! demand): reads, mappings, writes that copy, truncation, hole punching, and pages
//! dropped and read again, against the same bytes kept in memory.

mod common;

use common::Env;
use rumprun_vfs::archive::{add_entry, ArchiveEntry, StoredData};
use rumprun_vfs::flags::*;
use rumprun_vfs::store::{reclaim, StoreSource};
use rumprun_vfs::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

const PAGE: usize = 4096;

/// A store over bytes in memory that counts its reads.
struct Bytes {
    data: Vec<u8>,
    reads: Arc<AtomicU64>,
}

impl StoreSource for Bytes {
    fn pages(&self) -> u64 {
        (self.data.len() / PAGE) as u64
    }
    fn read(&self, first: u64, buf: &mut [u8]) -> VfsResult<()> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        let at = first as usize * PAGE;
        buf.copy_from_slice(self.data.get(at..at + buf.len()).ok_or(Errno::EIO)?);
        Ok(())
    }
}

fn pattern(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_mul(2654435761).wrapping_add(seed) >> 13) as u8)
        .collect()
}

/// A store holding `contents` from page 1 on (page 0 is a header), each padded to pages.
fn store(contents: &[&[u8]]) -> (Arc<PageStore>, Vec<u64>, Arc<AtomicU64>) {
    let mut data = vec![0u8; PAGE];
    let mut firsts = Vec::new();
    for c in contents {
        firsts.push((data.len() / PAGE) as u64);
        data.extend_from_slice(c);
        data.resize(data.len().next_multiple_of(PAGE), 0);
    }
    let reads = Arc::new(AtomicU64::new(0));
    let s = PageStore::new(Box::new(Bytes {
        data,
        reads: reads.clone(),
    }));
    (s, firsts, reads)
}

fn add(e: &Env, path: &str, s: &Arc<PageStore>, first: u64, size: usize) {
    let entry = ArchiveEntry {
        path: path.as_bytes(),
        mode: 0o100644,
        uid: 0,
        gid: 0,
        mtime: 5,
        rdev: 0,
        data: b"",
        data_page: None,
        stored: Some(StoredData {
            store: s,
            first,
            size: size as u64,
        }),
    };
    add_entry(&e.vfs, &e.root, &entry).unwrap();
}

/// Held by the tests that need their store's cached pages to stay: `reclaim` drops
/// the pages of every store, those of the tests running beside it too.
static RECLAIMS: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn stored_files_read_map_write_and_shrink_like_their_bytes() {
    let _reclaims = RECLAIMS.lock().unwrap_or_else(|e| e.into_inner());
    let a = pattern(5 * PAGE + 123, 1);
    let b = pattern(3 * PAGE, 2);
    let (s, firsts, reads) = store(&[&a, &b]);
    let e = Env::new();
    add(&e, "lib/a.so", &s, firsts[0], a.len());
    add(&e, "lib/b.so", &s, firsts[1], b.len());
    // Nothing read until used.
    assert_eq!(reads.load(Ordering::Relaxed), 0);
    assert_eq!(e.stat("/lib/a.so").unwrap().size, a.len() as u64);
    assert_eq!(e.read_file("/lib/a.so").unwrap(), a);
    assert_eq!(e.read_file("/lib/b.so").unwrap(), b);
    let after_first = reads.load(Ordering::Relaxed);
    assert!(after_first <= 2, "read ahead: {after_first} requests");
    // A mapping gets the store's page (the last one zero past the end of the file).
    let f = e.open("/lib/a.so", O_RDWR).unwrap();
    let id = f.page_frame(5, false).unwrap().unwrap();
    assert_eq!(f.page_frame(6, false), Err(Errno::ENXIO));
    // Writing copies the page: the file changes, the store does not.
    Vfs::write_at(&f, PAGE as u64 + 10, b"written").unwrap();
    let mut want = a.clone();
    want[PAGE + 10..PAGE + 17].copy_from_slice(b"written");
    assert_eq!(e.read_file("/lib/a.so").unwrap(), want);
    let g = e.open("/lib/b.so", O_RDONLY).unwrap();
    let mut page = vec![0u8; PAGE];
    assert_eq!(Vfs::read_at(&g, 0, &mut page).unwrap(), PAGE);
    assert_eq!(page, b[..PAGE]);
    // Every clean page nobody maps can go, and comes back the same.
    assert!(reclaim(1000) > 0);
    assert_eq!(e.read_file("/lib/b.so").unwrap(), b);
    assert_eq!(e.read_file("/lib/a.so").unwrap(), want);
    assert!(reads.load(Ordering::Relaxed) > after_first);
    // The mapped page stayed (its reference is held).
    assert_eq!(f.page_frame(5, false).unwrap().unwrap(), id);
    // A shared writable mapping gets a page of the file's own.
    assert_ne!(
        f.page_frame(4, true).unwrap().unwrap(),
        f.page_frame(3, false).unwrap().unwrap()
    );
    // Shrinking keeps what is left, growing again reads zeros.
    f.set_attr(&SetAttr {
        size: Some(2 * PAGE as u64 + 7),
        ..SetAttr::NONE
    })
    .unwrap();
    f.set_attr(&SetAttr {
        size: Some(4 * PAGE as u64),
        ..SetAttr::NONE
    })
    .unwrap();
    let mut shrunk = want[..2 * PAGE + 7].to_vec();
    shrunk.resize(4 * PAGE, 0);
    assert_eq!(e.read_file("/lib/a.so").unwrap(), shrunk);
    // Punching a hole in a stored file zeroes just that.
    let g = e.open("/lib/b.so", O_RDWR).unwrap();
    g.fallocate(
        FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
        PAGE as u64,
        PAGE as u64,
    )
    .unwrap();
    let mut holed = b.clone();
    holed[PAGE..2 * PAGE].fill(0);
    assert_eq!(e.read_file("/lib/b.so").unwrap(), holed);
    // O_TRUNC empties it.
    let t = e.open("/lib/b.so", O_WRONLY | O_TRUNC).unwrap();
    assert_eq!(t.stat().size, 0);
    Vfs::write_at(&t, 0, b"new").unwrap();
    assert_eq!(e.read_file("/lib/b.so").unwrap(), b"new");
}

#[test]
fn a_stored_file_must_fit_its_store() {
    let (s, firsts, _) = store(&[&pattern(PAGE, 3)]);
    let e = Env::new();
    let entry = ArchiveEntry {
        path: b"x",
        mode: 0o100644,
        uid: 0,
        gid: 0,
        mtime: 0,
        rdev: 0,
        data: b"",
        data_page: None,
        stored: Some(StoredData {
            store: &s,
            first: firsts[0],
            size: 2 * PAGE as u64,
        }),
    };
    assert_eq!(add_entry(&e.vfs, &e.root, &entry), Err(Errno::EINVAL));
}

#[test]
fn read_cached_copies_what_is_in_memory_and_stops_at_a_page_on_the_disk() {
    let _reclaims = RECLAIMS.lock().unwrap_or_else(|e| e.into_inner());
    let a = pattern(20 * PAGE + 100, 4);
    let (s, firsts, reads) = store(&[&a]);
    let e = Env::new();
    add(&e, "a", &s, firsts[0], a.len());
    let f = e.open("/a", O_RDWR).unwrap();
    let mut buf = vec![0u8; a.len() + 50];
    // Nothing is in memory yet, and reading what is not reads nothing from the disk.
    assert_eq!(f.read_cached(10, &mut buf), 0);
    assert_eq!(reads.load(Ordering::Relaxed), 0);
    // Page 2 on (with the read-ahead: pages 2 to 9) in memory: a copy from inside page
    // 3 runs to the end of page 9, across the pages, and stops there.
    f.prefetch_page(2).unwrap();
    assert_eq!(f.read_cached(0, &mut buf), 0);
    let from = 3 * PAGE + 7;
    let n = f.read_cached(from as u64, &mut buf);
    assert_eq!(n, 10 * PAGE - from);
    assert_eq!(buf[..n], a[from..10 * PAGE]);
    // A page of the file's own (written) within the run, and a hole punched after it:
    // the bytes written, zeros, then the store's pages again.
    Vfs::write_at(&f, 5 * PAGE as u64 + 1, b"own").unwrap();
    f.fallocate(
        FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
        6 * PAGE as u64,
        PAGE as u64,
    )
    .unwrap();
    let mut want = a.clone();
    want[5 * PAGE + 1..5 * PAGE + 4].copy_from_slice(b"own");
    want[6 * PAGE..7 * PAGE].fill(0);
    let n = f.read_cached(2 * PAGE as u64, &mut buf[..6 * PAGE]);
    assert_eq!(n, 6 * PAGE);
    assert_eq!(buf[..n], want[2 * PAGE..8 * PAGE]);
    // Everything in memory: the copy ends at the end of the file.
    for index in 0..21 {
        f.prefetch_page(index).unwrap();
    }
    let n = f.read_cached(PAGE as u64 - 1, &mut buf);
    assert_eq!(n, a.len() - PAGE + 1);
    assert_eq!(buf[..n], want[PAGE - 1..]);
    assert_eq!(f.read_cached(a.len() as u64, &mut buf), 0);
}
