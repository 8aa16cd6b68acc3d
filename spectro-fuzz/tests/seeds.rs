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

macro_rules! seed_tests {
    ($($name:ident),* $(,)?) => {
        $(#[test] fn $name() { run(stringify!($name)); })*
        #[test]
        fn every_target_has_a_test_and_a_cargo_fuzz_entry() {
            let tested = [$(stringify!($name)),*];
            let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
            let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
            for (name, _) in spectro_fuzz::TARGETS {
                assert!(tested.contains(name), "{name} has no seed test");
                assert!(root.join("fuzz_targets").join(format!("{name}.rs")).is_file(), "fuzz/fuzz_targets/{name}.rs is missing");
                assert!(manifest.contains(&format!("name = \"{name}\"")), "fuzz/Cargo.toml has no [[bin]] {name}");
            }
        }
    };
}

seed_tests!(
    pack_json, pack_yaml, profile, archive, oci, reference, config, lsp
);
