//! URL paths to routes: discovery documents, OpenAPI, the test-control
//! endpoints under `/_fake/`, and resource paths
//! (`/apis/G/V[/namespaces/NS]/RESOURCE[/NAME[/SUBRESOURCE]]`).

/// A resource request's path parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourcePath {
    pub group: String,
    pub version: String,
    pub namespace: Option<String>,
    pub plural: String,
    pub name: Option<String>,
    pub subresource: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    Version,
    Health,
    /// `/api`
    LegacyRoot,
    /// `/apis`
    GroupList,
    /// `/apis/G`
    Group(String),
    /// `/api/v1` (group "") or `/apis/G/V`
    GroupVersion(String, String),
    OpenApiV2,
    OpenApiV3Root,
    /// `/openapi/v3/api/v1`, `/openapi/v3/apis/G/V`: the group-version path.
    OpenApiV3(String),
    /// `/_fake/...`: counters and knobs for scripts.
    Control(String),
    Resource(ResourcePath),
    Unknown,
}

pub fn parse(path: &str) -> Route {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segs.as_slice() {
        ["version"] => Route::Version,
        ["healthz" | "livez" | "readyz"] => Route::Health,
        ["api"] => Route::LegacyRoot,
        ["api", v] => Route::GroupVersion(String::new(), (*v).to_owned()),
        ["api", v, rest @ ..] => resource("", v, rest),
        ["apis"] => Route::GroupList,
        ["apis", g] => Route::Group((*g).to_owned()),
        ["apis", g, v] => Route::GroupVersion((*g).to_owned(), (*v).to_owned()),
        ["apis", g, v, rest @ ..] => resource(g, v, rest),
        ["openapi", "v2"] => Route::OpenApiV2,
        ["openapi", "v3"] => Route::OpenApiV3Root,
        ["openapi", "v3", rest @ ..] => Route::OpenApiV3(rest.join("/")),
        ["_fake", rest @ ..] => Route::Control(rest.join("/")),
        _ => Route::Unknown,
    }
}

fn resource(group: &str, version: &str, rest: &[&str]) -> Route {
    let (namespace, rest) = match rest {
        ["namespaces", ns, plural, tail @ ..] if !matches!(*plural, "status" | "finalize") => {
            (Some((*ns).to_owned()), {
                let mut v = vec![*plural];
                v.extend_from_slice(tail);
                v
            })
        }
        _ => (None, rest.to_vec()),
    };
    let (plural, name, sub) = match rest.as_slice() {
        [p] => (*p, None, None),
        [p, n] => (*p, Some(*n), None),
        [p, n, s] => (*p, Some(*n), Some(*s)),
        _ => return Route::Unknown,
    };
    if plural.is_empty() || name == Some("") {
        return Route::Unknown;
    }
    Route::Resource(ResourcePath {
        group: group.to_owned(),
        version: version.to_owned(),
        namespace,
        plural: plural.to_owned(),
        name: name.map(str::to_owned),
        subresource: sub.map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(path: &str) -> ResourcePath {
        match parse(path) {
            Route::Resource(r) => r,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn resource_paths() {
        let r = res("/apis/apps/v1/namespaces/d/deployments/web/status");
        assert_eq!(
            (
                r.group.as_str(),
                r.namespace.as_deref(),
                r.plural.as_str(),
                r.name.as_deref(),
                r.subresource.as_deref()
            ),
            (
                "apps",
                Some("d"),
                "deployments",
                Some("web"),
                Some("status")
            )
        );
        let ns = res("/api/v1/namespaces/d");
        assert_eq!(
            (ns.plural.as_str(), ns.name.as_deref(), ns.namespace),
            ("namespaces", Some("d"), None)
        );
        let nss = res("/api/v1/namespaces/d/status");
        assert_eq!(nss.subresource.as_deref(), Some("status"));
        assert_eq!(res("/api/v1/configmaps").namespace, None);
        assert_eq!(
            res("/api/v1/namespaces/d/configmaps").namespace.as_deref(),
            Some("d")
        );
    }

    #[test]
    fn discovery_paths() {
        assert_eq!(parse("/api"), Route::LegacyRoot);
        assert_eq!(parse("/apis/apps"), Route::Group("apps".into()));
        assert_eq!(
            parse("/api/v1"),
            Route::GroupVersion(String::new(), "v1".into())
        );
        assert_eq!(
            parse("/openapi/v3/apis/apps/v1"),
            Route::OpenApiV3("apis/apps/v1".into())
        );
        assert_eq!(parse("/nope"), Route::Unknown);
    }
}
