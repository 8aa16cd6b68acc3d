//! `spectro registry serve` (the library's `server` module) with real clients: our own
//! OCI backend runs the shared registry suite against it, the embedded registry reads
//! what was pushed to it, and raw HTTP plays the hostile and the broken clients. The
//! official OCI conformance suite runs from `scripts/conformance.sh`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use spectro_packs::registry::oci;
use spectro_packs::registry::{
    CancelFlag, Credential, HttpStore, LayoutRegistry, OciRegistry, PullOptions, PushOptions,
    Registry, RegistryLocation, RemoteOptions,
};
use spectro_packs::server::{self, ServeOptions};
use spectro_tests::conformance::{store_suite, versioned};
use spectro_tests::{conformance_suite, test_registries, unique_base};

/// A server on a free loopback port, stopped (gracefully) when dropped.
pub struct Served {
    pub addr: SocketAddr,
    pub root: PathBuf,
    _dir: Option<tempfile::TempDir>,
    stop: CancelFlag,
    thread: Option<std::thread::JoinHandle<spectro_packs::Result<()>>>,
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve_at(root: Option<PathBuf>, configure: impl FnOnce(&mut ServeOptions)) -> Served {
    let (dir, root) = match root {
        Some(r) => (None, r),
        None => {
            let d = tempfile::tempdir().unwrap();
            let r = d.path().join("registry");
            (Some(d), r)
        }
    };
    let mut opts = ServeOptions::new(&root, "127.0.0.1:0".parse().unwrap());
    let log: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = log.clone();
    opts.log = Some(Arc::new(move |l: &str| {
        sink.lock().unwrap().push(l.to_owned())
    }));
    configure(&mut opts);
    let stop: CancelFlag = Default::default();
    let (tx, rx) = std::sync::mpsc::channel();
    let s = stop.clone();
    let thread = std::thread::spawn(move || {
        server::run(opts, s, move |addr| {
            let _ = tx.send(addr);
        })
    });
    let addr = match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(a) => a,
        Err(_) => panic!("server did not start: {:?}", thread.join()),
    };
    Served {
        addr,
        root,
        _dir: dir,
        stop,
        thread: Some(thread),
        log,
    }
}

fn serve(configure: impl FnOnce(&mut ServeOptions)) -> Served {
    serve_at(None, configure)
}

fn plain() -> RemoteOptions {
    let mut o = RemoteOptions::default();
    o.plain_http = true;
    o
}

fn client(s: &Served, base: &str, opts: RemoteOptions) -> OciRegistry {
    let loc = RegistryLocation::parse(&format!("oci://{}/{base}", s.addr)).unwrap();
    OciRegistry::connect(&loc, opts).unwrap()
}

/// A raw HTTP/1.1 exchange (`Connection: close`): status, header block, body.
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response");
    let head = String::from_utf8_lossy(&out[..split]).into_owned();
    let status = head[9..12].parse().unwrap();
    let mut body = out[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    (status, head, body)
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(end) = b.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let n = usize::from_str_radix(std::str::from_utf8(&b[..end]).unwrap().trim(), 16).unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&b[end + 2..end + 2 + n]);
        b = &b[end + 2 + n + 2..];
    }
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn basic(user: &str, pass: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
    )
}

conformance_suite!(
    served,
    Some({
        let s = serve(|_| {});
        let reg: Box<dyn Registry> = Box::new(client(&s, &unique_base("conf"), plain()));
        (reg, s)
    })
);

#[test]
fn http_store_passes_the_store_suite_against_the_server() {
    let s = serve(|_| {});
    let loc = RegistryLocation::parse(&format!("oci://{}", s.addr)).unwrap();
    let store = HttpStore::connect(&loc, plain()).unwrap();
    store_suite(&store, "base/spectro-packs/archive/blobby");
}

