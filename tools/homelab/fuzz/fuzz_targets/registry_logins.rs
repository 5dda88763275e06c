#![no_main]
//! The registry login files `helm registry login` and `docker login` leave: whatever
//! they hold, reading them never panics, and the credentials' `Debug` shows hosts only.

use std::path::PathBuf;
use std::sync::OnceLock;

use homelab::charts::oci::auth::Credentials;
use libfuzzer_sys::fuzz_target;

/// Helm's and Docker's config files in a folder of this process's own, found through
/// the variables `Credentials::from_env` reads (set once, before any thread starts).
fn files() -> &'static [PathBuf; 2] {
    static FILES: OnceLock<[PathBuf; 2]> = OnceLock::new();
    FILES.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("registry-logins-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("docker")).expect("create the fuzz folder");
        let helm = dir.join("helm-registry.json");
        std::env::set_var("HELM_REGISTRY_CONFIG", &helm);
        std::env::set_var("DOCKER_CONFIG", dir.join("docker"));
        std::env::set_var("HOME", &dir);
        [helm, dir.join("docker/config.json")]
    })
}

fuzz_target!(|data: &[u8]| {
    // Helm's file gets the input; Docker's the input split in two at its middle, so
    // both readers and the precedence between them see arbitrary content.
    let [helm, docker] = files();
    std::fs::write(helm, data).expect("write the Helm login file");
    std::fs::write(docker, &data[data.len() / 2..]).expect("write the Docker login file");
    let credentials = Credentials::from_env();
    for registry in ["ghcr.io", "registry-1.docker.io", "localhost:5000", "oci://x/y"] {
        let _ = credentials.basic(registry);
    }
    let shown = format!("{credentials:?}");
    assert!(shown.starts_with('{') && shown.ends_with('}'), "{shown}");
});
