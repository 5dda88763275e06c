//! `homelab deploy`: converging the lab's layers, hosts first, then the cluster.
//!
//! - [`hosts`] plans the host order (control plane first), [`hosts_run`] runs
//!   `nixos-rebuild` over SSH;
//! - [`closures`] finds which hosts' systems would change, and [`plan`] puts that beside
//!   the cluster's dry-run diff for `--plan` (the CLI asks before going on).
//!
//! The cluster layer itself is the apply engine ([`crate::apply`]), run exactly as
//! `homelab apply` runs it.

pub(crate) mod closures;
pub(crate) mod hosts;
pub(crate) mod hosts_run;
pub(crate) mod plan;
