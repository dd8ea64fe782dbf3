//! Loading typed flags from maps: every value type, defaults, required flags, and errors.
#![allow(dead_code)] // Some structs exist only to be loaded and fail; their fields are never read.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use flags_core::secrecy::zeroize::Zeroize;
use flags_core::secrecy::{ExposeSecret, SecretBox, SecretString};
use flags_core::{FeatureFlags, FlagValue, FlagsError, Problem, ShownValue, Source};
use flags_tests::capture_logs;

#[derive(Debug, Clone, Copy, PartialEq, Eq, FlagValue)]
enum DatabaseType {
    Sqlite,
    #[flag_value(alias = "postgres", alias = "pg")]
    Postgresql,
}

/// What `SecretBox<DatabaseType>` needs: a value to overwrite the secret with when it is dropped.
impl Zeroize for DatabaseType {
    fn zeroize(&mut self) {
        *self = DatabaseType::Sqlite;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, FlagValue)]
enum Region {
    #[flag_value(rename = "us-east-1")]
    UsEast,
    EuWest,
}

#[derive(Debug, PartialEq, serde_derive::Deserialize, serde_derive::Serialize)]
#[serde(rename_all = "lowercase")]
enum Mode {
    Fast,
    Safe,
}

#[derive(Debug, FeatureFlags)]
#[flags(prefix = "APP_")]
struct Everything {
    #[flag(default = false)]
    enabled: bool,
    #[flag(default = 8080)]
    port: u16,
    #[flag(default = -5)]
    offset: i64,
    #[flag(default = 0.5)]
    ratio: f64,
    #[flag(default = "rose")]
    name: String,
    #[flag(default = "/var/lib/rose")]
    data_dir: PathBuf,
    #[flag(default = Duration::from_secs(30))]
    timeout: Duration,
    #[flag(default = DatabaseType::Sqlite)]
    database_type: DatabaseType,
    #[flag(default = vec![Region::UsEast])]
    regions: Vec<Region>,
    #[flag(env = "API_TOKEN")]
    token: Option<SecretString>,
    replicas: Option<u8>,
    #[flag(serde, default = Mode::Safe)]
    mode: Mode,
    #[flag(serde)]
    weights: Option<Vec<u32>>,
}

#[test]
fn every_flag_takes_its_default_when_nothing_is_set() {
    let loaded = Everything::from_iter(HashMap::<String, String>::new()).unwrap();
    assert!(!loaded.enabled);
    assert_eq!(loaded.port, 8080);
    assert_eq!(loaded.offset, -5);
    assert_eq!(loaded.ratio, 0.5);
    assert_eq!(loaded.name, "rose");
    assert_eq!(loaded.data_dir, PathBuf::from("/var/lib/rose"));
    assert_eq!(loaded.timeout, Duration::from_secs(30));
    assert_eq!(loaded.database_type, DatabaseType::Sqlite);
    assert_eq!(loaded.regions, vec![Region::UsEast]);
    assert!(loaded.token.is_none());
    assert_eq!(loaded.replicas, None);
    assert_eq!(loaded.mode, Mode::Safe);
    assert_eq!(loaded.weights, None);
}

#[test]
fn every_value_type_parses_from_its_variable() {
    let loaded = Everything::from_iter([
        ("APP_ENABLED", "on"),
        ("APP_PORT", "9000"),
        ("APP_OFFSET", "12"),
        ("APP_RATIO", "1e-2"),
        ("APP_NAME", "shaman"),
        ("APP_DATA_DIR", "/tmp/rose"),
        ("APP_TIMEOUT", "1h30m"),
        ("APP_DATABASE_TYPE", "PostgreSQL"),
        ("APP_REGIONS", "eu_west, US-EAST-1"),
        ("API_TOKEN", "t0ken"),
        ("APP_REPLICAS", "3"),
        ("APP_MODE", "fast"),
        ("APP_WEIGHTS", "1,2,3"),
    ])
    .unwrap();
    assert!(loaded.enabled);
    assert_eq!(loaded.port, 9000);
    assert_eq!(loaded.offset, 12);
    assert_eq!(loaded.ratio, 0.01);
    assert_eq!(loaded.name, "shaman");
    assert_eq!(loaded.data_dir, PathBuf::from("/tmp/rose"));
    assert_eq!(loaded.timeout, Duration::from_secs(5400));
    assert_eq!(loaded.database_type, DatabaseType::Postgresql);
    assert_eq!(loaded.regions, vec![Region::EuWest, Region::UsEast]);
    assert_eq!(loaded.token.unwrap().expose_secret(), "t0ken");
    assert_eq!(loaded.replicas, Some(3));
    assert_eq!(loaded.mode, Mode::Fast);
    assert_eq!(loaded.weights, Some(vec![1, 2, 3]));
}

