//! A line scanner for the plain block YAML that most Kubernetes manifests are written in.
//!
//! `check_yaml_stream` keeps only what the duplicate-key, depth and syntax checks need:
//! each document's root position, every mapping key with its position, and the nesting.
//! This scanner produces exactly those events for a document it fully understands:
//! block mappings and sequences (compact `- key: v` and indentless `key:\n- v` forms),
//! plain and quoted scalars (multi-line ones as values), `[...]` of one-line scalars,
//! `{}`, `|`/`>` block scalars, and comments. On anything else (tabs in the structure,
//! anchors, tags, aliases, flow mappings, escapes in keys, a value alone on the line
//! after its key, indentation it cannot place, a possible syntax error) it gives up on
//! that document, which then goes through the full parser; it never reports an error
//! itself. So the fast path only
//! decides *how* an accepted document is read, never what is found in it: the
//! differential tests hold it to the parser's results on generated YAML and the corpus.

use std::borrow::Cow;
use std::ops::Range;

use crate::diagnostic::Position;

/// One event for the checker: the subset of parser events it keeps.
pub(crate) enum FastEvent<'a> {
    DocumentStart,
    DocumentEnd,
    /// A block or flow mapping (`map`) or sequence starts.
    Open {
        map: bool,
    },
    /// The innermost open mapping or sequence ends.
    Close,
    /// A scalar. `text` is exact when the scalar is a mapping key (values are never
    /// inspected); `plain` when it resolves by the core schema.
    Scalar {
        text: Cow<'a, str>,
        plain: bool,
    },
}

/// One document's text in a stream: the bytes and the file line it starts on.
pub(crate) struct Chunk {
    pub(crate) range: Range<usize>,
    pub(crate) first_line: usize,
}

/// Split a stream into documents at its `---` lines. `None` when the file has to be
/// read whole by the parser: a directive, a `...` marker, a `---` with anything after
/// it, a byte-order mark past the start, or a carriage return (line ends the scanner
/// does not count).
pub(crate) fn documents(text: &str) -> Option<Vec<Chunk>> {
    let bytes = text.as_bytes();
    if memchr::memchr(b'\r', bytes).is_some() || text.contains('\u{feff}') {
        return None;
    }
    let mut chunks = Vec::new();
    let (mut start, mut start_line) = (0, 1);
    let (mut at, mut line) = (0, 1);
    while at < bytes.len() {
        let end = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |i| at + i);
        let l = &bytes[at..end];
        match l.first() {
            Some(b'%') => return None,
            Some(b'-') if l.starts_with(b"---") => {
                if is_marker(l) {
                    if at > start {
                        chunks.push(Chunk {
                            range: start..at,
                            first_line: start_line,
                        });
                    }
                    (start, start_line) = (at, line);
                } else if matches!(l[3], b' ' | b'\t') {
                    return None;
                }
            }
            Some(b'.')
                if l.starts_with(b"...") && matches!(l.get(3), None | Some(b' ' | b'\t')) =>
            {
                return None;
            }
            _ => {}
        }
        at = end + 1;
        line += 1;
    }
    if bytes.len() > start {
        chunks.push(Chunk {
            range: start..bytes.len(),
            first_line: start_line,
        });
    }
    Some(chunks)
}

/// A `---` line with nothing after it but spaces or a comment (of characters the
/// parser accepts).
fn is_marker(line: &[u8]) -> bool {
    line.len() == 3 || only_comment(&line[3..]) && line[3] == b' ' && clean(line, true)
}

/// Scan one document (`text` starts at line `first_line` of its file; a first line of
/// `---` is its explicit start) into `out`. False, with `out` to be discarded, when the
/// document needs the full parser.
pub(crate) fn scan<'a>(
    text: &'a str,
    first_line: usize,
    max_depth: usize,
    out: &mut Vec<(FastEvent<'a>, Position)>,
) -> bool {
    let mut s = Scanner {
        out,
        levels: Vec::new(),
        // Leave the parser room to report a depth error with its own positions.
        max_depth: max_depth.saturating_sub(2),
        line: first_line,
        block: None,
        continued: None,
        started: false,
        root_done: false,
    };
    s.run(text).is_some()
}

