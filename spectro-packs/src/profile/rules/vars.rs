//! Profile variable references (`{{ .spectro.var.NAME }}`) in pack values and manifests,
//! shared by PF019 and PF020.

use std::sync::LazyLock;

use regex::Regex;

use super::ProfileChecker;
use crate::profile::model::PackValues;
use crate::syntax::NodeValue;

static VAR_REF: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\{\{-?\s*\.spectro\.var\.([A-Za-z0-9_-]+)").expect("valid regex")
});

/// One reference: the variable name, the pointer of the string holding it, and the
/// 1-based line inside that string.
pub(crate) struct VarRef {
    pub(crate) name: String,
    pub(crate) pointer: String,
    pub(crate) line: usize,
    /// Position in the profile of the node holding the reference, for inline values.
    pub(crate) pos: Option<crate::diagnostic::Position>,
}

fn scan(
    text: &str,
    pointer: &str,
    pos: Option<crate::diagnostic::Position>,
    out: &mut Vec<VarRef>,
) {
    for (n, line) in crate::syntax::lines(text).enumerate() {
        for cap in VAR_REF.captures_iter(line) {
            out.push(VarRef {
                name: cap[1].to_owned(),
                pointer: pointer.to_owned(),
                line: n + 1,
                pos,
            });
        }
    }
}

/// Every variable reference of the profile, in file order.
pub(crate) fn references(c: &ProfileChecker<'_>) -> Vec<VarRef> {
    let mut out = Vec::new();
    for p in &c.profile.packs {
        match &p.values {
            PackValues::Text { text, .. } | PackValues::Invalid { text, .. } => {
                scan(text, &p.field("values"), None, &mut out);
            }
            PackValues::Inline(node) => node.walk(&mut |ptr, _, n| {
                if let NodeValue::String(s) = &n.value {
                    scan(
                        s,
                        &format!("{}{ptr}", p.field("values")),
                        Some(n.pos),
                        &mut out,
                    );
                }
            }),
            PackValues::Absent => {}
        }
        for (ptr, content) in &p.manifests {
            scan(content, ptr, None, &mut out);
        }
    }
    out
}
