//! `$SPECTRO_HOME/config.json`, compatible with the legacy Spectro CLI's file:
//! `{"auths": {"<server>": {"auth": "<base64 user:password>", "insecure": true}},
//! "defaultRegistry": "<server>"}`. Unknown keys are kept. Written atomically, 0600 in a
//! 0700 directory.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// `$SPECTRO_HOME`, default `~/.spectro`: where `config.json` and the embedded registry
/// live. Reads the process environment (`SPECTRO_HOME`, `HOME`).
pub fn spectro_home_from_env() -> std::path::PathBuf {
    // An empty SPECTRO_HOME is unset (it would otherwise mean the current directory).
    if let Some(h) = std::env::var_os("SPECTRO_HOME").filter(|h| !h.is_empty()) {
        return h.into();
    }
    std::env::var_os("HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| ".".into())
        .join(".spectro")
}

/// `<home>/config.json`, for a spectro home such as [`spectro_home_from_env`].
pub fn config_path(home: &Path) -> std::path::PathBuf {
    home.join("config.json")
}

/// One server's entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuthEntry {
    /// base64 of `user:password`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<String>,
    /// Plain HTTP or unverified TLS for this server (legacy meaning).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insecure: bool,
    /// Talk plain HTTP to this server (saved by `registry login --plain-http`).
    #[serde(
        default,
        rename = "plainHttp",
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub plain_http: bool,
    /// Keys we do not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl AuthEntry {
    /// Decoded `(user, password)`.
    pub fn credentials(&self) -> Option<(String, String)> {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(self.auth.as_deref()?)
            .ok()?;
        let text = String::from_utf8(raw).ok()?;
        let (u, p) = text.split_once(':')?;
        Some((u.to_owned(), p.to_owned()))
    }

    /// Store `(user, password)`. A `:` in the user name is refused
    /// ([`check_user_name`]).
    pub fn set_credentials(&mut self, user: &str, password: &str) -> Result<()> {
        check_user_name(user)?;
        self.auth =
            Some(base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")));
        Ok(())
    }
}

/// Refuse a user name HTTP Basic cannot carry: `user:password` is split at the first
/// `:`, so a `:` in the user name would send another user name (and part of it as the
/// password). The one check behind [`AuthEntry::set_credentials`] and, with feature
/// `remote`, `Credential::try_basic` (`registry login`, the Python binding,
/// `SPECTRO_REGISTRY_USERNAME`), run before anything is sent or saved.
pub fn check_user_name(user: &str) -> Result<()> {
    if user.contains(':') {
        return Err(Error::Credentials(format!(
            "user name `{}` contains `:`, which HTTP Basic authentication cannot carry",
            crate::sanitize(user)
        )));
    }
    Ok(())
}

/// The configuration file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Config {
    /// Per-server credentials and flags.
    #[serde(default)]
    pub auths: BTreeMap<String, AuthEntry>,
    /// The registry used when none is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_registry: Option<String>,
    /// Keys we do not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Config {
    /// Save credentials for `host` (`host[:port]`), replacing any entry that names the
    /// same server under another spelling (`https://host/v1/`), with the connection
    /// flags to remember.
    pub fn set_login(
        &mut self,
        host: &str,
        user: &str,
        password: &str,
        plain_http: bool,
        insecure: bool,
    ) -> Result<()> {
        // Keep what other tools stored in the entry (keys we do not model).
        let mut entry = self
            .auths
            .iter()
            .find(|(k, _)| normalize_server(k) == host)
            .map(|(_, e)| e.clone())
            .unwrap_or_default();
        entry.set_credentials(user, password)?;
        entry.plain_http = plain_http;
        entry.insecure = insecure;
        self.remove_login(host);
        self.auths.insert(host.to_owned(), entry);
        Ok(())
    }

    /// Forget every entry for `host`; false when there was none.
    pub fn remove_login(&mut self, host: &str) -> bool {
        let before = self.auths.len();
        self.auths.retain(|k, _| normalize_server(k) != host);
        self.auths.len() != before
    }

    /// Why the login file at `path` is not private enough, when it is readable or
    /// writable by others (group or world bits): a message naming the file and the fix,
    /// for frontends to print as a warning. `None` when it is private or missing. Saves
    /// always write 0600; a laxer file was changed by hand or another tool.
    pub fn permission_warning(path: &Path) -> Option<String> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(path).ok()?.permissions().mode();
            (mode & 0o077 != 0).then(|| {
                format!(
                    "{} holds registry credentials but is readable or writable by others (mode {:04o}); run: chmod 600 {}",
                    path.display(),
                    mode & 0o7777,
                    path.display()
                )
            })
        }
        #[cfg(not(unix))]
        {
            let _ = path;
            None
        }
    }

    /// Load; a missing file is an empty config.
    /// FIFOs and devices are refused, and files over 1 MiB.
    pub fn load(path: &Path) -> Result<Self> {
        match crate::safety::read_settings_file(path)? {
            Some(text) => serde_json::from_str(&text).map_err(|e| Error::InvalidConfig {
                path: path.to_path_buf(),
                reason: format!("not a valid config file: {e}"),
            }),
            None => Ok(Config::default()),
        }
    }

    /// Save atomically (temp file + rename), mode 0600. A parent directory this call
    /// creates is 0700; an existing one keeps its mode. A symbolic link at `path` is
    /// written through (its target is replaced), not replaced by a regular file.
    /// Concurrent writers should use [`Config::update`].
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| Error::io(path, std::io::Error::other(e)))?;
        let target = match fs::symlink_metadata(path) {
            Ok(m) if m.file_type().is_symlink() => {
                fs::canonicalize(path).map_err(|e| Error::io(path, e))?
            }
            _ => path.to_path_buf(),
        };
        crate::safety::write_atomic(&target, text.as_bytes(), true)
    }

    /// Read-modify-write under an exclusive lock (`.config.lock` beside the file), so
    /// concurrent logins, logouts and default changes from several processes all land.
    pub fn update<T>(path: &Path, change: impl FnOnce(&mut Config) -> Result<T>) -> Result<T> {
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        crate::safety::create_dirs(dir, 0o700)?;
        let lock_path = dir.join(".config.lock");
        crate::safety::check_replaceable(&lock_path)?;
        let mut o = fs::OpenOptions::new();
        o.create(true).truncate(false).write(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            o.mode(0o600);
        }
        let lock = o.open(&lock_path).map_err(|e| Error::io(&lock_path, e))?;
        lock.lock().map_err(|e| Error::io(&lock_path, e))?;
        let mut cfg = Config::load(path)?;
        let out = change(&mut cfg)?;
        cfg.save(path)?;
        drop(lock);
        Ok(out)
    }
}

