//! Start-up logging of every flag's state, with secrets redacted: what
//! [`FeatureFlags::log_state`](crate::FeatureFlags::log_state) and
//! [`Snapshot::log_state`](crate::Snapshot::log_state) emit.

use std::borrow::Cow;

use crate::lifecycle;
use crate::meta::FlagMeta;
use crate::provenance::Provenance;
use crate::visit::{FieldValue, Visitor};

/// Statuses that say a flag is not released yet: such a flag that is on gets a WARN.
pub const NOT_RELEASED: &[&str] = &["frozen", "experimental", "unreleased", "planned"];

/// Whether `status` is one of [`NOT_RELEASED`], ignoring case.
pub(crate) fn is_not_released(status: &str) -> bool {
    NOT_RELEASED
        .iter()
        .any(|not| status.eq_ignore_ascii_case(not))
}

/// `text` with each control character (a line break, ESC, BEL…) written as its escape (`\n`,
/// `\u{1b}`), so that a value set through the admin API can neither forge a log line nor drive
/// the terminal that shows the log.
pub(crate) fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c.is_control() {
            true => escaped.extend(c.escape_default()),
            false => escaped.push(c),
        }
    }
    Cow::Owned(escaped)
}

/// Logs each field it visits: one INFO event, and WARNs for a flag on before its release or past
/// its expiry.
pub(crate) struct StateLog<'a> {
    flags: &'static [FlagMeta],
    /// Where each value came from, when the struct came with it.
    provenance: Option<&'a Provenance>,
    today: String,
}

impl<'a> StateLog<'a> {
    pub(crate) fn new(flags: &'static [FlagMeta], provenance: Option<&'a Provenance>) -> Self {
        Self {
            flags,
            provenance,
            today: lifecycle::today(),
        }
    }
}

impl Visitor for StateLog<'_> {
    fn field(&mut self, index: usize, value: &dyn FieldValue) {
        let flag = &self.flags[index];
        let shown = if value.is_unset() {
            String::from("<unset>")
        } else if flag.is_secret() {
            String::from("<redacted>")
        } else {
            printable(&value.summary()).into_owned()
        };
        // A struct on its own does not know where its values came from; a snapshot does (an
        // override names its actor, which a token file names).
        let source = self.provenance.map_or_else(
            || String::from("unknown"),
            |sources| printable(&sources.of(index).to_string()).into_owned(),
        );
        tracing::info!(
            target: "flags",
            flag = flag.field(),
            env = flag.env(),
            value = %shown,
            source = %source,
            status = flag.status(),
            "flag {}={shown} ({source})",
            flag.env(),
        );
        let unreleased = flag.status().filter(|status| is_not_released(status));
        // Whether it is on is asked only of an unreleased flag: for a serde type, it serializes.
        if let Some(status) = unreleased
            && value.switched_on() == Some(true)
        {
            tracing::warn!(
                target: "flags",
                flag = flag.field(),
                env = flag.env(),
                value = %shown,
                source = %source,
                status,
                "flag {} is on, but its status is {status}: it is not released yet",
                flag.env(),
            );
        }
        if let Some(expires) = flag.expires().filter(|expires| **expires < *self.today) {
            tracing::warn!(
                target: "flags",
                flag = flag.field(),
                env = flag.env(),
                expires,
                "flag {} expired on {expires}: remove it from the code",
                flag.env(),
            );
        }
    }
}
