//! One change being made ([`Change`]): what it asks for, the problems it finds, and its audit
//! event, applied or rejected.

use std::sync::Arc;

use super::audit::{self, AuditChange, AuditEvent, Outcome};
use crate::error::{FlagsError, Problem};
use crate::flags::FeatureFlags;
use crate::meta::FlagMeta;
use crate::provenance::Source;
use crate::snapshot::Snapshot;
use crate::visit::{FieldValue, Visitor};

/// One change being made: its version, its actor, the flags it touches, and its problems.
pub(super) struct Change {
    pub(super) version: u64,
    pub(super) actor: Arc<str>,
    /// The positions of the flags it touches, in the order asked.
    pub(super) touched: Vec<usize>,
    /// What was asked, for the audit of a rejected change: the variable as written, the flag it
    /// names, and the text asked for (`None` for a reset).
    pub(super) requested: Vec<(String, Option<&'static FlagMeta>, Option<String>)>,
    pub(super) problems: Vec<Problem>,
}

impl Change {
    pub(super) fn new(version: u64, actor: &Arc<str>) -> Self {
        Self {
            version,
            actor: Arc::clone(actor),
            touched: Vec::new(),
            requested: Vec::new(),
            problems: Vec::new(),
        }
    }

    /// Records a conflict when the change was made on `expected` and the flags are at `found`.
    pub(super) fn expect(&mut self, expected: Option<u64>, found: u64) {
        if let Some(expected) = expected.filter(|expected| *expected != found) {
            self.problems.push(Problem::Conflict { expected, found });
        }
    }

    pub(super) fn source(&self) -> Source {
        Source::Override {
            actor: Arc::clone(&self.actor),
            version: self.version,
        }
    }

    /// The flag whose variable is `name`, or its problem (recorded): a name that is no flag's,
    /// as a load reports one.
    pub(super) fn known<S: FeatureFlags>(&mut self, name: &str) -> Option<&'static FlagMeta> {
        let schema = S::__schema();
        if let Some(index) = schema.index_of(name) {
            self.touched.push(index);
            return Some(&schema.flags()[index]);
        }
        let problem = match schema.index_of_ignoring_case(name) {
            Some(index) => Problem::OtherCase {
                env: name.to_owned(),
                flag_env: schema.flags()[index].env(),
                source: self.source(),
            },
            None => Problem::Unknown {
                env: name.to_owned(),
                suggestion: crate::suggest::nearest(name, schema.flags().iter().map(FlagMeta::env)),
                source: self.source(),
            },
        };
        self.problems.push(problem);
        None
    }

    /// The flag whose variable is `name`, if it may change live; else its problem (recorded).
    pub(super) fn changeable<S: FeatureFlags>(&mut self, name: &str) -> Option<&'static FlagMeta> {
        self.known::<S>(name).filter(|flag| self.changes_live(flag))
    }

    /// Whether `flag` may change live; else its problem is recorded.
    pub(super) fn changes_live(&mut self, flag: &'static FlagMeta) -> bool {
        let problem = if flag.needs_restart() {
            Problem::NeedsRestart {
                flag: flag.field(),
                env: flag.env(),
            }
        } else if !flag.changes_live() {
            Problem::SecretNotLive {
                flag: flag.field(),
                env: flag.env(),
            }
        } else {
            return true;
        };
        self.problems.push(problem);
        false
    }

    pub(super) fn requested(
        &mut self,
        name: &str,
        flag: Option<&'static FlagMeta>,
        value: Option<&String>,
    ) {
        self.requested.push((name.to_owned(), flag, value.cloned()));
    }

    /// The audit event of this change, rejected: what was asked, against the flags as they are.
    pub(super) fn rejected<S: FeatureFlags>(
        &self,
        current: &Snapshot<S>,
        version: u64,
    ) -> AuditEvent {
        let indices: Vec<usize> = self.touched.clone();
        let old = shown::<S>(current, &indices);
        let changes = self
            .requested
            .iter()
            .map(|(name, flag, value)| {
                let index = flag.and_then(|flag| S::__schema().index_of(flag.env()));
                let old = index.and_then(|index| {
                    old.iter()
                        .find(|(shown, _)| *shown == index)
                        .and_then(|(_, text)| text.clone())
                });
                // Only a known flag that is not secret shows what was asked: a name that is no
                // flag's may be a secret's, misspelt.
                let shown = flag.is_some_and(|flag| !flag.is_secret());
                let new = value.as_ref().map(|value| match shown {
                    true => value.clone(),
                    false => String::from("<redacted>"),
                });
                AuditChange {
                    flag: name.clone(),
                    old,
                    new,
                }
            })
            .collect();
        AuditEvent {
            version,
            actor: self.actor.to_string(),
            at: audit::now(),
            outcome: Outcome::Rejected,
            reason: Some(FlagsError::new(self.problems.clone()).to_string()),
            changes,
        }
    }

    /// The audit event of this change, applied: each flag it touched, before and after.
    pub(super) fn applied<S: FeatureFlags>(
        &self,
        before: &Snapshot<S>,
        after: &Snapshot<S>,
    ) -> AuditEvent {
        let mut indices = self.touched.clone();
        indices.sort_unstable();
        indices.dedup();
        let old = shown::<S>(before, &indices);
        let new = shown::<S>(after, &indices);
        let changes = old
            .into_iter()
            .zip(new)
            .map(|((index, old), (_, new))| AuditChange {
                flag: S::FLAGS[index].env().to_owned(),
                old,
                new,
            })
            .collect();
        AuditEvent {
            version: self.version,
            actor: self.actor.to_string(),
            at: audit::now(),
            outcome: Outcome::Applied,
            reason: None,
            changes,
        }
    }
}

/// The values of the flags at `indices` as logs show them: `<redacted>` for a secret, `None` for
/// a value that counts as unset.
fn shown<S: FeatureFlags>(
    snapshot: &Snapshot<S>,
    indices: &[usize],
) -> Vec<(usize, Option<String>)> {
    struct Shown<'a> {
        flags: &'static [FlagMeta],
        indices: &'a [usize],
        out: Vec<(usize, Option<String>)>,
    }

    impl Visitor for Shown<'_> {
        fn field(&mut self, index: usize, value: &dyn FieldValue) {
            if !self.indices.contains(&index) {
                return;
            }
            let text = if value.is_unset() {
                None
            } else if self.flags[index].is_secret() {
                Some(String::from("<redacted>"))
            } else {
                Some(value.summary())
            };
            self.out.push((index, text));
        }
    }

    let mut visitor = Shown {
        flags: S::FLAGS,
        indices,
        out: Vec::with_capacity(indices.len()),
    };
    snapshot.__visit(&mut visitor);
    visitor.out
}
