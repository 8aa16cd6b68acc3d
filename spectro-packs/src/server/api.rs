//! The distribution API's handlers, the accept loop and TLS.

use std::collections::HashMap;
use std::io::{self, SeekFrom};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncSeekExt as _, AsyncWriteExt as _};

use super::ServeOptions;
use super::auth::{Access, Htpasswd, Login};
use super::route::{self, Reference, Route};
use crate::error::{Error, Result};
use crate::registry::oci::{self, DigestAlgorithm, DigestHasher};
use crate::registry::{CancelFlag, LayoutStore, Store};

pub(super) type Body = BoxBody<Bytes, io::Error>;

fn full(b: impl Into<Bytes>) -> Body {
    Full::new(b.into()).map_err(|never| match never {}).boxed()
}

fn empty() -> Body {
    full(Bytes::new())
}

/// An upload session: the repository it was opened for (fixed) and its state.
struct Entry {
    repo: String,
    session: Arc<tokio::sync::Mutex<Session>>,
}

/// An upload in progress.
struct Session {
    /// The data so far; `None` once the upload was committed or dropped (a request that
    /// still held the session then finds it gone).
    file: Option<tempfile::NamedTempFile>,
    size: u64,
    /// sha256 of the bytes so far (most uploads end with a sha256 digest, so the file is
    /// not read again).
    hasher: DigestHasher,
    touched: Instant,
}

pub(super) struct State {
    store: LayoutStore,
    opts: ServeOptions,
    auth: Option<Htpasswd>,
    sessions: Mutex<HashMap<String, Arc<Entry>>>,
    /// Serialises `index.json` rewrites inside this process (the file lock does it
    /// across processes).
    index_lock: Mutex<()>,
    requests: AtomicU64,
}

impl State {
    pub(super) fn new(store: LayoutStore, opts: ServeOptions, auth: Option<Htpasswd>) -> Self {
        State {
            store,
            opts,
            auth,
            sessions: Mutex::new(HashMap::new()),
            index_lock: Mutex::new(()),
            requests: AtomicU64::new(0),
        }
    }
}

impl State {
    /// Forget sessions idle for longer than `idle` (busy ones are in use: kept).
    fn drop_idle_sessions(&self, idle: Duration) {
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        sessions.retain(|_, e| {
            e.session
                .try_lock()
                .map(|s| s.file.is_some() && s.touched.elapsed() < idle)
                .unwrap_or(true)
        });
    }
}

/// An OCI error response.
struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    headers: Vec<(header::HeaderName, String)>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            headers: Vec::new(),
        }
    }

    fn with(mut self, name: header::HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    fn response(self) -> Response<Body> {
        let body = json!({"errors": [{"code": self.code, "message": self.message}]});
        let mut r = Response::builder()
            .status(self.status)
            .header(header::CONTENT_TYPE, "application/json");
        for (k, v) in self.headers {
            r = r.header(k, v);
        }
        r.body(full(body.to_string()))
            .unwrap_or_else(|_| Response::new(empty()))
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            // What clients send is judged where it is read, with its own answer; an error
            // from storage is the server's, and its text (paths) stays in the server.
            Error::Io { source, .. } if is_disk_full(&source) => ApiError::new(
                StatusCode::INSUFFICIENT_STORAGE,
                "UNKNOWN",
                "the registry's disk is full; nothing of this request was stored",
            ),
            _ => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "UNKNOWN",
                "the registry could not complete the request (see its log)",
            ),
        }
    }
}

type ApiResult = std::result::Result<Response<Body>, ApiError>;

fn is_disk_full(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded | io::ErrorKind::FileTooLarge
    )
}

fn not_found_blob(digest: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "BLOB_UNKNOWN",
        format!("blob {digest} is not in this repository"),
    )
}

fn upload_unknown() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "BLOB_UPLOAD_UNKNOWN",
        "no such upload session",
    )
}

/// Run blocking storage work off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> std::result::Result<T, ApiError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(ApiError::from),
        Err(_) => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "UNKNOWN",
            "internal error",
        )),
    }
}

fn query(req: &Request<Incoming>) -> Vec<(String, String)> {
    req.uri()
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .take(64)
                .collect()
        })
        .unwrap_or_default()
}

fn param<'a>(q: &'a [(String, String)], key: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn random_id() -> String {
    let mut b = [0u8; 16];
    if getrandom::fill(&mut b).is_err() {
        // No OS randomness is not a state to serve uploads in; fall back to a hash of
        // time and address, still unguessable enough only for a local registry.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let d = oci::sha256_digest(format!("{t}{:p}", &b).as_bytes());
        return d["sha256:".len().."sha256:".len() + 32].to_owned();
    }
    hex::encode(b)
}

/// `0-<last byte>` as the upload API reports progress (`0-0` when empty).
fn range_header(size: u64) -> String {
    format!("0-{}", size.saturating_sub(1))
}

fn upload_location(repo: &str, id: &str) -> String {
    format!("/v2/{repo}/blobs/uploads/{id}")
}

/// Requests' path for the log: the upload session id is a bearer secret.
fn redacted_path(route: &Route, path: &str) -> String {
    match route {
        Route::Upload { repo, .. } => format!("/v2/{repo}/blobs/uploads/<session>"),
        _ => crate::sanitize(path).chars().take(512).collect(),
    }
}

fn needed_access(method: &Method, route: &Route) -> Option<Access> {
    match route {
        Route::Health => None,
        // Upload sessions are a pusher's business, whatever the method.
        Route::UploadStart { .. } | Route::Upload { .. } => Some(Access::Push),
        _ if matches!(*method, Method::GET | Method::HEAD) => Some(Access::Pull),
        _ => Some(Access::Push),
    }
}

