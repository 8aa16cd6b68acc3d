//! Regression tests for issue 12 (data safety): one test per defect the adversarial passes
//! found, named `itemNN_...` after the issue's numbering, each building its hostile input
//! in code. Remote cases run against CNCF distribution (one instance with deletes
//! disabled) and the fault-injecting proxy.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use spectro_packs::archive::{ArchiveProblem, BuildOptions, build_archive};
use spectro_packs::registry::oci::{self, Descriptor, Index, Manifest};
use spectro_packs::registry::{
    LayoutRegistry, OciRegistry, PackRef, PullOptions, PushOptions, Registry, RegistryLocation,
    RemoteOptions, RetryPolicy, TagOptions,
};
use spectro_packs::{Error, LoadOptions, check_pack, load_pack_with, validate_pack};
use spectro_tests::conformance::{copy_tree, pack, versioned};
use spectro_tests::fault_proxy::{Action, FaultProxy, Response, Server};
use spectro_tests::{
    Run, gzip, noise_lines, run_spectro, spectro_bin, test_registries, unique_base,
};

fn r(s: &str) -> PackRef {
    PackRef::parse(s).unwrap()
}

/// A `.tar.gz` with folder `top/` holding a pack.json named `name` and a values.yaml.
fn pack_archive(top: &str, name: &str) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |path: &str, data: &[u8], dir: bool| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(if dir {
            tar::EntryType::Directory
        } else {
            tar::EntryType::Regular
        });
        h.set_size(data.len() as u64);
        h.set_mode(if dir { 0o755 } else { 0o644 });
        b.append_data(&mut h, path, data).unwrap();
    };
    add(&format!("{top}/"), b"", true);
    let pj = format!(
        r#"{{"name": "{name}", "version": "1.0.0", "layer": "addon", "addonType": "system app", "cloudTypes": ["all"], "displayName": "x"}}"#
    );
    add(&format!("{top}/pack.json"), pj.as_bytes(), false);
    add(
        &format!("{top}/values.yaml"),
        b"pack:\n  namespace: x\n",
        false,
    );
    gzip(&b.into_inner().unwrap())
}

/// Store `archive` in an embedded registry as `name:version` by hand (as a hostile or
/// foreign tool could), bypassing every check `push` makes.
fn plant(root: &Path, name: &str, version: &str, archive: &[u8]) {
    let dir = root.join("spectro-packs/archive").join(name);
    let blobs = dir.join("blobs/sha256");
    fs::create_dir_all(&blobs).unwrap();
    let put = |bytes: &[u8]| {
        let d = oci::sha256_digest(bytes);
        fs::write(blobs.join(&d["sha256:".len()..]), bytes).unwrap();
        d
    };
    let layer = put(archive);
    put(oci::CONFIG_BLOB);
    let m = Manifest::for_pack(
        &layer,
        archive.len() as u64,
        "x.tar.gz",
        "1970-01-01T00:00:00Z",
    );
    let mbytes = serde_json::to_vec(&m).unwrap();
    let md = put(&mbytes);
    let mut index: Index = fs::read(dir.join("index.json"))
        .ok()
        .map(|b| serde_json::from_slice(&b).unwrap())
        .unwrap_or_default();
    index.manifests.push(
        Descriptor::new(oci::MANIFEST_MEDIA_TYPE, md, mbytes.len() as u64)
            .with_annotation(oci::REF_NAME, version),
    );
    fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
}

