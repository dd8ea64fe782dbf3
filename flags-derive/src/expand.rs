//! Code generation for `#[derive(FeatureFlags)]`, from an IR that validation has accepted.
//!
//! Everything is named through `::flags_core::__private`, so the output compiles with no `use` in
//! scope and under `#![no_implicit_prelude]`.

use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Lit, LitStr};

use crate::ast::{self, Field, Input};
use crate::attr::Requirement;
use crate::valid;

pub fn derive(input: &Input) -> TokenStream {
    let ident = input.ident;
    let value_fns = input.fields.iter().map(value_fns);
    let text = text_fn(input);
    let flags = input.fields.iter().map(|field| flag_meta(input, field));
    let public_types_are_not_secret = input.fields.iter().map(public_type_is_not_secret);
    let secret_types_hide_values = input.fields.iter().map(secret_type_hides_value);
    let check_requires = check_requires(input);
    let schema = schema(input);
    let from_vars = from_vars(input);
    let validate = validate(input);
    let public_flags = public_flags(input);
    let log_state = log_state(input);
    quote! {
        const _: () = {
            #(#value_fns)*
            #text
            #(#public_types_are_not_secret)*
            #(#secret_types_hide_values)*
            #check_requires

            #[automatically_derived]
            impl ::flags_core::__private::FeatureFlags for #ident {
                const FLAGS: &'static [::flags_core::__private::FlagMeta] = &[#(#flags),*];

                #schema

                #from_vars

                #validate

                #public_flags

                #log_state
            }
        };
    }
}

/// An impl for a struct whose derive failed, so that `Settings::from_env()` and `Settings::FLAGS`
/// add no errors to the ones that say what is wrong; the build stops at those, so no body runs.
/// Only a struct without generics can have one: for anything else the errors stand alone.
pub fn fallback(node: &syn::DeriveInput) -> Option<TokenStream> {
    if !matches!(node.data, syn::Data::Struct(_)) || !node.generics.params.is_empty() {
        return None;
    }
    let ident = &node.ident;
    Some(quote! {
        #[automatically_derived]
        impl ::flags_core::__private::FeatureFlags for #ident {
            const FLAGS: &'static [::flags_core::__private::FlagMeta] = &[];

            fn __schema() -> &'static ::flags_core::__private::Schema {
                ::flags_core::__private::unreachable!()
            }

            fn __from_vars(
                _: &::flags_core::__private::Vars,
            ) -> ::flags_core::__private::Result<Self, ::flags_core::__private::FlagsError> {
                ::flags_core::__private::unreachable!()
            }

            fn validate(&self) -> ::flags_core::__private::Result<(), ::flags_core::__private::FlagsError> {
                ::flags_core::__private::unreachable!()
            }

            fn public_flags(&self) -> ::flags_core::__private::PublicFlags {
                ::flags_core::__private::unreachable!()
            }

            fn public_flags_for(&self, _: &str) -> ::flags_core::__private::PublicFlags {
                ::flags_core::__private::unreachable!()
            }

            fn log_state(&self) {
                ::flags_core::__private::unreachable!()
            }
        }
    })
}

/// The fields that `requires` reads: each flag with a requirement, and each flag it names.
fn requirement_fields<'i, 'a>(input: &'i Input<'a>) -> Vec<&'i Field<'a>> {
    input
        .fields
        .iter()
        .filter(|field| {
            !field.attrs.requires.is_empty()
                || input.fields.iter().any(|other| {
                    other.attrs.requires.iter().any(|requirement| {
                        requirement.targets.iter().any(|target| {
                            valid::requires_target(input, &target.value())
                                .is_some_and(|target| std::ptr::eq(target, *field))
                        })
                    })
                })
        })
        .collect()
}

fn field_index(input: &Input, field: &Field) -> Literal {
    let index = input
        .fields
        .iter()
        .position(|other| std::ptr::eq(other, field))
        .unwrap_or_default();
    Literal::usize_unsuffixed(index)
}

