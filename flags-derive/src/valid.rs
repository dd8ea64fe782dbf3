//! Checks that need the whole struct, and every rule of variable names. What passes here,
//! expansion can rely on.

use std::collections::HashMap;

use syn::{Expr, ExprLit, Lit, LitStr, Type};

use crate::ast::{Field, Input};
use crate::attr::describe_char;
use crate::ctxt::Ctxt;
use crate::suggest::nearest;

pub fn check(cx: &Ctxt, input: &Input) {
    check_generics(cx, input);
    check_prefix(cx, input);
    check_unique_vars(cx, input);
    check_unique_public_names(cx, input);
    for field in &input.fields {
        check_variable(cx, field);
        check_requires_targets(cx, input, field);
        check_public_is_not_secret(cx, field);
        check_one_way_to_read(cx, field);
        check_live(cx, field);
        check_managed_as(cx, field);
        check_string_default_of_primitive(cx, field);
        check_option_without_default(cx, field);
    }
}

fn check_generics(cx: &Ctxt, input: &Input) {
    if !input.generics.params.is_empty() {
        cx.error_spanned_by(
            input.generics,
            "`FeatureFlags` cannot be derived for a generic struct: give each field a concrete type",
        );
    }
}

// Variable names: what a shell can set (`[A-Za-z_][A-Za-z0-9_]*`), for a prefix, an `env`, and
// the variable a field's name makes.

fn is_variable_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// `name` with every character a variable cannot hold replaced by `_`, upper-cased if asked.
fn fixed_name(name: &str, upper_case: bool) -> String {
    let fix = |c: char| match (is_variable_char(c), upper_case) {
        (false, _) => '_',
        (true, true) => c.to_ascii_uppercase(),
        (true, false) => c,
    };
    name.chars().map(fix).collect()
}

/// The prefix starts variables whose rest is the field's name in upper case.
fn check_prefix(cx: &Ctxt, input: &Input) {
    let Some(prefix) = &input.attrs.prefix else {
        return;
    };
    let text = &input.prefix;
    let upper_case = fixed_name(text, true);
    let problem = if text.starts_with(|c: char| c.is_ascii_digit()) {
        String::from(
            "a variable name cannot start with a digit, and the prefix starts every flag's \
             variable: start it with a letter",
        )
    } else if let Some(c) = text.chars().find(|c| !is_variable_char(*c)) {
        format!(
            "{} cannot be in a variable name: a prefix has only upper-case letters, digits and \
             `_`; write `{upper_case}`",
            describe_char(c)
        )
    } else if *text != upper_case {
        let example = input
            .fields
            .iter()
            .find(|field| field.attrs.env.is_none())
            .map_or_else(
                || String::from("FIELD_NAME"),
                |field| field.name().to_uppercase(),
            );
        format!(
            "`{text}` would make variables like `{text}{example}`: the prefix is upper case, as \
             the rest of the name is; write `{upper_case}`"
        )
    } else {
        return;
    };
    cx.error_spanned_by(prefix, problem);
}

/// A field's variable: its `env`, or the one its name makes (`größe` makes none a shell can set).
fn check_variable(cx: &Ctxt, field: &Field) {
    match &field.attrs.env {
        Some(env) => {
            if let Some(problem) = env_problem(&env.value()) {
                cx.error_spanned_by(env, problem);
            }
        }
        None if !field.name().chars().all(is_variable_char) => cx.error_spanned_by(
            field.ident,
            format!(
                "the variable of `{}` would be `{}`, which no shell can set: a variable name has \
                 only ASCII letters, digits and `_`; name it with env = \"…\"",
                field.name(),
                field.env
            ),
        ),
        None => {}
    }
}

/// Why no shell can set a variable named `name` (given with `env`), if it cannot.
fn env_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some(String::from("`env` needs a variable name: env = \"NAME\""));
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        return Some(format!(
            "`{name}` starts with a digit, so no shell can set it: a variable name starts with a \
             letter or `_`"
        ));
    }
    let wrong = name.chars().find(|c| !is_variable_char(*c))?;
    Some(format!(
        "{} in `{}` makes a variable no shell can set: a variable name has only ASCII letters, \
         digits and `_`; write `{}`",
        describe_char(wrong),
        name.escape_debug(),
        fixed_name(name, false)
    ))
}

