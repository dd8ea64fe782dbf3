//! `rose`: the seed application's flags, run as a deployment runs them.
//!
//! ```text
//! rose [show]            load (a local .env, then the process environment), log every flag at
//!                        LOG_LEVEL, print the public flags as JSON
//! rose serve [--addr ADDR] [--store FILE] [--rate-limit-per-minute N]
//!                        load as `show` does, into live flags (kept in PostgreSQL when
//!                        FEATURE_DATABASE_TYPE=postgresql and DATABASE_URL say so), and serve
//!                        them over HTTP: the public flags, health, the admin API and page, docs
//!                        and metrics, until SIGTERM
//! rose check FILE...     load each env file on its own, as a deployment would; print every
//!                        problem; exit 1 if any file has one
//! rose docs              print the Markdown reference of every flag
//! rose env-example       print a .env.example
//! rose json              print the flags' metadata as JSON
//! rose help [COMMAND]    print this list, or one subcommand's help, on stdout (also --help)
//! ```
//!
//! A mistake in the arguments is clap's error on stderr, with exit status 2.

mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory, Parser, Subcommand};
use flags_core::{FeatureFlags, Loader, Problem, docs};
use flags_examples::{LogLevel, Settings};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Registry, reload};

/// The seed application's flags, run as a deployment runs them.
#[derive(Parser)]
#[command(name = "rose", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Load the flags, log every flag at LOG_LEVEL and print the public flags (the default)
    Show,
    /// Load the flags as `show` does and serve them over HTTP until SIGTERM or Ctrl-C
    Serve(serve::Options),
    /// Load each env file on its own and print every problem; exit 1 if any file has one
    Check {
        /// An env file: KEY=value lines, as a deployment's environment
        #[arg(value_name = "FILE", required = true)]
        files: Vec<PathBuf>,
    },
    /// Print the Markdown reference of every flag
    Docs,
    /// Print a .env.example
    EnvExample,
    /// Print the flags' metadata as JSON
    Json,
}

fn main() -> ExitCode {
    match arguments().command.unwrap_or(Command::Show) {
        Command::Show => show(),
        Command::Serve(options) => serve::run(options),
        Command::Check { files } => check(&files),
        Command::Docs => print(docs::markdown(Settings::FLAGS)),
        Command::EnvExample => print(docs::env_example(Settings::FLAGS)),
        Command::Json => print(docs::json(Settings::FLAGS)),
    }
}

/// The parsed arguments, or clap's error and exit 2. For an unknown subcommand clap names only a
/// near one, if any; the error also names them all, so that it shows what `rose` can do.
fn arguments() -> Cli {
    Cli::try_parse().unwrap_or_else(|mut error| {
        if error.kind() == ErrorKind::InvalidSubcommand {
            let mut tips = match error.get(ContextKind::Suggested) {
                Some(ContextValue::StyledStrs(tips)) => tips.clone(),
                _ => Vec::new(),
            };
            let names: Vec<String> = Cli::command()
                .get_subcommands()
                .map(|command| format!("'{}'", command.get_name()))
                .collect();
            tips.push(format!("the subcommands are {}", names.join(", ")).into());
            error.insert(ContextKind::Suggested, ContextValue::StyledStrs(tips));
        }
        error.exit()
    })
}

/// Where `show` and `serve` load the flags from: a local .env if there is one, then the process
/// environment, which wins.
fn sources() -> Loader {
    Loader::new().file_if_exists(".env").env()
}

/// Logs on stderr at `level`, starting with the load's `warnings`: logging is set up from the
/// flags (LOG_LEVEL), so they waited until it was. The returned handle changes the level later.
fn start_logging(level: LogLevel, warnings: &[Problem]) -> LogLevelHandle {
    let (filter, handle) = reload::Layer::new(max_level(level));
    let output = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .without_time();
    tracing_subscriber::registry()
        .with(filter)
        .with(output)
        .init();
    for warning in warnings {
        tracing::warn!(target: "flags", "{warning}");
    }
    LogLevelHandle(handle)
}

/// Changes the level [`start_logging`] set.
struct LogLevelHandle(reload::Handle<LevelFilter, Registry>);

impl LogLevelHandle {
    fn set(&self, level: LogLevel) {
        if let Err(error) = self.0.reload(max_level(level)) {
            tracing::error!("cannot change the log level to {level:?}: {error}");
        }
    }
}

fn show() -> ExitCode {
    let settings = match sources().snapshot::<Settings>() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    let _level = start_logging(settings.log_level, settings.warnings());
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
fn check(files: &[PathBuf]) -> ExitCode {
    let mut clean = true;
    for file in files {
        match Loader::new().file(file).strict().load::<Settings>() {
            Ok(_) => println!("{}: ok", file.display()),
            Err(error) => {
                clean = false;
                let count = error.problems().len();
                println!(
                    "{}: {count} problem{}",
                    file.display(),
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
