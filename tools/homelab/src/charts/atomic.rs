//! Writes that never leave a partial file. The workspace has one atomic writer,
//! `homelab_secrets::atomic`; the chart cache, `releases.lock`, `release.toml`
//! rewrites, `render --out` and exports reach it through this path.

pub(crate) use homelab_secrets::atomic::write;
