//! A fault-injecting HTTP/1.1 proxy in front of a real registry, a token server for
//! Bearer auth, and a recorder that logs every `Authorization` header it receives.
//!
//! Deliberately small and blocking: one request per connection (`Connection: close`),
//! bodies buffered (test packs are small). Everything binds to 127.0.0.1.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// A parsed request.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `PUT`, ...
    pub method: String,
    /// Path and query.
    pub target: String,
    /// Headers as sent (names lowercased).
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl Request {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A response to write.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers (without Content-Length / Connection, added on write).
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
    /// For HEAD: the Content-Length to announce.
    pub head_length: Option<usize>,
    /// Send this many body bytes, then wait this long before the rest (a body that
    /// stalls after the headers).
    pub stall: Option<(usize, std::time::Duration)>,
}

impl Response {
    /// A response with a JSON error body in the distribution shape.
    pub fn error(status: u16, code: &str) -> Self {
        Response {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: format!(
                r#"{{"errors":[{{"code":"{code}","message":"injected by the test proxy"}}]}}"#
            )
            .into_bytes(),
            head_length: None,
            stall: None,
        }
    }

    /// Set (replace) a header.
    pub fn set_header(&mut self, name: &str, value: impl Into<String>) {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self.headers.push((name.into(), value.into()));
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn read_request(stream: &mut BufReader<TcpStream>) -> std::io::Result<Option<Request>> {
    let mut line = String::new();
    if stream.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        stream.read_line(&mut h)?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let get = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let mut body = Vec::new();
    if get("transfer-encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            stream.read_line(&mut size)?;
            let n = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)
                .unwrap_or(0);
            let mut chunk = vec![0; n + 2];
            stream.read_exact(&mut chunk)?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    } else if let Some(n) = get("content-length").and_then(|v| v.parse::<usize>().ok()) {
        body.resize(n, 0);
        stream.read_exact(&mut body)?;
    }
    Ok(Some(Request {
        method,
        target,
        headers,
        body,
    }))
}

fn write_response(stream: &mut TcpStream, method: &str, r: &Response, cut: Option<usize>) {
    let reason = match r.status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        307 => "Temporary Redirect",
        401 => "Unauthorized",
        404 => "Not Found",
        429 => "Too Many Requests",
        _ => "Status",
    };
    let mut head = format!("HTTP/1.1 {} {reason}\r\n", r.status);
    for (k, v) in &r.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    let len = if method == "HEAD" {
        r.head_length.unwrap_or(0)
    } else {
        r.body.len()
    };
    head.push_str(&format!(
        "Content-Length: {len}\r\nConnection: close\r\n\r\n"
    ));
    let _ = stream.write_all(head.as_bytes());
    if method != "HEAD" {
        let body = match cut {
            Some(n) => &r.body[..n.min(r.body.len())],
            None => &r.body[..],
        };
        match r.stall {
            Some((n, wait)) if n < body.len() => {
                let _ = stream.write_all(&body[..n]);
                let _ = stream.flush();
                std::thread::sleep(wait);
                let _ = stream.write_all(&body[n..]);
            }
            _ => {
                let _ = stream.write_all(body);
            }
        }
    }
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Both);
}

/// Send a request to `upstream` (`host:port`) and read the whole response.
pub fn forward(upstream: &str, req: &Request) -> std::io::Result<Response> {
    let mut s = TcpStream::connect(upstream)?;
    let mut head = format!("{} {} HTTP/1.1\r\n", req.method, req.target);
    for (k, v) in &req.headers {
        if matches!(
            k.as_str(),
            "connection" | "content-length" | "transfer-encoding"
        ) {
            continue;
        }
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        req.body.len()
    ));
    s.write_all(head.as_bytes())?;
    s.write_all(&req.body)?;
    let mut r = BufReader::new(s);
    let mut line = String::new();
    r.read_line(&mut line)?;
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(502);
    let mut headers = Vec::new();
    let mut head_length = None;
    let mut chunked = false;
    loop {
        let mut h = String::new();
        r.read_line(&mut h)?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            let (k, v) = (k.trim(), v.trim());
            match k.to_ascii_lowercase().as_str() {
                "content-length" => head_length = v.parse().ok(),
                "transfer-encoding" => chunked = true,
                "connection" => {}
                _ => headers.push((k.to_owned(), v.to_owned())),
            }
        }
    }
    let mut body = Vec::new();
    if req.method != "HEAD" {
        if chunked {
            loop {
                let mut size = String::new();
                r.read_line(&mut size)?;
                let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
                let mut chunk = vec![0; n + 2];
                r.read_exact(&mut chunk)?;
                if n == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..n]);
            }
        } else {
            r.read_to_end(&mut body)?;
        }
    }
    Ok(Response {
        status,
        headers,
        body,
        head_length,
        stall: None,
    })
}

