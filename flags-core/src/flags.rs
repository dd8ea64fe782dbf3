//! The [`FeatureFlags`] trait, implemented by `#[derive(FeatureFlags)]`.

use std::collections::HashMap;
use std::sync::OnceLock;

use rustc_hash::FxBuildHasher;

use crate::error::FlagsError;
use crate::meta::FlagMeta;
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
}

impl Schema {
    pub const fn new(prefix: &'static str, deny_unknown: bool, flags: &'static [FlagMeta]) -> Self {
        Self {
            prefix,
            deny_unknown,
            flags,
            index: OnceLock::new(),
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
}
