//! [`Vars`]: the raw text of every flag after a load's sources are stacked, with where each
//! came from and what was wrong on the way (unreadable files, unknown names).

use std::ffi::OsStr;
use std::path::Path;
use std::sync::Arc;

use super::env_file::{self, Entry};
use crate::error::Problem;
use crate::provenance::{Provenance, Source};
use crate::schema::Schema;

/// Identifies one source among those of a load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SourceId(u32);

/// The raw text of every flag after all sources are stacked, and what was wrong on the way.
#[derive(Debug, Clone)]
pub(crate) struct Vars {
    schema: &'static Schema,
    /// Every stored value's text, back to back: one allocation for the whole load.
    text: String,
    slots: Box<[Slot]>,
    sources: Vec<Source>,
    unknown: Vec<(String, SourceId)>,
    /// Variables that are a flag's variable in another case (`feature_beta`), with the flag.
    other_case: Vec<(String, usize, SourceId)>,
    problems: Vec<Problem>,
    /// What is wrong but does not stop the load, beside unknown names.
    warnings: Vec<Problem>,
    /// Every unknown name of a file or map is an error (`Loader::strict`).
    strict: bool,
}

#[derive(Debug, Clone, Copy)]
enum Slot {
    Unset,
    /// Set to empty or blank text, which counts as unset, by the last source that set it.
    Blank {
        source: SourceId,
    },
    Text {
        start: usize,
        end: usize,
        source: SourceId,
    },
    NotUnicode {
        source: SourceId,
    },
}

/// A flag's variable after all sources are stacked.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Raw<'a> {
    /// Unset in every source, or empty (or only whitespace) in the last source that set it.
    Unset,
    /// The text, never blank.
    Text(&'a str),
    /// The bytes are not UTF-8.
    NotUnicode,
}

impl Vars {
    /// No variables yet, for the flags of `schema`.
    pub(crate) fn new(schema: &'static Schema) -> Self {
        Self {
            schema,
            // Most values are short words and numbers: one allocation for a typical load.
            text: String::with_capacity(schema.flags().len() * 8),
            slots: vec![Slot::Unset; schema.flags().len()].into_boxed_slice(),
            sources: Vec::new(),
            unknown: Vec::new(),
            other_case: Vec::new(),
            problems: Vec::new(),
            warnings: Vec::new(),
            strict: false,
        }
    }

    /// Registers a source; the variables it sets are stored under the returned id.
    pub(crate) fn add_source(&mut self, source: Source) -> SourceId {
        self.sources.push(source);
        // A load has a handful of sources; more than u32::MAX cannot be pushed in any case.
        SourceId(u32::try_from(self.sources.len() - 1).unwrap_or(u32::MAX))
    }

    /// Sets one variable, overriding what an earlier source set; an empty or blank value unsets
    /// the flag.
    #[inline]
    pub(crate) fn set(&mut self, name: &str, value: &str, source: SourceId) {
        let Some(index) = self.schema.index_of(name) else {
            self.note_unknown(name, source);
            return;
        };
        if crate::value::trim(value).is_empty() {
            self.slots[index] = Slot::Blank { source };
            return;
        }
        let start = self.text.len();
        self.text.push_str(value);
        self.slots[index] = Slot::Text {
            start,
            end: self.text.len(),
            source,
        };
    }

    /// Makes every unknown name of a file or map an error (`Loader::strict`).
    pub(crate) fn set_strict(&mut self, strict: bool) {
        self.strict = strict;
    }

    /// Where each flag's value came from.
    pub(crate) fn provenance(&self) -> Provenance {
        let sources = self.slots.iter().map(|slot| source_of(slot, &self.sources));
        Provenance::new(self.schema.flags(), sources.collect())
    }

    pub(crate) fn read_environment(&mut self) {
        let source = self.add_source(Source::Environment);
        for (name, value) in std::env::vars_os() {
            self.set_os(&name, &value, source);
        }
    }

    /// Sets one variable whose name or value may not be UTF-8: a name that is not UTF-8 names no
    /// flag and is ignored; a flag's value that is not UTF-8 is a problem of that flag.
    fn set_os(&mut self, name: &OsStr, value: &OsStr, source: SourceId) {
        let Some(name) = name.to_str() else { return };
        match value.to_str() {
            Some(value) => self.set(name, value, source),
            None => match self.schema.index_of(name) {
                Some(index) => self.slots[index] = Slot::NotUnicode { source },
                None => self.note_unknown(name, source),
            },
        }
    }

