//! The canary: a secret's value never reaches any output, through any path, however a parser or a
//! formatter renders it (quoted, escaped, split into list items).

use std::fmt;

use flags_core::secrecy::zeroize::Zeroize;
use flags_core::secrecy::{ExposeSecret, SecretBox, SecretString};
use flags_core::{FeatureFlags, FlagValue, Loader, ValueError, docs};
use flags_tests::capture_logs;

/// The part of every canary that survives any rendering: escaping changes the characters around
/// it, never these.
const CORE: &str = "CANARY9c1f7e3a";

/// Canaries with the characters that escaping parsers and `{:?}` rewrite: a check for the raw
/// text alone would miss `"CANARY\"…"`.
fn canaries() -> Vec<String> {
    [
        "\"",
        "\\",
        "\n",
        "\u{7}",
        "\u{1b}[0m",
        "é",
        "\u{202e}",
        "'",
        "",
    ]
    .iter()
    .map(|special| format!("x{special}{CORE}{special}y"))
    .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, FlagValue)]
enum Region {
    Us,
    Eu,
}

impl Zeroize for Region {
    fn zeroize(&mut self) {
        *self = Region::Us;
    }
}

/// A user's type whose parser quotes the text it rejects with `{:?}`, as many do, and which says
/// it is secret (its `Debug` hides the key).
struct Licence(String);

impl fmt::Debug for Licence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Licence(<redacted>)")
    }
}

impl FlagValue for Licence {
    const SECRET: bool = true;

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
    /// A secret with a default, which docs must not show either.
    #[flag(env = "ADMIN_PASSWORD", secret, default = "xCANARY9c1f7e3ay")]
    admin_password: SecretString,
    /// A secret number: its parse error must not quote it.
    #[flag(env = "PIN", secret)]
    pin: Option<SecretBox<u32>>,
    /// A secret enum.
    #[flag(env = "HOME_REGION", secret)]
    home_region: Option<SecretBox<Region>>,
    /// A secret switch: its unmet requirement must not quote it.
    #[flag(env = "PROXY_URL", secret, requires = "PROXY_USER")]
    proxy_url: Option<SecretString>,
    #[flag(env = "PROXY_USER")]
    proxy_user: Option<String>,
    /// A secret read through serde and envy, whose errors quote the value with escapes.
    #[flag(env = "SECRET_PORTS", serde, secret)]
    secret_ports: Option<SecretBox<Vec<u16>>>,
    /// A secret of a user's type whose parser quotes the value.
    #[flag(env = "LICENCE", secret)]
    licence: Option<Licence>,
    /// A secret list of a user's type: the parser quotes the item it rejects.
    #[flag(env = "LICENCES")]
    licences: Option<Vec<Licence>>,
    /// A secret list of text.
    #[flag(env = "TOKENS")]
    tokens: Option<Vec<SecretString>>,
}

fn assert_no_canary(what: &str, text: &str) {
    assert!(
        !text.contains(CORE),
        "the canary leaked through {what}: {text}"
    );
}

#[test]
fn a_secret_never_reaches_errors_whatever_characters_it_holds() {
    for canary in canaries() {
        // Parse errors of secret fields, an unmet requirement of a secret switch, and an unknown
        // variable holding a secret, all in one error.
        let error = Settings::from_iter([
            ("PIN", canary.as_str()),
            ("HOME_REGION", &canary),
            ("PROXY_URL", &canary),
            ("APP_API_TOKEN", &canary),
            ("SECRET_PORTS", &canary),
            ("LICENCE", &canary),
            ("LICENCES", &format!("LIC-1, {canary}")),
        ])
        .unwrap_err();
        assert_eq!(error.problems().len(), 7, "{error}");
        assert_no_canary("the error's Display", &error.to_string());
        assert_no_canary("the error's Debug", &format!("{error:?}"));
        assert_no_canary("the problems' Debug", &format!("{:#?}", error.problems()));
    }
}

