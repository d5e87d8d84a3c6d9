//! `rumprun`: boots a baked image under QEMU (see `rumprun -h`).

#![forbid(unsafe_code)]

fn main() {
    let code = match rumprun::utf8_args(std::env::args_os().skip(1))
        .and_then(|a| rumprun::run::rumprun(&a))
    {
        Ok(code) => code,
        Err(e) => {
            eprintln!("rumprun: error: {e}");
            if e.show_usage {
                eprintln!("{}", rumprun::cli::SYNOPSIS);
            }
            1
        }
    };
    std::process::exit(code);
}