fn names_in(p: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(p)
        .map(|rd| {
            rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn archive_problem(e: &Error) -> Option<&ArchiveProblem> {
    match e {
        Error::Archive { problem, .. } => Some(problem),
        _ => None,
    }
}

/// What a file created by this process gets (0666 minus the umask), limited to `mask`.
#[cfg(unix)]
fn umask_mode(mask: u32) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("probe");
    fs::File::create(&p).unwrap();
    fs::metadata(&p).unwrap().permissions().mode() & mask
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

fn fast_opts() -> RemoteOptions {
    let mut o = RemoteOptions::default();
    o.plain_http = true;
    let mut p = RetryPolicy::default();
    p.base_delay = Duration::from_millis(10);
    p.max_delay = Duration::from_millis(40);
    p.max_retries = 4;
    o.retry = p;
    o.certs_dir = None;
    o
}

fn remote(host: &str) -> OciRegistry {
    let loc = RegistryLocation::parse(&format!("oci://{host}/{}", unique_base("ds"))).unwrap();
    OciRegistry::connect(&loc, fast_opts()).unwrap()
}

fn spectro(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    run_spectro(home, args, env, None)
}

// ---------------------------------------------------------------------------------------
// Data loss and writes outside the target

#[test]
fn item01_pull_force_never_replaces_another_folder_than_the_requested_pack() {
    let reg_dir = tempfile::tempdir().unwrap();
    // An archive whose top folder is `.git`, stored as `nginx`.
    plant(
        reg_dir.path(),
        "nginx",
        "1.0.0",
        &pack_archive(".git", "nginx"),
    );
    let reg = LayoutRegistry::open(reg_dir.path()).unwrap();
    let dest = tempfile::tempdir().unwrap();
    fs::create_dir(dest.path().join(".git")).unwrap();
    fs::write(dest.path().join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
    let mut o = PullOptions::default();
    o.overwrite = true;
    let e = reg.pull(&r("nginx:1.0.0"), dest.path(), &o).unwrap_err();
    assert!(
        matches!(
            archive_problem(&e),
            Some(ArchiveProblem::TopDirMismatch { .. })
        ),
        "{e}"
    );
    assert_eq!(
        fs::read_to_string(dest.path().join(".git/HEAD")).unwrap(),
        "ref: refs/heads/main\n"
    );
    assert_eq!(names_in(dest.path()), vec![".git"]);
}

#[test]
fn item01_an_archive_holding_another_pack_is_refused_on_pull() {
    let reg_dir = tempfile::tempdir().unwrap();
    plant(
        reg_dir.path(),
        "nginx",
        "1.0.0",
        &pack_archive("other", "other"),
    );
    let reg = LayoutRegistry::open(reg_dir.path()).unwrap();
    let dest = tempfile::tempdir().unwrap();
    let e = reg
        .pull(&r("nginx:1.0.0"), dest.path(), &PullOptions::default())
        .unwrap_err();
    assert!(
        matches!(archive_problem(&e), Some(ArchiveProblem::WrongPack { .. })),
        "{e}"
    );
    // Keeping the archive only is refused too: it would be saved as nginx-1.0.0.tar.gz.
    let mut ao = PullOptions::default();
    ao.archive_only = true;
    assert!(reg.pull(&r("nginx:1.0.0"), dest.path(), &ao).is_err());
    assert!(
        names_in(dest.path()).is_empty(),
        "{:?}",
        names_in(dest.path())
    );
}

#[test]
fn item01_push_and_validate_refuse_an_archive_whose_folder_is_not_the_pack_name() {
    let work = tempfile::tempdir().unwrap();
    let bad = work.path().join("nginx-1.0.0.tar.gz");
    fs::write(&bad, pack_archive(".git", "nginx")).unwrap();
    let reg = LayoutRegistry::open(work.path().join("reg")).unwrap();
    for no_validate in [false, true] {
        let mut o = PushOptions::default();
        o.no_validate = no_validate;
        let e = reg.push(&bad, &o).unwrap_err();
        assert!(
            matches!(
                archive_problem(&e),
                Some(ArchiveProblem::TopDirMismatch { .. })
            ),
            "no_validate={no_validate}: {e}"
        );
    }
    assert!(reg.list(None).unwrap().is_empty());
    assert!(validate_pack(&bad).is_err());
}

#[test]
fn item02_remote_rm_of_a_shared_tag_changes_nothing_where_deletes_are_refused() {
    let Some(regs) = test_registries() else {
        return;
    };
    let reg = remote(&regs.nodelete);
    let work = tempfile::tempdir().unwrap();
    let pushed = reg
        .push(
            &versioned("nginx-chart", "1.0.0", work.path()),
            &PushOptions::default(),
        )
        .unwrap();
    reg.tag(&r("nginx:1.0.0"), "stable", &TagOptions::default())
        .unwrap();
    for victim in ["nginx:stable", "nginx:1.0.0"] {
        let e = reg.delete(&r(victim)).unwrap_err();
        assert!(matches!(e, Error::Unsupported(_)), "{victim}: {e}");
    }
    // Both tags still point at the pushed manifest, and it still pulls.
    for tag in ["nginx:stable", "nginx:1.0.0"] {
        assert_eq!(
            reg.resolve(&r(tag)).unwrap().manifest_digest,
            pushed.manifest_digest
        );
    }
    let dest = tempfile::tempdir().unwrap();
    reg.pull(&r("nginx:stable"), dest.path(), &PullOptions::default())
        .unwrap();
}

#[test]
fn item03_chart_fields_cannot_build_paths_outside_the_new_pack() {
    let work = tempfile::tempdir().unwrap();
    for (name, version) in [
        ("../../escaped", "1.0.0"),
        ("x", "../../1.0.0"),
        ("a/b", "1"),
    ] {
        let chart = work.path().join("chart.tgz");
        let mut b = tar::Builder::new(Vec::new());
        let yaml = format!("apiVersion: v2\nname: {name}\nversion: {version}\n");
        let mut h = tar::Header::new_gnu();
        h.set_size(yaml.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, "c/Chart.yaml", yaml.as_bytes())
            .unwrap();
        fs::write(&chart, gzip(&b.into_inner().unwrap())).unwrap();
        let parent = work.path().join("a/b/packs");
        let mut spec = spectro_packs::scaffold::NewPack::new("my-app", spectro_packs::Layer::Addon);
        spec.chart = Some(chart);
        let e = spectro_packs::scaffold::new_pack(&parent, &spec).unwrap_err();
        assert!(
            matches!(e, Error::UnsafePath { .. }),
            "{name} {version}: {e}"
        );
        assert!(!work.path().join("a/escaped").exists());
        assert!(!work.path().join("escaped").exists());
        assert!(!parent.join("my-app").exists());
        let left: Vec<String> = names_in(&parent);
        assert!(left.is_empty(), "{left:?}");
    }
}

#[test]
fn item04_item34_destructive_commands_take_exact_references_and_tags_are_checked() {
    let work = tempfile::tempdir().unwrap();
    let reg = LayoutRegistry::open(work.path().join("reg")).unwrap();
    for v in ["1.0.0", "1.1.0", "2.0.0"] {
        reg.push(
            &versioned("nginx-chart", v, work.path()),
            &PushOptions::default(),
        )
        .unwrap();
    }
    // A bare `x` is no wildcard in the profiles' grammar: refused as a reference.
    assert!(PackRef::parse("nginx:x").is_err());
    for pattern in ["nginx:1.x", "nginx"] {
        let e = reg.delete(&r(pattern)).unwrap_err();
        assert!(
            matches!(e, Error::InvalidReference { .. }),
            "{pattern}: {e}"
        );
        let e = reg
            .tag(&r(pattern), "stable", &TagOptions::default())
            .unwrap_err();
        assert!(
            matches!(e, Error::InvalidReference { .. }),
            "{pattern}: {e}"
        );
    }
    for bad_tag in ["x", "1.x", "2.0.x", "3.0.0", "v9.1.2"] {
        let e = reg
            .tag(&r("nginx:1.0.0"), bad_tag, &TagOptions::default())
            .unwrap_err();
        assert!(
            matches!(e, Error::InvalidReference { .. }),
            "{bad_tag}: {e}"
        );
    }
    reg.tag(&r("nginx:1.0.0"), "stable", &TagOptions::default())
        .unwrap();
    // Moving an existing tag needs force.
    let e = reg
        .tag(&r("nginx:2.0.0"), "stable", &TagOptions::default())
        .unwrap_err();
    assert!(matches!(e, Error::AlreadyExists { .. }), "{e}");
    let one = reg.resolve(&r("nginx:1.0.0")).unwrap().manifest_digest;
    assert_eq!(
        reg.resolve(&r("nginx:stable")).unwrap().manifest_digest,
        one
    );
    let mut force = TagOptions::default();
    force.force = true;
    reg.tag(&r("nginx:2.0.0"), "stable", &force).unwrap();
    let two = reg.resolve(&r("nginx:2.0.0")).unwrap().manifest_digest;
    assert_eq!(
        reg.resolve(&r("nginx:stable")).unwrap().manifest_digest,
        two
    );
    let versions: Vec<String> = reg.list(None).unwrap()[0]
        .versions
        .iter()
        .map(|v| v.version.clone())
        .collect();
    assert_eq!(versions, ["2.0.0", "1.1.0", "1.0.0", "stable"]);
}

#[cfg(unix)]
#[test]
fn item05_files_get_tar_modes_and_existing_folders_keep_theirs() {
    let expected = umask_mode(0o644);
    let work = tempfile::tempdir().unwrap();
    let built = build_archive(pack("nginx-chart"), work.path(), &BuildOptions::default()).unwrap();
    assert_eq!(mode(&built.path), expected, "built archive");
    let reg_root = work.path().join("reg");
    let reg = LayoutRegistry::open(&reg_root).unwrap();
    reg.push(&built.path, &PushOptions::default()).unwrap();
    let layout = reg.layout_dir("nginx");
    assert_eq!(mode(&layout.join("index.json")), expected, "index.json");
    for b in fs::read_dir(layout.join("blobs/sha256")).unwrap() {
        assert_eq!(mode(&b.unwrap().path()), expected, "blob");
    }
    let dest = work.path().join("pulled");
    let mut ao = PullOptions::default();
    ao.archive_only = true;
    let pulled = reg.pull(&r("nginx:1.11.2"), &dest, &ao).unwrap();
    assert_eq!(mode(&pulled.path), expected, "pulled archive");
    // `registry set-default` on an existing, shared SPECTRO_HOME changes no folder mode.
    let home = work.path().join("shared-home");
    fs::create_dir(&home).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&home, fs::Permissions::from_mode(0o1777)).unwrap();
    }
    let run = spectro(
        &home,
        &["registry", "set-default", "oci://reg.example.com/x"],
        &[],
    );
    assert_eq!(run.code, Some(0), "{}", run.err);
    assert_eq!(mode(&home), 0o1777);
    assert_eq!(mode(&home.join("config.json")), 0o600);
    // An empty SPECTRO_HOME is unset, not "the current folder".
    let cwd = work.path().join("cwd");
    fs::create_dir(&cwd).unwrap();
    let before = mode(&cwd);
    let o = Command::new(spectro_bin())
        .args(["registry", "set-default", "oci://reg.example.com/x"])
        .current_dir(&cwd)
        .env("SPECTRO_HOME", "")
        .env("HOME", work.path().join("fake-home"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(mode(&cwd), before);
    assert!(names_in(&cwd).is_empty());
    assert!(work.path().join("fake-home/.spectro/config.json").is_file());
    // `pack new` folders get the process default (0777 minus umask), not the 0700 of a
    // private staging folder.
    let probe = work.path().join("probe-dir");
    fs::create_dir(&probe).unwrap();
    let made = spectro_packs::scaffold::new_pack(
        work.path(),
        &spectro_packs::scaffold::NewPack::new("fresh", spectro_packs::Layer::Addon),
    )
    .unwrap();
    assert_eq!(mode(&made), mode(&probe));
    assert_eq!(mode(&made.join("pack.json")), umask_mode(0o666));
}

/// Write a blob into a layout by hand; returns its descriptor.
fn put_blob(layout: &Path, media_type: &str, bytes: &[u8]) -> Descriptor {
    let d = oci::sha256_digest(bytes);
    fs::write(
        layout.join("blobs/sha256").join(&d["sha256:".len()..]),
        bytes,
    )
    .unwrap();
    Descriptor::new(media_type, d, bytes.len() as u64)
}

fn blob_exists(layout: &Path, d: &Descriptor) -> bool {
    layout
        .join("blobs/sha256")
        .join(&d.digest["sha256:".len()..])
        .is_file()
}

#[test]
fn item06_layout_gc_walks_image_indexes_and_aborts_on_what_it_does_not_know() {
    let work = tempfile::tempdir().unwrap();
    let reg = LayoutRegistry::open(work.path().join("reg")).unwrap();
    reg.push(
        &versioned("nginx-chart", "1.0.0", work.path()),
        &PushOptions::default(),
    )
    .unwrap();
    let layout = reg.layout_dir("nginx");
    // What skopeo/oras write: an image index whose child manifest has its own blobs.
    let layer = put_blob(
        &layout,
        "application/vnd.oci.image.layer.v1.tar+gzip",
        b"layer bytes",
    );
    let config = put_blob(
        &layout,
        "application/vnd.oci.image.config.v1+json",
        br#"{"architecture":"amd64"}"#,
    );
    let child = serde_json::json!({
        "schemaVersion": 2, "mediaType": oci::MANIFEST_MEDIA_TYPE,
        "config": config, "layers": [layer],
    });
    let child = put_blob(
        &layout,
        oci::MANIFEST_MEDIA_TYPE,
        &serde_json::to_vec(&child).unwrap(),
    );
    let idx = serde_json::json!({
        "schemaVersion": 2, "mediaType": oci::INDEX_MEDIA_TYPE, "manifests": [child],
    });
    let mut idx = put_blob(
        &layout,
        oci::INDEX_MEDIA_TYPE,
        &serde_json::to_vec(&idx).unwrap(),
    );
    idx.annotations
        .insert(oci::REF_NAME.into(), "multi-arch".into());
    let index_path = layout.join("index.json");
    let mut index: Index = serde_json::from_slice(&fs::read(&index_path).unwrap()).unwrap();
    index.manifests.push(idx.clone());
    fs::write(&index_path, serde_json::to_vec(&index).unwrap()).unwrap();
    // Another push runs the garbage collection: the index and all its children stay.
    reg.push(
        &versioned("nginx-chart", "1.1.0", work.path()),
        &PushOptions::default(),
    )
    .unwrap();
    for d in [&idx, &child, &config, &layer] {
        assert!(blob_exists(&layout, d), "{} was collected", d.digest);
    }
    // Something the collector does not understand stops it: an unreferenced blob stays.
    let orphan = put_blob(&layout, "application/octet-stream", b"orphan");
    let weird = put_blob(&layout, "application/vnd.example.unknown+json", b"{}x");
    let mut index: Index = serde_json::from_slice(&fs::read(&index_path).unwrap()).unwrap();
    index.manifests.push(weird.clone());
    fs::write(&index_path, serde_json::to_vec(&index).unwrap()).unwrap();
    reg.push(
        &versioned("nginx-chart", "1.2.0", work.path()),
        &PushOptions::default(),
    )
    .unwrap();
    assert!(
        blob_exists(&layout, &orphan),
        "GC deleted while not understanding the layout"
    );
    assert!(blob_exists(&layout, &weird));
}

// ---------------------------------------------------------------------------------------
// Hangs and unbounded resources

#[test]
fn item07_a_server_ignoring_range_and_dropping_mid_body_is_not_retried_forever() {
    let Some(regs) = test_registries() else {
        return;
    };
    let proxy = FaultProxy::start(&regs.plain, None);
    let reg = remote(&proxy.server.addr);
    let work = tempfile::tempdir().unwrap();
    // A pack big enough that a cut after 4 KiB is "progress" each time.
    let p = versioned("nginx-chart", "1.0.0", work.path());
    let filler = noise_lines(20_000);
    let vals = p.join("values.yaml");
    fs::write(&vals, fs::read_to_string(&vals).unwrap() + &filler).unwrap();
    let pushed = reg.push(&p, &PushOptions::default()).unwrap();
    assert!(pushed.size > 64 << 10);
    proxy.inject("GET", "/blobs/", 10_000, Action::IgnoreRangeCutAfter(4096));
    let dest = tempfile::tempdir().unwrap();
    let e = reg
        .pull(&r("nginx:1.0.0"), dest.path(), &PullOptions::default())
        .unwrap_err();
    let blob_gets = proxy
        .server
        .requests()
        .iter()
        .filter(|q| q.method == "GET" && q.target.contains("/blobs/"))
        .count();
    // Four retries in the policy: a restart from byte 0 never resets that budget.
    assert!(blob_gets <= 6, "{blob_gets} blob requests: {e}");
    assert!(
        names_in(dest.path()).is_empty(),
        "{:?}",
        names_in(dest.path())
    );
}

#[test]
fn item08_a_layer_size_above_the_cap_is_refused_before_downloading() {
    // A hostile registry: the manifest claims a 2^62-byte archive, the blob never ends.
    let manifest = Manifest::for_pack(
        &format!("sha256:{}", "a".repeat(64)),
        1 << 62,
        "nginx-1.0.0.tar.gz",
        "1970-01-01T00:00:00Z",
    );
    let body = serde_json::to_vec(&manifest).unwrap();
    let digest = oci::sha256_digest(&body);
    let server = Server::start(Arc::new(move |req| {
        let mut resp = Response::error(404, "NOT_FOUND");
        if req.target == "/v2/" {
            resp = Response::error(200, "OK");
            resp.body = b"{}".to_vec();
        } else if req.target.contains("/manifests/") {
            resp = Response::error(200, "OK");
            resp.set_header("Content-Type", oci::MANIFEST_MEDIA_TYPE);
            resp.set_header("Docker-Content-Digest", digest.clone());
            resp.head_length = Some(body.len());
            resp.body = body.clone();
        } else if req.target.contains("/blobs/") {
            resp = Response::error(200, "OK");
            resp.body = vec![0u8; 8 << 20];
        }
        (resp, None)
    }));
    let reg = remote(&server.addr);
    let dest = tempfile::tempdir().unwrap();
    let e = reg
        .pull(&r("nginx:1.0.0"), dest.path(), &PullOptions::default())
        .unwrap_err();
    assert!(matches!(e, Error::TooLarge { .. }), "{e}");
    assert!(
        !server
            .requests()
            .iter()
            .any(|q| q.target.contains("/blobs/")),
        "the blob was requested"
    );
    assert!(names_in(dest.path()).is_empty());
    // The cap is an option: a real pack above a small cap is refused the same way.
    let work = tempfile::tempdir().unwrap();
    let local = LayoutRegistry::open(work.path().join("reg")).unwrap();
    local
        .push(
            &versioned("nginx-chart", "1.0.0", work.path()),
            &PushOptions::default(),
        )
        .unwrap();
    let mut small = PullOptions::default();
    small.max_archive_bytes = 100;
    let e = local
        .pull(&r("nginx:1.0.0"), dest.path(), &small)
        .unwrap_err();
    assert!(matches!(e, Error::TooLarge { .. }), "{e}");
}

#[test]
fn item09_images_are_found_when_templates_are_scanned_file_by_file() {
    // 300 templates of 64 KiB with one image each: every image is still found now that
    // templates are scanned as they are read instead of concatenated. This guards the
    // result of the change; it does not measure memory (no allocator cap in tests).
    let work = tempfile::tempdir().unwrap();
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |path: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, path, data).unwrap();
    };
    add(
        "big/Chart.yaml",
        b"apiVersion: v2\nname: big\nversion: 1.2.3\n",
    );
    add("big/values.yaml", b"replicas: 1\n");
    for i in 0..300 {
        let mut t = format!("image: ghcr.io/example/img{i}:1.0.{i}\n");
        t.push_str(&"# padding\n".repeat(6_500));
        add(&format!("big/templates/t{i}.yaml"), t.as_bytes());
    }
    let chart = work.path().join("big-1.2.3.tgz");
    fs::write(&chart, gzip(&b.into_inner().unwrap())).unwrap();
    let mut spec = spectro_packs::scaffold::NewPack::new("big", spectro_packs::Layer::Addon);
    spec.chart = Some(chart);
    let dir = spectro_packs::scaffold::new_pack(work.path(), &spec).unwrap();
    let values = fs::read_to_string(dir.join("values.yaml")).unwrap();
    for i in [0, 150, 299] {
        assert!(
            values.contains(&format!("ghcr.io/example/img{i}:1.0.{i}")),
            "img{i}"
        );
    }
}

#[test]
fn item10_pk014_hints_stay_linear_on_thousands_of_missing_files() {
    // 2,000 listed manifests that do not exist beside 5,000 that do (no timing asserted:
    // the quadratic version took minutes here, so a regression shows as a hung test).
    let work = tempfile::tempdir().unwrap();
    let p = versioned("nginx-chart", "1.0.0", work.path());
    fs::create_dir_all(p.join("manifests")).unwrap();
    for i in 0..5_000 {
        fs::write(p.join(format!("manifests/present-{i}.yaml")), "a: 1\n").unwrap();
    }
    let pj = p.join("pack.json");
    let mut v: serde_json::Value = serde_json::from_slice(&fs::read(&pj).unwrap()).unwrap();
    let listed: Vec<String> = (0..2_000)
        .map(|i| format!("manifests/absent-{i}.yaml"))
        .collect();
    v["kubeManifests"] = serde_json::json!(listed);
    fs::write(&pj, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    let report = validate_pack(&p).unwrap();
    let pk014 = report
        .diagnostics
        .iter()
        .filter(|d| d.code == "PK014")
        .count();
    assert_eq!(pk014, 2_000);
}

#[test]
fn item10_profile_checks_are_linear_in_packs() {
    // 20,000 packs of one name (the worst case for PF008 and PF022's pair scans).
    let mut packs = Vec::new();
    for i in 0..20_000 {
        packs.push(serde_json::json!({
            "name": "dup", "tag": "1.0.0", "type": "spectro", "layer": "addon",
            "values": format!("pack:\n  namespace: ns{}\n", i % 7),
        }));
    }
    let profile = serde_json::json!({
        "metadata": {"name": "big"},
        "spec": {"template": {"type": "add-on", "packs": packs}},
    });
    let work = tempfile::tempdir().unwrap();
    let path = work.path().join("big.json");
    fs::write(&path, serde_json::to_vec(&profile).unwrap()).unwrap();
    let reports = spectro_packs::validate_profiles(&[&path], &Default::default()).unwrap();
    let pf008 = reports[0]
        .diagnostics
        .iter()
        .filter(|d| d.code == "PF008")
        .count();
    assert_eq!(pf008, 19_999);
}

#[test]
fn item11_profile_validate_refuses_fifos_and_devices_without_reading_them() {
    let work = tempfile::tempdir().unwrap();
    let fifo = work.path().join("profile.json");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let e = spectro_packs::profile::load_profile(&fifo).unwrap_err();
    assert!(matches!(e, Error::NotRegularFile { .. }), "{e}");
    #[cfg(unix)]
    {
        let link = work.path().join("zero.yaml");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        let e = spectro_packs::profile::load_profile(&link).unwrap_err();
        assert!(matches!(e, Error::NotRegularFile { .. }), "{e}");
    }
}

#[cfg(unix)]
#[test]
fn item12_sigterm_cancels_a_pull_and_leaves_nothing_behind() {
    let Some(regs) = test_registries() else {
        return;
    };
    let proxy = FaultProxy::start(&regs.plain, None);
    let base = unique_base("term");
    let reg = {
        let loc = RegistryLocation::parse(&format!("oci://{}/{base}", proxy.server.addr)).unwrap();
        OciRegistry::connect(&loc, fast_opts()).unwrap()
    };
    let work = tempfile::tempdir().unwrap();
    reg.push(
        &versioned("nginx-chart", "1.0.0", work.path()),
        &PushOptions::default(),
    )
    .unwrap();
    // The blob download stalls for a minute: only the signal can end the pull early.
    proxy.inject("GET", "/blobs/", 10, Action::Stall(Duration::from_secs(60)));
    let dest = work.path().join("dest");
    let home = work.path().join("home");
    let mut child = Command::new(spectro_bin())
        .args(["pack", "pull", "nginx:1.0.0", "--plain-http", "-o"])
        .arg(&dest)
        .args(["-r", &format!("oci://{}/{base}", proxy.server.addr)])
        .env("SPECTRO_HOME", &home)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the download has started (the temp file exists), then SIGTERM.
    let started = std::time::Instant::now();
    while !names_in(&dest)
        .iter()
        .any(|n| n.starts_with(".spectro-pull-"))
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "pull never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let signalled = std::time::Instant::now();
    assert!(
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    assert!(
        signalled.elapsed() < Duration::from_secs(10),
        "SIGTERM took {:?}",
        signalled.elapsed()
    );
    assert!(!status.success());
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(err.contains("cancelled"), "{err}");
    assert!(names_in(&dest).is_empty(), "{:?}", names_in(&dest));
}

#[test]
fn item31_cancelling_stops_a_pull_whose_body_stalls_after_the_headers() {
    let Some(regs) = test_registries() else {
        return;
    };
    let proxy = FaultProxy::start(&regs.plain, None);
    let reg = remote(&proxy.server.addr);
    let work = tempfile::tempdir().unwrap();
    reg.push(
        &versioned("nginx-chart", "1.0.0", work.path()),
        &PushOptions::default(),
    )
    .unwrap();
    // Headers and 100 bytes, then nothing for two minutes (the old code waited for the
    // request's own timeout, ignoring the flag).
    proxy.inject(
        "GET",
        "/blobs/",
        10,
        Action::StallBody(100, Duration::from_secs(120)),
    );
    let cancel: spectro_packs::registry::CancelFlag = Default::default();
    let mut o = PullOptions::default();
    o.cancel = Some(cancel.clone());
    let dest = work.path().join("dest");
    let flag = cancel.clone();
    let watcher = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(2));
        flag.store(true, std::sync::atomic::Ordering::SeqCst);
    });
    let e = reg.pull(&r("nginx:1.0.0"), &dest, &o).unwrap_err();
    watcher.join().unwrap();
    assert!(matches!(e, Error::Cancelled), "{e}");
    assert!(names_in(&dest).is_empty(), "{:?}", names_in(&dest));
}

#[test]
fn item12_stale_temporary_files_of_every_kind_are_swept() {
    let work = tempfile::tempdir().unwrap();
    let reg = LayoutRegistry::open(work.path().join("reg")).unwrap();
    reg.push(
        &versioned("nginx-chart", "1.0.0", work.path()),
        &PushOptions::default(),
    )
    .unwrap();
    let dest = work.path().join("dest");
    fs::create_dir(&dest).unwrap();
    let two_hours_ago = SystemTime::now() - Duration::from_secs(7200);
    let stale = |p: PathBuf| {
        let f = fs::File::create(&p).unwrap();
        f.set_modified(two_hours_ago).unwrap();
        p
    };
    let old_pull = stale(dest.join(".spectro-pull-abc123"));
    let fresh = dest.join(".spectro-pull-fresh1");
    fs::write(&fresh, "in use").unwrap();
    let old_build = stale(work.path().join(".spectro-build-xyz789"));
    let blobs = reg.layout_dir("nginx").join("blobs/sha256");
    let old_blob = stale(blobs.join(".spectro-blob-123456"));
    reg.pull(&r("nginx:1.0.0"), &dest, &PullOptions::default())
        .unwrap();
    build_archive(pack("nginx-chart"), work.path(), &BuildOptions::default()).unwrap();
    reg.push(
        &versioned("nginx-chart", "1.0.1", work.path()),
        &PushOptions::default(),
    )
    .unwrap();
    assert!(!old_pull.exists() && !old_build.exists() && !old_blob.exists());
    // Names spectro does not make are never touched, however old.
    let users = stale(dest.join(".spectro-backup"));
    reg.pull(
        &r("nginx:1.0.0"),
        &dest.join("again"),
        &PullOptions::default(),
    )
    .unwrap();
    let mut o = PullOptions::default();
    o.overwrite = true;
    reg.pull(&r("nginx:1.0.0"), &dest, &o).unwrap();
    assert!(users.exists());
    assert!(
        fresh.exists(),
        "a recent temp file (maybe in use) was removed"
    );
}

// ---------------------------------------------------------------------------------------
// Wrong results and leaks

#[test]
fn item13_spectroignore_cannot_drop_what_the_pack_needs() {
    let work = tempfile::tempdir().unwrap();
    for ignored in ["values.yaml", "pack.json", "charts/"] {
        let p = versioned(
            "nginx-chart",
            "1.0.0",
            &work.path().join(ignored.replace('/', "")),
        );
        fs::write(p.join(".spectroignore"), format!("{ignored}\n")).unwrap();
        let e = build_archive(&p, work.path(), &BuildOptions::default()).unwrap_err();
        assert!(
            matches!(
                archive_problem(&e),
                Some(ArchiveProblem::RequiredFileIgnored)
            ),
            "{ignored}: {e}"
        );
    }
    assert!(!names_in(work.path()).iter().any(|n| n.ends_with(".tar.gz")));
}

#[test]
fn item14_a_truncated_tree_is_a_finding_not_false_missing_files() {
    let work = tempfile::tempdir().unwrap();
    let p = versioned("nginx-chart", "1.0.0", work.path());
    let mut o = LoadOptions::default();
    o.max_entries = 3;
    let pack = load_pack_with(&p, &o).unwrap();
    let d = check_pack(&pack);
    assert!(d.iter().any(|d| d.code == "FS005"), "{d:?}");
    assert!(
        !d.iter().any(|d| d.code == "PK014" || d.code == "PK017"),
        "{d:?}"
    );
    // Deeper than 64 levels.
    let deep = versioned("nginx-chart", "1.0.1", work.path());
    let mut dir = deep.join("d");
    for i in 0..66 {
        dir = dir.join(format!("{i}"));
    }
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("f"), "x").unwrap();
    let d = validate_pack(&deep).unwrap().diagnostics;
    assert!(d.iter().any(|d| d.code == "FS005"), "{d:?}");
}

