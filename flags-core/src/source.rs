//! Where variables come from: [`Loader`] stacks `.env` files, maps and the process environment
//! into one buffer of variables ([`Vars`]), in which every value remembers its
//! [`Source`](crate::Source).

use std::fmt;
use std::path::PathBuf;

use crate::provenance::Source;
use crate::schema::Schema;

mod env_file;
mod vars;

pub(crate) use vars::{Raw, Vars};

/// Loads flags from a stack of sources; a later source overrides an earlier one.
///
/// `.env` files are parsed with dotenvy without touching the process environment, and the process
/// environment is read once, as a snapshot. Every problem of every source (an unreadable file, a
/// bad value, a missing flag) is reported together in one [`FlagsError`](crate::FlagsError).
///
/// ```
/// use flags_core::{FeatureFlags, Loader};
///
/// #[derive(Debug, FeatureFlags)]
/// #[flags(prefix = "APP_")]
/// struct Settings {
///     #[flag(default = 8080)]
///     port: u16,
///     #[flag(default = false)]
///     debug: bool,
/// }
///
/// let settings: Settings = Loader::new()
///     .file_if_exists("/etc/app/defaults.env")
///     .map([("APP_PORT", "9000")])
///     .map([("APP_DEBUG", "yes")])
///     .load()?;
/// assert_eq!(settings.port, 9000);
/// assert!(settings.debug);
/// # Ok::<(), flags_core::FlagsError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Loader {
    layers: Vec<Layer>,
    strict: bool,
}

#[derive(Clone)]
enum Layer {
    File { path: PathBuf, required: bool },
    Map(Vec<(String, String)>),
    Environment,
}

/// A map's variable names, never its values: a loader may hold secrets and be logged.
impl fmt::Debug for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File { path, required } => f
                .debug_struct("File")
                .field("path", path)
                .field("required", required)
                .finish(),
            Self::Map(pairs) => f
                .debug_tuple("Map")
                .field(&pairs.iter().map(|(name, _)| name).collect::<Vec<_>>())
                .finish(),
            Self::Environment => f.write_str("Environment"),
        }
    }
}

impl Loader {
    /// A loader with no sources: every flag starts unset.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a `.env` file; a file that is missing is a problem of the load.
    pub fn file(mut self, path: impl Into<PathBuf>) -> Self {
        self.layers.push(Layer::File {
            path: path.into(),
            required: true,
        });
        self
    }

    /// Adds a `.env` file that is skipped when it does not exist (a developer's local `.env`).
    pub fn file_if_exists(mut self, path: impl Into<PathBuf>) -> Self {
        self.layers.push(Layer::File {
            path: path.into(),
            required: false,
        });
        self
    }

    /// Adds variables from a map (or any iterator of name and value pairs).
    pub fn map<I, K, V>(mut self, vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let vars = vars
            .into_iter()
            .map(|(name, value)| (name.as_ref().to_owned(), value.as_ref().to_owned()))
            .collect();
        self.layers.push(Layer::Map(vars));
        self
    }

    /// Adds the process environment, read when [`Loader::load`] runs.
    pub fn env(mut self) -> Self {
        self.layers.push(Layer::Environment);
        self
    }

    /// Makes every unknown variable an error rather than a warning, and checks every variable of
    /// a `.env` file or a map, with or without the prefix: such sources are written for these
    /// flags, so a stray name is a typo. (In the process environment, which holds every program's
    /// variables, only those under the prefix are checked.) A `.env` file that sets one variable
    /// twice is an error too: the last value wins, which its reader may not see.
    ///
    /// This is how a deployment's env file is checked before it ships:
    ///
    /// ```
    /// use flags_core::{FeatureFlags, Loader};
    ///
    /// #[derive(Debug, FeatureFlags)]
    /// #[flags(prefix = "FEATURE_")]
    /// struct Settings {
    ///     #[flag(env = "RATE_LIMIT_ENABLED", default = true)]
    ///     rate_limit_enabled: bool,
    /// }
    ///
    /// let error = Loader::new()
    ///     .map([("RATE_LIMT_ENABLED", "false")])
    ///     .strict()
    ///     .load::<Settings>()
    ///     .unwrap_err();
    /// assert_eq!(
    ///     error.to_string(),
    ///     "RATE_LIMT_ENABLED: no such flag; did you mean RATE_LIMIT_ENABLED? (from map)"
    /// );
    /// ```
    pub fn strict(mut self) -> Self {
        self.strict = true;
        self
    }

    /// Every source's variables for the flags of `schema`, in order.
    pub(crate) fn read(&self, schema: &'static Schema) -> Vars {
        let mut vars = Vars::new(schema);
        vars.set_strict(self.strict);
        for layer in &self.layers {
            match layer {
                Layer::File { path, required } => vars.read_file(path, *required),
                Layer::Map(pairs) => {
                    let source = vars.add_source(Source::Map);
                    for (name, value) in pairs {
                        vars.set(name, value, source);
                    }
                }
                Layer::Environment => vars.read_environment(),
            }
        }
        vars
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loader_shows_the_names_of_a_maps_variables_but_not_their_values() {
        let loader = Loader::new()
            .map([("APP_TOKEN", "canary-7f3a")])
            .file_if_exists("app.env");
        let shown = format!("{loader:?}");
        assert!(
            shown.contains("APP_TOKEN") && shown.contains("app.env"),
            "{shown}"
        );
        assert!(!shown.contains("canary-7f3a"), "{shown}");
    }
}
