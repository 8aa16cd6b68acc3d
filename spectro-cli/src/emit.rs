//! Output formats for `spectro validate` and `spectro profile validate`: one [`Emitter`]
//! per format, over the same reports (packs and profiles share one shape).

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::PathBuf;

use anstyle::{AnsiColor, Style};
use serde_json::json;
use spectro_packs::{Diagnostic, Report, ReportKind, Rule, Severity, Summary, sanitize};

/// What every emitter is given.
pub(crate) struct Run<'a> {
    /// Reports, already filtered by `--min-severity`.
    pub(crate) reports: &'a [Report],
    /// Totals over every finding (before `--min-severity`).
    pub(crate) summary: &'a Summary,
    /// Packs or profiles (the summary's noun).
    pub(crate) kind: ReportKind,
    /// Human format: only the summary line.
    pub(crate) quiet: bool,
    /// Human format: notes printed before the summary.
    pub(crate) notes: Vec<String>,
}

/// One output format.
pub(crate) trait Emitter {
    fn emit(&self, out: &mut dyn Write, run: &Run<'_>) -> io::Result<()>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// Colored, with the source line (color when stdout is a terminal and NO_COLOR unset).
    Human,
    /// One JSON document: {"reports": [...], "summary": {...}}.
    Json,
    /// One JSON object per finding, one per line.
    Jsonl,
    /// SARIF 2.1.0 (GitHub code scanning, IDEs).
    Sarif,
    /// GitHub Actions workflow annotations (`::error file=...,line=...::...`).
    Github,
    /// JUnit XML (GitLab, Jenkins, Azure Pipelines test reports).
    Junit,
}

impl Format {
    pub(crate) fn emitter(self) -> Box<dyn Emitter> {
        match self {
            Format::Human => Box::new(Human),
            Format::Json => Box::new(Json),
            Format::Jsonl => Box::new(Jsonl),
            Format::Sarif => Box::new(Sarif),
            Format::Github => Box::new(Github),
            Format::Junit => Box::new(Junit),
        }
    }
}

pub(crate) fn severity_style(s: Severity) -> Style {
    match s {
        Severity::Error => AnsiColor::Red.on_default().bold(),
        Severity::Warning => AnsiColor::Yellow.on_default().bold(),
        _ => AnsiColor::Cyan.on_default().bold(),
    }
}

/// Every finding with the report it belongs to.
fn findings<'a>(run: &'a Run<'_>) -> impl Iterator<Item = (&'a Report, &'a Diagnostic)> {
    run.reports
        .iter()
        .flat_map(|r| r.diagnostics.iter().map(move |d| (r, d)))
}

/// At most this many characters of a source line are shown (profile exports are one
/// long line).
const WINDOW: usize = 100;

/// The source line shown under a finding, the caret's padding and the caret's width
/// (the token from `column` to `end`, exclusive, within the shown window; at least one),
/// all computed on the escaped text, so the carets stay under their characters when
/// control characters are shown as `\u{1b}` and the like.
fn source_excerpt(chars: &[char], column: usize, end: Option<usize>) -> (String, String, usize) {
    let col0 = column.min(chars.len());
    let start = col0.saturating_sub(WINDOW / 2);
    let stop = (start + WINDOW).min(chars.len());
    let lead = if start > 0 { "…" } else { "" };
    let trail = if stop < chars.len() { "…" } else { "" };
    let before: String = chars[start..col0].iter().collect();
    let shown: String = chars[start..stop].iter().collect();
    let pad: String = lead
        .chars()
        .chain(sanitize(&before).chars())
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    let token_end = end.unwrap_or(col0 + 1).clamp(col0, stop);
    let token: String = chars[col0..token_end].iter().collect();
    let width = sanitize(&token).chars().count().max(1);
    (format!("{lead}{}{trail}", sanitize(&shown)), pad, width)
}

pub(crate) struct Human;

