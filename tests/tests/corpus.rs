//! The real-world corpus (`../shared/corpus/pack-central`, 187 pack versions): every pack
#![allow(clippy::print_stderr)] // the skip message is the point
//! loads without a panic and the only errors are the known, genuine defects of the data.

use std::collections::BTreeSet;

use spectro_packs::{Severity, ValidateOptions, validate_paths};
use spectro_tests::corpus;

#[test]
fn corpus_errors_are_exactly_the_known_data_defects() {
    let Some(dir) = corpus() else {
        eprintln!("SKIP: ../shared/corpus/pack-central not found; corpus test skipped");
        return;
    };
    let reports = validate_paths(&[&dir], &ValidateOptions::default()).unwrap();
    assert_eq!(reports.len(), 187, "corpus pack count");
    let mut errors = BTreeSet::new();
    for r in &reports {
        let rel = r
            .path
            .strip_prefix(&dir)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        for d in r
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
        {
            errors.insert(format!("{rel} {} {} {}", d.code, d.file, d.pointer));
        }
    }
    let expected: BTreeSet<String> = [
        // Charts of >= 300 KB left out of the corpus copy (see its README) ...
        "kubeflow-crds/1.9.1 PK014 pack.json /charts/0",
        "kubeflow-training-operator/1.8.1 PK014 pack.json /charts/0",
        "kubeflow-training-operator/1.9.3 PK014 pack.json /charts/0",
        "kyverno/1.12.2 PK014 pack.json /charts/0",
        "thanos/17.6.0 PK014 pack.json /charts/0",
        // ... and one dangling upstream too.
        "haproxy-unified-gateway/1.0.1 PK014 pack.json /charts/0",
        // A dependency without `type` (schema requires it).
        "nvidia-dra-driver/25.8.1 PK004 pack.json /constraints/dependencies/0",
        // `{- end}` typo for `{{- end }}` breaks the template and the YAML.
        "external-snapshotter/4.0.1 MF001 manifests/vsclass.yaml ",
        // The `iamge` typo.
        "dell-csm-operator-addon/1.11.0 VL004 values.yaml /pack/content/images/7",
        // schema.yaml constrains charts.gridlight-palette.*, but values.yaml puts them at the top level.
        "gridlight/1.1.3 SC002 schema.yaml /charts.gridlight-palette.auth.postgresPassword",
        "gridlight/1.1.3 SC002 schema.yaml /charts.gridlight-palette.auth.neo4jPassword",
        "gridlight/1.1.3 SC002 schema.yaml /charts.gridlight-palette.auth.gatewayToken",
        "gridlight/1.1.3 SC002 schema.yaml /charts.gridlight-palette.auth.agentToken",
        "gridlight/1.1.3 SC002 schema.yaml /charts.gridlight-palette.auth.licenseId",
        "gridlight/1.1.3 SC002 schema.yaml /charts.gridlight-palette.auth.signingSecret",
        "gridlight/1.1.3 SC002 schema.yaml /charts.gridlight-palette.auth.huggingFaceToken",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    let unexpected: Vec<_> = errors.difference(&expected).collect();
    let gone: Vec<_> = expected.difference(&errors).collect();
    assert!(
        unexpected.is_empty() && gone.is_empty(),
        "unexpected: {unexpected:#?}\nno longer found: {gone:#?}"
    );
}
