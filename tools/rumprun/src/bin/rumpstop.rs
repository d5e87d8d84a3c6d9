//! `rumpstop`: stops a guest that `rumprun` started in the background.

#![forbid(unsafe_code)]

fn main() {
    let code = match rumprun::utf8_args(std::env::args_os().skip(1))
        .and_then(|a| rumprun::stop::rumpstop(&a))
    {
        Ok(code) => code,
        Err(e) => {
            eprintln!("rumpstop: error: {e}");
            if e.show_usage {
                eprintln!("usage: rumpstop qemu:<pid>");
            }
            1
        }
    };
    std::process::exit(code);
}
