//! The distribution API of the fake registry (`fake.rs`): `/v2/`, blobs (with `Range`),
//! upload sessions (POST with cross-repository mounts, PATCH with `Content-Range`,
//! status, PUT with the digest, DELETE), manifests by tag or digest, tag lists and the
//! catalog with `n`/`last` pagination and `Link` headers. Statuses, headers and error
//! codes follow CNCF distribution. Also the authentication gate (Basic, Bearer with
//! per-token scopes) and the token service.

use base64::Engine as _;
use reqwest::Method;
use serde_json::Value;

use super::fake::{AUTH_HOST, FakeRegistry, Gate, Locations, Reply, Req, Upload};
use crate::registry::oci;

/// `service` of the Bearer challenge.
const SERVICE: &str = "fake-registry";

/// What a `/v2/...` path names.
#[derive(Debug)]
pub(super) enum Route {
    Base,
    Catalog,
    Tags(String),
    Manifest(String, String),
    Blob(String, String),
    /// `/v2/<repo>/blobs/uploads/`: start a session.
    Uploads(String),
    /// `/v2/<repo>/blobs/uploads/<id>`: one session.
    Upload(String, String),
    Unknown,
}

impl Route {
    pub(super) fn parse(path: &str) -> Route {
        let rest = path.strip_prefix("/v2").unwrap_or(path);
        let rest = rest.strip_prefix('/').unwrap_or(rest);
        if rest.is_empty() {
            return Route::Base;
        }
        if rest == "_catalog" {
            return Route::Catalog;
        }
        if let Some((repo, id)) = rest.split_once("/blobs/uploads/") {
            return match id {
                "" => Route::Uploads(repo.to_owned()),
                id => Route::Upload(repo.to_owned(), id.to_owned()),
            };
        }
        if let Some(repo) = rest.strip_suffix("/blobs/uploads") {
            return Route::Uploads(repo.to_owned());
        }
        if let Some((repo, digest)) = rest.rsplit_once("/blobs/") {
            return Route::Blob(repo.to_owned(), digest.to_owned());
        }
        if let Some((repo, reference)) = rest.rsplit_once("/manifests/") {
            return Route::Manifest(repo.to_owned(), reference.to_owned());
        }
        if let Some(repo) = rest.strip_suffix("/tags/list") {
            return Route::Tags(repo.to_owned());
        }
        Route::Unknown
    }

    /// The (resource, action) pairs a Bearer token must grant for `req`.
    pub(super) fn needs(&self, req: &Req) -> Vec<(String, String)> {
        let repo = |r: &str, action: &str| (format!("repository:{r}"), action.to_owned());
        let by_method = |r: &str| match req.method {
            Method::GET | Method::HEAD => repo(r, "pull"),
            Method::DELETE => repo(r, "delete"),
            _ => repo(r, "push"),
        };
        match self {
            Route::Base | Route::Unknown => Vec::new(),
            Route::Catalog => vec![("registry:catalog".into(), "*".into())],
            Route::Tags(r) => vec![repo(r, "pull")],
            Route::Manifest(r, _) | Route::Blob(r, _) => vec![by_method(r)],
            Route::Uploads(r) => {
                let mut v = vec![repo(r, "push")];
                if let (Some(_), Some(from)) = (req.query("mount"), req.query("from")) {
                    v.push(repo(from, "pull"));
                }
                v
            }
            Route::Upload(r, _) => vec![repo(r, "push")],
        }
    }
}

fn not_allowed() -> Reply {
    Reply::error(405, "UNSUPPORTED", "the operation is unsupported")
}

/// `"bytes=N-"` or `"bytes=N-M"`.
fn parse_range(h: &str) -> Option<(u64, Option<u64>)> {
    let (start, end) = h.trim().strip_prefix("bytes=")?.split_once('-')?;
    let end = match end.trim() {
        "" => None,
        e => Some(e.parse().ok()?),
    };
    Some((start.trim().parse().ok()?, end))
}

