//! Every rule has a fixture that triggers it (`fixtures/packs/invalid/<CODE>-<name>/`) and the
//! valid fixtures trigger nothing. One test per fixture, so that one failure does not hide
//! the others; findings are snapshotted per fixture.

use std::fmt::Write;
use std::path::PathBuf;

use spectro_packs::{PackReport, all_rules, validate_pack};
use spectro_tests::fixtures;

/// Each finding on a line, and under it the source text its range covers (`at:`), so a
/// range that ends in the wrong place shows in the snapshot.
fn render(report: &PackReport) -> String {
    let mut out = String::new();
    for d in &report.diagnostics {
        let loc = match (d.line, d.column, d.end_column) {
            (Some(l), Some(c), Some(e)) => format!("{}:{l}:{c}-{e}", d.file),
            (Some(l), Some(c), None) => format!("{}:{l}:{c}", d.file),
            _ => d.file.clone(),
        };
        writeln!(
            out,
            "{loc} {} {} {} [{}] {}",
            d.code, d.name, d.severity, d.pointer, d.message
        )
        .unwrap();
        if let (Some(l), Some(c), Some(el), Some(ec)) = (d.line, d.column, d.end_line, d.end_column)
        {
            assert_eq!(l, el, "{d:?}: a token ends on its line");
            let text = std::fs::read_to_string(report.path.join(&d.file)).unwrap();
            let line = spectro_packs::syntax::source_line(&text, l.get() as usize).unwrap();
            let token: String = line
                .chars()
                .skip(c.to_zero_indexed())
                .take(ec.to_zero_indexed() - c.to_zero_indexed())
                .collect();
            writeln!(out, "    at: {token}").unwrap();
        }
        if let Some(h) = &d.help {
            writeln!(out, "    help: {h}").unwrap();
        }
    }
    out
}

fn fixture(kind: &str, name: &str) -> PathBuf {
    fixtures().join("packs").join(kind).join(name)
}

/// The fixture triggers its rule (by code and name) and its findings match the snapshot.
fn check_invalid(name: &str) {
    let (code, rule_name) = name.split_once('-').unwrap();
    let report = validate_pack(fixture("invalid", name)).unwrap();
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
    insta::assert_snapshot!(name.to_owned(), render(&report));
}

/// The fixture has no finding at all.
fn check_valid(name: &str) {
    let report = validate_pack(fixture("valid", name)).unwrap();
    assert!(
        report.diagnostics.is_empty(),
        "{name}:\n{}",
        render(&report)
    );
}

macro_rules! fixture_tests {
    ($list:ident, $check:ident: $($test:ident => $dir:literal,)*) => {
        $(
            #[test]
            fn $test() {
                $check($dir);
            }
        )*
        const $list: &[&str] = &[$($dir),*];
    };
}

fixture_tests! { INVALID, check_invalid:
    fs001_symlink_outside_pack => "FS001-symlink-outside-pack",
    fs003_unreadable_file => "FS003-unreadable-file",
    fs004_symlink_in_pack => "FS004-symlink-in-pack",
    mf001_invalid_manifest => "MF001-invalid-manifest",
    pk001_missing_pack_json => "PK001-missing-pack-json",
    pk002_invalid_json => "PK002-invalid-json",
    pk003_duplicate_json_key => "PK003-duplicate-json-key",
    pk004_missing_required_field => "PK004-missing-required-field",
    pk005_wrong_field_type => "PK005-wrong-field-type",
    pk006_invalid_enum_value => "PK006-invalid-enum-value",
    pk007_schema_violation => "PK007-schema-violation",
    pk008_unknown_field => "PK008-unknown-field",
    pk009_version_not_semver => "PK009-version-not-semver",
    pk010_version_leading_v => "PK010-version-leading-v",
    pk011_missing_addon_type => "PK011-missing-addon-type",
    pk012_unknown_addon_type => "PK012-unknown-addon-type",
    pk013_invalid_pack_name => "PK013-invalid-pack-name",
    pk014_missing_referenced_file => "PK014-missing-referenced-file",
    pk015_reference_escapes_pack => "PK015-reference-escapes-pack",
    pk016_wrong_reference_type => "PK016-wrong-reference-type",
    pk017_missing_logo => "PK017-missing-logo",
    pk018_logo_not_png => "PK018-logo-not-png",
    pk019_missing_ansible_role => "PK019-missing-ansible-role",
    pk020_version_not_a_tag => "PK020-version-not-a-tag",
    pr001_preset_schema_violation => "PR001-preset-schema-violation",
    pr002_duplicate_preset_name => "PR002-duplicate-preset-name",
    pr003_preset_add_invalid_yaml => "PR003-preset-add-invalid-yaml",
    pr004_preset_remove_path_not_found => "PR004-preset-remove-path-not-found",
    sc001_schema_yaml_violation => "SC001-schema-yaml-violation",
    sc002_schema_key_not_in_values => "SC002-schema-key-not-in-values",
    sc003_invalid_schema_template => "SC003-invalid-schema-template",
    sc004_unknown_format_type => "SC004-unknown-format-type",
    sc005_value_violates_schema => "SC005-value-violates-schema",
    sp001_unused_suppression => "SP001-unused-suppression",
    sp002_invalid_suppression => "SP002-invalid-suppression",
    vl001_missing_values_file => "VL001-missing-values-file",
    vl002_invalid_namespace => "VL002-invalid-namespace",
    vl003_missing_images => "VL003-missing-images",
    vl004_image_entry_without_image => "VL004-image-entry-without-image",
    ym001_invalid_yaml => "YM001-invalid-yaml",
    ym002_duplicate_yaml_key => "YM002-duplicate-yaml-key",
    ym003_strict_yaml_only => "YM003-strict-yaml-only",
}

fixture_tests! { VALID, check_valid:
    valid_calico_cni => "calico-cni",
    valid_csi_vsphere => "csi-vsphere",
    valid_hello_universe => "hello-universe",
    valid_hello_universe_suppressed => "hello-universe-suppressed",
    valid_kubernetes_k8s => "kubernetes-k8s",
    valid_nginx_chart => "nginx-chart",
    valid_ubuntu_os => "ubuntu-os",
}

fn fixture_dirs(kind: &str) -> Vec<String> {
    let mut dirs: Vec<String> = std::fs::read_dir(fixtures().join("packs").join(kind))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn every_fixture_folder_has_its_test() {
    assert_eq!(
        fixture_dirs("invalid"),
        INVALID,
        "add the new fixture to INVALID"
    );
    assert_eq!(fixture_dirs("valid"), VALID, "add the new fixture to VALID");
}

#[test]
fn every_pack_rule_has_an_invalid_fixture() {
    let mut missing = Vec::new();
    // Profile rules (PF) have profile fixtures, checked in `profile.rs`.
    for r in all_rules().iter().filter(|r| r.family().prefix != "PF") {
        // FS002 needs a >16 MiB file and FS005 100,000 entries; `hostile.rs` and
        // `data_safety.rs` build them at test time instead.
        if r.code == "FS002" || r.code == "FS005" {
            continue;
        }
        let want = format!("{}-{}", r.code, r.name);
        if !INVALID.contains(&want.as_str()) {
            missing.push(want);
        }
    }
    assert!(missing.is_empty(), "rules without a fixture: {missing:?}");
}
