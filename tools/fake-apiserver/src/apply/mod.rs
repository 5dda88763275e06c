//! Server-side apply and field ownership (`managedFields`), following the
//! structured-merge-diff model of the real apiserver, kept practical: see
//! [`ssa`] for what is and is not modelled.

pub mod builtin;
pub mod fieldset;
pub mod last_applied;
pub mod managed_fields;
pub mod schema;
pub mod sent_fields;
pub mod ssa;
#[cfg(test)]
mod ssa_props;
pub mod walk;

pub use schema::Schema;
pub use ssa::{conflict_message, Apply, Conflict};
