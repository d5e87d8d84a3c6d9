//! The syscall table (`kernel/src/syscalls/table.rs`), the dispatcher (`dispatch` in
//! `kernel/src/syscalls/mod.rs`) and `docs/syscalls.md` cannot drift apart:
//!
//! - the numbers `dispatch` handles (read from the source text of its `match nr`
//!   arms, plus `nr == X` checks made before it, e.g. rt_sigreturn) must be exactly
//!   the table's entries whose status is not `Unsupported`;
//! - every table entry is a named Linux syscall, sorted, unique, and the `// name`
//!   comment after it is that name;
//! - `docs/syscalls.md` must equal what the table renders to. Regenerate it with
//!   `UPDATE_SYSCALL_DOCS=1 cargo test -p rumprun-system-tests --test syscall_table`.
//!
//! The kernel's own table and names files are compiled into this host test as they
//! are (they use only `core`). No QEMU needed.

#[path = "../../../kernel/src/syscalls/names.rs"]
mod names;
#[path = "../../../kernel/src/syscalls/table.rs"]
mod table;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use table::{Status, SYSCALLS};

const REGENERATE: &str =
    "UPDATE_SYSCALL_DOCS=1 cargo test -p rumprun-system-tests --test syscall_table";

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read_repo_file(rel: &str) -> String {
    let p = repo_root().join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
}

// ---- A small Rust source scanner (enough for a match over numbers) ----

/// `src` with comments blanked out (newlines kept), string literals emptied (`""`)
/// and char literals replaced by `' '`, so that braces, commas and `=>` inside them
/// do not count. Lifetimes are kept as they are.
fn sanitize(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    let ident = |ch: char| ch.is_alphanumeric() || ch == '_';
    while i < c.len() {
        let ch = c[i];
        let next = c.get(i + 1).copied();
        if ch == '/' && next == Some('/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && next == Some('*') {
            // Block comments nest in Rust.
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if c[i] == '\n' {
                        out.push('\n');
                    }
                    i += 1;
                }
            }
            out.push(' ');
        } else if ch == 'r'
            && (i == 0 || !ident(c[i - 1]) || (c[i - 1] == 'b' && (i < 2 || !ident(c[i - 2]))))
            && matches!(next, Some('"') | Some('#'))
            && {
                let mut j = i + 1;
                while c.get(j) == Some(&'#') {
                    j += 1;
                }
                c.get(j) == Some(&'"')
            }
        {
            // Raw string r#"..."#: ends at a quote followed by as many hashes.
            let mut hashes = 0;
            i += 1;
            while c[i] == '#' {
                hashes += 1;
                i += 1;
            }
            i += 1; // opening quote
            while i < c.len() {
                if c[i] == '"' && (0..hashes).all(|k| c.get(i + 1 + k) == Some(&'#')) {
                    i += 1 + hashes;
                    break;
                }
                if c[i] == '\n' {
                    out.push('\n');
                }
                i += 1;
            }
            out.push_str("\"\"");
        } else if ch == '"' {
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    i += 1;
                }
                if c.get(i) == Some(&'\n') {
                    out.push('\n');
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if ch == '\'' && next == Some('\\') {
            // '\n', '\'', '\u{..}': skip the quote, the backslash and the escaped char.
            i += 3;
            while i < c.len() && c[i] != '\'' {
                i += 1;
            }
            i += 1;
            out.push_str("' '");
        } else if ch == '\'' && c.get(i + 2) == Some(&'\'') {
            i += 3;
            out.push_str("' '");
        } else {
            out.push(ch);
            i += 1;
        }
    }
    out
}

fn is_ident_char(ch: char) -> bool {
    ch.is_alphanumeric() || ch == '_'
}

