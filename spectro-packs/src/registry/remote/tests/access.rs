//! Where requests and credentials go: Basic and Bearer authentication, token sharing
//! and renewal, redirects and upload locations (on other hosts, relative, or downgrading
//! to plain HTTP), refused deletes, catalog pagination and its page cap, and
//! cross-repository mounts (done or declined).

use std::path::Path;
use std::sync::Arc;

use reqwest::Method;

use super::{
    HELLO, NGINX, NGINX_REPO, assert_pulled, blob_path, client, count, large_pack, login, ms,
    nginx, open, options, pull, push,
};
use crate::ErrorKind;
use crate::registry::remote::fake::{
    AUTH_HOST, Act, Fault, Gate, Locations, Logged, REGISTRY_HOST,
};
use crate::registry::{
    BlobSource, PackRef, Progress, PushOptions, Registry, Store, TagOptions, Transfer,
};

#[test]
fn basic_auth_works_and_a_wrong_password_is_unauthenticated() {
    let (fake, reg) = open(
        Gate::Basic("alice".into(), "s3cret".into()),
        login("alice", "s3cret"),
    );
    let pushed = push(&reg, NGINX);
    let dest = tempfile::tempdir().expect("tempdir");
    assert_pulled(&pull(&reg, dest.path()).expect("pull"), &pushed, NGINX);
    assert!(
        fake.log()
            .iter()
            .any(|l| l.auth.as_deref() == Some("Basic"))
    );
    for opts in [login("alice", "wrong"), options()] {
        let e = client(&fake, opts).resolve(&nginx()).expect_err("refused");
        assert_eq!(e.kind(), ErrorKind::Unauthenticated, "{e}");
        assert_eq!(e.http_status(), Some(401));
    }
}

#[test]
fn credentials_never_go_to_a_redirect_host() {
    let (fake, reg) = open(
        Gate::Basic("alice".into(), "s3cret".into()),
        login("alice", "s3cret"),
    );
    let pushed = push(&reg, NGINX);
    fake.fault(Fault::on(
        Method::GET,
        &blob_path(&pushed),
        Act::Redirect("https://blobs.example".into()),
    ));
    let dest = tempfile::tempdir().expect("tempdir");
    let out = pull(&reg, dest.path()).expect("pull through the redirect");
    assert_pulled(&out, &pushed, NGINX);
    let log = fake.log();
    let away: Vec<&Logged> = log.iter().filter(|l| l.host == "blobs.example").collect();
    assert_eq!(away.len(), 1, "the blob came from the redirect host");
    assert!(away.iter().all(|l| l.auth.is_none()), "{away:?}");
    assert!(
        log.iter()
            .any(|l| l.host == REGISTRY_HOST && l.auth.is_some())
    );
}

#[test]
fn credentials_never_go_to_an_upload_location_on_another_host() {
    let (fake, reg) = open(
        Gate::Basic("alice".into(), "s3cret".into()),
        login("alice", "s3cret"),
    );
    fake.fault(
        Fault::on(
            Method::POST,
            "/blobs/uploads/",
            Act::RelocateUpload("https://uploads.example".into()),
        )
        .always(),
    );
    let pushed = push(&reg, NGINX);
    let log = fake.log();
    let away: Vec<&Logged> = log.iter().filter(|l| l.host == "uploads.example").collect();
    assert!(
        away.iter()
            .any(|l| l.method == Method::PUT && l.body_len == pushed.size),
        "{away:?}"
    );
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
    assert_pulled(
        &pull(&anonymous, dest.path()).expect("anonymous pull"),
        &pushed,
        NGINX,
    );
    let log = fake.log();
    let tokens: Vec<&Logged> = log.iter().filter(|l| l.host == AUTH_HOST).collect();
    assert!(
        !tokens.is_empty() && tokens.iter().all(|l| l.auth.is_none()),
        "{tokens:?}"
    );
    assert!(
        log.iter()
            .any(|l| l.host == REGISTRY_HOST && l.auth.as_deref() == Some("Bearer"))
    );
    let e = anonymous
        .push(Path::new(HELLO), &PushOptions::default())
        .expect_err("pull-only token");
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
    let found = fresh
        .store()
        .tag_digests(NGINX_REPO, &tags)
        .expect("lookups");
    assert_eq!(found.len(), 8);
    assert!(found.iter().all(|(_, d)| *d == pushed.manifest_digest));
    let log = fake.log();
    assert_eq!(
        log.iter().filter(|l| l.host == AUTH_HOST).count(),
        1,
        "{log:?}"
    );
    assert!(count(&log, Method::HEAD, "/manifests/") >= 8);
}

