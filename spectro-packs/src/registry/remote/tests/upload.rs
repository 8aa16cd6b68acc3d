//! Uploads: chunks resumed from the registry's `Range` (after a drop or a 416), sized to
//! its `OCI-Chunk-Min-Length`, lost sessions replaced, refused chunks replaced by one
//! streamed PUT (retried after a 5xx), lost answers and failed session starts retried, a
//! digest the registry got wrong refused, a tag replaced by a concurrent push reported;
//! interrupted and cancelled pushes leave no tag.

use super::*;

#[test]
fn upload_answered_with_another_digest_is_refused() {
    let (fake, reg) = open(Gate::Open, options());
    let other = crate::registry::oci::sha256_digest(b"something else");
    // Only the archive's PUT (the config blob goes first).
    fake.fault(
        Fault::on(
            Method::PUT,
            "/blobs/uploads/",
            Act::Header("docker-content-digest", other),
        )
        .after(1),
    );
    let e = reg
        .push(Path::new(NGINX), &PushOptions::default())
        .expect_err("the registry stored something else");
    assert!(matches!(e, Error::DigestMismatch { .. }), "{e:?}");
    assert!(fake.tags(NGINX_REPO).is_empty());
}

#[test]
fn chunked_upload_resumes_from_the_registry_range() {
    let (fake, reg) = open(Gate::Open, chunked());
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = large_pack(tmp.path());
    // The third chunk (from byte 32768) arrives only in part: 100 bytes.
    let f = fake.fault(Fault::on(Method::PATCH, "/blobs/uploads/", Act::PartialBody(100)).after(2));
    let pushed = push(&reg, dir.to_str().expect("utf-8"));
    assert!(pushed.size > 64 << 10, "several chunks: {}", pushed.size);
    assert_eq!(fake.fired(f), 1);
    let log = fake.log();
    let status = log
        .iter()
        .position(|l| l.is(&Method::GET, "/blobs/uploads/"))
        .expect("the client asked the registry how much it has");
    assert_eq!(log[status].status, Some(204));
    assert_eq!(
        log[status + 1]
            .content_range
            .as_deref()
            .and_then(|r| r.split('-').next()),
        Some("32868"),
        "the next chunk starts where the registry's Range ends"
    );
    assert_eq!(
        count(&log, Method::POST, "/blobs/uploads/"),
        2,
        "config and archive: no new session"
    );
    let stored = fake
        .blob(NGINX_REPO, &pushed.archive_digest)
        .expect("archive stored");
    assert_eq!(
        crate::registry::oci::sha256_digest(&stored),
        pushed.archive_digest
    );
    let dest = tempfile::tempdir().expect("tempdir");
    let out = pull(&reg, dest.path()).expect("pull");
    assert_pulled(&out, &pushed, dir.to_str().expect("utf-8"));
}

#[test]
fn lost_upload_session_starts_a_new_one() {
    let (fake, reg) = open(Gate::Open, chunked());
    // Like CNCF distribution: resuming with a stale `_state` cancels the session.
    fake.configure(|c| c.strict_state = true);
    fake.fault(Fault::on(Method::PATCH, "/blobs/uploads/", Act::LoseAnswer).after(1));
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = large_pack(tmp.path());
    let pushed = push(&reg, dir.to_str().expect("utf-8"));
    let log = fake.log();
    let first_patch = log
        .iter()
        .position(|l| l.is(&Method::PATCH, "/blobs/uploads/"))
        .expect("chunks");
    let later = &log[first_patch..];
    assert!(
        later
            .iter()
            .any(|l| l.is(&Method::GET, "/blobs/uploads/") && l.status == Some(404)),
        "the session was gone: {later:?}"
    );
    assert_eq!(
        count(later, Method::POST, "/blobs/uploads/"),
        1,
        "one new session"
    );
    let dest = tempfile::tempdir().expect("tempdir");
    let out = pull(&reg, dest.path()).expect("pull");
    assert_pulled(&out, &pushed, dir.to_str().expect("utf-8"));
}

