//! Checking `requires`: what a load (or `validate`) notes of each value that takes part in a
//! requirement, and the unmet requirements those notes show.

use crate::error::{Problem, ShownValue};
use crate::schema::Schema;
use crate::source::{Raw, Vars};
use crate::visit::{FieldValue, Visitor};

/// A check of the requirements of one struct: what they need to know of each value, noted as the
/// values are loaded (or visited by `validate`), then the requirements that are unmet.
pub(crate) struct RequirementCheck {
    schema: &'static Schema,
    /// One entry per flag, `None` until its value is noted (or when it takes part in no
    /// requirement); empty when the struct has no requirements, so a load notes nothing.
    noted: Vec<Option<Noted>>,
}

/// What is noted of one value.
struct Noted {
    /// It counts as unset: a requirement that names it is not met.
    unset: bool,
    /// It switches its flag on, for a requirement without `when`.
    on: Option<bool>,
    /// Its text, for a requirement with `when` and for the message of an unmet one.
    text: Option<String>,
}

impl RequirementCheck {
    pub(crate) fn new(schema: &'static Schema) -> Self {
        let noted = if schema.has_requirements() {
            std::iter::repeat_with(|| None)
                .take(schema.flags().len())
                .collect()
        } else {
            Vec::new()
        };
        Self { schema, noted }
    }

    /// Notes what the requirements need of the value of the flag at `index`.
    #[inline]
    pub(crate) fn note(&mut self, index: usize, value: &dyn FieldValue) {
        if self.noted.is_empty() {
            return;
        }
        self.note_for_requirements(index, value);
    }

    #[cold]
    fn note_for_requirements(&mut self, index: usize, value: &dyn FieldValue) {
        let role = self.schema.roles()[index];
        if !role.requires && !role.required {
            return;
        }
        self.noted[index] = Some(Noted {
            unset: value.is_unset(),
            on: if role.requires {
                value.switched_on()
            } else {
                None
            },
            text: role.requires.then(|| value.to_env()),
        });
    }

    /// Every requirement of a noted flag that applies to its value and names flags that are
    /// unset, as problems. `vars` is the load's, to quote a value as it was written and say where
    /// it came from; `None` in `validate`. A flag that was not noted (it did not load) neither
    /// requires nor counts as unset: its own problem is reported already.
    pub(crate) fn unmet(&self, vars: Option<&Vars>) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.noted.is_empty() {
            return problems;
        }
        let flags = self.schema.flags();
        for (index, flag) in flags.iter().enumerate() {
            let Some(noted) = &self.noted[index] else {
                continue;
            };
            for requirement in flag.requires() {
                let applies = match requirement.when() {
                    None => noted.on == Some(true),
                    Some(when) => noted.text.as_deref() == Some(when.as_str()),
                };
                if !applies {
                    continue;
                }
                let missing: Vec<&'static str> = requirement
                    .vars()
                    .iter()
                    .copied()
                    .filter(|target| {
                        let target = self.schema.index_of(target);
                        target
                            .and_then(|target| self.noted[target].as_ref())
                            .is_some_and(|target| target.unset)
                    })
                    .collect();
                if missing.is_empty() {
                    continue;
                }
                let value = if flag.is_secret() {
                    ShownValue::Redacted
                } else {
                    // The text as the operator wrote it (`postgres`, `ON`), which they can search
                    // for; the value's own text for a default or a struct being validated.
                    let written = vars.and_then(|vars| match vars.get(index) {
                        Raw::Text(text) => Some(text.trim().to_owned()),
                        Raw::Unset | Raw::NotUnicode => None,
                    });
                    ShownValue::Text(written.or_else(|| noted.text.clone()).unwrap_or_default())
                };
                problems.push(Problem::Unmet {
                    flag: flag.field(),
                    env: flag.env(),
                    value,
                    missing,
                    source: vars.map(|vars| vars.source_of(index)),
                });
            }
        }
        problems
    }
}

/// `validate` visits a struct's fields to note them.
impl Visitor for RequirementCheck {
    fn field(&mut self, index: usize, value: &dyn FieldValue) {
        self.note(index, value);
    }
}
