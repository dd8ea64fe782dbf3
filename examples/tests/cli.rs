//! The example binary, run as a deployment runs it: settings from the process environment.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::{Command, Output};

fn rose(vars: &[(&str, &OsStr)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rose"));
    command.env_clear();
    for (name, value) in vars {
        command.env(name, value);
    }
    command.output().unwrap()
}

#[test]
fn show_logs_every_flag_and_prints_the_public_flags() {
    let output = rose(&[
        ("FEATURE_IMAGE_GENERATION_ENABLED", OsStr::new("true")),
        ("TOGETHER_API_KEY", OsStr::new("canary-3d9e")),
    ]);
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        stdout,
        "{\n  \"whatsapp\": false,\n  \"image_generation\": true\n}\n"
    );
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(
        stderr
            .lines()
            .filter(|line| line.contains(" INFO "))
            .count(),
        36,
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "WARN flags: flag FEATURE_IMAGE_GENERATION_ENABLED is on, but its status is frozen"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("TOGETHER_API_KEY=<redacted> (process environment)"),
        "{stderr}"
    );
    assert!(!stderr.contains("canary-3d9e"), "{stderr}");
}

/// The application sets its logging up from LOG_LEVEL, after the flags load: the load's
/// warnings are held until then, not lost.
#[test]
fn show_logs_at_the_level_its_flags_set_with_the_loads_warnings() {
    let output = rose(&[
        ("LOG_LEVEL", OsStr::new("warning")),
        ("FEATURE_WHATSAP_ENABLED", OsStr::new("true")),
    ]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        " WARN flags: FEATURE_WHATSAP_ENABLED: no such flag; did you mean \
         FEATURE_WHATSAPP_ENABLED? (from process environment)\n"
    );
}

/// A deployment written for the seed's pydantic-settings, which ignores case: `show` warns with
/// the right spelling, and `check` fails.
#[test]
fn a_flags_variable_in_another_case_is_named_by_show_and_fails_check() {
    let output = rose(&[
        ("LOG_LEVEL", OsStr::new("warn")),
        ("feature_whatsapp_enabled", OsStr::new("true")),
    ]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        " WARN flags: feature_whatsapp_enabled: not read, as variable names are case-sensitive; \
         did you mean FEATURE_WHATSAPP_ENABLED? (from process environment)\n"
    );

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("prod.env");
    std::fs::write(&file, "feature_whatsapp_enabled=false\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_rose"))
        .arg("check")
        .arg(&file)
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        format!(
            "{0}: 1 problem\n  feature_whatsapp_enabled: not read, as variable names are \
             case-sensitive; did you mean FEATURE_WHATSAPP_ENABLED? (from .env file {0})\n",
            file.display()
        )
    );
}

/// `PASSWORD=pa$word` must not load as `pa`: `check` fails on a reference the file does not set.
#[test]
fn check_fails_on_a_dollar_reference_the_file_does_not_set() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("prod.env");
    std::fs::write(&file, "DATABASE_URL=postgres://rose:pa$word@db/rose\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_rose"))
        .arg("check")
        .arg(&file)
        .env_clear()
        .env("word", "canary-7c2e")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains(
            "line 1 sets DATABASE_URL to text with a `$` reference that no line above it sets"
        ),
        "{stdout}"
    );
    assert!(
        !stdout.contains("word") && !stdout.contains("canary"),
        "{stdout}"
    );
}

#[test]
fn help_lists_the_subcommands_on_stdout_and_succeeds() {
    for help in [&["--help"][..], &["help"]] {
        let output = Command::new(env!("CARGO_BIN_EXE_rose"))
            .args(help)
            .env_clear()
            .output()
            .unwrap();
        assert!(output.status.success(), "{help:?}: {output:?}");
        assert!(output.stderr.is_empty(), "{help:?}: {output:?}");
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert!(stdout.contains("Usage: rose [COMMAND]"), "{stdout}");
        for subcommand in ["show", "serve", "check", "docs", "env-example", "json"] {
            assert!(
                stdout
                    .lines()
                    .any(|line| line.trim_start().starts_with(&format!("{subcommand} "))),
                "{help:?} does not list {subcommand}:\n{stdout}"
            );
        }
    }
}

