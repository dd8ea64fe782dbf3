//! [`Rollout`]: a flag that is on for a stable share of users, with allow and deny lists.

use std::fmt;
use std::fmt::Write as _;

use serde_json::Value;

use super::exposure::{self, Counters, ROLLOUT_OUTCOMES, Reason};
use super::{Murmur3, decimal, percent_bucket, percent_of};
use crate::decision::{self, Decision};
use crate::meta::FlagMeta;
use crate::value::{Bound, FlagValue, Kind, PerUser, ValueError};

/// A flag that is on for a stable percentage of users, bucketed as Unleash's gradual rollout.
///
/// [`Rollout::is_enabled_for`] decides for one user key:
/// 1. a user on the deny list is off;
/// 2. otherwise a user on the allow list is on;
/// 3. otherwise the user is on when the rollout's percentage is above 0 and the user's
///    [`bucket`](super::bucket) in the rollout group is at most the percentage.
///
/// A user's bucket does not depend on the percentage, so raising the percentage only ever turns
/// more users on.
///
/// The rollout group is the name users are hashed with. In a struct of flags it is the flag's:
/// its `rollout_group`, else its variable. A value loaded from the variable and a default built in
/// code with another rollout group both take it, so a user's answer never depends on where the
/// value came from. ([`FlagValue::parse_env`] cannot know the flag: a rollout parsed from text has
/// an empty rollout group until its flag names it.)
///
/// ```
/// use flags_core::Rollout;
///
/// let rollout = Rollout::new("new-checkout", 25)
///     .allow(["alice", "bob"])
///     .deny(["mallory"]);
/// assert!(rollout.is_enabled_for("alice"));
/// assert!(!rollout.is_enabled_for("mallory"));
/// // Anyone else: on for about a quarter of users, and always the same answer for one user.
/// let answer = rollout.is_enabled_for("user-42");
/// assert_eq!(rollout.is_enabled_for("user-42"), answer);
/// ```
///
/// # In an environment variable
///
/// The text is a state, then optional clauses, separated by `;`; spaces around every part are
/// ignored:
///
/// - the state: `on` or `off`, any other boolean spelling of [`FlagValue`] for `bool` (`true`,
///   `false`, `1`, `0`, `yes`, `no`, in any case), or a whole percentage from `0%` to `100%`
///   (the `%` is required, so `1` stays a boolean);
/// - `allow=alice,bob`: users who are always on, separated by `,`;
/// - `deny=mallory`: users who are always off, even when on the allow list.
///
/// Each clause may appear once; `allow` and `deny` may be written in any case. [`FlagValue::to_env`]
/// writes `on`, `off` or `25%`, then the lists, sorted and without duplicates; a user on both
/// lists is written on the deny list only, which means the same:
///
/// ```
/// use flags_core::{FlagValue, Rollout};
///
/// let rollout = Rollout::parse_env(" 25 %; deny = mallory; ALLOW = bob, alice ").unwrap();
/// assert_eq!(rollout.percentage(), 25);
/// assert_eq!(rollout.allow_list_len(), 2);
/// assert_eq!(rollout.to_env(), "25%; allow=alice,bob; deny=mallory");
///
/// assert_eq!(Rollout::parse_env("yes").unwrap().to_env(), "on");
/// assert_eq!(Rollout::parse_env("0%").unwrap().to_env(), "off");
/// assert_eq!(Rollout::parse_env("on; allow=a,b; deny=b").unwrap().to_env(), "on; allow=a; deny=b");
/// assert_eq!(
///     Rollout::parse_env("25").unwrap_err().to_string(),
///     "expected on, off (or true/false, 1/0, yes/no) or a percentage from 0% to 100% such as 25%, \
///      optionally followed by clauses such as `; allow=alice,bob` and `; deny=mallory`"
/// );
/// ```
#[derive(Clone)]
pub struct Rollout {
    rollout_group: String,
    /// The hash state after `"{rollout_group}:"`, so that a decision hashes only the user's key.
    rollout_group_hash: Murmur3,
    percentage: u8,
    /// Every listed user once, with the hash of `"{rollout_group}:{user}"`: a user on both lists
    /// is on the deny list, which decides first. Sorted by hash and key, so that equal rollouts
    /// hold equal lists. A decision hashes the user's key once, to look it up through `slots` and to
    /// find its bucket.
    listed: Vec<Listed>,
    /// An open-addressing table of `listed`, indexed by hash: each slot is empty (0) or holds a
    /// user's hash (high half) and position in `listed` plus 1 (low half). At most a quarter full,
    /// with the hash in the slot, so that a look-up reads a slot or two and at most one key,
    /// however long the lists.
    slots: Vec<u64>,
    /// The exposure counters of its outcomes.
    counters: Counters,
    /// How many users were put on both lists (and kept on the deny list): a load warns of them.
    on_both_lists: usize,
}

