//! [`Load`]: reads each field of a struct from a load's variables, collecting every problem
//! instead of stopping at the first.

use crate::error::{FlagsError, Problem, ShownValue};
use crate::requires::RequirementCheck;
use crate::source::{Raw, Vars};
use crate::value::{Kind, ValueError};

/// One load of one struct in progress: generated code calls [`Load::read`] once per field.
#[doc(hidden)]
pub struct Load<'a> {
    vars: &'a Vars,
    problems: Vec<Problem>,
    /// What loaded values found likely mistaken about themselves.
    warnings: Vec<Problem>,
    /// What the struct's requirements need to know of the values read so far.
    requirements: RequirementCheck,
}

impl<'a> Load<'a> {
    pub(crate) fn new(vars: &'a Vars) -> Self {
        Self {
            vars,
            problems: vars.source_problems(),
            warnings: Vec::new(),
            requirements: RequirementCheck::new(vars.schema()),
        }
    }

    /// Reads the field at `index`, of `kind`'s type: its variable's text parsed; else, when the
    /// variable is unset or blank, the type's value for unset (`None` for an `Option`), or it is
    /// missing. `None` once the field's problem is recorded.
    pub fn read<T>(&mut self, index: usize, kind: &Kind<T>) -> Option<T> {
        self.read_with(index, kind, None)
    }

    /// Reads the field at `index` as [`Load::read`] does, with `default` for an unset variable.
    pub fn read_or<T>(&mut self, index: usize, kind: &Kind<T>, default: fn() -> T) -> Option<T> {
        self.read_with(index, kind, Some(default))
    }

    fn read_with<T>(
        &mut self,
        index: usize,
        kind: &Kind<T>,
        default: Option<fn() -> T>,
    ) -> Option<T> {
        let value = match self.vars.get(index) {
            Raw::Text(text) => match kind.parse(text) {
                Ok(value) => value,
                Err(error) => {
                    self.invalid(index, text, error);
                    return None;
                }
            },
            Raw::Unset => match default {
                Some(default) => default(),
                None => match kind.unset() {
                    Some(unset) => unset,
                    None => {
                        self.missing(index);
                        return None;
                    }
                },
            },
            Raw::NotUnicode => {
                self.not_unicode(index);
                return None;
            }
        };
        let value = if kind.is_per_user() {
            self.bind(index, kind, value)?
        } else {
            value
        };
        self.requirements.note(index, &kind.field(&value));
        Some(value)
    }

    /// Tells a loaded value its flag, and records what it finds wrong with itself: a value no
    /// variable could hold (a default built in code) fails the load.
    #[cold]
    fn bind<T>(&mut self, index: usize, kind: &Kind<T>, mut value: T) -> Option<T> {
        let flag = &self.vars.schema().flags()[index];
        match kind.bind(&mut value, flag) {
            Ok(None) => Some(value),
            Ok(Some(note)) => {
                self.warnings.push(Problem::LikelyMistake {
                    flag: flag.field(),
                    env: flag.env(),
                    note,
                    source: self.vars.source_of(index),
                });
                Some(value)
            }
            Err(error) => {
                match self.vars.get(index) {
                    Raw::Text(text) => self.invalid(index, text, error),
                    Raw::Unset | Raw::NotUnicode => self.problems.push(Problem::InvalidDefault {
                        flag: flag.field(),
                        env: flag.env(),
                        expected: error.what_was_expected().to_owned().into(),
                    }),
                }
                None
            }
        }
    }

    #[cold]
    fn invalid(&mut self, index: usize, text: &str, error: ValueError) {
        let flag = &self.vars.schema().flags()[index];
        let expected = if flag.is_secret() {
            error.shown_for_secret(flag.type_name())
        } else {
            error.what_was_expected().to_owned().into()
        };
        self.problems.push(Problem::Invalid {
            flag: flag.field(),
            env: flag.env(),
            value: ShownValue::new(text, flag.is_secret()),
            expected,
            source: self.vars.source_of(index),
        });
    }

    /// Records a required flag that is unset.
    #[cold]
    fn missing(&mut self, index: usize) {
        let flag = &self.vars.schema().flags()[index];
        self.problems.push(Problem::Missing {
            flag: flag.field(),
            env: flag.env(),
            values: flag.values(),
            source: self.vars.blank_source(index),
        });
    }

    #[cold]
    fn not_unicode(&mut self, index: usize) {
        let flag = &self.vars.schema().flags()[index];
        self.problems.push(Problem::NotUnicode {
            flag: flag.field(),
            env: flag.env(),
            source: self.vars.source_of(index),
        });
    }

    /// The loaded struct with the load's warnings, or every problem of the load (with its
    /// warnings): `loaded` is `None` when a field did not load, which recorded why.
    pub(crate) fn finish<T>(mut self, loaded: Option<T>) -> Result<(T, Vec<Problem>), FlagsError> {
        let unmet = self.requirements.unmet(Some(self.vars));
        self.problems.extend(unmet);
        let mut warnings = self.vars.warnings();
        warnings.append(&mut self.warnings);
        match loaded {
            Some(loaded) if self.problems.is_empty() => Ok((loaded, warnings)),
            _ => Err(FlagsError::new(self.problems).with_warnings(warnings)),
        }
    }
}