/// `__check_requires`, shared by loading (on the values that parsed) and `validate`.
fn check_requires(input: &Input) -> Option<TokenStream> {
    let fields = requirement_fields(input);
    if fields.is_empty() {
        return None;
    }
    let members = fields.iter().map(|field| {
        let ident = field.ident;
        let ty = field.ty;
        quote!(#ident: ::flags_core::__private::Option<&'a #ty>)
    });
    let checks = input.fields.iter().flat_map(|field| {
        let requirements = field.attrs.requires.iter().enumerate();
        requirements.map(move |(position, requirement)| {
            requirement_check(input, field, position, requirement)
        })
    });
    Some(quote! {
        /// The values `requires` reads; `None` for a value that failed to load.
        struct __FlagValues<'a> {
            #(#members),*
        }

        fn __check_requires(
            __requires: &mut ::flags_core::__private::Requires<'_>,
            __values: __FlagValues<'_>,
        ) {
            #(#checks)*
        }
    })
}

/// One `requires` (the `position`-th of `field`): when it applies, its targets must be set.
fn requirement_check(
    input: &Input,
    field: &Field,
    position: usize,
    requirement: &Requirement,
) -> TokenStream {
    let index = field_index(input, field);
    let ident = field.ident;
    let ty = field.ty;
    let to_env = value_item(field, "to_env");
    let applies = match &requirement.when {
        None => {
            // The whole call at `requires`: a type that is not a switch is reported there.
            let switch = if field.reads_without_flag_value() {
                quote_spanned!(requirement.key.span()=> SerdeSwitch)
            } else {
                quote_spanned!(requirement.key.span()=> Switch)
            };
            let is_on = quote_spanned! {requirement.key.span()=>
                ::flags_core::__private::#switch::is_on(value)
            };
            quote!(|value: &#ty| #is_on)
        }
        Some(_) => {
            let when = when_fn(field, position);
            quote!(|value: &#ty| #to_env(value) == #to_env(&#when()))
        }
    };
    let targets = requirement.targets.iter().filter_map(|target| {
        let target = valid::requires_target(input, &target.value())?;
        let index = field_index(input, target);
        let ident = target.ident;
        let is_unset = value_item(target, "is_unset");
        Some(quote!((#index, __values.#ident.map(#is_unset))))
    });
    quote! {
        __requires.require(#index, __values.#ident, #applies, #to_env, &[#(#targets),*]);
    }
}

/// A `secret` flag of a type whose `Debug` shows its value (`Option<String>`) fails to compile, at
/// the type: `{:?}` of the settings must not print a secret. (A `serde` field is checked by
/// `SerdeSecret`, the trait it is read through.)
fn secret_type_hides_value(field: &Field) -> Option<TokenStream> {
    field.attrs.secret.as_ref()?;
    if field.attrs.serde.is_some() {
        return None;
    }
    let secret = value_item(field, "SECRET");
    // The path runs from the type's first token to its last, so rustc underlines the whole type.
    let (first, last) = ast::first_and_last_span(field.ty);
    let close = quote_spanned!(last=> >);
    Some(quote_spanned! {first=>
        const _: () = <::flags_core::__private::SecretType<{ #secret } #close
            as ::flags_core::__private::HidesValue>::CHECKED;
    })
}

/// A `public` flag of a secret type (`SecretString`) fails to compile, at `public`.
fn public_type_is_not_secret(field: &Field) -> Option<TokenStream> {
    let public = field.attrs.public.as_ref()?;
    if field.reads_without_flag_value() {
        return None;
    }
    let secret = value_item(field, "SECRET");
    Some(quote_spanned! {public.key.span()=>
        const _: () = <::flags_core::__private::SecretType<{ #secret }>
            as ::flags_core::__private::PublicType>::CHECKED;
    })
}

fn validate(input: &Input) -> TokenStream {
    let fields = requirement_fields(input);
    let body = if fields.is_empty() {
        quote!(::flags_core::__private::Ok(()))
    } else {
        let values = fields.iter().map(|field| {
            let ident = field.ident;
            quote!(#ident: ::flags_core::__private::Some(&self.#ident))
        });
        quote! {
            ::flags_core::__private::validate(Self::__schema(), |__requires| {
                __check_requires(__requires, __FlagValues { #(#values),* })
            })
        }
    };
    quote! {
        fn validate(&self) -> ::flags_core::__private::Result<(), ::flags_core::__private::FlagsError> {
            #body
        }
    }
}

fn public_flags(input: &Input) -> TokenStream {
    let shared = public_entries(input, |field| {
        let ident = field.ident;
        let per_user = value_item(field, "PER_USER");
        let to_public = value_item(field, "to_public");
        quote!(::flags_core::__private::shared_public(&self.#ident, #per_user, #to_public))
    });
    let for_user = public_entries(input, |field| {
        let ident = field.ident;
        let to_public_for = value_item(field, "to_public_for");
        quote!(::flags_core::__private::Some(#to_public_for(&self.#ident, user)))
    });
    quote! {
        fn public_flags(&self) -> ::flags_core::__private::PublicFlags {
            ::flags_core::__private::PublicFlags::from_entries([#(#shared),*])
        }

        fn public_flags_for(&self, user: &str) -> ::flags_core::__private::PublicFlags {
            ::flags_core::__private::PublicFlags::from_entries([#(#for_user),*])
        }
    }
}

/// `(name, Option<PublicValue>)` for each `public` field: `value` for `FlagValue` fields, the
/// serde projection for `serde` fields.
fn public_entries<'a>(
    input: &'a Input,
    value: impl Fn(&Field) -> TokenStream + 'a,
) -> impl Iterator<Item = TokenStream> + 'a {
    input.fields.iter().filter_map(move |field| {
        let name = valid::public_name(field)?;
        let ident = field.ident;
        let value = if field.attrs.serde.is_some() {
            quote!(::flags_core::__private::Some(::flags_core::__private::serde_public(&self.#ident)))
        } else if field.attrs.from_str.is_some() {
            let to_public = value_item(field, "to_public");
            quote!(::flags_core::__private::Some(#to_public(&self.#ident)))
        } else {
            value(field)
        };
        Some(quote!((#name, #value)))
    })
}

fn log_state(input: &Input) -> TokenStream {
    let flags = input.fields.iter().enumerate().map(|(index, field)| {
        let index = Literal::usize_unsuffixed(index);
        let ident = field.ident;
        let summary = value_item(field, "summary");
        let is_unset = value_item(field, "is_unset");
        let switched_on = value_item(field, "switched_on");
        let parse = value_item(field, "parse_env");
        let to_env = value_item(field, "to_env");
        quote! {
            __log.flag(#index, &self.#ident, ::flags_core::__private::ValueFns {
                summary: #summary,
                is_unset: #is_unset,
                switched_on: #switched_on,
                parse: #parse,
                to_env: #to_env,
            });
        }
    });
    let body = (!input.fields.is_empty()).then(|| {
        quote! {
            let __log = ::flags_core::__private::StateLog::new(Self::__schema());
            #(#flags)*
        }
    });
    quote! {
        fn log_state(&self) {
            #body
        }
    }
}

/// One function per expression the user wrote (`default`, each `when`), returning the field's
/// type: rustc checks each expression once, at its own span, against the field's type, and after
/// an edit re-checks only the functions whose expression changed. The value goes through a `let`
/// of the field's type so that a mismatch says "expected due to this" at the field's type, not
/// "because of return type" about a function the user never wrote.
fn value_fns(field: &Field) -> TokenStream {
    let ty = field.ty;
    let default = field.attrs.default.as_ref().map(|expr| {
        let name = default_fn(field);
        let body = value_of(expr);
        quote!(fn #name() -> #ty { let value: #ty = #body; value })
    });
    let requirements = field.attrs.requires.iter().enumerate();
    let whens = requirements.filter_map(|(position, requirement)| {
        let body = value_of(requirement.when.as_ref()?);
        let name = when_fn(field, position);
        Some(quote!(fn #name() -> #ty { let value: #ty = #body; value }))
    });
    quote! {
        #default
        #(#whens)*
    }
}

fn default_fn(field: &Field) -> Ident {
    format_ident!("__default_{}", field.name())
}

fn when_fn(field: &Field, position: usize) -> Ident {
    format_ident!("__when_{}_{}", field.name(), position)
}

/// `__text`: the text of every default and `when` value, for `FlagMeta::default` and
/// `Requirement::when`; one function for the struct rather than a closure per flag.
fn text_fn(input: &Input) -> TokenStream {
    let defaults = input.fields.iter().enumerate().map(|(index, field)| {
        let index = Literal::usize_unsuffixed(index);
        let text = match &field.attrs.default {
            Some(_) => {
                let to_env = value_item(field, "to_env");
                let default = default_fn(field);
                quote!(::flags_core::__private::Some(#to_env(&#default())))
            }
            None => {
                let unset = value_item(field, "unset");
                quote!(::flags_core::__private::unset_text(#unset))
            }
        };
        let summary = field.attrs.default.as_ref().map(|_| {
            let summary = value_item(field, "summary");
            let default = default_fn(field);
            quote! {
                ::flags_core::__private::Text::DefaultSummary(#index) => {
                    ::flags_core::__private::Some(#summary(&#default()))
                }
            }
        });
        quote! {
            ::flags_core::__private::Text::Default(#index) => #text,
            #summary
        }
    });
    let whens = input.fields.iter().enumerate().flat_map(|(index, field)| {
        let requirements = field.attrs.requires.iter().enumerate();
        requirements.filter_map(move |(position, requirement)| {
            requirement.when.as_ref()?;
            let when = when_fn(field, position);
            let to_env = value_item(field, "to_env");
            let (index, position) = (
                Literal::usize_unsuffixed(index),
                Literal::usize_unsuffixed(position),
            );
            Some(quote! {
                ::flags_core::__private::Text::When(#index, #position) => {
                    ::flags_core::__private::Some(#to_env(&#when()))
                }
            })
        })
    });
    quote! {
        fn __text(
            text: ::flags_core::__private::Text,
        ) -> ::flags_core::__private::Option<::flags_core::__private::String> {
            match text {
                #(#defaults)*
                #(#whens)*
                _ => ::flags_core::__private::None,
            }
        }
    }
}

/// A string literal becomes a string-like value (`String`, `PathBuf`, `SecretString`) through a
/// trait method, whose error names no function bound; anything else is taken as written.
fn value_of(expr: &Expr) -> TokenStream {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(text),
            ..
        }) => {
            quote_spanned!(text.span()=> ::flags_core::__private::StringDefault::from_literal(#text))
        }
        expr => quote!(#expr),
    }
}

/// `<T as FlagValue>::item`, or `<T as SerdeValue>::item` for a `serde` field (`SerdeSecret` for a
/// secret one), `<T as FromStrValue<Kind>>::item` for a `from_str` one, at the type's span: if the type cannot be read, every use fails alike and rustc
/// reports it once, at the type.
fn value_item(field: &Field, item: &str) -> TokenStream {
    let ty = field.ty;
    let item = Ident::new(item, ty.span());
    let adapter = match (&field.attrs.serde, &field.attrs.secret) {
        _ if field.attrs.from_str.is_some() => {
            let kind = if ast::is_option(ty) {
                quote_spanned!(ty.span()=> Optional)
            } else {
                quote_spanned!(ty.span()=> Plain)
            };
            quote_spanned!(ty.span()=> FromStrValue<::flags_core::__private::#kind>)
        }
        (Some(_), Some(_)) => quote_spanned!(ty.span()=> SerdeSecret),
        (Some(_), None) => quote_spanned!(ty.span()=> SerdeValue),
        (None, _) => quote_spanned!(ty.span()=> FlagValue),
    };
    quote_spanned!(ty.span()=> <#ty as ::flags_core::__private::#adapter>::#item)
}

fn flag_meta(input: &Input, field: &Field) -> TokenStream {
    let ty = field.ty;
    let name = field.name();
    let env = &field.env;
    let type_name = ast::type_name(ty);
    let description = &field.description;
    let index = field_index(input, field);
    let (values, aliases) = if field.reads_without_flag_value() {
        (quote!(&[]), quote!(&[]))
    } else {
        (value_item(field, "VALUES"), value_item(field, "ALIASES"))
    };
    let requires = field
        .attrs
        .requires
        .iter()
        .enumerate()
        .map(|(position, requirement)| {
            let when = match &requirement.when {
                Some(_) => {
                    let position = Literal::usize_unsuffixed(position);
                    quote!(::flags_core::__private::Some((__text, #index, #position)))
                }
                None => quote!(::flags_core::__private::None),
            };
            let vars = requirement.targets.iter().filter_map(|target| {
                valid::requires_target(input, &target.value()).map(|target| &target.env)
            });
            quote!(::flags_core::__private::Requirement::new(#when, &[#(#vars),*]))
        });
    let public = optional_str(valid::public_name(field));
    let secret = if field.attrs.secret.is_some() {
        quote!(true)
    } else if field.reads_without_flag_value() {
        quote!(false)
    } else {
        value_item(field, "SECRET")
    };
    let per_user = if field.reads_without_flag_value() {
        quote!(false)
    } else {
        value_item(field, "PER_USER")
    };
    let status = optional_str(field.attrs.status.as_ref().map(LitStr::value));
    let group = optional_str(field.attrs.group.as_ref().map(LitStr::value));
    let expires = optional_str(field.attrs.expires.as_ref().map(LitStr::value));
    let rollout_group = optional_str(field.attrs.rollout_group.as_ref().map(LitStr::value));
    quote! {
        ::flags_core::__private::FlagMeta::from_parts(::flags_core::__private::FlagMetaParts {
            field: #name,
            env: #env,
            type_name: #type_name,
            description: #description,
            index: #index,
            text: __text,
            values: #values,
            aliases: #aliases,
            requires: &[#(#requires),*],
            public: #public,
            secret: #secret,
            per_user: #per_user,
            status: #status,
            group: #group,
            expires: #expires,
            rollout_group: #rollout_group,
        })
    }
}

fn optional_str(text: Option<String>) -> TokenStream {
    match text {
        Some(text) => quote!(::flags_core::__private::Some(#text)),
        None => quote!(::flags_core::__private::None),
    }
}

fn schema(input: &Input) -> TokenStream {
    let ident = input.ident;
    let prefix = input
        .attrs
        .prefix
        .as_ref()
        .map(|prefix| prefix.value())
        .unwrap_or_default();
    let deny_unknown = input.attrs.deny_unknown.is_some();
    quote! {
        fn __schema() -> &'static ::flags_core::__private::Schema {
            static SCHEMA: ::flags_core::__private::Schema = ::flags_core::__private::Schema::new(
                #prefix,
                #deny_unknown,
                <#ident as ::flags_core::__private::FeatureFlags>::FLAGS,
            );
            &SCHEMA
        }
    }
}

fn from_vars(input: &Input) -> TokenStream {
    let parse = input.fields.iter().enumerate().map(|(index, field)| {
        let ident = field.ident;
        let index = Literal::usize_unsuffixed(index);
        let parse = value_item(field, "parse_env");
        let bind = value_item(field, "BIND");
        match &field.attrs.default {
            Some(_) => {
                let default = default_fn(field);
                quote!(let #ident = __fields.with_default(#index, #parse, #default, #bind);)
            }
            None => {
                let unset = value_item(field, "unset");
                quote!(let #ident = __fields.without_default(#index, #parse, #unset, #bind);)
            }
        }
    });
    let idents: Vec<&Ident> = input.fields.iter().map(|field| field.ident).collect();
    let values: Vec<_> = requirement_fields(input)
        .iter()
        .map(|field| {
            let ident = field.ident;
            quote!(#ident: #ident.as_ref())
        })
        .collect();
    let check = (!values.is_empty()).then(
        || quote!(__check_requires(&mut __fields.requires(), __FlagValues { #(#values),* });),
    );
    // Each value is `None` only after its problem was recorded.
    let unwrap = (!idents.is_empty()).then(|| {
        quote! {
            let (#(::flags_core::__private::Some(#idents),)*) = (#(#idents,)*) else {
                return ::flags_core::__private::Err(__fields.into_error());
            };
        }
    });
    quote! {
        fn __from_vars(
            vars: &::flags_core::__private::Vars,
        ) -> ::flags_core::__private::Result<Self, ::flags_core::__private::FlagsError> {
            let mut __fields = ::flags_core::__private::Fields::new(vars);
            #(#parse)*
            #check
            #unwrap
            __fields.finish()?;
            ::flags_core::__private::Ok(Self { #(#idents),* })
        }
    }
}
