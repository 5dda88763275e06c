//! Rules releases must follow together: resolvable `needs`, unique names and NodePorts,
//! files that exist, exact chart versions, overlays for defined environments only, and
//! every identifier in its grammar (`crate::names`). One function per rule;
//! [`validate`] runs them in order for each release.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use super::load::LoadedRelease;
use super::model::ChartSource;
use crate::diagnostic::{did_you_mean, Diagnostics};
use crate::names;

/// Kubernetes' default NodePort range (`--service-node-port-range`).
pub(crate) const NODE_PORT_RANGE: RangeInclusive<u16> = 30000..=32767;

/// What the rules share: the lab's release and environment names, what earlier
/// releases claimed, and the problems found so far.
struct Check<'a> {
    names: Vec<&'a str>,
    environments: &'a [&'a str],
    by_name: BTreeMap<&'a str, &'a LoadedRelease>,
    node_ports: BTreeMap<u16, (&'a LoadedRelease, &'a str)>,
    listen_ports: BTreeMap<u16, (&'a LoadedRelease, &'a str)>,
    problems: Diagnostics,
}

type Rule = for<'a> fn(&mut Check<'a>, &'a LoadedRelease);

const RULES: [Rule; 8] = [
    unique_name,
    name_and_namespace,
    needs,
    environments,
    files,
    chart,
    entrypoints,
    secrets,
];

/// Checks every release against the others and the environment names.
pub fn validate(releases: &[LoadedRelease], environments: &[&str]) -> Diagnostics {
    let mut check = Check {
        names: releases.iter().map(LoadedRelease::name).collect(),
        environments,
        by_name: BTreeMap::new(),
        node_ports: BTreeMap::new(),
        listen_ports: BTreeMap::new(),
        problems: Diagnostics::default(),
    };
    for r in releases {
        for rule in RULES {
            rule(&mut check, r);
        }
    }
    check.problems
}

/// A value as it may be shown in a message: control characters escaped, so data
/// cannot add lines to the diagnostic.
fn shown(s: &str) -> String {
    s.escape_debug().to_string()
}

fn unique_name<'a>(c: &mut Check<'a>, r: &'a LoadedRelease) {
    if let Some(other) = c.by_name.insert(r.name(), r) {
        c.problems.push(
            r.toml
                .error_at(
                    "name",
                    format!(
                        "Release name `{}` is also used by {}",
                        shown(r.name()),
                        other.toml.file.path().display()
                    ),
                )
                .with_help("release names are unique across the lab"),
        );
    }
}

fn name_and_namespace<'a>(c: &mut Check<'a>, r: &'a LoadedRelease) {
    let rel = r.release();
    for (field, what, value) in [
        ("name", "Release name", &rel.name),
        ("namespace", "Namespace", &rel.namespace),
    ] {
        if let Err(e) = names::check_dns_label(value) {
            c.problems.push(
                r.toml
                    .error_at(field, format!("{what} `{}` {e}", shown(value)))
                    .with_label("expected a DNS-1123 label"),
            );
        }
    }
}

fn needs<'a>(c: &mut Check<'a>, r: &'a LoadedRelease) {
    let rel = r.release();
    for (i, need) in rel.needs.iter().enumerate() {
        let at = format!("needs[{i}]");
        if need == &rel.name {
            c.problems.push(
                r.toml
                    .error_at(&at, format!("Release `{}` needs itself", shown(need))),
            );
        } else if !c.names.contains(&need.as_str()) {
            let help = match did_you_mean(need, c.names.iter().copied()) {
                Some(best) => format!("did you mean `{best}`?"),
                None => format!("releases are `{}`", c.names.join("`, `")),
            };
            c.problems.push(
                r.toml
                    .error_at(
                        &at,
                        format!(
                            "Release `{}` needs `{}`, which does not exist",
                            shown(&rel.name),
                            shown(need)
                        ),
                    )
                    .with_help(help),
            );
        }
    }
}

