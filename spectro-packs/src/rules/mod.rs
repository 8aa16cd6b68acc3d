//! Lint rules. One file per rule; each declares its [`Rule`] (stable code, name,
//! severity, explanation) and a `check` function over an in-memory [`Pack`].
//!
//! Codes are never reused. Every rule belongs to a [`Family`], named by its code's two
//! letters: see [`families`]. Profile rules (`PF`) live in `crate::profile`, the
//! suppression rules (`SP`) here; [`all_rules`] is the one registry of all of them.

use crate::diagnostic::{Diagnostic, Position, Severity};
use crate::pack::Pack;
use crate::schema::{SchemaKind, SchemaViolation, validate};
use crate::syntax::Node;

/// Static description of a rule. Serialises (for `spectro rules --format json`, Python
/// and the docs) as `code`, `name`, `family`, `severity`, `since`, `summary`,
/// `explanation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Rule {
    /// Stable code, e.g. `PK001`.
    pub code: &'static str,
    /// Kebab-case name.
    pub name: &'static str,
    /// Severity of its findings.
    pub severity: Severity,
    /// Version of spectro that introduced it.
    pub since: &'static str,
    /// One line: what it reports.
    pub summary: &'static str,
    /// Markdown: what it checks, why it matters, an example.
    pub explanation: &'static str,
}

impl Rule {
    /// The family the rule belongs to (by its code's letters).
    pub fn family(&self) -> &'static Family {
        FAMILIES
            .iter()
            .find(|f| self.code.starts_with(f.prefix))
            .expect("every rule code starts with a family prefix")
    }

    pub(crate) fn diag(
        &'static self,
        file: &str,
        pointer: &str,
        pos: Option<Position>,
        message: String,
    ) -> Diagnostic {
        Diagnostic {
            code: self.code,
            name: self.name,
            severity: self.severity,
            message,
            file: file.to_owned(),
            pointer: pointer.to_owned(),
            line: pos.map(|p| p.line),
            column: pos.map(|p| p.column),
            end_line: None,
            end_column: None,
            help: None,
            fix: None,
        }
    }
}

impl serde::Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Rule", 7)?;
        st.serialize_field("code", self.code)?;
        st.serialize_field("name", self.name)?;
        st.serialize_field("family", self.family().prefix)?;
        st.serialize_field("severity", &self.severity)?;
        st.serialize_field("since", self.since)?;
        st.serialize_field("summary", self.summary)?;
        st.serialize_field("explanation", self.explanation)?;
        st.end()
    }
}

/// A family of rules: what its code prefix covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Family {
    /// The two letters every code of the family starts with.
    pub prefix: &'static str,
    /// What the family checks.
    pub description: &'static str,
}

static FAMILIES: &[Family] = &[
    Family {
        prefix: "PK",
        description: "pack.json",
    },
    Family {
        prefix: "VL",
        description: "values.yaml",
    },
    Family {
        prefix: "YM",
        description: "YAML syntax",
    },
    Family {
        prefix: "MF",
        description: "manifests/",
    },
    Family {
        prefix: "PR",
        description: "presets.yaml",
    },
    Family {
        prefix: "SC",
        description: "schema.yaml",
    },
    Family {
        prefix: "FS",
        description: "files on disk",
    },
    Family {
        prefix: "PF",
        description: "cluster profiles",
    },
    Family {
        prefix: "SP",
        description: "suppression comments",
    },
];

/// Every rule family, in listing order.
pub fn families() -> &'static [Family] {
    FAMILIES
}

mod refs;

