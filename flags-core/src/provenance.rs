//! Where a flag's value came from: a [`Source`] per value, and the [`Provenance`] of a whole load,
//! which travels with the loaded value in a [`Snapshot`](crate::Snapshot).

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use serde::{Serialize, Serializer};

use crate::meta::FlagMeta;

/// Where a flag's value came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Source {
    /// The variable was unset or empty, so the flag's default applies.
    Default,
    /// The process environment.
    Environment,
    /// A `.env` file.
    File(Arc<Path>),
    /// A map given to [`Loader::map`](crate::Loader::map) or
    /// [`FeatureFlags::from_iter`](crate::FeatureFlags::from_iter).
    Map,
    /// A change made live ([`Live::apply`](crate::live::Live::apply)) by `actor` in `version`.
    Override {
        /// Who made it.
        actor: Arc<str>,
        /// The version it made.
        version: u64,
    },
    /// A change by `actor` that was refused: its values never made a version, so a problem with
    /// one names the change, not a version.
    Change {
        /// Who asked for it.
        actor: Arc<str>,
    },
    /// A flag service that manages the flag
    /// ([`Live::managed_by`](crate::live::Live::managed_by)).
    Service {
        /// The service (`unleash`).
        service: Arc<str>,
    },
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Default => f.write_str("default"),
            Self::Environment => f.write_str("process environment"),
            Self::File(path) => write!(f, ".env file {}", path.display()),
            Self::Map => f.write_str("map"),
            Self::Override { actor, version } => {
                write!(f, "override by {actor} (version {version})")
            }
            Self::Change { actor } => write!(f, "a change by {actor}"),
            Self::Service { service } => write!(f, "flag service {service}"),
        }
    }
}

/// A source as an object whose `kind` is `default`, `environment`, `file` (with its `path`),
/// `map`, `override` (with its `actor` and `version`), `change` (with its `actor`) or `service`
/// (with its `service`), and
/// whose `text` is what `Display` renders.
///
/// ```
/// use std::sync::Arc;
/// use flags_core::Source;
///
/// let source = Source::Override { actor: Arc::from("alice"), version: 3 };
/// assert_eq!(
///     serde_json::to_string(&source).unwrap(),
///     r#"{"kind":"override","actor":"alice","version":3,"text":"override by alice (version 3)"}"#
/// );
/// ```
impl Serialize for Source {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let text = self.to_string();
        let json = match self {
            Self::Default => SourceJson::of("default", text),
            Self::Environment => SourceJson::of("environment", text),
            Self::File(path) => SourceJson {
                path: Some(path.display().to_string()),
                ..SourceJson::of("file", text)
            },
            Self::Map => SourceJson::of("map", text),
            Self::Override { actor, version } => SourceJson {
                actor: Some(actor),
                version: Some(*version),
                ..SourceJson::of("override", text)
            },
            Self::Change { actor } => SourceJson {
                actor: Some(actor),
                ..SourceJson::of("change", text)
            },
            Self::Service { service } => SourceJson {
                service: Some(service),
                ..SourceJson::of("service", text)
            },
        };
        json.serialize(serializer)
    }
}

/// Where a value came from: its kind, the fields of its kind, and its text.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename = "Source")]
struct SourceJson<'a> {
    /// `default`, `environment`, `file`, `map`, `override`, `change` or `service`.
    kind: &'static str,
    /// For `file`: the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    /// For `override` and `change`: who made the change.
    #[serde(skip_serializing_if = "Option::is_none")]
    actor: Option<&'a str>,
    /// For `override`: the version it made.
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<u64>,
    /// For `service`: the flag service that manages the flag.
    #[serde(skip_serializing_if = "Option::is_none")]
    service: Option<&'a str>,
    /// The source as one line (`override by alice (version 3)`).
    text: String,
}

impl SourceJson<'_> {
    /// A source of `kind` with its `text`, and none of the fields of other kinds.
    fn of(kind: &'static str, text: String) -> Self {
        Self {
            kind,
            path: None,
            actor: None,
            version: None,
            service: None,
            text,
        }
    }
}

/// `Source`'s schema is its serialized form's.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Source {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        <SourceJson<'static> as utoipa::PartialSchema>::schema()
    }
}

/// Named `Source`, utoipa's default.
#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Source {}

/// Where each flag's value came from in one load, in the flags' declaration order.
#[derive(Debug, Clone)]
pub struct Provenance {
    flags: &'static [FlagMeta],
    sources: Box<[Source]>,
}

impl Provenance {
    /// The provenance of a load of `flags` whose values came from `sources`, one per flag.
    pub(crate) fn new(flags: &'static [FlagMeta], sources: Box<[Source]>) -> Self {
        Self { flags, sources }
    }

    /// Where the flag at `index` (its position in the struct) got its value.
    pub(crate) fn of(&self, index: usize) -> &Source {
        &self.sources[index]
    }

    /// Where the flag whose variable is `env` got its value; `None` for a variable of no flag.
    pub fn source(&self, env: &str) -> Option<&Source> {
        let index = self.flags.iter().position(|flag| flag.env() == env)?;
        Some(&self.sources[index])
    }

    /// Each flag's variable with the source of its value, in declaration order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &Source)> {
        self.flags
            .iter()
            .map(FlagMeta::env)
            .zip(self.sources.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_source_serializes_its_kind_its_own_fields_and_its_text() {
        let json = |source: Source| serde_json::to_string(&source).unwrap();
        assert_eq!(
            json(Source::Default),
            r#"{"kind":"default","text":"default"}"#
        );
        assert_eq!(
            json(Source::Environment),
            r#"{"kind":"environment","text":"process environment"}"#
        );
        assert_eq!(
            json(Source::File(Arc::from(Path::new("/app/.env")))),
            r#"{"kind":"file","path":"/app/.env","text":".env file /app/.env"}"#
        );
        assert_eq!(json(Source::Map), r#"{"kind":"map","text":"map"}"#);
        let change = Source::Override {
            actor: Arc::from("alice"),
            version: 3,
        };
        assert_eq!(
            json(change),
            r#"{"kind":"override","actor":"alice","version":3,"text":"override by alice (version 3)"}"#
        );
        let refused = Source::Change {
            actor: Arc::from("carol"),
        };
        assert_eq!(
            json(refused),
            r#"{"kind":"change","actor":"carol","text":"a change by carol"}"#
        );
        let service = Source::Service {
            service: Arc::from("unleash"),
        };
        assert_eq!(
            json(service),
            r#"{"kind":"service","service":"unleash","text":"flag service unleash"}"#
        );
    }
}
