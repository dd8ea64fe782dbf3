//! Parsing of `#[flags(...)]`, `#[flag(...)]` and `#[flag_value(...)]` into typed attributes.
//!
//! A malformed key is recorded and its value skipped, so the rest of the attribute is still read
//! and every mistake is reported in one build.

use proc_macro2::TokenTree;
use quote::ToTokens;
use syn::meta::ParseNestedMeta;
use syn::parse::ParseStream;
use syn::parse::discouraged::Speculative;
use syn::{Attribute, Expr, Ident, LitStr, Token};

use crate::ctxt::Ctxt;
use crate::suggest::did_you_mean;
use crate::symbol::*;

/// `#[flags(...)]` on the struct.
#[derive(Default)]
pub struct StructAttrs {
    pub prefix: Option<LitStr>,
    pub deny_unknown: Option<Ident>,
}

/// Every `#[flag(...)]` on one field, merged.
#[derive(Default)]
pub struct FieldAttrs {
    pub default: Option<Expr>,
    pub env: Option<LitStr>,
    pub requires: Vec<Requirement>,
    pub public: Option<Public>,
    pub secret: Option<Ident>,
    pub status: Option<LitStr>,
    pub serde: Option<Ident>,
    pub from_str: Option<Ident>,
    pub group: Option<LitStr>,
    pub expires: Option<LitStr>,
    pub rollout_group: Option<LitStr>,
    pub restart: Option<Ident>,
    pub live: Option<Ident>,
    /// `managed_as = "name"`: the flag's name in the flag service that manages it (Unleash's
    /// toggle, LaunchDarkly's flag key), when not its variable.
    pub managed_as: Option<(Ident, LitStr)>,
}

/// One `requires = …`, with the `when = …` of the same `#[flag(...)]` if there is one.
pub struct Requirement {
    /// The `requires` key, where a diagnostic about the requirement points.
    pub key: Ident,
    pub when: Option<Expr>,
    pub targets: Vec<Target>,
}

/// A flag a `requires` names, by field or variable name.
pub struct Target {
    pub name: LitStr,
    /// The position of the field it names; resolved once every field is known
    /// ([`crate::ast::Input::from_syn`]), `None` for a name that is no flag's.
    pub field: Option<usize>,
}

/// `public` or `public = "name"`.
pub struct Public {
    pub key: Ident,
    pub name: Option<LitStr>,
}

/// `#[flag_value(...)]` on one enum variant.
#[derive(Default)]
pub struct VariantAttrs {
    pub rename: Option<LitStr>,
    pub aliases: Vec<LitStr>,
}

pub fn struct_attrs(cx: &Ctxt, attrs: &[Attribute]) -> StructAttrs {
    let mut parsed = StructAttrs::default();
    for attr in attrs {
        if attr.path().is_ident(FLAG) {
            cx.error_spanned_by(
                attr,
                "#[flag(...)] belongs on a field; on the struct write #[flags(...)]",
            );
        }
    }
    for_each_key(cx, attrs, FLAGS, STRUCT_KEYS, |key, meta| {
        match key.to_string().as_str() {
            PREFIX => set_once(cx, &mut parsed.prefix, key, string(meta, key)?),
            DENY_UNKNOWN => {
                set_once(
                    cx,
                    &mut parsed.deny_unknown,
                    key,
                    no_value(meta, FLAGS, key)?,
                );
            }
            _ => unreachable_key(key)?,
        }
        Ok(())
    });
    parsed
}

