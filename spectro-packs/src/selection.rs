//! Rule selection, as ruff does it: which rules report (`select`, `extend_select`,
//! `ignore`) and at which severity (`severity`), by selectors that name one rule (`PK010`
//! or `version-leading-v`), a code prefix (`PK01`), a family (`PK`, `PF`) or every rule
//! (`ALL`).
//!
//! Precedence: for each rule the most specific matching selector decides (a code beats a
//! prefix, a longer prefix a shorter one, a family beats `ALL`); between a `select` and
//! an `ignore` of the same specificity, `ignore` wins. Without `select`, every rule is
//! selected. The same selection applies to pack and profile findings.

use std::fmt;
use std::str::FromStr;

use crate::diagnostic::{Diagnostic, Severity};
use crate::error::Error;
use crate::rules::Rule;

/// Every rule of every family.
pub(crate) fn every_rule() -> impl Iterator<Item = &'static Rule> {
    crate::rules::all_rules().iter().copied()
}

/// What a selector names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RuleSelector {
    /// Every rule (`ALL`).
    All,
    /// Every rule whose code starts with these letters and digits (`PK`, `PK01`).
    Prefix(String),
    /// One rule, by code or name.
    Rule(&'static str),
}

impl RuleSelector {
    /// Whether the selector names the rule with this code.
    pub fn matches(&self, code: &str) -> bool {
        match self {
            RuleSelector::All => true,
            RuleSelector::Prefix(p) => code.starts_with(p.as_str()),
            RuleSelector::Rule(c) => *c == code,
        }
    }

    /// How specific the selector is: `ALL` 0, a prefix its length, one rule the most.
    fn specificity(&self) -> usize {
        match self {
            RuleSelector::All => 0,
            RuleSelector::Prefix(p) => p.len(),
            RuleSelector::Rule(_) => usize::MAX,
        }
    }
}

impl FromStr for RuleSelector {
    type Err = Error;

    /// `ALL`, a code (`pk010` too), a rule name (`version-leading-v`), or a prefix of
    /// codes (`PK`, `PK01`). A selector that names no rule is an error, so a typo does not
    /// silently select nothing.
    fn from_str(s: &str) -> Result<Self, Error> {
        let t = s.trim();
        let refuse = |reason: &str| Error::InvalidSelector {
            input: crate::sanitize(t),
            reason: reason.to_owned(),
        };
        if t.eq_ignore_ascii_case("ALL") {
            return Ok(RuleSelector::All);
        }
        if let Some(rule) = every_rule().find(|r| r.code.eq_ignore_ascii_case(t) || r.name == t) {
            return Ok(RuleSelector::Rule(rule.code));
        }
        let upper = t.to_ascii_uppercase();
        let shaped = upper.is_ascii()
            && upper.len() >= 2
            && upper.len() < 5
            && upper[..2].bytes().all(|b| b.is_ascii_uppercase())
            && upper[2..].bytes().all(|b| b.is_ascii_digit());
        if !shaped {
            return Err(refuse(
                "expected ALL, a rule code (PK010), a rule name (version-leading-v), a family (PK) or a code prefix (PK01)",
            ));
        }
        if !every_rule().any(|r| r.code.starts_with(&upper)) {
            return Err(refuse("no rule code starts with it"));
        }
        Ok(RuleSelector::Prefix(upper))
    }
}

impl fmt::Display for RuleSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleSelector::All => f.write_str("ALL"),
            RuleSelector::Prefix(p) => f.write_str(p),
            RuleSelector::Rule(c) => f.write_str(c),
        }
    }
}

impl serde::Serialize for RuleSelector {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Parse `CODE=level` (`PK010=error`, `VL=info`) for [`RuleSelection::severity`].
pub fn parse_severity_override(s: &str) -> Result<(RuleSelector, Severity), Error> {
    let (sel, level) = s.split_once('=').ok_or_else(|| Error::InvalidSelector {
        input: crate::sanitize(s),
        reason: "expected SELECTOR=LEVEL, e.g. PK010=error".into(),
    })?;
    let level: Severity = level.trim().parse().map_err(|_| Error::InvalidSelector {
        input: crate::sanitize(s),
        reason: "the level is one of error, warning, info".into(),
    })?;
    Ok((sel.parse()?, level))
}

/// Which rules report, and at which severity.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct RuleSelection {
    /// The rules to report; `None` is every rule.
    pub select: Option<Vec<RuleSelector>>,
    /// Rules added to `select` (or to every rule's default).
    pub extend_select: Vec<RuleSelector>,
    /// Rules not to report.
    pub ignore: Vec<RuleSelector>,
    /// Severity overrides; the most specific matching selector wins.
    pub severity: Vec<(RuleSelector, Severity)>,
}

