//! The one place each class of untrusted-data guard lives.
//!
//! - **Paths from data** (archive top folders, pack and chart names, versions, tags):
//!   [`checked_join`] is the only way such a string becomes part of a path.
//! - **Files we write**: [`temp_file_in`] creates every temporary file with the mode
//!   `tar` gives (0644 minus the umask; 0600 for secrets), [`persist`] renames it into place
//!   and refuses to replace anything that is not a regular file, and [`write_atomic`]
//!   combines both. Only directories we create get our modes.
//! - **Leftovers of killed runs**: every temporary name starts with [`TEMP_PREFIX`] and
//!   [`sweep_stale`] removes old ones wherever we write.
//! - **Secrets in text**: [`mask_url_userinfo`] removes `user:pass@` from locations before
//!   they reach a message.
//!
//! Printing untrusted strings goes through [`crate::sanitize`]; caps on sizes and counts
//! taken from data live with their readers (archive [`crate::archive::ExtractLimits`],
//! registry manifests and blobs) and are checked before acting.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::error::{Error, Result};

/// Prefix of every temporary file or directory spectro creates next to its targets.
pub(crate) const TEMP_PREFIX: &str = ".spectro-";

/// The kinds of temporary entries spectro creates (`.spectro-<kind>-XXXXXX`).
const TEMP_KINDS: &[&str] = &["pull", "extract", "build", "blob", "tmp", "new", "upload"];

/// Whether `name` is exactly a temporary name spectro makes: `.spectro-<kind>-` and
/// tempfile's six random alphanumerics. Anything else (a user's `.spectro-backup`, a
/// `SPECTRO_HOME` named `.spectro-ci`) is never swept or skipped.
pub(crate) fn is_temp_name(name: &str) -> bool {
    let Some(rest) = name.strip_prefix(TEMP_PREFIX) else {
        return false;
    };
    TEMP_KINDS.iter().any(|k| {
        rest.strip_prefix(k)
            .and_then(|r| r.strip_prefix('-'))
            .is_some_and(|r| r.len() == 6 && r.bytes().all(|b| b.is_ascii_alphanumeric()))
    })
}

/// Age after which a temporary entry is considered left over by a killed run.
const STALE_AFTER: Duration = Duration::from_secs(3600);

/// Why a string from data cannot be one path component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BadComponent {
    /// Empty, `.` or `..`.
    Special,
    /// Holds `/`, `\`, NUL, a control character or a drive colon.
    Separator,
    /// Longer than 255 bytes.
    TooLong,
}

impl std::fmt::Display for BadComponent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BadComponent::Special => "is empty, `.` or `..`",
            BadComponent::Separator => "contains a path separator, NUL, colon or control character",
            BadComponent::TooLong => "is longer than 255 bytes",
        })
    }
}

/// Check that `name` (from untrusted data) is usable as exactly one path component.
pub(crate) fn check_component(name: &str) -> std::result::Result<(), BadComponent> {
    if name.is_empty() || name == "." || name == ".." {
        return Err(BadComponent::Special);
    }
    if name.len() > 255 {
        return Err(BadComponent::TooLong);
    }
    if name
        .chars()
        .any(|c| matches!(c, '/' | '\\' | '\0' | ':') || c.is_control())
    {
        return Err(BadComponent::Separator);
    }
    Ok(())
}

/// `base/name` when `name` is a single normal path component; the error names the
/// offending string. Every path built from untrusted data goes through here.
pub(crate) fn checked_join(base: &Path, name: &str) -> Result<PathBuf> {
    check_component(name).map_err(|why| Error::UnsafePath {
        base: base.to_path_buf(),
        name: crate::sanitize(name),
        reason: why.to_string(),
    })?;
    Ok(base.join(name))
}

/// A temporary file in `dir` named `.spectro-<kind>-*`, created with mode 0644 minus
/// the umask (0600 when `secret`), like `tar` and `helm package` create files.
pub(crate) fn temp_file_in(
    dir: &Path,
    kind: &str,
    secret: bool,
) -> io::Result<tempfile::NamedTempFile> {
    let mut b = tempfile::Builder::new();
    let prefix = format!("{TEMP_PREFIX}{kind}-");
    b.prefix(&prefix);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Passed to open(2), so the process umask applies, as for any created file.
        b.permissions(fs::Permissions::from_mode(if secret {
            0o600
        } else {
            0o644
        }));
    }
    #[cfg(not(unix))]
    let _ = secret;
    b.tempfile_in(dir)
}

/// A temporary directory in `dir` named `.spectro-<kind>-*`.
pub(crate) fn temp_dir_in(dir: &Path, kind: &str) -> io::Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix(&format!("{TEMP_PREFIX}{kind}-"))
        .tempdir_in(dir)
}

