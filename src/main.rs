//! The `canasta` binary: logging, then the subcommand. Everything else lives
//! in the library so tests and jobs share it.

use std::process::ExitCode;

fn main() -> ExitCode {
    // A missing .env is the normal case in production; only parse errors matter.
    if let Err(err) = dotenvy::dotenv()
        && !err.not_found()
    {
        eprintln!("error: could not read .env: {err}");
        return ExitCode::FAILURE;
    }
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    match canasta::cli::main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
