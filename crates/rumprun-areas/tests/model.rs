//! `Areas` against a reference that keeps one entry per page (what each page is
//! mapped to, by which mapping, at which file offset, with which protection), driven
//! by a long random sequence of the kernel's operations (mmap anywhere or MAP_FIXED,
//! munmap, mprotect, mremap's grow in place and move), over a small window so that
//! operations overlap, split and empty areas often. After every operation the areas
//! must describe exactly the reference's pages, and never overlap or be empty; every
//! answer (`find`, `is_free`, `covers`, `find_gap_in`, the pieces `carve` returns) must
//! be the reference's. Every operation that adds or changes areas is followed by
//! `merge` over its range, and no two adjacent areas that may join are left anywhere.

use rumprun_areas::{Area, Areas};
use rumprun_test_support::Rng;
use std::collections::BTreeMap;

const PAGE: u64 = 4096;
/// The window the operations work in, in pages: small, so that they collide.
const PAGES: u64 = 64;
const BASE: u64 = 0x1000_0000;

/// A test area: which mapping it comes from (0: anonymous memory, whose offset means
/// nothing), its file offset, its protection.
#[derive(Clone, Debug, PartialEq, Eq)]
struct A {
    end: u64,
    id: u32,
    offset: u64,
    prot: u32,
}

impl Area for A {
    fn end(&self) -> u64 {
        self.end
    }
    fn with_end(&self, end: u64) -> Self {
        A {
            end,
            ..self.clone()
        }
    }
    fn tail(&self, start: u64, from: u64) -> Self {
        A {
            offset: self.offset + (from - start),
            ..self.clone()
        }
    }
    /// Anonymous memory joins anonymous memory with the same rights; a mapping joins
    /// its own continuation (the same mapping, the offsets running on).
    fn joins(&self, start: u64, next: &Self) -> bool {
        self.prot == next.prot
            && self.id == next.id
            && (self.id == ANON || self.offset + (self.end - start) == next.offset)
    }
}

const ANON: u32 = 0;

/// The page at `p` of the area `a` that starts at `s`, as the reference keeps it.
fn page_of(s: u64, a: &A, p: u64) -> Page {
    Page {
        id: a.id,
        offset: if a.id == ANON { 0 } else { a.offset + (p - s) },
        prot: a.prot,
    }
}

/// What one page is, in the reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Page {
    id: u32,
    offset: u64,
    prot: u32,
}

#[derive(Default)]
struct Model {
    pages: BTreeMap<u64, Page>,
}

impl Model {
    fn map(&mut self, start: u64, end: u64, id: u32, offset: u64, prot: u32) {
        for p in (start..end).step_by(PAGE as usize) {
            let offset = if id == ANON { 0 } else { offset + (p - start) };
            self.pages.insert(p, Page { id, offset, prot });
        }
    }
    fn unmap(&mut self, start: u64, end: u64) -> Vec<(u64, Page)> {
        let gone: Vec<u64> = self.pages.range(start..end).map(|(&p, _)| p).collect();
        gone.into_iter()
            .map(|p| (p, self.pages.remove(&p).unwrap()))
            .collect()
    }
    fn is_free(&self, start: u64, end: u64) -> bool {
        self.pages.range(start..end).next().is_none()
    }
    fn covers(&self, start: u64, end: u64) -> bool {
        (start..end)
            .step_by(PAGE as usize)
            .all(|p| self.pages.contains_key(&p))
    }
    /// The highest free run of `len` bytes in `[bottom, top)`, found page by page.
    fn gap(&self, len: u64, bottom: u64, top: u64) -> Option<u64> {
        let mut start = top.checked_sub(len)?;
        loop {
            if start < bottom {
                return None;
            }
            if self.is_free(start, start + len) {
                return Some(start);
            }
            start = start.checked_sub(PAGE)?;
        }
    }
}

/// The areas as pages, checking on the way that they are sorted, apart and not empty.
fn pages_of(areas: &Areas<A>) -> BTreeMap<u64, Page> {
    let mut out = BTreeMap::new();
    let mut last_end = 0;
    for (&s, a) in areas.iter() {
        assert!(s < a.end, "empty area at {s:#x}: {a:?}");
        assert!(s >= last_end, "area at {s:#x} overlaps the one before");
        assert!(s % PAGE == 0 && a.end % PAGE == 0);
        last_end = a.end;
        for p in (s..a.end).step_by(PAGE as usize) {
            out.insert(p, page_of(s, a, p));
        }
    }
    out
}

/// No two adjacent areas that may join are left apart.
fn assert_merged(areas: &Areas<A>, step: usize) {
    let all: Vec<(u64, A)> = areas.iter().map(|(&s, a)| (s, a.clone())).collect();
    for w in all.windows(2) {
        let ((s, a), (t, b)) = (&w[0], &w[1]);
        assert!(
            !(a.end == *t && a.joins(*s, b)),
            "step {step}: {s:#x} {a:?} and {t:#x} {b:?} were not merged"
        );
    }
}

