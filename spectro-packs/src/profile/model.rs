//! The cluster-profile model: Palette's exported profile (JSON, or the same shape in YAML)
//! read into a located tree plus typed fields.
//!
//! Reading is lenient field by field, like [`crate::PackManifest`]: a field of the wrong
//! shape is recorded as a [`ShapeProblem`] (rule PF002 reports it) and left `None`, so one
//! bad field does not hide every other finding.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::Serialize;

use crate::diagnostic::Position;
use crate::error::{Error, Result};
use crate::layer::Layer;
use crate::rules::node_position;
use crate::syntax::{Document, Node, NodeValue, ParseError, YamlLimits, parse_json, parse_yaml};

/// `spec.template.type` of a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ProfileType {
    /// "Full" profile: infrastructure and add-on layers.
    Cluster,
    /// Infrastructure: OS, Kubernetes, network and storage.
    Infra,
    /// Add-on layers only.
    #[serde(rename = "add-on")]
    AddOn,
    /// System profile (no documented layer rules).
    System,
}

impl ProfileType {
    /// The name used in profile files.
    pub fn as_str(self) -> &'static str {
        match self {
            ProfileType::Cluster => "cluster",
            ProfileType::Infra => "infra",
            ProfileType::AddOn => "add-on",
            ProfileType::System => "system",
        }
    }
}

impl fmt::Display for ProfileType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ProfileType {
    type Err = UnknownValue;
    fn from_str(s: &str) -> std::result::Result<Self, UnknownValue> {
        [
            ProfileType::Cluster,
            ProfileType::Infra,
            ProfileType::AddOn,
            ProfileType::System,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
        .ok_or_else(|| UnknownValue {
            what: "profile type",
            value: s.to_owned(),
            expected: "cluster, infra, add-on or system",
        })
    }
}

/// A name that is not one of an enumeration's values (the `Err` of [`ProfileType`]'s and
/// [`PackType`]'s `FromStr`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{value}` (expected {expected})")]
#[non_exhaustive]
pub struct UnknownValue {
    /// What was being parsed (`profile type`, `pack type`).
    pub what: &'static str,
    /// The text given.
    pub value: String,
    /// The accepted values, for messages.
    pub expected: &'static str,
}

/// `type` of a pack in a profile: where it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum PackType {
    /// A pack from a pack registry (has a pack.json).
    Spectro,
    /// A Helm chart from a Helm registry.
    Helm,
    /// Raw manifests written into the profile.
    Manifest,
    /// A pack or chart from an OCI registry.
    Oci,
}

impl PackType {
    /// The name used in profile files.
    pub fn as_str(self) -> &'static str {
        match self {
            PackType::Spectro => "spectro",
            PackType::Helm => "helm",
            PackType::Manifest => "manifest",
            PackType::Oci => "oci",
        }
    }

    /// Whether a pack of this type is a pack (with a pack.json) that a pack source can
    /// resolve. Helm charts and inline manifests are not.
    pub fn has_pack_json(self) -> bool {
        matches!(self, PackType::Spectro | PackType::Oci)
    }
}

impl FromStr for PackType {
    type Err = UnknownValue;
    fn from_str(s: &str) -> std::result::Result<Self, UnknownValue> {
        [
            PackType::Spectro,
            PackType::Helm,
            PackType::Manifest,
            PackType::Oci,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
        .ok_or_else(|| UnknownValue {
            what: "pack type",
            value: s.to_owned(),
            expected: "spectro, helm, manifest or oci",
        })
    }
}

/// Something in the profile file that does not have the documented shape.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShapeProblem {
    /// JSON Pointer of the offending (or nearest existing) node.
    pub pointer: String,
    /// Where it is.
    pub position: Position,
    /// What is wrong.
    pub message: String,
}