mod fs001_symlink_outside_pack;
mod fs002_file_too_large;
mod fs003_unreadable_file;
mod fs004_symlink_in_pack;
mod fs005_pack_tree_truncated;
mod mf001_invalid_manifest;
mod pk001_missing_pack_json;
mod pk002_invalid_json;
mod pk003_duplicate_json_key;
mod pk004_missing_required_field;
mod pk005_wrong_field_type;
mod pk006_invalid_enum_value;
mod pk007_schema_violation;
mod pk008_unknown_field;
mod pk009_version_not_semver;
mod pk010_version_leading_v;
mod pk011_missing_addon_type;
mod pk012_unknown_addon_type;
mod pk013_invalid_pack_name;
mod pk014_missing_referenced_file;
mod pk015_reference_escapes_pack;
mod pk016_wrong_reference_type;
mod pk017_missing_logo;
mod pk018_logo_not_png;
mod pk019_missing_ansible_role;
mod pk020_version_not_a_tag;
mod pr001_preset_schema_violation;
mod pr002_duplicate_preset_name;
mod pr003_preset_add_invalid_yaml;
mod pr004_preset_remove_path_not_found;
mod sc001_schema_yaml_violation;
mod sc002_schema_key_not_in_values;
mod sc003_invalid_schema_template;
mod sc004_unknown_format_type;
mod sc005_value_violates_schema;
mod sp001_unused_suppression;
mod sp002_invalid_suppression;
mod vl001_missing_values_file;
mod vl002_invalid_namespace;
mod vl003_missing_images;
mod vl004_image_entry_without_image;
mod ym001_invalid_yaml;
mod ym002_duplicate_yaml_key;
mod ym003_strict_yaml_only;

pub(crate) use sp001_unused_suppression::RULE as UNUSED_SUPPRESSION;
pub(crate) use sp002_invalid_suppression::RULE as INVALID_SUPPRESSION;

/// The pack rules (run by [`check_pack`]), in code order.
pub(crate) static PACK: &[&Rule] = &[
    &pk001_missing_pack_json::RULE,
    &pk002_invalid_json::RULE,
    &pk003_duplicate_json_key::RULE,
    &pk004_missing_required_field::RULE,
    &pk005_wrong_field_type::RULE,
    &pk006_invalid_enum_value::RULE,
    &pk007_schema_violation::RULE,
    &pk008_unknown_field::RULE,
    &pk009_version_not_semver::RULE,
    &pk010_version_leading_v::RULE,
    &pk011_missing_addon_type::RULE,
    &pk012_unknown_addon_type::RULE,
    &pk013_invalid_pack_name::RULE,
    &pk014_missing_referenced_file::RULE,
    &pk015_reference_escapes_pack::RULE,
    &pk016_wrong_reference_type::RULE,
    &pk017_missing_logo::RULE,
    &pk018_logo_not_png::RULE,
    &pk019_missing_ansible_role::RULE,
    &pk020_version_not_a_tag::RULE,
    &vl001_missing_values_file::RULE,
    &vl002_invalid_namespace::RULE,
    &vl003_missing_images::RULE,
    &vl004_image_entry_without_image::RULE,
    &ym001_invalid_yaml::RULE,
    &ym002_duplicate_yaml_key::RULE,
    &ym003_strict_yaml_only::RULE,
    &mf001_invalid_manifest::RULE,
    &pr001_preset_schema_violation::RULE,
    &pr002_duplicate_preset_name::RULE,
    &pr003_preset_add_invalid_yaml::RULE,
    &pr004_preset_remove_path_not_found::RULE,
    &sc001_schema_yaml_violation::RULE,
    &sc002_schema_key_not_in_values::RULE,
    &sc003_invalid_schema_template::RULE,
    &sc004_unknown_format_type::RULE,
    &sc005_value_violates_schema::RULE,
    &fs001_symlink_outside_pack::RULE,
    &fs002_file_too_large::RULE,
    &fs003_unreadable_file::RULE,
    &fs004_symlink_in_pack::RULE,
    &fs005_pack_tree_truncated::RULE,
];

