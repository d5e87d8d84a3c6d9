//! The bake config language (the original's `rumprun-bake.conf`): lexing, directives,
//! private configs, name sanitising and `-m` directives.
//!
//! A file is a list of directives, one per line (`;` also ends one, `\` at the end of a
//! line continues it, `#` starts a comment, `"…"`/`'…'` quote like the shell):
//! `version 20160209` (mandatory, first), `conf NAME` … `fnoc` blocks holding
//! `create "description"`, `add ITEM…`, `remove ITEM…`, `assimilate CONF…` and `nuke`.
//! Names starting with `_` are private: they are dropped after the file that defines them
//! has been read, so they can only be assimilated from within that file.

/// The config language version every file must declare.
pub const VERSION: &str = "20160209";

/// One defined config.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The sanitised name (`hw_virtio`).
    pub name: String,
    /// The `create` description.
    pub description: String,
    /// The component list in order, possibly with repeats.
    pub components: Vec<String>,
}

impl Config {
    /// The components with repeats removed (first occurrence wins, order kept).
    pub fn unique_components(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for c in &self.components {
            if !out.contains(&c.as_str()) {
                out.push(c);
            }
        }
        out
    }
}

/// The platform of a (sanitised) config name: the part before the first `_`.
pub fn platform(name: &str) -> &str {
    name.split('_').next().unwrap_or("")
}

/// Sanitises a config name like the original: `-` becomes `_`, and characters outside
/// `[A-Za-z0-9_]` are dropped (`hw-virtio` == `hw_virtio`).
pub fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| if c == '-' { '_' } else { c })
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// All configs known so far, in definition order.
#[derive(Debug, Default)]
pub struct Configs {
    list: Vec<Config>,
}

/// Per-file parser state.
struct Reader<'a> {
    configs: &'a mut Configs,
    has_version: bool,
    /// The name of the open `conf` block.
    block: Option<String>,
}

impl Configs {
    /// No configs.
    pub fn new() -> Self {
        Configs::default()
    }

    /// Reads one config file's text; `source` names it in errors (`FILE:LINE: ...`).
    /// Private configs are dropped afterwards.
    pub fn load(&mut self, source: &str, text: &str) -> Result<(), String> {
        let commands = lex(text).map_err(|(line, e)| format!("{source}:{line}: {e}"))?;
        let mut reader = Reader {
            configs: self,
            has_version: false,
            block: None,
        };
        for (line, words) in &commands {
            reader
                .exec(words)
                .map_err(|e| format!("{source}:{line}: {e}"))?;
        }
        if let Some(name) = reader.block {
            return Err(format!("{source}: conf {name}: missing fnoc"));
        }
        self.list.retain(|c| !c.name.starts_with('_'));
        Ok(())
    }

    /// Applies `-m` directives to the config `name` (which must exist), as the original
    /// does by reading `version` / `conf NAME` / the directives / `fnoc`.
    pub fn apply(&mut self, name: &str, directives: &[String]) -> Result<(), String> {
        let mut reader = Reader {
            configs: self,
            has_version: true,
            block: Some(name.to_string()),
        };
        for d in directives {
            let commands = lex(d).map_err(|(_, e)| format!("-m \"{d}\": {e}"))?;
            for (_, words) in &commands {
                reader.exec(words).map_err(|e| format!("-m \"{d}\": {e}"))?;
            }
        }
        Ok(())
    }

    /// The config named `name` (sanitised), if defined.
    pub fn get(&self, name: &str) -> Option<&Config> {
        self.list.iter().find(|c| c.name == name)
    }

    /// The public configs in definition order.
    pub fn public(&self) -> impl Iterator<Item = &Config> {
        self.list.iter().filter(|c| !c.name.starts_with('_'))
    }

    fn get_mut(&mut self, name: &str) -> Option<&mut Config> {
        self.list.iter_mut().find(|c| c.name == name)
    }
}

