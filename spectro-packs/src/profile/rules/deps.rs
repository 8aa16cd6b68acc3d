//! Shared evaluation of pack.json `constraints.dependencies` against a profile, used by
//! PF009–PF012.
//!
//! Versions are compared with [`PackVersion`]: a leading `v` is ignored and missing
//! components count as 0, so a bound `1.27` equals `1.27.0` and `1.21.49` > `1.21.5`. Both
//! bounds are inclusive; an empty or absent bound is unbounded. A bound that is not a
//! version makes the dependency uncheckable (pack rules report it) and it is skipped.

use super::ProfileChecker;
use crate::manifest::{Dependency, DependencyType};
use crate::version::PackVersion;

/// A version range from a dependency's bounds.
pub(crate) struct Range {
    pub(crate) min: Option<PackVersion>,
    pub(crate) max: Option<PackVersion>,
}

impl Range {
    fn bound(s: Option<&str>) -> Result<Option<PackVersion>, ()> {
        match s.map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => PackVersion::parse(s).map(Some).map_err(|_| ()),
        }
    }

    pub(crate) fn of(d: &Dependency) -> Option<Range> {
        Some(Range {
            min: Range::bound(d.min_version.as_deref()).ok()?,
            max: Range::bound(d.max_version.as_deref()).ok()?,
        })
    }

    pub(crate) fn contains(&self, v: &PackVersion) -> bool {
        self.min.as_ref().is_none_or(|m| v >= m) && self.max.as_ref().is_none_or(|m| v <= m)
    }

    /// `[1.27, any]`-style text for messages.
    pub(crate) fn describe(&self) -> String {
        match (&self.min, &self.max) {
            (None, None) => "any version".to_owned(),
            (Some(a), None) => format!(">= {a}"),
            (None, Some(b)) => format!("<= {b}"),
            (Some(a), Some(b)) => format!("{a} to {b}"),
        }
    }
}

/// One dependency of one profile pack, with the profile packs it names.
pub(crate) struct DepUse<'a> {
    /// Index of the pack whose pack.json declares the dependency.
    pub(crate) owner: usize,
    pub(crate) name: &'a str,
    pub(crate) kind: DependencyType,
    /// `layer` of the dependency, if given.
    pub(crate) layer: Option<crate::layer::Layer>,
    pub(crate) range: Range,
    /// Profile packs with that name, with their versions when known.
    pub(crate) present: Vec<(usize, Option<PackVersion>)>,
}

/// Every checkable dependency of every resolved pack, in profile order.
pub(crate) fn dependency_uses<'a>(c: &ProfileChecker<'a>) -> Vec<DepUse<'a>> {
    let mut out = Vec::new();
    // Profile packs by name (as written, and as resolved), built once: looking every
    // dependency up by scanning the profile was quadratic in packs.
    let mut by_name: std::collections::HashMap<&str, Vec<usize>> = std::collections::HashMap::new();
    for (j, q) in c.profile.packs.iter().enumerate() {
        let written = q.name.as_deref();
        if let Some(n) = written {
            by_name.entry(n).or_default().push(j);
        }
        if let Some(n) = c.resolved(j).and_then(|r| r.name())
            && Some(n) != written
        {
            by_name.entry(n).or_default().push(j);
        }
    }
    for i in 0..c.profile.packs.len() {
        let Some(pack) = c.resolved(i) else { continue };
        let Some(deps) = pack
            .manifest()
            .constraints
            .as_ref()
            .and_then(|k| k.dependencies.as_ref())
        else {
            continue;
        };
        for d in deps {
            let (Some(name), Some(kind)) = (d.pack_name.as_deref(), d.kind) else {
                continue;
            };
            let Some(range) = Range::of(d) else { continue };
            let present = by_name
                .get(name)
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .filter(|&&j| j != i)
                .map(|&j| (j, c.version(j)))
                .collect();
            out.push(DepUse {
                owner: i,
                name,
                kind,
                layer: d.layer,
                range,
                present,
            });
        }
    }
    out
}