#[test]
fn item15_yaml_merge_keys_are_applied_before_schema_checks() {
    let work = tempfile::tempdir().unwrap();
    let p = versioned("hello-universe", "1.0.0", work.path());
    let values = fs::read_to_string(p.join("values.yaml")).unwrap();
    fs::write(
        p.join("values.yaml"),
        format!("{values}\ndefaults: &defaults\n  port: 8080\nservice:\n  <<: *defaults\n"),
    )
    .unwrap();
    let schema = p.join("schema.yaml");
    let old = fs::read_to_string(&schema).unwrap_or_default();
    fs::write(
        &schema,
        format!("{old}\nservice.port:\n  schema: '{{{{ required | format \"${{number:[1-100]}}\" }}}}'\n"),
    )
    .unwrap();
    let d = validate_pack(&p).unwrap().diagnostics;
    // The merged key exists (no SC002) and its value is checked (SC005: 8080 > 100).
    assert!(!d.iter().any(|d| d.code == "SC002"), "{d:?}");
    assert!(
        d.iter()
            .any(|d| d.code == "SC005" && d.message.contains("8080")),
        "{d:?}"
    );
}

fn check(format: &str, value: &str) -> Option<String> {
    let c =
        spectro_packs::values_schema::parse_constraint(&format!("{{{{ format \"{format}\" }}}}"))
            .unwrap();
    let doc =
        spectro_packs::syntax::parse_yaml(&format!("v: {value}\n"), Default::default()).unwrap();
    c.format.unwrap().check(doc.root.get("v").unwrap())
}