pub fn field_attrs(cx: &Ctxt, attrs: &[Attribute]) -> FieldAttrs {
    let mut parsed = FieldAttrs::default();
    for attr in attrs {
        if attr.path().is_ident(FLAGS) {
            cx.error_spanned_by(
                attr,
                "#[flags(...)] belongs on the struct; on a field write #[flag(...)]",
            );
        }
    }
    for attr in attrs.iter().filter(|attr| attr.path().is_ident(FLAG)) {
        // `when` and `requires` pair up within one #[flag(...)].
        let mut when: Option<(Ident, Expr)> = None;
        let mut requires: Option<(Ident, Vec<Target>)> = None;
        for_each_key(
            cx,
            std::slice::from_ref(attr),
            FLAG,
            FIELD_KEYS,
            |key, meta| {
                match key.to_string().as_str() {
                    DEFAULT => set_once(cx, &mut parsed.default, key, expr(meta, key)?),
                    ENV => set_once(cx, &mut parsed.env, key, env_name(meta, key)?),
                    REQUIRES => {
                        let targets = targets(meta, key)?;
                        set_once(cx, &mut requires, key, (key.clone(), targets));
                    }
                    WHEN => {
                        let value = expr(meta, key)?;
                        set_once(cx, &mut when, key, (key.clone(), value));
                    }
                    PUBLIC => {
                        let name = if meta.input.peek(Token![=]) {
                            Some(text(meta, key)?)
                        } else {
                            None
                        };
                        let public = Public {
                            key: key.clone(),
                            name,
                        };
                        set_once(cx, &mut parsed.public, key, public);
                    }
                    SECRET => set_once(cx, &mut parsed.secret, key, no_value(meta, FLAG, key)?),
                    STATUS => set_once(cx, &mut parsed.status, key, text(meta, key)?),
                    SERDE => set_once(cx, &mut parsed.serde, key, no_value(meta, FLAG, key)?),
                    FROM_STR => {
                        set_once(cx, &mut parsed.from_str, key, no_value(meta, FLAG, key)?);
                    }
                    GROUP => set_once(cx, &mut parsed.group, key, text(meta, key)?),
                    EXPIRES => set_once(cx, &mut parsed.expires, key, date(meta, key)?),
                    ROLLOUT_GROUP => set_once(cx, &mut parsed.rollout_group, key, text(meta, key)?),
                    RESTART => set_once(cx, &mut parsed.restart, key, no_value(meta, FLAG, key)?),
                    LIVE => set_once(cx, &mut parsed.live, key, no_value(meta, FLAG, key)?),
                    MANAGED_AS => {
                        let name = (key.clone(), text(meta, key)?);
                        set_once(cx, &mut parsed.managed_as, key, name);
                    }
                    _ => unreachable_key(key)?,
                }
                Ok(())
            },
        );
        match (when, requires) {
            (when, Some((key, targets))) => {
                let when = when.map(|(_, value)| value);
                if when.is_none() && parsed.requires.iter().any(|r| r.when.is_none()) {
                    cx.error_spanned_by(
                        &key,
                        "duplicate `requires`; list every variable in one: requires = [\"A\", \"B\"]",
                    );
                }
                parsed.requires.push(Requirement { key, when, targets });
            }
            (Some((key, _)), None) => cx.error_spanned_by(
                key,
                "`when` needs a `requires` in the same #[flag(...)] to say what that value requires",
            ),
            (None, None) => {}
        }
    }
    parsed
}

pub fn variant_attrs(cx: &Ctxt, attrs: &[Attribute]) -> VariantAttrs {
    let mut parsed = VariantAttrs::default();
    for_each_key(cx, attrs, FLAG_VALUE, VARIANT_KEYS, |key, meta| {
        match key.to_string().as_str() {
            RENAME => set_once(cx, &mut parsed.rename, key, string(meta, key)?),
            ALIAS => parsed.aliases.push(string(meta, key)?),
            _ => unreachable_key(key)?,
        }
        Ok(())
    });
    parsed
}

/// Calls `parse` for each known key of each `#[name(...)]` in `attrs`; reports unknown keys with
/// a suggestion, and records `parse`'s errors without stopping.
fn for_each_key(
    cx: &Ctxt,
    attrs: &[Attribute],
    name: &str,
    keys: &[&str],
    mut parse: impl FnMut(&Ident, &ParseNestedMeta) -> syn::Result<()>,
) {
    for attr in attrs.iter().filter(|attr| attr.path().is_ident(name)) {
        if let syn::Meta::Path(path) = &attr.meta {
            cx.error_spanned_by(path, format!("#[{name}] needs keys: {}", example(name)));
            continue;
        }
        let result = attr.parse_nested_meta(|meta| {
            let key = match meta.path.get_ident() {
                Some(key) if keys.contains(&key.to_string().as_str()) => key,
                _ => {
                    let path = &meta.path;
                    let key = path.to_token_stream().to_string().replace(' ', "");
                    cx.error_spanned_by(
                        path,
                        format!(
                            "unknown key `{key}` in #[{name}(...)]{}",
                            did_you_mean(&key, keys)
                        ),
                    );
                    return skip_value(meta.input);
                }
            };
            if let Err(error) = parse(key, &meta) {
                cx.syn_error(error);
                skip_value(meta.input)?;
            }
            Ok(())
        });
        if let Err(error) = result {
            cx.syn_error(error);
        }
    }
}