#[test]
fn enum_aliases_and_renames_are_matched_ignoring_case() {
    for text in ["postgres", "PG", " Postgresql "] {
        let loaded = Everything::from_iter([("APP_DATABASE_TYPE", text)]).unwrap();
        assert_eq!(loaded.database_type, DatabaseType::Postgresql, "{text:?}");
    }
    assert_eq!(DatabaseType::Postgresql.to_env(), "postgresql");
    assert_eq!(Region::UsEast.to_env(), "us-east-1");
    assert_eq!(<Region as FlagValue>::VALUES, ["us-east-1", "eu_west"]);
    assert_eq!(
        <DatabaseType as FlagValue>::ALIASES,
        [("postgres", "postgresql"), ("pg", "postgresql")]
    );
    let flag = Everything::FLAGS
        .iter()
        .find(|flag| flag.env() == "APP_DATABASE_TYPE")
        .unwrap();
    assert_eq!(flag.aliases(), <DatabaseType as FlagValue>::ALIASES);
}

#[test]
fn an_empty_or_blank_variable_counts_as_unset() {
    let loaded = Everything::from_iter([
        ("APP_PORT", ""),
        ("APP_ENABLED", "   "),
        ("API_TOKEN", ""),
        ("APP_WEIGHTS", ""),
    ])
    .unwrap();
    assert_eq!(loaded.port, 8080);
    assert!(!loaded.enabled);
    assert!(loaded.token.is_none());
    assert_eq!(loaded.weights, None);
}

#[test]
fn a_later_pair_overrides_an_earlier_one_and_only_the_last_value_is_checked() {
    let loaded = Everything::from_iter([("APP_PORT", "not a port"), ("APP_PORT", "81")]).unwrap();
    assert_eq!(loaded.port, 81);
}

#[derive(Debug, FeatureFlags)]
#[flags(prefix = "FEATURE_")]
struct Deployment {
    #[flag(default = false)]
    whatsapp_enabled: bool,
    #[flag(default = DatabaseType::Sqlite)]
    database_type: DatabaseType,
    #[flag(env = "PORT", default = 8080)]
    port: u16,
    #[flag(env = "SESSION_TTL", default = Duration::from_secs(60))]
    session_ttl: Duration,
    #[flag(env = "ADMIN_TOKEN")]
    admin_token: SecretString,
    #[flag(env = "DATABASE_URL", secret)]
    database_url: Option<SecretString>,
}

#[test]
fn four_bad_values_and_a_missing_flag_are_five_lines_each_naming_variable_value_and_fix() {
    let error = Deployment::from_iter([
        ("FEATURE_WHATSAPP_ENABLED", "maybe"),
        ("FEATURE_DATABASE_TYPE", "mysql"),
        ("PORT", "80800"),
        ("SESSION_TTL", "soon"),
    ])
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        [
            "FEATURE_WHATSAPP_ENABLED: invalid value \"maybe\", expected a boolean: true/false, 1/0, yes/no or on/off (from map)",
            "FEATURE_DATABASE_TYPE: invalid value \"mysql\", expected one of: sqlite, postgresql (from map)",
            "PORT: invalid value \"80800\", expected an integer from 0 to 65535 (from map)",
            "SESSION_TTL: invalid value \"soon\", expected a duration such as 30s, 5m, 1h30m or 250ms (from map)",
            "ADMIN_TOKEN: required, but not set and has no default",
        ]
        .join("\n")
    );
}

#[test]
fn problems_are_data_in_declaration_order() {
    let error =
        Deployment::from_iter([("PORT", "x"), ("FEATURE_WHATSAPP_ENABLED", "2")]).unwrap_err();
    let envs: Vec<_> = error
        .problems()
        .iter()
        .map(|problem| problem.env())
        .collect();
    assert_eq!(
        envs,
        [
            Some("FEATURE_WHATSAPP_ENABLED"),
            Some("PORT"),
            Some("ADMIN_TOKEN")
        ]
    );
    match &error.problems()[1] {
        Problem::Invalid {
            flag,
            value,
            expected,
            source,
            ..
        } => {
            assert_eq!(*flag, "port");
            assert_eq!(value.text(), Some("x"));
            assert_eq!(expected, "an integer from 0 to 65535");
            assert_eq!(*source, Source::Map);
        }
        other => panic!("expected an invalid value, got {other:?}"),
    }
}

