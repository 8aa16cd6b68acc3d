#![allow(clippy::print_stderr)] // the seed count per target, for the log
//! Every fuzz target over its seed corpus and the committed crash regressions, once: the
//! fast regression run CI can afford (fuzzing itself is `scripts/fuzz.sh`).

fn run(target: &str) {
    let f = spectro_fuzz::target(target).unwrap();
    let seeds = spectro_fuzz::seeds(target);
    assert!(!seeds.is_empty(), "{target} has no seeds");
    for seed in &seeds {
        f(seed);
    }
    eprintln!("{target}: {} seeds", seeds.len());
}

#[test]
fn pack_json() {
    run("pack_json");
}

#[test]
fn pack_yaml() {
    run("pack_yaml");
}

#[test]
fn profile() {
    run("profile");
}

#[test]
fn archive() {
    run("archive");
}

#[test]
fn oci() {
    run("oci");
}

#[test]
fn reference() {
    run("reference");
}

#[test]
fn config() {
    run("config");
}

#[test]
fn lsp() {
    run("lsp");
}

/// Each target of the library has a test above and a cargo-fuzz entry point.
#[test]
fn every_target_has_a_test_and_a_cargo_fuzz_entry() {
    let crate_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let tests = std::fs::read_to_string(crate_dir.join("tests/seeds.rs")).unwrap();
    let root = crate_dir.join("../fuzz");
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    for (name, _) in spectro_fuzz::TARGETS {
        assert!(
            tests.contains(&format!("fn {name}()")),
            "{name} has no seed test"
        );
        assert!(
            root.join("fuzz_targets")
                .join(format!("{name}.rs"))
                .is_file(),
            "fuzz/fuzz_targets/{name}.rs is missing"
        );
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "fuzz/Cargo.toml has no [[bin]] {name}"
        );
    }
}

#[test]
fn server() {
    run("server");
}