/// The server is a front over the embedded registry: what `pack push` stored locally is
/// served as is, and what a client pushes is a pack the embedded registry reads.
#[test]
fn embedded_packs_are_served_as_is_and_pushes_land_in_the_layout() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("registry");
    let work = tempfile::tempdir().unwrap();
    let local = LayoutRegistry::open(&root).unwrap();
    let pushed = local
        .push(
            &versioned("nginx-chart", "1.0.0", work.path()),
            &PushOptions::default(),
        )
        .unwrap();
    let s = serve_at(Some(root.clone()), |_| {});
    // The embedded registry's base is empty: packs are at spectro-packs/archive/<name>.
    let loc = RegistryLocation::parse(&format!("oci://{}", s.addr)).unwrap();
    let remote = OciRegistry::connect(&loc, plain()).unwrap();
    let out = tempfile::tempdir().unwrap();
    let pulled = remote
        .pull(
            &spectro_packs::registry::PackRef::parse("nginx:1.0.0").unwrap(),
            out.path(),
            &PullOptions::default().with_archive_only(true),
        )
        .unwrap();
    assert_eq!(pulled.archive_digest, pushed.archive_digest);
    // And the other way round.
    let up = remote
        .push(
            &versioned("hello-universe", "1.3.1", work.path()),
            &PushOptions::default(),
        )
        .unwrap();
    drop(s);
    let again = LayoutRegistry::open(&root).unwrap();
    let listed: Vec<String> = again
        .list(None)
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert!(listed.contains(&"hello-universe".to_owned()), "{listed:?}");
    let got = again
        .pull(
            &spectro_packs::registry::PackRef::parse("hello-universe:1.3.1").unwrap(),
            out.path(),
            &PullOptions::default().with_archive_only(true),
        )
        .unwrap();
    assert_eq!(got.archive_digest, up.archive_digest);
}

const ALICE: &str = "alice:$2y$05$SrdfiFqCO3cyLjiS1TSX4OscJoGbPF9ZN0Ol7LIlVkO0MpbB/NxSS";
const BOB_PULL: &str = "bob:$2y$05$sQbeOLsjcGZTba07GpCNYu4YD.xbiCdG.HU5mMARaqGsyIw3Eb0Be:pull";

fn htpasswd(dir: &Path) -> PathBuf {
    let p = dir.join("users.htpasswd");
    std::fs::write(
        &p,
        format!("# test users (password s3cret)\n{ALICE}\n{BOB_PULL}\n"),
    )
    .unwrap();
    p
}

#[test]
fn htpasswd_users_push_or_pull_by_their_rights() {
    let dir = tempfile::tempdir().unwrap();
    let pw = htpasswd(dir.path());
    let s = serve(|o| o.htpasswd = Some(pw.clone()));
    // Anonymous: challenged, in a form Docker, ORAS and Helm understand.
    let (st, head, body) = http(s.addr, "GET", "/v2/", &[], b"");
    assert_eq!(st, 401);
    assert_eq!(
        header(&head, "www-authenticate"),
        Some("Basic realm=\"spectro registry\"")
    );
    assert!(String::from_utf8_lossy(&body).contains("UNAUTHORIZED"));
    // Our client, as alice, pushes and pulls.
    let work = tempfile::tempdir().unwrap();
    let mut o = plain();
    o.credential = Some(Credential::basic("alice", "s3cret"));
    let alice = client(&s, "team", o);
    alice
        .push(
            &versioned("nginx-chart", "1.0.0", work.path()),
            &PushOptions::default(),
        )
        .unwrap();
    // bob may pull, not push.
    let mut o = plain();
    o.credential = Some(Credential::basic("bob", "s3cret"));
    let bob = client(&s, "team", o);
    assert_eq!(
        bob.resolve(&spectro_packs::registry::PackRef::parse("nginx:1.0.0").unwrap())
            .unwrap()
            .version
            .as_deref(),
        Some("1.0.0")
    );
    let e = bob
        .push(
            &versioned("hello-universe", "1.3.1", work.path()),
            &PushOptions::default(),
        )
        .unwrap_err();
    assert!(
        e.to_string().to_lowercase().contains("denied") || e.to_string().contains("403"),
        "{e}"
    );
    let (st, _, body) = http(
        s.addr,
        "POST",
        "/v2/team/x/blobs/uploads/",
        &[("Authorization", &basic("bob", "s3cret"))],
        b"",
    );
    assert_eq!(st, 403, "{}", String::from_utf8_lossy(&body));
    // Upload sessions are a pusher's business, even to read their status.
    let (st, _, _) = http(
        s.addr,
        "GET",
        "/v2/team/x/blobs/uploads/0123456789abcdef0123456789abcdef",
        &[("Authorization", &basic("bob", "s3cret"))],
        b"",
    );
    assert_eq!(st, 403);
    // The log names the user, never the credentials.
    let log = s.log.lock().unwrap().join("\n");
    assert!(log.contains(" alice ") && log.contains(" bob "), "{log}");
    assert!(!log.contains("s3cret") && !log.contains("Basic "), "{log}");
}

