use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::ArchiveProblem;
use crate::error::{Error, Result};

/// Caps applied while extracting, counted on bytes actually read from the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExtractLimits {
    /// Total bytes of all files. Default 4 GiB.
    pub max_total_bytes: u64,
    /// Bytes of any single file. Default 2 GiB.
    pub max_file_bytes: u64,
    /// Number of entries. Default 100 000.
    pub max_entries: u64,
}

impl Default for ExtractLimits {
    fn default() -> Self {
        ExtractLimits {
            max_total_bytes: 4 << 30,
            max_file_bytes: 2 << 30,
            max_entries: 100_000,
        }
    }
}

/// Options for [`extract_archive`].
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct ExtractOptions {
    /// Caps.
    pub limits: ExtractLimits,
    /// Replace an existing destination directory (atomically: the old one is moved aside
    /// and removed only after the new one is in place).
    pub overwrite: bool,
}

/// What [`extract_archive`] produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    /// The pack directory (`dest/<top-level dir>`).
    pub root: PathBuf,
    /// Name of the archive's top-level directory.
    pub top_dir: String,
    /// Files written.
    pub files: u64,
    /// Bytes written.
    pub bytes: u64,
}

/// Extract a pack archive (`.tar.gz` with one top-level directory) into `dest`, creating
/// `dest/<top-level dir>`.
///
/// Everything is written into a temporary directory beside the destination first and
/// renamed into place only if the whole archive passed: paths may not be absolute, contain
/// `..`, backslashes or NUL; only regular files and directories are allowed (no symlinks,
/// hardlinks, devices or FIFOs); no path twice; one top-level directory holding
/// `pack.json`; caps on entries and bytes counted on data actually read; the gzip stream
/// must be complete with nothing after it. On any error nothing is left behind. Files are
/// written 0644 (0755 when executable), directories 0755. Leftover temporary directories
/// of interrupted runs (older than an hour) are removed.
pub fn extract_archive(
    archive: impl AsRef<Path>,
    dest: impl AsRef<Path>,
    opts: &ExtractOptions,
) -> Result<Extracted> {
    let archive = archive.as_ref();
    let dest = dest.as_ref();
    fs::create_dir_all(dest).map_err(|e| Error::io(dest, e))?;
    sweep_stale(dest);
    let staging = tempfile::Builder::new()
        .prefix(".spectro-extract-")
        .tempdir_in(dest)
        .map_err(|e| Error::io(dest, e))?;
    let file = File::open(archive).map_err(|e| Error::io(archive, e))?;
    let (top, files, bytes) = unpack(
        BufReader::with_capacity(1 << 20, file),
        staging.path(),
        &opts.limits,
    )
    .map_err(|(entry, problem)| Error::Archive {
        path: archive.to_path_buf(),
        entry,
        problem,
    })?;
    let root = dest.join(&top);
    if fs::symlink_metadata(&root).is_ok() {
        if !opts.overwrite {
            return Err(Error::Archive {
                path: root.clone(),
                entry: None,
                problem: ArchiveProblem::DestinationExists,
            });
        }
        let aside = staging.path().join(".old");
        fs::rename(&root, &aside).map_err(|e| Error::io(&root, e))?;
    }
    fs::rename(staging.path().join(&top), &root).map_err(|e| Error::io(&root, e))?;
    drop(staging);
    Ok(Extracted {
        root,
        top_dir: top,
        files,
        bytes,
    })
}

/// Remove `.spectro-extract-*` directories older than an hour (left by a killed run).
fn sweep_stale(dest: &Path) {
    let Ok(rd) = fs::read_dir(dest) else { return };
    let hour_ago = SystemTime::now() - Duration::from_secs(3600);
    for e in rd.flatten() {
        let name = e.file_name();
        if !name.to_string_lossy().starts_with(".spectro-extract-") {
            continue;
        }
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t < hour_ago);
        if old && e.file_type().is_ok_and(|t| t.is_dir()) {
            let _ = fs::remove_dir_all(e.path());
        }
    }
}

type Fail = (Option<String>, ArchiveProblem);

fn corrupt(e: &io::Error) -> ArchiveProblem {
    ArchiveProblem::Corrupt(e.to_string())
}

