//! docs/limits.md shows the limits table the library defines, and `--limit` reaches the
//! commands.

use spectro_tests::{fixtures, repo_root, run_spectro};

const BEGIN: &str = "<!-- begin generated: spectro_packs::limits::markdown() -->\n";
const END: &str = "<!-- end generated -->";

#[test]
fn docs_limits_md_is_the_generated_table() {
    let path = repo_root().join("docs/limits.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let (head, rest) = doc.split_once(BEGIN).expect("begin marker");
    let (_, tail) = rest.split_once(END).expect("end marker");
    let want = format!(
        "{head}{BEGIN}{}{END}{tail}",
        spectro_packs::limits::markdown()
    );
    if std::env::var_os("SPECTRO_BLESS").is_some() {
        std::fs::write(&path, &want).unwrap();
        return;
    }
    assert!(
        doc == want,
        "docs/limits.md is out of date: run SPECTRO_BLESS=1 cargo test -p spectro-tests --test limits_doc"
    );
}

fn spectro(args: &[&str]) -> spectro_tests::Run {
    let home = tempfile::tempdir().unwrap();
    run_spectro(home.path(), args, &[], None)
}

#[test]
fn limit_flags_reach_validate_and_bad_ones_are_usage_errors() {
    let pack = fixtures().join("packs/valid/hello-universe");
    // values.yaml is a few hundred bytes: a 100-byte cap makes it a finding (FS002).
    let out = spectro(&[
        "validate",
        pack.to_str().unwrap(),
        "--limit",
        "file-size=100",
        "--format",
        "json",
    ]);
    assert!(out.out.contains("FS002"), "{}", out.out);
    let out = spectro(&["validate", pack.to_str().unwrap()]);
    assert!(!out.out.contains("FS002"), "{}", out.out);
    for bad in ["file-size=0", "file-sise=1", "file-size", "retries=3s"] {
        let out = spectro(&["validate", pack.to_str().unwrap(), "--limit", bad]);
        assert_eq!(out.code, Some(2), "{bad}: {}", out.err);
        assert!(out.err.contains("--limit"), "{bad}: {}", out.err);
    }
    let out = spectro(&["limits", "--limit", "retries=2", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out.out).unwrap();
    let retries = v["limits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["key"] == "retries")
        .unwrap();
    assert_eq!(retries["value"], 2);
    assert_eq!(retries["default"], 5);
}