/// The README's list of what `rose` does runs each subcommand that `rose help` lists, and no
/// other: a subcommand added to one is added to the other.
#[test]
fn the_readme_shows_every_subcommand_of_the_help() {
    let help = Command::new(env!("CARGO_BIN_EXE_rose"))
        .arg("help")
        .env_clear()
        .output()
        .unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    let (_, commands) = help.split_once("Commands:\n").unwrap();
    let listed: Vec<&str> = commands
        .lines()
        .take_while(|line| !line.trim().is_empty())
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .collect();

    const RUN: &str = "cargo run -p flags-examples --bin rose";
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    let (_, binary) = readme
        .split_once("## The example application")
        .expect("README.md has lost its section on the example application");
    let (sample, _) = fenced_block(binary.split_once("Its binary:").unwrap().1, "sh").unwrap();
    let shown: Vec<&str> = sample
        .lines()
        .map(|line| {
            let arguments = line.strip_prefix(RUN).expect("each line runs rose");
            let arguments = arguments.split('#').next().unwrap();
            match arguments.split_whitespace().collect::<Vec<_>>()[..] {
                [] => "show",
                ["--", subcommand, ..] => subcommand,
                _ => panic!("not a subcommand: {line}"),
            }
        })
        .collect();
    assert_eq!(shown, listed);
}

#[test]
fn an_unknown_subcommand_fails_naming_the_subcommands() {
    let output = Command::new(env!("CARGO_BIN_EXE_rose"))
        .arg("deploy")
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(output.stdout.is_empty(), "{output:?}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with("error: unrecognized subcommand 'deploy'"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "the subcommands are 'show', 'serve', 'check', 'docs', 'env-example', 'json'"
        ),
        "{stderr}"
    );
}

#[test]
fn check_without_a_file_fails_with_its_usage() {
    let output = Command::new(env!("CARGO_BIN_EXE_rose"))
        .arg("check")
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("Usage: rose check <FILE>..."), "{stderr}");
}

#[test]
fn serve_refuses_a_cors_origin_that_is_not_an_origin_naming_the_option() {
    for origin in [
        "app.example.com",
        "https://app.example.com/",
        "https://app example",
        "ftp://a",
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_rose"))
            .args(["serve", "--addr", "127.0.0.1:0", "--cors-origin", origin])
            .env_clear()
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{origin}: {output:?}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(
            stderr.starts_with(&format!(
                "error: invalid value '{origin}' for '--cors-origin <ORIGIN>': expected an \
                 origin such as https://app.example.com: http or https, `://` and a host (with a \
                 port if any), without a path\n"
            )),
            "{stderr}"
        );
    }
}

#[test]
fn a_flag_that_is_not_utf8_is_reported_and_other_such_variables_are_ignored() {
    let output = rose(&[
        ("FEATURE_TTS_CACHE_ENABLED", OsStr::from_bytes(b"\xff\xfe")),
        ("SOME_OTHER_TOOL", OsStr::from_bytes(b"\xff")),
        ("RATE_LIMIT_ENABLED", OsStr::new("off")),
    ]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        "FEATURE_TTS_CACHE_ENABLED: the value is not valid UTF-8 (from process environment)\n"
    );
}

