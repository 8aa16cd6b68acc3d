//! Positions between spectro (1-based line, column in characters) and LSP (0-based line,
//! `character` in the negotiated unit: UTF-8 bytes, UTF-16 code units or UTF-32 code
//! points), and edits of a buffer by LSP ranges.

use gen_lsp_types::{Position, Range};

/// The position encoding agreed with the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    Utf8,
    Utf16,
    Utf32,
}

impl Encoding {
    /// What the server answers, from what the client offers: UTF-32 (spectro's own unit),
    /// then UTF-8, else UTF-16 (the protocol's default, and all an old client knows).
    pub(crate) fn negotiate(offered: &[String]) -> Encoding {
        if offered.iter().any(|e| e == "utf-32") {
            Encoding::Utf32
        } else if offered.iter().any(|e| e == "utf-8") {
            Encoding::Utf8
        } else {
            Encoding::Utf16
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Utf16 => "utf-16",
            Encoding::Utf32 => "utf-32",
        }
    }

    fn units(self, ch: char) -> usize {
        match self {
            Encoding::Utf8 => ch.len_utf8(),
            Encoding::Utf16 => ch.len_utf16(),
            Encoding::Utf32 => 1,
        }
    }
}

pub(crate) use crate::syntax::line_starts;

/// The text of line `index` (0-based) without its terminator; empty past the end.
pub(crate) fn line<'t>(text: &'t str, starts: &[usize], index: usize) -> &'t str {
    let Some(&start) = starts.get(index) else {
        return "";
    };
    let end = starts.get(index + 1).copied().unwrap_or(text.len());
    text[start..end].trim_end_matches(['\n', '\r'])
}

