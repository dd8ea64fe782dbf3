//! Reading one `.env` file: dotenvy parses it, and this module keeps what dotenvy does not: the
//! line each entry starts on, and the text of every `$` reference that the file itself does not
//! resolve.
//!
//! dotenvy replaces `$NAME` and `${NAME}` with the process's variable of that name, or an earlier
//! line's value, or nothing: `PASSWORD=pa$word` loads as `pa`, and a file means something else on
//! each machine that reads it. Here a reference takes the value of a line above it in the same
//! file, and any other reference stays as written and is reported: a value never changes
//! silently, and a file means the same wherever it is read.

use std::cell::Cell;
use std::collections::HashMap;
use std::io::Read;
use std::rc::Rc;

/// What one logical line (one that a quoted value may stretch over several lines) of a `.env`
/// file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Entry {
    /// `name=value`, on lines `line` to `last` (1-based). `unresolved` holds the references that
    /// no line above sets, kept in `value` as written.
    Set {
        line: usize,
        last: usize,
        name: String,
        value: String,
        unresolved: Vec<String>,
    },
    /// Lines `first` to `last` (1-based) do not parse. `key` is the name the line starts with, if
    /// it starts like an assignment, which may be a piece of a pasted value: show it with care.
    Unparsable {
        first: usize,
        last: usize,
        key: Option<String>,
    },
}

/// The entries of a `.env` file's `content` (without a byte order mark), in order.
pub(crate) fn entries(content: &str) -> Vec<Entry> {
    let lines: Vec<&str> = content.split('\n').collect();
    let mut set_above: HashMap<String, String> = HashMap::new();
    let mut entries = Vec::new();
    for (first, last) in logical_lines(content) {
        let text = lines[first..=last].join("\n");
        let (first, last) = (first + 1, last + 1);
        let Some((marked, marker)) = mark_references(&text) else {
            entries.push(Entry::Unparsable {
                first,
                last,
                key: leading_key(&text),
            });
            continue;
        };
        match dotenvy::from_read_iter(marked.as_bytes()).next() {
            Some(Ok((name, value))) => {
                let (value, unresolved) = resolve(&value, marker, &set_above);
                set_above.insert(name.clone(), value.clone());
                entries.push(Entry::Set {
                    line: first,
                    last,
                    name,
                    value,
                    unresolved,
                });
            }
            _ => entries.push(Entry::Unparsable {
                first,
                last,
                key: leading_key(&text),
            }),
        }
    }
    entries
}

/// Each logical line that dotenvy reads in `content`: its first and last physical line (0-based).
/// dotenvy does not say where a line starts, so it reads through a reader that hands out one
/// physical line at a time and counts them. What it makes of the lines is read again, line by
/// line, once their references are marked (its `"…$NAME"` fails: it ends the name at the quote
/// and keeps the quote as text).
fn logical_lines(content: &str) -> Vec<(usize, usize)> {
    let given = Rc::new(Cell::new(0));
    let reader = OneLineAtATime {
        rest: content.as_bytes(),
        given: Rc::clone(&given),
    };
    let lines: Vec<&str> = content.split('\n').collect();
    let mut found = Vec::new();
    let mut consumed = 0;
    for _ in dotenvy::from_read_iter(reader) {
        let end = given.get().max(consumed + 1);
        // The lines dotenvy skipped before this one: blank ones and comments.
        let first = (consumed..end)
            .find(|&line| {
                let line = lines.get(line).map_or("", |line| line.trim_start());
                !line.is_empty() && !line.starts_with('#')
            })
            .unwrap_or(consumed);
        let last = end - 1;
        // A line dotenvy read to its end is counted; text after the last `\n` is a line too.
        found.push((first, last.min(lines.len() - 1)));
        consumed = end;
    }
    found
}

/// A reader that gives at most one line (up to and including its `\n`) per `read`, so that a
/// `BufReader` over it never holds more than the line it is reading, and counts the lines it gave.
struct OneLineAtATime<'a> {
    rest: &'a [u8],
    given: Rc<Cell<usize>>,
}

impl Read for OneLineAtATime<'_> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let line_end = self
            .rest
            .iter()
            .position(|byte| *byte == b'\n')
            .map_or(self.rest.len(), |newline| newline + 1);
        let count = line_end.min(buffer.len());
        buffer[..count].copy_from_slice(&self.rest[..count]);
        self.rest = &self.rest[count..];
        if count > 0 && (count == line_end) {
            self.given.set(self.given.get() + 1);
        }
        Ok(count)
    }
}

/// The name an unparsable line starts with (`NAME=` or `export NAME=`), if it starts so.
fn leading_key(text: &str) -> Option<String> {
    let line = text.trim_start();
    let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
    let end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .unwrap_or(line.len());
    let (key, rest) = line.split_at(end);
    let starts_like_a_name = key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
    (starts_like_a_name && rest.trim_start().starts_with('=')).then(|| key.to_owned())
}