impl Reader<'_> {
    fn open_block(&self, directive: &str) -> Result<String, String> {
        self.block
            .clone()
            .ok_or_else(|| format!("{directive}: not inside a conf ... fnoc block"))
    }

    fn created(&mut self, directive: &str) -> Result<&mut Config, String> {
        let name = self.open_block(directive)?;
        self.configs
            .get_mut(&name)
            .ok_or_else(|| format!("{directive}: config {name} has not been created (use create \"description\" first)"))
    }

    fn exec(&mut self, words: &[String]) -> Result<(), String> {
        let Some((directive, args)) = words.split_first() else {
            return Ok(());
        };
        let directive = directive.as_str();
        if directive == "version" {
            return match args {
                [v] if v == VERSION => {
                    self.has_version = true;
                    Ok(())
                }
                _ => Err(format!(
                    "config version mismatch: expect {VERSION} (got \"{}\")",
                    args.join(" ")
                )),
            };
        }
        if !self.has_version {
            return Err(format!(
                "config version not specified (the file must start with \"version {VERSION}\")"
            ));
        }
        match directive {
            "conf" => {
                if let Some(open) = &self.block {
                    return Err(format!("conf: block {open} is still open (missing fnoc)"));
                }
                let [raw] = args else {
                    return Err("conf: expects one config name".into());
                };
                let name = sanitize(raw);
                if !(name.starts_with("hw_") || name.starts_with("xen_") || name.starts_with('_')) {
                    return Err(format!(
                        "conf: invalid config name \"{raw}\": it must start with hw_, xen_ or _"
                    ));
                }
                self.block = Some(name);
            }
            "create" => {
                let name = self.open_block(directive)?;
                if self.configs.get(&name).is_some() {
                    return Err(format!("create: config {name} already exists"));
                }
                let description = args.join(" ");
                if description.trim().is_empty() {
                    return Err(format!("create: config {name} needs a description"));
                }
                self.configs.list.push(Config {
                    name,
                    description,
                    components: Vec::new(),
                });
            }
            "add" => {
                let config = self.created(directive)?;
                config.components.extend(args.iter().cloned());
            }
            "remove" => {
                let config = self.created(directive)?;
                for item in args {
                    if !config.components.contains(item) {
                        return Err(format!(
                            "remove: \"{item}\" is not a component of {}",
                            config.name
                        ));
                    }
                    config.components.retain(|c| c != item);
                }
            }
            "assimilate" => {
                let mut gathered = Vec::new();
                for raw in args {
                    let other = sanitize(raw);
                    let Some(o) = self.configs.get(&other) else {
                        let hint = if other.starts_with('_') {
                            " (private configs are visible only in the file that defines them)"
                        } else {
                            ""
                        };
                        return Err(format!("assimilate: config {other} is not defined{hint}"));
                    };
                    gathered.extend(o.components.iter().cloned());
                }
                self.created(directive)?.components.extend(gathered);
            }
            "nuke" => {
                let name = self.open_block(directive)?;
                self.configs.list.retain(|c| c.name != name);
            }
            "fnoc" => {
                if self.block.take().is_none() {
                    return Err("fnoc: no conf block is open".into());
                }
            }
            // The original's internal dump helper: harmless, accepted.
            "debugdump" => {}
            other => return Err(format!("unknown directive \"{other}\"")),
        }
        Ok(())
    }
}

/// Commands as (line number of the first word, words).
type Commands = Vec<(usize, Vec<String>)>;