#[test]
fn item16_nan_infinity_and_composite_token_constraints() {
    for v in ["NaN", "nan", ".nan", "infinity", "inf", "-inf", "'NaN'"] {
        assert!(check("${number:[1-10]}", v).is_some(), "{v} passed a range");
        assert!(check("${number}", v).is_some(), "{v} passed ${{number}}");
    }
    assert!(check("${number:[1-10]}", "5").is_none());
    let f = "${number:[1-10]}-${string:/^a+$/}";
    assert!(check(f, "5-aaa").is_none());
    assert!(check(f, "11-aaa").is_some());
    assert!(check(f, "5-b").is_some());
    assert!(check("${list:[x,y]}:${number}", "z:1").is_some());
    assert!(check("${list:[x,y]}:${number}", "x:1").is_none());
    // The split around a list is found whatever the other tokens hold.
    assert!(check("${string}/${list:[amd64,arm64]}", "ghcr.io/org/img/amd64").is_none());
    assert!(check("${string}/${list:[amd64,arm64]}", "ghcr.io/org/img/s390x").is_some());
}

#[test]
fn item17_secrets_are_never_printed() {
    let msg = check("${string}:${password}", "'admin:hunter2-secret'");
    assert!(msg.is_none(), "{msg:?}");
    let msg = check("${number}:${password}", "'admin:hunter2-secret'").unwrap();
    assert!(!msg.contains("hunter2"), "{msg}");
    for input in [
        "oci://user:hunter2@reg.example.com/base",
        "user:hunter2@reg.example.com",
        "https://user:hunter2@reg.example.com:5000/x",
    ] {
        let e = RegistryLocation::parse(input).unwrap_err().to_string();
        assert!(!e.contains("hunter2"), "{e}");
    }
    let home = tempfile::tempdir().unwrap();
    let run = spectro(
        home.path(),
        &["pack", "ls", "-r", "oci://user:hunter2@127.0.0.1:9/x"],
        &[],
    );
    assert_eq!(run.code, Some(2));
    assert!(
        !run.err.contains("hunter2") && !run.out.contains("hunter2"),
        "{}",
        run.err
    );
    let run = spectro(
        home.path(),
        &["pack", "ls"],
        &[("SPECTRO_REGISTRY", "oci://user:hunter2@127.0.0.1:9/x")],
    );
    assert!(
        !run.err.contains("hunter2") && !run.out.contains("hunter2"),
        "{}",
        run.err
    );
}

