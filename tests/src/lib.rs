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
