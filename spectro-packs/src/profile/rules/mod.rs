//! Profile rules, code family `PF`. One file per rule; each declares its [`Rule`] and a
//! `check` over a loaded [`Profile`] and the packs it resolved to.
//!
//! Codes are never reused. Findings point into the profile file: `file` is the profile
//! path as given, `pointer` a JSON Pointer into it, line and column where the node starts.
//! For findings inside a pack's `values` string, the pointer names the string and the
//! message gives the line inside the values.

use crate::diagnostic::{Diagnostic, Position};
use crate::layer::Layer;
use crate::pack::Pack;
use crate::profile::model::{PackValues, Profile, ProfilePack};
use crate::profile::source::{PackIndex, Resolution};
use crate::profile::tag::TagPattern;
use crate::rules::Rule;
use crate::syntax::Node;
use crate::version::PackVersion;

mod deps;
mod vars;

mod pf001_invalid_profile_syntax;
mod pf002_invalid_profile_shape;
mod pf003_duplicate_core_layer;
mod pf004_layer_not_allowed_for_type;
mod pf005_missing_core_layer;
mod pf006_cloud_all_requires_addon;
mod pf007_layer_mismatch;
mod pf008_duplicate_pack;
mod pf009_missing_required_dependency;
mod pf010_dependency_version_out_of_range;
mod pf011_unsupported_pack_combination;
mod pf012_upgrade_constraint;
mod pf013_cloud_type_not_supported;
mod pf014_pack_not_found;
mod pf015_wildcard_tag_resolved;
mod pf016_tag_version_mismatch;
mod pf017_invalid_pack_values;
mod pf018_pack_values_violate_schema;
mod pf019_undefined_variable;
mod pf020_unused_variable;
mod pf021_invalid_variable_definition;
mod pf022_release_name_conflict;

/// Every profile rule, in code order.
pub(crate) static ALL: &[&Rule] = &[
    &pf001_invalid_profile_syntax::RULE,
    &pf002_invalid_profile_shape::RULE,
    &pf003_duplicate_core_layer::RULE,
    &pf004_layer_not_allowed_for_type::RULE,
    &pf005_missing_core_layer::RULE,
    &pf006_cloud_all_requires_addon::RULE,
    &pf007_layer_mismatch::RULE,
    &pf008_duplicate_pack::RULE,
    &pf009_missing_required_dependency::RULE,
    &pf010_dependency_version_out_of_range::RULE,
    &pf011_unsupported_pack_combination::RULE,
    &pf012_upgrade_constraint::RULE,
    &pf013_cloud_type_not_supported::RULE,
    &pf014_pack_not_found::RULE,
    &pf015_wildcard_tag_resolved::RULE,
    &pf016_tag_version_mismatch::RULE,
    &pf017_invalid_pack_values::RULE,
    &pf018_pack_values_violate_schema::RULE,
    &pf019_undefined_variable::RULE,
    &pf020_unused_variable::RULE,
    &pf021_invalid_variable_definition::RULE,
    &pf022_release_name_conflict::RULE,
];

fn run_all(c: &mut ProfileChecker<'_>) {
    pf001_invalid_profile_syntax::check(c);
    pf002_invalid_profile_shape::check(c);
    pf003_duplicate_core_layer::check(c);
    pf004_layer_not_allowed_for_type::check(c);
    pf005_missing_core_layer::check(c);
    pf006_cloud_all_requires_addon::check(c);
    pf007_layer_mismatch::check(c);
    pf008_duplicate_pack::check(c);
    pf009_missing_required_dependency::check(c);
    pf010_dependency_version_out_of_range::check(c);
    pf011_unsupported_pack_combination::check(c);
    pf012_upgrade_constraint::check(c);
    pf013_cloud_type_not_supported::check(c);
    pf014_pack_not_found::check(c);
    pf015_wildcard_tag_resolved::check(c);
    pf016_tag_version_mismatch::check(c);
    pf017_invalid_pack_values::check(c);
    pf018_pack_values_violate_schema::check(c);
    pf019_undefined_variable::check(c);
    pf020_unused_variable::check(c);
    pf021_invalid_variable_definition::check(c);
    pf022_release_name_conflict::check(c);
}

/// Shared state for one profile's checks.
pub(crate) struct ProfileChecker<'a> {
    pub(crate) profile: &'a Profile,
    pub(crate) index: &'a PackIndex,
    /// Per profile pack (same order): how it resolved, `None` when it is not resolvable
    /// (manifest or Helm packs, no name) or no source is configured.
    pub(crate) resolutions: Vec<Option<Resolution<'a>>>,
    pub(crate) file: String,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

