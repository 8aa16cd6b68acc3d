//! `spectro profile validate`: check cluster profiles offline against local pack sources.

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anstyle::{AnsiColor, Style};
use clap::Subcommand;
use serde_json::json;
use spectro_packs::profile::{ProfileOptions, ProfileReport, ProfileSummary, validate_profiles};
use spectro_packs::sanitize;

use crate::render::severity_style;
use crate::{FailOn, Format};

#[derive(Debug, Subcommand)]
pub(crate) enum ProfileCommand {
    /// Validate cluster profiles (Palette export JSON, or the same shape in YAML): layers,
    /// pack constraints, values, variables and release-name conflicts.
    #[command(
        after_help = "Examples:\n  spectro profile validate profile.json --packs packs/\n  spectro profile validate a.json b.yaml --packs packs/ --packs vendor-packs/ --format json\n  spectro profile validate profile.json --fail-on warning"
    )]
    Validate(ValidateArgs),
}

#[derive(Debug, clap::Args)]
pub(crate) struct ValidateArgs {
    /// Profile files (`.json`; `.yaml`/`.yml` are read as YAML).
    #[arg(required = true, value_name = "PROFILE")]
    profiles: Vec<PathBuf>,
    /// A pack directory, or a folder searched recursively for packs, to resolve the
    /// profile's packs against (repeatable). Without one, checks that need pack.json are
    /// skipped.
    #[arg(long = "packs", value_name = "DIR")]
    packs: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Lowest severity that makes the exit code 1.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    fail_on: FailOn,
    #[command(flatten)]
    rules: crate::RuleFlags,
}

pub(crate) fn run(cmd: ProfileCommand) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let ProfileCommand::Validate(args) = cmd;
    let mut opts = ProfileOptions::default();
    opts.pack_dirs = args.packs.clone();
    opts.selection = args.rules.selection()?;
    let reports = validate_profiles(&args.profiles, &opts)?;
    let summary = ProfileSummary::of(&reports);
    let mut out = anstream::stdout().lock();
    match args.format {
        Format::Human => human(&mut out, &reports, &summary, args.packs.is_empty())?,
        Format::Json => {
            let doc = json!({ "profiles": reports, "summary": summary });
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
        Format::Sarif | Format::Github => {
            let findings: Vec<crate::render::Located<'_>> = reports
                .iter()
                .flat_map(|r| r.diagnostics.iter().map(|d| (d.file.clone(), d)))
                .collect();
            if args.format == Format::Sarif {
                crate::render::sarif(&mut out, &findings, spectro_packs::all_profile_rules())?;
            } else {
                crate::render::github(&mut out, &findings)?;
            }
        }
        Format::Jsonl => {
            for r in &reports {
                for d in &r.diagnostics {
                    let mut v = serde_json::to_value(d)?;
                    v["path"] = json!(r.path);
                    serde_json::to_writer(&mut out, &v)?;
                    writeln!(out)?;
                }
            }
        }
    }
    out.flush()?;
    Ok(crate::render::exit_code(
        reports.iter().flat_map(|r| &r.diagnostics),
        args.fail_on.severity(),
    ))
}

/// At most this many characters of a source line are shown (exports are one long line).
const WINDOW: usize = 100;

fn human(
    out: &mut dyn Write,
    reports: &[ProfileReport],
    summary: &ProfileSummary,
    no_sources: bool,
) -> io::Result<()> {
    let bold = Style::new().bold();
    let dim = AnsiColor::Blue.on_default().bold();
    let mut sources: HashMap<PathBuf, Option<String>> = HashMap::new();
    for r in reports {
        for d in &r.diagnostics {
            let sev = severity_style(d.severity);
            let loc = match (d.line, d.column) {
                (Some(l), Some(c)) => format!("{}:{l}:{c}", d.file),
                _ => d.file.clone(),
            };
            writeln!(
                out,
                "{bold}{}{bold:#}: {sev}{} {}{sev:#} {}",
                sanitize(&loc),
                d.code,
                d.severity,
                sanitize(&d.message)
            )?;
            let text = sources
                .entry(r.path.clone())
                .or_insert_with(|| std::fs::read_to_string(&r.path).ok());
            if let (Some(line), Some(col), Some(src)) = (
                d.line,
                d.column,
                text.as_deref()
                    .and_then(|t| t.lines().nth(d.line.map_or(0, |l| l.to_zero_indexed()))),
            ) {
                let chars: Vec<char> = src.chars().collect();
                let col0 = col.to_zero_indexed().min(chars.len());
                let start = col0.saturating_sub(WINDOW / 2);
                let end = (start + WINDOW).min(chars.len());
                let shown: String = chars[start..end].iter().collect();
                let lead = if start > 0 { "…" } else { "" };
                let trail = if end < chars.len() { "…" } else { "" };
                let caret_pad: String = lead
                    .chars()
                    .chain(chars[start..col0].iter().copied())
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                let width = line.to_string().len();
                let pad = " ".repeat(width);
                writeln!(out, "{dim}{pad} |{dim:#}")?;
                writeln!(
                    out,
                    "{dim}{line} |{dim:#} {lead}{}{trail}",
                    sanitize(&shown)
                )?;
                writeln!(out, "{dim}{pad} |{dim:#} {caret_pad}{sev}^{sev:#}")?;
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
    if no_sources {
        writeln!(
            out,
            "note: no --packs given; checks that need the packs' pack.json were skipped"
        )?;
    }
    crate::render::summary_line(
        out,
        (summary.profiles, "profile"),
        summary.errors,
        summary.warnings,
        summary.infos,
    )
}
