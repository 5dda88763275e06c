//! `homelab deploy`: converging the lab's layers. Hosts are rebuilt first
//! ([`hosts`] plans the order, [`hosts_run`] runs `nixos-rebuild` over SSH).

pub mod hosts;
pub mod hosts_run;
