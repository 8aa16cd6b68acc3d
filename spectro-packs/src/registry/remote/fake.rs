//! A scripted OCI distribution registry living in the test process, behind the client's
//! [`Wire`] seam: the *other side* of the protocol, so retries, resumes, redirects and
//! authentication run under plain `cargo test` without a registry process.
//!
//! One [`FakeRegistry`] answers for every host it is asked about: the registry itself
//! ([`REGISTRY_HOST`]), its token service ([`AUTH_HOST`], `/token`) and any other host a
//! redirect or an upload `Location` points at (served from the same storage, never
//! behind the authentication gate, like a blob CDN or a presigned upload URL).
//!
//! Faults are scripted with [`Fault`]: matched by method, a substring of the path and
//! query and optionally the host, each fires a given number of times after skipping a
//! given number of matches.
//! Every request is recorded in a [`Logged`] entry so tests can assert on what the
//! client sent: to which host, with which kind of `Authorization`, with which `Range`.
//! The distribution API, the authentication gate and the token service live in
//! `fake_api.rs`.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Read};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use reqwest::Method;
use reqwest::header::{CONTENT_LENGTH, HeaderMap, HeaderName, HeaderValue};
use url::Url;

use super::wire::{Wire, WireBody, WireError, WireRequest, WireResponse};

/// The registry's own host.
pub(super) const REGISTRY_HOST: &str = "registry.example";
/// Where the token service of a [`Gate::Bearer`] registry answers (`/token`).
pub(super) const AUTH_HOST: &str = "auth.example";

/// Who the registry lets in (on [`REGISTRY_HOST`] only).
#[derive(Debug, Clone)]
pub(super) enum Gate {
    /// Everyone, for everything.
    Open,
    /// HTTP Basic with this user name and password.
    Basic(String, String),
    /// Bearer tokens from `https://auth.example/token`. `login` (user, password) gets
    /// every action it asks for; without credentials a token grants `pull` only, and
    /// only when `anonymous` is set.
    Bearer {
        login: Option<(String, String)>,
        anonymous: bool,
    },
}

