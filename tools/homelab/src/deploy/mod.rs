//! `homelab deploy`: converging the lab's layers, hosts first, then the cluster.
//!
//! - [`hosts`] plans the host order (control plane first, alone), [`hosts_run`] runs
//!   the stages ([`describe`] prints them for `--dry-run`, [`report`] sums them up),
//!   [`host_steps`] deploys one host with magic rollback ([`activate`] holds
//!   its commands, [`remote`] runs them), gated by [`health`]; [`nodes`] and [`drain`]
//!   talk to the cluster for the node checks, cordons and drains;
//! - [`closures`] finds which hosts' systems would change, and [`plan`] puts that beside
//!   the cluster's dry-run diff for `--plan` (the CLI asks before going on);
//! - [`probe`] reads one host's state in one SSH round trip (for `status`), and
//!   [`power`] wakes hosts and shuts them down.
//!
//! The cluster layer itself is the apply engine ([`crate::apply`]), run exactly as
//! `homelab apply` runs it.

pub(crate) mod activate;
pub(crate) mod closures;
pub(crate) mod describe;
pub(crate) mod drain;
pub(crate) mod health;
pub(crate) mod host_steps;
pub(crate) mod hosts;
pub(crate) mod hosts_run;
pub(crate) mod nodes;
pub(crate) mod plan;
pub(crate) mod power;
pub(crate) mod probe;
pub(crate) mod remote;
pub(crate) mod report;
