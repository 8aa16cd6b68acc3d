//! Findings about a pack that did load: [`Diagnostic`], [`Severity`], [`OneIndexed`].

use std::fmt;
use std::num::NonZeroU32;

use serde::{Serialize, Serializer};

/// How serious a finding is. Ordered: `Info < Warning < Error`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Severity {
    /// Worth knowing; never fails a run.
    Info,
    /// Palette may accept it, but it is likely a mistake.
    Warning,
    /// Palette (or the pack's consumers) would reject or mis-handle it.
    Error,
}

impl Severity {
    /// The lowercase name used in every output format.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "info" => Ok(Severity::Info),
            "warning" => Ok(Severity::Warning),
            "error" => Ok(Severity::Error),
            other => Err(format!(
                "unknown severity `{other}` (expected info, warning or error)"
            )),
        }
    }
}

/// A 1-based line or column number. Zero cannot be represented, so an off-by-one
/// between 0-based parser positions and 1-based report positions is a type error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OneIndexed(NonZeroU32);

impl OneIndexed {
    /// Line or column 1.
    pub const MIN: OneIndexed = OneIndexed(NonZeroU32::MIN);

    /// From a 1-based number; `None` for 0.
    pub fn new(value: u32) -> Option<Self> {
        NonZeroU32::new(value).map(OneIndexed)
    }

    /// From a 0-based index (saturating at `u32::MAX`).
    pub fn from_zero_indexed(index: usize) -> Self {
        let one = u32::try_from(index)
            .unwrap_or(u32::MAX - 1)
            .saturating_add(1);
        OneIndexed(NonZeroU32::new(one).unwrap_or(NonZeroU32::MIN))
    }

    /// From a 1-based `usize`, clamping 0 to 1.
    pub fn from_one_indexed(value: usize) -> Self {
        Self::from_zero_indexed(value.saturating_sub(1))
    }

    /// The 1-based value.
    pub fn get(self) -> u32 {
        self.0.get()
    }

    /// The 0-based index.
    pub fn to_zero_indexed(self) -> usize {
        (self.0.get() - 1) as usize
    }
}

impl fmt::Display for OneIndexed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for OneIndexed {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(self.get())
    }
}

/// A position in a source file: 1-based line, 1-based column counted in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    /// 1-based line.
    pub line: OneIndexed,
    /// 1-based column, in Unicode scalar values.
    pub column: OneIndexed,
}

impl Position {
    /// Line 1, column 1.
    pub const START: Position = Position {
        line: OneIndexed::MIN,
        column: OneIndexed::MIN,
    };

    /// From 1-based line and column numbers (0 is clamped to 1).
    pub fn new(line: usize, column: usize) -> Self {
        Position {
            line: OneIndexed::from_one_indexed(line),
            column: OneIndexed::from_one_indexed(column),
        }
    }
}

/// A finding about a pack or profile that did load.
///
/// The serialised form (`code`, `name`, `severity`, `message`, `file`, `pointer`, `line`,
/// `column`, `end_line`, `end_column` and `help`) is the JSON contract documented in `docs/json-output.md`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Diagnostic {
    /// Stable rule code, e.g. `PK002`. Never reused.
    pub code: &'static str,
    /// Kebab-case rule name, e.g. `missing-values-file`.
    pub name: &'static str,
    /// Severity of the rule.
    pub severity: Severity,
    /// Human-readable message.
    pub message: String,
    /// File the finding is about, `/`-separated: relative to the pack root for pack
    /// findings, the profile path as given for profile findings.
    pub file: String,
    /// JSON Pointer into `file` (empty for the whole document).
    pub pointer: String,
    /// 1-based line of the node, when the finding has a place in the file.
    pub line: Option<OneIndexed>,
    /// 1-based column of the node, when the finding has a place in the file.
    pub column: Option<OneIndexed>,
    /// 1-based line where the finding's token ends (the line of `line` today: tokens do
    /// not span lines), when it has a place.
    pub end_line: Option<OneIndexed>,
    /// 1-based column just after the finding's token (exclusive, in characters): the key,
    /// scalar or quoted string at `line`:`column` runs from `column` to `end_column - 1`.
    pub end_column: Option<OneIndexed>,
    /// A hint on how to fix it (for example a did-you-mean); `null` in JSON when there is
    /// none, so every finding has the same keys.
    pub help: Option<String>,
    /// A mechanical fix, when the rule knows the one answer (for editors' quick fixes;
    /// not in the JSON output).
    #[serde(skip)]
    pub fix: Option<Fix>,
}

/// A fix for a finding: replace the token at the finding's position (a key, a scalar, a
/// quoted string with its quotes) with `replacement`. The replacement is the bare value:
/// a frontend keeps the token's quotes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Fix {
    /// What the fix does, for a menu: ``Replace with `addon` ``.
    pub title: String,
    /// The new value of the token.
    pub replacement: String,
}

impl Fix {
    /// Replace the token with `replacement`, titled after it.
    pub fn replace_with(replacement: impl Into<String>) -> Self {
        let replacement = replacement.into();
        Fix {
            title: format!("Replace with `{replacement}`"),
            replacement,
        }
    }
}

impl Diagnostic {
    /// Where the finding's token ends (exclusive), if the finding has a place.
    pub fn end(&self) -> Option<Position> {
        Some(Position {
            line: self.end_line?,
            column: self.end_column?,
        })
    }

    /// The position, if the finding has one.
    pub fn position(&self) -> Option<Position> {
        Some(Position {
            line: self.line?,
            column: self.column?,
        })
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let (Some(l), Some(c)) = (self.line, self.column) {
            write!(f, ":{l}:{c}")?;
        }
        write!(f, ": {} [{}] {}", self.code, self.severity, self.message)
    }
}

/// Escape control characters so that text taken from a pack cannot drive the terminal.
pub fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        // Controls (CSI/OSC escapes, `\r`) and the bidirectional overrides and isolates
        // that reorder what a terminal shows (Trojan Source) are printed escaped.
        let bidi = matches!(ch, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}');
        if (ch.is_control() && ch != '\t') || bidi {
            out.extend(ch.escape_default());
        } else {
            out.push(ch);
        }
    }
    out
}
