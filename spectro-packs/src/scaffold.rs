//! `spectro pack new`: scaffold a pack that validates cleanly, optionally from a packaged
//! Helm chart (values nested under `charts.<chart>`, images collected) or a manifest.

use std::collections::BTreeSet;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

use crate::error::{Error, Result};
use crate::layer::Layer;
use crate::registry::PackRef;
use crate::syntax::{Node, NodeValue, YamlLimits, parse_yaml};

/// What to scaffold.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct NewPack {
    /// Pack name (a registry repository name).
    pub name: String,
    /// Layer.
    pub layer: Layer,
    /// Version (default: the chart's, else 1.0.0).
    pub version: Option<String>,
    /// `addonType` for addon packs.
    pub addon_type: String,
    /// A packaged Helm chart (`.tgz`) to wrap.
    pub chart: Option<PathBuf>,
    /// A Kubernetes manifest to wrap.
    pub manifest: Option<PathBuf>,
}

builder!(NewPack {
    with_version => version: String,
    with_addon_type => addon_type: String,
    with_chart => chart: PathBuf,
    with_manifest => manifest: PathBuf,
});

impl NewPack {
    /// A pack of `layer` named `name`, no sources.
    pub fn new(name: &str, layer: Layer) -> Self {
        NewPack {
            name: name.to_owned(),
            layer,
            version: None,
            addon_type: "system app".into(),
            chart: None,
            manifest: None,
        }
    }
}

static IMAGE_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?m)^\s*-?\s*image:\s*["']?([a-zA-Z0-9][a-zA-Z0-9._/-]*(?::[a-zA-Z0-9._-]+)?(?:@sha256:[a-f0-9]{64})?)["']?\s*$"#)
        .expect("valid regex")
});

fn looks_like_image(s: &str) -> bool {
    !s.contains("{{") && !s.contains(' ') && (s.contains(':') || s.contains('/')) && s.len() < 256
}

/// Images in chart values: `image: repo:tag` strings and `{registry?, repository, tag}` maps.
fn images_in_values(root: &Node, out: &mut BTreeSet<String>) {
    root.walk(&mut |_, key, node| {
        if let (Some(k), NodeValue::String(s)) = (key, &node.value)
            && k.key_text() == "image"
            && looks_like_image(s)
        {
            out.insert(s.clone());
        }
        if let NodeValue::Map(_) = &node.value
            && let Some(repo) = node.get("repository").and_then(Node::as_str)
            && let Some(tag) = node
                .get("tag")
                .map(|t| t.key_text())
                .filter(|t| !t.is_empty() && t != "null")
        {
            let registry = node
                .get("registry")
                .and_then(Node::as_str)
                .filter(|r| !r.is_empty());
            let full = match registry {
                Some(r) => format!("{r}/{repo}:{tag}"),
                None => format!("{repo}:{tag}"),
            };
            if looks_like_image(&full) {
                out.insert(full);
            }
        }
    });
}

fn images_in_text(text: &str, out: &mut BTreeSet<String>) {
    for c in IMAGE_LINE.captures_iter(text) {
        if looks_like_image(&c[1]) {
            out.insert(c[1].to_owned());
        }
    }
}

#[derive(Debug)]
struct Chart {
    name: String,
    version: String,
    values: String,
    images: BTreeSet<String>,
}

