//! Validation entry points and the serialisable report shape (the JSON contract).

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use crate::diagnostic::{Diagnostic, Severity};
use crate::error::Result;
use crate::layer::Layer;
use crate::pack::{LoadOptions, discover_packs, load_pack_with};
use crate::rules::check_pack;

/// Options for [`validate_paths`].
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ValidateOptions {
    /// Loading limits.
    pub load: LoadOptions,
    /// Which rules report, at which severity.
    pub selection: crate::RuleSelection,
}

builder!(ValidateOptions {
    with_load => load: LoadOptions,
    with_selection => selection: crate::RuleSelection,
});

/// Findings for one pack.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct PackReport {
    /// The pack directory as given or discovered.
    pub path: PathBuf,
    /// `name` from pack.json, if readable.
    pub name: Option<String>,
    /// `version` from pack.json, if readable.
    pub version: Option<String>,
    /// `layer` from pack.json, if valid.
    pub layer: Option<Layer>,
    /// Findings, sorted by file, line, column and code.
    pub diagnostics: Vec<Diagnostic>,
    /// For a pack archive: the top-level directory inside it that holds the pack
    /// (diagnostic `file`s are relative to it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archive_root: Option<String>,
}

impl PackReport {
    /// Number of findings with this severity.
    pub fn count(&self, severity: Severity) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == severity)
            .count()
    }
}

/// Totals over several reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Summary {
    /// Packs validated.
    pub packs: usize,
    /// Error findings.
    pub errors: usize,
    /// Warning findings.
    pub warnings: usize,
    /// Info findings.
    pub infos: usize,
}

impl Summary {
    /// Sum up reports.
    pub fn of(reports: &[PackReport]) -> Self {
        let mut s = Summary {
            packs: reports.len(),
            ..Summary::default()
        };
        for r in reports {
            s.errors += r.count(Severity::Error);
            s.warnings += r.count(Severity::Warning);
            s.infos += r.count(Severity::Info);
        }
        s
    }
}

/// Load and check one pack directory.
///
/// ```
/// use spectro_packs::{Layer, Severity, validate_pack, scaffold::{NewPack, new_pack}};
///
/// let tmp = tempfile::tempdir()?;
/// let dir = new_pack(tmp.path(), &NewPack::new("hello-universe", Layer::Addon))?;
/// let report = validate_pack(&dir)?;
/// assert_eq!(report.count(Severity::Error), 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn validate_pack(dir: impl AsRef<Path>) -> Result<PackReport> {
    validate_pack_with(dir, &ValidateOptions::default())
}

/// Whether `path` names a pack archive (`.tar.gz` or `.tgz` file).
pub fn is_archive_path(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    (name.ends_with(".tar.gz") || name.ends_with(".tgz")) && path.is_file()
}

/// Load and check one pack directory or pack archive with options.
///
/// An archive is extracted safely (see [`crate::archive::extract_archive`]) into a
/// temporary directory that is removed afterwards.
pub fn validate_pack_with(dir: impl AsRef<Path>, opts: &ValidateOptions) -> Result<PackReport> {
    let path = dir.as_ref();
    if is_archive_path(path) {
        let tmp = tempfile::tempdir().map_err(|e| crate::Error::io(std::env::temp_dir(), e))?;
        let x = crate::archive::extract_archive(
            path,
            tmp.path(),
            &crate::archive::ExtractOptions::default(),
        )?;
        let mut report = validate_pack_with(&x.root, opts)?;
        report.path = path.to_path_buf();
        report.archive_root = Some(x.top_dir);
        return Ok(report);
    }
    let pack = load_pack_with(path, &opts.load)?;
    let mut diagnostics = check_pack(&pack);
    opts.selection.apply(&mut diagnostics);
    let m = pack.manifest();
    Ok(PackReport {
        path: dir.as_ref().to_path_buf(),
        name: m.name.clone(),
        version: m.version.clone(),
        layer: m.layer,
        diagnostics,
        archive_root: None,
    })
}

/// Discover packs under each path (a pack directory, or a folder holding packs) and
/// validate them in parallel. Reports come back in discovery order.
pub fn validate_paths<P: AsRef<Path>>(
    paths: &[P],
    opts: &ValidateOptions,
) -> Result<Vec<PackReport>> {
    let mut dirs = Vec::new();
    for p in paths {
        let p = p.as_ref();
        if is_archive_path(p) {
            dirs.push(p.to_path_buf());
        } else {
            dirs.extend(discover_packs(p)?);
        }
    }
    dirs.par_iter()
        .map(|d| validate_pack_with(d, opts))
        .collect()
}
