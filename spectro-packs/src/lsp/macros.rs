//! Hovers on Palette macros in values: `{{ .spectro.<namespace>.<path> }}`, resolved by
//! Palette when a cluster is deployed. The hover says what the macro will be replaced with
//! (facts from Palette's "Pack Macros" and "Macros" documentation pages).

/// Palette's documented system macros (`.spectro.system.<name>`): name and what it holds.
const SYSTEM: &[(&str, &str)] = &[
    ("user.name", "the name of the user who deploys the cluster"),
    ("user.uid", "the id of the user who deploys the cluster"),
    (
        "user.email",
        "the email of the user who deploys the cluster",
    ),
    ("tenant.uid", "the id of the tenant"),
    ("project.name", "the name of the project the cluster is in"),
    ("project.uid", "the id of the project the cluster is in"),
    (
        "clusterprofile.name",
        "the name of the cluster profile this pack belongs to",
    ),
    (
        "clusterprofile.uid",
        "the id of the cluster profile this pack belongs to",
    ),
    (
        "clusterprofile.version",
        "the version of the cluster profile this pack belongs to",
    ),
    (
        "clusterprofile.infra.name",
        "the name of the cluster's infrastructure profile",
    ),
    (
        "clusterprofile.infra.uid",
        "the id of the cluster's infrastructure profile",
    ),
    (
        "clusterprofile.infra.version",
        "the version of the cluster's infrastructure profile",
    ),
    ("cluster.name", "the name of the cluster"),
    ("cluster.uid", "the id of the cluster"),
    (
        "cluster.kubevip",
        "the cluster's kube-vip address (Edge and vSphere clusters only)",
    ),
    (
        "cloudaccount.name",
        "the name of the cloud account the cluster is deployed with",
    ),
    (
        "cloudaccount.uid",
        "the id of the cloud account the cluster is deployed with",
    ),
    ("kubernetes.version", "the cluster's Kubernetes version"),
    (
        "reverseproxy.server",
        "the reverse proxy's server (empty when the reverse proxy is off)",
    ),
    (
        "reverseproxy.port",
        "the reverse proxy's port (empty when the reverse proxy is off)",
    ),
    (
        "reverseproxy.protocol",
        "the reverse proxy's protocol (empty when the reverse proxy is off)",
    ),
    (
        "reverseproxy.vhostport",
        "the reverse proxy's virtual host port (empty when it is off)",
    ),
    (
        "cloud.type",
        "the cluster's cloud type (`aws`, `vsphere`, `edge-native`, ...)",
    ),
    ("cloud.region", "the cluster's cloud region"),
    // Palette Dev Engine app profiles only.
    ("apptier.name", "the app tier's name (app profiles only)"),
    ("apptier.uid", "the app tier's id (app profiles only)"),
    (
        "appprofile.name",
        "the app profile's name (app profiles only)",
    ),
    ("appprofile.uid", "the app profile's id (app profiles only)"),
    (
        "appdeployment.uid",
        "the app deployment's id (app profiles only)",
    ),
    (
        "appdeployment.name",
        "the app deployment's name (app profiles only)",
    ),
    (
        "appdeployment.tiername",
        "the app deployment's tier name (app profiles only)",
    ),
    (
        "appdeployment.ingress.host",
        "the app deployment's ingress host (app profiles only)",
    ),
];

/// The macro (`.spectro.…`, without the braces and functions) whose `{{ }}` holds byte
/// `offset` of `line`, and where the expression's functions start, if any.
pub(super) fn macro_at(line: &str, offset: usize) -> Option<(&str, Option<&str>)> {
    let mut from = 0;
    while let Some(open) = line[from..].find("{{").map(|i| from + i) {
        // Unterminated while typing: to the end of the line.
        let (inner_end, close) = match line[open..].find("}}") {
            Some(i) => (open + i, open + i + 2),
            None => (line.len(), line.len()),
        };
        if (open..close.max(open + 1)).contains(&offset) {
            let inner = line[open + 2..inner_end.max(open + 2)].trim_start_matches('-');
            let start = inner.find(".spectro.")?;
            let rest = &inner[start..];
            let end = rest
                .find(|c: char| c.is_whitespace() || c == '|' || c == '}' || c == ')')
                .unwrap_or(rest.len());
            let pipe = rest[end..].find('|').map(|i| rest[end + i + 1..].trim());
            return Some((&rest[..end], pipe.filter(|p| !p.is_empty())));
        }
        from = close.max(open + 2);
    }
    None
}

