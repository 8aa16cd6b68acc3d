//! The [`Layer`] a pack occupies in a cluster profile.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A pack's layer (`pack.json` `layer`). Core layers (os, k8s, cni, csi) hold one pack
/// each in a profile; `addon` layers any number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Layer {
    /// Kernel (schema only; no documented semantics).
    Kernel,
    /// Operating system (Ubuntu, BYOOS, ...).
    Os,
    /// Kubernetes distribution (PXK, RKE2, k3s, ...).
    K8s,
    /// Container network interface (Calico, Cilium, Flannel, ...).
    Cni,
    /// Container storage interface (vSphere CSI, EBS, Portworx, ...).
    Csi,
    /// Any add-on (monitoring, logging, ingress, ...).
    Addon,
}

impl Layer {
    /// All layers in profile order.
    pub const ALL: [Layer; 6] = [
        Layer::Kernel,
        Layer::Os,
        Layer::K8s,
        Layer::Cni,
        Layer::Csi,
        Layer::Addon,
    ];

    /// The name used in pack.json.
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Kernel => "kernel",
            Layer::Os => "os",
            Layer::K8s => "k8s",
            Layer::Cni => "cni",
            Layer::Csi => "csi",
            Layer::Addon => "addon",
        }
    }

    /// Core layers hold at most one pack per profile.
    pub fn is_core(self) -> bool {
        matches!(self, Layer::Os | Layer::K8s | Layer::Cni | Layer::Csi)
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error for an unknown layer name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown layer `{0}` (expected one of kernel, os, k8s, cni, csi, addon)")]
pub struct UnknownLayer(pub String);

impl FromStr for Layer {
    type Err = UnknownLayer;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Layer::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| UnknownLayer(s.to_owned()))
    }
}