/// An open block mapping or sequence.
#[derive(Clone, Copy)]
struct Level {
    /// 0-based column of its keys or dashes.
    col: usize,
    map: bool,
    /// A sequence at its parent key's column (`key:\n- a`).
    indentless: bool,
    /// The last key or dash has no value yet: it is on a later, deeper line, or null.
    awaiting: bool,
}

/// A block scalar being skipped.
struct Block {
    /// Column of the node that holds it: content lines are indented more.
    parent: usize,
    /// Its content indentation, once the first non-blank line set it.
    indent: Option<usize>,
    /// Most spaces on an all-space line before that.
    max_blank: usize,
}

/// A scalar that goes on over the following lines.
#[derive(Clone, Copy)]
enum Continued {
    /// A plain scalar: its continuation lines are indented more than `parent`.
    Plain { parent: usize },
    /// A quoted scalar not closed yet.
    Quoted { quote: u8, parent: usize },
}

/// Why scanning stopped early: the document goes to the parser.
struct GiveUp;

type Step = Result<(), GiveUp>;

struct Scanner<'a, 'o> {
    out: &'o mut Vec<(FastEvent<'a>, Position)>,
    levels: Vec<Level>,
    max_depth: usize,
    /// 1-based file line being scanned.
    line: usize,
    block: Option<Block>,
    continued: Option<Continued>,
    /// Content seen: the document exists.
    started: bool,
    /// The root node is complete: more content would be a second root.
    root_done: bool,
}

fn is_dash(s: &[u8]) -> bool {
    s.first() == Some(&b'-') && matches!(s.get(1), None | Some(b' '))
}

fn leading_spaces(s: &[u8]) -> usize {
    s.iter().take_while(|&&b| b == b' ').count()
}

/// No byte the scanner does not reason about: controls (a tab too, unless `tab_ok`),
/// DEL, C1 controls (NEL among them), line and paragraph separators, non-characters.
fn clean(s: &[u8], tab_ok: bool) -> bool {
    let ascii_ok = s
        .iter()
        .all(|&b| (b >= 0x20 && b != 0x7f) || (tab_ok && b == b'\t'));
    if !ascii_ok {
        return false;
    }
    if s.is_ascii() {
        return true;
    }
    !s.windows(2)
        .any(|w| w[0] == 0xC2 && (0x80..=0x9F).contains(&w[1]))
        && !s
            .windows(3)
            .any(|w| matches!(w, [0xE2, 0x80, 0xA8 | 0xA9] | [0xEF, 0xBF, 0xBE | 0xBF]))
}

/// After a value: nothing, or spaces and maybe a comment.
fn only_comment(rest: &[u8]) -> bool {
    match rest.first() {
        None => true,
        Some(b' ') => {
            let r = &rest[leading_spaces(rest)..];
            r.is_empty() || r[0] == b'#'
        }
        _ => false,
    }
}

/// Bytes that start a YAML indicator: a plain scalar may not begin with one.
fn indicator(b: u8) -> bool {
    matches!(
        b,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
    )
}

/// A plain scalar may begin here: no indicator, except a `-` before a character that
/// could follow it in a plain scalar (`--port`, `-1`).
fn plain_start(s: &[u8]) -> bool {
    match s.first() {
        None | Some(b' ') => false,
        Some(b'-') => s
            .get(1)
            .is_some_and(|&b| b > b' ' && !matches!(b, b',' | b'[' | b']' | b'{' | b'}' | b'#')),
        Some(&b) => !indicator(b),
    }
}

/// A one-line quoted scalar at the start of `s`: its length with the quotes, and its text
/// when that needs no unescaping.
fn quoted(text: &str) -> Option<(usize, Option<Cow<'_, str>>)> {
    let s = text.as_bytes();
    let quote = *s.first()?;
    let end = quote_end(s, quote, 1).ok()??;
    let inner = &text[1..end];
    let cooked = if quote == b'\'' {
        Some(if inner.contains("''") {
            Cow::Owned(inner.replace("''", "'"))
        } else {
            Cow::Borrowed(inner)
        })
    } else {
        (!inner.contains('\\')).then_some(Cow::Borrowed(inner))
    };
    Some((end + 1, cooked))
}

