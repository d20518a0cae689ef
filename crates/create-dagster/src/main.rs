//! The `create-dagster` binary: parse arguments, run, map the result to an exit code.

fn main() -> std::process::ExitCode {
    dg_cli::run_create_dagster(std::env::args_os())
}
