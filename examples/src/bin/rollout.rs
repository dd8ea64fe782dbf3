//! A gradual rollout and an A/B test, decided per user as Unleash decides them.
//!
//! ```text
//! FEATURE_NEW_CHECKOUT='25%; allow=qa-1; deny=vip-7' FEATURE_BUTTON_COLOR=blue:50,green:50 \
//!     cargo run -p flags-examples --bin rollout -- alice bob qa-1 vip-7
//! ```

use std::process::ExitCode;

use clap::Parser;
use flags_core::{FeatureFlags, Loader, Rollout, Variants};

/// Decide the rollout and the A/B test of FEATURE_NEW_CHECKOUT and FEATURE_BUTTON_COLOR (from
/// the environment) for each user, and print what a frontend gets for them
#[derive(Parser)]
#[command(name = "rollout", version)]
struct Args {
    /// The users' ids; alice, bob, carol and dave when none is given
    #[arg(value_name = "USER")]
    users: Vec<String>,
}

#[derive(Debug, FeatureFlags)]
#[flags(prefix = "FEATURE_")]
struct Settings {
    /// The new checkout, rolled out to a share of users: 5%, then 25%, 50%, 100%.
    #[flag(default = Rollout::new("", 0), public = "new_checkout")]
    new_checkout: Rollout,

    /// The checkout button's colour, an A/B test.
    #[flag(default = Variants::new("", &[("blue", 500), ("green", 500)]), public)]
    button_color: Variants,
}

fn main() -> ExitCode {
    let Args { users } = Args::parse();
    let settings = match Loader::new().env().load::<Settings>() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    let users = if users.is_empty() {
        ["alice", "bob", "carol", "dave"].map(String::from).to_vec()
    } else {
        users
    };
    for user in &users {
        // What a frontend gets for this user: the decisions, never the rules.
        match serde_json::to_string(&settings.public_flags_for(user)) {
            Ok(json) => println!("{user}: {json}"),
            Err(error) => eprintln!("{user}: {error}"),
        }
    }
    ExitCode::SUCCESS
}
