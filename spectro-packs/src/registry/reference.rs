//! Registry locations and pack references.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::LazyLock;

use regex::Regex;

use crate::error::Error;

/// Repository path below a registry's base where Palette looks for packs.
pub const ARCHIVE_PATH: &str = "spectro-packs/archive";

static NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*$").expect("valid regex"));
static TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$").expect("valid regex"));
static DIGEST: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^sha256:[a-f0-9]{64}$").expect("valid regex"));
static HOST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?$")
        .expect("valid regex")
});

fn invalid(input: &str, reason: impl Into<String>) -> Error {
    Error::InvalidReference {
        // References may carry `user:pass@`: never echo it.
        input: crate::sanitize(&crate::safety::mask_url_userinfo(input)),
        reason: reason.into(),
    }
}

/// Where packs live: a local OCI-layout registry or a remote OCI distribution registry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RegistryLocation {
    /// The embedded registry: a directory of OCI image layouts.
    Local(PathBuf),
    /// An OCI distribution registry: `host[:port]` plus an optional base path.
    Oci {
        /// `host[:port]`.
        host: String,
        /// Base content path (may be empty), without leading or trailing `/`.
        base: String,
    },
}

impl RegistryLocation {
    /// Parse how users write registries: `oci://host[:port]/base`, `host[:port]/base`,
    /// `http(s)://host/base` (scheme dropped; TLS is chosen by flags), `file://PATH` or a
    /// path (`/x`, `./x`, `../x`, `~/x`, or a first segment without `.`/`:` that is not
    /// `localhost`).
    pub fn parse(input: &str) -> Result<Self, Error> {
        let s = input.trim();
        if s.is_empty() {
            return Err(invalid(input, "empty registry"));
        }
        if let Some(p) = s.strip_prefix("file://") {
            return Ok(RegistryLocation::Local(PathBuf::from(p)));
        }
        let remote = ["oci://", "https://", "http://"]
            .iter()
            .find_map(|p| s.strip_prefix(p));
        let rest = match remote {
            Some(r) => r,
            None => {
                let first = s.split('/').next().unwrap_or_default();
                let looks_remote = first.contains('.') && !first.starts_with('.')
                    || first.contains(':')
                    || first == "localhost";
                if s.starts_with(['/', '.', '~']) || !looks_remote {
                    return Ok(RegistryLocation::Local(PathBuf::from(s)));
                }
                s
            }
        };
        let rest = rest.trim_end_matches('/');
        let (host, base) = rest.split_once('/').unwrap_or((rest, ""));
        // `@` cannot appear in a host or a base path: it is userinfo, whatever the
        // password holds (`u:pa/ss@host`).
        if rest.contains('@') {
            return Err(invalid(
                input,
                "credentials in the registry address are not accepted (they would end up in logs and shell history); log in instead",
            ));
        }
        if base.split('/').any(str::is_empty) && !base.is_empty() {
            return Err(invalid(input, "the base path has an empty segment (`//`)"));
        }
        if !HOST.is_match(host) {
            return Err(invalid(
                input,
                format!("`{host}` is not a registry host[:port]"),
            ));
        }
        for seg in base.split('/').filter(|s| !s.is_empty()) {
            if !NAME.is_match(seg) {
                return Err(invalid(
                    input,
                    format!(
                        "base path segment `{seg}` must be lowercase letters, digits and separators"
                    ),
                ));
            }
        }
        Ok(RegistryLocation::Oci {
            host: host.to_ascii_lowercase(),
            base: base.to_owned(),
        })
    }

    /// Expand a leading `~` of a local path with `home` (the frontend passes the user's
    /// home directory; the library reads no environment). `~user` forms and remote
    /// locations are returned unchanged.
    pub fn with_home(self, home: Option<&std::path::Path>) -> Self {
        match (self, home) {
            (RegistryLocation::Local(p), Some(home)) if p.starts_with("~") => {
                let rest = p.strip_prefix("~").unwrap_or(&p).to_path_buf();
                RegistryLocation::Local(home.join(rest))
            }
            (other, _) => other,
        }
    }

    /// Repository of a pack: `<base>/spectro-packs/archive/<name>`.
    pub fn repository(&self, name: &str) -> String {
        match self {
            RegistryLocation::Oci { base, .. } if !base.is_empty() => {
                format!("{base}/{ARCHIVE_PATH}/{name}")
            }
            _ => format!("{ARCHIVE_PATH}/{name}"),
        }
    }
}

