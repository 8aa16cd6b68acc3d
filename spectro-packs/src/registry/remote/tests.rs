//! Protocol faults against the scripted registry in `fake.rs`, under plain `cargo test`.
//! Here: retries and their caps, timeouts, manifest integrity and error kinds, with the
//! helpers every group shares; [`download`] and [`upload`] hold the transfer faults,
//! [`access`] where requests and credentials go. The end-to-end suite runs the same
//! client against a real registry; these tests script what a real one rarely does.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reqwest::Method;

use super::fake::{Act, FakeRegistry, Fault, Gate, Logged, REGISTRY_HOST};
use super::{Credential, HttpStore, OciRegistry, RemoteOptions, RetryPolicy};
use crate::registry::{
    PackRef, PackRegistry, Progress, PullOptions, PullOutcome, PushOptions, PushOutcome, Registry,
    RegistryLocation, Store, oci,
};
use crate::{Error, ErrorKind};

mod access;
mod download;
mod upload;

const NGINX: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../fixtures/packs/valid/nginx-chart"
);
const HELLO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../fixtures/packs/valid/hello-universe"
);
const NGINX_REPO: &str = "spectro-packs/archive/nginx";

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Retries that take milliseconds: four after the first attempt.
fn options() -> RemoteOptions {
    RemoteOptions::default().without_certs_dir().with_retry(
        RetryPolicy::default()
            .with_max_retries(4)
            .with_base_delay(ms(1))
            .with_max_delay(ms(10))
            .with_max_retry_after(ms(10)),
    )
}

/// Chunked uploads of 16 KiB (see [`large_pack`]).
fn chunked() -> RemoteOptions {
    options()
        .with_monolithic_max(16 << 10)
        .with_chunk_size(16 << 10)
}

/// The nginx fixture with 96 KiB of incompressible data added, copied into `tmp`: an
/// archive of six to seven chunks.
fn large_pack(tmp: &Path) -> std::path::PathBuf {
    let dir = tmp.join("nginx");
    for entry in walkdir::WalkDir::new(NGINX) {
        let entry = entry.expect("walk fixture");
        let to = dir.join(entry.path().strip_prefix(NGINX).expect("inside"));
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&to).expect("mkdir");
        } else {
            std::fs::copy(entry.path(), &to).expect("copy");
        }
    }
    let mut noise = vec![0u8; 96 << 10];
    fastrand::Rng::with_seed(7).fill(&mut noise);
    std::fs::write(dir.join("charts").join("noise.bin"), noise).expect("write");
    dir
}

fn login(user: &str, pass: &str) -> RemoteOptions {
    options().with_credential(Credential::basic(user, pass))
}

fn client(fake: &FakeRegistry, opts: RemoteOptions) -> OciRegistry {
    let location = RegistryLocation::parse(&format!("oci://{REGISTRY_HOST}")).expect("location");
    let store = HttpStore::with_wire(&location, opts, Arc::new(fake.clone())).expect("client");
    PackRegistry::new(store, "")
}

fn open(gate: Gate, opts: RemoteOptions) -> (FakeRegistry, OciRegistry) {
    let fake = FakeRegistry::new(gate);
    let reg = client(&fake, opts);
    (fake, reg)
}

fn push(reg: &OciRegistry, dir: &str) -> PushOutcome {
    reg.push(Path::new(dir), &PushOptions::default())
        .unwrap_or_else(|e| panic!("push {dir}: {e}"))
}

fn nginx() -> PackRef {
    PackRef::exact("nginx", "1.11.2").expect("reference")
}

fn pull(reg: &OciRegistry, dest: &Path) -> crate::Result<PullOutcome> {
    reg.pull(&nginx(), dest, &PullOptions::default())
}

/// Point the nginx tag at a changed copy of its manifest (as another tool might have
/// written it).
fn rewrite_manifest(reg: &OciRegistry, change: impl FnOnce(&mut serde_json::Value)) {
    let (_, bytes) = reg
        .store()
        .get_manifest(NGINX_REPO, "1.11.2")
        .expect("get")
        .expect("present");
    let mut v: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON");
    change(&mut v);
    reg.store()
        .put_manifest(NGINX_REPO, "1.11.2", &serde_json::to_vec(&v).expect("JSON"))
        .expect("put");
}

