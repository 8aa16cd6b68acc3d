//! The OCI backend through a fault-injecting proxy in front of a real registry: every
//! fault is survived or reported clearly, nothing partial is left on disk, and no
//! credential leaves the registry's origin.

use std::fs;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use spectro_packs::Error;
use spectro_packs::registry::{
    Credential, OciRegistry, PackRef, PullOptions, PushOptions, Registry, RegistryLocation,
    RemoteOptions, RetryPolicy,
};
use spectro_tests::conformance::versioned;
use spectro_tests::fault_proxy::{Action, BearerGate, FaultProxy, recorder, token_server};
use spectro_tests::{test_registries, unique_base};

fn fast_retry() -> RetryPolicy {
    let mut p = RetryPolicy::default();
    p.base_delay = Duration::from_millis(20);
    p.max_delay = Duration::from_millis(100);
    p.max_retries = 4;
    p
}

fn opts() -> RemoteOptions {
    let mut o = RemoteOptions::default();
    o.plain_http = true;
    o.retry = fast_retry();
    o.certs_dir = None;
    o
}

/// Small thresholds so a few-hundred-KiB test archive goes up in 48 KiB chunks.
fn chunked_opts() -> RemoteOptions {
    let mut o = opts();
    o.monolithic_max = 32 << 10;
    o.chunk_size = 48 << 10;
    o
}

fn client(host: &str, o: RemoteOptions) -> OciRegistry {
    let loc = RegistryLocation::parse(&format!("oci://{host}/{}", unique_base("f"))).unwrap();
    OciRegistry::connect(&loc, o).unwrap()
}

fn r(s: &str) -> PackRef {
    PackRef::parse(s).unwrap()
}

/// A pack with a values.yaml big enough that its archive spans several reads.
fn big_pack(dir: &Path) -> std::path::PathBuf {
    let p = versioned("nginx-chart", "1.0.0", dir);
    // Filler so the archive is a few hundred KiB.
    let extra = spectro_tests::noise_lines(20_000);
    let vals = p.join("values.yaml");
    fs::write(&vals, fs::read_to_string(&vals).unwrap() + &extra).unwrap();
    p
}

