//! Archives on their way in and out of a registry: building or opening the archive a
//! push sends, hashing copies, and finishing a pull (verify the pack inside, keep the
//! archive or extract it, staged and renamed into place).

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::oci;
use super::{Progress, PullOptions, PullOutcome, PushOptions, Resolved};
use crate::archive::{self, BuildOptions, ExtractOptions};
use crate::error::{Error, Result};

use super::{CancelledIo, is_cancelled};

/// `Error::Cancelled` for a cancelled copy; else the I/O error, blamed on `dst` when
/// writing failed (a full disk is the destination's problem) and on `src` otherwise.
pub(crate) fn copy_error(src: &Path, dst: &Path, e: io::Error) -> Error {
    if e.get_ref().is_some_and(|i| i.is::<CancelledIo>()) {
        return Error::Cancelled;
    }
    if e.get_ref().is_some_and(|i| i.is::<WriteFailed>()) {
        let inner = e
            .into_inner()
            .and_then(|b| b.downcast::<WriteFailed>().ok())
            .map_or_else(|| io::Error::other("write failed"), |w| w.0);
        return Error::io(dst, inner);
    }
    Error::io(src, e)
}

/// Marks an I/O error of the writing side of [`copy_hashing`].
#[derive(Debug)]
struct WriteFailed(io::Error);
impl std::fmt::Display for WriteFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}
impl std::error::Error for WriteFailed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// Copy while hashing; returns (`sha256:` digest, bytes).
pub(crate) fn copy_hashing(
    src: &mut dyn Read,
    dst: &mut dyn Write,
    progress: Option<&super::ProgressFn>,
    cancel: Option<&super::CancelFlag>,
) -> io::Result<(String, u64)> {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        if is_cancelled(cancel) {
            return Err(io::Error::other(CancelledIo));
        }
        let k = src.read(&mut buf)?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
        dst.write_all(&buf[..k])
            .map_err(|e| io::Error::other(WriteFailed(e)))?;
        n += k as u64;
        if let Some(p) = progress {
            p(Progress::Transfer {
                done: n,
                total: None,
            });
        }
    }
    Ok((format!("sha256:{}", hex::encode(h.finalize())), n))
}

/// An archive ready to push.
pub(crate) struct Prepared {
    pub(crate) path: PathBuf,
    pub(crate) name: String,
    pub(crate) version: String,
    /// Digest and size, when building already computed them.
    pub(crate) digest: Option<(String, u64)>,
    pub(crate) _tmp: tempfile::TempDir,
}

impl Prepared {
    /// Digest and size (hashing the file unless the build did).
    pub(crate) fn digest(&self) -> Result<(String, u64)> {
        match &self.digest {
            Some(d) => Ok(d.clone()),
            None => file_digest(&self.path),
        }
    }
}

/// Build or open the archive for a push.
pub(crate) fn prepare_archive(source: &Path, opts: &PushOptions) -> Result<Prepared> {
    let tmp = tempfile::tempdir().map_err(|e| Error::io(std::env::temp_dir(), e))?;
    if source.is_dir() {
        if let Some(p) = &opts.progress {
            p(Progress::Building);
        }
        let b = BuildOptions {
            validate: !opts.no_validate,
            mtime: opts.mtime.unwrap_or(archive::DEFAULT_MTIME),
            load: opts.load,
            ..BuildOptions::default()
        };
        let built = archive::build_archive(source, tmp.path(), &b)?;
        return Ok(Prepared {
            path: built.path,
            name: built.name,
            version: built.version,
            digest: Some((built.digest, built.size)),
            _tmp: tmp,
        });
    }
    if opts.no_validate {
        // Only the identity is needed: read pack.json, upload the file as it is.
        let (name, version) = archive::read_identity(source)?;
        return Ok(Prepared {
            path: source.to_path_buf(),
            name,
            version,
            digest: None,
            _tmp: tmp,
        });
    }
    // An archive: extract it safely to read and validate the pack inside.
    let x = archive::extract_archive(
        source,
        tmp.path(),
        &ExtractOptions::default().with_limits(opts.extract),
    )?;
    let pack = crate::load_pack_with(&x.root, &opts.load)?;
    if !opts.no_validate {
        let errors = crate::check_pack(&pack)
            .iter()
            .filter(|d| d.severity == crate::Severity::Error)
            .count();
        if errors > 0 {
            return Err(Error::Archive {
                path: source.to_path_buf(),
                entry: None,
                problem: archive::ArchiveProblem::Invalid { errors },
            });
        }
    }
    let (Some(name), Some(version)) = (pack.name(), pack.version()) else {
        return Err(Error::Archive {
            path: source.to_path_buf(),
            entry: None,
            problem: archive::ArchiveProblem::NoIdentity,
        });
    };
    Ok(Prepared {
        path: source.to_path_buf(),
        name: name.to_owned(),
        version: version.to_owned(),
        digest: None,
        _tmp: tmp,
    })
}

