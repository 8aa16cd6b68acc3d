//! Cluster profiles (`PF` rules): every rule has a failing fixture
//! (`fixtures/profiles/invalid/<CODE>-<name>.json|.yaml`) that triggers it at a known line
//! and column, clean profiles stay clean, the real exports in `../shared/corpus/profiles`
//! load, and the CLI keeps the JSON contract and exit codes of `spectro validate`.
#![allow(clippy::print_stderr)] // the corpus skip message is the point

use std::fmt::Write;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;
use spectro_packs::profile::{
    PackIndex, ProfileOptions, ProfileReport, check_profile, load_profile,
};
use spectro_packs::{Severity, all_profile_rules, validate_profile, validate_profiles};
use spectro_tests::{fixtures, repo_root};

fn profiles() -> PathBuf {
    fixtures().join("profiles")
}

fn opts() -> ProfileOptions {
    let mut o = ProfileOptions::default();
    o.pack_dirs.push(profiles().join("packs"));
    o
}

/// Findings as text, with the fixtures folder masked so snapshots do not depend on
/// where the repository lives.
fn render(report: &ProfileReport) -> String {
    let root = fixtures().to_string_lossy().into_owned();
    let mut out = String::new();
    for d in &report.diagnostics {
        let file = Path::new(&d.file).file_name().unwrap().to_string_lossy();
        let loc = match (d.line, d.column) {
            (Some(l), Some(c)) => format!("{file}:{l}:{c}"),
            _ => file.into_owned(),
        };
        writeln!(
            out,
            "{loc} {} {} {} [{}] {}",
            d.code,
            d.name,
            d.severity,
            d.pointer,
            d.message.replace(&root, "<fixtures>")
        )
        .unwrap();
        if let Some(h) = &d.help {
            writeln!(out, "    help: {h}").unwrap();
        }
    }
    out
}

