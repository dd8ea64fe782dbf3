//! Reading the body of `PATCH /api/admin/feature-flags`: a JSON object of variable to value,
//! into the edits a [`Change::edit`](flags_core::live::Change::edit) makes.

use std::collections::HashSet;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;

use crate::error::{Error, ProblemBody, Refused};

/// Each variable named, in the order written, with its text (`None` for `null`: a reset).
pub(crate) type Edits = Vec<(String, Option<String>)>;

/// The edits of `body`, or why there are none: 400 for a body that is not a JSON object, 422
/// for one whose entries cannot be edits (every such entry listed).
pub(crate) fn edits(body: &[u8]) -> Result<Edits, Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::BadRequest(String::from(
            "the body is empty: send a JSON object of variable to value, \
             such as {\"FEATURE_BETA\": true}",
        )));
    }
    let entries = match serde_json::from_slice::<Entries>(body) {
        Ok(Entries(entries)) => entries,
        Err(error) => return Err(not_utf8(body).unwrap_or_else(|| malformed(&error))),
    };
    if entries.is_empty() {
        return Err(Error::Refused(Refused::Unprocessable {
            message: String::from("the change names no variable: nothing to change"),
            problems: Vec::new(),
        }));
    }
    let mut problems = Vec::new();
    let mut edits = Vec::with_capacity(entries.len());
    let mut named = HashSet::with_capacity(entries.len());
    for (name, value) in &entries {
        if !named.insert(name.as_str()) {
            problems.push(ProblemBody {
                kind: "duplicate",
                variable: Some(name.clone()),
                message: format!("{name}: named twice in one change; name it once"),
            });
            continue;
        }
        let text = match value {
            Value::Null => None,
            Value::String(text) => Some(text.clone()),
            Value::Bool(value) => Some(value.to_string()),
            Value::Number(number) => Some(number.to_string()),
            Value::Array(_) | Value::Object(_) => {
                let found = if value.is_array() {
                    "an array"
                } else {
                    "an object"
                };
                problems.push(ProblemBody {
                    kind: "invalid",
                    variable: Some(name.clone()),
                    message: format!(
                        "{name}: expected text (as in an env file), a boolean, a number, or null \
                         to reset it; found {found}"
                    ),
                });
                continue;
            }
        };
        edits.push((name.clone(), text));
    }
    match problems.is_empty() {
        true => Ok(edits),
        false => Err(Error::Refused(Refused::Unprocessable {
            message: lines(&problems),
            problems,
        })),
    }
}

/// A body that is a JSON object but for bytes that are not UTF-8 in its names or values: 422,
/// naming each entry they are in (its name as far as it is readable). `None` for anything else.
fn not_utf8(body: &[u8]) -> Option<Error> {
    if std::str::from_utf8(body).is_ok() {
        return None;
    }
    let text = String::from_utf8_lossy(body);
    let Entries(entries) = serde_json::from_str(&text).ok()?;
    let replaced = |text: &str| text.contains(char::REPLACEMENT_CHARACTER);
    let problems: Vec<ProblemBody> = entries
        .iter()
        .filter_map(|(name, value)| {
            let what = if replaced(name) {
                "the variable's name"
            } else if value.as_str().is_some_and(replaced) {
                "the value"
            } else {
                return None;
            };
            Some(ProblemBody {
                kind: "not_unicode",
                variable: Some(name.clone()),
                message: format!("{name}: {what} is not valid UTF-8"),
            })
        })
        .collect();
    (!problems.is_empty()).then(|| {
        Error::Refused(Refused::Unprocessable {
            message: lines(&problems),
            problems,
        })
    })
}

fn malformed(error: &serde_json::Error) -> Error {
    let message = match error.classify() {
        serde_json::error::Category::Data => format!(
            "the body must be a JSON object of variable to value, such as \
             {{\"FEATURE_BETA\": true}}: {error}"
        ),
        _ => format!("the body is not valid JSON: {error}"),
    };
    Error::BadRequest(message)
}

fn lines(problems: &[ProblemBody]) -> String {
    let lines: Vec<&str> = problems.iter().map(|problem| &*problem.message).collect();
    lines.join("\n")
}

/// A JSON object's entries in the order written, duplicates kept (a map would drop them).
struct Entries(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Object;

        impl<'de> Visitor<'de> for Object {
            type Value = Entries;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }

        deserializer.deserialize_map(Object)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(body: &[u8]) -> String {
        match edits(body) {
            Err(Error::BadRequest(message)) => format!("400 {message}"),
            Err(Error::Refused(Refused::Unprocessable { message, .. })) => {
                format!("422 {message}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn values_are_text_booleans_numbers_or_null_in_the_order_written() {
        let edits = edits(br#"{"B": "x", "A": true, "C": 2.5, "D": null, "E": -3}"#).unwrap();
        let expected = [
            ("B", Some("x")),
            ("A", Some("true")),
            ("C", Some("2.5")),
            ("D", None),
            ("E", Some("-3")),
        ];
        let edits: Vec<_> = edits
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_deref()))
            .collect();
        assert_eq!(edits, expected);
    }

    #[test]
    fn each_unreadable_body_is_told_what_to_send() {
        assert_eq!(
            message(b" "),
            "400 the body is empty: send a JSON object of variable to value, such as \
             {\"FEATURE_BETA\": true}"
        );
        assert_eq!(
            message(b"{\"A\": tru}"),
            "400 the body is not valid JSON: expected ident at line 1 column 10"
        );
        assert_eq!(
            message(b"[1]"),
            "400 the body must be a JSON object of variable to value, such as \
             {\"FEATURE_BETA\": true}: invalid type: sequence, expected an object at line 1 column 0"
        );
        assert_eq!(
            message(b"{}"),
            "422 the change names no variable: nothing to change"
        );
        assert_eq!(
            message(br#"{"A": [1], "B": 1, "A": 2, "C": {}}"#),
            "422 A: expected text (as in an env file), a boolean, a number, or null to reset it; \
             found an array\nA: named twice in one change; name it once\nC: expected text (as in \
             an env file), a boolean, a number, or null to reset it; found an object"
        );
    }

    #[test]
    fn bytes_that_are_not_utf8_are_named_by_the_entry_they_are_in() {
        assert_eq!(
            message(b"{\"FEATURE_\xff\": \"1\", \"B\": \"caf\xe9\", \"C\": \"ok\"}"),
            "422 FEATURE_\u{fffd}: the variable's name is not valid UTF-8\nB: the value is not \
             valid UTF-8"
        );
        assert!(message(b"{\"A\": 1}\xff").starts_with("400 the body is not valid JSON"));
    }
}
