//! [`FlagsError`]: every problem one load found, as data first and as text second.

use std::borrow::Cow;
use std::fmt;
use std::path::PathBuf;

use serde::{Serialize, Serializer};

use crate::provenance::Source;

/// Every problem found while loading or validating flags, in one pass.
///
/// `Display` (and `Debug`, so `fn main() -> Result<(), FlagsError>` prints the same) renders one
/// line per problem, each naming the variable, the offending value in quotes (`<redacted>` for a
/// secret), what was expected and where the value came from:
///
/// ```text
/// FEATURE_DATABASE_TYPE: invalid value "mysql", expected one of: sqlite, postgresql (from .env file config/prod.env)
/// ADMIN_TOKEN: required, but not set and has no default
/// ```
///
/// [`FlagsError::problems`] gives the same problems as data.
#[derive(Clone, PartialEq, Eq)]
pub struct FlagsError {
    problems: Vec<Problem>,
    /// What was wrong but would not have stopped the load: a failed load reports it too, since
    /// it is often the cause (a misspelled variable leaves its flag unset).
    warnings: Vec<Problem>,
}

impl FlagsError {
    /// An error holding `problems`, which are not empty.
    pub(crate) fn new(problems: Vec<Problem>) -> Self {
        Self {
            problems,
            warnings: Vec::new(),
        }
    }

    /// This error with the load's warnings.
    pub(crate) fn with_warnings(mut self, warnings: Vec<Problem>) -> Self {
        self.warnings = warnings;
        self
    }

    /// The problems, in the order they were found (flags in declaration order).
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// What the failed load found wrong that alone would not have stopped it (a variable that
    /// names no flag, which often explains a problem: the flag it was meant for is unset). `Display`
    /// lists them after the problems, each line starting with `warning: `.
    pub fn warnings(&self) -> &[Problem] {
        &self.warnings
    }

    /// The problems, by value.
    pub fn into_problems(self) -> Vec<Problem> {
        self.problems
    }
}

impl fmt::Display for FlagsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, problem) in self.problems.iter().enumerate() {
            if index > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{problem}")?;
        }
        for warning in &self.warnings {
            write!(f, "\nwarning: {warning}")?;
        }
        Ok(())
    }
}

/// The same lines as `Display`: this is what `main` prints when it returns the error.
impl fmt::Debug for FlagsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for FlagsError {}

/// A variable's text as an error may show it: the text itself, or nothing for a secret.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum ShownValue {
    /// The text, as it was set.
    Text(String),
    /// A secret flag's text, which is never kept in an error.
    Redacted,
}

impl ShownValue {
    /// `Text(text)`, or `Redacted` when `secret`.
    pub(crate) fn new(text: &str, secret: bool) -> Self {
        if secret {
            Self::Redacted
        } else {
            Self::Text(text.to_owned())
        }
    }

    /// The text, unless it is redacted.
    pub fn text(&self) -> Option<&str> {
        match self {
            Self::Text(text) => Some(text),
            Self::Redacted => None,
        }
    }
}

/// Quoted text, or `<redacted>`.
impl fmt::Display for ShownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Text(text) => write!(f, "{text:?}"),
            Self::Redacted => f.write_str("<redacted>"),
        }
    }
}

