//! One error type for the crate: every message says what failed and, where it
//! can, where (file, value path) and how to fix it. Causes go in `source`.

use std::path::PathBuf;

/// Everything that can go wrong while reading, writing or (de)crypting a SOPS file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("Failed to {action} {}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The document is not valid YAML or JSON.
    #[error("Invalid {format} at line {line}, column {column}: {message}")]
    Syntax {
        format: &'static str,
        line: usize,
        column: usize,
        message: String,
    },
    /// The document parsed but has a shape SOPS cannot hold.
    #[error("Unsupported document: {0}")]
    Unsupported(String),
    /// The file has no top-level `sops` metadata block.
    #[error("Not a SOPS file: there is no top-level `sops` metadata block (encrypt it first with `homelab secrets encrypt`)")]
    NotSops,
    /// The `sops` block is present but wrong.
    #[error("Invalid `sops` metadata: {0}")]
    Metadata(String),
    /// A value of the form `ENC[...]` could not be parsed.
    #[error("Value at `{path}` is not a valid SOPS ciphertext: {reason}")]
    BadCiphertext { path: String, reason: String },
    /// AES-GCM authentication failed for one value.
    #[error("Value at `{path}` failed to decrypt: authentication failed (the value, its iv or tag was altered, or it belongs to another file)")]
    ValueAuth { path: String },
    /// The decrypted bytes do not match the declared type.
    #[error("Value at `{path}` decrypted to something that is not a valid `{datatype}`")]
    BadPlaintext { path: String, datatype: String },
    /// The stored MAC could not be decrypted.
    #[error("Cannot decrypt the MAC: the `mac` or `lastmodified` field was altered")]
    MacUndecryptable,
    /// The recomputed MAC differs from the stored one.
    #[error("MAC mismatch: the file was modified after it was encrypted (a value, key or the order of values changed)")]
    MacMismatch,
    /// No identity could unwrap the data key.
    #[error("{0}")]
    NoKey(Box<crate::keys::NoKeyReport>),
    /// A value is in plaintext where the rules require encryption.
    #[error("Value at `{value_path}` is not encrypted, but {by}")]
    Plaintext {
        value_path: String,
        /// Who requires encryption, with the verb: "the file's rules require it".
        by: String,
    },
    /// Bad `.sops.yaml` or bad request.
    #[error("{0}")]
    Config(String),
    /// age failed to encrypt or parse a key.
    #[error("{0}")]
    Age(String),
    /// `--extract` path not found or malformed.
    #[error("{0}")]
    Extract(String),
}

/// Shorthand used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
