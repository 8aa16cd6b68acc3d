//! The bodies of spectro's fuzz targets, one function per target.
//!
//! `fuzz/` (cargo-fuzz, libFuzzer) calls these from its `fuzz_targets/*.rs`, and
//! `tests/seeds.rs` runs every function over its seed corpus and the committed crash
//! regressions on stable Rust in CI. Each function takes any bytes and must return without
//! panicking, hanging or growing without bound; it asserts the invariants the library
//! promises (a parse error is an `Err`, positions stay inside the text, nothing is written
//! outside the scratch folder).
//!
//! [`seeds`] builds the starting corpus of a target from the repository's fixtures and,
//! when present, `../shared/corpus`.

#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use lsp_server::{Connection, Message, Notification, Request, RequestId};
use serde_json::{Value, json};
use spectro_packs::archive::{BuildOptions, ExtractLimits, ExtractOptions};
use spectro_packs::profile::PackIndex;
use spectro_packs::registry::oci::{Index, Manifest};
use spectro_packs::registry::{PackRef, RegistryLocation, check_repository, wildcard_matches};
use spectro_packs::syntax::{YamlLimits, parse_json, parse_yaml_stream};
use spectro_packs::{LoadOptions, Overlay, PackVersion, ValidateOptions};

/// A fuzz target: any bytes in, no panic, hang or unbounded growth out.
pub type Target = fn(&[u8]);

/// Every target, by the name its `fuzz/fuzz_targets/<name>.rs` and seed folder use.
pub const TARGETS: &[(&str, Target)] = &[
    ("pack_json", pack_json),
    ("pack_yaml", pack_yaml),
    ("profile", profile),
    ("archive", archive),
    ("oci", oci),
    ("reference", reference),
    ("config", config),
    ("lsp", lsp),
    ("server", server),
];

/// The target function called `name`.
pub fn target(name: &str) -> Option<Target> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// A process-wide scratch folder holding a valid pack (`pack/`), whose files the pack
/// targets replace through an overlay, so an iteration writes nothing.
fn scratch() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("spectro-fuzz-")
            .tempdir()
            .expect("scratch folder");
        let pack = dir.path().join("pack");
        fs::create_dir_all(pack.join("manifests")).unwrap();
        fs::write(pack.join("pack.json"), VALID_PACK_JSON).unwrap();
        fs::write(pack.join("values.yaml"), VALID_VALUES).unwrap();
        fs::write(pack.join("manifests/app.yaml"), "kind: ConfigMap\n").unwrap();
        dir
    })
    .path()
}

const VALID_PACK_JSON: &str = r#"{
  "addonType": "app",
  "cloudTypes": ["all"],
  "displayName": "Fuzz",
  "layer": "addon",
  "name": "fuzz",
  "version": "1.0.0"
}
"#;

const VALID_VALUES: &str = "pack:\n  namespace: fuzz\n  content:\n    images: []\n";

/// Validate the scratch pack with `files` (path in the pack → text) replacing its files,
/// and check what every report promises.
fn validate_overlay(files: &[(&str, String)]) {
    let root = scratch().join("pack");
    let overlay: Overlay = files
        .iter()
        .map(|(p, t)| (root.join(p), t.clone()))
        .collect();
    let opts = ValidateOptions::default()
        .with_load(small_load())
        .with_overlay(Arc::new(overlay));
    let report = match spectro_packs::validate_pack_with(&root, &opts) {
        Ok(r) => r,
        Err(_) => return,
    };
    let texts: HashMap<&str, &str> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
    for d in &report.diagnostics {
        let Some(text) = texts.get(d.file.as_str()) else {
            continue;
        };
        if let Some(pos) = d.position() {
            // Lines as YAML, LSP and editors count them (a lone CR ends a line too).
            let lines = spectro_packs::syntax::lines(text).count().max(1);
            assert!(
                pos.line.get() as usize <= lines + 1,
                "{} finding at line {} of a {lines}-line file",
                d.code,
                pos.line.get()
            );
        }
        // The finding's line exists, so human output can show it.
        if let Some(pos) = d.position()
            && !text.is_empty()
            && (pos.line.get() as usize) <= spectro_packs::syntax::lines(text).count()
        {
            assert!(spectro_packs::syntax::source_line(text, pos.line.get() as usize).is_some());
        }
        let _ = d.to_string();
    }
}