impl fmt::Debug for ShownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// One thing wrong with a load: which variable, what was wrong, and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// A variable's text is not a value of the flag's type.
    #[non_exhaustive]
    Invalid {
        /// The flag's field name.
        flag: &'static str,
        /// The variable.
        env: &'static str,
        /// The text that was set (redacted for a secret flag).
        value: ShownValue,
        /// What a valid value looks like.
        expected: Cow<'static, str>,
        /// Where the text came from.
        source: Source,
    },
    /// A required flag (no default, not an `Option`) is unset or empty.
    #[non_exhaustive]
    Missing {
        /// The flag's field name.
        flag: &'static str,
        /// The variable.
        env: &'static str,
        /// The values the flag accepts, when it takes one of a list (an enum); empty otherwise.
        values: &'static [&'static str],
        /// The source that set the variable to an empty value; `None` when no source set it.
        source: Option<Source>,
    },
    /// A flag's default, built in code, is not a valid value (a rollout of 150%).
    #[non_exhaustive]
    InvalidDefault {
        /// The flag's field name.
        flag: &'static str,
        /// The variable.
        env: &'static str,
        /// What a valid value looks like.
        expected: Cow<'static, str>,
    },
    /// A flag's value loads, but something about it is likely a mistake (a user on a rollout's
    /// allow and deny lists both); a warning.
    #[non_exhaustive]
    LikelyMistake {
        /// The flag's field name.
        flag: &'static str,
        /// The variable.
        env: &'static str,
        /// What looks like a mistake, never quoting a value that may be secret.
        note: String,
        /// Where the value came from.
        source: Source,
    },
    /// A flag's variable holds bytes that are not UTF-8.
    #[non_exhaustive]
    NotUnicode {
        /// The flag's field name.
        flag: &'static str,
        /// The variable.
        env: &'static str,
        /// Where the bytes came from.
        source: Source,
    },
    /// A variable under the struct's prefix names no flag (an error only with `deny_unknown`).
    #[non_exhaustive]
    Unknown {
        /// The variable.
        env: String,
        /// The flag variable nearest to it, if one is near.
        suggestion: Option<&'static str>,
        /// Where it came from.
        source: Source,
    },
    /// A variable is a flag's variable in another case (`feature_beta` for `FEATURE_BETA`).
    /// Variable names are case-sensitive, so it is not read (an error only with `deny_unknown` or
    /// a strict load). pydantic-settings ignores case: a deployment written for it can hit this.
    #[non_exhaustive]
    OtherCase {
        /// The variable as it was set.
        env: String,
        /// The flag's variable.
        flag_env: &'static str,
        /// Where it came from.
        source: Source,
    },
    /// A flag is on (or holds its `when` value), but flags it requires are unset or empty.
    #[non_exhaustive]
    Unmet {
        /// The flag's field name.
        flag: &'static str,
        /// The flag's variable.
        env: &'static str,
        /// The flag's value that switches the requirement on (redacted for a secret flag).
        value: ShownValue,
        /// Every required variable that is unset or empty.
        missing: Vec<&'static str>,
        /// Where the flag's value came from; `None` when a struct changed after loading is
        /// validated.
        source: Option<Source>,
    },
    /// A change made live names a flag marked `#[flag(restart)]`, which takes effect only when
    /// the application starts.
    #[non_exhaustive]
    NeedsRestart {
        /// The flag's field name.
        flag: &'static str,
        /// The flag's variable.
        env: &'static str,
    },
    /// A change made live names a secret flag that does not opt in with `#[flag(live)]`.
    #[non_exhaustive]
    SecretNotLive {
        /// The flag's field name.
        flag: &'static str,
        /// The flag's variable.
        env: &'static str,
    },
    /// A flag handed to a flag service that cannot manage it
    /// ([`Live::managed_by`](crate::live::Live::managed_by)): one read only at start, a secret, one
    /// another service manages, or one it was never handed.
    #[non_exhaustive]
    NotManageable {
        /// The flag's field name.
        flag: &'static str,
        /// The flag's variable.
        env: &'static str,
        /// The service (`unleash`).
        service: std::sync::Arc<str>,
        /// Why it cannot manage it.
        reason: Unmanageable,
    },
    /// A `.env` file could not be read or has a line that does not parse.
    #[non_exhaustive]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong, never quoting a value.
        reason: String,
    },
}

/// Why a flag service cannot manage a flag ([`Problem::NotManageable`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unmanageable {
    /// The flag is read only at start (`#[flag(restart)]`).
    ReadAtStart,
    /// The flag is secret, and a service's values are not.
    Secret,
    /// Another service manages it already.
    ManagedBy(std::sync::Arc<str>),
    /// The service pushed a value for a flag it was never handed.
    NotHanded,
}

