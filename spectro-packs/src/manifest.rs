//! Typed `pack.json`: [`PackManifest`] and its constraint types.
//!
//! Deserialisation is lenient field by field: a field of the wrong type becomes `None`
//! (the schema rules report it with its location) instead of failing the whole pack.
//! Keys we do not model are kept in [`PackManifest::extra`].

use std::collections::BTreeMap;

use serde::de::{DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::layer::Layer;

fn lenient<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Option<T>, D::Error> {
    let v = Value::deserialize(d)?;
    Ok(serde_json::from_value(v).ok())
}

/// Lenient list: items of the wrong shape are dropped.
fn lenient_list<'de, D: Deserializer<'de>, T: DeserializeOwned>(
    d: D,
) -> Result<Option<Vec<T>>, D::Error> {
    let v = Value::deserialize(d)?;
    Ok(match v {
        Value::Array(items) => Some(
            items
                .into_iter()
                .filter_map(|i| serde_json::from_value(i).ok())
                .collect(),
        ),
        _ => None,
    })
}

/// The typed content of `pack.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PackManifest {
    /// Pack name; with `version`, the pack's identity.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<String>,
    /// Name shown in the Palette UI.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub display_name: Option<String>,
    /// Version as written.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub version: Option<String>,
    /// Layer.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub layer: Option<Layer>,
    /// Add-on category (`monitoring`, `system app`, ...), for `addon` packs.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub addon_type: Option<String>,
    /// Add-on sub-category (schema only).
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub addon_sub_type: Option<String>,
    /// Cloud types the pack supports (`all`, `aws`, `edge-native`, ...).
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub cloud_types: Option<Vec<String>>,
    /// Legacy single cloud type.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub cloud_type: Option<String>,
    /// Grouping label (e.g. `LTS`).
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub group: Option<String>,
    /// End-of-life date.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub eol: Option<String>,
    /// String annotations (`source`, `contributor`, OS image ids, ...).
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Chart archives, relative to the pack root (`charts/x-1.0.0.tgz`).
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub charts: Option<Vec<String>>,
    /// Manifest files, relative to the pack root (`manifests/x.yaml`).
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub kube_manifests: Option<Vec<String>>,
    /// Ansible role names (role directories at the pack root or under `ansible-roles/`).
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub ansible_roles: Option<Vec<String>>,
    /// Dependency and resource constraints.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub constraints: Option<Constraints>,
    /// Keys not modelled above, kept as written (`commit_msg`, `kubeVersion`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `constraints` of pack.json.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Constraints {
    /// Version constraints on other packs.
    #[serde(
        default,
        deserialize_with = "lenient_list",
        skip_serializing_if = "Option::is_none"
    )]
    pub dependencies: Option<Vec<Dependency>>,
    /// Minimum resources for worker pools.
    #[serde(
        default,
        deserialize_with = "lenient_list",
        skip_serializing_if = "Option::is_none"
    )]
    pub resources: Option<Vec<Resource>>,
}

/// One dependency constraint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Dependency {
    /// Name of the other pack.
    #[serde(default, deserialize_with = "lenient")]
    pub pack_name: Option<String>,
    /// Layer where the other pack sits.
    #[serde(default, deserialize_with = "lenient")]
    pub layer: Option<Layer>,
    /// Lowest allowed version; empty or absent means unbounded.
    #[serde(default, deserialize_with = "lenient")]
    pub min_version: Option<String>,
    /// Highest allowed version; empty or absent means unbounded.
    #[serde(default, deserialize_with = "lenient")]
    pub max_version: Option<String>,
    /// Kind of constraint.
    #[serde(default, rename = "type", deserialize_with = "lenient")]
    pub kind: Option<DependencyType>,
}

/// Kind of a [`Dependency`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum DependencyType {
    /// The other pack must be present, within the range.
    Required,
    /// If present, the other pack must be within the range.
    Optional,
    /// The other pack must not be present within the range.
    NotSupported,
    /// Upgrade path marker (undocumented; informational).
    Upgrade,
}

/// One resource constraint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Resource {
    /// Resource kind.
    #[serde(default, rename = "type", deserialize_with = "lenient")]
    pub kind: Option<ResourceType>,
    /// Minimum per worker pool (millicores, MiB or GB).
    #[serde(default, deserialize_with = "lenient")]
    pub min_limit: Option<f64>,
    /// Per-component requests (when set, `minLimit` is ignored).
    #[serde(default, deserialize_with = "lenient_list")]
    pub components: Option<Vec<Component>>,
}

/// Kind of a [`Resource`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum ResourceType {
    /// CPU, millicores.
    Cpu,
    /// Memory, MiB.
    Memory,
    /// Disk size, GB.
    DiskSize,
}

/// A component of a resource constraint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Component {
    /// Where the pods are scheduled.
    #[serde(default, deserialize_with = "lenient")]
    pub schedule_type: Option<ScheduleType>,
    /// values.yaml path of the resource request.
    #[serde(default, deserialize_with = "lenient")]
    pub resource_request_param_ref: Option<String>,
    /// values.yaml path of the replica count.
    #[serde(default, deserialize_with = "lenient")]
    pub replica_count_param_ref: Option<String>,
}

/// Scheduling target of a [`Component`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ScheduleType {
    /// Control plane and workers.
    All,
    /// Control plane only (older name).
    Master,
    /// Control plane only.
    ControlPlane,
    /// Workers only.
    Worker,
}

impl PackManifest {
    /// Build from a JSON value (never fails: wrong-typed fields become `None`).
    pub fn from_json(value: &Value) -> Self {
        match value {
            Value::Object(_) => serde_json::from_value(value.clone()).unwrap_or_default(),
            _ => PackManifest::default(),
        }
    }
}
