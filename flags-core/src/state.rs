//! Start-up logging of every flag's state, with secrets redacted.

use std::sync::Arc;

use crate::flags::Schema;
use crate::lifecycle;
use crate::meta::FlagMeta;
use crate::source::{Recorded, SourceRecord};
use crate::value::ValueError;

/// The source of a value that is not the one the last load gave the flag: the struct was changed
/// after loading, or loaded by another load than the last.
const CHANGED: &str = "changed since the last load";

/// Statuses that say a flag is not released yet: such a flag that is on gets a WARN.
pub const NOT_RELEASED: &[&str] = &["frozen", "experimental", "unreleased", "planned"];

/// Whether `status` is one of [`NOT_RELEASED`], ignoring case.
pub(crate) fn is_not_released(status: &str) -> bool {
    NOT_RELEASED
        .iter()
        .any(|not| status.eq_ignore_ascii_case(not))
}

/// What `StateLog::flag` needs of a flag's type: `parse` and `to_env` tell whether a value is still
/// the one loaded.
#[doc(hidden)]
pub struct ValueFns<T> {
    /// The value as logs show it.
    pub summary: fn(&T) -> String,
    /// Whether the value counts as unset.
    pub is_unset: fn(&T) -> bool,
    /// Whether the value switches its flag on, for a flag that is on or off.
    pub switched_on: fn(&T) -> Option<bool>,
    /// Parses a variable's text.
    pub parse: fn(&str) -> Result<T, ValueError>,
    /// The value's text.
    pub to_env: fn(&T) -> String,
}

/// Logs the flags of one struct, one `flag` call per field.
#[doc(hidden)]
pub struct StateLog {
    flags: &'static [FlagMeta],
    sources: Option<Arc<SourceRecord>>,
    today: String,
}

impl StateLog {
    pub fn new(schema: &Schema) -> Self {
        Self {
            flags: schema.flags(),
            sources: schema.recorded_sources(),
            today: lifecycle::today(),
        }
    }

    /// Logs the flag at `index`, whose value is `value`.
    pub fn flag<T>(&self, index: usize, value: &T, fns: ValueFns<T>) {
        let ValueFns {
            summary,
            is_unset,
            switched_on,
            parse,
            to_env,
        } = fns;
        let flag = &self.flags[index];
        let shown = if is_unset(value) {
            String::from("<unset>")
        } else if flag.is_secret() {
            String::from("<redacted>")
        } else {
            summary(value)
        };
        let source = match &self.sources {
            Some(sources) => match sources.recorded(index, flag.is_secret()) {
                Recorded::Default if to_env(value) == flag.default().unwrap_or_default() => {
                    String::from("default")
                }
                Recorded::Text { text, source }
                    if parse(text).is_ok_and(|loaded| to_env(&loaded) == to_env(value)) =>
                {
                    source.to_string()
                }
                // A secret's loaded text is not kept to compare with.
                Recorded::Secret { source } => source.to_string(),
                Recorded::Default | Recorded::Text { .. } => String::from(CHANGED),
            },
            None => String::from("unknown"),
        };
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
        if let (Some(status), Some(true)) = (unreleased, switched_on(value)) {
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