/// Two rollouts are equal when they decide alike: the same rollout group, percentage and lists.
impl PartialEq for Rollout {
    fn eq(&self, other: &Self) -> bool {
        (&self.rollout_group, self.percentage, &self.listed)
            == (&other.rollout_group, other.percentage, &other.listed)
    }
}

impl Eq for Rollout {}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Listed {
    /// The user's hash in the rollout group.
    hash: u32,
    user: String,
    list: List,
}

/// Deny sorts first, so that it is the entry a user on both lists keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum List {
    Deny,
    Allow,
}

impl Rollout {
    /// A rollout to `percentage` percent of users, who are hashed with `rollout_group` (in a
    /// struct of flags, the flag's replaces it), with empty lists.
    ///
    /// A percentage above 100 is invalid: as a flag's default it fails the load, which says so
    /// (it never panics); elsewhere it turns every user on. [`Rollout::try_new`] returns the
    /// error instead.
    pub fn new(rollout_group: impl Into<String>, percentage: u8) -> Self {
        let rollout_group = rollout_group.into();
        Self {
            rollout_group_hash: Murmur3::keyed(0, &rollout_group),
            counters: Counters::new(&rollout_group, ROLLOUT_OUTCOMES),
            rollout_group,
            percentage,
            listed: Vec::new(),
            slots: Vec::new(),
            on_both_lists: 0,
        }
    }

    /// A rollout to `percentage` percent of users, hashed with `rollout_group`, or an error when
    /// the percentage is above 100.
    ///
    /// ```
    /// use flags_core::Rollout;
    ///
    /// assert!(Rollout::try_new("new-ui", 25).is_ok());
    /// assert_eq!(
    ///     Rollout::try_new("new-ui", 150).unwrap_err().to_string(),
    ///     "expected a percentage from 0 to 100, not 150"
    /// );
    /// ```
    pub fn try_new(rollout_group: impl Into<String>, percentage: u8) -> Result<Self, ValueError> {
        let rollout = Self::new(rollout_group, percentage);
        rollout.check().map(|_| rollout)
    }

    /// Whether the rollout is valid: its percentage is at most 100.
    fn check(&self) -> Result<(), ValueError> {
        if self.percentage <= 100 {
            Ok(())
        } else {
            Err(ValueError::known(format!(
                "a percentage from 0 to 100, not {}",
                self.percentage
            )))
        }
    }