pub(crate) fn file_digest(path: &Path) -> Result<(String, u64)> {
    let mut f = File::open(path).map_err(|e| Error::io(path, e))?;
    copy_hashing(&mut f, &mut io::sink(), None, None).map_err(|e| Error::io(path, e))
}

/// The path a store names in an I/O error while writing the caller's file
/// ([`super::Store::get_blob`]): the pack protocol replaces it with the real
/// destination, so a full disk is blamed on the destination, never on the registry.
pub(crate) const DESTINATION: &str = "<download destination>";

/// `e` with a write failure on the download file blamed on `dest`.
pub(crate) fn blame_destination(e: Error, dest: &Path) -> Error {
    match e {
        Error::Io { path, source } if path == Path::new(DESTINATION) => Error::Io {
            path: dest.to_path_buf(),
            source,
        },
        Error::NotFound { path } if path == Path::new(DESTINATION) => Error::NotFound {
            path: dest.to_path_buf(),
        },
        e => e,
    }
}

/// A temporary file for a download into `dest` (`.spectro-pull-*`, swept when stale).
pub(crate) fn pull_temp(dest: &Path) -> Result<tempfile::NamedTempFile> {
    crate::safety::create_dirs(dest, 0o755)?;
    crate::safety::sweep_stale(dest);
    crate::safety::temp_file_in(dest, "pull", false).map_err(|e| crate::Error::io(dest, e))
}

/// Refuse a layer whose declared size is above the archive cap before downloading it.
pub(crate) fn check_layer_size(
    what: &str,
    layer: &oci::Descriptor,
    opts: &PullOptions,
) -> Result<()> {
    let cap = opts.max_archive_bytes;
    if layer.size > cap {
        return Err(crate::Error::TooLarge {
            what: crate::sanitize(what),
            size: layer.size,
            limit: cap,
        });
    }
    Ok(())
}

/// Finish a pull from a verified archive in a temp file inside `dest`: keep it as
/// `<name>-<version>.tar.gz` (archive only) or extract it into `dest/<name>` (staged,
/// renamed into place), after checking the archive holds the pack `name`.
pub(crate) fn finish_pull(
    tmp: tempfile::NamedTempFile,
    dest: &Path,
    name: &str,
    resolved: &Resolved,
    archive_digest: String,
    opts: &PullOptions,
) -> Result<PullOutcome> {
    use crate::archive::{self, ExtractOptions};
    let version = resolved
        .version
        .clone()
        .unwrap_or_else(|| resolved.manifest_digest.clone());
    if opts.archive_only {
        // The archive must hold the pack asked for, whatever is done with it.
        let (found, _) = archive::read_identity(tmp.path())?;
        if found != name {
            return Err(crate::Error::Archive {
                path: tmp.path().to_path_buf(),
                entry: None,
                problem: archive::ArchiveProblem::WrongPack {
                    expected: name.to_owned(),
                    found: crate::sanitize(&found),
                },
            });
        }
        let file =
            archive::archive_file_name(name, resolved.version.as_deref().unwrap_or("unknown"));
        let out = crate::safety::checked_join(dest, &file)?;
        if opts.overwrite {
            crate::safety::persist(tmp, &out)?;
        } else if out.exists() {
            return Err(crate::Error::Archive {
                path: out,
                entry: None,
                problem: archive::ArchiveProblem::DestinationExists,
            });
        } else {
            crate::safety::persist_new(tmp, &out)?;
        }
        return Ok(PullOutcome {
            version,
            path: out,
            archive_digest,
        });
    }
    if let Some(p) = &opts.progress {
        p(Progress::Extracting);
    }
    let mut xo = ExtractOptions::for_pack(name).with_limits(opts.extract);
    xo.overwrite = opts.overwrite;
    let x = archive::extract_archive(tmp.path(), dest, &xo)?;
    Ok(PullOutcome {
        version,
        path: x.root,
        archive_digest,
    })
}
