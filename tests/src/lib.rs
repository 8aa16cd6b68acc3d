//! Helpers shared by the end-to-end tests.

use std::path::PathBuf;

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
