//! Loading a pack directory into a [`Pack`] (I/O only; checks live in `rules`).

use std::collections::HashMap;
use std::fs;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use rayon::prelude::*;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::manifest::PackManifest;
use crate::syntax::{Document, ParseError, YamlLimits, parse_json, parse_yaml};

/// File names with a fixed meaning in a pack.
pub mod files {
    /// Pack metadata (mandatory).
    pub const PACK_JSON: &str = "pack.json";
    /// Parameters (mandatory).
    pub const VALUES: &str = "values.yaml";
    /// Presets.
    pub const PRESETS: &str = "presets.yaml";
    /// Schema constraints on values.
    pub const SCHEMA: &str = "schema.yaml";
    /// Logo.
    pub const LOGO: &str = "logo.png";
}

/// Limits applied while loading, so hostile packs cannot exhaust memory or time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoadOptions {
    /// Largest text file read (pack.json, values, presets, schema, manifests). Default 16 MiB.
    pub max_file_size: u64,
    /// Most entries recorded when listing the pack tree. Default 100 000.
    pub max_entries: usize,
    /// YAML nesting and alias limits.
    pub yaml: YamlLimits,
}

builder!(LoadOptions {
    with_max_file_size => max_file_size: u64,
    with_max_entries => max_entries: usize,
    with_yaml => yaml: YamlLimits,
});

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            max_file_size: 16 << 20,
            max_entries: 100_000,
            yaml: YamlLimits::default(),
        }
    }
}

/// Why a file could not be read as text.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoadProblem {
    /// Bigger than [`LoadOptions::max_file_size`].
    TooLarge {
        /// Size on disk.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Not UTF-8; 1-based line and column of the first bad byte.
    NotUtf8 {
        /// Line.
        line: usize,
        /// Column (bytes on that line + 1).
        column: usize,
    },
    /// A symbolic link whose target lies outside the pack.
    SymlinkOutside {
        /// The link target as stored.
        target: String,
    },
    /// A directory or special file where a regular file was expected.
    NotAFile,
    /// Reading failed.
    Io {
        /// The OS error, as text.
        message: String,
    },
}

/// State of one text file of the pack.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum FileStatus {
    /// The file does not exist.
    Missing,
    /// It exists but could not be read as text.
    Unreadable(LoadProblem),
    /// It was read but does not parse.
    Invalid(ParseError),
    /// Parsed: one document (JSON, values/presets/schema) or a stream (manifests).
    Parsed(Vec<Document>),
}

/// One text file of a pack with its source and parse result.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SourceFile {
    /// Path relative to the pack root, `/`-separated.
    pub path: String,
    /// The text (empty when not read).
    pub text: String,
    /// What happened when loading it.
    pub status: FileStatus,
}

impl SourceFile {
    /// The first (for single-document files, the only) document, if it parsed.
    pub fn document(&self) -> Option<&Document> {
        match &self.status {
            FileStatus::Parsed(docs) => docs.first(),
            _ => None,
        }
    }

    /// Whether the file exists on disk.
    pub fn exists(&self) -> bool {
        !matches!(self.status, FileStatus::Missing)
    }
}

/// Kind of an entry of the pack tree.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EntryKind {
    /// Regular file.
    File,
    /// Directory.
    Dir,
    /// Symbolic link, with its target and whether it resolves inside the pack.
    Symlink {
        /// Target as stored in the link.
        target: String,
        /// Whether the target stays inside the pack root.
        inside: bool,
    },
    /// Device, FIFO or socket.
    Other,
}

/// One entry of the pack tree.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TreeEntry {
    /// Path relative to the pack root, `/`-separated.
    pub path: String,
    /// What it is.
    pub kind: EntryKind,
    /// Size in bytes (files).
    pub size: u64,
}

/// A pack directory loaded into memory.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Pack {
    root: PathBuf,
    manifest: PackManifest,
    /// `pack.json`.
    pub pack_json: SourceFile,
    /// `values.yaml`.
    pub values: SourceFile,
    /// `presets.yaml`.
    pub presets: SourceFile,
    /// `schema.yaml`.
    pub schema: SourceFile,
    /// YAML files under `manifests/`, sorted by path. Their documents keep duplicate-key
    /// findings but not the parsed tree (the root is `Null`), to bound memory.
    pub manifests: Vec<SourceFile>,
    /// Every entry below the root (not following links), sorted by path.
    pub tree: Vec<TreeEntry>,
    /// Whether the tree listing stopped at [`LoadOptions::max_entries`].
    pub tree_truncated: bool,
    /// First bytes of `logo.png` (up to 8), if it is a readable file.
    pub logo_header: Option<Vec<u8>>,
}