/// Every file of the fixture came back with the same bytes.
fn assert_pulled(out: &PullOutcome, pushed: &PushOutcome, fixture: &str) {
    assert_eq!(out.archive_digest, pushed.archive_digest);
    let mut files = 0;
    for entry in walkdir::WalkDir::new(fixture) {
        let entry = entry.expect("walk fixture");
        if entry.file_type().is_file() {
            let rel = entry.path().strip_prefix(fixture).expect("inside");
            let got = std::fs::read(out.path.join(rel))
                .unwrap_or_else(|e| panic!("{}: {e}", rel.display()));
            assert_eq!(
                got,
                std::fs::read(entry.path()).expect("read fixture"),
                "{}",
                rel.display()
            );
            files += 1;
        }
    }
    assert!(files > 2, "the fixture has files");
}

fn is_empty_dir(p: &Path) -> bool {
    std::fs::read_dir(p).map_or(true, |mut d| d.next().is_none())
}

fn count(log: &[Logged], method: Method, part: &str) -> usize {
    log.iter().filter(|l| l.is(&method, part)).count()
}

fn blob_path(pushed: &PushOutcome) -> String {
    format!("/blobs/{}", pushed.archive_digest)
}

#[test]
fn server_errors_are_retried_until_success() {
    let (fake, reg) = open(Gate::Open, options());
    let pushed = push(&reg, NGINX);
    let f = fake.fault(Fault::on(Method::GET, "/manifests/1.11.2", Act::Status(503)).times(2));
    fake.clear_log();
    let dest = tempfile::tempdir().expect("tempdir");
    let out = pull(&reg, dest.path()).expect("pull after two 503s");
    assert_eq!(fake.fired(f), 2);
    assert_eq!(count(&fake.log(), Method::GET, "/manifests/1.11.2"), 3);
    assert_pulled(&out, &pushed, NGINX);
}

#[test]
fn retry_after_is_capped() {
    let (fake, reg) = open(Gate::Open, options());
    push(&reg, NGINX);
    // A day's Retry-After; the policy caps it at 10 ms.
    let f = fake.fault(
        Fault::on(
            Method::GET,
            "/manifests/1.11.2",
            Act::RetryAfter(429, 86_400),
        )
        .times(3),
    );
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(reg.resolve(&nginx()).map(|r| r.manifest_digest));
    });
    let resolved = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("Retry-After was not capped: still waiting after a minute");
    assert!(resolved.is_ok(), "{resolved:?}");
    assert_eq!(fake.fired(f), 3);
}

#[test]
fn persistent_server_error_gives_up_with_its_status() {
    let (fake, reg) = open(Gate::Open, options());
    push(&reg, NGINX);
    fake.fault(Fault::on(Method::GET, "/manifests/1.11.2", Act::Status(500)).always());
    fake.clear_log();
    let e = reg
        .resolve(&nginx())
        .expect_err("a registry failing every time");
    assert_eq!(e.kind(), ErrorKind::Protocol, "{e}");
    assert_eq!(e.http_status(), Some(500));
    assert!(matches!(e, Error::Status { status: 500, .. }), "{e:?}");
    // The first attempt and four retries.
    assert_eq!(count(&fake.log(), Method::GET, "/manifests/1.11.2"), 5);
}

#[test]
fn forbidden_is_permission_denied_and_not_retried() {
    let (fake, reg) = open(Gate::Open, options());
    push(&reg, NGINX);
    fake.fault(Fault::on(Method::GET, "/manifests/1.11.2", Act::Status(403)).always());
    fake.clear_log();
    let e = reg.resolve(&nginx()).expect_err("403");
    assert!(matches!(e, Error::Forbidden { .. }), "{e:?}");
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    assert_eq!(e.http_status(), Some(403));
    assert_eq!(count(&fake.log(), Method::GET, "/manifests/"), 1);
}

