//! Builds the runtime config handed to the guest (`-append`): proper JSON that
//! `rumprun_config::Config::parse` reads back exactly, argv quoting included.

use rumprun_config::{join_cmdline, json_string};

use crate::cli::Options;

/// `{"cmdline": "<APP args...>", "env": "A=B", ..., "hostname": "..."}`; with `-r`,
/// `"rc": [{"bin": ..., "argv": [...], "runmode": ...}, ...]` instead of `cmdline`.
pub fn build(o: &Options) -> String {
    let mut out = if o.rc.is_empty() {
        let mut argv: Vec<&str> = vec![o.app.as_str()];
        argv.extend(o.args.iter().map(String::as_str));
        format!("{{\"cmdline\": {}", json_string(&join_cmdline(&argv)))
    } else {
        let entries: Vec<String> =
            o.rc.iter()
                .map(|r| {
                    let args: Vec<String> = r.argv[1..].iter().map(|a| json_string(a)).collect();
                    format!(
                        "{{\"bin\": {}, \"argv\": [{}], \"runmode\": {}}}",
                        json_string(&r.argv[0]),
                        args.join(", "),
                        json_string(r.runmode)
                    )
                })
                .collect();
        format!("{{\"rc\": [{}]", entries.join(", "))
    };
    for e in &o.env {
        out.push_str(", \"env\": ");
        out.push_str(&json_string(e));
    }
    if let Some(h) = &o.hostname {
        out.push_str(", \"hostname\": ");
        out.push_str(&json_string(h));
    }
    out.push_str(&o.net.config_json());
    for (i, d) in o.disks.iter().enumerate() {
        let dev = format!("/dev/vd{}", (b'a' + i as u8) as char);
        if let Some(m) = &d.mountpoint {
            out.push_str(&format!(
                ", \"blk\": {{\"source\": \"dev\", \"path\": {}, \"fstype\": \"blk\", \"mountpoint\": {}}}",
                json_string(&dev),
                json_string(m)
            ));
        }
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rumprun_config::Config;

    fn options(args: &[&str]) -> Options {
        crate::cli::run_options(args)
    }

    #[test]
    fn exact_text() {
        let o = options(&[
            "qemu",
            "-e",
            "FOO=bar",
            "-N",
            "myname",
            "app.bin",
            "-c",
            "/data/x y",
        ]);
        assert_eq!(
            build(&o),
            r#"{"cmdline": "app.bin -c '/data/x y'", "env": "FOO=bar", "hostname": "myname"}"#
        );
        assert_eq!(build(&options(&["qemu", "a"])), r#"{"cmdline": "a"}"#);
    }

    #[test]
    fn round_trips_through_the_kernel_parser() {
        let args = [
            "qemu",
            "-e",
            "A=\"x\" \\y",
            "-e",
            "B=",
            "-N",
            "h\u{e9}",
            "./app.bin",
            "",
            "it's",
            "\"q\"",
            "back\\slash",
            "tab\there",
            "new\nline",
            "ü😀",
            "{\"json\": [1,2]}",
            "--x=,",
        ];
        let o = options(&args);
        let c = Config::parse(&build(&o)).unwrap().unwrap();
        let mut argv = vec![o.app.clone()];
        argv.extend(o.args.iter().cloned());
        assert_eq!(c.argv, Some(argv));
        assert_eq!(c.env, o.env);
        assert_eq!(c.hostname, o.hostname);
    }

    #[test]
    fn rc_round_trips_through_the_kernel_parser() {
        let o = options(&[
            "qemu",
            "-r",
            "srv -x 'a b' &",
            "-r",
            "gen |",
            "-r",
            "wc -l",
            "img.bin",
        ]);
        let text = build(&o);
        assert!(
            text.starts_with(r#"{"rc": [{"bin": "srv", "argv": ["-x", "a b"], "runmode": "&"}"#),
            "{text}"
        );
        let c = Config::parse(&text).unwrap().unwrap();
        assert_eq!(c.argv, None);
        assert_eq!(c.rc.len(), 3);
        assert_eq!(c.rc[0].argv(), vec!["srv", "-x", "a b"]);
        assert_eq!(c.rc[1].runmode, rumprun_config::RunMode::Pipe);
        assert_eq!(c.rc[2].argv(), vec!["wc", "-l"]);
        assert_eq!(c.rc[2].runmode, rumprun_config::RunMode::Foreground);
    }
}
