//! Registry credentials and `WWW-Authenticate` challenges.
//!
//! Credentials are looked up per registry host, first match wins:
//! 1. `$SPECTRO_HOME/config.json` (`spectro registry login`),
//! 2. Docker's `config.json` (`$DOCKER_CONFIG` or `~/.docker`): `credHelpers`, `auths`,
//!    then `credsStore`, calling `docker-credential-<helper> get` for helpers,
//! 3. `SPECTRO_REGISTRY_USERNAME` / `SPECTRO_REGISTRY_PASSWORD` (for CI), for the host in
//!    `SPECTRO_REGISTRY_HOST` or `SPECTRO_REGISTRY` when either is set.

use std::fmt;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use base64::Engine as _;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::registry::config::Config;

/// Credentials for one registry.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credential {
    /// User name and password (or access token used as a password).
    Basic {
        /// User name.
        username: String,
        /// Password; never printed (see the `Debug` impl).
        password: String,
    },
    /// An OAuth2 refresh token ("identity token" in Docker's config), exchanged at the
    /// token service for access tokens.
    IdentityToken(String),
}

impl Credential {
    /// User name and password.
    pub fn basic(username: impl Into<String>, password: impl Into<String>) -> Self {
        Credential::Basic {
            username: username.into(),
            password: password.into(),
        }
    }

    /// User name and password typed by a person or read from the environment, checked
    /// before anything is sent: a user name with `:` is refused
    /// ([`crate::registry::config::check_user_name`]). `registry login`, the Python
    /// binding and `SPECTRO_REGISTRY_USERNAME` come through here.
    pub fn try_basic(username: impl Into<String>, password: impl Into<String>) -> Result<Self> {
        let username = username.into();
        crate::registry::config::check_user_name(&username)?;
        Ok(Credential::basic(username, password))
    }

    /// The `Authorization: Basic` value, when this is a user/password pair.
    pub(crate) fn basic_header(&self) -> Option<String> {
        match self {
            Credential::Basic { username, password } => Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
            )),
            Credential::IdentityToken(_) => None,
        }
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
            Credential::IdentityToken(_) => f.write_str("IdentityToken(<redacted>)"),
        }
    }
}

/// Where a credential came from (for `registry login` messages and debugging).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialSource {
    /// Given by the caller.
    Explicit,
    /// `$SPECTRO_HOME/config.json`.
    SpectroConfig(PathBuf),
    /// Docker's `config.json` `auths`.
    DockerConfig(PathBuf),
    /// A `docker-credential-<name>` helper.
    Helper(String),
    /// `SPECTRO_REGISTRY_USERNAME` / `SPECTRO_REGISTRY_PASSWORD`.
    Environment,
}

/// Looks credentials up for a registry host, first match wins:
/// 1. `$SPECTRO_HOME/config.json` (`spectro registry login`),
/// 2. Docker's `config.json` (`$DOCKER_CONFIG` or `~/.docker`): `credHelpers`, `auths`,
///    then `credsStore`, calling `docker-credential-<helper> get` for helpers,
/// 3. a fallback credential bound to one host (`SPECTRO_REGISTRY_USERNAME` /
///    `SPECTRO_REGISTRY_PASSWORD` for `SPECTRO_REGISTRY_HOST` or `SPECTRO_REGISTRY`, when
///    read by [`CredentialStore::from_env`]).
///
/// Built empty ([`CredentialStore::new`]) and filled with the `with_*` methods, or read
/// from the process environment once by [`CredentialStore::from_env`]; [`lookup`]
/// itself never reads environment variables.
///
/// [`lookup`]: CredentialStore::lookup
#[derive(Debug, Clone, Default)]
pub struct CredentialStore {
    spectro_config: Option<PathBuf>,
    docker_config: Option<PathBuf>,
    /// `SPECTRO_REGISTRY_USERNAME/PASSWORD`, with the host they are bound to (or why
    /// they cannot be sent there).
    environment: Option<BoundCredential>,
    /// `SPECTRO_REGISTRY_USERNAME` was set but bound to no host (for error messages).
    environment_unbound: bool,
}