#[test]
fn anonymous_read_lets_pulls_through_but_not_pushes() {
    let dir = tempfile::tempdir().unwrap();
    let pw = htpasswd(dir.path());
    let s = serve(|o| {
        o.htpasswd = Some(pw.clone());
        o.anonymous_read = true;
    });
    assert_eq!(http(s.addr, "GET", "/v2/", &[], b"").0, 200);
    assert_eq!(http(s.addr, "GET", "/v2/a/tags/list", &[], b"").0, 404);
    let (st, head, _) = http(s.addr, "POST", "/v2/a/blobs/uploads/", &[], b"");
    assert_eq!(st, 401);
    assert!(header(&head, "www-authenticate").is_some());
}

#[test]
fn failed_logins_are_throttled_per_client_address() {
    let dir = tempfile::tempdir().unwrap();
    let pw = htpasswd(dir.path());
    let s = serve(|o| o.htpasswd = Some(pw.clone()));
    let wrong = basic("alice", "guess");
    for _ in 0..5 {
        assert_eq!(
            http(s.addr, "GET", "/v2/", &[("Authorization", &wrong)], b"").0,
            401
        );
    }
    // Now even the right password is refused without a bcrypt check, for a while.
    let (st, head, body) = http(
        s.addr,
        "GET",
        "/v2/",
        &[("Authorization", &basic("alice", "s3cret"))],
        b"",
    );
    assert_eq!(st, 429, "{}", String::from_utf8_lossy(&body));
    assert_eq!(header(&head, "retry-after"), Some("60"));
}

#[test]
fn the_test_registries_htpasswd_file_works_unchanged() {
    // Written by Apache's `htpasswd -B` in scripts/registries.sh.
    let Some(regs) = test_registries() else {
        return;
    };
    let file = regs.ca.parent().unwrap().join("htpasswd");
    let s = serve(|o| o.htpasswd = Some(file.clone()));
    let mut o = plain();
    o.credential = Some(Credential::basic(&regs.user, &regs.password));
    client(&s, "x", o).ping().unwrap();
}

#[test]
fn tls_with_a_ca_signed_certificate() {
    let Some(regs) = test_registries() else {
        return;
    };
    let d = regs.ca.parent().unwrap();
    let (cert, key) = (d.join("server.crt"), d.join("server.key"));
    let s = serve(|o| o.tls = Some((cert.clone(), key.clone())));
    let mut o = RemoteOptions::default();
    o.ca_files = vec![regs.ca.clone()];
    o.certs_dir = None;
    let reg = client(&s, &unique_base("tls"), o);
    let work = tempfile::tempdir().unwrap();
    reg.push(
        &versioned("nginx-chart", "1.0.0", work.path()),
        &PushOptions::default(),
    )
    .unwrap();
    // Plain HTTP to the TLS port gets nothing useful.
    let mut o = plain();
    o.retry = o.retry.clone().with_max_retries(0);
    assert!(client(&s, "x", o).ping().is_err());
}

#[test]
fn a_manifest_cap_above_what_storage_reads_back_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = ServeOptions::new(dir.path(), "127.0.0.1:0".parse().unwrap());
    opts.max_manifest = 64 << 20;
    let e = server::run(opts, Default::default(), |_| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("serve-manifest-size"), "{e}");
}

#[test]
fn plain_http_is_refused_off_loopback_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    let opts = ServeOptions::new(dir.path(), "0.0.0.0:0".parse().unwrap());
    let e = server::run(opts, Default::default(), |_| {})
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("--insecure-listen") && e.contains("--tls-cert"),
        "{e}"
    );
}

#[test]
fn read_only_refuses_every_write() {
    let s = serve(|o| o.read_only = true);
    for (m, p) in [
        ("POST", "/v2/a/blobs/uploads/"),
        ("PUT", "/v2/a/manifests/t"),
        ("DELETE", "/v2/a/manifests/t"),
    ] {
        let (st, _, body) = http(s.addr, m, p, &[], b"");
        assert_eq!(st, 405, "{m} {p}");
        assert!(String::from_utf8_lossy(&body).contains("UNSUPPORTED"));
    }
    assert_eq!(http(s.addr, "GET", "/v2/", &[], b"").0, 200);
}

