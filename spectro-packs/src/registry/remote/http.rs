//! The request layer for the distribution API, over the [`Wire`] seam: authentication
//! (Basic, Bearer with a per-scope token cache fetched once per scope, anonymous tokens),
//! retries through [`Retrier`], redirect handling that never sends credentials off the
//! registry's origin, and cancellation.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use std::sync::Arc;

use reqwest::Method;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue, LOCATION};
use url::Url;

use super::auth::{Challenge, Credential};
use super::retry::{Retrier, RetryPolicy, retryable_status};
use super::wire::{Wire, WireBody, WireError, WireRequest, WireResponse};
use crate::error::{Error, Result};
use crate::registry::{CancelFlag, Progress, ProgressFn};

/// Redirects followed per request.
const MAX_REDIRECTS: u32 = 5;

/// A request body that can be re-created for every attempt.
pub(crate) enum Payload<'a> {
    Empty,
    Bytes(&'a [u8]),
    /// Bytes in memory, sent in one piece (a chunk read from a file).
    Owned(bytes::Bytes),
    /// `len` bytes of a file from `offset`, reopened for every attempt.
    File {
        path: PathBuf,
        offset: u64,
        len: u64,
        /// Progress is reported as `done_before + bytes sent`.
        done_before: u64,
        total: Option<u64>,
        progress: Option<ProgressFn>,
        cancel: Option<CancelFlag>,
    },
}

/// One logical request.
pub(crate) struct Call<'a> {
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) payload: Payload<'a>,
    /// Token scopes (`repository:<repo>:pull,push`).
    pub(crate) scopes: Vec<String>,
    /// Retry on network errors and 408/429/5xx (idempotent requests only).
    pub(crate) retry: bool,
    /// Follow redirects (GET/HEAD).
    pub(crate) follow: bool,
    pub(crate) cancel: Option<CancelFlag>,
    /// Bytes the response body will carry, when known (sets the time allowed).
    pub(crate) expect_bytes: u64,
}

impl<'a> Call<'a> {
    pub(crate) fn new(method: Method, url: Url, scopes: Vec<String>) -> Self {
        let idempotent = matches!(
            method,
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE
        );
        let follow = matches!(method, Method::GET | Method::HEAD);
        Call {
            method,
            url,
            headers: Vec::new(),
            payload: Payload::Empty,
            scopes,
            retry: idempotent,
            follow,
            cancel: None,
            expect_bytes: 0,
        }
    }
    pub(crate) fn expect_bytes(mut self, n: u64) -> Self {
        self.expect_bytes = n;
        self
    }
    pub(crate) fn header(mut self, k: &'static str, v: impl Into<String>) -> Self {
        self.headers.push((k, v.into()));
        self
    }
    pub(crate) fn payload(mut self, p: Payload<'a>) -> Self {
        self.payload = p;
        self
    }
    pub(crate) fn no_retry(mut self) -> Self {
        self.retry = false;
        self
    }
    pub(crate) fn cancel(mut self, c: Option<&CancelFlag>) -> Self {
        self.cancel = c.cloned();
        self
    }
}

#[derive(Default)]
pub(super) struct AuthState {
    pub(super) challenge: Option<Challenge>,
    /// Scope key (scopes joined by spaces) → access token.
    pub(super) tokens: HashMap<String, String>,
    /// Scope key → the lock a token fetch for it holds, so parallel requests behind the
    /// same challenge fetch one token, not one each.
    pub(super) fetching: HashMap<String, Arc<Mutex<()>>>,
}

/// The HTTP side of one registry.
pub(crate) struct Transport {
    wire: Arc<dyn Wire>,
    /// `scheme://host[:port]/`.
    pub(crate) origin: Url,
    /// For messages: `oci://host/base`.
    pub(crate) registry: String,
    /// Credentials, looked up on the first authentication challenge (a registry that
    /// needs no login never runs a credential helper).
    credential: std::sync::OnceLock<Option<Credential>>,
    pub(super) lookup: Option<(super::CredentialStore, String)>,
    pub(super) state: Mutex<AuthState>,
    pub(crate) retry: RetryPolicy,
    pub(super) timeouts: Timeouts,
    /// Client-wide cancellation (see `RemoteOptions::cancel`).
    cancel: Option<CancelFlag>,
    /// Open critical sections ([`Transport::critical`]): while any is open, the
    /// client-wide flag does not stop requests.
    critical: Arc<std::sync::atomic::AtomicUsize>,
}