impl CredentialStore {
    /// A store that knows no credentials.
    pub fn new() -> Self {
        CredentialStore::default()
    }

    /// The standard chain, read from the process environment now: the given spectro
    /// config, Docker's config from `$DOCKER_CONFIG` or `~/.docker/config.json`, then
    /// `SPECTRO_REGISTRY_USERNAME` / `SPECTRO_REGISTRY_PASSWORD` for the host in
    /// `SPECTRO_REGISTRY_HOST` (or the remote registry in `SPECTRO_REGISTRY`). With
    /// neither host variable set the environment credentials are bound to no host and
    /// never sent: a CI secret must not follow a `-r` given on the command line to
    /// whatever host it names.
    pub fn from_env(spectro_config: Option<PathBuf>) -> Self {
        let docker = std::env::var_os("DOCKER_CONFIG")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker")))
            .map(|d| d.join("config.json"));
        let (environment, environment_unbound) = environment_credential(|k| std::env::var(k).ok());
        CredentialStore {
            spectro_config,
            docker_config: docker,
            environment,
            environment_unbound,
        }
    }

    /// Look in this `$SPECTRO_HOME/config.json` (written by `spectro registry login`).
    pub fn with_spectro_config(mut self, path: impl Into<PathBuf>) -> Self {
        self.spectro_config = Some(path.into());
        self
    }

    /// Look in this Docker `config.json` (`auths`, `credHelpers`, `credsStore`).
    pub fn with_docker_config(mut self, path: impl Into<PathBuf>) -> Self {
        self.docker_config = Some(path.into());
        self
    }

    /// Use `credential` for `host` (`host[:port]`) when the config files have nothing
    /// for it (the place [`CredentialStore::from_env`] puts CI credentials).
    pub fn with_fallback(mut self, host: &str, credential: Credential) -> Self {
        self.environment = Some((normalize_server(host), Ok(credential)));
        self
    }

    /// Credentials for `host` (`host[:port]`), with their source.
    pub fn lookup(&self, host: &str) -> Result<Option<(Credential, CredentialSource)>> {
        if let Some(path) = &self.spectro_config {
            let cfg = Config::load(path)?;
            if let Some(entry) = cfg
                .auths
                .iter()
                .find(|(k, _)| normalize_server(k) == host)
                .map(|(_, e)| e)
                && let Some((u, p)) = entry.credentials()
            {
                return Ok(Some((
                    Credential::basic(u, p),
                    CredentialSource::SpectroConfig(path.clone()),
                )));
            }
        }
        if let Some(path) = &self.docker_config
            && let Some(found) = docker_lookup(path, host)?
        {
            return Ok(Some(found));
        }
        if let Some((h, c)) = &self.environment
            && h == host
        {
            return match c {
                Ok(c) => Ok(Some((c.clone(), CredentialSource::Environment))),
                Err(why) => Err(Error::Credentials(why.clone())),
            };
        }
        Ok(None)
    }

    /// `SPECTRO_REGISTRY_USERNAME` was set but bound to no host, so it is never sent
    /// (the reason an authentication error names).
    pub(crate) fn environment_unbound(&self) -> bool {
        self.environment_unbound
    }
}

pub(crate) use crate::registry::config::normalize_server;

/// A fallback credential and the host it is bound to; `Err` says why it cannot be sent.
type BoundCredential = (String, std::result::Result<Credential, String>);