pub(super) async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
    peer: SocketAddr,
) -> Response<Body> {
    let started = Instant::now();
    state.requests.fetch_add(1, Ordering::Relaxed);
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let route = route::route(&path);
    let mut user = String::from("-");
    let result = match authorize(&state, &req, &method, &route, peer).await {
        Ok((name, may_push)) => {
            if let Some(n) = name {
                user = n;
            }
            dispatch(&state, req, &method, route.clone(), may_push).await
        }
        Err(e) => Err(e),
    };
    let mut resp = result.unwrap_or_else(ApiError::response);
    resp.headers_mut().insert(
        "Docker-Distribution-API-Version",
        HeaderValue::from_static("registry/2.0"),
    );
    // Stored bytes are served with the type they were pushed with: browsers must not
    // guess a more dangerous one.
    resp.headers_mut().insert(
        "X-Content-Type-Options",
        HeaderValue::from_static("nosniff"),
    );
    if let Some(log) = &state.opts.log {
        log(&format!(
            "{} {} {} {} {} {}ms",
            peer.ip(),
            crate::sanitize(&user),
            method,
            redacted_path(&route, &path),
            resp.status().as_u16(),
            started.elapsed().as_millis()
        ));
    }
    resp
}

async fn authorize(
    state: &Arc<State>,
    req: &Request<Incoming>,
    method: &Method,
    route: &Route,
    peer: SocketAddr,
) -> std::result::Result<(Option<String>, bool), ApiError> {
    let writable = !state.opts.read_only;
    let Some(need) = needed_access(method, route) else {
        return Ok((None, false));
    };
    if need == Access::Push && state.opts.read_only {
        return Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "UNSUPPORTED",
            "this registry is served read-only",
        ));
    }
    if state.auth.is_none() {
        return Ok((None, writable));
    }
    let header = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.as_bytes().to_vec());
    let st = state.clone();
    let login = tokio::task::spawn_blocking(move || {
        st.auth
            .as_ref()
            .map_or(Login::Anonymous, |a| a.check(peer.ip(), header.as_deref()))
    })
    .await
    .unwrap_or(Login::Failed);
    let challenge = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "authentication required",
        )
        .with(header::WWW_AUTHENTICATE, "Basic realm=\"spectro registry\"")
    };
    match login {
        Login::Throttled => Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TOOMANYREQUESTS",
            "too many failed logins from this address; wait a minute",
        )
        .with(header::RETRY_AFTER, "60")),
        Login::Failed => Err(challenge()),
        Login::Anonymous if need == Access::Pull && state.opts.anonymous_read => Ok((None, false)),
        Login::Anonymous => Err(challenge()),
        Login::User { name, access } if access >= need => {
            Ok((Some(name), writable && access == Access::Push))
        }
        Login::User { name, .. } => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "DENIED",
            format!("user `{}` may only pull", crate::sanitize(&name)),
        )),
    }
}

/// `may_push`: the client could push here (a blob it asks about is then kept young for
/// `registry gc`; anonymous readers change nothing).
async fn dispatch(
    state: &Arc<State>,
    req: Request<Incoming>,
    method: &Method,
    route: Route,
    may_push: bool,
) -> ApiResult {
    let m = method.clone();
    match (route, m) {
        (Route::Health, Method::GET | Method::HEAD) => Ok(json_response(
            StatusCode::OK,
            "application/json",
            json!({"status": "UP"}).to_string().into_bytes(),
        )),
        (Route::Base, Method::GET | Method::HEAD) => Ok(json_response(
            StatusCode::OK,
            "application/json",
            b"{}".to_vec(),
        )),
        (Route::Catalog, Method::GET) => catalog(state, &req).await,
        (Route::Tags { repo }, Method::GET) => tags(state, &req, repo).await,
        (Route::Manifest { repo, reference }, Method::GET | Method::HEAD) => {
            get_manifest(state, method == Method::HEAD, repo, reference).await
        }
        (Route::Manifest { repo, reference }, Method::PUT) => {
            put_manifest(state, req, repo, reference).await
        }
        (Route::Manifest { repo, reference }, Method::DELETE) => {
            delete_manifest(state, repo, reference).await
        }
        (Route::Blob { repo, digest }, Method::GET | Method::HEAD) => {
            get_blob(state, &req, method == Method::HEAD, may_push, repo, digest).await
        }
        (Route::Blob { repo, digest }, Method::DELETE) => delete_blob(state, repo, digest).await,
        (Route::UploadStart { repo }, Method::POST) => start_upload(state, req, repo).await,
        (Route::Upload { repo, id }, Method::GET) => upload_status(state, repo, id).await,
        (Route::Upload { repo, id }, Method::PATCH) => patch_upload(state, req, repo, id).await,
        (Route::Upload { repo, id }, Method::PUT) => finish_upload(state, req, repo, id).await,
        (Route::Upload { repo, id }, Method::DELETE) => cancel_upload(state, repo, id).await,
        (Route::Referrers { repo, digest }, Method::GET) => {
            referrers(state, &req, repo, digest).await
        }
        (Route::Invalid { code, message }, _) => {
            let status = if code == "BLOB_UPLOAD_UNKNOWN" {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::BAD_REQUEST
            };
            Err(ApiError::new(status, code, message))
        }
        (Route::NotFound, _) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "no such endpoint",
        )),
        _ => Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "UNSUPPORTED",
            format!("{method} is not supported here"),
        )),
    }
}

fn json_response(status: StatusCode, content_type: &str, body: Vec<u8>) -> Response<Body> {
    let len = body.len();
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CONTENT_LENGTH, len)
        .body(full(body))
        .unwrap_or_else(|_| Response::new(empty()))
}

fn builder(status: StatusCode) -> hyper::http::response::Builder {
    Response::builder().status(status)
}

fn finish(b: hyper::http::response::Builder, body: Body) -> ApiResult {
    b.body(body).map_err(|_| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "UNKNOWN",
            "could not build the response",
        )
    })
}

/// One page of a listing, and `(n, last)` for the next page's link when more follow.
type Page = (Vec<String>, Option<(usize, String)>);

