//! Output formats for editors and CI: SARIF 2.1.0 (validated against the official schema),
//! GitHub workflow annotations, embedded JSON Schemas, completions and the man page.
#![allow(clippy::print_stderr)] // skip messages

use std::process::Command;

use serde_json::Value;
use spectro_tests::{fixtures, spectro_bin};

fn run(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(spectro_bin())
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (out.status.code(), String::from_utf8(out.stdout).unwrap())
}

fn sarif_for(dir: &str) -> Value {
    let path = fixtures().join("packs").join(dir);
    let (code, out) = run(&["validate", "--format", "sarif", path.to_str().unwrap()]);
    assert!(matches!(code, Some(0 | 1)));
    serde_json::from_str(&out).unwrap()
}

#[test]
fn sarif_has_rules_results_and_regions() {
    let log = sarif_for("invalid/PK006-invalid-enum-value");
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(rules.len() >= 40);
    let result = &run["results"][0];
    assert_eq!(result["ruleId"], "PK006");
    assert_eq!(result["level"], "error");
    let idx = result["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(rules[idx]["id"], "PK006");
    assert!(
        rules[idx]["help"]["text"]
            .as_str()
            .unwrap()
            .contains("## Why")
    );
    let loc = &result["locations"][0]["physicalLocation"];
    assert!(
        loc["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("PK006-invalid-enum-value/pack.json")
    );
    assert_eq!(
        (
            loc["region"]["startLine"].as_u64(),
            loc["region"]["startColumn"].as_u64()
        ),
        (Some(14), Some(12))
    );
}

#[test]
fn sarif_validates_against_the_sarif_2_1_0_schema() {
    let Some(schema_path) = std::env::var_os("SARIF_SCHEMA") else {
        eprintln!("SKIP: SARIF_SCHEMA not set (scripts/test.sh fetches the official schema)");
        return;
    };
    let mut schema: Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    // The published schema has a typo in the `language` patterns (`...{2}]?$`, an
    // unbalanced `]`) that strict regex engines reject while compiling the schema; use the
    // intended pattern wherever it appears.
    fix_patterns(&mut schema);
    let validator = jsonschema::options().build(&schema).unwrap();
    for dir in [
        "invalid/PK006-invalid-enum-value",
        "invalid/PK017-missing-logo",
        "invalid",
        "valid",
    ] {
        let log = sarif_for(dir);
        let errors: Vec<String> = validator
            .iter_errors(&log)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{dir}: {errors:#?}");
    }
}

fn fix_patterns(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, child) in m.iter_mut() {
                if k == "pattern" && child.as_str().is_some_and(|p| p.ends_with("{2}]?$")) {
                    *child = Value::String("^[a-zA-Z]{2}(-[a-zA-Z]{2})?$".into());
                } else {
                    fix_patterns(child);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(fix_patterns),
        _ => {}
    }
}

#[test]
fn github_annotations_are_escaped_and_located() {
    let path = fixtures().join("packs/invalid/VL004-image-entry-without-image");
    let (code, out) = run(&["validate", "--format", "github", path.to_str().unwrap()]);
    assert_eq!(code, Some(1));
    let line = out.lines().next().unwrap();
    assert!(line.starts_with("::error file="), "{line}");
    assert!(
        line.contains("values.yaml,line=7,col=9,title=VL004 image-entry-without-image::"),
        "{line}"
    );
    let path = fixtures().join("packs/invalid/PK010-version-leading-v");
    let (_, out) = run(&["validate", "--format", "github", path.to_str().unwrap()]);
    assert!(out.starts_with("::warning "), "{out}");
}

#[test]
fn schemas_are_printed_and_are_the_repository_files() {
    for (kind, file) in [
        ("pack", "pack.schema.json"),
        ("presets", "presets.schema.json"),
        ("schema-yaml", "schema-yaml.schema.json"),
    ] {
        let (code, out) = run(&["schema", kind]);
        assert_eq!(code, Some(0));
        let repo =
            std::fs::read_to_string(spectro_tests::repo_root().join("schemas").join(file)).unwrap();
        assert_eq!(out, repo);
        let v: Value = serde_json::from_str(&out).unwrap();
        assert!(v["$id"].as_str().unwrap().ends_with(file));
    }
}

#[test]
fn completions_and_man_page() {
    for shell in ["bash", "zsh", "fish"] {
        let (code, out) = run(&["completions", shell]);
        assert_eq!(code, Some(0));
        assert!(out.contains("validate") && out.contains("push"), "{shell}");
    }
    let (code, out) = run(&["man"]);
    assert_eq!(code, Some(0));
    assert!(
        out.starts_with(".ie") || out.contains(".TH"),
        "roff expected"
    );
    let (code, out) = run(&["--version"]);
    assert_eq!(code, Some(0));
    assert!(out.starts_with("spectro "));
    for sub in [
        &["validate", "--help"][..],
        &["pack", "push", "--help"],
        &["profile", "validate", "--help"],
    ] {
        let (_, out) = run(sub);
        assert!(out.contains("Examples:"), "{sub:?} --help has examples");
    }
}