/// What a fault does to a matching request.
#[derive(Debug, Clone)]
pub(super) enum Act {
    /// Answer with this status (and a distribution error body), request not applied.
    Status(u16),
    /// Same, with `Retry-After: <seconds>`.
    RetryAfter(u16, u64),
    /// Drop the connection before the request reaches the registry.
    Reset,
    /// Apply the request, then drop the connection: the client never sees the answer.
    LoseAnswer,
    /// Only the first n bytes of the request body arrive and are applied; then the
    /// connection drops.
    PartialBody(usize),
    /// Answer normally, but the response body fails after n bytes.
    CutBody(usize),
    /// Answer normally with one byte of the body flipped.
    Corrupt,
    /// `307 Temporary Redirect` to the same path and query at another origin
    /// (`https://blobs.example`).
    Redirect(String),
    /// Apply the request, then move the upload `Location` to another origin.
    RelocateUpload(String),
    /// Apply the request, then set a response header.
    Header(&'static str, String),
    /// Apply the request, then answer without this response header.
    DropHeader(&'static str),
    /// Apply the request, then answer a body of n bytes without a `Content-Length`.
    Huge(usize),
    /// Answer the body followed by n more bytes, without a `Content-Length`.
    Trailing(usize),
    /// Wait this long before answering (longer than the request's timeout: the
    /// request times out, as it would over a socket).
    Stall(Duration),
    /// Answer at once, but hold the body back this long (same timeout rule).
    StallBody(Duration),
    /// Handle the request as if it carried no `Range` header.
    IgnoreRange,
}

/// One scripted fault.
#[derive(Debug, Clone)]
pub(super) struct Fault {
    method: Method,
    path: String,
    host: Option<String>,
    skip: usize,
    times: usize,
    fired: usize,
    act: Act,
}

impl Fault {
    /// `act` on the next `method` request whose path and query contain `path`.
    pub(super) fn on(method: Method, path: &str, act: Act) -> Self {
        Fault {
            method,
            path: path.to_owned(),
            host: None,
            skip: 0,
            times: 1,
            fired: 0,
            act,
        }
    }

    /// Fire on `n` matching requests (default 1).
    pub(super) fn times(mut self, n: usize) -> Self {
        self.times = n;
        self
    }

    /// Fire on every matching request.
    pub(super) fn always(self) -> Self {
        self.times(usize::MAX)
    }

    /// Match only requests to `host` (the same path may be asked of several hosts).
    pub(super) fn at(mut self, host: &str) -> Self {
        self.host = Some(host.to_owned());
        self
    }

    /// Let the first `n` matching requests through untouched.
    pub(super) fn after(mut self, n: usize) -> Self {
        self.skip = n;
        self
    }
}

/// Index of a scripted fault, to ask how often it fired.
#[derive(Debug, Clone, Copy)]
pub(super) struct FaultId(usize);

/// One request as the registry saw it.
#[derive(Debug, Clone)]
pub(super) struct Logged {
    pub(super) method: Method,
    pub(super) host: String,
    /// Path and query.
    pub(super) path: String,
    /// Scheme of the `Authorization` header (`Basic`, `Bearer`), if one was sent.
    pub(super) auth: Option<String>,
    pub(super) range: Option<String>,
    pub(super) content_range: Option<String>,
    pub(super) accept: Option<String>,
    /// Request body bytes received.
    pub(super) body_len: u64,
    /// Status answered; `None` when the client got no answer.
    pub(super) status: Option<u16>,
}

impl Logged {
    /// Whether this is `method` on a path (and query) containing `part`.
    pub(super) fn is(&self, method: &Method, part: &str) -> bool {
        self.method == *method && self.path.contains(part)
    }
}

/// One repository's content.
#[derive(Debug, Default)]
pub(super) struct Repo {
    pub(super) blobs: HashMap<String, Arc<Vec<u8>>>,
    /// Digest → (media type, bytes).
    pub(super) manifests: HashMap<String, (String, Arc<Vec<u8>>)>,
    /// Tag → digest.
    pub(super) tags: BTreeMap<String, String>,
}

/// An open upload session.
#[derive(Debug)]
pub(super) struct Upload {
    pub(super) repo: String,
    pub(super) data: Vec<u8>,
}

/// Everything the registry stores.
#[derive(Debug, Default)]
pub(super) struct State {
    pub(super) repos: BTreeMap<String, Repo>,
    pub(super) uploads: HashMap<String, Upload>,
    pub(super) next_id: u64,
    /// Token → scopes granted (`repository:<repo>:pull,push`).
    pub(super) tokens: HashMap<String, Vec<String>>,
}

/// How upload session `Location`s are written (all are valid: clients resolve them
/// against the request URL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Locations {
    /// `https://registry.example/v2/<repo>/blobs/uploads/<id>?_state=...`.
    Absolute,
    /// `/v2/<repo>/blobs/uploads/<id>?_state=...`.
    Path,
    /// `<id>?_state=...`, relative to the request's own path (always one under
    /// `/v2/<repo>/blobs/uploads/`).
    Relative,
}

/// How the registry behaves.
#[derive(Debug, Clone)]
pub(super) struct Config {
    pub(super) gate: Gate,
    /// Whether manifests may be deleted (else 405, CNCF distribution's default).
    pub(super) deletes: bool,
    /// Largest page of tags or catalog entries, whatever `n` asks for.
    pub(super) page_size: usize,
    /// Like CNCF distribution: an upload request whose `_state` does not match the
    /// session (a resume after a request whose answer was lost) cancels the session.
    pub(super) strict_state: bool,
    /// How upload `Location`s are written.
    pub(super) locations: Locations,
}

/// A request, read and parsed.
pub(super) struct Req {
    pub(super) method: Method,
    pub(super) scheme: String,
    pub(super) host: String,
    pub(super) path: String,
    pub(super) query: Vec<(String, String)>,
    pub(super) headers: HeaderMap,
    pub(super) body: Vec<u8>,
}

impl Req {
    pub(super) fn query(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// An answer before faults touch it. `Content-Length` is set from the body unless the
/// handler set it (a HEAD).
pub(super) struct Reply {
    pub(super) status: u16,
    pub(super) headers: HeaderMap,
    pub(super) body: Vec<u8>,
}

impl Reply {
    pub(super) fn new(status: u16) -> Self {
        Reply {
            status,
            headers: HeaderMap::new(),
            body: Vec::new(),
        }
    }

    /// A distribution error: `{"errors":[{"code":..,"message":..}]}`.
    pub(super) fn error(status: u16, code: &str, message: &str) -> Self {
        let body = serde_json::json!({"errors": [{"code": code, "message": message}]});
        Reply::new(status)
            .header("content-type", "application/json")
            .body(body.to_string().into_bytes())
    }

    pub(super) fn header(mut self, name: &str, value: impl AsRef<str>) -> Self {
        self.set(name, value.as_ref());
        self
    }

    pub(super) fn set(&mut self, name: &str, value: &str) {
        let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) else {
            panic!("fake registry: bad header {name}: {value}");
        };
        self.headers.insert(n, v);
    }

    pub(super) fn body(mut self, body: Vec<u8>) -> Self {
        self.body = body;
        self
    }
}

struct Inner {
    config: Mutex<Config>,
    state: Mutex<State>,
    faults: Mutex<Vec<Fault>>,
    log: Mutex<Vec<Logged>>,
}

/// The scripted registry; clones share everything.
#[derive(Clone)]
pub(super) struct FakeRegistry(Arc<Inner>);

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl FakeRegistry {
    pub(super) fn new(gate: Gate) -> Self {
        FakeRegistry(Arc::new(Inner {
            config: Mutex::new(Config {
                gate,
                deletes: true,
                page_size: 1000,
                strict_state: false,
                locations: Locations::Absolute,
            }),
            state: Mutex::new(State::default()),
            faults: Mutex::new(Vec::new()),
            log: Mutex::new(Vec::new()),
        }))
    }

    /// Change the behaviour (deletes, page size, strictness, gate).
    pub(super) fn configure(&self, f: impl FnOnce(&mut Config)) {
        f(&mut locked(&self.0.config));
    }

    pub(super) fn config(&self) -> Config {
        locked(&self.0.config).clone()
    }

    pub(super) fn state(&self) -> MutexGuard<'_, State> {
        locked(&self.0.state)
    }

