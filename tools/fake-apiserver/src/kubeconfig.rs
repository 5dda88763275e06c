//! Kubeconfig files pointing at the server (plain HTTP, no credentials).

use std::io::Write;
use std::path::Path;

/// A kubeconfig with one cluster, user and context named `context`, whose
/// default namespace is `namespace`.
pub fn yaml(server_url: &str, context: &str, namespace: &str) -> String {
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: {context}
  cluster:
    server: {server_url}
contexts:
- name: {context}
  context:
    cluster: {context}
    user: {context}
    namespace: {namespace}
current-context: {context}
users:
- name: {context}
  user: {{}}
preferences: {{}}
"
    )
}

/// Writes `contents` to `path` through a temporary file in the same
/// directory and a rename, so readers never see a partial file.
pub fn write_atomically(path: &Path, contents: &str) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "kubeconfig".into());
    let tmp = dir.join(format!(".{file_name}.tmp{}", std::process::id()));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeconfig_is_valid_yaml() {
        let y = yaml("http://127.0.0.1:1", "fake", "default");
        let v: serde_json::Value = serde_norway::from_str(&y).unwrap();
        assert_eq!(v["clusters"][0]["cluster"]["server"], "http://127.0.0.1:1");
        assert_eq!(v["current-context"], "fake");
    }
}
