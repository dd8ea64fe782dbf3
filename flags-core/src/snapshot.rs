//! [`Snapshot`]: a loaded struct of flags with what its load knew of it, where each value came
//! from and what looks like a mistake, which a bare struct cannot carry.

use std::ops::Deref;

use crate::error::{FlagsError, Problem};
use crate::flags::{FeatureFlags, load_from};
use crate::log_state::StateLog;
use crate::meta::FlagMeta;
use crate::provenance::{Provenance, Source};
use crate::source::Loader;
use crate::visit::{FieldValue, Visitor};

/// A struct of flags as one load gave it, with where each value came from and the load's
/// warnings. It derefs to the struct, and never changes: what it says of a value's source is
/// true of the value it holds.
///
/// ```
/// use flags_core::{FeatureFlags, Loader, Source};
///
/// #[derive(Debug, FeatureFlags)]
/// #[flags(prefix = "APP_")]
/// struct Settings {
///     #[flag(default = 8080)]
///     port: u16,
///     #[flag(default = false)]
///     beta_enabled: bool,
/// }
///
/// let settings = Loader::new()
///     .map([("APP_PORT", "9000"), ("APP_BETA_ENABLD", "true")])
///     .snapshot::<Settings>()?;
/// assert_eq!(settings.port, 9000);
/// assert_eq!(settings.source("APP_PORT"), Some(&Source::Map));
/// assert_eq!(settings.source("APP_BETA_ENABLED"), Some(&Source::Default));
/// assert_eq!(
///     settings.warnings()[0].to_string(),
///     "APP_BETA_ENABLD: no such flag; did you mean APP_BETA_ENABLED? (from map)"
/// );
/// settings.log_state(); // each flag with its value and its source
/// # Ok::<(), flags_core::FlagsError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Snapshot<T> {
    value: T,
    provenance: Provenance,
    pub(crate) warnings: Vec<Problem>,
    version: u64,
    /// A digest of the values flag services pushed; 0 when none did.
    revision: u64,
    /// The evaluation of each flag whose value is the same for every context, made the first
    /// time one is evaluated ([`crate::evaluate`]).
    pub(crate) constants: std::sync::OnceLock<Box<[Option<crate::decision::Constant>]>>,
    /// What decides, per user, the flags a service manages ([`crate::evaluate::Decide`]); `None`
    /// when no service hands one over.
    pub(crate) deciders: Option<crate::decision::Deciders>,
}

impl<T> Snapshot<T> {
    pub(crate) fn new(
        value: T,
        provenance: Provenance,
        warnings: Vec<Problem>,
        version: u64,
        revision: u64,
    ) -> Self {
        Self {
            value,
            provenance,
            warnings,
            version,
            revision,
            constants: std::sync::OnceLock::new(),
            deciders: None,
        }
    }

    /// The version of live flags this snapshot is ([`Live`](crate::live::Live)): 0 for a load.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Which values the flag services that manage some of the flags had pushed when this
    /// snapshot was made ([`Live::managed_by`](crate::live::Live::managed_by)): a digest of them,
    /// equal on every instance that holds the same values, and 0 when no service pushed any. The
    /// version does not count their changes (it is the overrides', which instances share), so
    /// what tells snapshots apart is the version and this: an HTTP `ETag`, say.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// Where the flag whose variable is `env` got its value; `None` for a variable of no flag.
    pub fn source(&self, env: &str) -> Option<&Source> {
        self.provenance.source(env)
    }

    /// Where each flag got its value, in declaration order.
    pub fn provenance(&self) -> &Provenance {
        &self.provenance
    }

    /// What was wrong but did not stop the load (a variable that names no flag, a `.env` file
    /// that sets one twice): returned, not logged, for an application whose logging is set up
    /// from its flags (a log level), after they load.
    pub fn warnings(&self) -> &[Problem] {
        &self.warnings
    }