#[test]
fn item18_terminal_escapes_in_paths_and_names_are_sanitised() {
    let work = tempfile::tempdir().unwrap();
    let evil = "pk\u{1b}]0;pwned\u{7}\u{1b}[2J\r\u{202e}x";
    let dir = work.path().join(evil);
    copy_tree(&fixtures_pack("hello-universe"), &dir);
    fs::write(dir.join("values.yaml"), "pack:\n  namespace: BAD_NS\n").unwrap();
    let home = work.path().join("home");
    let run = spectro(&home, &["validate", dir.to_str().unwrap()], &[]);
    assert_eq!(run.code, Some(1), "{}", run.err);
    for bad in ['\u{1b}', '\u{7}', '\r', '\u{202e}'] {
        assert!(!run.out.contains(bad), "raw {bad:?} in: {:?}", run.out);
    }
    // A folder in an embedded registry named with escapes, listed.
    let reg = work.path().join("reg");
    let l = LayoutRegistry::open(&reg).unwrap();
    l.push(
        &versioned("nginx-chart", "1.0.0", work.path()),
        &PushOptions::default(),
    )
    .unwrap();
    let from = reg.join("spectro-packs/archive/nginx");
    fs::rename(&from, reg.join("spectro-packs/archive").join(evil)).unwrap();
    let run = spectro(&home, &["pack", "ls", "-r", reg.to_str().unwrap()], &[]);
    for bad in ['\u{1b}', '\u{7}', '\r', '\u{202e}'] {
        assert!(
            !run.out.contains(bad) && !run.err.contains(bad),
            "raw {bad:?}: {:?}",
            run.out
        );
    }
}