    /// Adds `users` to `list`; a user on both lists stays on the deny list only.
    fn list<I>(mut self, users: I, list: List) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let rollout_group = self.rollout_group_hash;
        self.listed.extend(users.into_iter().map(|user| {
            let user = user.into();
            Listed {
                hash: rollout_group.hash_with(user.as_bytes()),
                user,
                list,
            }
        }));
        self.sort_listed();
        self
    }

    /// Sorts the listed users for look-up and keeps one entry per user, the deny list's if any.
    fn sort_listed(&mut self) {
        self.listed
            .sort_unstable_by(|a, b| (a.hash, &a.user, a.list).cmp(&(b.hash, &b.user, b.list)));
        let same_user = |a: &Listed, b: &Listed| a.hash == b.hash && a.user == b.user;
        self.on_both_lists += self
            .listed
            .windows(2)
            .filter(|pair| same_user(&pair[0], &pair[1]) && pair[0].list != pair[1].list)
            .count();
        self.listed.dedup_by(|later, kept| same_user(later, kept));
        if self.listed.is_empty() {
            self.slots = Vec::new();
            return;
        }
        self.slots = vec![0; (self.listed.len() * 4).next_power_of_two()];
        let mask = self.slots.len() - 1;
        for (position, listed) in self.listed.iter().enumerate() {
            let mut slot = listed.hash as usize & mask;
            while self.slots[slot] != 0 {
                slot = (slot + 1) & mask;
            }
            // A list longer than u32::MAX cannot be held in memory beside its keys.
            let position = u32::try_from(position + 1).unwrap_or(u32::MAX);
            self.slots[slot] = u64::from(listed.hash) << 32 | u64::from(position);
        }
    }

    /// The list `user`, whose hash in the rollout group is `hash`, is on.
    fn list_of(&self, hash: u32, user: &str) -> Option<List> {
        let mask = self.slots.len().checked_sub(1)?;
        let mut slot = hash as usize & mask;
        loop {
            let entry = self.slots[slot];
            let position = (entry as u32).checked_sub(1)?;
            if (entry >> 32) as u32 == hash {
                let listed = &self.listed[position as usize];
                if listed.user == user {
                    return Some(listed.list);
                }
            }
            slot = (slot + 1) & mask;
        }
    }

    /// Adds users who are on whatever the percentage, unless they are on the deny list (added
    /// before or after).
    ///
    /// Keys are compared exactly. A key containing `,` or `;`, or with surrounding spaces, works
    /// here but cannot be written in a variable, so [`FlagValue::to_env`] does not round-trip it.
    pub fn allow<I>(self, users: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.list(users, List::Allow)
    }

    /// Adds users who are off whatever the percentage and the allow list say.
    ///
    /// Keys are compared exactly, as for [`Rollout::allow`].
    pub fn deny<I>(self, users: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.list(users, List::Deny)
    }

    /// Whether the flag is on for `user`: the deny list first, then the allow list, then the
    /// percentage. The same rollout always gives one user the same answer.
    ///
    /// The decision is an [exposure](super#exposure): a DEBUG event, and a counter with the
    /// `metrics` feature.
    pub fn is_enabled_for(&self, user: &str) -> bool {
        self.decide_with_reason(user).0
    }

    /// [`Rollout::is_enabled_for`], with what decided it.
    fn decide_with_reason(&self, user: &str) -> (bool, Reason) {
        let (enabled, reason) = if self.listed.is_empty() {
            let enabled = match self.percentage {
                0 => false,
                // Every bucket is at most 100: no need to hash.
                100 => true,
                percentage => {
                    percent_bucket(self.rollout_group_hash, user) <= u32::from(percentage)
                }
            };
            (enabled, Reason::Percentage)
        } else {
            let hash = self.rollout_group_hash.hash_with(user.as_bytes());
            match self.list_of(hash, user) {
                Some(List::Deny) => (false, Reason::DenyList),
                Some(List::Allow) => (true, Reason::AllowList),
                None => (
                    percent_of(hash) <= u32::from(self.percentage),
                    Reason::Percentage,
                ),
            }
        };
        exposure::rollout(&self.rollout_group, &self.counters, enabled, reason);
        (enabled, reason)
    }

    /// The rollout group, the name hashed with each user key: in a struct of flags, the flag's
    /// `rollout_group`, else its variable; empty for a rollout parsed from text until its flag
    /// names it.
    ///
    /// ```
    /// use flags_core::Rollout;
    ///
    /// assert_eq!(Rollout::new("new-checkout", 25).rollout_group(), "new-checkout");
    /// ```
    pub fn rollout_group(&self) -> &str {
        &self.rollout_group
    }

    /// The share of users (from 0 to 100) that are on, apart from the lists.
    pub fn percentage(&self) -> u8 {
        self.percentage
    }

    /// How many users are on the allow list and not on the deny list.
    pub fn allow_list_len(&self) -> usize {
        self.users_on(List::Allow).count()
    }

    /// How many users are on the deny list.
    pub fn deny_list_len(&self) -> usize {
        self.users_on(List::Deny).count()
    }

    /// The users on `list`, in no useful order.
    fn users_on(&self, list: List) -> impl Iterator<Item = &str> {
        self.listed
            .iter()
            .filter(move |listed| listed.list == list)
            .map(|listed| listed.user.as_str())
    }

    /// The users on `list`, sorted: what `to_env` and `Debug` show.
    fn sorted_users_on(&self, list: List) -> Vec<&str> {
        let mut users: Vec<&str> = self.users_on(list).collect();
        users.sort_unstable();
        users
    }

    /// Hashes users with `rollout_group`: the flag's, once it is known.
    pub(crate) fn set_rollout_group(&mut self, rollout_group: &str) {
        if self.rollout_group == rollout_group {
            return;
        }
        rollout_group.clone_into(&mut self.rollout_group);
        self.rollout_group_hash = Murmur3::keyed(0, rollout_group);
        self.counters = Counters::new(rollout_group, ROLLOUT_OUTCOMES);
        for listed in &mut self.listed {
            listed.hash = self.rollout_group_hash.hash_with(listed.user.as_bytes());
        }
        self.sort_listed();
    }
}

