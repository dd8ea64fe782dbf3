//! Live flags as metrics, through the `metrics` facade (feature `metrics`).

use serde_json::Value;

use crate::flags::FeatureFlags;
use crate::meta::FlagMeta;
use crate::snapshot::Snapshot;
use crate::visit::{FieldValue, Visitor};

/// The current version, the count of changes, and each boolean or numeric flag's value as
/// gauges, through the `metrics` facade: every flag's, or with `changed`, those of the flags at
/// those positions only (a change sets the gauges of the flags it touched; the others hold).
pub(super) fn export<S: FeatureFlags>(
    snapshot: &Snapshot<S>,
    outcome: Option<&'static str>,
    changed: Option<&[usize]>,
) {
    struct Gauges<'a> {
        flags: &'static [FlagMeta],
        changed: Option<&'a [usize]>,
    }

    impl Visitor for Gauges<'_> {
        fn field(&mut self, index: usize, value: &dyn FieldValue) {
            if self
                .changed
                .is_some_and(|changed| !changed.contains(&index))
            {
                return;
            }
            let flag = &self.flags[index];
            if flag.is_secret() || value.is_per_user() {
                return;
            }
            let number = match value.to_public() {
                Value::Bool(on) => f64::from(u8::from(on)),
                Value::Number(number) => match number.as_f64() {
                    Some(number) => number,
                    None => return,
                },
                _ => return,
            };
            metrics::gauge!("flags_value", "flag" => flag.env()).set(number);
        }
    }

    metrics::gauge!("flags_version").set(snapshot.version() as f64);
    if let Some(outcome) = outcome {
        metrics::counter!("flags_changes_total", "outcome" => outcome).increment(1);
    }
    snapshot.__visit(&mut Gauges {
        flags: S::FLAGS,
        changed,
    });
}

/// After a change: its count, the version, and the gauges of the flags at `changed`.
pub(super) fn changed<S: FeatureFlags>(snapshot: &Snapshot<S>, changed: &[usize]) {
    export(snapshot, Some("applied"), Some(changed));
}
