use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use super::ArchiveProblem;
use crate::error::{Error, Result};
use crate::safety;

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
    /// Bytes of tar headers and extension records (GNU long names, PAX) between two
    /// entries, which the tar reader holds in memory. Default 1 MiB.
    pub max_header_bytes: u64,
}

builder!(ExtractLimits {
    with_max_total_bytes => max_total_bytes: u64,
    with_max_file_bytes => max_file_bytes: u64,
    with_max_entries => max_entries: u64,
    with_max_header_bytes => max_header_bytes: u64,
});

impl Default for ExtractLimits {
    fn default() -> Self {
        ExtractLimits {
            max_total_bytes: 4 << 30,
            max_file_bytes: 2 << 30,
            max_entries: 100_000,
            max_header_bytes: MAX_HEADER_BYTES,
        }
    }
}

/// Options for [`extract_archive`].
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ExtractOptions {
    /// Caps.
    pub limits: ExtractLimits,
    /// Replace an existing destination directory (the old one is moved aside, and put
    /// back if the new one cannot be renamed into place).
    pub overwrite: bool,
    /// The pack name the caller asked for (a pull's reference): the archive's top-level
    /// folder and pack.json's `name` must both equal it.
    pub expected_name: Option<String>,
}

builder!(ExtractOptions {
    with_limits => limits: ExtractLimits,
    with_overwrite => overwrite: bool,
    with_expected_name => expected_name: String,
});

impl ExtractOptions {
    /// Options that require the archive to hold the pack `name`.
    pub fn for_pack(name: impl Into<String>) -> Self {
        ExtractOptions {
            expected_name: Some(name.into()),
            ..ExtractOptions::default()
        }
    }
}

/// What [`extract_archive`] produced.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Extracted {
    /// The pack directory (`dest/<pack name>`).
    pub root: PathBuf,
    /// Name of the archive's top-level directory (always the pack's name).
    pub top_dir: String,
    /// Files written.
    pub files: u64,
    /// Bytes written.
    pub bytes: u64,
}

/// Extract a pack archive (`.tar.gz` with one top-level directory) into `dest`, creating
/// `dest/<pack name>`.
///
/// Everything is written into a temporary directory beside the destination first and
/// renamed into place only if the whole archive passed: paths may not be absolute, contain
/// `..`, backslashes or NUL; only regular files and directories are allowed (no symlinks,
/// hardlinks, devices or FIFOs); no path twice; one top-level directory holding
/// `pack.json` whose `name` is that directory's name (and
/// [`ExtractOptions::expected_name`] when given); caps on entries and bytes counted on data
/// actually read; the gzip stream must be complete with nothing after it. On any error
/// nothing is left behind and an existing destination is untouched. Files are created
/// 0644 (0755 when executable) minus the umask, like `tar`. Leftover temporary entries of
/// interrupted runs (older than an hour) are removed.
pub fn extract_archive(
    archive: impl AsRef<Path>,
    dest: impl AsRef<Path>,
    opts: &ExtractOptions,
) -> Result<Extracted> {
    let archive = archive.as_ref();
    let dest = dest.as_ref();
    safety::create_dirs(dest, 0o755)?;
    safety::sweep_stale(dest);
    let staging = safety::temp_dir_in(dest, "extract").map_err(|e| Error::io(dest, e))?;
    let file = File::open(archive).map_err(|e| Error::io(archive, e))?;
    let fail = |entry, problem| Error::Archive {
        path: archive.to_path_buf(),
        entry,
        problem,
    };
    let (top, files, bytes) = unpack(
        BufReader::with_capacity(1 << 20, file),
        staging.path(),
        &opts.limits,
    )
    .map_err(|f| match f {
        Fail::Bad(entry, problem) => fail(entry, problem),
        Fail::Write(path, e) => Error::io(path, e),
    })?;
    let staged = staging.path().join(&top);
    let name = pack_json_name(&staged.join("pack.json"))
        .ok_or_else(|| fail(Some(format!("{top}/pack.json")), ArchiveProblem::NoIdentity))?;
    if name != top {
        return Err(fail(
            None,
            ArchiveProblem::TopDirMismatch {
                top: crate::sanitize(&top),
                name: crate::sanitize(&name),
            },
        ));
    }
    if let Some(expected) = &opts.expected_name
        && *expected != name
    {
        return Err(fail(
            None,
            ArchiveProblem::WrongPack {
                expected: crate::sanitize(expected),
                found: crate::sanitize(&name),
            },
        ));
    }
    let root = safety::checked_join(dest, &top)?;
    let old = if fs::symlink_metadata(&root).is_ok() {
        if !opts.overwrite {
            return Err(Error::Archive {
                path: root.clone(),
                entry: None,
                problem: ArchiveProblem::DestinationExists,
            });
        }
        let aside = staging.path().join(".old");
        fs::rename(&root, &aside).map_err(|e| Error::io(&root, e))?;
        Some(aside)
    } else {
        None
    };
    if let Err(e) = fs::rename(&staged, &root) {
        // Put the previous tree back before reporting: nothing may be lost. If even that
        // fails, keep the staging folder (never swept while it holds `.old`) and say where.
        if let Some(aside) = &old
            && let Err(back) = fs::rename(aside, &root)
        {
            let kept = staging.keep().join(".old");
            return Err(Error::Io {
                path: root,
                source: io::Error::other(format!(
                    "could not replace it ({e}) nor put the previous tree back ({back}); the previous tree is kept at {}",
                    kept.display()
                )),
            });
        }
        return Err(Error::io(&root, e));
    }
    drop(staging);
    Ok(Extracted {
        root,
        top_dir: top,
        files,
        bytes,
    })
}

