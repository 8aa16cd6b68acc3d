//! Validation entry points and the serialisable report shape (the JSON contract).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use crate::diagnostic::{Diagnostic, Severity};
use crate::error::Result;
use crate::layer::Layer;
use crate::pack::{LoadOptions, Overlay, discover_packs, load_pack_with};
use crate::rules::check_pack;
use crate::settings::{ConfigSource, Resolver, Settings};
use crate::suppress::Suppressions;

/// Options for [`validate_paths`].
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ValidateOptions {
    /// Loading limits.
    pub load: LoadOptions,
    /// Which rules report, at which severity (applied after the configuration file's
    /// `[lint]` and before its `per-path` tables, as a command line is).
    pub selection: crate::RuleSelection,
    /// Where the configuration file comes from (default: none is read).
    pub config: ConfigSource,
    /// Unsaved editor buffers read instead of the files on disk (pack folders only).
    pub overlay: Option<std::sync::Arc<Overlay>>,
    /// Caps for extracting pack archives before checking them.
    pub extract: crate::archive::ExtractLimits,
    /// Parses kept between validations of the same packs (pack folders only).
    pub parse_cache: Option<std::sync::Arc<crate::pack::ParseCache>>,
}

builder!(ValidateOptions {
    with_load => load: LoadOptions,
    with_selection => selection: crate::RuleSelection,
    with_config => config: ConfigSource,
    with_overlay => overlay: std::sync::Arc<Overlay>,
    with_extract => extract: crate::archive::ExtractLimits,
    with_parse_cache => parse_cache: std::sync::Arc<crate::pack::ParseCache>,
});

/// What a [`Report`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ReportKind {
    /// A pack directory or pack archive.
    Pack,
    /// A cluster profile file.
    Profile,
}

impl ReportKind {
    /// `pack` or `profile`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::Pack => "pack",
            ReportKind::Profile => "profile",
        }
    }
}

/// Findings for one checked target: a pack or a profile, in one shape.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Report {
    /// What was checked.
    pub kind: ReportKind,
    /// The pack directory, pack archive or profile file, as given or discovered.
    #[serde(serialize_with = "lossy_path")]
    pub path: PathBuf,
    /// The pack's `name` or the profile's `metadata.name`, if readable.
    pub name: Option<String>,
    /// The pack's `version` or the profile's `spec.version`, if readable.
    pub version: Option<String>,
    /// A pack's `layer` from pack.json, if valid (always `None` for a profile).
    pub layer: Option<Layer>,
    /// For a pack archive: the top-level directory inside it that holds the pack
    /// (diagnostic `file`s are relative to it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archive_root: Option<String>,
    /// The configuration file that applied, if any.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "lossy_optional_path"
    )]
    pub config: Option<PathBuf>,
    /// Findings, sorted by file, line, column and code.
    pub diagnostics: Vec<Diagnostic>,
}

/// Paths as text in every output, also when not UTF-8 (a file name from an archive or a
/// foreign file system): invalid bytes become U+FFFD instead of failing the output.
fn lossy_path<S: serde::Serializer>(p: &Path, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&p.to_string_lossy())
}

fn lossy_optional_path<S: serde::Serializer>(
    p: &Option<PathBuf>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match p {
        Some(p) => lossy_path(p, s),
        None => s.serialize_none(),
    }
}

/// A pack's report (a [`Report`] of kind [`ReportKind::Pack`]).
pub type PackReport = Report;