/// The CI credential read through `var` (the process environment, in
/// [`CredentialStore::from_env`]): `SPECTRO_REGISTRY_USERNAME` / `_PASSWORD` for the host
/// in `SPECTRO_REGISTRY_HOST` or `SPECTRO_REGISTRY`, checked by
/// [`Credential::try_basic`] (a refused user name is kept as the error that host's lookup
/// answers, so it is never sent); and whether a user name was set but bound to no host.
fn environment_credential(var: impl Fn(&str) -> Option<String>) -> (Option<BoundCredential>, bool) {
    let set = |k: &str| var(k).filter(|v| !v.trim().is_empty());
    let user = set("SPECTRO_REGISTRY_USERNAME");
    let bound = set("SPECTRO_REGISTRY_HOST")
        .map(|h| normalize_server(&h))
        .or_else(
            || match crate::registry::RegistryLocation::parse(&set("SPECTRO_REGISTRY")?) {
                Ok(crate::registry::RegistryLocation::Oci { host, .. }) => Some(host),
                _ => None,
            },
        );
    let unbound = user.is_some() && bound.is_none();
    let environment = match (user, bound) {
        (Some(u), Some(h)) => {
            let password = var("SPECTRO_REGISTRY_PASSWORD").unwrap_or_default();
            let credential = Credential::try_basic(u, password)
                .map_err(|e| format!("SPECTRO_REGISTRY_USERNAME: {e}"));
            Some((h, credential))
        }
        _ => None,
    };
    (environment, unbound)
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct DockerConfig {
    #[serde(default)]
    auths: std::collections::BTreeMap<String, DockerAuth>,
    #[serde(default)]
    creds_store: Option<String>,
    #[serde(default)]
    cred_helpers: std::collections::BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
struct DockerAuth {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

fn docker_lookup(
    path: &std::path::Path,
    host: &str,
) -> Result<Option<(Credential, CredentialSource)>> {
    let Some(text) = crate::safety::read_settings_file(path)? else {
        return Ok(None);
    };
    let cfg: DockerConfig = serde_json::from_str(&text).map_err(|e| Error::InvalidConfig {
        path: path.to_path_buf(),
        reason: format!("not a valid Docker config file: {e}"),
    })?;
    if let Some(helper) = cfg
        .cred_helpers
        .iter()
        .find(|(k, _)| normalize_server(k) == host)
        .map(|(_, h)| h)
    {
        return helper_get(helper, host);
    }
    if let Some(a) = cfg
        .auths
        .iter()
        .find(|(k, _)| normalize_server(k) == host)
        .map(|(_, a)| a)
    {
        if let Some(t) = a.identitytoken.as_deref().filter(|t| !t.is_empty()) {
            return Ok(Some((
                Credential::IdentityToken(t.to_owned()),
                CredentialSource::DockerConfig(path.to_path_buf()),
            )));
        }
        let pair = match (&a.username, &a.password, &a.auth) {
            (Some(u), Some(p), _) => Some((u.clone(), p.clone())),
            (_, _, Some(auth)) => crate::registry::config::AuthEntry {
                auth: Some(auth.clone()),
                ..Default::default()
            }
            .credentials(),
            _ => None,
        };
        if let Some((u, p)) = pair {
            return Ok(Some((
                Credential::basic(u, p),
                CredentialSource::DockerConfig(path.to_path_buf()),
            )));
        }
    }
    match &cfg.creds_store {
        Some(store) if !store.is_empty() => helper_get(store, host),
        _ => Ok(None),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HelperReply {
    username: String,
    secret: String,
}

/// `docker-credential-<helper> get`, server on stdin. "Not found" is `None`; a helper
/// that is missing or fails is an error naming the helper (never its output, which may
/// hold secrets).
fn helper_get(helper: &str, host: &str) -> Result<Option<(Credential, CredentialSource)>> {
    if helper.is_empty()
        || !helper
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    {
        return Err(Error::Credentials(format!(
            "Docker credential helper name `{}` is not valid",
            crate::sanitize(helper)
        )));
    }
    let program = format!("docker-credential-{helper}");
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            Error::Credentials(format!(
                "cannot run {program} (from Docker's config.json): {e}"
            ))
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(host.as_bytes());
    }
    let out = wait_capped(child, HELPER_TIMEOUT, HELPER_MAX_OUTPUT)
        .map_err(|e| Error::Credentials(format!("{program} get {host}: {e}")))?;
    if !out.status.success() {
        let msg = String::from_utf8_lossy(&out.stdout).to_lowercase()
            + &String::from_utf8_lossy(&out.stderr).to_lowercase();
        if msg.contains("not found") {
            return Ok(None);
        }
        return Err(Error::Credentials(format!(
            "{program} get {host} failed ({})",
            out.status
        )));
    }
    let reply: HelperReply = serde_json::from_slice(&out.stdout).map_err(|_| {
        Error::Credentials(format!(
            "{program} get {host}: reply is not the expected JSON"
        ))
    })?;
    let cred = if reply.username == "<token>" {
        Credential::IdentityToken(reply.secret)
    } else {
        Credential::basic(reply.username, reply.secret)
    };
    Ok(Some((cred, CredentialSource::Helper(program))))
}

/// How long a Docker credential helper may take, and how much it may print.
const HELPER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
const HELPER_MAX_OUTPUT: u64 = 64 << 10;

/// Wait for a helper with a deadline, reading at most `cap` bytes of each output
/// stream; a helper that hangs or floods is killed. Output still held open after the
/// helper exits (a background child keeping the pipe) counts against the same deadline.
fn wait_capped(
    mut child: std::process::Child,
    timeout: std::time::Duration,
    cap: u64,
) -> std::io::Result<std::process::Output> {
    use std::io::Read;
    use std::sync::mpsc;
    let reader = |pipe: Option<Box<dyn Read + Send>>| {
        let (tx, rx) = mpsc::channel::<Vec<u8>>();
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(p) = pipe {
                let _ = p.take(cap + 1).read_to_end(&mut buf);
            }
            let _ = tx.send(buf);
        });
        rx
    };
    let out = reader(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = reader(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let deadline = std::time::Instant::now() + timeout;
    let flooded = || std::io::Error::other(format!("printed more than {cap} bytes; killed"));
    let timed_out = || {
        std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("no answer within {} s; killed", timeout.as_secs()),
        )
    };
    let mut stdout: Option<Vec<u8>> = None;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        // Output that ended early hit the cap: the helper is flooding, not answering.
        if stdout.is_none()
            && let Ok(buf) = out.try_recv()
        {
            if buf.len() as u64 > cap {
                let _ = child.kill();
                let _ = child.wait();
                return Err(flooded());
            }
            stdout = Some(buf);
        }
        if std::time::Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(timed_out());
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let left = || deadline.saturating_duration_since(std::time::Instant::now());
    let stdout = match stdout {
        Some(b) => b,
        None => out.recv_timeout(left()).map_err(|_| timed_out())?,
    };
    let stderr = err.recv_timeout(left()).map_err(|_| timed_out())?;
    if stdout.len() as u64 > cap || stderr.len() as u64 > cap {
        return Err(flooded());
    }
    Ok(std::process::Output {
        status,
        stdout,
        stderr,
    })
}

/// A parsed `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Challenge {
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
}

/// Parse the first `Basic` or `Bearer` challenge of a `WWW-Authenticate` header
/// (RFC 7235 auth-params: `token=token` or `token="quoted \"string\""`).
pub(crate) fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header
        .split_once(|c: char| c.is_ascii_whitespace())
        .unwrap_or((header, ""));
    let params = parse_params(rest);
    let get = |k: &str| {
        params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.clone())
    };
    if scheme.eq_ignore_ascii_case("basic") {
        Some(Challenge::Basic)
    } else if scheme.eq_ignore_ascii_case("bearer") {
        Some(Challenge::Bearer {
            realm: get("realm")?,
            service: get("service"),
            scope: get("scope"),
        })
    } else {
        None
    }
}

