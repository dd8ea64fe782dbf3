//! Documentation generated from [`FlagMeta`]: a Markdown reference, a `.env.example`, and JSON.
//!
//! A secret flag's default never appears in any of them.
//!
//! ```
//! use flags_core::{FeatureFlags, docs};
//!
//! #[derive(FeatureFlags)]
//! #[flags(prefix = "FEATURE_")]
//! struct Settings {
//!     /// Enable API rate limiting.
//!     #[flag(env = "RATE_LIMIT_ENABLED", default = true, group = "Security")]
//!     rate_limit_enabled: bool,
//! }
//!
//! assert!(docs::markdown(Settings::FLAGS).contains("### `RATE_LIMIT_ENABLED`"));
//! assert!(docs::env_example(Settings::FLAGS).contains("\nRATE_LIMIT_ENABLED=true\n"));
//! assert!(docs::json(Settings::FLAGS).contains("\"env\": \"RATE_LIMIT_ENABLED\""));
//! ```

use std::fmt::Write;

use crate::meta::{FlagMeta, Requirement};

/// A Markdown reference of every flag: a summary table, then per flag its variable, type,
/// default, allowed values, description, status, expiry, what it requires and what requires it,
/// public name and secrecy; grouped by `group` when flags have one.
pub fn markdown(flags: &[FlagMeta]) -> String {
    let mut out = String::from("# Feature flags\n\n");
    out.push_str(
        "<!-- Generated from the flags' declarations by flags_core::docs::markdown; do not edit. -->\n\n",
    );
    let _ = write!(
        out,
        "Each flag is one environment variable. A boolean accepts `true`/`false`, `1`/`0`, \
         `yes`/`no` or `on`/`off`, and names of values are matched ignoring case. An empty value \
         counts as unset: the default applies. A **public** flag is sent to frontends in the \
         public flags JSON; a **secret** one is never logged, shown in an error or documented. A \
         flag whose status is {statuses} logs a warning when it is switched on.\n\n",
        statuses = or_list(crate::log_state::NOT_RELEASED),
    );
    out.push_str("| Variable | Type | Default | Public | Secret | Status |\n");
    out.push_str("| --- | --- | --- | --- | --- | --- |\n");
    for flag in flags {
        let public = flag.public_name().map_or(String::new(), code);
        let _ = writeln!(
            out,
            "| [`{env}`](#{anchor}) | {ty} | {default} | {public} | {secret} | {status} |",
            env = flag.env(),
            anchor = flag.env().to_lowercase(),
            ty = code(flag.type_name()),
            default = table_cell(&default_markdown(flag)),
            public = table_cell(&public),
            secret = if flag.is_secret() { "yes" } else { "" },
            status = table_cell(flag.status().unwrap_or_default()),
        );
    }
    for (group, members) in groups(flags) {
        if let Some(group) = group {
            let _ = write!(out, "\n## {group}\n");
        }
        for flag in members {
            flag_markdown(&mut out, flags, flag);
        }
    }
    out
}

fn flag_markdown(out: &mut String, flags: &[FlagMeta], flag: &FlagMeta) {
    let _ = write!(out, "\n### `{}`\n\n", flag.env());
    if !flag.description().is_empty() {
        let _ = write!(out, "{}\n\n", flag.description());
    }
    let _ = writeln!(out, "- **Field**: `{}`", flag.field());
    let _ = writeln!(out, "- **Type**: `{}`", flag.type_name());
    let _ = writeln!(out, "- **Default**: {}", default_markdown(flag));
    if !flag.values().is_empty() {
        let values: Vec<String> = flag.values().iter().map(|value| code(value)).collect();
        let _ = write!(out, "- **Values**: {}", values.join(", "));
        if let Some(aliases) = aliases(flag, "`") {
            let _ = write!(out, "; also accepted: {aliases}");
        }
        out.push('\n');
    }
    if let Some(status) = flag.status() {
        if crate::log_state::is_not_released(status) {
            let _ = writeln!(
                out,
                "- **Status**: {status} (not released: switching it on logs a warning)"
            );
        } else {
            let _ = writeln!(out, "- **Status**: {status}");
        }
    }
    if let Some(expires) = flag.expires() {
        let _ = writeln!(out, "- **Expires**: {expires}");
    }
    if flag.needs_restart() {
        out.push_str("- **Restart**: read at start only; a live change to it is refused\n");
    }
    for requirement in flag.requires() {
        let vars: Vec<String> = requirement
            .vars()
            .iter()
            .map(|var| format!("`{var}`"))
            .collect();
        let _ = writeln!(
            out,
            "- **Requires** {}: {}",
            condition(flag, requirement, "`"),
            vars.join(", ")
        );
    }
    let required_by: Vec<String> = flags
        .iter()
        .flat_map(|other| {
            other
                .requires()
                .iter()
                .map(move |requirement| (other, requirement))
        })
        .filter(|(_, requirement)| requirement.vars().contains(&flag.env()))
        .map(|(other, requirement)| {
            format!("`{}` {}", other.env(), condition(other, requirement, "`"))
        })
        .collect();
    if !required_by.is_empty() {
        let _ = writeln!(out, "- **Required by**: {}", required_by.join(", "));
    }
    if flag.is_per_user() {
        let _ = writeln!(
            out,
            "- **Decided per user**: users are bucketed as Unleash buckets them, by `{}`",
            flag.rollout_group()
        );
    }
    match (flag.public_name(), flag.is_per_user()) {
        (Some(name), false) => {
            let _ = writeln!(
                out,
                "- **Public**: yes, as `{name}` in the public flags JSON sent to frontends"
            );
        }
        (Some(name), true) => {
            let _ = writeln!(
                out,
                "- **Public**: yes, as `{name}`, decided for each user by `public_flags_for(user)`"
            );
        }
        (None, _) => out.push_str("- **Public**: no\n"),
    }
    if flag.is_secret() {
        out.push_str("- **Secret**: yes; the value is never logged, shown or documented\n");
    } else {
        out.push_str("- **Secret**: no\n");
    }
}

