//! Inline suppressions in YAML files, like ruff's `# noqa`:
//!
//! - `key: value  # spectro: ignore[VL003]` silences findings of VL003 on that line;
//! - a comment line `# spectro: ignore[VL003, PK010]` silences them on the next line;
//! - `# spectro: ignore-file[VL003]` anywhere silences them in the whole file.
//!
//! Codes are required (there is no blanket form) and may be rule codes or names. Each
//! named rule that silenced nothing is reported (`SP001`), and malformed comments too
//! (`SP002`). JSON has no comments: pack.json findings are silenced per path in the
//! configuration file instead.

use std::sync::LazyLock;

use regex::Regex;

use crate::diagnostic::{Diagnostic, Position};
use crate::rules::{INVALID_SUPPRESSION, UNUSED_SUPPRESSION};

/// `spectro:` directive after `#`: the verb, an optional `[...]` list, and the rest.
static DIRECTIVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*spectro\s*:\s*([A-Za-z-]*)\s*(?:\[([^\]]*)\])?").expect("valid regex")
});

#[derive(Debug)]
struct Code {
    text: String,
    rule: &'static str,
    column: usize,
    used: bool,
}

#[derive(Debug)]
struct Entry {
    /// 1-based line of the comment.
    line: usize,
    /// Whether the comment is alone on its line (it then covers the next line too).
    own_line: bool,
    file_level: bool,
    codes: Vec<Code>,
}

impl Entry {
    fn covers(&self, line: Option<usize>) -> bool {
        self.file_level
            || line.is_some_and(|l| l == self.line || (self.own_line && l == self.line + 1))
    }
}

/// The suppressions of one YAML file.
#[derive(Debug, Default)]
pub(crate) struct Suppressions {
    file: String,
    entries: Vec<Entry>,
    problems: Vec<Diagnostic>,
}

/// Byte offset of the comment's `#` on a line, if the line has a comment: a `#` at the
/// start or after whitespace, outside quoted scalars. A quote opens a quoted scalar only
/// where a scalar starts (after `: `, `- `, `[`, `{`, `,` or at the line's start), so
/// the apostrophe in `text: it's fine` is text.
fn comment_start(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    let (mut single, mut double) = (false, false);
    let opens = |i: usize| {
        matches!(
            line[..i].trim_end().bytes().last(),
            None | Some(b':' | b'-' | b'[' | b'{' | b',' | b'?')
        )
    };
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if double => i += 1,
            b'"' if double => double = false,
            b'"' if !single && opens(i) => double = true,
            // `''` inside a single-quoted scalar is a quote.
            b'\'' if single && bytes.get(i + 1) == Some(&b'\'') => i += 1,
            b'\'' if single => single = false,
            b'\'' if !double && opens(i) => single = true,
            b'#' if !single && !double && (i == 0 || bytes[i - 1].is_ascii_whitespace()) => {
                return Some(i);
            }
            _ => {}
        }
        i += 1;
    }
    None
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// The indentation a block scalar opened on `line` is measured from: the line's, or for
/// `- key: |` the key's column after the dashes (the scalar belongs to the key).
fn block_parent_indent(line: &str) -> usize {
    let mut col = indent(line);
    let mut rest = &line[col..];
    while let Some(after) = rest.strip_prefix("- ") {
        let inner = after.trim_start_matches(' ');
        if !inner.contains(':') {
            break;
        }
        col += line[col..].len() - inner.len();
        rest = inner;
    }
    col
}

/// Whether a line (without its comment) opens a block scalar (`key: |`, `- >-`).
fn opens_block_scalar(code: &str) -> bool {
    let t = code.trim_end();
    let Some(head) = t
        .trim_end_matches(|c: char| c == '+' || c == '-' || c.is_ascii_digit())
        .strip_suffix(['|', '>'])
    else {
        return false;
    };
    head.is_empty()
        || head.ends_with(": ")
        || head.ends_with(':')
        || head.trim_end().ends_with('-')
        || head.ends_with(' ')
}

