//! Start-up logging of every flag's state, with secrets redacted.

use std::sync::Arc;

use crate::flags::Schema;
use crate::lifecycle;
use crate::meta::FlagMeta;
use crate::source::SourceRecord;

/// Statuses that say a flag is not released yet: such a flag that is on gets a WARN.
pub const NOT_RELEASED: &[&str] = &["frozen", "experimental", "unreleased", "planned"];

/// Whether `status` is one of [`NOT_RELEASED`], ignoring case.
pub(crate) fn is_not_released(status: &str) -> bool {
    NOT_RELEASED
        .iter()
        .any(|not| status.eq_ignore_ascii_case(not))
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
    pub fn flag<T>(
        &self,
        index: usize,
        value: &T,
        summary: fn(&T) -> String,
        is_unset: fn(&T) -> bool,
        switched_on: fn(&T) -> Option<bool>,
    ) {
        let flag = &self.flags[index];
        let shown = if is_unset(value) {
            String::from("<unset>")
        } else if flag.is_secret() {
            String::from("<redacted>")
        } else {
            summary(value)
        };
        let source = match &self.sources {
            Some(sources) => sources.source_of(index).to_string(),
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
