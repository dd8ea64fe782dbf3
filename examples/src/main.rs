//! `rose`: the seed application's flags, run as a deployment runs them.
//!
//! ```text
//! rose [show]            load (a local .env, then the process environment), log every flag at
//!                        LOG_LEVEL, print the public flags as JSON
//! rose check FILE...     load each env file on its own, as a deployment would; print every
//!                        problem; exit 1 if any file has one
//! rose docs              print the Markdown reference of every flag
//! rose env-example       print a .env.example
//! rose json              print the flags' metadata as JSON
//! ```

use std::process::ExitCode;

use flags_core::{FeatureFlags, Loader, docs};
use flags_examples::{LogLevel, Settings};
use tracing_subscriber::filter::LevelFilter;

const USAGE: &str = "usage: rose [show | check FILE... | docs | env-example | json]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None | Some("show") if args.len() <= 1 => show(),
        Some("check") if args.len() > 1 => check(&args[1..]),
        Some("docs") if args.len() == 1 => print(docs::markdown(Settings::FLAGS)),
        Some("env-example") if args.len() == 1 => print(docs::env_example(Settings::FLAGS)),
        Some("json") if args.len() == 1 => print(docs::json(Settings::FLAGS)),
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn show() -> ExitCode {
    let loaded = Loader::new()
        .file_if_exists(".env")
        .env()
        .load_with_warnings::<Settings>();
    let (settings, warnings) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    // Logging is set up from the flags (LOG_LEVEL), so the load's warnings wait until it is.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .without_time()
        .with_max_level(max_level(settings.log_level))
        .init();
    for warning in &warnings {
        tracing::warn!(target: "flags", "{warning}");
    }
    settings.log_state();
    match serde_json::to_string_pretty(&settings.public_flags()) {
        Ok(json) => print(json + "\n"),
        Err(error) => {
            eprintln!("cannot render the public flags: {error}");
            ExitCode::FAILURE
        }
    }
}

fn max_level(level: LogLevel) -> LevelFilter {
    match level {
        LogLevel::Trace => LevelFilter::TRACE,
        LogLevel::Debug => LevelFilter::DEBUG,
        LogLevel::Info => LevelFilter::INFO,
        LogLevel::Warn => LevelFilter::WARN,
        LogLevel::Error => LevelFilter::ERROR,
    }
}

/// Loads each file on its own, strictly: a variable that names no flag is a typo.
fn check(files: &[String]) -> ExitCode {
    let mut clean = true;
    for file in files {
        match Loader::new().file(file).strict().load::<Settings>() {
            Ok(_) => println!("{file}: ok"),
            Err(error) => {
                clean = false;
                let count = error.problems().len();
                println!(
                    "{file}: {count} problem{}",
                    if count == 1 { "" } else { "s" }
                );
                for problem in error.problems() {
                    println!("  {problem}");
                }
            }
        }
    }
    if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn print(text: String) -> ExitCode {
    print!("{text}");
    ExitCode::SUCCESS
}
