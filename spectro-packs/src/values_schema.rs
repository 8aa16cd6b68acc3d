//! schema.yaml constraint templates: parsing `{{ required | format "${number:[1-10]}" | hints "..." }}`
//! and checking values.yaml values against them.

use std::net::Ipv4Addr;

use regex::Regex;

use crate::syntax::{Node, NodeValue, pointer_escape};
use crate::version::PackVersion;

/// A parsed schema.yaml template.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Constraint {
    /// `required`: the user must provide a value.
    pub required: bool,
    /// `readonly`: shown but not editable.
    pub readonly: bool,
    /// `hints "a" "b"`.
    pub hints: Vec<String>,
    /// `format "..."`.
    pub format: Option<Format>,
}

/// A `format` specification: literal text and `${...}` tokens.
#[derive(Debug, Clone)]
pub struct Format {
    /// The spec as written.
    pub spec: String,
    /// Its parts in order.
    pub parts: Vec<FormatPart>,
    /// The composite pattern (one capture group per token), compiled once per format,
    /// not once per value.
    composite: std::sync::OnceLock<Option<Regex>>,
}

/// One part of a [`Format`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum FormatPart {
    /// Literal text between tokens.
    Literal(String),
    /// A `${type[:arg]}` token.
    Token(FormatType),
}

/// The type named by a `${...}` token.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum FormatType {
    /// `${string}` or `${string:/re/}`.
    String(Option<Pattern>),
    /// `${password}` (masked in the UI).
    Password,
    /// `${number}`, `${number:[a-b]}` or `${number:/re/}`.
    Number(Option<NumberRule>),
    /// `${boolean}`.
    Boolean,
    /// `${list:[A,B,C]}`.
    List(Vec<String>),
    /// `${ipv4}`.
    Ipv4,
    /// `${version}` (a semantic version).
    Version,
    /// A type Palette does not document (e.g. `${input}`), kept by name.
    Unknown(String),
}

/// Range or pattern on a number.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum NumberRule {
    /// Inclusive range.
    Range(f64, f64),
    /// RE2 pattern on the number's text.
    Pattern(Pattern),
}

/// A compiled `/re/` from a template, matched against the whole value. (A wrapper, so the
/// regex engine's version is not part of this crate's API.)
#[derive(Debug, Clone)]
pub struct Pattern(Regex);

impl Pattern {
    /// The pattern as written between the slashes.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// Whether `text` matches (anywhere, as RE2's `MatchString`; templates anchor with
    /// `^...$` themselves).
    pub fn is_match(&self, text: &str) -> bool {
        self.0.is_match(text)
    }
}

/// Why a template does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TemplateError(pub String);

/// Parse a schema.yaml template.
pub fn parse_constraint(template: &str) -> Result<Constraint, TemplateError> {
    let err = |m: String| TemplateError(m);
    let t = template.trim();
    let inner = t
        .strip_prefix("{{")
        .and_then(|s| s.strip_suffix("}}"))
        .ok_or_else(|| err("the template must be wrapped in `{{ ... }}`".into()))?;
    let mut c = Constraint::default();
    for segment in split_pipes(inner)? {
        let words = split_words(&segment)?;
        let Some((name, args)) = words.split_first() else {
            return Err(err("empty function between `|`".into()));
        };
        let (name, quoted) = (&name.0, name.1);
        if quoted {
            return Err(err(format!(
                "expected a function name, found the string \"{name}\""
            )));
        }
        let strings: Vec<String> = args
            .iter()
            .map(|(w, q)| {
                if *q {
                    Ok(w.clone())
                } else {
                    Err(err(format!(
                        "argument `{w}` of `{name}` must be a quoted string"
                    )))
                }
            })
            .collect::<Result<_, _>>()?;
        match name.as_str() {
            "required" | "readonly" if !strings.is_empty() => {
                return Err(err(format!("`{name}` takes no arguments")));
            }
            "required" => c.required = true,
            "readonly" => c.readonly = true,
            "hints" => c.hints = strings,
            "format" => {
                let [spec] = strings.as_slice() else {
                    return Err(err("`format` takes exactly one quoted argument".into()));
                };
                c.format = Some(parse_format(spec)?);
            }
            other => {
                return Err(err(format!(
                    "unknown function `{other}` (expected required, readonly, format or hints)"
                )));
            }
        }
    }
    Ok(c)
}

