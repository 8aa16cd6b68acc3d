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

/// What an embedded schema says about one field: for hovers and completion in editors.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct FieldDoc {
    /// The field's description.
    pub description: Option<String>,
    /// Its allowed values, when the schema lists them (`enum`, or `const`s of `oneOf`).
    pub values: Vec<String>,
    /// The keys an object here may have, with their descriptions.
    pub properties: Vec<(String, Option<String>)>,
}

impl SchemaKind {
    fn parsed(self) -> &'static Value {
        static PARSED: LazyLock<Vec<Value>> = LazyLock::new(|| {
            SchemaKind::ALL
                .iter()
                .map(|k| serde_json::from_str(k.text()).unwrap_or(Value::Null))
                .collect()
        });
        let i = SchemaKind::ALL.iter().position(|k| *k == self).unwrap_or(0);
        &PARSED[i]
    }

    /// What the schema says about the value at `path` (object keys; array items by any
    /// segment, such as their index): `None` when the schema does not know the place.
    pub fn field(self, path: &[&str]) -> Option<FieldDoc> {
        let root = self.parsed();
        let mut node = root;
        let mut description = describe(root, node);
        for seg in path {
            let (next, desc) = child(root, node, seg)?;
            node = next;
            description = desc.or_else(|| describe(root, node));
        }
        let node = resolve(root, node);
        let mut values: Vec<String> = Vec::new();
        for v in node["enum"].as_array().into_iter().flatten() {
            values.push(v.as_str().map_or_else(|| v.to_string(), str::to_owned));
        }
        for alt in node["oneOf"].as_array().into_iter().flatten() {
            if let Some(c) = resolve(root, alt)["const"].as_str() {
                values.push(c.to_owned());
            }
        }
        let properties = node["properties"]
            .as_object()
            .map(|props| {
                props
                    .iter()
                    .map(|(k, v)| (k.clone(), describe(root, v)))
                    .collect()
            })
            .unwrap_or_default();
        Some(FieldDoc {
            description,
            values,
            properties,
        })
    }
}

/// Follow local `$ref`s (`#/$defs/x`), a few levels at most.
fn resolve<'a>(root: &'a Value, mut node: &'a Value) -> &'a Value {
    for _ in 0..8 {
        let Some(r) = node["$ref"].as_str() else {
            break;
        };
        match r.strip_prefix('#').and_then(|p| root.pointer(p)) {
            Some(target) => node = target,
            None => break,
        }
    }
    node
}

fn describe(root: &Value, node: &Value) -> Option<String> {
    node["description"]
        .as_str()
        .or_else(|| resolve(root, node)["description"].as_str())
        .map(str::to_owned)
}

/// The schema of `seg` under `node`, with the description the parent gives it.
fn child<'a>(root: &'a Value, node: &'a Value, seg: &str) -> Option<(&'a Value, Option<String>)> {
    let node = resolve(root, node);
    if let Some(p) = node["properties"].get(seg) {
        return Some((p, describe(root, p)));
    }
    if let Some(items) = node.get("items").filter(|i| i.is_object()) {
        return Some((items, describe(root, items)));
    }
    if let Some(extra) = node.get("additionalProperties").filter(|a| a.is_object()) {
        return Some((extra, describe(root, extra)));
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        for alt in node[key].as_array().into_iter().flatten() {
            if let Some(found) = child(root, alt, seg) {
                return Some(found);
            }
        }
    }
    None
}

#[cfg(test)]
mod field_tests {
    use super::SchemaKind;

    #[test]
    fn fields_have_descriptions_values_and_properties() {
        let layer = SchemaKind::Pack.field(&["layer"]).unwrap();
        assert!(layer.description.unwrap().contains("layer"));
        for l in ["os", "k8s", "cni", "csi", "addon"] {
            assert!(
                layer.values.iter().any(|v| v == l),
                "{l}: {:?}",
                layer.values
            );
        }
        let root = SchemaKind::Pack.field(&[]).unwrap();
        assert!(
            root.properties
                .iter()
                .any(|(k, d)| k == "cloudTypes" && d.is_some())
        );
        // Array items and nested objects through $ref.
        let item = SchemaKind::Pack.field(&["cloudTypes", "0"]).unwrap();
        assert!(item.values.iter().any(|v| v == "aws"), "{item:?}");
        let preset = SchemaKind::Presets.field(&["presets", "3"]).unwrap();
        assert!(
            preset.properties.iter().any(|(k, _)| k == "group"),
            "{preset:?}"
        );
        assert!(SchemaKind::Pack.field(&["no-such-field"]).is_none());
    }
}