/// Keeps a critical section open while alive.
pub(crate) struct Critical(Arc<std::sync::atomic::AtomicUsize>);

impl Drop for Critical {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Time allowed per request: `base` plus the bytes moved at `min_rate`, so a stalled
/// server fails (and is retried) instead of hanging, while slow links still finish.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
    pub(crate) base: Duration,
    pub(crate) min_rate: u64,
}

impl Timeouts {
    fn for_bytes(&self, n: u64) -> Duration {
        // Capped at a day so a hostile size cannot overflow the deadline.
        self.base
            .saturating_add(Duration::from_secs(n / self.min_rate.max(1)))
            .min(Duration::from_secs(86_400))
    }
}

pub(crate) fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// A URL without its query and fragment (upload `_state` tokens, signatures).
pub(crate) fn redact(url: &Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.set_fragment(None);
    let _ = u.set_password(None);
    let _ = u.set_username("");
    u.to_string()
}

pub(crate) use crate::registry::{CancelledIo, is_cancelled};

/// A file slice that reports progress and stops when cancelled.
struct ProgressReader {
    inner: io::Take<File>,
    done: u64,
    total: Option<u64>,
    progress: Option<ProgressFn>,
    cancel: Option<CancelFlag>,
}

impl Read for ProgressReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if is_cancelled(self.cancel.as_ref()) {
            return Err(io::Error::other(CancelledIo));
        }
        let n = self.inner.read(buf)?;
        self.done += n as u64;
        if let Some(p) = &self.progress {
            p(Progress::Transfer {
                done: self.done,
                total: self.total,
            });
        }
        Ok(n)
    }
}

impl Transport {
    pub(crate) fn new(
        wire: Arc<dyn Wire>,
        origin: Url,
        registry: String,
        // Credentials given up front, else where to look them up (host) when first needed.
        (credential, lookup): (Option<Credential>, Option<(super::CredentialStore, String)>),
        retry: RetryPolicy,
        timeouts: Timeouts,
        cancel: Option<CancelFlag>,
    ) -> Self {
        let cell = std::sync::OnceLock::new();
        if credential.is_some() || lookup.is_none() {
            let _ = cell.set(credential);
        }
        Transport {
            wire,
            origin,
            registry,
            credential: cell,
            lookup,
            state: Mutex::new(AuthState::default()),
            retry,
            timeouts,
            cancel,
            critical: Arc::default(),
        }
    }

    /// Open a section of requests that must all run once started (move a tag, delete,
    /// restore): Ctrl-C/SIGTERM through the client-wide flag waits for it to close.
    pub(crate) fn critical(&self) -> Critical {
        self.critical
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Critical(Arc::clone(&self.critical))
    }

    /// Whether `call`'s flag or the client-wide flag (outside critical sections) is set.
    pub(crate) fn cancelled(&self, call: Option<&CancelFlag>) -> bool {
        is_cancelled(call) || self.client_cancelled()
    }

    /// Read a response body on its own thread, in chunks of up to 1 MiB, so the caller
    /// can stop waiting for a stalled body as soon as it is cancelled: chunks arrive on
    /// the returned channel; an empty chunk is the end.
    pub(crate) fn body_chunks(
        &self,
        mut resp: WireResponse,
    ) -> std::sync::mpsc::Receiver<std::io::Result<Vec<u8>>> {
        use std::io::Read;
        let (tx, rx) = std::sync::mpsc::sync_channel(2);
        const CHUNK: u64 = 1 << 20;
        std::thread::spawn(move || {
            loop {
                // Fill a whole chunk (many small socket reads) before handing it over: one
                // allocation and one channel message per MiB, not per read.
                let mut chunk = Vec::with_capacity(CHUNK as usize);
                match (&mut resp).take(CHUNK).read_to_end(&mut chunk) {
                    Ok(k) => {
                        let end = (k as u64) < CHUNK;
                        if k > 0 && tx.send(Ok(chunk)).is_err() {
                            break;
                        }
                        if end {
                            let _ = tx.send(Ok(Vec::new()));
                            break;
                        }
                    }
                    Err(e) => {
                        // What arrived before the failure counts (a resume starts after it).
                        if !chunk.is_empty() && tx.send(Ok(chunk)).is_err() {
                            break;
                        }
                        let _ = tx.send(Err(e));
                        break;
                    }
                }
            }
        });
        rx
    }

