//! Downloads: resumed with `Range` after a cut, restarted when the range is ignored or
//! answered wrong, retried after a stalled body, cancelled while stalled; corrupt,
//! mis-sized or mislabelled blobs refused with nothing left in the destination.

use super::*;

#[test]
fn stalled_download_body_times_out_and_is_retried() {
    let (fake, reg) = open(Gate::Open, options().with_timeout(ms(200)));
    let pushed = push(&reg, NGINX);
    let f = fake.fault(Fault::on(
        Method::GET,
        &blob_path(&pushed),
        Act::StallBody(Duration::from_secs(30)),
    ));
    fake.clear_log();
    let dest = tempfile::tempdir().expect("tempdir");
    let out = pull(&reg, dest.path()).expect("pull after a stalled body");
    assert_eq!(fake.fired(f), 1);
    assert_eq!(count(&fake.log(), Method::GET, &blob_path(&pushed)), 2);
    assert_pulled(&out, &pushed, NGINX);
}

#[test]
fn wrong_range_answer_restarts_the_download() {
    let (fake, reg) = open(Gate::Open, options());
    let pushed = push(&reg, NGINX);
    let path = blob_path(&pushed);
    fake.fault(Fault::on(
        Method::GET,
        &path,
        Act::CutBody(pushed.size as usize / 2),
    ));
    // The resume is answered 206 for bytes it did not ask for.
    let wrong = format!("bytes 1-{}/{}", pushed.size - 1, pushed.size);
    fake.fault(Fault::on(
        Method::GET,
        &path,
        Act::Header("content-range", wrong),
    ));
    fake.clear_log();
    let dest = tempfile::tempdir().expect("tempdir");
    let out = pull(&reg, dest.path()).expect("pull restarted after a wrong range");
    let ranges: Vec<Option<String>> = fake
        .log()
        .into_iter()
        .filter(|l| l.is(&Method::GET, &path))
        .map(|l| l.range)
        .collect();
    let resume = format!("bytes={}-", pushed.size / 2);
    assert_eq!(
        ranges,
        [None, Some(resume), None],
        "cut, bad resume, restart"
    );
    assert_pulled(&out, &pushed, NGINX);
}

#[test]
fn cut_download_resumes_with_range() {
    let (fake, reg) = open(Gate::Open, options());
    let pushed = push(&reg, NGINX);
    let half = pushed.size / 2;
    fake.fault(Fault::on(
        Method::GET,
        &blob_path(&pushed),
        Act::CutBody(half as usize),
    ));
    fake.clear_log();
    let dest = tempfile::tempdir().expect("tempdir");
    let out = pull(&reg, dest.path()).expect("pull resumed after a cut");
    let gets: Vec<Logged> = fake
        .log()
        .into_iter()
        .filter(|l| l.is(&Method::GET, &blob_path(&pushed)))
        .collect();
    assert_eq!(gets.len(), 2, "{gets:?}");
    assert_eq!(
        gets[1].range.as_deref(),
        Some(format!("bytes={half}-").as_str())
    );
    assert_eq!(gets[1].status, Some(206));
    assert_pulled(&out, &pushed, NGINX);
}

#[test]
fn ignored_range_restarts_from_zero() {
    let (fake, reg) = open(Gate::Open, options());
    let pushed = push(&reg, NGINX);
    let path = blob_path(&pushed);
    fake.fault(Fault::on(
        Method::GET,
        &path,
        Act::CutBody(pushed.size as usize / 2),
    ));
    let ignored = fake.fault(Fault::on(Method::GET, &path, Act::IgnoreRange).always());
    let dest = tempfile::tempdir().expect("tempdir");
    let out = pull(&reg, dest.path()).expect("pull restarted from byte 0");
    assert_eq!(
        fake.fired(ignored),
        1,
        "the resume asked for a range and got the whole blob"
    );
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
    assert!(
        is_empty_dir(dest.path()),
        "the destination was left as it was"
    );
}

#[test]
fn lying_content_length_is_refused() {
    let (fake, reg) = open(Gate::Open, options());
    let pushed = push(&reg, NGINX);
    let declared = (pushed.size + 4096).to_string();
    fake.fault(
        Fault::on(
            Method::GET,
            &blob_path(&pushed),
            Act::Header("content-length", declared),
        )
        .always(),
    );
    let dest = tempfile::tempdir().expect("tempdir");
    let e = pull(&reg, dest.path()).expect_err("a Content-Length the manifest disagrees with");
    assert_eq!(e.kind(), ErrorKind::Integrity, "{e}");
    assert!(is_empty_dir(dest.path()));
}

