//! The syscall table (`kernel/src/syscalls/table.rs`) is the one place a syscall is
//! described: the kernel's dispatcher and syscall names are generated from it, and so
//! is `docs/syscalls.md`. This test compiles the table as it is (it uses only `core`;
//! the handlers are carried as tokens and never compiled here) and checks:
//!
//! - its entries are sorted by number and unique, and their names unique;
//! - an entry has a handler exactly when its status is not `Unsupported`, a `Partial`
//!   or `Refused` one has a note saying what is missing or why, and notes are one line;
//! - every number in `QUIET_ENOSYS` is `Unsupported` with a note saying why it is not
//!   logged;
//! - `docs/syscalls.md` equals what the table renders to. Regenerate it with
//!   `UPDATE_SYSCALL_DOCS=1 cargo test -p rumprun-system-tests --test syscall_table`.
//!
//! No QEMU needed.

#[path = "../../../kernel/src/syscalls/table.rs"]
#[macro_use]
mod table;

use std::collections::BTreeSet;
use std::path::PathBuf;
use table::{Status, QUIET_ENOSYS};

const REGENERATE: &str =
    "UPDATE_SYSCALL_DOCS=1 cargo test -p rumprun-system-tests --test syscall_table";

/// One entry of the table, as this test sees it.
struct Entry {
    nr: usize,
    name: &'static str,
    status: Status,
    note: &'static str,
    /// Whether the entry has a handler (`=> ...`).
    handled: bool,
}

/// The table as a list of `Entry`s (the handlers only as "there is one").
macro_rules! host_table {
    (
        [$a:ident, $frame:ident]
        $($nr:literal $name:ident $status:ident $note:literal $(=> $handler:expr)?;)*
    ) => {
        static SYSCALLS: &[Entry] = &[$(Entry {
            nr: $nr,
            name: stringify!($name),
            status: Status::$status,
            note: $note,
            handled: !<[&str]>::is_empty(&[$(stringify!($handler)),*]),
        }),*];
    };
}

syscall_table!(host_table);

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn status_label(s: Status) -> &'static str {
    match s {
        Status::Full => "full",
        Status::Partial => "partial",
        Status::Refused => "refused",
        Status::Unsupported => "unsupported",
    }
}

#[test]
fn entries_are_sorted_unique_and_named_once() {
    assert!(
        SYSCALLS.len() >= 374,
        "the table has only {} entries: Linux x86_64 defines 374 syscalls up to mseal (462), \
         0-334 and 424-462; list every one",
        SYSCALLS.len()
    );
    for w in SYSCALLS.windows(2) {
        assert!(
            w[0].nr < w[1].nr,
            "kernel/src/syscalls/table.rs: {} ({}) comes after {} ({}): keep the entries sorted \
             by number, one per number",
            w[1].nr,
            w[1].name,
            w[0].nr,
            w[0].name
        );
    }
    let mut names = BTreeSet::new();
    for s in SYSCALLS {
        assert!(
            names.insert(s.name),
            "kernel/src/syscalls/table.rs: the name {} is used twice",
            s.name
        );
    }
}

