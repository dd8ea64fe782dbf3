//! Evaluating one flag for one context, as a flag protocol answers: the value, why it is that
//! value ([`Reason`]), and the variant it is; what OpenFeature's providers and OFREP's server
//! are written on ([`Snapshot::evaluate`], [`Snapshot::evaluate_all`]).
//!
//! The value is the public one ([`FlagValue::to_public`](crate::FlagValue::to_public)): a
//! [`Rollout`](crate::Rollout) evaluates to the user's decision and [`Variants`](crate::Variants)
//! to the user's variant, exactly as [`Rollout::is_enabled_for`](crate::Rollout::is_enabled_for)
//! and [`Variants::variant_for`](crate::Variants::variant_for) decide (each decision is an
//! [exposure](crate::rollout#exposure)). A secret is never evaluated: it is answered as no flag,
//! so that whoever asks learns nothing of it, not even that it exists.

use std::fmt;

use serde_json::Value;

use crate::decision::{Constant, Decision};
pub use crate::decision::{Decide, Decided, Reason};
use crate::flags::FeatureFlags;
use crate::meta::FlagMeta;
use crate::provenance::Source;
use crate::snapshot::Snapshot;
use crate::visit::{FieldValue, Visitor};

/// One flag evaluated for one context ([`Snapshot::evaluate`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Evaluation {
    /// The flag.
    pub flag: &'static FlagMeta,
    /// Its public value for the context; `Null` when it has none (an `Option` flag that is
    /// unset), when the caller's own default applies.
    pub value: Value,
    /// Why it is that value.
    pub reason: Reason,
    /// The variant a [`Variants`](crate::Variants) flag gave (also the value); `None` for any
    /// other flag.
    pub variant: Option<String>,
}

/// Why a flag was not evaluated ([`Snapshot::evaluate`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unevaluated {
    /// No flag has that variable, or it is a secret, which is never evaluated.
    NotFound,
    /// The flag decides per user, and no user was given: a rollout or variants whose answer
    /// differs between users.
    TargetingKeyMissing,
}

impl fmt::Display for Unevaluated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Unevaluated::NotFound => "no such flag",
            Unevaluated::TargetingKeyMissing => {
                "the flag decides per user, and no targeting key was given"
            }
        })
    }
}

impl std::error::Error for Unevaluated {}

impl<T: FeatureFlags> Snapshot<T> {
    /// The flag whose variable is `env` (exactly: not by case, not by prefix), evaluated for
    /// `user` (OpenFeature's targeting key), or why it cannot be.
    ///
    /// ```
    /// use flags_core::evaluate::{Reason, Unevaluated};
    /// use flags_core::{FeatureFlags, Loader, Rollout};
    ///
    /// #[derive(FeatureFlags)]
    /// #[flags(prefix = "APP_")]
    /// struct Settings {
    ///     #[flag(default = false)]
    ///     beta: bool,
    ///     #[flag(default = Rollout::new("", 0))]
    ///     new_ui: Rollout,
    /// }
    ///
    /// let settings = Loader::new()
    ///     .map([("APP_NEW_UI", "50%; allow=alice")])
    ///     .snapshot::<Settings>()?;
    /// let beta = settings.evaluate("APP_BETA", None).unwrap();
    /// assert_eq!((beta.value, beta.reason), (false.into(), Reason::Default));
    ///
    /// let alice = settings.evaluate("APP_NEW_UI", Some("alice")).unwrap();
    /// assert_eq!((alice.value, alice.reason), (true.into(), Reason::TargetingMatch));
    /// let bob = settings.evaluate("APP_NEW_UI", Some("bob")).unwrap();
    /// assert_eq!(bob.value, settings.new_ui.is_enabled_for("bob"));
    /// assert_eq!(bob.reason, Reason::Split);
    ///
    /// let anyone = settings.evaluate("APP_NEW_UI", None);
    /// assert_eq!(anyone.unwrap_err(), Unevaluated::TargetingKeyMissing);
    /// assert_eq!(settings.evaluate("app_beta", None).unwrap_err(), Unevaluated::NotFound);
    /// # Ok::<(), flags_core::FlagsError>(())
    /// ```
    #[inline]
    pub fn evaluate(&self, env: &str, user: Option<&str>) -> Result<Evaluation, Unevaluated> {
        let index = T::__schema().index_of(env).ok_or(Unevaluated::NotFound)?;
        self.evaluate_at(index, user)
    }

    /// The flag at `index` in [`FeatureFlags::FLAGS`], evaluated for `user`: as
    /// [`Snapshot::evaluate`], for a caller that looked the flag up itself (by public name, say).
    #[inline]
    pub fn evaluate_at(&self, index: usize, user: Option<&str>) -> Result<Evaluation, Unevaluated> {
        let flag = T::FLAGS.get(index).ok_or(Unevaluated::NotFound)?;
        if flag.is_secret() {
            return Err(Unevaluated::NotFound);
        }
        if let Some(decided) = self.decided(index, flag, user) {
            return Ok(decided);
        }
        if let Some(Some(constant)) = self.constants().get(index) {
            return Ok(Evaluation {
                flag,
                value: constant.value.clone(),
                reason: constant.reason,
                variant: constant.variant.clone(),
            });
        }
        let mut one = One {
            user,
            decision: None,
        };
        (**self).__visit_field(index, &mut one);
        let decision = one.decision.ok_or(Unevaluated::NotFound)?;
        self.finish(index, flag, decision)
    }

