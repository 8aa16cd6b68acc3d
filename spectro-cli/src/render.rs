//! Output formats for `spectro validate`.

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::Path;

use anstyle::{AnsiColor, Style};
use serde_json::json;
use spectro_packs::{PackReport, Rule, Severity, Summary, sanitize};

fn severity_style(s: Severity) -> Style {
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
                    "{bold}{loc}{bold:#}: {sev}{} {}{sev:#} {}",
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
    let status = if summary.errors > 0 {
        severity_style(Severity::Error)
    } else if summary.warnings > 0 {
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
        plural(summary.packs, "pack"),
        plural(summary.errors, "error"),
        plural(summary.warnings, "warning"),
        plural(summary.infos, "info finding")
    )
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