#[test]
fn health_answers_like_the_legacy_registry() {
    let s = serve(|_| {});
    let (st, head, body) = http(s.addr, "GET", "/health", &[], b"");
    assert_eq!(st, 200);
    assert_eq!(body, br#"{"status":"UP"}"#);
    assert_eq!(header(&head, "x-content-type-options"), Some("nosniff"));
}

#[test]
fn hostile_names_digests_and_sessions_are_refused() {
    let s = serve(|_| {});
    for p in [
        "/v2/../../etc/manifests/latest",
        "/v2/a/%2e%2e/manifests/latest",
        "/v2/A/manifests/latest",
        "/v2/a//b/tags/list",
    ] {
        let (st, _, _) = http(s.addr, "GET", p, &[], b"");
        assert!(st == 400 || st == 404, "{p}: {st}");
    }
    let (st, _, body) = http(s.addr, "GET", "/v2/a/blobs/sha256:..%2f..%2fx", &[], b"");
    assert_eq!(st, 400);
    assert!(String::from_utf8_lossy(&body).contains("DIGEST_INVALID"));
    // Nothing was created outside the root (or inside it).
    assert!(!s.root.join("..").join("etc").exists());
    // A session belongs to its repository.
    let (st, head, _) = http(s.addr, "POST", "/v2/one/blobs/uploads/", &[], b"");
    assert_eq!(st, 202);
    let loc = header(&head, "location").unwrap().to_owned();
    let id = loc.rsplit('/').next().unwrap();
    assert_eq!(id.len(), 32);
    let (st, _, _) = http(
        s.addr,
        "GET",
        &format!("/v2/two/blobs/uploads/{id}"),
        &[],
        b"",
    );
    assert_eq!(st, 404);
    let (st, _, _) = http(s.addr, "GET", &loc, &[], b"");
    assert_eq!(st, 204);
    // Session ids never reach the log.
    let log = s.log.lock().unwrap().join("\n");
    assert!(!log.contains(id), "{log}");
    assert!(log.contains("/v2/one/blobs/uploads/<session>"), "{log}");
}

#[test]
fn uploads_are_capped_verified_and_leave_nothing_behind() {
    let s = serve(|o| o.max_upload = 1000);
    let body = vec![7u8; 2000];
    let digest = oci::sha256_digest(&body);
    let (st, _, resp) = http(
        s.addr,
        "POST",
        &format!("/v2/a/blobs/uploads/?digest={digest}"),
        &[("Content-Type", "application/octet-stream")],
        &body,
    );
    assert_eq!(st, 413, "{}", String::from_utf8_lossy(&resp));
    // A wrong digest: refused, and the blob is not visible under either digest.
    let small = b"hello".as_slice();
    let wrong = oci::sha256_digest(b"other");
    let (st, _, resp) = http(
        s.addr,
        "POST",
        &format!("/v2/a/blobs/uploads/?digest={wrong}"),
        &[],
        small,
    );
    assert_eq!(st, 400);
    assert!(String::from_utf8_lossy(&resp).contains("DIGEST_INVALID"));
    for d in [wrong, oci::sha256_digest(small)] {
        assert_eq!(
            http(s.addr, "HEAD", &format!("/v2/a/blobs/{d}"), &[], b"").0,
            404
        );
    }
    // A chunk that does not start where the upload is: 416, and the upload is intact.
    let (_, head, _) = http(s.addr, "POST", "/v2/a/blobs/uploads/", &[], b"");
    let loc = header(&head, "location").unwrap().to_owned();
    let (st, head, _) = http(s.addr, "PATCH", &loc, &[("Content-Range", "0-4")], b"hello");
    assert_eq!(st, 202);
    assert_eq!(header(&head, "range"), Some("0-4"));
    let (st, head, _) = http(s.addr, "PATCH", &loc, &[("Content-Range", "0-4")], b"HELLO");
    assert_eq!(st, 416);
    assert_eq!(header(&head, "range"), Some("0-4"));
    // A range whose length overflows: 416, not a panic or an empty chunk taken.
    let (_, h2, _) = http(s.addr, "POST", "/v2/a/blobs/uploads/", &[], b"");
    let loc2 = header(&h2, "location").unwrap().to_owned();
    let (st, _, _) = http(
        s.addr,
        "PATCH",
        &loc2,
        &[("Content-Range", "0-18446744073709551615")],
        b"x",
    );
    assert_eq!(st, 416);
    http(s.addr, "DELETE", &loc2, &[], b"");
    let d = oci::sha256_digest(b"hello world");
    let (st, _, _) = http(
        s.addr,
        "PUT",
        &format!("{loc}?digest={d}"),
        &[("Content-Range", "5-10")],
        b" world",
    );
    assert_eq!(st, 201);
    let (st, _, got) = http(s.addr, "GET", &format!("/v2/a/blobs/{d}"), &[], b"");
    assert_eq!((st, got.as_slice()), (200, b"hello world".as_slice()));
    // Nothing of the refused uploads is left.
    std::thread::sleep(Duration::from_millis(100));
    let left: Vec<_> = std::fs::read_dir(s.root.join(".uploads"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn manifests_over_missing_blobs_are_refused() {
    let s = serve(|_| {});
    let m = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": oci::MANIFEST_MEDIA_TYPE,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": oci::sha256_digest(b"{}"), "size": 2},
        "layers": []
    })
    .to_string();
    let (st, _, body) = http(
        s.addr,
        "PUT",
        "/v2/a/manifests/v1",
        &[("Content-Type", oci::MANIFEST_MEDIA_TYPE)],
        m.as_bytes(),
    );
    assert_eq!(st, 400);
    assert!(String::from_utf8_lossy(&body).contains("MANIFEST_BLOB_UNKNOWN"));
    assert_eq!(http(s.addr, "GET", "/v2/a/manifests/v1", &[], b"").0, 404);
    // A manifest "type" a browser would render as a page from the registry's origin.
    let cfg = b"{}";
    let cd = oci::sha256_digest(cfg);
    http(
        s.addr,
        "POST",
        &format!("/v2/a/blobs/uploads/?digest={cd}"),
        &[],
        cfg,
    );
    for bad in ["text/html", "application/xhtml+xml", "image/svg+xml"] {
        let (st, _, body) = http(
            s.addr,
            "PUT",
            "/v2/a/manifests/v2",
            &[("Content-Type", bad)],
            br#"{"schemaVersion":2}"#,
        );
        assert_eq!(st, 400, "{bad}");
        assert!(String::from_utf8_lossy(&body).contains("MANIFEST_INVALID"));
    }
    // A manifest's bytes are not deleted through the blob API behind its back.
    let good = serde_json::json!({
        "schemaVersion": 2, "mediaType": oci::MANIFEST_MEDIA_TYPE,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": cd, "size": 2},
        "layers": []
    })
    .to_string();
    let (st, head, _) = http(
        s.addr,
        "PUT",
        "/v2/a/manifests/v3",
        &[("Content-Type", oci::MANIFEST_MEDIA_TYPE)],
        good.as_bytes(),
    );
    assert_eq!(st, 201);
    let md = header(&head, "docker-content-digest").unwrap().to_owned();
    assert_eq!(
        http(s.addr, "DELETE", &format!("/v2/a/blobs/{md}"), &[], b"").0,
        405
    );
    assert_eq!(http(s.addr, "GET", "/v2/a/manifests/v3", &[], b"").0, 200);
}

#[test]
fn blob_ranges_follow_rfc_9110() {
    let s = serve(|_| {});
    let data: Vec<u8> = (0..=255u8).collect();
    let d = oci::sha256_digest(&data);
    assert_eq!(
        http(
            s.addr,
            "POST",
            &format!("/v2/r/blobs/uploads/?digest={d}"),
            &[],
            &data
        )
        .0,
        201
    );
    let path = format!("/v2/r/blobs/{d}");
    let (st, head, body) = http(s.addr, "GET", &path, &[("Range", "bytes=10-19")], b"");
    assert_eq!(st, 206);
    assert_eq!(body, &data[10..20]);
    assert_eq!(header(&head, "content-range"), Some("bytes 10-19/256"));
    let (st, _, body) = http(s.addr, "GET", &path, &[("Range", "bytes=-6")], b"");
    assert_eq!((st, body.as_slice()), (206, &data[250..]));
    for bad in ["bytes=500-0", "bytes=5000-10000", "bytes=300-"] {
        let (st, head, _) = http(s.addr, "GET", &path, &[("Range", bad)], b"");
        assert_eq!(st, 416, "{bad}");
        assert_eq!(header(&head, "content-range"), Some("bytes */256"));
    }
}

#[test]
fn slow_clients_are_cut_off() {
    let s = serve(|o| o.idle_timeout = Duration::from_secs(1));
    let mut c = TcpStream::connect(s.addr).unwrap();
    c.write_all(b"GET /v2/ HTTP/1.1\r\nHost: x\r\n").unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let started = std::time::Instant::now();
    let mut buf = Vec::new();
    let _ = c.read_to_end(&mut buf);
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "slow header kept open"
    );
    // The server still serves others.
    assert_eq!(http(s.addr, "GET", "/v2/", &[], b"").0, 200);
}

