//! Pack archives: deterministic `.tar.gz` building and hostile-proof extraction.
//!
//! Palette's OCI flow stores a pack as `<name>-<version>.tar.gz` holding one top-level
//! directory. [`build_archive`] writes that reproducibly (sorted entries, uid/gid 0, fixed
//! mtime, normalised modes, no links or devices) with all cores; [`extract_archive`]
//! unpacks one into a temporary directory beside the destination and renames it into place
//! only when every entry passed the checks.

mod build;
pub(crate) mod extract;
mod gzip;

pub use build::{BuildOptions, BuiltArchive, DEFAULT_MTIME, archive_file_name, build_archive};
pub(crate) use extract::read_pack_json;
pub use extract::{ExtractLimits, ExtractOptions, Extracted, extract_archive, read_identity};

/// Why an archive could not be built or extracted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ArchiveProblem {
    /// A symbolic link in the pack directory (never followed or inlined).
    #[error("is a symbolic link; packs must not contain links (replace it with the file)")]
    Symlink,
    /// A device, FIFO or socket in the pack directory.
    #[error("is not a regular file or directory")]
    SpecialFile,
    /// The pack has validation errors.
    #[error("the pack has {errors} validation error(s)")]
    Invalid {
        /// Number of error findings.
        errors: usize,
    },
    /// pack.json lacks a usable name or version.
    #[error("pack.json has no usable `name` and `version`")]
    NoIdentity,
    /// The input is not gzip.
    #[error("is not a gzip file")]
    NotGzip,
    /// The gzip stream or tar data ends early or is corrupt.
    #[error("is truncated or corrupt: {0}")]
    Corrupt(String),
    /// The tar data continues in a second gzip member (concatenated gzip streams are
    /// not accepted: what is digested must be exactly what is extracted).
    #[error("is a multi-member gzip stream (concatenated .gz files); recompress it as one stream")]
    MultiMember,
    /// Bytes after the end of the gzip member.
    #[error("has trailing data after the gzip stream")]
    TrailingData,
    /// An entry path escapes the destination.
    #[error("has an entry path that escapes the archive (absolute, `..` or drive path)")]
    PathEscape,
    /// An entry path is not valid UTF-8 or contains NUL/backslash tricks.
    #[error("has an invalid entry name")]
    BadName,
    /// A link, device or FIFO entry.
    #[error("has a {0} entry; pack archives may only hold files and directories")]
    ForbiddenEntry(&'static str),
    /// Two entries with the same path.
    #[error("has the same path twice")]
    DuplicateEntry,
    /// Entries outside a single top-level directory.
    #[error("must hold exactly one top-level directory")]
    NotOneTopDir,
    /// No pack.json in the top-level directory.
    #[error("has no pack.json in its top-level directory")]
    NoPackJson,
    /// The archive holds no entries.
    #[error("is empty")]
    Empty,
    /// A size or count cap was hit (counted on bytes actually read).
    #[error("exceeds the {what} limit of {limit}")]
    Limit {
        /// Which cap.
        what: &'static str,
        /// Its value.
        limit: u64,
    },
    /// `.spectroignore` leaves out a file the pack needs (pack.json, values.yaml or a
    /// file pack.json lists).
    #[error("is needed by the pack but matched by .spectroignore; the archive would be unusable")]
    RequiredFileIgnored,
    /// The destination already exists (and replacing it was not asked for).
    #[error("destination already exists")]
    DestinationExists,
    /// The top-level folder is not named after pack.json's `name`.
    #[error("top-level folder `{top}` is not the pack's name `{name}` (from pack.json)")]
    TopDirMismatch {
        /// The folder (sanitised).
        top: String,
        /// pack.json's name (sanitised).
        name: String,
    },
    /// The archive holds another pack than the one asked for.
    #[error("holds pack `{found}`, not the requested `{expected}`")]
    WrongPack {
        /// The name asked for.
        expected: String,
        /// pack.json's name (sanitised).
        found: String,
    },
}