/// `(pack, dotted path)` to `(version, the value shown)` from the workspace's packs.
pub(super) type PackValue<'a> = dyn Fn(&str, &str) -> Option<(String, String)> + 'a;

/// Markdown for a macro: what Palette replaces it with. `lookup(pack, path)` gives the
/// value a workspace pack has at a dotted path, for `.spectro.pack.<pack>.<path>`.
pub(super) fn describe(name: &str, functions: Option<&str>, lookup: &PackValue<'_>) -> String {
    let mut out =
        format!("**`{{{{ {name} }}}}`** — Palette macro, replaced when a cluster is deployed.\n\n");
    let parts: Vec<&str> = name.trim_start_matches('.').splitn(3, '.').collect();
    match parts.as_slice() {
        ["spectro", "system", rest] => match SYSTEM.iter().find(|(n, _)| n == rest) {
            Some((_, what)) => out.push_str(&format!("Resolves to {what}.")),
            None => out.push_str(&format!(
                "`{rest}` is not a documented system macro; Palette leaves it empty. Known: {}.",
                SYSTEM
                    .iter()
                    .map(|(n, _)| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        },
        ["spectro", "pack", rest] => {
            let (pack, path) = rest.split_once('.').unwrap_or((rest, ""));
            out.push_str(&format!(
                "Resolves to `{path}` from the values of pack `{pack}` in the same cluster \
                 profile (the macro's `default`, else empty, when the pack or the value is missing)."
            ));
            if let Some((version, value)) = lookup(pack, path) {
                out.push_str(&format!(
                    "\n\nIn this workspace, `{pack}` {version} has:\n\n```json\n{value}\n```"
                ));
            }
        }
        ["spectro", "var", rest] => out.push_str(&format!(
            "Resolves to the profile variable `{rest}` (declared in the profile's variables; \
             the value is asked for when the profile is deployed). Wrap the macro in single quotes."
        )),
        ["spectro", "macro", rest] => out.push_str(&format!(
            "Resolves to the user macro `{rest}`, defined in Palette's Project, Tenant or System \
             settings (Project wins over Tenant, Tenant over System). It cannot be checked offline: \
             it must exist where the profile is deployed."
        )),
        ["spectro", "app", rest] => out.push_str(&format!(
            "Resolves to the output `{rest}` of an app tier (Palette Dev Engine app profiles only)."
        )),
        _ => out.push_str(
            "Not a Palette macro namespace: the namespaces are `system`, `pack`, `var`, `macro` \
             and `app`.",
        ),
    }
    if let Some(f) = functions {
        out.push_str(&format!("\n\nThen piped through `{f}` (sprig functions)."));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_macro_under_the_cursor_is_found_and_described() {
        let line =
            r#"  host: "{{ .spectro.system.cluster.name | upper }}-{{.spectro.var.region}}""#;
        let at = |needle: &str| line.find(needle).unwrap();
        assert_eq!(
            macro_at(line, at("cluster")),
            Some((".spectro.system.cluster.name", Some("upper")))
        );
        assert_eq!(
            macro_at(line, at("region")),
            Some((".spectro.var.region", None))
        );
        assert_eq!(macro_at(line, at("host")), None);
        assert_eq!(macro_at("{{ .Values.x }}", 4), None);
        // Unterminated while typing: to the end of the line.
        assert_eq!(
            macro_at("a: {{ .spectro.macro.token", 8),
            Some((".spectro.macro.token", None))
        );
        let none = |_: &str, _: &str| None;
        let d = describe(".spectro.system.cluster.name", Some("upper"), &none);
        assert!(
            d.contains("the name of the cluster") && d.contains("`upper`"),
            "{d}"
        );
        let d = describe(".spectro.system.kunernetes.version", None, &none);
        assert!(d.contains("not a documented system macro"), "{d}");
        let found = |p: &str, path: &str| {
            (p == "karpenter" && path == "awsAccountNumber")
                .then(|| ("1.0.0".to_owned(), "\"123\"".to_owned()))
        };
        let d = describe(".spectro.pack.karpenter.awsAccountNumber", None, &found);
        assert!(
            d.contains("`karpenter` 1.0.0 has") && d.contains("\"123\""),
            "{d}"
        );
        assert!(describe(".spectro.nope.x", None, &none).contains("Not a Palette macro"));
    }
}
