//! Which ports the ingress host forwards, and where to: every entry point that declares
//! a `listen` port, mapped to its NodePort. The release's `release.toml` is the only
//! place these numbers are written; the chart values read the same entry points.

use std::collections::BTreeMap;

use crate::inventory::{Inventory, Role};

use super::{GenerateError, Origin, ReleaseInput};

/// One forwarded port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryPointRef {
    pub listen: u16,
    pub node_port: u16,
    pub origin: Origin,
}

/// The ingress host and the ports its proxy forwards, ordered by listen port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngressRoutes {
    pub host: String,
    pub routes: Vec<EntryPointRef>,
}

impl IngressRoutes {
    /// `None` when the lab has neither an ingress host nor a `listen` entry point.
    pub fn find(
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