fn read_chart(path: &Path) -> Result<Chart> {
    let bad = |m: String| Error::CorruptRegistry {
        location: path.display().to_string(),
        reason: m,
    };
    let f = fs::File::open(path).map_err(|e| Error::io(path, e))?;
    // Caps on what is decompressed (512 MiB) and on tar headers and long-name records
    // (1 MiB, which the tar reader holds in memory), as for pack archives.
    let (reader, budget) = crate::archive::extract::capped_tar_reader(
        flate2::read::GzDecoder::new(f),
        512 << 20,
        "chart size",
        1 << 20,
    );
    let mut tar = tar::Archive::new(reader);
    let (mut chart_yaml, mut values) = (None, String::new());
    // Images are collected template by template: only one template is in memory at once.
    let mut images = BTreeSet::new();
    let mut entries = tar
        .entries()
        .map_err(|e| bad(format!("not a chart archive: {e}")))?;
    while let Some(entry) = budget.around(|| entries.next()) {
        let mut entry = entry.map_err(|e| bad(format!("not a chart archive: {e}")))?;
        let p = entry
            .path()
            .map_err(|e| bad(e.to_string()))?
            .to_string_lossy()
            .into_owned();
        let parts: Vec<&str> = p.split('/').collect();
        let mut text = String::new();
        let wanted = matches!(
            parts.as_slice(),
            [_, "Chart.yaml"] | [_, "values.yaml"] | [_, "templates", ..]
        );
        if !wanted || entry.size() > 8 << 20 {
            // Read past it here, under the size cap, not inside the header budget.
            std::io::copy(&mut entry, &mut std::io::sink())
                .map_err(|e| bad(format!("not a chart archive: {e}")))?;
            continue;
        }
        if let Err(e) = entry.read_to_string(&mut text) {
            if crate::archive::extract::is_cap(&e) {
                return Err(bad(format!("not a chart archive: {e}")));
            }
            continue;
        }
        match parts.as_slice() {
            [_, "Chart.yaml"] => chart_yaml = Some(text),
            [_, "values.yaml"] => values = text,
            _ => images_in_text(&text, &mut images),
        }
    }
    let chart_yaml =
        chart_yaml.ok_or_else(|| bad("no Chart.yaml at the top of the chart archive".into()))?;
    let doc = parse_yaml(&chart_yaml, YamlLimits::default())
        .map_err(|e| bad(format!("Chart.yaml: {e}")))?;
    let get = |k: &str| {
        doc.root
            .get(k)
            .map(|n| n.key_text())
            .filter(|s| !s.is_empty())
    };
    let name = get("name").ok_or_else(|| bad("Chart.yaml has no name".into()))?;
    let version = get("version").ok_or_else(|| bad("Chart.yaml has no version".into()))?;
    if let Ok(v) = parse_yaml(&values, YamlLimits::default()) {
        images_in_values(&v.root, &mut images);
    }
    // Templates often use `{{ .Chart.AppVersion }}` for tags: resolve the common form.
    Ok(Chart {
        name,
        version,
        values,
        images,
    })
}

/// A Kubernetes namespace (an RFC 1123 DNS label) derived from a pack name: `.` and `_`
/// become `-`, at most 63 characters, no `-` at either end.
fn namespace_for(name: &str) -> String {
    let mapped: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(63)
        .collect();
    let trimmed = mapped.trim_matches('-');
    if trimmed.is_empty() {
        "default".into()
    } else {
        trimmed.to_owned()
    }
}

/// A YAML scalar that always reads back as this string (`123`, `true`, `null`, `yes`
/// and names with `:` stay strings): a JSON string, which YAML 1.2 reads the same.
fn yaml_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