    pub(crate) fn read_file(&mut self, path: &Path, required: bool) {
        let content = match std::fs::read_to_string(path) {
            Ok(content) => content,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound && !required => return,
            Err(error) => {
                self.problems.push(Problem::File {
                    path: path.to_owned(),
                    reason: format!("cannot read the .env file: {error}"),
                });
                return;
            }
        };
        let source = self.add_source(Source::File(Arc::from(path)));
        let content = content.strip_prefix('\u{feff}').unwrap_or(&content);
        let mut names = std::collections::HashSet::new();
        // The last name set above, which a line that does not parse may continue.
        let mut previous: Option<String> = None;
        let mut broken: Option<Broken> = None;
        for entry in env_file::entries(content) {
            match entry {
                Entry::Unparsable { first, last, key } => {
                    if let Some(broken) = broken.as_mut().filter(|broken| broken.last + 1 == first)
                    {
                        broken.last = last;
                        continue;
                    }
                    self.note_broken(path, broken.take());
                    broken = Some(Broken {
                        first,
                        last,
                        key,
                        after: previous.clone(),
                    });
                }
                Entry::Set {
                    line,
                    last,
                    name,
                    value,
                    unresolved,
                } => {
                    let known = self.schema.index_of(&name);
                    // A line right after one that does not parse, setting no flag, is most
                    // likely a piece of a value split over lines (a pasted key): part of it.
                    if let Some(broken) = broken
                        .as_mut()
                        .filter(|broken| known.is_none() && broken.last + 1 == line)
                    {
                        broken.last = last;
                        continue;
                    }
                    self.note_broken(path, broken.take());
                    if !unresolved.is_empty() {
                        self.note_unresolved(path, line, &name, known, &unresolved);
                    }
                    let shown = known.is_some() || self.may_show(&name, None);
                    if shown {
                        self.set(&name, &value, source);
                    } else {
                        self.note_hidden_unknown(path, line, &name);
                    }
                    if !names.insert(name.clone()) && shown {
                        self.note_repeated(path, &name);
                    }
                    previous = Some(name);
                }
            }
        }
        self.note_broken(path, broken);
    }

    /// Whether a name read from a file may be shown in a message: a flag's variable, or a name in
    /// the usual form of a variable (`[A-Z_][A-Z0-9_]*`). Anything else may be a piece of a value
    /// split over lines (a pasted secret whose last line ends in `==`).
    fn may_show(&self, name: &str, known: Option<usize>) -> bool {
        known.or_else(|| self.schema.index_of(name)).is_some()
            || self.schema.index_of_ignoring_case(name).is_some()
            || is_usual_name(name)
    }

    /// Lines of a file that do not parse, by number and by the variable they belong to; never by
    /// their text.
    #[cold]
    fn note_broken(&mut self, path: &Path, broken: Option<Broken>) {
        let Some(Broken {
            first,
            last,
            key,
            after,
        }) = broken
        else {
            return;
        };
        let (lines, its) = if first == last {
            (format!("line {first}"), "its")
        } else {
            (format!("lines {first} to {last}"), "their")
        };
        let shown = |name: &Option<String>| name.clone().filter(|name| self.may_show(name, None));
        let reason = match (shown(&key), shown(&after)) {
            (Some(key), _) => format!(
                "cannot parse {lines} (the one that sets {key}): check {its} quotes and escapes, \
                 and quote a value with spaces"
            ),
            (None, Some(after)) => format!(
                "cannot parse {lines} (after the one that sets {after}): check {its} quotes and \
                 escapes, quote a value with spaces, and put a value that spans lines in double \
                 quotes"
            ),
            (None, None) => format!(
                "cannot parse {lines}: check {its} quotes and escapes, and quote a value with spaces"
            ),
        };
        self.problems.push(Problem::File {
            path: path.to_owned(),
            reason,
        });
    }

    /// A value with `$` references that no line above sets: kept as written, and a warning (an
    /// error with `strict`, so that `check` catches it). The references are named only for a
    /// flag that is not secret: in any other value they may be pieces of a secret.
    #[cold]
    fn note_unresolved(
        &mut self,
        path: &Path,
        line: usize,
        name: &str,
        known: Option<usize>,
        unresolved: &[String],
    ) {
        let flags = self.schema.flags();
        let shows_value = known.is_some_and(|index| !flags[index].is_secret());
        let references = if shows_value {
            format!("{}, which no line above it sets", unresolved.join(", "))
        } else {
            String::from("a `$` reference that no line above it sets")
        };
        let variable = if self.may_show(name, known) {
            name
        } else {
            "a variable"
        };
        let problem = Problem::File {
            path: path.to_owned(),
            reason: format!(
                "line {line} sets {variable} to text with {references}: the text is kept as \
                 written, not replaced by the process's variables (write `\\$` or single-quote \
                 the value for a literal `$`, or set the variable on a line above)"
            ),
        };
        if self.strict {
            self.problems.push(problem);
        } else {
            self.warnings.push(problem);
        }
    }

