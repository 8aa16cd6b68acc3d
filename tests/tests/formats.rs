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
        line.contains(
            "values.yaml,line=7,col=9,endLine=7,endColumn=14,title=VL004 image-entry-without-image::"
        ),
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

/// The pack and profile runs compared below: one finding each.
fn pack_and_profile(format: &str) -> [String; 2] {
    let pack = fixtures().join("packs/invalid/PK006-invalid-enum-value");
    let profile = fixtures().join("profiles/invalid/PF003-duplicate-core-layer.json");
    let packs = fixtures().join("profiles/packs");
    let root = spectro_tests::repo_root().display().to_string();
    let (a, pack_out) = run(&[
        "validate",
        "--isolated",
        "--format",
        format,
        "--select",
        "PK006",
        pack.to_str().unwrap(),
    ]);
    let (b, profile_out) = run(&[
        "profile",
        "validate",
        "--isolated",
        "--format",
        format,
        "--select",
        "PF003",
        "--packs",
        packs.to_str().unwrap(),
        profile.to_str().unwrap(),
    ]);
    assert_eq!((a, b), (Some(1), Some(1)), "{format}");
    // SARIF percent-encodes paths: the root as it appears there too.
    let encoded: String = root
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~/!".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    [pack_out, profile_out].map(|s| s.replace(&root, "<repo>").replace(&encoded, "<repo>"))
}

/// A JSON document's shape: keys and value kinds, not values.
fn shape(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
        Value::Array(a) => Value::Array(a.iter().take(1).map(shape).collect()),
        Value::Number(_) => Value::from("number"),
        Value::Bool(_) => Value::from("bool"),
        // `null` and strings both stand for optional text (name, version, layer).
        Value::Null | Value::String(_) => Value::from("text"),
    }
}

/// A text output's skeleton: what kind of line each line is.
fn skeleton(format: &str, text: &str) -> String {
    let loc = regex::Regex::new(r"^\S+:\d+:\d+: [A-Z]{2}\d{3} (error|warning|info) ").unwrap();
    let gutter = regex::Regex::new(r"^\d* +\|").unwrap();
    let attr = regex::Regex::new(r#""[^"]*""#).unwrap();
    let content = regex::Regex::new(r">[^<]+<").unwrap();
    let gh = regex::Regex::new(
        r"^::(error|warning|notice) file=[^,]+,line=\d+,col=\d+,endLine=\d+,endColumn=\d+,title=[^:]+::.+$",
    )
    .unwrap();
    // Help texts are optional (the pack's finding has one, the profile's not).
    let text = regex::Regex::new(r"\nhelp: [^<]*")
        .unwrap()
        .replace_all(text, "");
    text.lines()
        .filter(|l| !l.starts_with("  = help"))
        .map(|l| match format {
            "human" if loc.is_match(l) => "finding".to_owned(),
            "human" if gutter.is_match(l) => "source".to_owned(),
            "human" if l.starts_with("Checked 1 ") => "summary".to_owned(),
            "junit" => content
                .replace_all(&attr.replace_all(l, "\"\""), "><")
                .into_owned(),
            "github" if gh.is_match(l) => "annotation".to_owned(),
            _ => format!("unexpected: {l}"),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn pack_and_profile_output_have_one_shape_in_every_format() {
    for format in ["human", "json", "jsonl", "sarif", "github", "junit"] {
        let [pack, profile] = pack_and_profile(format);
        match format {
            "json" | "sarif" => {
                let a: Value = serde_json::from_str(&pack).unwrap();
                let b: Value = serde_json::from_str(&profile).unwrap();
                assert_eq!(shape(&a), shape(&b), "{format}");
            }
            "jsonl" => {
                let a: Vec<Value> = pack
                    .lines()
                    .map(|l| serde_json::from_str(l).unwrap())
                    .collect();
                let b: Vec<Value> = profile
                    .lines()
                    .map(|l| serde_json::from_str(l).unwrap())
                    .collect();
                assert_eq!(a.len(), 1);
                assert_eq!(shape(&a[0]), shape(&b[0]), "{format}");
            }
            _ => {
                let (a, b) = (skeleton(format, &pack), skeleton(format, &profile));
                assert!(!a.contains("unexpected"), "{format}: {a}\n{pack}");
                assert_eq!(a, b, "{format}:\n{pack}\n{profile}");
            }
        }
        // What each format prints, for review (SARIF without its 66 rule texts).
        let show = |s: &str| {
            if format == "sarif" {
                let mut v: Value = serde_json::from_str(s).unwrap();
                let n = v["runs"][0]["tool"]["driver"]["rules"]
                    .as_array()
                    .unwrap()
                    .len();
                v["runs"][0]["tool"]["driver"]["rules"] = Value::from(format!("<{n} rules>"));
                v["runs"][0]["tool"]["driver"]["version"] = Value::from("<version>");
                serde_json::to_string_pretty(&v).unwrap()
            } else {
                s.to_owned()
            }
        };
        insta::assert_snapshot!(format!("{format}-pack"), show(&pack));
        insta::assert_snapshot!(format!("{format}-profile"), show(&profile));
    }
}

#[test]
fn junit_is_well_formed_xml_with_a_case_per_finding() {
    let [pack, _] = pack_and_profile("junit");
    assert!(pack.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites"));
    assert_eq!(pack.matches("<testcase ").count(), 1);
    assert_eq!(pack.matches("<failure ").count(), 1);
    assert_eq!(pack.matches("</testsuite>").count(), 1);
    // A clean pack is one passing case.
    let clean = fixtures().join("packs/valid/hello-universe");
    let (code, out) = run(&[
        "validate",
        "--isolated",
        "--format",
        "junit",
        clean.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0));
    assert!(
        out.contains(r#"failures="0""#) && out.contains("<testcase name=\"pack\""),
        "{out}"
    );
    let sarif = sarif_for("invalid/PK006-invalid-enum-value");
    assert_eq!(sarif["runs"][0]["columnKind"], "unicodeCodePoints");
}
