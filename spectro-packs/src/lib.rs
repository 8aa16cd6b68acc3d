//! # spectro-packs
//!
//! A typed model of Spectro Cloud Palette *packs* and *cluster profiles*, a linter that
//! reports what Palette would reject at `file:line:column`, reproducible pack archives,
//! and pack registries (an embedded one on disk, and any OCI registry over HTTP with the
//! `remote` feature).
//!
//! Every example below is self-contained: it scaffolds a pack in a temporary folder.
//!
//! ## Validate a pack
//!
//! [`validate_pack`] loads a pack directory (or a `.tar.gz` archive) and runs every rule.
//!
//! ```
//! use spectro_packs::{Layer, Severity, scaffold, validate_pack};
//!
//! let tmp = tempfile::tempdir()?;
//! let dir = scaffold::new_pack(tmp.path(), &scaffold::NewPack::new("hello", Layer::Addon))?;
//! let report = validate_pack(&dir)?;
//! assert_eq!(report.count(Severity::Error), 0, "{:?}", report.diagnostics);
//!
//! // A typo Palette would reject, found with its exact place.
//! std::fs::write(dir.join("pack.json"), r#"{"name": "hello", "version": "1.0.0", "layer": "adon"}"#)?;
//! let report = validate_pack(&dir)?;
//! let d = report.diagnostics.iter().find(|d| d.code == "PK006").expect("PK006");
//! assert_eq!((d.file.as_str(), d.pointer.as_str()), ("pack.json", "/layer"));
//! assert_eq!((d.line.map(|l| l.get()), d.column.map(|c| c.get())), (Some(1), Some(48)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Load, then check
//!
//! Loading ([`load_pack`]) reads files and records what could not be read; checking
//! ([`check_pack`]) is pure and runs every [`Rule`] over the in-memory [`Pack`], so a
//! caller can load once and check, or inspect the typed [`PackManifest`].
//!
//! ```
//! use spectro_packs::{Layer, check_pack, load_pack, scaffold};
//!
//! let tmp = tempfile::tempdir()?;
//! let dir = scaffold::new_pack(tmp.path(), &scaffold::NewPack::new("hello", Layer::Addon))?;
//! let pack = load_pack(&dir)?;
//! assert_eq!((pack.name(), pack.manifest().layer), (Some("hello"), Some(Layer::Addon)));
//! assert!(check_pack(&pack).iter().all(|d| d.code != "PK006"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Validate a cluster profile
//!
//! [`validate_profile`] checks a profile (Palette's export, JSON or YAML) for conflicting
//! layers and, given pack sources, for dependency and version constraints.
//!
//! ```
//! use spectro_packs::{ProfileOptions, validate_profile};
//!
//! let tmp = tempfile::tempdir()?;
//! let profile = tmp.path().join("profile.json");
//! let pack = |name: &str, layer: &str| {
//!     format!(r#"{{"name": "{name}", "type": "spectro", "layer": "{layer}", "version": "1.0.0"}}"#)
//! };
//! std::fs::write(&profile, format!(
//!     r#"{{"metadata": {{"name": "demo"}}, "spec": {{"version": "1.0.0", "template": {{
//!         "type": "cluster", "cloudType": "aws", "packs": [{}, {}, {}, {}, {}]}}}}}}"#,
//!     pack("ubuntu-aws", "os"), pack("kubernetes", "k8s"), pack("cni-calico", "cni"),
//!     pack("cni-flannel", "cni"), pack("csi-aws-ebs", "csi"),
//! ))?;
//! let report = validate_profile(&profile, &ProfileOptions::default())?;
//! assert!(report.diagnostics.iter().any(|d| d.code == "PF003"), "two CNI packs");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Build and extract an archive
//!
//! [`archive::build_archive`] writes `<name>-<version>.tar.gz` with fixed entry order,
//! owners and times, so the same pack gives the same digest on every machine;
//! [`archive::extract_archive`] unpacks one with every path, size and count checked.
//!
//! ```
//! use spectro_packs::archive::{BuildOptions, ExtractOptions, build_archive, extract_archive};
//! use spectro_packs::{Layer, scaffold};
//!
//! let tmp = tempfile::tempdir()?;
//! let dir = scaffold::new_pack(tmp.path(), &scaffold::NewPack::new("hello", Layer::Addon))?;
//! let built = build_archive(&dir, tmp.path().join("dist"), &BuildOptions::default())?;
//! let again = build_archive(&dir, tmp.path().join("again"), &BuildOptions::default())?;
//! assert_eq!(built.digest, again.digest);
//!
//! let out = extract_archive(&built.path, tmp.path().join("out"), &ExtractOptions::for_pack("hello"))?;
//! assert!(out.root.join("pack.json").is_file());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Push to and pull from a registry
//!
//! A folder is the embedded registry (OCI image layouts, no server); with the `remote`
//! feature an `oci://host/base` location is any OCI distribution registry, in the exact
//! shape Palette syncs from. Both implement [`registry::Registry`].
//!
//! ```
//! use spectro_packs::registry::{self, PackRef, PullOptions, PushOptions, RegistryLocation};
//! use spectro_packs::{Layer, scaffold};
//!
//! let tmp = tempfile::tempdir()?;
//! let dir = scaffold::new_pack(tmp.path(), &scaffold::NewPack::new("hello", Layer::Addon))?;
//! let location = RegistryLocation::parse(tmp.path().join("registry").to_str().unwrap())?;
//! let reg = registry::open(&location)?;
//!
//! let pushed = reg.push(&dir, &PushOptions::default())?;
//! assert_eq!(pushed.reference.to_string(), "hello:1.0.0");
//! // Pushing the same content again changes nothing.
//! assert!(!reg.push(&dir, &PushOptions::default())?.changed);
//!
//! // A bare name is the highest version; `hello:1.x` the highest 1.x.
//! let pulled = reg.pull(&PackRef::parse("hello")?, &tmp.path().join("pulled"), &PullOptions::default())?;
//! assert_eq!(pulled.version, "1.0.0");
//! assert!(pulled.path.join("values.yaml").is_file());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Cargo features
//!
//! | feature | adds | pulls in |
//! |---|---|---|
//! | *(default)* | the linter, profiles, archives, the embedded registry | no HTTP stack, no async runtime |
//! | `remote` | `registry::OciRegistry`: `oci://` registries (Palette's layout, ORAS 1.0.0 manifests), credentials, retries, resumable uploads | `reqwest` (blocking), `rustls` |
//! | `lsp` | `lsp::serve`: the language server behind `spectro lsp` | `lsp-server`, `gen-lsp-types` (no async runtime) |
//!
//! ## Environment
//!
//! The library prints nothing and never exits. Its own settings come from environment
//! variables only in functions whose names say so (`registry::config::spectro_home_from_env`,
//! and with `remote`, `CredentialStore::from_env` and `RemoteOptions::from_env`). Two
//! platform conventions apply regardless: temporary files follow `TMPDIR`, and the HTTP
//! client honours the standard proxy variables and the system's certificate settings.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

