//! Project configuration for the linter: `spectro.toml` (or `.spectro.toml`, or a
//! `[tool.spectro]` table in `pyproject.toml`), found from the checked path upwards, as
//! ruff finds `ruff.toml`.
//!
//! ```toml
//! [lint]
//! ignore = ["VL003"]                 # selectors: codes, names, prefixes, families, ALL
//! extend-select = []
//!
//! [lint.severity]
//! PK010 = "error"
//!
//! # Globs relative to this file's folder, matched against each finding's file and its
//! # pack folder (a glob without `/` matches a name at any depth).
//! [lint.per-path."packs/legacy-*"]
//! ignore = ["PK008"]
//! [lint.per-path."**/pack.json"]
//! severity = { PK010 = "info" }
//! ```
//!
//! Layers, later ones winning where they name a rule: the file's `[lint]`, then the
//! caller's selection (the command line), then each matching `per-path` table in file
//! order.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::Deserialize;

use crate::diagnostic::{Diagnostic, Severity};
use crate::error::{Error, Result};
use crate::selection::RuleSelection;

/// File names tried in each folder, in order (the first that exists is used; a
/// `pyproject.toml` only counts when it has a `[tool.spectro]` table).
pub const CONFIG_FILE_NAMES: [&str; 3] = [".spectro.toml", "spectro.toml", "pyproject.toml"];

/// A configuration file larger than this is refused (it is read whole).
const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// Where the configuration comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigSource {
    /// No file: only the caller's selection (ruff's `--isolated`). The library default,
    /// so that a library call reads no file it was not given.
    #[default]
    Isolated,
    /// The nearest configuration file from each checked path upwards.
    Discover,
    /// This file, for every checked path (ruff's `--config`).
    File(PathBuf),
}

/// One `[lint.per-path."GLOB"]` table.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PathOverride {
    /// The glob as written.
    pub pattern: String,
    /// Its selection, applied after the file's and the caller's.
    pub selection: RuleSelection,
    matcher: globset::GlobMatcher,
}

impl PathOverride {
    /// Whether the glob matches this path (relative to the configuration's folder,
    /// `/`-separated).
    pub fn matches(&self, relative: &str) -> bool {
        self.matcher.is_match(relative)
    }
}

/// A loaded configuration file.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Settings {
    /// The file it was read from.
    pub path: PathBuf,
    /// The folder `per-path` globs are relative to (the file's folder).
    pub root: PathBuf,
    /// `[lint]`: select, extend-select, ignore, severity.
    pub selection: RuleSelection,
    /// `[lint.per-path]`, in file order.
    pub per_path: Vec<PathOverride>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    #[serde(default)]
    lint: Option<LintTable>,
}

#[derive(Debug, Default, Deserialize)]
struct PyProject {
    #[serde(default)]
    tool: Option<ToolTable>,
}