fn parse_params(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars
            .peek()
            .is_some_and(|c| c.is_ascii_whitespace() || *c == ',')
        {
            chars.next();
        }
        let mut name = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ',' || c.is_ascii_whitespace() {
                break;
            }
            name.push(c);
            chars.next();
        }
        if name.is_empty() {
            break;
        }
        while chars.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            chars.next();
        }
        if chars.peek() != Some(&'=') {
            continue;
        }
        chars.next();
        while chars.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' || c.is_ascii_whitespace() {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        out.push((name, value));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges() {
        assert_eq!(
            parse_challenge(
                r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull,push""#
            ),
            Some(Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:a/b:pull,push".into()),
            })
        );
        assert_eq!(
            parse_challenge(r#"Basic realm="basic-realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(
            parse_challenge(r#"bearer realm=http://x/t , service = "a\"b""#),
            Some(Challenge::Bearer {
                realm: "http://x/t".into(),
                service: Some("a\"b".into()),
                scope: None
            })
        );
        assert_eq!(
            parse_challenge("Bearer service=x"),
            None,
            "realm is required"
        );
        assert_eq!(parse_challenge("Negotiate abc"), None);
    }

    #[test]
    fn server_keys() {
        assert_eq!(normalize_server("https://Reg.io:5000/v1/"), "reg.io:5000");
        assert_eq!(normalize_server("https://index.docker.io/v1/"), "docker.io");
        assert_eq!(normalize_server("127.0.0.1:5000"), "127.0.0.1:5000");
    }

    #[test]
    fn debug_redacts() {
        let c = Credential::basic("u", "hunter2");
        assert!(!format!("{c:?}").contains("hunter2"));
        assert!(!format!("{:?}", Credential::IdentityToken("tok".into())).contains("tok"));
    }

    #[test]
    fn environment_user_name_with_a_colon_is_refused_for_its_host() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let (found, unbound) = environment_credential(env(&[
            ("SPECTRO_REGISTRY_USERNAME", "ci:bot"),
            ("SPECTRO_REGISTRY_PASSWORD", "pw"),
            ("SPECTRO_REGISTRY_HOST", "reg.io"),
        ]));
        assert!(!unbound);
        let (host, refused) = found.expect("bound to reg.io");
        assert_eq!(host, "reg.io");
        let why = refused.expect_err("a `:` in the user name");
        assert!(why.contains("SPECTRO_REGISTRY_USERNAME"), "{why}");
        assert!(!why.contains("pw"), "{why}");
        // The store answers the error for that host, so nothing is ever sent with it.
        let store = CredentialStore {
            environment: Some((host, Err(why))),
            ..CredentialStore::default()
        };
        let e = store.lookup("reg.io").expect_err("refused");
        assert!(matches!(e, Error::Credentials(_)), "{e:?}");
        assert!(store.lookup("other.io").unwrap().is_none());

        let (found, _) = environment_credential(env(&[
            ("SPECTRO_REGISTRY_USERNAME", "ci-bot"),
            ("SPECTRO_REGISTRY_PASSWORD", "pw"),
            ("SPECTRO_REGISTRY", "oci://reg.io:5000/base"),
        ]));
        assert_eq!(
            found,
            Some((
                "reg.io:5000".to_owned(),
                Ok(Credential::basic("ci-bot", "pw"))
            ))
        );
        let (found, unbound) = environment_credential(env(&[("SPECTRO_REGISTRY_USERNAME", "a:b")]));
        assert!(found.is_none() && unbound, "bound to no host: never sent");
    }

    #[test]
    fn user_name_with_a_colon_is_refused_before_anything_is_sent() {
        let e = Credential::try_basic("alice:admin", "s3cret").expect_err("a `:`");
        assert!(matches!(e, Error::Credentials(_)), "{e:?}");
        assert!(!e.to_string().contains("s3cret"), "{e}");
        assert_eq!(
            Credential::try_basic("alice", "pass:word").expect("a `:` in a password is fine"),
            Credential::basic("alice", "pass:word")
        );
    }

    #[test]
    fn docker_config_lookup() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("config.json");
        std::fs::write(
            &p,
            r#"{"auths": {"https://reg.io:5000/v1/": {"auth": "dXNlcjpwYXNz"}, "tok.io": {"identitytoken": "rt"}}}"#,
        )
        .unwrap();
        let store = CredentialStore::new().with_docker_config(p);
        assert_eq!(
            store.lookup("reg.io:5000").unwrap().unwrap().0,
            Credential::basic("user", "pass")
        );
        assert_eq!(
            store.lookup("tok.io").unwrap().unwrap().0,
            Credential::IdentityToken("rt".into())
        );
        assert!(store.lookup("other.io").unwrap().is_none());
    }
}