#[derive(Debug, FeatureFlags)]
struct Secrets {
    #[flag(env = "TOKEN_PORT", secret)]
    token_port: SecretBox<u16>,
    #[flag(env = "KEY_LIST")]
    keys: Vec<SecretString>,
    #[flag(env = "LEVEL", secret)]
    level: Option<SecretBox<DatabaseType>>,
}

#[test]
fn a_secret_value_is_redacted_in_every_rendering_of_the_error() {
    let canary = "canary-5f2c9a";
    let error = Secrets::from_iter([("TOKEN_PORT", canary), ("LEVEL", canary)]).unwrap_err();
    let display = error.to_string();
    assert_eq!(
        display,
        "TOKEN_PORT: invalid value <redacted>, expected an integer from 0 to 65535 (from map)\n\
         KEY_LIST: required, but not set and has no default\n\
         LEVEL: invalid value <redacted>, expected one of: sqlite, postgresql (from map)"
    );
    assert!(!format!("{error:?}").contains(canary));
    assert!(!format!("{:?}", error.problems()).contains(canary));
    assert!(matches!(
        &error.problems()[0],
        Problem::Invalid {
            value: ShownValue::Redacted,
            ..
        }
    ));
}

#[test]
fn a_secret_type_is_secret_without_the_attribute() {
    let flags = Secrets::FLAGS;
    assert!(flags.iter().all(|flag| flag.is_secret()), "{flags:?}");
    assert!(!Deployment::FLAGS[0].is_secret());
}

#[derive(Debug, FeatureFlags)]
#[flags(prefix = "FEATURE_")]
struct Strict {
    #[flag(default = false)]
    whatsapp_enabled: bool,
    #[flag(env = "LOG_LEVEL", default = "info")]
    log_level: String,
}

#[derive(Debug, FeatureFlags)]
#[flags(prefix = "FEATURE_", deny_unknown)]
struct Denying {
    #[flag(default = false)]
    whatsapp_enabled: bool,
}

#[test]
fn an_unknown_variable_under_the_prefix_is_an_error_with_deny_unknown() {
    let error = Denying::from_iter([
        ("FEATURE_WHATSAP_ENABLED", "true"),
        ("FEATURE_SOMETHING_ELSE", "1"),
        ("UNRELATED", "1"),
    ])
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "FEATURE_WHATSAP_ENABLED: no such flag; did you mean FEATURE_WHATSAPP_ENABLED? (from map)\n\
         FEATURE_SOMETHING_ELSE: no such flag (from map)"
    );
}

/// pydantic-settings reads names ignoring case: a deployment of the seed application with
/// `feature_whatsapp_enabled=true` works there, and must not silently lose the flag here.
#[test]
fn a_flags_variable_in_another_case_is_named_with_the_right_spelling() {
    let vars = [("feature_whatsapp_enabled", "true"), ("Log_Level", "debug")];
    let mut loaded = None;
    let logs = capture_logs(|| loaded = Some(Strict::from_iter(vars).unwrap()));
    let loaded = loaded.unwrap();
    assert!(!loaded.whatsapp_enabled);
    assert_eq!(loaded.log_level, "info");
    assert!(
        logs.contains(
            "WARN flags: feature_whatsapp_enabled: not read, as variable names are \
             case-sensitive; did you mean FEATURE_WHATSAPP_ENABLED? (from map)"
        ),
        "{logs}"
    );
    assert!(logs.contains("did you mean LOG_LEVEL?"), "{logs}");

    let error = Denying::from_iter([("Feature_WhatsApp_Enabled", "true")]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "Feature_WhatsApp_Enabled: not read, as variable names are case-sensitive; did you mean \
         FEATURE_WHATSAPP_ENABLED? (from map)"
    );
}