impl Emitter for Human {
    fn emit(&self, out: &mut dyn Write, run: &Run<'_>) -> io::Result<()> {
        let bold = Style::new().bold();
        let dim = AnsiColor::Blue.on_default().bold();
        // Per file: its text and the byte span of each line.
        #[allow(clippy::type_complexity)]
        let mut sources: HashMap<PathBuf, Option<(String, Vec<(usize, usize)>)>> = HashMap::new();
        // The line of the previous finding, split into characters: findings come sorted
        // by file and line, so a long line (a one-line pack.json or profile export with
        // thousands of findings) is found and split once, not once per finding.
        let mut current: Option<(PathBuf, usize, Option<Vec<char>>)> = None;
        for (r, d) in findings(run).filter(|_| !run.quiet) {
            let sev = severity_style(d.severity);
            let path = r.display_path(d);
            let loc = match (d.line, d.column) {
                (Some(l), Some(c)) => format!("{path}:{l}:{c}"),
                _ => path,
            };
            writeln!(
                out,
                "{bold}{}{bold:#}: {sev}{} {}{sev:#} {}",
                sanitize(&loc),
                d.code,
                d.severity,
                sanitize(&d.message)
            )?;
            let line_chars = match (d.line, r.source_path(d)) {
                (Some(line), Some(file)) => {
                    let index = line.to_zero_indexed();
                    let same = current
                        .as_ref()
                        .is_some_and(|(f, l, _)| *f == file && *l == index);
                    if !same {
                        // Each file is read and split into lines once, however many
                        // findings it has.
                        let chars = sources
                            .entry(file.clone())
                            .or_insert_with(|| {
                                let text = std::fs::read_to_string(&file).ok()?;
                                let base = text.as_ptr() as usize;
                                let spans = spectro_packs::syntax::lines(&text)
                                    .map(|l| {
                                        let start = l.as_ptr() as usize - base;
                                        (start, start + l.len())
                                    })
                                    .collect::<Vec<_>>();
                                Some((text, spans))
                            })
                            .as_ref()
                            .and_then(|(t, spans)| spans.get(index).map(|&(a, b)| &t[a..b]))
                            .map(|l| l.chars().collect());
                        current = Some((file, index, chars));
                    }
                    current.as_ref().and_then(|(_, _, c)| c.as_deref())
                }
                _ => None,
            };
            if let (Some(line), Some(col), Some(src)) = (d.line, d.column, line_chars) {
                let end = d
                    .end_column
                    .filter(|_| d.end_line == Some(line))
                    .map(|e| e.to_zero_indexed());
                let (shown, pad, width) = source_excerpt(src, col.to_zero_indexed(), end);
                let gutter = " ".repeat(line.to_string().len());
                let carets = "^".repeat(width);
                writeln!(out, "{dim}{gutter} |{dim:#}")?;
                writeln!(out, "{dim}{line} |{dim:#} {shown}")?;
                writeln!(out, "{dim}{gutter} |{dim:#} {pad}{sev}{carets}{sev:#}")?;
            }
            if let Some(help) = &d.help {
                writeln!(
                    out,
                    "  {dim}={dim:#} {bold}help{bold:#}: {}",
                    sanitize(help)
                )?;
            }
        }
        for note in &run.notes {
            writeln!(out, "note: {note}")?;
        }
        let s = run.summary;
        let status = if s.errors > 0 {
            severity_style(Severity::Error)
        } else if s.warnings > 0 {
            severity_style(Severity::Warning)
        } else {
            AnsiColor::Green.on_default().bold()
        };
        let plural = |n: usize, w: &str| {
            if n == 1 {
                format!("{n} {w}")
            } else {
                format!("{n} {w}s")
            }
        };
        writeln!(
            out,
            "{status}Checked {}: {}, {}, {}{status:#}",
            plural(s.checked, run.kind.as_str()),
            plural(s.errors, "error"),
            plural(s.warnings, "warning"),
            plural(s.infos, "info finding")
        )
    }
}

pub(crate) struct Json;

impl Emitter for Json {
    fn emit(&self, out: &mut dyn Write, run: &Run<'_>) -> io::Result<()> {
        let doc = json!({ "reports": run.reports, "summary": run.summary });
        serde_json::to_writer_pretty(&mut *out, &doc)?;
        writeln!(out)
    }
}

pub(crate) struct Jsonl;

impl Emitter for Jsonl {
    fn emit(&self, out: &mut dyn Write, run: &Run<'_>) -> io::Result<()> {
        for (r, d) in findings(run) {
            let mut v = serde_json::to_value(d)?;
            v["kind"] = json!(r.kind);
            v["path"] = json!(r.path.to_string_lossy());
            serde_json::to_writer(&mut *out, &v)?;
            writeln!(out)?;
        }
        Ok(())
    }
}

fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        _ => "note",
    }
}

/// SARIF 2.1.0: every rule (help from its explanation), one result per finding, columns
/// counted in Unicode code points as spectro counts them. Accepted by GitHub code
/// scanning.
pub(crate) struct Sarif;

