//! Lax JSON: a parser for strict JSON plus the original rumprun's quirks, and the
//! JSON string emitter.
//!
//! The quirks accepted on top of RFC 8259:
//! * empty elements in objects and arrays: leading, trailing and repeated commas
//!   (`{, "a": "b",, }`, as emitted by the original launcher, which also doubled every
//!   comma for QEMU);
//! * repeated keys: objects keep every member, in order ([`Value::Object`] is a list).
//!
//! Errors carry the byte offset (0-based) into the text being parsed.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// Deepest nesting of arrays/objects accepted (keeps the kernel's stack bounded).
pub const MAX_DEPTH: usize = 64;

/// A parsed JSON value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Null,
    Bool(bool),
    /// A number, kept as its (validated) source text, so nothing is lost.
    Number(String),
    String(String),
    Array(Vec<Value>),
    /// Members in source order; repeated keys are all kept.
    Object(Vec<(String, Value)>),
}

impl Value {
    /// A short name of the value's type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        }
    }

    /// The string, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
}

/// What went wrong while parsing JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonErrorKind {
    /// Something specific was expected here, e.g. `"':' after key"`.
    Expected(&'static str),
    /// The text ended while more was expected, e.g. `"a value"`.
    UnexpectedEnd(&'static str),
    UnterminatedString,
    ControlCharacterInString,
    InvalidEscape,
    InvalidUnicodeEscape,
    UnpairedSurrogate,
    InvalidNumber,
    InvalidLiteral,
    TooDeep,
    TrailingText,
}

impl fmt::Display for JsonErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsonErrorKind::Expected(what) => write!(f, "expected {what}"),
            JsonErrorKind::UnexpectedEnd(what) => {
                write!(f, "unexpected end of text, expected {what}")
            }
            JsonErrorKind::UnterminatedString => f.write_str("unterminated string"),
            JsonErrorKind::ControlCharacterInString => {
                f.write_str("control character in string (escape it)")
            }
            JsonErrorKind::InvalidEscape => f.write_str("invalid escape in string"),
            JsonErrorKind::InvalidUnicodeEscape => {
                f.write_str("invalid \\u escape (expected 4 hex digits)")
            }
            JsonErrorKind::UnpairedSurrogate => f.write_str("unpaired surrogate in \\u escape"),
            JsonErrorKind::InvalidNumber => f.write_str("invalid number"),
            JsonErrorKind::InvalidLiteral => {
                f.write_str("invalid literal (expected a value: string, number, true, false, null, array or object)")
            }
            JsonErrorKind::TooDeep => write!(f, "nesting deeper than {MAX_DEPTH} levels"),
            JsonErrorKind::TrailingText => f.write_str("unexpected text after the value"),
        }
    }
}

/// A JSON syntax error at a byte offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JsonError {
    pub kind: JsonErrorKind,
    /// 0-based byte offset into the parsed text.
    pub offset: usize,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.kind, self.offset)
    }
}

/// Parses `text` as one lax JSON value, surrounded by optional whitespace.
pub fn parse_lax(text: &str) -> Result<Value, JsonError> {
    let mut p = Parser::new(text, 0);
    p.skip_ws();
    let v = p.value(0)?;
    p.skip_ws();
    if p.pos < p.bytes.len() {
        return Err(p.err(JsonErrorKind::TrailingText));
    }
    Ok(v)
}

/// Parses one lax JSON value starting at byte `start` of `text` (leading whitespace
/// skipped) and returns it with the offset just past it. Offsets in errors are
/// relative to `text`.
pub fn parse_lax_prefix(text: &str, start: usize) -> Result<(Value, usize), JsonError> {
    if !text.is_char_boundary(start) {
        return Err(JsonError {
            kind: JsonErrorKind::Expected("a value"),
            offset: start,
        });
    }
    let mut p = Parser::new(text, start);
    p.skip_ws();
    let v = p.value(0)?;
    Ok((v, p.pos))
}