/// `Range` of an upload session holding `size` bytes (`0-0` when empty, like
/// distribution).
fn upload_range(size: usize) -> String {
    format!("0-{}", size.saturating_sub(1))
}

impl FakeRegistry {
    /// `None` when the request may pass, else the 401 to answer.
    pub(super) fn gate(&self, req: &Req, route: &Route) -> Option<Reply> {
        let sent = req.header("authorization").unwrap_or_default();
        match self.config().gate {
            Gate::Open => None,
            Gate::Basic(user, pass) => (sent != basic(&user, &pass)).then(|| {
                Reply::error(401, "UNAUTHORIZED", "authentication required")
                    .header("www-authenticate", "Basic realm=\"fake-registry\"")
            }),
            Gate::Bearer { .. } => {
                let needs = route.needs(req);
                let granted = sent
                    .strip_prefix("Bearer ")
                    .and_then(|t| self.state().tokens.get(t).cloned());
                let missing = match &granted {
                    None => needs
                        .first()
                        .cloned()
                        .or(Some((String::new(), String::new()))),
                    Some(scopes) => needs.iter().find(|n| !covers(scopes, n)).cloned(),
                };
                let (resource, action) = missing?;
                let mut challenge =
                    format!("Bearer realm=\"https://{AUTH_HOST}/token\",service=\"{SERVICE}\"");
                if !resource.is_empty() {
                    challenge.push_str(&format!(",scope=\"{resource}:{action}\""));
                }
                Some(
                    Reply::error(401, "UNAUTHORIZED", "authentication required")
                        .header("www-authenticate", challenge),
                )
            }
        }
    }

    /// The token service: `{"token": ...}` granting the scopes asked for (only `pull`
    /// to an anonymous client).
    pub(super) fn token(&self, req: &Req) -> Reply {
        let Gate::Bearer { login, anonymous } = self.config().gate else {
            return Reply::error(404, "NOT_FOUND", "this registry has no token service");
        };
        let sent = req.header("authorization");
        let full = match (&login, sent) {
            (Some((u, p)), Some(s)) if s == basic(u, p) => true,
            (None, None) | (Some(_), None) if anonymous => false,
            _ => return Reply::error(401, "UNAUTHORIZED", "bad credentials"),
        };
        let mut granted = Vec::new();
        for scope in req
            .query
            .iter()
            .filter(|(k, _)| k == "scope")
            .flat_map(|(_, v)| v.split(' '))
            .filter(|s| !s.is_empty())
        {
            let Some((resource, actions)) = scope.rsplit_once(':') else {
                continue;
            };
            let actions: Vec<&str> = actions
                .split(',')
                .filter(|a| full || *a == "pull")
                .collect();
            if !actions.is_empty() {
                granted.push(format!("{resource}:{}", actions.join(",")));
            }
        }
        let mut st = self.state();
        st.next_id += 1;
        let token = format!("token-{}", st.next_id);
        st.tokens.insert(token.clone(), granted);
        Reply::new(200)
            .header("content-type", "application/json")
            .body(
                serde_json::json!({"token": token, "expires_in": 300})
                    .to_string()
                    .into_bytes(),
            )
    }
}

/// The `Authorization` value for Basic credentials.
fn basic(user: &str, pass: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
    )
}

/// Whether granted scopes allow `action` on `resource`.
fn covers(granted: &[String], (resource, action): &(String, String)) -> bool {
    granted.iter().any(|g| {
        g.rsplit_once(':').is_some_and(|(r, actions)| {
            r == resource && actions.split(',').any(|a| a == action || a == "*")
        })
    })
}

