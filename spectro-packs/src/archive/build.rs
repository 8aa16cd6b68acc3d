use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use sha2::{Digest, Sha256};

use super::ArchiveProblem;
use super::gzip::ParGzWriter;
use crate::diagnostic::Severity;
use crate::error::{Error, Result};
use crate::pack::{LoadOptions, load_pack_with};
use crate::rules::check_pack;

/// Default mtime of every entry (1980-01-01T00:00:00Z, the zip epoch reproducible
/// builds use) when `SOURCE_DATE_EPOCH` is not given.
pub const DEFAULT_MTIME: u64 = 315_532_800;

/// Options for [`build_archive`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BuildOptions {
    /// Run the lint rules first and refuse on errors. Default true.
    pub validate: bool,
    /// mtime of every entry. The CLI passes `SOURCE_DATE_EPOCH` here when set.
    pub mtime: u64,
    /// gzip level 1-9. Default 6 (same as `gzip`/`tar czf`).
    pub level: u32,
    /// Limits for loading the pack (the lint and pack.json).
    pub load: LoadOptions,
}

builder!(BuildOptions {
    with_validate => validate: bool,
    with_mtime => mtime: u64,
    with_level => level: u32,
    with_load => load: LoadOptions,
});

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            validate: true,
            mtime: DEFAULT_MTIME,
            level: 6,
            load: LoadOptions::default(),
        }
    }
}

/// What [`build_archive`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BuiltArchive {
    /// The archive file.
    pub path: PathBuf,
    /// `sha256:<hex>` of the archive bytes.
    pub digest: String,
    /// Archive size in bytes.
    pub size: u64,
    /// Pack name.
    pub name: String,
    /// Pack version.
    pub version: String,
    /// Files and directories stored.
    pub entries: usize,
}

/// `<name>-<version>.tar.gz`.
pub fn archive_file_name(name: &str, version: &str) -> String {
    format!("{name}-{version}.tar.gz")
}

/// Hashes and counts what passes through.
struct HashWriter<W: Write> {
    inner: W,
    hasher: Sha256,
    size: u64,
}

impl<W: Write> Write for HashWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

struct Item {
    rel: String,
    abs: PathBuf,
    dir: bool,
    exec: bool,
    size: u64,
}

/// Build `<name>-<version>.tar.gz` from a pack directory.
///
/// `out` is a directory (the file is created inside it) or a file path. The archive has
/// one top-level directory named after the pack, `pack.json` first and the other entries
/// sorted by path, uid/gid 0, no
/// user names, mtime from [`BuildOptions::mtime`], modes 0644 (files) and 0755
/// (directories and executables), no xattrs. Symbolic links and special files are refused.
/// Files matching `.spectroignore` (gitignore syntax) and `.git/` are left out. Written to
/// a temporary file beside the target and renamed into place.
pub fn build_archive(
    dir: impl AsRef<Path>,
    out: impl AsRef<Path>,
    opts: &BuildOptions,
) -> Result<BuiltArchive> {
    let dir = dir.as_ref();
    let meta = fs::metadata(dir).map_err(|e| Error::io(dir, e))?;
    if !meta.is_dir() {
        return Err(Error::NotADirectory {
            path: dir.to_path_buf(),
        });
    }
    if !opts.validate {
        return write_archive(dir, out.as_ref(), opts, None);
    }
    // The lint runs beside the compression (not before it), on its own thread; the
    // archive goes to a temporary file that is only renamed into place when the lint
    // found no error.
    std::thread::scope(|s| {
        let lint = s.spawn(|| {
            load_pack_with(dir, &opts.load).map(|pack| {
                check_pack(&pack)
                    .iter()
                    .filter(|d| d.severity == Severity::Error)
                    .count()
            })
        });
        write_archive(dir, out.as_ref(), opts, Some(lint))
    })
}

/// Lint result handed to [`write_archive`]: the number of error findings.
type LintHandle<'s> = std::thread::ScopedJoinHandle<'s, Result<usize>>;