/// `name` of a pack.json file (at most 16 MiB), if it parses.
fn pack_json_name(path: &Path) -> Option<String> {
    let mut text = Vec::new();
    File::open(path)
        .ok()?
        .take(16 << 20)
        .read_to_end(&mut text)
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&text).ok()?;
    v.get("name")?.as_str().map(str::to_owned)
}

/// Why unpacking stopped: the archive is bad (with the entry, when known), or writing the
/// staged copy failed (a full disk is the destination's fault, not the archive's).
enum Fail {
    Bad(Option<String>, ArchiveProblem),
    Write(PathBuf, io::Error),
}

impl From<(Option<String>, ArchiveProblem)> for Fail {
    fn from((entry, problem): (Option<String>, ArchiveProblem)) -> Self {
        Fail::Bad(entry, problem)
    }
}

/// Default of [`ExtractLimits::max_header_bytes`]: what `tar` may read between two
/// entries (headers and the GNU long-name, long-link and PAX records it loads whole into
/// memory). Real ones are a few hundred bytes; without a cap a few KiB of gzip could claim
/// gigabytes.
const MAX_HEADER_BYTES: u64 = 1 << 20;

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

/// The stream under `tar`, with the total cap and, while `tar` reads between entries, the
/// header cap ([`ExtractLimits::max_header_bytes`]); `header_left` is shared with the loop
/// that arms it.
pub(crate) struct Framed<R> {
    inner: Capped<R>,
    header_limit: u64,
    header_left: std::rc::Rc<std::cell::Cell<Option<u64>>>,
}

impl<R: Read> Read for Framed<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(left) = self.header_left.get() {
            if n as u64 > left {
                return Err(io::Error::other(CapHit(
                    "tar header and extension size",
                    self.header_limit,
                )));
            }
            self.header_left.set(Some(left - n as u64));
        }
        Ok(n)
    }
}

/// A reader for `tar::Archive` over `inner` (decompressed bytes) with a total cap and the
/// header budget; call [`HeaderBudget::around`] for each `entries.next()`. Every tar
/// reader of untrusted data goes through this (extraction, `pack new --chart`).
pub(crate) fn capped_tar_reader<R: Read>(
    inner: R,
    max_total: u64,
    what: &'static str,
    max_header: u64,
) -> (Framed<R>, HeaderBudget) {
    let left = std::rc::Rc::new(std::cell::Cell::new(None));
    let reader = Framed {
        // Headers and padding come on top of the data the cap counts: allow one header
        // budget of them.
        inner: Capped {
            inner,
            left: max_total.saturating_add(max_header),
            what,
            limit: max_total,
        },
        header_limit: max_header,
        header_left: left.clone(),
    };
    (reader, HeaderBudget(left, max_header))
}

/// Arms the header cap of a [`capped_tar_reader`] while `tar` looks for the next entry.
pub(crate) struct HeaderBudget(std::rc::Rc<std::cell::Cell<Option<u64>>>, u64);

impl HeaderBudget {
    pub(crate) fn around<T>(&self, f: impl FnOnce() -> T) -> T {
        self.0.set(Some(self.1));
        let out = f();
        self.0.set(None);
        out
    }
}