/// The rollout group's hash state is left out: it follows from the rollout group.
impl fmt::Debug for Rollout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rollout")
            .field("rollout_group", &self.rollout_group)
            .field("percentage", &self.percentage)
            .field("allow", &self.sorted_users_on(List::Allow))
            .field("deny", &self.sorted_users_on(List::Deny))
            .finish()
    }
}

const ROLLOUT_EXPECTED: &str = "on, off (or true/false, 1/0, yes/no) or a percentage from 0% to 100% such as 25%, \
                                optionally followed by clauses such as `; allow=alice,bob` and `; deny=mallory`";

const CLAUSE_EXPECTED: &str = "clauses `allow=user,…` or `deny=user,…` after the state, separated by `;`, \
                               such as `25%; allow=alice,bob; deny=mallory`";

impl FlagValue for Rollout {
    /// See [`Rollout`]: `25%; allow=alice,bob; deny=mallory`.
    fn parse_env(text: &str) -> Result<Self, ValueError> {
        let mut clauses = text.split(';');
        let state = clauses.next().unwrap_or_default();
        let mut rollout = Rollout::new(String::new(), parse_state(state.trim())?);
        let (mut allow, mut deny): (Option<Vec<&str>>, Option<Vec<&str>>) = (None, None);
        for clause in clauses.map(str::trim).filter(|clause| !clause.is_empty()) {
            let Some((key, users)) = clause.split_once('=') else {
                return Err(ValueError::known(CLAUSE_EXPECTED));
            };
            let list = match key.trim() {
                key if key.eq_ignore_ascii_case("allow") => &mut allow,
                key if key.eq_ignore_ascii_case("deny") => &mut deny,
                _ => return Err(ValueError::known(CLAUSE_EXPECTED)),
            };
            if list.is_some() {
                return Err(ValueError::known(
                    "at most one allow= and one deny= clause, each listing its users separated by `,`",
                ));
            }
            *list = Some(
                users
                    .split(',')
                    .map(str::trim)
                    .filter(|user| !user.is_empty())
                    .collect(),
            );
        }
        if let Some(users) = allow {
            rollout = rollout.allow(users);
        }
        if let Some(users) = deny {
            rollout = rollout.deny(users);
        }
        Ok(rollout)
    }

    /// `on`, `off` or `25%`, then `; allow=…` and `; deny=…` for the lists that are not empty.
    fn to_env(&self) -> String {
        let mut text = match self.percentage {
            0 => "off".to_owned(),
            100 => "on".to_owned(),
            percentage => format!("{percentage}%"),
        };
        for (key, list) in [("allow", List::Allow), ("deny", List::Deny)] {
            let users = self.sorted_users_on(list);
            if !users.is_empty() {
                // Writing to a String cannot fail.
                let _ = write!(text, "; {key}={}", users.join(","));
            }
        }
        text
    }

    /// Decides per user, and is on when it is on for anyone: 100%, or any share, or an allow
    /// list.
    const __KIND: &'static Kind<Self> = &Kind::plain()
        .switch(|rollout: &Self| rollout.percentage > 0 || rollout.allow_list_len() > 0)
        .shape(crate::meta::Shape::Rollout)
        .per_user();

    /// Nothing: a rollout's value is its rule, and a frontend gets only a user's decision.
    fn to_public(&self) -> Value {
        Value::Null
    }

    /// The percentage and the lists' sizes, never their users: `25% (allow: 2 users, deny: 1 user)`.
    fn summary(&self) -> String {
        let mut text = match self.percentage {
            0 => "off".to_owned(),
            100 => "on".to_owned(),
            percentage => format!("{percentage}%"),
        };
        let counts = [
            ("allow", self.allow_list_len()),
            ("deny", self.deny_list_len()),
        ];
        let lists: Vec<String> = counts
            .iter()
            .filter(|(_, count)| *count > 0)
            .map(|(key, count)| {
                format!("{key}: {count} user{}", if *count == 1 { "" } else { "s" })
            })
            .collect();
        if !lists.is_empty() {
            let _ = write!(text, " ({})", lists.join(", "));
        }
        text
    }
}

