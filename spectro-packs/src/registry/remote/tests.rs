//! Protocol faults against the scripted registry in `fake.rs`, under plain `cargo test`:
//! retries and their caps, resumed and restarted downloads, integrity checks, chunked
//! uploads resumed or restarted, cancellation, where credentials go, token sharing,
//! refused deletes, error kinds, pagination and mounts. The end-to-end suite runs the
//! same client against a real registry; these tests script what a real one rarely does.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reqwest::Method;

use super::fake::{AUTH_HOST, Act, FakeRegistry, Fault, Gate, Logged, REGISTRY_HOST};
use super::{Credential, HttpStore, OciRegistry, RemoteOptions, RetryPolicy};
use crate::registry::{
    BlobSource, PackRef, PackRegistry, Progress, PullOptions, PullOutcome, PushOptions,
    PushOutcome, Registry, RegistryLocation, Store, TagOptions, Transfer,
};
use crate::{Error, ErrorKind};

const NGINX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/packs/valid/nginx-chart");
const HELLO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/packs/valid/hello-universe");
const NGINX_REPO: &str = "spectro-packs/archive/nginx";

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Retries that take milliseconds: four after the first attempt.
fn options() -> RemoteOptions {
    RemoteOptions::default()
        .without_certs_dir()
        .with_retry(
            RetryPolicy::default()
                .with_max_retries(4)
                .with_base_delay(ms(1))
                .with_max_delay(ms(10))
                .with_max_retry_after(ms(10)),
        )
}

/// Chunked uploads of 1 KiB (the archives are a few KiB).
fn chunked() -> RemoteOptions {
    options().with_monolithic_max(1024).with_chunk_size(1024)
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
            assert_eq!(got, std::fs::read(entry.path()).expect("read fixture"), "{}", rel.display());
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
    let f = fake.fault(Fault::on(Method::GET, "/manifests/1.11.2", Act::RetryAfter(429, 86_400)).times(3));
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
    let e = reg.resolve(&nginx()).expect_err("a registry failing every time");
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
    let f = fake.fault(Fault::on(Method::GET, "/manifests/1.11.2", Act::Stall(Duration::from_secs(30))));
    reg.resolve(&nginx()).expect("resolve after one timed-out attempt");
    assert_eq!(fake.fired(f), 1);
}

#[test]
fn cut_download_resumes_with_range() {
    let (fake, reg) = open(Gate::Open, options());
    let pushed = push(&reg, NGINX);
    let half = pushed.size / 2;
    fake.fault(Fault::on(Method::GET, &blob_path(&pushed), Act::CutBody(half as usize)));
    fake.clear_log();
    let dest = tempfile::tempdir().expect("tempdir");
    let out = pull(&reg, dest.path()).expect("pull resumed after a cut");
    let gets: Vec<Logged> = fake.log().into_iter().filter(|l| l.is(&Method::GET, &blob_path(&pushed))).collect();
    assert_eq!(gets.len(), 2, "{gets:?}");
    assert_eq!(gets[1].range.as_deref(), Some(format!("bytes={half}-").as_str()));
    assert_eq!(gets[1].status, Some(206));
    assert_pulled(&out, &pushed, NGINX);
}

#[test]
fn ignored_range_restarts_from_zero() {
    let (fake, reg) = open(Gate::Open, options());
    let pushed = push(&reg, NGINX);
    let path = blob_path(&pushed);
    fake.fault(Fault::on(Method::GET, &path, Act::CutBody(pushed.size as usize / 2)));
    let ignored = fake.fault(Fault::on(Method::GET, &path, Act::IgnoreRange).always());
    let dest = tempfile::tempdir().expect("tempdir");
    let out = pull(&reg, dest.path()).expect("pull restarted from byte 0");
    assert_eq!(fake.fired(ignored), 1, "the resume asked for a range and got the whole blob");
    assert_pulled(&out, &pushed, NGINX);
}

#[test]
fn corrupt_blob_is_a_digest_mismatch_and_leaves_nothing() {
    let (fake, reg) = open(Gate::Open, options());
    let pushed = push(&reg, NGINX);
    fake.fault(Fault::on(Method::GET, &blob_path(&pushed), Act::Corrupt).always());
    let dest = tempfile::tempdir().expect("tempdir");
    let e = pull(&reg, dest.path()).expect_err("a corrupt blob");
    assert!(matches!(e, Error::DigestMismatch { .. }), "{e:?}");
    assert!(is_empty_dir(dest.path()), "the destination was left as it was");
}

