//! The canary: a secret's value never reaches any output, through any path.

use flags_core::secrecy::SecretString;
use flags_core::{FeatureFlags, FlagValue, Loader, ValueError, docs};
use flags_tests::capture_logs;

const CANARY: &str = "canary-9c1f7e3a";

#[derive(Debug, Clone, Copy, PartialEq, Eq, FlagValue)]
enum Region {
    Us,
    Eu,
}

/// A user's type whose parser quotes the text it rejects, as many do.
#[derive(Debug)]
struct Licence(String);

impl FlagValue for Licence {
    fn parse_env(text: &str) -> Result<Self, ValueError> {
        match text.strip_prefix("LIC-") {
            Some(_) => Ok(Self(text.to_owned())),
            None => Err(ValueError::expected(format!(
                "a licence key starting with LIC-, not {text:?}"
            ))),
        }
    }

    fn to_env(&self) -> String {
        self.0.clone()
    }
}

#[derive(Debug, FeatureFlags)]
#[flags(prefix = "APP_", deny_unknown)]
struct Settings {
    #[flag(default = false, public = "beta")]
    beta_enabled: bool,
    /// A token of a secret type: secret without the attribute.
    #[flag(env = "API_TOKEN")]
    api_token: Option<SecretString>,
    /// A plain string made secret by the attribute.
    #[flag(env = "ADMIN_PASSWORD", secret, default = "canary-9c1f7e3a")]
    admin_password: String,
    /// A secret number: its parse error must not quote it.
    #[flag(env = "PIN", secret, default = 0)]
    pin: u32,
    /// A secret enum.
    #[flag(env = "HOME_REGION", secret)]
    home_region: Option<Region>,
    /// A secret switch: its unmet requirement must not quote it.
    #[flag(env = "PROXY_URL", secret, requires = "PROXY_USER")]
    proxy_url: Option<String>,
    #[flag(env = "PROXY_USER")]
    proxy_user: Option<String>,
    /// A secret read through serde and envy, whose errors quote the value.
    #[flag(env = "SECRET_PORTS", serde, secret)]
    secret_ports: Option<Vec<u16>>,
    /// A secret of a user's type whose parser quotes the value.
    #[flag(env = "LICENCE", secret)]
    licence: Option<Licence>,
}

fn assert_no_canary(what: &str, text: &str) {
    assert!(
        !text.contains(CANARY),
        "the canary leaked through {what}: {text}"
    );
}

#[test]
fn a_secret_never_reaches_errors_logs_metadata_or_the_public_projection() {
    // Parse errors of secret fields, an unmet requirement of a secret switch, and an unknown
    // variable holding a secret, all in one error.
    let error = Settings::from_iter([
        ("PIN", CANARY),
        ("HOME_REGION", CANARY),
        ("PROXY_URL", CANARY),
        ("APP_API_TOKEN", CANARY),
        ("SECRET_PORTS", CANARY),
        ("LICENCE", CANARY),
    ])
    .unwrap_err();
    assert_eq!(error.problems().len(), 6, "{error}");
    assert_no_canary("the error's Display", &error.to_string());
    assert_no_canary("the error's Debug", &format!("{error:?}"));
    assert_no_canary("the problems' Debug", &format!("{:#?}", error.problems()));

    // A .env line that does not parse.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(".env");
    std::fs::write(&file, format!("API_TOKEN=\"{CANARY}\nPIN=1\n")).unwrap();
    let error = Loader::new().file(&file).load::<Settings>().unwrap_err();
    assert_no_canary("a .env parse error", &error.to_string());

    // A loader holding a secret in a map, printed by a careless log line.
    let loader = Loader::new().map([("API_TOKEN", CANARY)]);
    assert_no_canary("the loader's Debug", &format!("{loader:?}"));

    // A clean load with every secret set: logs, metadata, public projection.
    let settings = Settings::from_iter([
        ("API_TOKEN", CANARY),
        ("PIN", "1234"),
        ("HOME_REGION", "eu"),
        ("PROXY_URL", CANARY),
        ("PROXY_USER", "proxy"),
        ("SECRET_PORTS", "4431,4432"),
        ("LICENCE", &format!("LIC-{CANARY}")),
    ])
    .unwrap();
    let logs = capture_logs(|| settings.log_state());
    assert_eq!(logs.lines().count(), 9, "{logs}");
    assert_no_canary("log_state", &logs);
    assert!(logs.contains("value=<redacted>"), "{logs}");
    assert!(!logs.contains("1234") && !logs.contains("4431"), "{logs}");

    let public = serde_json::to_string(&settings.public_flags()).unwrap();
    assert_eq!(public, r#"{"beta":false}"#);

    assert_no_canary("the flags' metadata", &format!("{:?}", Settings::FLAGS));
    assert_no_canary("the Markdown reference", &docs::markdown(Settings::FLAGS));
    assert_no_canary("the .env.example", &docs::env_example(Settings::FLAGS));
    assert_no_canary("the JSON metadata", &docs::json(Settings::FLAGS));
    for flag in Settings::FLAGS.iter().skip(1).take(5) {
        assert!(flag.is_secret(), "{} should be secret", flag.env());
    }
}

/// A list's parser reports the item it rejects; a user's item parser may quote it.
#[test]
fn a_secret_lists_rejected_item_is_not_quoted() {
    #[derive(Debug, FeatureFlags)]
    struct Licences {
        #[flag(env = "LICENCES", secret)]
        licences: Option<Vec<Licence>>,
    }

    let error = Licences::from_iter([("LICENCES", format!("LIC-1, {CANARY}"))]).unwrap_err();
    assert_no_canary("a list item's parse error", &error.to_string());
    assert_eq!(
        error.to_string(),
        "LICENCES: invalid value <redacted>, expected a licence key starting with LIC-, not \
         \"<redacted>\" for item 2 of the comma-separated list (from map)"
    );
}