impl PerUser for Rollout {
    /// A rollout hashes users with its flag's `rollout_group` (by default the variable), whether
    /// it was parsed from the variable or is a default built in code with another rollout group.
    ///
    /// A percentage above 100 (from `Rollout::new` in a default) fails the load; users put on
    /// both lists, whom the deny list keeps off, are a warning.
    fn bind(&mut self, flag: &FlagMeta) -> Bound {
        self.set_rollout_group(flag.rollout_group());
        self.check()?;
        Ok(match self.on_both_lists {
            0 => None,
            1 => Some(String::from(
                "1 user is on both the allow and the deny list, and is off: the deny list decides \
                 first",
            )),
            count => Some(format!(
                "{count} users are on both the allow and the deny list, and are off: the deny \
                 list decides first"
            )),
        })
    }

    /// Only the public decision for one user: a frontend gets `true`/`false`, never the rule.
    fn decide_for(&self, user: &str) -> Value {
        Value::Bool(self.is_enabled_for(user))
    }

    /// A listed user is a targeting match, a bucket between 0% and 100% a split; off for
    /// everyone not allowed (0%, no allow list) is disabled, and needs no user; on for everyone
    /// not denied (100%, no deny list) is the same for all.
    fn decide(&self, user: Option<&str>) -> Option<Decision> {
        // The lists are read only at 0% and 100%, where they decide whether a user matters.
        let lists = |list| self.listed.iter().any(|listed| listed.list == list);
        let everyone_off = self.percentage == 0 && !lists(List::Allow);
        let everyone_on = self.percentage == 100 && !lists(List::Deny);
        let (enabled, reason) = match user {
            Some(user) => {
                let (enabled, reason) = self.decide_with_reason(user);
                let reason = match reason {
                    _ if everyone_off => Some(decision::Reason::Disabled),
                    Reason::AllowList | Reason::DenyList => Some(decision::Reason::TargetingMatch),
                    Reason::Percentage if (1..100).contains(&self.percentage) => {
                        Some(decision::Reason::Split)
                    }
                    Reason::Percentage => None,
                };
                (enabled, reason)
            }
            None if everyone_off => (false, Some(decision::Reason::Disabled)),
            None if everyone_on => (true, None),
            None => return None,
        };
        Some(Decision {
            value: Value::Bool(enabled),
            reason,
            variant: None,
        })
    }
}

