//! Code generation for `#[derive(FeatureFlags)]`, from an IR that validation has accepted.
//!
//! The derive writes what only it knows: a const of metadata, one function per expression the
//! user wrote, and one generic call per field to read it and to visit it. Every call hands the
//! runtime the field's kind, `<Type as FlagValue>::__KIND`, at the field's type, so a type that
//! cannot be read fails there. Everything is named through `::flags_core::__private`, imported
//! as `__flags` in the block that holds the output (as serde's derive imports itself), so the
//! output compiles with no `use` in scope and under `#![no_implicit_prelude]`.

use proc_macro2::{Group, Ident, Literal, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Lit, LitStr};

use crate::ast::{self, Field, Input};

pub fn derive(input: &Input) -> TokenStream {
    let ident = input.ident;
    let kinds = input.fields.iter().map(kind_const);
    let value_fns = input.fields.iter().map(value_fns);
    let checks = input.fields.iter().map(checks);
    let flags = input.fields.iter().map(|field| flag_meta(input, field));
    let schema = schema(input);
    let load = load(input);
    let visit = visit(input);
    quote! {
        const _: () = {
            use ::flags_core::__private as __flags;

            #(#kinds)*
            #(#value_fns)*
            #(#checks)*

            #[automatically_derived]
            impl __flags::FeatureFlags for #ident {
                const FLAGS: &'static [__flags::FlagMeta] = &[#(#flags),*];

                #schema

                #load

                #visit
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

            fn __load(
                _: &mut ::flags_core::__private::Load<'_>,
            ) -> ::flags_core::__private::Option<Self> {
                ::flags_core::__private::unreachable!()
            }

            fn __visit(&self, _: &mut dyn ::flags_core::__private::Visitor) {
                ::flags_core::__private::unreachable!()
            }
        }
    })
}

