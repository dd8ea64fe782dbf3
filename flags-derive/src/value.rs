//! `#[derive(FlagValue)]` for fieldless enums: parse, validate and expand in one small file.

use std::collections::HashMap;

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput, Fields, Ident, LitStr};

use crate::attr;
use crate::ctxt::Ctxt;
use crate::symbol::FLAG_VALUE;

/// A fieldless enum deriving `FlagValue`.
struct Enum<'a> {
    ident: &'a Ident,
    variants: Vec<Variant<'a>>,
}

struct Variant<'a> {
    ident: &'a Ident,
    /// The name written in variables and docs: `rename`, or the variant in snake_case.
    name: String,
    /// `rename = "…"`, where the name came from when it was given.
    rename: Option<LitStr>,
    aliases: Vec<LitStr>,
}

pub fn derive(node: &DeriveInput) -> syn::Result<TokenStream> {
    let cx = Ctxt::default();
    let parsed = parse(&cx, node);
    if let Some(parsed) = &parsed {
        validate(&cx, parsed);
    }
    cx.check()?;
    Ok(parsed.map(|parsed| expand(&parsed)).unwrap_or_default())
}

/// An impl for an enum whose derive failed, so that its uses (a field of its type, `parse_env`) add
/// no errors to the ones that say what is wrong; the build stops at those, so no body runs.
/// Only an enum without generics can have one: for anything else the errors stand alone.
pub fn fallback(node: &DeriveInput) -> Option<TokenStream> {
    if !matches!(node.data, Data::Enum(_)) || !node.generics.params.is_empty() {
        return None;
    }
    let ident = &node.ident;
    Some(quote! {
        #[automatically_derived]
        impl ::flags_core::__private::FlagValue for #ident {
            fn parse_env(
                _: &str,
            ) -> ::flags_core::__private::Result<Self, ::flags_core::__private::ValueError> {
                ::flags_core::__private::unreachable!()
            }

            fn to_env(&self) -> ::flags_core::__private::String {
                ::flags_core::__private::unreachable!()
            }
        }
    })
}

fn parse<'a>(cx: &Ctxt, node: &'a DeriveInput) -> Option<Enum<'a>> {
    let data = match &node.data {
        Data::Enum(data) => data,
        Data::Struct(data) => {
            cx.error_spanned_by(
                data.struct_token,
                "`FlagValue` is derived for a fieldless enum; for a struct of flags, derive \
                 `FeatureFlags`",
            );
            return None;
        }
        Data::Union(data) => {
            cx.error_spanned_by(
                data.union_token,
                "`FlagValue` is derived for a fieldless enum, not a union",
            );
            return None;
        }
    };
    for attr in &node.attrs {
        if attr.path().is_ident(FLAG_VALUE) {
            cx.error_spanned_by(
                attr,
                "#[flag_value(...)] belongs on a variant, not the enum: #[flag_value(rename = \"…\")] \
                 sets the name a variable writes for that variant, #[flag_value(alias = \"…\")] adds \
                 another name it accepts",
            );
        }
    }
    if !node.generics.params.is_empty() {
        cx.error_spanned_by(
            &node.generics,
            "`FlagValue` cannot be derived for a generic enum",
        );
    }
    if data.variants.is_empty() {
        cx.error_spanned_by(
            &node.ident,
            "`FlagValue` needs at least one variant: each variant is a value the variable can hold",
        );
    }
    let variants = data
        .variants
        .iter()
        .map(|variant| {
            if !matches!(variant.fields, Fields::Unit) {
                cx.error_spanned_by(
                    &variant.fields,
                    "`FlagValue` variants carry no data: each variant is one value of the variable",
                );
            }
            let attrs = attr::variant_attrs(cx, &variant.attrs);
            let name = match &attrs.rename {
                Some(rename) => rename.value(),
                None => crate::suggest::snake_case(&variant.ident.to_string()),
            };
            Variant {
                ident: &variant.ident,
                name,
                rename: attrs.rename,
                aliases: attrs.aliases,
            }
        })
        .collect();
    Some(Enum {
        ident: &node.ident,
        variants,
    })
}

fn validate(cx: &Ctxt, parsed: &Enum) {
    let mut seen: HashMap<String, &Ident> = HashMap::new();
    for variant in &parsed.variants {
        let names = std::iter::once((variant.name.clone(), None)).chain(
            variant
                .aliases
                .iter()
                .map(|alias| (alias.value(), Some(alias))),
        );
        for (name, lit) in names {
            let problem = if name.trim().is_empty() {
                Some(String::from("a value's name cannot be empty"))
            } else if name.trim() != name || name.contains(',') {
                Some(format!(
                    "`{name}` cannot be a value's name: names have no surrounding spaces and no \
                     commas (lists are comma-separated)"
                ))
            } else {
                seen.insert(name.to_lowercase(), variant.ident)
                    .map(|first| {
                        let ident = variant.ident;
                        let fix = match (lit, &variant.rename) {
                            (Some(_), _) => {
                                format!("drop this alias of `{ident}` or choose another")
                            }
                            (None, Some(_)) => format!("give `{ident}` another name"),
                            (None, None) => format!(
                                "give `{ident}` another name: #[flag_value(rename = \"…\")]"
                            ),
                        };
                        format!(
                            "`{name}` already names `{first}` (names are matched ignoring case); \
                             {fix}"
                        )
                    })
            };
            if let Some(problem) = problem {
                match lit.or(variant.rename.as_ref()) {
                    Some(lit) => cx.error_spanned_by(lit, problem),
                    None => cx.error_spanned_by(variant.ident, problem),
                }
            }
        }
    }
}

fn expand(parsed: &Enum) -> TokenStream {
    let ident = parsed.ident;
    let values = parsed.variants.iter().map(|variant| &variant.name);
    let matches = parsed.variants.iter().flat_map(|variant| {
        let variant_ident = variant.ident;
        let names =
            std::iter::once(variant.name.clone()).chain(variant.aliases.iter().map(LitStr::value));
        names.map(move |name| {
            quote! {
                if text.eq_ignore_ascii_case(#name) {
                    return ::flags_core::__private::Ok(Self::#variant_ident);
                }
            }
        })
    });
    let aliases = parsed.variants.iter().flat_map(|variant| {
        let name = &variant.name;
        variant
            .aliases
            .iter()
            .map(move |alias| quote!((#alias, #name)))
    });
    let to_env = parsed.variants.iter().map(|variant| {
        let variant_ident = variant.ident;
        let name = &variant.name;
        quote!(Self::#variant_ident => #name)
    });
    quote! {
        #[automatically_derived]
        impl ::flags_core::__private::FlagValue for #ident {
            const VALUES: &'static [&'static str] = &[#(#values),*];
            const ALIASES: &'static [(&'static str, &'static str)] = &[#(#aliases),*];

            fn parse_env(
                text: &str,
            ) -> ::flags_core::__private::Result<Self, ::flags_core::__private::ValueError> {
                let text = ::flags_core::__private::trim(text);
                #(#matches)*
                ::flags_core::__private::Err(::flags_core::__private::one_of(
                    <Self as ::flags_core::__private::FlagValue>::VALUES,
                ))
            }

            fn to_env(&self) -> ::flags_core::__private::String {
                let name = match self {
                    #(#to_env),*
                };
                ::flags_core::__private::From::from(name)
            }
        }
    }
}
