//! Charts in OCI registries, as Helm 3.8+ pushes them: `oci://HOST/PATH` in release.toml
//! plus the chart name is the repository `PATH/NAME` on `HOST`, each version a tag
//! (`+` written `_`), and the tag's manifest names one layer of type
//! `application/vnd.cncf.helm.chart.content.v1.tar+gzip`: the chart archive.
//!
//! The lock pins the manifest by digest (`oci://HOST/PATH/NAME@sha256:…`) and the
//! archive by its layer digest, so a tag moved upstream cannot change what renders.
//!
//! Registries on loopback (`localhost`, `127.0.0.0/8`, `[::1]`) are spoken to over
//! plain HTTP, as Docker treats them; every other registry over HTTPS.
//!
//! One concern a file: [`reference`] (where a chart lives), [`manifest`] (what a
//! chart's manifest says), [`registry`] (talking to a registry) and [`auth`]
//! (logins and challenges).

pub mod auth;
pub(crate) mod manifest;
pub(crate) mod reference;
pub(crate) mod registry;

pub use manifest::parse_manifest;
pub(crate) use reference::tag_of;
pub use reference::OciRef;
pub(crate) use registry::Registry;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OciError {
    #[error("`{reference}` is not an OCI chart reference: {reason}")]
    Reference { reference: String, reason: String },
    #[error("Failed to reach {url}: {message}")]
    Transport { url: String, message: String },
    #[error("{url} answered {status}: {message}")]
    Status {
        url: String,
        status: u16,
        message: String,
    },
    #[error("{registry} refused access to {repository} ({status}){}",
        if *.has_credentials { "; the stored credentials were not accepted".to_string() }
        else { format!("; log in first: `helm registry login {registry}` (homelab reads Helm's and Docker's registry logins)") })]
    Unauthorized {
        registry: String,
        repository: String,
        status: u16,
        has_credentials: bool,
    },
    #[error(
        "Chart `{repository}` has no version {version} in {registry}; newest versions: {available}"
    )]
    NoVersion {
        registry: String,
        repository: String,
        version: String,
        available: String,
    },
    #[error("{url} is not a Helm chart manifest: {reason}")]
    NotAChart { url: String, reason: String },
}
