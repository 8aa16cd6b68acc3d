//! `spectro`: the command-line front end of `spectro-packs`.
//!
//! Parses arguments, calls the library, renders results and sets the exit code:
//! 0 clean, 1 findings at or above `--fail-on`, 2 could not run.
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::exit)]

mod render;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use spectro_packs::{Severity, Summary, ValidateOptions, all_rules, find_rule, validate_paths};

/// Lint, package and publish Spectro Cloud Palette packs.
#[derive(Debug, Parser)]
#[command(name = "spectro", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate packs: pack.json, values.yaml, presets, schema.yaml, manifests and files.
    #[command(
        after_help = "Examples:\n  spectro validate ./my-pack\n  spectro validate packs/ --format json\n  spectro validate packs/ --fail-on warning"
    )]
    Validate(ValidateArgs),
    /// List the lint rules, or explain one.
    #[command(
        after_help = "Examples:\n  spectro rules\n  spectro rules PK006\n  spectro rules invalid-enum-value"
    )]
    Rules {
        /// A rule code (PK006) or name (invalid-enum-value) to explain.
        rule: Option<String>,
        /// Output format of the list.
        #[arg(long, value_enum, default_value_t = RulesFormat::Human)]
        format: RulesFormat,
    },
}

#[derive(Debug, clap::Args)]
struct ValidateArgs {
    /// Pack directories, or folders searched recursively for packs (by pack.json).
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Lowest severity that makes the exit code 1.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    fail_on: FailOn,
    /// Hide findings below this severity in the output.
    #[arg(long, value_enum, default_value_t = FailOn::Info)]
    min_severity: FailOn,
    /// Only print the summary line (human format).
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Colored, with the source line (color when stdout is a terminal and NO_COLOR unset).
    Human,
    /// One JSON document: {"packs": [...], "summary": {...}}.
    Json,
    /// One JSON object per finding, one per line.
    Jsonl,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RulesFormat {
    Human,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FailOn {
    Error,
    Warning,
    Info,
}

impl FailOn {
    fn severity(self) -> Severity {
        match self {
            FailOn::Error => Severity::Error,
            FailOn::Warning => Severity::Warning,
            FailOn::Info => Severity::Info,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate(args) => validate(args),
        Command::Rules { rule, format } => rules(rule.as_deref(), format),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            let mut err = anstream::stderr();
            let red = anstyle::AnsiColor::Red.on_default().bold();
            let _ = writeln!(err, "{red}error{red:#}: {e}");
            ExitCode::from(2)
        }
    }
}

fn validate(args: ValidateArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let mut reports = validate_paths(&args.paths, &ValidateOptions::default())?;
    let min = args.min_severity.severity();
    for r in &mut reports {
        r.diagnostics.retain(|d| d.severity >= min);
    }
    let summary = Summary::of(&reports);
    let mut out = anstream::stdout().lock();
    match args.format {
        Format::Human => render::human(&mut out, &reports, &summary, args.quiet)?,
        Format::Json => render::json(&mut out, &reports, &summary)?,
        Format::Jsonl => render::jsonl(&mut out, &reports)?,
    }
    out.flush()?;
    let fail = args.fail_on.severity();
    let failing = reports
        .iter()
        .flat_map(|r| &r.diagnostics)
        .any(|d| d.severity >= fail);
    Ok(if failing {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn rules(rule: Option<&str>, format: RulesFormat) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let mut out = anstream::stdout().lock();
    match rule {
        Some(code) => {
            let r = find_rule(code).ok_or_else(|| {
                format!("no rule with code or name `{code}` (see `spectro rules`)")
            })?;
            match format {
                RulesFormat::Json => writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&render::rule_json(r))?
                )?,
                RulesFormat::Human => writeln!(
                    out,
                    "# {} {} ({}, since {})\n\n{}\n\n{}",
                    r.code, r.name, r.severity, r.since, r.summary, r.explanation
                )?,
            }
        }
        None => match format {
            RulesFormat::Json => {
                let all: Vec<_> = all_rules().iter().map(|r| render::rule_json(r)).collect();
                writeln!(out, "{}", serde_json::to_string_pretty(&all)?)?;
            }
            RulesFormat::Human => {
                for r in all_rules() {
                    writeln!(
                        out,
                        "{}  {:<30} {:<8} {}",
                        r.code,
                        r.name,
                        r.severity.as_str(),
                        r.summary
                    )?;
                }
            }
        },
    }
    Ok(ExitCode::SUCCESS)
}