#[cfg(target_os = "linux")]
use spectro_tests::mount_tmpfs;

fn fixtures_pack(name: &str) -> PathBuf {
    spectro_tests::fixtures().join("packs/valid").join(name)
}

#[cfg(target_os = "linux")]
#[test]
fn item19_a_read_only_registry_can_be_listed_and_pulled() {
    let work = tempfile::tempdir().unwrap();
    let mnt = work.path().join("ro");
    fs::create_dir(&mnt).unwrap();
    let Some(_guard) = mount_tmpfs(&mnt, "size=16m", "item 19 is not covered in this run") else {
        return;
    };
    let reg = LayoutRegistry::open(&mnt).unwrap();
    reg.push(
        &versioned("nginx-chart", "1.0.0", work.path()),
        &PushOptions::default(),
    )
    .unwrap();
    // Without a lock file, on a read-only mount.
    fs::remove_file(mnt.join(".lock")).unwrap();
    assert!(
        Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(&mnt)
            .status()
            .unwrap()
            .success()
    );
    let reg = LayoutRegistry::open(&mnt).unwrap();
    assert_eq!(reg.list(None).unwrap()[0].name, "nginx");
    let dest = work.path().join("dest");
    reg.pull(&r("nginx:1.0.0"), &dest, &PullOptions::default())
        .unwrap();
    assert!(dest.join("nginx/pack.json").is_file());
    assert!(
        reg.push(
            &versioned("nginx-chart", "1.0.1", work.path()),
            &PushOptions::default()
        )
        .is_err()
    );
}

#[test]
fn item20_a_version_with_build_metadata_is_reported_at_validate_time() {
    let work = tempfile::tempdir().unwrap();
    let p = versioned("nginx-chart", "1.3.1+build.7", work.path());
    let d = validate_pack(&p).unwrap().diagnostics;
    assert!(d.iter().any(|d| d.code == "PK020"), "{d:?}");
}

#[test]
fn item21_build_in_the_pack_folder_source_date_epoch_and_new_output_folders() {
    let work = tempfile::tempdir().unwrap();
    let p = versioned("nginx-chart", "1.0.0", work.path());
    let home = work.path().join("home");
    // Building twice inside the pack folder: the second archive does not hold the first.
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let o = Command::new(spectro_bin())
            .args(args)
            .current_dir(&p)
            .env("SPECTRO_HOME", &home)
            .env_remove("SOURCE_DATE_EPOCH")
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    run(&["pack", "build", ".", "--json"], &[]);
    let second: serde_json::Value =
        serde_json::from_str(&run(&["pack", "build", ".", "--json"], &[])).unwrap();
    let first: serde_json::Value =
        serde_json::from_str(&run(&["pack", "build", ".", "--json"], &[])).unwrap();
    assert_eq!(
        first["digest"], second["digest"],
        "the previous archive was packed"
    );
    fs::remove_file(p.join("nginx-1.0.0.tar.gz")).unwrap();
    // SOURCE_DATE_EPOCH gives the same bytes to `pack build` and `pack push DIR`.
    let epoch = [("SOURCE_DATE_EPOCH", "1700000000")];
    let out_dir = work.path().join("dist/nested/");
    let built: serde_json::Value = serde_json::from_str(&run(
        &[
            "pack",
            "build",
            p.to_str().unwrap(),
            "-o",
            &format!("{}/", out_dir.display()),
            "--json",
        ],
        &epoch,
    ))
    .unwrap();
    assert!(
        out_dir.join("nginx-1.0.0.tar.gz").is_file(),
        "-o dir/ was not created"
    );
    let reg = work.path().join("reg");
    let pushed: serde_json::Value = serde_json::from_str(&run(
        &[
            "pack",
            "push",
            p.to_str().unwrap(),
            "-r",
            reg.to_str().unwrap(),
            "--json",
        ],
        &epoch,
    ))
    .unwrap();
    assert_eq!(built["digest"], pushed["archive_digest"]);
}

#[test]
fn item22_min_severity_hides_findings_but_not_from_the_exit_code_or_summary() {
    let work = tempfile::tempdir().unwrap();
    let p = versioned("hello-universe", "v1.0.0", work.path());
    let home = work.path().join("home");
    let all = spectro(
        &home,
        &["validate", p.to_str().unwrap(), "--fail-on", "warning"],
        &[],
    );
    assert_eq!(all.code, Some(1), "{}", all.out);
    let hidden = spectro(
        &home,
        &[
            "validate",
            p.to_str().unwrap(),
            "--fail-on",
            "warning",
            "--min-severity",
            "error",
        ],
        &[],
    );
    assert_eq!(hidden.code, Some(1), "{}", hidden.out);
    assert!(!hidden.out.contains("PK010"), "{}", hidden.out);
    let summary = |s: &str| s.lines().last().unwrap_or_default().to_owned();
    assert_eq!(summary(&all.out), summary(&hidden.out));
}

#[test]
fn item23_pulls_racing_forced_pushes_always_succeed() {
    let work = tempfile::tempdir().unwrap();
    let reg = Arc::new(LayoutRegistry::open(work.path().join("reg")).unwrap());
    let a = versioned("nginx-chart", "1.0.0", &work.path().join("a"));
    let b = versioned("nginx-chart", "1.0.0", &work.path().join("b"));
    fs::write(b.join("README.md"), "other content\n").unwrap();
    reg.push(&a, &PushOptions::default()).unwrap();
    let pusher = {
        let reg = reg.clone();
        std::thread::spawn(move || {
            let mut o = PushOptions::default();
            o.force = true;
            for i in 0..30 {
                reg.push(if i % 2 == 0 { &b } else { &a }, &o).unwrap();
            }
        })
    };
    for i in 0..30 {
        let dest = work.path().join(format!("d{i}"));
        reg.pull(&r("nginx:1.0.0"), &dest, &PullOptions::default())
            .unwrap();
    }
    pusher.join().unwrap();
}