/// What the server does with a request; `cut` truncates the body after n bytes and
/// drops the connection (a reset mid-transfer).
pub type Handler = dyn Fn(&Request) -> (Response, Option<usize>) + Send + Sync;

/// A threaded test server on 127.0.0.1 that logs every request.
pub struct Server {
    /// `127.0.0.1:PORT`.
    pub addr: String,
    log: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
}

impl Server {
    /// Start serving with `handler`.
    pub fn start(handler: Arc<Handler>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local addr").to_string();
        let log: Arc<Mutex<Vec<Request>>> = Arc::default();
        let stop: Arc<AtomicBool> = Arc::default();
        let (log2, stop2) = (log.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = conn else { continue };
                let (handler, log) = (handler.clone(), log2.clone());
                std::thread::spawn(move || {
                    let mut writer = match stream.try_clone() {
                        Ok(w) => w,
                        Err(_) => return,
                    };
                    let mut reader = BufReader::new(stream);
                    if let Ok(Some(req)) = read_request(&mut reader) {
                        log.lock().unwrap().push(req.clone());
                        let (resp, cut) = handler(&req);
                        write_response(&mut writer, &req.method, &resp, cut);
                    }
                });
            }
        });
        Server { addr, log, stop }
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().unwrap().clone()
    }

    /// `Authorization` headers received, in order.
    pub fn authorizations(&self) -> Vec<String> {
        self.requests()
            .iter()
            .filter_map(|r| r.header("authorization").map(str::to_owned))
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(&self.addr);
    }
}

/// One injected fault: applies to requests whose method matches and whose target
/// contains `path`, for the first `times` matches.
#[derive(Debug, Clone)]
pub struct Fault {
    /// Method to match.
    pub method: &'static str,
    /// Substring of the request target.
    pub path: String,
    /// How many matching requests it applies to.
    pub times: usize,
    /// What happens.
    pub action: Action,
}

/// What a fault does.
#[derive(Debug, Clone)]
pub enum Action {
    /// Answer with this status (and headers) instead of forwarding.
    Status(u16, Vec<(String, String)>),
    /// Forward, then send only the first n body bytes and drop the connection.
    CutAfter(usize),
    /// Forward, then flip one byte of the body.
    Corrupt,
    /// Answer 307 to this origin (`http://127.0.0.1:PORT`) with the same target.
    Redirect(String),
    /// Forward, then rewrite the `Location` header to this origin.
    RelocateUploads(String),
    /// Forward, then add this `Link` header.
    Link(String),
    /// Answer 200 with a body of this many bytes (an oversized response).
    Huge(usize),
    /// Wait this long, then forward (a stalled server).
    Stall(std::time::Duration),
    /// Forward, then send n body bytes and stall for the duration before the rest.
    StallBody(usize, std::time::Duration),
    /// Forward without the `Range` header (a server that ignores ranges and answers
    /// 200 with the whole body), then send only the first n body bytes and drop.
    IgnoreRangeCutAfter(usize),
}

/// Bearer auth the proxy enforces: requests need `Authorization: Bearer <token>`.
#[derive(Debug, Clone)]
pub struct BearerGate {
    /// Realm announced in the challenge.
    pub realm: String,
    /// The token that opens the gate.
    pub token: String,
    /// A token that only allows pulls (anonymous access).
    pub pull_token: Option<String>,
}

/// The fault-injecting proxy.
pub struct FaultProxy {
    /// The server.
    pub server: Server,
    faults: Arc<Mutex<Vec<Fault>>>,
}

