//! The [`FeatureFlags`] trait, implemented by `#[derive(FeatureFlags)]`.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use rustc_hash::FxBuildHasher;

use crate::error::FlagsError;
use crate::meta::FlagMeta;
use crate::public::PublicFlags;
use crate::source::{Loader, Source, Vars};

/// A struct of flags, each loaded from one environment variable.
///
/// Derive it; see the [crate documentation](crate) for the attributes.
pub trait FeatureFlags: Sized {
    /// Every flag, in declaration order.
    const FLAGS: &'static [FlagMeta];

    /// Loads the flags from a snapshot of the process environment.
    ///
    /// The environment is read once and never changed; variables that are not UTF-8 are ignored
    /// unless they are a flag's, which is a problem of that flag.
    fn from_env() -> Result<Self, FlagsError> {
        Loader::new().env().load()
    }

    /// Loads the flags from name and value pairs (a `HashMap`, an array, an iterator); a later pair
    /// overrides an earlier one of the same name.
    fn from_iter<I, K, V>(vars: I) -> Result<Self, FlagsError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut collected = Vars::new(Self::__schema());
        let source = collected.add_source(Source::Map);
        for (name, value) in vars {
            collected.set(name.as_ref(), value.as_ref(), source);
        }
        Self::__from_vars(&collected)
    }

    /// Checks what loading checks beyond parsing, on a struct that may have changed since: every
    /// `requires` of a flag that is on (or holds its `when` value) is met.
    ///
    /// The loaders call it; call it again after changing a loaded struct.
    fn validate(&self) -> Result<(), FlagsError>;

    /// The `public` flags under their public names, for a frontend; nothing else.
    fn public_flags(&self) -> PublicFlags;

    /// Logs every flag at start-up: one INFO event per flag (target `flags`) with the fields
    /// `flag`, `env`, `value`, `source` and, where set, `status`; a secret's value is `<redacted>`
    /// (or `<unset>`). A flag that is on while its `status` says it is not released yet
    /// (`frozen`, `experimental`, `unreleased`, `planned`) also gets a WARN.
    ///
    /// `source` is where the value came from in the last load of this struct in the process
    /// (`default`, a `.env` file, the process environment, a map), `unknown` before any load.
    fn log_state(&self);

    #[doc(hidden)]
    fn __schema() -> &'static Schema;

    #[doc(hidden)]
    fn __from_vars(vars: &Vars) -> Result<Self, FlagsError>;
}

/// What loading needs to know about a struct of flags, built once per struct.
#[doc(hidden)]
#[derive(Debug)]
pub struct Schema {
    prefix: &'static str,
    deny_unknown: bool,
    flags: &'static [FlagMeta],
    index: OnceLock<HashMap<&'static str, usize, FxBuildHasher>>,
    /// Where each flag's value came from in the last successful load.
    sources: RwLock<Option<Arc<[Source]>>>,
}

impl Schema {
    pub const fn new(prefix: &'static str, deny_unknown: bool, flags: &'static [FlagMeta]) -> Self {
        Self {
            prefix,
            deny_unknown,
            flags,
            index: OnceLock::new(),
            sources: RwLock::new(None),
        }
    }

    pub fn prefix(&self) -> &'static str {
        self.prefix
    }

    pub fn deny_unknown(&self) -> bool {
        self.deny_unknown
    }

    pub fn flags(&self) -> &'static [FlagMeta] {
        self.flags
    }

    /// The position of the flag whose variable is `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        let index = self.index.get_or_init(|| {
            let flags = self.flags.iter().enumerate();
            flags.map(|(index, flag)| (flag.env(), index)).collect()
        });
        index.get(name).copied()
    }

    /// Remembers where each flag's value came from, for `log_state`.
    pub(crate) fn record_sources(&self, vars: &Vars) {
        let sources = (0..self.flags.len())
            .map(|index| vars.source_of(index))
            .collect();
        *self.sources.write().unwrap_or_else(PoisonError::into_inner) = Some(sources);
    }

    /// Where each flag's value came from in the last successful load, if there was one.
    pub(crate) fn recorded_sources(&self) -> Option<Arc<[Source]>> {
        self.sources
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}