/// `on`/`off` and the other boolean spellings, or `0%` to `100%`.
fn parse_state(state: &str) -> Result<u8, ValueError> {
    if let Ok(on) = bool::parse_env(state) {
        return Ok(if on { 100 } else { 0 });
    }
    state
        .strip_suffix('%')
        .and_then(|digits| decimal::<u8>(digits.trim_end()))
        .filter(|percentage| *percentage <= 100)
        .ok_or(ValueError::known(ROLLOUT_EXPECTED))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Rollout {
        Rollout::parse_env(text).unwrap_or_else(|error| panic!("{text:?}: {error}"))
    }

    fn error(text: &str) -> String {
        Rollout::parse_env(text).unwrap_err().to_string()
    }

    #[test]
    fn deny_list_wins_over_allow_list_and_allow_list_over_percentage() {
        let rollout = Rollout::new("group", 0)
            .allow(["alice", "both"])
            .deny(["both"]);
        assert!(rollout.is_enabled_for("alice"));
        assert!(!rollout.is_enabled_for("both"));
        assert!(!rollout.is_enabled_for("carol"));

        let denied_first = Rollout::new("group", 100).deny(["both"]).allow(["both"]);
        assert!(!denied_first.is_enabled_for("both"));
        assert_eq!(
            (denied_first.allow_list_len(), denied_first.deny_list_len()),
            (0, 1)
        );

        let everyone = Rollout::new("group", 100).deny(["mallory"]);
        assert!(everyone.is_enabled_for("carol"));
        assert!(!everyone.is_enabled_for("mallory"));
    }

    #[test]
    fn percentage_compares_the_users_bucket_in_the_rollout_group() {
        for user in ["a", "b", "c", "user-42", "jürgen", ""] {
            let bucket = crate::rollout::bucket("new-ui", user);
            assert!(Rollout::new("new-ui", bucket as u8).is_enabled_for(user));
            assert!(!Rollout::new("new-ui", bucket as u8 - 1).is_enabled_for(user));
        }
    }

    #[test]
    fn set_rollout_group_changes_the_buckets_like_a_new_rollout() {
        let mut rollout = Rollout::parse_env("50%").unwrap();
        assert_eq!(rollout.rollout_group(), "");
        rollout.set_rollout_group("FEATURE_NEW_UI");
        assert_eq!(rollout, Rollout::new("FEATURE_NEW_UI", 50));
    }

    #[test]
    fn lists_follow_a_new_rollout_group_and_unlisted_users_keep_their_bucket() {
        let mut rollout = Rollout::new("old", 50)
            .allow(["u1", "u2"])
            .deny(["u3", "u2"]);
        rollout.set_rollout_group("new");
        assert_eq!(
            rollout,
            Rollout::new("new", 50).deny(["u2", "u3"]).allow(["u1"])
        );
        assert!(rollout.is_enabled_for("u1"));
        assert!(!rollout.is_enabled_for("u2") && !rollout.is_enabled_for("u3"));
        for index in 0..1000 {
            let user = format!("user-{index}");
            assert_eq!(
                rollout.is_enabled_for(&user),
                crate::rollout::bucket("new", &user) <= 50,
                "{user}"
            );
        }
    }

    #[test]
    fn states_accept_bool_spellings_and_percentages() {
        for text in ["on", "ON", "true", "1", "Yes", "100%", " 100 % "] {
            assert_eq!(parsed(text).percentage(), 100, "{text:?}");
        }
        for text in ["off", "False", "0", "no", "0%", "000%"] {
            assert_eq!(parsed(text).percentage(), 0, "{text:?}");
        }
        assert_eq!(parsed("25%").percentage(), 25);
        assert_eq!(parsed("7 %").percentage(), 7);
    }

    #[test]
    fn malformed_states_say_what_is_accepted() {
        for text in [
            "25",
            "101%",
            "-5%",
            "+5%",
            "12.5%",
            "%",
            "half",
            "1e2%",
            "25%%",
            "999999999999%",
        ] {
            assert_eq!(
                error(text),
                format!("expected {ROLLOUT_EXPECTED}"),
                "{text:?}"
            );
        }
    }

    #[test]
    fn clauses_are_trimmed_case_insensitive_and_sorted() {
        let rollout = parsed("on;deny= x ;;Allow=b, a,,a ;");
        assert_eq!(rollout.to_env(), "on; allow=a,b; deny=x");
        assert_eq!(rollout.allow_list_len(), 2);
        assert_eq!(rollout.deny_list_len(), 1);
        assert_eq!(parsed("off; allow=").to_env(), "off");
    }

    #[test]
    fn malformed_clauses_say_what_is_accepted() {
        assert_eq!(error("25%; alice"), format!("expected {CLAUSE_EXPECTED}"));
        assert_eq!(
            error("25%; only=alice"),
            format!("expected {CLAUSE_EXPECTED}")
        );
        assert_eq!(
            error("25%; allow=a; allow=b"),
            "expected at most one allow= and one deny= clause, each listing its users separated by `,`"
        );
    }

    #[test]
    fn to_env_writes_the_state_then_the_lists() {
        assert_eq!(Rollout::new("g", 0).to_env(), "off");
        assert_eq!(Rollout::new("g", 100).to_env(), "on");
        assert_eq!(
            Rollout::new("g", 5).deny(["m"]).allow(["b", "a"]).to_env(),
            "5%; allow=a,b; deny=m"
        );
    }

    #[test]
    fn a_percentage_above_100_is_an_error_from_try_new_and_binding_never_a_panic() {
        let mut rollout = Rollout::new("g", 101);
        assert!(Rollout::try_new("g", 101).is_err());
        let flag = crate::meta::FlagMeta::for_tests("FEATURE_NEW_UI");
        assert_eq!(
            rollout.bind(&flag).unwrap_err().to_string(),
            "expected a percentage from 0 to 100, not 101"
        );
    }

    #[test]
    fn users_on_both_lists_are_counted_for_a_warning_however_the_lists_were_built() {
        let flag = crate::meta::FlagMeta::for_tests("FEATURE_NEW_UI");
        let mut parsed = parsed("on; allow=a,b,c; deny=b,c,d");
        assert_eq!(
            parsed.bind(&flag).unwrap().as_deref(),
            Some(
                "2 users are on both the allow and the deny list, and are off: the deny list \
                 decides first"
            )
        );
        let mut built = Rollout::new("g", 5).allow(["a"]).deny(["a", "x"]);
        assert!(built.bind(&flag).unwrap().unwrap().starts_with("1 user is"));
        let mut clean = parsed.clone();
        clean = Rollout::parse_env(&clean.to_env()).unwrap();
        assert_eq!(clean.bind(&flag).unwrap(), None);
    }
}
