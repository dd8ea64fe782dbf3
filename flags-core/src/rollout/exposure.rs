//! Exposure: each rollout or variant decision as a tracing event and, with the `metrics` feature,
//! a counter. Both carry the flag and the outcome, never the user's key.

/// Why a rollout decided as it did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Reason {
    DenyList,
    AllowList,
    Percentage,
}

impl Reason {
    fn as_str(self) -> &'static str {
        match self {
            Reason::DenyList => "deny_list",
            Reason::AllowList => "allow_list",
            Reason::Percentage => "percentage",
        }
    }
}

pub(super) fn rollout(flag: &str, counters: &Counters, enabled: bool, reason: Reason) {
    tracing::debug!(
        target: "flags::exposure",
        flag,
        enabled,
        reason = reason.as_str(),
        "rollout decision"
    );
    counters.increment(usize::from(!enabled));
}

pub(super) fn variant(flag: &str, counters: &Counters, index: usize, variant: &str) {
    tracing::debug!(target: "flags::exposure", flag, variant, "variant decision");
    counters.increment(index);
}

/// The outcomes of a rollout's decision, in the order of its [`Counters`].
pub(super) const ROLLOUT_OUTCOMES: [&str; 2] = ["enabled", "disabled"];

/// The exposure counter of each outcome of one flag: `flags_exposures_total{flag, outcome}`.
///
/// Their keys are built with the flag, so that a decision hands the recorder a key without
/// building one (which allocates its labels).
#[cfg(feature = "metrics")]
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Counters {
    keys: Box<[metrics::Key]>,
}

#[cfg(feature = "metrics")]
impl Counters {
    pub(super) fn new<'a>(flag: &str, outcomes: impl IntoIterator<Item = &'a str>) -> Self {
        let keys = outcomes
            .into_iter()
            .map(|outcome| {
                let labels = [
                    metrics::Label::new("flag", flag.to_owned()),
                    metrics::Label::new("outcome", outcome.to_owned()),
                ];
                metrics::Key::from_parts("flags_exposures_total", labels.to_vec())
            })
            .collect();
        Self { keys }
    }

    fn increment(&self, outcome: usize) {
        static METADATA: metrics::Metadata<'static> =
            metrics::Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));
        if let Some(key) = self.keys.get(outcome) {
            metrics::with_recorder(|recorder| {
                recorder.register_counter(key, &METADATA).increment(1);
            });
        }
    }
}

/// Without the `metrics` feature, nothing to count.
#[cfg(not(feature = "metrics"))]
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Counters;

#[cfg(not(feature = "metrics"))]
impl Counters {
    pub(super) fn new<'a>(_: &str, _: impl IntoIterator<Item = &'a str>) -> Self {
        Self
    }

    #[inline(always)]
    fn increment(&self, _: usize) {}
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};

    use crate::{Rollout, Variants};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// What `body` logs at DEBUG, as text.
    fn logged(body: impl FnOnce()) -> String {
        // A global subscriber that wants every event (and writes them nowhere): without one, a
        // callsite first hit on a thread with no subscriber can be cached as uninteresting while
        // this thread's scoped subscriber is in place, and the event is lost (tokio-rs/tracing#3611).
        static INTERESTED: std::sync::Once = std::sync::Once::new();
        INTERESTED.call_once(|| {
            let everything = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_writer(io::sink)
                .finish();
            let _ = tracing::subscriber::set_global_default(everything);
        });
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .without_time()
            .finish();
        tracing::subscriber::with_default(subscriber, body);
        let bytes = buffer.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    const USER: &str = "user-7f3a9c";

    #[test]
    fn a_rollout_decision_logs_the_flag_the_answer_and_why_but_not_the_user() {
        let log = logged(|| {
            Rollout::new("FEATURE_NEW_UI", 0)
                .allow([USER])
                .is_enabled_for(USER);
        });
        assert_eq!(
            log,
            "DEBUG flags::exposure: rollout decision flag=\"FEATURE_NEW_UI\" enabled=true reason=\"allow_list\"\n"
        );

        let log = logged(|| {
            Rollout::new("FEATURE_NEW_UI", 0).is_enabled_for(USER);
        });
        assert!(log.contains("enabled=false reason=\"percentage\""), "{log}");
        assert!(!log.contains(USER), "{log}");
    }

    #[test]
    fn a_variant_decision_logs_the_flag_and_the_variant_but_not_the_user() {
        let log = logged(|| {
            Variants::new("FEATURE_BUTTON", &[("blue", 1)]).variant_for(USER);
        });
        assert_eq!(
            log,
            "DEBUG flags::exposure: variant decision flag=\"FEATURE_BUTTON\" variant=\"blue\"\n"
        );
    }

    #[cfg(feature = "metrics")]
    mod metrics_feature {
        use std::sync::{Arc, Mutex};

        use metrics::{
            Counter, CounterFn, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString,
            Unit,
        };

        use super::USER;
        use crate::{Rollout, Variants};

        /// Each increment as the counter's name and labels.
        #[derive(Default)]
        struct Increments(Arc<Mutex<Vec<String>>>);

        struct Increment(Key, Arc<Mutex<Vec<String>>>);

        impl CounterFn for Increment {
            fn increment(&self, value: u64) {
                let labels: Vec<String> = self
                    .0
                    .labels()
                    .map(|label| format!("{}={}", label.key(), label.value()))
                    .collect();
                let line = format!("{} {} +{value}", self.0.name(), labels.join(","));
                self.1.lock().unwrap().push(line);
            }

            fn absolute(&self, _: u64) {}
        }

        impl Recorder for Increments {
            fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
            fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
            fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

            fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
                Counter::from_arc(Arc::new(Increment(key.clone(), Arc::clone(&self.0))))
            }

            fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
                Gauge::noop()
            }

            fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
                Histogram::noop()
            }
        }

        #[test]
        fn each_decision_counts_one_exposure_of_the_flag_and_outcome() {
            let recorder = Increments::default();
            metrics::with_local_recorder(&recorder, || {
                let rollout = Rollout::new("FEATURE_NEW_UI", 100).deny([USER]);
                rollout.is_enabled_for(USER);
                rollout.is_enabled_for("someone-else");
                Variants::new("FEATURE_BUTTON", &[("blue", 1)]).variant_for(USER);
            });
            assert_eq!(
                *recorder.0.lock().unwrap(),
                [
                    "flags_exposures_total flag=FEATURE_NEW_UI,outcome=disabled +1",
                    "flags_exposures_total flag=FEATURE_NEW_UI,outcome=enabled +1",
                    "flags_exposures_total flag=FEATURE_BUTTON,outcome=blue +1",
                ]
            );
        }
    }
}