#[test]
fn untag_where_deletes_are_refused_keeps_both_tags() {
    let (fake, reg) = open(Gate::Open, options());
    fake.configure(|c| c.deletes = false);
    let pushed = push(&reg, NGINX);
    reg.tag(&nginx(), "stable", &TagOptions::default())
        .expect("tag");
    fake.clear_log();
    let stable = PackRef::exact("nginx", "stable").expect("reference");
    let e = reg.delete(&stable).expect_err("deletes are off");
    assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
    assert_eq!(
        fake.tag(NGINX_REPO, "stable"),
        Some(pushed.manifest_digest.clone())
    );
    assert_eq!(fake.tag(NGINX_REPO, "1.11.2"), Some(pushed.manifest_digest));
    assert_eq!(
        count(&fake.log(), Method::PUT, "/manifests/"),
        0,
        "nothing was moved"
    );
}

#[test]
fn untag_of_a_shared_tag_keeps_the_other() {
    let (fake, reg) = open(Gate::Open, options());
    let pushed = push(&reg, NGINX);
    reg.tag(&nginx(), "stable", &TagOptions::default())
        .expect("tag");
    reg.delete(&PackRef::exact("nginx", "stable").expect("reference"))
        .expect("untag");
    assert_eq!(fake.tags(NGINX_REPO), vec!["1.11.2".to_owned()]);
    assert_eq!(fake.tag(NGINX_REPO, "1.11.2"), Some(pushed.manifest_digest));
}

#[test]
fn untag_whose_placeholder_delete_finds_nothing_puts_the_tag_back() {
    let (fake, reg) = open(Gate::Open, options());
    let pushed = push(&reg, NGINX);
    reg.tag(&nginx(), "stable", &TagOptions::default())
        .expect("tag");
    // The first DELETE is the capability probe (404 = deletes work); the second, of the
    // placeholder, is answered 404 as by a replica that has not seen the PUT yet.
    fake.fault(Fault::on(Method::DELETE, "/manifests/", Act::Status(404)).after(1));
    let e = reg
        .delete(&PackRef::exact("nginx", "stable").expect("reference"))
        .expect_err("a delete that found nothing is no success");
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    assert_eq!(
        fake.tag(NGINX_REPO, "stable"),
        Some(pushed.manifest_digest.clone()),
        "the tag is back on the pack's manifest"
    );
    assert_eq!(fake.tag(NGINX_REPO, "1.11.2"), Some(pushed.manifest_digest));
}

#[test]
fn deleting_a_version_keeps_tags_that_are_no_versions_or_wildcards() {
    let (fake, reg) = open(Gate::Open, options());
    let pushed = push(&reg, NGINX);
    // A tag another tool wrote, which our references would not parse (`x` alone).
    let (_, bytes) = reg
        .store()
        .get_manifest(NGINX_REPO, "1.11.2")
        .expect("get")
        .expect("present");
    reg.store()
        .put_manifest(NGINX_REPO, "x", &bytes)
        .expect("tag x");
    reg.delete(&PackRef::exact("nginx", "1.11.2").expect("reference"))
        .expect("untag 1.11.2");
    assert_eq!(fake.tag(NGINX_REPO, "x"), Some(pushed.manifest_digest));
    assert_eq!(fake.tag(NGINX_REPO, "1.11.2"), None);
}

#[test]
fn catalog_pages_are_followed_on_the_registry_only() {
    let (fake, reg) = open(Gate::Open, options());
    fake.configure(|c| c.page_size = 1);
    push(&reg, NGINX);
    push(&reg, HELLO);
    fake.clear_log();
    let names: Vec<String> = reg
        .list(None)
        .expect("list")
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["hello-universe", "nginx"]);
    assert_eq!(
        count(&fake.log(), Method::GET, "/v2/_catalog"),
        2,
        "two pages of one"
    );
    let foreign = "<https://elsewhere.example/v2/_catalog?last=a&n=1>; rel=\"next\"".to_owned();
    fake.fault(Fault::on(
        Method::GET,
        "/v2/_catalog",
        Act::Header("link", foreign),
    ));
    let e = reg.list(None).expect_err("a Link to another origin");
    assert!(e.to_string().contains("another origin"), "{e}");
    assert!(fake.log().iter().all(|l| l.host != "elsewhere.example"));
}

