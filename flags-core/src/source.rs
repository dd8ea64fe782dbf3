//! Where variables come from: [`Loader`] stacks `.env` files, maps and the process environment,
//! and every value remembers its [`Source`].

use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{FlagsError, Problem};
use crate::flags::{FeatureFlags, Schema};

mod env_file;

use env_file::Entry;

/// Where a flag's value came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Source {
    /// The variable was unset or empty, so the flag's default applies.
    Default,
    /// The process environment.
    Environment,
    /// A `.env` file.
    File(Arc<Path>),
    /// A map given to [`Loader::map`] or [`FeatureFlags::from_iter`].
    Map,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Default => f.write_str("default"),
            Self::Environment => f.write_str("process environment"),
            Self::File(path) => write!(f, ".env file {}", path.display()),
            Self::Map => f.write_str("map"),
        }
    }
}

/// Loads flags from a stack of sources; a later source overrides an earlier one.
///
/// `.env` files are parsed with dotenvy without touching the process environment, and the process
/// environment is read once, as a snapshot. Every problem of every source (an unreadable file, a
/// bad value, a missing flag) is reported together in one [`FlagsError`].
///
/// ```
/// use flags_core::{FeatureFlags, Loader};
///
/// #[derive(Debug, FeatureFlags)]
/// #[flags(prefix = "APP_")]
/// struct Settings {
///     #[flag(default = 8080)]
///     port: u16,
///     #[flag(default = false)]
///     debug: bool,
/// }
///
/// let settings: Settings = Loader::new()
///     .file_if_exists("/etc/app/defaults.env")
///     .map([("APP_PORT", "9000")])
///     .map([("APP_DEBUG", "yes")])
///     .load()?;
/// assert_eq!(settings.port, 9000);
/// assert!(settings.debug);
/// # Ok::<(), flags_core::FlagsError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Loader {
    layers: Vec<Layer>,
    strict: bool,
}

#[derive(Clone)]
enum Layer {
    File { path: PathBuf, required: bool },
    Map(Vec<(String, String)>),
    Environment,
}

/// A map's variable names, never its values: a loader may hold secrets and be logged.
impl fmt::Debug for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File { path, required } => f
                .debug_struct("File")
                .field("path", path)
                .field("required", required)
                .finish(),
            Self::Map(pairs) => f
                .debug_tuple("Map")
                .field(&pairs.iter().map(|(name, _)| name).collect::<Vec<_>>())
                .finish(),
            Self::Environment => f.write_str("Environment"),
        }
    }
}

impl Loader {
    /// A loader with no sources: every flag starts unset.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a `.env` file; a file that is missing is a problem of the load.
    pub fn file(mut self, path: impl Into<PathBuf>) -> Self {
        self.layers.push(Layer::File {
            path: path.into(),
            required: true,
        });
        self
    }

    /// Adds a `.env` file that is skipped when it does not exist (a developer's local `.env`).
    pub fn file_if_exists(mut self, path: impl Into<PathBuf>) -> Self {
        self.layers.push(Layer::File {
            path: path.into(),
            required: false,
        });
        self
    }

    /// Adds variables from a map (or any iterator of name and value pairs).
    pub fn map<I, K, V>(mut self, vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let vars = vars
            .into_iter()
            .map(|(name, value)| (name.as_ref().to_owned(), value.as_ref().to_owned()))
            .collect();
        self.layers.push(Layer::Map(vars));
        self
    }

    /// Adds the process environment, read when [`Loader::load`] runs.
    pub fn env(mut self) -> Self {
        self.layers.push(Layer::Environment);
        self
    }

    /// Makes every unknown variable an error rather than a warning, and checks every variable of
    /// a `.env` file or a map, with or without the prefix: such sources are written for these
    /// flags, so a stray name is a typo. (In the process environment, which holds every program's
    /// variables, only those under the prefix are checked.) A `.env` file that sets one variable
    /// twice is an error too: the last value wins, which its reader may not see.
    ///
    /// This is how a deployment's env file is checked before it ships:
    ///
    /// ```
    /// use flags_core::{FeatureFlags, Loader};
    ///
    /// #[derive(Debug, FeatureFlags)]
    /// #[flags(prefix = "FEATURE_")]
    /// struct Settings {
    ///     #[flag(env = "RATE_LIMIT_ENABLED", default = true)]
    ///     rate_limit_enabled: bool,
    /// }
    ///
    /// let error = Loader::new()
    ///     .map([("RATE_LIMT_ENABLED", "false")])
    ///     .strict()
    ///     .load::<Settings>()
    ///     .unwrap_err();
    /// assert_eq!(
    ///     error.to_string(),
    ///     "RATE_LIMT_ENABLED: no such flag; did you mean RATE_LIMIT_ENABLED? (from map)"
    /// );
    /// ```
    pub fn strict(mut self) -> Self {
        self.strict = true;
        self
    }