#[test]
fn cancelled_pull_stops_a_stalled_download() {
    let (fake, reg) = open(Gate::Open, options());
    let pushed = push(&reg, NGINX);
    // Left alone, the body would arrive after 5 s and the pull would succeed.
    fake.fault(Fault::on(
        Method::GET,
        &blob_path(&pushed),
        Act::StallBody(Duration::from_secs(5)),
    ));
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&cancel);
    std::thread::spawn(move || {
        std::thread::sleep(ms(100));
        flag.store(true, Ordering::SeqCst);
    });
    let dest = tempfile::tempdir().expect("tempdir");
    let e = reg
        .pull(
            &nginx(),
            dest.path(),
            &PullOptions::default().with_cancel(cancel),
        )
        .expect_err("cancelled");
    assert!(matches!(e, Error::Cancelled), "{e:?}");
    assert!(is_empty_dir(dest.path()));
}

#[test]
fn drops_after_progress_do_not_spend_the_retry_budget() {
    // One retry allowed, but each drop comes after 40 000 new bytes (more than the
    // progress quantum), so the budget restarts every time.
    let retry = RetryPolicy::default()
        .with_max_retries(1)
        .with_base_delay(ms(1))
        .with_max_delay(ms(10));
    let (fake, reg) = open(Gate::Open, options().with_retry(retry));
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = large_pack(tmp.path());
    let pushed = push(&reg, dir.to_str().expect("utf-8"));
    let path = blob_path(&pushed);
    fake.fault(Fault::on(Method::GET, &path, Act::CutBody(40_000)).always());
    fake.clear_log();
    let dest = tempfile::tempdir().expect("tempdir");
    let out = pull(&reg, dest.path()).expect("pull through three drops");
    assert!(count(&fake.log(), Method::GET, &path) >= 3);
    assert_pulled(&out, &pushed, dir.to_str().expect("utf-8"));
}

#[test]
fn drops_without_progress_give_up() {
    let (fake, reg) = open(Gate::Open, options());
    let pushed = push(&reg, NGINX);
    let path = blob_path(&pushed);
    // 100 bytes per connection: never a quantum of progress.
    fake.fault(Fault::on(Method::GET, &path, Act::CutBody(100)).always());
    fake.clear_log();
    let dest = tempfile::tempdir().expect("tempdir");
    let e = pull(&reg, dest.path()).expect_err("a registry that keeps dropping");
    assert_eq!(e.kind(), ErrorKind::Transport, "{e}");
    assert_eq!(
        count(&fake.log(), Method::GET, &path),
        5,
        "the first try and four retries"
    );
    assert!(is_empty_dir(dest.path()));
}

#[test]
fn a_blob_body_longer_than_its_descriptor_is_refused_and_leaves_nothing() {
    let (fake, reg) = open(Gate::Open, options());
    let pushed = push(&reg, NGINX);
    // The right bytes, then more, with no Content-Length to warn of them.
    fake.fault(Fault::on(Method::GET, &blob_path(&pushed), Act::Trailing(4096)).always());
    let dest = tempfile::tempdir().expect("tempdir");
    let e = pull(&reg, dest.path()).expect_err("a body past the descriptor's size");
    assert!(matches!(e, Error::DigestMismatch { .. }), "{e:?}");
    assert!(e.to_string().contains("more bytes than"), "{e}");
    assert!(is_empty_dir(dest.path()));
}

#[test]
fn a_blob_whose_digest_header_names_another_blob_is_refused_and_leaves_nothing() {
    let (fake, reg) = open(Gate::Open, options());
    let pushed = push(&reg, NGINX);
    let other = crate::registry::oci::sha256_digest(b"another blob");
    fake.fault(
        Fault::on(
            Method::GET,
            &blob_path(&pushed),
            Act::Header("docker-content-digest", other.clone()),
        )
        .always(),
    );
    fake.clear_log();
    let dest = tempfile::tempdir().expect("tempdir");
    let e = pull(&reg, dest.path()).expect_err("the registry says it sent another blob");
    match &e {
        Error::DigestMismatch {
            expected, actual, ..
        } => {
            assert_eq!(*expected, pushed.archive_digest);
            assert_eq!(*actual, other);
        }
        _ => panic!("{e:?}"),
    }
    assert!(is_empty_dir(dest.path()));
    assert_eq!(
        count(&fake.log(), Method::GET, &blob_path(&pushed)),
        1,
        "not asked again"
    );
}