/// The values of one profile pack: a YAML string (exports) or, in hand-written YAML
/// profiles, an inline mapping.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum PackValues {
    /// No `values` key, or `null`.
    Absent,
    /// A YAML string that parsed; positions in `document` are relative to the string.
    Text {
        /// The YAML text.
        text: String,
        /// The parsed text.
        document: Document,
    },
    /// A YAML string that does not parse.
    Invalid {
        /// The YAML text.
        text: String,
        /// Where parsing stopped, relative to the string.
        error: ParseError,
    },
    /// An inline mapping; its positions are real positions in the profile file.
    Inline(Node),
}

impl PackValues {
    /// The parsed values tree, if any.
    pub fn root(&self) -> Option<&Node> {
        match self {
            PackValues::Text { document, .. } => Some(&document.root),
            PackValues::Inline(n) => Some(n),
            PackValues::Absent | PackValues::Invalid { .. } => None,
        }
    }
}

/// One entry of `spec.template.packs[]`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ProfilePack {
    /// Position in the list (list order = install order of layers).
    pub index: usize,
    /// JSON Pointer of the entry, `/spec/template/packs/<index>`.
    pub pointer: String,
    /// Where the entry starts.
    pub position: Position,
    /// `name`.
    pub name: Option<String>,
    /// `tag`: a version or a wildcard like `1.25.x`, `1.x`, `LTS__18.4.x`.
    pub tag: Option<String>,
    /// `version`: the concrete version (exports pair a wildcard tag with it).
    pub version: Option<String>,
    /// `type`; absent means `spectro`.
    pub pack_type: Option<PackType>,
    /// `layer` as declared in the profile.
    pub layer: Option<Layer>,
    /// `values`.
    pub values: PackValues,
    /// Text of `manifests[].content`, with the pointer of each.
    pub manifests: Vec<(String, String)>,
    /// Registry uid: `registry.metadata.uid` (export), `registryUid` (API) or
    /// `registry_uid` (Terraform-style YAML). Empty strings count as absent.
    pub registry_uid: Option<String>,
}

impl ProfilePack {
    /// `type`, defaulting to `spectro`.
    pub fn kind(&self) -> PackType {
        self.pack_type.unwrap_or(PackType::Spectro)
    }

    /// Pointer of a field of this entry.
    pub fn field(&self, key: &str) -> String {
        format!("{}/{key}", self.pointer)
    }

    /// A name for messages: `name` or `#<index>`.
    pub fn label(&self) -> String {
        match &self.name {
            Some(n) => format!("`{n}`"),
            None => format!("#{}", self.index),
        }
    }
}

/// One entry of `spec.variables[]`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Variable {
    /// Position in the list.
    pub index: usize,
    /// JSON Pointer of the entry.
    pub pointer: String,
    /// `name`.
    pub name: Option<String>,
    /// `inputType` (`text`, `dropdown`, `multiline`).
    pub input_type: Option<String>,
    /// `defaultValue`, as text (empty counts as absent).
    pub default_value: Option<String>,
    /// `required`.
    pub required: bool,
    /// `hidden` (also read from `isHidden`, seen in Palette's docs).
    pub hidden: bool,
    /// `immutable` (read-only).
    pub immutable: bool,
    /// `options[].value`, as text.
    pub options: Vec<String>,
}

/// A cluster profile loaded into memory.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Profile {
    /// The file as given.
    pub path: PathBuf,
    /// The file's text.
    pub text: String,
    /// The parsed document, or where parsing stopped.
    pub document: std::result::Result<Document, ParseError>,
    /// `metadata.name`.
    pub name: Option<String>,
    /// `spec.version`.
    pub version: Option<String>,
    /// `spec.template.type`.
    pub profile_type: Option<ProfileType>,
    /// `spec.template.cloudType`.
    pub cloud_type: Option<String>,
    /// `spec.template.packs`, in order.
    pub packs: Vec<ProfilePack>,
    /// `spec.variables`.
    pub variables: Vec<Variable>,
    /// Fields without the documented shape.
    pub problems: Vec<ShapeProblem>,
}

impl Profile {
    /// The root node, if the file parsed.
    pub fn root(&self) -> Option<&Node> {
        self.document.as_ref().ok().map(|d| &d.root)
    }

