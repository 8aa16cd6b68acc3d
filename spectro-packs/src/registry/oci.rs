//! OCI manifest and index shapes, in the exact form Palette syncs.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256, Sha512};

/// OCI image manifest media type.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index media type.
pub const INDEX_MEDIA_TYPE: &str = "application/vnd.oci.image.index.v1+json";
/// Config media type `oras push` 1.0.0 writes when given none.
pub const UNKNOWN_CONFIG_MEDIA_TYPE: &str = "application/vnd.unknown.config.v1+json";
/// Layer media type `oras push` 1.0.0 gives a file.
pub const LAYER_MEDIA_TYPE: &str = "application/vnd.oci.image.layer.v1.tar";
/// Other layer media types accepted on pull.
pub const ACCEPTED_LAYER_MEDIA_TYPES: &[&str] = &[
    LAYER_MEDIA_TYPE,
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/tar+gzip",
    "application/vnd.oci.image.layer.v1.tar.gzip",
];
/// ORAS ≥ 1.1 empty config.
pub const EMPTY_CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
/// The config blob: `{}`.
pub const CONFIG_BLOB: &[u8] = b"{}";
/// Annotation holding the file name of a layer.
pub const TITLE: &str = "org.opencontainers.image.title";
/// Annotation with the creation time.
pub const CREATED: &str = "org.opencontainers.image.created";
/// Annotation holding a tag in an image layout's index.json.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
/// Largest manifest or index accepted (like distribution and oras-go).
pub const MAX_MANIFEST_BYTES: u64 = 4 << 20;

/// `sha256:<hex>` of bytes.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// Whether a string is a well-formed sha256 digest (so it is safe to build paths from).
pub fn is_sha256_digest(d: &str) -> bool {
    d.strip_prefix("sha256:")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

/// A digest algorithm a registry accepts (`sha256`, and `sha512` for OCI 1.1 content).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DigestAlgorithm {
    /// `sha256:` and 64 lowercase hex digits.
    Sha256,
    /// `sha512:` and 128 lowercase hex digits.
    Sha512,
}

impl DigestAlgorithm {
    /// The name before the `:` (also the blob folder in an image layout).
    pub fn name(self) -> &'static str {
        match self {
            DigestAlgorithm::Sha256 => "sha256",
            DigestAlgorithm::Sha512 => "sha512",
        }
    }

    /// By name; `None` for an algorithm we do not accept.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "sha256" => Some(DigestAlgorithm::Sha256),
            "sha512" => Some(DigestAlgorithm::Sha512),
            _ => None,
        }
    }

    fn hex_len(self) -> usize {
        match self {
            DigestAlgorithm::Sha256 => 64,
            DigestAlgorithm::Sha512 => 128,
        }
    }

    /// The digest of `bytes` with this algorithm.
    pub fn digest(self, bytes: &[u8]) -> String {
        let mut h = DigestHasher::new(self);
        h.update(bytes);
        h.finish()
    }
}

/// Splits a well-formed digest we accept into its algorithm and hex part; `None` for
/// anything else (so the hex part is always safe in a path).
pub fn parse_digest(d: &str) -> Option<(DigestAlgorithm, &str)> {
    let (alg, hex) = d.split_once(':')?;
    let alg = DigestAlgorithm::from_name(alg)?;
    (hex.len() == alg.hex_len() && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .then_some((alg, hex))
}

/// An incremental hash in one of the [`DigestAlgorithm`]s.
#[derive(Debug, Clone)]
pub enum DigestHasher {
    /// sha256.
    Sha256(Sha256),
    /// sha512.
    Sha512(Sha512),
}

impl DigestHasher {
    /// A fresh hash.
    pub fn new(alg: DigestAlgorithm) -> Self {
        match alg {
            DigestAlgorithm::Sha256 => DigestHasher::Sha256(Sha256::new()),
            DigestAlgorithm::Sha512 => DigestHasher::Sha512(Sha512::new()),
        }
    }

    /// Adds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            DigestHasher::Sha256(h) => h.update(bytes),
            DigestHasher::Sha512(h) => h.update(bytes),
        }
    }

    /// `<algorithm>:<hex>` of what was added.
    pub fn finish(self) -> String {
        match self {
            DigestHasher::Sha256(h) => format!("sha256:{}", hex::encode(h.finalize())),
            DigestHasher::Sha512(h) => format!("sha512:{}", hex::encode(h.finalize())),
        }
    }
}

/// Hashing what is written, so a file hashes with `std::io::copy(&mut file, &mut hasher)`.
impl std::io::Write for DigestHasher {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A content descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Descriptor {
    /// Media type.
    pub media_type: String,
    /// `sha256:<hex>`.
    pub digest: String,
    /// Size in bytes.
    pub size: u64,
    /// Annotations.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub annotations: Map<String, Value>,
}

impl Descriptor {
    /// A descriptor without annotations.
    pub fn new(media_type: impl Into<String>, digest: impl Into<String>, size: u64) -> Self {
        Descriptor {
            media_type: media_type.into(),
            digest: digest.into(),
            size,
            annotations: Map::new(),
        }
    }

