//! Misuse of the derives is a compile error that points at the mistake: `tests/ui/*.rs`, each
//! with the exact diagnostic a user sees in `tests/ui/*.stderr`.
//!
//! After changing a diagnostic on purpose: `TRYBUILD=overwrite cargo test -p flags-tests --test ui`,
//! then read every changed `.stderr` as a user would.

#[test]
fn misuse_is_a_compile_error_at_the_mistake() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("ui/*.rs");
}