/// `n` and `last` of a listing: the page after `last`, and whether more follow.
fn paginate(mut all: Vec<String>, q: &[(String, String)]) -> std::result::Result<Page, ApiError> {
    all.sort();
    all.dedup();
    if let Some(last) = param(q, "last") {
        let at = all.partition_point(|t| t.as_str() <= last);
        all.drain(..at);
    }
    let n = match param(q, "n") {
        Some(n) => Some(n.parse::<usize>().map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "PAGINATION_NUMBER_INVALID",
                "`n` must be a non-negative integer",
            )
        })?),
        None => None,
    };
    match n {
        Some(n) if n < all.len() => {
            all.truncate(n);
            let last = all.last().cloned().unwrap_or_default();
            Ok((all, (n > 0).then_some((n, last))))
        }
        _ => Ok((all, None)),
    }
}

fn link_header(path: &str, n: usize, last: &str) -> String {
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("n", &n.to_string())
        .append_pair("last", last)
        .finish();
    format!("<{path}?{q}>; rel=\"next\"")
}

async fn catalog(state: &Arc<State>, req: &Request<Incoming>) -> ApiResult {
    let q = query(req);
    let st = state.clone();
    let all = blocking(move || st.store.all_repositories()).await?;
    let (page, next) = paginate(all, &q)?;
    let body = json!({ "repositories": page }).to_string();
    let mut b = builder(StatusCode::OK).header(header::CONTENT_TYPE, "application/json");
    if let Some((n, last)) = next {
        b = b.header(header::LINK, link_header("/v2/_catalog", n, &last));
    }
    finish(b, full(body))
}

async fn tags(state: &Arc<State>, req: &Request<Incoming>, repo: String) -> ApiResult {
    let q = query(req);
    let st = state.clone();
    let r = repo.clone();
    let Some(all) = blocking(move || st.store.tags(&r)).await? else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "NAME_UNKNOWN",
            format!("repository {repo} is not known"),
        ));
    };
    let (page, next) = paginate(all, &q)?;
    let body = json!({ "name": repo, "tags": page }).to_string();
    let mut b = builder(StatusCode::OK).header(header::CONTENT_TYPE, "application/json");
    if let Some((n, last)) = next {
        b = b.header(
            header::LINK,
            link_header(&format!("/v2/{repo}/tags/list"), n, &last),
        );
    }
    finish(b, full(body))
}

async fn get_manifest(
    state: &Arc<State>,
    head: bool,
    repo: String,
    reference: Reference,
) -> ApiResult {
    let st = state.clone();
    let r = repo.clone();
    let refr = reference.as_str().to_owned();
    let Some(m) = blocking(move || st.store.manifest(&r, &refr)).await? else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "MANIFEST_UNKNOWN",
            format!("manifest {} is not in {repo}", reference.as_str()),
        ));
    };
    let b = builder(StatusCode::OK)
        .header(header::CONTENT_TYPE, m.media_type)
        .header(header::CONTENT_LENGTH, m.bytes.len())
        .header("Docker-Content-Digest", &m.digest)
        .header(header::ETAG, format!("\"{}\"", m.digest));
    finish(b, if head { empty() } else { full(m.bytes) })
}

const INDEX_TYPES: &[&str] = &[
    oci::INDEX_MEDIA_TYPE,
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

fn is_foreign_layer(d: &Value) -> bool {
    let mt = d.get("mediaType").and_then(Value::as_str).unwrap_or("");
    mt.contains(".nondistributable.")
        || mt == "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
        || d.get("urls")
            .and_then(Value::as_array)
            .is_some_and(|u| !u.is_empty())
}

/// The blobs a manifest needs in the repository, `(digest, size)`; an error for a
/// malformed descriptor.
fn required_blobs(v: &Value, is_index: bool) -> std::result::Result<Vec<(String, u64)>, String> {
    let desc = |d: &Value| -> std::result::Result<(String, u64), String> {
        let digest = d
            .get("digest")
            .and_then(Value::as_str)
            .ok_or("a descriptor has no digest")?;
        if oci::parse_digest(digest).is_none() {
            return Err(format!(
                "descriptor digest `{}` is malformed or of an unsupported algorithm",
                crate::sanitize(digest)
            ));
        }
        let size = d
            .get("size")
            .and_then(Value::as_u64)
            .ok_or("a descriptor has no valid size")?;
        Ok((digest.to_owned(), size))
    };
    let mut out = Vec::new();
    if is_index {
        if let Some(list) = v.get("manifests") {
            for m in list.as_array().ok_or("`manifests` is not a list")? {
                out.push(desc(m)?);
            }
        }
    } else {
        if let Some(c) = v.get("config") {
            out.push(desc(c)?);
        }
        if let Some(list) = v.get("layers") {
            for l in list.as_array().ok_or("`layers` is not a list")? {
                let d = desc(l)?;
                if !is_foreign_layer(l) {
                    out.push(d);
                }
            }
        }
    }
    if let Some(s) = v.get("subject") {
        // Checked for shape only: a referrer may arrive before its subject.
        desc(s)?;
    }
    Ok(out)
}

async fn read_small_body(
    req: Request<Incoming>,
    cap: u64,
    idle: Duration,
) -> std::result::Result<(HeaderMap, Vec<u8>), ApiError> {
    let (parts, mut body) = req.into_parts();
    let mut out = Vec::new();
    loop {
        let frame = tokio::time::timeout(idle, body.frame())
            .await
            .map_err(|_| {
                ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "UNKNOWN",
                    "request body stalled",
                )
            })?;
        let Some(frame) = frame else { break };
        let frame = frame.map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "UNKNOWN",
                format!("reading the body: {e}"),
            )
        })?;
        if let Ok(data) = frame.into_data() {
            if out.len() as u64 + data.len() as u64 > cap {
                return Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "SIZE_INVALID",
                    format!("body larger than {cap} bytes"),
                ));
            }
            out.extend_from_slice(&data);
        }
    }
    Ok((parts.headers, out))
}

