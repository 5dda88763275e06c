//! Rules releases must follow together: resolvable `needs`, unique names and NodePorts,
//! files that exist, exact chart versions, overlays for defined environments only.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use super::load::LoadedRelease;
use super::model::ChartSource;
use crate::diagnostic::{did_you_mean, Diagnostics};
use crate::names;

/// Kubernetes' default NodePort range (`--service-node-port-range`).
pub const NODE_PORT_RANGE: RangeInclusive<u16> = 30000..=32767;

/// Checks every release against the others and the environment names.
pub fn validate(releases: &[LoadedRelease], environments: &[&str]) -> Diagnostics {
    let mut problems = Diagnostics::default();
    let names: Vec<&str> = releases.iter().map(LoadedRelease::name).collect();
    let mut by_name: BTreeMap<&str, &LoadedRelease> = BTreeMap::new();
    let mut node_ports: BTreeMap<u16, (&LoadedRelease, &str)> = BTreeMap::new();
    let mut listen_ports: BTreeMap<u16, (&LoadedRelease, &str)> = BTreeMap::new();

    for r in releases {
        let rel = r.release();
        let t = &r.toml;
        if let Some(other) = by_name.insert(r.name(), r) {
            problems.push(
                t.error_at(
                    "name",
                    format!(
                        "Release name `{}` is also used by {}",
                        r.name(),
                        other.toml.file.path().display()
                    ),
                )
                .with_help("release names are unique across the lab"),
            );
        }
        if let Err(e) = names::check_dns_label(&rel.name) {
            problems.push(
                t.error_at("name", format!("Release name `{}` {e}", rel.name))
                    .with_label("expected a DNS-1123 label"),
            );
        }
        if let Err(e) = names::check_dns_label(&rel.namespace) {
            problems.push(
                t.error_at("namespace", format!("Namespace `{}` {e}", rel.namespace))
                    .with_label("expected a DNS-1123 label"),
            );
        }

        for (i, need) in rel.needs.iter().enumerate() {
            let at = format!("needs[{i}]");
            if need == &rel.name {
                problems.push(t.error_at(&at, format!("Release `{need}` needs itself")));
            } else if !names.contains(&need.as_str()) {
                let help = match did_you_mean(need, names.iter().copied()) {
                    Some(best) => format!("did you mean `{best}`?"),
                    None => format!("releases are `{}`", names.join("`, `")),
                };
                problems.push(
                    t.error_at(
                        &at,
                        format!(
                            "Release `{}` needs `{need}`, which does not exist",
                            rel.name
                        ),
                    )
                    .with_help(help),
                );
            }
        }

        let mut check_env = |path: String, env: &str| {
            if !environments.contains(&env) {
                let help = match did_you_mean(env, environments.iter().copied()) {
                    Some(best) => format!("did you mean `{best}`?"),
                    None => format!(
                        "environments are `{}` (releases/environments.toml)",
                        environments.join("`, `")
                    ),
                };
                problems.push(
                    t.error_at(&path, format!("Environment `{env}` is not defined"))
                        .with_help(help),
                );
            }
        };
        for (i, env) in rel.environments.iter().enumerate() {
            check_env(format!("environments[{i}]"), env);
        }
        for env in rel.overlays.keys() {
            check_env(format!("overlays.{env}"), env);
        }

        let mut files: Vec<(String, &str)> = Vec::new();
        files.extend(
            rel.values
                .iter()
                .enumerate()
                .map(|(i, f)| (format!("values[{i}]"), f.as_str())),
        );
        files.extend(
            rel.manifests
                .iter()
                .enumerate()
                .map(|(i, f)| (format!("manifests[{i}]"), f.as_str())),
        );
        for (env, overlay) in &rel.overlays {
            files.extend(
                overlay
                    .values
                    .iter()
                    .enumerate()
                    .map(|(i, f)| (format!("overlays.{env}.values[{i}]"), f.as_str())),
            );
        }
        for (path, file) in files {
            if file.starts_with('/') || file.split('/').any(|c| c == "..") {
                problems.push(t.error_at(
                    &path,
                    format!("`{file}` must be a path inside the release folder"),
                ));
            } else if !r.dir.join(file).is_file() {
                problems.push(
                    t.error_at(
                        &path,
                        format!("`{file}` does not exist in {}", r.display_dir().display()),
                    )
                    .with_label("file not found"),
                );
            }
        }

        match &rel.chart {
            Some(ChartSource::Repository {
                repository,
                name,
                version,
            }) => {
                if repository.starts_with("oci://") {
                    if let Err(crate::charts::oci::OciError::Reference { reason, .. }) =
                        crate::charts::oci::OciRef::parse(repository, name)
                    {
                        problems.push(
                            t.error_at(
                                "chart.repository",
                                format!("`{repository}` with chart `{name}` is not an OCI chart reference: {reason}"),
                            )
                            .with_help("write the registry and path `helm push` was given, e.g. \"oci://ghcr.io/traefik/helm\", and the chart's name in `name`"),
                        );
                    }
                } else if !(repository.starts_with("https://") || repository.starts_with("http://"))
                {
                    problems.push(
                        t.error_at("chart.repository", format!("`{repository}` is not an HTTP(S) Helm repository URL"))
                            .with_help("write the URL `helm repo add` takes, e.g. \"https://traefik.github.io/charts\", or an OCI registry as \"oci://HOST/PATH\""),
                    );
                }
                if let Err(e) = semver::Version::parse(version) {
                    let help = if semver::VersionReq::parse(version).is_ok() {
                        "pin an exact version such as \"1.2.3\"; ranges make renders unreproducible"
                            .to_string()
                    } else {
                        "write the chart version as MAJOR.MINOR.PATCH".to_string()
                    };
                    problems.push(
                        t.error_at(
                            "chart.version",
                            format!(
                                "Chart version `{version}` is not an exact semver version: {e}"
                            ),
                        )
                        .with_help(help),
                    );
                }
            }
            Some(ChartSource::Local { path }) => {
                if !r.dir.join(path).join("Chart.yaml").is_file() {
                    problems.push(t.error_at(
                        "chart.path",
                        format!(
                            "`{path}` is not a chart folder (no Chart.yaml) in {}",
                            r.display_dir().display()
                        ),
                    ));
                }
            }
            None => {
                if rel.manifests.is_empty() && rel.secrets.is_empty() {
                    problems.push(
                        t.error_at("name", format!("Release `{}` has no chart, manifests or secrets: it deploys nothing", rel.name))
                            .with_help("add a `[chart]` table or a `manifests` list"),
                    );
                }
            }
        }

        for (entry, ep) in &rel.entrypoints {
            let at = format!("entrypoints.{entry}.node_port");
            if !NODE_PORT_RANGE.contains(&ep.node_port) {
                problems.push(
                    t.error_at(
                        &at,
                        format!(
                            "NodePort {} of entry point `{entry}` is outside 30000–32767",
                            ep.node_port
                        ),
                    )
                    .with_label("expected a port in the NodePort range"),
                );
            } else if let Some((other, other_entry)) = node_ports.insert(ep.node_port, (r, entry)) {
                problems.push(
                    t.error_at(
                        &at,
                        format!(
                    "NodePort {} of `{}.{entry}` is already used by `{}.{other_entry}` ({})",
                    ep.node_port, rel.name, other.name(), other.toml.file.path().display()
                ),
                    )
                    .with_help("every entry point needs its own NodePort"),
                );
            }
            if let Some(listen) = ep.listen {
                if let Some((other, other_entry)) = listen_ports.insert(listen, (r, entry)) {
                    problems.push(t.error_at(
                        &format!("entrypoints.{entry}.listen"),
                        format!(
                        "Port {listen} of `{}.{entry}` is already proxied for `{}.{other_entry}`",
                        rel.name, other.name()
                    ),
                    ));
                }
            }
        }

        let mut secret_names = BTreeMap::new();
        for (i, secret) in rel.secrets.iter().enumerate() {
            let at = format!("secrets[{i}]");
            if let Err(e) = names::check_dns_subdomain(&secret.name) {
                problems.push(t.error_at(
                    &format!("{at}.name"),
                    format!("Secret name `{}` {e}", secret.name),
                ));
            }
            if secret_names.insert(secret.name.as_str(), i).is_some() {
                problems.push(t.error_at(
                    &format!("{at}.name"),
                    format!("Secret `{}` is declared twice", secret.name),
                ));
            }
            if secret.data.is_empty() {
                problems.push(
                    t.error_at(&at, format!("Secret `{}` has no data", secret.name))
                        .with_help("add `data = { KEY = \"path.in.secrets.file\" }`"),
                );
            }
            for (key, path) in &secret.data {
                if key.is_empty()
                    || !key
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
                {
                    problems.push(t.error_at(
                        &format!("{at}.data.{key}"),
                        format!(
                            "Secret key `{key}` may contain only letters, digits, '-', '_' and '.'"
                        ),
                    ));
                }
                if path.is_empty() || path.split('.').any(str::is_empty) {
                    problems.push(
                        t.error_at(
                            &format!("{at}.data.{key}"),
                            format!("`{path}` is not a dotted path into the secrets file"),
                        )
                        .with_help("write it as `app.key`, e.g. \"vaultwarden.admin_token\""),
                    );
                }
            }
        }
    }
    problems
}