/// Where the quoted scalar opened by `quote` closes on this line, scanning from `from`;
/// `None` when it goes on to the next line.
fn quote_end(s: &[u8], quote: u8, from: usize) -> Result<Option<usize>, GiveUp> {
    let mut i = from;
    while i < s.len() {
        match s[i] {
            b'\'' if quote == b'\'' => {
                if s.get(i + 1) != Some(&b'\'') {
                    return Ok(Some(i));
                }
                i += 2;
                continue;
            }
            b'"' if quote == b'"' => return Ok(Some(i)),
            b'\\' if quote == b'"' => {
                if i + 1 == s.len() {
                    // An escaped line break.
                    return Ok(None);
                }
                i += 1 + escape_len(&s[i + 1..]).ok_or(GiveUp)?;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    Ok(None)
}

/// Length of a valid escape after a backslash in a double-quoted scalar.
fn escape_len(s: &[u8]) -> Option<usize> {
    let digits = match *s.first()? {
        b'0' | b'a' | b'b' | b't' | b'n' | b'v' | b'f' | b'r' | b'e' | b' ' | b'"' | b'/'
        | b'\\' | b'N' | b'_' | b'L' | b'P' => return Some(1),
        b'x' => 2,
        b'u' => 4,
        b'U' => 8,
        _ => return None,
    };
    let hex = std::str::from_utf8(s.get(1..1 + digits)?).ok()?;
    let code = u32::from_str_radix(hex, 16).ok()?;
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    char::from_u32(code)?;
    Some(1 + digits)
}

/// A mapping key: its text, whether plain, and where its value starts (after `:`).
type Key<'a> = (Cow<'a, str>, bool, usize);

/// A mapping key at the start of `line`: its text, whether plain, and where its value
/// starts (after `:`). Keys the scanner reads: plain ones of letters, digits and
/// `_.-/$`, and quoted ones without escapes or non-ASCII text, directly before `: `.
fn key(line: &str) -> Option<Key<'_>> {
    let s = line.as_bytes();
    const MAX_KEY: usize = 512;
    let first = *s.first()?;
    let (text, plain, end) = if first == b'"' || first == b'\'' {
        let (len, text) = quoted(line)?;
        let text = text?;
        if !text.is_ascii() {
            return None;
        }
        (text, false, len)
    } else {
        if !(first.is_ascii_alphanumeric() || first == b'_') {
            return None;
        }
        let len = s
            .iter()
            .take_while(|&&b| {
                b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'/' | b'$')
            })
            .count();
        (Cow::Borrowed(&line[..len]), true, len)
    };
    if end > MAX_KEY || s.get(end) != Some(&b':') || !matches!(s.get(end + 1), None | Some(b' ')) {
        return None;
    }
    Some((text, plain, end + 1))
}

