//! The intermediate representation: built once from syn, then only read.

use syn::spanned::Spanned;
use syn::{Attribute, Data, DeriveInput, Fields, Generics, Ident, Type};

use crate::attr::{self, FieldAttrs, StructAttrs};
use crate::ctxt::Ctxt;

/// A struct deriving `FeatureFlags`.
pub struct Input<'a> {
    pub ident: &'a Ident,
    pub generics: &'a Generics,
    pub attrs: StructAttrs,
    /// The prefix of the fields' variables; empty without one.
    pub prefix: String,
    pub fields: Vec<Field<'a>>,
}

/// One field: one flag. Every `requires` target in its attributes is resolved to the position
/// of the field it names.
pub struct Field<'a> {
    /// Its position in the struct.
    pub index: usize,
    pub ident: &'a Ident,
    pub ty: &'a Type,
    pub attrs: FieldAttrs,
    /// The doc comment, lines joined with `\n`.
    pub description: String,
    /// The variable: `env`, or the prefix and the field name in upper case.
    pub env: String,
    /// The name in the public projection, for a `public` flag: `public = "…"` or the field name.
    pub public_name: Option<String>,
}

impl<'a> Input<'a> {
    /// The IR of `node`, or `None` (with the reason recorded) when it is not a struct with named
    /// fields.
    pub fn from_syn(cx: &Ctxt, node: &'a DeriveInput) -> Option<Self> {
        let fields = match &node.data {
            Data::Struct(data) => match &data.fields {
                Fields::Named(fields) => &fields.named,
                Fields::Unnamed(fields) => {
                    cx.error_spanned_by(
                        fields,
                        "`FeatureFlags` needs named fields: each field is a flag named after it",
                    );
                    return None;
                }
                Fields::Unit => {
                    cx.error_spanned_by(
                        &node.ident,
                        "`FeatureFlags` needs a struct with named fields, one per flag",
                    );
                    return None;
                }
            },
            Data::Enum(data) => {
                cx.error_spanned_by(
                    data.enum_token,
                    "`FeatureFlags` is derived for a struct of flags; for an enum that one flag \
                     can hold, derive `FlagValue`",
                );
                return None;
            }
            Data::Union(data) => {
                cx.error_spanned_by(
                    data.union_token,
                    "`FeatureFlags` is derived for a struct with named fields, not a union",
                );
                return None;
            }
        };
        let attrs = attr::struct_attrs(cx, &node.attrs);
        let prefix = attrs
            .prefix
            .as_ref()
            .map(|prefix| prefix.value())
            .unwrap_or_default();
        let mut fields: Vec<Field> = fields
            .iter()
            .filter_map(|field| field.ident.as_ref().map(|ident| (ident, field)))
            .enumerate()
            .map(|(index, (ident, field))| {
                let attrs = attr::field_attrs(cx, &field.attrs);
                let env = match &attrs.env {
                    Some(env) => env.value(),
                    None => format!("{prefix}{}", unraw(ident).to_uppercase()),
                };
                let public_name = attrs.public.as_ref().map(|public| match &public.name {
                    Some(name) => name.value(),
                    None => unraw(ident),
                });
                Field {
                    index,
                    ident,
                    ty: &field.ty,
                    attrs,
                    description: doc_comment(&field.attrs),
                    env,
                    public_name,
                }
            })
            .collect();
        resolve_requires_targets(&mut fields);
        Some(Input {
            ident: &node.ident,
            generics: &node.generics,
            attrs,
            prefix,
            fields,
        })
    }

    /// The field at position `index`, as a resolved `requires` target names it.
    pub fn field(&self, index: usize) -> &Field<'a> {
        &self.fields[index]
    }
}

/// Resolves each `requires` name to the field it names: by field name first, then by variable.
fn resolve_requires_targets(fields: &mut [Field]) {
    let positions: Vec<Option<usize>> = fields
        .iter()
        .flat_map(|field| field.attrs.requires.iter())
        .flat_map(|requirement| requirement.targets.iter())
        .map(|target| {
            let name = target.name.value();
            let by_field = fields.iter().position(|field| field.name() == name);
            by_field.or_else(|| fields.iter().position(|field| field.env == name))
        })
        .collect();
    let targets = fields
        .iter_mut()
        .flat_map(|field| field.attrs.requires.iter_mut())
        .flat_map(|requirement| requirement.targets.iter_mut());
    for (target, position) in targets.zip(positions) {
        target.field = position;
    }
}

impl Field<'_> {
    /// The field's name as the user reads it (`type` for `r#type`).
    pub fn name(&self) -> String {
        unraw(self.ident)
    }

    /// Whether the field is read through serde or `FromStr` rather than `FlagValue`, so that the
    /// items only `FlagValue` has (`VALUES`, `SECRET`) do not apply.
    pub fn reads_without_flag_value(&self) -> bool {
        self.attrs.serde.is_some() || self.attrs.from_str.is_some()
    }
}

/// Whether `ty` is written as an `Option` (`Option<T>`, `std::option::Option<T>`).
pub fn is_option(ty: &Type) -> bool {
    let Type::Path(path) = ty else { return false };
    path.path
        .segments
        .last()
        .is_some_and(|last| last.ident == "Option")
}

pub fn unraw(ident: &Ident) -> String {
    let name = ident.to_string();
    name.strip_prefix("r#").map(str::to_owned).unwrap_or(name)
}

/// The text of `///` comments: one leading space removed from each line, blank edges trimmed.
pub fn doc_comment(attrs: &[Attribute]) -> String {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|attr| attr.path().is_ident("doc"))
        .filter_map(|attr| match &attr.meta {
            syn::Meta::NameValue(doc) => match &doc.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(text),
                    ..
                }) => Some(text.value()),
                _ => None,
            },
            _ => None,
        })
        .flat_map(|text| {
            text.split('\n')
                .map(|line| line.strip_prefix(' ').unwrap_or(line).trim_end().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    lines.join("\n").trim().to_owned()
}

/// The spans of the first and last tokens of `ty`: generated code whose first and last tokens
/// carry them gets a span rustc draws under the whole type.
pub fn first_and_last_span(ty: &Type) -> (proc_macro2::Span, proc_macro2::Span) {
    use proc_macro2::TokenTree;
    let tokens = quote::ToTokens::to_token_stream(ty);
    let first = ty.span();
    let last = tokens
        .into_iter()
        .last()
        .map_or(first, |token| match token {
            TokenTree::Group(group) => group.span_close(),
            token => token.span(),
        });
    (first, last)
}

/// A type as a person writes it: `Option<SecretString>`, `HashMap<String, u32>`, `&'static str`.
pub fn type_name(ty: &Type) -> String {
    let mut text = String::new();
    write_tokens(quote::ToTokens::to_token_stream(ty), &mut text);
    text
}

fn write_tokens(tokens: proc_macro2::TokenStream, text: &mut String) {
    use proc_macro2::{Delimiter, TokenTree};
    let mut previous_was_word = false;
    for token in tokens {
        let is_word = matches!(token, TokenTree::Ident(_) | TokenTree::Literal(_));
        if is_word && previous_was_word {
            text.push(' ');
        }
        previous_was_word = is_word;
        match token {
            TokenTree::Group(group) => {
                let (open, close) = match group.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::None => ("", ""),
                };
                text.push_str(open);
                write_tokens(group.stream(), text);
                text.push_str(close);
            }
            TokenTree::Punct(punct) => {
                text.push(punct.as_char());
                if matches!(punct.as_char(), ',' | ';') {
                    text.push(' ');
                }
            }
            token => text.push_str(&token.to_string()),
        }
    }
}