impl fmt::Display for RegistryLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegistryLocation::Local(p) => write!(f, "file://{}", p.display()),
            RegistryLocation::Oci { host, base } if base.is_empty() => write!(f, "oci://{host}"),
            RegistryLocation::Oci { host, base } => write!(f, "oci://{host}/{base}"),
        }
    }
}

impl FromStr for RegistryLocation {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        RegistryLocation::parse(s)
    }
}

/// How a pack version is selected.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Selector {
    /// The newest version.
    Latest,
    /// An exact tag (the version).
    Tag(String),
    /// A wildcard tag such as `1.28.x` or `LTS__18.4.x`: the highest matching version.
    Wildcard(String),
    /// A manifest digest.
    Digest(String),
}

/// A pack reference: `name`, `name:tag`, `name:1.28.x` or `name@sha256:<hex>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct PackRef {
    /// Pack name.
    pub name: String,
    /// Which version.
    pub selector: Selector,
}

impl PackRef {
    /// Parse and check a reference.
    pub fn parse(input: &str) -> Result<Self, Error> {
        let s = input.trim();
        if let Some((name, digest)) = s.split_once('@') {
            check_name(input, name)?;
            if !DIGEST.is_match(digest) {
                return Err(invalid(
                    input,
                    "digest must be `sha256:` followed by 64 lowercase hex digits",
                ));
            }
            return Ok(PackRef {
                name: name.to_owned(),
                selector: Selector::Digest(digest.to_owned()),
            });
        }
        let (name, selector) = match s.split_once(':') {
            None => (s, Selector::Latest),
            Some((name, tag)) => {
                if tag.contains(':') || tag.starts_with("sha256") && tag.len() > 64 {
                    return Err(invalid(input, "a digest must follow `@`, not `:`"));
                }
                if !TAG.is_match(tag) {
                    return Err(invalid(
                        input,
                        "tag must be 1-128 characters of letters, digits, `_`, `.` and `-`, not starting with `.` or `-`",
                    ));
                }
                let sel = if tag.split('.').any(|p| p == "x" || p == "X") {
                    // One grammar with profiles: `[GROUP__]1.28.x`, `1.x`; `x` only last.
                    match crate::profile::TagPattern::parse(tag) {
                        Some(p) if p.is_wildcard() => Selector::Wildcard(tag.to_owned()),
                        _ => {
                            return Err(invalid(
                                input,
                                "a wildcard has numbers then a final `x` (`1.28.x`, `1.x`, `LTS__18.4.x`)",
                            ));
                        }
                    }
                } else {
                    Selector::Tag(tag.to_owned())
                };
                (name, sel)
            }
        };
        check_name(input, name)?;
        Ok(PackRef {
            name: name.to_owned(),
            selector,
        })
    }

    /// A reference to an exact version.
    pub fn exact(name: &str, version: &str) -> Result<Self, Error> {
        PackRef::parse(&format!("{name}:{version}"))
    }
}

/// Check a repository name from data (`base/spectro-packs/archive/nginx`) against the
/// distribution grammar: `/`-separated lowercase components, at most 255 bytes. Every
/// store checks names here before building a path or a URL from them.
pub fn check_repository(repo: &str) -> Result<(), Error> {
    if repo.is_empty() || repo.len() > 255 || !repo.split('/').all(|c| NAME.is_match(c)) {
        return Err(Error::InvalidReference {
            input: crate::sanitize(repo),
            reason: "a repository name is `/`-separated lowercase letters and digits joined by `.`, `_`, `__` or `-`, at most 255 bytes".into(),
        });
    }
    Ok(())
}

/// Whether a tag from data is well-formed (safe in a URL), whatever it means.
#[cfg(feature = "remote")]
pub(crate) fn is_tag(tag: &str) -> bool {
    TAG.is_match(tag)
}

fn check_name(input: &str, name: &str) -> Result<(), Error> {
    if name.is_empty() {
        return Err(invalid(input, "empty pack name"));
    }
    if name.len() > 128 || !NAME.is_match(name) {
        let hint = if name.bytes().any(|b| b.is_ascii_uppercase()) {
            " (uppercase is not allowed)"
        } else {
            ""
        };
        return Err(invalid(
            input,
            format!(
                "pack name must be lowercase letters and digits separated by `.`, `_` or `-`{hint}"
            ),
        ));
    }
    Ok(())
}

impl fmt::Display for PackRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.selector {
            Selector::Latest => write!(f, "{}", self.name),
            Selector::Tag(t) | Selector::Wildcard(t) => write!(f, "{}:{t}", self.name),
            Selector::Digest(d) => write!(f, "{}@{d}", self.name),
        }
    }
}

