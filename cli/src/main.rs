//! The `amparo` command: everything is in the library (`amparo_cli`), which
//! the Python wheel's `amparo` command runs too.

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(amparo_cli::main_with_args(std::env::args_os()))
}