    /// Reads every source in order and loads `T` from the result. What is wrong but does not stop
    /// the load (a variable under the prefix that names no flag; a `.env` file that sets one
    /// twice) is logged as a WARN, target `flags`.
    pub fn load<T: FeatureFlags>(&self) -> Result<T, FlagsError> {
        self.read::<T>().load_logging_warnings()
    }

    /// Loads `T` as [`load`](Self::load) does, and returns the warnings with it instead of
    /// logging them: for an application whose logging is set up from its flags (a log level),
    /// after they load. A load that fails still logs its warnings.
    ///
    /// ```
    /// use flags_core::{FeatureFlags, Loader, Problem};
    ///
    /// #[derive(Debug, FeatureFlags)]
    /// #[flags(prefix = "APP_")]
    /// struct Settings {
    ///     #[flag(default = false)]
    ///     beta_enabled: bool,
    /// }
    ///
    /// let (settings, warnings) = Loader::new()
    ///     .map([("APP_BETA_ENABLD", "true")])
    ///     .load_with_warnings::<Settings>()?;
    /// assert!(!settings.beta_enabled);
    /// assert_eq!(
    ///     warnings[0].to_string(),
    ///     "APP_BETA_ENABLD: no such flag; did you mean APP_BETA_ENABLED? (from map)"
    /// );
    /// # Ok::<(), flags_core::FlagsError>(())
    /// ```
    pub fn load_with_warnings<T: FeatureFlags>(&self) -> Result<(T, Vec<Problem>), FlagsError> {
        self.read::<T>().load()
    }

    /// Every source's variables, in order.
    fn read<T: FeatureFlags>(&self) -> Vars {
        let mut vars = Vars::new(T::__schema());
        vars.strict = self.strict;
        for layer in &self.layers {
            match layer {
                Layer::File { path, required } => vars.read_file(path, *required),
                Layer::Map(pairs) => {
                    let source = vars.add_source(Source::Map);
                    for (name, value) in pairs {
                        vars.set(name, value, source);
                    }
                }
                Layer::Environment => vars.read_environment(),
            }
        }
        vars
    }
}

/// Identifies one source among those of a load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[doc(hidden)]
pub struct SourceId(u32);

/// The raw text of every flag after all sources are stacked, and what was wrong on the way.
#[doc(hidden)]
#[derive(Debug)]
pub struct Vars {
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
    /// What loaded values found doubtful about themselves ([`crate::FlagValue::BIND`]).
    value_warnings: std::cell::RefCell<Vec<Problem>>,
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
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub enum Raw<'a> {
    /// Unset in every source, or empty (or only whitespace) in the last source that set it.
    Unset,
    /// The text, never blank.
    Text(&'a str),
    /// The bytes are not UTF-8.
    NotUnicode,
}

impl Vars {
    /// No variables yet, for the flags of `schema`.
    pub fn new(schema: &'static Schema) -> Self {
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
            value_warnings: std::cell::RefCell::default(),
        }
    }

    /// Registers a source; the variables it sets are stored under the returned id.
    pub fn add_source(&mut self, source: Source) -> SourceId {
        self.sources.push(source);
        // A load has a handful of sources; more than u32::MAX cannot be pushed in any case.
        SourceId(u32::try_from(self.sources.len() - 1).unwrap_or(u32::MAX))
    }

    /// Sets one variable, overriding what an earlier source set; an empty or blank value unsets
    /// the flag.
    #[inline]
    pub fn set(&mut self, name: &str, value: &str, source: SourceId) {
        let Some(index) = self.schema.index_of(name) else {
            self.note_unknown(name, source);
            return;
        };
        if crate::value::trim(value).is_empty() {
            self.slots[index] = Slot::Blank { source };
            return;
        }
        if let Slot::Text { start, end, .. } = self.slots[index] {
            self.overridden(index, start..end);
        }
        let start = self.text.len();
        self.text.push_str(value);
        self.slots[index] = Slot::Text {
            start,
            end: self.text.len(),
            source,
        };
    }

    /// A later source set the flag at `index`, whose text was at `range`: a secret's text is
    /// blanked, so that only the flags that are not secret keep their text in the record of the
    /// load (for `log_state`).
    #[cold]
    fn overridden(&mut self, index: usize, range: std::ops::Range<usize>) {
        if self.schema.flags()[index].is_secret() {
            blank(&mut self.text, range);
        }
    }

    /// Loads `T` as [`load`](Self::load) does, logging the load's warnings.
    pub(crate) fn load_logging_warnings<T: FeatureFlags>(self) -> Result<T, FlagsError> {
        let (loaded, warnings) = self.load()?;
        warnings.iter().for_each(Problem::log);
        Ok(loaded)
    }

    /// Loads `T` from these variables and, when it loads, remembers where each value came from
    /// for `log_state`. Returns the warnings with the value, or in the error of a load that fails.
    pub(crate) fn load<T: FeatureFlags>(self) -> Result<(T, Vec<Problem>), FlagsError> {
        let loaded = T::__from_vars(&self);
        let warnings = self.warnings();
        let loaded = match loaded {
            Ok(loaded) => loaded,
            Err(error) => return Err(error.with_warnings(warnings)),
        };
        self.schema.record_sources(SourceRecord::new(
            self.schema,
            self.text,
            self.slots,
            self.sources,
        ));
        Ok((loaded, warnings))
    }

