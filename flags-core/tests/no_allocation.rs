//! A rollout or variant decision allocates nothing: it runs on every request.
//!
//! Only the counting thread's allocations count: the test harness allocates on its own threads
//! whenever it likes.

use flags_core::rollout::{bucket, variant_bucket};
use flags_core::{FlagValue, Rollout, Variants};
use flags_tests::counting::{Counting, allocations};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

#[test]
fn decisions_allocate_nothing() {
    let users: Vec<String> = (0..1000).map(|index| format!("user-{index:031}")).collect();
    let plain = Rollout::new("FEATURE_NEW_UI", 30);
    let listed = Rollout::new("FEATURE_NEW_UI", 30)
        .allow(users.iter().step_by(3).cloned())
        .deny(users.iter().step_by(7).cloned());
    let parsed = Rollout::parse_env("50%; allow=user-1, user-2; deny=user-3").unwrap();
    let variants = Variants::new("FEATURE_BUTTON", &[("a", 1), ("b", 2), ("c", 3)]);

    let mut enabled = 0;
    let mut given = 0;
    let counted = allocations(|| {
        for user in &users {
            enabled += usize::from(plain.is_enabled_for(user));
            enabled += usize::from(listed.is_enabled_for(user));
            enabled += usize::from(parsed.is_enabled_for(user));
            given += variants.variant_for(user).len();
            enabled += bucket("FEATURE_NEW_UI", user) as usize;
            given += variant_bucket("FEATURE_BUTTON", user, 6) as usize;
        }
    });
    assert_eq!(counted, 0);
    // The decisions were made, not optimised away.
    assert!(enabled > 0 && given > 0);
}