fn run_all(c: &mut Checker<'_>) {
    pk001_missing_pack_json::check(c);
    pk002_invalid_json::check(c);
    pk003_duplicate_json_key::check(c);
    pk004_missing_required_field::check(c);
    pk005_wrong_field_type::check(c);
    pk006_invalid_enum_value::check(c);
    pk007_schema_violation::check(c);
    pk008_unknown_field::check(c);
    pk009_version_not_semver::check(c);
    pk010_version_leading_v::check(c);
    pk011_missing_addon_type::check(c);
    pk012_unknown_addon_type::check(c);
    pk013_invalid_pack_name::check(c);
    pk014_missing_referenced_file::check(c);
    pk015_reference_escapes_pack::check(c);
    pk016_wrong_reference_type::check(c);
    pk017_missing_logo::check(c);
    pk018_logo_not_png::check(c);
    pk019_missing_ansible_role::check(c);
    pk020_version_not_a_tag::check(c);
    vl001_missing_values_file::check(c);
    vl002_invalid_namespace::check(c);
    vl003_missing_images::check(c);
    vl004_image_entry_without_image::check(c);
    ym001_invalid_yaml::check(c);
    ym002_duplicate_yaml_key::check(c);
    ym003_strict_yaml_only::check(c);
    mf001_invalid_manifest::check(c);
    pr001_preset_schema_violation::check(c);
    pr002_duplicate_preset_name::check(c);
    pr003_preset_add_invalid_yaml::check(c);
    pr004_preset_remove_path_not_found::check(c);
    sc001_schema_yaml_violation::check(c);
    sc002_schema_key_not_in_values::check(c);
    sc003_invalid_schema_template::check(c);
    sc004_unknown_format_type::check(c);
    sc005_value_violates_schema::check(c);
    fs001_symlink_outside_pack::check(c);
    fs002_file_too_large::check(c);
    fs003_unreadable_file::check(c);
    fs004_symlink_in_pack::check(c);
    fs005_pack_tree_truncated::check(c);
}

/// The one registry: pack rules, profile rules, then suppression rules.
static ALL: std::sync::LazyLock<Vec<&'static Rule>> = std::sync::LazyLock::new(|| {
    PACK.iter()
        .chain(crate::profile::all_profile_rules())
        .copied()
        .chain([&UNUSED_SUPPRESSION, &INVALID_SUPPRESSION])
        .collect()
});

/// Every rule spectro knows, of every family: pack rules (PK, VL, YM, MF, PR, SC, FS),
/// profile rules (PF) and suppression rules (SP).
pub fn all_rules() -> &'static [&'static Rule] {
    &ALL
}

/// The rule with this code (case-insensitive) or name, of any family.
pub fn find_rule(code_or_name: &str) -> Option<&'static Rule> {
    ALL.iter()
        .copied()
        .find(|r| r.code.eq_ignore_ascii_case(code_or_name) || r.name == code_or_name)
}

/// Shared state for one pack's checks: parsed roots and schema results computed once.
pub(crate) struct Checker<'a> {
    pub(crate) pack: &'a Pack,
    pub(crate) pack_json: Option<&'a Node>,
    pub(crate) values: Option<&'a Node>,
    pub(crate) pack_json_violations: Vec<SchemaViolation>,
    /// Parsed `add` blocks of every preset (values a preset can bring in).
    pub(crate) preset_adds: Vec<Node>,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

impl<'a> Checker<'a> {
    pub(crate) fn push(&mut self, d: Diagnostic) {
        self.diagnostics.push(d);
    }
}

impl Checker<'_> {
    /// Whether a dotted parameter path exists in values.yaml or in any preset's `add`.
    pub(crate) fn param_exists(&self, dotted: &str) -> bool {
        self.values
            .is_some_and(|v| crate::values_schema::lookup(v, dotted).is_some())
            || self
                .preset_adds
                .iter()
                .any(|a| crate::values_schema::lookup(a, dotted).is_some())
    }
}