/// How an attribute is written, for messages.
fn example(name: &str) -> &'static str {
    match name {
        FLAGS => "#[flags(prefix = \"APP_\")]",
        FLAG => "#[flag(default = …)], #[flag(env = \"NAME\")], …",
        _ => "#[flag_value(rename = \"…\")]",
    }
}

/// Consumes what is left of one key's value, up to the next comma.
fn skip_value(input: ParseStream) -> syn::Result<()> {
    while !input.is_empty() && !input.peek(Token![,]) {
        input.parse::<TokenTree>()?;
    }
    Ok(())
}

fn set_once<T>(cx: &Ctxt, slot: &mut Option<T>, key: &Ident, value: T) {
    if slot.is_some() {
        cx.error_spanned_by(key, format!("duplicate `{key}`; give it once"));
    } else {
        *slot = Some(value);
    }
}

fn unreachable_key(key: &Ident) -> syn::Result<()> {
    Err(syn::Error::new_spanned(key, "this key is not handled here"))
}

/// The `=` after `key`, or an error showing how to write it.
fn value<'a>(
    meta: &'a ParseNestedMeta,
    key: &Ident,
    example: &str,
) -> syn::Result<ParseStream<'a>> {
    if meta.input.peek(Token![=]) {
        meta.value()
    } else {
        Err(syn::Error::new_spanned(
            key,
            format!("`{key}` needs a value: {example}"),
        ))
    }
}

/// An error at the next token of `input` (or at `key` when there is none).
fn error_at_value(input: ParseStream, key: &Ident, message: String) -> syn::Error {
    match input.fork().parse::<TokenTree>() {
        Ok(token) => syn::Error::new_spanned(token, message),
        Err(_) => syn::Error::new_spanned(key, message),
    }
}

fn string(meta: &ParseNestedMeta, key: &Ident) -> syn::Result<LitStr> {
    let example = format!("{key} = \"…\"");
    let input = value(meta, key, &example)?;
    if input.peek(LitStr) {
        input.parse()
    } else {
        let message = format!("`{key}` takes a string literal: {example}");
        Err(error_at_value(input, key, message))
    }
}

/// A name or label that docs show on one line: not blank, no line breaks or other control
/// characters (they would break the generated Markdown and .env.example).
fn text(meta: &ParseNestedMeta, key: &Ident) -> syn::Result<LitStr> {
    let text = string(meta, key)?;
    let value = text.value();
    if value.trim().is_empty() {
        let what = match key.to_string().as_str() {
            PUBLIC => {
                "a public name cannot be empty: write `public` alone for the field's name, or \
                 public = \"name\""
            }
            STATUS => {
                "`status` cannot be empty: say what state the flag is in, e.g. \
                 status = \"experimental\", or leave `status` out"
            }
            GROUP => {
                "`group` cannot be empty: write the heading docs list the flag under, e.g. \
                 group = \"Security\", or leave `group` out"
            }
            _ => {
                "`rollout_group` cannot be empty: write the name users are bucketed by, or leave \
                 it out to bucket them by the flag's variable"
            }
        };
        return Err(syn::Error::new_spanned(&text, what));
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(syn::Error::new_spanned(
            &text,
            format!(
                "{} cannot be in `{key}`: the generated docs and .env.example show it as plain \
                 text on one line",
                describe_char(c)
            ),
        ));
    }
    Ok(text)
}

/// A variable's name: a string, which validation checks a shell can set
/// ([`crate::valid`] holds every rule of variable names).
fn env_name(meta: &ParseNestedMeta, key: &Ident) -> syn::Result<LitStr> {
    string(meta, key)
}

/// A character as a message names it: `-`, a space, a line break (`\n`).
pub fn describe_char(c: char) -> String {
    match c {
        ' ' => String::from("a space"),
        '\n' | '\r' => format!("a line break (`{}`)", c.escape_debug()),
        '\t' => String::from("a tab (`\\t`)"),
        c => format!("`{}`", c.escape_debug()),
    }
}