impl Emitter for Sarif {
    fn emit(&self, out: &mut dyn Write, run: &Run<'_>) -> io::Result<()> {
        let rules: &[&Rule] = spectro_packs::all_rules();
        let rule_objs: Vec<serde_json::Value> = rules
            .iter()
            .map(|r| {
                json!({
                    "id": r.code,
                    "name": r.name,
                    "shortDescription": {"text": r.summary},
                    "fullDescription": {"text": r.summary},
                    "help": {"text": r.explanation, "markdown": r.explanation},
                    "defaultConfiguration": {"level": sarif_level(r.severity)},
                    "properties": {"since": r.since, "family": r.family().prefix},
                })
            })
            .collect();
        let results: Vec<serde_json::Value> = findings(run)
            .map(|(r, d)| {
                let uri = sarif_uri(&r.display_path(d).replace('\\', "/"));
                let mut physical = json!({"artifactLocation": {"uri": uri}});
                if let (Some(l), Some(c)) = (d.line, d.column) {
                    physical["region"] = json!({"startLine": l.get(), "startColumn": c.get()});
                    if let (Some(el), Some(ec)) = (d.end_line, d.end_column) {
                        physical["region"]["endLine"] = json!(el.get());
                        physical["region"]["endColumn"] = json!(ec.get());
                    }
                }
                let mut text = sanitize(&d.message);
                if let Some(h) = &d.help {
                    text.push_str(&format!(" ({})", sanitize(h)));
                }
                let mut res = json!({
                    "ruleId": d.code,
                    "level": sarif_level(d.severity),
                    "message": {"text": text},
                    "locations": [{"physicalLocation": physical}],
                });
                if let Some(i) = rules.iter().position(|x| x.code == d.code) {
                    res["ruleIndex"] = json!(i);
                }
                if !d.pointer.is_empty() {
                    res["properties"] = json!({"pointer": d.pointer});
                }
                res
            })
            .collect();
        let log = json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {
                    "name": "spectro",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rule_objs,
                }},
                "columnKind": "unicodeCodePoints",
                "results": results,
            }],
        });
        serde_json::to_writer_pretty(&mut *out, &log)?;
        writeln!(out)
    }
}

/// A path as a SARIF `uri`: percent-encoded (a space or `#` in a folder name would
/// otherwise end or break it), `file://` for an absolute path.
fn sarif_uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 8);
    if path.starts_with('/') {
        out.push_str("file://");
    }
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn gh_escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn gh_escape_prop(s: &str) -> String {
    gh_escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// GitHub Actions workflow commands: `::error file=...,line=...,col=...,title=...::message`.
pub(crate) struct Github;

impl Emitter for Github {
    fn emit(&self, out: &mut dyn Write, run: &Run<'_>) -> io::Result<()> {
        for (r, d) in findings(run) {
            let cmd = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                _ => "notice",
            };
            let mut props = format!("file={}", gh_escape_prop(&r.display_path(d)));
            if let (Some(l), Some(c)) = (d.line, d.column) {
                props.push_str(&format!(",line={l},col={c}"));
                if let (Some(el), Some(ec)) = (d.end_line, d.end_column) {
                    props.push_str(&format!(",endLine={el},endColumn={ec}"));
                }
            }
            props.push_str(&format!(
                ",title={}",
                gh_escape_prop(&format!("{} {}", d.code, d.name))
            ));
            let mut msg = sanitize(&d.message);
            if let Some(h) = &d.help {
                msg.push_str(&format!(" ({})", sanitize(h)));
            }
            writeln!(out, "::{cmd} {props}::{}", gh_escape_data(&msg))?;
        }
        Ok(())
    }
}

/// Text for XML attributes and content: the five entities escaped, and every character
/// XML 1.0 cannot carry (controls other than tab and newline) shown escaped.
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let clean: Vec<String> = s.split('\n').map(sanitize).collect();
    for ch in clean.join("\n").chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\u{FFFE}' | '\u{FFFF}' => out.extend(ch.escape_unicode()),
            c => out.push(c),
        }
    }
    out
}

/// JUnit XML, as ruff writes it: a test suite per pack or profile, a failing test case
/// per finding (named by its code, classed by its file), and one passing case for a
/// target without findings, so CI test views list every checked target.
pub(crate) struct Junit;