fn indent(text: &str, by: usize) -> String {
    let pad = " ".repeat(by);
    text.lines()
        .filter(|l| l.trim() != "---")
        .map(|l| {
            if l.trim().is_empty() {
                String::new()
            } else {
                format!("{pad}{l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A 64×64 grey PNG (the logo placeholder), encoded here.
fn placeholder_png() -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut h = crc32fast::Hasher::new();
        h.update(kind);
        h.update(data);
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&h.finalize().to_be_bytes());
    }
    let (w, h) = (64u32, 64u32);
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit greyscale
    let raw: Vec<u8> = (0..h)
        .flat_map(|_| std::iter::once(0u8).chain(std::iter::repeat_n(0x99, w as usize)))
        .collect();
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = z.write_all(&raw);
    let idat = z.finish().unwrap_or_default();
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &idat);
    chunk(&mut out, b"IEND", &[]);
    out
}

/// Create `parent/<name>/` and return its path. Refuses an existing directory. Written into
/// a temporary directory first and renamed into place.
pub fn new_pack(parent: impl AsRef<Path>, spec: &NewPack) -> Result<PathBuf> {
    let parent = parent.as_ref();
    let r = PackRef::parse(&spec.name)?;
    if r.selector != crate::registry::Selector::Latest || r.name != spec.name {
        return Err(Error::InvalidReference {
            input: crate::sanitize(&spec.name),
            reason: "a pack name is a plain name; the version goes in --pack-version".into(),
        });
    }
    let target = crate::safety::checked_join(parent, &spec.name)?;
    if target.exists() {
        return Err(Error::Archive {
            path: target,
            entry: None,
            problem: crate::archive::ArchiveProblem::DestinationExists,
        });
    }
    crate::safety::create_dirs(parent, 0o755)?;
    let tmp = crate::safety::temp_dir_in(parent, "new").map_err(|e| Error::io(parent, e))?;
    // The pack folder is made inside the (private) staging folder with the process's
    // default mode, then renamed into place: it is not left 0700.
    let staged_root = tmp.path().join("pack");
    fs::create_dir(&staged_root).map_err(|e| Error::io(&staged_root, e))?;
    let root = staged_root.as_path();
    let write = |rel: &str, bytes: &[u8]| -> Result<()> {
        let p = root.join(rel);
        if let Some(d) = p.parent() {
            fs::create_dir_all(d).map_err(|e| Error::io(d, e))?;
        }
        fs::write(&p, bytes).map_err(|e| Error::io(&p, e))
    };
    let mut images = BTreeSet::new();
    let mut pack = serde_json::Map::new();
    let mut values_tail = String::new();
    let mut version = spec.version.clone();
    let mut display = spec.name.clone();
    if let Some(chart_path) = &spec.chart {
        let chart = read_chart(chart_path)?;
        version.get_or_insert_with(|| chart.version.clone());
        display = chart.name.clone();
        // Chart.yaml is data: its name and version become a file name only if they make
        // one plain component.
        let file_name = format!("{}-{}.tgz", chart.name, chart.version);
        crate::safety::checked_join(&root.join("charts"), &file_name)?;
        let file = format!("charts/{file_name}");
        let bytes = fs::read(chart_path).map_err(|e| Error::io(chart_path, e))?;
        write(&file, &bytes)?;
        pack.insert("charts".into(), serde_json::json!([file]));
        let body = indent(&chart.values, 4);
        if body.trim().is_empty() {
            values_tail = format!("charts:\n  {}: {{}}\n", yaml_str(&chart.name));
        } else {
            values_tail = format!("charts:\n  {}:\n{body}\n", yaml_str(&chart.name));
        }
        images.extend(chart.images);
    }
    if let Some(manifest) = &spec.manifest {
        let text = fs::read_to_string(manifest).map_err(|e| Error::io(manifest, e))?;
        let stem = manifest
            .file_stem()
            .map_or_else(|| spec.name.clone(), |s| s.to_string_lossy().into_owned());
        crate::safety::checked_join(&root.join("manifests"), &format!("{stem}.yaml"))?;
        let file = format!("manifests/{stem}.yaml");
        write(&file, text.as_bytes())?;
        pack.insert("kubeManifests".into(), serde_json::json!([file]));
        values_tail.push_str(&format!("manifests:\n  {}: {{}}\n", yaml_str(&stem)));
        images_in_text(&text, &mut images);
    }
    let version = version.unwrap_or_else(|| "1.0.0".into());
    let needs_images = !matches!(spec.layer, Layer::Os | Layer::K8s | Layer::Kernel);
    if needs_images && images.is_empty() {
        // Nothing to collect from: list the conventional image so the pack is complete;
        // the README says to replace it.
        images.insert(format!("docker.io/library/{}:{version}", spec.name));
    }
    let mut pj = serde_json::Map::new();
    pj.insert("name".into(), spec.name.clone().into());
    pj.insert("displayName".into(), display.into());
    pj.insert("version".into(), version.clone().into());
    pj.insert("layer".into(), spec.layer.as_str().into());
    if spec.layer == Layer::Addon {
        pj.insert("addonType".into(), spec.addon_type.clone().into());
    }
    pj.insert("cloudTypes".into(), serde_json::json!(["all"]));
    pj.extend(pack);
    let pack_json =
        serde_json::to_string_pretty(&serde_json::Value::Object(pj)).unwrap_or_default() + "\n";
    write("pack.json", pack_json.as_bytes())?;
    let mut values = String::from("pack:\n");
    if needs_images || spec.layer == Layer::K8s {
        values.push_str(&format!(
            "  namespace: {}\n",
            yaml_str(&namespace_for(&spec.name))
        ));
    }
    if !images.is_empty() {
        values.push_str("  content:\n    images:\n");
        for i in &images {
            values.push_str(&format!("      - image: {}\n", yaml_str(i)));
        }
    }
    if values == "pack:\n" {
        values = "# Parameters of this pack. An OS pack may leave this empty.\n".into();
    }
    values.push_str(&values_tail);
    write("values.yaml", values.as_bytes())?;
    write("logo.png", &placeholder_png())?;
    let readme = format!(
        "# {name}\n\nA Palette {layer} pack scaffolded by `spectro pack new`.\n\n- `pack.json`: identity and metadata; set `displayName`, `cloudTypes` and, for add-ons, `addonType`.\n- `values.yaml`: parameters; list every image the pack deploys under `pack.content.images`.\n- `logo.png`: replace the grey placeholder.\n\nCheck it with `spectro validate .`, package it with `spectro pack build .`.\n",
        name = spec.name,
        layer = spec.layer
    );
    write("README.md", readme.as_bytes())?;
    // Never replaces anything but an empty folder created meanwhile (rename(2) rules).
    fs::rename(&staged_root, &target).map_err(|e| Error::io(&target, e))?;
    drop(tmp);
    Ok(target)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    fn header(name: &str, typ: u8, size: u64) -> [u8; 512] {
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..108].copy_from_slice(b"0000644\0");
        h[108..116].copy_from_slice(b"0000000\0");
        h[116..124].copy_from_slice(b"0000000\0");
        h[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
        h[136..148].copy_from_slice(b"00000000000\0");
        h[156] = typ;
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        h
    }

    fn chart(entries: &[(&str, u8, Vec<u8>)]) -> tempfile::NamedTempFile {
        let mut tar = Vec::new();
        for (name, typ, data) in entries {
            tar.extend_from_slice(&header(name, *typ, data.len() as u64));
            tar.extend_from_slice(data);
            tar.extend(std::iter::repeat_n(0u8, (512 - data.len() % 512) % 512));
        }
        tar.extend([0u8; 1024]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&tar).unwrap();
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(&gz.finish().unwrap()).unwrap();
        f
    }

    #[test]
    fn a_chart_long_name_claiming_gigabytes_is_refused_at_the_header_cap() {
        // 64 MiB of a GNU long name (a few KiB of gzip): refused after 1 MiB, not loaded.
        let bomb = chart(&[
            ("././@LongLink", b'L', vec![b'a'; 64 << 20]),
            ("c/Chart.yaml", b'0', b"name: c\nversion: 1.0.0\n".to_vec()),
        ]);
        let e = super::read_chart(bomb.path()).unwrap_err().to_string();
        assert!(e.contains("tar header and extension size"), "{e}");
        // A big file the scaffold does not read is skipped under the size cap, and the
        // chart still reads.
        let ok = chart(&[
            ("c/Chart.yaml", b'0', b"name: c\nversion: 1.0.0\n".to_vec()),
            ("c/files/blob.bin", b'0', vec![0u8; 9 << 20]),
            ("c/values.yaml", b'0', b"image: nginx:1.25\n".to_vec()),
        ]);
        let c = super::read_chart(ok.path()).unwrap();
        assert_eq!((c.name.as_str(), c.version.as_str()), ("c", "1.0.0"));
    }
}