async fn put_manifest(
    state: &Arc<State>,
    req: Request<Incoming>,
    repo: String,
    reference: Reference,
) -> ApiResult {
    let q = query(&req);
    let (headers, bytes) =
        read_small_body(req, state.opts.max_manifest, state.opts.idle_timeout).await?;
    let invalid = |m: String| ApiError::new(StatusCode::BAD_REQUEST, "MANIFEST_INVALID", m);
    let v: Value = serde_json::from_slice(&bytes)
        .map_err(|e| invalid(format!("the manifest is not JSON: {e}")))?;
    if !v.is_object() {
        return Err(invalid("the manifest is not a JSON object".into()));
    }
    let body_type = v.get("mediaType").and_then(Value::as_str);
    let header_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|h| h.to_str().ok())
        .map(|s| s.split(';').next().unwrap_or("").trim().to_owned())
        .filter(|s| !s.is_empty());
    let media_type = match (header_type, body_type) {
        (Some(h), Some(b)) if h != b => {
            return Err(invalid(format!(
                "Content-Type `{}` differs from the manifest's mediaType `{}`",
                crate::sanitize(&h),
                crate::sanitize(b)
            )));
        }
        (Some(h), _) => h,
        (None, Some(b)) => b.to_owned(),
        (None, None) => return Err(invalid("no Content-Type and no mediaType".into())),
    };
    // Manifests are `application/...` types. Anything else (text/html, image/svg+xml,
    // application/xhtml+xml) would be served back as a page from the registry's origin.
    let lower = media_type.to_ascii_lowercase();
    if media_type.len() > 255
        || !media_type.bytes().all(|b| b.is_ascii_graphic())
        || !lower.starts_with("application/")
        || lower.contains("html")
        || lower.contains("xml")
    {
        return Err(invalid(format!(
            "`{}` is not a manifest media type (application/...)",
            crate::sanitize(&media_type)
        )));
    }
    let is_index = INDEX_TYPES.contains(&media_type.as_str())
        || (v.get("manifests").is_some() && v.get("layers").is_none());
    let needed = required_blobs(&v, is_index).map_err(invalid)?;
    let mut param_tags: Vec<String> = Vec::new();
    let (digest, mut tags) = match &reference {
        Reference::Digest(d) => {
            let Some((alg, _)) = oci::parse_digest(d) else {
                return Err(invalid("malformed digest".into()));
            };
            let actual = alg.digest(&bytes);
            if &actual != d {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "DIGEST_INVALID",
                    format!("the manifest's {} digest is {actual}, not {d}", alg.name()),
                ));
            }
            (actual, Vec::new())
        }
        Reference::Tag(t) => (oci::sha256_digest(&bytes), vec![t.clone()]),
    };
    for (k, t) in &q {
        if k == "tag" {
            if !route::is_tag(t) {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "TAG_INVALID",
                    format!("invalid tag `{}`", crate::sanitize(t)),
                ));
            }
            if !tags.contains(t) {
                tags.push(t.clone());
                param_tags.push(t.clone());
            }
        }
    }
    let subject = v
        .get("subject")
        .and_then(|s| s.get("digest"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let st = state.clone();
    let r = repo.clone();
    let d = digest.clone();
    let tag_list = tags.clone();
    let missing = blocking(move || {
        // Checked under the locks `registry gc` and blob deletes take, so nothing the
        // manifest needs can go between the check and the write.
        let _guard = st.index_lock.lock().unwrap_or_else(|e| e.into_inner());
        let _lock = st.store.lock(true)?;
        for (blob, size) in &needed {
            match st.store.blob_len(&r, blob)? {
                Some(n) if n == *size => {}
                Some(n) => {
                    return Ok(Some(format!(
                        "{blob} is {n} bytes, the manifest says {size}"
                    )));
                }
                None => return Ok(Some(format!("{blob} is not in {r}"))),
            }
        }
        st.store
            .store_manifest(&r, &bytes, &d, &media_type, &tag_list)?;
        Ok(None)
    })
    .await?;
    if let Some(m) = missing {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "MANIFEST_BLOB_UNKNOWN",
            m,
        ));
    }
    let mut b = builder(StatusCode::CREATED)
        .header(header::LOCATION, format!("/v2/{repo}/manifests/{digest}"))
        .header("Docker-Content-Digest", &digest)
        .header(header::CONTENT_LENGTH, 0);
    if let Some(s) = subject {
        b = b.header("OCI-Subject", s);
    }
    for t in &param_tags {
        b = b.header("OCI-Tag", t);
    }
    finish(b, empty())
}

async fn delete_manifest(state: &Arc<State>, repo: String, reference: Reference) -> ApiResult {
    let st = state.clone();
    let r = repo.clone();
    let refr = reference.clone();
    let found = blocking(move || {
        let _guard = st.index_lock.lock().unwrap_or_else(|e| e.into_inner());
        let _lock = st.store.lock(true)?;
        match &refr {
            Reference::Digest(d) => st.store.delete_manifest(&r, d),
            Reference::Tag(t) => Ok(st.store.remove_tag(&r, t)?.unwrap_or(false)),
        }
    })
    .await?;
    if !found {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "MANIFEST_UNKNOWN",
            format!("manifest {} is not in {repo}", reference.as_str()),
        ));
    }
    finish(
        builder(StatusCode::ACCEPTED).header(header::CONTENT_LENGTH, 0),
        empty(),
    )
}