/// `text` (one logical line) with each `$` that dotenvy would substitute replaced by a marker
/// character the line does not hold, and the marker; `None` if every candidate is in the line.
///
/// A `$` is substituted outside single quotes and when no backslash escapes it, following
/// dotenvy's value rules: `'…'` is literal, `"…"` and bare text take `\` escapes.
fn mark_references(text: &str) -> Option<(String, char)> {
    let marker = ('\u{e000}'..='\u{e0ff}').find(|marker| !text.contains(*marker))?;
    let Some(equals) = text.find('=') else {
        return Some((text.to_owned(), marker));
    };
    let (name, value) = text.split_at(equals + 1);
    let mut marked = String::with_capacity(text.len());
    marked.push_str(name);
    let (mut single, mut double, mut escaped) = (false, false, false);
    for c in value.chars() {
        if escaped {
            escaped = false;
        } else if single {
            single = c != '\'';
        } else if c == '$' {
            marked.push(marker);
            continue;
        } else if c == '\\' {
            escaped = true;
        } else if double {
            double = c != '"';
        } else if c == '\'' {
            single = true;
        } else if c == '"' {
            double = true;
        }
        marked.push(c);
    }
    Some((marked, marker))
}

/// `value` with each marked reference (`$NAME`, `${NAME}`) replaced by what a line above set it
/// to; a reference to a name no line above sets stays as written and is listed. A marker that
/// starts no reference (`$5`, a `$` at the end) is a literal `$`.
fn resolve(
    value: &str,
    marker: char,
    set_above: &HashMap<String, String>,
) -> (String, Vec<String>) {
    let mut resolved = String::with_capacity(value.len());
    let mut unresolved = Vec::new();
    let mut rest = value;
    while let Some(at) = rest.find(marker) {
        resolved.push_str(&rest[..at]);
        rest = &rest[at + marker.len_utf8()..];
        let (name, written, after) = match rest.strip_prefix('{') {
            Some(braced) => match braced.split_once('}') {
                Some((name, after)) => (name, &rest[..name.len() + 2], after),
                None => ("", "", rest),
            },
            None => {
                let end = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                (&rest[..end], &rest[..end], &rest[end..])
            }
        };
        if !is_name(name) {
            resolved.push('$');
            continue;
        }
        match set_above.get(name) {
            Some(set) => resolved.push_str(set),
            None => {
                resolved.push('$');
                resolved.push_str(written);
                unresolved.push(format!("${written}"));
            }
        }
        rest = after;
    }
    resolved.push_str(rest);
    (resolved, unresolved)
}

/// A variable name a reference can hold: `[A-Za-z_][A-Za-z0-9_]*`.
fn is_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(line: usize, name: &str, value: &str) -> Entry {
        let last = line + value.matches('\n').count();
        Entry::Set {
            line,
            last,
            name: name.to_owned(),
            value: value.to_owned(),
            unresolved: Vec::new(),
        }
    }

    #[test]
    fn entries_know_their_lines_past_comments_blank_lines_and_quoted_line_breaks() {
        let content =
            "# a comment\n\nA=1\nB=\"two\nlines\"\n  # indented comment\nC='3' # trailing\n";
        assert_eq!(
            entries(content),
            [
                set(3, "A", "1"),
                set(4, "B", "two\nlines"),
                set(7, "C", "3")
            ]
        );
    }

    #[test]
    fn a_reference_takes_the_value_of_a_line_above_and_nothing_from_the_process() {
        let content = "USER=rose\nURL=postgres://${USER}@db/$USER\nHOME_DIR=$HOME/x\n";
        let entries = entries(content);
        assert_eq!(entries[1], set(2, "URL", "postgres://rose@db/rose"));
        assert_eq!(
            entries[2],
            Entry::Set {
                line: 3,
                last: 3,
                name: "HOME_DIR".to_owned(),
                value: "$HOME/x".to_owned(),
                unresolved: vec!["$HOME".to_owned()],
            }
        );
    }

    #[test]
    fn a_dollar_that_names_nothing_set_stays_as_written() {
        let entries = entries("PASSWORD=pa$word\nPRICE=\"$5 or $$\"\nLAST=end$\n");
        assert_eq!(
            entries[0],
            Entry::Set {
                line: 1,
                last: 1,
                name: "PASSWORD".to_owned(),
                value: "pa$word".to_owned(),
                unresolved: vec!["$word".to_owned()],
            }
        );
        assert_eq!(entries[1], set(2, "PRICE", "$5 or $$"));
        assert_eq!(entries[2], set(3, "LAST", "end$"));
    }

    #[test]
    fn single_quotes_and_escapes_keep_a_dollar_literal() {
        let entries = entries("A='pa$word'\nB=pa\\$word\nC=\"pa\\$word\"\nD=\"it's $A\"\n");
        assert_eq!(entries[0], set(1, "A", "pa$word"));
        assert_eq!(entries[1], set(2, "B", "pa$word"));
        assert_eq!(entries[2], set(3, "C", "pa$word"));
        assert_eq!(entries[3], set(4, "D", "it's pa$word"));
    }

    #[test]
    fn an_unparsable_line_and_a_quote_left_open_are_located() {
        let content = "A=1\nTOKEN=part1\npart2\nB=\"open\nC=3\n";
        assert_eq!(
            entries(content),
            [
                set(1, "A", "1"),
                set(2, "TOKEN", "part1"),
                Entry::Unparsable {
                    first: 3,
                    last: 3,
                    key: None
                },
                Entry::Unparsable {
                    first: 4,
                    last: 5,
                    key: Some("B".to_owned())
                },
            ]
        );
    }

    #[test]
    fn a_file_without_a_final_line_break_keeps_its_last_line() {
        assert_eq!(entries("A=1\nB=2"), [set(1, "A", "1"), set(2, "B", "2")]);
        assert_eq!(entries(""), []);
    }
}