/// Whether `e` is a cap of a [`capped_tar_reader`] (its message names the cap).
pub(crate) fn is_cap(e: &io::Error) -> bool {
    cap_of(e).is_some()
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
        return Err(Fail::from((None, ArchiveProblem::NotGzip)));
    }
    let mut gz = flate2::bufread::GzDecoder::new(src);
    let (reader, budget) = capped_tar_reader(
        &mut gz,
        limits.max_total_bytes,
        "total size",
        limits.max_header_bytes,
    );
    let mut tar = tar::Archive::new(reader);
    let mut seen: HashSet<String> = HashSet::new();
    let mut top: Option<String> = None;
    let (mut files, mut bytes, mut count) = (0u64, 0u64, 0u64);
    let mut entries = tar.entries().map_err(|e| (None, corrupt(&e)))?;
    let mut broken: Option<io::Error> = None;
    loop {
        // Everything `tar` reads to reach the next entry's data is headers and extension
        // records (entry data is always read to its end below): cap it.
        let mut entry = match budget.around(|| entries.next()) {
            None => break,
            Some(Ok(e)) => e,
            Some(Err(e)) => {
                broken = Some(e);
                break;
            }
        };
        count += 1;
        if count > limits.max_entries {
            return Err(Fail::from((
                None,
                ArchiveProblem::Limit {
                    what: "entry count",
                    limit: limits.max_entries,
                },
            )));
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
            return Err(Fail::from(fail(ArchiveProblem::ForbiddenEntry(what))));
        }
        let is_dir = kind == tar::EntryType::Directory;
        match &top {
            None if parts.len() == 1 && !is_dir => {
                return Err(Fail::from(fail(ArchiveProblem::NotOneTopDir)));
            }
            None => top = Some(parts[0].clone()),
            Some(t) if *t != parts[0] || (parts.len() == 1 && !is_dir) => {
                return Err(Fail::from(fail(ArchiveProblem::NotOneTopDir)));
            }
            Some(_) => {}
        }
        if is_dir {
            // A directory entry carries no data, but one that claims some has it read here
            // under the per-file cap (not skipped inside the header budget).
            let mut capped = Capped {
                inner: &mut entry,
                left: limits.max_file_bytes,
                what: "per-file size",
                limit: limits.max_file_bytes,
            };
            io::copy(&mut capped, &mut io::sink())
                .map_err(|e| fail(cap_of(&e).unwrap_or_else(|| corrupt(&e))))?;
        }
        let rel = parts.join("/");
        if !seen.insert(rel.clone()) {
            // The top directory listed twice is harmless; anything else is ambiguous.
            if !(is_dir && parts.len() == 1) {
                return Err(Fail::from(fail(ArchiveProblem::DuplicateEntry)));
            }
            continue;
        }
        let out = parts.iter().fold(staging.to_path_buf(), |p, c| p.join(c));
        // The destination (the staging folder is gone by the time anyone reads this).
        let dest = staging.parent().unwrap_or(staging);
        let written = |e: io::Error| Fail::Write(dest.to_path_buf(), e);
        // Creating a folder or file fails because of the disk (full, read-only, not ours)
        // or because of the archive (`p/pack.json` then `p/pack.json/x`, a name too long,
        // two names one case-insensitive disk takes as one): blame the right one.
        let created = |e: io::Error| {
            if matches!(
                e.kind(),
                io::ErrorKind::StorageFull
                    | io::ErrorKind::QuotaExceeded
                    | io::ErrorKind::ReadOnlyFilesystem
                    | io::ErrorKind::PermissionDenied
            ) {
                written(e)
            } else {
                Fail::Bad(Some(crate::diagnostic::sanitize(&name)), corrupt(&e))
            }
        };
        if is_dir {
            mkdirs(&out).map_err(created)?;
            continue;
        }
        if let Some(parent) = out.parent() {
            mkdirs(parent).map_err(created)?;
        }
        let exec = entry.header().mode().is_ok_and(|m| m & 0o111 != 0);
        let mut f = create_file(&out, exec).map_err(created)?;
        let mut capped = Capped {
            inner: &mut entry,
            left: limits.max_file_bytes,
            what: "per-file size",
            limit: limits.max_file_bytes,
        };
        // Read and write apart, so a failed write (a full disk) is not blamed on the
        // archive.
        let mut n = 0u64;
        let mut buf = vec![0u8; 64 << 10];
        loop {
            let got = capped
                .read(&mut buf)
                .map_err(|e| fail(cap_of(&e).unwrap_or_else(|| corrupt(&e))))?;
            if got == 0 {
                break;
            }
            f.write_all(&buf[..got]).map_err(written)?;
            n += got as u64;
        }
        f.flush().map_err(written)?;
        bytes += n;
        files += 1;
        if bytes > limits.max_total_bytes {
            return Err(Fail::from(fail(ArchiveProblem::Limit {
                what: "total size",
                limit: limits.max_total_bytes,
            })));
        }
    }
    if let Some(e) = broken {
        if let Some(cap) = cap_of(&e) {
            return Err(Fail::from((None, cap)));
        }
        // The tar data ended with the first gzip member while another member follows
        // (`cat a.gz b.gz`, some parallel compressors): say that, not "truncated".
        let _ = tar.into_inner();
        let next = gz.get_mut().fill_buf().map_err(|e| (None, corrupt(&e)))?;
        if next.starts_with(&[0x1f, 0x8b]) {
            return Err(Fail::from((None, ArchiveProblem::MultiMember)));
        }
        return Err(Fail::from((None, corrupt(&e))));
    }
    let Some(top) = top else {
        return Err(Fail::from((None, ArchiveProblem::Empty)));
    };
    // Drain what follows the tar end-of-archive blocks (zero padding) to reach the gzip
    // trailer: this verifies the CRC and size, and catches truncation.
    let mut rest = tar.into_inner();
    let mut buf = [0u8; 8192];
    loop {
        match rest.read(&mut buf) {
            Ok(0) => break,
            Ok(n) if buf[..n].iter().all(|b| *b == 0) => {}
            Ok(_) => return Err(Fail::from((None, ArchiveProblem::TrailingData))),
            Err(e) => {
                return Err(Fail::from((
                    None,
                    cap_of(&e).unwrap_or_else(|| corrupt(&e)),
                )));
            }
        }
    }
    // Bytes after the gzip member (a second member or garbage) are refused, so what was
    // digested is exactly what was extracted.
    let mut src = gz.into_inner();
    let left = src.fill_buf().map_err(|e| (None, corrupt(&e)))?;
    if !left.is_empty() {
        return Err(Fail::from((None, ArchiveProblem::TrailingData)));
    }
    if !staging.join(&top).join("pack.json").is_file() {
        return Err(Fail::from((None, ArchiveProblem::NoPackJson)));
    }
    Ok((top, files, bytes))
}

