//! `spectro registry serve` killed with SIGKILL in the middle of concurrent pushes: the
//! registry folder is never corrupt or half-visible (every listed manifest and every
//! blob it references is complete and hashes to its name), and a restarted server takes
//! the same pushes and serves them byte-identical.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use spectro_packs::registry::{
    OciRegistry, PackRef, PullOptions, PushOptions, Registry, RegistryLocation, RemoteOptions,
};
use spectro_tests::conformance::versioned;
use spectro_tests::spectro_bin;

fn start(root: &Path) -> (Child, SocketAddr) {
    let mut child = Command::new(spectro_bin())
        .args([
            "registry",
            "serve",
            "--quiet",
            "--addr",
            "127.0.0.1:0",
            "--root",
        ])
        .arg(root)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let addr = first
        .split("http://")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("unexpected first line: {first}"))
        .parse()
        .unwrap();
    std::thread::spawn(move || for _ in lines {});
    (child, addr)
}

fn client(addr: SocketAddr) -> OciRegistry {
    let mut o = RemoteOptions::default();
    o.plain_http = true;
    o.retry = o.retry.clone().with_max_retries(0);
    o.timeout = Duration::from_secs(5);
    let loc = RegistryLocation::parse(&format!("oci://{addr}/crash")).unwrap();
    OciRegistry::connect(&loc, o).unwrap()
}

/// A pack with an incompressible 16 MiB file, so a push spends real time in its upload.
fn big_pack(work: &Path, version: &str) -> PathBuf {
    let dir = versioned("hello-universe", version, work);
    let data = spectro_tests::noise(16 << 20, 0x9e37_79b9_7f4a_7c15 ^ version.len() as u64);
    std::fs::write(dir.join("blob.bin"), data).unwrap();
    dir
}

fn sha256_hex(bytes: &[u8]) -> String {
    spectro_packs::registry::oci::sha256_digest(bytes)["sha256:".len()..].to_owned()
}

/// Every layout under `root`: index.json parses; every listed manifest and every blob
/// it references exists and hashes to its digest; every blob file hashes to its name.
fn fsck(root: &Path) -> usize {
    let mut checked = 0;
    for e in walk(root) {
        if e.file_name().is_some_and(|n| n == "index.json") {
            let dir = e.parent().unwrap();
            let index: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&e).unwrap()).expect("index.json parses");
            for m in index["manifests"].as_array().unwrap() {
                let d = m["digest"].as_str().unwrap();
                let bytes = blob(dir, d);
                let manifest: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                let mut refs = vec![manifest["config"]["digest"].as_str().unwrap().to_owned()];
                for l in manifest["layers"].as_array().unwrap() {
                    refs.push(l["digest"].as_str().unwrap().to_owned());
                }
                for r in refs {
                    blob(dir, &r);
                }
                checked += 1;
            }
        }
        if e.parent()
            .and_then(|p| p.file_name())
            .is_some_and(|n| n == "sha256")
        {
            let name = e.file_name().unwrap().to_string_lossy().into_owned();
            if !name.starts_with('.') {
                assert_eq!(
                    sha256_hex(&std::fs::read(&e).unwrap()),
                    name,
                    "{} does not hash to its name",
                    e.display()
                );
            }
        }
    }
    checked
}

fn blob(layout: &Path, digest: &str) -> Vec<u8> {
    let hex = digest.strip_prefix("sha256:").unwrap();
    let p = layout.join("blobs/sha256").join(hex);
    let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    assert_eq!(sha256_hex(&bytes), hex);
    bytes
}

fn walk(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn kill_9_during_pushes_leaves_nothing_corrupt_or_half_visible() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("registry");
    let work = tempfile::tempdir().unwrap();
    let versions = ["1.0.0", "1.1.0", "1.2.0", "1.3.0"];
    let packs: Vec<PathBuf> = versions
        .iter()
        .map(|v| big_pack(&work.path().join(v), v))
        .collect();
    let mut interrupted = 0;
    for round in 0..3u64 {
        let (mut server, addr) = start(&root);
        let pushers: Vec<_> = packs
            .iter()
            .cloned()
            .map(|p| {
                std::thread::spawn(move || {
                    let mut o = PushOptions::default();
                    o.no_validate = true;
                    o.force = true;
                    client(addr).push(&p, &o).is_ok()
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(150 + 200 * round));
        server.kill().unwrap();
        server.wait().unwrap();
        interrupted += pushers
            .into_iter()
            .map(|t| t.join().unwrap())
            .filter(|ok| !ok)
            .count();
        fsck(&root);
    }
    assert!(
        interrupted > 0,
        "no push was interrupted: the test proved nothing"
    );
    // A restarted server takes every push and serves it back as pushed.
    let (mut server, addr) = start(&root);
    let reg = client(addr);
    let out = tempfile::tempdir().unwrap();
    for (p, v) in packs.iter().zip(versions) {
        let mut o = PushOptions::default();
        o.no_validate = true;
        let pushed = reg.push(p, &o).unwrap();
        let pulled = reg
            .pull(
                &PackRef::parse(&format!("hello-universe:{v}")).unwrap(),
                out.path(),
                &PullOptions::default().with_archive_only(true),
            )
            .unwrap();
        assert_eq!(pulled.archive_digest, pushed.archive_digest);
    }
    server.kill().unwrap();
    server.wait().unwrap();
    assert_eq!(fsck(&root), versions.len());
}

/// SIGTERM (what `docker stop`, systemd and CI cancellation send) with an upload in
/// flight: the server stops taking connections, gives in-flight requests their time,
/// cuts the stalled one at its idle timeout, exits 0, and leaves no upload file behind.
#[test]
fn sigterm_drains_and_drops_unfinished_uploads() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("registry");
    let (mut server, addr) = start(&root);
    // An upload session with a body that stops halfway.
    let mut c = std::net::TcpStream::connect(addr).unwrap();
    c.write_all(
        b"POST /v2/t/blobs/uploads/?digest=sha256:0000000000000000000000000000000000000000000000000000000000000000 HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n",
    )
    .unwrap();
    c.write_all(&[0u8; 4096]).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let uploads = root.join(".uploads");
    assert_eq!(
        std::fs::read_dir(&uploads).unwrap().count(),
        1,
        "the upload has a file"
    );
    let started = std::time::Instant::now();
    let status = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    // New connections are refused once the listener is closed.
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "still accepting after SIGTERM"
    );
    let code = server.wait().unwrap();
    assert!(code.success(), "exit status {code:?}");
    // The stalled body is cut at the idle timeout (60 s by default) at the latest.
    assert!(started.elapsed() < Duration::from_secs(75));
    assert_eq!(
        std::fs::read_dir(&uploads).unwrap().count(),
        0,
        "upload file left"
    );
    assert!(
        !root.join("t/blobs").exists(),
        "a partial blob became visible"
    );
}