/// A misspelled variable is often why another flag fails: `FEATURE_DATABSE_TYPE=postgres` leaves
/// the database type at its default, and the report must say so even though the load failed.
#[test]
fn a_failed_loads_report_includes_its_warnings() {
    let mut result = None;
    let logs = capture_logs(|| {
        result = Some(Strict::from_iter([
            ("FEATURE_WHATSAPP_ENABLED", "maybe"),
            ("FEATURE_WHATSAP_ENABLE", "true"),
        ]));
    });
    let error = result.unwrap().unwrap_err();
    assert_eq!(
        error.to_string(),
        "FEATURE_WHATSAPP_ENABLED: invalid value \"maybe\", expected a boolean: true/false, 1/0, \
         yes/no or on/off (from map)\n\
         warning: FEATURE_WHATSAP_ENABLE: no such flag; did you mean FEATURE_WHATSAPP_ENABLED? \
         (from map)"
    );
    assert_eq!(error.problems().len(), 1);
    assert_eq!(error.warnings().len(), 1);
    // Reported once, in the error, not logged besides.
    assert_eq!(logs, "");
}

#[test]
fn an_unknown_variable_under_the_prefix_is_only_a_warning_by_default() {
    let logs = capture_logs(|| {
        let loaded = Strict::from_iter([("FEATURE_WHATSAP_ENABLED", "true")]).unwrap();
        assert!(!loaded.whatsapp_enabled);
    });
    assert!(
        logs.contains(
            "WARN flags: FEATURE_WHATSAP_ENABLED: no such flag; did you mean FEATURE_WHATSAPP_ENABLED? (from map)"
        ),
        "{logs}"
    );
}

#[test]
fn metadata_describes_every_flag_in_declaration_order() {
    let flags = Everything::FLAGS;
    let envs: Vec<_> = flags.iter().map(|flag| flag.env()).collect();
    assert_eq!(
        envs,
        [
            "APP_ENABLED",
            "APP_PORT",
            "APP_OFFSET",
            "APP_RATIO",
            "APP_NAME",
            "APP_DATA_DIR",
            "APP_TIMEOUT",
            "APP_DATABASE_TYPE",
            "APP_REGIONS",
            "API_TOKEN",
            "APP_REPLICAS",
            "APP_MODE",
            "APP_WEIGHTS",
        ]
    );
    let defaults: Vec<_> = flags.iter().map(|flag| flag.default()).collect();
    let text = |text: &str| Some(text.to_owned());
    assert_eq!(
        defaults,
        [
            text("false"),
            text("8080"),
            text("-5"),
            text("0.5"),
            text("rose"),
            text("/var/lib/rose"),
            text("30s"),
            text("sqlite"),
            text("us-east-1"),
            text(""),
            text(""),
            text("safe"),
            text(""),
        ]
    );
    assert_eq!(flags[7].values(), ["sqlite", "postgresql"]);
    assert_eq!(flags[8].values(), ["us-east-1", "eu_west"]);
    assert_eq!(flags[9].type_name(), "Option<SecretString>");
    assert_eq!(flags[12].type_name(), "Option<Vec<u32>>");
    assert!(Deployment::FLAGS[4].is_required());
    assert!(!Deployment::FLAGS[5].is_required());
}

/// Loads the example's settings: the doc comments, statuses, publics and requirements are kept.
mod described {
    use super::*;

    #[derive(Debug, FeatureFlags)]
    #[flags(prefix = "FEATURE_")]
    pub struct Settings {
        /// Enable WhatsApp integration.
        ///
        /// Frozen until the Business account is approved.
        #[flag(default = false, public = "whatsapp", status = "frozen")]
        #[flag(requires = ["WHATSAPP_TOKEN", "phone_number_id"])]
        pub whatsapp_enabled: bool,
        #[flag(env = "WHATSAPP_TOKEN", secret)]
        pub whatsapp_token: Option<SecretString>,
        #[flag(env = "WHATSAPP_PHONE_NUMBER_ID")]
        pub phone_number_id: Option<String>,
        #[flag(default = DatabaseType::Sqlite, public)]
        #[flag(when = DatabaseType::Postgresql, requires = "DATABASE_URL")]
        pub database_type: DatabaseType,
        #[flag(env = "DATABASE_URL", secret)]
        pub database_url: Option<SecretString>,
    }