fn check_unique_vars(cx: &Ctxt, input: &Input) {
    let mut seen: HashMap<&str, &Field> = HashMap::new();
    for field in &input.fields {
        if let Some(first) = seen.insert(&field.env, field) {
            let message = format!(
                "`{}` is already the variable of `{}`; give this field its own `env = \"…\"`",
                field.env,
                first.name()
            );
            match &field.attrs.env {
                Some(env) => cx.error_spanned_by(env, message),
                None => cx.error_spanned_by(field.ident, message),
            }
            seen.insert(&first.env, first);
        }
    }
}

fn check_unique_public_names(cx: &Ctxt, input: &Input) {
    let mut seen: HashMap<&str, &Field> = HashMap::new();
    for field in &input.fields {
        let (Some(public), Some(name)) = (&field.attrs.public, &field.public_name) else {
            continue;
        };
        if let Some(first) = seen.get(name.as_str()) {
            let message = format!(
                "`{}` and `{}` are both public as \"{name}\"; give one `public = \"other_name\"`",
                first.name(),
                field.name()
            );
            match &public.name {
                Some(lit) => cx.error_spanned_by(lit, message),
                None => cx.error_spanned_by(&public.key, message),
            }
        } else {
            seen.insert(name, field);
        }
    }
}

fn check_requires_targets(cx: &Ctxt, input: &Input, field: &Field) {
    for requirement in &field.attrs.requires {
        let mut named: Vec<(usize, &LitStr)> = Vec::new();
        for target in &requirement.targets {
            let name = target.name.value();
            match target.field {
                Some(found) if found == field.index => {
                    cx.error_spanned_by(&target.name, "a flag cannot require itself");
                }
                Some(found) => match named.iter().find(|(other, _)| *other == found) {
                    Some((_, first)) if first.value() == name => cx.error_spanned_by(
                        &target.name,
                        format!("`{name}` is named twice; name each flag once"),
                    ),
                    Some((_, first)) => cx.error_spanned_by(
                        &target.name,
                        format!(
                            "`{name}` names the same flag as `{}` before it; name each flag once",
                            first.value()
                        ),
                    ),
                    None => named.push((found, &target.name)),
                },
                None => cx.error_spanned_by(&target.name, unknown_target(input, &name)),
            }
        }
    }
}

/// What to say of a `requires` name that is no flag: a suggestion in the form the user wrote it
/// (a field name for `whatsap_token`, a variable for `WHATSAP_TOKEN`), or what to name instead.
fn unknown_target(input: &Input, name: &str) -> String {
    let has_lower_case = |name: &str| name.chars().any(char::is_lowercase);
    let field_names: Vec<String> = input.fields.iter().map(Field::name).collect();
    let candidates = input.fields.iter().map(|other| other.env.as_str());
    let candidates = candidates
        .chain(field_names.iter().map(String::as_str))
        .filter(|candidate| has_lower_case(candidate) == has_lower_case(name));
    let hint = match nearest(name, candidates, &input.prefix) {
        Some(suggestion) => format!("; did you mean `{suggestion}`?"),
        None => String::from(
            "; name one of its fields, or its variable, and declare it if it is not there yet",
        ),
    };
    format!("`requires` names no flag of this struct: `{name}`{hint}")
}

fn check_public_is_not_secret(cx: &Ctxt, field: &Field) {
    if let (Some(public), Some(_)) = (&field.attrs.public, &field.attrs.secret) {
        cx.error_spanned_by(
            &public.key,
            "a `secret` flag cannot be `public`: the public projection is sent to frontends",
        );
    }
}

/// `serde` and `from_str` each say how to read the field; a `from_str` type's `Display` shows its
/// value, so it cannot be secret.
fn check_one_way_to_read(cx: &Ctxt, field: &Field) {
    let Some(from_str) = &field.attrs.from_str else {
        return;
    };
    if field.attrs.serde.is_some() {
        cx.error_spanned_by(
            from_str,
            "`from_str` and `serde` each say how to read the field: keep one",
        );
    }
    if let Some(secret) = &field.attrs.secret {
        cx.error_spanned_by(
            secret,
            "a `secret` flag cannot be read with `from_str`, whose `Display` would show it: read \
             it as `SecretString`, or `SecretBox<T>` of a type with `FlagValue`",
        );
    }
}