#[test]
fn a_secret_parsers_message_is_replaced_by_its_type_and_flags_own_messages_are_kept() {
    let error = Settings::from_iter([
        ("PIN", "x"),
        ("HOME_REGION", "mars"),
        ("SECRET_PORTS", "CANARY\"SECRET"),
        ("LICENCE", "CANARY\"SECRET"),
        ("LICENCES", "LIC-1, CANARY\"SECRET"),
    ])
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "PIN: invalid value <redacted>, expected an integer from 0 to 4294967295 (from map)\n\
         HOME_REGION: invalid value <redacted>, expected one of: us, eu (from map)\n\
         SECRET_PORTS: invalid value <redacted>, expected a valid `Option<SecretBox<Vec<u16>>>` \
         (the parser's message is not shown: the flag is secret) (from map)\n\
         LICENCE: invalid value <redacted>, expected a valid `Option<Licence>` (the parser's \
         message is not shown: the flag is secret) (from map)\n\
         LICENCES: invalid value <redacted>, expected a valid `Option<Vec<Licence>>` (the \
         parser's message is not shown: the flag is secret) (from map)"
    );
}

#[test]
fn a_secret_never_reaches_logs_debug_metadata_docs_or_the_public_projection() {
    for canary in canaries() {
        let licence = format!("LIC-{canary}");
        let settings = Settings::from_iter([
            ("API_TOKEN", canary.as_str()),
            ("ADMIN_PASSWORD", &canary),
            ("PIN", "1234"),
            ("HOME_REGION", "eu"),
            ("PROXY_URL", &canary),
            ("PROXY_USER", "proxy"),
            ("SECRET_PORTS", "4431,4432"),
            ("LICENCE", &licence),
            ("LICENCES", &format!("LIC-1,{licence}")),
            ("TOKENS", &format!("t1, {canary}")),
        ])
        .unwrap();
        assert_eq!(settings.api_token.as_ref().unwrap().expose_secret(), canary);
        assert_eq!(*settings.pin.as_ref().unwrap().expose_secret(), 1234);

        // What the README does: print the settings.
        let debug = format!("{settings:?} {settings:#?}");
        assert_no_canary("the settings' Debug", &debug);
        assert!(
            !debug.contains("1234") && !debug.contains("4431"),
            "{debug}"
        );

        let logs = capture_logs(|| settings.log_state());
        assert_eq!(logs.lines().count(), 11, "{logs}");
        assert_no_canary("log_state", &logs);
        assert!(logs.contains("value=<redacted>"), "{logs}");
        assert!(!logs.contains("1234") && !logs.contains("4431"), "{logs}");

        let public = serde_json::to_string(&settings.public_flags()).unwrap();
        assert_eq!(public, r#"{"beta":false}"#);
    }

    assert_no_canary("the flags' metadata", &format!("{:?}", Settings::FLAGS));
    assert_no_canary("the Markdown reference", &docs::markdown(Settings::FLAGS));
    assert_no_canary("the .env.example", &docs::env_example(Settings::FLAGS));
    assert_no_canary("the JSON metadata", &docs::json(Settings::FLAGS));
    let secret = |env: &str| {
        let flag = Settings::FLAGS.iter().find(|flag| flag.env() == env);
        flag.unwrap().is_secret()
    };
    for env in [
        "API_TOKEN",
        "ADMIN_PASSWORD",
        "PIN",
        "HOME_REGION",
        "PROXY_URL",
        "SECRET_PORTS",
        "LICENCE",
        "LICENCES",
        "TOKENS",
    ] {
        assert!(secret(env), "{env} should be secret");
    }
}

#[test]
fn a_secret_never_reaches_a_loaders_debug_or_an_env_files_report() {
    for canary in canaries() {
        let loader = Loader::new().map([("API_TOKEN", canary.as_str())]);
        assert_no_canary("the loader's Debug", &format!("{loader:?}"));

        // A .env line that does not parse, holding the canary in every way a line can.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(".env");
        let quoted = canary.replace('\n', " ");
        std::fs::write(
            &file,
            format!("API_TOKEN=\"{quoted}\nPIN=1\nLICENCE={quoted}\"\nTOKENS='{quoted}\n"),
        )
        .unwrap();
        let error = Loader::new().file(&file).load::<Settings>().unwrap_err();
        assert_no_canary("a .env parse error", &error.to_string());
    }
}
