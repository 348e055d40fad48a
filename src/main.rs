//! The `fair` command: parse, run, report the error chain, exit.

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match fair::cli::parse() {
        Ok(cli) => cli,
        Err(exit) => return exit.into(),
    };
    fair::logging::init(cli.verbosity(), cli.log_format);
    match fair::run(cli) {
        Ok(exit) => exit.into(),
        Err(err) => {
            eprintln!("fair: error: {}", fair::message(&err));
            fair::Exit::Failure.into()
        }
    }
}

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