impl Checker<'_> {
    /// [`Checker::param_exists`], or a path under a chart that values.yaml configures
    /// (`charts.<chart>.<more>`): chart values merge with the chart's own defaults, which
    /// the pack does not show, so such a path may well exist.
    pub(crate) fn param_may_exist(&self, dotted: &str) -> bool {
        if self.param_exists(dotted) {
            return true;
        }
        let mut segs = dotted.splitn(3, '.');
        match (segs.next(), segs.next(), segs.next()) {
            (Some("charts"), Some(chart), Some(_)) => self.param_exists(&format!("charts.{chart}")),
            _ => false,
        }
    }
}

fn preset_adds(pack: &Pack) -> Vec<Node> {
    let Some(items) = pack
        .presets
        .document()
        .and_then(|d| d.root.get("presets"))
        .and_then(Node::as_seq)
    else {
        return Vec::new();
    };
    let mut budget = crate::syntax::EmbeddedYaml::new(crate::syntax::YamlLimits::default());
    items
        .iter()
        .filter_map(|p| p.get("add")?.as_str())
        .map_while(|t| budget.parse(t))
        .filter_map(Result::ok)
        .map(|d| d.root)
        .collect()
}

/// Position of the node at `pointer` (its key when `at_key` and it has one), or of the
/// nearest existing ancestor.
pub(crate) fn node_position(root: &Node, pointer: &str, at_key: bool) -> Position {
    match root.pointer(pointer) {
        Some((Some(key), _)) if at_key => key.pos,
        Some((_, node)) => node.pos,
        None => root.nearest(pointer).pos,
    }
}

/// The closest candidate by edit distance, if close enough to be a likely typo.
pub(crate) fn did_you_mean<'c>(
    word: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    let lower = word.to_ascii_lowercase();
    let len = word.chars().count();
    candidates
        .into_iter()
        // The distance is at least the length difference: skip hopeless candidates
        // before the quadratic comparison.
        .filter(|c| {
            let n = c.chars().count();
            n.abs_diff(len) <= 2.max(n / 4)
        })
        .map(|c| {
            (
                strsim::damerau_levenshtein(&lower, &c.to_ascii_lowercase()),
                c,
            )
        })
        .filter(|(d, c)| *d <= 2.max(c.len() / 4) && *d < c.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Run every rule over a loaded pack. Findings are sorted by file, line, column, code.
pub fn check_pack(pack: &Pack) -> Vec<Diagnostic> {
    let pack_json = pack.pack_json.document().map(|d| &d.root);
    let pack_json_violations = match pack_json {
        Some(root) => validate(SchemaKind::Pack, &root.to_json()),
        None => Vec::new(),
    };
    let mut c = Checker {
        pack,
        pack_json,
        values: pack.values.document().map(|d| &d.root),
        pack_json_violations,
        preset_adds: preset_adds(pack),
        diagnostics: Vec::new(),
    };
    run_all(&mut c);
    let mut out = c.diagnostics;
    out.sort_by(|a, b| {
        (&a.file, a.line, a.column, a.code).cmp(&(&b.file, b.line, b.column, b.code))
    });
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_are_unique_and_well_formed() {
        let mut codes = std::collections::HashSet::new();
        let mut names = std::collections::HashSet::new();
        for r in all_rules() {
            assert_eq!(&r.code[..2], r.family().prefix);
            assert!(codes.insert(r.code), "duplicate code {}", r.code);
            assert!(names.insert(r.name), "duplicate name {}", r.name);
            assert!(r.code.len() == 5 && r.code[..2].bytes().all(|b| b.is_ascii_uppercase()));
            assert!(
                r.name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{}",
                r.name
            );
            assert!(
                r.explanation.contains("## Why"),
                "{} lacks a `## Why` section",
                r.code
            );
            assert!(
                r.explanation.contains("## Example"),
                "{} lacks an example",
                r.code
            );
        }
    }

    #[test]
    fn typo_suggestions() {
        let keys = ["kubeManifests", "charts", "cloudTypes"];
        assert_eq!(did_you_mean("kubeManifest", keys), Some("kubeManifests"));
        assert_eq!(did_you_mean("cloudtype", keys), Some("cloudTypes"));
        assert_eq!(did_you_mean("zzz", keys), None);
    }
}
