//! [`Schema`]: what loading needs to know of a struct of flags (its prefix, its variables in a
//! table for look-ups, which flags take part in requirements), built once per struct.

use std::sync::OnceLock;

use crate::meta::FlagMeta;

/// What loading needs to know about a struct of flags, built once per struct.
#[doc(hidden)]
#[derive(Debug)]
pub struct Schema {
    prefix: &'static str,
    deny_unknown: bool,
    flags: &'static [FlagMeta],
    index: OnceLock<NameIndex>,
    /// Each flag's part in the struct's requirements.
    roles: OnceLock<Box<[Role]>>,
}

impl Schema {
    pub const fn new(prefix: &'static str, deny_unknown: bool, flags: &'static [FlagMeta]) -> Self {
        Self {
            prefix,
            deny_unknown,
            flags,
            index: OnceLock::new(),
            roles: OnceLock::new(),
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
    #[inline]
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.index
            .get_or_init(|| NameIndex::new(self.flags))
            .find(name)
    }

    /// The variable of the flag `name` is likely a typo of (`FEATURE_BETA` for `FEATURE_BTEA`),
    /// for a name that is no flag's.
    #[cold]
    pub fn nearest(&self, name: &str) -> Option<&'static str> {
        let envs = self.flags.iter().map(FlagMeta::env);
        crate::suggest::nearest(name, envs, self.prefix)
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

    /// Each flag's part in the struct's requirements (`requires`), worked out once.
    pub(crate) fn roles(&self) -> &[Role] {
        self.roles.get_or_init(|| {
            let mut roles = vec![Role::default(); self.flags.len()];
            for (index, flag) in self.flags.iter().enumerate() {
                for requirement in flag.requires() {
                    roles[index].requires = true;
                    roles[index].has_when |= requirement.has_when();
                    for target in requirement.vars() {
                        if let Some(target) = self.index_of(target) {
                            roles[target].required = true;
                        }
                    }
                }
            }
            roles.into_boxed_slice()
        })
    }

    /// Whether any flag requires another.
    pub(crate) fn has_requirements(&self) -> bool {
        self.flags.iter().any(|flag| !flag.requires().is_empty())
    }
}

/// A flag's part in its struct's requirements: what a load must note of its value.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Role {
    /// It requires other flags: whether it is on, and its text, are noted.
    pub(crate) requires: bool,
    /// One of its requirements applies `when` it holds a value: its text is compared.
    pub(crate) has_when: bool,
    /// Another flag requires it: whether it is unset is noted.
    pub(crate) required: bool,
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