fn split_pipes(s: &str) -> Result<Vec<String>, TemplateError> {
    let mut out = vec![String::new()];
    let mut in_str = false;
    let mut escaped = false;
    for ch in s.chars() {
        if in_str {
            out.last_mut().expect("non-empty").push(ch);
            if escaped {
                escaped = false;
            } else if ch == '\\' {
                escaped = true;
            } else if ch == '"' {
                in_str = false;
            }
        } else if ch == '|' {
            out.push(String::new());
        } else {
            if ch == '"' {
                in_str = true;
            }
            out.last_mut().expect("non-empty").push(ch);
        }
    }
    if in_str {
        return Err(TemplateError(
            "unterminated string (missing closing `\"`)".into(),
        ));
    }
    Ok(out)
}

/// Split into words; quoted strings are unescaped and flagged.
fn split_words(s: &str) -> Result<Vec<(String, bool)>, TemplateError> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&ch) = chars.peek() {
        if ch.is_whitespace() {
            chars.next();
        } else if ch == '"' {
            chars.next();
            let mut w = String::new();
            loop {
                match chars.next() {
                    None => return Err(TemplateError("unterminated string".into())),
                    Some('"') => break,
                    Some('\\') => match chars.next() {
                        Some('n') => w.push('\n'),
                        Some('t') => w.push('\t'),
                        Some(other) => w.push(other),
                        None => return Err(TemplateError("unterminated string".into())),
                    },
                    Some(c) => w.push(c),
                }
            }
            out.push((w, true));
        } else {
            let mut w = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || c == '"' {
                    break;
                }
                w.push(c);
                chars.next();
            }
            out.push((w, false));
        }
    }
    Ok(out)
}

/// Parse a format spec such as `${number:[1-10]}` or `${ipv4} - ${ipv4}`.
pub fn parse_format(spec: &str) -> Result<Format, TemplateError> {
    let mut parts = Vec::new();
    let mut rest = spec;
    while let Some(start) = rest.find("${") {
        if start > 0 {
            parts.push(FormatPart::Literal(rest[..start].to_owned()));
        }
        let after = &rest[start + 2..];
        let end = find_token_end(after).ok_or_else(|| {
            TemplateError(format!("`${{` without a closing `}}` in format \"{spec}\""))
        })?;
        parts.push(FormatPart::Token(parse_token(&after[..end])?));
        rest = &after[end + 1..];
    }
    if !rest.is_empty() {
        parts.push(FormatPart::Literal(rest.to_owned()));
    }
    if !parts.iter().any(|p| matches!(p, FormatPart::Token(_))) {
        return Err(TemplateError(format!(
            "format \"{spec}\" has no `${{type}}` token"
        )));
    }
    Ok(Format {
        spec: spec.to_owned(),
        parts,
        composite: std::sync::OnceLock::new(),
    })
}