/// Pieces `carve` returned, as pages.
fn pieces_as_pages(pieces: &[(u64, A)]) -> Vec<(u64, Page)> {
    let mut out = Vec::new();
    let mut last_end = 0;
    for (s, a) in pieces {
        assert!(*s < a.end && *s >= last_end, "pieces out of order or empty");
        last_end = a.end;
        for p in (*s..a.end).step_by(PAGE as usize) {
            out.push((p, page_of(*s, a, p)));
        }
    }
    out
}

/// What these tests draw besides numbers.
trait AreaDraws {
    /// A page-aligned range in the window, 1 to 16 pages long.
    fn range(&mut self) -> (u64, u64);
}

impl AreaDraws for Rng {
    fn range(&mut self) -> (u64, u64) {
        let len = 1 + self.below(16);
        let start = self.below(PAGES - len + 1);
        (BASE + start * PAGE, BASE + (start + len) * PAGE)
    }
}

fn run(seed: u64, steps: usize) {
    let mut rng = Rng(seed);
    let mut areas: Areas<A> = Areas::new();
    let mut model = Model::default();
    let mut next_id = 1;
    for step in 0..steps {
        let (start, end) = rng.range();
        let what = rng.below(7);
        match what {
            // mmap MAP_FIXED: replaces what is there.
            0 => {
                let (id, offset, prot) = (next_id, rng.below(100) * PAGE, rng.below(8) as u32);
                next_id += 1;
                let id = if rng.below(2) == 0 { ANON } else { id };
                areas.carve(start, end);
                areas.insert(
                    start,
                    A {
                        end,
                        id,
                        offset,
                        prot,
                    },
                );
                areas.merge(start, end);
                model.unmap(start, end);
                model.map(start, end, id, offset, prot);
            }
            // mmap with no address: the highest gap in the window, if any.
            1 => {
                let len = end - start;
                let top = BASE + PAGES * PAGE;
                let got = areas.find_gap_in(len, BASE, top);
                assert_eq!(
                    got,
                    model.gap(len, BASE, top),
                    "step {step}: gap of {len:#x}"
                );
                if let Some(at) = got {
                    let id = if rng.below(2) == 0 { ANON } else { next_id };
                    next_id += 1;
                    areas.insert(
                        at,
                        A {
                            end: at + len,
                            id,
                            offset: 0,
                            prot: 3,
                        },
                    );
                    areas.merge(at, at + len);
                    model.map(at, at + len, id, 0, 3);
                }
            }
            // munmap: the pieces removed are exactly the pages that were there.
            2 => {
                let pieces = areas.carve(start, end);
                let want = model.unmap(start, end);
                assert_eq!(pieces_as_pages(&pieces), want, "step {step}: munmap pieces");
            }
            // mprotect, only when the range is wholly mapped (ENOMEM otherwise).
            3 => {
                assert_eq!(
                    areas.covers(start, end),
                    model.covers(start, end),
                    "step {step}: covers"
                );
                if areas.covers(start, end) {
                    let prot = rng.below(8) as u32;
                    areas.change(start, end, |a| a.prot = prot);
                    areas.merge(start, end);
                    for (_, p) in model.pages.range_mut(start..end) {
                        p.prot = prot;
                    }
                }
            }
            // mremap growing in place: the area holding `start` grows into free pages.
            4 => {
                if let Some((s, a)) = areas.find(start).map(|(s, a)| (s, a.clone())) {
                    let grow = (1 + rng.below(4)) * PAGE;
                    let (from, to) = (a.end, a.end + grow);
                    if to <= BASE + PAGES * PAGE && areas.is_free(from, to) {
                        assert!(model.is_free(from, to));
                        areas.insert(
                            from,
                            A {
                                end: to,
                                ..a.tail(s, from)
                            },
                        );
                        areas.merge(s, to);
                        let first = model.pages[&s];
                        model.map(from, to, first.id, first.offset + (from - s), first.prot);
                    }
                }
            }
            // mremap moving [start, end) (wholly mapped) to a gap: carve, then put back
            // one area at the new place with the first piece's mapping.
            5 => {
                if areas.covers(start, end) {
                    let len = end - start;
                    let pieces = areas.carve(start, end);
                    let removed = model.unmap(start, end);
                    assert_eq!(pieces_as_pages(&pieces), removed);
                    let top = BASE + PAGES * PAGE;
                    if let Some(at) = areas.find_gap_in(len, BASE, top) {
                        assert_eq!(Some(at), model.gap(len, BASE, top));
                        let first = pieces[0].1.clone();
                        areas.insert(
                            at,
                            A {
                                end: at + len,
                                ..first.clone()
                            },
                        );
                        areas.merge(at, at + len);
                        model.map(at, at + len, first.id, first.offset, first.prot);
                    }
                }
            }
            // Queries only.
            _ => {
                assert_eq!(
                    areas.is_free(start, end),
                    model.is_free(start, end),
                    "step {step}: is_free"
                );
            }
        }
        assert_eq!(
            pages_of(&areas),
            model.pages,
            "step {step}: op {what} on {start:#x}..{end:#x}"
        );
        assert_merged(&areas, step);
        // Every page of the window: `find` agrees with the reference.
        for p in (BASE..BASE + PAGES * PAGE).step_by(PAGE as usize) {
            let found = areas
                .find(p + rng.below(PAGE))
                .map(|(s, a)| page_of(s, a, p));
            assert_eq!(
                found,
                model.pages.get(&p).copied(),
                "step {step}: find {p:#x}"
            );
        }
    }
}

