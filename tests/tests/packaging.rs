//! What `cargo add spectro-packs` gives a user: a crate that packages with everything it
//! embeds, and a default build without an HTTP stack.

use std::process::Command;

use spectro_tests::repo_root;

fn cargo(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO"))
        .args(args)
        .current_dir(repo_root())
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// Crate names in `cargo tree` output for spectro-packs with `features`.
fn dependencies(features: &[&str]) -> Vec<String> {
    let mut args = vec![
        "tree",
        "--locked",
        "-q",
        "-p",
        "spectro-packs",
        "-e",
        "normal",
    ];
    args.extend_from_slice(&["--prefix", "none"]);
    args.extend_from_slice(features);
    let mut names: Vec<String> = cargo(&args)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect();
    names.sort();
    names.dedup();
    names
}

const HTTP_STACK: &[&str] = &["reqwest", "rustls", "hyper", "tokio", "h2", "ring"];

#[test]
fn default_and_no_default_builds_have_no_http_stack() {
    for features in [&["--no-default-features"][..], &[][..]] {
        let deps = dependencies(features);
        let found: Vec<&&str> = HTTP_STACK
            .iter()
            .filter(|c| deps.iter().any(|d| d == *c))
            .collect();
        assert!(
            found.is_empty(),
            "spectro-packs {features:?} depends on {found:?}"
        );
        assert!(deps.iter().any(|d| d == "serde_json"), "{deps:?}");
    }
}

#[test]
fn remote_feature_brings_the_http_client() {
    let deps = dependencies(&["--features", "remote"]);
    for c in ["reqwest", "rustls"] {
        assert!(deps.iter().any(|d| d == c), "remote lacks {c}: {deps:?}");
    }
}

#[test]
fn packaged_crate_holds_what_it_embeds_and_documents() {
    let files = cargo(&[
        "package",
        "--list",
        "--locked",
        "--allow-dirty",
        "-p",
        "spectro-packs",
    ]);
    let files: Vec<&str> = files.lines().collect();
    let schemas = std::fs::read_dir(repo_root().join("spectro-packs/schemas")).unwrap();
    for s in schemas {
        let name = format!("schemas/{}", s.unwrap().file_name().to_string_lossy());
        assert!(
            files.contains(&name.as_str()),
            "{name} not packaged: {files:?}"
        );
    }
    for f in [
        "README.md",
        "LICENSE",
        "Cargo.toml",
        "src/lib.rs",
        "examples/validate.rs",
        "examples/build_archive.rs",
        "examples/registry_roundtrip.rs",
    ] {
        assert!(files.contains(&f), "{f} not packaged: {files:?}");
    }
    // Nothing from outside the crate (fixtures, tests) is needed or shipped.
    assert!(
        !files
            .iter()
            .any(|f| f.starts_with("tests/") || f.contains("fixtures")),
        "{files:?}"
    );
}
