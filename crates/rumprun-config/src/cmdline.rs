//! Command lines: splitting one into argv (the original rumprun's `parseargs`
//! semantics) and quoting argv back into one, so that
//! `split_cmdline(&join_cmdline(x)) == x` for any strings.
//!
//! Splitting rules:
//! * words are separated by ASCII whitespace (space, tab, newline, CR, VT, FF);
//! * `'...'` is literal (no escapes inside);
//! * `"..."` is literal except that `\"` and `\\` stand for `"` and `\` (any other
//!   backslash stays a backslash);
//! * outside quotes, `\c` stands for the character `c` (including whitespace and quotes);
//! * quoted parts join the word around them (`a'b c'd` is one word `ab cd`), and `''`
//!   is an empty word;
//! * an unterminated quote or a trailing lone backslash is an error.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// Why a command line could not be split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SplitError {
    /// A `'` or `"` quote opened at this byte offset is never closed.
    UnterminatedQuote { quote: char, offset: usize },
    /// The command line ends with a lone `\` (at this byte offset).
    TrailingBackslash { offset: usize },
}

impl fmt::Display for SplitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SplitError::UnterminatedQuote { quote, offset } => {
                write!(f, "unterminated {quote} quote starting at byte {offset}")
            }
            SplitError::TrailingBackslash { offset } => {
                write!(f, "trailing backslash at byte {offset}")
            }
        }
    }
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{b}' | '\u{c}')
}

/// Splits a command line into words (argv, including argv\[0\]).
pub fn split_cmdline(line: &str) -> Result<Vec<String>, SplitError> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            c if is_space(c) => {
                if in_word {
                    words.push(core::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        None => {
                            return Err(SplitError::UnterminatedQuote {
                                quote: '\'',
                                offset: at,
                            })
                        }
                        Some((_, '\'')) => break,
                        Some((_, c)) => word.push(c),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        None => {
                            return Err(SplitError::UnterminatedQuote {
                                quote: '"',
                                offset: at,
                            })
                        }
                        Some((_, '"')) => break,
                        Some((_, '\\')) => match chars.clone().next() {
                            Some((_, c @ ('"' | '\\'))) => {
                                chars.next();
                                word.push(c);
                            }
                            _ => word.push('\\'),
                        },
                        Some((_, c)) => word.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some((_, c)) => word.push(c),
                    None => return Err(SplitError::TrailingBackslash { offset: at }),
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// Characters that never need quoting.
fn is_safe(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(c, '-' | '_' | '.' | '/' | '=' | ':' | ',' | '+' | '@' | '%')
}

/// Quotes one argument so that [`split_cmdline`] gives it back as exactly one word.
///
/// Safe words are left alone; anything else is put in single quotes, with each `'`
/// written as `'\''`. The empty string becomes `''`.
pub fn quote_arg(arg: &str) -> String {
    if !arg.is_empty() && arg.chars().all(is_safe) {
        return String::from(arg);
    }
    let mut out = String::with_capacity(arg.len() + 2);
    out.push('\'');
    for c in arg.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// Quotes every argument with [`quote_arg`] and joins them with single spaces.
pub fn join_cmdline(args: &[&str]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&quote_arg(a));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use rumprun_test_support::Rng;

    fn split(s: &str) -> Vec<String> {
        split_cmdline(s).unwrap()
    }

    #[test]
    fn whitespace_words() {
        assert_eq!(split(""), Vec::<String>::new());
        assert_eq!(split("  \t\n "), Vec::<String>::new());
        assert_eq!(split("app.bin"), vec!["app.bin"]);
        assert_eq!(split("  a  b\tc\nd  "), vec!["a", "b", "c", "d"]);
        assert_eq!(
            split("app.bin -c /data/x y"),
            vec!["app.bin", "-c", "/data/x", "y"]
        );
    }

    #[test]
    fn quotes() {
        assert_eq!(split("'a b' c"), vec!["a b", "c"]);
        assert_eq!(split(r#"'a\b"c'"#), vec![r#"a\b"c"#]);
        assert_eq!(split(r#""a \"b\" \\ \n c""#), vec![r#"a "b" \ \n c"#]);
        assert_eq!(split(r#"x'y z'"w"v"#), vec!["xy zwv"]);
        assert_eq!(split("'' \"\" a"), vec!["", "", "a"]);
        assert_eq!(split("ü'€ 😀'"), vec!["ü€ 😀"]);
    }

    #[test]
    fn backslashes_outside_quotes() {
        assert_eq!(split(r"a\ b"), vec!["a b"]);
        assert_eq!(split(r#"\'\"\\x"#), vec![r#"'"\x"#]);
        assert_eq!(split(r"\n"), vec!["n"]);
    }

    #[test]
    fn errors() {
        assert_eq!(
            split_cmdline("a 'b"),
            Err(SplitError::UnterminatedQuote {
                quote: '\'',
                offset: 2
            })
        );
        assert_eq!(
            split_cmdline(r#"a "b\""#),
            Err(SplitError::UnterminatedQuote {
                quote: '"',
                offset: 2
            })
        );
        assert_eq!(
            split_cmdline(r"a\"),
            Err(SplitError::TrailingBackslash { offset: 1 })
        );
        assert_eq!(
            alloc::string::ToString::to_string(&split_cmdline("x \"y").unwrap_err()),
            "unterminated \" quote starting at byte 2"
        );
    }

    #[test]
    fn quoting() {
        assert_eq!(quote_arg("app.bin"), "app.bin");
        assert_eq!(quote_arg("--x=/a,b:c"), "--x=/a,b:c");
        assert_eq!(quote_arg(""), "''");
        assert_eq!(quote_arg("a b"), "'a b'");
        assert_eq!(quote_arg("it's"), r"'it'\''s'");
        assert_eq!(quote_arg("ü"), "'ü'");
        assert_eq!(
            join_cmdline(&["app.bin", "-c", "/data/x y", ""]),
            "app.bin -c '/data/x y' ''"
        );
        assert_eq!(join_cmdline(&[]), "");
    }

    const TRICKY: &[char] = &[
        'a', 'Z', '0', ' ', ' ', '\t', '\n', '\r', '\u{b}', '\u{c}', '\'', '\'', '"', '"', '\\',
        '\\', '$', '`', '*', '-', '=', ',', '{', '}', '\0', '\u{1}', '\u{7f}', 'é', '€', '😀',
        '\u{a0}', '\u{2028}', '\u{feff}',
    ];

    fn random_arg(rng: &mut Rng) -> String {
        let len = rng.index(9);
        (0..len).map(|_| TRICKY[rng.index(TRICKY.len())]).collect()
    }

    #[test]
    fn split_inverts_join_for_any_strings() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..20_000 {
            let n = rng.index(6);
            let args: Vec<String> = (0..n).map(|_| random_arg(&mut rng)).collect();
            let refs: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
            let line = join_cmdline(&refs);
            assert_eq!(split_cmdline(&line).as_ref(), Ok(&args), "line {line:?}");
        }
    }

    #[test]
    fn split_never_panics_on_random_text() {
        let mut rng = Rng(42);
        for _ in 0..20_000 {
            let line = random_arg(&mut rng) + &random_arg(&mut rng);
            let _ = split_cmdline(&line);
        }
    }
}