#[derive(Debug, Default, Deserialize)]
struct ToolTable {
    #[serde(default)]
    spectro: Option<toml::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct LintTable {
    select: Option<Vec<String>>,
    #[serde(default)]
    extend_select: Vec<String>,
    #[serde(default)]
    ignore: Vec<String>,
    #[serde(default)]
    severity: toml::Table,
    #[serde(default)]
    per_path: toml::Table,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct PathTable {
    select: Option<Vec<String>>,
    #[serde(default)]
    extend_select: Vec<String>,
    #[serde(default)]
    ignore: Vec<String>,
    #[serde(default)]
    severity: toml::Table,
}

/// `line L, column C: ` for a byte offset in `text`.
fn place(text: &str, offset: usize) -> String {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    format!("line {line}, column {column}: ")
}

fn selection_of(
    select: Option<Vec<String>>,
    extend_select: Vec<String>,
    ignore: Vec<String>,
    severity: &toml::Table,
) -> std::result::Result<RuleSelection, String> {
    let levels: Vec<String> = severity
        .iter()
        .map(|(k, v)| match v.as_str() {
            Some(level) => Ok(format!("{k}={level}")),
            None => Err(format!(
                "severity `{k}`: expected \"error\", \"warning\" or \"info\""
            )),
        })
        .collect::<std::result::Result<_, _>>()?;
    RuleSelection::parse(select.as_deref(), &extend_select, &ignore, &levels)
        .map_err(|e| e.to_string())
}

impl Settings {
    /// Read and check a configuration file. A `pyproject.toml` is read from its
    /// `[tool.spectro]` table (empty settings without one).
    pub fn load(path: impl AsRef<Path>) -> Result<Settings> {
        let path = path.as_ref();
        let invalid = |reason: String| Error::InvalidConfig {
            path: path.to_path_buf(),
            reason,
        };
        let text = read_config(path)?;
        let is_pyproject = path.file_name().is_some_and(|n| n == "pyproject.toml");
        let toml_error = |e: toml::de::Error| {
            // An unknown key is reported at its table; point at the key itself.
            let key_at = |start: usize| {
                let name = e
                    .message()
                    .strip_prefix("unknown field `")?
                    .split('`')
                    .next()?;
                let re = regex::Regex::new(&format!(r"(?m)^[ \t]*{}[ \t]*=", regex::escape(name)))
                    .ok()?;
                re.find_at(&text, start.min(text.len()))
                    .map(|m| m.start() + (m.as_str().len() - m.as_str().trim_start().len()))
            };
            let at = e
                .span()
                .map(|s| place(&text, key_at(s.start).unwrap_or(s.start)))
                .unwrap_or_default();
            invalid(format!("{at}{}", e.message().trim_end()))
        };
        let doc: FileDoc = if is_pyproject {
            let py: PyProject = toml::from_str(&text).map_err(toml_error)?;
            match py.tool.and_then(|t| t.spectro) {
                Some(table) => table.try_into().map_err(|e: toml::de::Error| {
                    invalid(format!("[tool.spectro]: {}", e.message().trim_end()))
                })?,
                None => FileDoc::default(),
            }
        } else {
            toml::from_str(&text).map_err(toml_error)?
        };
        let lint = doc.lint.unwrap_or_default();
        let selection = selection_of(lint.select, lint.extend_select, lint.ignore, &lint.severity)
            .map_err(|e| invalid(format!("[lint]: {e}")))?;
        let mut per_path = Vec::new();
        for (pattern, value) in lint.per_path {
            let at = |e: String| invalid(format!("[lint.per-path.\"{pattern}\"]: {e}"));
            let table: PathTable = value
                .try_into()
                .map_err(|e: toml::de::Error| at(e.message().trim_end().to_owned()))?;
            let selection = selection_of(
                table.select,
                table.extend_select,
                table.ignore,
                &table.severity,
            )
            .map_err(at)?;
            let written = pattern.trim_start_matches("./");
            let glob = if written.contains('/') {
                written.trim_end_matches('/').to_owned()
            } else {
                format!("**/{written}")
            };
            let matcher = globset::GlobBuilder::new(&glob)
                .literal_separator(true)
                .build()
                .map_err(|e| at(format!("invalid glob: {e}")))?
                .compile_matcher();
            per_path.push(PathOverride {
                pattern,
                selection,
                matcher,
            });
        }
        // `spectro.toml` alone has the parent "": the current folder.
        let parent = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let root = canonical(parent);
        Ok(Settings {
            path: path.to_path_buf(),
            root,
            selection,
            per_path,
        })
    }

    /// The nearest configuration file at or above `start` (a file's own folder first).
    /// A `pyproject.toml` without `[tool.spectro]` is passed over, as ruff passes over
    /// one without `[tool.ruff]`.
    pub fn find(start: impl AsRef<Path>) -> Option<PathBuf> {
        let start = canonical(start.as_ref());
        let first = if start.is_dir() {
            Some(start.as_path())
        } else {
            start.parent()
        };
        for dir in first?.ancestors() {
            for name in CONFIG_FILE_NAMES {
                let candidate = dir.join(name);
                if !candidate.is_file() {
                    continue;
                }
                if name == "pyproject.toml" && !has_tool_spectro(&candidate) {
                    continue;
                }
                return Some(candidate);
            }
        }
        None
    }

    /// The `per-path` tables that match a path (relative to [`Settings::root`] after
    /// both are made absolute), in file order.
    pub fn overrides_for<'s>(&'s self, path: &Path) -> impl Iterator<Item = &'s PathOverride> {
        let relative = relative_to(&self.root, path);
        self.per_path
            .iter()
            .filter(move |o| relative.as_deref().is_some_and(|r| o.matches(r)))
    }
}

/// Whether a pyproject.toml has a `[tool.spectro]` table (a file that does not parse
/// counts, so that its error is reported rather than skipped).
fn has_tool_spectro(path: &Path) -> bool {
    match read_config(path) {
        Ok(text) => match toml::from_str::<PyProject>(&text) {
            Ok(py) => py.tool.is_some_and(|t| t.spectro.is_some()),
            Err(_) => text.contains("[tool.spectro"),
        },
        Err(_) => false,
    }
}

/// A configuration file's text: a regular file, at most 1 MiB, UTF-8.
fn read_config(path: &Path) -> Result<String> {
    let bytes = crate::safety::read_regular_capped(path, MAX_CONFIG_BYTES)?;
    String::from_utf8(bytes).map_err(|e| Error::InvalidConfig {
        path: path.to_path_buf(),
        reason: format!("not UTF-8 (byte {})", e.utf8_error().valid_up_to()),
    })
}