/// `const __KIND_0: &Kind<T> = <T as FlagValue>::__KIND;`: the field's kind, named once for
/// every use, at the type's span. If the type cannot be read, this is the one place that fails,
/// at the type, naming the trait it lacks.
fn kind_const(field: &Field) -> TokenStream {
    let ty = field.ty;
    let name = kind(field);
    let adapter = if field.attrs.from_str.is_some() {
        let form = if ast::is_option(ty) {
            quote_spanned!(ty.span()=> Optional)
        } else {
            quote_spanned!(ty.span()=> Plain)
        };
        quote_spanned!(ty.span()=> FromStrValue<__flags::#form>)
    } else if field.attrs.serde.is_some() && field.attrs.secret.is_some() {
        quote_spanned!(ty.span()=> SerdeSecret)
    } else if field.attrs.serde.is_some() {
        quote_spanned!(ty.span()=> SerdeValue)
    } else {
        quote_spanned!(ty.span()=> FlagValue)
    };
    quote_spanned! {ty.span()=>
        const #name: &__flags::Kind<#ty> = <#ty as __flags::#adapter>::__KIND;
    }
}

/// The name of the field's kind ([`kind_const`]).
fn kind(field: &Field) -> Ident {
    format_ident!("__KIND_{}", field.index)
}

/// `fn __load`: each field read in turn, so that every problem is recorded before the first
/// missing value ends the function.
fn load(input: &Input) -> TokenStream {
    let reads = input.fields.iter().map(|field| {
        let ident = field.ident;
        let index = Literal::usize_unsuffixed(field.index);
        let kind = kind(field);
        match &field.attrs.default {
            Some(_) => {
                let default = default_fn(field);
                quote!(let #ident = __load.read_or(#index, #kind, #default);)
            }
            None => quote!(let #ident = __load.read(#index, #kind);),
        }
    });
    let idents = input.fields.iter().map(|field| field.ident);
    quote! {
        fn __load(
            __load: &mut __flags::Load<'_>,
        ) -> __flags::Option<Self> {
            #(#reads)*
            __flags::Some(Self { #(#idents: #idents?),* })
        }
    }
}

/// `fn __visit`: each field handed to the visitor with its kind; and `fn __visit_field`, one of
/// them by its position.
fn visit(input: &Input) -> TokenStream {
    let fields = input.fields.iter().map(|field| {
        let ident = field.ident;
        let index = Literal::usize_unsuffixed(field.index);
        let kind = kind(field);
        quote!(__visitor.field(#index, &#kind.field(&self.#ident));)
    });
    let arms = input.fields.iter().map(|field| {
        let ident = field.ident;
        let index = Literal::usize_unsuffixed(field.index);
        let kind = kind(field);
        quote!(#index => __visitor.field(#index, &#kind.field(&self.#ident)),)
    });
    quote! {
        fn __visit(&self, __visitor: &mut dyn __flags::Visitor) {
            #(#fields)*
        }

        fn __visit_field(&self, __index: ::core::primitive::usize, __visitor: &mut dyn __flags::Visitor) {
            match __index {
                #(#arms)*
                _ => {}
            }
        }
    }
}

/// What rustc checks at the tokens the user wrote: a `secret` flag's type hides its value, a
/// `public` flag's type is not secret, a `live` flag not marked `secret` has a secret type, and
/// `requires` without `when` is on a flag that is on or off.
fn checks(field: &Field) -> TokenStream {
    let ty = field.ty;
    let reads_with_flag_value = !field.reads_without_flag_value();
    let secret = field
        .attrs
        .secret
        .as_ref()
        .filter(|_| reads_with_flag_value);
    let kind = kind(field);
    let hides_value = secret.map(|_| {
        let secret = quote_spanned!(ty.span()=> #kind.is_secret());
        // The path runs from the type's first token to its last: rustc underlines the whole type.
        let (first, last) = ast::first_and_last_span(ty);
        let close = quote_spanned!(last=> >);
        quote_spanned! {first=>
            const _: () = <__flags::SecretType<{ #secret } #close
                as __flags::HidesValue>::CHECKED;
        }
    });
    let public = field
        .attrs
        .public
        .as_ref()
        .filter(|_| reads_with_flag_value);
    let not_secret = public.map(|public| {
        let secret = quote_spanned!(ty.span()=> #kind.is_secret());
        quote_spanned! {public.key.span()=>
            const _: () = <__flags::SecretType<{ #secret }>
                as __flags::PublicType>::CHECKED;
        }
    });
    // `live` on a flag not marked `secret`: its type must be secret for `live` to mean anything.
    let live_secret = field
        .attrs
        .live
        .as_ref()
        .filter(|_| field.attrs.secret.is_none() && reads_with_flag_value)
        .map(|live| {
            let secret = quote_spanned!(ty.span()=> #kind.is_secret());
            quote_spanned! {live.span()=>
                const _: () = <__flags::SecretType<{ #secret }>
                    as __flags::LiveType>::CHECKED;
            }
        });
    let switches = field
        .attrs
        .requires
        .iter()
        .filter(|requirement| requirement.when.is_none())
        .map(|requirement| {
            let switch = if reads_with_flag_value {
                quote_spanned!(requirement.key.span()=> Switch)
            } else {
                quote_spanned!(requirement.key.span()=> AnySwitch)
            };
            // The type's tokens take the key's span too: the error is about `requires`.
            let ty = respanned(quote!(#ty), requirement.key.span());
            quote_spanned! {requirement.key.span()=>
                const _: () = <#ty as __flags::#switch>::CHECKED;
            }
        });
    quote! {
        #hides_value
        #not_secret
        #live_secret
        #(#switches)*
    }
}

/// `tokens` with every token's span set to `span`.
fn respanned(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            if let TokenTree::Group(group) = &token {
                let mut inner = Group::new(group.delimiter(), respanned(group.stream(), span));
                inner.set_span(span);
                token = TokenTree::Group(inner);
            }
            token.set_span(span);
            token
        })
        .collect()
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

/// A string literal becomes a string-like value (`String`, `PathBuf`, `SecretString`) through a
/// trait method, whose error names no function bound; anything else is taken as written.
fn value_of(expr: &Expr) -> TokenStream {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(text),
            ..
        }) => {
            quote_spanned!(text.span()=> __flags::StringDefault::from_literal(#text))
        }
        expr => quote!(#expr),
    }
}

/// The field's [`FlagMeta`]: what the type says comes from its kind's `flag_parts`, and only what
/// the attributes set is written out.
fn flag_meta(input: &Input, field: &Field) -> TokenStream {
    let kind = kind(field);
    let name = field.name();
    let env = &field.env;
    let type_name = ast::type_name(field.ty);
    // Without one, the type's value for unset is the default, which `of` knows from the kind.
    let default = field.attrs.default.as_ref().map(|_| {
        let default = default_fn(field);
        quote!(written: __flags::Some(&__flags::WrittenValue::new(#kind, #default)),)
    });
    let description = (!field.description.is_empty()).then(|| {
        let description = &field.description;
        quote!(description: #description,)
    });
    let requires = (!field.attrs.requires.is_empty()).then(|| {
        let requires = field
            .attrs
            .requires
            .iter()
            .enumerate()
            .map(|(position, requirement)| {
                let when = match &requirement.when {
                    Some(_) => {
                        let when = when_fn(field, position);
                        quote!(__flags::Some(&__flags::WrittenValue::new(#kind, #when)))
                    }
                    None => quote!(__flags::None),
                };
                let vars = requirement
                    .targets
                    .iter()
                    .filter_map(|target| Some(&input.field(target.field?).env));
                quote!(__flags::Requirement::new(#when, &[#(#vars),*]))
            });
        quote!(requires: &[#(#requires),*],)
    });
    let public = optional(quote!(public), field.public_name.clone());
    let secret = field.attrs.secret.as_ref().map(|_| quote!(secret: true,));
    let restart = field.attrs.restart.as_ref().map(|_| quote!(restart: true,));
    let live = field.attrs.live.as_ref().map(|_| quote!(live: true,));
    let status = optional(
        quote!(status),
        field.attrs.status.as_ref().map(LitStr::value),
    );
    let group = optional(quote!(group), field.attrs.group.as_ref().map(LitStr::value));
    let expires = optional(
        quote!(expires),
        field.attrs.expires.as_ref().map(LitStr::value),
    );
    let rollout_group = optional(
        quote!(rollout_group),
        field.attrs.rollout_group.as_ref().map(LitStr::value),
    );
    let managed_as = optional(
        quote!(managed_as),
        field
            .attrs
            .managed_as
            .as_ref()
            .map(|(_, name)| name.value()),
    );
    quote! {
        __flags::FlagMeta::from_parts(__flags::FlagMetaParts {
            #default
            #description
            #requires
            #public
            #secret
            #restart
            #live
            #status
            #group
            #expires
            #rollout_group
            #managed_as
            field: #name,
            env: #env,
            type_name: #type_name,
            ..#kind.parts
        })
    }
}

/// `key: Some("text"),` for a part that is set; nothing for one that is not.
fn optional(key: TokenStream, text: Option<String>) -> Option<TokenStream> {
    text.map(|text| quote!(#key: __flags::Some(#text),))
}

fn schema(input: &Input) -> TokenStream {
    let ident = input.ident;
    let prefix = &input.prefix;
    let deny_unknown = input.attrs.deny_unknown.is_some();
    quote! {
        fn __schema() -> &'static __flags::Schema {
            static SCHEMA: __flags::Schema = __flags::Schema::new(
                #prefix,
                #deny_unknown,
                <#ident as __flags::FeatureFlags>::FLAGS,
            );
            &SCHEMA
        }
    }
}