/// Read a regular file (symlinks followed) of at most `cap` bytes, counted on the bytes
/// read. FIFOs, devices and sockets are refused before they are opened (opening a FIFO
/// blocks; `/dev/zero` never ends).
pub(crate) fn read_regular_capped(path: &Path, cap: u64) -> Result<Vec<u8>> {
    use std::io::Read;
    let meta = fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        return Err(Error::NotRegularFile {
            path: path.to_path_buf(),
            kind: if meta.is_dir() {
                "a directory"
            } else {
                "a device, FIFO or socket"
            },
        });
    }
    let f = fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut bytes = Vec::new();
    f.take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > cap {
        return Err(Error::TooLarge {
            what: crate::sanitize(&path.display().to_string()),
            size: bytes.len() as u64,
            limit: cap,
        });
    }
    Ok(bytes)
}

/// A small settings file (a login file, Docker's config.json): `None` when it does not
/// exist; FIFOs and devices are refused and the size is capped at 1 MiB like
/// `read_regular_capped`.
pub(crate) fn read_settings_file(path: &Path) -> Result<Option<String>> {
    const MAX_SETTINGS_BYTES: u64 = 1 << 20;
    match fs::metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        _ => {}
    }
    let bytes = read_regular_capped(path, MAX_SETTINGS_BYTES)?;
    String::from_utf8(bytes).map(Some).map_err(|e| {
        Error::io(
            path,
            io::Error::new(io::ErrorKind::InvalidData, e.utf8_error()),
        )
    })
}

/// Refuse to replace `target` unless it is missing or a regular file: renaming over a
/// device, FIFO, socket, directory or symbolic link would replace that object (run as
/// root, `-o /dev/null` would replace the machine's `/dev/null`).
pub(crate) fn check_replaceable(target: &Path) -> Result<()> {
    match fs::symlink_metadata(target) {
        Ok(m) if m.file_type().is_file() => Ok(()),
        Ok(m) => Err(Error::NotRegularFile {
            path: target.to_path_buf(),
            kind: if m.file_type().is_symlink() {
                "a symbolic link"
            } else if m.is_dir() {
                "a directory"
            } else {
                "a device, FIFO or socket"
            },
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(target, e)),
    }
}

/// Flush `tmp` to disk and rename it to `target` (which must be missing or a regular
/// file).
pub(crate) fn persist(tmp: tempfile::NamedTempFile, target: &Path) -> Result<()> {
    check_replaceable(target)?;
    tmp.as_file().sync_all().map_err(|e| Error::io(target, e))?;
    tmp.persist(target)
        .map_err(|e| Error::io(target, e.error))?;
    Ok(())
}

/// Like [`persist`], but fails when `target` exists (never replaces anything).
pub(crate) fn persist_new(tmp: tempfile::NamedTempFile, target: &Path) -> Result<()> {
    tmp.as_file().sync_all().map_err(|e| Error::io(target, e))?;
    tmp.persist_noclobber(target)
        .map_err(|e| Error::io(target, e.error))?;
    Ok(())
}

/// Write `bytes` to `path` through a temporary file and a rename (0644 minus umask, or
/// 0600 when `secret`), creating the parent directory.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], secret: bool) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    create_dirs(dir, if secret { 0o700 } else { 0o755 })?;
    // What a killed run left beside this file (an `index.json`, a `config.json`) goes
    // here, where nothing else would ever remove it.
    sweep_stale(dir);
    let mut tmp = temp_file_in(dir, "tmp", secret).map_err(|e| Error::io(dir, e))?;
    tmp.write_all(bytes).map_err(|e| Error::io(path, e))?;
    persist(tmp, path)
}

/// Create `dir` and its missing parents; only the directories this call created get
/// `mode` (minus nothing: they are ours). Existing directories keep theirs.
pub(crate) fn create_dirs(dir: &Path, mode: u32) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut missing = Vec::new();
    let mut cur = Some(dir);
    while let Some(p) = cur {
        if p.as_os_str().is_empty() || fs::symlink_metadata(p).is_ok() {
            break;
        }
        missing.push(p.to_path_buf());
        cur = p.parent();
    }
    fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    for p in missing {
        set_mode(&p, mode);
    }
    Ok(())
}

#[cfg(unix)]
fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    let _ = fs::set_permissions(p, fs::Permissions::from_mode(mode));
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) {}

