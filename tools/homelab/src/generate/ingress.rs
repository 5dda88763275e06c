//! Which ports the ingress host forwards, and where to: every entry point that declares
//! a `listen` port, mapped to its NodePort. The release's `release.toml` is the only
//! place these numbers are written; the chart values read the same entry points.

use std::collections::BTreeMap;

use crate::inventory::{Inventory, Role};

use super::{GenerateError, Origin, ReleaseInput};

/// One forwarded port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EntryPointRef {
    pub listen: u16,
    pub node_port: u16,
    pub origin: Origin,
}

/// The ingress host and the ports its proxy forwards, ordered by listen port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IngressRoutes {
    pub host: String,
    pub routes: Vec<EntryPointRef>,
}

impl IngressRoutes {
    /// `None` when the lab has neither an ingress host nor a `listen` entry point.
    pub(crate) fn find(
        inventory: &Inventory,
        releases: &[ReleaseInput<'_>],
    ) -> Result<Option<IngressRoutes>, GenerateError> {
        let routes = listen_routes(releases)?;
        let host = inventory
            .hosts
            .iter()
            .find(|(_, h)| h.has_role(Role::Ingress))
            .map(|(name, _)| name.clone());
        match (host, routes.first()) {
            (None, None) => Ok(None),
            (None, Some(first)) => Err(GenerateError::NoIngressHost {
                first: Box::new(first.origin.clone()),
            }),
            (Some(host), None) => Err(GenerateError::MissingIngressRelease { host }),
            (Some(host), Some(_)) => Ok(Some(IngressRoutes { host, routes })),
        }
    }
}

/// Entry points with a `listen` port, checking that no NodePort (among all entry
/// points) and no listen port is declared twice.
fn listen_routes(releases: &[ReleaseInput<'_>]) -> Result<Vec<EntryPointRef>, GenerateError> {
    let mut by_node_port: BTreeMap<u16, Origin> = BTreeMap::new();
    let mut by_listen: BTreeMap<u16, EntryPointRef> = BTreeMap::new();
    for input in releases {
        for (name, entrypoint) in &input.release.entrypoints {
            let origin = Origin {
                release: input.release.name.clone(),
                entrypoint: name.clone(),
                file: input.file.to_path_buf(),
            };
            if let Some(first) = by_node_port.get(&entrypoint.node_port) {
                return Err(GenerateError::NodePortCollision {
                    node_port: entrypoint.node_port,
                    first: Box::new(first.clone()),
                    second: Box::new(origin),
                });
            }
            by_node_port.insert(entrypoint.node_port, origin.clone());
            let Some(listen) = entrypoint.listen else {
                continue;
            };
            if let Some(first) = by_listen.get(&listen) {
                return Err(GenerateError::ListenCollision {
                    port: listen,
                    first: Box::new(first.origin.clone()),
                    second: Box::new(origin),
                });
            }
            by_listen.insert(
                listen,
                EntryPointRef {
                    listen,
                    node_port: entrypoint.node_port,
                    origin,
                },
            );
        }
    }
    Ok(by_listen.into_values().collect())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::release::Release;

    fn release(text: &str) -> Release {
        toml::from_str(text).expect("release")
    }

    #[test]
    fn only_listen_entry_points_in_listen_order() {
        let a = release(
            "name = \"a\"\nnamespace = \"a\"\n[entrypoints.tls]\nnode_port = 30443\nlisten = 443\n\
             [entrypoints.metrics]\nnode_port = 30900\n",
        );
        let b = release(
            "name = \"b\"\nnamespace = \"b\"\n[entrypoints.web]\nnode_port = 30080\nlisten = 80\n",
        );
        let file = Path::new("releases/x/release.toml");
        let inputs = [
            ReleaseInput { release: &a, file },
            ReleaseInput { release: &b, file },
        ];
        let routes = listen_routes(&inputs).expect("routes");
        let ports: Vec<(u16, u16)> = routes.iter().map(|r| (r.listen, r.node_port)).collect();
        assert_eq!(ports, [(80, 30080), (443, 30443)]);
    }

    #[test]
    fn a_node_port_without_listen_still_collides() {
        let a = release(
            "name = \"a\"\nnamespace = \"a\"\n[entrypoints.web]\nnode_port = 30080\nlisten = 80\n",
        );
        let b = release("name = \"b\"\nnamespace = \"b\"\n[entrypoints.ssh]\nnode_port = 30080\n");
        let file = Path::new("releases/x/release.toml");
        let inputs = [
            ReleaseInput { release: &a, file },
            ReleaseInput { release: &b, file },
        ];
        assert!(matches!(
            listen_routes(&inputs),
            Err(GenerateError::NodePortCollision {
                node_port: 30080,
                ..
            })
        ));
    }
}