impl<'a> Scanner<'a, '_> {
    fn at(&self, col: usize) -> Position {
        Position::new(self.line, col + 1)
    }

    fn emit(&mut self, event: FastEvent<'a>, col: usize) {
        let at = self.at(col);
        self.out.push((event, at));
    }

    fn run(&mut self, text: &'a str) -> Option<()> {
        let bytes = text.as_bytes();
        let mut explicit = false;
        let mut at = 0;
        let mut lines = 0;
        while at < bytes.len() {
            let end = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |i| at + i);
            let line = &text[at..end];
            if lines == 0 && line.starts_with("---") && is_marker(line.as_bytes()) {
                explicit = true;
                self.emit(FastEvent::DocumentStart, 0);
            } else {
                self.line_of(line, explicit).ok()?;
            }
            at = end + 1;
            lines += 1;
            self.line += 1;
        }
        if matches!(self.continued, Some(Continued::Quoted { .. })) {
            return None;
        }
        // The parser's end of input is the start of the line after the last one.
        if !self.started {
            if !explicit {
                return Some(());
            }
            self.out.push((
                FastEvent::Scalar {
                    text: Cow::Borrowed(""),
                    plain: true,
                },
                Position::new(self.line, 1),
            ));
        }
        while !self.levels.is_empty() {
            self.pop();
        }
        self.out
            .push((FastEvent::DocumentEnd, Position::new(self.line, 1)));
        Some(())
    }

    fn line_of(&mut self, line: &'a str, explicit: bool) -> Step {
        let bytes = line.as_bytes();
        if self.block.is_some() && self.block_line(bytes)? {
            return Ok(());
        }
        if self.continued.is_some() && self.continued_line(bytes)? {
            return Ok(());
        }
        let indent = leading_spaces(bytes);
        if indent == bytes.len() {
            return Ok(());
        }
        let comment = bytes[indent] == b'#';
        if !clean(bytes, comment) {
            return Err(GiveUp);
        }
        if comment {
            return Ok(());
        }
        if !self.started {
            self.started = true;
            if !explicit {
                self.emit(FastEvent::DocumentStart, indent);
            }
        }
        self.content(indent, &line[indent..])
    }

    /// A line while a multi-line scalar is open: true when it belongs to the scalar.
    fn continued_line(&mut self, bytes: &[u8]) -> Result<bool, GiveUp> {
        let Some(continued) = self.continued else {
            return Ok(false);
        };
        let spaces = leading_spaces(bytes);
        if spaces == bytes.len() {
            // An empty line folds into the scalar.
            return Ok(true);
        }
        match continued {
            Continued::Plain { parent } => {
                if spaces <= parent {
                    self.continued = None;
                    return Ok(false);
                }
                let rest = &bytes[spaces..];
                if rest[0] == b'#' {
                    // A comment ends the scalar; a deeper line after it is not read.
                    self.continued = None;
                    return Ok(false);
                }
                let trimmed = rest.len() - rest.iter().rev().take_while(|&&b| b == b' ').count();
                if !clean(bytes, false) || plain_rest(rest, false) != Some(trimmed) {
                    return Err(GiveUp);
                }
                Ok(true)
            }
            Continued::Quoted { quote, parent } => {
                if spaces <= parent || !clean(bytes, false) {
                    return Err(GiveUp);
                }
                if let Some(end) = quote_end(bytes, quote, spaces)? {
                    if !only_comment(&bytes[end + 1..]) {
                        return Err(GiveUp);
                    }
                    self.continued = None;
                }
                Ok(true)
            }
        }
    }

    /// A line while a block scalar is open: true when it belongs to the scalar.
    fn block_line(&mut self, bytes: &[u8]) -> Result<bool, GiveUp> {
        let Some(b) = self.block.as_mut() else {
            return Ok(false);
        };
        let spaces = leading_spaces(bytes);
        let blank = spaces == bytes.len();
        match b.indent {
            None if blank => {
                b.max_blank = b.max_blank.max(spaces);
                Ok(true)
            }
            None if spaces > b.parent => {
                if b.max_blank > spaces || !clean(bytes, true) {
                    return Err(GiveUp);
                }
                b.indent = Some(spaces);
                Ok(true)
            }
            None => {
                // An empty block scalar; all-space lines after it are not worth reasoning about.
                if b.max_blank > 0 {
                    return Err(GiveUp);
                }
                self.block = None;
                Ok(false)
            }
            Some(_) if blank => Ok(true),
            Some(m) if spaces >= m => {
                if !clean(bytes, true) {
                    return Err(GiveUp);
                }
                Ok(true)
            }
            Some(_) if spaces > b.parent => Err(GiveUp),
            Some(_) => {
                self.block = None;
                Ok(false)
            }
        }
    }

    /// Close the innermost level (its pending value, if any, is null).
    fn pop(&mut self) {
        if let Some(level) = self.levels.pop() {
            if level.awaiting {
                self.null(level.col);
            }
            self.emit(FastEvent::Close, level.col);
        }
        if self.levels.is_empty() {
            self.root_done = true;
        }
    }

    fn null(&mut self, col: usize) {
        self.emit(
            FastEvent::Scalar {
                text: Cow::Borrowed(""),
                plain: true,
            },
            col,
        );
    }

    fn push(&mut self, level: Level) -> Step {
        if self.levels.len() >= self.max_depth {
            return Err(GiveUp);
        }
        self.emit(FastEvent::Open { map: level.map }, level.col);
        self.levels.push(level);
        Ok(())
    }

    fn set_awaiting(&mut self, awaiting: bool) {
        if let Some(top) = self.levels.last_mut() {
            top.awaiting = awaiting;
        }
    }

    /// A content line: `s` starts at column `indent`.
    fn content(&mut self, indent: usize, s: &'a str) -> Step {
        let dash = is_dash(s.as_bytes());
        while let Some(top) = self.levels.last() {
            if top.col > indent || (top.col == indent && top.indentless && !dash) {
                self.pop();
            } else {
                break;
            }
        }
        let Some(top) = self.levels.last().copied() else {
            if self.root_done {
                return Err(GiveUp);
            }
            return self.node(indent, s);
        };
        if top.col < indent {
            if !top.awaiting {
                return Err(GiveUp);
            }
            self.set_awaiting(false);
            return self.node(indent, s);
        }
        match (top.map, dash) {
            (false, true) | (true, false) => {
                if top.awaiting {
                    self.set_awaiting(false);
                    self.null(indent);
                }
                if dash {
                    self.item(indent, s)
                } else {
                    let parsed = key(s).ok_or(GiveUp)?;
                    self.entry(indent, s, parsed)
                }
            }
            (true, true) if top.awaiting => {
                self.set_awaiting(false);
                self.push(Level {
                    col: indent,
                    map: false,
                    indentless: true,
                    awaiting: false,
                })?;
                self.item(indent, s)
            }
            _ => Err(GiveUp),
        }
    }

    /// A new mapping or sequence whose first key or dash is at `col`.
    fn node(&mut self, col: usize, s: &'a str) -> Step {
        let parsed = if is_dash(s.as_bytes()) {
            None
        } else {
            Some(key(s).ok_or(GiveUp)?)
        };
        self.push(Level {
            col,
            map: parsed.is_some(),
            indentless: false,
            awaiting: false,
        })?;
        match parsed {
            Some(k) => self.entry(col, s, k),
            None => self.item(col, s),
        }
    }

    /// `- ...` at `col` in the innermost sequence.
    fn item(&mut self, col: usize, s: &'a str) -> Step {
        let after = 1 + leading_spaces(&s.as_bytes()[1..]);
        let rest = &s[after..];
        if rest.is_empty() || rest.starts_with('#') {
            self.set_awaiting(true);
            return Ok(());
        }
        let c = col + after;
        if is_dash(rest.as_bytes()) {
            return self.node(c, rest);
        }
        if let Some(k) = key(rest) {
            self.push(Level {
                col: c,
                map: true,
                indentless: false,
                awaiting: false,
            })?;
            return self.entry(c, rest, k);
        }
        self.value(c, rest, col)
    }

    /// `key: ...` at `col` in the innermost mapping; `parsed` is `key(s)`.
    fn entry(&mut self, col: usize, s: &'a str, parsed: Key<'a>) -> Step {
        let (text, plain, after) = parsed;
        self.emit(FastEvent::Scalar { text, plain }, col);
        let spaces = leading_spaces(&s.as_bytes()[after..]);
        let rest = &s[after + spaces..];
        if rest.is_empty() || rest.starts_with('#') {
            self.set_awaiting(true);
            return Ok(());
        }
        self.value(col + after + spaces, rest, col)
    }

    /// A value on the line of its key or dash, at column `col`, in a node at `parent`.
    fn value(&mut self, col: usize, s: &'a str, parent: usize) -> Step {
        let b = s.as_bytes();
        match b[0] {
            b'"' | b'\'' => {
                if let Some(end) = quote_end(b, b[0], 1)? {
                    if !only_comment(&b[end + 1..]) {
                        return Err(GiveUp);
                    }
                    self.scalar(&s[1..end], false, col);
                } else {
                    self.scalar(&s[1..], false, col);
                    self.continued = Some(Continued::Quoted {
                        quote: b[0],
                        parent,
                    });
                }
                Ok(())
            }
            b'[' => self.flow_sequence(col, s),
            b'{' => {
                let inner = leading_spaces(&b[1..]);
                if b.get(1 + inner) != Some(&b'}') || !only_comment(&b[2 + inner..]) {
                    return Err(GiveUp);
                }
                self.push(Level {
                    col,
                    map: true,
                    indentless: false,
                    awaiting: false,
                })?;
                self.levels.pop();
                self.emit(FastEvent::Close, col);
                Ok(())
            }
            b'|' | b'>' => {
                let mut i = 1;
                if matches!(b.get(1), Some(b'-' | b'+')) {
                    i += 1;
                }
                if !only_comment(&b[i..]) {
                    return Err(GiveUp);
                }
                self.scalar("", false, col);
                self.block = Some(Block {
                    parent,
                    indent: None,
                    max_blank: 0,
                });
                Ok(())
            }
            _ => {
                let len = plain_len(b, false).ok_or(GiveUp)?;
                self.scalar(&s[..len], true, col);
                // A comment ends a plain scalar; without one it may go on.
                if !b[len..].contains(&b'#') {
                    self.continued = Some(Continued::Plain { parent });
                }
                Ok(())
            }
        }
    }

    fn scalar(&mut self, text: &'a str, plain: bool, col: usize) {
        self.emit(
            FastEvent::Scalar {
                text: Cow::Borrowed(text),
                plain,
            },
            col,
        );
    }

    /// `[a, "b", c]` on one line, of scalars only.
    fn flow_sequence(&mut self, col: usize, s: &'a str) -> Step {
        let b = s.as_bytes();
        self.push(Level {
            col,
            map: false,
            indentless: false,
            awaiting: false,
        })?;
        let mut i = 1 + leading_spaces(&b[1..]);
        if b.get(i) != Some(&b']') {
            loop {
                let item = &b[i..];
                let len = match item.first() {
                    Some(b'"' | b'\'') => {
                        let (len, _) = quoted(&s[i..]).ok_or(GiveUp)?;
                        self.scalar(&s[i + 1..i + len - 1], false, col + i);
                        len
                    }
                    _ => {
                        let len = plain_len(item, true).ok_or(GiveUp)?;
                        self.scalar(&s[i..i + len], true, col + i);
                        len
                    }
                };
                i += len;
                i += leading_spaces(&b[i..]);
                match b.get(i) {
                    Some(b',') => {
                        i += 1;
                        i += leading_spaces(&b[i..]);
                        if matches!(b.get(i), None | Some(b']')) {
                            return Err(GiveUp);
                        }
                    }
                    Some(b']') => break,
                    _ => return Err(GiveUp),
                }
            }
        }
        self.levels.pop();
        self.emit(FastEvent::Close, col + i);
        if !only_comment(&b[i + 1..]) {
            return Err(GiveUp);
        }
        Ok(())
    }
}

