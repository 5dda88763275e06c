//! What rendering takes: the lab ([`LabInput`]), its releases, and how to treat
//! secrets and run the tools ([`RenderOptions`]).

use std::path::Path;

use super::{ChartCache, Helm, SecretSource};
use crate::environment::model::EnvironmentsFile;
use crate::inventory::model::Inventory;
use crate::release::model::Release;

/// The lab as rendering needs it; [`LabInput::from_lab`] builds it from a loaded lab.
pub(crate) struct LabInput<'a> {
    pub root: &'a Path,
    pub inventory: &'a Inventory,
    pub environments: &'a EnvironmentsFile,
    /// Every release, in dependency order.
    pub releases: Vec<ReleaseInput<'a>>,
}

impl<'a> LabInput<'a> {
    /// The view of a loaded, validated lab.
    pub(crate) fn from_lab(lab: &'a crate::Lab) -> Self {
        LabInput {
            root: &lab.root,
            inventory: lab.inventory(),
            environments: &lab.environments.value,
            releases: lab
                .releases
                .iter()
                .map(|r| ReleaseInput {
                    dir: &r.dir,
                    release: r.release(),
                })
                .collect(),
        }
    }
}

/// One release and its folder (absolute or relative to the working directory).
pub struct ReleaseInput<'a> {
    pub dir: &'a Path,
    pub release: &'a Release,
}

/// How secrets are treated.
#[derive(Clone, Copy)]
pub enum SecretMode<'a> {
    /// Every value `<redacted>`; nothing is decrypted, no key needed.
    Redacted,
    /// Values `<redacted>`; plaintexts are read only to scrub them from all objects.
    Scrubbed(&'a dyn SecretSource),
    /// Real data in the Secret objects, for apply. Never print such a set.
    Real(&'a dyn SecretSource),
}

/// What to render and with which tools.
pub struct RenderOptions<'a> {
    pub secrets: SecretMode<'a>,
    /// Release names to render; empty renders every release of the environment.
    pub selector: Vec<String>,
    pub helm: Helm,
    pub cache: ChartCache,
    /// Upper bound on releases rendered at once; `None` uses the CPU count.
    pub jobs: Option<usize>,
}

impl<'a> RenderOptions<'a> {
    /// Redacted secrets, every release, helm and the cache from the environment.
    pub fn from_env() -> Result<Self, crate::charts::cache::CacheError> {
        Ok(RenderOptions {
            secrets: SecretMode::Redacted,
            selector: Vec::new(),
            helm: Helm::from_env(),
            cache: ChartCache::from_env()?,
            jobs: None,
        })
    }
}