    #[test]
    fn doc_comments_statuses_publics_and_requirements_are_metadata() {
        let whatsapp = &Settings::FLAGS[0];
        assert_eq!(
            whatsapp.description(),
            "Enable WhatsApp integration.\n\nFrozen until the Business account is approved."
        );
        assert_eq!(whatsapp.status(), Some("frozen"));
        assert_eq!(whatsapp.public_name(), Some("whatsapp"));
        assert_eq!(whatsapp.requires().len(), 1);
        assert_eq!(whatsapp.requires()[0].when(), None);
        assert_eq!(
            whatsapp.requires()[0].vars(),
            ["WHATSAPP_TOKEN", "WHATSAPP_PHONE_NUMBER_ID"]
        );
        let database_type = &Settings::FLAGS[3];
        assert_eq!(database_type.public_name(), Some("database_type"));
        assert_eq!(
            database_type.requires()[0].when().as_deref(),
            Some("postgresql")
        );
        assert_eq!(database_type.requires()[0].vars(), ["DATABASE_URL"]);
        assert!(Settings::FLAGS[1].is_secret());
        assert_eq!(Settings::FLAGS[2].description(), "");
    }
}

#[derive(Debug, FeatureFlags)]
struct Empty {}

#[test]
fn a_struct_without_flags_loads_and_still_reports_source_problems() {
    assert!(Empty::from_iter([("ANY", "1")]).is_ok());
    assert!(Empty::FLAGS.is_empty());
}

#[test]
fn a_flags_error_is_a_std_error() {
    let error: Box<dyn std::error::Error> =
        Box::new(Deployment::from_iter([("PORT", "1")]).unwrap_err());
    assert!(error.to_string().starts_with("ADMIN_TOKEN: required"));
    let _: &FlagsError = error.downcast_ref().unwrap();
}

/// A type of another crate with `FromStr` and `Display`, which cannot implement `FlagValue` here.
#[derive(Debug, PartialEq)]
struct Semver(u32, u32, u32);

impl std::str::FromStr for Semver {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = text.split('.').collect();
        match parts[..] {
            [major, minor, patch] => {
                let number =
                    |part: &str| part.parse().map_err(|_| format!("`{part}` is no number"));
                Ok(Self(number(major)?, number(minor)?, number(patch)?))
            }
            _ => Err(String::from("not major.minor.patch")),
        }
    }
}

impl std::fmt::Display for Semver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

#[derive(Debug, FeatureFlags)]
#[flags(prefix = "APP_")]
struct Network {
    #[flag(default = std::net::IpAddr::from([127, 0, 0, 1]))]
    bind_ip: std::net::IpAddr,
    #[flag(default = "0.0.0.0:8080".parse().unwrap(), public)]
    listen: std::net::SocketAddr,
    #[flag(default = std::num::NonZeroU32::MIN, public)]
    workers: std::num::NonZeroU32,
    #[flag(from_str, default = Semver(1, 0, 0), public)]
    api_version: Semver,
    #[flag(from_str)]
    min_client: Option<Semver>,
    #[flag(from_str, requires = "APP_BIND_IP")]
    upstream: Option<std::net::Ipv6Addr>,
}

#[test]
fn common_std_types_and_any_from_str_type_are_flags() {
    let network = Network::from_iter([
        ("APP_BIND_IP", "::1"),
        ("APP_WORKERS", " 8 "),
        ("APP_API_VERSION", "2.1.0"),
        ("APP_MIN_CLIENT", "1.4.2"),
    ])
    .unwrap();
    assert_eq!(network.bind_ip.to_string(), "::1");
    assert_eq!(network.listen.port(), 8080);
    assert_eq!(network.workers.get(), 8);
    assert_eq!(network.api_version, Semver(2, 1, 0));
    assert_eq!(network.min_client, Some(Semver(1, 4, 2)));
    assert_eq!(network.upstream, None);
    assert_eq!(
        serde_json::to_string(&network.public_flags()).unwrap(),
        r#"{"listen":"0.0.0.0:8080","workers":8,"api_version":"2.1.0"}"#
    );
    assert_eq!(Network::FLAGS[3].default().as_deref(), Some("1.0.0"));
    assert_eq!(Network::FLAGS[4].default().as_deref(), Some(""));

    let error = Network::from_iter([
        ("APP_BIND_IP", "localhost"),
        ("APP_WORKERS", "0"),
        ("APP_API_VERSION", "2.x.0"),
        ("APP_MIN_CLIENT", "one"),
    ])
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "APP_BIND_IP: invalid value \"localhost\", expected an IP address such as 127.0.0.1 or ::1 (from map)\n\
         APP_WORKERS: invalid value \"0\", expected an integer from 1 to 4294967295 (from map)\n\
         APP_API_VERSION: invalid value \"2.x.0\", expected a valid `Semver` (`x` is no number) (from map)\n\
         APP_MIN_CLIENT: invalid value \"one\", expected a valid `Semver` (not major.minor.patch) (from map)"
    );
}
