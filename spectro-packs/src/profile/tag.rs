//! Pack tags in profiles: exact versions and wildcards.
//!
//! A tag is `[group__]label` (Palette's pack reference: the group, such as `LTS`, then
//! two underscores). The label is either a version (`1.25.2`, `v1.2.3`) or a wildcard
//! whose last component is `x`: `1.25.x` (any `1.25.*`), `1.x` (any `1.*`). Palette
//! generates such "parent tags" for every major and minor version but does not document
//! how it picks among matches; spectro takes the highest matching version, ordered by
//! [`PackVersion`] (so `1.25.10` > `1.25.9`, and `1.27` == `1.27.0`).

use std::fmt;

use crate::version::PackVersion;

/// A parsed tag.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TagPattern {
    /// The group before `__`, if any (`LTS` in `LTS__18.4.x`).
    pub group: Option<String>,
    /// What the label matches.
    pub label: TagLabel,
}

/// The version part of a [`TagPattern`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TagLabel {
    /// One version.
    Exact(PackVersion),
    /// Every version whose leading numeric components equal these (`1.25.x` → `[1, 25]`).
    Wildcard(Vec<u64>),
}

impl TagPattern {
    /// Parse a tag; `None` when the label is neither a version nor a wildcard.
    pub fn parse(tag: &str) -> Option<TagPattern> {
        let (group, label) = match tag.split_once("__") {
            Some((g, l)) => (Some(g.to_owned()), l),
            None => (None, tag),
        };
        let label = label.trim();
        let label = if let Some(prefix) = label
            .strip_suffix(".x")
            .or_else(|| label.strip_suffix(".X"))
        {
            let prefix = prefix.strip_prefix(['v', 'V']).unwrap_or(prefix);
            let parts = prefix
                .split('.')
                .map(|p| {
                    (!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                        .then(|| p.parse::<u64>().ok())
                        .flatten()
                })
                .collect::<Option<Vec<_>>>()?;
            TagLabel::Wildcard(parts)
        } else {
            TagLabel::Exact(PackVersion::parse(label).ok()?)
        };
        Some(TagPattern { group, label })
    }

    /// Whether this is a wildcard tag.
    pub fn is_wildcard(&self) -> bool {
        matches!(self.label, TagLabel::Wildcard(_))
    }

    /// Whether `version` matches the label (the group is not considered).
    pub fn matches_version(&self, version: &PackVersion) -> bool {
        match &self.label {
            TagLabel::Exact(v) => v == version,
            TagLabel::Wildcard(prefix) => prefix
                .iter()
                .enumerate()
                .all(|(i, p)| version.parts().get(i).copied().unwrap_or(0) == *p),
        }
    }

    /// Whether a pack with this version and `group` (pack.json) matches. A tag without a
    /// group matches any group; a tag with one needs the same group (ASCII case-insensitive).
    pub fn matches(&self, version: &PackVersion, group: Option<&str>) -> bool {
        let group_ok = match (&self.group, group.map(str::trim).filter(|g| !g.is_empty())) {
            (None, _) => true,
            (Some(want), Some(have)) => want.eq_ignore_ascii_case(have),
            (Some(_), None) => false,
        };
        group_ok && self.matches_version(version)
    }

    /// The highest of `candidates` that matches, by [`PackVersion`] order.
    pub fn best<'a, T>(
        &self,
        candidates: impl IntoIterator<Item = (&'a PackVersion, Option<&'a str>, T)>,
    ) -> Option<(&'a PackVersion, T)> {
        candidates
            .into_iter()
            .filter(|(v, g, _)| self.matches(v, *g))
            .max_by(|a, b| a.0.cmp(b.0))
            .map(|(v, _, t)| (v, t))
    }
}