/// A single `bytes=` range against a blob of `size`: `Ok(None)` for no (usable) range
/// header, `Err` when it cannot be satisfied.
fn parse_range(h: Option<&HeaderValue>, size: u64) -> std::result::Result<Option<(u64, u64)>, ()> {
    let Some(h) = h.and_then(|h| h.to_str().ok()) else {
        return Ok(None);
    };
    let Some(spec) = h.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        // Several ranges: answer with the whole blob, as the spec allows.
        return Ok(None);
    }
    let (a, b) = spec.split_once('-').ok_or(())?;
    let (a, b) = (a.trim(), b.trim());
    let (start, end) = if a.is_empty() {
        let n: u64 = b.parse().map_err(|_| ())?;
        if n == 0 || size == 0 {
            return Err(());
        }
        (size.saturating_sub(n), size - 1)
    } else {
        let start: u64 = a.parse().map_err(|_| ())?;
        let end = if b.is_empty() {
            size.saturating_sub(1)
        } else {
            b.parse::<u64>()
                .map_err(|_| ())?
                .min(size.saturating_sub(1))
        };
        (start, end)
    };
    if start >= size || start > end {
        return Err(());
    }
    Ok(Some((start, end)))
}

async fn get_blob(
    state: &Arc<State>,
    req: &Request<Incoming>,
    head: bool,
    may_push: bool,
    repo: String,
    digest: String,
) -> ApiResult {
    let st = state.clone();
    let (r, d) = (repo.clone(), digest.clone());
    let Some(size) = blocking(move || {
        if head && may_push {
            st.store.blob_len_refreshed(&r, &d)
        } else {
            st.store.blob_len(&r, &d)
        }
    })
    .await?
    else {
        return Err(not_found_blob(&digest));
    };
    let range = parse_range(req.headers().get(header::RANGE), size).map_err(|()| {
        ApiError::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            "BLOB_UNKNOWN",
            format!("range not satisfiable for a blob of {size} bytes"),
        )
        .with(header::CONTENT_RANGE, format!("bytes */{size}"))
    })?;
    let (status, start, len) = match range {
        Some((a, b)) => (StatusCode::PARTIAL_CONTENT, a, b - a + 1),
        None => (StatusCode::OK, 0, size),
    };
    let mut b = builder(status)
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::CONTENT_LENGTH, len)
        .header(header::ACCEPT_RANGES, "bytes")
        .header("Docker-Content-Digest", &digest)
        .header(header::ETAG, format!("\"{digest}\""));
    if range.is_some() {
        b = b.header(
            header::CONTENT_RANGE,
            format!("bytes {start}-{}/{size}", start + len - 1),
        );
    }
    if head {
        return finish(b, empty());
    }
    let path = state
        .store
        .blob_path(&repo, &digest)
        .map_err(ApiError::from)?;
    let file = Arc::new(std::fs::File::open(&path).map_err(|_| not_found_blob(&digest))?);
    // Read ahead in 1 MiB pieces (one blocking-pool hop each, positional reads) into a
    // queue of four, so the disk and the socket work at the same time. No thread waits
    // on a slow client: the feeder is an async task that gives up when the client has
    // not taken a piece for the idle timeout, or has gone away.
    let (tx, rx) = tokio::sync::mpsc::channel::<io::Result<Bytes>>(4);
    let idle = state.opts.idle_timeout;
    tokio::spawn(async move {
        let end = start + len;
        let mut at = start;
        while at < end {
            let n = usize::try_from((end - at).min(1 << 20)).unwrap_or(1 << 20);
            let f = file.clone();
            let piece = tokio::task::spawn_blocking(move || {
                let mut buf = vec![0u8; n];
                read_exact_at(&f, &mut buf, at).map(|()| Bytes::from(buf))
            })
            .await
            .unwrap_or_else(|_| Err(io::Error::other("blob reader failed")));
            let failed = piece.is_err();
            match tokio::time::timeout(idle, tx.send(piece)).await {
                Ok(Ok(())) if !failed => {}
                _ => return,
            }
            at += n as u64;
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|piece| (piece.map(Frame::data), rx))
    });
    finish(b, BodyExt::boxed(StreamBody::new(stream)))
}

/// Read `buf.len()` bytes at `at` without moving a shared file position.
#[cfg(unix)]
fn read_exact_at(f: &std::fs::File, buf: &mut [u8], at: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(f, buf, at)
}

/// Read `buf.len()` bytes at `at` (one reader per file handle here, so seeking is safe).
#[cfg(not(unix))]
fn read_exact_at(f: &std::fs::File, buf: &mut [u8], at: u64) -> io::Result<()> {
    let mut r = f;
    io::Seek::seek(&mut r, SeekFrom::Start(at))?;
    io::Read::read_exact(&mut r, buf)
}

async fn delete_blob(state: &Arc<State>, repo: String, digest: String) -> ApiResult {
    let st = state.clone();
    let (r, d) = (repo, digest.clone());
    let outcome = blocking(move || {
        let _guard = st.index_lock.lock().unwrap_or_else(|e| e.into_inner());
        let _lock = st.store.lock(true)?;
        // A manifest's own bytes go with the manifest (DELETE .../manifests/<digest>),
        // never behind its back.
        let listed = st
            .store
            .read_index(&r)?
            .is_some_and(|i| i.manifests.iter().any(|m| m.digest == d));
        if listed {
            return Ok(None);
        }
        st.store.delete_blob(&r, &d).map(Some)
    })
    .await?;
    match outcome {
        None => {
            return Err(ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "UNSUPPORTED",
                format!("{digest} is a manifest of this repository: delete it as a manifest"),
            ));
        }
        Some(false) => return Err(not_found_blob(&digest)),
        Some(true) => {}
    }
    finish(
        builder(StatusCode::ACCEPTED).header(header::CONTENT_LENGTH, 0),
        empty(),
    )
}

fn new_session_file(state: &State) -> Result<tempfile::NamedTempFile> {
    let dir = state.store.uploads_dir();
    crate::safety::create_dirs(&dir, 0o700)?;
    crate::safety::temp_file_in(&dir, "upload", false).map_err(|e| Error::io(&dir, e))
}