/// `` `postgres` for `postgresql` ``, for each other name the flag accepts; `None` for none.
fn aliases(flag: &FlagMeta, quote: &str) -> Option<String> {
    let aliases: Vec<String> = flag
        .aliases()
        .iter()
        .map(|(alias, value)| format!("{quote}{alias}{quote} for {quote}{value}{quote}"))
        .collect();
    (!aliases.is_empty()).then(|| aliases.join(", "))
}

/// `when on`, or `when `postgresql`` (never a secret flag's value).
fn condition(flag: &FlagMeta, requirement: &Requirement, quote: &str) -> String {
    match requirement.when() {
        None => String::from("when on"),
        Some(_) if flag.is_secret() => String::from("when it holds a certain value"),
        Some(value) => format!("when {quote}{value}{quote}"),
    }
}

fn default_markdown(flag: &FlagMeta) -> String {
    match flag.default_summary() {
        None => String::from("none: required"),
        Some(text) if text.is_empty() => String::from("unset"),
        Some(_) if flag.is_secret() => String::from("set, but secret"),
        Some(text) => code(&text),
    }
}

/// `text` as a Markdown code span, whatever backticks it holds.
fn code(text: &str) -> String {
    if text.contains('`') {
        format!("`` {text} ``")
    } else {
        format!("`{text}`")
    }
}

/// `text` in a table cell: a `|` would end the cell, a line break the row.
fn table_cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\r', '\n'], " ")
}

/// `a`, `b`, `c` or `d`.
fn or_list(words: &[&str]) -> String {
    let words: Vec<String> = words.iter().map(|word| format!("`{word}`")).collect();
    match words.split_last() {
        Some((last, first)) if !first.is_empty() => format!("{} or {last}", first.join(", ")),
        _ => words.concat(),
    }
}

