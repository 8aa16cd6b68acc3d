//! Helpers shared by the end-to-end tests.

use std::path::PathBuf;

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