    /// A file's variable that is no flag and whose name must not be shown ([`Vars::may_show`]):
    /// reported by its line where a name would be, ignored where a name would be.
    #[cold]
    fn note_hidden_unknown(&mut self, path: &Path, line: usize, name: &str) {
        let prefix = self.schema.prefix();
        if !self.strict && (prefix.is_empty() || !name.starts_with(prefix)) {
            return;
        }
        let problem = Problem::File {
            path: path.to_owned(),
            reason: format!(
                "line {line} sets a variable that is no flag, whose name is not shown: it is not \
                 in upper case, and may be a piece of a value split over lines"
            ),
        };
        if self.unknown_is_an_error() {
            self.problems.push(problem);
        } else {
            self.warnings.push(problem);
        }
    }

    /// A file that sets a variable twice, often what a merge left behind: the last value wins,
    /// which a reader of the file may not expect. An error with `strict`, else a warning.
    #[cold]
    fn note_repeated(&mut self, path: &Path, name: &str) {
        let problem = Problem::File {
            path: path.to_owned(),
            reason: format!("sets {name} more than once, and the last one wins: keep one"),
        };
        if self.strict {
            self.problems.push(problem);
        } else {
            self.warnings.push(problem);
        }
    }

    fn note_unknown(&mut self, name: &str, source: SourceId) {
        if let Some(index) = self.schema.index_of_ignoring_case(name) {
            self.other_case.push((name.to_owned(), index, source));
            return;
        }
        let prefix = self.schema.prefix();
        let strict = self.strict && self.sources[source.0 as usize] != Source::Environment;
        if !strict && (prefix.is_empty() || !name.starts_with(prefix)) {
            return;
        }
        match self.unknown.iter_mut().find(|(known, _)| known == name) {
            Some(entry) => entry.1 = source,
            None => self.unknown.push((name.to_owned(), source)),
        }
    }

    /// The flag at `index` after all sources are stacked.
    #[inline]
    pub(crate) fn get(&self, index: usize) -> Raw<'_> {
        match self.slots[index] {
            Slot::Unset | Slot::Blank { .. } => Raw::Unset,
            Slot::Text { start, end, .. } => Raw::Text(&self.text[start..end]),
            Slot::NotUnicode { .. } => Raw::NotUnicode,
        }
    }

    /// Where the flag at `index` got its value: `Default` when it is unset.
    pub(crate) fn source_of(&self, index: usize) -> Source {
        source_of(&self.slots[index], &self.sources)
    }

    /// The source that set the flag at `index` to blank text, if the last one that set it did.
    pub(crate) fn blank_source(&self, index: usize) -> Option<Source> {
        match self.slots[index] {
            Slot::Blank { source } => Some(self.sources[source.0 as usize].clone()),
            _ => None,
        }
    }

    /// The schema these variables are for.
    pub(crate) fn schema(&self) -> &'static Schema {
        self.schema
    }

    /// Problems of the sources themselves (unreadable files), and, with `deny_unknown` or
    /// `strict`, variables under the prefix that name no flag.
    pub(crate) fn source_problems(&self) -> Vec<Problem> {
        let mut problems = self.problems.clone();
        if self.unknown_is_an_error() {
            problems.extend(self.unknown_problems());
        }
        problems
    }

    /// What is wrong with the sources but does not stop the load.
    pub(crate) fn warnings(&self) -> Vec<Problem> {
        let mut warnings = self.warnings.clone();
        if !self.unknown_is_an_error() {
            warnings.extend(self.unknown_problems());
        }
        warnings
    }

    fn unknown_is_an_error(&self) -> bool {
        self.schema.deny_unknown() || self.strict
    }

    /// Variables that name no flag: those in another case first, since those are almost surely
    /// meant for a flag, then the others under the prefix.
    fn unknown_problems(&self) -> impl Iterator<Item = Problem> + '_ {
        let flags = self.schema.flags();
        let other_case = self
            .other_case
            .iter()
            .map(|(name, index, source)| Problem::OtherCase {
                env: name.clone(),
                flag_env: flags[*index].env(),
                source: self.sources[source.0 as usize].clone(),
            });
        let unknown = self.unknown.iter().map(|(name, source)| Problem::Unknown {
            env: name.clone(),
            suggestion: self.schema.nearest(name),
            source: self.sources[source.0 as usize].clone(),
        });
        other_case.chain(unknown)
    }
}

/// Where the value in `slot` came from: `Default` when it is unset.
fn source_of(slot: &Slot, sources: &[Source]) -> Source {
    match slot {
        Slot::Unset | Slot::Blank { .. } => Source::Default,
        Slot::Text { source, .. } | Slot::NotUnicode { source } => {
            sources[source.0 as usize].clone()
        }
    }
}

/// Lines of a `.env` file that do not parse, and what to name them by.
struct Broken {
    first: usize,
    last: usize,
    /// The name the first line sets, if it starts like an assignment.
    key: Option<String>,
    /// The name set on the last line above that parsed.
    after: Option<String>,
}

/// A name in the usual form of a variable: `[A-Z_][A-Z0-9_]*`.
fn is_usual_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_uppercase() || c == '_')
        && name
            .bytes()
            .all(|byte| byte.is_ascii_uppercase() || byte.is_ascii_digit() || byte == b'_')
}