#[test]
fn refused_patch_falls_back_to_one_streamed_put() {
    let (fake, reg) = open(Gate::Open, chunked());
    fake.fault(Fault::on(Method::PATCH, "/blobs/uploads/", Act::Status(405)).always());
    let tmp = tempfile::tempdir().expect("tempdir");
    let pushed = push(&reg, large_pack(tmp.path()).to_str().expect("utf-8"));
    assert!(
        pushed.size > 16 << 10,
        "above monolithic_max: {}",
        pushed.size
    );
    let log = fake.log();
    assert_eq!(
        count(&log, Method::PATCH, "/blobs/uploads/"),
        1,
        "chunks are not tried again"
    );
    assert!(
        log.iter()
            .any(|l| l.is(&Method::PUT, "/blobs/uploads/") && l.body_len == pushed.size),
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
    let e = reg
        .push(Path::new(NGINX), &PushOptions::default())
        .expect_err("manifest refused");
    assert_eq!(e.http_status(), Some(500), "{e}");
    assert!(
        fake.tags(NGINX_REPO).is_empty(),
        "no tag after a failed push"
    );
    fake.clear_faults();
    fake.clear_log();
    let pushed = push(&reg, NGINX);
    assert!(pushed.changed);
    assert_eq!(fake.tag(NGINX_REPO, "1.11.2"), Some(pushed.manifest_digest));
    let log = fake.log();
    assert_eq!(
        count(&log, Method::POST, "/blobs/uploads/"),
        0,
        "the blobs were there already"
    );
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
    let e = reg
        .push(Path::new(NGINX), &opts)
        .expect_err("cancelled while uploading");
    assert!(matches!(e, Error::Cancelled), "{e:?}");
    assert!(cancel.load(Ordering::SeqCst));
    assert!(fake.tags(NGINX_REPO).is_empty());
    assert_eq!(count(&fake.log(), Method::PUT, "/manifests/"), 0);
}

#[test]
fn lost_upload_answer_is_found_by_asking() {
    let (fake, reg) = open(Gate::Open, options());
    // The archive's PUT (after the config blob's) lands, but its answer is lost.
    let f = fake.fault(Fault::on(Method::PUT, "/blobs/uploads/", Act::LoseAnswer).after(1));
    let pushed = push(&reg, NGINX);
    assert_eq!(fake.fired(f), 1);
    let log = fake.log();
    assert_eq!(
        count(&log, Method::POST, "/blobs/uploads/"),
        2,
        "no second session: the registry had the blob"
    );
    assert_eq!(
        count(&log, Method::HEAD, &blob_path(&pushed)),
        2,
        "asked before and after"
    );
    assert_eq!(fake.tag(NGINX_REPO, "1.11.2"), Some(pushed.manifest_digest));
}

#[test]
fn archive_hashed_during_upload_drops_the_session_when_the_blob_exists() {
    let (fake, reg) = open(Gate::Open, chunked());
    let tmp = tempfile::tempdir().expect("tempdir");
    let built = crate::archive::build_archive(
        large_pack(tmp.path()),
        tmp.path(),
        &crate::archive::BuildOptions::default(),
    )
    .expect("build");
    // An archive pushed as is: its digest is computed while the upload runs.
    let opts = PushOptions::default().with_no_validate(true);
    let manifest = fake.fault(Fault::on(Method::PUT, "/manifests/", Act::Status(500)).always());
    reg.push(&built.path, &opts)
        .expect_err("the manifest is refused");
    assert!(
        fake.blob(NGINX_REPO, &built.digest).is_some(),
        "the archive went up"
    );
    assert!(fake.fired(manifest) > 0);
    fake.clear_faults();
    fake.clear_log();
    // The first chunk is slow, so the digest is known when it lands: the registry
    // has the blob, the new session is dropped.
    fake.fault(Fault::on(
        Method::PATCH,
        "/blobs/uploads/",
        Act::Stall(ms(200)),
    ));
    let pushed = reg.push(&built.path, &opts).expect("push again");
    assert_eq!(pushed.archive_digest, built.digest);
    let log = fake.log();
    assert_eq!(count(&log, Method::PATCH, "/blobs/uploads/"), 1, "{log:?}");
    assert_eq!(
        count(&log, Method::DELETE, "/blobs/uploads/"),
        1,
        "session dropped"
    );
    assert_eq!(count(&log, Method::PUT, "/blobs/uploads/"), 0);
    assert_eq!(fake.tag(NGINX_REPO, "1.11.2"), Some(pushed.manifest_digest));
    assert!(fake.state().uploads.is_empty(), "no session left open");
}

#[test]
fn cancel_reaches_a_stalled_upload_status_request() {
    let (fake, reg) = open(Gate::Open, chunked());
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = large_pack(tmp.path());
    // The second chunk fails; asking the registry how much it has then hangs.
    fake.fault(Fault::on(Method::PATCH, "/blobs/uploads/", Act::Status(500)).after(1));
    fake.fault(Fault::on(
        Method::GET,
        "/blobs/uploads/",
        Act::Stall(Duration::from_secs(30)),
    ));
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&cancel);
    let stalled = fake.clone();
    std::thread::spawn(move || {
        // Once the chunk failed (the client is then asking for the status).
        for _ in 0..2000 {
            let log = stalled.log();
            if log
                .iter()
                .any(|l| l.is(&Method::PATCH, "/blobs/uploads/") && l.status == Some(500))
            {
                break;
            }
            std::thread::sleep(ms(5));
        }
        std::thread::sleep(ms(100));
        flag.store(true, Ordering::SeqCst);
    });
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let opts = PushOptions::default().with_cancel(cancel);
        let _ = tx.send(reg.push(&dir, &opts).map(|p| p.manifest_digest));
    });
    let result = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the push still waits for the stalled request");
    assert!(matches!(result, Err(Error::Cancelled)), "{result:?}");
    assert!(fake.tags(NGINX_REPO).is_empty());
}