    /// The client-wide flag is set and no critical section is open.
    fn client_cancelled(&self) -> bool {
        self.critical.load(std::sync::atomic::Ordering::SeqCst) == 0
            && is_cancelled(self.cancel.as_ref())
    }

    /// Send one request; while it waits for the registry, poll the cancellation flags
    /// (the call's and the client's) every 50 ms. A cancelled request is left to finish
    /// or time out on its own thread; its answer is dropped.
    pub(super) fn send_cancellable(
        &self,
        req: WireRequest,
        call: Option<&CancelFlag>,
    ) -> Result<std::result::Result<WireResponse, WireError>> {
        if call.is_none() && self.cancel.is_none() {
            return Ok(self.wire.send(req));
        }
        let cancelled = || is_cancelled(call) || self.client_cancelled();
        if cancelled() {
            return Err(Error::Cancelled);
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let wire = Arc::clone(&self.wire);
        std::thread::Builder::new()
            .name("spectro-http".into())
            .spawn(move || {
                let _ = tx.send(wire.send(req));
            })
            .map_err(|e| self.err(format!("starting a request thread: {e}")))?;
        loop {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(r) => return Ok(r),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) if cancelled() => {
                    return Err(Error::Cancelled);
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(self.err("the request thread stopped without an answer"));
                }
            }
        }
    }

    /// The credentials for this registry, looked up once, when first needed.
    /// A failed lookup (a helper that timed out) is not remembered: the next challenge
    /// tries again.
    pub(super) fn credential(&self) -> Result<Option<&Credential>> {
        if let Some(c) = self.credential.get() {
            return Ok(c.as_ref());
        }
        let found = match &self.lookup {
            Some((store, host)) => store.lookup(host)?.map(|(c, _)| c),
            None => None,
        };
        let _ = self.credential.set(found);
        Ok(self.credential.get().and_then(Option::as_ref))
    }

    pub(crate) fn has_credential(&self) -> bool {
        self.credential().ok().flatten().is_some()
    }

    /// `origin` joined with a path (and query).
    pub(crate) fn url(&self, path_and_query: &str) -> Result<Url> {
        self.origin
            .join(path_and_query)
            .map_err(|e| self.err(format!("bad URL `{path_and_query}`: {e}")))
    }

    pub(crate) fn err(&self, reason: impl Into<String>) -> Error {
        Error::Remote {
            registry: self.registry.clone(),
            reason: reason.into(),
        }
    }

    /// The error for a reply the protocol does not allow (kind Protocol, not retried as a
    /// transport failure).
    pub(crate) fn violation(&self, reason: impl Into<String>) -> Error {
        Error::Protocol {
            registry: self.registry.clone(),
            reason: reason.into(),
        }
    }

    fn sleep(&self, d: Duration, cancel: Option<&CancelFlag>) -> Result<()> {
        let until = Instant::now() + d;
        while Instant::now() < until {
            if is_cancelled(cancel) || self.client_cancelled() {
                return Err(Error::Cancelled);
            }
            std::thread::sleep((until - Instant::now()).min(Duration::from_millis(50)));
        }
        Ok(())
    }

    /// A fresh retry budget under this client's policy.
    pub(crate) fn retrier(&self) -> Retrier {
        Retrier::new(&self.retry)
    }

    /// Wait before the next retry of `r` (honouring a capped `Retry-After` from
    /// `headers`); `false` when its budget is spent. Cancellation stops the wait.
    pub(crate) fn backoff(
        &self,
        r: &mut Retrier,
        headers: Option<&HeaderMap>,
        cancel: Option<&CancelFlag>,
    ) -> Result<bool> {
        match r.next_delay(headers) {
            Some(d) => self.sleep(d, cancel).map(|()| true),
            None => Ok(false),
        }
    }

    fn build(&self, call: &Call<'_>, url: &Url, trusted: bool) -> Result<(WireRequest, bool)> {
        let body = match &call.payload {
            Payload::Empty => WireBody::Empty,
            Payload::Bytes(b) => WireBody::Bytes(bytes::Bytes::copy_from_slice(b)),
            Payload::Owned(b) => WireBody::Bytes(b.clone()),
            Payload::File {
                path,
                offset,
                len,
                done_before,
                total,
                progress,
                cancel,
            } => {
                let mut f = File::open(path).map_err(|e| Error::io(path, e))?;
                f.seek(SeekFrom::Start(*offset))
                    .map_err(|e| Error::io(path, e))?;
                let reader = ProgressReader {
                    inner: f.take(*len),
                    done: *done_before,
                    total: *total,
                    progress: progress.clone(),
                    cancel: cancel.clone(),
                };
                WireBody::Reader(Box::new(reader), *len)
            }
        };
        let mut headers = HeaderMap::new();
        for (k, v) in &call.headers {
            let v = HeaderValue::from_str(v)
                .map_err(|_| self.err(format!("header {k} has a value HTTP cannot carry")))?;
            headers.insert(HeaderName::from_static(k), v);
        }
        let mut with_auth = false;
        if trusted && let Some(h) = self.authorization(&call.scopes)? {
            let mut v = HeaderValue::from_str(&h)
                .map_err(|_| self.err("the credentials hold characters HTTP cannot carry"))?;
            v.set_sensitive(true);
            headers.insert(AUTHORIZATION, v);
            with_auth = true;
        }
        let req = WireRequest {
            method: call.method.clone(),
            url: url.clone(),
            headers,
            timeout: self.timeouts.for_bytes(body.len() + call.expect_bytes),
            body,
        };
        Ok((req, with_auth))
    }

    /// Send a request: authenticate on a 401 challenge (once), follow redirects for
    /// GET/HEAD (credentials only on the registry's own origin; no https→http), retry
    /// idempotent requests on network errors and 408/429/5xx. Returns the final response
    /// whatever its status; callers map statuses to errors.
    pub(crate) fn send(&self, call: &Call<'_>) -> Result<WireResponse> {
        let mut retrier = self.retrier();
        let mut url = call.url.clone();
        let mut authenticated = false;
        let mut redirects = 0u32;
        loop {
            if is_cancelled(call.cancel.as_ref()) || self.client_cancelled() {
                return Err(Error::Cancelled);
            }
            let trusted = same_origin(&url, &self.origin);
            let (req, with_auth) = self.build(call, &url, trusted)?;
            let resp = match self.send_cancellable(req, call.cancel.as_ref())? {
                Ok(r) => r,
                Err(e) => {
                    if is_cancelled(call.cancel.as_ref()) || self.client_cancelled() {
                        return Err(Error::Cancelled);
                    }
                    if let WireError::Tls(tls) = &e {
                        return Err(self.err(format!(
                            "{} {}: TLS failed: {tls}",
                            call.method,
                            redact(&url),
                        )));
                    }
                    if call.retry && self.backoff(&mut retrier, None, call.cancel.as_ref())? {
                        continue;
                    }
                    return Err(self.err(format!("{} {}: {e}", call.method, redact(&url))));
                }
            };
            let status = resp.status();
            if status == reqwest::StatusCode::UNAUTHORIZED && trusted && !authenticated {
                authenticated = true;
                if self.on_challenge(resp.headers(), &call.scopes, with_auth)? {
                    continue;
                }
                return Ok(resp);
            }
            if status.is_redirection()
                && call.follow
                && let Some(loc) = resp.headers().get(LOCATION).and_then(|l| l.to_str().ok())
            {
                if redirects >= MAX_REDIRECTS {
                    return Err(
                        self.violation(format!("{}: too many redirects", redact(&call.url)))
                    );
                }
                let next = url.join(loc).map_err(|e| {
                    self.violation(format!(
                        "bad redirect `{}`: {e}",
                        crate::sanitize(loc.split('?').next().unwrap_or_default())
                    ))
                })?;
                if url.scheme() == "https" && next.scheme() != "https" {
                    return Err(self
                        .violation(format!("refusing redirect from https to {}", redact(&next))));
                }
                url = next;
                redirects += 1;
                continue;
            }
            if call.retry
                && retryable_status(status)
                && self.backoff(&mut retrier, Some(resp.headers()), call.cancel.as_ref())?
            {
                continue;
            }
            return Ok(resp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_and_origins() {
        let u =
            Url::parse("https://u:p@reg.io/v2/x/blobs/uploads/abc?_state=secret&digest=sha256:1")
                .unwrap();
        assert_eq!(redact(&u), "https://reg.io/v2/x/blobs/uploads/abc");
        assert!(same_origin(
            &Url::parse("https://reg.io/a").unwrap(),
            &Url::parse("https://reg.io:443/b").unwrap()
        ));
        assert!(!same_origin(
            &Url::parse("http://127.0.0.1:5000/a").unwrap(),
            &Url::parse("http://127.0.0.1:5001/a").unwrap()
        ));
    }
}
