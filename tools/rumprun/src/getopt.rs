//! A small POSIX `getopts`: short options, clustering (`-ip`), attached or separate
//! arguments (`-M128`, `-M 128`), stops at the first non-option and consumes `--`.

use crate::error::Error;

/// Iterates over the options at the start of `args`.
pub struct Getopt<'a> {
    args: &'a [String],
    /// Option letters; a letter followed by ':' takes an argument.
    optstring: &'static str,
    /// Index of the argument being looked at.
    index: usize,
    /// Byte offset inside a cluster like `-ip` (0 = at the start of a new argument).
    sub: usize,
}

impl<'a> Getopt<'a> {
    pub fn new(args: &'a [String], optstring: &'static str) -> Self {
        Getopt {
            args,
            optstring,
            index: 0,
            sub: 0,
        }
    }

    /// The arguments after the options (valid once `next` returned `None`).
    pub fn rest(&self) -> &'a [String] {
        &self.args[self.index.min(self.args.len())..]
    }

    /// The next option and its argument, `None` at the first non-option, or an error
    /// for an unknown option or a missing argument.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<Result<(char, Option<String>), Error>> {
        if self.sub == 0 {
            let arg = self.args.get(self.index)?;
            if arg == "--" {
                self.index += 1;
                return None;
            }
            if !arg.starts_with('-') || arg == "-" {
                return None;
            }
            self.sub = 1;
        }
        let arg = &self.args[self.index];
        let c = arg[self.sub..]
            .chars()
            .next()
            .expect("sub is inside the argument");
        self.sub += c.len_utf8();
        let at_end = self.sub >= arg.len();
        let takes_arg = match self.optstring.find(c) {
            Some(i) if c != ':' => self.optstring[i + c.len_utf8()..].starts_with(':'),
            _ => return Some(Err(Error::usage(format!("unknown option -{c}")))),
        };
        if !takes_arg {
            if at_end {
                self.index += 1;
                self.sub = 0;
            }
            return Some(Ok((c, None)));
        }
        let value = if !at_end {
            let v = arg[self.sub..].to_string();
            self.index += 1;
            v
        } else {
            match self.args.get(self.index + 1) {
                Some(v) => {
                    self.index += 2;
                    v.clone()
                }
                None => {
                    self.index += 1;
                    self.sub = 0;
                    return Some(Err(Error::usage(format!(
                        "option -{c} requires an argument"
                    ))));
                }
            }
        };
        self.sub = 0;
        Some(Ok((c, Some(value))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str], optstring: &'static str) -> (Vec<(char, Option<String>)>, Vec<String>) {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let mut g = Getopt::new(&args, optstring);
        let mut opts = Vec::new();
        while let Some(o) = g.next() {
            opts.push(o.unwrap());
        }
        (opts, g.rest().to_vec())
    }

    #[test]
    fn clusters_and_arguments() {
        let (opts, rest) = run(
            &["-ip", "-M128", "-e", "A=B", "-iM", "64", "app", "-i"],
            "ie:M:p",
        );
        assert_eq!(
            opts,
            vec![
                ('i', None),
                ('p', None),
                ('M', Some("128".into())),
                ('e', Some("A=B".into())),
                ('i', None),
                ('M', Some("64".into())),
            ]
        );
        assert_eq!(rest, vec!["app", "-i"]);
    }

    #[test]
    fn double_dash_and_dash() {
        let (opts, rest) = run(&["-i", "--", "-app", "x"], "i");
        assert_eq!(opts, vec![('i', None)]);
        assert_eq!(rest, vec!["-app", "x"]);
        let (opts, rest) = run(&["-", "x"], "i");
        assert!(opts.is_empty());
        assert_eq!(rest, vec!["-", "x"]);
        let (_, rest) = run(&[], "i");
        assert!(rest.is_empty());
    }

    #[test]
    fn errors() {
        let args: Vec<String> = vec!["-x".into()];
        let e = Getopt::new(&args, "i").next().unwrap().unwrap_err();
        assert_eq!(e.message, "unknown option -x");
        let args: Vec<String> = vec!["-iM".into()];
        let mut g = Getopt::new(&args, "iM:");
        assert_eq!(g.next().unwrap().unwrap(), ('i', None));
        assert_eq!(
            g.next().unwrap().unwrap_err().message,
            "option -M requires an argument"
        );
        let args: Vec<String> = vec!["-:".into()];
        assert!(Getopt::new(&args, "M:").next().unwrap().is_err());
    }
}