impl FakeRegistry {
    /// Answer a distribution API request.
    pub(super) fn api(&self, req: &Req, route: &Route) -> Reply {
        let get = matches!(req.method, Method::GET | Method::HEAD);
        let mut reply = match route {
            Route::Base if get => Reply::new(200)
                .header("docker-distribution-api-version", "registry/2.0")
                .header("content-type", "application/json")
                .body(b"{}".to_vec()),
            Route::Catalog if get => self.catalog(req),
            Route::Tags(repo) if get => self.list_tags(req, repo),
            Route::Manifest(repo, r) if get => self.get_manifest(repo, r),
            Route::Manifest(repo, r) if req.method == Method::PUT => {
                self.put_manifest(req, repo, r)
            }
            Route::Manifest(repo, r) if req.method == Method::DELETE => {
                self.delete_manifest(repo, r)
            }
            Route::Blob(repo, d) if get => self.get_blob(req, repo, d),
            Route::Blob(repo, d) if req.method == Method::DELETE => self.delete_blob(repo, d),
            Route::Uploads(repo) if req.method == Method::POST => self.start_upload(req, repo),
            Route::Upload(repo, id) => self.session(req, repo, id),
            Route::Unknown => Reply::error(404, "NOT_FOUND", "no such endpoint"),
            _ => not_allowed(),
        };
        if req.method == Method::HEAD {
            let len = reply.body.len().to_string();
            reply.set("content-length", &len);
            reply.body.clear();
        }
        reply
    }

    fn catalog(&self, req: &Req) -> Reply {
        let names: Vec<String> = self.state().repos.keys().cloned().collect();
        let (page, link) = self.page(req, &names, "/v2/_catalog");
        let mut reply = Reply::new(200)
            .header("content-type", "application/json")
            .body(
                serde_json::json!({ "repositories": page })
                    .to_string()
                    .into_bytes(),
            );
        if let Some(l) = link {
            reply.set("link", &l);
        }
        reply
    }

    fn list_tags(&self, req: &Req, repo: &str) -> Reply {
        let Some(tags) = self
            .state()
            .repos
            .get(repo)
            .map(|r| r.tags.keys().cloned().collect::<Vec<_>>())
        else {
            return Reply::error(404, "NAME_UNKNOWN", "repository name not known to registry");
        };
        let (page, link) = self.page(req, &tags, &format!("/v2/{repo}/tags/list"));
        let mut reply = Reply::new(200)
            .header("content-type", "application/json")
            .body(
                serde_json::json!({ "name": repo, "tags": page })
                    .to_string()
                    .into_bytes(),
            );
        if let Some(l) = link {
            reply.set("link", &l);
        }
        reply
    }

    /// One page of sorted `items` after `last`, at most `n` (capped by the page size),
    /// and the `Link` to the next page when there is more.
    fn page(&self, req: &Req, items: &[String], path: &str) -> (Vec<String>, Option<String>) {
        let cap = self.config().page_size.max(1);
        let n = req
            .query("n")
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(cap)
            .clamp(1, cap);
        let mut sorted: Vec<&String> = items
            .iter()
            .filter(|i| req.query("last").is_none_or(|l| i.as_str() > l))
            .collect();
        sorted.sort();
        let more = sorted.len() > n;
        let page: Vec<String> = sorted.into_iter().take(n).cloned().collect();
        let link = more
            .then(|| page.last())
            .flatten()
            .map(|last| format!("<{path}?last={last}&n={n}>; rel=\"next\""));
        (page, link)
    }

    fn get_manifest(&self, repo: &str, reference: &str) -> Reply {
        let st = self.state();
        let found = st.repos.get(repo).and_then(|r| {
            let digest = if oci::is_sha256_digest(reference) {
                reference
            } else {
                r.tags.get(reference)?.as_str()
            };
            r.manifests
                .get(digest)
                .map(|m| (digest.to_owned(), m.clone()))
        });
        match found {
            Some((digest, (media_type, bytes))) => Reply::new(200)
                .header("docker-content-digest", digest)
                .header("content-type", media_type)
                .body(bytes.to_vec()),
            None => Reply::error(404, "MANIFEST_UNKNOWN", "manifest unknown"),
        }
    }