fn invalid_fixtures() -> Vec<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(profiles().join("invalid"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

/// Where each fixture's own finding must be: (fixture stem, line, column, pointer).
const EXPECTED: &[(&str, u32, u32, &str)] = &[
    ("PF001-invalid-profile-syntax", 10, 24, ""),
    ("PF002-invalid-profile-shape", 12, 15, "/spec/template/type"),
    (
        "PF003-duplicate-core-layer",
        66,
        20,
        "/spec/template/packs/3/layer",
    ),
    (
        "PF004-layer-not-allowed-for-type",
        18,
        20,
        "/spec/template/packs/0/layer",
    ),
    ("PF005-missing-core-layer", 12, 15, "/spec/template/type"),
    (
        "PF006-cloud-all-requires-addon",
        13,
        20,
        "/spec/template/cloudType",
    ),
    (
        "PF007-layer-mismatch",
        50,
        20,
        "/spec/template/packs/2/layer",
    ),
    (
        "PF008-duplicate-pack",
        80,
        19,
        "/spec/template/packs/4/name",
    ),
    (
        "PF009-missing-required-dependency",
        16,
        19,
        "/spec/template/packs/0/name",
    ),
    (
        "PF010-dependency-version-out-of-range",
        64,
        19,
        "/spec/template/packs/3/name",
    ),
    (
        "PF011-unsupported-pack-combination",
        80,
        19,
        "/spec/template/packs/4/name",
    ),
    (
        "PF012-upgrade-constraint",
        80,
        19,
        "/spec/template/packs/4/name",
    ),
    (
        "PF013-cloud-type-not-supported",
        16,
        19,
        "/spec/template/packs/0/name",
    ),
    ("PF014-pack-not-found", 52, 18, "/spec/template/packs/2/tag"),
    (
        "PF015-wildcard-tag-resolved",
        36,
        18,
        "/spec/template/packs/1/tag",
    ),
    (
        "PF016-tag-version-mismatch",
        35,
        22,
        "/spec/template/packs/1/version",
    ),
    (
        "PF017-invalid-pack-values",
        69,
        21,
        "/spec/template/packs/3/values",
    ),
    (
        "PF018-pack-values-violate-schema",
        69,
        21,
        "/spec/template/packs/3/values",
    ),
    (
        "PF019-undefined-variable",
        17,
        11,
        "/spec/template/packs/0/values",
    ),
    ("PF020-unused-variable", 123, 17, "/spec/variables/3/name"),
    (
        "PF021-invalid-variable-definition",
        86,
        21,
        "/spec/variables/0/defaultValue",
    ),
    (
        "PF022-release-name-conflict",
        80,
        19,
        "/spec/template/packs/4/name",
    ),
];

#[test]
fn invalid_profiles_trigger_their_rule_at_the_right_place() {
    let files = invalid_fixtures();
    assert_eq!(files.len(), EXPECTED.len(), "one fixture per PF rule");
    for (file, &(stem, line, column, pointer)) in files.iter().zip(EXPECTED) {
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        assert_eq!(name, stem);
        let (code, rule_name) = name.split_once('-').unwrap();
        let report = validate_profile(file, &opts()).unwrap();
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
            "{name}: rule name"
        );
        let first = hits
            .iter()
            .find(|d| {
                (
                    d.line.map(|l| l.get()),
                    d.column.map(|c| c.get()),
                    d.pointer.as_str(),
                ) == (Some(line), Some(column), pointer)
            })
            .unwrap_or_else(|| {
                panic!(
                    "{name}: no {code} at {line}:{column} {pointer}\n{}",
                    render(&report)
                )
            });
        assert_eq!(
            first.file,
            file.to_string_lossy(),
            "file is the profile as given"
        );
        // Each fixture shows one problem: nothing else above info.
        let others: Vec<_> = report
            .diagnostics
            .iter()
            .filter(|d| d.code != code && d.severity > Severity::Info)
            .collect();
        assert!(
            others.is_empty(),
            "{name}: unexpected findings\n{}",
            render(&report)
        );
        insta::assert_snapshot!(format!("profile-{name}"), render(&report));
    }
}

#[test]
fn every_profile_rule_has_an_invalid_fixture() {
    let stems: Vec<String> = invalid_fixtures()
        .iter()
        .map(|f| f.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    let missing: Vec<String> = all_profile_rules()
        .iter()
        .map(|r| format!("{}-{}", r.code, r.name))
        .filter(|want| !stems.contains(want))
        .collect();
    assert!(
        missing.is_empty(),
        "profile rules without a fixture: {missing:?}"
    );
}

#[test]
fn valid_profiles_have_no_findings_beyond_resolution_notes() {
    let mut files: Vec<_> = std::fs::read_dir(profiles().join("valid"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 2);
    let reports = validate_profiles(&files, &opts()).unwrap();
    for r in &reports {
        assert!(
            r.diagnostics.iter().all(|d| d.code == "PF015"),
            "{}:\n{}",
            r.path.display(),
            render(r)
        );
    }
    // The JSON one resolves its two wildcard tags to the highest matching versions; the
    // `LTS__` group excludes the higher FIPS build.
    let edge = render(&reports[1]);
    assert!(
        edge.contains("tag `LTS__22.4.x` resolved to ubuntu-aws 22.4.3"),
        "{edge}"
    );
    assert!(
        edge.contains("tag `1.29.x` resolved to kubernetes 1.29.8"),
        "{edge}"
    );
}

#[test]
fn yaml_profiles_read_like_json_ones() {
    let p = load_profile(profiles().join("valid/apps.yaml")).unwrap();
    assert_eq!(p.name.as_deref(), Some("apps"));
    assert_eq!(p.packs.len(), 4);
    assert_eq!(p.variables.len(), 3);
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    assert_eq!(
        p.position("/spec/template/packs/2/name", false),
        spectro_packs::Position::new(47, 15)
    );
}

#[test]
fn without_pack_sources_only_self_contained_rules_run() {
    let file = profiles().join("invalid/PF014-pack-not-found.json");
    let report = validate_profile(&file, &ProfileOptions::default()).unwrap();
    assert!(report.diagnostics.is_empty(), "{}", render(&report));
    let profile = load_profile(profiles().join("invalid/PF003-duplicate-core-layer.json")).unwrap();
    let found = check_profile(&profile, &PackIndex::empty());
    assert_eq!(found.iter().map(|d| d.code).collect::<Vec<_>>(), ["PF003"]);
}

#[test]
fn a_pack_not_found_is_one_finding_not_a_cascade() {
    let report = validate_profile(
        profiles().join("invalid/PF014-pack-not-found.json"),
        &opts(),
    )
    .unwrap();
    for pack in ["/spec/template/packs/2/", "/spec/template/packs/3/"] {
        let about: Vec<_> = report
            .diagnostics
            .iter()
            .filter(|d| d.pointer.starts_with(pack))
            .collect();
        assert_eq!(about.len(), 1, "{pack}:\n{}", render(&report));
        assert_eq!(about[0].code, "PF014");
    }
}

/// The real Palette exports of the shared corpus, resolved against the community packs of
/// the same corpus. Their findings are real: the edge tutorial's OS, Kubernetes and CNI
/// packs and the ML profile's istio 1.6.2 are not in the community repository (they live in
/// Palette's public registry), and argo-cd 3.26.7 carries an `upgrade` constraint.
#[test]
fn corpus_exports_load_and_their_findings_are_the_known_ones() {
    let corpus = repo_root().join("../shared/corpus");
    let dir = corpus.join("profiles");
    if !dir.is_dir() {
        eprintln!("SKIP: ../shared/corpus/profiles not found; profile corpus test skipped");
        return;
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 2, "JSON exports in the corpus");
    for f in &files {
        let p = load_profile(f).unwrap();
        assert!(
            p.document.is_ok() && p.problems.is_empty(),
            "{}: {:?}",
            f.display(),
            p.problems
        );
        assert!(!p.packs.is_empty());
    }
    // Without pack sources, both exports are clean.
    let bare = validate_profiles(&files, &ProfileOptions::default()).unwrap();
    for r in &bare {
        assert!(
            r.diagnostics.is_empty(),
            "{}:\n{}",
            r.path.display(),
            render(r)
        );
    }
    let mut opts = ProfileOptions::default();
    opts.pack_dirs.push(corpus.join("pack-central"));
    let reports = validate_profiles(&files, &opts).unwrap();
    let got: Vec<String> = reports
        .iter()
        .flat_map(|r| {
            let name = r.name.clone().unwrap_or_default();
            r.diagnostics
                .iter()
                .map(move |d| format!("{name} {} {}", d.code, d.pointer))
        })
        .collect();
    assert_eq!(
        got,
        [
            "docs-ubuntu-k3s PF014 /spec/template/packs/0/name",
            "docs-ubuntu-k3s PF014 /spec/template/packs/1/name",
            "docs-ubuntu-k3s PF014 /spec/template/packs/2/name",
            "ML Ops PF012 /spec/template/packs/1/name",
            "ML Ops PF014 /spec/template/packs/2/name",
        ],
        "{}",
        reports.iter().map(render).collect::<String>()
    );
}

fn spectro() -> Command {
    let mut c = Command::new(spectro_tests::spectro_bin());
    c.env("NO_COLOR", "1");
    c
}

#[test]
fn cli_profile_validate_exit_codes_and_json_contract() {
    let packs = profiles().join("packs");
    let clean = spectro()
        .args(["profile", "validate"])
        .arg(profiles().join("valid/edge-cluster.json"))
        .arg("--packs")
        .arg(&packs)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&clean.stdout);
    assert_eq!(clean.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("Checked 1 profile: 0 errors, 0 warnings, 2 info findings"),
        "{stdout}"
    );
    // Info findings fail only with --fail-on info.
    let strict = spectro()
        .args(["profile", "validate", "--fail-on", "info", "--packs"])
        .arg(&packs)
        .arg(profiles().join("valid/edge-cluster.json"))
        .output()
        .unwrap();
    assert_eq!(strict.status.code(), Some(1));

    let out = spectro()
        .args(["profile", "validate", "--format", "json", "--packs"])
        .arg(&packs)
        .arg(profiles().join("invalid/PF003-duplicate-core-layer.json"))
        .arg(profiles().join("valid/apps.yaml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let list = doc["reports"].as_array().unwrap();
    assert_eq!(list[0]["kind"], "profile");
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["name"], "edge-cluster");
    assert!(
        list[0]["path"]
            .as_str()
            .unwrap()
            .ends_with("PF003-duplicate-core-layer.json")
    );
    let d = list[0]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "PF003")
        .unwrap();
    for key in [
        "code", "name", "severity", "message", "file", "pointer", "line", "column",
    ] {
        assert!(d.get(key).is_some(), "diagnostic key {key}");
    }
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(66), Some(20))
    );
    assert_eq!(
        doc["summary"],
        serde_json::json!({"checked": 2, "errors": 1, "warnings": 0, "infos": 2})
    );

    let missing = spectro()
        .args(["profile", "validate", "no-such-profile.json"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));

    let rules = spectro().args(["rules", "PF003"]).output().unwrap();
    let text = String::from_utf8_lossy(&rules.stdout);
    assert!(
        text.contains("duplicate-core-layer") && text.contains("## Why"),
        "{text}"
    );
    let all = spectro().arg("rules").output().unwrap();
    assert!(String::from_utf8_lossy(&all.stdout).contains("PF022  release-name-conflict"));
}
