//! [`Data`]: one version of LaunchDarkly's flag data, as the SDK stored it, which never changes:
//! what the flags' values were taken from, and what decides per user while LaunchDarkly's newer
//! data is refused.

use std::collections::HashMap;
use std::sync::Arc;

use launchdarkly_server_sdk::{Context, Detail, Flag, FlagValue, Segment};
use launchdarkly_server_sdk_evaluation::Store;

/// One version of the flag data: every flag and segment, with a digest of their versions.
pub(crate) struct Data {
    flags: HashMap<String, Arc<Flag>>,
    segments: HashMap<String, Arc<Segment>>,
    revision: u64,
}

impl Data {
    pub(crate) fn new(
        flags: HashMap<String, Arc<Flag>>,
        segments: HashMap<String, Arc<Segment>>,
    ) -> Self {
        let mut versions: Vec<(u8, &str, u64)> = flags
            .iter()
            .map(|(key, flag)| (0, key.as_str(), flag.version))
            .chain(
                segments
                    .iter()
                    .map(|(key, segment)| (1, key.as_str(), segment.version)),
            )
            .collect();
        versions.sort_unstable();
        let revision = versions
            .iter()
            .fold(FNV_OFFSET, |hash, (kind, key, version)| {
                let hash = fnv1a(hash, &[*kind]);
                let hash = fnv1a(hash, key.as_bytes());
                fnv1a(hash, &version.to_le_bytes())
            });
        Self {
            flags,
            segments,
            revision,
        }
    }

    /// A digest of which flags and segments it holds, at which versions: the same on every
    /// instance that holds the same data.
    pub(crate) fn revision(&self) -> u64 {
        self.revision
    }

    /// The flag `key`, if it has it.
    pub(crate) fn flag_of(&self, key: &str) -> Option<&Flag> {
        self.flags.get(key).map(Arc::as_ref)
    }

    /// The flag `key` evaluated for `context` by the SDK's own engine, as the SDK evaluates it,
    /// without the analytics event the SDK's client would record; `None` when it has no such
    /// flag.
    pub(crate) fn evaluate(&self, key: &str, context: &Context) -> Option<Detail<FlagValue>> {
        let flag = self.flag_of(key)?;
        let detail = launchdarkly_server_sdk_evaluation::evaluate(self, flag, context, None);
        Some(detail.map(Clone::clone))
    }

    /// The variations of the flag `key`, as LaunchDarkly's JSON writes them, if it has the flag.
    pub(crate) fn variations_of(&self, key: &str) -> Option<Vec<serde_json::Value>> {
        let flag = serde_json::to_value(self.flag_of(key)?).ok()?;
        match flag.get("variations")? {
            serde_json::Value::Array(variations) => Some(variations.clone()),
            _ => None,
        }
    }

    /// How many flags it holds.
    pub(crate) fn len(&self) -> usize {
        self.flags.len()
    }
}

impl Store for Data {
    fn flag(&self, flag_key: &str) -> Option<Flag> {
        self.flags.get(flag_key).map(|flag| Flag::clone(flag))
    }

    fn segment(&self, segment_key: &str) -> Option<Segment> {
        self.segments
            .get(segment_key)
            .map(|segment| Segment::clone(segment))
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a of `bytes`, from `hash`: the same on every instance and build, as a revision must be.
fn fnv1a(hash: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(hash, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