impl Suppressions {
    /// Scan a YAML file's text for `# spectro:` comments. Lines inside block scalars are
    /// skipped (a `#` there is text, not a comment).
    pub(crate) fn scan(file: &str, text: &str) -> Suppressions {
        let mut s = Suppressions {
            file: file.to_owned(),
            ..Suppressions::default()
        };
        if !text.contains("spectro") {
            return s;
        }
        let mut block: Option<usize> = None;
        for (index, line) in crate::syntax::lines(text).enumerate() {
            let line_no = index + 1;
            if let Some(parent) = block {
                if line.trim().is_empty() || indent(line) > parent {
                    continue;
                }
                block = None;
            }
            let hash = comment_start(line);
            let code_part = hash.map_or(line, |h| &line[..h]);
            if opens_block_scalar(code_part) {
                block = Some(block_parent_indent(line));
            }
            let Some(hash) = hash else { continue };
            let comment = &line[hash + 1..];
            let Some(m) = DIRECTIVE.captures(comment) else {
                continue;
            };
            let column = line[..hash].chars().count() + 1;
            let verb = m.get(1).map_or("", |v| v.as_str());
            let file_level = match verb {
                "ignore" => false,
                "ignore-file" => true,
                other => {
                    s.problem(line_no, column, format!(
                        "unknown directive `spectro: {}` (expected `ignore[CODE]` or `ignore-file[CODE]`)",
                        crate::sanitize(other)
                    ));
                    continue;
                }
            };
            let Some(list) = m.get(2) else {
                s.problem(line_no, column, format!(
                    "`spectro: {verb}` names no rule: write `spectro: {verb}[CODE]` (a blanket suppression would hide findings nobody has seen)"
                ));
                continue;
            };
            let mut codes = Vec::new();
            let list_start = hash + 1 + list.start();
            let mut offset = 0;
            for part in list.as_str().split(',') {
                let trimmed = part.trim();
                let lead = part.len() - part.trim_start().len();
                let col = line[..list_start + offset + lead].chars().count() + 1;
                offset += part.len() + 1;
                if trimmed.is_empty() {
                    continue;
                }
                match crate::selection::every_rule()
                    .find(|r| r.code.eq_ignore_ascii_case(trimmed) || r.name == trimmed)
                {
                    Some(rule) => codes.push(Code {
                        text: trimmed.to_owned(),
                        rule: rule.code,
                        column: col,
                        used: false,
                    }),
                    None => s.problem(line_no, col, format!(
                        "`{}` in `spectro: {verb}[...]` is no rule code or name (see `spectro rules`)",
                        crate::sanitize(trimmed)
                    )),
                }
            }
            if codes.is_empty() {
                continue;
            }
            s.entries.push(Entry {
                line: line_no,
                own_line: line[..hash].trim().is_empty(),
                file_level,
                codes,
            });
        }
        s
    }

    fn problem(&mut self, line: usize, column: usize, message: String) {
        self.problems.push(INVALID_SUPPRESSION.diag(
            &self.file,
            "",
            Some(Position::new(line, column)),
            message,
        ));
    }

    /// Whether a finding is silenced here; marks the suppression used.
    pub(crate) fn silences(&mut self, d: &Diagnostic) -> bool {
        if d.file != self.file {
            return false;
        }
        let line = d.line.map(|l| l.get() as usize);
        let mut hit = false;
        for e in self.entries.iter_mut().filter(|e| e.covers(line)) {
            for c in e.codes.iter_mut().filter(|c| c.rule == d.code) {
                c.used = true;
                hit = true;
            }
        }
        hit
    }

    /// Findings about the comments themselves: malformed ones, and named rules that
    /// silenced nothing.
    pub(crate) fn into_findings(self) -> Vec<Diagnostic> {
        let mut out = self.problems;
        for e in &self.entries {
            for c in e.codes.iter().filter(|c| !c.used) {
                let scope = if e.file_level {
                    "in this file"
                } else if e.own_line {
                    "on the next line"
                } else {
                    "on this line"
                };
                let mut d = UNUSED_SUPPRESSION.diag(
                    &self.file,
                    "",
                    Some(Position::new(e.line, c.column)),
                    format!(
                        "suppression of `{}` is unused: no {} finding {scope}",
                        crate::sanitize(&c.text),
                        c.rule
                    ),
                );
                d.help = Some("remove it (or check that the rule is selected)".into());
                out.push(d);
            }
        }
        out
    }
}