impl Report {
    /// Number of findings with this severity.
    pub fn count(&self, severity: Severity) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == severity)
            .count()
    }

    /// The path of the file a finding is about, as shown to users: the pack folder
    /// joined with the file (`packs/nginx/values.yaml`), `archive.tar.gz!/top/file` inside
    /// an archive, the profile file for a profile.
    pub fn display_path(&self, d: &Diagnostic) -> String {
        match (self.kind, &self.archive_root) {
            (ReportKind::Profile, _) => d.file.clone(),
            (ReportKind::Pack, Some(top)) => {
                format!("{}!/{top}/{}", self.path.display(), d.file)
            }
            (ReportKind::Pack, None) => {
                let joined = self.path.join(&d.file);
                let s = joined.to_string_lossy();
                s.strip_prefix("./").unwrap_or(&s).to_string()
            }
        }
    }

    /// The file on disk a finding is about, when there is one to read (not inside an
    /// archive).
    pub fn source_path(&self, d: &Diagnostic) -> Option<PathBuf> {
        match (self.kind, &self.archive_root) {
            (ReportKind::Profile, _) => Some(self.path.clone()),
            (ReportKind::Pack, None) => Some(self.path.join(&d.file)),
            (ReportKind::Pack, Some(_)) => None,
        }
    }
}

/// Totals over several reports, of packs or of profiles.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Summary {
    /// Packs or profiles checked.
    pub checked: usize,
    /// Error findings.
    pub errors: usize,
    /// Warning findings.
    pub warnings: usize,
    /// Info findings.
    pub infos: usize,
}