/// End of a token body: the `}` that closes it, skipping `/.../` regexes and `[...]` lists.
fn find_token_end(s: &str) -> Option<usize> {
    let (mut in_re, mut in_list) = (false, false);
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if in_re => i += 1,
            b'/' if !in_list => in_re = !in_re,
            b'[' if !in_re => in_list = true,
            b']' if !in_re => in_list = false,
            b'}' if !in_re && !in_list => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

fn parse_token(body: &str) -> Result<FormatType, TemplateError> {
    let (kind, arg) = match body.split_once(':') {
        Some((k, a)) => (k.trim(), Some(a.trim())),
        None => (body.trim(), None),
    };
    let regex = |a: &str| -> Result<Option<Pattern>, TemplateError> {
        let Some(re) = a.strip_prefix('/').and_then(|r| r.strip_suffix('/')) else {
            return Ok(None);
        };
        Regex::new(re)
            .map(|r| Some(Pattern(r)))
            .map_err(|e| TemplateError(format!("invalid regular expression /{re}/: {e}")))
    };
    Ok(match (kind, arg) {
        ("string", None) => FormatType::String(None),
        ("string", Some(a)) => match regex(a)? {
            Some(re) => FormatType::String(Some(re)),
            None => {
                return Err(TemplateError(format!(
                    "`${{string:{a}}}`: expected a /regex/"
                )));
            }
        },
        ("password", None) => FormatType::Password,
        ("boolean", None) => FormatType::Boolean,
        ("ipv4", None) => FormatType::Ipv4,
        ("version", None) => FormatType::Version,
        ("number", None) => FormatType::Number(None),
        ("number", Some(a)) => {
            if let Some(re) = regex(a)? {
                FormatType::Number(Some(NumberRule::Pattern(re)))
            } else if let Some(range) = a.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
                let (lo, hi) = split_range(range).ok_or_else(|| {
                    TemplateError(format!("`${{number:{a}}}`: expected a range like [1-10]"))
                })?;
                if lo > hi {
                    return Err(TemplateError(format!(
                        "`${{number:{a}}}`: the range is empty ({lo} > {hi})"
                    )));
                }
                FormatType::Number(Some(NumberRule::Range(lo, hi)))
            } else {
                return Err(TemplateError(format!(
                    "`${{number:{a}}}`: expected [min-max] or /regex/"
                )));
            }
        }
        ("list", Some(a)) => {
            let items = a
                .strip_prefix('[')
                .and_then(|r| r.strip_suffix(']'))
                .ok_or_else(|| TemplateError(format!("`${{list:{a}}}`: expected [A,B,C]")))?;
            let items: Vec<String> = items
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect();
            if items.is_empty() {
                return Err(TemplateError("`${list:[]}` has no options".into()));
            }
            FormatType::List(items)
        }
        ("list", None) => {
            return Err(TemplateError(
                "`${list}` needs options: `${list:[A,B]}`".into(),
            ));
        }
        (k, Some(_)) if ["password", "boolean", "ipv4", "version"].contains(&k) => {
            return Err(TemplateError(format!("`${{{k}}}` takes no argument")));
        }
        (k, _) => FormatType::Unknown(k.to_owned()),
    })
}

/// `a-b` with optional signs (`-5--1`).
fn split_range(s: &str) -> Option<(f64, f64)> {
    let bytes = s.as_bytes();
    (1..bytes.len())
        .filter(|&i| bytes[i] == b'-')
        .find_map(|i| {
            let lo = s[..i].trim().parse::<f64>().ok()?;
            let hi = s[i + 1..].trim().parse::<f64>().ok()?;
            Some((lo, hi))
        })
}