    /// Adds an annotation.
    #[must_use]
    pub fn with_annotation(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.annotations
            .insert(key.into(), Value::String(value.into()));
        self
    }
}

/// An OCI image manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Manifest {
    /// Always 2.
    pub schema_version: u32,
    /// Manifest media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// ORAS ≥ 1.1 artifact type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// Config descriptor.
    pub config: Descriptor,
    /// Layers.
    pub layers: Vec<Descriptor>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub annotations: Map<String, Value>,
}

impl Manifest {
    /// The manifest `oras push <ref> <name>-<version>.tar.gz` (ORAS 1.0.0) writes: unknown
    /// config `{}`, one `application/vnd.oci.image.layer.v1.tar` layer titled with the
    /// file name, and a creation annotation.
    pub fn for_pack(
        archive_digest: &str,
        archive_size: u64,
        file_name: &str,
        created: &str,
    ) -> Self {
        let mut layer_ann = Map::new();
        layer_ann.insert(TITLE.into(), Value::String(file_name.to_owned()));
        let mut ann = Map::new();
        ann.insert(CREATED.into(), Value::String(created.to_owned()));
        Manifest {
            schema_version: 2,
            media_type: Some(MANIFEST_MEDIA_TYPE.into()),
            artifact_type: None,
            config: Descriptor {
                media_type: UNKNOWN_CONFIG_MEDIA_TYPE.into(),
                digest: sha256_digest(CONFIG_BLOB),
                size: CONFIG_BLOB.len() as u64,
                annotations: Map::new(),
            },
            layers: vec![Descriptor {
                media_type: LAYER_MEDIA_TYPE.into(),
                digest: archive_digest.to_owned(),
                size: archive_size,
                annotations: layer_ann,
            }],
            annotations: ann,
        }
    }

    /// The pack archive layer: exactly one layer of an accepted media type (the ORAS 1.0
    /// shape, the ORAS ≥ 1.1 shape with `artifactType` and an empty config, or a
    /// `tar+gzip` layer), with a well-formed digest.
    pub fn pack_layer(&self) -> Result<&Descriptor, String> {
        let [layer] = self.layers.as_slice() else {
            return Err(format!(
                "expected exactly one layer (the pack archive), found {}",
                self.layers.len()
            ));
        };
        if !ACCEPTED_LAYER_MEDIA_TYPES.contains(&layer.media_type.as_str()) {
            return Err(format!(
                "layer media type `{}` is not a pack archive",
                crate::sanitize(&layer.media_type)
            ));
        }
        if !is_sha256_digest(&layer.digest) {
            return Err(format!(
                "layer digest `{}` is not a sha256 digest",
                crate::sanitize(&layer.digest)
            ));
        }
        Ok(layer)
    }

    /// The layer's file name annotation, if any.
    pub fn title(&self) -> Option<&str> {
        self.layers.first()?.annotations.get(TITLE)?.as_str()
    }
}

/// An OCI image index (an image layout's `index.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Index {
    /// Always 2.
    pub schema_version: u32,
    /// Index media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Manifests, each tagged with `org.opencontainers.image.ref.name`.
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
}

impl Default for Index {
    fn default() -> Self {
        Index {
            schema_version: 2,
            media_type: Some(INDEX_MEDIA_TYPE.into()),
            manifests: Vec::new(),
        }
    }
}

impl Descriptor {
    /// The `org.opencontainers.image.ref.name` annotation (the tag).
    pub fn ref_name(&self) -> Option<&str> {
        self.annotations.get(REF_NAME)?.as_str()
    }
}

/// RFC 3339 UTC time of a Unix timestamp (for the `created` annotation).
pub fn rfc3339(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oras_shape() {
        let m = Manifest::for_pack(
            &format!("sha256:{}", "b".repeat(64)),
            10,
            "x-1.0.0.tar.gz",
            "2026-01-01T00:00:00Z",
        );
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(
            v["config"]["digest"],
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        assert_eq!(v["config"]["mediaType"], UNKNOWN_CONFIG_MEDIA_TYPE);
        assert_eq!(v["layers"][0]["mediaType"], LAYER_MEDIA_TYPE);
        assert_eq!(v["layers"][0]["annotations"][TITLE], "x-1.0.0.tar.gz");
        assert!(v.get("artifactType").is_none());
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_764_028_800), "2025-11-25T00:00:00Z");
        assert!(is_sha256_digest(&sha256_digest(b"")) && !is_sha256_digest("sha256:../../x"));
    }
}