impl Summary {
    /// Sum up reports.
    pub fn of(reports: &[Report]) -> Self {
        let mut s = Summary {
            checked: reports.len(),
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

/// After the rules ran: the configuration file's and the caller's selection, the
/// inline suppressions of the target's YAML files, then the findings about those
/// comments (themselves subject to the selection).
pub(crate) fn finish(
    settings: Option<&Settings>,
    selection: &crate::RuleSelection,
    target: &Path,
    file_path: &dyn Fn(&Diagnostic) -> PathBuf,
    yaml_files: &mut dyn Iterator<Item = (&str, &str)>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    crate::settings::apply(settings, selection, diagnostics, file_path, target);
    let scanned: Vec<Suppressions> = yaml_files
        .map(|(file, text)| Suppressions::scan(file, text))
        .collect();
    let mut extra = crate::suppress::apply(scanned, diagnostics);
    if !extra.is_empty() {
        crate::settings::apply(settings, selection, &mut extra, file_path, target);
        diagnostics.append(&mut extra);
        diagnostics.sort_by(|a, b| {
            (&a.file, a.line, a.column, a.code).cmp(&(&b.file, b.line, b.column, b.code))
        });
    }
}

/// Give every located finding the end of its token (`end_line`, `end_column`), from the
/// text of its file (`text_of(d.file)`). Each file is split into lines once; each line
/// into characters once for all of its findings.
pub(crate) fn fill_ends<'t>(
    diagnostics: &mut [Diagnostic],
    text_of: &dyn Fn(&str) -> Option<&'t str>,
) {
    use crate::diagnostic::OneIndexed;
    let mut starts: HashMap<String, Option<(&'t str, Vec<usize>)>> = HashMap::new();
    let mut line_chars: Option<(String, usize, Vec<char>)> = None;
    // The last place measured: findings at one place (sorted together) reuse it, so many
    // findings at the start of one long token cost one scan, not one each.
    let mut last: Option<(String, usize, usize, Option<usize>)> = None;
    for d in diagnostics.iter_mut() {
        let (Some(line), Some(column)) = (d.line, d.column) else {
            continue;
        };
        let index = line.to_zero_indexed();
        let start = column.to_zero_indexed();
        if let Some((f, l, c, end)) = &last
            && *f == d.file
            && *l == index
            && *c == start
        {
            if let Some(end) = end {
                d.end_line = Some(line);
                d.end_column = Some(OneIndexed::from_zero_indexed(*end));
            }
            continue;
        }
        let same = line_chars
            .as_ref()
            .is_some_and(|(f, l, _)| *f == d.file && *l == index);
        if !same {
            let Some((text, lines)) = starts
                .entry(d.file.clone())
                .or_insert_with(|| text_of(&d.file).map(|t| (t, crate::syntax::line_starts(t))))
            else {
                continue;
            };
            let Some(&begin) = lines.get(index) else {
                continue;
            };
            let end = lines.get(index + 1).copied().unwrap_or(text.len());
            let mut shown = text[begin..end].trim_end_matches(['\n', '\r']);
            if index == 0 {
                // The parsers count columns after a byte order mark.
                shown = shown.strip_prefix('\u{feff}').unwrap_or(shown);
            }
            line_chars = Some((d.file.clone(), index, shown.chars().collect()));
        }
        let Some((_, _, chars)) = &line_chars else {
            continue;
        };
        let (mut end, whole) = crate::syntax::token_at(chars, start);
        // A plain scalar of several words (`namespace: My NS`; one that starts with a word
        // character, not an indicator a syntax error points at): the whole value, up to a
        // comment or a flow collection's `,]}`, not its first word. Stopping there keeps
        // many findings on one long flow line linear: each extends over its own value.
        if !whole
            && chars
                .get(start)
                .is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '/'))
        {
            let mut stop = end;
            while stop < chars.len()
                && !matches!(chars[stop], ',' | ']' | '}')
                && !(chars[stop] == '#' && chars[stop - 1].is_whitespace())
            {
                stop += 1;
            }
            while stop > end && chars[stop - 1].is_whitespace() {
                stop -= 1;
            }
            end = stop;
        }
        let found = (end > start).then_some(end);
        if let Some(end) = found {
            d.end_line = Some(line);
            d.end_column = Some(OneIndexed::from_zero_indexed(end));
        }
        last = Some((d.file.clone(), index, start, found));
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
    let resolver = Resolver::new(&opts.config);
    validate_one(dir.as_ref(), opts, &resolver)
}

fn validate_one(path: &Path, opts: &ValidateOptions, resolver: &Resolver) -> Result<PackReport> {
    let settings = resolver.settings_for(path)?;
    let settings = settings.as_deref();
    if is_archive_path(path) {
        let tmp = tempfile::tempdir().map_err(|e| crate::Error::io(std::env::temp_dir(), e))?;
        let x = crate::archive::extract_archive(
            path,
            tmp.path(),
            &crate::archive::ExtractOptions::default().with_limits(opts.extract),
        )?;
        let pack = load_pack_with(&x.root, &opts.load)?;
        // Per-path globs see the archive as the pack folder.
        let in_archive = |d: &Diagnostic| path.join(&d.file);
        let mut report = pack_report(&pack, settings, opts, path, &in_archive);
        report.path = path.to_path_buf();
        report.archive_root = Some(x.top_dir);
        return Ok(report);
    }
    let pack = match (&opts.overlay, &opts.parse_cache) {
        (None, None) => load_pack_with(path, &opts.load)?,
        (overlay, cache) => {
            let empty = Overlay::new();
            let overlay = overlay.as_deref().unwrap_or(&empty);
            crate::pack::load_pack_cached(path, &opts.load, overlay, cache.as_deref())?
        }
    };
    let on_disk = |d: &Diagnostic| path.join(&d.file);
    let mut report = pack_report(&pack, settings, opts, path, &on_disk);
    report.path = path.to_path_buf();
    Ok(report)
}

fn pack_report(
    pack: &crate::Pack,
    settings: Option<&Settings>,
    opts: &ValidateOptions,
    target: &Path,
    file_path: &dyn Fn(&Diagnostic) -> PathBuf,
) -> Report {
    let mut diagnostics = check_pack(pack);
    let mut yaml = [&pack.values, &pack.presets, &pack.schema]
        .into_iter()
        .chain(&pack.manifests)
        .map(|f| (f.path.as_str(), f.text.as_str()));
    finish(
        settings,
        &opts.selection,
        target,
        file_path,
        &mut yaml,
        &mut diagnostics,
    );
    let files = [&pack.pack_json, &pack.values, &pack.presets, &pack.schema];
    fill_ends(&mut diagnostics, &|file| {
        files
            .into_iter()
            .chain(&pack.manifests)
            .find(|f| f.path == file)
            .map(|f| f.text.as_str())
    });
    let m = pack.manifest();
    Report {
        kind: ReportKind::Pack,
        path: pack.root().to_path_buf(),
        name: m.name.clone(),
        version: m.version.clone(),
        layer: m.layer,
        archive_root: None,
        config: settings.map(|s| s.path.clone()),
        diagnostics,
    }
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
    let resolver = Resolver::new(&opts.config);
    dirs.par_iter()
        .map(|d| validate_one(d, opts, &resolver))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::fill_ends;
    use crate::diagnostic::Position;
    use crate::rules::find_rule;

    #[test]
    fn ends_count_characters_on_non_ascii_lines() {
        let text = "a: 1\nname: 😀 \"日本語\" # c\nk: 'it''s' tail\n";
        let at = |line, column| {
            find_rule("VL002").unwrap().diag(
                "values.yaml",
                "",
                Some(Position::new(line, column)),
                "m".into(),
            )
        };
        // `"日本語"` with its quotes; `name` before its colon; `'it''s'` whole; past the
        // end of a line: no token, no end; another file's text is not used.
        let mut found = vec![at(2, 9), at(2, 1), at(3, 4), at(2, 40), at(1, 1)];
        found[4].file = "other.yaml".into();
        fill_ends(&mut found, &|f| (f == "values.yaml").then_some(text));
        let ends: Vec<Option<(u32, u32)>> = found
            .iter()
            .map(|d| d.end().map(|p| (p.line.get(), p.column.get())))
            .collect();
        assert_eq!(
            ends,
            [Some((2, 14)), Some((2, 5)), Some((3, 11)), None, None]
        );
        // A plain value of words runs to its comment; an object finding is its `{`; a
        // byte order mark is not counted; many findings at one place scan once.
        let text = "\u{feff}ns: My Name Space  # c\n{\"a\":1,\"b\":2}\n";
        let mut found = vec![at(1, 5), at(2, 1)];
        found.extend((0..50_000).map(|_| at(1, 5)));
        fill_ends(&mut found, &|f| (f == "values.yaml").then_some(text));
        let got: Vec<Option<(u32, u32)>> = found[..2]
            .iter()
            .map(|d| d.end().map(|p| (p.line.get(), p.column.get())))
            .collect();
        assert_eq!(got, [Some((1, 18)), Some((2, 2))]);
        assert!(
            found
                .iter()
                .skip(2)
                .all(|d| d.end_column == found[0].end_column)
        );
    }

    #[test]
    fn a_parse_cache_gives_the_same_findings_and_never_stale_ones() {
        use crate::scaffold::{NewPack, new_pack};
        use crate::{Layer, ParseCache, ValidateOptions, validate_pack_with};
        use std::sync::Arc;
        let tmp = tempfile::tempdir().unwrap();
        let dir = new_pack(tmp.path(), &NewPack::new("hello", Layer::Addon)).unwrap();
        let cache = Arc::new(ParseCache::new());
        let cached = ValidateOptions::default().with_parse_cache(Arc::clone(&cache));
        let plain = ValidateOptions::default();
        let codes = |opts: &ValidateOptions| -> Vec<(&'static str, Option<u32>)> {
            validate_pack_with(&dir, opts)
                .unwrap()
                .diagnostics
                .iter()
                .map(|d| (d.code, d.line.map(|l| l.get())))
                .collect()
        };
        assert_eq!(codes(&cached), codes(&plain));
        assert!(!cache.is_empty());
        // The same path with new text: parsed again, not taken from the cache.
        let values = dir.join("values.yaml");
        let text = std::fs::read_to_string(&values).unwrap();
        std::fs::write(&values, format!("{text}\nbroken: [\n")).unwrap();
        let now = codes(&cached);
        assert!(now.iter().any(|(c, _)| *c == "YM001"), "{now:?}");
        assert_eq!(now, codes(&plain));
        std::fs::write(&values, &text).unwrap();
        assert_eq!(codes(&cached), codes(&plain));
        cache.clear();
        assert!(cache.is_empty());
    }
}