impl Format {
    /// The unknown token names, if any.
    pub fn unknown_types(&self) -> Vec<&str> {
        self.parts
            .iter()
            .filter_map(|p| match p {
                FormatPart::Token(FormatType::Unknown(n)) => Some(n.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Check a value. Composite formats (more than one part) are checked only for
    /// scalars; `None` means valid.
    pub fn check(&self, value: &Node) -> Option<String> {
        let text = match &value.value {
            NodeValue::Null => return None,
            NodeValue::String(s) if s.is_empty() || s.contains("{{") => return None,
            NodeValue::String(s) => s.clone(),
            NodeValue::Number(n) => n.to_string(),
            NodeValue::Bool(b) => b.to_string(),
            NodeValue::Seq(_) | NodeValue::Map(_) => {
                return Some(format!(
                    "expected a single value for format \"{}\", found a {}",
                    self.spec,
                    value.type_name()
                ));
            }
        };
        match self.parts.as_slice() {
            [FormatPart::Token(t)] => check_token(t, value, &text),
            _ => self.check_composite(&text),
        }
    }

    /// Whether a `${password}` token is part of the format: its values are never quoted
    /// in messages.
    fn has_secret(&self) -> bool {
        self.parts
            .iter()
            .any(|p| matches!(p, FormatPart::Token(FormatType::Password)))
    }

    fn check_composite(&self, text: &str) -> Option<String> {
        let secret = self.has_secret();
        let shown = |t: &str| {
            if secret {
                "the value".to_owned()
            } else {
                format!("`{t}`")
            }
        };
        let re = self
            .composite
            .get_or_init(|| self.composite_regex())
            .as_ref()?;
        let Some(caps) = re.captures(text) else {
            return Some(format!(
                "{} does not match format \"{}\"",
                shown(text),
                self.spec
            ));
        };
        // Each token's own constraints (ranges, patterns, lists) apply to its part.
        let tokens = self.parts.iter().filter_map(|p| match p {
            FormatPart::Token(t) => Some(t),
            FormatPart::Literal(_) => None,
        });
        for (i, t) in tokens.enumerate() {
            let part = caps.get(i + 1).map_or("", |m| m.as_str());
            let node = Node::new(NodeValue::String(part.to_owned()), crate::Position::START);
            if let Some(problem) = check_token(t, &node, part) {
                return Some(if secret {
                    format!("the value does not match format \"{}\"", self.spec)
                } else {
                    format!("{problem} (in `{text}`, format \"{}\")", self.spec)
                });
            }
        }
        None
    }

    fn composite_regex(&self) -> Option<Regex> {
        let mut re = String::from("^");
        for p in &self.parts {
            match p {
                FormatPart::Literal(l) => re.push_str(&regex::escape(l)),
                FormatPart::Token(FormatType::Ipv4) => re.push_str(r"((?:\d{1,3}\.){3}\d{1,3})"),
                FormatPart::Token(FormatType::Number(_)) => re.push_str(r"(-?\d+(?:\.\d+)?)"),
                FormatPart::Token(FormatType::Version) => {
                    re.push_str(r"(v?\d+(?:\.\d+)*(?:[-+][0-9A-Za-z.-]+)?)")
                }
                FormatPart::Token(FormatType::Boolean) => re.push_str("(true|false)"),
                // Lists are alternations, so the split around them is found by the regex
                // (`${string}/${list:[amd64,arm64]}` on `ghcr.io/org/img/amd64`).
                FormatPart::Token(FormatType::List(items)) => {
                    let alts: Vec<String> = items.iter().map(|i| regex::escape(i)).collect();
                    re.push('(');
                    re.push_str(&alts.join("|"));
                    re.push(')');
                }
                FormatPart::Token(_) => re.push_str("(.+?)"),
            }
        }
        re.push('$');
        Regex::new(&re).ok()
    }
}

/// A number as YAML and JSON write them: no `NaN`, `inf` or `infinity`, finite.
fn parse_number(text: &str) -> Option<f64> {
    let t = text.trim();
    let plain = t
        .trim_start_matches(['-', '+'])
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+' | '_'));
    if !plain || !t.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    t.replace('_', "")
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
}

fn check_token(t: &FormatType, node: &Node, text: &str) -> Option<String> {
    match t {
        FormatType::String(None) | FormatType::Password | FormatType::Unknown(_) => None,
        FormatType::String(Some(re)) => {
            (!re.is_match(text)).then(|| format!("`{text}` does not match /{}/", re.as_str()))
        }
        FormatType::Boolean => match &node.value {
            NodeValue::Bool(_) => None,
            NodeValue::String(s) if s == "true" || s == "false" => None,
            _ => Some(format!("`{text}` is not a boolean (true or false)")),
        },
        FormatType::Number(rule) => {
            let Some(n) = parse_number(text) else {
                return Some(format!("`{text}` is not a number"));
            };
            match rule {
                Some(NumberRule::Range(lo, hi)) if n < *lo || n > *hi => {
                    Some(format!("{text} is outside the allowed range [{lo}-{hi}]"))
                }
                Some(NumberRule::Pattern(re)) if !re.is_match(text) => {
                    Some(format!("{text} does not match /{}/", re.as_str()))
                }
                _ => None,
            }
        }
        FormatType::List(items) => (!items.iter().any(|i| i == text)).then(|| {
            format!(
                "`{text}` is not one of the allowed values: {}",
                items.join(", ")
            )
        }),
        FormatType::Ipv4 => text
            .parse::<Ipv4Addr>()
            .is_err()
            .then(|| format!("`{text}` is not an IPv4 address")),
        FormatType::Version => PackVersion::parse(text)
            .is_err()
            .then(|| format!("`{text}` is not a version")),
    }
}

/// Resolve a schema.yaml key (`a.b.$[].c`) in values.yaml. Returns every matching
/// `(pointer, node)`; `None` when the path does not exist (an empty array under `$[]`
/// counts as existing).
pub fn lookup<'a>(root: &'a Node, dotted: &str) -> Option<Vec<(String, &'a Node)>> {
    let mut current: Vec<(String, &'a Node)> = vec![(String::new(), root)];
    for seg in dotted.split('.') {
        let mut next = Vec::new();
        for (ptr, node) in current {
            if seg == "$[]" {
                let items = node.as_seq()?;
                next.extend(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, n)| (format!("{ptr}/{i}"), n)),
                );
                if items.is_empty() {
                    return Some(Vec::new());
                }
            } else {
                let child = node.get(seg)?;
                next.push((format!("{ptr}/{}", pointer_escape(seg)), child));
            }
        }
        current = next;
    }
    Some(current)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::{YamlLimits, parse_yaml};

    #[test]
    fn real_templates_parse() {
        for t in [
            r#"{{ required | format "${number}" | hints "Enter the port."}}"#,
            r#"{{ format "${list:[PreferNoSchedule,NoSchedule,NoExecute]}"  | hints "x"}}"#,
            r#"{{ required }}"#,
            r#"{{ readonly }}"#,
            r#"{{ format "${string}/${string}:${version}" }}"#,
            r#"{{ format "${ipv4} - ${ipv4}" }}"#,
            r#"{{ format "${string:/^[a-z]+$/}" }}"#,
            r#"{{ format "${number:[5000-5005]}" }}"#,
        ] {
            parse_constraint(t).unwrap_or_else(|e| panic!("{t}: {e}"));
        }
        for t in [
            r#"{{ requird }}"#,
            r#"{{ format }}"#,
            r#"required"#,
            r#"{{ format "${number:[9-1]}" }}"#,
            r#"{{ hints "a }}"#,
            r#"{{ format "${string:/(/}" }}"#,
        ] {
            assert!(parse_constraint(t).is_err(), "{t}");
        }
    }

    #[test]
    fn values_checked() {
        let doc = parse_yaml(
            "a: 7000\nb: nope\nc: 10.0.0.1 - 10.0.0.9\nd: [x, y]\n",
            YamlLimits::default(),
        )
        .unwrap();
        let f = |s: &str| parse_format(s).unwrap();
        assert!(
            f("${number:[5000-5005]}")
                .check(doc.root.get("a").unwrap())
                .is_some()
        );
        assert!(f("${number}").check(doc.root.get("b").unwrap()).is_some());
        assert!(
            f("${list:[yes,no]}")
                .check(doc.root.get("b").unwrap())
                .is_some()
        );
        assert!(
            f("${ipv4} - ${ipv4}")
                .check(doc.root.get("c").unwrap())
                .is_none()
        );
        assert_eq!(lookup(&doc.root, "d.$[]").unwrap().len(), 2);
        assert!(lookup(&doc.root, "e.f").is_none());
    }
}
