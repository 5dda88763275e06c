//! Where an object lives on the API server: its resource (group, version, plural,
//! scope) and the URL paths built from it. Kept apart from discovery so plans, diffs
//! and tests can build paths without a cluster.

use std::fmt;

/// A served resource, as discovery reports it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Resource {
    /// Empty for the core group.
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
}

impl Resource {
    /// `v1` or `group/version`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The collection path: in `namespace` for namespaced resources (all namespaces
    /// when `None`), cluster-wide otherwise.
    pub fn collection_path(&self, namespace: Option<&str>) -> String {
        let prefix = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        match namespace {
            Some(ns) if self.namespaced => format!("{prefix}/namespaces/{ns}/{}", self.plural),
            _ => format!("{prefix}/{}", self.plural),
        }
    }

    /// The path of one object.
    pub fn object_path(&self, namespace: Option<&str>, name: &str) -> String {
        format!("{}/{name}", self.collection_path(namespace))
    }

    /// `kind.group` as the server names a group-kind (`Deployment.apps`, `ConfigMap`).
    pub fn group_kind(&self) -> String {
        group_kind(&self.group, &self.kind)
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.api_version(), self.plural)
    }
}

/// `Kind.group`, or `Kind` for the core group.
pub(crate) fn group_kind(group: &str, kind: &str) -> String {
    if group.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}.{group}")
    }
}

/// Splits `apiVersion` into (group, version).
pub(crate) fn split_api_version(api_version: &str) -> (&str, &str) {
    api_version.rsplit_once('/').unwrap_or(("", api_version))
}

/// Percent-encodes a query value (label selectors hold `=` and `,`).
pub(crate) fn encode_query(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployments() -> Resource {
        Resource {
            group: "apps".into(),
            version: "v1".into(),
            kind: "Deployment".into(),
            plural: "deployments".into(),
            namespaced: true,
        }
    }

    #[test]
    fn paths() {
        let d = deployments();
        assert_eq!(
            d.object_path(Some("web"), "site"),
            "/apis/apps/v1/namespaces/web/deployments/site"
        );
        assert_eq!(d.collection_path(None), "/apis/apps/v1/deployments");
        let ns = Resource {
            group: String::new(),
            version: "v1".into(),
            kind: "Namespace".into(),
            plural: "namespaces".into(),
            namespaced: false,
        };
        assert_eq!(
            ns.object_path(Some("ignored"), "web"),
            "/api/v1/namespaces/web"
        );
        assert_eq!(d.group_kind(), "Deployment.apps");
        assert_eq!(ns.group_kind(), "Namespace");
    }

    #[test]
    fn query_encoding() {
        assert_eq!(encode_query("a=b,c"), "a%3Db%2Cc");
        assert_eq!(split_api_version("v1"), ("", "v1"));
        assert_eq!(split_api_version("apps/v1"), ("apps", "v1"));
    }
}