/// Splits text into commands (line number of their first word, words), shell style.
fn lex(text: &str) -> Result<Commands, (usize, String)> {
    let mut commands = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut word: Option<String> = None;
    let mut line = 1;
    let mut start_line = 1;
    let mut chars = text.chars().peekable();

    fn end_word(words: &mut Vec<String>, word: &mut Option<String>) {
        if let Some(w) = word.take() {
            words.push(w);
        }
    }
    fn end_command(commands: &mut Commands, words: &mut Vec<String>, start_line: usize) {
        if !words.is_empty() {
            commands.push((start_line, std::mem::take(words)));
        }
    }

    while let Some(c) = chars.next() {
        if words.is_empty() && word.is_none() {
            start_line = line;
        }
        match c {
            '\n' => {
                end_word(&mut words, &mut word);
                end_command(&mut commands, &mut words, start_line);
                line += 1;
            }
            ';' => {
                end_word(&mut words, &mut word);
                end_command(&mut commands, &mut words, start_line);
            }
            ' ' | '\t' | '\r' => end_word(&mut words, &mut word),
            '#' if word.is_none() => {
                while chars.peek().is_some_and(|&c| c != '\n') {
                    chars.next();
                }
            }
            '\\' => match chars.next() {
                Some('\n') => line += 1,
                Some(e) => word.get_or_insert_with(String::new).push(e),
                None => word.get_or_insert_with(String::new).push('\\'),
            },
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => {
                            if ch == '\n' {
                                line += 1;
                            }
                            w.push(ch);
                        }
                        None => return Err((start_line, "unterminated ' quote".into())),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some('\n') => line += 1,
                            Some(e @ ('"' | '\\' | '$' | '`')) => w.push(e),
                            Some(e) => {
                                w.push('\\');
                                w.push(e);
                            }
                            None => return Err((start_line, "unterminated \" quote".into())),
                        },
                        Some(ch) => {
                            if ch == '\n' {
                                line += 1;
                            }
                            w.push(ch);
                        }
                        None => return Err((start_line, "unterminated \" quote".into())),
                    }
                }
            }
            other => word.get_or_insert_with(String::new).push(other),
        }
    }
    end_word(&mut words, &mut word);
    end_command(&mut commands, &mut words, start_line);
    Ok(commands)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULT: &str = include_str!("../../../app-tools/rumprun-bake.conf");

    fn loaded(text: &str) -> Result<Configs, String> {
        let mut c = Configs::new();
        c.load("t.conf", text)?;
        Ok(c)
    }

    fn names(c: &Configs) -> Vec<&str> {
        c.public().map(|c| c.name.as_str()).collect()
    }

    #[test]
    fn sanitising() {
        assert_eq!(sanitize("hw-virtio"), "hw_virtio");
        assert_eq!(sanitize("hw_virtio"), "hw_virtio");
        assert_eq!(sanitize("hw.vir tio!"), "hwvirtio");
        assert_eq!(platform("hw_virtio"), "hw");
        assert_eq!(platform("xen_pv"), "xen");
        assert_eq!(platform("_x"), "");
    }

    #[test]
    fn default_file_has_the_public_configs() {
        let c = loaded(DEFAULT).unwrap();
        assert_eq!(names(&c), ["hw_virtio", "hw_generic", "xen_pv", "xen_pvh"]);
        let v = c.get("hw_virtio").unwrap();
        assert_eq!(v.description, "virtio targets (e.g. QEMU/KVM)");
        let comps = v.unique_components();
        for want in [
            "console",
            "linux-abi",
            "tmpfs",
            "virtio-pci",
            "virtio-net",
            "virtio-blk",
        ] {
            assert!(comps.contains(&want), "{want} missing from {comps:?}");
        }
        let g = c.get("hw_generic").unwrap();
        assert_eq!(
            g.description,
            "generic targets, includes (almost) all drivers"
        );
        assert_eq!(
            c.get("xen_pv").unwrap().components,
            c.get("xen_pvh").unwrap().components
        );
        assert!(c.get("_base").is_none(), "private configs are dropped");
    }

    #[test]
    fn lexing() {
        let cmds = lex("a b\\\n  c # comment\n\n\"d e\" 'f\"g' h\\ i; j\n# only\nk").unwrap();
        let w = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            cmds,
            vec![
                (1, w(&["a", "b", "c"])),
                (4, w(&["d e", "f\"g", "h i"])),
                (4, w(&["j"])),
                (6, w(&["k"])),
            ]
        );
        assert_eq!(lex("x a#b").unwrap()[0].1, w(&["x", "a#b"]));
        assert_eq!(lex("\n\"abc").unwrap_err().0, 2);
        assert!(lex("'abc").is_err());
    }

    #[test]
    fn directives_and_assimilation() {
        let c = loaded(
            "version 20160209\n\
             conf _a\n create \"A\"\n add x y\n fnoc\n\
             conf hw-one\n create \"one thing\"\n assimilate _a\n add y z w\n remove w\n fnoc\n\
             conf hw_two\n create two words\n assimilate hw_one _a\n fnoc\n\
             conf hw_gone\n create \"gone\"\n nuke\n fnoc\n",
        )
        .unwrap();
        assert_eq!(names(&c), ["hw_one", "hw_two"]);
        let one = c.get("hw_one").unwrap();
        assert_eq!(one.components, ["x", "y", "y", "z"]);
        assert_eq!(one.unique_components(), ["x", "y", "z"]);
        let two = c.get("hw_two").unwrap();
        assert_eq!(two.description, "two words");
        assert_eq!(two.unique_components(), ["x", "y", "z"]);
    }

    #[test]
    fn private_configs_are_file_local() {
        let mut c = Configs::new();
        c.load(
            "a",
            "version 20160209\nconf _p\ncreate \"p\"\nadd q\nfnoc\n",
        )
        .unwrap();
        let e = c
            .load(
                "b",
                "version 20160209\nconf hw_x\ncreate \"x\"\nassimilate _p\nfnoc\n",
            )
            .unwrap_err();
        assert!(
            e.starts_with("b:4: assimilate: config _p is not defined (private"),
            "{e}"
        );
    }

    #[test]
    fn later_files_add_and_see_earlier_public_configs() {
        let mut c = loaded(DEFAULT).unwrap();
        c.load(
            "extra",
            "version 20160209\nconf hw_mine\ncreate \"mine\"\nassimilate hw_virtio\nadd extra\nfnoc\n",
        )
        .unwrap();
        assert_eq!(
            names(&c),
            ["hw_virtio", "hw_generic", "xen_pv", "xen_pvh", "hw_mine"]
        );
        assert_eq!(
            c.get("hw_mine").unwrap().components.last().unwrap(),
            "extra"
        );
    }

    #[test]
    fn m_directives() {
        let mut c = loaded(DEFAULT).unwrap();
        c.apply("hw_virtio", &["add foo bar".into(), "remove tmpfs".into()])
            .unwrap();
        let comps = c.get("hw_virtio").unwrap().unique_components();
        assert!(!comps.contains(&"tmpfs"));
        assert_eq!(&comps[comps.len() - 2..], ["foo", "bar"]);
        let e = c.apply("hw_virtio", &["remove nope".into()]).unwrap_err();
        assert_eq!(
            e,
            "-m \"remove nope\": remove: \"nope\" is not a component of hw_virtio"
        );
        let e = c.apply("hw_virtio", &["frobnicate".into()]).unwrap_err();
        assert_eq!(e, "-m \"frobnicate\": unknown directive \"frobnicate\"");
    }

    #[test]
    fn errors() {
        let cases: &[(&str, &str)] = &[
            ("conf hw_a\n", "t.conf:1: config version not specified"),
            (
                "version 1\n",
                "t.conf:1: config version mismatch: expect 20160209",
            ),
            (
                "version 20160209\nconf foo\n",
                "t.conf:2: conf: invalid config name \"foo\"",
            ),
            (
                "version 20160209\nconf hw_a\n",
                "t.conf: conf hw_a: missing fnoc",
            ),
            (
                "version 20160209\nconf hw_a\nconf hw_b\n",
                "t.conf:3: conf: block hw_a is still open",
            ),
            (
                "version 20160209\nfnoc\n",
                "t.conf:2: fnoc: no conf block is open",
            ),
            (
                "version 20160209\nadd x\n",
                "t.conf:2: add: not inside a conf ... fnoc block",
            ),
            (
                "version 20160209\nconf hw_a\nadd x\n",
                "t.conf:3: add: config hw_a has not been created",
            ),
            (
                "version 20160209\nconf hw_a\ncreate\n",
                "t.conf:3: create: config hw_a needs a description",
            ),
            (
                "version 20160209\nconf hw_a\ncreate a\nfnoc\nconf hw_a\ncreate b\n",
                "t.conf:6: create: config hw_a already exists",
            ),
            (
                "version 20160209\nconf hw_a\ncreate a\nassimilate hw_zz\n",
                "t.conf:4: assimilate: config hw_zz is not defined",
            ),
            (
                "version 20160209\nbogus 1\n",
                "t.conf:2: unknown directive \"bogus\"",
            ),
            (
                "version 20160209\nconf hw_a\ncreate \"a\n",
                "t.conf:3: unterminated \" quote",
            ),
        ];
        for (text, want) in cases {
            let e = loaded(text).unwrap_err();
            assert!(e.starts_with(want), "{text:?}: got {e:?}, want {want:?}");
        }
    }
}