#[test]
fn tag_lists_paginate_strictly_after_last() {
    let s = serve(|_| {});
    let cfg = b"{}";
    let cd = oci::sha256_digest(cfg);
    http(
        s.addr,
        "POST",
        &format!("/v2/p/blobs/uploads/?digest={cd}"),
        &[],
        cfg,
    );
    let m = serde_json::json!({
        "schemaVersion": 2, "mediaType": oci::MANIFEST_MEDIA_TYPE,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": cd, "size": 2},
        "layers": []
    })
    .to_string();
    for t in ["a", "b", "c", "d", "e"] {
        let (st, _, _) = http(
            s.addr,
            "PUT",
            &format!("/v2/p/manifests/{t}"),
            &[("Content-Type", oci::MANIFEST_MEDIA_TYPE)],
            m.as_bytes(),
        );
        assert_eq!(st, 201);
    }
    let (st, head, body) = http(s.addr, "GET", "/v2/p/tags/list?n=2&last=b", &[], b"");
    assert_eq!(st, 200);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["tags"], serde_json::json!(["c", "d"]));
    assert_eq!(
        header(&head, "link"),
        Some("</v2/p/tags/list?n=2&last=d>; rel=\"next\"")
    );
    let (_, head, body) = http(s.addr, "GET", "/v2/p/tags/list?n=2&last=d", &[], b"");
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["tags"], serde_json::json!(["e"]));
    assert_eq!(header(&head, "link"), None);
}

