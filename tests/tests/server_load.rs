//! Load on loopback, bounded in time and count: 16 clients push and pull different packs
//! against one `spectro registry serve` for `SPECTRO_LOAD_SECONDS` (default 10; the test
//! command runs 60). Zero errors are allowed; afterwards every pushed pack is pulled again
//! and its digest re-verified, and the server's peak RSS is printed (and must stay under
//! 128 MiB).
#![allow(clippy::print_stdout)] // the load report is the point

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use spectro_packs::registry::{
    OciRegistry, PackRef, PullOptions, PushOptions, Registry, RegistryLocation, RemoteOptions,
};
use spectro_tests::conformance::versioned;
use spectro_tests::spectro_bin;

const CLIENTS: usize = 16;

fn client(addr: SocketAddr) -> OciRegistry {
    let mut o = RemoteOptions::default();
    o.plain_http = true;
    // No retries: an error under load must show, not be papered over.
    o.retry = o.retry.clone().with_max_retries(0);
    let loc = RegistryLocation::parse(&format!("oci://{addr}/load")).unwrap();
    OciRegistry::connect(&loc, o).unwrap()
}

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// A pack with a 1 MiB incompressible file, one per client and version.
fn pack(work: &Path, client: usize, version: &str) -> PathBuf {
    let dir = versioned(
        "hello-universe",
        version,
        &work.join(format!("c{client}-{version}")),
    );
    let data = spectro_tests::noise(
        1 << 20,
        0x2545_f491_4f6c_dd1d ^ (client as u64) << 32 ^ version.len() as u64,
    );
    std::fs::write(dir.join("blob.bin"), data).unwrap();
    dir
}

#[test]
fn sixteen_clients_push_and_pull_without_errors() {
    let seconds: u64 = std::env::var("SPECTRO_LOAD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let dir = tempfile::tempdir().unwrap();
    let mut server = Command::new(spectro_bin())
        .args([
            "registry",
            "serve",
            "--quiet",
            "--addr",
            "127.0.0.1:0",
            "--root",
        ])
        .arg(dir.path().join("registry"))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let addr: SocketAddr = first
        .split("http://")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap();
    std::thread::spawn(move || for _ in lines {});
    let work = tempfile::tempdir().unwrap();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let errors: Arc<Mutex<Vec<String>>> = Arc::default();
    // (client, version) -> archive digest as pushed.
    let pushed: Arc<Mutex<Vec<(usize, String, String)>>> = Arc::default();
    let ops = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let threads: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (errors, pushed, ops) = (errors.clone(), pushed.clone(), ops.clone());
            let work = work.path().to_path_buf();
            std::thread::spawn(move || {
                let reg = client(addr);
                // Each client its own pack name, so versions do not collide.
                let name = format!("hello-universe-c{c}");
                let mut round = 0u32;
                while Instant::now() < deadline {
                    let version = format!("1.{round}.0");
                    let src = pack(&work, c, &version);
                    let json = src.join("pack.json");
                    let text = std::fs::read_to_string(&json).unwrap();
                    std::fs::write(
                        &json,
                        text.replace("\"hello-universe\"", &format!("\"{name}\"")),
                    )
                    .unwrap();
                    let mut o = PushOptions::default();
                    o.no_validate = true;
                    match reg.push(&src, &o) {
                        Ok(p) => {
                            pushed
                                .lock()
                                .unwrap()
                                .push((c, version.clone(), p.archive_digest))
                        }
                        Err(e) => errors
                            .lock()
                            .unwrap()
                            .push(format!("push {name}:{version}: {e}")),
                    }
                    let out = tempfile::tempdir().unwrap();
                    let r = PackRef::parse(&format!("{name}:{version}")).unwrap();
                    if let Err(e) = reg.pull(
                        &r,
                        out.path(),
                        &PullOptions::default().with_archive_only(true),
                    ) {
                        errors
                            .lock()
                            .unwrap()
                            .push(format!("pull {name}:{version}: {e}"));
                    }
                    let _ = std::fs::remove_dir_all(&src);
                    ops.fetch_add(2, std::sync::atomic::Ordering::Relaxed);
                    round += 1;
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let errors = errors.lock().unwrap().clone();
    assert!(
        errors.is_empty(),
        "{} errors under load: {:?}",
        errors.len(),
        &errors[..errors.len().min(10)]
    );
    // Every pushed pack, pulled again, has the digest it was pushed with.
    let reg = client(addr);
    let pushed = pushed.lock().unwrap().clone();
    let out = tempfile::tempdir().unwrap();
    for (c, version, digest) in &pushed {
        let r = PackRef::parse(&format!("hello-universe-c{c}:{version}")).unwrap();
        let got = reg
            .pull(
                &r,
                out.path(),
                &PullOptions::default().with_archive_only(true),
            )
            .unwrap();
        assert_eq!(&got.archive_digest, digest);
        let _ = std::fs::remove_file(&got.path);
    }
    let rss = peak_rss_kib(server.id());
    server.kill().unwrap();
    server.wait().unwrap();
    let line = format!(
        "load: {CLIENTS} clients, {seconds} s, {} operations, {} packs re-verified, 0 errors, server peak RSS {} MiB",
        ops.load(std::sync::atomic::Ordering::Relaxed),
        pushed.len(),
        rss / 1024
    );
    println!("{line}");
    // The test command prints it at the end of the run.
    if let Some(report) = std::env::var_os("SPECTRO_LOAD_REPORT") {
        std::fs::write(report, format!("{line}\n")).unwrap();
    }
    assert!(rss < 128 * 1024, "server peak RSS {} MiB", rss / 1024);
}
