//! A change of live flags as a value ([`Change`]), and what making one finds ([`Attempt`]): the
//! flags it touches, its problems, and its audit event, applied or rejected.

use std::fmt;
use std::sync::Arc;

use super::audit::{self, AuditChange, AuditEvent, AuditKind, Outcome};
use super::state::Override;
use crate::error::{FlagsError, Problem};
use crate::flags::FeatureFlags;
use crate::meta::FlagMeta;
use crate::provenance::Source;
use crate::snapshot::Snapshot;
use crate::visit::{FieldValue, Visitor};

/// One change of live flags by one actor, which [`Live::commit`](super::Live::commit) makes: set
/// and reset flags ([`Change::edit`], [`Change::set`], [`Change::reset`]) or go back to the
/// previous version ([`Change::rollback`]), on whatever version the flags are at, or only on the
/// version the actor saw ([`Change::if_version`], what an HTTP `If-Match` asks).
///
/// ```
/// use flags_core::live::{Change, ChangeError, Live};
/// use flags_core::{FeatureFlags, Loader};
///
/// #[derive(FeatureFlags)]
/// struct Settings {
///     #[flag(default = false)]
///     beta: bool,
///     #[flag(default = 10)]
///     limit: u32,
/// }
///
/// let flags = Live::<Settings>::load(Loader::new())?;
/// let seen = flags.version();
/// let change = Change::edit("alice", [("BETA", Some("true")), ("LIMIT", None)]).if_version(seen);
/// assert_eq!(flags.commit_blocking(change.clone())?, 1);
///
/// // Made on version 0 again: another change came first.
/// let stale = flags.commit_blocking(change).unwrap_err();
/// assert!(matches!(stale, ChangeError::Stale { expected: 0, found: 1 }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Change {
    actor: Arc<str>,
    expected: Option<u64>,
    key: Option<Arc<str>>,
    comment: Option<Arc<str>>,
    pub(super) kind: Kind,
}