    /// Script a fault.
    pub(super) fn fault(&self, f: Fault) -> FaultId {
        let mut faults = locked(&self.0.faults);
        faults.push(f);
        FaultId(faults.len() - 1)
    }

    /// How often a fault fired.
    pub(super) fn fired(&self, id: FaultId) -> usize {
        locked(&self.0.faults)[id.0].fired
    }

    /// Stop every scripted fault.
    pub(super) fn clear_faults(&self) {
        for f in locked(&self.0.faults).iter_mut() {
            f.times = f.fired;
        }
    }

    /// Every request so far.
    pub(super) fn log(&self) -> Vec<Logged> {
        locked(&self.0.log).clone()
    }

    /// Forget the requests so far.
    pub(super) fn clear_log(&self) {
        locked(&self.0.log).clear();
    }

    /// Forget every token issued (they expired): the next request with one is
    /// challenged again.
    pub(super) fn revoke_tokens(&self) {
        self.state().tokens.clear();
    }

    /// Tags of a repository.
    pub(super) fn tags(&self, repo: &str) -> Vec<String> {
        self.state()
            .repos
            .get(repo)
            .map(|r| r.tags.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The digest a tag points at.
    pub(super) fn tag(&self, repo: &str, tag: &str) -> Option<String> {
        self.state().repos.get(repo)?.tags.get(tag).cloned()
    }

    /// A blob's bytes.
    pub(super) fn blob(&self, repo: &str, digest: &str) -> Option<Arc<Vec<u8>>> {
        self.state().repos.get(repo)?.blobs.get(digest).cloned()
    }

    /// The act of the first live fault matching this request, counting it.
    fn take_fault(&self, method: &Method, host: &str, path: &str) -> Option<Act> {
        let mut faults = locked(&self.0.faults);
        let f = faults.iter_mut().find(|f| {
            f.method == *method
                && path.contains(&f.path)
                && f.host.as_ref().is_none_or(|h| h == host)
                && f.fired < f.times
        })?;
        if f.skip > 0 {
            f.skip -= 1;
            return None;
        }
        f.fired += 1;
        Some(f.act.clone())
    }

    /// Route a request: the token service, the distribution API (gated on the
    /// registry's own host), or 404.
    fn handle(&self, req: &Req) -> Reply {
        if req.host == AUTH_HOST {
            return if req.path == "/token" && req.method == Method::GET {
                self.token(req)
            } else {
                Reply::error(404, "NOT_FOUND", "the token service answers GET /token")
            };
        }
        if req.path != "/v2" && !req.path.starts_with("/v2/") {
            return Reply::error(404, "NOT_FOUND", "not a distribution API path");
        }
        let route = super::fake_api::Route::parse(&req.path);
        if req.host == REGISTRY_HOST
            && let Some(denied) = self.gate(req, &route)
        {
            return denied;
        }
        self.api(req, &route)
    }
}

impl Wire for FakeRegistry {
    fn send(&self, req: WireRequest) -> Result<WireResponse, WireError> {
        let WireRequest {
            method,
            url,
            mut headers,
            body,
            timeout,
        } = req;
        let body = match body {
            WireBody::Empty => Vec::new(),
            WireBody::Bytes(b) => b.to_vec(),
            WireBody::Reader(mut r, len) => {
                let mut v = Vec::new();
                r.read_to_end(&mut v)
                    .map_err(|e| WireError::Io(format!("sending the body: {e}")))?;
                if v.len() as u64 != len {
                    return Err(WireError::Io("the body is not as long as declared".into()));
                }
                v
            }
        };
        let host = url.host_str().unwrap_or_default().to_owned();
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        let text =
            |h: &HeaderMap, n: &str| h.get(n).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let mut entry = Logged {
            method: method.clone(),
            host: host.clone(),
            path: path.clone(),
            auth: text(&headers, "authorization")
                .and_then(|a| a.split_whitespace().next().map(str::to_owned)),
            range: text(&headers, "range"),
            content_range: text(&headers, "content-range"),
            accept: text(&headers, "accept"),
            body_len: body.len() as u64,
            status: None,
        };
        let act = self.take_fault(&method, &host, &path);
        if matches!(act, Some(Act::IgnoreRange)) {
            headers.remove("range");
        }
        let mut req = Req {
            method,
            scheme: url.scheme().to_owned(),
            host,
            path: url.path().to_owned(),
            query: url.query_pairs().into_owned().collect(),
            headers,
            body,
        };
        let result = self.answer(&mut req, &url, act, timeout);
        entry.status = result.as_ref().ok().map(|r| r.status.as_u16());
        locked(&self.0.log).push(entry);
        result
    }
}

impl FakeRegistry {
    /// Handle one request under a fault (if any) and build the response.
    fn answer(
        &self,
        req: &mut Req,
        url: &Url,
        act: Option<Act>,
        timeout: Duration,
    ) -> Result<WireResponse, WireError> {
        let lost = || WireError::Io("connection reset by peer".into());
        match &act {
            Some(Act::Status(s)) => return Ok(respond(Reply::error(*s, "FAULT", "injected"))),
            Some(Act::RetryAfter(s, secs)) => {
                return Ok(respond(
                    Reply::error(*s, "TOOMANYREQUESTS", "slow down")
                        .header("retry-after", secs.to_string()),
                ));
            }
            Some(Act::Reset) => return Err(lost()),
            Some(Act::Redirect(origin)) => {
                let to = moved(url, origin)
                    .ok_or_else(|| WireError::Io(format!("fake: bad origin {origin}")))?;
                return Ok(respond(Reply::new(307).header("location", to.as_str())));
            }
            Some(Act::Stall(d)) => {
                std::thread::sleep((*d).min(timeout));
                if *d > timeout {
                    return Err(WireError::Io("operation timed out".into()));
                }
            }
            Some(Act::PartialBody(n)) => {
                // The registry keeps what arrived before the connection dropped.
                req.body.truncate(*n);
                let start = req
                    .header("content-range")
                    .and_then(|r| r.split('-').next()?.trim().parse::<usize>().ok());
                if let (Some(start), Some(last)) = (start, req.body.len().checked_sub(1)) {
                    let range = HeaderValue::from_str(&format!("{start}-{}", start + last))
                        .map_err(|e| WireError::Io(e.to_string()))?;
                    req.headers.insert("content-range", range);
                }
                let _ = self.handle(req);
                return Err(lost());
            }
            _ => {}
        }
        let mut reply = self.handle(req);
        match act.clone() {
            Some(Act::LoseAnswer) => return Err(lost()),
            Some(Act::Corrupt) => {
                let mid = reply.body.len() / 2;
                if let Some(b) = reply.body.get_mut(mid) {
                    *b ^= 0x55;
                }
            }
            Some(Act::RelocateUpload(origin)) => {
                if let Some(loc) = reply.headers.get("location").and_then(|l| l.to_str().ok())
                    && let Some(to) = url.join(loc).ok().and_then(|u| moved(&u, &origin))
                {
                    reply.set("location", to.as_str());
                }
            }
            Some(Act::Header(name, value)) => reply.set(name, &value),
            Some(Act::DropHeader(name)) => {
                reply.headers.remove(name);
            }
            Some(Act::Huge(n)) => {
                reply.body = vec![b' '; n];
                return Ok(without_length(reply));
            }
            Some(Act::Trailing(n)) => {
                reply.body.resize(reply.body.len() + n, b'x');
                return Ok(without_length(reply));
            }
            _ => {}
        }
        let mut resp = respond(reply);
        match act {
            Some(Act::CutBody(n)) => {
                resp.body = Box::new(Cut {
                    inner: resp.body,
                    left: n,
                })
            }
            Some(Act::StallBody(d)) => {
                resp.body = Box::new(Stalled {
                    inner: resp.body,
                    wait: Some(d),
                    timeout,
                });
            }
            _ => {}
        }
        Ok(resp)
    }
}

/// `url` with the scheme and host of `origin` (`https://blobs.example`).
fn moved(url: &Url, origin: &str) -> Option<Url> {
    let origin = Url::parse(origin).ok()?;
    let mut to = origin.join(url.path()).ok()?;
    to.set_query(url.query());
    Some(to)
}

fn status_code(s: u16) -> reqwest::StatusCode {
    reqwest::StatusCode::from_u16(s).unwrap_or(reqwest::StatusCode::INTERNAL_SERVER_ERROR)
}

/// The response for a reply, with `Content-Length` unless the handler set one.
fn respond(mut reply: Reply) -> WireResponse {
    if !reply.headers.contains_key(CONTENT_LENGTH) {
        reply.set("content-length", &reply.body.len().to_string());
    }
    WireResponse {
        status: status_code(reply.status),
        headers: reply.headers,
        body: Box::new(io::Cursor::new(reply.body)),
    }
}

/// The response for a reply, without `Content-Length`.
fn without_length(mut reply: Reply) -> WireResponse {
    reply.headers.remove(CONTENT_LENGTH);
    WireResponse {
        status: status_code(reply.status),
        headers: reply.headers,
        body: Box::new(io::Cursor::new(reply.body)),
    }
}

/// A body that fails after `left` bytes.
struct Cut {
    inner: Box<dyn Read + Send>,
    left: usize,
}

impl Read for Cut {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "connection reset by peer",
            ));
        }
        let n = buf.len().min(self.left);
        let k = self.inner.read(&mut buf[..n])?;
        self.left -= k;
        Ok(k)
    }
}

/// A body whose first byte comes after `wait` (or never, past the timeout).
struct Stalled {
    inner: Box<dyn Read + Send>,
    wait: Option<Duration>,
    timeout: Duration,
}

impl Read for Stalled {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(d) = self.wait.take() {
            std::thread::sleep(d.min(self.timeout));
            if d > self.timeout {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "operation timed out",
                ));
            }
        }
        self.inner.read(buf)
    }
}
