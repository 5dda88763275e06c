//! The lab's hosts and shared numbers, read from `hosts/inventory.nix` (or JSON).

mod load;
pub(crate) mod model;
mod positions;
mod restricted;
mod validate;

pub(crate) use load::LoadedInventory;
pub use load::{load, InventorySource};
pub use model::*;
pub use validate::validate;