#[test]
fn lying_content_length_is_refused() {
    let (fake, reg) = open(Gate::Open, options());
    let pushed = push(&reg, NGINX);
    let declared = (pushed.size + 4096).to_string();
    fake.fault(Fault::on(Method::GET, &blob_path(&pushed), Act::Header("content-length", declared)).always());
    let dest = tempfile::tempdir().expect("tempdir");
    let e = pull(&reg, dest.path()).expect_err("a Content-Length the manifest disagrees with");
    assert_eq!(e.kind(), ErrorKind::Integrity, "{e}");
    assert!(is_empty_dir(dest.path()));
}

#[test]
fn oversized_manifest_is_refused() {
    let (fake, reg) = open(Gate::Open, options());
    push(&reg, NGINX);
    let huge = 5 << 20;
    // Declared too large: refused before reading.
    fake.fault(Fault::on(Method::GET, "/manifests/1.11.2", Act::Header("content-length", huge.to_string())));
    let e = reg.resolve(&nginx()).expect_err("a manifest declared above the cap");
    assert!(e.to_string().contains("limit"), "{e}");
    // Not declared: refused once the bytes pass the cap.
    fake.fault(Fault::on(Method::GET, "/manifests/1.11.2", Act::Huge(huge)));
    let e = reg.resolve(&nginx()).expect_err("a manifest body above the cap");
    assert!(e.to_string().contains("limit"), "{e}");
    reg.resolve(&nginx()).expect("the manifest itself is fine");
}

#[test]
fn chunked_upload_resumes_from_the_registry_range() {
    let (fake, reg) = open(Gate::Open, chunked());
    // The third chunk (bytes 2048..3072) arrives only in part: 300 bytes.
    let f = fake.fault(Fault::on(Method::PATCH, "/blobs/uploads/", Act::PartialBody(300)).after(2));
    let pushed = push(&reg, NGINX);
    assert!(pushed.size > 4096, "the archive spans several chunks");
    assert_eq!(fake.fired(f), 1);
    let log = fake.log();
    let status = log
        .iter()
        .position(|l| l.is(&Method::GET, "/blobs/uploads/"))
        .expect("the client asked the registry how much it has");
    assert_eq!(log[status].status, Some(204));
    assert_eq!(
        log[status + 1].content_range.as_deref().and_then(|r| r.split('-').next()),
        Some("2348"),
        "the next chunk starts where the registry's Range ends"
    );
    assert_eq!(count(&log, Method::POST, "/blobs/uploads/"), 2, "config and archive: no new session");
    let stored = fake.blob(NGINX_REPO, &pushed.archive_digest).expect("archive stored");
    assert_eq!(crate::registry::oci::sha256_digest(&stored), pushed.archive_digest);
    let dest = tempfile::tempdir().expect("tempdir");
    assert_pulled(&pull(&reg, dest.path()).expect("pull"), &pushed, NGINX);
}

#[test]
fn lost_upload_session_starts_a_new_one() {
    let (fake, reg) = open(Gate::Open, chunked());
    // Like CNCF distribution: resuming with a stale `_state` cancels the session.
    fake.configure(|c| c.strict_state = true);
    fake.fault(Fault::on(Method::PATCH, "/blobs/uploads/", Act::LoseAnswer).after(1));
    let pushed = push(&reg, NGINX);
    let log = fake.log();
    let first_patch = log.iter().position(|l| l.is(&Method::PATCH, "/blobs/uploads/")).expect("chunks");
    let later = &log[first_patch..];
    assert!(
        later.iter().any(|l| l.is(&Method::GET, "/blobs/uploads/") && l.status == Some(404)),
        "the session was gone: {later:?}"
    );
    assert_eq!(count(later, Method::POST, "/blobs/uploads/"), 1, "one new session");
    let dest = tempfile::tempdir().expect("tempdir");
    assert_pulled(&pull(&reg, dest.path()).expect("pull"), &pushed, NGINX);
}