/// Remove spectro's own temporary files and directories ([`is_temp_name`]) in `dir`
/// older than an hour: what a killed run (SIGKILL, power loss) left behind. A staging
/// directory holding `.old` (a previous tree moved aside by an interrupted overwrite) is
/// kept: it may be the only copy. Errors are ignored: sweeping is best effort.
pub(crate) fn sweep_stale(dir: &Path) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    let cutoff = SystemTime::now() - STALE_AFTER;
    for e in rd.flatten() {
        if !is_temp_name(&e.file_name().to_string_lossy()) {
            continue;
        }
        let Ok(meta) = e.path().symlink_metadata() else {
            continue;
        };
        if !meta.modified().is_ok_and(|t| t < cutoff) {
            continue;
        }
        if meta.is_dir() {
            if e.path().join(".old").exists() {
                continue;
            }
            let _ = fs::remove_dir_all(e.path());
        } else {
            let _ = fs::remove_file(e.path());
        }
    }
}

/// Replace the `user[:password]@` of a URL-like location by `***@`, so locations can be
/// printed. `oci://u:p@h/b` → `oci://***@h/b`; strings without userinfo are unchanged.
pub fn mask_url_userinfo(input: &str) -> String {
    let (scheme, rest) = match input.find("://") {
        Some(i) => input.split_at(i + 3),
        None => ("", input),
    };
    // The password may itself hold `/` or `@`: everything up to the last `@` goes when a
    // `:` comes before it (`user:pa/ss@host`); `name@sha256:...` has its `:` after.
    match rest.rfind('@') {
        Some(at) if rest[..at].contains(':') => {
            format!("{scheme}***@{}", &rest[at + 1..])
        }
        _ => input.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components() {
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "..\\x",
            "a\0b",
            "c:",
            "\u{1b}[2J",
            &"a".repeat(256),
        ] {
            assert!(check_component(bad).is_err(), "{bad:?}");
        }
        for ok in ["nginx", "nginx-1.2.3.tar.gz", ".git", "a..b"] {
            assert!(check_component(ok).is_ok(), "{ok}");
        }
        let err = checked_join(Path::new("/d"), "../../x").unwrap_err();
        assert!(err.to_string().contains("../../x"), "{err}");
    }

    #[test]
    fn only_our_temporary_names_are_swept() {
        assert!(is_temp_name(".spectro-pull-a1B2c3"));
        assert!(is_temp_name(".spectro-extract-zzzzzz"));
        for not_ours in [
            ".spectro-ci",
            ".spectro-backup",
            ".spectro-pull-",
            ".spectro-pull-abc",
            ".spectro-pull-abcdefg",
            ".spectro-mine-abcdef",
        ] {
            assert!(!is_temp_name(not_ours), "{not_ours}");
        }
        let d = tempfile::tempdir().unwrap();
        let old = SystemTime::now() - Duration::from_secs(7200);
        for name in [".spectro-ci", ".spectro-pull-abcdef"] {
            fs::File::create(d.path().join(name))
                .unwrap()
                .set_modified(old)
                .unwrap();
        }
        let kept = d.path().join(".spectro-extract-abcdef");
        fs::create_dir_all(kept.join(".old")).unwrap();
        fs::File::open(&kept).unwrap().set_modified(old).unwrap();
        sweep_stale(d.path());
        assert!(d.path().join(".spectro-ci").exists());
        assert!(!d.path().join(".spectro-pull-abcdef").exists());
        assert!(
            kept.join(".old").exists(),
            "an interrupted overwrite's old tree was swept"
        );
    }

    #[test]
    fn userinfo_is_masked() {
        assert_eq!(
            mask_url_userinfo("oci://u:p@h:5000/b"),
            "oci://***@h:5000/b"
        );
        assert_eq!(mask_url_userinfo("u:p@h/b"), "***@h/b");
        assert_eq!(mask_url_userinfo("nginx@sha256:ab"), "nginx@sha256:ab");
        assert_eq!(mask_url_userinfo("oci://h/b"), "oci://h/b");
        assert_eq!(mask_url_userinfo("./dir@x/y"), "./dir@x/y");
        assert_eq!(
            mask_url_userinfo("oci://u:AbC/x@y@reg.io/b"),
            "oci://***@reg.io/b"
        );
    }

    #[cfg(unix)]
    #[test]
    fn written_files_get_tar_modes_and_special_targets_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        write_atomic(&p, b"x", false).unwrap();
        let mode = fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        // What open(2) gives a new file under this process's umask, limited to 0644.
        let probe = d.path().join("probe");
        fs::File::create(&probe).unwrap();
        let expected = fs::metadata(&probe).unwrap().permissions().mode() & 0o644;
        assert_eq!(mode, expected, "{mode:o} vs {expected:o}");
        let s = d.path().join("secret");
        write_atomic(&s, b"x", true).unwrap();
        assert_eq!(
            fs::metadata(&s).unwrap().permissions().mode() & 0o777,
            0o600
        );
        std::os::unix::fs::symlink(&p, d.path().join("link")).unwrap();
        assert!(write_atomic(&d.path().join("link"), b"y", false).is_err());
        assert_eq!(fs::read(&p).unwrap(), b"x");
    }
}