impl fmt::Display for TagPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(g) = &self.group {
            write!(f, "{g}__")?;
        }
        match &self.label {
            TagLabel::Exact(v) => write!(f, "{v}"),
            TagLabel::Wildcard(parts) => {
                for p in parts {
                    write!(f, "{p}.")?;
                }
                f.write_str("x")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn v(s: &str) -> PackVersion {
        PackVersion::parse(s).unwrap()
    }

    #[test]
    fn real_tags() {
        let t = TagPattern::parse("1.25.x").unwrap();
        assert!(t.is_wildcard() && t.matches(&v("1.25.2"), None) && !t.matches(&v("1.26.0"), None));
        let t = TagPattern::parse("1.x").unwrap();
        assert!(t.matches(&v("1.33.9"), None) && !t.matches(&v("2.0.0"), None));
        let t = TagPattern::parse("LTS__18.4.x").unwrap();
        assert_eq!(t.group.as_deref(), Some("LTS"));
        assert!(t.matches(&v("18.4.5"), Some("LTS")) && !t.matches(&v("18.4.5"), None));
        assert!(!t.matches(&v("18.4.5"), Some("FIPS")));
        let t = TagPattern::parse("v1.2.3").unwrap();
        assert!(!t.is_wildcard() && t.matches(&v("1.2.3"), Some("LTS")));
        assert_eq!(TagPattern::parse("latest"), None);
        assert_eq!(TagPattern::parse("1.y.x"), None);
        assert_eq!(
            TagPattern::parse("LTS__22.4.x").unwrap().to_string(),
            "LTS__22.4.x"
        );
    }

    #[test]
    fn best_is_the_highest_match() {
        let vs = [v("1.25.2"), v("1.25.10"), v("1.25.9"), v("1.26.0")];
        let t = TagPattern::parse("1.25.x").unwrap();
        let best = t.best(vs.iter().map(|x| (x, None, x.as_str())));
        assert_eq!(best.map(|b| b.1), Some("1.25.10"));
    }

    proptest! {
        /// A wildcard built from a version's leading components always matches it, and
        /// matches exactly the versions that agree on those components.
        #[test]
        fn wildcard_matches_iff_prefix_agrees(
            a in proptest::collection::vec(0u64..20, 1..4),
            b in proptest::collection::vec(0u64..20, 1..4),
            n in 1usize..3,
        ) {
            let n = n.min(a.len());
            let tag = format!("{}.x", a[..n].iter().map(u64::to_string).collect::<Vec<_>>().join("."));
            let t = TagPattern::parse(&tag).unwrap();
            let va = v(&a.iter().map(u64::to_string).collect::<Vec<_>>().join("."));
            let vb = v(&b.iter().map(u64::to_string).collect::<Vec<_>>().join("."));
            prop_assert!(t.matches(&va, None));
            let agree = (0..n).all(|i| b.get(i).copied().unwrap_or(0) == a[i]);
            prop_assert_eq!(t.matches(&vb, None), agree);
        }

        /// The chosen version matches, and no matching candidate is higher.
        #[test]
        fn best_is_maximal(
            versions in proptest::collection::vec((0u64..4, 0u64..4, 0u64..30), 0..12),
            major in 0u64..4, minor in 0u64..4,
        ) {
            let vs: Vec<PackVersion> = versions.iter().map(|(a, b, c)| v(&format!("{a}.{b}.{c}"))).collect();
            let t = TagPattern::parse(&format!("{major}.{minor}.x")).unwrap();
            match t.best(vs.iter().map(|x| (x, None, ()))) {
                Some((best, ())) => {
                    prop_assert!(t.matches(best, None));
                    prop_assert!(vs.iter().filter(|x| t.matches(x, None)).all(|x| x <= best));
                }
                None => prop_assert!(vs.iter().all(|x| !t.matches(x, None))),
            }
        }

        /// Version ordering is total and consistent: antisymmetric and transitive.
        #[test]
        fn version_order_is_total(
            a in "v?[0-9]{1,2}(\\.[0-9]{1,2}){0,3}(-rc\\.[0-9])?",
            b in "v?[0-9]{1,2}(\\.[0-9]{1,2}){0,3}(-rc\\.[0-9])?",
            c in "v?[0-9]{1,2}(\\.[0-9]{1,2}){0,3}(-rc\\.[0-9])?",
        ) {
            let (a, b, c) = (v(&a), v(&b), v(&c));
            prop_assert_eq!(a.cmp(&b), b.cmp(&a).reverse());
            if a <= b && b <= c {
                prop_assert!(a <= c);
            }
        }
    }
}