#[test]
fn a_handler_exactly_where_the_status_says_handled() {
    let mut problems = Vec::new();
    for s in SYSCALLS {
        let label = status_label(s.status);
        if s.handled != (s.status != Status::Unsupported) {
            problems.push(if s.handled {
                format!(
                    "{} ({}) has a handler but is listed as {label}",
                    s.nr, s.name
                )
            } else {
                format!("{} ({}) is {label} but has no handler", s.nr, s.name)
            });
        }
        if s.note.contains('\n') {
            problems.push(format!(
                "the note of {} ({}) has a line break",
                s.nr, s.name
            ));
        }
        if matches!(s.status, Status::Partial | Status::Refused) && s.note.is_empty() {
            problems.push(format!(
                "{} ({}) is {label} and needs a note saying what is missing or why",
                s.nr, s.name
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "kernel/src/syscalls/table.rs:\n{}\nGive each entry an honest status (a handler `=> ...` \
         for all but Unsupported), then regenerate docs/syscalls.md with `{REGENERATE}`",
        problems.join("\n")
    );
}

#[test]
fn quiet_enosys_numbers_are_unsupported_with_a_reason() {
    assert!(!QUIET_ENOSYS.is_empty());
    for &nr in QUIET_ENOSYS {
        let entry = SYSCALLS.iter().find(|s| s.nr == nr);
        assert!(
            entry.is_some_and(|s| s.status == Status::Unsupported && !s.note.is_empty()),
            "{nr} is in QUIET_ENOSYS: list it in kernel/src/syscalls/table.rs as Unsupported \
             with a note saying why it is not logged"
        );
    }
}

fn escape_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('*', "\\*")
}

/// docs/syscalls.md as the table says it should be.
fn render() -> String {
    let mut out = String::new();
    out.push_str(
        "# Linux x86_64 syscalls in rumprun\n\
         \n\
         <!-- Generated from kernel/src/syscalls/table.rs by \
         tests/system/tests/syscall_table.rs. Do not edit by hand. -->\n\
         \n\
         The kernel implements the Linux x86_64 syscall ABI for one unmodified program.\n\
         This page lists every syscall number Linux defines and what rumprun does with it.\n\
         It is generated from the kernel's syscall table\n\
         (`kernel/src/syscalls/table.rs`), which the kernel's dispatcher and syscall names\n\
         are generated from too, so none of them can drift; a test fails while this file\n\
         differs from what the table says. After changing the table, regenerate this file\n\
         with\n\
         \n\
         ```\n",
    );
    out.push_str(REGENERATE);
    out.push_str(
        "\n```\n\
         \n\
         (without `UPDATE_SYSCALL_DOCS=1` the same command fails while this file is stale).\n\
         \n\
         Statuses:\n\
         \n\
         - **full**: Linux behaviour (`man 2` is the spec); the note says how it maps onto\n  \
         a unikernel where that matters.\n\
         - **partial**: works for the common cases; the note says what is missing.\n\
         - **refused**: deliberately refused with a documented errno and one log line\n  \
         (none at present).\n\
         - **unsupported**: ENOSYS, and one log line naming the syscall the first time\n  \
         (except those that libcs probe at every start, like rseq).\n\
         \n\
         ## Summary\n\
         \n\
         | status | syscalls |\n\
         |---|---:|\n",
    );
    for status in [
        Status::Full,
        Status::Partial,
        Status::Refused,
        Status::Unsupported,
    ] {
        let n = SYSCALLS.iter().filter(|s| s.status == status).count();
        out.push_str(&format!("| {} | {n} |\n", status_label(status)));
    }
    out.push_str(&format!("| total | {} |\n", SYSCALLS.len()));
    out.push_str(
        "\n## All syscalls\n\
         \n\
         | nr | name | status | notes |\n\
         |---:|---|---|---|\n",
    );
    for s in SYSCALLS {
        let note = escape_cell(s.note);
        let sep = if note.is_empty() { "" } else { " " };
        out.push_str(&format!(
            "| {} | `{}` | {} |{sep}{note} |\n",
            s.nr,
            s.name,
            status_label(s.status)
        ));
    }
    out
}

#[test]
fn docs_syscalls_md_is_up_to_date() {
    let path = repo_root().join("docs/syscalls.md");
    let want = render();
    if std::env::var_os("UPDATE_SYSCALL_DOCS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &want).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        return;
    }
    let Ok(have) = std::fs::read_to_string(&path) else {
        panic!("docs/syscalls.md is missing: generate it with `{REGENERATE}` and commit it");
    };
    if have != want {
        let first_diff = have
            .lines()
            .zip(want.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(have.lines().count().min(want.lines().count()));
        panic!(
            "docs/syscalls.md is stale (first difference at line {}): regenerate it with \
             `{REGENERATE}` and commit it",
            first_diff + 1
        );
    }
}
