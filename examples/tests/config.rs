//! The seed's env files: each loads cleanly, and `rose check` catches a broken copy of each with
//! every problem listed.

use std::path::{Path, PathBuf};
use std::process::Command;

use flags_core::{FeatureFlags, Loader, lifecycle};
use flags_examples::{DatabaseType, LogLevel, Settings};

fn config(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("config")
        .join(name)
}

fn check(files: &[&Path]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_rose"))
        .arg("check")
        .args(files)
        .env_clear()
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
    )
}

#[test]
fn each_seed_env_file_loads_cleanly_and_as_the_seed_says() {
    let load = |name| {
        Loader::new()
            .file(config(name))
            .strict()
            .load::<Settings>()
            .unwrap()
    };
    let dev = load("dev.env");
    assert!(dev.image_generation_enabled);
    assert!(!dev.rate_limit_enabled);
    assert_eq!(dev.log_level, LogLevel::Debug);
    let staging = load("staging.env");
    assert_eq!(staging.database_type, DatabaseType::Postgresql);
    assert!(staging.enable_api_docs);
    let prod = load("prod.env");
    assert_eq!(prod.database_type, DatabaseType::Postgresql);
    assert!(!prod.enable_api_docs);
    assert!(prod.rate_limit_enabled && prod.enable_security_headers);
    assert!(!prod.whatsapp_enabled && !prod.image_generation_enabled);
}

#[test]
fn check_passes_the_seed_env_files() {
    let files = ["dev.env", "staging.env", "prod.env"].map(config);
    let (code, stdout) = check(&files.iter().map(PathBuf::as_path).collect::<Vec<_>>());
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(
        stdout.lines().filter(|line| line.ends_with(": ok")).count(),
        3,
        "{stdout}"
    );
}

/// A copy of `name` with `edit` applied, in a temporary directory.
fn broken_copy(dir: &Path, name: &str, edit: impl Fn(String) -> String) -> PathBuf {
    let text = std::fs::read_to_string(config(name)).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, edit(text)).unwrap();
    path
}

#[test]
fn check_lists_every_problem_of_a_broken_copy_of_each_file() {
    let dir = tempfile::tempdir().unwrap();
    let dev = broken_copy(dir.path(), "dev.env", |text| {
        text.replace("RATE_LIMIT_ENABLED=false", "RATE_LIMT_ENABLED=false")
            .replace("ENABLE_API_DOCS=true", "ENABLE_API_DOCS=ture")
            .replace("TOGETHER_API_KEY=replace-with-your-together-api-key", "")
    });
    let staging = broken_copy(dir.path(), "staging.env", |text| {
        text.replace(
            "FEATURE_WHATSAPP_ENABLED=false",
            "FEATURE_WHATSAP_ENABLED=false",
        )
        .replace("RATE_LIMIT_ENABLED=true", "RATE_LIMIT_ENABLED=yes please")
        .replace("ENABLE_API_DOCS=true", "ENABLE_API_DOCS=yep")
        .replace("DATABASE_URL=postgresql", "# DATABASE_URL=postgresql")
    });
    let prod = broken_copy(dir.path(), "prod.env", |text| {
        text.replace(
            "ENABLE_SECURITY_HEADERS=true",
            "ENABLE_SECURITY_HEADER=true",
        )
        .replace("ENABLE_API_DOCS=false", "ENABLE_API_DOCS=0ff")
        .replace(
            "RATE_LIMIT_ENABLED=true",
            "RATE_LIMIT_ENABLED=true\nRATE_LIMIT_ENABLED=false",
        )
        .replace(
            "FEATURE_WHATSAPP_ENABLED=false",
            "FEATURE_WHATSAPP_ENABLED=true",
        )
    });
    let (code, stdout) = check(&[&dev, &staging, &prod]);
    assert_eq!(code, 1, "{stdout}");
    let (dev, staging, prod) = (dev.display(), staging.display(), prod.display());
    let bool_expected = "expected a boolean: true/false, 1/0, yes/no or on/off";
    assert_eq!(
        stdout,
        format!(
            "{dev}: 3 problems\n\
             \x20 RATE_LIMT_ENABLED: no such flag; did you mean RATE_LIMIT_ENABLED? (from .env file {dev})\n\
             \x20 ENABLE_API_DOCS: invalid value \"ture\", {bool_expected} (from .env file {dev})\n\
             \x20 FEATURE_IMAGE_GENERATION_ENABLED: \"true\" requires TOGETHER_API_KEY, which is not set (from .env file {dev})\n\
             {staging}: 4 problems\n\
             \x20 {staging}: cannot parse line 8 (the one that sets RATE_LIMIT_ENABLED): check its quotes and escapes, and quote a value with spaces\n\
             \x20 FEATURE_WHATSAP_ENABLED: no such flag; did you mean FEATURE_WHATSAPP_ENABLED? (from .env file {staging})\n\
             \x20 ENABLE_API_DOCS: invalid value \"yep\", {bool_expected} (from .env file {staging})\n\
             \x20 FEATURE_DATABASE_TYPE: \"postgresql\" requires DATABASE_URL, which is not set (from .env file {staging})\n\
             {prod}: 4 problems\n\
             \x20 {prod}: sets RATE_LIMIT_ENABLED more than once, and the last one wins: keep one\n\
             \x20 ENABLE_SECURITY_HEADER: no such flag; did you mean ENABLE_SECURITY_HEADERS? (from .env file {prod})\n\
             \x20 ENABLE_API_DOCS: invalid value \"0ff\", {bool_expected} (from .env file {prod})\n\
             \x20 FEATURE_WHATSAPP_ENABLED: \"true\" requires WHATSAPP_PHONE_NUMBER_ID, WHATSAPP_TOKEN and WHATSAPP_VERIFY_TOKEN, which are not set (from .env file {prod})\n"
        )
    );
}

#[test]
fn no_flag_of_the_application_has_expired() {
    lifecycle::check(Settings::FLAGS).unwrap();
}
