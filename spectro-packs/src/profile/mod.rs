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
use serde::Serialize;

use crate::diagnostic::{Diagnostic, Severity};
use crate::error::Result;
use crate::pack::LoadOptions;
use crate::rules::Rule;

pub use model::{
    PackType, PackValues, Profile, ProfilePack, ProfileType, ShapeProblem, UnknownValue, Variable,
    load_profile, parse_profile,
};
pub use source::{PackIndex, Resolution};
pub use tag::{TagLabel, TagPattern};

/// Options for [`validate_profile`] and [`validate_profiles`].
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ProfileOptions {
    /// Local pack sources: pack directories, or folders searched recursively for packs
    /// (by `pack.json`). Without any, checks that need a pack's pack.json do not run.
    pub pack_dirs: Vec<PathBuf>,
    /// Loading limits for the packs.
    pub load: LoadOptions,
    /// Which rules report, at which severity.
    pub selection: crate::RuleSelection,
}

builder!(ProfileOptions {
    with_pack_dirs => pack_dirs: Vec<PathBuf>,
    with_load => load: LoadOptions,
    with_selection => selection: crate::RuleSelection,
});

/// Findings for one profile.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct ProfileReport {
    /// The profile file as given.
    pub path: PathBuf,
    /// `metadata.name`, if readable.
    pub name: Option<String>,
    /// `spec.version`, if readable.
    pub version: Option<String>,
    /// Findings, sorted by line, column and code.
    pub diagnostics: Vec<Diagnostic>,
}

impl ProfileReport {
    /// Number of findings with this severity.
    pub fn count(&self, severity: Severity) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == severity)
            .count()
    }
}

/// Totals over several profile reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ProfileSummary {
    /// Profiles validated.
    pub profiles: usize,
    /// Error findings.
    pub errors: usize,
    /// Warning findings.
    pub warnings: usize,
    /// Info findings.
    pub infos: usize,
}

impl ProfileSummary {
    /// Sum up reports.
    pub fn of(reports: &[ProfileReport]) -> Self {
        let mut s = ProfileSummary {
            profiles: reports.len(),
            ..ProfileSummary::default()
        };
        for r in reports {
            s.errors += r.count(Severity::Error);
            s.warnings += r.count(Severity::Warning);
            s.infos += r.count(Severity::Info);
        }
        s
    }
}

/// Every profile rule (code family `PF`), in code order.
pub fn all_profile_rules() -> &'static [&'static Rule] {
    rules::ALL
}

/// Run every profile rule over a loaded profile, resolving its packs in `index`.
pub fn check_profile(profile: &Profile, index: &PackIndex) -> Vec<Diagnostic> {
    rules::check_profile(profile, index)
}

fn report(profile: &Profile, index: &PackIndex, selection: &crate::RuleSelection) -> ProfileReport {
    let mut diagnostics = check_profile(profile, index);
    selection.apply(&mut diagnostics);
    ProfileReport {
        path: profile.path.clone(),
        name: profile.name.clone(),
        version: profile.version.clone(),
        diagnostics,
    }
}

/// Load one profile and its pack sources, and check it.
pub fn validate_profile(path: impl AsRef<Path>, opts: &ProfileOptions) -> Result<ProfileReport> {
    let index = PackIndex::load(&opts.pack_dirs, &opts.load)?;
    let profile = load_profile(path)?;
    Ok(report(&profile, &index, &opts.selection))
}

/// Check several profiles against the same pack sources (loaded once). Reports come back
/// in the order given.
pub fn validate_profiles<P: AsRef<Path> + Sync>(
    paths: &[P],
    opts: &ProfileOptions,
) -> Result<Vec<ProfileReport>> {
    let index = PackIndex::load(&opts.pack_dirs, &opts.load)?;
    paths
        .par_iter()
        .map(|p| load_profile(p).map(|profile| report(&profile, &index, &opts.selection)))
        .collect()
}

/// The profile rule with this code (case-insensitive) or name.
pub fn find_profile_rule(code_or_name: &str) -> Option<&'static Rule> {
    rules::ALL
        .iter()
        .copied()
        .find(|r| r.code.eq_ignore_ascii_case(code_or_name) || r.name == code_or_name)
}
