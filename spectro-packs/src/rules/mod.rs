//! Lint rules. One file per rule; each declares its [`Rule`] (stable code, name,
//! severity, explanation) and a `check` function over an in-memory [`Pack`].
//!
//! Codes are never reused. Prefixes: `PK` pack.json, `VL` values.yaml, `YM` YAML syntax,
//! `MF` manifests, `PR` presets.yaml, `SC` schema.yaml, `FS` files on disk.

use crate::diagnostic::{Diagnostic, Position, Severity};
use crate::pack::Pack;
use crate::schema::{SchemaKind, SchemaViolation, validate};
use crate::syntax::Node;

/// Static description of a rule.
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
            help: None,
        }
    }
}

macro_rules! rules {
    ($($module:ident),* $(,)?) => {
        $(mod $module;)*

        /// Every rule, in code order.
        pub(crate) static ALL: &[&Rule] = &[$(&$module::RULE),*];

        fn run_all(c: &mut Checker<'_>) {
            $($module::check(c);)*
        }
    };
}

mod refs;

rules!(
    pk001_missing_pack_json,
    pk002_invalid_json,
    pk003_duplicate_json_key,
    pk004_missing_required_field,
    pk005_wrong_field_type,
    pk006_invalid_enum_value,
    pk007_schema_violation,
    pk008_unknown_field,
    pk009_version_not_semver,
    pk010_version_leading_v,
    pk011_missing_addon_type,
    pk012_unknown_addon_type,
    pk013_invalid_pack_name,
    pk014_missing_referenced_file,
    pk015_reference_escapes_pack,
    pk016_wrong_reference_type,
    pk017_missing_logo,
    pk018_logo_not_png,
    pk019_missing_ansible_role,
    pk020_version_not_a_tag,
    vl001_missing_values_file,
    vl002_invalid_namespace,
    vl003_missing_images,
    vl004_image_entry_without_image,
    ym001_invalid_yaml,
    ym002_duplicate_yaml_key,
    ym003_strict_yaml_only,
    mf001_invalid_manifest,
    pr001_preset_schema_violation,
    pr002_duplicate_preset_name,
    pr003_preset_add_invalid_yaml,
    pr004_preset_remove_path_not_found,
    sc001_schema_yaml_violation,
    sc002_schema_key_not_in_values,
    sc003_invalid_schema_template,
    sc004_unknown_format_type,
    sc005_value_violates_schema,
    fs001_symlink_outside_pack,
    fs002_file_too_large,
    fs003_unreadable_file,
    fs004_symlink_in_pack,
    fs005_pack_tree_truncated,
);

/// Every rule spectro knows, in code order.
pub fn all_rules() -> &'static [&'static Rule] {
    ALL
}

/// The rule with this code (case-insensitive) or name.
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
    items
        .iter()
        .filter_map(|p| p.get("add")?.as_str())
        .filter_map(|t| crate::syntax::parse_yaml(t, crate::syntax::YamlLimits::default()).ok())
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
        for r in ALL {
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
