//! The non-apply PATCH flavours: JSON merge patch (RFC 7386), JSON patch
//! (RFC 6902) and a strategic merge patch for the simple cases.

mod json_patch;
mod merge_patch;
mod strategic;

pub use json_patch::json_patch;
pub use merge_patch::merge_patch;
pub use strategic::strategic_merge_patch;

/// Why a patch could not be applied (a 422 or 400 for the client).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    #[error("The request body is not a valid patch: {0}")]
    Malformed(String),
    #[error("The JSON patch operation {index} ({op}) failed: {reason}")]
    Operation {
        index: usize,
        op: String,
        reason: String,
    },
}
