//! Embedded JSON Schemas (from the repository's `schemas/`) and validation that
//! translates the engine's errors into our own [`SchemaViolation`]s.
//!
//! No schema is ever fetched: the engine is built without its HTTP and file resolvers,
//! and our schemas only use local `#/$defs/...` references.

use std::sync::LazyLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{Draft, PatternOptions, Validator};
use serde_json::Value;

/// Which embedded schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SchemaKind {
    /// `pack.json`.
    Pack,
    /// `presets.yaml`.
    Presets,
    /// `schema.yaml`.
    SchemaYaml,
    /// A cluster profile (export shape); for editors.
    Profile,
    /// `spectro.toml`, the lint configuration file; for editors (taplo, Even Better TOML).
    Config,
}

impl SchemaKind {
    /// All embedded schemas.
    pub const ALL: [SchemaKind; 5] = [
        SchemaKind::Pack,
        SchemaKind::Presets,
        SchemaKind::SchemaYaml,
        SchemaKind::Profile,
        SchemaKind::Config,
    ];

    /// The schema text (JSON).
    pub fn text(self) -> &'static str {
        match self {
            SchemaKind::Pack => include_str!("../schemas/pack.schema.json"),
            SchemaKind::Presets => include_str!("../schemas/presets.schema.json"),
            SchemaKind::SchemaYaml => include_str!("../schemas/schema-yaml.schema.json"),
            SchemaKind::Profile => include_str!("../schemas/profile.schema.json"),
            SchemaKind::Config => include_str!("../schemas/spectro-config.schema.json"),
        }
    }

    /// File name under `schemas/`.
    pub fn file_name(self) -> &'static str {
        match self {
            SchemaKind::Pack => "pack.schema.json",
            SchemaKind::Presets => "presets.schema.json",
            SchemaKind::SchemaYaml => "schema-yaml.schema.json",
            SchemaKind::Profile => "profile.schema.json",
            SchemaKind::Config => "spectro-config.schema.json",
        }
    }

    fn validator(self) -> &'static Validator {
        static PACK: LazyLock<Validator> = LazyLock::new(|| build(SchemaKind::Pack));
        static PRESETS: LazyLock<Validator> = LazyLock::new(|| build(SchemaKind::Presets));
        static SCHEMA: LazyLock<Validator> = LazyLock::new(|| build(SchemaKind::SchemaYaml));
        static PROFILE: LazyLock<Validator> = LazyLock::new(|| build(SchemaKind::Profile));
        static CONFIG: LazyLock<Validator> = LazyLock::new(|| build(SchemaKind::Config));
        match self {
            SchemaKind::Pack => &PACK,
            SchemaKind::Presets => &PRESETS,
            SchemaKind::SchemaYaml => &SCHEMA,
            SchemaKind::Profile => &PROFILE,
            SchemaKind::Config => &CONFIG,
        }
    }
}

#[allow(clippy::expect_used)]
fn build(kind: SchemaKind) -> Validator {
    // The schemas are part of this crate and covered by tests; failing here is a bug.
    let schema: Value = serde_json::from_str(kind.text()).expect("embedded schema is JSON");
    jsonschema::options()
        .with_draft(Draft::Draft202012)
        .with_pattern_options(PatternOptions::regex())
        .build(&schema)
        .expect("embedded schema compiles")
}

/// What kind of schema rule a value broke.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ViolationKind {
    /// A required property is absent (`pointer` is the object holding it).
    Required {
        /// The missing property.
        property: String,
    },
    /// Wrong JSON type.
    Type {
        /// Expected type(s), e.g. `string` or `array`.
        expected: String,
    },
    /// Value outside an enumeration.
    Enum {
        /// The allowed values.
        allowed: Vec<String>,
    },
    /// Anything else (length, bounds, extra keys, ...).
    Other,
}

/// One schema violation, in our words.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SchemaViolation {
    /// JSON Pointer of the offending value.
    pub pointer: String,
    /// Classification.
    pub kind: ViolationKind,
    /// Message.
    pub message: String,
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// `/presets/0/name` → `` `presets[0].name` ``; `` → `the document`.
fn field_name(pointer: &str) -> String {
    if pointer.is_empty() {
        return "the document".to_owned();
    }
    let mut out = String::new();
    for raw in pointer.trim_start_matches('/').split('/') {
        let token = raw.replace("~1", "/").replace("~0", "~");
        if !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{token}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&token);
        }
    }
    format!("`{out}`")
}

