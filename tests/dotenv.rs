//! `Loader`: `.env` files in a temporary directory, stacked with maps; sources named in errors.

use std::path::Path;

use flags_core::{FeatureFlags, Loader, Problem, Source};

#[derive(Debug, FeatureFlags)]
#[flags(prefix = "FEATURE_")]
struct Settings {
    #[flag(default = false)]
    whatsapp_enabled: bool,
    #[flag(env = "PORT", default = 8080)]
    port: u16,
    #[flag(env = "GREETING")]
    greeting: Option<String>,
}

fn write(dir: &Path, name: &str, content: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

#[test]
fn later_sources_override_earlier_ones() {
    let dir = tempfile::tempdir().unwrap();
    let base = write(
        dir.path(),
        "base.env",
        "FEATURE_WHATSAPP_ENABLED=true\nPORT=1000\n",
    );
    let prod = write(dir.path(), "prod.env", "PORT=2000\n");
    let settings: Settings = Loader::new()
        .file(&base)
        .file(&prod)
        .map([("GREETING", "hello")])
        .load()
        .unwrap();
    assert!(settings.whatsapp_enabled);
    assert_eq!(settings.port, 2000);
    assert_eq!(settings.greeting.as_deref(), Some("hello"));

    let settings: Settings = Loader::new()
        .map([("PORT", "3000")])
        .file(&prod)
        .load()
        .unwrap();
    assert_eq!(settings.port, 2000);
}

#[test]
fn an_empty_value_in_a_later_source_unsets_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let base = write(dir.path(), "base.env", "PORT=1000\n");
    let settings: Settings = Loader::new()
        .file(&base)
        .map([("PORT", "")])
        .load()
        .unwrap();
    assert_eq!(settings.port, 8080);
}

#[test]
fn quotes_comments_and_export_follow_dotenv_rules() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        ".env",
        "\u{feff}# the first line has a byte order mark\n\
         export FEATURE_WHATSAPP_ENABLED=yes # enabled for testing\n\
         GREETING=\"hello, world\"\n\
         PORT='9000'\n",
    );
    let settings: Settings = Loader::new().file(&file).load().unwrap();
    assert!(settings.whatsapp_enabled);
    assert_eq!(settings.greeting.as_deref(), Some("hello, world"));
    assert_eq!(settings.port, 9000);
}

#[test]
fn a_bad_value_names_the_file_it_came_from() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "prod.env", "PORT=eighty\n");
    let error = Loader::new().file(&file).load::<Settings>().unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "PORT: invalid value \"eighty\", expected an integer from 0 to 65535 (from .env file {})",
            file.display()
        )
    );
    match &error.problems()[0] {
        Problem::Invalid {
            source: Source::File(path),
            ..
        } => assert_eq!(**path, *file),
        other => panic!("expected a value from the file, got {other:?}"),
    }
}

#[test]
fn a_missing_file_is_a_problem_reported_with_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.env");
    let error = Loader::new()
        .file(&missing)
        .map([("PORT", "x")])
        .load::<Settings>()
        .unwrap_err();
    let lines: Vec<String> = error.problems().iter().map(ToString::to_string).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].starts_with(&format!(
            "{}: cannot read the .env file:",
            missing.display()
        )),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with("PORT: invalid value \"x\""),
        "{}",
        lines[1]
    );
}

#[test]
fn an_optional_file_that_does_not_exist_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let settings: Settings = Loader::new()
        .file_if_exists(dir.path().join(".env"))
        .map([("PORT", "81")])
        .load()
        .unwrap();
    assert_eq!(settings.port, 81);
}

#[test]
fn an_unparsable_line_is_reported_by_number_and_variable_without_its_value() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "broken.env",
        "PORT=81\nGREETING=\"canary-41d7 unterminated\n",
    );
    let error = Loader::new().file(&file).load::<Settings>().unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "{}: cannot parse line 2 (the one that sets GREETING): check its quotes and escapes, \
             and quote a value with spaces",
            file.display()
        )
    );
}

#[test]
fn loading_a_file_never_touches_the_process_environment() {
    let dir = tempfile::tempdir().unwrap();
    let name = "FLAGS_TEST_ONLY_IN_A_FILE_7F3A";
    let file = write(dir.path(), ".env", &format!("{name}=1\nPORT=82\n"));
    let settings: Settings = Loader::new().file(&file).load().unwrap();
    assert_eq!(settings.port, 82);
    assert!(std::env::var_os(name).is_none());
}

/// What a merge often leaves behind: the same variable twice, the last one silently winning.
#[test]
fn a_file_that_sets_a_variable_twice_fails_a_strict_load_and_still_loads_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "prod.env",
        "PORT=1000\nFEATURE_WHATSAPP_ENABLED=false\nPORT=2000\n",
    );
    let error = Loader::new()
        .file(&file)
        .strict()
        .load::<Settings>()
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "{}: sets PORT more than once, and the last one wins: keep one",
            file.display()
        )
    );
    let settings: Settings = Loader::new().file(&file).load().unwrap();
    assert_eq!(settings.port, 2000);
}