/// An absolute path with `..` and symbolic links resolved. For a path that does not
/// exist (a file inside an archive, a missing values.yaml), its nearest existing ancestor
/// is resolved and the rest appended, so that `..` cannot lead discovery or globs astray.
fn canonical(path: &Path) -> PathBuf {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut rest = Vec::new();
    let mut cur = abs.as_path();
    loop {
        if let Ok(real) = cur.canonicalize() {
            return rest.iter().rev().fold(real, |p, c| p.join(c));
        }
        match (cur.parent(), cur.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_owned());
                cur = parent;
            }
            _ => return abs,
        }
    }
}

/// `path` relative to `root`, `/`-separated, when it is inside it.
fn relative_to(root: &Path, path: &Path) -> Option<String> {
    let rel = canonical(path)
        .strip_prefix(canonical(root))
        .ok()?
        .to_path_buf();
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    Some(parts.join("/"))
}

/// The settings that apply to a path (a pack folder or archive, a file, a profile)
/// under a [`ConfigSource`]: none when isolated, the given file, or the nearest one.
pub fn settings_for(source: &ConfigSource, path: &Path) -> Result<Option<Settings>> {
    Ok(Resolver::new(source)
        .settings_for(path)?
        .map(|s| Settings::clone(&s)))
}

/// Finds and caches the settings for each checked path, per [`ConfigSource`].
#[derive(Debug, Default)]
pub(crate) struct Resolver {
    source: ConfigSource,
    by_file: Mutex<HashMap<PathBuf, Arc<Settings>>>,
}

impl Resolver {
    pub(crate) fn new(source: &ConfigSource) -> Self {
        Resolver {
            source: source.clone(),
            by_file: Mutex::default(),
        }
    }

    fn load_cached(&self, file: PathBuf) -> Result<Arc<Settings>> {
        if let Some(s) = self
            .by_file
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&file)
        {
            return Ok(Arc::clone(s));
        }
        let settings = Arc::new(Settings::load(&file)?);
        self.by_file
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(file, Arc::clone(&settings));
        Ok(settings)
    }

    /// The settings that apply to a checked path (pack folder, archive or profile).
    pub(crate) fn settings_for(&self, path: &Path) -> Result<Option<Arc<Settings>>> {
        match &self.source {
            ConfigSource::Isolated => Ok(None),
            ConfigSource::File(file) => self.load_cached(file.clone()).map(Some),
            ConfigSource::Discover => match Settings::find(path) {
                Some(file) => self.load_cached(file).map(Some),
                None => Ok(None),
            },
        }
    }
}

/// Where a rule's effective setting came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum SettingSource {
    /// Nothing changed it.
    Default,
    /// The configuration file's `[lint]` table.
    File {
        /// The file.
        path: PathBuf,
    },
    /// The caller's selection (the command line).
    Caller,
    /// A `[lint.per-path."GLOB"]` table.
    PerPath {
        /// The file.
        path: PathBuf,
        /// The glob.
        pattern: String,
    },
}

/// One rule's effective setting, and where it came from.
#[derive(Debug, Clone, serde::Serialize)]
#[non_exhaustive]
pub struct EffectiveRule {
    /// The rule.
    pub rule: &'static crate::Rule,
    /// Whether its findings are reported.
    pub enabled: bool,
    /// The severity its findings get.
    pub severity: Severity,
    /// What decided `enabled`.
    pub enabled_by: SettingSource,
    /// What decided `severity`.
    pub severity_by: SettingSource,
}

/// Every rule's effective setting for a path (a pack folder, a file in one, or a
/// profile; `None`: without `per-path` tables), through the same layers as a run: the
/// file's `[lint]`, the caller's selection, the matching `per-path` tables.
pub fn effective_rules(
    settings: Option<&Settings>,
    caller: &RuleSelection,
    path: Option<&Path>,
) -> Vec<EffectiveRule> {
    let mut layers: Vec<(&RuleSelection, SettingSource)> = Vec::new();
    if let Some(s) = settings {
        layers.push((
            &s.selection,
            SettingSource::File {
                path: s.path.clone(),
            },
        ));
    }
    layers.push((caller, SettingSource::Caller));
    if let (Some(s), Some(p)) = (settings, path) {
        for o in s.overrides_for(p) {
            layers.push((
                &o.selection,
                SettingSource::PerPath {
                    path: s.path.clone(),
                    pattern: o.pattern.clone(),
                },
            ));
        }
    }
    let selections: Vec<&RuleSelection> = layers.iter().map(|(l, _)| *l).collect();
    let source = |i: Option<usize>| i.map_or(SettingSource::Default, |i| layers[i].1.clone());
    crate::rules::all_rules()
        .iter()
        .map(|rule| {
            let (enabled, severity, eb, sb) =
                crate::selection::trace_layers(&selections, rule.code, rule.severity);
            EffectiveRule {
                rule,
                enabled,
                severity,
                enabled_by: source(eb),
                severity_by: source(sb),
            }
        })
        .collect()
}