/// Byte positions of `word` in `s` as a whole word.
fn find_words(s: &str, word: &str) -> Vec<usize> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(p) = s[from..].find(word) {
        let at = from + p;
        let before = s[..at].chars().next_back();
        let after = s[at + word.len()..].chars().next();
        if !before.is_some_and(is_ident_char) && !after.is_some_and(is_ident_char) {
            found.push(at);
        }
        from = at + word.len();
    }
    found
}

/// The position just after the bracket that closes the one at `open`.
fn matching_close(s: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0i32;
    for (i, &b) in s.iter().enumerate().skip(open) {
        match b {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// `const NAME: usize = <integer>;` items (anywhere in the file), for patterns and
/// `nr == NAME` checks that use a name instead of a number.
fn usize_consts(s: &str) -> BTreeMap<String, usize> {
    let mut consts = BTreeMap::new();
    for at in find_words(s, "const") {
        let rest = &s[at + "const".len()..];
        let Some((name, rest)) = rest.split_once(':') else {
            continue;
        };
        let Some((ty, rest)) = rest.split_once('=') else {
            continue;
        };
        let Some((value, _)) = rest.split_once(';') else {
            continue;
        };
        if ty.trim() == "usize" {
            if let Some(v) = parse_int(value.trim()) {
                consts.insert(name.trim().to_string(), v);
            }
        }
    }
    consts
}

/// An integer literal: decimal, hex, octal or binary, with `_` separators and an
/// optional integer suffix.
fn parse_int(lit: &str) -> Option<usize> {
    let mut t = lit.replace('_', "");
    for suffix in [
        "usize", "isize", "u128", "i128", "u64", "i64", "u32", "i32", "u16", "i16", "u8", "i8",
    ] {
        if let Some(stripped) = t.strip_suffix(suffix) {
            t = stripped.to_string();
            break;
        }
    }
    let (digits, radix) = if let Some(h) = t.strip_prefix("0x") {
        (h, 16)
    } else if let Some(o) = t.strip_prefix("0o") {
        (o, 8)
    } else if let Some(b) = t.strip_prefix("0b") {
        (b, 2)
    } else {
        (t.as_str(), 10)
    };
    usize::from_str_radix(digits, radix).ok()
}

fn resolve(token: &str, consts: &BTreeMap<String, usize>) -> Option<usize> {
    parse_int(token).or_else(|| consts.get(token).copied())
}

/// The numbers one arm's pattern (the text before `=>`, guard included) matches;
/// `_` matches nothing we count (it is the fallback to `unsupported`).
fn pattern_numbers(pattern: &str, consts: &BTreeMap<String, usize>) -> Result<Vec<usize>, String> {
    // Drop the guard: the first `if` at bracket depth 0.
    let mut depth = 0i32;
    let mut end = pattern.len();
    for (i, ch) in pattern.char_indices() {
        match ch {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            _ => {}
        }
        if depth == 0 && find_words(&pattern[i..], "if").first() == Some(&0) {
            let before = pattern[..i].chars().next_back();
            if !before.is_some_and(is_ident_char) {
                end = i;
                break;
            }
        }
    }
    let mut numbers = Vec::new();
    let pat = pattern[..end].trim();
    // Parentheses only group alternatives here: `(4 | 6)`.
    let flat: String = pat.chars().filter(|&c| c != '(' && c != ')').collect();
    for alt in flat.split('|').map(str::trim) {
        if alt.is_empty() || alt == "_" {
            continue; // leading `|`, or the fallback
        }
        let range = alt
            .split_once("..=")
            .map(|(a, b)| (a, b, true))
            .or_else(|| alt.split_once("..").map(|(a, b)| (a, b, false)));
        if let Some((a, b, inclusive)) = range {
            let (lo, hi) = match (resolve(a.trim(), consts), resolve(b.trim(), consts)) {
                (Some(lo), Some(hi)) => (lo, hi),
                _ => return Err(format!("cannot read the range `{alt}` in the arm `{pat}`")),
            };
            let hi = if inclusive { hi + 1 } else { hi };
            numbers.extend(lo..hi);
        } else if let Some(n) = resolve(alt, consts) {
            numbers.push(n);
        } else {
            return Err(format!(
                "cannot read the pattern `{alt}` in the arm `{pat}` (expected a number, a \
                 `const NAME: usize`, a range or `_`)"
            ));
        }
    }
    Ok(numbers)
}

/// The syscall numbers `fn dispatch` handles: every number in a pattern of its
/// `match nr { ... }` (guarded or not), plus `nr == X` checks anywhere in the file
/// (numbers handled before dispatch, like rt_sigreturn).
fn dispatched_numbers(src: &str) -> Result<BTreeSet<usize>, String> {
    let s = sanitize(src);
    let consts = usize_consts(&s);
    let b = s.as_bytes();
    let mut numbers = BTreeSet::new();

    // `nr == X`: numbers handled outside the match.
    for at in find_words(&s, "nr") {
        let rest = s[at + 2..].trim_start();
        if let Some(rest) = rest.strip_prefix("==") {
            let token: String = rest
                .trim_start()
                .chars()
                .take_while(|&c| is_ident_char(c))
                .collect();
            match resolve(&token, &consts) {
                Some(n) => {
                    numbers.insert(n);
                }
                None => return Err(format!("cannot resolve `nr == {token}`")),
            }
        }
    }

    // `fn dispatch(...) { ... match nr { ARMS } ... }`
    let fn_at = find_words(&s, "fn")
        .into_iter()
        .find(|&at| {
            s[at + 2..].trim_start().starts_with("dispatch") && {
                let rest = s[at + 2..].trim_start()["dispatch".len()..].trim_start();
                rest.starts_with('(') || rest.starts_with('<')
            }
        })
        .ok_or("no `fn dispatch` in kernel/src/syscalls/mod.rs")?;
    let match_at = find_words(&s[fn_at..], "match")
        .into_iter()
        .map(|p| fn_at + p)
        .find(|&at| {
            let rest = s[at + 5..].trim_start();
            rest.starts_with("nr") && rest[2..].trim_start().starts_with('{')
        })
        .ok_or("no `match nr {` in `fn dispatch`")?;
    let open = match_at + s[match_at..].find('{').unwrap();
    let close = matching_close(b, open).ok_or("unbalanced braces after `match nr {`")?;
    let body = &s[open + 1..close - 1];
    let bb = body.as_bytes();

    let mut i = 0;
    let skip_ws = |i: &mut usize| {
        while *i < bb.len() && bb[*i].is_ascii_whitespace() {
            *i += 1;
        }
    };
    loop {
        skip_ws(&mut i);
        // Attributes on an arm: `#[cfg(...)]`.
        while body[i..].starts_with("#[") {
            i = matching_close(bb, i + 1).ok_or("unbalanced attribute in `match nr`")?;
            skip_ws(&mut i);
        }
        if i >= bb.len() {
            break;
        }
        // The pattern (and guard) runs to the first `=>` at depth 0.
        let start = i;
        let mut depth = 0i32;
        let arrow = loop {
            if i + 1 >= bb.len() {
                return Err(format!(
                    "no `=>` after `{}` in `match nr`",
                    body[start..].trim()
                ));
            }
            match bb[i] {
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => depth -= 1,
                b'=' if depth == 0
                    && bb[i + 1] == b'>'
                    && !(i > 0 && matches!(bb[i - 1], b'=' | b'<' | b'>' | b'!')) =>
                {
                    break i;
                }
                _ => {}
            }
            i += 1;
        };
        numbers.extend(pattern_numbers(&body[start..arrow], &consts)?);
        // The expression runs to a `,` at depth 0, or ends with a block at depth 0
        // (`=> { ... }`, `=> if .. { } else { }`) that nothing continues.
        i = arrow + 2;
        let mut depth = 0i32;
        while i < bb.len() {
            match bb[i] {
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => {
                    depth -= 1;
                    if depth == 0 && bb[i] == b'}' {
                        let rest = body[i + 1..].trim_start();
                        let continues = rest.starts_with('.')
                            || rest.starts_with('?')
                            || find_words(rest, "else").first() == Some(&0)
                            || find_words(rest, "as").first() == Some(&0);
                        if !continues {
                            i += 1;
                            skip_ws(&mut i);
                            if i < bb.len() && bb[i] == b',' {
                                i += 1;
                            }
                            break;
                        }
                    }
                }
                b',' if depth == 0 => {
                    i += 1;
                    break;
                }
                _ => {}
            }
            i += 1;
        }
    }
    Ok(numbers)
}

/// The numbers in `const QUIET_ENOSYS: &[usize] = &[...]`, if the file has it.
fn quiet_enosys(src: &str) -> Vec<usize> {
    let s = sanitize(src);
    let Some(at) = find_words(&s, "QUIET_ENOSYS").first().copied() else {
        return Vec::new();
    };
    let Some(eq) = s[at..].find('=') else {
        return Vec::new();
    };
    let rest = &s[at + eq..];
    let (Some(open), Some(close)) = (rest.find('['), rest.find(']')) else {
        return Vec::new();
    };
    rest[open + 1..close]
        .split(',')
        .filter_map(|t| parse_int(t.trim()))
        .collect()
}

// ---- The checks ----

fn status_label(s: Status) -> &'static str {
    match s {
        Status::Full => "full",
        Status::Partial => "partial",
        Status::Refused => "refused",
        Status::Unsupported => "unsupported",
    }
}

fn describe(numbers: &BTreeSet<usize>) -> String {
    numbers
        .iter()
        .map(|&n| format!("{n} ({})", names::name(n).unwrap_or("?")))
        .collect::<Vec<_>>()
        .join(", ")
}

#[test]
fn table_matches_the_dispatcher() {
    let src = read_repo_file("kernel/src/syscalls/mod.rs");
    let dispatched = dispatched_numbers(&src).unwrap_or_else(|e| {
        panic!("reading the arms of `fn dispatch` in kernel/src/syscalls/mod.rs: {e}")
    });
    assert!(
        dispatched.len() > 50,
        "found only {} dispatched numbers: the parser is missing arms",
        dispatched.len()
    );
    let handled: BTreeSet<usize> = SYSCALLS
        .iter()
        .filter(|s| s.status != Status::Unsupported)
        .map(|s| s.nr)
        .collect();
    let missing: BTreeSet<usize> = dispatched.difference(&handled).copied().collect();
    let extra: BTreeSet<usize> = handled.difference(&dispatched).copied().collect();
    let mut problems = Vec::new();
    if !missing.is_empty() {
        problems.push(format!(
            "dispatched in kernel/src/syscalls/mod.rs but not in kernel/src/syscalls/table.rs \
             (or listed there as Unsupported): {}",
            describe(&missing)
        ));
    }
    if !extra.is_empty() {
        problems.push(format!(
            "listed in kernel/src/syscalls/table.rs as Full/Partial/Refused but not \
             dispatched: {}",
            describe(&extra)
        ));
    }
    assert!(
        problems.is_empty(),
        "{}\nUpdate SYSCALLS in kernel/src/syscalls/table.rs (an honest status, and a note \
         saying what is missing for Partial), then regenerate docs/syscalls.md with `{REGENERATE}`",
        problems.join("\n")
    );

    for nr in quiet_enosys(&src) {
        let entry = SYSCALLS.iter().find(|s| s.nr == nr);
        assert!(
            entry.is_some_and(|s| s.status == Status::Unsupported && !s.note.is_empty()),
            "{nr} ({}) is in QUIET_ENOSYS: list it in kernel/src/syscalls/table.rs as \
             Unsupported with a note saying why it is not logged",
            names::name(nr).unwrap_or("?")
        );
    }
}

#[test]
fn table_entries_are_named_sorted_and_unique() {
    for w in SYSCALLS.windows(2) {
        assert!(
            w[0].nr < w[1].nr,
            "kernel/src/syscalls/table.rs: {} comes after {} (keep SYSCALLS sorted and unique)",
            w[1].nr,
            w[0].nr
        );
    }
    for s in SYSCALLS {
        assert!(
            names::name(s.nr).is_some(),
            "kernel/src/syscalls/table.rs: {} is not a Linux x86_64 syscall (no name in names.rs)",
            s.nr
        );
        assert!(
            !s.note.contains('\n'),
            "table.rs: the note of {} has a line break",
            s.nr
        );
        if matches!(s.status, Status::Partial | Status::Refused) {
            assert!(
                !s.note.is_empty(),
                "table.rs: {} ({}) is {} and needs a note saying what is missing or why",
                s.nr,
                names::name(s.nr).unwrap(),
                status_label(s.status)
            );
        }
    }
    // The `// name` comment after each `sys(nr, ...)` entry (one line, or split over
    // lines by rustfmt and closed by `),`) is that syscall's name.
    let text = read_repo_file("kernel/src/syscalls/table.rs");
    let list = &text[text
        .find("pub static SYSCALLS")
        .expect("table.rs has `pub static SYSCALLS`")..];
    let mut checked = 0;
    let mut entry: Option<(String, i32)> = None; // sanitized text so far, open parens
    for line in list.lines() {
        let code = sanitize(line);
        let (mut so_far, mut depth) = match entry.take() {
            Some(e) => e,
            None if code.trim_start().starts_with("sys(") => (String::new(), 0),
            None => continue,
        };
        so_far.push_str(&code);
        depth += code.matches('(').count() as i32 - code.matches(')').count() as i32;
        if depth > 0 {
            entry = Some((so_far, depth));
            continue;
        }
        let nr: usize = so_far.trim_start()["sys(".len()..]
            .trim_start()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .unwrap_or_else(|_| panic!("table.rs: cannot read the number in `{so_far}`"));
        let want = names::name(nr).unwrap_or("?");
        let comment = line
            .rsplit_once("//")
            .and_then(|(_, c)| c.split_whitespace().next());
        assert_eq!(
            comment,
            Some(want),
            "kernel/src/syscalls/table.rs: the entry for {nr} needs the comment `// {want}`"
        );
        checked += 1;
    }
    assert_eq!(
        checked,
        SYSCALLS.len(),
        "every sys(..) entry has a name comment"
    );
}

fn escape_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('*', "\\*")
}

/// docs/syscalls.md as the table says it should be.
fn render() -> String {
    let by_nr: BTreeMap<usize, &table::Syscall> = SYSCALLS.iter().map(|s| (s.nr, s)).collect();
    let rows: Vec<(usize, &str, Status, &str)> = (0..names::COUNT)
        .filter_map(|nr| {
            let name = names::name(nr)?;
            Some(match by_nr.get(&nr) {
                Some(s) => (nr, name, s.status, s.note),
                None => (nr, name, Status::Unsupported, ""),
            })
        })
        .collect();
    let mut out = String::new();
    out.push_str(
        "# Linux x86_64 syscalls in rumprun\n\
         \n\
         <!-- Generated from kernel/src/syscalls/table.rs by \
         tests/system/tests/syscall_table.rs. Do not edit by hand. -->\n\
         \n\
         The kernel implements the Linux x86_64 syscall ABI for one unmodified program.\n\
         This page lists every syscall number Linux defines and what rumprun does with it.\n\
         It is generated from the syscall table in the kernel\n\
         (`kernel/src/syscalls/table.rs`), and a test checks that table against the\n\
         kernel's dispatcher (`dispatch` in `kernel/src/syscalls/mod.rs`) and this file\n\
         against the table, so none of them can drift. After changing the table,\n\
         regenerate this file with\n\
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
        let n = rows.iter().filter(|r| r.2 == status).count();
        out.push_str(&format!("| {} | {n} |\n", status_label(status)));
    }
    out.push_str(&format!("| total | {} |\n", rows.len()));
    out.push_str(
        "\n## All syscalls\n\
         \n\
         | nr | name | status | notes |\n\
         |---:|---|---|---|\n",
    );
    for (nr, name, status, note) in rows {
        let note = escape_cell(note);
        let sep = if note.is_empty() { "" } else { " " };
        out.push_str(&format!(
            "| {nr} | `{name}` | {} |{sep}{note} |\n",
            status_label(status)
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

// ---- The parser itself ----

const SAMPLE: &str = r#"
const RT_SIGRETURN: usize = 15;
const SOME_CALL: usize = 0x30;

fn not_dispatch(nr: usize) -> u32 {
    match nr {
        999 => 1,
        _ => 0,
    }
}

extern "C" fn handler(nr: usize) {
    if nr == RT_SIGRETURN {
        return;
    }
    if nr == 7 { return; }
}

fn dispatch(nr: usize, a: [u64; 6]) -> SysResult {
    // 500 => commented out, { not a brace
    /* 501 => also /* nested */ out */
    match nr {
        0 => io::read(a[0], a[1], a[2]),
        1 =>
            io::write(a[0], a[1], a[2]),
        | 2 | 3 => f("a string with => and , and } inside", '}'),
        4
        | 6 => fs::stat(a[0], a[1], true), // 600 =>
        (8 | 9) => Ok(0),
        SOME_CALL => Ok(0),
        10..=12 => Ok(0),
        20..22 => Ok(0),
        1_00usize => Ok(0),
        30 => {
            for p in [a[0], a[1]] {
                user::write(p, 0u32)?;
            }
            Ok(0)
        } // a block arm without a comma
        31 => if a[0] == 0 { Ok(1) } else { Err(EINVAL) }
        32 => match a[1] {
            0 => Ok(0),
            _ => Err(EINVAL),
        },
        33 if (a[0] as i32) <= 0 => Err(EINVAL),
        33 => Ok(0),
        34 if a[0] >= 1 && a[1] != 2 => Ok(0),
        #[cfg(feature = "x")]
        35 => Ok(r"raw => }"),
        36 => Ok(b'x' as u64),
        37 => unsafe { foo() }.map(|_| 0),
        38 => Ok(1), // last named arm
        _ => unsupported(nr),
    }
}
"#;

#[test]
fn parser_reads_rustfmt_layouts() {
    let got = dispatched_numbers(SAMPLE).unwrap();
    let want: BTreeSet<usize> = [
        15, 7, 0, 1, 2, 3, 4, 6, 8, 9, 0x30, 10, 11, 12, 20, 21, 100, 30, 31, 32, 33, 34, 35, 36,
        37, 38,
    ]
    .into_iter()
    .collect();
    assert_eq!(got, want);
}

#[test]
fn parser_rejects_what_it_cannot_read() {
    let binding = "fn dispatch(nr: usize) { match nr { 1 => a, n if n > 5 => b, _ => c } }";
    let err = dispatched_numbers(binding).unwrap_err();
    assert!(err.contains("`n`"), "{err}");
    assert!(dispatched_numbers("fn other() {}").is_err());
    let no_match = "fn dispatch(nr: usize) { table[nr]() }";
    assert!(dispatched_numbers(no_match).is_err());
}

#[test]
fn sanitize_keeps_code_and_drops_comments_and_strings() {
    let s = sanitize("a /* x /* y */ z */ b // c\n\"d}\" 'e' '\\'' 'static r#\"f\"# g");
    assert_eq!(s, "a   b \n\"\" ' ' ' ' 'static \"\" g");
}

#[test]
fn quiet_enosys_is_read() {
    assert_eq!(
        quiet_enosys("const QUIET_ENOSYS: &[usize] = &[334 /* rseq */, 0x10];"),
        vec![334, 16]
    );
}