#[test]
fn item24_messages_name_the_real_cause() {
    let work = tempfile::tempdir().unwrap();
    // A multi-member gzip whose tar continues in the second member.
    let built = build_archive(pack("nginx-chart"), work.path(), &BuildOptions::default()).unwrap();
    let mut raw = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(fs::File::open(&built.path).unwrap()),
        &mut raw,
    )
    .unwrap();
    let mut two = gzip(&raw[..1024]);
    two.extend(gzip(&raw[1024..]));
    let multi = work.path().join("multi.tar.gz");
    fs::write(&multi, two).unwrap();
    let e =
        spectro_packs::archive::extract_archive(&multi, work.path().join("x"), &Default::default())
            .unwrap_err();
    assert!(
        matches!(archive_problem(&e), Some(ArchiveProblem::MultiMember)),
        "{e}"
    );
    // A FIFO listed in kubeManifests is "not a regular file", not "does not exist".
    let p = versioned("hello-universe", "1.0.0", work.path());
    let listed = p.join("manifests/hello-universe.yaml");
    fs::remove_file(&listed).unwrap();
    assert!(
        Command::new("mkfifo")
            .arg(&listed)
            .status()
            .unwrap()
            .success()
    );
    let d = validate_pack(&p).unwrap().diagnostics;
    let pk014: Vec<_> = d.iter().filter(|d| d.code == "PK014").collect();
    assert!(
        pk014.iter().any(|d| d.message.contains("FIFO")),
        "{pk014:?}"
    );
    // `file://` with no path is refused, not the current folder.
    let home = work.path().join("home");
    let run = spectro(&home, &["pack", "ls", "-r", "file://"], &[]);
    assert_eq!(run.code, Some(2), "{}", run.out);
    // No CLI advice for options that do not exist in the library's messages.
    let e = spectro_packs::archive::extract_archive(
        &built.path,
        work.path().join("y"),
        &Default::default(),
    );
    assert!(e.is_ok());
    let e = spectro_packs::archive::extract_archive(
        &built.path,
        work.path().join("y"),
        &Default::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(!e.contains("overwrite") && !e.contains("--"), "{e}");
}

#[cfg(target_os = "linux")]
#[test]
fn item24_a_full_disk_is_blamed_on_the_destination_and_leaves_nothing() {
    let work = tempfile::tempdir().unwrap();
    let mnt = work.path().join("small");
    fs::create_dir(&mnt).unwrap();
    let Some(_guard) = mount_tmpfs(&mnt, "size=256k", "disk-full case not covered in this run")
    else {
        return;
    };
    let p = versioned("nginx-chart", "1.0.0", work.path());
    // ~1 MiB of incompressible values: the archive does not fit in 256 KiB.
    let filler = noise_lines(40_000);
    fs::write(p.join("README.md"), filler).unwrap();
    let reg = LayoutRegistry::open(work.path().join("reg")).unwrap();
    reg.push(&p, &PushOptions::default()).unwrap();
    let e = reg
        .pull(&r("nginx:1.0.0"), &mnt, &PullOptions::default())
        .unwrap_err();
    let text = e.to_string();
    assert!(text.contains(mnt.to_str().unwrap()), "{text}");
    assert!(!text.contains("/reg/"), "blamed on the source: {text}");
    assert!(names_in(&mnt).is_empty(), "{:?}", names_in(&mnt));
    // Building into the full disk fails the same way, leaving nothing.
    let e = build_archive(&p, &mnt, &BuildOptions::default()).unwrap_err();
    assert!(e.to_string().contains(mnt.to_str().unwrap()), "{e}");
    assert!(names_in(&mnt).is_empty(), "{:?}", names_in(&mnt));
}

#[test]
fn item20_a_full_disk_during_extraction_is_blamed_on_the_destination_and_leaves_nothing() {
    use spectro_packs::archive::{ExtractOptions, extract_archive};
    let work = tempfile::tempdir().unwrap();
    let mnt = work.path().join("small");
    fs::create_dir(&mnt).unwrap();
    let Some(_guard) = mount_tmpfs(&mnt, "size=256k", "disk-full-on-extract case not covered")
    else {
        return;
    };
    // The archive (outside the small disk) is a few KiB of gzip: the disk fills while the
    // extracted files are written, not while anything is downloaded.
    let p = versioned("nginx-chart", "1.0.0", work.path());
    fs::write(p.join("zeros.bin"), vec![0u8; 2 << 20]).unwrap();
    let archive = work.path().join("nginx-1.0.0.tar.gz");
    build_archive(&p, &archive, &BuildOptions::default()).unwrap();
    assert!(fs::metadata(&archive).unwrap().len() < 128 << 10);
    let e = extract_archive(&archive, &mnt, &ExtractOptions::default()).unwrap_err();
    let text = e.to_string();
    assert_eq!(e.kind(), spectro_packs::ErrorKind::Io, "{text}");
    assert!(text.contains(mnt.to_str().unwrap()), "{text}");
    assert!(!text.contains("corrupt"), "blamed on the archive: {text}");
    assert!(names_in(&mnt).is_empty(), "{:?}", names_in(&mnt));
}

#[test]
fn item25_a_closed_stdout_is_not_an_error() {
    let mut child = Command::new(spectro_bin())
        .arg("rules")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("Broken pipe"));
}

