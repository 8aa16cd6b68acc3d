//! Pack sources: where the packs a profile references are looked up.
//!
//! [`PackIndex`] loads every pack below a set of local directories (recursively, by
//! `pack.json`) and resolves a profile pack — name plus tag or version — to one of them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::error::Result;
use crate::pack::{LoadOptions, Pack, discover_packs, load_pack_with};
use crate::profile::tag::TagPattern;
use crate::version::PackVersion;

/// Every pack found in the configured sources, indexed by name.
#[derive(Debug, Default)]
pub struct PackIndex {
    packs: Vec<(PackVersion, Pack)>,
    by_name: BTreeMap<String, Vec<usize>>,
    roots: Vec<PathBuf>,
}

/// How a profile pack was resolved.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Resolution<'a> {
    /// Found. `wildcard` is true when the tag was a wildcard and this is the highest match.
    Found {
        /// The pack.
        pack: &'a Pack,
        /// Whether a wildcard tag was resolved.
        wildcard: bool,
    },
    /// No pack of that name in any source.
    UnknownName,
    /// Packs of that name exist, none with a matching version.
    NoMatchingVersion,
    /// Neither `tag` nor `version` gives a usable version.
    NoVersion,
}

impl PackIndex {
    /// An index with no sources: every lookup is [`Resolution::UnknownName`].
    pub fn empty() -> Self {
        PackIndex::default()
    }

    /// Load every pack below each directory (a pack directory, or a folder searched
    /// recursively for `pack.json`). Packs whose pack.json has no usable name or version
    /// are left out (`spectro validate` reports them).
    pub fn load<P: AsRef<Path>>(dirs: &[P], opts: &LoadOptions) -> Result<Self> {
        let mut found = Vec::new();
        for d in dirs {
            found.extend(discover_packs(d.as_ref())?);
        }
        let loaded: Vec<Pack> = found
            .par_iter()
            .map(|d| load_pack_with(d, opts))
            .collect::<Result<_>>()?;
        let mut index = PackIndex {
            roots: dirs.iter().map(|d| d.as_ref().to_path_buf()).collect(),
            ..PackIndex::default()
        };
        for pack in loaded {
            let (Some(name), Some(version)) = (pack.name(), pack.version()) else {
                continue;
            };
            let Ok(version) = PackVersion::parse(version) else {
                continue;
            };
            let name = name.to_owned();
            index
                .by_name
                .entry(name)
                .or_default()
                .push(index.packs.len());
            index.packs.push((version, pack));
        }
        Ok(index)
    }

    /// Whether any source was configured.
    pub fn has_sources(&self) -> bool {
        !self.roots.is_empty()
    }

    /// The directories searched.
    pub fn roots(&self) -> &[PathBuf] {
        &self.roots
    }

    /// Number of packs indexed.
    pub fn len(&self) -> usize {
        self.packs.len()
    }

    /// Whether no pack is indexed.
    pub fn is_empty(&self) -> bool {
        self.packs.is_empty()
    }

    /// Names of all indexed packs, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }

    /// Versions available for `name`, ascending.
    pub fn versions(&self, name: &str) -> Vec<&PackVersion> {
        let mut v: Vec<&PackVersion> = self
            .by_name
            .get(name)
            .map(|ix| ix.iter().map(|&i| &self.packs[i].0).collect())
            .unwrap_or_default();
        v.sort();
        v
    }

    /// Resolve `name` with its `tag` (preferred; may be a wildcard) or `version`.
    pub fn resolve(&self, name: &str, tag: Option<&str>, version: Option<&str>) -> Resolution<'_> {
        let Some(ix) = self.by_name.get(name) else {
            return Resolution::UnknownName;
        };
        let pattern = tag
            .and_then(TagPattern::parse)
            .or_else(|| version.and_then(TagPattern::parse));
        let Some(pattern) = pattern else {
            return Resolution::NoVersion;
        };
        let candidates = ix.iter().map(|&i| {
            let (v, p) = &self.packs[i];
            (v, p.manifest().group.as_deref(), p)
        });
        match pattern.best(candidates) {
            Some((_, pack)) => Resolution::Found {
                pack,
                wildcard: pattern.is_wildcard(),
            },
            None => Resolution::NoMatchingVersion,
        }
    }
}
