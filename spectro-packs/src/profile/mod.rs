//! Cluster profiles: load Palette's exported profile and check it offline against the
//! packs it references.
//!
//! ```
//! use spectro_packs::profile::{ProfileOptions, validate_profile};
//!
//! let tmp = tempfile::tempdir()?;
//! let profile = tmp.path().join("profile.yaml");
//! std::fs::write(&profile, "\
//! metadata: {name: demo}
//! spec:
//!   version: 1.0.0
//!   template:
//!     type: cluster
//!     cloudType: aws
//!     packs:
//!       - {name: ubuntu-aws, type: spectro, layer: os, version: 22.4.3}
//!       - {name: kubernetes, type: spectro, layer: k8s, version: 1.29.8}
//!       - {name: cni-calico, type: spectro, layer: cni, version: 3.27.0}
//!       - {name: cni-flannel, type: spectro, layer: cni, version: 0.24.0}
//!       - {name: csi-aws-ebs, type: spectro, layer: csi, version: 1.26.1}
//! ")?;
//! // `ProfileOptions::with_pack_dirs` (folders of packs) adds the dependency and
//! // version-constraint checks.
//! let report = validate_profile(&profile, &ProfileOptions::default())?;
//! let d = report.diagnostics.iter().find(|d| d.code == "PF003").unwrap();
//! assert_eq!(d.pointer, "/spec/template/packs/3/layer");
//! assert_eq!((d.line.map(|l| l.get()), d.column.map(|c| c.get())), (Some(11), Some(51)));
//! assert!(d.message.contains("`cni-calico`") && d.message.contains("`cni-flannel`"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Steps: [`load_profile`] reads the file into a located [`Profile`] (I/O);
//! [`PackIndex::load`] reads the pack sources (I/O); [`check_profile`] runs every profile
//! rule (pure). [`validate_profile`] and [`validate_profiles`] do all three.

mod model;
mod rules;
mod source;
mod tag;

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::diagnostic::Diagnostic;
use crate::error::Result;
use crate::pack::LoadOptions;
use crate::rules::Rule;
use crate::settings::{ConfigSource, Resolver};

pub use model::{
    PackType, PackValues, Profile, ProfilePack, ProfileType, ShapeProblem, UnknownValue, Variable,
    load_profile, load_profile_capped, parse_profile,
};
pub use source::{PackIndex, Resolution};
pub use tag::{TagLabel, TagPattern};

/// Options for [`validate_profile`] and [`validate_profiles`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ProfileOptions {
    /// Local pack sources: pack directories, or folders searched recursively for packs
    /// (by `pack.json`). Without any, checks that need a pack's pack.json do not run.
    pub pack_dirs: Vec<PathBuf>,
    /// Loading limits for the packs.
    pub load: LoadOptions,
    /// Which rules report, at which severity (applied after the configuration file's
    /// `[lint]` and before its `per-path` tables, as a command line is).
    pub selection: crate::RuleSelection,
    /// Where the configuration file comes from (default: none is read).
    pub config: ConfigSource,
    /// Largest profile file read (default [`DEFAULT_MAX_PROFILE_BYTES`]).
    pub max_profile_bytes: u64,
}

/// Default of [`ProfileOptions::max_profile_bytes`]: 64 MiB.
pub const DEFAULT_MAX_PROFILE_BYTES: u64 = 64 << 20;

impl Default for ProfileOptions {
    fn default() -> Self {
        ProfileOptions {
            pack_dirs: Vec::new(),
            load: LoadOptions::default(),
            selection: crate::RuleSelection::default(),
            config: ConfigSource::default(),
            max_profile_bytes: DEFAULT_MAX_PROFILE_BYTES,
        }
    }
}

builder!(ProfileOptions {
    with_max_profile_bytes => max_profile_bytes: u64,
    with_pack_dirs => pack_dirs: Vec<PathBuf>,
    with_load => load: LoadOptions,
    with_selection => selection: crate::RuleSelection,
    with_config => config: ConfigSource,
});

/// A profile's report (a [`Report`](crate::Report) of kind
/// [`ReportKind::Profile`](crate::ReportKind::Profile)).
pub type ProfileReport = crate::Report;

/// Totals over profile reports (the same [`Summary`](crate::Summary) as for packs).
pub type ProfileSummary = crate::Summary;

/// The profile rules (family `PF`), in code order; [`crate::all_rules`] has every family.
pub fn all_profile_rules() -> &'static [&'static Rule] {
    rules::ALL
}

/// Run every profile rule over a loaded profile, resolving its packs in `index`.
pub fn check_profile(profile: &Profile, index: &PackIndex) -> Vec<Diagnostic> {
    rules::check_profile(profile, index)
}

fn report(
    profile: &Profile,
    index: &PackIndex,
    opts: &ProfileOptions,
    resolver: &Resolver,
) -> Result<ProfileReport> {
    let settings = resolver.settings_for(&profile.path)?;
    let settings = settings.as_deref();
    let mut diagnostics = check_profile(profile, index);
    let file = profile.file();
    let mut yaml = model::is_yaml(&profile.path)
        .then_some((file.as_str(), profile.text.as_str()))
        .into_iter();
    let on_disk = |_: &Diagnostic| profile.path.clone();
    crate::report::finish(
        settings,
        &opts.selection,
        &profile.path,
        &on_disk,
        &mut yaml,
        &mut diagnostics,
    );
    crate::report::fill_ends(&mut diagnostics, &|f| {
        (f == file).then_some(profile.text.as_str())
    });
    Ok(crate::Report {
        kind: crate::ReportKind::Profile,
        path: profile.path.clone(),
        name: profile.name.clone(),
        version: profile.version.clone(),
        layer: None,
        archive_root: None,
        config: settings.map(|s| s.path.clone()),
        diagnostics,
    })
}

/// Check a profile already in memory (an editor's buffer read with [`parse_profile`])
/// against pack sources already indexed ([`PackIndex::load`]), so that a caller checking
/// often loads the packs once.
pub fn validate_loaded_profile(
    profile: &Profile,
    index: &PackIndex,
    opts: &ProfileOptions,
) -> Result<ProfileReport> {
    report(profile, index, opts, &Resolver::new(&opts.config))
}

/// Load one profile and its pack sources, and check it.
pub fn validate_profile(path: impl AsRef<Path>, opts: &ProfileOptions) -> Result<ProfileReport> {
    let index = PackIndex::load(&opts.pack_dirs, &opts.load)?;
    let profile = load_profile_capped(path, opts.max_profile_bytes)?;
    report(&profile, &index, opts, &Resolver::new(&opts.config))
}

/// Check several profiles against the same pack sources (loaded once). Reports come back
/// in the order given.
pub fn validate_profiles<P: AsRef<Path> + Sync>(
    paths: &[P],
    opts: &ProfileOptions,
) -> Result<Vec<ProfileReport>> {
    let index = PackIndex::load(&opts.pack_dirs, &opts.load)?;
    let resolver = Resolver::new(&opts.config);
    paths
        .par_iter()
        .map(|p| {
            load_profile_capped(p, opts.max_profile_bytes)
                .and_then(|profile| report(&profile, &index, opts, &resolver))
        })
        .collect()
}

/// The profile rule with this code (case-insensitive) or name.
pub fn find_profile_rule(code_or_name: &str) -> Option<&'static Rule> {
    rules::ALL
        .iter()
        .copied()
        .find(|r| r.code.eq_ignore_ascii_case(code_or_name) || r.name == code_or_name)
}