impl Problem {
    /// Where the value the problem is about came from, to change it: a refused change's problems
    /// name the change, not the version it would have made.
    pub(crate) fn source_mut(&mut self) -> Option<&mut Source> {
        match self {
            Self::Invalid { source, .. }
            | Self::LikelyMistake { source, .. }
            | Self::NotUnicode { source, .. }
            | Self::Unknown { source, .. }
            | Self::OtherCase { source, .. } => Some(source),
            Self::Missing { source, .. } | Self::Unmet { source, .. } => source.as_mut(),
            _ => None,
        }
    }

    /// What kind of problem it is, in snake case (`invalid`, `missing`, `unmet`, `unknown`,
    /// `needs_restart`, `not_manageable`, ...): the variant's name, for a program that reads the
    /// problem as data (an HTTP client, a script reading JSON).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Invalid { .. } => "invalid",
            Self::Missing { .. } => "missing",
            Self::InvalidDefault { .. } => "invalid_default",
            Self::LikelyMistake { .. } => "likely_mistake",
            Self::NotUnicode { .. } => "not_unicode",
            Self::Unknown { .. } => "unknown",
            Self::OtherCase { .. } => "other_case",
            Self::Unmet { .. } => "unmet",
            Self::NeedsRestart { .. } => "needs_restart",
            Self::SecretNotLive { .. } => "secret_not_live",
            Self::NotManageable { .. } => "not_manageable",
            Self::File { .. } => "file",
        }
    }

    /// The variable the problem is about (`None` for a file that cannot be read).
    pub fn env(&self) -> Option<&str> {
        match self {
            Self::Invalid { env, .. }
            | Self::InvalidDefault { env, .. }
            | Self::LikelyMistake { env, .. }
            | Self::Missing { env, .. }
            | Self::NotUnicode { env, .. }
            | Self::Unmet { env, .. }
            | Self::NeedsRestart { env, .. }
            | Self::SecretNotLive { env, .. }
            | Self::NotManageable { env, .. } => Some(env),
            Self::Unknown { env, .. } | Self::OtherCase { env, .. } => Some(env),
            Self::File { .. } => None,
        }
    }

    /// Logs the problem as a warning, target `flags`: what a load does with a problem that does
    /// not stop it.
    pub(crate) fn log(&self) {
        match self.env() {
            Some(env) => tracing::warn!(target: "flags", env, "{self}"),
            None => tracing::warn!(target: "flags", "{self}"),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Invalid {
                env,
                value,
                expected,
                source,
                ..
            } => write!(
                f,
                "{env}: invalid value {value}, expected {expected} (from {source})"
            ),
            Self::Missing {
                env,
                values,
                source,
                ..
            } => {
                let set = if source.is_some() {
                    "set to an empty value"
                } else {
                    "not set"
                };
                write!(f, "{env}: required, but {set} and has no default")?;
                if !values.is_empty() {
                    write!(f, "; expected one of: {}", values.join(", "))?;
                }
                match source {
                    Some(source) => write!(f, " (from {source})"),
                    None => Ok(()),
                }
            }
            Self::InvalidDefault { env, expected, .. } => write!(
                f,
                "{env}: the default, set in the code, is invalid: expected {expected}"
            ),
            Self::LikelyMistake {
                env, note, source, ..
            } => write!(f, "{env}: {note} (from {source})"),
            Self::NotUnicode { env, source, .. } => {
                write!(f, "{env}: the value is not valid UTF-8 (from {source})")
            }
            Self::Unknown {
                env,
                suggestion,
                source,
            } => {
                write!(f, "{env}: no such flag")?;
                if let Some(suggestion) = suggestion {
                    write!(f, "; did you mean {suggestion}?")?;
                }
                write!(f, " (from {source})")
            }
            Self::OtherCase {
                env,
                flag_env,
                source,
            } => write!(
                f,
                "{env}: not read, as variable names are case-sensitive; did you mean {flag_env}? \
                 (from {source})"
            ),
            Self::Unmet {
                env,
                value,
                missing,
                source,
                ..
            } => {
                let (last, first) = missing.split_last().unwrap_or((&"", &[]));
                let names = match first {
                    [] => (*last).to_owned(),
                    first => format!("{} and {last}", first.join(", ")),
                };
                let verb = if first.is_empty() { "is" } else { "are" };
                write!(f, "{env}: {value} requires {names}, which {verb} not set")?;
                match source {
                    Some(source) => write!(f, " (from {source})"),
                    None => Ok(()),
                }
            }
            Self::File { path, reason } => write!(f, "{}: {reason}", path.display()),
            Self::NeedsRestart { env, .. } => write!(
                f,
                "{env}: read only at start (#[flag(restart)]), so it cannot change live: set it \
                 in the environment and restart"
            ),
            Self::SecretNotLive { env, .. } => write!(
                f,
                "{env}: a secret changes live only if its flag says #[flag(secret, live)]: set it \
                 in the environment and restart"
            ),
            Self::NotManageable {
                env,
                service,
                reason,
                ..
            } => {
                write!(f, "{env}: the flag service {service} cannot manage it: ")?;
                match reason {
                    Unmanageable::ReadAtStart => {
                        f.write_str("it is read only at start (#[flag(restart)])")
                    }
                    Unmanageable::Secret => {
                        f.write_str("it is secret, and a service's values are not")
                    }
                    Unmanageable::ManagedBy(other) => write!(f, "{other} manages it already"),
                    Unmanageable::NotHanded => write!(
                        f,
                        "it was never handed to {service}: name it in \
                         Live::managed_by(\"{service}\", ...)"
                    ),
                }
            }
        }
    }
}