fn write_archive(
    dir: &Path,
    out: &Path,
    opts: &BuildOptions,
    lint: Option<LintHandle<'_>>,
) -> Result<BuiltArchive> {
    let archive_err = |problem| Error::Archive {
        path: dir.to_path_buf(),
        entry: None,
        problem,
    };
    // Waits for the lint, if one runs: an error finding wins over every other outcome.
    let mut lint = lint;
    let mut lint_verdict = || -> Result<()> {
        match lint.take().map(|h| h.join()) {
            None => Ok(()),
            Some(Ok(Ok(0))) => Ok(()),
            Some(Ok(Ok(errors))) => Err(archive_err(ArchiveProblem::Invalid { errors })),
            Some(Ok(Err(e))) => Err(e),
            Some(Err(panic)) => std::panic::resume_unwind(panic),
        }
    };
    let manifest = crate::pack::load_manifest_only(dir, &opts.load);
    let (Some(name), Some(version)) = (manifest.name.as_deref(), manifest.version.as_deref())
    else {
        lint_verdict()?;
        return Err(archive_err(ArchiveProblem::NoIdentity));
    };
    if name.is_empty()
        || name.contains(['/', '\\'])
        || name == "."
        || name == ".."
        || version.contains(['/', '\\'])
    {
        lint_verdict()?;
        return Err(archive_err(ArchiveProblem::NoIdentity));
    }
    let (name, version) = (name.to_owned(), version.to_owned());
    let built = (|| {
        let file_name = archive_file_name(&name, &version);
        crate::safety::check_component(&file_name)
            .map_err(|_| archive_err(ArchiveProblem::NoIdentity))?;
        // `out` is a folder when it exists as one or is written with a trailing `/`
        // (created then, like `mkdir -p`); anything else is the archive's path.
        let names_dir = out
            .as_os_str()
            .to_string_lossy()
            .ends_with(['/', std::path::MAIN_SEPARATOR]);
        let target = if out.is_dir() || names_dir {
            crate::safety::create_dirs(out, 0o755)?;
            out.join(&file_name)
        } else {
            out.to_path_buf()
        };
        crate::safety::check_replaceable(&target)?;
        let parent = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        crate::safety::create_dirs(parent, 0o755)?;
        crate::safety::sweep_stale(parent);
        let items = collect(dir, &name, &target)?;
        require_archived(dir, &manifest, &items)?;
        let written = compress(&name, &target, parent, &items, opts)?;
        Ok((target, written))
    })();
    // Lint findings first: they say what to fix even when the build failed too.
    lint_verdict()?;
    let (target, (tmp, digest, size, entries)) = built?;
    crate::safety::persist(tmp, &target)?;
    Ok(BuiltArchive {
        path: target,
        digest,
        size,
        name,
        version,
        entries,
    })
}

/// Write the archive of `items` to a temporary file in `parent`: the file (not yet in
/// place), its digest, size and entry count.
fn compress(
    name: &str,
    target: &Path,
    parent: &Path,
    items: &[Item],
    opts: &BuildOptions,
) -> Result<(tempfile::NamedTempFile, String, u64, usize)> {
    let tmp =
        crate::safety::temp_file_in(parent, "build", false).map_err(|e| Error::io(parent, e))?;
    let handle = tmp
        .as_file()
        .try_clone()
        .map_err(|e| Error::io(parent, e))?;
    let hw = HashWriter {
        inner: BufWriter::with_capacity(1 << 20, handle),
        hasher: Sha256::new(),
        size: 0,
    };
    let gz = ParGzWriter::new(hw, opts.level.clamp(1, 9)).map_err(|e| Error::io(target, e))?;
    let mut tar = tar::Builder::new(gz);
    let entries = items.len() + 1;
    let top = name.to_owned();
    append_dir(&mut tar, &format!("{top}/"), opts.mtime).map_err(|e| Error::io(target, e))?;
    for item in items {
        let path = format!("{top}/{}", item.rel);
        if item.dir {
            append_dir(&mut tar, &format!("{path}/"), opts.mtime)
                .map_err(|e| Error::io(target, e))?;
        } else {
            let file = File::open(&item.abs).map_err(|e| Error::io(&item.abs, e))?;
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(tar::EntryType::Regular);
            header.set_size(item.size);
            header.set_mode(if item.exec { 0o755 } else { 0o644 });
            set_common(&mut header, opts.mtime);
            // Take exactly the size recorded in the header even if the file changes meanwhile.
            let mut limited = file.take(item.size);
            tar.append_data(&mut header, &path, &mut limited)
                .map_err(|e| Error::io(&item.abs, e))?;
            if limited.limit() != 0 {
                return Err(Error::io(
                    &item.abs,
                    io::Error::new(io::ErrorKind::UnexpectedEof, "file shrank while archiving"),
                ));
            }
        }
    }
    let gz = tar.into_inner().map_err(|e| Error::io(target, e))?;
    let mut hw = gz.finish().map_err(|e| Error::io(target, e))?;
    hw.flush().map_err(|e| Error::io(target, e))?;
    let HashWriter {
        inner,
        hasher,
        size,
    } = hw;
    drop(inner);
    let digest = format!("sha256:{}", hex::encode(hasher.finalize()));
    Ok((tmp, digest, size, entries))
}

fn set_common(h: &mut tar::Header, mtime: u64) {
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(mtime);
    let _ = h.set_username("");
    let _ = h.set_groupname("");
}

fn append_dir<W: Write>(tar: &mut tar::Builder<W>, path: &str, mtime: u64) -> io::Result<()> {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Directory);
    h.set_size(0);
    h.set_mode(0o755);
    set_common(&mut h, mtime);
    tar.append_data(&mut h, path, io::empty())
}