builder!(RuleSelection {
    with_select => select: Vec<RuleSelector>,
    with_extend_select => extend_select: Vec<RuleSelector>,
    with_ignore => ignore: Vec<RuleSelector>,
    with_severity => severity: Vec<(RuleSelector, Severity)>,
});

impl RuleSelection {
    /// A selection from the text frontends take (flags, keyword arguments): selectors for
    /// `select` (`None`: every rule), `extend_select` and `ignore`, and `SELECTOR=LEVEL`
    /// severity overrides. A selector that names no rule is an error.
    pub fn parse<S: AsRef<str>>(
        select: Option<&[S]>,
        extend_select: &[S],
        ignore: &[S],
        severity: &[S],
    ) -> Result<Self, Error> {
        let selectors = |v: &[S]| -> Result<Vec<RuleSelector>, Error> {
            v.iter().map(|s| s.as_ref().parse()).collect()
        };
        Ok(RuleSelection {
            select: select.map(selectors).transpose()?,
            extend_select: selectors(extend_select)?,
            ignore: selectors(ignore)?,
            severity: severity
                .iter()
                .map(|s| parse_severity_override(s.as_ref()))
                .collect::<Result<_, _>>()?,
        })
    }

    /// Whether findings of the rule with this code are reported (by this selection on
    /// its own: rules it does not name are on).
    pub fn is_enabled(&self, code: &str) -> bool {
        self.decide(code).unwrap_or(true)
    }

    /// This selection's say on a rule: on, off, or nothing (no `select`, and neither
    /// `extend_select` nor `ignore` names it), in which case an earlier layer decides.
    fn decide(&self, code: &str) -> Option<bool> {
        let best = |sels: &mut dyn Iterator<Item = &RuleSelector>| {
            sels.filter(|s| s.matches(code))
                .map(RuleSelector::specificity)
                .max()
        };
        let selected = best(&mut self.select.iter().flatten().chain(&self.extend_select));
        let ignored = best(&mut self.ignore.iter());
        match (selected, ignored) {
            (Some(s), Some(i)) => Some(s > i),
            (Some(_), None) => Some(true),
            (None, Some(_)) => Some(false),
            (None, None) if self.select.is_some() => Some(false),
            (None, None) => None,
        }
    }

    /// This selection's severity override for a rule, if it has one.
    fn severity_override(&self, code: &str) -> Option<Severity> {
        self.severity
            .iter()
            .filter(|(s, _)| s.matches(code))
            .max_by_key(|(s, _)| s.specificity())
            .map(|(_, level)| *level)
    }

    /// The severity findings of this rule get: the most specific override, else the
    /// rule's own.
    pub fn severity_of(&self, code: &str, default: Severity) -> Severity {
        self.severity_override(code).unwrap_or(default)
    }

    /// Whether this selection changes nothing (every rule, own severities).
    pub fn is_default(&self) -> bool {
        *self == RuleSelection::default()
    }

    /// Keep the findings of enabled rules, at their selected severity.
    pub fn apply(&self, diagnostics: &mut Vec<Diagnostic>) {
        if self.is_default() {
            return;
        }
        apply_layers(&[self], diagnostics);
    }
}

/// Decide a rule through selections applied one after another, as ruff layers its
/// configuration file, the command line and per-file settings: a later layer that names
/// the rule (in `select`, `extend_select` or `ignore`) overrides the earlier ones, and so
/// does a later severity override. `None`: the rule does not report.
pub(crate) fn decide_layers(
    layers: &[&RuleSelection],
    code: &str,
    default: Severity,
) -> Option<Severity> {
    let (enabled, severity, _, _) = trace_layers(layers, code, default);
    enabled.then_some(severity)
}

/// [`decide_layers`], with the index of the layer that last decided whether the rule
/// reports and of the one that last set its severity (`None`: the defaults).
pub(crate) fn trace_layers(
    layers: &[&RuleSelection],
    code: &str,
    default: Severity,
) -> (bool, Severity, Option<usize>, Option<usize>) {
    let (mut enabled, mut severity) = (true, default);
    let (mut enabled_by, mut severity_by) = (None, None);
    for (i, layer) in layers.iter().enumerate() {
        if let Some(on) = layer.decide(code) {
            enabled = on;
            enabled_by = Some(i);
        }
        if let Some(level) = layer.severity_override(code) {
            severity = level;
            severity_by = Some(i);
        }
    }
    (enabled, severity, enabled_by, severity_by)
}