#[test]
fn refused_patch_falls_back_to_one_streamed_put() {
    let (fake, reg) = open(Gate::Open, chunked());
    fake.fault(Fault::on(Method::PATCH, "/blobs/uploads/", Act::Status(405)).always());
    let pushed = push(&reg, NGINX);
    let log = fake.log();
    assert_eq!(count(&log, Method::PATCH, "/blobs/uploads/"), 1, "chunks are not tried again");
    assert!(
        log.iter().any(|l| l.is(&Method::PUT, "/blobs/uploads/") && l.body_len == pushed.size),
        "the whole archive went in one PUT"
    );
    assert!(fake.blob(NGINX_REPO, &pushed.archive_digest).is_some());
}

#[test]
fn failed_upload_start_is_retried_with_a_new_session() {
    let (fake, reg) = open(Gate::Open, options());
    let f = fake.fault(Fault::on(Method::POST, "/blobs/uploads/", Act::Reset).times(2));
    let pushed = push(&reg, NGINX);
    assert_eq!(fake.fired(f), 2);
    assert_eq!(fake.tag(NGINX_REPO, "1.11.2"), Some(pushed.manifest_digest));
}

#[test]
fn lost_manifest_answer_is_retried() {
    let (fake, reg) = open(Gate::Open, options());
    fake.fault(Fault::on(Method::PUT, "/manifests/1.11.2", Act::LoseAnswer));
    let pushed = push(&reg, NGINX);
    assert_eq!(count(&fake.log(), Method::PUT, "/manifests/1.11.2"), 2);
    assert_eq!(fake.tag(NGINX_REPO, "1.11.2"), Some(pushed.manifest_digest));
}

#[test]
fn interrupted_push_leaves_no_tag_and_a_rerun_finishes() {
    let (fake, reg) = open(Gate::Open, options());
    fake.fault(Fault::on(Method::PUT, "/manifests/", Act::Status(500)).always());
    let e = reg.push(Path::new(NGINX), &PushOptions::default()).expect_err("manifest refused");
    assert_eq!(e.http_status(), Some(500), "{e}");
    assert!(fake.tags(NGINX_REPO).is_empty(), "no tag after a failed push");
    fake.clear_faults();
    fake.clear_log();
    let pushed = push(&reg, NGINX);
    assert!(pushed.changed);
    assert_eq!(fake.tag(NGINX_REPO, "1.11.2"), Some(pushed.manifest_digest));
    let log = fake.log();
    assert_eq!(count(&log, Method::POST, "/blobs/uploads/"), 0, "the blobs were there already");
}

#[test]
fn cancelled_push_leaves_no_tag() {
    let (fake, reg) = open(Gate::Open, options());
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&cancel);
    let opts = PushOptions::default()
        .with_cancel(Arc::clone(&cancel))
        .with_progress(Arc::new(move |p| {
            if matches!(p, Progress::Transfer { .. }) {
                flag.store(true, Ordering::SeqCst);
            }
        }));
    let e = reg.push(Path::new(NGINX), &opts).expect_err("cancelled while uploading");
    assert!(matches!(e, Error::Cancelled), "{e:?}");
    assert!(cancel.load(Ordering::SeqCst));
    assert!(fake.tags(NGINX_REPO).is_empty());
    assert_eq!(count(&fake.log(), Method::PUT, "/manifests/"), 0);
}

#[test]
fn cancelled_pull_stops_a_stalled_download() {
    let (fake, reg) = open(Gate::Open, options());
    let pushed = push(&reg, NGINX);
    // Left alone, the body would arrive after 5 s and the pull would succeed.
    fake.fault(Fault::on(Method::GET, &blob_path(&pushed), Act::StallBody(Duration::from_secs(5))));
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&cancel);
    std::thread::spawn(move || {
        std::thread::sleep(ms(100));
        flag.store(true, Ordering::SeqCst);
    });
    let dest = tempfile::tempdir().expect("tempdir");
    let e = reg
        .pull(&nginx(), dest.path(), &PullOptions::default().with_cancel(cancel))
        .expect_err("cancelled");
    assert!(matches!(e, Error::Cancelled), "{e:?}");
    assert!(is_empty_dir(dest.path()));
}

