//! Registry backends: one conformance suite every backend must pass, plus layout-specific
//! safety (locking, corrupt or hostile layouts) and interop with skopeo and umoci.
#![allow(clippy::print_stderr)] // skip messages

use std::fs;
use std::path::Path;
use std::process::Command;

use spectro_packs::Error;
use spectro_packs::registry::{LayoutRegistry, PackRef, PullOptions, PushOptions, Registry};

use spectro_packs::registry::{LayoutStore, MemoryStore, PackRegistry};
use spectro_tests::conformance::{pack, store_suite, versioned};
use spectro_tests::conformance_suite;

fn r(s: &str) -> PackRef {
    PackRef::parse(s).unwrap()
}

conformance_suite!(layout, {
    let root = tempfile::tempdir().unwrap();
    let reg: Box<dyn Registry> = Box::new(LayoutRegistry::open(root.path()).unwrap());
    Some((reg, root))
});

conformance_suite!(memory, {
    let reg: Box<dyn Registry> = Box::new(PackRegistry::new(MemoryStore::new(), "base"));
    Some((reg, ()))
});

#[test]
fn layout_store_passes_the_store_suite() {
    let root = tempfile::tempdir().unwrap();
    store_suite(
        &LayoutStore::new(root.path()),
        "spectro-packs/archive/blobby",
    );
}

#[test]
fn memory_store_passes_the_store_suite() {
    store_suite(&MemoryStore::new(), "base/spectro-packs/archive/blobby");
    store_suite(
        &MemoryStore::without_delete(),
        "base/spectro-packs/archive/blobby",
    );
}

#[test]
fn layout_concurrent_pushes_are_serialised() {
    let root = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let dirs: Vec<_> = (0..6)
        .map(|i| versioned("nginx-chart", &format!("1.0.{i}"), work.path()))
        .collect();
    std::thread::scope(|s| {
        for d in &dirs {
            let root = root.path().to_path_buf();
            s.spawn(move || {
                LayoutRegistry::open(&root)
                    .unwrap()
                    .push(d, &PushOptions::default())
                    .unwrap()
            });
        }
    });
    let reg = LayoutRegistry::open(root.path()).unwrap();
    assert_eq!(
        reg.list(None).unwrap()[0].versions.len(),
        6,
        "no index.json update may be lost"
    );
}

