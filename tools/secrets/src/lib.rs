//! SOPS-compatible age encryption of YAML and JSON files.
//!
//! Files written here are byte-for-byte what `sops` 3.11 writes (same
//! layout, metadata order, MAC and AAD), so `sops`, helm-secrets and
//! sops-nix read them, and files written by `sops` decrypt here.
//!
//! For render/apply: [`decrypt_file`] returns a [`SecretTree`] whose values
//! are zeroised on drop and redacted in `Debug`; look values up with
//! [`SecretTree::get`] (`"vaultwarden.admin_token"`).
#![forbid(unsafe_code)]

pub mod atomic;
pub mod check;
pub mod config;
mod crypto;
pub mod document;
pub mod edit;
mod error;
pub mod format;
pub mod keys;
pub mod metadata;
pub mod ops;
pub mod rules;
mod secret_tree;
pub mod set;
pub mod tree;
mod tree_path;

pub use config::CreationRule;
pub use edit::{edit, EditOutcome, OnInvalid};
pub use error::{Error, Result};
pub use format::Format;
pub use keys::KeySources;
pub use ops::{
    decrypt, decrypt_file, decrypt_file_with, encrypt, encrypt_text, keygen, rotate, updatekeys,
    DecryptRequest, EncryptRequest, KeyUpdate, RuleSource,
};
pub use secrecy::{ExposeSecret, SecretString};
pub use secret_tree::SecretTree;