fn open_session(state: &Arc<State>, repo: &str) -> std::result::Result<String, ApiError> {
    let file = new_session_file(state)?;
    let mut sessions = state.sessions.lock().unwrap_or_else(|e| e.into_inner());
    if sessions.len() >= state.opts.max_sessions {
        // Forget sessions idle for longer than an hour before refusing.
        drop(sessions);
        state.drop_idle_sessions(Duration::from_secs(3600));
        sessions = state.sessions.lock().unwrap_or_else(|e| e.into_inner());
        if sessions.len() >= state.opts.max_sessions {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "TOOMANYREQUESTS",
                "too many uploads in progress",
            ));
        }
    }
    let id = random_id();
    sessions.insert(
        id.clone(),
        Arc::new(Entry {
            repo: repo.to_owned(),
            session: Arc::new(tokio::sync::Mutex::new(Session {
                file: Some(file),
                size: 0,
                hasher: DigestHasher::new(DigestAlgorithm::Sha256),
                touched: Instant::now(),
            })),
        }),
    );
    Ok(id)
}

fn session(state: &Arc<State>, repo: &str, id: &str) -> std::result::Result<Arc<Entry>, ApiError> {
    let sessions = state.sessions.lock().unwrap_or_else(|e| e.into_inner());
    // A session belongs to the repository it was opened for.
    sessions
        .get(id)
        .filter(|e| e.repo == repo)
        .cloned()
        .ok_or_else(upload_unknown)
}

fn accepted_upload(repo: &str, id: &str, size: u64) -> ApiResult {
    finish(
        builder(StatusCode::ACCEPTED)
            .header(header::LOCATION, upload_location(repo, id))
            .header(header::RANGE, range_header(size))
            .header("Docker-Upload-UUID", id)
            .header(header::CONTENT_LENGTH, 0),
        empty(),
    )
}

fn created_blob(repo: &str, digest: &str) -> ApiResult {
    finish(
        builder(StatusCode::CREATED)
            .header(header::LOCATION, format!("/v2/{repo}/blobs/{digest}"))
            .header("Docker-Content-Digest", digest)
            .header(header::CONTENT_LENGTH, 0),
        empty(),
    )
}

fn digest_param(q: &[(String, String)]) -> std::result::Result<String, ApiError> {
    let d = param(q, "digest").ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "DIGEST_INVALID",
            "the `digest` parameter is missing",
        )
    })?;
    if oci::parse_digest(d).is_none() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "DIGEST_INVALID",
            format!(
                "invalid or unsupported digest `{}` (sha256 or sha512)",
                crate::sanitize(d)
            ),
        ));
    }
    Ok(d.to_owned())
}

async fn start_upload(state: &Arc<State>, req: Request<Incoming>, repo: String) -> ApiResult {
    let q = query(&req);
    if let Some(mount) = param(&q, "mount") {
        if oci::parse_digest(mount).is_some() {
            let from = param(&q, "from").map(str::to_owned);
            let st = state.clone();
            let (to, d) = (repo.clone(), mount.to_owned());
            let mounted = blocking(move || {
                let sources = match from {
                    Some(f) if crate::registry::check_repository(&f).is_ok() => vec![f],
                    Some(_) => Vec::new(),
                    // No `from`: any repository holding the blob will do (also one
                    // with blobs only, no manifest yet).
                    None => st.store.layouts("", "oci-layout")?,
                };
                for src in sources {
                    if src != to && st.store.blob_len(&src, &d)?.is_some() {
                        return st.store.mount_blob(&src, &to, &d);
                    }
                    if src == to && st.store.blob_len_refreshed(&to, &d)?.is_some() {
                        return Ok(true);
                    }
                }
                Ok(false)
            })
            .await?;
            if mounted {
                return created_blob(&repo, mount);
            }
        }
        // Not mountable: an ordinary upload session, as the spec asks.
        let id = open_session(state, &repo)?;
        return accepted_upload(&repo, &id, 0);
    }
    if param(&q, "digest").is_some() {
        // Monolithic upload in the POST.
        let digest = digest_param(&q)?;
        let id = open_session(state, &repo)?;
        let s = session(state, &repo, &id)?;
        let result = async {
            append(state, &s, &repo, &id, Ok(None), req.into_body()).await?;
            drop(s);
            commit(state, &repo, &id, &digest).await
        }
        .await;
        if result.is_err() {
            drop_session(state, &id);
        }
        return result;
    }
    let id = open_session(state, &repo)?;
    accepted_upload(&repo, &id, 0)
}

fn drop_session(state: &State, id: &str) {
    let mut sessions = state.sessions.lock().unwrap_or_else(|e| e.into_inner());
    sessions.remove(id);
}

async fn upload_status(state: &Arc<State>, repo: String, id: String) -> ApiResult {
    let s = session(state, &repo, &id)?;
    let g = s.session.lock().await;
    if g.file.is_none() {
        return Err(upload_unknown());
    }
    let size = g.size;
    drop(g);
    finish(
        builder(StatusCode::NO_CONTENT)
            .header(header::LOCATION, upload_location(&repo, &id))
            .header(header::RANGE, range_header(size))
            .header("Docker-Upload-UUID", &id),
        empty(),
    )
}

/// `Content-Range: <start>-<end>` of a chunk.
fn content_range(h: &HeaderMap) -> std::result::Result<Option<(u64, u64)>, ()> {
    let Some(v) = h.get(header::CONTENT_RANGE) else {
        return Ok(None);
    };
    let s = v.to_str().map_err(|_| ())?.trim();
    let s = s.strip_prefix("bytes ").unwrap_or(s);
    let s = s.split('/').next().unwrap_or(s);
    let (a, b) = s.split_once('-').ok_or(())?;
    let a: u64 = a.trim().parse().map_err(|_| ())?;
    let b: u64 = b.trim().parse().map_err(|_| ())?;
    if b < a {
        return Err(());
    }
    Ok(Some((a, b)))
}

