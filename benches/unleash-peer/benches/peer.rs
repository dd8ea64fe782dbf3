//! One rollout and one variant decision by flags and by `unleash-api-client` 0.17.1, the Unleash SDK
//! for Rust, in one run with the floor: one MurmurHash3 x86_32 of `"{rollout_group}:{user}"`. The
//! user key (36 bytes) and the rollout group are those of `flags-core/benches/rollout.rs`.
//!
//! - rollout: flags' `Rollout::new(ROLLOUT_GROUP, 50).is_enabled_for`; Unleash's `is_enabled_str`
//!   on a toggle with one `gradualRolloutUserId` strategy, 50% with `groupId` ROLLOUT_GROUP.
//! - variants: flags' `Variants::variant_for` with two variants of weight 500; Unleash's
//!   `get_variant_str` on a toggle named ROLLOUT_GROUP, the `default` strategy and the same two
//!   variants.
//!
//! Each Unleash toggle is alone in a client of its own, as each flags value is. Before measuring,
//! the benchmark asserts that both decide the same for 2000 users.
//!
//! ```sh
//! cargo bench --manifest-path benches/unleash-peer/Cargo.toml -- --warm-up-time 1 --measurement-time 4
//! ```

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use flags_core::{Rollout, Variants};
use unleash_api_client::client::{Client, ClientBuilder, FeatureKey};
use unleash_api_client::context::Context;
use unleash_api_client::http::{Request, Response, Transport};
use unleash_types::client_features::{
    ClientFeature, ClientFeatures, Strategy, Variant, WeightType,
};

const ROLLOUT_GROUP: &str = "FEATURE_NEW_CHECKOUT";
const USER: &str = "9f1c2b3a-4d5e-4f60-8a7b-0c1d2e3f4a5b";
const VARIANTS: [(&str, u32); 2] = [("control", 500), ("treatment", 500)];
const USERS_CHECKED: usize = 2000;

/// The benchmark names toggles by string (`*_str`), so the client's feature enum is empty.
#[derive(Clone, Copy, Debug)]
enum ByName {}

impl FeatureKey for ByName {
    fn name(self) -> &'static str {
        match self {}
    }
}

/// The clients are given their toggles with `memoize`, and never poll or send metrics.
struct NoRequests;

#[async_trait::async_trait]
impl Transport for NoRequests {
    async fn execute(&self, request: Request) -> anyhow::Result<Response> {
        anyhow::bail!("the benchmark makes no requests: {}", request.url)
    }
}

/// An Unleash client that holds `toggle` alone, as if it had fetched it from a server.
fn unleash_client(toggle: ClientFeature) -> Client<ByName> {
    let client = ClientBuilder::default()
        .enable_string_features()
        .into_client_with_transport(
            "http://unleash.invalid/api/",
            "flags-bench",
            "bench",
            None,
            Arc::new(NoRequests),
        )
        .expect("building a client connects to nothing");
    let features = ClientFeatures {
        version: 2,
        features: vec![toggle],
        segments: None,
        query: None,
        meta: None,
    };
    client
        .memoize(features)
        .expect("the toggle is valid for Unleash");
    client
}

fn strategy(name: &str, parameters: Option<HashMap<String, String>>) -> Strategy {
    Strategy {
        name: name.to_owned(),
        sort_order: None,
        segments: None,
        constraints: None,
        parameters,
        variants: None,
    }
}

/// The toggle `Rollout::new(ROLLOUT_GROUP, 50)` stands for: on for 50% of user ids, bucketed by
/// ROLLOUT_GROUP.
fn unleash_rollout() -> Client<ByName> {
    let parameters = HashMap::from([
        ("percentage".to_owned(), "50".to_owned()),
        ("groupId".to_owned(), ROLLOUT_GROUP.to_owned()),
    ]);
    unleash_client(ClientFeature {
        name: ROLLOUT_GROUP.to_owned(),
        enabled: true,
        strategies: Some(vec![strategy("gradualRolloutUserId", Some(parameters))]),
        ..ClientFeature::default()
    })
}

/// The toggle `Variants::new(ROLLOUT_GROUP, &VARIANTS)` stands for: on for everyone, split by
/// weight.
fn unleash_variants() -> Client<ByName> {
    let variants = VARIANTS
        .iter()
        .map(|&(name, weight)| Variant {
            name: name.to_owned(),
            weight: weight.try_into().expect("a weight out of 1000"),
            weight_type: Some(WeightType::Variable),
            stickiness: None,
            payload: None,
            overrides: None,
        })
        .collect();
    unleash_client(ClientFeature {
        name: ROLLOUT_GROUP.to_owned(),
        enabled: true,
        strategies: Some(vec![strategy("default", None)]),
        variants: Some(variants),
        ..ClientFeature::default()
    })
}

fn user_context(user: &str) -> Context {
    Context {
        user_id: Some(user.to_owned()),
        ..Context::default()
    }
}

fn rollout_and_variants(c: &mut Criterion) {
    assert_eq!(USER.len(), 36);
    let joined = format!("{ROLLOUT_GROUP}:{USER}");
    let rollout = Rollout::new(ROLLOUT_GROUP, 50);
    let variants = Variants::new(ROLLOUT_GROUP, &VARIANTS);
    let peer_rollout = unleash_rollout();
    let peer_variants = unleash_variants();

    // A comparison of decisions that differ would compare nothing.
    for user in (0..USERS_CHECKED)
        .map(|index| format!("user-{index}"))
        .chain([USER.to_owned()])
    {
        let context = user_context(&user);
        assert_eq!(
            rollout.is_enabled_for(&user),
            peer_rollout.is_enabled_str(ROLLOUT_GROUP, Some(&context), false),
            "rollout for {user}"
        );
        assert_eq!(
            variants.variant_for(&user),
            peer_variants.get_variant_str(ROLLOUT_GROUP, &context).name,
            "variant for {user}"
        );
    }

    let context = user_context(USER);
    let mut group = c.benchmark_group("peer");
    group.bench_function("floor: murmur3 of rollout_group:user", |b| {
        b.iter(|| mur3::murmurhash3_x86_32(black_box(joined.as_bytes()), 0))
    });
    group.bench_function("flags is_enabled_for", |b| {
        b.iter(|| rollout.is_enabled_for(black_box(USER)))
    });
    group.bench_function("flags variant_for, 2 variants", |b| {
        b.iter(|| variants.variant_for(black_box(USER)))
    });
    group.bench_function("unleash is_enabled_str", |b| {
        b.iter(|| {
            peer_rollout.is_enabled_str(black_box(ROLLOUT_GROUP), Some(black_box(&context)), false)
        })
    });
    group.bench_function("unleash get_variant_str, 2 variants", |b| {
        b.iter(|| peer_variants.get_variant_str(black_box(ROLLOUT_GROUP), black_box(&context)))
    });
    group.finish();
}

criterion_group!(benches, rollout_and_variants);
criterion_main!(benches);
