//! The lab's hosts and shared numbers, read from `hosts/inventory.nix` (or JSON).

mod load;
pub mod model;
mod positions;
mod restricted;
mod validate;

pub use load::{load, InventoryOrigin, InventorySource, LoadedInventory, NIX_INSTANTIATE_ENV};
pub use model::*;
pub use positions::Positions;
pub use validate::validate;
