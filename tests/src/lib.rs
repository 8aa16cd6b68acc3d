//! Helpers shared by the end-to-end tests.

use std::path::{Path, PathBuf};
#[cfg(target_os = "linux")]
use std::process::{Command, Stdio};

pub mod conformance;
pub mod fault_proxy;

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// `fixtures/` in the repository.
pub fn fixtures() -> PathBuf {
    repo_root().join("fixtures")
}

/// The shared real-world corpus (`../shared/corpus` beside the repository), if present.
pub fn corpus() -> Option<PathBuf> {
    let p = repo_root().join("../shared/corpus/pack-central");
    p.is_dir().then_some(p)
}

/// Path to a freshly built `spectro` binary.
///
/// The binary lives in another workspace crate, so cargo does not rebuild it for this
/// crate's tests; build it once per test process (a no-op when it is up to date).
pub fn spectro_bin() -> PathBuf {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = std::process::Command::new(cargo)
            .args(["build", "--quiet", "-p", "spectro-cli", "--bin", "spectro"])
            .current_dir(repo_root())
            .status()
            .expect("run cargo build");
        assert!(status.success(), "building spectro failed");
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo_root().join("target"));
        target
            .join("debug")
            .join(format!("spectro{}", std::env::consts::EXE_SUFFIX))
    })
    .clone()
}

/// The CNCF distribution registries `scripts/registries.sh` started for this run.
#[derive(Debug, Clone)]
pub struct TestRegistries {
    /// Anonymous registry, `127.0.0.1:PORT`.
    pub plain: String,
    /// htpasswd (Basic auth) registry, `127.0.0.1:PORT`.
    pub auth: String,
    /// User for `auth`.
    pub user: String,
    /// Password for `auth`.
    pub password: String,
    /// Anonymous registry over TLS, `127.0.0.1:PORT`.
    pub tls: String,
    /// The CA (PEM) that signed `tls`'s certificate.
    pub ca: PathBuf,
    /// Anonymous registry with deletes disabled (distribution's default), `127.0.0.1:PORT`.
    pub nodelete: String,
}

/// The test registries, or `None` (with a message) when they were not started: run the
/// suite through `scripts/test.sh`. With `SPECTRO_REQUIRE_REGISTRY=1` (set by that
/// script) a missing registry fails the test instead of skipping it.
pub fn test_registries() -> Option<TestRegistries> {
    let get = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    match (
        get("SPECTRO_TEST_REGISTRY"),
        get("SPECTRO_TEST_REGISTRY_AUTH"),
        get("SPECTRO_TEST_REGISTRY_USER"),
        get("SPECTRO_TEST_REGISTRY_PASS"),
        get("SPECTRO_TEST_REGISTRY_TLS"),
        get("SPECTRO_TEST_CA"),
        get("SPECTRO_TEST_REGISTRY_NODELETE"),
    ) {
        (
            Some(plain),
            Some(auth),
            Some(user),
            Some(password),
            Some(tls),
            Some(ca),
            Some(nodelete),
        ) => Some(TestRegistries {
            plain,
            auth,
            user,
            password,
            tls,
            ca: ca.into(),
            nodelete,
        }),
        _ => {
            assert!(
                std::env::var_os("SPECTRO_REQUIRE_REGISTRY").is_none(),
                "SPECTRO_REQUIRE_REGISTRY is set but the test registries are not"
            );
            #[allow(clippy::print_stderr)]
            {
                eprintln!(
                    "skipped: no test registry (run scripts/test.sh, which starts CNCF distribution)"
                );
            }
            None
        }
    }
}

/// A fresh, unique base path for one test (`t<random>`), so tests sharing a registry
/// never see each other's packs.
pub fn unique_base(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}{}x{}x{}",
        std::process::id(),
        nanos,
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// `n` lines of comment text that gzip cannot shrink much (a xorshift stream in hex), to
/// make packs whose archives span many reads or fill small disks.
pub fn noise_lines(n: usize) -> String {
    let mut out = String::with_capacity(n * 40);
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for i in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.push_str(&format!("# {i} {x:016x}{x:016x}\n"));
    }
    out
}

/// Gzip `data` (one member, fast level).
pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).expect("write to memory");
    e.finish().expect("finish in memory")
}

/// What a `spectro` run printed and returned.
#[derive(Debug)]
pub struct Run {
    /// Exit code (`None` when killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub out: String,
    /// Standard error.
    pub err: String,
}

/// Run the `spectro` binary with `SPECTRO_HOME=home`, no Docker config, no registry or
/// credential variables and no colour, plus `env`; `stdin` is written to its input.
pub fn run_spectro(
    home: &std::path::Path,
    args: &[&str],
    env: &[(&str, &str)],
    stdin: Option<&str>,
) -> Run {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut cmd = Command::new(spectro_bin());
    cmd.args(args)
        .env("SPECTRO_HOME", home)
        .env("DOCKER_CONFIG", home.join("no-docker"))
        .env_remove("SPECTRO_REGISTRY_USERNAME")
        .env_remove("SPECTRO_REGISTRY_PASSWORD")
        .env_remove("SPECTRO_REGISTRY_HOST")
        .env_remove("SPECTRO_REGISTRY")
        .env_remove("SOURCE_DATE_EPOCH")
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("run spectro");
    if let Some(mut si) = child.stdin.take()
        && let Some(s) = stdin
    {
        si.write_all(s.as_bytes()).expect("write stdin");
    }
    let o = child.wait_with_output().expect("wait for spectro");
    Run {
        code: o.status.code(),
        out: String::from_utf8_lossy(&o.stdout).into_owned(),
        err: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// Unmounts on drop.
#[cfg(target_os = "linux")]
pub struct Unmount(PathBuf);

#[cfg(target_os = "linux")]
impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Mount a tmpfs (`size=...`) on `dir`, or say which case is skipped and return `None`
/// (mounting needs root; `scripts/test.sh` in CI runs as root).
#[cfg(target_os = "linux")]
#[allow(clippy::print_stderr)]
pub fn mount_tmpfs(dir: &Path, size: &str, case: &str) -> Option<Unmount> {
    let ok = Command::new("mount")
        .args(["-t", "tmpfs", "-o", size, "tmpfs"])
        .arg(dir)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("skipped: cannot mount a tmpfs here (needs root); {case}");
        return None;
    }
    Some(Unmount(dir.to_path_buf()))
}

/// `len` incompressible bytes (xorshift from `seed`): archives of them are as large as
/// the data, so a push or pull of them takes real time.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut data = vec![0u8; len];
    let mut x = seed | 1;
    for chunk in data.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
    }
    data
}