/// `live` lets a secret change live: it means nothing on a flag that is not secret, and
/// contradicts `restart`.
fn check_live(cx: &Ctxt, field: &Field) {
    let Some(live) = &field.attrs.live else {
        return;
    };
    if field.attrs.restart.is_some() {
        cx.error_spanned_by(
            live,
            "`live` and `restart` contradict each other: a flag that takes effect on restart \
             cannot change live; keep one",
        );
    } else if field.attrs.secret.is_none() && field.reads_without_flag_value() {
        // A flag read through serde or `FromStr` is secret only if it says so; of one read as a
        // `FlagValue`, the type says (`SecretString` is secret unmarked): rustc checks that.
        cx.error_spanned_by(
            live,
            "`live` lets a secret flag change live, and this flag is not secret: other flags \
             change live without it; drop `live`, or write #[flag(secret, live)] for a secret",
        );
    }
}

/// A flag a flag service manages changes while the application runs, and a service's values are
/// not secret: `managed_as` contradicts `restart` and `secret`.
fn check_managed_as(cx: &Ctxt, field: &Field) {
    let Some((key, _)) = &field.attrs.managed_as else {
        return;
    };
    if field.attrs.restart.is_some() {
        cx.error_spanned_by(
            key,
            "`managed_as` and `restart` contradict each other: a flag service (Unleash, \
             LaunchDarkly) changes a flag while the application runs, and a `restart` flag takes \
             effect on restart; keep one",
        );
    }
    if field.attrs.secret.is_some() {
        cx.error_spanned_by(
            key,
            "a `secret` flag cannot be managed by a flag service, whose values anyone with a \
             client or SDK key reads: keep the secret in the environment, and drop `managed_as`",
        );
    }
}

/// `default = "true"` on a `bool` would fail with a trait error inside the derive; say it plainly.
fn check_string_default_of_primitive(cx: &Ctxt, field: &Field) {
    let Some(Expr::Lit(ExprLit {
        lit: Lit::Str(text),
        ..
    })) = &field.attrs.default
    else {
        return;
    };
    let Type::Path(path) = field.ty else { return };
    let Some(ident) = path.path.get_ident() else {
        return;
    };
    let primitive = ident.to_string();
    let numeric = [
        "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
        "f32", "f64",
    ];
    if primitive != "bool" && !numeric.contains(&primitive.as_str()) {
        return;
    }
    let fix = rust_value(&primitive, text.value().trim()).map_or_else(
        || match primitive.as_str() {
            "bool" => String::from("write default = true or default = false"),
            _ => String::from("write a number, such as default = 0"),
        },
        |value| format!("write default = {value}"),
    );
    cx.error_spanned_by(
        text,
        format!("the default of a `{primitive}` is a Rust value, not its text: {fix}"),
    );
}

/// The Rust literal of `text` as a variable of type `primitive` means it (`yes` is `true`), if
/// the text is a valid value: the suggestion must compile.
fn rust_value(primitive: &str, text: &str) -> Option<String> {
    if primitive == "bool" {
        let is = |spellings: &[&str]| spellings.iter().any(|s| text.eq_ignore_ascii_case(s));
        return if is(&["true", "1", "yes", "on", "t", "y"]) {
            Some(String::from("true"))
        } else if is(&["false", "0", "no", "off", "f", "n"]) {
            Some(String::from("false"))
        } else {
            None
        };
    }
    macro_rules! parses_as {
        ($($ty:ident)*) => {
            match primitive {
                $(stringify!($ty) => text.parse::<$ty>().is_ok(),)*
                _ => false,
            }
        };
    }
    let valid = parses_as!(u8 u16 u32 u64 u128 usize i8 i16 i32 i64 i128 isize);
    let finite = match primitive {
        "f32" => text.parse::<f32>().is_ok_and(f32::is_finite),
        "f64" => text.parse::<f64>().is_ok_and(f64::is_finite),
        _ => false,
    };
    // As a Rust literal too: `+5` and `.5` parse, but do not compile.
    let literal = text.starts_with(|c: char| c.is_ascii_digit() || c == '-');
    ((valid || finite) && literal).then(|| text.to_owned())
}

/// An `Option` with a default is never `None`: the declaration contradicts itself.
fn check_option_without_default(cx: &Ctxt, field: &Field) {
    let Some(default) = &field.attrs.default else {
        return;
    };
    if crate::ast::is_option(field.ty) {
        cx.error_spanned_by(
            default,
            "an `Option` flag with a `default` is never `None`: drop the `Option`, or drop the \
             default so that unset means `None`",
        );
    }
}