#[test]
fn item30_concurrent_config_updates_all_land_and_symlinks_are_written_through() {
    use spectro_packs::registry::config::Config;
    let work = tempfile::tempdir().unwrap();
    let real = work.path().join("real-config.json");
    fs::write(
        &real,
        r#"{"auths": {"h0.io": {"auth": "dTpw", "x-tool": 7}}}"#,
    )
    .unwrap();
    let path = work.path().join("config.json");
    #[cfg(unix)]
    std::os::unix::fs::symlink(&real, &path).unwrap();
    let threads: Vec<_> = (1..=20)
        .map(|i| {
            let path = path.clone();
            std::thread::spawn(move || {
                Config::update(&path, |c| {
                    c.set_login(&format!("h{i}.io"), "u", "p", false, false)
                })
                .unwrap();
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    Config::update(&path, |c| c.set_login("h0.io", "u2", "p2", false, false)).unwrap();
    let c = Config::load(&real).unwrap();
    assert_eq!(c.auths.len(), 21);
    assert_eq!(
        c.auths["h0.io"].extra["x-tool"], 7,
        "unknown keys dropped on re-login"
    );
    #[cfg(unix)]
    assert!(
        fs::symlink_metadata(&path)
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[test]
fn item35_pack_new_names_validate_cleanly() {
    let work = tempfile::tempdir().unwrap();
    for name in [
        "my.app",
        "my_app",
        "123",
        "true",
        "null",
        "yes",
        "a-very-long-name-with-many-parts-and-more-and-more-and-more-parts-x",
    ] {
        let dir = spectro_packs::scaffold::new_pack(
            work.path(),
            &spectro_packs::scaffold::NewPack::new(name, spectro_packs::Layer::Addon),
        )
        .unwrap();
        let d = validate_pack(&dir).unwrap().diagnostics;
        assert!(
            !d.iter()
                .any(|d| d.severity == spectro_packs::Severity::Error),
            "{name}: {d:?}"
        );
    }
    let e = spectro_packs::scaffold::new_pack(
        work.path(),
        &spectro_packs::scaffold::NewPack::new("nginx:1.0.0", spectro_packs::Layer::Addon),
    )
    .unwrap_err();
    assert!(matches!(e, Error::InvalidReference { .. }), "{e}");
}

#[cfg(unix)]
#[test]
fn item32_credential_helpers_run_only_when_asked_and_are_bounded() {
    use std::os::unix::fs::PermissionsExt;
    let Some(regs) = test_registries() else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let docker = home.path().join("docker");
    let bin = home.path().join("bin");
    fs::create_dir_all(&docker).unwrap();
    fs::create_dir_all(&bin).unwrap();
    let marker = home.path().join("helper-ran");
    // `hang` never answers; `flood` prints without end.
    for (name, body) in [
        (
            "hang",
            format!("#!/bin/sh\ntouch '{}'\nexec sleep 600\n", marker.display()),
        ),
        ("flood", "#!/bin/sh\nexec yes spectro\n".to_owned()),
    ] {
        let p = bin.join(format!("docker-credential-{name}"));
        fs::write(&p, body).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let config = |helper: &str| {
        fs::write(
            docker.join("config.json"),
            format!(
                r#"{{"credHelpers": {{"{}": "{helper}", "{}": "{helper}"}}}}"#,
                regs.plain, regs.auth
            ),
        )
        .unwrap();
    };
    let env = [
        ("DOCKER_CONFIG", docker.to_str().unwrap()),
        ("PATH", path.as_str()),
    ];
    // A registry that needs no login never runs the (hanging) helper.
    config("hang");
    let reg = format!("oci://{}/{}", regs.plain, unique_base("helper"));
    let run = spectro(
        home.path(),
        &["pack", "ls", "-r", &reg, "--plain-http"],
        &env,
    );
    assert_eq!(run.code, Some(0), "{}", run.err);
    assert!(
        !marker.exists(),
        "the helper ran for a registry that needs no login"
    );
    // A flooding helper is cut off with a clear error.
    config("flood");
    let reg = format!("oci://{}/{}", regs.auth, unique_base("helper"));
    let run = spectro(
        home.path(),
        &["pack", "ls", "--name", "nginx", "-r", &reg, "--plain-http"],
        &env,
    );
    assert_eq!(run.code, Some(2), "{}", run.out);
    assert!(run.err.contains("printed more than"), "{}", run.err);
}

/// Every folder under `root` holding an `index.json` (the layouts of a layout registry).
fn layouts_under(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() && !p.ends_with("blobs") {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n == "index.json") {
                out.push(d.clone());
            }
        }
    }
    out
}

fn plant_stale(path: &Path) {
    fs::write(path, b"half-written").unwrap();
    let old = SystemTime::now() - Duration::from_secs(2 * 3600);
    fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(old)
        .unwrap();
}

#[test]
fn item60_what_a_killed_writer_left_beside_index_json_and_config_json_is_swept() {
    let work = tempfile::tempdir().unwrap();
    let reg = LayoutRegistry::open(work.path().join("reg")).unwrap();
    let a = versioned("nginx-chart", "1.0.0", &work.path().join("a"));
    let b = versioned("nginx-chart", "1.0.1", &work.path().join("b"));
    reg.push(&a, &PushOptions::default()).unwrap();
    let layout = layouts_under(&work.path().join("reg")).pop().unwrap();
    // A writer killed between creating its temporary index and renaming it.
    let stale = layout.join(".spectro-tmp-k1ll3d");
    plant_stale(&stale);
    // A fresh one may belong to a writer still running: kept.
    let fresh = layout.join(".spectro-tmp-fr35h1");
    fs::write(&fresh, b"x").unwrap();
    reg.push(&b, &PushOptions::default()).unwrap();
    assert!(!stale.exists(), "stale temporary index left behind");
    assert!(fresh.exists(), "a running writer's file was removed");
    fs::remove_file(&fresh).unwrap();
    // With the leftover gone, removing every version removes the emptied layout.
    for v in ["nginx:1.0.0", "nginx:1.0.1"] {
        reg.delete(&r(v)).unwrap();
    }
    assert!(
        !layout.exists(),
        "emptied layout kept: {:?}",
        names_in(&layout)
    );
    // The same for $SPECTRO_HOME/config.json.
    use spectro_packs::registry::config::Config;
    let home = work.path().join("home");
    fs::create_dir(&home).unwrap();
    let stale = home.join(".spectro-tmp-c0nf1g");
    plant_stale(&stale);
    Config::update(&home.join("config.json"), |c| {
        c.set_login("h.io", "u", "p", false, false)
    })
    .unwrap();
    assert!(!stale.exists());
}

#[test]
#[cfg(unix)]
fn item60_lock_files_that_are_symbolic_links_are_refused_not_followed() {
    use spectro_packs::registry::config::Config;
    let work = tempfile::tempdir().unwrap();
    let victim = work.path().join("victim");
    let root = work.path().join("reg");
    fs::create_dir(&root).unwrap();
    std::os::unix::fs::symlink(&victim, root.join(".lock")).unwrap();
    let reg = LayoutRegistry::open(&root).unwrap();
    let a = versioned("nginx-chart", "1.0.0", &work.path().join("a"));
    let e = reg.push(&a, &PushOptions::default()).unwrap_err();
    assert!(e.to_string().contains("symbolic link"), "{e}");
    assert!(!victim.exists(), "the link was followed");
    let home = work.path().join("home");
    fs::create_dir(&home).unwrap();
    std::os::unix::fs::symlink(&victim, home.join(".config.lock")).unwrap();
    let e = Config::update(&home.join("config.json"), |_| Ok(())).unwrap_err();
    assert!(e.to_string().contains("symbolic link"), "{e}");
    assert!(!victim.exists(), "the link was followed");
}

#[test]
#[cfg(unix)]
fn item56_a_login_file_readable_by_others_is_warned_about_with_the_fix() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config.json");
    fs::write(&config, r#"{"auths": {}}"#).unwrap();
    fs::set_permissions(&config, fs::Permissions::from_mode(0o644)).unwrap();
    // Any remote command reads the logins first; port 9 answers nothing, which is fine.
    let args = [
        "pack",
        "ls",
        "-r",
        "oci://127.0.0.1:9/base",
        "--plain-http",
        "--limit",
        "retries=0",
    ];
    let out = run_spectro(home.path(), &args, &[], None);
    assert!(out.err.contains("chmod 600"), "{}", out.err);
    assert!(out.err.contains("config.json"), "{}", out.err);
    fs::set_permissions(&config, fs::Permissions::from_mode(0o600)).unwrap();
    let out = run_spectro(home.path(), &args, &[], None);
    assert!(!out.err.contains("chmod"), "{}", out.err);
}

#[test]
#[cfg(unix)]
fn login_files_that_are_fifos_or_huge_are_refused_not_read() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config.json");
    let status = Command::new("mkfifo").arg(&config).status().unwrap();
    assert!(status.success());
    let args = [
        "pack",
        "ls",
        "-r",
        "oci://127.0.0.1:9/base",
        "--plain-http",
        "--limit",
        "retries=0",
    ];
    // Nobody writes to the FIFO: reading it would hang; refusing it returns at once.
    let out = run_spectro(home.path(), &args, &[], None);
    assert_eq!(out.code, Some(2), "{}", out.err);
    assert!(out.err.contains("FIFO"), "{}", out.err);
    fs::remove_file(&config).unwrap();
    fs::write(&config, vec![b' '; 2 << 20]).unwrap();
    let out = run_spectro(home.path(), &args, &[], None);
    assert_eq!(out.code, Some(2), "{}", out.err);
    assert!(out.err.contains("limit"), "{}", out.err);
}
