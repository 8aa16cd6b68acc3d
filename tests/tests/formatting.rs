//! Every Rust file of the workspace is formatted, whether or not `cargo fmt` can reach
//! it: a module declared inside a macro is invisible to `cargo fmt --check`, so this
//! runs rustfmt on each file directly.
#![allow(clippy::print_stderr)] // skip messages

use std::path::{Path, PathBuf};
use std::process::Command;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn every_rust_file_is_rustfmt_clean() {
    if Command::new("rustfmt").arg("--version").output().is_err() {
        eprintln!("skipped: rustfmt is not installed");
        return;
    }
    let root = spectro_tests::repo_root();
    let mut files = Vec::new();
    for dir in [
        "spectro-packs/src",
        "spectro-packs/examples",
        "spectro-cli/src",
        "spectro-py/src",
        "tests/src",
        "tests/tests",
    ] {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(files.len() > 100, "found only {} files", files.len());
    let out = Command::new("rustfmt")
        .args(["--check", "--edition", "2024"])
        .args(&files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "rustfmt would change these files:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
