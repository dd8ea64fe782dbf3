//! The derives of `flags-core`: `#[derive(FeatureFlags)]` and `#[derive(FlagValue)]`.
//!
//! Use them through `flags-core`, which re-exports them and holds the runtime they expand to.
//! Each derive runs one pipeline: parse attributes into an IR (`ast`, `attr`), check what needs
//! the whole item (`valid`), then generate code (`expand`). Every mistake found on the way is
//! reported together, pointing at the tokens that are wrong.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod ast;
mod attr;
mod ctxt;
mod expand;
mod suggest;
mod symbol;
mod valid;
mod value;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Derives `flags_core::FeatureFlags`; see the `flags_core` documentation.
#[proc_macro_derive(FeatureFlags, attributes(flags, flag))]
pub fn derive_feature_flags(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    feature_flags(&input)
        .unwrap_or_else(|errors| with_fallback(errors, expand::fallback(&input)))
        .into()
}

/// Derives `flags_core::FlagValue` for a fieldless enum; see the `flags_core` documentation.
#[proc_macro_derive(FlagValue, attributes(flag_value))]
pub fn derive_flag_value(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    value::derive(&input)
        .unwrap_or_else(|errors| with_fallback(errors, value::fallback(&input)))
        .into()
}

/// The errors, and an impl that stands in for the one they prevented (if the input can have one),
/// so that uses of the trait report nothing more than the errors themselves.
fn with_fallback(
    errors: syn::Error,
    fallback: Option<proc_macro2::TokenStream>,
) -> proc_macro2::TokenStream {
    let mut tokens = errors.into_compile_error();
    tokens.extend(fallback);
    tokens
}

fn feature_flags(node: &DeriveInput) -> syn::Result<proc_macro2::TokenStream> {
    let cx = ctxt::Ctxt::default();
    let input = ast::Input::from_syn(&cx, node);
    if let Some(input) = &input {
        valid::check(&cx, input);
    }
    cx.check()?;
    Ok(input
        .map(|input| expand::derive(&input))
        .unwrap_or_default())
}