#[test]
fn bad_values_are_all_reported_before_the_application_starts() {
    let output = rose(&[
        ("FEATURE_DATABASE_TYPE", OsStr::new("mysql")),
        ("LOG_LEVEL", OsStr::new("loud")),
        ("ENABLE_API_DOCS", OsStr::new("maybe")),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(
        stderr.lines().collect::<Vec<_>>(),
        [
            "FEATURE_DATABASE_TYPE: invalid value \"mysql\", expected one of: sqlite, postgresql (from process environment)",
            "ENABLE_API_DOCS: invalid value \"maybe\", expected a boolean: true/false, 1/0, yes/no or on/off (from process environment)",
            "LOG_LEVEL: invalid value \"loud\", expected one of: trace, debug, info, warn, error (from process environment)",
        ]
    );
}

/// The README's sample deployment: the variables of the command after the marker, and the text
/// of the output block that follows that command.
fn readme_sample() -> (Vec<(String, String)>, String) {
    const MARKER: &str =
        "<!-- examples/tests/cli.rs runs this command and expects exactly this output. -->";
    const RUN: &str = "cargo run -q -p flags-examples --bin rose";
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    let (_, sample) = readme
        .split_once(MARKER)
        .expect("README.md has lost the marker before its sample deployment");
    let (command, rest) = fenced_block(sample, "sh").expect("a ```sh block after the marker");
    let (output, _) = fenced_block(rest, "text").expect("a ```text block after the command");

    // The variables are plain NAME=value words, so that splitting at spaces is what a shell does.
    assert!(
        !command.contains(['\'', '"', '$']),
        "quote nothing in the README's command: {command}"
    );
    let command = command.replace("\\\n", " ");
    let words: Vec<&str> = command.split_whitespace().collect();
    let run = words
        .iter()
        .position(|word| !word.contains('='))
        .unwrap_or(words.len());
    assert_eq!(
        words[run..].join(" "),
        RUN,
        "the README's command must run rose with no arguments, as this test does"
    );
    let variables = words[..run]
        .iter()
        .map(|word| {
            let (name, value) = word.split_once('=').unwrap();
            (name.to_owned(), value.to_owned())
        })
        .collect();
    (variables, output.to_owned())
}

/// The text of the fenced block (```` ```info ````) at the start of `markdown`, and what follows it.
fn fenced_block<'a>(markdown: &'a str, info: &str) -> Option<(&'a str, &'a str)> {
    let opened = markdown
        .trim_start()
        .strip_prefix("```")?
        .strip_prefix(info)?;
    opened.strip_prefix('\n')?.split_once("```\n")
}

/// Every sample output in the README is one a user gets: this one is `rose` started with the
/// README's variables, and nothing else (no inherited variable, no local `.env`).
#[test]
fn the_readmes_failed_deployment_is_what_rose_prints() {
    let (variables, expected) = readme_sample();
    let directory = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_rose"))
        .env_clear()
        .envs(variables)
        .current_dir(directory.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(String::from_utf8(output.stdout).unwrap(), "");
    assert_eq!(String::from_utf8(output.stderr).unwrap(), expected);
}

#[test]
fn whatsapp_without_its_variables_names_all_three() {
    let output = rose(&[("FEATURE_WHATSAPP_ENABLED", OsStr::new("true"))]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        "FEATURE_WHATSAPP_ENABLED: \"true\" requires WHATSAPP_PHONE_NUMBER_ID, WHATSAPP_TOKEN and \
         WHATSAPP_VERIFY_TOKEN, which are not set (from process environment)\n"
    );
}

#[test]
fn the_rollout_example_decides_per_user_with_the_lists_first() {
    let output = Command::new(env!("CARGO_BIN_EXE_rollout"))
        .args(["qa-1", "vip-7"])
        .env_clear()
        .env("FEATURE_NEW_CHECKOUT", "100%; allow=qa-1; deny=vip-7")
        .env("FEATURE_BUTTON_COLOR", "blue:0,green:1")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "qa-1: {\"new_checkout\":true,\"button_color\":\"green\"}\n\
         vip-7: {\"new_checkout\":false,\"button_color\":\"green\"}\n"
    );
}

/// Issue 22: `rose --version` was an error, and `rollout --help` decided for a user named
/// `--help`.
#[test]
fn the_binaries_answer_version_and_help() {
    let version = Command::new(env!("CARGO_BIN_EXE_rose"))
        .arg("--version")
        .env_clear()
        .output()
        .unwrap();
    assert!(version.status.success(), "{version:?}");
    assert_eq!(
        String::from_utf8(version.stdout).unwrap(),
        format!("rose {}\n", env!("CARGO_PKG_VERSION"))
    );
    let help = Command::new(env!("CARGO_BIN_EXE_rollout"))
        .arg("--help")
        .env_clear()
        .output()
        .unwrap();
    assert!(help.status.success(), "{help:?}");
    let help = String::from_utf8(help.stdout).unwrap();
    assert!(help.contains("Usage: rollout [USER]..."), "{help}");
    assert!(!help.contains("--help: {"), "{help}");
    // Users are still users.
    let decided = Command::new(env!("CARGO_BIN_EXE_rollout"))
        .args(["alice", "bob"])
        .env_clear()
        .env("FEATURE_NEW_CHECKOUT", "100%")
        .output()
        .unwrap();
    let decided = String::from_utf8(decided.stdout).unwrap();
    assert!(
        decided.starts_with("alice: {\"new_checkout\":true"),
        "{decided}"
    );
    assert_eq!(decided.lines().count(), 2, "{decided}");
}