fn small_load() -> LoadOptions {
    LoadOptions::default()
        .with_max_file_size(4 << 20)
        .with_yaml(YamlLimits::default())
}

fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// pack.json parsing and every pack rule over it.
pub fn pack_json(data: &[u8]) {
    let Some(t) = text(data) else { return };
    if let Ok(doc) = parse_json(t) {
        let _ = doc.root.to_json();
    }
    validate_overlay(&[("pack.json", t.to_owned())]);
}

/// values.yaml, presets.yaml or schema.yaml (the first byte chooses), parsed and validated
/// against the rest of a valid pack: schema.yaml templates and presets run against values.
pub fn pack_yaml(data: &[u8]) {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let Some(t) = text(rest) else { return };
    let _ = parse_yaml_stream(t, YamlLimits::default());
    let file = match which % 4 {
        0 => "values.yaml",
        1 => "presets.yaml",
        2 => "schema.yaml",
        _ => "manifests/app.yaml",
    };
    validate_overlay(&[(file, t.to_owned())]);
    if file != "values.yaml" {
        // The same text as values too: presets and schemas are often pasted there.
        validate_overlay(&[("values.yaml", t.to_owned()), (file, t.to_owned())]);
    }
}

/// A cluster profile (Palette's export JSON, or YAML when the first byte is odd), with
/// every profile rule.
pub fn profile(data: &[u8]) {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let Some(t) = text(rest) else { return };
    let name = if which % 2 == 0 {
        "profile.json"
    } else {
        "profile.yaml"
    };
    let profile = spectro_packs::profile::parse_profile(name, t.to_owned());
    let findings = spectro_packs::profile::check_profile(&profile, &PackIndex::empty());
    for d in findings {
        let _ = d.to_string();
    }
}