#[test]
fn cross_repository_mount_sends_no_blob_bytes() {
    // Behind tokens: the mount needs `pull` on the source repository too.
    let gate = Gate::Bearer {
        login: Some(("bob".into(), "pw".into())),
        anonymous: false,
    };
    let (fake, reg) = open(gate, login("bob", "pw"));
    let pushed = push(&reg, NGINX);
    let tmp = tempfile::tempdir().expect("tempdir");
    let built =
        crate::archive::build_archive(NGINX, tmp.path(), &crate::archive::BuildOptions::default())
            .expect("build");
    assert_eq!(built.digest, pushed.archive_digest);
    let other = "mirror/spectro-packs/archive/nginx";
    fake.clear_log();
    let d = reg
        .store()
        .put_blob(
            other,
            BlobSource::File(&built.path),
            Some(&built.digest),
            &Transfer::default(),
        )
        .expect("mount");
    assert_eq!(d, (built.digest.clone(), built.size));
    let log = fake.log();
    assert!(
        log.iter()
            .any(|l| l.is(&Method::POST, "mount=") && l.status == Some(201)),
        "{log:?}"
    );
    assert_eq!(
        log.iter().map(|l| l.body_len).sum::<u64>(),
        0,
        "no bytes sent"
    );
    assert!(fake.blob(other, &built.digest).is_some());
}

#[test]
fn redirect_from_https_to_plain_http_is_refused() {
    let (fake, reg) = open(
        Gate::Basic("alice".into(), "s3cret".into()),
        login("alice", "s3cret"),
    );
    let pushed = push(&reg, NGINX);
    fake.fault(Fault::on(
        Method::GET,
        &blob_path(&pushed),
        Act::Redirect("http://blobs.example".into()),
    ));
    let dest = tempfile::tempdir().expect("tempdir");
    let e = pull(&reg, dest.path()).expect_err("a downgrade");
    assert!(e.to_string().contains("refusing redirect"), "{e}");
    assert!(fake.log().iter().all(|l| l.host != "blobs.example"));
}

#[test]
fn upload_location_downgrading_to_plain_http_is_refused() {
    let (fake, reg) = open(Gate::Open, options());
    fake.fault(
        Fault::on(
            Method::POST,
            "/blobs/uploads/",
            Act::RelocateUpload("http://uploads.example".into()),
        )
        .always(),
    );
    let e = reg
        .push(Path::new(NGINX), &PushOptions::default())
        .expect_err("a downgrade");
    assert!(e.to_string().contains("downgrades"), "{e}");
    assert!(fake.log().iter().all(|l| l.host != "uploads.example"));
    assert!(fake.tags(NGINX_REPO).is_empty());
}

#[test]
fn expired_token_is_fetched_again_once() {
    let gate = Gate::Bearer {
        login: Some(("bob".into(), "pw".into())),
        anonymous: false,
    };
    let (fake, reg) = open(gate, login("bob", "pw"));
    push(&reg, NGINX);
    fake.revoke_tokens();
    fake.clear_log();
    reg.resolve(&nginx()).expect("resolve with a renewed token");
    let log = fake.log();
    let tokens: Vec<&Logged> = log.iter().filter(|l| l.host == AUTH_HOST).collect();
    assert_eq!(tokens.len(), 1, "{log:?}");
    assert_eq!(
        tokens[0].auth.as_deref(),
        Some("Basic"),
        "the login went to the token service"
    );
    assert!(
        log.iter()
            .any(|l| l.host == REGISTRY_HOST && l.status == Some(401)),
        "the old token was refused first"
    );
}

#[test]
fn token_service_refusing_the_login_is_unauthenticated() {
    let gate = Gate::Bearer {
        login: Some(("bob".into(), "pw".into())),
        anonymous: false,
    };
    let (fake, reg) = open(gate, login("bob", "wrong"));
    let e = reg.ping().expect_err("bad login");
    assert_eq!(e.kind(), ErrorKind::Unauthenticated, "{e}");
    assert!(
        fake.log()
            .iter()
            .any(|l| l.host == AUTH_HOST && l.status == Some(401))
    );
    client(&fake, login("bob", "pw"))
        .ping()
        .expect("the right login");
}