/// An expression, up to the next comma: syn's parser without `full` knows literals, paths, calls,
/// method calls and macros; anything else (an array, a block) is kept as tokens, which rustc
/// type-checks where the derive puts them.
fn expr(meta: &ParseNestedMeta, key: &Ident) -> syn::Result<Expr> {
    let input = value(meta, key, &format!("{key} = EXPR"))?;
    let fork = input.fork();
    if let Ok(expr) = fork.parse::<Expr>()
        && (fork.is_empty() || fork.peek(Token![,]))
    {
        input.advance_to(&fork);
        return Ok(expr);
    }
    let mut tokens = proc_macro2::TokenStream::new();
    while !input.is_empty() && !input.peek(Token![,]) {
        tokens.extend([input.parse::<TokenTree>()?]);
    }
    if tokens.is_empty() {
        return Err(syn::Error::new_spanned(
            key,
            format!("`{key}` needs a value: {key} = EXPR"),
        ));
    }
    Ok(Expr::Verbatim(tokens))
}

fn no_value(meta: &ParseNestedMeta, attribute: &str, key: &Ident) -> syn::Result<Ident> {
    if meta.input.is_empty() || meta.input.peek(Token![,]) {
        Ok(key.clone())
    } else {
        let message = format!("`{key}` takes no value: write #[{attribute}({key})]");
        Err(error_at_value(meta.input, key, message))
    }
}

/// `"X"` or `["X", "Y"]`, not yet resolved to fields.
fn targets(meta: &ParseNestedMeta, key: &Ident) -> syn::Result<Vec<Target>> {
    let names = target_names(meta, key)?;
    let target = |name| Target { name, field: None };
    Ok(names.into_iter().map(target).collect())
}

fn target_names(meta: &ParseNestedMeta, key: &Ident) -> syn::Result<Vec<LitStr>> {
    let example = "requires = \"VAR\" or requires = [\"VAR\", \"field\"]";
    let input = value(meta, key, example)?;
    let message =
        || format!("`{key}` takes a flag's variable or field name, or a list of them: {example}");
    if input.peek(LitStr) {
        return Ok(vec![input.parse()?]);
    }
    if !input.peek(syn::token::Bracket) {
        return Err(error_at_value(input, key, message()));
    }
    let list;
    syn::bracketed!(list in input);
    let targets = list.parse_terminated(|item| item.parse::<LitStr>(), Token![,]);
    match targets {
        Ok(targets) if !targets.is_empty() => Ok(targets.into_iter().collect()),
        Ok(_) => Err(syn::Error::new_spanned(
            key,
            format!("`{key}` needs at least one name: {example}"),
        )),
        Err(error) => Err(syn::Error::new(error.span(), message())),
    }
}

/// `"YYYY-MM-DD"`, a real date.
fn date(meta: &ParseNestedMeta, key: &Ident) -> syn::Result<LitStr> {
    let date = string(meta, key)?;
    let text = date.value();
    if !is_date(&text) {
        return Err(syn::Error::new_spanned(
            &date,
            format!(
                "`{key}` takes a date as \"YYYY-MM-DD\", e.g. \"2027-03-31\"; `{text}` is not one"
            ),
        ));
    }
    Ok(date)
}

/// Whether `text` is a real date written `YYYY-MM-DD`.
fn is_date(text: &str) -> bool {
    let mut parts = text.split('-');
    let (Some(year), Some(month), Some(day), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let digits = |part: &str, count: usize| {
        part.len() == count && part.bytes().all(|byte| byte.is_ascii_digit())
    };
    if !(digits(year, 4) && digits(month, 2) && digits(day, 2)) {
        return false;
    }
    let (Ok(year), Ok(month), Ok(day)) = (
        year.parse::<u32>(),
        month.parse::<u32>(),
        day.parse::<u32>(),
    ) else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

#[cfg(test)]
mod tests {
    use super::is_date;

    #[test]
    fn only_real_dates_are_dates() {
        for date in ["2027-03-31", "2024-02-29", "2000-02-29", "1999-12-01"] {
            assert!(is_date(date), "{date}");
        }
        for text in [
            "2026-02-29",
            "1900-02-29",
            "2026-04-31",
            "2026-13-01",
            "2026-00-10",
            "26-01-01",
            "2026-1-01",
            "2026-01-01-01",
            "next spring",
        ] {
            assert!(!is_date(text), "{text}");
        }
    }
}
