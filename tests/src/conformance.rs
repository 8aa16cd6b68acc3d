//! The registry conformance suite every backend runs, and its fixture helpers.
#![allow(clippy::missing_panics_doc)]

use std::fs;
use std::path::Path;

use spectro_packs::Error;
use spectro_packs::registry::{PackRef, PullOptions, PushOptions, Registry, Selector};

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

/// The shared conformance suite: every backend runs exactly this.
pub fn conformance(reg: &dyn Registry) {
    let work = tempfile::tempdir().unwrap();
    let v1 = versioned("nginx-chart", "1.10.0", work.path());
    let v2 = versioned("nginx-chart", "1.11.2", work.path());
    let v3 = versioned("nginx-chart", "2.0.0", work.path());

    // push: new, up to date, conflicting content, force
    let a = reg.push(&v1, &PushOptions::default()).unwrap();
    assert!(a.changed && a.reference.to_string() == "nginx:1.10.0");
    let again = reg.push(&v1, &PushOptions::default()).unwrap();
    assert!(!again.changed, "same content must be 'up to date'");
    assert_eq!(again.manifest_digest, a.manifest_digest);
    reg.push(&v2, &PushOptions::default()).unwrap();
    reg.push(&v3, &PushOptions::default()).unwrap();
    fs::write(
        v1.join("values.yaml"),
        fs::read_to_string(v1.join("values.yaml")).unwrap() + "# changed\n",
    )
    .unwrap();
    match reg.push(&v1, &PushOptions::default()) {
        Err(Error::AlreadyExists { reference, .. }) => assert_eq!(reference, "nginx:1.10.0"),
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    let mut force = PushOptions::default();
    force.force = true;
    let forced = reg.push(&v1, &force).unwrap();
    assert!(forced.changed && forced.manifest_digest != a.manifest_digest);

    // archives push too, name/version from pack.json inside
    let built = spectro_packs::archive::build_archive(
        versioned("hello-universe", "1.3.1", work.path()),
        work.path(),
        &Default::default(),
    )
    .unwrap();
    let pushed = reg.push(&built.path, &PushOptions::default()).unwrap();
    assert_eq!(pushed.reference.to_string(), "hello-universe:1.3.1");
    assert_eq!(
        pushed.archive_digest, built.digest,
        "the archive is stored byte for byte"
    );

    // resolve: tag, latest, wildcard, digest
    assert_eq!(
        reg.resolve(&r("nginx")).unwrap().version.as_deref(),
        Some("2.0.0")
    );
    assert_eq!(
        reg.resolve(&r("nginx:1.x")).unwrap().version.as_deref(),
        Some("1.11.2")
    );
    assert_eq!(
        reg.resolve(&r("nginx:1.10.x")).unwrap().version.as_deref(),
        Some("1.10.0")
    );
    let by_tag = reg.resolve(&r("nginx:1.11.2")).unwrap();
    let by_digest = reg
        .resolve(&r(&format!("nginx@{}", by_tag.manifest_digest)))
        .unwrap();
    assert_eq!(by_digest.manifest, by_tag.manifest);
    // Palette's shape
    let m = &by_tag.manifest;
    assert_eq!(
        m.config.media_type,
        "application/vnd.unknown.config.v1+json"
    );
    assert_eq!(m.layers.len(), 1);
    assert_eq!(
        m.layers[0].media_type,
        "application/vnd.oci.image.layer.v1.tar"
    );
    assert_eq!(m.title(), Some("nginx-1.11.2.tar.gz"));
    assert!(matches!(
        reg.resolve(&r("nginx:9.9.9")),
        Err(Error::PackNotFound { .. })
    ));
    assert!(matches!(
        reg.resolve(&r("absent")),
        Err(Error::PackNotFound { .. })
    ));

    // list
    let all = reg.list(None).unwrap();
    let names: Vec<&str> = all.iter().map(|p| p.name.as_str()).collect();
    assert!(names.contains(&"nginx") && names.contains(&"hello-universe"));
    let nginx = reg.list(Some("ngi")).unwrap();
    assert_eq!(nginx.len(), 1);
    let versions: Vec<&str> = nginx[0]
        .versions
        .iter()
        .map(|v| v.version.as_str())
        .collect();
    assert_eq!(versions, ["2.0.0", "1.11.2", "1.10.0"]);

    // pull: extract (verified), archive only, existing destination
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
    let mut ao = PullOptions::default();
    ao.archive_only = true;
    let arch = reg
        .pull(&r("hello-universe:1.3.1"), dest.path(), &ao)
        .unwrap();
    assert_eq!(
        fs::read(&arch.path).unwrap(),
        fs::read(&built.path).unwrap()
    );
    let leftovers: Vec<_> = fs::read_dir(dest.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");

    // tag and delete
    reg.tag(&r("nginx:1.11.2"), "stable", &Default::default())
        .unwrap();
    assert_eq!(
        reg.resolve(&r("nginx:stable")).unwrap().manifest_digest,
        by_tag.manifest_digest
    );
    reg.delete(&r("nginx:stable")).unwrap();
    assert!(
        reg.resolve(&r("nginx:1.11.2")).is_ok(),
        "deleting a tag keeps other tags"
    );
    reg.delete(&r(&format!("nginx@{}", by_tag.manifest_digest)))
        .unwrap();
    assert!(matches!(
        reg.resolve(&r("nginx:1.11.2")),
        Err(Error::PackNotFound { .. })
    ));
    assert!(reg.delete(&r("nginx")).is_err(), "delete needs a version");
    reg.delete(&r("nginx:1.10.0")).unwrap();
    reg.delete(&r("nginx:2.0.0")).unwrap();
    assert!(reg.list(Some("nginx")).unwrap().is_empty());
    assert_eq!(r("nginx:1.x").selector, Selector::Wildcard("1.x".into()));
}
