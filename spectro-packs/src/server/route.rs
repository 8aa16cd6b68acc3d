//! Request routing of the distribution API, as a pure function of the path.
//!
//! Repository names hold `/`, so the API's fixed words are matched from the end of the
//! path (`.../manifests/<ref>`, `.../blobs/uploads/<id>`, `.../tags/list`), and whatever
//! is left is the name, which must then pass the spec's name grammar. Every string that
//! comes back (name, digest, tag, session id) has passed its format check, so handlers
//! can build paths and headers from it.

use crate::registry::check_repository;
use crate::registry::oci::parse_digest;

/// What a request path asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `GET /health` (the legacy Spectro registry's probe).
    Health,
    /// `/v2/`.
    Base,
    /// `/v2/_catalog`.
    Catalog,
    /// `/v2/<name>/tags/list`.
    Tags {
        /// Repository.
        repo: String,
    },
    /// `/v2/<name>/manifests/<reference>`.
    Manifest {
        /// Repository.
        repo: String,
        /// A tag or a digest.
        reference: Reference,
    },
    /// `/v2/<name>/blobs/<digest>`.
    Blob {
        /// Repository.
        repo: String,
        /// Digest (well-formed, accepted algorithm).
        digest: String,
    },
    /// `/v2/<name>/blobs/uploads/`.
    UploadStart {
        /// Repository.
        repo: String,
    },
    /// `/v2/<name>/blobs/uploads/<id>`.
    Upload {
        /// Repository.
        repo: String,
        /// Session id (lowercase hex).
        id: String,
    },
    /// `/v2/<name>/referrers/<digest>`.
    Referrers {
        /// Repository.
        repo: String,
        /// Digest of the subject.
        digest: String,
    },
    /// A well-shaped API path whose name, digest or tag is malformed.
    Invalid {
        /// The distribution error code (`NAME_INVALID`, `DIGEST_INVALID`, `TAG_INVALID`).
        code: &'static str,
        /// What was wrong.
        message: String,
    },
    /// Nothing we serve.
    NotFound,
}

/// A manifest reference: a tag or a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// A tag (`[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`).
    Tag(String),
    /// A digest in an accepted algorithm.
    Digest(String),
}

impl Reference {
    /// The reference as it appears in a URL.
    pub fn as_str(&self) -> &str {
        match self {
            Reference::Tag(s) | Reference::Digest(s) => s,
        }
    }
}

/// Longest path we route (a 255-byte name and a sha512 digest fit many times over).
const MAX_PATH: usize = 2048;