/// `registry gc`: blobs no manifest references go, but only once older than the grace
/// period, so a push whose blobs are up and whose manifest is not yet is never robbed.
#[test]
fn gc_removes_unreferenced_blobs_but_spares_young_ones() {
    let s = serve(|_| {});
    let work = tempfile::tempdir().unwrap();
    let reg = client(&s, "gc", plain());
    let first = reg
        .push(
            &versioned("nginx-chart", "1.0.0", work.path()),
            &PushOptions::default(),
        )
        .unwrap();
    // A forced push of changed content under the same version leaves the old archive
    // unreferenced.
    let src = versioned("nginx-chart", "1.0.0", &work.path().join("again"));
    std::fs::write(src.join("README.md"), "changed\n").unwrap();
    let mut o = PushOptions::default();
    o.force = true;
    let second = reg.push(&src, &o).unwrap();
    assert_ne!(first.archive_digest, second.archive_digest);
    // A blob uploaded by a push whose manifest has not come yet.
    let pending = b"pending layer".as_slice();
    let pd = oci::sha256_digest(pending);
    assert_eq!(
        http(
            s.addr,
            "POST",
            &format!("/v2/gc/spectro-packs/archive/nginx/blobs/uploads/?digest={pd}"),
            &[],
            pending
        )
        .0,
        201
    );
    let store = spectro_packs::registry::LayoutStore::new(&s.root);
    let young = store
        .collect_all_garbage(Duration::from_secs(3600), false)
        .unwrap();
    assert!(young.removed.is_empty(), "{young:?}");
    assert!(young.kept_young >= 2, "{young:?}");
    let dry = store.collect_all_garbage(Duration::ZERO, true).unwrap();
    // The old archive, the old manifest and the pending blob.
    assert_eq!(dry.removed.len(), 3, "{dry:?}");
    let done = store.collect_all_garbage(Duration::ZERO, false).unwrap();
    assert_eq!(done.removed, dry.removed);
    assert!(
        done.removed
            .iter()
            .any(|r| r.ends_with(&first.archive_digest))
    );
    assert!(done.removed.iter().any(|r| r.ends_with(&pd)));
    assert!(
        done.removed
            .iter()
            .any(|r| r.ends_with(&first.manifest_digest))
    );
    // What is referenced is intact and still served.
    let out = tempfile::tempdir().unwrap();
    let got = reg
        .pull(
            &spectro_packs::registry::PackRef::parse("nginx:1.0.0").unwrap(),
            out.path(),
            &PullOptions::default().with_archive_only(true),
        )
        .unwrap();
    assert_eq!(got.archive_digest, second.archive_digest);
}