impl Pack {
    /// The pack directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Typed pack.json (fields that failed to parse are `None`).
    pub fn manifest(&self) -> &PackManifest {
        &self.manifest
    }

    /// `name` from pack.json.
    pub fn name(&self) -> Option<&str> {
        self.manifest.name.as_deref()
    }

    /// `version` from pack.json.
    pub fn version(&self) -> Option<&str> {
        self.manifest.version.as_deref()
    }

    /// pack.json as a JSON value (`Null` if it did not parse).
    pub fn manifest_json(&self) -> Value {
        self.pack_json
            .document()
            .map_or(Value::Null, |d| d.root.to_json())
    }

    /// values.yaml as a JSON value (`Null` if missing or invalid).
    pub fn values_json(&self) -> Value {
        self.values
            .document()
            .map_or(Value::Null, |d| d.root.to_json())
    }

    /// The tree entry at `path`, if any.
    pub fn entry(&self, path: &str) -> Option<&TreeEntry> {
        self.tree
            .binary_search_by(|e| e.path.as_str().cmp(path))
            .ok()
            .map(|i| &self.tree[i])
    }
}

/// Load a pack directory with default [`LoadOptions`].
///
/// ```
/// use spectro_packs::{Layer, load_pack, scaffold::{NewPack, new_pack}};
///
/// let tmp = tempfile::tempdir()?;
/// let dir = new_pack(tmp.path(), &NewPack::new("hello-universe", Layer::Addon))?;
/// let pack = load_pack(&dir)?;
/// assert_eq!(pack.name(), Some("hello-universe"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn load_pack(dir: impl AsRef<Path>) -> Result<Pack> {
    load_pack_with(dir, &LoadOptions::default())
}

/// Load a pack directory.
///
/// Fails only when `dir` itself cannot be used; every problem with the files inside is
/// recorded in the [`Pack`] and reported by the rules.
pub fn load_pack_with(dir: impl AsRef<Path>, opts: &LoadOptions) -> Result<Pack> {
    load_pack_overlay(dir, opts, &Overlay::new())
}

/// Open editor buffers: file path → unsaved text. The path is the pack folder joined with
/// the file's path in the pack, as the pack is loaded (absolute when the folder is).
pub type Overlay = std::collections::HashMap<PathBuf, String>;

/// Parsed files kept between loads of the same packs, for callers that load them again
/// and again (a language server re-lints a pack on every keystroke): a file whose text is
/// the text last parsed for its path is not parsed again.
///
/// A hit compares the whole text, not a hash, so a stale result is never used. One entry
/// per file path and parser; the whole cache is dropped when its texts pass 64 MiB (their
/// trees take several times that). Use one cache
/// with one set of [`LoadOptions`].
#[derive(Debug, Default)]
pub struct ParseCache {
    entries: std::sync::Mutex<CacheEntries>,
}

/// Per path and parser: the text last parsed and its result; and the texts' total size.
type CacheEntries = (HashMap<(PathBuf, ParseKind), (String, FileStatus)>, usize);

/// Which parse a file got: the same file can be one pack's manifest and a nested pack's
/// values.yaml, parsed differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum ParseKind {
    Json,
    Yaml,
    Manifest,
}

/// Text kept by a [`ParseCache`] before it starts over (the parsed trees take several
/// times this).
const PARSE_CACHE_BYTES: usize = 64 << 20;

impl ParseCache {
    /// An empty cache.
    pub fn new() -> Self {
        ParseCache::default()
    }