    /// Every flag but the secrets evaluated for `user`, in declaration order: each handed to
    /// `each` with the flag, in one pass over the struct.
    pub fn evaluate_all(
        &self,
        user: Option<&str>,
        mut each: impl FnMut(&'static FlagMeta, Result<Evaluation, Unevaluated>),
    ) {
        struct All<'a, T, F> {
            snapshot: &'a Snapshot<T>,
            user: Option<&'a str>,
            each: &'a mut F,
        }

        impl<T, F> Visitor for All<'_, T, F>
        where
            T: FeatureFlags,
            F: FnMut(&'static FlagMeta, Result<Evaluation, Unevaluated>),
        {
            fn field(&mut self, index: usize, value: &dyn FieldValue) {
                let flag = &T::FLAGS[index];
                if flag.is_secret() {
                    return;
                }
                let result = match self.snapshot.decided(index, flag, self.user) {
                    Some(decided) => Ok(decided),
                    None => self.snapshot.finish(index, flag, value.decide(self.user)),
                };
                (self.each)(flag, result);
            }
        }

        let mut all = All {
            snapshot: self,
            user,
            each: &mut each,
        };
        (**self).__visit(&mut all);
    }

    /// Each flag's evaluation when it is the same for every context (a flag that does not
    /// decide per user, and is not secret), worked out once per snapshot: evaluating one is
    /// then a look-up. A flag that decides per user is always decided, as each of its decisions
    /// is an exposure.
    fn constants(&self) -> &[Option<Constant>] {
        self.constants.get_or_init(|| {
            struct Constants<'a, T> {
                snapshot: &'a Snapshot<T>,
                table: Vec<Option<Constant>>,
            }

            impl<T: FeatureFlags> Visitor for Constants<'_, T> {
                fn field(&mut self, index: usize, value: &dyn FieldValue) {
                    let flag = &T::FLAGS[index];
                    let constant = match flag.is_secret() || value.is_per_user() {
                        true => None,
                        false => self
                            .snapshot
                            .finish(index, flag, value.decide(None))
                            .ok()
                            .map(|evaluation| Constant {
                                value: evaluation.value,
                                reason: evaluation.reason,
                                variant: evaluation.variant,
                            }),
                    };
                    self.table.push(constant);
                }
            }

            let mut constants = Constants {
                snapshot: self,
                table: Vec::with_capacity(T::FLAGS.len()),
            };
            (**self).__visit(&mut constants);
            constants.table.into_boxed_slice()
        })
    }

    /// The public flags as `user` sees them, as [`FeatureFlags::public_flags_for`] gives them,
    /// with the decisions of the services that manage some of them: what a frontend is sent.
    pub fn public_flags_for(&self, user: &str) -> crate::PublicFlags {
        if self.deciders.is_none() {
            return (**self).public_flags_for(user);
        }
        let mut public = crate::PublicFlags::default();
        self.evaluate_all(Some(user), |flag, evaluation| {
            if let (Some(name), Ok(evaluation)) = (flag.public_name(), evaluation) {
                public.push(name, evaluation.value);
            }
        });
        public
    }

    /// The flag whose variable is `env`, with what decides it per user, when a flag service
    /// that manages it handed one over ([`Decide`]): for that service's own calls with a richer
    /// context than a targeting key (downcast it to its type).
    pub fn decider(&self, env: &str) -> Option<(&'static FlagMeta, &std::sync::Arc<dyn Decide>)> {
        let index = T::__schema().index_of(env)?;
        let decider = self.deciders.as_ref()?.get(index)?.as_ref()?;
        Some((&T::FLAGS[index], decider))
    }

    /// The decision of the service that manages the flag at `index`, if one decides it.
    #[inline]
    fn decided(
        &self,
        index: usize,
        flag: &'static FlagMeta,
        user: Option<&str>,
    ) -> Option<Evaluation> {
        let decider = self.deciders.as_ref()?.get(index)?.as_ref()?;
        let decided = decider.decide(index, flag, user)?;
        Some(Evaluation {
            flag,
            value: decided.value,
            reason: decided.reason,
            variant: decided.variant,
        })
    }

    /// The evaluation of a decision: why a value the same for everyone is what it is, from
    /// where it came from.
    fn finish(
        &self,
        index: usize,
        flag: &'static FlagMeta,
        decision: Option<Decision>,
    ) -> Result<Evaluation, Unevaluated> {
        let decision = decision.ok_or(Unevaluated::TargetingKeyMissing)?;
        let reason = match decision.reason {
            Some(reason) => reason,
            None if decision.value.is_null() => Reason::Default,
            None => match self.provenance().of(index) {
                Source::Default => Reason::Default,
                _ => Reason::Static,
            },
        };
        Ok(Evaluation {
            flag,
            value: decision.value,
            reason,
            variant: decision.variant,
        })
    }
}

/// Decides one field.
struct One<'a> {
    user: Option<&'a str>,
    /// `Some(None)` when the field needs a user it was not given.
    decision: Option<Option<Decision>>,
}

impl Visitor for One<'_> {
    fn field(&mut self, _: usize, value: &dyn FieldValue) {
        self.decision = Some(value.decide(self.user));
    }
}