#[test]
fn token_service_errors_are_retried() {
    let gate = Gate::Bearer {
        login: None,
        anonymous: true,
    };
    let (fake, reg) = open(gate, options());
    let f = fake.fault(Fault::on(Method::GET, "/token", Act::Status(503)).times(2));
    reg.ping().expect("ping after two token service errors");
    assert_eq!(fake.fired(f), 2);
    assert_eq!(fake.log().iter().filter(|l| l.host == AUTH_HOST).count(), 3);
}

#[test]
fn resume_through_a_redirect_keeps_the_range_and_the_credentials_home() {
    let (fake, reg) = open(
        Gate::Basic("alice".into(), "s3cret".into()),
        login("alice", "s3cret"),
    );
    let pushed = push(&reg, NGINX);
    let path = blob_path(&pushed);
    let cdn = "blobs.example";
    fake.fault(
        Fault::on(Method::GET, &path, Act::Redirect(format!("https://{cdn}")))
            .at(REGISTRY_HOST)
            .always(),
    );
    let half = pushed.size / 2;
    fake.fault(Fault::on(Method::GET, &path, Act::CutBody(half as usize)).at(cdn));
    fake.clear_log();
    let dest = tempfile::tempdir().expect("tempdir");
    let out = pull(&reg, dest.path()).expect("pull resumed at the redirect host");
    assert_pulled(&out, &pushed, NGINX);
    let log = fake.log();
    let at_cdn: Vec<&Logged> = log.iter().filter(|l| l.host == cdn).collect();
    assert_eq!(at_cdn.len(), 2, "{at_cdn:?}");
    assert_eq!(at_cdn[1].range, Some(format!("bytes={half}-")));
    assert_eq!(at_cdn[1].status, Some(206));
    assert!(at_cdn.iter().all(|l| l.auth.is_none()), "{at_cdn:?}");
}