    /// Files cached.
    pub fn len(&self) -> usize {
        self.entries.lock().map_or(0, |e| e.0.len())
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forget every file.
    pub fn clear(&self) {
        if let Ok(mut e) = self.entries.lock() {
            *e = Default::default();
        }
    }

    /// The parse of `text` at `path`: cached when the text is the same, else parsed
    /// (outside the lock, so the pool parses files in parallel) and kept.
    fn parse(
        &self,
        key: (&Path, ParseKind),
        text: &str,
        parse: &dyn Fn(&str) -> std::result::Result<Vec<Document>, ParseError>,
    ) -> FileStatus {
        let (path, kind) = key;
        if let Ok(e) = self.entries.lock()
            && let Some((cached, status)) = e.0.get(&(path.to_path_buf(), kind))
            && cached == text
        {
            return status.clone();
        }
        let status = match parse(text) {
            Ok(docs) => FileStatus::Parsed(docs),
            Err(e) => FileStatus::Invalid(e),
        };
        if let Ok(mut e) = self.entries.lock() {
            let (map, bytes) = &mut *e;
            if *bytes + text.len() > PARSE_CACHE_BYTES {
                map.clear();
                *bytes = 0;
            }
            *bytes += text.len();
            if let Some((old, _)) = map.insert(
                (path.to_path_buf(), kind),
                (text.to_owned(), status.clone()),
            ) {
                *bytes -= old.len();
            }
        }
        status
    }
}

/// Load a pack directory with some files' text taken from `overlay` (unsaved editor
/// buffers) instead of the disk. The same size limit applies to buffer text.
pub fn load_pack_overlay(
    dir: impl AsRef<Path>,
    opts: &LoadOptions,
    overlay: &Overlay,
) -> Result<Pack> {
    load_pack_cached(dir, opts, overlay, None)
}

/// [`load_pack_overlay`] that takes unchanged files' parses from `cache` (and leaves the
/// new ones there).
pub fn load_pack_cached(
    dir: impl AsRef<Path>,
    opts: &LoadOptions,
    overlay: &Overlay,
    cache: Option<&ParseCache>,
) -> Result<Pack> {
    let root = dir.as_ref().to_path_buf();
    let meta = fs::metadata(&root).map_err(|e| Error::io(&root, e))?;
    if !meta.is_dir() {
        return Err(Error::NotADirectory { path: root });
    }
    let (tree, tree_truncated) = list_tree(&root, opts.max_entries)?;
    let with = |kind: ParseKind| cache.map(|c| (c, kind));
    let single = |t: &str| parse_yaml(t, opts.yaml).map(|d| vec![d]);
    // Manifests are checked (syntax, duplicate keys) but their trees are not kept: a pack
    // can hold tens of megabytes of them.
    let manifest_paths: Vec<&TreeEntry> = tree
        .iter()
        .filter(|e| {
            e.path.starts_with("manifests/")
                && (e.path.ends_with(".yaml") || e.path.ends_with(".yml"))
                && !matches!(e.kind, EntryKind::Dir)
        })
        .collect();
    // Every file is read and parsed on the rayon pool, the four fixed files beside the
    // manifests, so one large values.yaml or schema.yaml overlaps the rest. Results keep
    // their places (the manifests in tree order), so findings come out in a stable order.
    let ((pack_json, values), ((presets, schema), manifests)) = rayon::join(
        || {
            rayon::join(
                || {
                    read_source(
                        overlay,
                        with(ParseKind::Json),
                        &root,
                        files::PACK_JSON,
                        opts,
                        |t| parse_json(t).map(|d| vec![d]),
                    )
                },
                || {
                    read_source(
                        overlay,
                        with(ParseKind::Yaml),
                        &root,
                        files::VALUES,
                        opts,
                        single,
                    )
                },
            )
        },
        || {
            rayon::join(
                || {
                    rayon::join(
                        || {
                            read_source(
                                overlay,
                                with(ParseKind::Yaml),
                                &root,
                                files::PRESETS,
                                opts,
                                single,
                            )
                        },
                        || {
                            read_source(
                                overlay,
                                with(ParseKind::Yaml),
                                &root,
                                files::SCHEMA,
                                opts,
                                single,
                            )
                        },
                    )
                },
                || {
                    manifest_paths
                        .par_iter()
                        .map(|e| {
                            read_source(
                                overlay,
                                with(ParseKind::Manifest),
                                &root,
                                &e.path,
                                opts,
                                |t| {
                                    crate::syntax::check_yaml_stream(
                                        &neutralize_templates(t),
                                        opts.yaml,
                                    )
                                },
                            )
                        })
                        .collect::<Vec<_>>()
                },
            )
        },
    );
    let logo_header = read_header(&root, files::LOGO, &tree);
    let manifest = pack_json
        .document()
        .map(|d| PackManifest::from_json(&d.root.to_json()));
    Ok(Pack {
        root,
        manifest: manifest.unwrap_or_default(),
        pack_json,
        values,
        presets,
        schema,
        manifests,
        tree,
        tree_truncated,
        logo_header,
    })
}

/// Only `pack.json`, parsed into the typed manifest (default when missing or invalid):
/// what `pack build --no-validate` needs, without listing the tree or parsing any YAML.
pub(crate) fn load_manifest_only(root: &Path, opts: &LoadOptions) -> PackManifest {
    read_source(&Overlay::new(), None, root, files::PACK_JSON, opts, |t| {
        parse_json(t).map(|d| vec![d])
    })
    .document()
    .map(|d| PackManifest::from_json(&d.root.to_json()))
    .unwrap_or_default()
}

fn read_header(root: &Path, rel: &str, tree: &[TreeEntry]) -> Option<Vec<u8>> {
    let entry = tree.iter().find(|e| e.path == rel)?;
    if entry.kind != EntryKind::File {
        return None;
    }
    let mut buf = Vec::with_capacity(8);
    fs::File::open(root.join(rel))
        .ok()?
        .take(8)
        .read_to_end(&mut buf)
        .ok()?;
    Some(buf)
}

fn read_source(
    overlay: &Overlay,
    cache: Option<(&ParseCache, ParseKind)>,
    root: &Path,
    rel: &str,
    opts: &LoadOptions,
    parse: impl Fn(&str) -> std::result::Result<Vec<Document>, ParseError>,
) -> SourceFile {
    let mut sf = SourceFile {
        path: rel.to_owned(),
        text: String::new(),
        status: FileStatus::Missing,
    };
    let path = root.join(rel);
    if let Some(text) = overlay.get(&path) {
        if text.len() as u64 > opts.max_file_size {
            sf.status = FileStatus::Unreadable(LoadProblem::TooLarge {
                size: text.len() as u64,
                limit: opts.max_file_size,
            });
            return sf;
        }
        sf.status = parse_with(cache, &path, text, &parse);
        sf.text = text.clone();
        return sf;
    }
    let lmeta = match fs::symlink_metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return sf,
        Err(e) => {
            sf.status = FileStatus::Unreadable(LoadProblem::Io {
                message: e.to_string(),
            });
            return sf;
        }
    };
    if lmeta.file_type().is_symlink() {
        let target = fs::read_link(&path)
            .map(|t| t.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !symlink_stays_inside(root, &path) {
            sf.status = FileStatus::Unreadable(LoadProblem::SymlinkOutside { target });
            return sf;
        }
    }
    let meta = match fs::metadata(&path) {
        Ok(m) => m,
        Err(e) => {
            sf.status = FileStatus::Unreadable(LoadProblem::Io {
                message: e.to_string(),
            });
            return sf;
        }
    };
    if !meta.is_file() {
        sf.status = FileStatus::Unreadable(LoadProblem::NotAFile);
        return sf;
    }
    if meta.len() > opts.max_file_size {
        sf.status = FileStatus::Unreadable(LoadProblem::TooLarge {
            size: meta.len(),
            limit: opts.max_file_size,
        });
        return sf;
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    let read =
        fs::File::open(&path).and_then(|f| f.take(opts.max_file_size + 1).read_to_end(&mut bytes));
    if let Err(e) = read {
        sf.status = FileStatus::Unreadable(LoadProblem::Io {
            message: e.to_string(),
        });
        return sf;
    }
    if bytes.len() as u64 > opts.max_file_size {
        sf.status = FileStatus::Unreadable(LoadProblem::TooLarge {
            size: bytes.len() as u64,
            limit: opts.max_file_size,
        });
        return sf;
    }
    match String::from_utf8(bytes) {
        Ok(text) => {
            sf.status = parse_with(cache, &path, &text, &parse);
            sf.text = text;
        }
        Err(e) => {
            let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let line = good.iter().filter(|&&b| b == b'\n').count() + 1;
            let column =
                good.len() - good.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1) + 1;
            sf.status = FileStatus::Unreadable(LoadProblem::NotUtf8 { line, column });
        }
    }
    sf
}

fn parse_with(
    cache: Option<(&ParseCache, ParseKind)>,
    path: &Path,
    text: &str,
    parse: &dyn Fn(&str) -> std::result::Result<Vec<Document>, ParseError>,
) -> FileStatus {
    match cache {
        Some((c, kind)) => c.parse((path, kind), text, parse),
        None => match parse(text) {
            Ok(docs) => FileStatus::Parsed(docs),
            Err(e) => FileStatus::Invalid(e),
        },
    }
}

/// Whether a symlink, fully resolved, stays under `root`.
fn symlink_stays_inside(root: &Path, link: &Path) -> bool {
    match (fs::canonicalize(root), fs::canonicalize(link)) {
        (Ok(r), Ok(t)) => t.starts_with(r),
        _ => false,
    }
}

fn list_tree(root: &Path, max_entries: usize) -> Result<(Vec<TreeEntry>, bool)> {
    let mut out = Vec::new();
    let mut truncated = false;
    let walker = walkdir::WalkDir::new(root)
        .min_depth(1)
        .max_depth(65)
        .follow_links(false);
    for item in walker {
        let item = match item {
            Ok(i) => i,
            Err(e) if e.depth() == 0 => {
                return Err(Error::io(
                    root,
                    e.into_io_error()
                        .unwrap_or_else(|| std::io::Error::other("walk failed")),
                ));
            }
            Err(_) => continue,
        };
        if out.len() >= max_entries {
            truncated = true;
            break;
        }
        // Entries below 64 levels are not read; saying so beats a silent partial list.
        if item.depth() > 64 {
            truncated = true;
            continue;
        }
        let Ok(rel) = item.path().strip_prefix(root) else {
            continue;
        };
        let path = rel
            .components()
            .filter_map(|c| match c {
                Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("/");
        let ft = item.file_type();
        let (kind, size) = if ft.is_symlink() {
            let target = fs::read_link(item.path())
                .map(|t| t.to_string_lossy().into_owned())
                .unwrap_or_default();
            let inside = symlink_stays_inside(root, item.path());
            (EntryKind::Symlink { target, inside }, 0)
        } else if ft.is_dir() {
            (EntryKind::Dir, 0)
        } else if ft.is_file() {
            (
                EntryKind::File,
                item.metadata().map(|m| m.len()).unwrap_or(0),
            )
        } else {
            (EntryKind::Other, 0)
        };
        out.push(TreeEntry { path, kind, size });
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((out, truncated))
}

/// Replace Go-template actions (`{{ ... }}`) in a manifest so the YAML structure can be
/// checked before rendering: a line made only of actions becomes blank; an action inside
/// a line becomes a same-length run of `x`, keeping every column where it was.
pub(crate) fn neutralize_templates(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains("{{") {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, nl) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        let mut replaced = String::with_capacity(body.len());
        let mut rest = body;
        let mut only_actions = true;
        while let Some(start) = rest.find("{{") {
            let (before, after) = rest.split_at(start);
            if !before.trim().is_empty() {
                only_actions = false;
            }
            replaced.push_str(before);
            match after.find("}}") {
                Some(end) => {
                    let action = &after[..end + 2];
                    replaced.extend(std::iter::repeat_n('x', action.chars().count()));
                    rest = &after[end + 2..];
                }
                None => {
                    replaced.push_str(after);
                    rest = "";
                    only_actions = false;
                }
            }
        }
        if !rest.trim().is_empty() {
            only_actions = false;
        }
        replaced.push_str(rest);
        if only_actions && body.contains("{{") {
            out.extend(std::iter::repeat_n(' ', body.chars().count()));
        } else {
            out.push_str(&replaced);
        }
        out.push_str(nl);
    }
    std::borrow::Cow::Owned(out)
}

/// Find pack directories at or below `path`: `path` itself when it holds `pack.json` or
/// `values.yaml`, else every directory below it that holds `pack.json` (not descending
/// into a pack once found). Sorted.
pub fn discover_packs(path: impl AsRef<Path>) -> Result<Vec<PathBuf>> {
    let path = path.as_ref();
    let meta = fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if !meta.is_dir() {
        return Err(Error::NotADirectory {
            path: path.to_path_buf(),
        });
    }
    if path.join(files::PACK_JSON).exists() || path.join(files::VALUES).exists() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut found = Vec::new();
    let mut walker = walkdir::WalkDir::new(path)
        .min_depth(1)
        .max_depth(32)
        .follow_links(false)
        .into_iter();
    while let Some(item) = walker.next() {
        let Ok(item) = item else { continue };
        if !item.file_type().is_dir() {
            continue;
        }
        let name = item.file_name().to_string_lossy();
        if name.starts_with('.') || name == "node_modules" || name == "target" {
            walker.skip_current_dir();
            continue;
        }
        if item.path().join(files::PACK_JSON).is_file() {
            found.push(item.path().to_path_buf());
            walker.skip_current_dir();
        }
    }
    if found.is_empty() {
        return Err(Error::NoPacksFound {
            path: path.to_path_buf(),
        });
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_keep_columns() {
        let t = "a: {{ .Values.x }}\n  {{- if .y }}\nb: '{{ z }}'\n";
        let n = neutralize_templates(t);
        assert_eq!(n, "a: xxxxxxxxxxxxxxx\n              \nb: 'xxxxxxx'\n");
    }
}