impl FaultProxy {
    /// Start a proxy in front of `upstream` (`host:port`), optionally behind Bearer auth.
    pub fn start(upstream: &str, gate: Option<BearerGate>) -> FaultProxy {
        let faults: Arc<Mutex<Vec<Fault>>> = Arc::default();
        let (f2, up) = (faults.clone(), upstream.to_owned());
        let server = Server::start(Arc::new(move |req: &Request| {
            if let Some(g) = &gate {
                let auth = req.header("authorization").unwrap_or_default();
                let full = auth == format!("Bearer {}", g.token);
                let pull_only = g
                    .pull_token
                    .as_ref()
                    .is_some_and(|t| auth == format!("Bearer {t}"))
                    && matches!(req.method.as_str(), "GET" | "HEAD");
                if !full && !pull_only {
                    let mut r = Response::error(401, "UNAUTHORIZED");
                    r.set_header(
                        "WWW-Authenticate",
                        format!(r#"Bearer realm="{}",service="spectro-test""#, g.realm),
                    );
                    return (r, None);
                }
            }
            let fault = {
                let mut fs = f2.lock().unwrap();
                let hit = fs.iter_mut().find(|f| {
                    f.times > 0 && f.method == req.method && req.target.contains(&f.path)
                });
                hit.map(|f| {
                    f.times -= 1;
                    f.action.clone()
                })
            };
            if let Some(Action::Status(code, headers)) = &fault {
                let mut r = Response::error(*code, "INJECTED");
                for (k, v) in headers {
                    r.set_header(k, v.clone());
                }
                return (r, None);
            }
            if let Some(Action::Huge(n)) = &fault {
                let mut r = Response::error(200, "HUGE");
                r.body = vec![b' '; *n];
                return (r, None);
            }
            if let Some(Action::Redirect(origin)) = &fault {
                let mut r = Response::error(307, "REDIRECT");
                r.set_header("Location", format!("{origin}{}", req.target));
                return (r, None);
            }
            if let Some(Action::Stall(d)) = &fault {
                std::thread::sleep(*d);
            }
            let forwarded = match &fault {
                Some(Action::IgnoreRangeCutAfter(_)) => {
                    let mut whole = req.clone();
                    whole.headers.retain(|(k, _)| k != "range");
                    forward(&up, &whole)
                }
                _ => forward(&up, req),
            };
            let mut resp = match forwarded {
                Ok(r) => r,
                Err(_) => return (Response::error(502, "UPSTREAM"), None),
            };
            match fault {
                Some(Action::StallBody(n, wait)) => {
                    resp.stall = Some((n, wait));
                }
                Some(Action::CutAfter(n) | Action::IgnoreRangeCutAfter(n)) => {
                    resp.head_length = Some(resp.body.len());
                    return (resp, Some(n));
                }
                Some(Action::Corrupt) => {
                    if let Some(b) = resp.body.get_mut(0) {
                        *b ^= 0xff;
                    }
                }
                Some(Action::RelocateUploads(origin)) => {
                    if let Some(loc) = resp.header("Location").map(str::to_owned) {
                        let path = loc.find("/v2/").map(|i| loc[i..].to_owned()).unwrap_or(loc);
                        resp.set_header("Location", format!("{origin}{path}"));
                    }
                }
                Some(Action::Link(l)) => resp.set_header("Link", l),
                _ => {}
            }
            (resp, None)
        }));
        FaultProxy { server, faults }
    }

    /// Inject a fault.
    pub fn inject(&self, method: &'static str, path: &str, times: usize, action: Action) {
        self.faults.lock().unwrap().push(Fault {
            method,
            path: path.to_owned(),
            times,
            action,
        });
    }

    /// Faults that did not fire yet (times left).
    pub fn pending(&self) -> usize {
        self.faults.lock().unwrap().iter().map(|f| f.times).sum()
    }
}

/// A recorder: forwards to `upstream` and logs every request (and its `Authorization`).
pub fn recorder(upstream: &str) -> Server {
    let up = upstream.to_owned();
    Server::start(Arc::new(move |req: &Request| {
        let mut clean = req.clone();
        clean.headers.retain(|(k, _)| k != "authorization");
        match forward(&up, &clean) {
            Ok(r) => (r, None),
            Err(_) => (Response::error(502, "UPSTREAM"), None),
        }
    }))
}

/// A token server: `user:password` Basic credentials get `token`; no credentials get
/// `anonymous_token` when given (else 401); wrong credentials get 401.
pub fn token_server(
    user: &str,
    password: &str,
    token: &str,
    anonymous_token: Option<&str>,
) -> Server {
    use base64::Engine as _;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    );
    let (token, anon) = (token.to_owned(), anonymous_token.map(str::to_owned));
    Server::start(Arc::new(move |req: &Request| {
        let tok = match req.header("authorization") {
            Some(a) if a == expected => Some(token.clone()),
            Some(_) => None,
            None => anon.clone(),
        };
        match tok {
            Some(t) => (
                Response {
                    status: 200,
                    headers: vec![("Content-Type".into(), "application/json".into())],
                    body: format!(r#"{{"token":"{t}","expires_in":300}}"#).into_bytes(),
                    head_length: None,
                    stall: None,
                },
                None,
            ),
            None => (Response::error(401, "UNAUTHORIZED"), None),
        }
    }))
}