/// Validate `instance` against an embedded schema.
pub fn validate(kind: SchemaKind, instance: &Value) -> Vec<SchemaViolation> {
    let mut out = Vec::new();
    for err in kind.validator().iter_errors(instance) {
        let pointer = err.instance_path().as_str().to_owned();
        let found = instance.pointer(&pointer);
        let what = field_name(&pointer);
        let (kind, message) = match err.kind() {
            ValidationErrorKind::Required { property } => {
                let p = property
                    .as_str()
                    .map_or_else(|| property.to_string(), str::to_owned);
                let message = if pointer.is_empty() {
                    format!("missing required field `{p}`")
                } else {
                    format!("{what} is missing required field `{p}`")
                };
                (ViolationKind::Required { property: p }, message)
            }
            ValidationErrorKind::Type { kind } => {
                let expected = match kind {
                    TypeKind::Single(t) => t.to_string(),
                    TypeKind::Multiple(ts) => ts
                        .iter()
                        .map(|t| t.to_string())
                        .collect::<Vec<_>>()
                        .join(" or "),
                };
                let got = found.map_or("nothing", type_name);
                let message = format!(
                    "{what} must be {} {expected}, found {got}",
                    article(&expected)
                );
                (ViolationKind::Type { expected }, message)
            }
            ValidationErrorKind::Enum { options } => {
                let allowed: Vec<String> = options
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|o| o.as_str().map_or_else(|| o.to_string(), str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                let got = found.map_or_else(String::new, |v| match v {
                    Value::String(s) => format!("`{s}`"),
                    other => other.to_string(),
                });
                let message = format!("{what} is {got}, expected one of: {}", allowed.join(", "));
                (ViolationKind::Enum { allowed }, message)
            }
            ValidationErrorKind::MinLength { limit: 1 } => {
                (ViolationKind::Other, format!("{what} must not be empty"))
            }
            ValidationErrorKind::MinLength { limit } => (
                ViolationKind::Other,
                format!("{what} must be at least {limit} characters long"),
            ),
            ValidationErrorKind::MinItems { limit } => (
                ViolationKind::Other,
                format!("{what} must have at least {limit} item(s)"),
            ),
            ValidationErrorKind::AdditionalProperties { unexpected } => (
                ViolationKind::Other,
                format!("{what} has unexpected key(s): {}", unexpected.join(", ")),
            ),
            ValidationErrorKind::Minimum { limit } => (
                ViolationKind::Other,
                format!("{what} must be at least {limit}"),
            ),
            ValidationErrorKind::Maximum { limit } => (
                ViolationKind::Other,
                format!("{what} must be at most {limit}"),
            ),
            ValidationErrorKind::Pattern { pattern } => (
                ViolationKind::Other,
                format!("{what} must match the pattern `{pattern}`"),
            ),
            _ => (
                ViolationKind::Other,
                format!("{what} does not satisfy the schema"),
            ),
        };
        out.push(SchemaViolation {
            pointer,
            kind,
            message,
        });
    }
    out
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn embedded_schemas_compile() {
        for k in SchemaKind::ALL {
            let _ = k.validator();
        }
    }

    #[test]
    fn violations_are_classified() {
        let v = validate(
            SchemaKind::Pack,
            &json!({"name": "x", "displayName": "X", "version": "1.0.0", "layer": "addons", "cloudTypes": "all"}),
        );
        assert!(
            v.iter()
                .any(|v| matches!(v.kind, ViolationKind::Enum { .. }) && v.pointer == "/layer"),
            "{v:?}"
        );
        assert!(v.iter().any(|v| matches!(v.kind, ViolationKind::Type { .. }) && v.pointer == "/cloudTypes"), "{v:?}");
        let v = validate(SchemaKind::Pack, &json!({}));
        assert_eq!(
            v.iter()
                .filter(|v| matches!(v.kind, ViolationKind::Required { .. }))
                .count(),
            4
        );
    }
}