/// A problem as an object with its [`kind`](Problem::kind), its `variable` (`null` when it is
/// about no variable) and its `message`, the line `Display` renders: a secret's value appears in
/// none of them.
///
/// ```
/// use flags_core::FeatureFlags;
///
/// #[derive(Debug, FeatureFlags)]
/// struct Settings {
///     #[flag(default = 8080)]
///     port: u16,
/// }
///
/// let error = Settings::from_iter([("PORT", "eighty")]).unwrap_err();
/// let json = serde_json::to_string(&error.problems()[0]).unwrap();
/// assert_eq!(
///     json,
///     r#"{"kind":"invalid","variable":"PORT","message":"PORT: invalid value \"eighty\", expected an integer from 0 to 65535 (from map)"}"#
/// );
/// ```
impl Serialize for Problem {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ProblemJson {
            kind: self.kind(),
            variable: self.env(),
            message: self.to_string(),
        }
        .serialize(serializer)
    }
}

/// What a [`Problem`] serializes as.
#[derive(Serialize)]
struct ProblemJson<'a> {
    kind: &'static str,
    variable: Option<&'a str>,
    message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_one_line_per_problem_and_never_shows_a_redacted_value() {
        let error = FlagsError::new(vec![
            Problem::Invalid {
                flag: "port",
                env: "PORT",
                value: ShownValue::new("80800", false),
                expected: "an integer from 0 to 65535".into(),
                source: Source::Map,
            },
            Problem::Invalid {
                flag: "token",
                env: "TOKEN",
                value: ShownValue::new("hunter2", true),
                expected: "a token".into(),
                source: Source::Environment,
            },
            Problem::Missing {
                flag: "admin_token",
                env: "ADMIN_TOKEN",
                values: &[],
                source: None,
            },
            Problem::Missing {
                flag: "region",
                env: "REGION",
                values: &["us_east", "eu_west"],
                source: Some(Source::File(std::path::Path::new("prod.env").into())),
            },
        ]);
        assert_eq!(
            error.to_string(),
            "PORT: invalid value \"80800\", expected an integer from 0 to 65535 (from map)\n\
             TOKEN: invalid value <redacted>, expected a token (from process environment)\n\
             ADMIN_TOKEN: required, but not set and has no default\n\
             REGION: required, but set to an empty value and has no default; expected one of: \
             us_east, eu_west (from .env file prod.env)"
        );
        assert_eq!(format!("{error:?}"), error.to_string());
        assert!(!format!("{:?}", error.problems()).contains("hunter2"));
    }
}