/// Flags by `group`, groups in order of first appearance; ungrouped flags last, under no heading
/// when no flag has a group, else under "Other flags".
fn groups(flags: &[FlagMeta]) -> Vec<(Option<&'static str>, Vec<&FlagMeta>)> {
    let mut groups: Vec<(Option<&'static str>, Vec<&FlagMeta>)> = Vec::new();
    for flag in flags.iter().filter(|flag| flag.group().is_some()) {
        match groups.iter_mut().find(|(group, _)| *group == flag.group()) {
            Some((_, members)) => members.push(flag),
            None => groups.push((flag.group(), vec![flag])),
        }
    }
    let ungrouped: Vec<&FlagMeta> = flags.iter().filter(|flag| flag.group().is_none()).collect();
    if !ungrouped.is_empty() {
        let heading = (!groups.is_empty()).then_some("Other flags");
        groups.push((heading, ungrouped));
    }
    groups
}

/// A `.env.example`: every variable with its description as a comment, defaults filled in,
/// required and secret variables left blank and marked. Loading it gives every flag its default.
/// A default whose text would name users (a rollout's lists) is left blank too, with its summary
/// in the comment: the file is usually committed, and the empty value keeps the default.
pub fn env_example(flags: &[FlagMeta]) -> String {
    let mut out = String::from(
        "# Every flag's variable, generated by flags_core::docs::env_example; do not edit.\n\
         # Copy it to .env and change what you need: an empty value counts as unset.\n",
    );
    for (group, members) in groups(flags) {
        if let Some(group) = group {
            let _ = write!(out, "\n# === {group} ===\n");
        }
        for flag in members {
            out.push('\n');
            for line in flag.description().lines() {
                let _ = writeln!(out, "{}", format!("# {line}").trim_end());
            }
            let _ = writeln!(out, "# {}", env_example_facts(flag));
            let value = match flag.default() {
                Some(text) if !flag.is_secret() && summarised_default(flag).is_none() => {
                    quote_env_value(&text)
                }
                _ => String::new(),
            };
            let _ = writeln!(out, "{}={value}", flag.env());
        }
    }
    out
}

/// The summary of a default whose text says more than it (a rollout's users), which a
/// `.env.example` leaves out: the empty value keeps the default. `None` for other defaults, and
/// for a secret's, which is never shown.
fn summarised_default(flag: &FlagMeta) -> Option<String> {
    let (text, summary) = (flag.default()?, flag.default_summary()?);
    (text != summary && !flag.is_secret()).then_some(summary)
}

fn env_example_facts(flag: &FlagMeta) -> String {
    let mut facts = vec![format!("Type: {}", flag.type_name())];
    if let Some(summary) = summarised_default(flag) {
        facts.push(format!("default: {summary}, which an empty value keeps"));
    }
    if !flag.values().is_empty() {
        let mut values = format!("one of: {}", flag.values().join(", "));
        if let Some(aliases) = aliases(flag, "") {
            let _ = write!(values, " (also {aliases})");
        }
        facts.push(values);
    }
    if flag.is_required() {
        facts.push(String::from("REQUIRED: no default"));
    }
    if flag.is_secret() {
        facts.push(String::from(
            "SECRET, never logged or shown: keep real values out of committed files",
        ));
    }
    if let Some(status) = flag.status() {
        facts.push(format!("status: {status}"));
    }
    if let Some(expires) = flag.expires() {
        facts.push(format!("expires: {expires}"));
    }
    for requirement in flag.requires() {
        facts.push(format!(
            "requires {} {}",
            requirement.vars().join(", "),
            condition(flag, requirement, "")
        ));
    }
    if let Some(name) = flag.public_name() {
        facts.push(format!("public as {name}"));
    }
    facts.join("; ")
}

/// A value as a `.env` line writes it: bare when it is plain, else quoted so dotenv reads it back.
fn quote_env_value(text: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-.,:/@%+".contains(c);
    if text.chars().all(plain) {
        text.to_owned()
    } else if !text.contains('\'') {
        format!("'{text}'")
    } else {
        let escaped = text
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('$', "\\$")
            .replace('\n', "\\n");
        format!("\"{escaped}\"")
    }
}

/// The metadata as pretty-printed JSON: an array of objects, one per flag, for tooling and
/// frontends, as [`FlagMeta`]'s `Serialize` writes them (keys in alphabetical order). A secret
/// flag's default and `when` values are `null`; `aliases` maps each other name a value accepts to
/// the value.
pub fn json(flags: &[FlagMeta]) -> String {
    let mut out = serde_json::to_string_pretty(flags)
        .expect("metadata has string keys and no fallible values, so it always serializes");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_cells_and_code_spans_survive_the_text_they_hold() {
        assert_eq!(table_cell("beta | canary\nonly"), "beta \\| canary only");
        assert_eq!(code("plain"), "`plain`");
        assert_eq!(code("a`b"), "`` a`b ``");
        assert_eq!(
            or_list(&["frozen", "experimental", "planned"]),
            "`frozen`, `experimental` or `planned`"
        );
    }

    #[cfg(feature = "derive")]
    #[test]
    fn json_strings_escape_quotes_backslashes_and_control_characters() {
        #[derive(crate::FeatureFlags)]
        struct Settings {
            #[doc = "a \"b\" \\ c\nd\u{1}é"]
            #[flag(env = "QUOTED", default = false)]
            quoted: bool,
        }

        let out = json(<Settings as crate::FeatureFlags>::FLAGS);
        assert!(
            out.contains(r#""description": "a \"b\" \\ c\nd\u0001é","#),
            "{out}"
        );
    }

    #[test]
    fn plain_values_stay_bare_and_others_are_quoted_for_dotenv() {
        assert_eq!(
            quote_env_value("postgresql://db:5432/rose"),
            "postgresql://db:5432/rose"
        );
        assert_eq!(quote_env_value("hello world"), "'hello world'");
        assert_eq!(quote_env_value("it's $HOME"), "\"it's \\$HOME\"");
    }
}