#[test]
fn hostile_and_corrupt_layouts_are_refused() {
    let root = tempfile::tempdir().unwrap();
    let reg = LayoutRegistry::open(root.path()).unwrap();
    reg.push(&pack("nginx-chart"), &PushOptions::default())
        .unwrap();
    let layout = reg.layout_dir("nginx");
    let index_path = layout.join("index.json");
    let good = fs::read_to_string(&index_path).unwrap();
    // A digest that would escape the blobs directory.
    let v: serde_json::Value = serde_json::from_str(&good).unwrap();
    let real = v["manifests"][0]["digest"].as_str().unwrap().to_owned();
    fs::write(
        &index_path,
        good.replace(&real, "sha256:../../../../etc/passwd"),
    )
    .unwrap();
    assert!(matches!(
        reg.resolve(&r("nginx:1.11.2")),
        Err(Error::CorruptRegistry { .. })
    ));
    // A tampered archive blob fails digest verification on pull, leaving nothing behind.
    fs::write(&index_path, &good).unwrap();
    let m = reg.resolve(&r("nginx:1.11.2")).unwrap().manifest;
    let blob = layout.join("blobs/sha256").join(&m.layers[0].digest[7..]);
    let mut bytes = fs::read(&blob).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    fs::write(&blob, &bytes).unwrap();
    let dest = tempfile::tempdir().unwrap();
    assert!(matches!(
        reg.pull(&r("nginx:1.11.2"), dest.path(), &PullOptions::default()),
        Err(Error::DigestMismatch { .. })
    ));
    assert_eq!(fs::read_dir(dest.path()).unwrap().count(), 0);
    // A missing blob is reported, not a panic.
    fs::remove_file(&blob).unwrap();
    assert!(
        reg.pull(&r("nginx:1.11.2"), dest.path(), &PullOptions::default())
            .is_err()
    );
    // A damaged index.json is a clear error.
    fs::write(&index_path, "{not json").unwrap();
    assert!(matches!(reg.list(None), Err(Error::CorruptRegistry { .. })));
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn layouts_are_readable_by_skopeo_and_umoci() {
    let root = tempfile::tempdir().unwrap();
    let reg = LayoutRegistry::open(root.path()).unwrap();
    let pushed = reg
        .push(&pack("nginx-chart"), &PushOptions::default())
        .unwrap();
    let layout = reg.layout_dir("nginx");
    if have("umoci") {
        let out = Command::new("umoci")
            .args(["ls", "--layout"])
            .arg(&layout)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "1.11.2");
    } else {
        eprintln!("SKIP: umoci not installed");
    }
    if have("skopeo") {
        let out = Command::new("skopeo")
            .arg("inspect")
            .arg("--raw")
            .arg(format!("oci:{}:1.11.2", layout.display()))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let digest = format!("sha256:{}", sha256_hex(&out.stdout));
        assert_eq!(
            digest, pushed.manifest_digest,
            "skopeo reads the exact manifest bytes"
        );
    } else {
        eprintln!("SKIP: skopeo not installed");
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    spectro_packs::registry::oci::sha256_digest(bytes)[7..].to_owned()
}

#[test]
fn cli_push_pull_ls_round_trip() {
    let home = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(spectro_tests::spectro_bin())
            .args(args)
            .env("SPECTRO_HOME", home.path())
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let p = pack("hello-universe");
    let (code, out, _) = run(&["pack", "push", p.to_str().unwrap(), "--json"]);
    assert_eq!(code, Some(0));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (v["reference"].as_str(), v["changed"].as_bool()),
        (Some("hello-universe:1.3.1"), Some(true))
    );
    let (_, out, _) = run(&["pack", "push", p.to_str().unwrap()]);
    assert!(out.contains("up to date"), "{out}");
    let (code, out, _) = run(&["pack", "ls", "--format", "json"]);
    assert_eq!(code, Some(0));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["packs"][0]["versions"][0]["version"], "1.3.1");
    let dest = tempfile::tempdir().unwrap();
    let (code, _, err) = run(&[
        "pack",
        "pull",
        "hello-universe:1.x",
        "-o",
        dest.path().to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(dest.path().join("hello-universe/pack.json").is_file());
    let (code, _, err) = run(&["pack", "pull", "Hello:1.0"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("uppercase"), "{err}");
    let (code, _, err) = run(&["pack", "pull", "absent:1.0.0"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("not found"), "{err}");
    // set-default writes a private config the legacy CLI can read.
    let other = tempfile::tempdir().unwrap();
    let (code, _, _) = run(&["registry", "set-default", other.path().to_str().unwrap()]);
    assert_eq!(code, Some(0));
    let cfg: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(home.path().join("config.json")).unwrap())
            .unwrap();
    assert_eq!(cfg["defaultRegistry"], other.path().to_str().unwrap());
    let (_, out, _) = run(&["pack", "ls"]);
    assert!(
        out.contains("No packs"),
        "the default registry is now the empty one: {out}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(home.path().join("config.json"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
    }
}

/// Every file below `dir` with its bytes (to prove "exactly as before").
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p.clone());
                out.push((
                    p.strip_prefix(dir).unwrap().display().to_string(),
                    Vec::new(),
                ));
            } else if p.file_name().is_some_and(|n| n != ".lock") {
                out.push((
                    p.strip_prefix(dir).unwrap().display().to_string(),
                    fs::read(&p).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn cancelled_push_and_pull_leave_everything_as_before() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let root = tempfile::tempdir().unwrap();
    let reg = LayoutRegistry::open(root.path()).unwrap();
    reg.push(&pack("hello-universe"), &PushOptions::default())
        .unwrap();
    // A pack big enough to take several chunks (incompressible, so the archive is too).
    let work = tempfile::tempdir().unwrap();
    let big = versioned("nginx-chart", "3.0.0", work.path());
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let noise: Vec<u8> = (0..6_000_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect();
    fs::write(big.join("charts/blob.bin"), &noise).unwrap();
    let before = snapshot(root.path());
    for abort_after in [0u64, 1 << 20, 3 << 20] {
        let cancel = Arc::new(AtomicBool::new(false));
        let flag = cancel.clone();
        let mut opts = PushOptions::default();
        opts.cancel = Some(cancel.clone());
        opts.progress = Some(Arc::new(move |p| {
            if let spectro_packs::registry::Progress::Transfer { done, .. } = p
                && done >= abort_after
            {
                flag.store(true, Ordering::SeqCst);
            }
        }));
        if abort_after == 0 {
            cancel.store(true, Ordering::SeqCst);
        }
        let err = reg.push(&big, &opts).unwrap_err();
        assert!(matches!(err, Error::Cancelled), "{err}");
        assert_eq!(
            snapshot(root.path()),
            before,
            "registry changed by a push cancelled after {abort_after} bytes"
        );
    }
    // Pull: cancelled mid-copy, the destination stays as it was.
    reg.push(&big, &PushOptions::default()).unwrap();
    let dest = tempfile::tempdir().unwrap();
    fs::write(dest.path().join("keep.txt"), "mine").unwrap();
    let dest_before = snapshot(dest.path());
    let reg_before = snapshot(root.path());
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = cancel.clone();
    let mut opts = PullOptions::default();
    opts.cancel = Some(cancel);
    opts.progress = Some(Arc::new(move |p| {
        if let spectro_packs::registry::Progress::Transfer { done, .. } = p
            && done >= 1 << 20
        {
            flag.store(true, Ordering::SeqCst);
        }
    }));
    assert!(matches!(
        reg.pull(&r("nginx:3.0.0"), dest.path(), &opts),
        Err(Error::Cancelled)
    ));
    assert_eq!(snapshot(dest.path()), dest_before);
    assert_eq!(snapshot(root.path()), reg_before);
}

#[test]
fn skopeo_written_layouts_are_read_by_us() {
    if !have("skopeo") {
        eprintln!("SKIP: skopeo not installed");
        return;
    }
    let ours = tempfile::tempdir().unwrap();
    let reg = LayoutRegistry::open(ours.path()).unwrap();
    let pushed = reg
        .push(&pack("nginx-chart"), &PushOptions::default())
        .unwrap();
    // skopeo copies our layout into a fresh registry root; we read its output.
    let theirs = tempfile::tempdir().unwrap();
    let dst_layout = theirs.path().join("spectro-packs/archive/nginx");
    fs::create_dir_all(&dst_layout).unwrap();
    let out = Command::new("skopeo")
        .args(["copy", "--quiet"])
        .arg(format!("oci:{}:1.11.2", reg.layout_dir("nginx").display()))
        .arg(format!("oci:{}:1.11.2", dst_layout.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reg2 = LayoutRegistry::open(theirs.path()).unwrap();
    assert_eq!(reg2.list(None).unwrap()[0].versions[0].version, "1.11.2");
    let dest = tempfile::tempdir().unwrap();
    let pulled = reg2
        .pull(&r("nginx:1.11.2"), dest.path(), &PullOptions::default())
        .unwrap();
    assert_eq!(pulled.archive_digest, pushed.archive_digest);
    assert!(pulled.path.join("pack.json").is_file());
}

#[test]
fn clean_corpus_packs_round_trip_byte_identical() {
    let Some(corpus) = spectro_tests::corpus() else {
        eprintln!("SKIP: corpus not found");
        return;
    };
    let reports = spectro_packs::validate_paths(&[&corpus], &Default::default()).unwrap();
    let clean: Vec<_> = reports
        .iter()
        .filter(|r| r.count(spectro_packs::Severity::Error) == 0)
        .collect();
    assert!(clean.len() >= 170, "{} clean packs", clean.len());
    let root = tempfile::tempdir().unwrap();
    let reg = LayoutRegistry::open(root.path()).unwrap();
    for rep in &clean {
        reg.push(&rep.path, &PushOptions::default())
            .unwrap_or_else(|e| panic!("{}: {e}", rep.path.display()));
    }
    let listed: usize = reg
        .list(None)
        .unwrap()
        .iter()
        .map(|p| p.versions.len())
        .sum();
    assert_eq!(listed, clean.len());
    let dest = tempfile::tempdir().unwrap();
    for (i, rep) in clean.iter().enumerate() {
        let reference = PackRef::exact(
            rep.name.as_deref().unwrap(),
            rep.version.as_deref().unwrap(),
        )
        .unwrap();
        let out = reg
            .pull(
                &reference,
                &dest.path().join(i.to_string()),
                &PullOptions::default(),
            )
            .unwrap();
        assert_eq!(
            snapshot(&rep.path),
            snapshot(&out.path),
            "{}",
            rep.path.display()
        );
    }
}

#[test]
fn a_failed_push_never_removes_files_it_did_not_write() {
    use spectro_packs::registry::{CancelFlag, Progress, ProgressFn};
    use std::sync::atomic::Ordering;
    // Cancelled once the archive's bytes start to move: the push has written into the
    // layout by then, and its clean-up runs.
    let cancel_mid_copy = || {
        let cancel = CancelFlag::default();
        let flag = cancel.clone();
        let progress: ProgressFn = std::sync::Arc::new(move |p| {
            if matches!(p, Progress::Transfer { .. }) {
                flag.store(true, Ordering::SeqCst);
            }
        });
        PushOptions::default()
            .with_cancel(cancel)
            .with_progress(progress)
    };
    let root = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let reg = LayoutRegistry::open(root.path()).unwrap();
    // A folder where the nginx layout would go, holding someone's file and no index.
    let dir = reg.layout_dir("nginx");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("notes.txt"), "mine").unwrap();
    let big = versioned("nginx-chart", "1.0.0", work.path());
    fs::write(big.join("README.md"), spectro_tests::noise_lines(120_000)).unwrap();
    let e = reg.push(&big, &cancel_mid_copy()).unwrap_err();
    assert!(matches!(e, Error::Cancelled), "{e}");
    assert_eq!(fs::read_to_string(dir.join("notes.txt")).unwrap(), "mine");
    assert!(!dir.join("index.json").exists());
    // A cancelled first push into a fresh registry leaves no layout behind.
    let fresh = tempfile::tempdir().unwrap();
    let reg = LayoutRegistry::open(fresh.path()).unwrap();
    let e = reg.push(&big, &cancel_mid_copy()).unwrap_err();
    assert!(matches!(e, Error::Cancelled), "{e}");
    assert!(!reg.layout_dir("nginx").exists());
}

#[test]
fn a_pack_named_blobs_is_listed_and_a_missing_pack_creates_no_destination() {
    let root = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let reg = LayoutRegistry::open(root.path()).unwrap();
    let p = versioned("nginx-chart", "1.0.0", work.path());
    let pj = p.join("pack.json");
    let mut v: serde_json::Value = serde_json::from_str(&fs::read_to_string(&pj).unwrap()).unwrap();
    v["name"] = "blobs".into();
    fs::write(&pj, v.to_string()).unwrap();
    reg.push(&p, &PushOptions::default()).unwrap();
    let names: Vec<String> = reg
        .list(None)
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["blobs"]);
    let dest = work.path().join("never");
    assert!(matches!(
        reg.pull(&r("absent:1.0.0"), &dest, &PullOptions::default()),
        Err(Error::PackNotFound { .. })
    ));
    assert!(
        !dest.exists(),
        "nothing is created for a pack that is not there"
    );
}