/// What a change does.
#[derive(Clone)]
pub(super) enum Kind {
    /// Each variable as written, set to its text or reset (`None`).
    Edit(Vec<(String, Option<String>)>),
    /// The previous version's overrides.
    Rollback,
    /// Puts back overrides as they were, with who made them ([`Live::scoped`](super::Live::scoped)).
    Restore(Vec<(&'static str, Option<Override>)>),
}

impl Change {
    /// Sets each variable with `Some(text)` to its text, and resets each with `None` to what the
    /// loaded sources say (`.env` files, the environment, its default): what an HTTP `PATCH` with a
    /// JSON object does, `null` resetting (RFC 7396). An empty text unsets the flag over what the
    /// sources say (its default applies).
    pub fn edit<I, K, V>(actor: &str, edits: I) -> Self
    where
        I: IntoIterator<Item = (K, Option<V>)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let edits = edits.into_iter().map(|(name, value)| {
            let value = value.map(|value| value.as_ref().to_owned());
            (name.as_ref().to_owned(), value)
        });
        Self::new(actor, Kind::Edit(edits.collect()))
    }

    /// Sets each variable to its text ([`Live::apply`](super::Live::apply)).
    pub fn set<I, K, V>(actor: &str, pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        Self::edit(
            actor,
            pairs.into_iter().map(|(name, value)| (name, Some(value))),
        )
    }

    /// Resets each variable to what the loaded sources say ([`Live::reset`](super::Live::reset)).
    pub fn reset<I, K>(actor: &str, variables: I) -> Self
    where
        I: IntoIterator<Item = K>,
        K: AsRef<str>,
    {
        let edits = variables.into_iter().map(|name| (name, None::<&str>));
        Self::edit(actor, edits)
    }

    /// Goes back to the previous version's overrides, as a new version (so rolling back twice
    /// returns to where it began); [`ChangeError::NothingToRollBack`](super::ChangeError) when
    /// this process keeps no earlier version.
    pub fn rollback(actor: &str) -> Self {
        Self::new(actor, Kind::Rollback)
    }

    /// Makes the change only if the flags are still at `version` when it is made, else
    /// [`ChangeError::Stale`](super::ChangeError::Stale). Without it, a change goes on whichever
    /// version the flags are at, catching up with other instances that share the store.
    pub fn if_version(mut self, version: u64) -> Self {
        self.expected = Some(version);
        self
    }

    /// Gives the change a key its author chose, unique to it (an HTTP `Idempotency-Key`): made
    /// again with the same key (a retry after an answer that never came, or said the outcome
    /// is unknown), it is answered with the version the first made, and made once. Made again
    /// with the same key but asking for something else, it is refused
    /// ([`ChangeError::KeyInUse`](super::ChangeError::KeyInUse)). Kept by this process for
    /// its last thousand changes, and by a store that keeps an audit (`flags-postgres`) for good.
    pub fn idempotency_key(mut self, key: impl Into<Arc<str>>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Gives the change its author's reason (`"WhatsApp is down for everyone (INC-231)"`), which
    /// its audit event keeps, applied or rejected, as its `comment`.
    pub fn comment(mut self, comment: impl Into<Arc<str>>) -> Self {
        self.comment = Some(comment.into());
        self
    }

    /// The key the change was given, if any ([`Change::idempotency_key`]).
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// Who makes the change.
    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// The version the change is made on, if only that one ([`Change::if_version`]).
    pub fn expected_version(&self) -> Option<u64> {
        self.expected
    }

    pub(super) fn new(actor: &str, kind: Kind) -> Self {
        Self {
            actor: Arc::from(actor),
            expected: None,
            key: None,
            comment: None,
            kind,
        }
    }

    /// What kind of change its audit event records.
    pub(super) fn audit_kind(&self) -> AuditKind {
        match &self.kind {
            Kind::Edit(edits) if edits.iter().all(|(_, value)| value.is_none()) => AuditKind::Reset,
            Kind::Edit(_) | Kind::Restore(_) => AuditKind::Set,
            Kind::Rollback => AuditKind::Rollback,
        }
    }

    pub(super) fn key_arc(&self) -> Option<&Arc<str>> {
        self.key.as_ref()
    }
}

/// The variables and the kind, never the values: they may be secrets.
impl fmt::Debug for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut change = f.debug_struct("Change");
        change.field("actor", &self.actor);
        change.field("expected", &self.expected);
        change.field("key", &self.key);
        change.field("comment", &self.comment);
        match &self.kind {
            Kind::Edit(edits) => {
                let variables: Vec<&str> = edits.iter().map(|(name, _)| name.as_str()).collect();
                change.field("edits", &variables)
            }
            Kind::Rollback => change.field("rollback", &true),
            Kind::Restore(saved) => {
                let variables: Vec<&str> = saved.iter().map(|(env, _)| *env).collect();
                change.field("restores", &variables)
            }
        };
        change.finish()
    }
}

/// One change being made, or one version taken from elsewhere: its version, its actor, the flags
/// it touches, and its problems.
pub(super) struct Attempt {
    pub(super) version: u64,
    pub(super) actor: Arc<str>,
    /// The positions of the flags it touches, in the order asked.
    pub(super) touched: Vec<usize>,
    /// What was asked, for the audit of a rejected change: the variable as written, the flag it
    /// names, and the text asked for (`None` for a reset).
    pub(super) requested: Vec<(String, Option<&'static FlagMeta>, Option<String>)>,
    pub(super) problems: Vec<Problem>,
    /// Where its values come from, as its problems name it.
    source: Source,
    /// The idempotency key its change was given, which its audit event carries.
    pub(super) key: Option<Arc<str>>,
    /// What kind of change its audit event records.
    pub(super) kind: AuditKind,
    /// Its author's reason, which its audit event carries.
    pub(super) comment: Option<Arc<str>>,
}

impl Attempt {
    /// `change`, to be made as version `version`. Its problems name the change, not the version:
    /// a refused change makes none.
    pub(super) fn of(version: u64, change: &Change) -> Self {
        let source = Source::Change {
            actor: Arc::clone(&change.actor),
        };
        let mut attempt = Self::from(version, &change.actor, source, change.audit_kind());
        attempt.key = change.key.clone();
        attempt.comment = change.comment.clone();
        attempt
    }

