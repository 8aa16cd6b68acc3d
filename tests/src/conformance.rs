//! The registry conformance suite every backend runs, one function per behaviour, and a
//! storage-level suite every [`Store`] runs; plus their fixture helpers.
//!
//! [`conformance_suite!`](crate::conformance_suite) turns the behaviours into one
//! `#[test]` each for a backend, so a failure names the behaviour and the backend.
#![allow(clippy::missing_panics_doc)]

use std::fs;
use std::path::Path;

use spectro_packs::Error;
use spectro_packs::registry::{
    BlobSource, PackRef, PullOptions, PushOptions, Registry, Selector, Store, Transfer, oci,
};

use crate::fixtures;

pub fn pack(name: &str) -> std::path::PathBuf {
    fixtures().join("packs/valid").join(name)
}

/// Copy a fixture pack and set its version.
pub fn versioned(name: &str, version: &str, into: &Path) -> std::path::PathBuf {
    let dst = into.join(format!("{name}-{version}"));
    copy_tree(&pack(name), &dst);
    let pj = dst.join("pack.json");
    let mut v: serde_json::Value = serde_json::from_str(&fs::read_to_string(&pj).unwrap()).unwrap();
    v["version"] = serde_json::Value::String(version.to_owned());
    fs::write(&pj, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    dst
}

pub fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &dst);
        } else {
            fs::copy(e.path(), &dst).unwrap();
        }
    }
}

fn r(s: &str) -> PackRef {
    PackRef::parse(s).unwrap()
}

/// Three nginx versions and the hello-universe archive pushed; returns the work folder
/// and the built archive.
fn seed(reg: &dyn Registry) -> (tempfile::TempDir, spectro_packs::archive::BuiltArchive) {
    let work = tempfile::tempdir().unwrap();
    for v in ["1.10.0", "1.11.2", "2.0.0"] {
        reg.push(
            &versioned("nginx-chart", v, work.path()),
            &PushOptions::default(),
        )
        .unwrap();
    }
    let built = spectro_packs::archive::build_archive(
        versioned("hello-universe", "1.3.1", work.path()),
        work.path(),
        &Default::default(),
    )
    .unwrap();
    reg.push(&built.path, &PushOptions::default()).unwrap();
    (work, built)
}