/// Asking whether a blob exists (what a client does before skipping its upload) makes
/// it young again, so gc spares it until the manifest arrives.
#[test]
fn head_on_a_blob_protects_it_from_gc() {
    let s = serve(|_| {});
    let data = b"old unreferenced".as_slice();
    let d = oci::sha256_digest(data);
    let path = format!("/v2/h/blobs/uploads/?digest={d}");
    assert_eq!(http(s.addr, "POST", &path, &[], data).0, 201);
    let file = s.root.join("h/blobs/sha256").join(&d["sha256:".len()..]);
    let old = std::time::SystemTime::now() - Duration::from_secs(7200);
    std::fs::File::options()
        .append(true)
        .open(&file)
        .unwrap()
        .set_modified(old)
        .unwrap();
    assert_eq!(
        http(s.addr, "HEAD", &format!("/v2/h/blobs/{d}"), &[], b"").0,
        200
    );
    let store = spectro_packs::registry::LayoutStore::new(&s.root);
    let r = store
        .collect_all_garbage(Duration::from_secs(3600), false)
        .unwrap();
    assert!(r.removed.is_empty(), "{r:?}");
    assert!(file.is_file());
}

/// The same requests to CNCF distribution and to our server: the same status codes, and
/// the headers clients depend on present in both. Where distribution 2.8 is behind the
/// spec (no referrers, no `OCI-Subject`, 202 for out-of-order chunks) only ours is held
/// to the spec, by the conformance suite.
#[test]
fn parity_with_cncf_distribution() {
    let Some(regs) = test_registries() else {
        return;
    };
    let ours = serve(|_| {});
    let theirs: SocketAddr = regs.plain.parse().unwrap();
    let base = unique_base("parity");
    let a = run_parity(theirs, &base);
    let b = run_parity(ours.addr, &base);
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y, "distribution vs spectro");
    }
    // Auth challenges: both answer 401 with a Basic challenge.
    let dir = tempfile::tempdir().unwrap();
    let pw = htpasswd(dir.path());
    let ours = serve(|o| o.htpasswd = Some(pw.clone()));
    for addr in [regs.auth.parse().unwrap(), ours.addr] {
        let (st, head, _) = http(addr, "GET", "/v2/", &[], b"");
        assert_eq!(st, 401);
        assert!(
            header(&head, "www-authenticate")
                .unwrap()
                .starts_with("Basic realm=")
        );
    }
}

/// One step of the parity sequence: its name, the status, and which headers were there.
type Step = (String, u16, Vec<(String, bool)>);