    /// Position of the node at `pointer` (its key when `at_key`), or of the nearest
    /// existing ancestor.
    pub fn position(&self, pointer: &str, at_key: bool) -> Position {
        self.root()
            .map_or(Position::START, |r| node_position(r, pointer, at_key))
    }

    /// The file name used in findings: the path as given, `/`-separated.
    pub fn file(&self) -> String {
        self.path.to_string_lossy().replace('\\', "/")
    }
}

/// Whether a path names a YAML file (by extension); anything else is read as JSON.
pub(crate) fn is_yaml(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

/// Read and parse a profile file (`.yaml`/`.yml` as YAML, anything else as JSON).
///
/// Fails only when the file cannot be read; syntax and shape problems are recorded in
/// the [`Profile`] and reported by the rules.
///
/// ```
/// let tmp = tempfile::tempdir()?;
/// let path = tmp.path().join("edge-cluster.json");
/// std::fs::write(&path, r#"{"metadata": {"name": "edge-cluster"}, "spec": {"version": "1.0.0",
///     "template": {"type": "add-on", "packs": [
///         {"name": "nginx", "type": "spectro", "layer": "addon", "version": "1.11.2"}]}}}"#)?;
/// let p = spectro_packs::profile::load_profile(&path)?;
/// assert_eq!(p.name.as_deref(), Some("edge-cluster"));
/// assert_eq!(p.packs.len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn load_profile(path: impl AsRef<Path>) -> Result<Profile> {
    load_profile_capped(path, super::DEFAULT_MAX_PROFILE_BYTES)
}

/// [`load_profile`] with another size cap than [`super::DEFAULT_MAX_PROFILE_BYTES`].
pub fn load_profile_capped(path: impl AsRef<Path>, max_bytes: u64) -> Result<Profile> {
    let path = path.as_ref();
    // FIFOs, devices (`/dev/zero`) and symlinks to them are refused before opening, and
    // the cap counts bytes read, not what metadata claims.
    let bytes = crate::safety::read_regular_capped(path, max_bytes)?;
    let text = String::from_utf8(bytes).map_err(|e| {
        Error::io(
            path,
            std::io::Error::new(std::io::ErrorKind::InvalidData, e.utf8_error()),
        )
    })?;
    Ok(parse_profile(path, text))
}

/// Parse profile text already in memory. `path` is used for the format (by extension)
/// and as the `file` of findings.
pub fn parse_profile(path: impl AsRef<Path>, text: String) -> Profile {
    let path = path.as_ref().to_path_buf();
    let document = if is_yaml(&path) {
        parse_yaml(&text, YamlLimits::default())
    } else {
        parse_json(&text)
    };
    let mut profile = Profile {
        path,
        text,
        document,
        name: None,
        version: None,
        profile_type: None,
        cloud_type: None,
        packs: Vec::new(),
        variables: Vec::new(),
        problems: Vec::new(),
    };
    if let Ok(doc) = &profile.document {
        let mut r = Reader {
            problems: Vec::new(),
            embedded: crate::syntax::EmbeddedYaml::new(YamlLimits::default()),
        };
        let root = doc.root.clone();
        r.read(&root, &mut profile);
        profile.problems = r.problems;
    }
    profile
}

struct Reader {
    problems: Vec<ShapeProblem>,
    /// The packs' `values` strings share one budget (see `EmbeddedYaml`).
    embedded: crate::syntax::EmbeddedYaml,
}

impl Reader {
    fn problem(&mut self, root: &Node, pointer: String, message: String) {
        let position = node_position(root, &pointer, false);
        self.problems.push(ShapeProblem {
            pointer,
            position,
            message,
        });
    }