#[test]
fn areas_match_a_page_by_page_reference() {
    for seed in 1u64..=40 {
        run(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15), 2_000);
    }
}

#[test]
fn carve_splits_an_area_in_three_and_keeps_the_file_offsets() {
    let mut areas = Areas::new();
    areas.insert(
        0x1000,
        A {
            end: 0x9000,
            id: 1,
            offset: 0x10000,
            prot: 3,
        },
    );
    let pieces = areas.carve(0x3000, 0x5000);
    assert_eq!(
        pieces,
        vec![(
            0x3000,
            A {
                end: 0x5000,
                id: 1,
                offset: 0x12000,
                prot: 3
            }
        )]
    );
    let left: Vec<_> = areas.iter().map(|(&s, a)| (s, a.clone())).collect();
    assert_eq!(
        left,
        vec![
            (
                0x1000,
                A {
                    end: 0x3000,
                    id: 1,
                    offset: 0x10000,
                    prot: 3
                }
            ),
            (
                0x5000,
                A {
                    end: 0x9000,
                    id: 1,
                    offset: 0x14000,
                    prot: 3
                }
            ),
        ]
    );
    assert!(areas.is_free(0x3000, 0x5000));
    assert!(!areas.is_free(0x2000, 0x4000));
    assert!(!areas.covers(0x1000, 0x9000));
    assert_eq!(areas.find(0x4000), None);
    assert_eq!(areas.find(0x8fff).map(|(s, _)| s), Some(0x5000));
}

#[test]
fn gaps_are_the_highest_free_range_in_the_window() {
    let mut areas = Areas::new();
    areas.insert(
        0x8000,
        A {
            end: 0xa000,
            id: 1,
            offset: 0,
            prot: 0,
        },
    );
    // The top of the window is free: the gap ends there.
    assert_eq!(areas.find_gap_in(0x2000, 0x1000, 0x10000), Some(0xe000));
    // Too big for the space above the area: below it.
    assert_eq!(areas.find_gap_in(0x7000, 0x1000, 0x10000), Some(0x1000));
    assert_eq!(areas.find_gap_in(0x8000, 0x1000, 0x10000), None);
    // An area straddling the window's bottom counts only above it.
    assert_eq!(areas.find_gap_in(0x1000, 0x9000, 0xb000), Some(0xa000));
    assert_eq!(areas.find_gap_in(0x2000, 0x9000, 0xb000), None);
}

#[test]
fn mprotect_page_by_page_leaves_one_area() {
    // A reservation made accessible a page at a time, as malloc grows a heap.
    let mut areas = Areas::new();
    let anon = |end, prot| A {
        end,
        id: ANON,
        offset: 0,
        prot,
    };
    areas.insert(0x10000, anon(0x20000, 0));
    for p in (0x10000..0x20000).step_by(PAGE as usize) {
        areas.change(p, p + PAGE, |a| a.prot = 3);
        areas.merge(p, p + PAGE);
        let got: Vec<_> = areas.iter().map(|(&s, a)| (s, a.end, a.prot)).collect();
        let mut want = vec![(0x10000, p + PAGE, 3)];
        if p + PAGE < 0x20000 {
            want.push((p + PAGE, 0x20000, 0));
        }
        assert_eq!(got, want);
    }
    // A hole punched and filled again, and a page made read-only and writable again.
    areas.carve(0x14000, 0x15000);
    areas.insert(0x14000, anon(0x15000, 3));
    areas.merge(0x14000, 0x15000);
    areas.change(0x18000, 0x19000, |a| a.prot = 1);
    areas.merge(0x18000, 0x19000);
    assert_eq!(areas.len(), 3);
    areas.change(0x18000, 0x19000, |a| a.prot = 3);
    areas.merge(0x18000, 0x19000);
    let got: Vec<_> = areas.iter().map(|(&s, a)| (s, a.end, a.prot)).collect();
    assert_eq!(got, vec![(0x10000, 0x20000, 3)]);
}

#[test]
fn file_mappings_join_only_where_their_offsets_run_on() {
    let mut areas = Areas::new();
    let file = |end, offset| A {
        end,
        id: 7,
        offset,
        prot: 1,
    };
    areas.insert(0x1000, file(0x3000, 0x10000));
    areas.insert(0x3000, file(0x4000, 0x12000)); // follows on
    areas.insert(0x4000, file(0x5000, 0x20000)); // does not
    areas.merge(0x1000, 0x5000);
    let got: Vec<_> = areas.iter().map(|(&s, a)| (s, a.end, a.offset)).collect();
    assert_eq!(
        got,
        vec![(0x1000, 0x4000, 0x10000), (0x4000, 0x5000, 0x20000)]
    );
}