/// Normalise and check one entry path; returns its `/`-joined components.
fn check_path(raw: &[u8]) -> std::result::Result<Vec<String>, ArchiveProblem> {
    let s = std::str::from_utf8(raw).map_err(|_| ArchiveProblem::BadName)?;
    if s.is_empty() || s.contains('\0') {
        return Err(ArchiveProblem::BadName);
    }
    let s = s.replace('\\', "/");
    if s.starts_with('/') || s.as_bytes().get(1) == Some(&b':') {
        return Err(ArchiveProblem::PathEscape);
    }
    let mut parts = Vec::new();
    for c in s.split('/') {
        match c {
            "" | "." => {}
            ".." => return Err(ArchiveProblem::PathEscape),
            c if c.contains(':') && parts.is_empty() => return Err(ArchiveProblem::PathEscape),
            c => parts.push(c.to_owned()),
        }
    }
    if parts.is_empty() {
        return Err(ArchiveProblem::BadName);
    }
    Ok(parts)
}

/// Reader that fails once more than `left` bytes are read.
struct Capped<R> {
    inner: R,
    left: u64,
    what: &'static str,
    limit: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            return Err(io::Error::other(CapHit(self.what, self.limit)));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

#[derive(Debug)]
struct CapHit(&'static str, u64);
impl std::fmt::Display for CapHit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} limit {}", self.0, self.1)
    }
}
impl std::error::Error for CapHit {}

fn cap_of(e: &io::Error) -> Option<ArchiveProblem> {
    let inner = e.get_ref()?.downcast_ref::<CapHit>()?;
    Some(ArchiveProblem::Limit {
        what: inner.0,
        limit: inner.1,
    })
}

fn unpack<R: BufRead>(
    mut src: R,
    staging: &Path,
    limits: &ExtractLimits,
) -> std::result::Result<(String, u64, u64), Fail> {
    // Sniff the gzip magic before anything else: a YAML or JSON file passed as an archive
    // gets a clear message.
    let head = src.fill_buf().map_err(|e| (None, corrupt(&e)))?;
    if head.len() < 2 || head[0] != 0x1f || head[1] != 0x8b {
        return Err((None, ArchiveProblem::NotGzip));
    }
    let mut gz = flate2::bufread::GzDecoder::new(src);
    let total_cap = Capped {
        inner: &mut gz,
        left: limits.max_total_bytes.saturating_add(1 << 20),
        what: "total size",
        limit: limits.max_total_bytes,
    };
    let mut tar = tar::Archive::new(total_cap);
    let mut seen: HashSet<String> = HashSet::new();
    let mut top: Option<String> = None;
    let (mut files, mut bytes, mut count) = (0u64, 0u64, 0u64);
    let entries = tar.entries().map_err(|e| (None, corrupt(&e)))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| (None, cap_of(&e).unwrap_or_else(|| corrupt(&e))))?;
        count += 1;
        if count > limits.max_entries {
            return Err((
                None,
                ArchiveProblem::Limit {
                    what: "entry count",
                    limit: limits.max_entries,
                },
            ));
        }
        let raw = entry.path_bytes().into_owned();
        let name = String::from_utf8_lossy(&raw).into_owned();
        let fail = |p| (Some(crate::diagnostic::sanitize(&name)), p);
        let parts = check_path(&raw).map_err(fail)?;
        let kind = entry.header().entry_type();
        let forbidden = match kind {
            tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::Directory => {
                None
            }
            tar::EntryType::Symlink => Some("symbolic link"),
            tar::EntryType::Link => Some("hard link"),
            tar::EntryType::Char => Some("character device"),
            tar::EntryType::Block => Some("block device"),
            tar::EntryType::Fifo => Some("FIFO"),
            _ => Some("special"),
        };
        if let Some(what) = forbidden {
            return Err(fail(ArchiveProblem::ForbiddenEntry(what)));
        }
        let is_dir = kind == tar::EntryType::Directory;
        match &top {
            None if parts.len() == 1 && !is_dir => return Err(fail(ArchiveProblem::NotOneTopDir)),
            None => top = Some(parts[0].clone()),
            Some(t) if *t != parts[0] || (parts.len() == 1 && !is_dir) => {
                return Err(fail(ArchiveProblem::NotOneTopDir));
            }
            Some(_) => {}
        }
        let rel = parts.join("/");
        if !seen.insert(rel.clone()) {
            // The top directory listed twice is harmless; anything else is ambiguous.
            if !(is_dir && parts.len() == 1) {
                return Err(fail(ArchiveProblem::DuplicateEntry));
            }
            continue;
        }
        let out = parts.iter().fold(staging.to_path_buf(), |p, c| p.join(c));
        if is_dir {
            mkdirs(&out).map_err(|e| fail(corrupt(&e)))?;
            continue;
        }
        if let Some(parent) = out.parent() {
            mkdirs(parent).map_err(|e| fail(corrupt(&e)))?;
        }
        let exec = entry.header().mode().is_ok_and(|m| m & 0o111 != 0);
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&out)
            .map_err(|e| fail(corrupt(&e)))?;
        let mut capped = Capped {
            inner: &mut entry,
            left: limits.max_file_bytes,
            what: "per-file size",
            limit: limits.max_file_bytes,
        };
        let n = io::copy(&mut capped, &mut f)
            .map_err(|e| fail(cap_of(&e).unwrap_or_else(|| corrupt(&e))))?;
        f.flush().map_err(|e| fail(corrupt(&e)))?;
        set_mode(&out, if exec { 0o755 } else { 0o644 });
        bytes += n;
        files += 1;
        if bytes > limits.max_total_bytes {
            return Err(fail(ArchiveProblem::Limit {
                what: "total size",
                limit: limits.max_total_bytes,
            }));
        }
    }
    let Some(top) = top else {
        return Err((None, ArchiveProblem::Empty));
    };
    // Drain what follows the tar end-of-archive blocks (zero padding) to reach the gzip
    // trailer: this verifies the CRC and size, and catches truncation.
    let mut rest = tar.into_inner();
    let mut buf = [0u8; 8192];
    loop {
        match rest.read(&mut buf) {
            Ok(0) => break,
            Ok(n) if buf[..n].iter().all(|b| *b == 0) => {}
            Ok(_) => return Err((None, ArchiveProblem::TrailingData)),
            Err(e) => return Err((None, cap_of(&e).unwrap_or_else(|| corrupt(&e)))),
        }
    }
    // Bytes after the gzip member (a second member or garbage) are refused, so what was
    // digested is exactly what was extracted.
    let mut src = gz.into_inner();
    let left = src.fill_buf().map_err(|e| (None, corrupt(&e)))?;
    if !left.is_empty() {
        return Err((None, ArchiveProblem::TrailingData));
    }
    if !staging.join(&top).join("pack.json").is_file() {
        return Err((None, ArchiveProblem::NoPackJson));
    }
    Ok((top, files, bytes))
}