impl<'a> ProfileChecker<'a> {
    /// A finding at the node `pointer` of the profile (its key when `at_key`).
    pub(crate) fn at(
        &self,
        rule: &'static Rule,
        pointer: &str,
        at_key: bool,
        message: String,
    ) -> Diagnostic {
        let pos = self.profile.position(pointer, at_key);
        rule.diag(&self.file, pointer, Some(pos), message)
    }

    pub(crate) fn push(&mut self, d: Diagnostic) {
        self.diagnostics.push(d);
    }

    /// The pack.json pack that profile pack `i` resolved to.
    pub(crate) fn resolved(&self, i: usize) -> Option<&'a Pack> {
        match self.resolutions.get(i).copied().flatten() {
            Some(Resolution::Found { pack, .. }) => Some(pack),
            _ => None,
        }
    }

    /// The layer of profile pack `i`: as declared, else from its pack.json.
    pub(crate) fn layer(&self, i: usize) -> Option<Layer> {
        self.profile.packs[i]
            .layer
            .or_else(|| self.resolved(i).and_then(|p| p.manifest().layer))
    }

    /// The version profile pack `i` stands for: its resolved pack.json version, else
    /// `version`, else an exact `tag`.
    pub(crate) fn version(&self, i: usize) -> Option<PackVersion> {
        if let Some(v) = self
            .resolved(i)
            .and_then(Pack::version)
            .and_then(|v| PackVersion::parse(v).ok())
        {
            return Some(v);
        }
        let p = &self.profile.packs[i];
        if let Some(v) = p
            .version
            .as_deref()
            .and_then(|v| PackVersion::parse(v).ok())
        {
            return Some(v);
        }
        match p.tag.as_deref().and_then(TagPattern::parse)?.label {
            crate::profile::tag::TagLabel::Exact(v) => Some(v),
            _ => None,
        }
    }

    /// The pointer of a pack's layer field when declared, else of its name (for findings
    /// about the pack's layer).
    pub(crate) fn layer_pointer(&self, p: &ProfilePack) -> String {
        if p.layer.is_some() {
            p.field("layer")
        } else {
            p.field("name")
        }
    }

    /// Where a node inside a pack's values is: pointer, position, and a note for the
    /// message. Inline values point at the node itself; values given as a string point at
    /// the string and name the line inside it.
    pub(crate) fn locate_in_values(
        &self,
        p: &ProfilePack,
        inner_pointer: &str,
        node: &Node,
    ) -> (String, Position, String) {
        match &p.values {
            PackValues::Inline(_) => {
                let ptr = format!("{}{inner_pointer}", p.field("values"));
                (ptr, node.pos, String::new())
            }
            _ => {
                let ptr = p.field("values");
                let pos = self.profile.position(&ptr, false);
                (ptr, pos, format!(" (values line {})", node.pos.line))
            }
        }
    }
}

/// The node at a dotted path (`pack.namespace`) of a pack's values.
pub(crate) fn values_get<'n>(root: &'n Node, path: &[&str]) -> Option<&'n Node> {
    path.iter().try_fold(root, |n, k| n.get(k))
}

/// `spectrocloud.com/display-name` under `pack:` in a profile pack's values.
pub(crate) fn display_name(p: &ProfilePack) -> Option<&str> {
    values_get(p.values.root()?, &["pack", "spectrocloud.com/display-name"])?.as_str()
}

/// Run every profile rule. Findings are sorted by line, column and code.
pub(crate) fn check_profile(profile: &Profile, index: &PackIndex) -> Vec<Diagnostic> {
    let resolutions = profile
        .packs
        .iter()
        .map(|p| {
            let name = p.name.as_deref().filter(|n| !n.is_empty())?;
            (index.has_sources() && p.kind().has_pack_json())
                .then(|| index.resolve(name, p.tag.as_deref(), p.version.as_deref()))
        })
        .collect();
    let mut c = ProfileChecker {
        profile,
        index,
        resolutions,
        file: profile.file(),
        diagnostics: Vec::new(),
    };
    run_all(&mut c);
    let mut out = c.diagnostics;
    out.sort_by(|a, b| (a.line, a.column, a.code).cmp(&(b.line, b.column, b.code)));
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_are_unique_and_documented() {
        let mut codes = std::collections::HashSet::new();
        let mut names = std::collections::HashSet::new();
        for r in crate::rules::all_rules() {
            assert!(codes.insert(r.code), "duplicate code {}", r.code);
            assert!(names.insert(r.name), "duplicate name {}", r.name);
        }
        for r in ALL {
            assert!(r.code.starts_with("PF") && r.code.len() == 5, "{}", r.code);
            for section in ["## What it does", "## Why", "## Example"] {
                assert!(
                    r.explanation.contains(section),
                    "{} lacks {section}",
                    r.code
                );
            }
        }
    }
}