    /// The mapping at `pointer`, recording a problem when it is absent (if `required`) or
    /// not a mapping.
    fn map<'a>(&mut self, root: &'a Node, pointer: &str, required: bool) -> Option<&'a Node> {
        match root.pointer(pointer) {
            Some((_, n)) if n.as_map().is_some() => Some(n),
            Some((_, n)) if n.is_null() && !required => None,
            Some((_, n)) => {
                let msg = format!("`{pointer}` must be a mapping, found {}", n.type_name());
                self.problem(root, pointer.to_owned(), msg);
                None
            }
            None if required => {
                let msg = format!("`{pointer}` is missing");
                self.problem(root, pointer.to_owned(), msg);
                None
            }
            None => None,
        }
    }

    /// A string field; numbers are accepted as their text (YAML `version: 1.0`).
    fn string(&mut self, root: &Node, pointer: &str) -> Option<String> {
        let (_, n) = root.pointer(pointer)?;
        match &n.value {
            NodeValue::String(s) => Some(s.clone()),
            NodeValue::Number(num) => Some(num.to_string()),
            NodeValue::Null => None,
            _ => {
                let msg = format!("`{pointer}` must be a string, found {}", n.type_name());
                self.problem(root, pointer.to_owned(), msg);
                None
            }
        }
    }

    fn boolean(&mut self, root: &Node, pointer: &str) -> Option<bool> {
        let (_, n) = root.pointer(pointer)?;
        match &n.value {
            NodeValue::Bool(b) => Some(*b),
            NodeValue::String(s) if s == "true" || s == "false" => Some(s == "true"),
            NodeValue::Null => None,
            _ => {
                let msg = format!("`{pointer}` must be a boolean, found {}", n.type_name());
                self.problem(root, pointer.to_owned(), msg);
                None
            }
        }
    }

    fn enumerated<T: FromStr>(&mut self, root: &Node, pointer: &str, allowed: &str) -> Option<T> {
        let s = self.string(root, pointer)?;
        match s.parse() {
            Ok(v) => Some(v),
            Err(_) => {
                let msg = format!(
                    "`{pointer}` is `{}`; expected one of {allowed}",
                    crate::diagnostic::sanitize(&s)
                );
                self.problem(root, pointer.to_owned(), msg);
                None
            }
        }
    }

    fn seq<'a>(&mut self, root: &'a Node, pointer: &str) -> &'a [Node] {
        match root.pointer(pointer) {
            Some((_, n)) => match &n.value {
                NodeValue::Seq(items) => items,
                NodeValue::Null => &[],
                _ => {
                    let msg = format!("`{pointer}` must be a list, found {}", n.type_name());
                    self.problem(root, pointer.to_owned(), msg);
                    &[]
                }
            },
            None => &[],
        }
    }

    fn read(&mut self, root: &Node, p: &mut Profile) {
        if root.as_map().is_none() {
            let msg = format!("a profile must be a mapping, found {}", root.type_name());
            self.problem(root, String::new(), msg);
            return;
        }
        if self.map(root, "/metadata", false).is_some() {
            p.name = self.string(root, "/metadata/name");
        }
        if self.map(root, "/spec", true).is_none() {
            return;
        }
        p.version = self.string(root, "/spec/version");
        if self.map(root, "/spec/template", true).is_some() {
            p.profile_type = self.enumerated(
                root,
                "/spec/template/type",
                "cluster, infra, add-on, system",
            );
            p.cloud_type = self.string(root, "/spec/template/cloudType");
            if root.pointer("/spec/template/packs").is_none() {
                self.problem(
                    root,
                    "/spec/template/packs".into(),
                    "`/spec/template/packs` is missing".into(),
                );
            }
            let packs = self.seq(root, "/spec/template/packs");
            for (index, node) in packs.iter().enumerate() {
                if let Some(pack) = self.pack(root, index, node) {
                    p.packs.push(pack);
                }
            }
        }
        let vars = self.seq(root, "/spec/variables");
        for (index, node) in vars.iter().enumerate() {
            if let Some(v) = self.variable(root, index, node) {
                p.variables.push(v);
            }
        }
    }

    fn pack(&mut self, root: &Node, index: usize, node: &Node) -> Option<ProfilePack> {
        let pointer = format!("/spec/template/packs/{index}");
        if node.as_map().is_none() {
            let msg = format!(
                "pack #{index} must be a mapping, found {}",
                node.type_name()
            );
            self.problem(root, pointer, msg);
            return None;
        }
        let f = |k: &str| format!("{pointer}/{k}");
        let name = self.string(root, &f("name"));
        if name.as_deref().is_none_or(str::is_empty) {
            self.problem(root, f("name"), format!("pack #{index} has no `name`"));
        }
        let values = match node.get("values") {
            None => PackValues::Absent,
            Some(v) => match &v.value {
                NodeValue::Null => PackValues::Absent,
                NodeValue::String(s) => match self.embedded.parse(s) {
                    Some(Ok(document)) => PackValues::Text {
                        text: s.clone(),
                        document,
                    },
                    Some(Err(error)) => PackValues::Invalid {
                        text: s.clone(),
                        error,
                    },
                    None => PackValues::Invalid {
                        text: s.clone(),
                        error: crate::syntax::ParseError {
                            message: "not parsed: the YAML embedded in this profile exceeds its budget of nodes (aliases multiplied by references)".into(),
                            position: v.pos,
                            strict_only: false,
                        },
                    },
                },
                NodeValue::Map(_) => PackValues::Inline(v.clone()),
                _ => {
                    let msg = format!(
                        "`{}` must be a YAML string, found {}",
                        f("values"),
                        v.type_name()
                    );
                    self.problem(root, f("values"), msg);
                    PackValues::Absent
                }
            },
        };
        let mut manifests = Vec::new();
        for (i, m) in self.seq(root, &f("manifests")).iter().enumerate() {
            let mp = format!("{pointer}/manifests/{i}/content");
            if let Some(content) = m.get("content").and_then(Node::as_str) {
                manifests.push((mp, content.to_owned()));
            }
        }
        let registry_uid = [
            f("registry/metadata/uid"),
            f("registryUid"),
            f("registry_uid"),
        ]
        .iter()
        .find_map(|p| self.string(root, p).filter(|s| !s.is_empty()));
        Some(ProfilePack {
            index,
            position: node.pos,
            name,
            tag: self.string(root, &f("tag")).filter(|s| !s.is_empty()),
            version: self.string(root, &f("version")).filter(|s| !s.is_empty()),
            pack_type: self.enumerated(root, &f("type"), "spectro, helm, manifest, oci"),
            layer: self.enumerated(root, &f("layer"), "kernel, os, k8s, cni, csi, addon"),
            values,
            manifests,
            registry_uid,
            pointer,
        })
    }

    fn variable(&mut self, root: &Node, index: usize, node: &Node) -> Option<Variable> {
        let pointer = format!("/spec/variables/{index}");
        if node.as_map().is_none() {
            let msg = format!(
                "variable #{index} must be a mapping, found {}",
                node.type_name()
            );
            self.problem(root, pointer, msg);
            return None;
        }
        let f = |k: &str| format!("{pointer}/{k}");
        let name = self.string(root, &f("name"));
        if name.as_deref().is_none_or(str::is_empty) {
            self.problem(root, f("name"), format!("variable #{index} has no `name`"));
        }
        let default_value = match node.get("defaultValue").map(|n| &n.value) {
            Some(NodeValue::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(NodeValue::Number(n)) => Some(n.to_string()),
            Some(NodeValue::Bool(b)) => Some(b.to_string()),
            _ => None,
        };
        let options = self
            .seq(root, &f("options"))
            .iter()
            .filter_map(|o| match o.get("value").map(|v| &v.value) {
                Some(NodeValue::String(s)) => Some(s.clone()),
                Some(NodeValue::Number(n)) => Some(n.to_string()),
                Some(NodeValue::Bool(b)) => Some(b.to_string()),
                _ => None,
            })
            .collect();
        let hidden = self.boolean(root, &f("hidden")).unwrap_or(false)
            || self.boolean(root, &f("isHidden")).unwrap_or(false);
        Some(Variable {
            index,
            name,
            input_type: self.string(root, &f("inputType")),
            default_value,
            required: self.boolean(root, &f("required")).unwrap_or(false),
            hidden,
            immutable: self.boolean(root, &f("immutable")).unwrap_or(false),
            options,
            pointer,
        })
    }
}
