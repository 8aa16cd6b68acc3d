//! # spectro-packs
//!
//! A typed model of Spectro Cloud Palette *packs* and a linter that reports what Palette
//! would reject, located at `file:line:column`.
//!
//! ```
//! use spectro_packs::{Severity, validate_pack};
//!
//! let report = validate_pack("../fixtures/packs/invalid/PK006-invalid-enum-value")?;
//! let d = &report.diagnostics[0];
//! assert_eq!((d.code, d.severity), ("PK006", Severity::Error));
//! assert_eq!((d.file.as_str(), d.pointer.as_str()), ("pack.json", "/layer"));
//! # Ok::<(), spectro_packs::Error>(())
//! ```
//!
//! Loading ([`load_pack`]) reads files and records problems; checking ([`check_pack`]) is
//! pure and runs every [`Rule`]. The library never prints, exits or reads environment
//! variables.
#![deny(missing_docs)]

pub mod archive;
mod diagnostic;
mod error;
mod layer;
mod manifest;
mod pack;
pub mod profile;
pub mod registry;
mod report;
mod rules;
mod safety;
pub mod scaffold;
pub mod schema;
pub mod syntax;
pub mod values_schema;
mod version;

pub use diagnostic::{Diagnostic, OneIndexed, Position, Severity, sanitize};
pub use error::{Error, Result};
pub use layer::{Layer, UnknownLayer};
pub use manifest::{
    Component, Constraints, Dependency, DependencyType, PackManifest, Resource, ResourceType,
    ScheduleType,
};
pub use pack::{
    EntryKind, FileStatus, LoadOptions, LoadProblem, Pack, SourceFile, TreeEntry, discover_packs,
    files, load_pack, load_pack_with,
};
pub use profile::{
    ProfileOptions, ProfileReport, ProfileSummary, all_profile_rules, validate_profile,
    validate_profiles,
};
pub use report::{
    PackReport, Summary, ValidateOptions, is_archive_path, validate_pack, validate_pack_with,
    validate_paths,
};
pub use rules::{Rule, all_rules, check_pack, find_rule};
pub use safety::mask_url_userinfo;
pub use version::{InvalidVersion, PackVersion};
