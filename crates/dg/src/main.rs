//! The `dg` binary: parse arguments, run, map the result to an exit code.

fn main() -> std::process::ExitCode {
    dg_cli::run_dg(std::env::args_os())
}
