//! The kernel's layers point one way (docs/ARCHITECTURE.md "Layers"): a module may use
//! modules of its own layer and of the layers below it, never one above.
//! `kernel/layers.txt` assigns every top-level module of kernel/src to a layer and
//! lists the upward edges the kernel has today (file -> module); this test reads
//! every `crate::` path of kernel/src (`use` lines and inline paths, `use crate::{..}`
//! groups, and `super::` chains that climb to the crate root), outside comments and
//! string literals, and fails on an upward edge that is not listed, and on a module
//! with no layer. It is a ratchet: the redesign of issue 16 emptied the list; an entry
//! whose edge is gone is reported, so it can be deleted. No QEMU needed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const LAYERS_FILE: &str = "kernel/layers.txt";

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// What `kernel/layers.txt` says.
#[derive(Debug, Default)]
struct Layers {
    /// Top-level module -> (layer number, layer name).
    layer_of: BTreeMap<String, (usize, String)>,
    /// The known upward edges: (file relative to kernel/src, target module).
    allowed: BTreeSet<(String, String)>,
}

/// Parses `layer N NAME: mod mod ...` and `allow FILE -> MODULE` lines (`#` starts a
/// comment). Errors name the line.
fn parse_layers(text: &str) -> Result<Layers, String> {
    let mut l = Layers::default();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        let bad = || format!("{LAYERS_FILE}:{}: cannot parse {raw:?}", i + 1);
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("layer ") {
            let (head, mods) = rest.split_once(':').ok_or_else(bad)?;
            let mut head = head.split_whitespace();
            let n: usize = head.next().and_then(|n| n.parse().ok()).ok_or_else(bad)?;
            let name = head.next().ok_or_else(bad)?.to_string();
            for m in mods.split_whitespace() {
                if l.layer_of
                    .insert(m.to_string(), (n, name.clone()))
                    .is_some()
                {
                    return Err(format!("{LAYERS_FILE}:{}: {m} has two layers", i + 1));
                }
            }
        } else if let Some(rest) = line.strip_prefix("allow ") {
            let (file, module) = rest.split_once("->").ok_or_else(bad)?;
            l.allowed
                .insert((file.trim().to_string(), module.trim().to_string()));
        } else {
            return Err(bad());
        }
    }
    Ok(l)
}