impl Emitter for Junit {
    fn emit(&self, out: &mut dyn Write, run: &Run<'_>) -> io::Result<()> {
        let total: usize = run.reports.iter().map(|r| r.diagnostics.len().max(1)).sum();
        let failures: usize = run.reports.iter().map(|r| r.diagnostics.len()).sum();
        writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
        writeln!(
            out,
            r#"<testsuites name="spectro" tests="{total}" failures="{failures}" errors="0">"#
        )?;
        for r in run.reports {
            let name = r.path.display().to_string();
            writeln!(
                out,
                r#"  <testsuite name="{}" tests="{}" failures="{}" errors="0" skipped="0">"#,
                xml(&name),
                r.diagnostics.len().max(1),
                r.diagnostics.len()
            )?;
            if r.diagnostics.is_empty() {
                writeln!(
                    out,
                    r#"    <testcase name="{}" classname="{}"/>"#,
                    r.kind.as_str(),
                    xml(&name)
                )?;
            }
            for d in &r.diagnostics {
                let path = r.display_path(d);
                let place = match (d.line, d.column) {
                    (Some(l), Some(c)) => format!("{path}:{l}:{c}"),
                    _ => path.clone(),
                };
                writeln!(
                    out,
                    r#"    <testcase name="{} {}" classname="{}" file="{}"{}>"#,
                    d.code,
                    d.name,
                    xml(&path),
                    xml(&path),
                    d.line
                        .map(|l| format!(r#" line="{l}""#))
                        .unwrap_or_default()
                )?;
                let mut body = format!("{place}: {} [{}] {}", d.code, d.severity, d.message);
                if let Some(h) = &d.help {
                    body.push_str(&format!("\nhelp: {h}"));
                }
                writeln!(
                    out,
                    r#"      <failure message="{}" type="{}">{}</failure>"#,
                    xml(&d.message),
                    d.severity,
                    xml(&body)
                )?;
                writeln!(out, "    </testcase>")?;
            }
            writeln!(out, "  </testsuite>")?;
        }
        writeln!(out, "</testsuites>")
    }
}

/// Exit code 1 when any finding is at or above `fail`, else 0.
pub(crate) fn exit_code<'a>(
    findings: impl IntoIterator<Item = &'a Diagnostic>,
    fail: Severity,
) -> std::process::ExitCode {
    if findings.into_iter().any(|d| d.severity >= fail) {
        std::process::ExitCode::from(1)
    } else {
        std::process::ExitCode::SUCCESS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_caret_stays_under_its_character_after_escaped_controls() {
        // `\u{1b}` before the column is shown as six characters: the caret moves with it.
        let src = "a\u{1b}b: value";
        let chars: Vec<char> = src.chars().collect();
        let (shown, pad, width) = source_excerpt(&chars, 3, Some(4));
        assert_eq!(width, 1);
        let caret_at = pad.chars().count();
        assert_eq!(
            shown.chars().nth(caret_at),
            Some(':'),
            "{shown:?} / {pad:?}"
        );
        let chars: Vec<char> = "\tkey:\tv".chars().collect();
        let (shown, pad, _) = source_excerpt(&chars, 5, None);
        assert_eq!(shown.chars().nth(pad.chars().count()), Some('\t'));
        assert!(pad.starts_with('\t'));
        // The carets cover the token, its escaped controls counted as shown.
        let chars: Vec<char> = "k: a\u{1b}b # c".chars().collect();
        let (shown, pad, width) = source_excerpt(&chars, 3, Some(6));
        let under: String = shown
            .chars()
            .skip(pad.chars().count())
            .take(width)
            .collect();
        assert_eq!(under, "a\\u{1b}b");
        // A token past the shown window is cut at the window's end.
        let long: Vec<char> = format!("k: {}", "x".repeat(300)).chars().collect();
        let (_, pad, width) = source_excerpt(&long, 3, Some(303));
        assert_eq!(pad.chars().count() + width, WINDOW);
    }

    #[test]
    fn sarif_uris_are_percent_encoded() {
        assert_eq!(
            sarif_uri("packs/my pack#2/values.yaml"),
            "packs/my%20pack%232/values.yaml"
        );
        assert_eq!(sarif_uri("/abs/x.tgz!/top/f"), "file:///abs/x.tgz!/top/f");
        assert_eq!(sarif_uri("é"), "%C3%A9");
    }

    #[test]
    fn xml_text_is_escaped_and_carries_no_controls() {
        assert_eq!(xml("a<b & \"c\"\u{7}"), "a&lt;b &amp; &quot;c&quot;\\u{7}");
    }
}