#[test]
fn warnings_can_be_taken_as_data_instead_of_logs() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), ".env", "PORT=1000\nPORT=2000\n");
    let loader = Loader::new()
        .file(&file)
        .map([("FEATURE_WHATSAP_ENABLED", "true")]);
    let mut loaded = None;
    let logs = flags_tests::capture_logs(|| {
        loaded = Some(loader.snapshot::<Settings>().unwrap());
    });
    assert_eq!(logs, "");
    let settings = loaded.unwrap();
    let warnings = settings.warnings();
    assert_eq!(settings.port, 2000);
    let warnings: Vec<String> = warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [
            format!(
                "{}: sets PORT more than once, and the last one wins: keep one",
                file.display()
            ),
            String::from(
                "FEATURE_WHATSAP_ENABLED: no such flag; did you mean FEATURE_WHATSAPP_ENABLED? \
                 (from map)"
            ),
        ]
    );
    let logs = flags_tests::capture_logs(|| {
        loader.load::<Settings>().unwrap();
    });
    assert_eq!(logs.lines().count(), 2, "{logs}");
}

/// dotenvy would load `pa$word` as `pa`, and `$HOME` from the machine that reads the file.
#[test]
fn a_dollar_reference_the_file_does_not_set_stays_as_written_and_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "prod.env",
        "GREETING=\"hello $HOME and pa$word\"\nPORT=81\n",
    );
    let settings = Loader::new().file(&file).snapshot::<Settings>().unwrap();
    let warnings = settings.warnings();
    assert_eq!(
        settings.greeting.as_deref(),
        Some("hello $HOME and pa$word")
    );
    let expected = format!(
        "{}: line 1 sets GREETING to text with $HOME, $word, which no line above it sets: the \
         text is kept as written, not replaced by the process's variables (write `\\$` or \
         single-quote the value for a literal `$`, or set the variable on a line above)",
        file.display()
    );
    let warnings: Vec<String> = warnings.iter().map(ToString::to_string).collect();
    assert_eq!(warnings, std::slice::from_ref(&expected));

    // `rose check` loads strictly: there, the same is an error.
    let error = Loader::new()
        .file(&file)
        .strict()
        .load::<Settings>()
        .unwrap_err();
    assert_eq!(error.to_string(), expected);
}

#[test]
fn a_reference_to_a_line_above_is_replaced_and_single_quotes_and_escapes_are_literal() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        ".env",
        "HOST=db.internal\nGREETING=\"hello ${HOST}: it's $HOST\"\nPORT='8$0'\n",
    );
    let error = Loader::new()
        .file(&file)
        .strict()
        .load::<Settings>()
        .unwrap_err();
    // The only problem: PORT is `8$0`, literally, which is no number.
    assert_eq!(
        error.to_string(),
        format!(
            "HOST: no such flag (from .env file {0})\n\
             PORT: invalid value \"8$0\", expected an integer from 0 to 65535 (from .env file {0})",
            file.display()
        )
    );
    let file = write(
        dir.path(),
        ".env",
        "HOST=db\nGREETING=\"${HOST} \\$HOST\"\n",
    );
    let settings: Settings = Loader::new().file(&file).load().unwrap();
    assert_eq!(settings.greeting.as_deref(), Some("db $HOST"));
}

#[derive(Debug, FeatureFlags)]
struct WithToken {
    #[flag(env = "API_TOKEN")]
    api_token: Option<flags_core::secrecy::SecretString>,
    #[flag(env = "PORT", default = 8080)]
    port: u16,
}

/// A key pasted over several lines: the lines after the first are pieces of the secret, one with
/// `=` in it (base64 padding), and must not be echoed as text or as a variable's name.
#[test]
fn a_secret_split_over_lines_is_reported_by_line_and_variable_never_by_its_text() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        ".env",
        "PORT=81\nAPI_TOKEN=CANARYpart1\nCANARYpart2+/x\nCANARYpart3xyz==\n\nPORT=82\n",
    );
    for loader in [
        Loader::new().file(&file),
        Loader::new().file(&file).strict(),
    ] {
        let error = loader.load::<WithToken>().unwrap_err();
        let text = error.to_string();
        assert!(!text.contains("CANARY"), "{text}");
        assert!(
            text.starts_with(&format!(
                "{}: cannot parse lines 3 to 4 (after the one that sets API_TOKEN): check their \
                 quotes and escapes, quote a value with spaces, and put a value that spans lines \
                 in double quotes",
                file.display()
            )),
            "{text}"
        );
    }
}

#[test]
fn a_variable_that_is_no_flag_and_not_an_upper_case_name_is_reported_by_line_only() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        ".env",
        "PORT=81\nabcCANARYdef==\n\nabcCANARYdef==\n",
    );
    let error = Loader::new()
        .file(&file)
        .strict()
        .load::<WithToken>()
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "{0}: line 2 sets a variable that is no flag, whose name is not shown: it is not in \
             upper case, and may be a piece of a value split over lines\n\
             {0}: line 4 sets a variable that is no flag, whose name is not shown: it is not in \
             upper case, and may be a piece of a value split over lines",
            file.display()
        )
    );
}

#[test]
fn a_flags_variable_in_another_case_is_a_warning_and_an_error_when_strict() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), ".env", "feature_whatsapp_enabled=true\n");
    let settings = Loader::new().file(&file).snapshot::<Settings>().unwrap();
    let warnings = settings.warnings();
    assert!(!settings.whatsapp_enabled);
    let expected = format!(
        "feature_whatsapp_enabled: not read, as variable names are case-sensitive; did you mean \
         FEATURE_WHATSAPP_ENABLED? (from .env file {})",
        file.display()
    );
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].to_string(), expected);
    let error = Loader::new()
        .file(&file)
        .strict()
        .load::<Settings>()
        .unwrap_err();
    assert_eq!(error.to_string(), expected);
}