/// Length of the one-line plain scalar at the start of `s` (trailing spaces and a
/// comment excluded), if the scanner can vouch for it. In a flow sequence (`flow`) it
/// ends at `,` or `]` and may not run to the end of the line.
fn plain_len(s: &[u8], flow: bool) -> Option<usize> {
    if !plain_start(s) {
        return None;
    }
    plain_rest(s, flow)
}

/// As [`plain_len`], for text inside a plain scalar (a continuation line), where
/// indicators may start it.
fn plain_rest(s: &[u8], flow: bool) -> Option<usize> {
    let mut end = 0;
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b' ' => {
                match s.get(i + 1) {
                    Some(b'#') => break,
                    // In a flow, every word is checked as a scalar's start.
                    Some(b'-') if flow && matches!(s.get(i + 2), Some(b',' | b']')) => {
                        return None;
                    }
                    _ => {}
                }
            }
            b':' => {
                // `: ` or a final `:` would make a mapping; in a flow, any `:` is left
                // to the parser.
                if flow || matches!(s.get(i + 1), None | Some(b' ')) {
                    return None;
                }
                end = i + 1;
            }
            b',' | b']' if flow => break,
            b'[' | b'{' | b'}' | b'#' if flow => return None,
            _ => end = i + 1,
        }
        i += 1;
    }
    if flow && i == s.len() {
        return None;
    }
    Some(end)
}