fn ignore_rules(dir: &Path) -> Result<Gitignore> {
    let mut b = GitignoreBuilder::new(dir);
    let file = dir.join(".spectroignore");
    if file.is_file()
        && let Some(e) = b.add(&file)
    {
        return Err(Error::InvalidIgnoreFile {
            path: file,
            message: e.to_string(),
        });
    }
    b.build().map_err(|e| Error::InvalidIgnoreFile {
        path: file,
        message: e.to_string(),
    })
}

/// Refuse a build whose archive would lack what the pack needs: `.spectroignore` may
/// not drop pack.json, values.yaml or a file pack.json lists (`charts`,
/// `kubeManifests`), or the archive would push and then fail on every pull.
fn require_archived(dir: &Path, m: &crate::PackManifest, items: &[Item]) -> Result<()> {
    let archived: std::collections::HashSet<&str> = items.iter().map(|i| i.rel.as_str()).collect();
    let listed = m
        .charts
        .iter()
        .flatten()
        .chain(m.kube_manifests.iter().flatten())
        .map(|p| p.trim_start_matches("./").to_owned());
    for rel in ["pack.json".to_owned(), "values.yaml".to_owned()]
        .into_iter()
        .chain(listed)
    {
        // Only files that exist: a missing listed file is a lint finding (PK014).
        if dir.join(&rel).is_file() && !archived.contains(rel.as_str()) {
            return Err(Error::Archive {
                path: dir.to_path_buf(),
                entry: Some(crate::sanitize(&rel)),
                problem: ArchiveProblem::RequiredFileIgnored,
            });
        }
    }
    Ok(())
}

/// Every file and directory below `dir` in byte order of their `/`-joined paths, minus
/// `.git/`, `.spectroignore` matches, spectro's temporary files, the archive being
/// written and earlier archives of this pack (`<name>-*.tar.gz` at the top: building
/// inside the pack folder must not pack the previous build).
fn collect(dir: &Path, name: &str, target: &Path) -> Result<Vec<Item>> {
    let ignore = ignore_rules(dir)?;
    // The target's path relative to the pack, when it is inside it.
    let target_rel: Option<String> = fs::canonicalize(target.parent().unwrap_or(Path::new(".")))
        .ok()
        .zip(target.file_name())
        .and_then(|(p, f)| {
            let rel = p
                .join(f)
                .strip_prefix(fs::canonicalize(dir).ok()?)
                .ok()?
                .to_owned();
            rel.to_str()
                .map(|r| r.replace(std::path::MAIN_SEPARATOR, "/"))
        });
    let previous = format!("{name}-");
    let mut out = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((abs_dir, rel_dir)) = stack.pop() {
        let rd = fs::read_dir(&abs_dir).map_err(|e| Error::io(&abs_dir, e))?;
        for entry in rd {
            let entry = entry.map_err(|e| Error::io(&abs_dir, e))?;
            let fname = entry.file_name();
            let Some(fname) = fname.to_str() else {
                return Err(Error::Archive {
                    path: entry.path(),
                    entry: None,
                    problem: ArchiveProblem::BadName,
                });
            };
            let rel = if rel_dir.is_empty() {
                fname.to_owned()
            } else {
                format!("{rel_dir}/{fname}")
            };
            let abs = entry.path();
            let ft = entry.file_type().map_err(|e| Error::io(&abs, e))?;
            if rel == ".git" || rel == ".spectroignore" || crate::safety::is_temp_name(fname) {
                continue;
            }
            if rel_dir.is_empty() && fname.starts_with(&previous) && fname.ends_with(".tar.gz") {
                continue;
            }
            if target_rel.as_deref() == Some(rel.as_str()) {
                continue;
            }
            if ignore
                .matched_path_or_any_parents(&rel, ft.is_dir())
                .is_ignore()
            {
                continue;
            }
            let problem = |problem| Error::Archive {
                path: dir.to_path_buf(),
                entry: Some(rel.clone()),
                problem,
            };
            if ft.is_symlink() {
                return Err(problem(ArchiveProblem::Symlink));
            }
            if ft.is_dir() {
                stack.push((abs.clone(), rel.clone()));
                out.push(Item {
                    rel,
                    abs,
                    dir: true,
                    exec: false,
                    size: 0,
                });
            } else if ft.is_file() {
                let meta = entry.metadata().map_err(|e| Error::io(&abs, e))?;
                out.push(Item {
                    rel,
                    abs,
                    dir: false,
                    exec: is_exec(&meta),
                    size: meta.len(),
                });
            } else {
                return Err(problem(ArchiveProblem::SpecialFile));
            }
        }
    }
    // pack.json first (readers find the pack's identity without decompressing the rest),
    // then everything by path.
    out.sort_by(|a, b| {
        (a.rel != "pack.json", a.rel.as_bytes()).cmp(&(b.rel != "pack.json", b.rel.as_bytes()))
    });
    Ok(out)
}

#[cfg(unix)]
fn is_exec(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_exec(_: &fs::Metadata) -> bool {
    false
}
