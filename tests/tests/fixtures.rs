//! Every rule has a fixture that triggers it (`fixtures/packs/invalid/<CODE>-<name>/`) and the
//! valid fixtures trigger nothing. Findings are snapshotted, one snapshot per fixture.

use std::fmt::Write;

use spectro_packs::{PackReport, all_rules, validate_pack};
use spectro_tests::fixtures;

fn render(report: &PackReport) -> String {
    let mut out = String::new();
    for d in &report.diagnostics {
        let loc = match (d.line, d.column) {
            (Some(l), Some(c)) => format!("{}:{l}:{c}", d.file),
            _ => d.file.clone(),
        };
        writeln!(
            out,
            "{loc} {} {} {} [{}] {}",
            d.code, d.name, d.severity, d.pointer, d.message
        )
        .unwrap();
        if let Some(h) = &d.help {
            writeln!(out, "    help: {h}").unwrap();
        }
    }
    out
}

fn fixture_dirs(kind: &str) -> Vec<std::path::PathBuf> {
    let mut dirs: Vec<_> = std::fs::read_dir(fixtures().join("packs").join(kind))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn invalid_fixtures_trigger_their_rule_at_the_right_place() {
    let dirs = fixture_dirs("invalid");
    assert!(
        dirs.len() >= 38,
        "expected a fixture per rule, found {}",
        dirs.len()
    );
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let (code, rule_name) = name.split_once('-').unwrap();
        let report = validate_pack(&dir).unwrap();
        let hits: Vec<_> = report
            .diagnostics
            .iter()
            .filter(|d| d.code == code)
            .collect();
        assert!(
            !hits.is_empty(),
            "{name}: expected {code}, got:\n{}",
            render(&report)
        );
        assert!(
            hits.iter().all(|d| d.name == rule_name),
            "{name}: rule name mismatch"
        );
        insta::assert_snapshot!(name.clone(), render(&report));
    }
}

#[test]
fn every_rule_has_an_invalid_fixture() {
    let names: Vec<String> = fixture_dirs("invalid")
        .iter()
        .map(|d| d.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let mut missing = Vec::new();
    for r in all_rules() {
        // FS002 needs a >16 MiB file and FS005 100,000 entries; `hostile.rs` and
        // `data_safety.rs` build them at test time instead.
        if r.code == "FS002" || r.code == "FS005" {
            continue;
        }
        let want = format!("{}-{}", r.code, r.name);
        if !names.contains(&want) {
            missing.push(want);
        }
    }
    assert!(missing.is_empty(), "rules without a fixture: {missing:?}");
}

#[test]
fn valid_fixtures_have_no_findings() {
    let dirs = fixture_dirs("valid");
    assert!(dirs.len() >= 5);
    for dir in dirs {
        let report = validate_pack(&dir).unwrap();
        assert!(
            report.diagnostics.is_empty(),
            "{}:\n{}",
            dir.display(),
            render(&report)
        );
    }
}