    fn put_manifest(&self, req: &Req, repo: &str, reference: &str) -> Reply {
        let digest = oci::sha256_digest(&req.body);
        if oci::is_sha256_digest(reference) && reference != digest {
            return Reply::error(
                400,
                "DIGEST_INVALID",
                "provided digest did not match content",
            );
        }
        let Ok(v) = serde_json::from_slice::<Value>(&req.body) else {
            return Reply::error(400, "MANIFEST_INVALID", "manifest invalid");
        };
        let media_type = req
            .header("content-type")
            .or_else(|| v["mediaType"].as_str())
            .unwrap_or(oci::MANIFEST_MEDIA_TYPE)
            .to_owned();
        let referenced: Vec<String> = std::iter::once(&v["config"])
            .chain(v["layers"].as_array().into_iter().flatten())
            .filter_map(|d| d["digest"].as_str().map(str::to_owned))
            .collect();
        let mut st = self.state();
        let r = st.repos.entry(repo.to_owned()).or_default();
        if let Some(missing) = referenced.iter().find(|d| !r.blobs.contains_key(*d)) {
            return Reply::error(
                400,
                "MANIFEST_BLOB_UNKNOWN",
                &format!("blob unknown to registry: {missing}"),
            );
        }
        r.manifests
            .insert(digest.clone(), (media_type, req.body.clone().into()));
        if !oci::is_sha256_digest(reference) {
            r.tags.insert(reference.to_owned(), digest.clone());
        }
        Reply::new(201)
            .header("location", format!("/v2/{repo}/manifests/{digest}"))
            .header("docker-content-digest", digest)
    }

    fn delete_manifest(&self, repo: &str, reference: &str) -> Reply {
        if !self.config().deletes {
            return not_allowed();
        }
        if !oci::is_sha256_digest(reference) {
            return Reply::error(400, "UNSUPPORTED", "delete manifests by digest");
        }
        let mut st = self.state();
        let Some(r) = st.repos.get_mut(repo) else {
            return Reply::error(404, "MANIFEST_UNKNOWN", "manifest unknown");
        };
        if r.manifests.remove(reference).is_none() {
            return Reply::error(404, "MANIFEST_UNKNOWN", "manifest unknown");
        }
        r.tags.retain(|_, d| d != reference);
        Reply::new(202)
    }

    fn get_blob(&self, req: &Req, repo: &str, digest: &str) -> Reply {
        let Some(bytes) = self.blob(repo, digest) else {
            return Reply::error(404, "BLOB_UNKNOWN", "blob unknown to registry");
        };
        let total = bytes.len() as u64;
        let reply = Reply::new(200)
            .header("docker-content-digest", digest)
            .header("content-type", "application/octet-stream")
            .header("accept-ranges", "bytes");
        let Some((start, end)) = req.header("range").and_then(parse_range) else {
            return reply.body(bytes.to_vec());
        };
        let end = end.unwrap_or(u64::MAX).min(total.saturating_sub(1));
        if start >= total || start > end {
            return Reply::error(416, "RANGE_INVALID", "range not satisfiable")
                .header("content-range", format!("bytes */{total}"));
        }
        let mut reply = reply
            .header("content-range", format!("bytes {start}-{end}/{total}"))
            .body(bytes[start as usize..=end as usize].to_vec());
        reply.status = 206;
        reply
    }

    fn delete_blob(&self, repo: &str, digest: &str) -> Reply {
        if !self.config().deletes {
            return not_allowed();
        }
        match self
            .state()
            .repos
            .get_mut(repo)
            .and_then(|r| r.blobs.remove(digest))
        {
            Some(_) => Reply::new(202),
            None => Reply::error(404, "BLOB_UNKNOWN", "blob unknown to registry"),
        }
    }

    /// Store a blob in `repo` and answer `201 Created` for it.
    fn created(&self, repo: &str, digest: &str, bytes: Vec<u8>) -> Reply {
        self.state()
            .repos
            .entry(repo.to_owned())
            .or_default()
            .blobs
            .insert(digest.to_owned(), bytes.into());
        Reply::new(201)
            .header("location", format!("/v2/{repo}/blobs/{digest}"))
            .header("docker-content-digest", digest)
    }