fn range_refused(repo: &str, id: &str, size: u64) -> ApiError {
    ApiError::new(
        StatusCode::RANGE_NOT_SATISFIABLE,
        "BLOB_UPLOAD_INVALID",
        format!("the chunk must start at byte {size}"),
    )
    .with(header::LOCATION, upload_location(repo, id))
    .with(header::RANGE, range_header(size))
}

/// Append a request body to the session's file. On any failure the file is cut back to
/// where it was and the hash is untouched, so a failed chunk can be sent again.
async fn append_body(
    state: &Arc<State>,
    s: &mut Session,
    mut body: Incoming,
    expect_len: Option<u64>,
) -> std::result::Result<(), ApiError> {
    let start = s.size;
    let tmp = s.file.as_ref().ok_or_else(upload_unknown)?;
    let path = tmp.path().to_path_buf();
    let std_file = tmp
        .as_file()
        .try_clone()
        .map_err(|e| ApiError::from(Error::io(&path, e)))?;
    let mut file = tokio::fs::File::from_std(std_file);
    let mut hasher = s.hasher.clone();
    let mut written = 0u64;
    let cap = state.opts.max_upload;
    let result: std::result::Result<(), ApiError> = async {
        // Nothing beyond the verified size may survive into this chunk.
        file.set_len(start)
            .await
            .map_err(|e| ApiError::from(Error::io(&path, e)))?;
        file.seek(SeekFrom::Start(start))
            .await
            .map_err(|e| ApiError::from(Error::io(&path, e)))?;
        let mut out = tokio::io::BufWriter::with_capacity(1 << 20, &mut file);
        loop {
            let frame = tokio::time::timeout(state.opts.idle_timeout, body.frame())
                .await
                .map_err(|_| {
                    ApiError::new(
                        StatusCode::REQUEST_TIMEOUT,
                        "BLOB_UPLOAD_INVALID",
                        "upload stalled",
                    )
                })?;
            let Some(frame) = frame else { break };
            let frame = frame.map_err(|e| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "BLOB_UPLOAD_INVALID",
                    format!("reading the upload: {e}"),
                )
            })?;
            let Ok(data) = frame.into_data() else {
                continue;
            };
            written += data.len() as u64;
            if start + written > cap {
                return Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "SIZE_INVALID",
                    format!("blob larger than this registry's upload limit of {cap} bytes"),
                ));
            }
            if expect_len.is_some_and(|n| written > n) {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "BLOB_UPLOAD_INVALID",
                    "the chunk is longer than its Content-Range",
                ));
            }
            hasher.update(&data);
            out.write_all(&data)
                .await
                .map_err(|e| ApiError::from(Error::io(Path::new("upload"), e)))?;
        }
        if expect_len.is_some_and(|n| written != n) {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "BLOB_UPLOAD_INVALID",
                "the chunk is shorter than its Content-Range",
            ));
        }
        out.flush()
            .await
            .map_err(|e| ApiError::from(Error::io(Path::new("upload"), e)))?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => {
            s.size = start + written;
            s.hasher = hasher;
            s.touched = Instant::now();
            Ok(())
        }
        Err(e) => {
            let _ = file.set_len(start).await;
            Err(e)
        }
    }
}

async fn patch_upload(
    state: &Arc<State>,
    req: Request<Incoming>,
    repo: String,
    id: String,
) -> ApiResult {
    let s = session(state, &repo, &id)?;
    let range = content_range(req.headers());
    let size = append(state, &s, &repo, &id, range, req.into_body()).await?;
    accepted_upload(&repo, &id, size)
}

/// Append a request body to a session, under the session's lock, in a task of its own:
/// a client that goes away mid-chunk cannot leave a write half done (the task runs to
/// the end of the body, or to its error, and cuts the file back). `range` is the chunk's
/// `Content-Range`, checked against the upload's size under the lock. Returns the new
/// size.
async fn append(
    state: &Arc<State>,
    entry: &Arc<Entry>,
    repo: &str,
    id: &str,
    range: std::result::Result<Option<(u64, u64)>, ()>,
    body: Incoming,
) -> std::result::Result<u64, ApiError> {
    let mut guard = entry.session.clone().lock_owned().await;
    let size = guard.size;
    let expect = match range {
        Err(()) => return Err(range_refused(repo, id, size)),
        Ok(Some((a, _))) if a != size => return Err(range_refused(repo, id, size)),
        Ok(Some((a, b))) => match b.checked_sub(a).and_then(|n| n.checked_add(1)) {
            Some(n) => Some(n),
            None => return Err(range_refused(repo, id, size)),
        },
        Ok(None) => None,
    };
    let st = state.clone();
    let task = tokio::spawn(async move {
        let r = append_body(&st, &mut guard, body, expect).await;
        r.map(|()| guard.size)
    });
    task.await.unwrap_or_else(|_| {
        Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "UNKNOWN",
            "internal error",
        ))
    })
}

async fn finish_upload(
    state: &Arc<State>,
    req: Request<Incoming>,
    repo: String,
    id: String,
) -> ApiResult {
    let s = session(state, &repo, &id)?;
    let q = query(&req);
    let digest = digest_param(&q)?;
    let range = content_range(req.headers());
    append(state, &s, &repo, &id, range, req.into_body()).await?;
    drop(s);
    let result = commit(state, &repo, &id, &digest).await;
    if let Err(e) = &result
        && e.code == "DIGEST_INVALID"
    {
        drop_session(state, &id);
    }
    result
}

