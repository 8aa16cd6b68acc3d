//! The HTTP seam: the registry client sends every request through [`Wire`], one request
//! in and one response out. [`ReqwestWire`] is the real one (reqwest, blocking, rustls);
//! the tests put a scripted in-process registry behind the same trait, so retries,
//! authentication, resumes and redirects run under plain `cargo test`.

use std::io::{self, Read};
use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use url::Url;

/// A request body.
pub(crate) enum WireBody {
    Empty,
    Bytes(bytes::Bytes),
    /// `len` bytes streamed from a reader (a file slice reporting progress).
    Reader(Box<dyn Read + Send>, u64),
}

impl WireBody {
    pub(crate) fn len(&self) -> u64 {
        match self {
            WireBody::Empty => 0,
            WireBody::Bytes(b) => b.len() as u64,
            WireBody::Reader(_, n) => *n,
        }
    }
}

/// One HTTP request, fully built (URL, headers with any `Authorization`, body).
pub(crate) struct WireRequest {
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) headers: HeaderMap,
    pub(crate) body: WireBody,
    /// Time allowed for the whole exchange, body included.
    pub(crate) timeout: Duration,
}

/// One HTTP response; the body is read on demand.
pub(crate) struct WireResponse {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Box<dyn Read + Send>,
}

impl WireResponse {
    pub(crate) fn status(&self) -> StatusCode {
        self.status
    }

    pub(crate) fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// A header as text, if present and printable.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The declared `Content-Length`.
    pub(crate) fn content_length(&self) -> Option<u64> {
        self.header("content-length")?.trim().parse().ok()
    }
}

impl Read for WireResponse {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.body.read(buf)
    }
}

/// Why a request got no response.
#[derive(Debug)]
pub(crate) enum WireError {
    /// TLS failed (not worth retrying): the TLS error's text.
    Tls(String),
    /// Anything else on the way (refused, reset, timed out): the cause chain's text.
    Io(String),
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WireError::Tls(m) | WireError::Io(m) => f.write_str(m),
        }
    }
}

/// Sends one request. Implementations follow no redirects and add no credentials: the
/// client above decides both.
pub(crate) trait Wire: Send + Sync {
    fn send(&self, req: WireRequest) -> Result<WireResponse, WireError>;
}

/// The real wire: one pooled reqwest blocking client.
pub(crate) struct ReqwestWire(pub(crate) reqwest::blocking::Client);

impl Wire for ReqwestWire {
    fn send(&self, req: WireRequest) -> Result<WireResponse, WireError> {
        let mut rb = self
            .0
            .request(req.method.clone(), req.url)
            .timeout(req.timeout)
            .headers(req.headers);
        rb = match req.body {
            WireBody::Empty => {
                if matches!(req.method, Method::PUT | Method::POST | Method::PATCH) {
                    rb.header(reqwest::header::CONTENT_LENGTH, "0")
                } else {
                    rb
                }
            }
            WireBody::Bytes(b) => rb.body(b),
            WireBody::Reader(r, len) => rb.body(reqwest::blocking::Body::sized(r, len)),
        };
        match rb.send() {
            Ok(resp) => Ok(WireResponse {
                status: resp.status(),
                headers: resp.headers().clone(),
                body: Box::new(resp),
            }),
            Err(e) => Err(match tls_error(&e) {
                Some(t) => WireError::Tls(t),
                None => WireError::Io(error_chain(&e)),
            }),
        }
    }
}

/// The TLS error behind a failed request, if that is what failed (not worth retrying).
fn tls_error(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(t) = err.downcast_ref::<rustls::Error>() {
            return Some(t.to_string());
        }
        if let Some(io) = err.downcast_ref::<io::Error>()
            && let Some(inner) = io.get_ref()
            && let Some(t) = inner.downcast_ref::<rustls::Error>()
        {
            return Some(t.to_string());
        }
        cur = err.source();
    }
    // Some layers re-wrap the rustls error as text; recognise its messages.
    let text = error_chain(e);
    [
        "received corrupt message",
        "invalid peer certificate",
        "peer is incompatible",
        "HandshakeFailure",
    ]
    .iter()
    .any(|m| text.contains(m))
    .then_some(text)
}

/// An error and its causes on one line, with URLs' queries removed. reqwest's own
/// top-level "error sending request for url (...)" is skipped: callers print the URL.
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = match e.source() {
        Some(src) if e.is::<reqwest::Error>() => Some(src),
        _ => Some(e),
    };
    while let Some(err) = cur {
        let mut s = err.to_string();
        // reqwest prints "error sending request for url (URL)": drop the query part.
        if let Some(q) = s.find('?')
            && let Some(end) = s[q..].find(')')
        {
            s.replace_range(q..q + end, "");
        }
        if !parts.iter().any(|p: &String| p.contains(&s)) {
            parts.push(s);
        }
        cur = err.source();
    }
    crate::sanitize(&parts.join(": "))
}