/// Apply the layers to one target's findings: the file's `[lint]`, the caller's
/// selection, then the `per-path` tables matching each finding's file.
/// `file_path(d)` gives the path on disk a finding is about.
pub(crate) fn apply(
    settings: Option<&Settings>,
    caller: &RuleSelection,
    diagnostics: &mut Vec<Diagnostic>,
    file_path: &dyn Fn(&Diagnostic) -> PathBuf,
    target: &Path,
) {
    let Some(settings) = settings else {
        caller.apply(diagnostics);
        return;
    };
    let target_overrides: Vec<&PathOverride> = settings.overrides_for(target).collect();
    let mut cache: HashMap<String, Vec<&PathOverride>> = HashMap::new();
    diagnostics.retain_mut(|d| {
        let overrides = cache.entry(d.file.clone()).or_insert_with(|| {
            let own: Vec<&PathOverride> = settings.overrides_for(&file_path(d)).collect();
            // Tables matching the target folder or the file, in file order, each once.
            settings
                .per_path
                .iter()
                .filter(|o| {
                    own.iter().any(|x| std::ptr::eq(*x, *o))
                        || target_overrides.iter().any(|x| std::ptr::eq(*x, *o))
                })
                .collect()
        });
        let mut layers: Vec<&RuleSelection> = vec![&settings.selection, caller];
        layers.extend(overrides.iter().map(|o| &o.selection));
        match crate::selection::decide_layers(&layers, d.code, d.severity) {
            Some(level) => {
                d.severity = level;
                true
            }
            None => false,
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn loads_lint_tables_and_per_path_globs() {
        let tmp = tempfile::tempdir().unwrap();
        let file = write(
            tmp.path(),
            "spectro.toml",
            "[lint]\nignore = [\"VL003\"]\n[lint.severity]\nPK010 = \"error\"\n\
             [lint.per-path.\"packs/legacy-*\"]\nignore = [\"PK\"]\n[lint.per-path.\"pack.json\"]\nextend-select = [\"VL003\"]\n",
        );
        let s = Settings::load(&file).unwrap();
        assert!(!s.selection.is_enabled("VL003"));
        assert_eq!(
            s.selection.severity_of("PK010", Severity::Warning),
            Severity::Error
        );
        assert_eq!(s.per_path.len(), 2);
        assert!(s.per_path[0].matches("packs/legacy-nginx"));
        assert!(!s.per_path[0].matches("packs/legacy-nginx/values.yaml"));
        assert!(s.per_path[1].matches("packs/a/pack.json") && s.per_path[1].matches("pack.json"));
    }

    #[test]
    fn errors_name_the_file_and_place() {
        let tmp = tempfile::tempdir().unwrap();
        let bad = write(tmp.path(), "spectro.toml", "[lint]\nignor = [\"VL003\"]\n");
        let e = Settings::load(&bad).unwrap_err().to_string();
        assert!(
            e.contains("spectro.toml") && e.contains("line 2, column 1") && e.contains("ignor"),
            "{e}"
        );
        let bad = write(tmp.path(), "spectro.toml", "[lint]\nignore = [\"VL999\"]\n");
        let e = Settings::load(&bad).unwrap_err().to_string();
        assert!(e.contains("VL999"), "{e}");
        let bad = write(
            tmp.path(),
            "spectro.toml",
            "[lint.per-path.\"a/[\"]\nignore = [\"VL\"]\n",
        );
        let e = Settings::load(&bad).unwrap_err().to_string();
        assert!(e.contains("invalid glob"), "{e}");
    }

    #[test]
    fn discovery_walks_up_and_skips_pyprojects_without_a_table() {
        let tmp = tempfile::tempdir().unwrap();
        let pack = tmp.path().join("repo/packs/nginx");
        std::fs::create_dir_all(&pack).unwrap();
        assert_eq!(Settings::find(&pack), None);
        write(
            tmp.path(),
            "repo/pyproject.toml",
            "[project]\nname = \"x\"\n",
        );
        assert_eq!(Settings::find(&pack), None);
        let py = write(
            tmp.path(),
            "repo/pyproject.toml",
            "[project]\nname = \"x\"\n[tool.spectro.lint]\nignore = [\"VL\"]\n",
        );
        assert_eq!(Settings::find(&pack), Some(py.clone()));
        assert!(!Settings::load(&py).unwrap().selection.is_enabled("VL003"));
        let near = write(tmp.path(), "repo/packs/spectro.toml", "");
        assert_eq!(Settings::find(&pack), Some(near));
        let dot = write(tmp.path(), "repo/packs/.spectro.toml", "");
        assert_eq!(Settings::find(pack.join("values.yaml")), Some(dot));
    }
}