fn environments<'a>(c: &mut Check<'a>, r: &'a LoadedRelease) {
    let rel = r.release();
    let listed = rel
        .environments
        .iter()
        .enumerate()
        .map(|(i, env)| (format!("environments[{i}]"), env));
    let overlays = rel
        .overlays
        .keys()
        .map(|env| (format!("overlays.{env}"), env));
    for (path, env) in listed.chain(overlays) {
        if c.environments.contains(&env.as_str()) {
            continue;
        }
        let help = match did_you_mean(env, c.environments.iter().copied()) {
            Some(best) => format!("did you mean `{best}`?"),
            None => format!(
                "environments are `{}` (releases/environments.toml)",
                c.environments.join("`, `")
            ),
        };
        c.problems.push(
            r.toml
                .error_at(
                    &path,
                    format!("Environment `{}` is not defined", shown(env)),
                )
                .with_help(help),
        );
    }
}

fn files<'a>(c: &mut Check<'a>, r: &'a LoadedRelease) {
    let rel = r.release();
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
        if file.starts_with('/') || file.split('/').any(|part| part == "..") {
            c.problems.push(r.toml.error_at(
                &path,
                format!("`{}` must be a path inside the release folder", shown(file)),
            ));
        } else if !r.dir.join(file).is_file() {
            c.problems.push(
                r.toml
                    .error_at(
                        &path,
                        format!(
                            "`{}` does not exist in {}",
                            shown(file),
                            r.display_dir().display()
                        ),
                    )
                    .with_label("file not found"),
            );
        }
    }
}

fn chart<'a>(c: &mut Check<'a>, r: &'a LoadedRelease) {
    let rel = r.release();
    match &rel.chart {
        Some(ChartSource::Repository {
            repository,
            name,
            version,
        }) => {
            chart_repository(c, r, repository, name);
            chart_version(c, r, version);
        }
        Some(ChartSource::Local { path }) => {
            if !r.dir.join(path).join("Chart.yaml").is_file() {
                c.problems.push(r.toml.error_at(
                    "chart.path",
                    format!(
                        "`{}` is not a chart folder (no Chart.yaml) in {}",
                        shown(path),
                        r.display_dir().display()
                    ),
                ));
            }
        }
        None => {
            if rel.manifests.is_empty() && rel.secrets.is_empty() {
                c.problems.push(
                    r.toml
                        .error_at("name", format!("Release `{}` has no chart, manifests or secrets: it deploys nothing", shown(&rel.name)))
                        .with_help("add a `[chart]` table or a `manifests` list"),
                );
            }
        }
    }
}

fn chart_repository(c: &mut Check<'_>, r: &LoadedRelease, repository: &str, name: &str) {
    if repository.starts_with("oci://") {
        if let Err(crate::charts::oci::OciError::Reference { reason, .. }) =
            crate::charts::oci::OciRef::parse(repository, name)
        {
            c.problems.push(
                r.toml
                    .error_at(
                        "chart.repository",
                        format!("`{}` with chart `{}` is not an OCI chart reference: {reason}", shown(repository), shown(name)),
                    )
                    .with_help("write the registry and path `helm push` was given, e.g. \"oci://ghcr.io/traefik/helm\", and the chart's name in `name`"),
            );
        }
    } else if !(repository.starts_with("https://") || repository.starts_with("http://")) {
        c.problems.push(
            r.toml
                .error_at("chart.repository", format!("`{}` is not an HTTP(S) Helm repository URL", shown(repository)))
                .with_help("write the URL `helm repo add` takes, e.g. \"https://traefik.github.io/charts\", or an OCI registry as \"oci://HOST/PATH\""),
        );
    }
}