    /// POST: mount from another repository when it has the blob, take a whole blob
    /// with `?digest=`, else open a session.
    fn start_upload(&self, req: &Req, repo: &str) -> Reply {
        if let (Some(digest), Some(from)) = (req.query("mount"), req.query("from"))
            && let Some(bytes) = self.blob(from, digest)
        {
            return self.created(repo, digest, bytes.to_vec());
        }
        if let Some(digest) = req.query("digest") {
            if oci::sha256_digest(&req.body) != digest {
                return Reply::error(
                    400,
                    "DIGEST_INVALID",
                    "provided digest did not match content",
                );
            }
            return self.created(repo, digest, req.body.clone());
        }
        let mut st = self.state();
        st.next_id += 1;
        let id = format!("session-{}", st.next_id);
        st.uploads.insert(
            id.clone(),
            Upload {
                repo: repo.to_owned(),
                data: Vec::new(),
            },
        );
        drop(st);
        self.session_reply(202, req, repo, &id, 0)
    }

    /// An answer about session `id` holding `size` bytes: `Location` (with `_state`,
    /// written as configured), `Range`, `Docker-Upload-UUID`.
    fn session_reply(&self, status: u16, req: &Req, repo: &str, id: &str, size: usize) -> Reply {
        let session = format!("{id}?_state={id}.{size}");
        let location = match self.config().locations {
            Locations::Absolute => format!(
                "{}://{}/v2/{repo}/blobs/uploads/{session}",
                req.scheme, req.host
            ),
            Locations::Path => format!("/v2/{repo}/blobs/uploads/{session}"),
            Locations::Relative => session,
        };
        Reply::new(status)
            .header("location", location)
            .header("range", upload_range(size))
            .header("docker-upload-uuid", id)
    }

    /// Requests on an open session: GET status, PATCH a chunk, PUT to finish, DELETE.
    fn session(&self, req: &Req, repo: &str, id: &str) -> Reply {
        let strict = self.config().strict_state;
        let mut st = self.state();
        let Some(up) = st.uploads.get_mut(id).filter(|u| u.repo == repo) else {
            return Reply::error(
                404,
                "BLOB_UPLOAD_UNKNOWN",
                "blob upload unknown to registry",
            );
        };
        let size = up.data.len();
        if strict && req.query("_state") != Some(format!("{id}.{size}").as_str()) {
            st.uploads.remove(id);
            return Reply::error(404, "BLOB_UPLOAD_INVALID", "upload resumed at wrong offset");
        }
        match req.method {
            Method::GET => {
                drop(st);
                self.session_reply(204, req, repo, id, size)
            }
            Method::DELETE => {
                st.uploads.remove(id);
                Reply::new(204)
            }
            Method::PATCH => {
                if let Some(cr) = req.header("content-range") {
                    let parsed = cr
                        .trim()
                        .trim_start_matches("bytes ")
                        .split_once('-')
                        .and_then(|(a, b)| {
                            Some((a.parse::<usize>().ok()?, b.parse::<usize>().ok()?))
                        });
                    match parsed {
                        Some((start, _)) if start != size => {
                            drop(st);
                            return self.session_reply(416, req, repo, id, size);
                        }
                        Some((start, end))
                            if end.checked_sub(start) == req.body.len().checked_sub(1) => {}
                        _ => {
                            return Reply::error(400, "BLOB_UPLOAD_INVALID", "bad Content-Range");
                        }
                    }
                }
                up.data.extend_from_slice(&req.body);
                let size = up.data.len();
                drop(st);
                self.session_reply(202, req, repo, id, size)
            }
            Method::PUT => {
                let Some(digest) = req.query("digest").map(str::to_owned) else {
                    return Reply::error(400, "DIGEST_INVALID", "no digest given");
                };
                up.data.extend_from_slice(&req.body);
                let Some(up) = st.uploads.remove(id) else {
                    return Reply::error(404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown");
                };
                drop(st);
                if oci::sha256_digest(&up.data) != digest {
                    return Reply::error(
                        400,
                        "DIGEST_INVALID",
                        "provided digest did not match content",
                    );
                }
                self.created(repo, &digest, up.data)
            }
            _ => not_allowed(),
        }
    }
}