/// Whether `version` matches a wildcard tag: `1.28.x` matches `1.28.*`; `1.x` matches
/// `1.*`. The grammar is the profiles' ([`crate::profile::TagPattern`]); a `GROUP__`
/// prefix is ignored, because registry tags carry no group. Anything that is not a
/// wildcard matches nothing.
pub fn wildcard_matches(wildcard: &str, version: &str) -> bool {
    let Some(pattern) = crate::profile::TagPattern::parse(wildcard).filter(|p| p.is_wildcard())
    else {
        return false;
    };
    crate::version::PackVersion::parse(version).is_ok_and(|v| pattern.matches_version(&v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        assert_eq!(
            RegistryLocation::parse("oci://reg.example.com:5000/base/x").unwrap(),
            RegistryLocation::Oci {
                host: "reg.example.com:5000".into(),
                base: "base/x".into()
            }
        );
        assert_eq!(
            RegistryLocation::parse("127.0.0.1:5000").unwrap(),
            RegistryLocation::Oci {
                host: "127.0.0.1:5000".into(),
                base: String::new()
            }
        );
        assert_eq!(
            RegistryLocation::parse("https://harbor.local/proj/").unwrap(),
            RegistryLocation::Oci {
                host: "harbor.local".into(),
                base: "proj".into()
            }
        );
        assert_eq!(
            RegistryLocation::parse("localhost:5000").unwrap(),
            RegistryLocation::Oci {
                host: "localhost:5000".into(),
                base: String::new()
            }
        );
        assert_eq!(
            RegistryLocation::parse("file:///tmp/r").unwrap(),
            RegistryLocation::Local("/tmp/r".into())
        );
        assert_eq!(
            RegistryLocation::parse("./packs").unwrap(),
            RegistryLocation::Local("./packs".into())
        );
        assert_eq!(
            RegistryLocation::parse("packs/local").unwrap(),
            RegistryLocation::Local("packs/local".into())
        );
        assert!(RegistryLocation::parse("oci://bad_host/x").is_err());
        assert!(RegistryLocation::parse("oci://h.io/UPPER").is_err());
        // Issue 12 item 37: an empty base segment and credentials are refused early.
        assert!(RegistryLocation::parse("oci://h.io//base").is_err());
        for input in [
            "oci://u:secret@h.io/b",
            "oci://u:se/cret@h.io/b",
            "u:se/cret@h.io",
        ] {
            let e = RegistryLocation::parse(input).unwrap_err().to_string();
            assert!(!e.contains("secret") && !e.contains("se/cret"), "{e}");
        }
        let r = RegistryLocation::parse("oci://h.io/base").unwrap();
        assert_eq!(r.repository("nginx"), "base/spectro-packs/archive/nginx");
    }

    #[test]
    fn pack_refs() {
        assert_eq!(PackRef::parse("nginx").unwrap().selector, Selector::Latest);
        assert_eq!(
            PackRef::parse("nginx:1.2.3").unwrap().selector,
            Selector::Tag("1.2.3".into())
        );
        assert_eq!(
            PackRef::parse("k8s:1.28.x").unwrap().selector,
            Selector::Wildcard("1.28.x".into())
        );
        let d = format!("sha256:{}", "a".repeat(64));
        assert_eq!(
            PackRef::parse(&format!("nginx@{d}")).unwrap().selector,
            Selector::Digest(d.clone())
        );
        for bad in [
            "Nginx:1.0",
            "nginx:",
            "nginx:.x",
            &format!("nginx:{}", "1".repeat(129)),
            &format!("nginx:{d}"),
            "nginx@sha1:abc",
            "../x",
            "a/b",
        ] {
            assert!(PackRef::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_matches("1.28.x", "1.28.4"));
        assert!(!wildcard_matches("1.28.x", "1.29.0"));
        assert!(wildcard_matches("1.x", "1.29.0"));
        assert!(wildcard_matches("LTS__18.4.x", "18.4.3"));
        assert!(!wildcard_matches("1.2.x", "1.20.1"));
        // One grammar with profiles: `x` only as the last part, after numbers.
        for bad in ["nginx:1.x.2", "nginx:x.1", "nginx:x", "nginx:1.x.x"] {
            assert!(PackRef::parse(bad).is_err(), "{bad} must be refused");
        }
        assert!(!wildcard_matches("1.x.2", "1.0.2"));
        assert!(
            !wildcard_matches("1.28.4", "1.28.4"),
            "an exact tag is no wildcard"
        );
    }
}