#[test]
fn stalled_request_times_out_and_is_retried() {
    let (fake, reg) = open(Gate::Open, options().with_timeout(ms(200)));
    push(&reg, NGINX);
    let f = fake.fault(Fault::on(
        Method::GET,
        "/manifests/1.11.2",
        Act::Stall(Duration::from_secs(30)),
    ));
    fake.clear_log();
    reg.resolve(&nginx())
        .expect("resolve after one timed-out attempt");
    assert_eq!(fake.fired(f), 1);
    let gets: Vec<Option<u16>> = fake
        .log()
        .iter()
        .filter(|l| l.is(&Method::GET, "/manifests/1.11.2"))
        .map(|l| l.status)
        .collect();
    assert_eq!(gets, [None, Some(200)], "timed out, then answered");
}

#[test]
fn corrupt_manifest_is_a_digest_mismatch() {
    let (fake, reg) = open(Gate::Open, options());
    push(&reg, NGINX);
    fake.fault(Fault::on(Method::GET, "/manifests/1.11.2", Act::Corrupt));
    let e = reg
        .resolve(&nginx())
        .expect_err("bytes that do not hash to the digest");
    assert!(matches!(e, Error::DigestMismatch { .. }), "{e:?}");
}

#[test]
fn oversized_manifest_is_refused() {
    let (fake, reg) = open(Gate::Open, options());
    push(&reg, NGINX);
    let huge = 5 << 20;
    // Declared too large: refused before reading.
    fake.fault(Fault::on(
        Method::GET,
        "/manifests/1.11.2",
        Act::Header("content-length", huge.to_string()),
    ));
    let e = reg
        .resolve(&nginx())
        .expect_err("a manifest declared above the cap");
    assert!(e.to_string().contains("limit"), "{e}");
    // Not declared: refused once the bytes pass the cap.
    fake.fault(Fault::on(Method::GET, "/manifests/1.11.2", Act::Huge(huge)));
    let e = reg
        .resolve(&nginx())
        .expect_err("a manifest body above the cap");
    assert!(e.to_string().contains("limit"), "{e}");
    reg.resolve(&nginx()).expect("the manifest itself is fine");
}

#[test]
fn a_one_mib_token_response_is_refused_at_its_limit() {
    let gate = Gate::Bearer {
        login: None,
        anonymous: true,
    };
    let (fake, reg) = open(gate, options());
    fake.fault(Fault::on(Method::GET, "/token", Act::Huge(1 << 20)).always());
    let e = reg.ping().expect_err("a token response above the cap");
    assert!(e.to_string().contains("limit"), "{e}");
    assert!(
        fake.log().iter().all(|l| l.auth.is_none()),
        "no token was ever sent"
    );
}

#[test]
fn a_five_mib_catalog_page_is_refused_at_its_limit() {
    let (fake, reg) = open(Gate::Open, options());
    push(&reg, NGINX);
    fake.fault(Fault::on(Method::GET, "/v2/_catalog", Act::Huge(5 << 20)).always());
    let e = reg.list(None).expect_err("a catalog page above the cap");
    assert!(e.to_string().contains("limit"), "{e}");
}

#[test]
fn a_manifest_head_without_a_digest_header_is_answered_by_hashing_the_manifest() {
    let (fake, reg) = open(Gate::Open, options());
    let pushed = push(&reg, NGINX);
    fake.fault(
        Fault::on(
            Method::HEAD,
            "/manifests/1.11.2",
            Act::DropHeader("docker-content-digest"),
        )
        .always(),
    );
    fake.clear_log();
    // By digest, the version is found by looking each tag up (HEAD).
    let by_digest =
        PackRef::parse(&format!("nginx@{}", pushed.manifest_digest)).expect("reference");
    let resolved = reg.resolve(&by_digest).expect("resolve");
    assert_eq!(resolved.manifest_digest, pushed.manifest_digest);
    assert_eq!(resolved.version.as_deref(), Some("1.11.2"));
    let log = fake.log();
    let head = log
        .iter()
        .position(|l| l.is(&Method::HEAD, "/manifests/1.11.2"))
        .expect("the tag was looked up");
    assert!(
        log[head + 1..]
            .iter()
            .any(|l| l.is(&Method::GET, "/manifests/1.11.2")),
        "then fetched to be hashed: {log:?}"
    );
    let listed = reg.list(None).expect("list");
    assert_eq!(listed[0].versions[0].digest, pushed.manifest_digest);
}

