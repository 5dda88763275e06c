//! The lab written for another tool, so it is never a dead end: [`helmfile`] writes a
//! Helmfile project that real Helmfile can sync.

pub(crate) mod helmfile;