/// `(step, status, [header present?])` for a fixed sequence of requests.
fn run_parity(addr: SocketAddr, base: &str) -> Vec<Step> {
    let mut out = Vec::new();
    let mut step = |name: &str,
                    method: &str,
                    path: &str,
                    headers: &[(&str, &str)],
                    body: &[u8],
                    want: &[&str]|
     -> String {
        let (st, head, _) = http(addr, method, path, headers, body);
        let present = want
            .iter()
            .map(|h| (h.to_string(), header(&head, h).is_some()))
            .collect();
        out.push((name.to_owned(), st, present));
        head
    };
    let repo = format!("{base}/spectro-packs/archive/p");
    let other = format!("{base}/spectro-packs/archive/q");
    step(
        "ping",
        "GET",
        "/v2/",
        &[],
        b"",
        &["docker-distribution-api-version"],
    );
    let head = step(
        "start upload",
        "POST",
        &format!("/v2/{repo}/blobs/uploads/"),
        &[],
        b"",
        &["location", "docker-upload-uuid", "range"],
    );
    let loc = header(&head, "location").unwrap().to_owned();
    let loc = loc
        .split_once("/v2/")
        .map(|(_, p)| format!("/v2/{p}"))
        .unwrap();
    let head = step(
        "patch chunk",
        "PATCH",
        &loc,
        &[
            ("Content-Range", "0-4"),
            ("Content-Type", "application/octet-stream"),
        ],
        b"{}   ",
        &["location", "range"],
    );
    let loc = header(&head, "location").unwrap().to_owned();
    let loc = loc
        .split_once("/v2/")
        .map(|(_, p)| format!("/v2/{p}"))
        .unwrap();
    let cfg = b"{}   ";
    let cd = oci::sha256_digest(cfg);
    let sep = if loc.contains('?') { '&' } else { '?' };
    step(
        "finish upload",
        "PUT",
        &format!("{loc}{sep}digest={cd}"),
        &[],
        b"",
        &["location", "docker-content-digest"],
    );
    step(
        "head blob",
        "HEAD",
        &format!("/v2/{repo}/blobs/{cd}"),
        &[],
        b"",
        &["docker-content-digest", "content-length"],
    );
    step(
        "range",
        "GET",
        &format!("/v2/{repo}/blobs/{cd}"),
        &[("Range", "bytes=0-1")],
        b"",
        &["content-range"],
    );
    step(
        "missing blob",
        "GET",
        &format!("/v2/{repo}/blobs/{}", oci::sha256_digest(b"nope")),
        &[],
        b"",
        &[],
    );
    let m = serde_json::json!({
        "schemaVersion": 2, "mediaType": oci::MANIFEST_MEDIA_TYPE,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cfg.len()},
        "layers": []
    })
    .to_string();
    let ct = [("Content-Type", oci::MANIFEST_MEDIA_TYPE)];
    step(
        "put manifest",
        "PUT",
        &format!("/v2/{repo}/manifests/1.0.0"),
        &ct,
        m.as_bytes(),
        &["location", "docker-content-digest"],
    );
    step(
        "get manifest",
        "GET",
        &format!("/v2/{repo}/manifests/1.0.0"),
        &[("Accept", oci::MANIFEST_MEDIA_TYPE)],
        b"",
        &["docker-content-digest", "content-type"],
    );
    step(
        "missing manifest",
        "HEAD",
        &format!("/v2/{repo}/manifests/9.9.9"),
        &[],
        b"",
        &[],
    );
    step(
        "tags",
        "GET",
        &format!("/v2/{repo}/tags/list"),
        &[],
        b"",
        &[],
    );
    step(
        "unknown repo tags",
        "GET",
        &format!("/v2/{base}/none/tags/list"),
        &[],
        b"",
        &[],
    );
    let bad = m.replace(&cd, &oci::sha256_digest(b"absent"));
    step(
        "manifest over a missing blob",
        "PUT",
        &format!("/v2/{repo}/manifests/2.0.0"),
        &ct,
        bad.as_bytes(),
        &[],
    );
    step(
        "mount",
        "POST",
        &format!("/v2/{other}/blobs/uploads/?mount={cd}&from={repo}"),
        &[],
        b"",
        &["location", "docker-content-digest"],
    );
    step(
        "delete manifest",
        "DELETE",
        &format!("/v2/{repo}/manifests/{}", oci::sha256_digest(m.as_bytes())),
        &[],
        b"",
        &[],
    );
    step(
        "deleted manifest",
        "GET",
        &format!("/v2/{repo}/manifests/1.0.0"),
        &[],
        b"",
        &[],
    );
    out
}

/// A full disk while a client uploads: 507, nothing partial left (no upload file, no
/// blob), and the server keeps serving once space is back. Needs root for a small tmpfs
/// (CI runs as root); skipped with a message otherwise.
#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_during_an_upload_leaves_nothing_partial() {
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let Some(_guard) =
        spectro_tests::mount_tmpfs(&mnt, "size=256k", "server disk-full case not covered")
    else {
        return;
    };
    let s = serve_at(Some(mnt.join("registry")), |_| {});
    let big = vec![1u8; 1 << 20];
    let d = oci::sha256_digest(&big);
    let (st, _, body) = http(
        s.addr,
        "POST",
        &format!("/v2/r/blobs/uploads/?digest={d}"),
        &[],
        &big,
    );
    assert_eq!(st, 507, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains("disk is full"));
    let uploads: Vec<_> = std::fs::read_dir(s.root.join(".uploads"))
        .unwrap()
        .collect();
    assert!(uploads.is_empty(), "{uploads:?}");
    assert_eq!(
        http(s.addr, "HEAD", &format!("/v2/r/blobs/{d}"), &[], b"").0,
        404
    );
    // Small uploads still work.
    let small = b"fits".as_slice();
    let sd = oci::sha256_digest(small);
    assert_eq!(
        http(
            s.addr,
            "POST",
            &format!("/v2/r/blobs/uploads/?digest={sd}"),
            &[],
            small
        )
        .0,
        201
    );
}