    /// A version of a store, made by `actor` as version `version`, taken from the store.
    pub(super) fn stored(version: u64, actor: &Arc<str>) -> Self {
        let source = Source::Override {
            actor: Arc::clone(actor),
            version,
        };
        Self::from(version, actor, source, AuditKind::Sync)
    }

    /// Values the flag service `service` pushes, on version `version`.
    pub(super) fn by_service(version: u64, service: &Arc<str>) -> Self {
        let source = Source::Service {
            service: Arc::clone(service),
        };
        Self::from(version, service, source, AuditKind::Sync)
    }

    fn from(version: u64, actor: &Arc<str>, source: Source, kind: AuditKind) -> Self {
        Self {
            version,
            actor: Arc::clone(actor),
            touched: Vec::new(),
            requested: Vec::new(),
            problems: Vec::new(),
            source,
            key: None,
            kind,
            comment: None,
        }
    }

    pub(super) fn source(&self) -> Source {
        self.source.clone()
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
                suggestion: schema.nearest(name),
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

    /// Whether `value` can be a value of `flag` at all: a variable cannot hold a NUL character (an
    /// environment cannot, nor a store's text), so such a value is the flag's problem (recorded)
    /// before any store is asked to keep it.
    pub(super) fn holdable(&mut self, flag: &'static FlagMeta, value: &str) -> bool {
        if !value.contains('\0') {
            return true;
        }
        self.problems.push(Problem::Invalid {
            flag: flag.field(),
            env: flag.env(),
            value: crate::error::ShownValue::new(value, flag.is_secret()),
            expected: "text without a NUL character, which no variable can hold".into(),
            source: self.source(),
        });
        false
    }

    /// The change's problems as the error of a rejected change. A problem with a value of the
    /// change names the change: the version the change would have made never exists.
    pub(super) fn error(&self) -> FlagsError {
        let would_make = Source::Override {
            actor: Arc::clone(&self.actor),
            version: self.version,
        };
        let mut problems = self.problems.clone();
        if let Source::Change { .. } = self.source {
            for source in problems.iter_mut().filter_map(Problem::source_mut) {
                if *source == would_make {
                    *source = self.source();
                }
            }
        }
        FlagsError::new(problems)
    }

    /// The audit event of this change, rejected for `reason`: what was asked, against the flags
    /// as they are. Bounded, whatever was asked: the first [`REFUSED_KEPT`] variables and
    /// problems, each text cut at [`REFUSED_TEXT`] characters, and how many more there were; a
    /// refusal is kept for its reason, not as a copy of the request.
    pub(super) fn rejected<S: FeatureFlags>(
        &self,
        current: &Snapshot<S>,
        version: u64,
        reason: String,
    ) -> AuditEvent {
        let old = shown::<S>(current, &self.touched);
        let mut reason: Vec<String> = reason.lines().map(cut).collect();
        if reason.len() > REFUSED_KEPT {
            let more = reason.len() - REFUSED_KEPT;
            reason.truncate(REFUSED_KEPT);
            reason.push(format!("… and {more} more problems"));
        }
        if self.requested.len() > REFUSED_KEPT {
            reason.push(format!(
                "(the change named {} variables: the audit keeps the first {REFUSED_KEPT})",
                self.requested.len()
            ));
        }
        let changes = self
            .requested
            .iter()
            .take(REFUSED_KEPT)
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
                    true => cut(value),
                    false => String::from("<redacted>"),
                });
                AuditChange {
                    flag: cut(name),
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
            kind: self.kind,
            reason: Some(reason.join("\n")),
            comment: self.comment.as_deref().map(str::to_owned),
            changes,
            idempotency_key: self.key.as_deref().map(str::to_owned),
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
            kind: self.kind,
            reason: None,
            comment: self.comment.as_deref().map(str::to_owned),
            changes,
            idempotency_key: self.key.as_deref().map(str::to_owned),
        }
    }
}

/// How many of a refused change's variables, and of its problems, its audit event keeps.
const REFUSED_KEPT: usize = 50;

/// How many characters of each text (a variable, a value, a problem) a refused change's audit
/// event keeps.
const REFUSED_TEXT: usize = 256;

/// `text`, cut at [`REFUSED_TEXT`] characters (with `…` where it was cut).
fn cut(text: &str) -> String {
    match text.char_indices().nth(REFUSED_TEXT) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
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
