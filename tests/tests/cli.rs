//! The `spectro` binary: exit codes, output formats and the JSON contract.

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
       |            ^
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
    let packs = v["packs"].as_array().unwrap();
    assert_eq!(packs.len(), 2);
    for key in ["path", "name", "version", "layer", "diagnostics"] {
        assert!(packs[0].get(key).is_some(), "pack key {key}");
    }
    assert_eq!(packs[0]["name"], "hello-universe");
    assert_eq!(packs[0]["layer"], "addon");
    let d = &packs[0]["diagnostics"][0];
    for key in [
        "code", "name", "severity", "message", "file", "pointer", "line", "column",
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
    assert_eq!(v["summary"]["packs"], 2);
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
    assert!(String::from_utf8_lossy(&out.stdout).contains("Checked 6 packs"));
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