/// Archive extraction: the bytes as a `.tar.gz` (and, when they are not gzip, wrapped in
/// gzip so the tar reader is reached), extracted under small caps. On error nothing may be
/// left in the destination; on success only `dest/<name>` exists.
pub fn archive(data: &[u8]) {
    let dir = tempfile::Builder::new()
        .prefix("spectro-fuzz-archive-")
        .tempdir()
        .unwrap();
    let file = dir.path().join("in.tar.gz");
    let bytes = if data.starts_with(&[0x1f, 0x8b]) {
        data.to_vec()
    } else {
        gzip(data)
    };
    fs::write(&file, &bytes).unwrap();
    let dest = dir.path().join("out");
    let limits = ExtractLimits::default()
        .with_max_total_bytes(8 << 20)
        .with_max_file_bytes(4 << 20)
        .with_max_entries(2_000);
    let opts = ExtractOptions::default().with_limits(limits);
    let result = spectro_packs::archive::extract_archive(&file, &dest, &opts);
    let left: Vec<PathBuf> = fs::read_dir(&dest)
        .map(|r| r.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    match result {
        Ok(extracted) => {
            assert_eq!(left.len(), 1, "extraction left {left:?}");
            assert!(extracted.root.starts_with(&dest), "{:?}", extracted.root);
            // What was extracted validates without panicking.
            let _ = spectro_packs::validate_pack(&extracted.root);
        }
        Err(e) => {
            assert!(left.is_empty(), "failed extraction ({e}) left {left:?}");
            let _ = e.to_string();
        }
    }
    // Identity reading takes the same hostile bytes on another path.
    let _ = spectro_packs::archive::read_identity(&file);
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// OCI manifests and image indexes as a registry or an `index.json` would send them.
pub fn oci(data: &[u8]) {
    if let Ok(m) = serde_json::from_slice::<Manifest>(data) {
        if let Ok(layer) = m.pack_layer() {
            let _ = spectro_packs::registry::oci::is_sha256_digest(&layer.digest);
        }
        let _ = m.title();
        let _ = serde_json::to_vec(&m).unwrap();
    }
    if let Ok(i) = serde_json::from_slice::<Index>(data) {
        for d in &i.manifests {
            let _ = d.ref_name();
        }
        let _ = serde_json::to_vec(&i).unwrap();
    }
}

/// Pack references, registry locations, repository names, versions and tag patterns.
pub fn reference(data: &[u8]) {
    let Some(t) = text(data) else { return };
    if let Ok(r) = PackRef::parse(t) {
        let _ = format!("{r:?}");
    }
    if let Ok(loc) = RegistryLocation::parse(t) {
        let repo = loc.repository("fuzz");
        let _ = check_repository(&repo);
    }
    let _ = check_repository(t);
    if let Ok(v) = PackVersion::parse(t) {
        assert_eq!(PackVersion::parse(&v.to_string()).ok().as_ref(), Some(&v));
    }
    if let Some((a, b)) = t.split_once('\n') {
        let _ = wildcard_matches(a, b);
        if let (Some(p), Ok(v)) = (
            spectro_packs::profile::TagPattern::parse(a),
            PackVersion::parse(b),
        ) {
            let _ = p.matches_version(&v);
        }
    }
}

/// The registry server's request routing and htpasswd parsing: the first line is a
/// request path, the rest an htpasswd file. Whatever a route hands to the handlers has
/// passed its format check, and rebuilding the path from it routes the same way.
pub fn server(data: &[u8]) {
    use spectro_packs::server::{Reference, Route, route};
    let Some(t) = text(data) else { return };
    let (path, rest) = t.split_once('\n').unwrap_or((t, ""));
    let r = route(path);
    let again = match &r {
        Route::Tags { repo } => Some(format!("/v2/{repo}/tags/list")),
        Route::Manifest { repo, reference } => {
            if let Reference::Digest(d) = reference {
                assert!(spectro_packs::registry::oci::parse_digest(d).is_some());
            }
            Some(format!("/v2/{repo}/manifests/{}", reference.as_str()))
        }
        Route::Blob { repo, digest } | Route::Referrers { repo, digest } => {
            assert!(spectro_packs::registry::oci::parse_digest(digest).is_some());
            let kind = if matches!(r, Route::Blob { .. }) {
                "blobs"
            } else {
                "referrers"
            };
            Some(format!("/v2/{repo}/{kind}/{digest}"))
        }
        Route::UploadStart { repo } => Some(format!("/v2/{repo}/blobs/uploads/")),
        Route::Upload { repo, id } => {
            assert!(id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()));
            Some(format!("/v2/{repo}/blobs/uploads/{id}"))
        }
        _ => None,
    };
    if let Some(p) = again {
        if let Route::Tags { repo }
        | Route::Manifest { repo, .. }
        | Route::Blob { repo, .. }
        | Route::Referrers { repo, .. }
        | Route::UploadStart { repo }
        | Route::Upload { repo, .. } = &r
        {
            assert!(check_repository(repo).is_ok(), "{repo}");
            assert!(
                !repo
                    .split('/')
                    .any(|c| c == ".." || c == "." || c.is_empty())
            );
        }
        assert_eq!(route(&p), r, "{p}");
    }
    let _ = spectro_packs::server::Htpasswd::parse(rest);
}

/// spectro.toml: configuration loading and a validation under it.
pub fn config(data: &[u8]) {
    let Some(t) = text(data) else { return };
    let dir = tempfile::Builder::new()
        .prefix("spectro-fuzz-config-")
        .tempdir()
        .unwrap();
    let path = dir.path().join("spectro.toml");
    fs::write(&path, t).unwrap();
    if let Ok(settings) = spectro_packs::settings::Settings::load(&path) {
        let _ = format!("{settings:?}");
    }
}

/// The language server: the input is a sequence of JSON-RPC messages, one per line, sent
/// after `initialize` (documents under the scratch pack); then shutdown and exit. The server
/// must answer every request and stop cleanly.
pub fn lsp(data: &[u8]) {
    let Some(t) = text(data) else { return };
    let root = scratch().join("pack");
    let t = t.replace("$ROOT", &root.to_string_lossy());
    let (server_end, client) = Connection::memory();
    let server = std::thread::spawn(move || spectro_packs::lsp::serve(&server_end));
    let mut lines = t.lines();
    let init = lines
        .next()
        .and_then(|l| serde_json::from_str::<Value>(l).ok())
        .unwrap_or_else(|| json!({"capabilities": {}}));
    send(
        &client,
        Request::new(RequestId::from(0), "initialize".into(), init).into(),
    );
    let mut expected = vec![RequestId::from(0)];
    send(
        &client,
        Notification::new("initialized".into(), json!({})).into(),
    );
    for (n, line) in lines.enumerate() {
        let Ok(Value::Object(mut msg)) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let Some(Value::String(method)) = msg.remove("method") else {
            continue;
        };
        if matches!(method.as_str(), "shutdown" | "exit" | "initialize") {
            continue;
        }
        let params = msg.remove("params").unwrap_or(Value::Null);
        if msg.contains_key("id") {
            let id = RequestId::from(n as i32 + 1);
            expected.push(id.clone());
            send(&client, Request::new(id, method, params).into());
        } else {
            send(&client, Notification::new(method, params).into());
        }
    }
    let shutdown = RequestId::from(-1);
    expected.push(shutdown.clone());
    send(
        &client,
        Request::new(shutdown, "shutdown".into(), Value::Null).into(),
    );
    // Every request gets exactly one answer, shutdown last.
    while !expected.is_empty() {
        match client.receiver.recv_timeout(Duration::from_secs(60)) {
            Ok(Message::Response(r)) => {
                let at = expected
                    .iter()
                    .position(|id| *id == r.id)
                    .unwrap_or_else(|| panic!("answer to an unknown request {:?}", r.id));
                expected.remove(at);
            }
            Ok(_) => {}
            Err(e) => panic!("the server stopped answering: {e}; waiting for {expected:?}"),
        }
    }
    send(
        &client,
        Notification::new("exit".into(), Value::Null).into(),
    );
    drop(client);
    let _ = server.join().expect("server thread panicked");
}

fn send(conn: &Connection, msg: Message) {
    // A server that already stopped (a failed initialize) drops its receiver.
    let _ = conn.sender.send(msg);
}

/// The starting corpus of `target`: fixtures from this repository, the real packs and
/// profiles of `../shared/corpus` when it is there, and `fuzz/regressions/<target>/*`
/// (inputs that once crashed).
pub fn seeds(target: &str) -> Vec<Vec<u8>> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let corpus = repo.join("../shared/corpus");
    let mut pack_dirs: Vec<PathBuf> = Vec::new();
    for base in [
        repo.join("fixtures/packs/valid"),
        repo.join("fixtures/packs/invalid"),
    ] {
        pack_dirs.extend(subdirs(&base));
    }
    let central = corpus.join("pack-central");
    for name in subdirs(&central) {
        pack_dirs.extend(subdirs(&name));
    }
    let read = |p: &Path| fs::read(p).ok();
    let mut out: Vec<Vec<u8>> = Vec::new();
    match target {
        "pack_json" => out.extend(pack_dirs.iter().filter_map(|d| read(&d.join("pack.json")))),
        "pack_yaml" => {
            for d in &pack_dirs {
                for (tag, file) in [
                    (0u8, "values.yaml"),
                    (1, "presets.yaml"),
                    (2, "schema.yaml"),
                ] {
                    if let Some(mut b) = read(&d.join(file)) {
                        b.insert(0, tag);
                        out.push(b);
                    }
                }
            }
        }
        "profile" => {
            let mut files = Vec::new();
            for base in [
                repo.join("fixtures/profiles/valid"),
                repo.join("fixtures/profiles/invalid"),
                corpus.join("profiles"),
            ] {
                files.extend(files_in(&base));
            }
            for f in files {
                let tag = match f.extension().and_then(|e| e.to_str()) {
                    Some("json") => 0u8,
                    Some("yaml" | "yml") => 1,
                    _ => continue,
                };
                if let Some(mut b) = read(&f) {
                    b.insert(0, tag);
                    out.push(b);
                }
            }
        }
        "archive" => {
            let tmp = tempfile::tempdir().unwrap();
            // Small packs only: the seed corpus should run in seconds.
            for d in pack_dirs.iter().filter(|d| tree_size(d) < 256 << 10) {
                let out_file = tmp.path().join("seed.tar.gz");
                if spectro_packs::archive::build_archive(d, &out_file, &BuildOptions::default())
                    .is_ok()
                {
                    out.extend(read(&out_file));
                }
            }
        }
        "oci" => out.extend(OCI_SEEDS.iter().map(|s| s.as_bytes().to_vec())),
        "reference" => out.extend(REFERENCE_SEEDS.iter().map(|s| s.as_bytes().to_vec())),
        "config" => out.extend(CONFIG_SEEDS.iter().map(|s| s.as_bytes().to_vec())),
        "lsp" => out.extend(LSP_SEEDS.iter().map(|s| s.as_bytes().to_vec())),
        "server" => out.extend(SERVER_SEEDS.iter().map(|s| s.as_bytes().to_vec())),
        _ => {}
    }
    out.extend(
        files_in(&repo.join("fuzz/regressions").join(target))
            .iter()
            .filter_map(|f| read(f)),
    );
    out
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .map(|r| {
            r.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .map(|r| {
            r.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn tree_size(dir: &Path) -> u64 {
    fn walk(p: &Path, total: &mut u64) {
        if let Ok(rd) = fs::read_dir(p) {
            for e in rd.flatten() {
                match e.file_type() {
                    Ok(t) if t.is_dir() => walk(&e.path(), total),
                    Ok(_) => *total += e.metadata().map(|m| m.len()).unwrap_or(0),
                    Err(_) => {}
                }
            }
        }
    }
    let mut total = 0;
    walk(dir, &mut total);
    total
}

const OCI_SEEDS: &[&str] = &[
    r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.spectrocloud.pack","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2,"data":"e30="},"layers":[{"mediaType":"application/vnd.spectrocloud.pack.v1.tar+gzip","digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","size":0,"annotations":{"org.opencontainers.image.title":"hello-1.0.0.tar.gz"}}],"annotations":{"org.opencontainers.image.created":"2026-01-01T00:00:00Z"}}"#,
    r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","size":7,"annotations":{"org.opencontainers.image.ref.name":"spectro-packs/archive/hello:1.0.0"}}]}"#,
    r#"{"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:../../x","size":-1},"layers":[]}"#,
];

const SERVER_SEEDS: &[&str] = &[
    "/v2/",
    "/health",
    "/v2/_catalog",
    "/v2/base/spectro-packs/archive/nginx/manifests/1.11.2",
    "/v2/a/manifests/sha256:0000000000000000000000000000000000000000000000000000000000000000",
    "/v2/a/b/blobs/sha512:00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "/v2/a/blobs/uploads/",
    "/v2/a/blobs/uploads/0123456789abcdef0123456789abcdef",
    "/v2/x/manifests/manifests/1.0",
    "/v2/a/tags/list",
    "/v2/a/referrers/sha256:0000000000000000000000000000000000000000000000000000000000000000",
    "/v2/../x/tags/list\nalice:$2y$05$SrdfiFqCO3cyLjiS1TSX4OscJoGbPF9ZN0Ol7LIlVkO0MpbB/NxSS\nbob:$2y$05$abc:pull",
    "/v2/a//b/blobs/uploads\n# comment\nx:$apr1$y$z",
];

const REFERENCE_SEEDS: &[&str] = &[
    "hello-universe:1.2.0",
    "hello-universe:1.x",
    "hello@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "oci://registry.example.com:5000/base/path",
    "oci://user:pass@h//base",
    "file:///tmp/packs",
    "~/packs",
    "spectro-packs/archive/Hello",
    "1.2.3-rc.1+build.7",
    "1.2.x\n1.2.9",
    "*\n0.0.1",
    "v1.28.x\nv1.28.3",
];

const CONFIG_SEEDS: &[&str] = &[
    "[lint]\nselect = [\"PK\"]\nignore = [\"PK008\"]\nseverity = { PK006 = \"error\" }\n\n[lint.per-path.\"charts/**\"]\nignore = [\"VL\"]\n",
    "[tool.spectro.lint]\nextend-select = [\"SP\"]\n",
    "[lint]\nselect = [\"€\"]\n",
];

/// LSP sessions: the first line is the `initialize` params; `$ROOT` is the scratch pack.
const LSP_SEEDS: &[&str] = &[
    concat!(
        r#"{"capabilities":{"general":{"positionEncodings":["utf-8","utf-16"]}},"initializationOptions":{"select":["PK","VL"]}}"#,
        "\n",
        r#"{"method":"textDocument/didOpen","params":{"textDocument":{"uri":"file://$ROOT/values.yaml","languageId":"yaml","version":1,"text":"pack:\n  namespace: My NS\n"}}}"#,
        "\n",
        r#"{"method":"textDocument/didChange","params":{"textDocument":{"uri":"file://$ROOT/values.yaml","version":2},"contentChanges":[{"range":{"start":{"line":1,"character":13},"end":{"line":1,"character":15}},"text":"😀"}]}}"#,
        "\n",
        r#"{"id":1,"method":"textDocument/hover","params":{"textDocument":{"uri":"file://$ROOT/values.yaml"},"position":{"line":1,"character":4}}}"#,
        "\n",
        r#"{"id":2,"method":"textDocument/codeAction","params":{"textDocument":{"uri":"file://$ROOT/values.yaml"},"range":{"start":{"line":1,"character":0},"end":{"line":1,"character":99}},"context":{"diagnostics":[]}}}"#,
        "\n",
        r#"{"method":"workspace/didChangeConfiguration","params":{"settings":{"spectro":{"ignore":["PK008"]}}}}"#,
        "\n",
        r#"{"method":"textDocument/didClose","params":{"textDocument":{"uri":"file://$ROOT/values.yaml"}}}"#,
    ),
    concat!(
        r#"{"capabilities":{}}"#,
        "\n",
        r#"{"method":"textDocument/didOpen","params":{"textDocument":{"uri":"file://$ROOT/pack.json","languageId":"json","version":1,"text":"{\"name\": \"fuzz\", \"version\": \"x\"}"}}}"#,
        "\n",
        r#"{"method":"textDocument/didChange","params":{"textDocument":{"uri":"file://$ROOT/pack.json","version":2},"contentChanges":[{"range":{"start":{"line":4294967295,"character":4294967295},"end":{"line":0,"character":0}},"text":"x"}]}}"#,
        "\n",
        r#"{"id":1,"method":"textDocument/hover","params":{"textDocument":{"uri":"file://$ROOT/pack.json"},"position":{"line":99999,"character":2147483647}}}"#,
        "\n",
        r#"{"method":"textDocument/didSave","params":{"textDocument":{"uri":"file://$ROOT/pack.json"}}}"#,
        "\n",
        r#"{"id":2,"method":"no/such/method","params":null}"#,
    ),
];