fn mkdirs(p: &Path) -> io::Result<()> {
    fs::create_dir_all(p)?;
    set_mode(p, 0o755);
    Ok(())
}

#[cfg(unix)]
fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    let _ = fs::set_permissions(p, fs::Permissions::from_mode(mode));
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) {}

/// The `name` and `version` of the pack in an archive, read from its `<top>/pack.json`
/// without extracting anything. Archives built by spectro hold pack.json first, so only
/// its first blocks are decompressed; other archives are read until pack.json is found.
pub fn read_identity(path: &Path) -> Result<(String, String)> {
    let err = |problem: ArchiveProblem, entry: Option<String>| Error::Archive {
        path: path.to_path_buf(),
        entry,
        problem,
    };
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let gz = flate2::bufread::GzDecoder::new(BufReader::new(file));
    let mut tar = tar::Archive::new(gz);
    let entries = tar
        .entries()
        .map_err(|e| err(ArchiveProblem::Corrupt(e.to_string()), None))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| err(ArchiveProblem::Corrupt(e.to_string()), None))?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let parts: Vec<&str> = name
            .trim_start_matches("./")
            .split('/')
            .filter(|p| !p.is_empty())
            .collect();
        if parts.len() != 2 || parts[1] != "pack.json" || !entry.header().entry_type().is_file() {
            continue;
        }
        let mut text = Vec::new();
        (&mut entry)
            .take(16 << 20)
            .read_to_end(&mut text)
            .map_err(|e| err(ArchiveProblem::Corrupt(e.to_string()), Some(name.clone())))?;
        let v: serde_json::Value = serde_json::from_slice(&text)
            .map_err(|_| err(ArchiveProblem::NoIdentity, Some(name.clone())))?;
        return match (v["name"].as_str(), v["version"].as_str()) {
            (Some(n), Some(ver)) => Ok((n.to_owned(), ver.to_owned())),
            _ => Err(err(ArchiveProblem::NoIdentity, Some(name))),
        };
    }
    Err(err(ArchiveProblem::NoIdentity, None))
}