#[test]
fn a_manifest_served_as_an_image_index_is_not_a_pack_manifest() {
    let (fake, reg) = open(Gate::Open, options());
    push(&reg, NGINX);
    fake.fault(
        Fault::on(
            Method::GET,
            "/manifests/1.11.2",
            Act::Header("content-type", oci::INDEX_MEDIA_TYPE.into()),
        )
        .always(),
    );
    let e = reg.resolve(&nginx()).expect_err("an index");
    assert!(matches!(e, Error::CorruptRegistry { .. }), "{e:?}");
    assert!(e.to_string().contains("not a pack manifest"), "{e}");
    let dest = tempfile::tempdir().expect("tempdir");
    let e = pull(&reg, dest.path()).expect_err("an index");
    assert_eq!(e.kind(), ErrorKind::Integrity, "{e}");
    assert!(is_empty_dir(dest.path()));
}

#[test]
fn a_manifest_whose_layer_has_an_unknown_media_type_is_refused_and_leaves_nothing() {
    let (fake, reg) = open(Gate::Open, options());
    push(&reg, NGINX);
    rewrite_manifest(&reg, |m| {
        m["layers"][0]["mediaType"] = "application/vnd.example+json".into();
    });
    fake.clear_log();
    let dest = tempfile::tempdir().expect("tempdir");
    let e = pull(&reg, dest.path()).expect_err("not a pack archive");
    assert!(matches!(e, Error::CorruptRegistry { .. }), "{e:?}");
    assert!(
        e.to_string().contains("`application/vnd.example+json`"),
        "{e}"
    );
    assert!(is_empty_dir(dest.path()));
    assert_eq!(
        count(&fake.log(), Method::GET, "/blobs/"),
        0,
        "the layer was never downloaded"
    );
    // A media type that would drive the terminal is printed escaped.
    rewrite_manifest(&reg, |m| {
        m["layers"][0]["mediaType"] = "application/vnd.example+json\u{1b}[2J".into();
    });
    let e = pull(&reg, dest.path()).expect_err("not a pack archive");
    assert!(!e.to_string().contains('\u{1b}'), "{e:?}");
    assert!(is_empty_dir(dest.path()));
}

#[test]
fn a_manifest_body_of_the_docker_v2_media_type_is_refused() {
    let (_fake, reg) = open(Gate::Open, options());
    push(&reg, NGINX);
    // Served as OCI (the Content-Type passes); the body says otherwise.
    rewrite_manifest(&reg, |m| {
        m["mediaType"] = "application/vnd.docker.distribution.manifest.v2+json".into();
    });
    let e = reg.resolve(&nginx()).expect_err("a Docker v2 manifest");
    assert!(matches!(e, Error::CorruptRegistry { .. }), "{e:?}");
    assert!(e.to_string().contains("not an OCI image manifest"), "{e}");
    let dest = tempfile::tempdir().expect("tempdir");
    pull(&reg, dest.path()).expect_err("a Docker v2 manifest");
    assert!(is_empty_dir(dest.path()));
}

#[test]
fn manifest_requests_accept_every_kind_so_foreign_tags_are_seen_not_free() {
    let (fake, reg) = open(Gate::Open, options());
    push(&reg, NGINX);
    reg.resolve(&nginx()).expect("resolve");
    reg.list(None).expect("list");
    let log = fake.log();
    let asked: Vec<&Logged> = log
        .iter()
        .filter(|l| {
            l.path.contains("/manifests/") && matches!(l.method, Method::GET | Method::HEAD)
        })
        .collect();
    assert!(asked.iter().any(|l| l.method == Method::GET), "{asked:?}");
    assert!(asked.iter().any(|l| l.method == Method::HEAD), "{asked:?}");
    for l in asked {
        let accept = l.accept.as_deref().unwrap_or_default();
        // Ours first, then the kinds we refuse by name rather than never see.
        assert!(accept.starts_with(oci::MANIFEST_MEDIA_TYPE), "{accept}");
        for kind in [
            oci::INDEX_MEDIA_TYPE,
            "application/vnd.docker.distribution.manifest.v2+json",
        ] {
            assert!(accept.contains(kind), "{} {}: {accept}", l.method, l.path);
        }
    }
}