/// Drop silenced findings; return the findings about the suppression comments.
pub(crate) fn apply(
    files: Vec<Suppressions>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Diagnostic> {
    let mut files: Vec<Suppressions> = files
        .into_iter()
        .filter(|s| !s.entries.is_empty() || !s.problems.is_empty())
        .collect();
    if files.is_empty() {
        return Vec::new();
    }
    diagnostics.retain(|d| {
        let mut silenced = false;
        for s in files.iter_mut() {
            silenced |= s.silences(d);
        }
        !silenced
    });
    files
        .into_iter()
        .flat_map(Suppressions::into_findings)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::find_rule;

    fn finding(code: &str, line: usize) -> Diagnostic {
        find_rule(code)
            .unwrap()
            .diag("values.yaml", "", Some(Position::new(line, 3)), "m".into())
    }

    #[test]
    fn same_line_next_line_and_file_level() {
        let text = "a: 1  # spectro: ignore[VL002]\n# spectro: ignore[vl003, version-leading-v]\nb: 2\nc: 3\n";
        let mut s = Suppressions::scan("values.yaml", text);
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        assert!(s.silences(&finding("VL002", 1)));
        assert!(!s.silences(&finding("VL002", 2)));
        assert!(s.silences(&finding("VL003", 3)));
        assert!(!s.silences(&finding("VL003", 4)));
        let unused = s.into_findings();
        assert_eq!(unused.len(), 1, "{unused:?}");
        assert_eq!(unused[0].code, "SP001");
        assert!(unused[0].message.contains("PK010"));
        assert_eq!(
            (
                unused[0].line.unwrap().get(),
                unused[0].column.unwrap().get()
            ),
            (2, 26)
        );

        let mut f = Suppressions::scan("values.yaml", "x: 1\n# spectro: ignore-file[VL003]\n");
        let mut no_line = finding("VL003", 1);
        no_line.line = None;
        assert!(f.silences(&no_line) && f.silences(&finding("VL003", 9)));
        assert!(!f.silences(&finding("VL002", 9)));
    }

    #[test]
    fn malformed_comments_are_findings_and_text_is_not_a_comment() {
        let text = "a: 1 # spectro: ignore\nb: 2 # spectro: ignore[VL03]\nc: 3 # spectro: skip[VL003]\n\
                    d: \"# spectro: ignore[VL003]\"\ne: |\n  # spectro: ignore[VL002]\n  text\nf: x#spectro: ignore[VL002]\n";
        let s = Suppressions::scan("values.yaml", text);
        let lines: Vec<u32> = s.problems.iter().map(|d| d.line.unwrap().get()).collect();
        assert_eq!(lines, [1, 2, 3]);
        assert!(s.problems.iter().all(|d| d.code == "SP002"));
        assert!(s.entries.is_empty(), "{:?}", s.entries);
        assert_eq!(s.problems[1].column.unwrap().get(), 24);
    }

    #[test]
    fn apostrophes_in_plain_text_and_keys_after_a_dash() {
        let text = "a: it's fine  # spectro: ignore[VL003]\nb: 5\"  # spectro: ignore[VL002]\n\
                    c: 'it''s'  # spectro: ignore[VL004]\nitems:\n  - script: |\n      echo # not a comment\n    \
                    name: x  # spectro: ignore[PK010]\n";
        let mut s = Suppressions::scan("values.yaml", text);
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        assert!(s.silences(&finding("VL003", 1)));
        assert!(s.silences(&finding("VL002", 2)));
        assert!(s.silences(&finding("VL004", 3)));
        assert!(s.silences(&finding("PK010", 7)));
        assert_eq!(s.entries.len(), 4);
    }
}