/// Push: new, up to date (same digest, nothing written), different content refused,
/// `force` replaces.
pub fn push_is_idempotent_and_force_replaces(reg: &dyn Registry) {
    let work = tempfile::tempdir().unwrap();
    let v1 = versioned("nginx-chart", "1.10.0", work.path());
    let a = reg.push(&v1, &PushOptions::default()).unwrap();
    assert!(a.changed && a.reference.to_string() == "nginx:1.10.0");
    let again = reg.push(&v1, &PushOptions::default()).unwrap();
    assert!(!again.changed, "same content must be 'up to date'");
    assert_eq!(again.manifest_digest, a.manifest_digest);
    fs::write(
        v1.join("values.yaml"),
        fs::read_to_string(v1.join("values.yaml")).unwrap() + "# changed\n",
    )
    .unwrap();
    match reg.push(&v1, &PushOptions::default()) {
        Err(e @ Error::AlreadyExists { .. }) => {
            assert_eq!(e.reference(), Some("nginx:1.10.0"));
            assert_eq!(e.kind(), spectro_packs::ErrorKind::AlreadyExists);
        }
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    let forced = reg
        .push(&v1, &PushOptions::default().with_force(true))
        .unwrap();
    assert!(forced.changed && forced.manifest_digest != a.manifest_digest);
    assert_eq!(
        reg.resolve(&r("nginx:1.10.0")).unwrap().manifest_digest,
        forced.manifest_digest
    );
}

/// An archive pushes as it is (byte for byte), name and version from its pack.json.
pub fn archives_push_byte_for_byte(reg: &dyn Registry) {
    let (_work, built) = seed(reg);
    let dest = tempfile::tempdir().unwrap();
    let arch = reg
        .pull(
            &r("hello-universe:1.3.1"),
            dest.path(),
            &PullOptions::default().with_archive_only(true),
        )
        .unwrap();
    assert_eq!(arch.archive_digest, built.digest);
    assert_eq!(
        fs::read(&arch.path).unwrap(),
        fs::read(&built.path).unwrap()
    );
}

/// Resolve: exact tag, latest, wildcards (one grammar with profiles), digest; the
/// manifest has Palette's (ORAS 1.0.0) shape.
pub fn resolve_tags_latest_wildcards_and_digests(reg: &dyn Registry) {
    let _seeded = seed(reg);
    let version = |s: &str| reg.resolve(&r(s)).unwrap().version;
    assert_eq!(version("nginx").as_deref(), Some("2.0.0"));
    assert_eq!(version("nginx:1.x").as_deref(), Some("1.11.2"));
    assert_eq!(version("nginx:1.10.x").as_deref(), Some("1.10.0"));
    assert_eq!(version("nginx:LTS__1.11.x").as_deref(), Some("1.11.2"));
    let by_tag = reg.resolve(&r("nginx:1.11.2")).unwrap();
    let by_digest = reg
        .resolve(&r(&format!("nginx@{}", by_tag.manifest_digest)))
        .unwrap();
    assert_eq!(by_digest.manifest, by_tag.manifest);
    assert_eq!(by_digest.version.as_deref(), Some("1.11.2"));
    let m = &by_tag.manifest;
    assert_eq!(m.config.media_type, oci::UNKNOWN_CONFIG_MEDIA_TYPE);
    assert_eq!(m.config.digest, oci::sha256_digest(oci::CONFIG_BLOB));
    assert_eq!(m.layers.len(), 1);
    assert_eq!(m.layers[0].media_type, oci::LAYER_MEDIA_TYPE);
    assert_eq!(m.title(), Some("nginx-1.11.2.tar.gz"));
    assert_eq!(r("nginx:1.x").selector, Selector::Wildcard("1.x".into()));
}

/// What is not there is `PackNotFound`, of kind NotFound, for every selector.
pub fn missing_references_are_not_found(reg: &dyn Registry) {
    let _seeded = seed(reg);
    for missing in [
        "nginx:9.9.9",
        "nginx:3.x",
        "absent",
        "absent:1.0.0",
        &format!("nginx@sha256:{}", "0".repeat(64)),
    ] {
        match reg.resolve(&r(missing)) {
            Err(e @ Error::PackNotFound { .. }) => {
                assert_eq!(e.kind(), spectro_packs::ErrorKind::NotFound, "{missing}")
            }
            other => panic!("{missing}: expected PackNotFound, got {other:?}"),
        }
    }
}

/// List: every pack, filtered by a substring, versions highest first.
pub fn list_filters_and_orders_versions(reg: &dyn Registry) {
    let _seeded = seed(reg);
    let all = reg.list(None).unwrap();
    let names: Vec<&str> = all.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["hello-universe", "nginx"]);
    let nginx = reg.list(Some("ngi")).unwrap();
    assert_eq!(nginx.len(), 1);
    let versions: Vec<&str> = nginx[0]
        .versions
        .iter()
        .map(|v| v.version.as_str())
        .collect();
    assert_eq!(versions, ["2.0.0", "1.11.2", "1.10.0"]);
    assert!(reg.list(Some("absent")).unwrap().is_empty());
}

