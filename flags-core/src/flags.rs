//! The [`FeatureFlags`] trait, implemented by `#[derive(FeatureFlags)]`, and loading a struct of
//! flags from a [`Loader`].
//!
//! The derive writes what only it knows: the flags' metadata, how to read each field, and how to
//! visit each field. Everything a struct of flags does with those (load, validate, project for a
//! frontend, log) is written once, here, for every struct.

use serde_json::Value;

use crate::error::{FlagsError, Problem};
use crate::load::Load;
use crate::log_state::StateLog;
use crate::meta::FlagMeta;
use crate::provenance::Source;
use crate::public::PublicFlags;
use crate::requires::RequirementCheck;
use crate::schema::Schema;
use crate::source::{Loader, Vars};
use crate::visit::{FieldValue, Visitor};

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
        load_logging_warnings(&collected)
    }

    /// Checks what loading checks beyond parsing, on a struct that may have changed since it was
    /// loaded: every `requires` of a flag that is on (or holds its `when` value) is met.
    fn validate(&self) -> Result<(), FlagsError> {
        let mut requirements = RequirementCheck::new(Self::__schema());
        self.__visit(&mut requirements);
        let unmet = requirements.unmet(None);
        if unmet.is_empty() {
            Ok(())
        } else {
            Err(FlagsError::new(unmet))
        }
    }

    /// The `public` flags under their public names, for a frontend; nothing else. Flags whose
    /// value depends on the user (rollouts, variants) are left out: see `public_flags_for`.
    fn public_flags(&self) -> PublicFlags {
        let mut collect = Collect::new(Self::FLAGS, None);
        self.__visit(&mut collect);
        collect.public
    }

    /// The `public` flags as one user sees them: rollouts decided and variants chosen for `user`
    /// (each decision is an exposure), other flags as in `public_flags`. The frontend gets the
    /// decisions, never the rules to compute them.
    fn public_flags_for(&self, user: &str) -> PublicFlags {
        let mut collect = Collect::new(Self::FLAGS, Some(user));
        self.__visit(&mut collect);
        collect.public
    }

    /// Logs every flag: one INFO event per flag (target `flags`) with the fields `flag`, `env`,
    /// `value`, `source` and, where set, `status`; a secret's value is `<redacted>` (or
    /// `<unset>`). A flag that is on while its `status` says it is not released yet (`frozen`,
    /// `experimental`, `unreleased`, `planned`) also gets a WARN, and so does an expired flag.
    ///
    /// A struct does not know where its values came from, so `source` is `unknown` here: log a
    /// [`Snapshot`](crate::Snapshot) of the load ([`Loader::snapshot`]) to see each value's source.
    fn log_state(&self) {
        self.__visit(&mut StateLog::new(Self::FLAGS, None));
    }

    /// What loading needs to know of the struct, built once.
    #[doc(hidden)]
    fn __schema() -> &'static Schema;

    /// Reads every field in `load`; `None` when one did not load (the load knows why).
    #[doc(hidden)]
    fn __load(load: &mut Load<'_>) -> Option<Self>;

    /// Visits every field, in declaration order.
    #[doc(hidden)]
    fn __visit(&self, visitor: &mut dyn Visitor);

    /// Visits the field at `index` alone (nothing when there is none): what evaluating one flag
    /// reads. The derive writes a `match`; this default visits every field to find it.
    #[doc(hidden)]
    fn __visit_field(&self, index: usize, visitor: &mut dyn Visitor) {
        struct Only<'a> {
            index: usize,
            visitor: &'a mut dyn Visitor,
        }
        impl Visitor for Only<'_> {
            fn field(&mut self, index: usize, value: &dyn FieldValue) {
                if index == self.index {
                    self.visitor.field(index, value);
                }
            }
        }
        self.__visit(&mut Only { index, visitor });
    }
}

impl Loader {
    /// Reads every source in order and loads `T` from the result. What is wrong but does not stop
    /// the load (a variable under the prefix that names no flag; a `.env` file that sets one
    /// twice) is logged as a WARN, target `flags`; a load that fails lists it in its error.
    pub fn load<T: FeatureFlags>(&self) -> Result<T, FlagsError> {
        load_logging_warnings(&self.read(T::__schema()))
    }
}

/// Loads `T` from `vars`: the struct and the load's warnings, or every problem of the load.
pub(crate) fn load_from<T: FeatureFlags>(vars: &Vars) -> Result<(T, Vec<Problem>), FlagsError> {
    let mut load = Load::new(vars);
    let loaded = T::__load(&mut load);
    load.finish(loaded)
}

/// Loads `T` from `vars`, logging the warnings of a load that succeeds.
fn load_logging_warnings<T: FeatureFlags>(vars: &Vars) -> Result<T, FlagsError> {
    let (loaded, warnings) = load_from(vars)?;
    warnings.iter().for_each(Problem::log);
    Ok(loaded)
}

/// Collects the public flags of a struct from its fields: the shared values, or one user's.
struct Collect<'a> {
    flags: &'static [FlagMeta],
    /// The user to decide for; without one, per-user flags are left out.
    user: Option<&'a str>,
    public: PublicFlags,
}

impl<'a> Collect<'a> {
    fn new(flags: &'static [FlagMeta], user: Option<&'a str>) -> Self {
        Self {
            flags,
            user,
            public: PublicFlags::default(),
        }
    }
}

impl Visitor for Collect<'_> {
    fn field(&mut self, index: usize, value: &dyn FieldValue) {
        let Some(name) = self.flags[index].public_name() else {
            return;
        };
        let value: Value = match self.user {
            Some(user) => value.to_public_for(user),
            // A rollout's shared value would be its rule: only a user's decision is public.
            None if value.is_per_user() => return,
            None => value.to_public(),
        };
        self.public.push(name, value);
    }
}
