//! The provider through the OpenFeature SDK's own client, as an application uses it: typed
//! resolution by variable, targeting by key, reasons, variants, and the SDK's errors.

use std::sync::Arc;

use flags_core::live::{Change, Live};
use flags_core::secrecy::SecretString;
use flags_core::{FeatureFlags, Loader, Rollout, Variants};
use flags_openfeature::Provider;
use open_feature::{
    Client, EvaluationContext, EvaluationErrorCode, EvaluationReason, OpenFeature, StructValue,
};
use serde_derive::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Limits {
    images: u32,
    label: String,
}

#[derive(FeatureFlags)]
#[flags(prefix = "FEATURE_")]
struct Settings {
    #[flag(default = false)]
    beta: bool,
    #[flag(default = Rollout::new("", 0))]
    new_ui: Rollout,
    #[flag(default = Variants::new("", &[("classic", 1000)]))]
    greeting_style: Variants,
    #[flag(default = 3)]
    retries: u32,
    #[flag(default = 0.5)]
    ratio: f64,
    #[flag(env = "SUPPORT_EMAIL")]
    support_email: Option<String>,
    #[flag(serde, default = Limits { images: 4, label: String::from("free") })]
    limits: Limits,
    #[flag(env = "API_TOKEN", secret)]
    api_token: Option<SecretString>,
}

/// A client of its own provider: the SDK's singleton holds one provider per name, so each test
/// names its own.
async fn client(name: &str, vars: &[(&str, &str)]) -> (Client, Arc<Live<Settings>>) {
    let loader = Loader::new()
        .map([("API_TOKEN", "canary-of-3c1")])
        .map(vars.iter().copied());
    let flags = Arc::new(Live::load(loader).unwrap());
    let mut api = OpenFeature::singleton_mut().await;
    api.set_named_provider(name, Provider::new(Arc::clone(&flags)))
        .await;
    (api.create_named_client(name), flags)
}

fn user(key: &str) -> EvaluationContext {
    EvaluationContext::default()
        .with_targeting_key(key)
        .with_custom_field("plan", "pro")
}

#[tokio::test]
async fn typed_values_resolve_with_their_reason() {
    let (client, _) = client("typed", &[("FEATURE_BETA", "true")]).await;
    let anyone = EvaluationContext::default();
    let beta = client
        .get_bool_details("FEATURE_BETA", Some(&anyone), None)
        .await
        .unwrap();
    assert!(beta.value);
    assert_eq!(beta.reason, Some(EvaluationReason::Static));
    let retries = client
        .get_int_details("FEATURE_RETRIES", Some(&anyone), None)
        .await
        .unwrap();
    assert_eq!(
        (retries.value, retries.reason),
        (3, Some(EvaluationReason::Default))
    );
    let ratio = client.get_float_value("FEATURE_RATIO", None, None).await;
    assert_eq!(ratio.unwrap(), 0.5);
    // An integer is a number too.
    let as_float = client.get_float_value("FEATURE_RETRIES", None, None).await;
    assert_eq!(as_float.unwrap(), 3.0);
    let limits = client
        .get_struct_details::<StructValue>("FEATURE_LIMITS", None, None)
        .await
        .unwrap();
    let expected = StructValue::default()
        .with_field("images", 4)
        .with_field("label", "free");
    assert_eq!(limits.value, expected);
}

#[tokio::test]
async fn rollouts_and_variants_resolve_per_user_as_the_flags_decide() {
    let (client, flags) = client(
        "per-user",
        &[
            ("FEATURE_NEW_UI", "30%; allow=vip"),
            ("FEATURE_GREETING_STYLE", "classic:50,playful:50"),
        ],
    )
    .await;
    let snapshot = flags.snapshot();
    for n in 0..200 {
        let key = format!("user-{n}");
        let context = user(&key);
        let new_ui = client
            .get_bool_details("FEATURE_NEW_UI", Some(&context), None)
            .await
            .unwrap();
        assert_eq!(new_ui.value, snapshot.new_ui.is_enabled_for(&key), "{key}");
        assert_eq!(new_ui.reason, Some(EvaluationReason::Split));
        let style = client
            .get_string_details("FEATURE_GREETING_STYLE", Some(&context), None)
            .await
            .unwrap();
        let expected = snapshot.greeting_style.variant_for(&key);
        assert_eq!(style.value, expected);
        assert_eq!(style.variant.as_deref(), Some(expected));
    }
    let vip = client
        .get_bool_details("FEATURE_NEW_UI", Some(&user("vip")), None)
        .await
        .unwrap();
    assert_eq!(vip.reason, Some(EvaluationReason::TargetingMatch));
    let nobody = client
        .get_bool_details("FEATURE_NEW_UI", Some(&EvaluationContext::default()), None)
        .await
        .unwrap_err();
    assert_eq!(nobody.code, EvaluationErrorCode::TargetingKeyMissing);

    // A change made live is what the next resolution sees.
    flags
        .commit(Change::set("test", [("FEATURE_NEW_UI", "100%")]))
        .await
        .unwrap();
    let everyone = client
        .get_bool_details("FEATURE_NEW_UI", None, None)
        .await
        .unwrap();
    assert_eq!(
        (everyone.value, everyone.reason),
        (true, Some(EvaluationReason::Static))
    );
}

#[tokio::test]
async fn secrets_strangers_and_other_types_are_errors_and_the_callers_default() {
    let (client, _) = client("errors", &[]).await;
    for key in ["API_TOKEN", "feature_beta", "FEATURE_BET", "BETA"] {
        let error = client
            .get_string_details(key, None, None)
            .await
            .unwrap_err();
        assert_eq!(error.code, EvaluationErrorCode::FlagNotFound, "{key}");
        assert!(!format!("{error:?}").contains("canary"));
        assert_eq!(client.get_string_value(key, None, None).await.ok(), None);
    }
    let mismatch = client
        .get_int_details("FEATURE_BETA", None, None)
        .await
        .unwrap_err();
    assert_eq!(mismatch.code, EvaluationErrorCode::TypeMismatch);
    assert_eq!(
        mismatch.message.as_deref(),
        Some("FEATURE_BETA is a boolean, not an integer")
    );
    let unset = client
        .get_string_details("SUPPORT_EMAIL", None, None)
        .await
        .unwrap_err();
    assert_eq!(
        unset.message.as_deref(),
        Some("SUPPORT_EMAIL has no value: the caller's default applies")
    );
}

#[tokio::test]
async fn the_provider_names_itself() {
    let (_, flags) = client("metadata", &[]).await;
    let api = OpenFeature::singleton().await;
    let metadata = api.named_provider_metadata("metadata").await.unwrap();
    assert_eq!(metadata.name, "flags");
    drop(flags);
}