fn chart_version(c: &mut Check<'_>, r: &LoadedRelease, version: &str) {
    if let Err(e) = semver::Version::parse(version) {
        let help = if semver::VersionReq::parse(version).is_ok() {
            "pin an exact version such as \"1.2.3\"; ranges make renders unreproducible"
        } else {
            "write the chart version as MAJOR.MINOR.PATCH"
        };
        c.problems.push(
            r.toml
                .error_at(
                    "chart.version",
                    format!(
                        "Chart version `{}` is not an exact semver version: {e}",
                        shown(version)
                    ),
                )
                .with_help(help),
        );
    }
}

fn entrypoints<'a>(c: &mut Check<'a>, r: &'a LoadedRelease) {
    let rel = r.release();
    for (entry, ep) in &rel.entrypoints {
        if let Err(e) = names::check_port_name(entry) {
            c.problems.push(
                r.toml
                    .error_at(&format!("entrypoints.{entry}"), format!("Entry point name `{}` {e}", shown(entry)))
                    .with_help("entry points become port names: use a short lowercase name such as `web` or `ssh`"),
            );
        }
        let at = format!("entrypoints.{entry}.node_port");
        if !NODE_PORT_RANGE.contains(&ep.node_port) {
            c.problems.push(
                r.toml
                    .error_at(
                        &at,
                        format!(
                            "NodePort {} of entry point `{}` is outside 30000–32767",
                            ep.node_port,
                            shown(entry)
                        ),
                    )
                    .with_label("expected a port in the NodePort range"),
            );
        } else if let Some((other, other_entry)) = c.node_ports.insert(ep.node_port, (r, entry)) {
            c.problems.push(
                r.toml
                    .error_at(
                        &at,
                        format!(
                            "NodePort {} of `{}.{}` is already used by `{}.{}` ({})",
                            ep.node_port,
                            shown(&rel.name),
                            shown(entry),
                            shown(other.name()),
                            shown(other_entry),
                            other.toml.file.path().display()
                        ),
                    )
                    .with_help("every entry point needs its own NodePort"),
            );
        }
        let Some(listen) = ep.listen else { continue };
        if let Some((other, other_entry)) = c.listen_ports.insert(listen, (r, entry)) {
            c.problems.push(r.toml.error_at(
                &format!("entrypoints.{entry}.listen"),
                format!(
                    "Port {listen} of `{}.{}` is already proxied for `{}.{}`",
                    shown(&rel.name),
                    shown(entry),
                    shown(other.name()),
                    shown(other_entry)
                ),
            ));
        }
    }
}

fn secrets<'a>(c: &mut Check<'a>, r: &'a LoadedRelease) {
    let mut secret_names = BTreeMap::new();
    for (i, secret) in r.release().secrets.iter().enumerate() {
        let at = format!("secrets[{i}]");
        let name = shown(&secret.name);
        if let Err(e) = names::check_dns_subdomain(&secret.name) {
            c.problems.push(
                r.toml
                    .error_at(&format!("{at}.name"), format!("Secret name `{name}` {e}")),
            );
        }
        if secret_names.insert(secret.name.as_str(), i).is_some() {
            c.problems.push(r.toml.error_at(
                &format!("{at}.name"),
                format!("Secret `{name}` is declared twice"),
            ));
        }
        if secret.data.is_empty() {
            c.problems.push(
                r.toml
                    .error_at(&at, format!("Secret `{name}` has no data"))
                    .with_help("add `data = { KEY = \"path.in.secrets.file\" }`"),
            );
        }
        for (key, path) in &secret.data {
            if let Err(e) = names::check_config_key(key) {
                c.problems.push(r.toml.error_at(
                    &format!("{at}.data.{key}"),
                    format!("Secret key `{}` {e}", shown(key)),
                ));
            }
            if path.is_empty() || path.split('.').any(str::is_empty) {
                c.problems.push(
                    r.toml
                        .error_at(
                            &format!("{at}.data.{key}"),
                            format!(
                                "`{}` is not a dotted path into the secrets file",
                                shown(path)
                            ),
                        )
                        .with_help("write it as `app.key`, e.g. \"vaultwarden.admin_token\""),
                );
            }
        }
    }
}
