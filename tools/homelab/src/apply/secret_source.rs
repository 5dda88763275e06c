//! Real Secret data for apply and diff: the environment's SOPS file decrypted in
//! memory with `homelab-secrets` (once per file per run), values looked up by dotted
//! path. Plaintexts live only in memory and are zeroised with the tree.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use homelab_secrets::{ExposeSecret as _, KeySources, SecretTree};

use crate::render::{SecretSource, SecretValue};

/// A [`SecretSource`] over SOPS files and the usual age key locations.
pub struct SopsSecrets {
    keys: KeySources,
    files: Mutex<HashMap<PathBuf, Result<SecretTree, String>>>,
}

impl SopsSecrets {
    /// Keys from `SOPS_AGE_KEY`, `SOPS_AGE_KEY_FILE`, `SOPS_AGE_KEY_CMD` and the default
    /// key file, as sops finds them.
    pub fn from_env() -> Self {
        SopsSecrets::with_keys(KeySources::from_env())
    }

    pub fn with_keys(keys: KeySources) -> Self {
        SopsSecrets {
            keys,
            files: Mutex::new(HashMap::new()),
        }
    }
}

impl SecretSource for SopsSecrets {
    fn get(&self, file: &Path, path: &str) -> Result<SecretValue, String> {
        let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        let tree = files.entry(file.to_path_buf()).or_insert_with(|| {
            homelab_secrets::decrypt_file_with(file, &self.keys)
                .map_err(|e| format!("Failed to decrypt {}: {e}", file.display()))
        });
        match tree {
            Ok(tree) => tree
                .get(path)
                .map(|s| SecretValue::new(s.expose_secret()))
                .ok_or_else(|| {
                    format!(
                        "`{path}` is not a single value in {} (decrypted)",
                        file.display()
                    )
                }),
            Err(message) => Err(message.clone()),
        }
    }
}