/// Units of `enc` in the first `chars` characters of `line` (clamped to the line).
#[cfg(test)]
pub(crate) fn units_of_chars(line: &str, chars: usize, enc: Encoding) -> u32 {
    let n: usize = line.chars().take(chars).map(|c| enc.units(c)).sum();
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Byte offset in `line` of a position given in units of `enc`; a position inside a
/// character or past the end is clamped (to that character's start, to the line's end),
/// as the protocol asks of a server.
pub(crate) fn byte_of_units(line: &str, units: u32, enc: Encoding) -> usize {
    let mut seen = 0usize;
    for (i, ch) in line.char_indices() {
        let next = seen + enc.units(ch);
        if next > units as usize {
            return i;
        }
        seen = next;
    }
    line.len()
}

/// Byte offset in `text` of an LSP position.
pub(crate) fn offset(text: &str, starts: &[usize], pos: Position, enc: Encoding) -> usize {
    let index = pos.line as usize;
    if index >= starts.len() {
        return text.len();
    }
    starts[index] + byte_of_units(line(text, starts, index), pos.character, enc)
}

/// Apply an edit of `range` (in `enc`) to `text`. A range whose end is before its start
/// is taken as empty at its start.
pub(crate) fn apply_edit(text: &mut String, range: Range, new_text: &str, enc: Encoding) {
    let starts = line_starts(text);
    let start = offset(text, &starts, range.start, enc);
    let end = offset(text, &starts, range.end, enc).max(start);
    text.replace_range(start..end, new_text);
}

/// The last line split into characters (its index), and the last finding measured on it
/// (start, the end asked for, its range in units, whole).
pub(crate) type LineCache = Option<(
    usize,
    Vec<char>,
    Option<(usize, Option<u32>, u32, u32, bool)>,
)>;

/// The range shown for a finding at 1-based `line`/`column` (characters): from there to
/// `end_column` (the library's end of the finding's token, exclusive) or else the end of the token (a quoted string with its quotes, else up to whitespace or one
/// of `,:]}#`), at least one character when the line has one there. The flag says
/// whether the token is the whole scalar (a terminated quoted string, or a plain word
/// that nothing but `:`, `,`, `]`, `}` or a comment follows), so that replacing it
/// replaces the value and nothing else.
///
/// `cache` keeps the last line split into characters and the last token measured:
/// findings come sorted by line and column, so a long line with many findings is split
/// once, and many findings at one place are measured once.
pub(crate) fn finding_range(
    text: &str,
    starts: &[usize],
    line_no: u32,
    column: u32,
    end_column: Option<u32>,
    enc: Encoding,
    cache: &mut LineCache,
) -> (Range, bool) {
    let index = line_no.saturating_sub(1) as usize;
    if cache.as_ref().is_none_or(|(l, _, _)| *l != index) {
        *cache = Some((index, line(text, starts, index).chars().collect(), None));
    }
    let Some((_, chars, memo)) = cache.as_mut() else {
        return (Range::default(), false);
    };
    let start = (column.saturating_sub(1) as usize).min(chars.len());
    let line32 = u32::try_from(index).unwrap_or(u32::MAX);
    // Findings at one place come together: their token is scanned and measured once.
    if let Some((at, asked, units_start, units_end, whole)) = *memo
        && at == start
        && asked == end_column
    {
        return (
            Range::new(
                Position::new(line32, units_start),
                Position::new(line32, units_end),
            ),
            whole,
        );
    }
    let (token_end, whole) = crate::syntax::token_at(chars, start);
    // The library's end when the finding has one (the same token), clamped to the line.
    let end = end_column.map_or(token_end, |e| {
        (e.saturating_sub(1) as usize).clamp(start, chars.len())
    });
    let units =
        |from: usize, n: usize| -> usize { chars[from..n].iter().map(|&c| enc.units(c)).sum() };
    // Sorted by column: count on from the last finding's start, not from the line's.
    let u_start = match *memo {
        Some((at, _, units_at, _, _)) if at <= start => units_at as usize + units(at, start),
        _ => units(0, start),
    };
    let u_end = u_start + units(start, end);
    let clamp = |u: usize| u32::try_from(u).unwrap_or(u32::MAX);
    let (units_start, units_end) = (clamp(u_start), clamp(u_end));
    *memo = Some((start, end_column, units_start, units_end, whole));
    (
        Range::new(
            Position::new(line32, units_start),
            Position::new(line32, units_end),
        ),
        whole,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_emoji_counts_by_the_negotiated_unit() {
        // spectro column 9 is `b` of `bad`.
        let src = "name: 😀 bad";
        assert_eq!(units_of_chars(src, 8, Encoding::Utf32), 8);
        assert_eq!(units_of_chars(src, 8, Encoding::Utf16), 9);
        assert_eq!(units_of_chars(src, 8, Encoding::Utf8), 11);
        for enc in [Encoding::Utf8, Encoding::Utf16, Encoding::Utf32] {
            let u = units_of_chars(src, 8, enc);
            assert_eq!(&src[byte_of_units(src, u, enc)..], "bad", "{enc:?}");
        }
        // Inside the emoji (a UTF-16 surrogate half): clamped to its start.
        assert_eq!(byte_of_units(src, 7, Encoding::Utf16), 6);
        assert_eq!(byte_of_units(src, 999, Encoding::Utf16), src.len());
    }

    #[test]
    fn lines_end_at_lf_crlf_and_lone_cr() {
        let text = "a\nb\r\nc\rd";
        let starts = line_starts(text);
        assert_eq!(starts, [0, 2, 5, 7]);
        let lines: Vec<&str> = (0..4).map(|i| line(text, &starts, i)).collect();
        assert_eq!(lines, ["a", "b", "c", "d"]);
    }

    #[test]
    fn incremental_edits_apply_in_every_encoding() {
        for enc in [Encoding::Utf8, Encoding::Utf16, Encoding::Utf32] {
            let mut text = "name: 😀 bad\nnext: 1\n".to_owned();
            let at = units_of_chars("name: 😀 bad", 8, enc);
            let range = Range::new(Position::new(0, at), Position::new(0, at + 3));
            apply_edit(&mut text, range, "good", enc);
            assert_eq!(text, "name: 😀 good\nnext: 1\n", "{enc:?}");
            // Past the end of the document: appended.
            apply_edit(
                &mut text,
                Range::new(Position::new(9, 0), Position::new(9, 0)),
                "x",
                enc,
            );
            assert!(text.ends_with("1\nx"));
        }
    }

    #[test]
    fn ranges_cover_the_token() {
        let text = "pack:\n  namespace: \"My_NS\"  # c\n  layer: addons,\n";
        let starts = line_starts(text);
        let (r, whole) = finding_range(text, &starts, 2, 14, None, Encoding::Utf16, &mut None);
        assert_eq!((r.start.character, r.end.character, whole), (13, 20, true));
        let (r, whole) = finding_range(text, &starts, 2, 3, None, Encoding::Utf16, &mut None);
        assert_eq!((r.start.character, r.end.character, whole), (2, 11, true));
        let (r, whole) = finding_range(text, &starts, 3, 10, None, Encoding::Utf16, &mut None);
        assert_eq!((r.start.character, r.end.character, whole), (9, 15, true));
        // A plain value of two words: the range is the first, and it is not the value.
        let text = "namespace: My Namespace\nv: \"a\\\"b\", x\nw: 'it''s'\nu: \"open\n";
        let starts = line_starts(text);
        let (r, whole) = finding_range(text, &starts, 1, 12, None, Encoding::Utf16, &mut None);
        assert_eq!((r.start.character, r.end.character, whole), (11, 13, false));
        // Escaped quotes do not end a string; `''` does not end a YAML one.
        let (r, whole) = finding_range(text, &starts, 2, 4, None, Encoding::Utf16, &mut None);
        assert_eq!((r.start.character, r.end.character, whole), (3, 9, true));
        let (r, whole) = finding_range(text, &starts, 3, 4, None, Encoding::Utf16, &mut None);
        assert_eq!((r.start.character, r.end.character, whole), (3, 10, true));
        let (_, whole) = finding_range(text, &starts, 4, 4, None, Encoding::Utf16, &mut None);
        assert!(!whole, "an unterminated string is not replaced");
    }
}
