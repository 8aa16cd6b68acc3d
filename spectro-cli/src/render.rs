//! Output formats for `spectro validate`.

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::Path;

use anstyle::{AnsiColor, Style};
use serde_json::json;
use spectro_packs::{PackReport, Rule, Severity, Summary, sanitize};

pub(crate) fn severity_style(s: Severity) -> Style {
    match s {
        Severity::Error => AnsiColor::Red.on_default().bold(),
        Severity::Warning => AnsiColor::Yellow.on_default().bold(),
        _ => AnsiColor::Cyan.on_default().bold(),
    }
}

/// Display path of a finding: the pack directory joined with the file.
fn display_path(pack: &Path, file: &str) -> String {
    let joined = pack.join(file);
    let s = joined.to_string_lossy();
    s.strip_prefix("./").unwrap_or(&s).to_string()
}

pub(crate) fn human(
    out: &mut dyn Write,
    reports: &[PackReport],
    summary: &Summary,
    quiet: bool,
) -> io::Result<()> {
    let bold = Style::new().bold();
    let dim = AnsiColor::Blue.on_default().bold();
    let mut sources: HashMap<std::path::PathBuf, Option<String>> = HashMap::new();
    if !quiet {
        for r in reports {
            for d in &r.diagnostics {
                let path = match &r.archive_root {
                    Some(top) => format!("{}!/{top}/{}", r.path.display(), d.file),
                    None => display_path(&r.path, &d.file),
                };
                let sev = severity_style(d.severity);
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
                if let (Some(line), Some(col), None) = (d.line, d.column, &r.archive_root) {
                    let file = r.path.join(&d.file);
                    let text = sources
                        .entry(file.clone())
                        .or_insert_with(|| std::fs::read_to_string(&file).ok());
                    if let Some(src) = text
                        .as_deref()
                        .and_then(|t| t.lines().nth(line.to_zero_indexed()))
                    {
                        let src = sanitize(src);
                        let width = line.to_string().len();
                        let pad = " ".repeat(width);
                        let caret_pad: String = src
                            .chars()
                            .take(col.to_zero_indexed())
                            .map(|c| if c == '\t' { '\t' } else { ' ' })
                            .collect();
                        writeln!(out, "{dim}{pad} |{dim:#}")?;
                        writeln!(out, "{dim}{line} |{dim:#} {src}")?;
                        writeln!(out, "{dim}{pad} |{dim:#} {caret_pad}{sev}^{sev:#}")?;
                    }
                }
                if let Some(help) = &d.help {
                    writeln!(
                        out,
                        "  {dim}={dim:#} {bold}help{bold:#}: {}",
                        sanitize(help)
                    )?;
                }
            }
        }
    }
    summary_line(
        out,
        (summary.packs, "pack"),
        summary.errors,
        summary.warnings,
        summary.infos,
    )
}

/// `Checked N packs: E errors, W warnings, I info findings`, colored by the worst severity.
pub(crate) fn summary_line(
    out: &mut dyn Write,
    (count, noun): (usize, &str),
    errors: usize,
    warnings: usize,
    infos: usize,
) -> io::Result<()> {
    let status = if errors > 0 {
        severity_style(Severity::Error)
    } else if warnings > 0 {
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
        plural(count, noun),
        plural(errors, "error"),
        plural(warnings, "warning"),
        plural(infos, "info finding")
    )
}

/// Exit code 1 when any finding is at or above `fail`, else 0.
pub(crate) fn exit_code<'a>(
    findings: impl IntoIterator<Item = &'a spectro_packs::Diagnostic>,
    fail: Severity,
) -> std::process::ExitCode {
    if findings.into_iter().any(|d| d.severity >= fail) {
        std::process::ExitCode::from(1)
    } else {
        std::process::ExitCode::SUCCESS
    }
}

pub(crate) fn json(
    out: &mut dyn Write,
    reports: &[PackReport],
    summary: &Summary,
) -> io::Result<()> {
    let doc = json!({ "packs": reports, "summary": summary });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

pub(crate) fn jsonl(out: &mut dyn Write, reports: &[PackReport]) -> io::Result<()> {
    for r in reports {
        for d in &r.diagnostics {
            let mut v = serde_json::to_value(d)?;
            v["path"] = json!(r.path);
            serde_json::to_writer(&mut *out, &v)?;
            writeln!(out)?;
        }
    }
    Ok(())
}

pub(crate) fn rule_json(r: &Rule) -> serde_json::Value {
    json!({
        "code": r.code, "name": r.name, "severity": r.severity, "since": r.since,
        "summary": r.summary, "explanation": r.explanation,
    })
}

/// One finding with the path of the file it is about, as shown to users.
pub(crate) type Located<'a> = (String, &'a spectro_packs::Diagnostic);

/// Findings of pack reports with display paths (`pack/values.yaml`, or
/// `archive.tar.gz!/top/values.yaml` for archives).
pub(crate) fn located(reports: &[PackReport]) -> Vec<Located<'_>> {
    reports
        .iter()
        .flat_map(|r| {
            r.diagnostics.iter().map(move |d| {
                let path = match &r.archive_root {
                    Some(top) => format!("{}!/{top}/{}", r.path.display(), d.file),
                    None => display_path(&r.path, &d.file),
                };
                (path, d)
            })
        })
        .collect()
}

fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        _ => "note",
    }
}

/// SARIF 2.1.0 log with every rule (help text from the rule's own explanation) and one
/// result per finding, accepted by GitHub code scanning.
pub(crate) fn sarif(
    out: &mut dyn Write,
    findings: &[Located<'_>],
    rules: &[&Rule],
) -> io::Result<()> {
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
                "properties": {"since": r.since},
            })
        })
        .collect();
    let results: Vec<serde_json::Value> = findings
        .iter()
        .map(|(path, d)| {
            let mut physical = json!({"artifactLocation": {"uri": path.replace('\\', "/")}});
            if let (Some(l), Some(c)) = (d.line, d.column) {
                physical["region"] = json!({"startLine": l.get(), "startColumn": c.get()});
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
            if let Some(i) = rules.iter().position(|r| r.code == d.code) {
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
            "results": results,
        }],
    });
    serde_json::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)
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
pub(crate) fn github(out: &mut dyn Write, findings: &[Located<'_>]) -> io::Result<()> {
    for (path, d) in findings {
        let cmd = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            _ => "notice",
        };
        let mut props = format!("file={}", gh_escape_prop(path));
        if let (Some(l), Some(c)) = (d.line, d.column) {
            props.push_str(&format!(",line={l},col={c}"));
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