fn mkdirs(p: &Path) -> io::Result<()> {
    // Directories get the process default (0777 minus umask), like `tar`.
    fs::create_dir_all(p)
}

/// A new file with mode 0644 (0755 when executable) minus the umask.
fn create_file(p: &Path, exec: bool) -> io::Result<File> {
    let mut o = fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(if exec { 0o755 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = exec;
    o.open(p)
}

/// The `name` and `version` of the pack in an archive, read from its `<top>/pack.json`
/// without extracting anything. Archives built by spectro hold pack.json first, so only
/// its first blocks are decompressed; other archives are read until pack.json is found.
pub fn read_identity(path: &Path) -> Result<(String, String)> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let v = read_pack_json(BufReader::new(file), path)?;
    match (v["name"].as_str(), v["version"].as_str()) {
        (Some(n), Some(ver)) => Ok((n.to_owned(), ver.to_owned())),
        _ => Err(Error::Archive {
            path: path.to_path_buf(),
            entry: None,
            problem: ArchiveProblem::NoIdentity,
        }),
    }
}

/// Entries scanned for pack.json before giving up (a hostile archive cannot make the
/// scan go on for ever).
const MAX_SCANNED_ENTRIES: usize = 100_000;

/// The parsed `<top>/pack.json` of a `.tar.gz` stream, read without extracting anything
/// and stopping right after it (spectro's archives hold it first); its `name` must equal
/// the top folder. `path` names the archive in errors.
pub(crate) fn read_pack_json(
    input: impl std::io::BufRead,
    path: &Path,
) -> Result<serde_json::Value> {
    let err = |problem: ArchiveProblem, entry: Option<String>| Error::Archive {
        path: path.to_path_buf(),
        entry,
        problem,
    };
    // Bounded like an extraction: at most the default total of decompressed bytes is
    // scanned, and entries are read raw, so a GNU long-name or PAX header (which the tar
    // crate would read whole into memory) is skipped as data, never buffered. pack.json's
    // own header name is short (`<name>/pack.json`).
    let limit = ExtractLimits::default().max_total_bytes;
    let gz = flate2::bufread::GzDecoder::new(input).take(limit);
    let mut tar = tar::Archive::new(gz);
    let entries = tar
        .entries()
        .map_err(|e| err(ArchiveProblem::Corrupt(e.to_string()), None))?
        .raw(true);
    for entry in entries.take(MAX_SCANNED_ENTRIES) {
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
            .map_err(|_| err(ArchiveProblem::NoIdentity, Some(crate::sanitize(&name))))?;
        return match v["name"].as_str() {
            Some(n) if n != parts[0] => Err(err(
                ArchiveProblem::TopDirMismatch {
                    top: crate::sanitize(parts[0]),
                    name: crate::sanitize(n),
                },
                None,
            )),
            Some(_) => Ok(v),
            None => Err(err(
                ArchiveProblem::NoIdentity,
                Some(crate::sanitize(&name)),
            )),
        };
    }
    Err(err(ArchiveProblem::NoIdentity, None))
}
