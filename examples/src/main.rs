//! Loads the seed application's settings as a deployment would (a local `.env` if there is one,
//! then the process environment) and prints them, or prints every problem and exits with 1.

use std::process::ExitCode;

use flags_core::{FeatureFlags, Loader};
use flags_examples::Settings;

fn main() -> ExitCode {
    match Loader::new()
        .file_if_exists(".env")
        .env()
        .load::<Settings>()
    {
        Ok(settings) => {
            for flag in Settings::FLAGS {
                println!("{} ({})", flag.env(), flag.type_name());
            }
            println!("{settings:#?}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}