fn dir_entries(p: &Path) -> Vec<String> {
    fs::read_dir(p)
        .map(|rd| {
            rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn server_errors_then_success_are_retried() {
    let Some(regs) = test_registries() else {
        return;
    };
    let proxy = FaultProxy::start(&regs.plain, None);
    proxy.inject("POST", "/blobs/uploads/", 2, Action::Status(500, vec![]));
    proxy.inject("PUT", "/manifests/", 1, Action::Status(503, vec![]));
    proxy.inject("GET", "/manifests/", 1, Action::Status(502, vec![]));
    let reg = client(&proxy.server.addr, opts());
    let work = tempfile::tempdir().unwrap();
    let pushed = reg
        .push(
            &versioned("nginx-chart", "1.0.0", work.path()),
            &PushOptions::default(),
        )
        .unwrap();
    assert!(pushed.changed);
    assert_eq!(proxy.pending(), 0, "every fault fired");
    let dest = tempfile::tempdir().unwrap();
    reg.pull(&r("nginx:1.0.0"), dest.path(), &PullOptions::default())
        .unwrap();
}

#[test]
fn too_many_requests_honours_retry_after() {
    let Some(regs) = test_registries() else {
        return;
    };
    let proxy = FaultProxy::start(&regs.plain, None);
    proxy.inject(
        "GET",
        "/tags/list",
        1,
        Action::Status(429, vec![("Retry-After".into(), "1".into())]),
    );
    let reg = client(&proxy.server.addr, opts());
    let work = tempfile::tempdir().unwrap();
    reg.push(
        &versioned("nginx-chart", "1.0.0", work.path()),
        &PushOptions::default(),
    )
    .unwrap();
    let start = Instant::now();
    let listed = reg.list(Some("nginx")).unwrap();
    assert_eq!(listed[0].versions[0].version, "1.0.0");
    // Our backoff here is ≤ 100 ms: waiting a whole second means Retry-After was used.
    assert!(
        start.elapsed() >= Duration::from_millis(950),
        "{:?}",
        start.elapsed()
    );
    // A huge Retry-After is capped by the policy, not slept.
    let mut o = opts();
    o.retry.max_retry_after = Duration::from_millis(200);
    let reg2 = OciRegistry::connect(
        &RegistryLocation::parse(&format!("oci://{}/x", proxy.server.addr)).unwrap(),
        o,
    )
    .unwrap();
    proxy.inject(
        "GET",
        "/_catalog",
        1,
        Action::Status(429, vec![("Retry-After".into(), "3600".into())]),
    );
    let start = Instant::now();
    reg2.list(None).unwrap();
    assert!(start.elapsed() < Duration::from_secs(30));
}

#[test]
fn persistent_failure_reports_the_status_and_leaves_nothing() {
    let Some(regs) = test_registries() else {
        return;
    };
    let proxy = FaultProxy::start(&regs.plain, None);
    let reg = client(&proxy.server.addr, opts());
    let work = tempfile::tempdir().unwrap();
    reg.push(
        &versioned("nginx-chart", "1.0.0", work.path()),
        &PushOptions::default(),
    )
    .unwrap();
    proxy.inject("GET", "/blobs/sha256:", 100, Action::Status(503, vec![]));
    let dest = tempfile::tempdir().unwrap();
    let e = reg
        .pull(&r("nginx:1.0.0"), dest.path(), &PullOptions::default())
        .unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("503") && msg.contains("INJECTED"), "{msg}");
    assert!(
        dir_entries(dest.path()).is_empty(),
        "left behind: {:?}",
        dir_entries(dest.path())
    );
}

#[test]
fn connection_reset_mid_blob_resumes_with_range() {
    let Some(regs) = test_registries() else {
        return;
    };
    let proxy = FaultProxy::start(&regs.plain, None);
    let reg = client(&proxy.server.addr, opts());
    let work = tempfile::tempdir().unwrap();
    let pushed = reg
        .push(&big_pack(work.path()), &PushOptions::default())
        .unwrap();
    assert!(pushed.size > 100_000, "{}", pushed.size);
    proxy.inject("GET", &pushed.archive_digest, 1, Action::CutAfter(65_536));
    let dest = tempfile::tempdir().unwrap();
    let mut o = PullOptions::default();
    o.archive_only = true;
    let out = reg.pull(&r("nginx:1.0.0"), dest.path(), &o).unwrap();
    assert_eq!(out.archive_digest, pushed.archive_digest);
    let ranged: Vec<String> = proxy
        .server
        .requests()
        .iter()
        .filter(|q| q.target.contains(&pushed.archive_digest) && q.method == "GET")
        .filter_map(|q| q.header("range").map(str::to_owned))
        .collect();
    assert_eq!(ranged, ["bytes=65536-"], "resumed where the reset happened");
}

#[test]
fn wrong_digest_is_refused_and_nothing_is_written() {
    let Some(regs) = test_registries() else {
        return;
    };
    let proxy = FaultProxy::start(&regs.plain, None);
    let reg = client(&proxy.server.addr, opts());
    let work = tempfile::tempdir().unwrap();
    let pushed = reg
        .push(
            &versioned("nginx-chart", "1.0.0", work.path()),
            &PushOptions::default(),
        )
        .unwrap();
    proxy.inject("GET", &pushed.archive_digest, 1, Action::Corrupt);
    let dest = tempfile::tempdir().unwrap();
    match reg.pull(&r("nginx:1.0.0"), dest.path(), &PullOptions::default()) {
        Err(Error::DigestMismatch { expected, .. }) => assert_eq!(expected, pushed.archive_digest),
        other => panic!("expected DigestMismatch, got {other:?}"),
    }
    assert!(dir_entries(dest.path()).is_empty());
    // A manifest whose bytes do not match the digest asked for is refused too.
    proxy.inject(
        "GET",
        &format!("/manifests/{}", pushed.manifest_digest),
        1,
        Action::Corrupt,
    );
    let e = reg
        .resolve(&r(&format!("nginx@{}", pushed.manifest_digest)))
        .unwrap_err();
    assert!(matches!(e, Error::DigestMismatch { .. }), "{e:?}");
}

#[test]
fn chunked_upload_resumes_after_a_failed_chunk() {
    let Some(regs) = test_registries() else {
        return;
    };
    let proxy = FaultProxy::start(&regs.plain, None);
    let reg = client(&proxy.server.addr, chunked_opts());
    let work = tempfile::tempdir().unwrap();
    proxy.inject("PATCH", "/blobs/uploads/", 1, Action::Status(500, vec![]));
    let src = big_pack(work.path());
    let pushed = reg.push(&src, &PushOptions::default()).unwrap();
    let reqs = proxy.server.requests();
    let patches = reqs.iter().filter(|q| q.method == "PATCH").count();
    let expected_chunks = pushed.size.div_ceil(48 << 10) as usize;
    assert_eq!(
        patches,
        expected_chunks + 1,
        "one chunk re-sent after the failure"
    );
    assert!(
        reqs.iter()
            .any(|q| q.method == "GET" && q.target.contains("/blobs/uploads/")),
        "asked the registry for the upload status"
    );
    let dest = tempfile::tempdir().unwrap();
    let mut po = PullOptions::default();
    po.archive_only = true;
    let out = reg.pull(&r("nginx:1.0.0"), dest.path(), &po).unwrap();
    assert_eq!(out.archive_digest, pushed.archive_digest);
}

#[test]
fn interrupted_push_rerun_uploads_nothing_twice() {
    let Some(regs) = test_registries() else {
        return;
    };
    let proxy = FaultProxy::start(&regs.plain, None);
    let mut o = opts();
    o.retry.max_retries = 0;
    let reg = client(&proxy.server.addr, o);
    let work = tempfile::tempdir().unwrap();
    let src = versioned("nginx-chart", "1.0.0", work.path());
    proxy.inject("PUT", "/manifests/", 1, Action::Status(500, vec![]));
    assert!(reg.push(&src, &PushOptions::default()).is_err());
    assert!(
        matches!(
            reg.resolve(&r("nginx:1.0.0")),
            Err(Error::PackNotFound { .. })
        ),
        "no tag after a failed push"
    );
    let before = proxy.server.requests().len();
    reg.push(&src, &PushOptions::default()).unwrap();
    let rerun = &proxy.server.requests()[before..];
    assert!(
        !rerun
            .iter()
            .any(|q| q.method == "POST" || q.method == "PATCH"),
        "blobs were already there: {:?}",
        rerun
            .iter()
            .map(|q| format!("{} {}", q.method, q.target))
            .collect::<Vec<_>>()
    );
}

#[test]
fn cancelled_push_leaves_no_tag_and_cancelled_pull_no_files() {
    let Some(regs) = test_registries() else {
        return;
    };
    let proxy = FaultProxy::start(&regs.plain, None);
    let reg = client(&proxy.server.addr, opts());
    let work = tempfile::tempdir().unwrap();
    let src = big_pack(work.path());
    let cancel: Arc<AtomicBool> = Arc::default();
    let c2 = cancel.clone();
    let mut po = PushOptions::default();
    po.cancel = Some(cancel.clone());
    po.progress = Some(Arc::new(move |p| {
        if matches!(p, spectro_packs::registry::Progress::Transfer { done, .. } if done > 0) {
            c2.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }));
    assert!(matches!(reg.push(&src, &po), Err(Error::Cancelled)));
    assert!(matches!(
        reg.resolve(&r("nginx:1.0.0")),
        Err(Error::PackNotFound { .. })
    ));
    reg.push(&src, &PushOptions::default()).unwrap();
    let dest = tempfile::tempdir().unwrap();
    let cancel: Arc<AtomicBool> = Arc::default();
    let c2 = cancel.clone();
    let mut o = PullOptions::default();
    o.cancel = Some(cancel);
    o.progress = Some(Arc::new(move |_| {
        c2.store(true, std::sync::atomic::Ordering::SeqCst)
    }));
    assert!(matches!(
        reg.pull(&r("nginx:1.0.0"), dest.path(), &o),
        Err(Error::Cancelled)
    ));
    assert!(
        dir_entries(dest.path()).is_empty(),
        "{:?}",
        dir_entries(dest.path())
    );
}

#[test]
fn bearer_auth_redirects_and_foreign_locations_never_leak_credentials() {
    let Some(regs) = test_registries() else {
        return;
    };
    let tokens = token_server("alice", "s3cret", "full-token", None);
    let proxy = FaultProxy::start(
        &regs.plain,
        Some(BearerGate {
            realm: format!("http://{}/token", tokens.addr),
            token: "full-token".into(),
            pull_token: None,
        }),
    );
    // The "CDN" and the foreign upload host: other origins that record what they get.
    let cdn = recorder(&regs.plain);
    let uploads = recorder(&regs.plain);
    let mut o = opts();
    o.credential = Some(Credential::basic("alice", "s3cret"));
    let reg = client(&proxy.server.addr, o);
    proxy.inject(
        "POST",
        "/blobs/uploads/",
        1,
        Action::RelocateUploads(format!("http://{}", uploads.addr)),
    );
    let work = tempfile::tempdir().unwrap();
    let pushed = reg
        .push(&big_pack(work.path()), &PushOptions::default())
        .unwrap();
    proxy.inject(
        "GET",
        &pushed.archive_digest,
        1,
        Action::Redirect(format!("http://{}", cdn.addr)),
    );
    let dest = tempfile::tempdir().unwrap();
    let out = reg
        .pull(&r("nginx:1.0.0"), dest.path(), &PullOptions::default())
        .unwrap();
    assert_eq!(out.archive_digest, pushed.archive_digest);
    assert_eq!(proxy.pending(), 0);
    assert!(!uploads.requests().is_empty() && !cdn.requests().is_empty());
    assert!(
        uploads.authorizations().is_empty(),
        "upload host got {:?}",
        uploads.authorizations()
    );
    assert!(
        cdn.authorizations().is_empty(),
        "CDN got {:?}",
        cdn.authorizations()
    );
    // The registry got only bearer tokens, never the password.
    assert!(
        proxy
            .server
            .authorizations()
            .iter()
            .all(|a| a == "Bearer full-token")
    );
    // The token service (same host, its own port) got the Basic credentials.
    assert!(
        tokens
            .authorizations()
            .iter()
            .all(|a| a.starts_with("Basic "))
    );
    let scopes: Vec<String> = tokens.requests().iter().map(|q| q.target.clone()).collect();
    assert!(
        scopes.iter().any(|s| s.contains("pull%2Cpush")),
        "{scopes:?}"
    );
}

#[test]
fn plain_http_token_realm_on_another_host_gets_no_credentials() {
    let Some(regs) = test_registries() else {
        return;
    };
    let tokens = token_server("alice", "s3cret", "full-token", Some("anon-token"));
    let port = tokens.addr.rsplit(':').next().unwrap().to_owned();
    let proxy = FaultProxy::start(
        &regs.plain,
        Some(BearerGate {
            // `localhost` is another host than the registry's 127.0.0.1.
            realm: format!("http://localhost:{port}/token"),
            token: "full-token".into(),
            pull_token: Some("anon-token".into()),
        }),
    );
    let mut o = opts();
    o.credential = Some(Credential::basic("alice", "s3cret"));
    let reg = client(&proxy.server.addr, o);
    match reg.ping() {
        Err(Error::Unauthorized { hint: Some(h), .. }) => {
            assert!(h.contains("refusing to send credentials"), "{h}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(
        tokens.requests().is_empty(),
        "nothing was sent to the realm"
    );
}

#[test]
fn anonymous_tokens_pull_and_a_push_says_to_log_in() {
    let Some(regs) = test_registries() else {
        return;
    };
    // Seed the registry directly, then read through a gate that gives anonymous
    // pull-only tokens.
    let seed = client(&regs.plain, opts());
    let work = tempfile::tempdir().unwrap();
    seed.push(
        &versioned("nginx-chart", "1.0.0", work.path()),
        &PushOptions::default(),
    )
    .unwrap();
    let tokens = token_server("alice", "s3cret", "full-token", Some("anon-token"));
    let proxy = FaultProxy::start(
        &regs.plain,
        Some(BearerGate {
            realm: format!("http://{}/token", tokens.addr),
            token: "full-token".into(),
            pull_token: Some("anon-token".into()),
        }),
    );
    let loc = format!(
        "oci://{}/{}",
        proxy.server.addr,
        seed.location().rsplit('/').next().unwrap()
    );
    let anon = OciRegistry::connect(&RegistryLocation::parse(&loc).unwrap(), opts()).unwrap();
    let dest = tempfile::tempdir().unwrap();
    anon.pull(&r("nginx:1.0.0"), dest.path(), &PullOptions::default())
        .unwrap();
    assert!(tokens.authorizations().is_empty());
    let e = anon
        .push(
            &versioned("nginx-chart", "2.0.0", work.path()),
            &PushOptions::default(),
        )
        .unwrap_err();
    match e {
        Error::Unauthorized { hint: Some(h), .. } => {
            // The library names no CLI commands; the hint says what is needed.
            assert!(h.contains("authentication required: log in to"), "{h}")
        }
        other => panic!("expected Unauthorized, got {other:?}"),
    }
}

#[test]
fn pagination_to_another_origin_is_refused() {
    let Some(regs) = test_registries() else {
        return;
    };
    let proxy = FaultProxy::start(&regs.plain, None);
    let reg = client(&proxy.server.addr, opts());
    let work = tempfile::tempdir().unwrap();
    reg.push(
        &versioned("nginx-chart", "1.0.0", work.path()),
        &PushOptions::default(),
    )
    .unwrap();
    proxy.inject(
        "GET",
        "/tags/list",
        1,
        Action::Link(r#"<http://169.254.169.254/v2/x/tags/list?last=a>; rel="next""#.into()),
    );
    let e = reg.resolve(&r("nginx")).unwrap_err();
    assert!(e.to_string().contains("another origin"), "{e}");
}

#[test]
fn cross_repo_mount_is_used_for_shared_blobs() {
    let Some(regs) = test_registries() else {
        return;
    };
    let proxy = FaultProxy::start(&regs.plain, None);
    let reg = client(&proxy.server.addr, opts());
    let work = tempfile::tempdir().unwrap();
    reg.push(
        &versioned("nginx-chart", "1.0.0", work.path()),
        &PushOptions::default(),
    )
    .unwrap();
    reg.push(
        &versioned("hello-universe", "1.0.0", work.path()),
        &PushOptions::default(),
    )
    .unwrap();
    let mounts: Vec<String> = proxy
        .server
        .requests()
        .iter()
        .filter(|q| q.method == "POST" && q.target.contains("mount="))
        .map(|q| q.target.clone())
        .collect();
    assert_eq!(mounts.len(), 1, "{mounts:?}");
    assert!(
        mounts[0].contains("from=") && mounts[0].contains("/nginx"),
        "{mounts:?}"
    );
}

#[test]
fn oversized_responses_are_refused() {
    let Some(regs) = test_registries() else {
        return;
    };
    let proxy = FaultProxy::start(&regs.plain, None);
    let reg = client(&proxy.server.addr, opts());
    let work = tempfile::tempdir().unwrap();
    reg.push(
        &versioned("nginx-chart", "1.0.0", work.path()),
        &PushOptions::default(),
    )
    .unwrap();
    proxy.inject("GET", "/tags/list", 1, Action::Huge(5 << 20));
    let e = reg.resolve(&r("nginx")).unwrap_err().to_string();
    assert!(e.contains("limit"), "{e}");
    proxy.inject("GET", "/manifests/1.0.0", 1, Action::Huge(5 << 20));
    let e = reg.resolve(&r("nginx:1.0.0")).unwrap_err().to_string();
    assert!(e.contains("limit"), "{e}");
}

#[test]
fn a_refused_catalog_says_to_name_the_pack() {
    let Some(regs) = test_registries() else {
        return;
    };
    let proxy = FaultProxy::start(&regs.plain, None);
    let reg = client(&proxy.server.addr, opts());
    let work = tempfile::tempdir().unwrap();
    reg.push(
        &versioned("nginx-chart", "1.0.0", work.path()),
        &PushOptions::default(),
    )
    .unwrap();
    proxy.inject("GET", "/_catalog", 2, Action::Status(403, vec![]));
    match reg.list(None) {
        // The library names no CLI command; the CLI adds its hint by kind.
        Err(e @ Error::Unsupported(_)) => {
            assert_eq!(e.kind(), spectro_packs::ErrorKind::Unsupported);
            assert!(
                e.to_string().contains("catalog") && !e.to_string().contains("spectro "),
                "{e}"
            );
        }
        other => panic!("expected Unsupported, got {other:?}"),
    }
    let named = reg.list(Some("nginx")).unwrap();
    assert_eq!(named[0].versions[0].version, "1.0.0");
}

#[test]
fn a_stalled_server_times_out_and_is_retried() {
    let Some(regs) = test_registries() else {
        return;
    };
    let proxy = FaultProxy::start(&regs.plain, None);
    let mut o = opts();
    o.timeout = Duration::from_millis(500);
    let reg = client(&proxy.server.addr, o);
    let work = tempfile::tempdir().unwrap();
    reg.push(
        &versioned("nginx-chart", "1.0.0", work.path()),
        &PushOptions::default(),
    )
    .unwrap();
    proxy.inject(
        "GET",
        "/manifests/1.0.0",
        1,
        Action::Stall(Duration::from_secs(3)),
    );
    let start = Instant::now();
    reg.resolve(&r("nginx:1.0.0")).unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(proxy.pending(), 0);
}

#[test]
fn a_registry_that_refuses_chunks_gets_one_streamed_upload() {
    let Some(regs) = test_registries() else {
        return;
    };
    let proxy = FaultProxy::start(&regs.plain, None);
    let reg = client(&proxy.server.addr, chunked_opts());
    proxy.inject("PATCH", "/blobs/uploads/", 1, Action::Status(405, vec![]));
    let work = tempfile::tempdir().unwrap();
    let pushed = reg
        .push(&big_pack(work.path()), &PushOptions::default())
        .unwrap();
    let reqs = proxy.server.requests();
    assert_eq!(reqs.iter().filter(|q| q.method == "PATCH").count(), 1);
    assert!(
        reqs.iter()
            .any(|q| q.method == "PUT" && q.body.len() as u64 == pushed.size),
        "the archive went in one PUT"
    );
    // Later blobs skip the chunk attempt.
    let again = big_pack(&work.path().join("again"));
    let vals = again.join("values.yaml");
    fs::write(
        &vals,
        fs::read_to_string(&vals).unwrap() + "# another version\n",
    )
    .unwrap();
    let mut force = PushOptions::default();
    force.force = true;
    assert!(reg.push(&again, &force).unwrap().changed);
    let patches = proxy
        .server
        .requests()
        .iter()
        .filter(|q| q.method == "PATCH")
        .count();
    assert_eq!(patches, 1);
}

#[test]
fn large_archives_hash_while_uploading_and_a_rerun_drops_the_duplicate_upload() {
    let Some(regs) = test_registries() else {
        return;
    };
    let proxy = FaultProxy::start(&regs.plain, None);
    let mut o = chunked_opts();
    o.retry.max_retries = 0;
    let reg = client(&proxy.server.addr, o);
    let work = tempfile::tempdir().unwrap();
    let built = spectro_packs::archive::build_archive(
        big_pack(work.path()),
        work.path(),
        &Default::default(),
    )
    .unwrap();
    // First run: the blob goes up, the manifest fails: no tag.
    proxy.inject("PUT", "/manifests/", 1, Action::Status(500, vec![]));
    assert!(reg.push(&built.path, &PushOptions::default()).is_err());
    let chunks = built.size.div_ceil(48 << 10) as usize;
    let patches = |from: usize| {
        proxy.server.requests()[from..]
            .iter()
            .filter(|q| q.method == "PATCH")
            .count()
    };
    assert_eq!(patches(0), chunks);
    // Re-run: as soon as the digest is known the registry is asked, the session dropped.
    let before = proxy.server.requests().len();
    let out = reg.push(&built.path, &PushOptions::default()).unwrap();
    assert_eq!(out.archive_digest, built.digest);
    assert!(
        patches(before) < chunks,
        "{} of {chunks} chunks re-sent",
        patches(before)
    );
    assert!(
        proxy.server.requests()[before..]
            .iter()
            .any(|q| q.method == "DELETE" && q.target.contains("/blobs/uploads/")),
        "the duplicate session was cancelled"
    );
    let dest = tempfile::tempdir().unwrap();
    let mut po = PullOptions::default();
    po.archive_only = true;
    let pulled = reg.pull(&r("nginx:1.0.0"), dest.path(), &po).unwrap();
    assert_eq!(
        fs::read(pulled.path).unwrap(),
        fs::read(&built.path).unwrap()
    );
}

#[test]
fn a_wrong_range_restarts_the_download_and_a_lost_session_restarts_the_upload() {
    let Some(regs) = test_registries() else {
        return;
    };
    let proxy = FaultProxy::start(&regs.plain, None);
    let reg = client(&proxy.server.addr, chunked_opts());
    let work = tempfile::tempdir().unwrap();
    // The chunk fails, and the registry no longer knows the session: a new one is used.
    proxy.inject("PATCH", "/blobs/uploads/", 1, Action::Status(500, vec![]));
    proxy.inject("GET", "/blobs/uploads/", 1, Action::Status(404, vec![]));
    let pushed = reg
        .push(&big_pack(work.path()), &PushOptions::default())
        .unwrap();
    assert_eq!(proxy.pending(), 0);
    // A reset, then a 206 for the wrong range: the download starts over from byte 0.
    proxy.inject("GET", &pushed.archive_digest, 1, Action::CutAfter(65_536));
    proxy.inject(
        "GET",
        &pushed.archive_digest,
        1,
        Action::Status(206, vec![("Content-Range".into(), "bytes 1-2/3".into())]),
    );
    let dest = tempfile::tempdir().unwrap();
    let mut po = PullOptions::default();
    po.archive_only = true;
    let out = reg.pull(&r("nginx:1.0.0"), dest.path(), &po).unwrap();
    assert_eq!(out.archive_digest, pushed.archive_digest);
    let gets: Vec<Option<String>> = proxy
        .server
        .requests()
        .iter()
        .filter(|q| q.method == "GET" && q.target.contains(&pushed.archive_digest))
        .map(|q| q.header("range").map(str::to_owned))
        .collect();
    assert_eq!(gets, [None, Some("bytes=65536-".into()), None]);
}
