//! Chart digests: `sha256:<hex>` in releases.lock, bare hex in repository indexes.

use sha2::{Digest, Sha256};

/// The `sha256:<hex>` digest of `bytes`.
pub(crate) fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// The hex part of a digest written either way, lowercased; `None` if it is not a
/// sha256 digest.
pub(crate) fn hex_part(digest: &str) -> Option<String> {
    let hex = digest
        .strip_prefix("sha256:")
        .unwrap_or(digest)
        .to_ascii_lowercase();
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(hex)
}