/// Verify the session's content against `digest` and move it into the repository.
async fn commit(state: &Arc<State>, repo: &str, id: &str, digest: &str) -> ApiResult {
    let s = session(state, repo, id)?;
    let mut g = s.session.lock().await;
    let Some((alg, _)) = oci::parse_digest(digest) else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "DIGEST_INVALID",
            "bad digest",
        ));
    };
    let path = g
        .file
        .as_ref()
        .ok_or_else(upload_unknown)?
        .path()
        .to_path_buf();
    let on_disk = std::fs::metadata(&path).map(|m| m.len()).ok();
    if on_disk != Some(g.size) {
        // Never commit a file that differs from what was hashed.
        drop(g);
        drop_session(state, id);
        return Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "BLOB_UPLOAD_INVALID",
            "the upload's file does not match what was received; start the upload again",
        ));
    }
    let actual = if alg == DigestAlgorithm::Sha256 {
        g.hasher.clone().finish()
    } else {
        blocking(move || {
            let mut f = std::fs::File::open(&path).map_err(|e| Error::io(&path, e))?;
            let mut h = DigestHasher::new(alg);
            io::copy(&mut f, &mut h).map_err(|e| Error::io(&path, e))?;
            Ok(h.finish())
        })
        .await?
    };
    if actual != digest {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "DIGEST_INVALID",
            format!("the upload's digest is {actual}, not {digest}"),
        ));
    }
    // Taken under the session's lock: a request waiting on it finds the upload gone.
    let file = g.file.take().ok_or_else(upload_unknown)?;
    drop(g);
    drop(s);
    drop_session(state, id);
    let st = state.clone();
    let (r, d) = (repo.to_owned(), digest.to_owned());
    blocking(move || st.store.commit_blob(&r, file, &d)).await?;
    created_blob(repo, digest)
}

async fn cancel_upload(state: &Arc<State>, repo: String, id: String) -> ApiResult {
    session(state, &repo, &id)?;
    drop_session(state, &id);
    finish(
        builder(StatusCode::NO_CONTENT).header(header::CONTENT_LENGTH, 0),
        empty(),
    )
}

async fn referrers(
    state: &Arc<State>,
    req: &Request<Incoming>,
    repo: String,
    digest: String,
) -> ApiResult {
    let q = query(req);
    let filter = param(&q, "artifactType").map(str::to_owned);
    let st = state.clone();
    let f = filter.clone();
    let list = blocking(move || st.store.referrers(&repo, &digest, f.as_deref())).await?;
    let body = json!({
        "schemaVersion": 2,
        "mediaType": oci::INDEX_MEDIA_TYPE,
        "manifests": list,
    })
    .to_string();
    let mut b = builder(StatusCode::OK).header(header::CONTENT_TYPE, oci::INDEX_MEDIA_TYPE);
    if filter.is_some() {
        b = b.header("OCI-Filters-Applied", "artifactType");
    }
    finish(b, full(body))
}

pub(super) fn tls_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>> {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<std::result::Result<Vec<_>, _>>())
        .map_err(|e| Error::io(cert, io::Error::other(format!("reading certificates: {e}"))))?;
    if certs.is_empty() {
        return Err(Error::io(
            cert,
            io::Error::other("no certificate in the file"),
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| {
        Error::io(
            key,
            io::Error::other(format!("reading the private key: {e}")),
        )
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::io(cert, io::Error::other(e.to_string())))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| Error::io(cert, io::Error::other(format!("certificate and key: {e}"))))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

pub(super) async fn serve(
    state: Arc<State>,
    tls: Option<Arc<rustls::ServerConfig>>,
    stop: CancelFlag,
    ready: impl FnOnce(SocketAddr) + Send,
) -> Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto;

    let addr = state.opts.addr;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Error::io(Path::new(&addr.to_string()), e))?;
    let local = listener
        .local_addr()
        .map_err(|e| Error::io(Path::new(&addr.to_string()), e))?;
    ready(local);
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let limit = Arc::new(tokio::sync::Semaphore::new(state.opts.max_connections));
    // Sessions a client abandoned (it died mid-push, or never finished) are dropped after
    // an hour of silence, with their files.
    let reaper = state.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(60)).await;
            reaper.drop_idle_sessions(Duration::from_secs(3600));
        }
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(state.opts.idle_timeout)
        .max_buf_size(64 << 10);
    // HTTP/2 has no header timeout: pings find dead or silent peers, and streams per
    // connection are bounded.
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(64 << 10)
        .max_concurrent_streams(64)
        .keep_alive_interval(Some(Duration::from_secs(30)))
        .keep_alive_timeout(state.opts.idle_timeout);
    let stopped = async {
        while !crate::registry::is_cancelled(Some(&stop)) {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::pin!(stopped);
    loop {
        let permit = tokio::select! {
            () = &mut stopped => break,
            p = limit.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
        };
        let (tcp, peer) = tokio::select! {
            () = &mut stopped => break,
            r = listener.accept() => match r {
                Ok(x) => x,
                // Out of file descriptors and the like: wait, do not spin.
                Err(_) => { tokio::time::sleep(Duration::from_millis(50)).await; continue; }
            },
        };
        let _ = tcp.set_nodelay(true);
        let st = state.clone();
        let service = hyper::service::service_fn(move |req| {
            let st = st.clone();
            async move { Ok::<_, std::convert::Infallible>(handle(st, req, peer).await) }
        });
        match &acceptor {
            None => {
                let conn = builder
                    .serve_connection(TokioIo::new(tcp), service)
                    .into_owned();
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = conn.await;
                    drop(permit);
                });
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                let builder = builder.clone();
                let idle = state.opts.idle_timeout;
                let (tx, rx) = tokio::sync::oneshot::channel::<()>();
                let watcher = graceful.watcher();
                tokio::spawn(async move {
                    let handshake = tokio::time::timeout(idle, acceptor.accept(tcp)).await;
                    if let Ok(Ok(tls)) = handshake {
                        let conn = builder.serve_connection(TokioIo::new(tls), service);
                        let _ = watcher.watch(conn.into_owned()).await;
                    }
                    drop(permit);
                    let _ = tx.send(());
                });
                drop(rx);
            }
        }
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {},
        () = tokio::time::sleep(Duration::from_secs(30)) => {},
    }
    Ok(())
}