#[test]
fn basic_auth_works_and_a_wrong_password_is_unauthenticated() {
    let (fake, reg) = open(Gate::Basic("alice".into(), "s3cret".into()), login("alice", "s3cret"));
    let pushed = push(&reg, NGINX);
    let dest = tempfile::tempdir().expect("tempdir");
    assert_pulled(&pull(&reg, dest.path()).expect("pull"), &pushed, NGINX);
    assert!(fake.log().iter().any(|l| l.auth.as_deref() == Some("Basic")));
    for opts in [login("alice", "wrong"), options()] {
        let e = client(&fake, opts).resolve(&nginx()).expect_err("refused");
        assert_eq!(e.kind(), ErrorKind::Unauthenticated, "{e}");
        assert_eq!(e.http_status(), Some(401));
    }
}

#[test]
fn credentials_never_go_to_a_redirect_host() {
    let (fake, reg) = open(Gate::Basic("alice".into(), "s3cret".into()), login("alice", "s3cret"));
    let pushed = push(&reg, NGINX);
    fake.fault(Fault::on(Method::GET, &blob_path(&pushed), Act::Redirect("blobs.example".into())));
    let dest = tempfile::tempdir().expect("tempdir");
    let out = pull(&reg, dest.path()).expect("pull through the redirect");
    assert_pulled(&out, &pushed, NGINX);
    let log = fake.log();
    let away: Vec<&Logged> = log.iter().filter(|l| l.host == "blobs.example").collect();
    assert_eq!(away.len(), 1, "the blob came from the redirect host");
    assert!(away.iter().all(|l| l.auth.is_none()), "{away:?}");
    assert!(log.iter().any(|l| l.host == REGISTRY_HOST && l.auth.is_some()));
}

#[test]
fn credentials_never_go_to_an_upload_location_on_another_host() {
    let (fake, reg) = open(Gate::Basic("alice".into(), "s3cret".into()), login("alice", "s3cret"));
    fake.fault(Fault::on(Method::POST, "/blobs/uploads/", Act::RelocateUpload("uploads.example".into())).always());
    let pushed = push(&reg, NGINX);
    let log = fake.log();
    let away: Vec<&Logged> = log.iter().filter(|l| l.host == "uploads.example").collect();
    assert!(away.iter().any(|l| l.method == Method::PUT && l.body_len == pushed.size), "{away:?}");
    assert!(away.iter().all(|l| l.auth.is_none()), "{away:?}");
    assert_eq!(fake.tag(NGINX_REPO, "1.11.2"), Some(pushed.manifest_digest));
}

#[test]
fn anonymous_bearer_tokens_pull_but_cannot_push() {
    let gate = Gate::Bearer {
        login: Some(("bob".into(), "pw".into())),
        anonymous: true,
    };
    let (fake, reg) = open(gate, login("bob", "pw"));
    let pushed = push(&reg, NGINX);
    fake.clear_log();
    let anonymous = client(&fake, options());
    let dest = tempfile::tempdir().expect("tempdir");
    assert_pulled(&pull(&anonymous, dest.path()).expect("anonymous pull"), &pushed, NGINX);
    let log = fake.log();
    let tokens: Vec<&Logged> = log.iter().filter(|l| l.host == AUTH_HOST).collect();
    assert!(!tokens.is_empty() && tokens.iter().all(|l| l.auth.is_none()), "{tokens:?}");
    assert!(log.iter().any(|l| l.host == REGISTRY_HOST && l.auth.as_deref() == Some("Bearer")));
    let e = anonymous.push(Path::new(HELLO), &PushOptions::default()).expect_err("pull-only token");
    assert_eq!(e.kind(), ErrorKind::Unauthenticated, "{e}");
}