#[test]
fn token_expiring_during_a_chunked_upload_is_renewed() {
    let gate = Gate::Bearer {
        login: Some(("bob".into(), "pw".into())),
        anonymous: false,
    };
    let (fake, reg) = open(
        gate,
        login("bob", "pw")
            .with_monolithic_max(16 << 10)
            .with_chunk_size(16 << 10),
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = large_pack(tmp.path());
    // Every chunk that lands expires the tokens issued so far.
    let expire = fake.clone();
    let opts = PushOptions::default().with_progress(Arc::new(move |p| {
        if matches!(p, Progress::Transfer { .. }) {
            expire.revoke_tokens();
        }
    }));
    let pushed = reg.push(&dir, &opts).expect("push across token expiries");
    let log = fake.log();
    let patches = count(&log, Method::PATCH, "/blobs/uploads/");
    assert!(
        log.iter()
            .filter(|l| l.is(&Method::PATCH, "/blobs/uploads/") && l.status == Some(401))
            .count()
            >= 2,
        "chunks met expired tokens: {patches} PATCHes"
    );
    assert_eq!(fake.tag(NGINX_REPO, "1.11.2"), Some(pushed.manifest_digest));
    let stored = fake
        .blob(NGINX_REPO, &pushed.archive_digest)
        .expect("archive stored");
    assert_eq!(
        crate::registry::oci::sha256_digest(&stored),
        pushed.archive_digest
    );
}

#[test]
fn relative_upload_locations_stay_on_the_registry_and_keep_the_session_query() {
    for style in [Locations::Path, Locations::Relative] {
        let (fake, reg) = open(
            Gate::Open,
            options()
                .with_monolithic_max(16 << 10)
                .with_chunk_size(16 << 10),
        );
        fake.configure(|c| c.locations = style);
        let tmp = tempfile::tempdir().expect("tempdir");
        let pushed = push(&reg, large_pack(tmp.path()).to_str().expect("utf-8"));
        let log = fake.log();
        let sent: Vec<&Logged> = log
            .iter()
            .filter(|l| l.method == Method::PATCH || l.is(&Method::PUT, "/blobs/"))
            .collect();
        assert!(
            sent.iter().filter(|l| l.method == Method::PATCH).count() > 2,
            "{style:?}: chunks: {sent:?}"
        );
        let session = format!("/v2/{NGINX_REPO}/blobs/uploads/session-");
        for l in &sent {
            assert_eq!(l.host, REGISTRY_HOST, "{style:?}: {l:?}");
            assert!(l.path.starts_with(&session), "{style:?}: {l:?}");
            assert_eq!(
                l.status,
                Some(if l.method == Method::PUT { 201 } else { 202 })
            );
        }
        let puts: Vec<&&Logged> = sent.iter().filter(|l| l.method == Method::PUT).collect();
        assert_eq!(puts.len(), 2, "{style:?}: config and archive: {puts:?}");
        for put in &puts {
            let query = put.path.split_once('?').map(|(_, q)| q).unwrap_or_default();
            let keys: Vec<String> = url::form_urlencoded::parse(query.as_bytes())
                .map(|(k, _)| k.into_owned())
                .collect();
            assert_eq!(keys, ["_state", "digest"], "{style:?}: {}", put.path);
        }
        let last = url::form_urlencoded::parse(
            puts[1].path.split_once('?').expect("a query").1.as_bytes(),
        )
        .find(|(k, _)| k == "digest")
        .map(|(_, v)| v.into_owned());
        assert_eq!(last.as_deref(), Some(pushed.archive_digest.as_str()));
        let stored = fake
            .blob(NGINX_REPO, &pushed.archive_digest)
            .expect("archive stored");
        assert_eq!(
            crate::registry::oci::sha256_digest(&stored),
            pushed.archive_digest
        );
        assert_eq!(fake.tag(NGINX_REPO, "1.11.2"), Some(pushed.manifest_digest));
    }
}

/// Pages followed for one tag list or catalog by default (`MAX_PAGES`, `list-pages`).
const PAGE_CAP: usize = 1000;

#[test]
fn a_listing_whose_next_page_is_itself_stops_at_the_page_cap() {
    let (fake, reg) = open(Gate::Open, options());
    push(&reg, NGINX);
    let itself = "</v2/_catalog?n=1000>; rel=\"next\"".to_owned();
    fake.fault(Fault::on(Method::GET, "/v2/_catalog", Act::Header("link", itself)).always());
    fake.clear_log();
    let e = reg.list(None).expect_err("an endless catalog");
    assert_eq!(e.kind(), ErrorKind::Protocol, "{e}");
    assert!(
        e.to_string()
            .contains(&format!("more than {PAGE_CAP} pages")),
        "{e}"
    );
    assert_eq!(count(&fake.log(), Method::GET, "/v2/_catalog"), PAGE_CAP);
    // The same for a tag list (`latest` reads it).
    let tags = format!("/v2/{NGINX_REPO}/tags/list");
    let itself = format!("<{tags}?n=1000>; rel=\"next\"");
    fake.fault(Fault::on(Method::GET, &tags, Act::Header("link", itself)).always());
    fake.clear_log();
    let latest = PackRef::parse("nginx").expect("reference");
    let e = reg.resolve(&latest).expect_err("an endless tag list");
    assert!(
        e.to_string()
            .contains(&format!("more than {PAGE_CAP} pages")),
        "{e}"
    );
    assert_eq!(count(&fake.log(), Method::GET, &tags), PAGE_CAP);
}

#[test]
fn a_mount_answered_202_goes_on_with_a_normal_upload() {
    let (fake, reg) = open(Gate::Open, options());
    let pushed = push(&reg, NGINX);
    let tmp = tempfile::tempdir().expect("tempdir");
    let built =
        crate::archive::build_archive(NGINX, tmp.path(), &crate::archive::BuildOptions::default())
            .expect("build");
    assert_eq!(built.digest, pushed.archive_digest);
    // The source repository lost the blob since this client saw it there: the registry
    // declines the mount and opens a session instead (202).
    fake.state()
        .repos
        .get_mut(NGINX_REPO)
        .expect("the pack's repository")
        .blobs
        .remove(&built.digest);
    let other = "mirror/spectro-packs/archive/nginx";
    fake.clear_log();
    let d = reg
        .store()
        .put_blob(
            other,
            BlobSource::File(&built.path),
            Some(&built.digest),
            &Transfer::default(),
        )
        .expect("uploaded after the declined mount");
    assert_eq!(d, (built.digest.clone(), built.size));
    let log = fake.log();
    let mount = log
        .iter()
        .position(|l| l.is(&Method::POST, "mount="))
        .expect("a mount was tried");
    assert_eq!(log[mount].status, Some(202));
    assert_eq!(
        count(&log, Method::POST, "/blobs/uploads/"),
        1,
        "the mount's session was used"
    );
    assert!(
        log[mount + 1..]
            .iter()
            .any(|l| l.is(&Method::PUT, "/blobs/uploads/")
                && l.body_len == built.size
                && l.status == Some(201)),
        "{log:?}"
    );
    let stored = fake.blob(other, &built.digest).expect("stored");
    assert_eq!(crate::registry::oci::sha256_digest(&stored), built.digest);
}
