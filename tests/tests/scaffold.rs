//! `spectro pack new` output validates with zero findings: every layer, an addon from a
//! Helm chart (values nested under `charts.<chart>`, images collected) and from a manifest.

use std::fs;
use std::io::Write;
use std::path::Path;

use spectro_packs::scaffold::{NewPack, new_pack};
use spectro_packs::{Layer, validate_pack};

fn chart_tgz(dir: &Path) -> std::path::PathBuf {
    let files = [
        (
            "web/Chart.yaml",
            "apiVersion: v2\nname: web\nversion: 2.3.1\nappVersion: \"1.25.3\"\n",
        ),
        (
            "web/values.yaml",
            "# defaults\nreplicaCount: 2\nimage:\n  registry: docker.io\n  repository: library/nginx\n  tag: \"1.25.3\"\nsidecar:\n  image: ghcr.io/acme/sidecar:0.4.0\nservice:\n  port: 80\n",
        ),
        (
            "web/templates/deploy.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: \"{{ .Values.image.repository }}:{{ .Values.image.tag }}\"\n        - name: init\n          image: busybox:1.36\n",
        ),
    ];
    let path = dir.join("web-2.3.1.tgz");
    let gz = flate2::write::GzEncoder::new(
        fs::File::create(&path).unwrap(),
        flate2::Compression::default(),
    );
    let mut tar = tar::Builder::new(gz);
    for (name, text) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(text.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, name, text.as_bytes()).unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap().flush().unwrap();
    path
}

#[test]
fn every_layer_validates_cleanly() {
    let out = tempfile::tempdir().unwrap();
    for layer in Layer::ALL {
        let name = format!("p-{layer}");
        let dir = new_pack(out.path(), &NewPack::new(&name, layer)).unwrap();
        let r = validate_pack(&dir).unwrap();
        assert!(r.diagnostics.is_empty(), "{layer}: {:#?}", r.diagnostics);
        assert!(dir.join("README.md").is_file() && dir.join("logo.png").is_file());
    }
}

#[test]
fn addon_from_chart_nests_values_and_collects_images() {
    let work = tempfile::tempdir().unwrap();
    let chart = chart_tgz(work.path());
    let mut spec = NewPack::new("web", Layer::Addon);
    spec.chart = Some(chart);
    let dir = new_pack(work.path().join("packs"), &spec).unwrap();
    let r = validate_pack(&dir).unwrap();
    assert!(r.diagnostics.is_empty(), "{:#?}", r.diagnostics);
    let pack = spectro_packs::load_pack(&dir).unwrap();
    assert_eq!(pack.version(), Some("2.3.1"));
    let values = pack.values_json();
    assert_eq!(values["charts"]["web"]["replicaCount"], 2);
    let images: Vec<&str> = values["pack"]["content"]["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["image"].as_str().unwrap())
        .collect();
    assert_eq!(
        images,
        [
            "busybox:1.36",
            "docker.io/library/nginx:1.25.3",
            "ghcr.io/acme/sidecar:0.4.0"
        ]
    );
    assert!(dir.join("charts/web-2.3.1.tgz").is_file());
    assert_eq!(
        pack.manifest().charts.as_deref(),
        Some(&["charts/web-2.3.1.tgz".to_owned()][..])
    );
    // An existing pack directory is never overwritten.
    assert!(new_pack(work.path().join("packs"), &spec).is_err());
}

#[test]
fn addon_from_manifest_validates_cleanly() {
    let work = tempfile::tempdir().unwrap();
    let m = work.path().join("deploy.yaml");
    fs::write(&m, "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: ghcr.io/acme/web:2.1.0\n").unwrap();
    let mut spec = NewPack::new("web-manifest", Layer::Addon);
    spec.manifest = Some(m);
    spec.addon_type = "monitoring".into();
    let dir = new_pack(work.path(), &spec).unwrap();
    let r = validate_pack(&dir).unwrap();
    assert!(r.diagnostics.is_empty(), "{:#?}", r.diagnostics);
    let values = spectro_packs::load_pack(&dir).unwrap().values_json();
    assert_eq!(
        values["pack"]["content"]["images"][0]["image"],
        "ghcr.io/acme/web:2.1.0"
    );
    assert!(values["manifests"]["deploy"].is_object());
}

#[test]
fn invalid_names_are_refused() {
    let work = tempfile::tempdir().unwrap();
    for bad in ["My_Pack", "../x", "a/b", ""] {
        assert!(
            new_pack(work.path(), &NewPack::new(bad, Layer::Addon)).is_err(),
            "{bad}"
        );
    }
    assert_eq!(fs::read_dir(work.path()).unwrap().count(), 0);
}
