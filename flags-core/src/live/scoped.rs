//! Flags set for a scope ([`Live::scoped`]): for a test that needs some flags one way.

use super::change::{Change, Kind};
use super::error::ChangeError;
use super::state::Override;
use super::{Live, lock};
use crate::flags::FeatureFlags;

/// The actor of the changes a scope makes.
const ACTOR: &str = "test scope";

impl<S: FeatureFlags> Live<S> {
    /// Sets flags for as long as the returned guard lives, then puts back the overrides they had:
    /// for a test that needs some flags one way. Validated and audited as [`Live::apply`] is
    /// (the actor is `test scope`); both changes wait as [`Live::commit_blocking`] does.
    pub fn scoped<I, K, V>(&self, pairs: I) -> Result<Scoped<'_, S>, ChangeError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let pairs: Vec<(String, String)> = pairs
            .into_iter()
            .map(|(name, value)| (name.as_ref().to_owned(), value.as_ref().to_owned()))
            .collect();
        let saved: Vec<(&'static str, Option<Override>)> = {
            let state = lock(&self.state);
            let schema = S::__schema();
            let envs = pairs.iter().filter_map(|(name, _)| schema.index_of(name));
            envs.map(|index| {
                let env = schema.flags()[index].env();
                (env, state.overrides.get(env).cloned())
            })
            .collect()
        };
        self.apply(pairs, ACTOR)?;
        Ok(Scoped { live: self, saved })
    }
}

/// Flags set for a scope ([`Live::scoped`]): dropping it puts back the overrides they had.
pub struct Scoped<'a, S: FeatureFlags> {
    live: &'a Live<S>,
    saved: Vec<(&'static str, Option<Override>)>,
}

impl<S: FeatureFlags> Drop for Scoped<'_, S> {
    fn drop(&mut self) {
        let saved = std::mem::take(&mut self.saved);
        let change = Change::new(ACTOR, Kind::Restore(saved));
        if let Err(error) = self.live.commit_blocking(change) {
            tracing::error!(target: "flags::audit", "cannot put back flags set for a scope: {error}");
        }
    }
}