/// `src` with comments, string and char literals blanked (lifetimes kept), so that
/// `crate::` inside them does not count.
fn code_only(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let rest = &src[i..];
        if rest.starts_with("//") {
            let end = rest.find('\n').map_or(b.len(), |e| i + e);
            i = end;
        } else if rest.starts_with("/*") {
            let mut depth = 0;
            while i < b.len() {
                if src[i..].starts_with("/*") {
                    depth += 1;
                    i += 2;
                } else if src[i..].starts_with("*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if let Some(hashes) = raw_string_start(rest) {
            // r"..", r#".."#, br#".."#: ends at '"' followed by the same hashes.
            let open = rest.find('"').unwrap() + 1;
            let close = format!("\"{}", "#".repeat(hashes));
            let end = rest[open..]
                .find(&close)
                .map_or(b.len(), |e| i + open + e + close.len());
            out.push_str("\"\"");
            i = end;
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if b[i] == b'\'' {
            // A char literal ('x', '\n', '\u{..}') or a lifetime ('a).
            let lit = if rest[1..].starts_with('\\') {
                // '\'' or '\n' or '\u{..}': the closing quote comes after the escape.
                rest.get(3..).and_then(|r| r.find('\'')).map(|e| e + 2)
            } else {
                rest[1..]
                    .find('\'')
                    .filter(|&e| rest[1..1 + e].chars().count() == 1)
            };
            match lit {
                Some(e) => {
                    out.push_str("' '");
                    i += e + 2;
                }
                None => {
                    out.push('\'');
                    i += 1;
                }
            }
        } else {
            let c = rest.chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// The number of `#` of a raw string literal starting at `s`, if one does.
fn raw_string_start(s: &str) -> Option<usize> {
    let s = s.strip_prefix('b').unwrap_or(s);
    let s = s.strip_prefix('r')?;
    let hashes = s.len() - s.trim_start_matches('#').len();
    s[hashes..].starts_with('"').then_some(hashes)
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The leading identifier of `s` (after whitespace).
fn ident(s: &str) -> &str {
    let s = s.trim_start();
    &s[..s.find(|c| !is_ident_char(c)).unwrap_or(s.len())]
}

/// The first identifiers of the top-level items of a `{a::b, c, d::{e}}` group (`s`
/// starts right after the `{`).
fn group_heads(s: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut at_item_start = true;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => at_item_start = true,
            c if at_item_start && !c.is_whitespace() => {
                heads.push(ident(&s[i..]).to_string());
                at_item_start = false;
            }
            _ => {}
        }
    }
    heads
}

/// The crate-level names `code` (of the module at `module_path`) refers to: after
/// `crate::`, or after as many `super::` as climb to the crate root. A name followed
/// by `!` is a macro, not a module, and is left out.
fn crate_level_refs(code: &str, module_path: &[String]) -> BTreeSet<String> {
    let mut refs = BTreeSet::new();
    let mut push = |rest: &str| {
        if let Some(group) = rest.strip_prefix('{') {
            refs.extend(group_heads(group));
        } else {
            let name = ident(rest);
            let after = rest.trim_start()[name.len()..].trim_start();
            if !name.is_empty() && !after.starts_with('!') {
                refs.insert(name.to_string());
            }
        }
    };
    let boundary = |i: usize| i == 0 || !is_ident_char(code[..i].chars().next_back().unwrap());
    for (i, _) in code.match_indices("crate::") {
        if boundary(i) {
            push(&code[i + "crate::".len()..]);
        }
    }
    for (i, _) in code.match_indices("super::") {
        if !boundary(i) || code[..i].ends_with("super::") {
            continue;
        }
        let mut rest = &code[i..];
        let mut ups = 0;
        while let Some(r) = rest.strip_prefix("super::") {
            ups += 1;
            rest = r;
        }
        if ups >= module_path.len() {
            push(rest);
        }
    }
    refs
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The module path of a file relative to kernel/src (`fd/unix/mod.rs` -> fd::unix,
/// `main.rs` -> the root).
fn module_path(rel: &str) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .trim_end_matches(".rs")
        .split('/')
        .map(String::from)
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "main")) {
        parts.pop();
    }
    parts
}

/// Every (file, crate-level module) edge of kernel/src, the file relative to it.
fn kernel_edges() -> BTreeSet<(String, String)> {
    let src = repo_root().join("kernel/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(
        files.len() > 50,
        "kernel/src has only {} files?",
        files.len()
    );
    let mut edges = BTreeSet::new();
    for f in files {
        let rel = f
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(&f).unwrap();
        let path = module_path(&rel);
        for target in crate_level_refs(&code_only(&text), &path) {
            edges.insert((rel.clone(), target));
        }
    }
    edges
}

/// The top-level module a file belongs to (`main` for main.rs).
fn owner(rel: &str) -> String {
    module_path(rel)
        .into_iter()
        .next()
        .unwrap_or_else(|| "main".into())
}

#[test]
fn kernel_layers_point_one_way() {
    let root = repo_root();
    let text = std::fs::read_to_string(root.join(LAYERS_FILE))
        .unwrap_or_else(|e| panic!("reading {LAYERS_FILE}: {e}"));
    let layers = parse_layers(&text).unwrap_or_else(|e| panic!("{e}"));
    let edges = kernel_edges();
    let mut problems = Vec::new();
    let mut upward = BTreeSet::new();
    let modules: BTreeSet<String> = edges
        .iter()
        .flat_map(|(f, t)| [owner(f), t.clone()])
        .collect();
    for m in &modules {
        if !layers.layer_of.contains_key(m) {
            problems.push(format!(
                "module `{m}` has no layer: add it to a `layer` line of {LAYERS_FILE}"
            ));
        }
    }
    for (file, target) in &edges {
        let from = owner(file);
        let (Some(&(lf, ref nf)), Some(&(lt, ref nt))) =
            (layers.layer_of.get(&from), layers.layer_of.get(target))
        else {
            continue;
        };
        if lt > lf {
            upward.insert((file.clone(), target.clone()));
            if !layers.allowed.contains(&(file.clone(), target.clone())) {
                problems.push(format!(
                    "new upward edge: kernel/src/{file} ({from}, layer {lf} {nf}) uses `{target}` \
                     (layer {lt} {nt}): move what it needs down (or pass it in), or, if it \
                     must stay for now, add `allow {file} -> {target}` to {LAYERS_FILE}"
                ));
            }
        }
    }
    let stale: Vec<_> = layers.allowed.difference(&upward).collect();
    for (file, target) in &stale {
        eprintln!("note: {LAYERS_FILE}: `allow {file} -> {target}` is no longer needed: delete it");
    }
    eprintln!(
        "{} files' edges read; {} upward edges, all listed in {LAYERS_FILE}",
        edges.iter().map(|(f, _)| f).collect::<BTreeSet<_>>().len(),
        upward.len()
    );
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// The scanner on small sources, so the test above cannot pass by reading nothing.
#[test]
fn the_scanner_finds_every_kind_of_path() {
    let src = r##"
        use crate::sched::{self, Thread};
        use crate::{fd, mm::{Frame, Page}, syscalls::errno::*};
        // use crate::commented_out;
        /* crate::block_comment /* nested crate::x */ */
        let s = "crate::in_a_string";
        let r = r#"crate::in_a_raw_string"#;
        let c = '"'; let q = '\''; let l: &'static str = "x";
        crate::process::current().id();
        crate::kprintln!("a macro, not a module");
        my_crate::not_ours();
        super::super::net::poll();
        super::sibling();
    "##;
    let refs = crate_level_refs(&code_only(src), &["fd".into(), "unix".into()]);
    let expect: BTreeSet<String> = ["sched", "fd", "mm", "syscalls", "process", "net"]
        .map(String::from)
        .into();
    assert_eq!(refs, expect);
    // One level down, `super::super` does not reach the root... but `super::` does at
    // the top level.
    let refs = crate_level_refs(&code_only("super::sched::x();"), &["fd".into()]);
    assert_eq!(refs, BTreeSet::from(["sched".to_string()]));
    let refs = crate_level_refs(&code_only("super::sched::x();"), &["fd".into(), "a".into()]);
    assert!(refs.is_empty());
    assert_eq!(module_path("fd/unix/mod.rs"), ["fd", "unix"]);
    assert_eq!(module_path("fd/unix/names.rs"), ["fd", "unix", "names"]);
    assert!(module_path("main.rs").is_empty());
    assert_eq!(owner("main.rs"), "main");
    assert_eq!(owner("sched/mod.rs"), "sched");

    let l = parse_layers("layer 0 low: a b\nlayer 1 high: c # x\nallow a/mod.rs -> c\n").unwrap();
    assert_eq!(l.layer_of["b"], (0, "low".to_string()));
    assert!(l
        .allowed
        .contains(&("a/mod.rs".to_string(), "c".to_string())));
    assert!(parse_layers("layer 0 x: a\nlayer 1 y: a\n").is_err());
    assert!(parse_layers("nonsense\n").is_err());
}