    fn read_environment(&mut self) {
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

    fn read_file(&mut self, path: &Path, required: bool) {
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
    pub fn get(&self, index: usize) -> Raw<'_> {
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
    pub fn schema(&self) -> &'static Schema {
        self.schema
    }

    /// Problems of the sources themselves (unreadable files), and, with `deny_unknown` or
    /// `strict`, variables under the prefix that name no flag.
    pub fn source_problems(&self) -> Vec<Problem> {
        let mut problems = self.problems.clone();
        if self.unknown_is_an_error() {
            problems.extend(self.unknown_problems());
        }
        problems
    }

    /// Records a warning about a loaded value.
    #[cold]
    pub(crate) fn warn(&self, warning: Problem) {
        self.value_warnings.borrow_mut().push(warning);
    }

    /// What is wrong but does not stop the load.
    fn warnings(&self) -> Vec<Problem> {
        let mut warnings = self.warnings.clone();
        warnings.append(&mut self.value_warnings.borrow_mut());
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
            suggestion: crate::suggest::nearest(name, flags.iter().map(|flag| flag.env())),
            source: self.sources[source.0 as usize].clone(),
        });
        other_case.chain(unknown)
    }
}

/// Where each flag's value came from in one load, and the text each flag that is not secret was
/// set to: `log_state` checks that a value is still the one loaded before it names its source.
#[derive(Debug)]
pub(crate) struct SourceRecord {
    /// The slots of the load, with `Text` ranges into `text`.
    slots: Box<[Slot]>,
    sources: Vec<Source>,
    /// The load's text, each secret's blanked.
    text: String,
}

/// What a load recorded of one flag.
pub(crate) enum Recorded<'a> {
    /// Unset: the default applied.
    Default,
    /// Set to `text` by `source`.
    Text { text: &'a str, source: Source },
    /// A secret, set by `source`; its text is not kept.
    Secret { source: Source },
}

impl SourceRecord {
    /// The record of a load, its text taken over with each secret's blanked (a secret that a
    /// later source overrode was blanked when it was).
    fn new(schema: &Schema, mut text: String, slots: Box<[Slot]>, sources: Vec<Source>) -> Self {
        for &index in schema.secrets() {
            if let Slot::Text { start, end, .. } = slots[index] {
                blank(&mut text, start..end);
            }
        }
        Self {
            slots,
            sources,
            text,
        }
    }

    /// What the load recorded of the flag at `index`.
    pub(crate) fn recorded(&self, index: usize, secret: bool) -> Recorded<'_> {
        let slot = self.slots[index];
        let source = source_of(&slot, &self.sources);
        match slot {
            Slot::Unset | Slot::Blank { .. } => Recorded::Default,
            Slot::Text { start, end, .. } if !secret => Recorded::Text {
                text: &self.text[start..end],
                source,
            },
            // Not UTF-8 fails the load, and a failed load is not recorded: no text either way.
            Slot::Text { .. } | Slot::NotUnicode { .. } => Recorded::Secret { source },
        }
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

/// Overwrites `range` of `text` with NUL characters, as many bytes as it had.
fn blank(text: &mut String, range: std::ops::Range<usize>) {
    let nuls = "\0".repeat(range.len());
    text.replace_range(range, &nuls);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "derive")]
    #[test]
    fn the_record_of_a_load_keeps_no_secret_text_even_one_a_later_source_overrode() {
        #[derive(crate::FeatureFlags)]
        struct Settings {
            #[flag(env = "TOKEN", secret)]
            token: Option<secrecy::SecretString>,
            #[flag(env = "NAME")]
            name: Option<String>,
        }

        let loaded = Loader::new()
            .map([("TOKEN", "canary-first"), ("NAME", "rose")])
            .map([("TOKEN", "canary-last")])
            .load::<Settings>()
            .unwrap();
        use secrecy::ExposeSecret;
        let token = loaded.token.as_ref().map(ExposeSecret::expose_secret);
        assert_eq!(token, Some("canary-last"));
        assert_eq!(loaded.name.as_deref(), Some("rose"));
        let record = Settings::__schema().recorded_sources().unwrap();
        assert!(!record.text.contains("canary"), "{:?}", record.text);
        assert!(record.text.contains("rose"), "{:?}", record.text);
    }

    #[test]
    fn a_loader_shows_the_names_of_a_maps_variables_but_not_their_values() {
        let loader = Loader::new()
            .map([("APP_TOKEN", "canary-7f3a")])
            .file_if_exists("app.env");
        let shown = format!("{loader:?}");
        assert!(
            shown.contains("APP_TOKEN") && shown.contains("app.env"),
            "{shown}"
        );
        assert!(!shown.contains("canary-7f3a"), "{shown}");
    }
}