/// Pull: verified extraction, an existing destination refused, archive only, and no
/// temporary file left behind.
pub fn pull_extracts_or_keeps_the_archive(reg: &dyn Registry) {
    let _seeded = seed(reg);
    let dest = tempfile::tempdir().unwrap();
    let out = reg
        .pull(&r("nginx:1.x"), dest.path(), &PullOptions::default())
        .unwrap();
    assert_eq!(out.version, "1.11.2");
    assert!(out.path.join("pack.json").is_file());
    assert!(matches!(
        reg.pull(&r("nginx:1.x"), dest.path(), &PullOptions::default()),
        Err(Error::Archive { .. })
    ));
    let over = reg
        .pull(
            &r("nginx:1.10.0"),
            dest.path(),
            &PullOptions::default().with_overwrite(true),
        )
        .unwrap();
    assert_eq!(over.version, "1.10.0");
    let leftovers: Vec<_> = fs::read_dir(dest.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
}

/// Tag and untag: a new tag points at the same manifest; removing it keeps the version;
/// moving a tag needs `force`; versions and patterns are refused as new tags.
pub fn tag_and_untag_keep_other_tags(reg: &dyn Registry) {
    let _seeded = seed(reg);
    let by_tag = reg.resolve(&r("nginx:1.11.2")).unwrap();
    reg.tag(&r("nginx:1.11.2"), "stable", &Default::default())
        .unwrap();
    assert_eq!(
        reg.resolve(&r("nginx:stable")).unwrap().manifest_digest,
        by_tag.manifest_digest
    );
    assert!(matches!(
        reg.tag(&r("nginx:2.0.0"), "stable", &Default::default()),
        Err(Error::AlreadyExists { .. })
    ));
    for bad in ["3.0.0", "1.x"] {
        assert!(
            reg.tag(&r("nginx:2.0.0"), bad, &Default::default())
                .is_err()
        );
    }
    reg.delete(&r("nginx:stable")).unwrap();
    assert!(
        reg.resolve(&r("nginx:1.11.2")).is_ok(),
        "deleting a tag keeps other tags"
    );
    assert!(matches!(
        reg.resolve(&r("nginx:stable")),
        Err(Error::PackNotFound { .. })
    ));
}

/// Delete: exact versions and digests only; deleting the last version leaves no pack.
pub fn delete_takes_exact_references(reg: &dyn Registry) {
    let _seeded = seed(reg);
    assert!(reg.delete(&r("nginx")).is_err(), "delete needs a version");
    assert!(reg.delete(&r("nginx:1.x")).is_err(), "no patterns");
    let by_tag = reg.resolve(&r("nginx:1.11.2")).unwrap();
    reg.delete(&r(&format!("nginx@{}", by_tag.manifest_digest)))
        .unwrap();
    assert!(matches!(
        reg.resolve(&r("nginx:1.11.2")),
        Err(Error::PackNotFound { .. })
    ));
    assert!(matches!(
        reg.delete(&r("nginx:1.11.2")),
        Err(Error::PackNotFound { .. })
    ));
    reg.delete(&r("nginx:1.10.0")).unwrap();
    reg.delete(&r("nginx:2.0.0")).unwrap();
    assert!(reg.list(Some("nginx")).unwrap().is_empty());
    assert_eq!(reg.list(None).unwrap().len(), 1, "hello-universe stays");
}

/// Inspect: pack.json from the start of the archive, without a pull.
pub fn inspect_reads_pack_json(reg: &dyn Registry) {
    let _seeded = seed(reg);
    let found = reg.inspect(&r("nginx:1.x")).unwrap();
    assert_eq!(found.resolved.version.as_deref(), Some("1.11.2"));
    assert_eq!(found.pack_json["name"], "nginx");
    assert_eq!(found.pack.version.as_deref(), Some("1.11.2"));
    assert!(matches!(
        reg.inspect(&r("nginx:9.9.9")),
        Err(Error::PackNotFound { .. })
    ));
}

/// One `#[test]` per conformance behaviour for a backend. `$make` is an expression
/// giving `Option<(Box<dyn Registry>, G)>` (`None` skips, e.g. no test registry; `G`
/// keeps whatever the registry needs alive, such as a temp dir).
#[macro_export]
macro_rules! conformance_suite {
    ($suite:ident, $make:expr) => {
        mod $suite {
            #[allow(unused_imports)]
            use super::*;
            $crate::conformance_suite!(@tests $make;
                push_is_idempotent_and_force_replaces,
                archives_push_byte_for_byte,
                resolve_tags_latest_wildcards_and_digests,
                missing_references_are_not_found,
                list_filters_and_orders_versions,
                pull_extracts_or_keeps_the_archive,
                tag_and_untag_keep_other_tags,
                delete_takes_exact_references,
                inspect_reads_pack_json);
        }
    };
    (@tests $make:expr; $($behaviour:ident),*) => {
        $(
            #[test]
            fn $behaviour() {
                if let Some((reg, _keep)) = $make {
                    $crate::conformance::$behaviour(&*reg);
                }
            }
        )*
    };
}

/// The storage-level suite every [`Store`] passes: blobs (idempotent, verified, sizes),
/// manifests only over stored blobs, tags, listings, delete, garbage collection.
pub fn store_suite(store: &dyn Store, repo: &str) {
    let t = Transfer::default();
    let blob = b"hello, blob".as_slice();
    let digest = oci::sha256_digest(blob);
    assert!(!store.has_blob(repo, &digest).unwrap());
    assert_eq!(
        store
            .put_blob(repo, BlobSource::Bytes(blob), None, &t)
            .unwrap(),
        (digest.clone(), blob.len() as u64)
    );
    assert_eq!(
        store
            .put_blob(repo, BlobSource::Bytes(blob), Some(&digest), &t)
            .unwrap(),
        (digest.clone(), blob.len() as u64),
        "putting again is a no-op"
    );
    assert!(store.has_blob(repo, &digest).unwrap());
    // A wrong digest is refused and stores nothing under either digest.
    let other = b"other bytes".as_slice();
    let e = store
        .put_blob(
            repo,
            BlobSource::Bytes(other),
            Some(&oci::sha256_digest(b"x")),
            &t,
        )
        .unwrap_err();
    assert_eq!(e.kind(), spectro_packs::ErrorKind::Integrity, "{e}");
    assert!(!store.has_blob(repo, &oci::sha256_digest(other)).unwrap());
    // Reading back checks size and digest.
    let mut out = tempfile::tempfile().unwrap();
    let desc = oci::Descriptor::new("application/octet-stream", &digest, blob.len() as u64);
    store.get_blob(repo, &desc, &mut out, &t).unwrap();
    let lying = oci::Descriptor::new("application/octet-stream", &digest, 3);
    assert!(
        store
            .get_blob(repo, &lying, &mut tempfile::tempfile().unwrap(), &t)
            .is_err(),
        "a size that differs from the blob's is refused"
    );
    // A manifest needs its blobs.
    let config = store
        .put_blob(repo, BlobSource::Bytes(oci::CONFIG_BLOB), None, &t)
        .unwrap();
    assert_eq!(config.0, oci::sha256_digest(oci::CONFIG_BLOB));
    let missing = oci::Manifest::for_pack(&oci::sha256_digest(b"absent"), 6, "x.tar.gz", "");
    assert!(
        store
            .put_manifest(repo, "broken", &serde_json::to_vec(&missing).unwrap())
            .is_err(),
        "a manifest over a missing blob is refused"
    );
    let manifest = oci::Manifest::for_pack(&digest, blob.len() as u64, "x.tar.gz", "");
    let bytes = serde_json::to_vec(&manifest).unwrap();
    let md = store.put_manifest(repo, "1.0.0", &bytes).unwrap();
    assert_eq!(md, oci::sha256_digest(&bytes));
    assert_eq!(
        store.get_manifest(repo, "1.0.0").unwrap(),
        Some((md.clone(), bytes.clone()))
    );
    assert_eq!(store.get_manifest(repo, &md).unwrap().unwrap().0, md);
    assert_eq!(
        store.head_manifest(repo, "1.0.0").unwrap(),
        Some(md.clone())
    );
    assert_eq!(store.get_manifest(repo, "9.9.9").unwrap(), None);
    store.put_manifest(repo, "stable", &bytes).unwrap();
    let mut tags = store.tags(repo).unwrap().unwrap();
    tags.sort();
    assert_eq!(tags, ["1.0.0", "stable"]);
    let prefix = format!("{}/", repo.rsplit_once('/').map_or("", |(p, _)| p));
    let repos = store.repositories(&prefix).unwrap();
    if let Some(repos) = repos {
        assert!(repos.iter().any(|r| r == repo), "{repo} not in {repos:?}");
    }
    let mut read = String::new();
    std::io::Read::read_to_string(&mut store.open_blob(repo, &desc).unwrap(), &mut read).unwrap();
    assert_eq!(read.as_bytes(), blob);
    // Delete removes the manifest and its tags; then GC may drop the blobs.
    if store.supports_delete(repo).unwrap() {
        assert!(store.delete_manifest(repo, &md).unwrap());
        assert!(!store.delete_manifest(repo, &md).unwrap(), "already gone");
        assert_eq!(store.get_manifest(repo, "stable").unwrap(), None);
        store.collect_garbage(repo).unwrap();
    }
    assert!(
        store
            .tags("spectro-packs/archive/never-pushed")
            .unwrap()
            .is_none()
    );
    assert!(
        store.has_blob("../escape", &digest).is_err(),
        "repository names are checked"
    );
}
