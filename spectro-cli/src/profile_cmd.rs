//! `spectro profile validate`: check cluster profiles offline against local pack sources.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use spectro_packs::ReportKind;
use spectro_packs::profile::{ProfileOptions, validate_profiles};

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
    #[command(flatten)]
    lint: crate::LintArgs,
}

pub(crate) fn run(cmd: ProfileCommand) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let ProfileCommand::Validate(args) = cmd;
    let opts = ProfileOptions::default()
        .with_load(crate::limits().load_options())
        .with_max_profile_bytes(crate::limits().profile_size)
        .with_pack_dirs(args.packs.clone())
        .with_selection(args.lint.rules.selection()?)
        .with_config(args.lint.config.source());
    let reports = validate_profiles(&args.profiles, &opts)?;
    let notes = if args.packs.is_empty() {
        vec!["no --packs given; checks that need the packs' pack.json were skipped".to_owned()]
    } else {
        Vec::new()
    };
    args.lint.finish(reports, ReportKind::Profile, notes)
}