    /// The struct, without what the load knew of it.
    pub fn into_inner(self) -> T {
        self.value
    }
}

impl<T: FeatureFlags> Snapshot<T> {
    /// Each flag as an operator sees it, in declaration order: its metadata, its value as a
    /// variable would hold it (`<redacted>` for a secret, `None` when unset) and where the value
    /// came from. What an admin page lists.
    ///
    /// ```
    /// use flags_core::{FeatureFlags, Loader};
    ///
    /// #[derive(FeatureFlags)]
    /// struct Settings {
    ///     #[flag(env = "PORT", default = 8080)]
    ///     port: u16,
    ///     #[flag(env = "TOKEN", secret)]
    ///     token: Option<flags_core::secrecy::SecretString>,
    /// }
    ///
    /// let settings = Loader::new().map([("TOKEN", "t0ken")]).snapshot::<Settings>()?;
    /// let states = settings.flag_states();
    /// assert_eq!(states[0].value.as_deref(), Some("8080"));
    /// assert_eq!(states[0].source.to_string(), "default");
    /// assert_eq!(states[1].value.as_deref(), Some("<redacted>"));
    /// # Ok::<(), flags_core::FlagsError>(())
    /// ```
    pub fn flag_states(&self) -> Vec<FlagState<'_>> {
        struct States<'a> {
            flags: &'static [FlagMeta],
            provenance: &'a Provenance,
            states: Vec<FlagState<'a>>,
        }

        impl<'a> Visitor for States<'a> {
            fn field(&mut self, index: usize, value: &dyn FieldValue) {
                let meta = &self.flags[index];
                let (text, json) = if value.is_unset() {
                    (None, serde_json::Value::Null)
                } else if meta.is_secret() {
                    let redacted = String::from("<redacted>");
                    (Some(redacted.clone()), serde_json::Value::String(redacted))
                } else if value.is_per_user() {
                    // Decided per user: no one value to show but its text (`25%`).
                    let text = value.to_env();
                    (Some(text.clone()), serde_json::Value::String(text))
                } else {
                    (Some(value.to_env()), value.to_public())
                };
                let source = self.provenance.of(index);
                self.states.push(FlagState {
                    meta,
                    value: text,
                    json,
                    source,
                });
            }
        }

        let mut states = States {
            flags: T::FLAGS,
            provenance: &self.provenance,
            states: Vec::with_capacity(T::FLAGS.len()),
        };
        self.value.__visit(&mut states);
        states.states
    }

    /// Logs every flag as [`FeatureFlags::log_state`] does, with the source of each value.
    pub fn log_state(&self) {
        let mut log = StateLog::new(T::FLAGS, Some(&self.provenance));
        self.value.__visit(&mut log);
    }
}

/// One flag of a [`Snapshot`] as an operator sees it ([`Snapshot::flag_states`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FlagState<'a> {
    /// What the derive knows of the flag.
    pub meta: &'static FlagMeta,
    /// Its value as a variable would hold it: `<redacted>` for a secret, `None` when unset.
    pub value: Option<String>,
    /// Its value as JSON of its type (`false`, `3`, `["a", "b"]`), as the public projection
    /// writes values: `"<redacted>"` for a secret, `null` when unset, and the text for a value
    /// decided per user (a rollout's `25%`).
    pub json: serde_json::Value,
    /// Where the value came from.
    pub source: &'a Source,
}

impl<T> Deref for Snapshot<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl Loader {
    /// Loads `T` as [`Loader::load`] does, into a [`Snapshot`] that keeps where each value came
    /// from and the load's warnings (returned, not logged). A load that fails lists its warnings
    /// in its error.
    pub fn snapshot<T: FeatureFlags>(&self) -> Result<Snapshot<T>, FlagsError> {
        let vars = self.read(T::__schema());
        let (value, warnings) = load_from(&vars)?;
        Ok(Snapshot::new(value, vars.provenance(), warnings, 0, 0))
    }
}