/// Keep the findings the layers enable, at their decided severity.
pub(crate) fn apply_layers(layers: &[&RuleSelection], diagnostics: &mut Vec<Diagnostic>) {
    diagnostics.retain_mut(|d| match decide_layers(layers, d.code, d.severity) {
        Some(level) => {
            d.severity = level;
            true
        }
        None => false,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(s: &str) -> RuleSelector {
        s.parse().unwrap()
    }

    #[test]
    fn selectors_parse_codes_names_prefixes_and_all() {
        assert_eq!(sel("pk010"), RuleSelector::Rule("PK010"));
        assert_eq!(sel("version-leading-v"), RuleSelector::Rule("PK010"));
        assert_eq!(sel("PK"), RuleSelector::Prefix("PK".into()));
        assert_eq!(sel("pf01"), RuleSelector::Prefix("PF01".into()));
        assert_eq!(sel("all"), RuleSelector::All);
        for bad in [
            "",
            "P",
            "PK999",
            "ZZ",
            "PK0100",
            "no-such-rule",
            "P1",
            "€",
            "P€",
            "PK€01",
        ] {
            assert!(
                bad.parse::<RuleSelector>().is_err(),
                "{bad:?} must be refused"
            );
        }
    }

    #[test]
    fn the_most_specific_selector_decides() {
        let default = RuleSelection::default();
        assert!(default.is_enabled("PK010") && default.is_enabled("PF001"));
        let only_pk = RuleSelection::default().with_select(vec![sel("PK")]);
        assert!(only_pk.is_enabled("PK010") && !only_pk.is_enabled("VL003"));
        let pk_but_010 = only_pk.clone().with_ignore(vec![sel("PK010")]);
        assert!(!pk_but_010.is_enabled("PK010") && pk_but_010.is_enabled("PK011"));
        // A code in select beats a family in ignore.
        let vl003_only = RuleSelection::default()
            .with_ignore(vec![sel("VL")])
            .with_extend_select(vec![sel("VL003")]);
        assert!(vl003_only.is_enabled("VL003") && !vl003_only.is_enabled("VL001"));
        // Same specificity: ignore wins.
        let tie = RuleSelection::default()
            .with_select(vec![sel("PK")])
            .with_ignore(vec![sel("PK")]);
        assert!(!tie.is_enabled("PK001"));
        let none = RuleSelection::default().with_ignore(vec![sel("ALL")]);
        assert!(!none.is_enabled("PK001"));
    }

    #[test]
    fn severity_overrides_take_the_most_specific() {
        let s = RuleSelection::default().with_severity(vec![
            parse_severity_override("PK=info").unwrap(),
            parse_severity_override("PK010=error").unwrap(),
        ]);
        assert_eq!(s.severity_of("PK010", Severity::Warning), Severity::Error);
        assert_eq!(s.severity_of("PK011", Severity::Error), Severity::Info);
        assert_eq!(s.severity_of("VL003", Severity::Warning), Severity::Warning);
        assert!(parse_severity_override("PK010").is_err());
        assert!(parse_severity_override("PK010=fatal").is_err());
    }

    #[test]
    fn later_layers_override_earlier_ones() {
        let config = RuleSelection::default()
            .with_ignore(vec![sel("VL003")])
            .with_severity(vec![parse_severity_override("PK=info").unwrap()]);
        let cli = RuleSelection::default().with_extend_select(vec![sel("VL")]);
        // The command line names VL003 (through its family) after the file ignored it.
        assert_eq!(
            decide_layers(&[&config, &cli], "VL003", Severity::Warning),
            Some(Severity::Warning)
        );
        // A layer that does not name a rule leaves the earlier decision.
        assert_eq!(decide_layers(&[&config], "VL003", Severity::Warning), None);
        assert_eq!(
            decide_layers(&[&config, &cli], "PK010", Severity::Warning),
            Some(Severity::Info)
        );
        // A later `select` replaces the whole set.
        let only_pf = RuleSelection::default().with_select(vec![sel("PF")]);
        assert_eq!(
            decide_layers(&[&cli, &only_pf], "VL003", Severity::Warning),
            None
        );
        assert!(decide_layers(&[&config, &only_pf], "PF003", Severity::Error).is_some());
    }
}