#[test]
fn parallel_lookups_behind_a_fresh_challenge_fetch_one_token() {
    let gate = Gate::Bearer {
        login: Some(("bob".into(), "pw".into())),
        anonymous: true,
    };
    let (fake, reg) = open(gate, login("bob", "pw"));
    let pushed = push(&reg, NGINX);
    for t in ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta"] {
        reg.tag(&nginx(), t, &TagOptions::default()).expect("tag");
    }
    let tags = fake.tags(NGINX_REPO);
    assert_eq!(tags.len(), 8);
    // The token service is slow, so all eight lookups meet the challenge first.
    fake.fault(Fault::on(Method::GET, "/token", Act::Stall(ms(100))));
    fake.clear_log();
    let fresh = client(&fake, options());
    let found = fresh.store().tag_digests(NGINX_REPO, &tags).expect("lookups");
    assert_eq!(found.len(), 8);
    assert!(found.iter().all(|(_, d)| *d == pushed.manifest_digest));
    let log = fake.log();
    assert_eq!(log.iter().filter(|l| l.host == AUTH_HOST).count(), 1, "{log:?}");
    assert!(count(&log, Method::HEAD, "/manifests/") >= 8);
}

#[test]
fn untag_where_deletes_are_refused_keeps_both_tags() {
    let (fake, reg) = open(Gate::Open, options());
    fake.configure(|c| c.deletes = false);
    let pushed = push(&reg, NGINX);
    reg.tag(&nginx(), "stable", &TagOptions::default()).expect("tag");
    fake.clear_log();
    let stable = PackRef::exact("nginx", "stable").expect("reference");
    let e = reg.delete(&stable).expect_err("deletes are off");
    assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
    assert_eq!(fake.tag(NGINX_REPO, "stable"), Some(pushed.manifest_digest.clone()));
    assert_eq!(fake.tag(NGINX_REPO, "1.11.2"), Some(pushed.manifest_digest));
    assert_eq!(count(&fake.log(), Method::PUT, "/manifests/"), 0, "nothing was moved");
}

#[test]
fn untag_of_a_shared_tag_keeps_the_other() {
    let (fake, reg) = open(Gate::Open, options());
    let pushed = push(&reg, NGINX);
    reg.tag(&nginx(), "stable", &TagOptions::default()).expect("tag");
    reg.delete(&PackRef::exact("nginx", "stable").expect("reference")).expect("untag");
    assert_eq!(fake.tags(NGINX_REPO), vec!["1.11.2".to_owned()]);
    assert_eq!(fake.tag(NGINX_REPO, "1.11.2"), Some(pushed.manifest_digest));
}

#[test]
fn catalog_pages_are_followed_on_the_registry_only() {
    let (fake, reg) = open(Gate::Open, options());
    fake.configure(|c| c.page_size = 1);
    push(&reg, NGINX);
    push(&reg, HELLO);
    fake.clear_log();
    let names: Vec<String> = reg.list(None).expect("list").into_iter().map(|p| p.name).collect();
    assert_eq!(names, ["hello-universe", "nginx"]);
    assert_eq!(count(&fake.log(), Method::GET, "/v2/_catalog"), 2, "two pages of one");
    let foreign = "<https://elsewhere.example/v2/_catalog?last=a&n=1>; rel=\"next\"".to_owned();
    fake.fault(Fault::on(Method::GET, "/v2/_catalog", Act::Header("link", foreign)));
    let e = reg.list(None).expect_err("a Link to another origin");
    assert!(e.to_string().contains("another origin"), "{e}");
    assert!(fake.log().iter().all(|l| l.host != "elsewhere.example"));
}

#[test]
fn cross_repository_mount_sends_no_blob_bytes() {
    let (fake, reg) = open(Gate::Open, options());
    let pushed = push(&reg, NGINX);
    let tmp = tempfile::tempdir().expect("tempdir");
    let built = crate::archive::build_archive(NGINX, tmp.path(), &crate::archive::BuildOptions::default())
        .expect("build");
    assert_eq!(built.digest, pushed.archive_digest);
    let other = "mirror/spectro-packs/archive/nginx";
    fake.clear_log();
    let d = reg
        .store()
        .put_blob(other, BlobSource::File(&built.path), Some(&built.digest), &Transfer::default())
        .expect("mount");
    assert_eq!(d, built.digest);
    let log = fake.log();
    assert!(
        log.iter().any(|l| l.is(&Method::POST, "mount=") && l.status == Some(201)),
        "{log:?}"
    );
    assert_eq!(log.iter().map(|l| l.body_len).sum::<u64>(), 0, "no bytes sent");
    assert!(fake.blob(other, &built.digest).is_some());
}
