//! The `spectro` binary: exit codes, output formats and the JSON contract.
#![allow(clippy::print_stderr)] // skip messages

use assert_cmd::Command;
use serde_json::Value;
use spectro_tests::fixtures;

fn spectro() -> Command {
    let mut c = Command::new(spectro_tests::spectro_bin());
    c.env("NO_COLOR", "1");
    c
}

fn fixture(kind: &str, name: &str) -> std::path::PathBuf {
    fixtures().join("packs").join(kind).join(name)
}

#[test]
fn clean_pack_exits_zero() {
    let out = spectro()
        .args(["validate"])
        .arg(fixture("valid", "hello-universe"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Checked 1 pack: 0 errors"));
}

#[test]
fn errors_exit_one_and_warnings_obey_fail_on() {
    let err = spectro()
        .arg("validate")
        .arg(fixture("invalid", "PK006-invalid-enum-value"))
        .output()
        .unwrap();
    assert_eq!(err.status.code(), Some(1));
    let warn = fixture("invalid", "PK010-version-leading-v");
    assert_eq!(
        spectro()
            .arg("validate")
            .arg(&warn)
            .output()
            .unwrap()
            .status
            .code(),
        Some(0)
    );
    let strict = spectro()
        .arg("validate")
        .arg(&warn)
        .args(["--fail-on", "warning"])
        .output()
        .unwrap();
    assert_eq!(strict.status.code(), Some(1));
}

#[test]
fn unusable_paths_exit_two() {
    let out = spectro()
        .args(["validate", "/nonexistent/spectro-path"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such file or directory"));
    let empty = tempfile::tempdir().unwrap();
    let out = spectro()
        .arg("validate")
        .arg(empty.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no pack found"));
    let out = spectro()
        .args(["validate", "x", "--format", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "clap usage errors exit 2");
}

#[test]
fn human_output_shows_location_source_line_and_help() {
    let dir = fixture("invalid", "PK006-invalid-enum-value");
    let out = spectro().arg("validate").arg(&dir).output().unwrap();
    let text = String::from_utf8(out.stdout)
        .unwrap()
        .replace(&dir.display().to_string(), "[PACK]");
    insta::assert_snapshot!(text, @r#"
    [PACK]/pack.json:14:12: PK006 error `layer` is `addons`, expected one of: kernel, os, k8s, cni, csi, addon
       |
    14 |   "layer": "addons",
       |            ^^^^^^^^
      = help: did you mean `addon`?
    Checked 1 pack: 1 error, 0 warnings, 0 info findings
    "#);
}

#[test]
fn json_output_follows_the_documented_contract() {
    let out = spectro()
        .args(["validate", "--format", "json"])
        .arg(fixture("invalid", "VL004-image-entry-without-image"))
        .arg(fixture("valid", "hello-universe"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let packs = v["reports"].as_array().unwrap();
    assert_eq!(packs.len(), 2);
    for key in ["kind", "path", "name", "version", "layer", "diagnostics"] {
        assert!(packs[0].get(key).is_some(), "pack key {key}");
    }
    assert_eq!(packs[0]["name"], "hello-universe");
    assert_eq!(packs[0]["layer"], "addon");
    let d = &packs[0]["diagnostics"][0];
    for key in [
        "code",
        "name",
        "severity",
        "message",
        "file",
        "pointer",
        "line",
        "column",
        "end_line",
        "end_column",
    ] {
        assert!(d.get(key).is_some(), "diagnostic key {key}");
    }
    assert_eq!(d["code"], "VL004");
    assert_eq!(d["file"], "values.yaml");
    assert_eq!(d["pointer"], "/pack/content/images/1");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(7), Some(9))
    );
    // The token is `iamge`: columns 9 to 13, the end exclusive.
    assert_eq!(
        (d["end_line"].as_u64(), d["end_column"].as_u64()),
        (Some(7), Some(14))
    );
    assert_eq!(packs[0]["kind"], "pack");
    assert_eq!(v["summary"]["checked"], 2);
    assert_eq!(v["summary"]["errors"], 1);
    assert_eq!(v["summary"]["warnings"], 0);
}

#[test]
fn jsonl_is_one_finding_per_line() {
    let out = spectro()
        .args(["validate", "--format", "jsonl"])
        .arg(fixtures().join("packs/invalid"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.len() >= 39);
    assert!(
        lines
            .iter()
            .all(|l| l["path"].is_string() && l["code"].is_string())
    );
}

#[test]
fn folders_are_searched_recursively() {
    let out = spectro()
        .args(["validate", "-q"])
        .arg(fixtures().join("packs/valid"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Checked 7 packs"));
}

#[test]
fn rules_lists_and_explains() {
    let out = spectro().arg("rules").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().count() >= 39);
    assert!(text.contains("PK006  invalid-enum-value"));
    let out = spectro().args(["rules", "vl004"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("# VL004 image-entry-without-image") && text.contains("iamge"));
    assert_eq!(
        spectro()
            .args(["rules", "XX999"])
            .output()
            .unwrap()
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn rule_selection_silences_and_promotes_findings() {
    // A real corpus pack with one VL003 warning and no error.
    let Some(corpus) = spectro_tests::corpus() else {
        eprintln!("skipped: ../shared/corpus not present");
        return;
    };
    let pack = corpus.join("argo-cd/3.3.5");
    let codes = |args: &[&str]| -> (Option<i32>, Vec<(String, String)>) {
        let out = spectro()
            .arg("validate")
            .arg(&pack)
            .args(["--format", "json"])
            .args(args)
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        let found = v["reports"][0]["diagnostics"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|d| {
                        (
                            d["code"].as_str().unwrap().to_owned(),
                            d["severity"].as_str().unwrap().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        (out.status.code(), found)
    };
    let (code, found) = codes(&[]);
    assert_eq!(code, Some(0));
    assert_eq!(found, [("VL003".to_owned(), "warning".to_owned())]);
    // Silenced by code, by name, by family; not by another family.
    for ignore in ["VL003", "missing-images", "VL", "vl00"] {
        assert_eq!(codes(&["--ignore", ignore]).1, [], "--ignore {ignore}");
    }
    assert_eq!(codes(&["--ignore", "PK"]).1.len(), 1);
    assert_eq!(codes(&["--select", "PK,YM"]).1, []);
    // The most specific selector decides: a code beats its family.
    assert_eq!(
        codes(&["--ignore", "VL", "--extend-select", "VL003"])
            .1
            .len(),
        1
    );
    // Promoted to an error: the exit code follows.
    let (code, found) = codes(&["--severity", "VL003=error"]);
    assert_eq!(code, Some(1));
    assert_eq!(found, [("VL003".to_owned(), "error".to_owned())]);
    // A selector that names no rule is a usage error, not a silent no-op.
    let out = spectro()
        .arg("validate")
        .arg(&pack)
        .args(["--ignore", "VL999"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("VL999"));
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

#[test]
fn corpus_pack_warning_silenced_by_flag_config_file_and_comment() {
    let Some(corpus) = spectro_tests::corpus() else {
        eprintln!("skipped: ../shared/corpus not present");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    let pack = repo.join("packs/argo-cd");
    copy_dir(&corpus.join("argo-cd/3.3.5"), &pack);
    let found = |args: &[&str]| -> Vec<(String, u64)> {
        let out = spectro()
            .arg("validate")
            .arg(&pack)
            .args(["--format", "json"])
            .args(args)
            .output()
            .unwrap();
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["reports"][0]["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["code"].as_str().unwrap().to_owned(),
                    d["line"].as_u64().unwrap_or(0),
                )
            })
            .collect()
    };
    let vl003 = vec![("VL003".to_owned(), 5)];
    assert_eq!(
        found(&[]),
        vl003,
        "the pack's one warning, at values.yaml:5"
    );

    // 1. A flag.
    assert_eq!(found(&["--ignore", "VL003"]), []);

    // 2. The configuration file, found from the pack upwards; --isolated skips it.
    let config = repo.join("spectro.toml");
    std::fs::write(&config, "[lint]\nignore = [\"VL003\"]\n").unwrap();
    assert_eq!(found(&[]), []);
    assert_eq!(found(&["--isolated"]), vl003);
    // The command line comes after the file: it can bring the rule back.
    assert_eq!(found(&["--extend-select", "VL003"]), vl003);
    // Per path, and from pyproject.toml's [tool.spectro].
    std::fs::write(
        &config,
        "[lint.per-path.\"packs/argo-*\"]\nignore = [\"missing-images\"]\n",
    )
    .unwrap();
    assert_eq!(found(&[]), []);
    std::fs::remove_file(&config).unwrap();
    std::fs::write(
        repo.join("pyproject.toml"),
        "[project]\nname = \"platform\"\n\n[tool.spectro.lint]\nignore = [\"VL\"]\n",
    )
    .unwrap();
    assert_eq!(found(&[]), []);
    let shown = spectro().arg("config").arg(&pack).output().unwrap();
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(
        shown.contains("pyproject.toml")
            && shown.contains("VL003 missing-images")
            && shown.contains("off"),
        "{shown}"
    );
    std::fs::remove_file(repo.join("pyproject.toml")).unwrap();
    // --config names a file anywhere.
    let elsewhere = tmp.path().join("ci.toml");
    std::fs::write(&elsewhere, "[lint.severity]\nVL003 = \"error\"\n").unwrap();
    let out = spectro()
        .arg("validate")
        .arg(&pack)
        .arg("--config")
        .arg(&elsewhere)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "promoted to an error by the file"
    );

    // 3. An inline comment: on the line, or alone on the line before.
    let values = pack.join("values.yaml");
    let original = std::fs::read_to_string(&values).unwrap();
    let mut lines: Vec<String> = original.lines().map(str::to_owned).collect();
    lines[4].push_str("  # spectro: ignore[VL003]");
    std::fs::write(&values, lines.join("\n") + "\n").unwrap();
    assert_eq!(found(&[]), []);
    let mut lines: Vec<String> = original.lines().map(str::to_owned).collect();
    lines.insert(
        4,
        "  # spectro: ignore[missing-images] images come from the chart".into(),
    );
    std::fs::write(&values, lines.join("\n") + "\n").unwrap();
    assert_eq!(found(&[]), []);

    // A suppression that silences nothing is itself a finding (SP001), at its code.
    let mut lines: Vec<String> = original.lines().map(str::to_owned).collect();
    lines[4].push_str("  # spectro: ignore[VL003, VL002]");
    std::fs::write(&values, lines.join("\n") + "\n").unwrap();
    assert_eq!(found(&[]), [("SP001".to_owned(), 5)]);
    let human = spectro().arg("validate").arg(&pack).output().unwrap();
    let human = String::from_utf8_lossy(&human.stdout);
    assert!(
        human.contains("values.yaml:5:49: SP001 warning suppression of `VL002` is unused"),
        "{human}"
    );
    // ... unless SP001 is itself ignored.
    assert_eq!(found(&["--ignore", "SP001"]), []);
}

#[test]
fn a_broken_config_file_is_an_error_naming_its_place() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = tmp.path().join("hello");
    copy_dir(&fixture("valid", "hello-universe"), &pack);
    std::fs::write(
        tmp.path().join("spectro.toml"),
        "[lint]\nselect = [\"PK\"]\nignor = [\"VL003\"]\n",
    )
    .unwrap();
    let out = spectro().arg("validate").arg(&pack).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("spectro.toml: line 3, column 1: unknown field `ignor`"),
        "{err}"
    );
    // The JSON Schema for the file is embedded and printed like the others.
    let schema = spectro().args(["schema", "config"]).output().unwrap();
    let v: Value = serde_json::from_slice(&schema.stdout).unwrap();
    assert_eq!(v["properties"]["lint"]["additionalProperties"], false);
}

#[test]
fn the_readme_config_example_loads_and_matches_the_config_schema() {
    // The `[lint]` example of the README, as users copy it.
    let readme = std::fs::read_to_string(spectro_tests::repo_root().join("README.md")).unwrap();
    let start = readme
        .find("```toml\n[lint]")
        .expect("README has a [lint] example")
        + 8;
    let example = &readme[start..start + readme[start..].find("```").unwrap()];
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("spectro.toml");
    std::fs::write(&file, example).unwrap();
    let settings = spectro_packs::settings::Settings::load(&file).unwrap();
    assert_eq!(settings.per_path.len(), 2);
    // The same file, as JSON, against the JSON Schema editors use.
    let doc: Value = toml::from_str(example).unwrap();
    let schema: Value =
        serde_json::from_str(spectro_packs::schema::SchemaKind::Config.text()).unwrap();
    let validator = jsonschema::options().build(&schema).unwrap();
    assert!(validator.is_valid(&doc), "{example}");
    // A typo is caught by both.
    let typo: Value = toml::from_str("[lint]\nignor = [\"VL003\"]\n").unwrap();
    assert!(!validator.is_valid(&typo));
}
