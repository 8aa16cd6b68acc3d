//! `spectro config`: the effective lint settings for a path, and where each came from.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::json;
use spectro_packs::sanitize;
use spectro_packs::settings::{SettingSource, effective_rules, settings_for};

#[derive(Debug, clap::Args)]
pub(crate) struct ConfigArgs {
    /// A pack folder, a file in one, or a profile: the settings that apply there
    /// (default: the current folder).
    #[arg(value_name = "PATH", default_value = ".")]
    path: PathBuf,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// List every rule, not only the ones whose setting differs from the default.
    #[arg(long)]
    all: bool,
    #[command(flatten)]
    rules: crate::RuleFlags,
    #[command(flatten)]
    config: crate::ConfigFlags,
}

fn describe(source: &SettingSource) -> String {
    match source {
        SettingSource::Default => "default".into(),
        SettingSource::File { path } => format!("{} [lint]", path.display()),
        SettingSource::Caller => "command line".into(),
        SettingSource::PerPath { path, pattern } => {
            format!("{} [lint.per-path.\"{pattern}\"]", path.display())
        }
        _ => "other".into(),
    }
}

pub(crate) fn run(args: ConfigArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let source = args.config.source();
    let settings = settings_for(&source, &args.path)?;
    let caller = args.rules.selection()?;
    let rules = effective_rules(settings.as_ref(), &caller, Some(&args.path));
    let changed: Vec<_> = rules
        .iter()
        .filter(|r| args.all || !r.enabled || r.severity != r.rule.severity)
        .collect();
    let mut out = anstream::stdout().lock();
    if args.json {
        let doc = json!({
            "path": args.path.to_string_lossy(),
            "config": settings.as_ref().map(|s| s.path.to_string_lossy()),
            "lint": settings.as_ref().map(|s| json!({
                "selection": s.selection,
                "per-path": s.per_path.iter().map(|o| json!({"pattern": o.pattern, "selection": o.selection})).collect::<Vec<_>>(),
            })),
            "command-line": caller,
            "rules": changed.iter().map(|r| json!({
                "code": r.rule.code, "name": r.rule.name, "enabled": r.enabled,
                "severity": r.severity, "default-severity": r.rule.severity,
                "enabled-by": r.enabled_by, "severity-by": r.severity_by,
            })).collect::<Vec<_>>(),
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let bold = anstyle::Style::new().bold();
    let path = sanitize(&args.path.display().to_string());
    match (&settings, &source) {
        (Some(s), _) => writeln!(
            out,
            "{bold}config{bold:#}: {}",
            sanitize(&s.path.display().to_string())
        )?,
        (None, spectro_packs::settings::ConfigSource::Isolated) => {
            writeln!(out, "{bold}config{bold:#}: none (--isolated)")?
        }
        (None, _) => writeln!(
            out,
            "{bold}config{bold:#}: none found at or above {path} (looked for .spectro.toml, spectro.toml, pyproject.toml with [tool.spectro])"
        )?,
    }
    if let Some(s) = &settings {
        let list = |v: &[spectro_packs::RuleSelector]| {
            v.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let sel = &s.selection;
        let select = sel
            .select
            .as_deref()
            .map_or_else(|| "(every rule)".to_owned(), list);
        writeln!(out, "  select        = {select}")?;
        writeln!(out, "  extend-select = {}", list(&sel.extend_select))?;
        writeln!(out, "  ignore        = {}", list(&sel.ignore))?;
        for (selector, level) in &sel.severity {
            writeln!(out, "  severity      {selector} = {level}")?;
        }
        for o in &s.per_path {
            let applies = if s.overrides_for(&args.path).any(|x| x.pattern == o.pattern) {
                "applies here"
            } else {
                "not here"
            };
            writeln!(out, "  per-path \"{}\" ({applies})", sanitize(&o.pattern))?;
        }
    }
    if !caller.is_default() {
        writeln!(
            out,
            "{bold}command line{bold:#}: {}",
            serde_json::to_string(&caller)?
        )?;
    }
    writeln!(
        out,
        "{bold}rules at {path}{bold:#}: {} of {} report{}",
        rules.iter().filter(|r| r.enabled).count(),
        rules.len(),
        if args.all {
            ""
        } else {
            "; changed from the defaults:"
        }
    )?;
    for r in changed {
        let state = if r.enabled {
            format!("{:<7}", r.severity.as_str())
        } else {
            "off    ".to_owned()
        };
        let why = if r.enabled && r.severity != r.rule.severity {
            format!(
                "severity from {} (default {})",
                describe(&r.severity_by),
                r.rule.severity
            )
        } else {
            describe(&r.enabled_by)
        };
        writeln!(
            out,
            "  {} {:<32} {state} {}",
            r.rule.code,
            r.rule.name,
            sanitize(&why)
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