/// Emits `s` as a JSON string literal, quotes included.
///
/// `"` and `\` are escaped, control characters become `\n`, `\t`, ... or `\u00XX`;
/// everything else (all of Unicode) is copied as is.
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let v = c as u32;
                out.push_str("\\u00");
                out.push(HEX[(v >> 4) as usize] as char);
                out.push(HEX[(v & 0xf) as usize] as char);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str, start: usize) -> Self {
        Parser {
            text,
            bytes: text.as_bytes(),
            pos: start,
        }
    }

    fn err(&self, kind: JsonErrorKind) -> JsonError {
        JsonError {
            kind,
            offset: self.pos,
        }
    }

    fn err_at(&self, kind: JsonErrorKind, offset: usize) -> JsonError {
        JsonError { kind, offset }
    }

    /// `Expected(what)`, or `UnexpectedEnd(what)` if the text has ended.
    fn expected(&self, what: &'static str) -> JsonError {
        if self.pos >= self.bytes.len() {
            self.err(JsonErrorKind::UnexpectedEnd(what))
        } else {
            self.err(JsonErrorKind::Expected(what))
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// Skips whitespace and any number of commas (the lax "empty elements").
    fn skip_ws_and_commas(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r' | b',') = self.peek() {
            self.pos += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, JsonError> {
        match self.peek() {
            None => Err(self.expected("a value")),
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => Ok(Value::String(self.string()?)),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Null),
            Some(_) => Err(self.err(JsonErrorKind::InvalidLiteral)),
        }
    }

    fn literal(&mut self, word: &'static str, v: Value) -> Result<Value, JsonError> {
        let end = self.pos + word.len();
        if self.bytes.get(self.pos..end) == Some(word.as_bytes())
            && !matches!(self.bytes.get(end), Some(b) if b.is_ascii_alphanumeric() || *b == b'_')
        {
            self.pos = end;
            Ok(v)
        } else {
            Err(self.err(JsonErrorKind::InvalidLiteral))
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, JsonError> {
        if depth > MAX_DEPTH {
            return Err(self.err(JsonErrorKind::TooDeep));
        }
        self.pos += 1; // '{'
        let mut members = Vec::new();
        loop {
            self.skip_ws_and_commas();
            match self.peek() {
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Object(members));
                }
                Some(b'"') => {}
                _ => return Err(self.expected("a string key or '}'")),
            }
            let key = self.string()?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.expected("':' after key"));
            }
            self.pos += 1;
            self.skip_ws();
            let v = self.value(depth)?;
            members.push((key, v));
            self.skip_ws();
            match self.peek() {
                Some(b',') | Some(b'}') => {}
                _ => return Err(self.expected("',' or '}' after object member")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, JsonError> {
        if depth > MAX_DEPTH {
            return Err(self.err(JsonErrorKind::TooDeep));
        }
        self.pos += 1; // '['
        let mut items = Vec::new();
        loop {
            self.skip_ws_and_commas();
            if self.peek() == Some(b']') {
                self.pos += 1;
                return Ok(Value::Array(items));
            }
            if self.peek().is_none() {
                return Err(self.expected("a value or ']'"));
            }
            items.push(self.value(depth)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') | Some(b']') => {}
                _ => return Err(self.expected("',' or ']' after array element")),
            }
        }
    }

    fn number(&mut self) -> Result<Value, JsonError> {
        let start = self.pos;
        let digits = |p: &mut Self| {
            let s = p.pos;
            while let Some(b'0'..=b'9') = p.peek() {
                p.pos += 1;
            }
            p.pos - s
        };
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                digits(self);
            }
            _ => return Err(self.err(JsonErrorKind::InvalidNumber)),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if digits(self) == 0 {
                return Err(self.err(JsonErrorKind::InvalidNumber));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if digits(self) == 0 {
                return Err(self.err(JsonErrorKind::InvalidNumber));
            }
        }
        if matches!(self.peek(), Some(b) if b.is_ascii_alphanumeric() || b == b'.' || b == b'_') {
            return Err(self.err(JsonErrorKind::InvalidNumber));
        }
        Ok(Value::Number(String::from(&self.text[start..self.pos])))
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let at = self.pos;
        let mut v = 0u32;
        for i in 0..4 {
            let d = match self.bytes.get(self.pos + i) {
                Some(b) => (*b as char).to_digit(16),
                None => None,
            };
            match d {
                Some(d) => v = v * 16 + d,
                None => return Err(self.err_at(JsonErrorKind::InvalidUnicodeEscape, at)),
            }
        }
        self.pos += 4;
        Ok(v)
    }

    /// Parses a string literal at `pos` (which is at the opening quote).
    fn string(&mut self) -> Result<String, JsonError> {
        let open = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            // Copy the run of plain characters in one go.
            let run = self.pos;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            out.push_str(&self.text[run..self.pos]);
            match self.peek() {
                None => return Err(self.err_at(JsonErrorKind::UnterminatedString, open)),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    let esc = self.pos;
                    self.pos += 1;
                    let c = match self.peek() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.pos += 1;
                            let hi = self.hex4()?;
                            let cp = if (0xd800..0xdc00).contains(&hi) {
                                if self.bytes.get(self.pos..self.pos + 2) != Some(b"\\u") {
                                    return Err(self.err_at(JsonErrorKind::UnpairedSurrogate, esc));
                                }
                                self.pos += 2;
                                let lo = self.hex4()?;
                                if !(0xdc00..0xe000).contains(&lo) {
                                    return Err(self.err_at(JsonErrorKind::UnpairedSurrogate, esc));
                                }
                                0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00)
                            } else if (0xdc00..0xe000).contains(&hi) {
                                return Err(self.err_at(JsonErrorKind::UnpairedSurrogate, esc));
                            } else {
                                hi
                            };
                            // Every value left here is a valid scalar value.
                            match char::from_u32(cp) {
                                Some(c) => out.push(c),
                                None => {
                                    return Err(
                                        self.err_at(JsonErrorKind::InvalidUnicodeEscape, esc)
                                    )
                                }
                            }
                            continue;
                        }
                        None => return Err(self.err_at(JsonErrorKind::UnterminatedString, open)),
                        Some(_) => return Err(self.err_at(JsonErrorKind::InvalidEscape, esc)),
                    };
                    self.pos += 1;
                    out.push(c);
                }
                Some(_) => return Err(self.err(JsonErrorKind::ControlCharacterInString)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    fn s(x: &str) -> Value {
        Value::String(x.into())
    }

    fn err(text: &str) -> String {
        parse_lax(text).unwrap_err().to_string()
    }

    #[test]
    fn strict_values() {
        assert_eq!(parse_lax("null"), Ok(Value::Null));
        assert_eq!(parse_lax(" true "), Ok(Value::Bool(true)));
        assert_eq!(parse_lax("false"), Ok(Value::Bool(false)));
        assert_eq!(parse_lax("\"hi\""), Ok(s("hi")));
        for n in ["0", "-0", "12", "-3.25", "1e9", "1E+2", "2.5e-3"] {
            assert_eq!(parse_lax(n), Ok(Value::Number(n.into())), "{n}");
        }
        assert_eq!(
            parse_lax(r#"{"a": [1, "x", {"b": null}], "c": {}}"#),
            Ok(Value::Object(vec![
                (
                    "a".into(),
                    Value::Array(vec![
                        Value::Number("1".into()),
                        s("x"),
                        Value::Object(vec![("b".into(), Value::Null)])
                    ])
                ),
                ("c".into(), Value::Object(vec![])),
            ]))
        );
        assert_eq!(parse_lax("[]"), Ok(Value::Array(vec![])));
    }

    #[test]
    fn lax_commas_and_repeated_keys() {
        let v = parse_lax(r#"{, "a": "b",, "a": "c", }"#).unwrap();
        assert_eq!(
            v,
            Value::Object(vec![("a".into(), s("b")), ("a".into(), s("c"))])
        );
        assert_eq!(parse_lax("{,}"), Ok(Value::Object(vec![])));
        assert_eq!(parse_lax("{}"), Ok(Value::Object(vec![])));
        assert_eq!(
            parse_lax("[,1,,2,]"),
            Ok(Value::Array(vec![
                Value::Number("1".into()),
                Value::Number("2".into())
            ]))
        );
    }

    #[test]
    fn string_escapes() {
        assert_eq!(
            parse_lax(r#""a\"b\\c\/d\b\f\n\r\t""#),
            Ok(s("a\"b\\c/d\u{8}\u{c}\n\r\t"))
        );
        assert_eq!(parse_lax(r#""\u0041\u00e9\u20AC""#), Ok(s("Aé€")));
        assert_eq!(parse_lax(r#""\ud83d\ude00""#), Ok(s("😀")));
        assert_eq!(parse_lax("\"ünïcødé 😀\""), Ok(s("ünïcødé 😀")));
        assert_eq!(parse_lax(r#""\u0000""#), Ok(s("\0")));
    }

    #[test]
    fn string_errors() {
        assert_eq!(
            err(r#""\ud83d""#),
            "unpaired surrogate in \\u escape at byte 1"
        );
        assert_eq!(
            err(r#""\ud83d\u0041""#),
            "unpaired surrogate in \\u escape at byte 1"
        );
        assert_eq!(
            err(r#""\ude00""#),
            "unpaired surrogate in \\u escape at byte 1"
        );
        assert_eq!(
            err(r#""\u12G4""#),
            "invalid \\u escape (expected 4 hex digits) at byte 3"
        );
        assert_eq!(err(r#""\x""#), "invalid escape in string at byte 1");
        assert_eq!(err(r#"  "abc"#), "unterminated string at byte 2");
        assert_eq!(
            err("\"a\nb\""),
            "control character in string (escape it) at byte 2"
        );
    }

    #[test]
    fn syntax_errors_have_offsets() {
        assert_eq!(
            err(r#"{"cmdline" "x"}"#),
            "expected ':' after key at byte 11"
        );
        assert_eq!(
            err(r#"{"a": "b" "c": "d"}"#),
            "expected ',' or '}' after object member at byte 10"
        );
        assert_eq!(err(r#"{a: 1}"#), "expected a string key or '}' at byte 1");
        assert_eq!(
            err(r#"{"a": "b""#),
            "unexpected end of text, expected ',' or '}' after object member at byte 9"
        );
        assert_eq!(err(r#"{"a": }"#), "invalid literal (expected a value: string, number, true, false, null, array or object) at byte 6");
        assert_eq!(
            err(r#"{"a":"#),
            "unexpected end of text, expected a value at byte 5"
        );
        assert_eq!(
            err("[1 2]"),
            "expected ',' or ']' after array element at byte 3"
        );
        assert_eq!(
            err("[1"),
            "unexpected end of text, expected ',' or ']' after array element at byte 2"
        );
        assert_eq!(err("01"), "invalid number at byte 1");
        assert_eq!(err("1."), "invalid number at byte 2");
        assert_eq!(err("-"), "invalid number at byte 1");
        assert_eq!(err("1e"), "invalid number at byte 2");
        assert_eq!(err("truex"), err("tru"));
        assert_eq!(err("{} x"), "unexpected text after the value at byte 3");
        assert_eq!(
            err(""),
            "unexpected end of text, expected a value at byte 0"
        );
    }

    #[test]
    fn depth_is_limited() {
        let mut deep = String::new();
        for _ in 0..MAX_DEPTH {
            deep.push('[');
        }
        for _ in 0..MAX_DEPTH {
            deep.push(']');
        }
        assert!(parse_lax(&deep).is_ok());
        let deeper = alloc::format!("[{deep}]");
        assert_eq!(parse_lax(&deeper).unwrap_err().kind, JsonErrorKind::TooDeep);
    }

    #[test]
    fn json_string_round_trips() {
        let samples = [
            "",
            "plain",
            "quote \" backslash \\ slash /",
            "ctl \n\r\t\u{8}\u{c}\u{1}\u{1f}\u{7f}\0",
            "ünïcødé € 😀 \u{2028}",
        ];
        for x in samples {
            let lit = json_string(x);
            assert!(!lit[1..lit.len() - 1].bytes().any(|b| b < 0x20));
            assert_eq!(parse_lax(&lit), Ok(s(x)), "{lit}");
        }
        assert_eq!(json_string("a\"b\\\n\u{1}"), r#""a\"b\\\n\u0001""#);
    }

    #[test]
    fn never_panics_on_random_text() {
        const PIECES: &[&str] = &[
            "{", "}", "[", "]", ",", ":", "\"", "\\", "\\u", "d83d", "\\ude00", "0", "-", ".", "e",
            "true", "nul", " ", "\n", "\u{1}", "é", "😀", "\"a\"",
        ];
        let mut x: u64 = 0x1234_5678_9abc_def1;
        for _ in 0..20_000 {
            let mut text = String::new();
            for _ in 0..(x % 12) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                text.push_str(PIECES[(x % PIECES.len() as u64) as usize]);
            }
            let _ = parse_lax(&text);
            for start in 0..=text.len() + 1 {
                let _ = parse_lax_prefix(&text, start);
            }
        }
    }

    #[test]
    fn prefix_parse_reports_end() {
        let (v, end) = parse_lax_prefix("xx {\"a\":\"b\"}, ", 3).unwrap();
        assert_eq!(v, Value::Object(vec![("a".into(), s("b"))]));
        assert_eq!(end, 12);
    }
}
