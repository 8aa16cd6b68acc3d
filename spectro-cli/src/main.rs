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
    /// Build, inspect and publish pack archives.
    #[command(subcommand)]
    Pack(PackCommand),
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

#[derive(Debug, Subcommand)]
enum PackCommand {
    /// Build `<name>-<version>.tar.gz` from a pack directory (deterministic, all cores).
    #[command(
        after_help = "Examples:\n  spectro pack build ./my-pack\n  spectro pack build ./my-pack -o dist/\n  SOURCE_DATE_EPOCH=1700000000 spectro pack build ./my-pack -o my-pack.tar.gz"
    )]
    Build {
        /// The pack directory.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        /// Output file or directory (default: the current directory).
        #[arg(short, long, value_name = "OUT")]
        output: Option<PathBuf>,
        /// Skip validation (by default packs with errors are refused).
        #[arg(long)]
        no_validate: bool,
        /// gzip level, 1 (fast) to 9 (small).
        #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=9))]
        level: u32,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, clap::Args)]
struct ValidateArgs {
    /// Pack directories, folders searched recursively for packs (by pack.json), or pack
    /// archives (.tar.gz, .tgz).
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
        Command::Pack(PackCommand::Build {
            dir,
            output,
            no_validate,
            level,
            json,
        }) => pack_build(&dir, output, no_validate, level, json),
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

fn pack_build(
    dir: &std::path::Path,
    output: Option<PathBuf>,
    no_validate: bool,
    level: u32,
    json: bool,
) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let mut opts = spectro_packs::archive::BuildOptions::default();
    opts.validate = !no_validate;
    opts.level = level;
    if let Some(epoch) = std::env::var_os("SOURCE_DATE_EPOCH") {
        let epoch = epoch.to_string_lossy();
        opts.mtime = epoch
            .trim()
            .parse()
            .map_err(|_| format!("SOURCE_DATE_EPOCH `{epoch}` is not a number of seconds"))?;
    }
    let out = output.unwrap_or_else(|| PathBuf::from("."));
    let built = spectro_packs::archive::build_archive(dir, &out, &opts)?;
    let mut stdout = anstream::stdout().lock();
    if json {
        let v = serde_json::json!({
            "path": built.path, "digest": built.digest, "size": built.size,
            "name": built.name, "version": built.version, "entries": built.entries,
        });
        writeln!(stdout, "{v}")?;
    } else {
        let green = anstyle::AnsiColor::Green.on_default().bold();
        writeln!(
            stdout,
            "{green}Built{green:#} {} ({} {}, {} entries)",
            built.path.display(),
            built.name,
            built.version,
            built.entries
        )?;
        writeln!(stdout, "  digest: {}", built.digest)?;
        writeln!(stdout, "  size:   {} bytes", built.size)?;
    }
    Ok(ExitCode::SUCCESS)
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