/// `with_*` builder methods for an options struct: `builder!(Type { with_x => x: T })`
/// makes `fn with_x(self, value: T) -> Self` setting `x` (wrapped in `Some` when the
/// field is an `Option<T>`).
macro_rules! builder {
    ($ty:ident { $($name:ident => $field:ident : $fty:ty),* $(,)? }) => {
        impl $ty {
            $(
                #[doc = concat!("Sets [`", stringify!($field), "`](", stringify!($ty), "::", stringify!($field), ").")]
                #[must_use]
                pub fn $name(mut self, value: $fty) -> Self {
                    self.$field = value.into();
                    self
                }
            )*
        }
    };
}

pub mod archive;
mod diagnostic;
mod error;
mod layer;
pub mod limits;
#[cfg(feature = "lsp")]
#[cfg_attr(docsrs, doc(cfg(feature = "lsp")))]
pub mod lsp;
mod manifest;
mod pack;
pub mod profile;
pub mod registry;
mod report;
mod rules;
mod safety;
pub mod scaffold;
pub mod schema;
mod selection;
#[cfg(feature = "serve")]
#[cfg_attr(docsrs, doc(cfg(feature = "serve")))]
pub mod server;
pub mod settings;
mod suppress;
pub mod syntax;
pub mod values_schema;
mod version;

pub use diagnostic::{Diagnostic, Fix, OneIndexed, Position, Severity, sanitize};
pub use error::{Error, ErrorKind, Result};
pub use layer::{Layer, UnknownLayer};
pub use limits::Limits;
pub use manifest::{
    Component, Constraints, Dependency, DependencyType, PackManifest, Resource, ResourceType,
    ScheduleType,
};
pub use pack::{
    EntryKind, FileStatus, LoadOptions, LoadProblem, Overlay, Pack, ParseCache, SourceFile,
    TreeEntry, discover_packs, files, load_pack, load_pack_cached, load_pack_overlay,
    load_pack_with,
};
pub use profile::{
    ProfileOptions, ProfileReport, ProfileSummary, all_profile_rules, validate_profile,
    validate_profiles,
};
pub use report::{
    PackReport, Report, ReportKind, Summary, ValidateOptions, is_archive_path, validate_pack,
    validate_pack_with, validate_paths,
};
pub use rules::{Family, Rule, all_rules, check_pack, families, find_rule};
pub use safety::mask_url_userinfo;
pub use selection::{RuleSelection, RuleSelector, parse_severity_override};
pub use version::{InvalidVersion, PackVersion};
