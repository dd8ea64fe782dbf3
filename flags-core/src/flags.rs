//! The [`FeatureFlags`] trait, implemented by `#[derive(FeatureFlags)]`.

use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use crate::error::FlagsError;
use crate::meta::FlagMeta;
use crate::public::PublicFlags;
use crate::source::{Loader, Source, SourceRecord, Vars};

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
        collected.load_logging_warnings()
    }

    /// Checks what loading checks beyond parsing, on a struct that may have changed since: every
    /// `requires` of a flag that is on (or holds its `when` value) is met.
    ///
    /// The loaders call it; call it again after changing a loaded struct.
    fn validate(&self) -> Result<(), FlagsError>;

    /// The `public` flags under their public names, for a frontend; nothing else. Flags whose
    /// value depends on the user (rollouts, variants) are left out: see `public_flags_for`.
    fn public_flags(&self) -> PublicFlags;

    /// The `public` flags as one user sees them: rollouts decided and variants chosen for `user`
    /// (each decision is an exposure), other flags as in `public_flags`. The frontend gets the
    /// decisions, never the rules to compute them.
    fn public_flags_for(&self, user: &str) -> PublicFlags;

    /// Logs every flag at start-up: one INFO event per flag (target `flags`) with the fields
    /// `flag`, `env`, `value`, `source` and, where set, `status`; a secret's value is `<redacted>`
    /// (or `<unset>`). A flag that is on while its `status` says it is not released yet
    /// (`frozen`, `experimental`, `unreleased`, `planned`) also gets a WARN.
    ///
    /// `source` is where the value came from in the last load of this struct in the process
    /// (`default`, a `.env` file, the process environment, a map), `unknown` before any load, and
    /// `changed since the last load` for a value that is not the one that load gave the flag (the
    /// struct was changed, or comes from an earlier load). A secret's loaded text is not kept to
    /// compare with: its source is the last load's.
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
    index: OnceLock<NameIndex>,
    /// The positions of the secret flags.
    secrets: OnceLock<Box<[usize]>>,
    /// Where each flag's value came from in the last successful load.
    sources: RwLock<Option<Arc<SourceRecord>>>,
}

impl Schema {
    pub const fn new(prefix: &'static str, deny_unknown: bool, flags: &'static [FlagMeta]) -> Self {
        Self {
            prefix,
            deny_unknown,
            flags,
            index: OnceLock::new(),
            secrets: OnceLock::new(),
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

    /// The positions of the secret flags, in order.
    pub(crate) fn secrets(&self) -> &[usize] {
        self.secrets.get_or_init(|| {
            let secret = |(index, flag): (usize, &FlagMeta)| flag.is_secret().then_some(index);
            self.flags.iter().enumerate().filter_map(secret).collect()
        })
    }

    /// The position of the flag whose variable is `name`.
    #[inline]
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.index
            .get_or_init(|| NameIndex::new(self.flags))
            .find(name)
    }

    /// The position of the flag whose variable is `name` but for the case of its letters
    /// (`feature_beta` for `FEATURE_BETA`), for a name that is no flag's exactly. Only names that
    /// name no flag come here, once per load each, so a scan does.
    #[cold]
    pub fn index_of_ignoring_case(&self, name: &str) -> Option<usize> {
        self.flags
            .iter()
            .position(|flag| flag.env().eq_ignore_ascii_case(name))
    }

    /// Remembers where each flag's value came from, for `log_state`.
    pub(crate) fn record_sources(&self, record: SourceRecord) {
        let record = Some(Arc::new(record));
        let mut sources = self.sources.write().unwrap_or_else(PoisonError::into_inner);
        let previous = std::mem::replace(&mut *sources, record);
        drop(sources);
        // The previous record is freed after the lock is released.
        drop(previous);
    }

    /// Where each flag's value came from in the last successful load, if there was one.
    pub(crate) fn recorded_sources(&self) -> Option<Arc<SourceRecord>> {
        self.sources
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// The flags' variables in an open-addressing table, built once per struct: a load looks up every
/// variable of every source here, so this is the hot path of loading (a general-purpose map costs
/// twice as much per look-up).
#[derive(Debug)]
struct NameIndex {
    /// A quarter full: each slot is empty (`None`) or a flag's variable and position.
    slots: Box<[Option<(&'static str, usize)>]>,
    /// The hash's top bits that pick a slot.
    shift: u32,
}

impl NameIndex {
    fn new(flags: &[FlagMeta]) -> Self {
        let bits = (flags.len().max(1) * 4)
            .next_power_of_two()
            .trailing_zeros()
            .max(1);
        let mut slots = vec![None; 1 << bits].into_boxed_slice();
        let shift = 64 - bits;
        for (position, flag) in flags.iter().enumerate() {
            let mut slot = (name_hash(flag.env()) >> shift) as usize;
            while slots[slot].is_some() {
                slot = (slot + 1) & (slots.len() - 1);
            }
            slots[slot] = Some((flag.env(), position));
        }
        Self { slots, shift }
    }

    #[inline]
    fn find(&self, name: &str) -> Option<usize> {
        let mask = self.slots.len() - 1;
        let mut slot = (name_hash(name) >> self.shift) as usize;
        loop {
            let (env, position) = (*self.slots.get(slot)?)?;
            if env == name {
                return Some(position);
            }
            slot = (slot + 1) & mask;
        }
    }
}

/// A fast hash of a variable name (FxHash's multiply-rotate over 8-byte words); the table uses its
/// high bits. Names are not chosen by an adversary: whoever sets the environment runs the process.
#[inline]
fn name_hash(name: &str) -> u64 {
    const K: u64 = 0xf135_7aea_2e62_a9c5;
    let mix = |hash: u64, word: u64| (hash.rotate_left(26) ^ word).wrapping_mul(K);
    let bytes = name.as_bytes();
    let mut hash = bytes.len() as u64;
    match bytes.last_chunk::<8>() {
        Some(last) => {
            for word in bytes.as_chunks::<8>().0 {
                hash = mix(hash, u64::from_le_bytes(*word));
            }
            // The last 8 bytes, overlapping the last whole word when the length is not a multiple
            // of 8: every byte counts, with no copy.
            hash = mix(hash, u64::from_le_bytes(*last));
        }
        None => {
            let word = bytes
                .iter()
                .fold(0, |word, byte| word << 8 | u64::from(*byte));
            hash = mix(hash, word);
        }
    }
    hash ^ (hash >> 29)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_found_and_no_other() {
        let names: Vec<&'static str> = (0..300)
            .map(|n| &*Box::leak(format!("FEATURE_{n}_ENABLED").into_boxed_str()))
            .chain([
                "",
                "A",
                "FEATURE_WHATSAPP_X_ENABLED",
                "FEATURE_WHATSAPP_Y_ENABLED",
            ])
            .collect();
        let flags: Vec<FlagMeta> = names.iter().map(|name| FlagMeta::for_tests(name)).collect();
        let index = NameIndex::new(&flags);
        for (position, name) in names.iter().enumerate() {
            assert_eq!(index.find(name), Some(position), "{name}");
        }
        for stranger in [
            "FEATURE_300_ENABLED",
            "B",
            "FEATURE_WHATSAPP_Z_ENABLED",
            "feature_1_enabled",
        ] {
            assert_eq!(index.find(stranger), None, "{stranger}");
        }
        assert_eq!(NameIndex::new(&[]).find("A"), None);
    }
}