/// The `host[:port]` a config key names (`https://host:port/v1/` → `host:port`, as Docker
/// keys servers), lowercase.
pub(crate) fn normalize_server(key: &str) -> String {
    let k = key.trim();
    let k = ["https://", "http://", "oci://"]
        .iter()
        .find_map(|p| k.strip_prefix(p))
        .unwrap_or(k);
    let host = k.split('/').next().unwrap_or_default().to_ascii_lowercase();
    match host.as_str() {
        "index.docker.io" | "registry-1.docker.io" => "docker.io".into(),
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_file_round_trips_and_is_private() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("home/config.json");
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, r#"{"auths": {"reg.io:5000": {"auth": "dXNlcjpwYXNz", "insecure": true}}, "defaultRegistry": "reg.io:5000", "other": 1}"#).unwrap();
        let c = Config::load(&p).unwrap();
        assert_eq!(
            c.auths["reg.io:5000"].credentials(),
            Some(("user".into(), "pass".into()))
        );
        assert!(c.auths["reg.io:5000"].insecure);
        c.save(&p).unwrap();
        let back: Value = serde_json::from_str(&fs::read_to_string(&p).unwrap()).unwrap();
        assert_eq!(back["other"], 1);
        assert_eq!(back["defaultRegistry"], "reg.io:5000");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&p).unwrap().permissions().mode() & 0o777,
                0o600
            );
            // An existing folder keeps its mode (it may be shared, e.g. 1777); a folder
            // created for the file is private.
            let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o7777;
            fs::set_permissions(p.parent().unwrap(), fs::Permissions::from_mode(0o1777)).unwrap();
            c.save(&p).unwrap();
            assert_eq!(mode(p.parent().unwrap()), 0o1777);
            let fresh = t.path().join("new/deeper/config.json");
            Config::update(&fresh, |c| {
                c.default_registry = Some("x.io".into());
                Ok(())
            })
            .unwrap();
            assert_eq!(mode(fresh.parent().unwrap()), 0o700);
            assert_eq!(mode(&fresh), 0o600);
        }
        let mut e = AuthEntry::default();
        let err = e
            .set_credentials("a:b", "x")
            .expect_err("a `:` in the user name");
        assert!(matches!(err, Error::Credentials(_)), "{err:?}");
        assert_eq!(e.auth, None, "nothing stored");
    }
}
