//! Cryptography: the per-value cipher and Shamir splitting of the data key.

pub mod cipher;
pub mod shamir;
