//! Lenient pack versions, compared the way real Palette data needs.
//!
//! Real packs use SemVer (`1.2.3`), but also `1.5`, `v1.12.0`, CalVer `23.07.1` and
//! suffixed `0.30.0-5.5.2026`. [`PackVersion`] accepts all of them: a leading `v` is
//! ignored, any number of dot-separated numeric components is kept (missing ones count as
//! 0, so `1.27` == `1.27.0`), leading zeros are allowed, and a `-pre` suffix sorts before
//! the release as in SemVer. `+build` metadata is ignored for ordering.

use std::cmp::Ordering;
use std::fmt;

/// A parsed, comparable pack version.
#[derive(Debug, Clone)]
pub struct PackVersion {
    raw: String,
    parts: Vec<u64>,
    pre: Option<String>,
}

/// Error for a string that is not a version at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a version (expected numbers separated by dots, like 1.2.3)")]
pub struct InvalidVersion(pub String);

impl PackVersion {
    /// Parse leniently.
    pub fn parse(s: &str) -> Result<Self, InvalidVersion> {
        let bad = || InvalidVersion(s.to_owned());
        let t = s.trim();
        let t = t.strip_prefix(['v', 'V']).unwrap_or(t);
        let t = t.split_once('+').map_or(t, |(a, _)| a);
        let (core, pre) = match t.split_once('-') {
            Some((c, p)) if !p.is_empty() => (c, Some(p.to_owned())),
            Some(_) => return Err(bad()),
            None => (t, None),
        };
        if core.is_empty() {
            return Err(bad());
        }
        let parts = core
            .split('.')
            .map(|p| {
                if p.is_empty() || !p.bytes().all(|c| c.is_ascii_digit()) {
                    None
                } else {
                    p.parse::<u64>().ok()
                }
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(bad)?;
        Ok(PackVersion {
            raw: s.to_owned(),
            parts,
            pre,
        })
    }

    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// Numeric components (`1.27` → `[1, 27]`).
    pub fn parts(&self) -> &[u64] {
        &self.parts
    }

    /// Whether the text is strict SemVer 2.0 (no leading `v`, three components).
    pub fn is_semver(&self) -> bool {
        semver::Version::parse(&self.raw).is_ok()
    }

    /// Whether the text starts with `v`/`V`.
    pub fn has_v_prefix(&self) -> bool {
        self.raw.trim_start().starts_with(['v', 'V'])
    }

    fn part(&self, i: usize) -> u64 {
        self.parts.get(i).copied().unwrap_or(0)
    }
}

impl fmt::Display for PackVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl PartialEq for PackVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for PackVersion {}

impl PartialOrd for PackVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for PackVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let n = self.parts.len().max(other.parts.len());
        for i in 0..n {
            match self.part(i).cmp(&other.part(i)) {
                Ordering::Equal => {}
                o => return o,
            }
        }
        match (&self.pre, &other.pre) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(a), Some(b)) => cmp_pre(a, b),
        }
    }
}

/// SemVer precedence for pre-release identifiers.
fn cmp_pre(a: &str, b: &str) -> Ordering {
    let mut ai = a.split('.');
    let mut bi = b.split('.');
    loop {
        match (ai.next(), bi.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let o = match (x.parse::<u64>(), y.parse::<u64>()) {
                    (Ok(m), Ok(n)) => m.cmp(&n),
                    (Ok(_), Err(_)) => Ordering::Less,
                    (Err(_), Ok(_)) => Ordering::Greater,
                    (Err(_), Err(_)) => x.cmp(y),
                };
                if o != Ordering::Equal {
                    return o;
                }
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
    fn real_world_versions_parse_and_order() {
        for s in [
            "1.2.3",
            "1.5",
            "v1.12.0",
            "23.07.1",
            "0.30.0-5.5.2026",
            "2.0.1-up.1",
            "1.21.49",
        ] {
            assert!(PackVersion::parse(s).is_ok(), "{s}");
        }
        assert!(v("1.27") == v("1.27.0"));
        assert!(v("1.21.10") < v("1.21.49"));
        assert!(v("v1.12.0") == v("1.12.0"));
        assert!(v("1.0.0-rc.1") < v("1.0.0"));
        assert!(v("23.07.1") > v("23.7.0"));
        assert!(v("1.2.3").is_semver() && !v("1.5").is_semver() && !v("v1.2.3").is_semver());
        for s in ["", "v", "1..2", "abc", "1.x", "1.2-"] {
            assert!(PackVersion::parse(s).is_err(), "{s}");
        }
    }

    proptest! {
        #[test]
        fn ordering_agrees_with_semver(a in (0u64..50, 0u64..50, 0u64..50), b in (0u64..50, 0u64..50, 0u64..50)) {
            let sa = format!("{}.{}.{}", a.0, a.1, a.2);
            let sb = format!("{}.{}.{}", b.0, b.1, b.2);
            let ours = v(&sa).cmp(&v(&sb));
            let theirs = semver::Version::parse(&sa).unwrap().cmp(&semver::Version::parse(&sb).unwrap());
            prop_assert_eq!(ours, theirs);
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,20}") {
            let _ = PackVersion::parse(&s);
        }
    }
}