/// Whether `tag` is a tag the distribution spec allows.
pub fn is_tag(tag: &str) -> bool {
    let b = tag.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

/// Whether `id` has the shape of the upload session ids we hand out.
pub(crate) fn is_session_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn invalid(code: &'static str, message: impl Into<String>) -> Route {
    Route::Invalid {
        code,
        message: message.into(),
    }
}

/// Names the storage uses inside a repository's folder: a repository nested under
/// another may not take them (`a/blobs` would land in `a`'s blob folder).
const RESERVED: &[&str] = &["blobs", "index.json", "oci-layout"];

fn name(parts: &[&str]) -> Result<String, Route> {
    let repo = parts.join("/");
    if check_repository(&repo).is_err() {
        return Err(invalid(
            "NAME_INVALID",
            format!("invalid repository name `{}`", crate::sanitize(&repo)),
        ));
    }
    if let Some(r) = parts.iter().find(|p| RESERVED.contains(p)) {
        return Err(invalid(
            "NAME_INVALID",
            format!(
                "`{r}` is reserved by the registry's storage and cannot be part of a repository name"
            ),
        ));
    }
    Ok(repo)
}

fn digest(d: &str) -> Result<String, Route> {
    if parse_digest(d).is_some() {
        Ok(d.to_owned())
    } else {
        Err(invalid(
            "DIGEST_INVALID",
            format!(
                "invalid or unsupported digest `{}` (sha256 or sha512, lowercase hex)",
                crate::sanitize(d)
            ),
        ))
    }
}

/// Route a request path (without the query string).
pub fn route(path: &str) -> Route {
    if path.len() > MAX_PATH {
        return Route::NotFound;
    }
    if path == "/health" {
        return Route::Health;
    }
    if path == "/v2" || path == "/v2/" {
        return Route::Base;
    }
    if path == "/v2/_catalog" {
        return Route::Catalog;
    }
    let Some(rest) = path.strip_prefix("/v2/") else {
        return Route::NotFound;
    };
    let parts: Vec<&str> = rest.split('/').collect();
    let n = parts.len();
    let result = (|| -> Result<Route, Route> {
        if n >= 3 && parts[n - 2] == "tags" && parts[n - 1] == "list" {
            return Ok(Route::Tags {
                repo: name(&parts[..n - 2])?,
            });
        }
        if n >= 4 && parts[n - 3] == "blobs" && parts[n - 2] == "uploads" {
            let repo = name(&parts[..n - 3])?;
            let id = parts[n - 1];
            if id.is_empty() {
                return Ok(Route::UploadStart { repo });
            }
            if !is_session_id(id) {
                return Err(invalid("BLOB_UPLOAD_UNKNOWN", "no such upload session"));
            }
            return Ok(Route::Upload {
                repo,
                id: id.to_owned(),
            });
        }
        if n >= 3 && parts[n - 2] == "blobs" && parts[n - 1] == "uploads" {
            return Ok(Route::UploadStart {
                repo: name(&parts[..n - 2])?,
            });
        }
        if n >= 3 && parts[n - 2] == "blobs" {
            let repo = name(&parts[..n - 2])?;
            return Ok(Route::Blob {
                repo,
                digest: digest(parts[n - 1])?,
            });
        }
        if n >= 3 && parts[n - 2] == "manifests" {
            let repo = name(&parts[..n - 2])?;
            let r = parts[n - 1];
            let reference = if r.contains(':') {
                Reference::Digest(digest(r)?)
            } else if is_tag(r) {
                Reference::Tag(r.to_owned())
            } else {
                return Err(invalid(
                    "TAG_INVALID",
                    format!("invalid tag `{}`", crate::sanitize(r)),
                ));
            };
            return Ok(Route::Manifest { repo, reference });
        }
        if n >= 3 && parts[n - 2] == "referrers" {
            let repo = name(&parts[..n - 2])?;
            return Ok(Route::Referrers {
                repo,
                digest: digest(parts[n - 1])?,
            });
        }
        Err(Route::NotFound)
    })();
    result.unwrap_or_else(|r| r)
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

    #[test]
    fn routes_names_with_slashes_and_api_words() {
        assert_eq!(
            route(&format!(
                "/v2/a/b/spectro-packs/archive/nginx/manifests/{D}"
            )),
            Route::Manifest {
                repo: "a/b/spectro-packs/archive/nginx".into(),
                reference: Reference::Digest(D.into())
            }
        );
        // A repository may itself be called `manifests` or `blobs`.
        assert_eq!(
            route("/v2/x/manifests/manifests/1.0"),
            Route::Manifest {
                repo: "x/manifests".into(),
                reference: Reference::Tag("1.0".into())
            }
        );
        assert_eq!(
            route("/v2/tags/tags/list"),
            Route::Tags {
                repo: "tags".into()
            }
        );
        // Names the storage uses inside a repository are not repository names.
        for p in [
            "/v2/blobs/tags/list",
            "/v2/a/blobs/blobs/uploads/",
            "/v2/a/oci-layout/manifests/x",
        ] {
            assert!(
                matches!(
                    route(p),
                    Route::Invalid {
                        code: "NAME_INVALID",
                        ..
                    }
                ),
                "{p}: {:?}",
                route(p)
            );
        }
        assert_eq!(
            route("/v2/r/blobs/uploads/"),
            Route::UploadStart { repo: "r".into() }
        );
        assert_eq!(
            route("/v2/r/blobs/uploads"),
            Route::UploadStart { repo: "r".into() }
        );
        let id = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            route(&format!("/v2/r/blobs/uploads/{id}")),
            Route::Upload {
                repo: "r".into(),
                id: id.into()
            }
        );
    }

    #[test]
    fn refuses_what_could_escape_or_is_malformed() {
        for p in [
            "/v2/../etc/manifests/x",
            "/v2/a//b/manifests/x",
            "/v2/A/manifests/x",
            "/v2//manifests/x",
            "/v2/a/manifests/x/../../y",
        ] {
            assert!(
                matches!(
                    route(p),
                    Route::Invalid {
                        code: "NAME_INVALID",
                        ..
                    } | Route::NotFound
                ),
                "{p}: {:?}",
                route(p)
            );
        }
        assert!(matches!(
            route("/v2/a/blobs/sha256:..%2f..%2fx"),
            Route::Invalid {
                code: "DIGEST_INVALID",
                ..
            }
        ));
        assert_eq!(route("/v2/a/blobs/sha256:../../x"), Route::NotFound);
        assert!(matches!(
            route("/v2/a/blobs/md5:abcd"),
            Route::Invalid {
                code: "DIGEST_INVALID",
                ..
            }
        ));
        assert!(matches!(
            route("/v2/a/manifests/-bad"),
            Route::Invalid {
                code: "TAG_INVALID",
                ..
            }
        ));
        assert!(matches!(
            route("/v2/a/blobs/uploads/../../x"),
            Route::Invalid { .. } | Route::NotFound
        ));
        assert_eq!(route(&"/v2/a".repeat(1000)), Route::NotFound);
        assert_eq!(route("/v1/x"), Route::NotFound);
    }

    #[test]
    fn tags_follow_the_spec_grammar() {
        assert!(is_tag("1.0.0"));
        assert!(is_tag("_x"));
        assert!(is_tag(&"a".repeat(128)));
        assert!(!is_tag(&"a".repeat(129)));
        assert!(!is_tag(".x"));
        assert!(!is_tag("a/b"));
        assert!(!is_tag(""));
    }
}
