//! The real [`SecretSource`]: SOPS files decrypted by `homelab-secrets` with the keys sops
//! would find (`SOPS_AGE_KEY_FILE`, `SOPS_AGE_KEY`, `~/.config/sops/age/keys.txt`, …).
//! Each file is decrypted once per run and kept in memory only.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use homelab_secrets::{ExposeSecret, SecretTree};

use super::secrets::{SecretSource, SecretValue};

#[derive(Default)]
pub(crate) struct SopsSecrets {
    trees: Mutex<HashMap<PathBuf, Arc<SecretTree>>>,
}

impl SopsSecrets {
    pub(crate) fn new() -> Self {
        SopsSecrets::default()
    }

    fn tree(&self, file: &Path) -> Result<Arc<SecretTree>, String> {
        let mut trees = self
            .trees
            .lock()
            .map_err(|_| "the secrets cache is unusable after a panic".to_string())?;
        if let Some(tree) = trees.get(file) {
            return Ok(tree.clone());
        }
        let tree = Arc::new(homelab_secrets::decrypt_file(file).map_err(|e| e.to_string())?);
        trees.insert(file.to_path_buf(), tree.clone());
        Ok(tree)
    }
}

impl SecretSource for SopsSecrets {
    fn get(&self, file: &Path, path: &str) -> Result<SecretValue, String> {
        let tree = self.tree(file)?;
        let value = tree
            .get(path)
            .ok_or_else(|| format!("`{path}` is not a single value in the secrets file"))?;
        Ok(SecretValue::new(value.expose_secret()))
    }
}