/// The stored archive hashes to the digest the push reported.
fn assert_stored(fake: &FakeRegistry, pushed: &PushOutcome) {
    let stored = fake
        .blob(NGINX_REPO, &pushed.archive_digest)
        .expect("archive stored");
    assert_eq!(
        crate::registry::oci::sha256_digest(&stored),
        pushed.archive_digest
    );
    assert_eq!(
        fake.tag(NGINX_REPO, "1.11.2").as_deref(),
        Some(pushed.manifest_digest.as_str())
    );
}

#[test]
fn a_server_error_on_the_streamed_put_is_retried_and_the_stored_blob_hashes_right() {
    let (fake, reg) = open(Gate::Open, chunked());
    fake.fault(Fault::on(Method::PATCH, "/blobs/uploads/", Act::Status(405)).always());
    // The config blob's PUT goes first; the archive's streamed PUT meets the 503.
    let f = fake.fault(Fault::on(Method::PUT, "/blobs/uploads/", Act::Status(503)).after(1));
    let tmp = tempfile::tempdir().expect("tempdir");
    let pushed = push(&reg, large_pack(tmp.path()).to_str().expect("utf-8"));
    assert_eq!(fake.fired(f), 1);
    let puts: Vec<(u64, Option<u16>)> = fake
        .log()
        .iter()
        .filter(|l| l.is(&Method::PUT, "/blobs/uploads/"))
        .map(|l| (l.body_len, l.status))
        .collect();
    assert_eq!(
        puts[1..],
        [(pushed.size, Some(503)), (pushed.size, Some(201))],
        "the whole archive, twice: {puts:?}"
    );
    assert_stored(&fake, &pushed);
}

#[test]
fn a_chunk_answered_416_resumes_from_the_registry_range_in_the_same_session() {
    let (fake, reg) = open(Gate::Open, chunked());
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = large_pack(tmp.path());
    // The third chunk (from byte 32768) is refused as out of range.
    let f = fake.fault(Fault::on(Method::PATCH, "/blobs/uploads/", Act::Status(416)).after(2));
    let pushed = push(&reg, dir.to_str().expect("utf-8"));
    assert_eq!(fake.fired(f), 1);
    let log = fake.log();
    let refused = log
        .iter()
        .position(|l| l.is(&Method::PATCH, "/blobs/uploads/") && l.status == Some(416))
        .expect("the 416");
    assert!(
        log[refused + 1].is(&Method::GET, "/blobs/uploads/")
            && log[refused + 1].status == Some(204),
        "the client asked the registry how much it has: {:?}",
        log[refused + 1]
    );
    let resumed = &log[refused + 2];
    assert!(resumed.is(&Method::PATCH, "/blobs/uploads/"), "{resumed:?}");
    assert_eq!(
        resumed
            .content_range
            .as_deref()
            .and_then(|r| r.split('-').next()),
        Some("32768"),
        "from where the registry's Range ends"
    );
    assert_eq!(
        count(&log, Method::POST, "/blobs/uploads/"),
        2,
        "config and archive: no second session"
    );
    assert_stored(&fake, &pushed);
}

#[test]
fn chunks_are_at_least_the_registry_chunk_min_length() {
    let (fake, reg) = open(Gate::Open, chunked());
    fake.fault(
        Fault::on(
            Method::POST,
            "/blobs/uploads/",
            Act::Header("oci-chunk-min-length", "40000".into()),
        )
        .always(),
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    let pushed = push(&reg, large_pack(tmp.path()).to_str().expect("utf-8"));
    let lens: Vec<u64> = fake
        .log()
        .iter()
        .filter(|l| l.is(&Method::PATCH, "/blobs/uploads/"))
        .map(|l| l.body_len)
        .collect();
    let (last, full) = lens.split_last().expect("chunks");
    assert!(!full.is_empty(), "several chunks: {lens:?}");
    assert!(
        full.iter().all(|&n| n == 40_000),
        "each chunk but the last as long as asked, not 16 KiB: {lens:?}"
    );
    assert!((1..=40_000).contains(last), "{lens:?}");
    assert_eq!(lens.iter().sum::<u64>(), pushed.size);
    assert_stored(&fake, &pushed);
}

#[test]
fn a_tag_replaced_right_after_our_manifest_is_a_concurrent_push_conflict() {
    let (fake, reg) = open(Gate::Open, options());
    // The re-check after the manifest PUT (HEAD of the tag) finds another manifest.
    let other = crate::registry::oci::sha256_digest(b"another client's manifest");
    let f = fake.fault(Fault::on(
        Method::HEAD,
        "/manifests/1.11.2",
        Act::Header("docker-content-digest", other.clone()),
    ));
    let e = reg
        .push(Path::new(NGINX), &PushOptions::default())
        .expect_err("the tag moved under us");
    assert_eq!(fake.fired(f), 1);
    assert!(matches!(e, Error::Conflict { .. }), "{e:?}");
    assert_eq!(e.kind(), ErrorKind::Conflict);
    let msg = e.to_string();
    assert!(msg.contains("concurrent push"), "{msg}");
    assert!(msg.contains(&other), "{msg}");
}
