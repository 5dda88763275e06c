//! `homelab charts` against a real OCI registry on loopback (Debian's
//! `docker-registry`), charts pushed by the Helm engine: lock pins the manifest by
//! digest, pull verifies manifest and archive, a tag moved upstream changes nothing
//! until the next lock, update reads the tag list, and logins come from Helm's
//! registry config.

use std::path::Path;

use crate::charts::render_remote;
use crate::render::run;
use crate::support::{chart_lab, copy_tree, fixtures, OciRegistry, TestLab};

/// The fixture lab plus release `remote`: webapp 1.2.3 from `oci://HOST/charts`.
fn lab_with_registry(registry: &OciRegistry) -> TestLab {
    let lab = chart_lab();
    registry.push(&lab, &fixtures().join("charts/webapp"), "charts");
    write_release(&lab, &registry.url("charts"), "1.2.3");
    lab
}

fn write_release(lab: &TestLab, repository: &str, version: &str) {
    lab.write(
        "releases/remote/release.toml",
        &format!(
            "name = \"remote\"\nnamespace = \"remote\"\nvalues = [\"values.yaml\"]\n\n[chart]\nrepository = \"{repository}\"\nname = \"webapp\"\nversion = \"{version}\"\n"
        ),
    );
    lab.write(
        "releases/remote/values.yaml",
        "host: remote.example.org\nsidecar:\n  enabled: false\n",
    );
}

/// webapp with `version` and a description that tells the builds apart.
fn webapp(lab: &TestLab, version: &str, description: &str) -> std::path::PathBuf {
    let dir = lab
        .path()
        .join(format!("src-{version}-{}", description.len()));
    copy_tree(&fixtures().join("charts/webapp"), &dir.join("webapp"));
    let chart_yaml = dir.join("webapp/Chart.yaml");
    let text = std::fs::read_to_string(&chart_yaml).unwrap();
    let text = text.replace("version: 1.2.3", &format!("version: {version}"));
    let text = text
        .lines()
        .map(|l| match l.starts_with("description:") {
            true => format!("description: {description}"),
            false => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&chart_yaml, text + "\n").unwrap();
    dir.join("webapp")
}

fn sha256_of(path: &Path) -> String {
    use sha2::Digest as _;
    let hash = sha2::Sha256::digest(std::fs::read(path).unwrap());
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

fn lock_entry(lab: &TestLab, key: &str) -> String {
    let lock = lab.read("releases/releases.lock");
    let line = lock
        .lines()
        .find(|l| l.starts_with(&format!("{key} = ")))
        .unwrap_or_else(|| panic!("no `{key}` in releases.lock:\n{lock}"));
    line.split('"').nth(1).unwrap().to_string()
}

#[test]
fn lock_pull_then_render_from_a_registry() {
    let registry = OciRegistry::start();
    let lab = lab_with_registry(&registry);
    run(&lab, &["check"]).expect_code(0);

    let locked = run(&lab, &["charts", "lock"]);
    locked.expect_code(0);
    let archive = lab.path().join("dist/0/webapp-1.2.3.tgz");
    let digest = format!("sha256:{}", sha256_of(&archive));
    assert_eq!(lock_entry(&lab, "digest"), digest, "{locked}");
    let url = lock_entry(&lab, "url");
    let prefix = format!("oci://{}/charts/webapp@sha256:", registry.host);
    assert!(url.starts_with(&prefix), "{url}");
    assert_eq!(url.len(), prefix.len() + 64, "{url}");
    assert_eq!(
        locked.stdout,
        format!("locked remote webapp 1.2.3 {digest}\n")
    );

    run(&lab, &["charts", "pull"]).expect_code(0);
    let cached = lab
        .path()
        .join(".cache/charts/sha256")
        .join(format!("{}.tgz", sha256_of(&archive)));
    assert!(cached.is_file(), "the archive is cached under its digest");
    assert!(run(&lab, &["charts", "pull"])
        .stdout
        .starts_with("cached remote"));

    // Rendering reads only the cache: with the registry gone it still works.
    drop(registry);
    render_remote(&lab);
}

#[test]
fn a_moved_tag_changes_nothing_until_the_next_lock() {
    let registry = OciRegistry::start();
    let lab = lab_with_registry(&registry);
    run(&lab, &["charts", "lock"]).expect_code(0);
    let first = lock_entry(&lab, "digest");

    // Someone pushes different bytes under the same version.
    let moved = webapp(&lab, "1.2.3", "A rebuilt chart under an old tag.");
    registry.push(&lab, &moved, "charts");

    // The pinned manifest is fetched by digest: the original archive comes back.
    run(&lab, &["charts", "pull"]).expect_code(0);
    let cache = lab.path().join(".cache/charts/sha256");
    assert!(cache.join(format!("{}.tgz", &first[7..])).is_file());

    let relocked = run(&lab, &["charts", "lock"]);
    relocked.expect_code(0);
    assert_ne!(lock_entry(&lab, "digest"), first, "{relocked}");
    run(&lab, &["charts", "pull"]).expect_code(0);
    assert_eq!(
        std::fs::read_dir(&cache).unwrap().count(),
        2,
        "both archives are cached under their own digests"
    );
}

#[test]
fn a_lock_that_names_another_archive_is_refused() {
    let registry = OciRegistry::start();
    let lab = lab_with_registry(&registry);
    run(&lab, &["charts", "lock"]).expect_code(0);
    let digest = lock_entry(&lab, "digest");
    let forged = format!("sha256:{}", "0".repeat(64));
    lab.replace("releases/releases.lock", &digest, &forged);
    let pulled = run(&lab, &["charts", "pull"]);
    pulled.expect_code(1);
    assert!(
        pulled.stderr.contains(&format!(
            "its sha256 is {digest}, but releases.lock says {forged}"
        )),
        "{pulled}"
    );
    assert!(
        !lab.path().join(".cache/charts").exists() || {
            let dir = lab.path().join(".cache/charts/sha256");
            std::fs::read_dir(dir).map_or(true, |d| d.count() == 0)
        }
    );
}

#[test]
fn missing_versions_and_repositories_are_named() {
    let registry = OciRegistry::start();
    let lab = lab_with_registry(&registry);
    write_release(&lab, &registry.url("charts"), "9.9.9");
    let missing = run(&lab, &["charts", "lock"]);
    missing.expect_code(1);
    assert!(
        missing.stderr.contains(&format!(
            "Chart `charts/webapp` has no version 9.9.9 in {}; newest versions: 1.2.3",
            registry.host
        )),
        "{missing}"
    );

    write_release(&lab, &registry.url("elsewhere"), "1.2.3");
    let nowhere = run(&lab, &["charts", "lock"]);
    nowhere.expect_code(1);
    assert!(
        nowhere.stderr.contains("has no version 1.2.3") && nowhere.stderr.contains("none"),
        "{nowhere}"
    );
}

#[test]
fn update_reads_the_tag_list() {
    let registry = OciRegistry::start();
    let lab = lab_with_registry(&registry);
    run(&lab, &["charts", "lock"]).expect_code(0);
    for version in ["1.3.0", "2.0.0-rc.1"] {
        let chart = webapp(&lab, version, "Newer.");
        registry.push(&lab, &chart, "charts");
    }
    let updated = run(&lab, &["charts", "update", "remote"]);
    updated.expect_code(0);
    assert_eq!(
        updated.stdout, "remote: webapp 1.2.3 -> 1.3.0; run `homelab charts pull`\n",
        "the newest stable version, not the release candidate"
    );
    assert_eq!(lock_entry(&lab, "version"), "1.3.0");
    run(&lab, &["charts", "pull"]).expect_code(0);
    render_remote(&lab);
}

#[test]
fn logins_come_from_helms_registry_config() {
    let registry = OciRegistry::start_with_login("ayumi", "s3cret-pa55");
    let lab = lab_with_registry(&registry);

    let anonymous = run(&lab, &["charts", "lock"]);
    anonymous.expect_code(1);
    assert!(
        anonymous.stderr.contains(&format!(
            "{} refused access to charts/webapp (401); log in first: `helm registry login {}`",
            registry.host, registry.host
        )),
        "{anonymous}"
    );

    // What `helm registry login` writes.
    use base64::Engine as _;
    let auth = base64::engine::general_purpose::STANDARD.encode("ayumi:s3cret-pa55");
    let config = lab.path().join("helm-registry.json");
    std::fs::write(
        &config,
        format!(
            r#"{{"auths": {{"{}": {{"auth": "{auth}"}}}}}}"#,
            registry.host
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let with_login = |args: &[&str]| {
        let cache = lab.path().join(".cache");
        lab.run_with(
            args,
            &[
                ("HELM_REGISTRY_CONFIG", config),
                ("HOMELAB_CACHE_DIR", cache.to_str().unwrap()),
            ],
        )
    };
    with_login(&["charts", "lock"]).expect_code(0);
    let pulled = with_login(&["charts", "pull"]);
    pulled.expect_code(0);
    for stream in [&pulled.stdout, &pulled.stderr, &anonymous.stderr] {
        assert!(
            !stream.contains("s3cret-pa55") && !stream.contains(&auth),
            "{pulled}"
        );
    }

    std::fs::write(
        config,
        format!(
            r#"{{"auths": {{"{}": {{"username": "ayumi", "password": "wrong"}}}}}}"#,
            registry.host
        ),
    )
    .unwrap();
    let refused = with_login(&["charts", "lock"]);
    refused.expect_code(1);
    assert!(
        refused
            .stderr
            .contains("the stored credentials were not accepted"),
        "{refused}"
    );
}

#[test]
fn bearer_tokens_from_the_registrys_token_service() {
    let registry = OciRegistry::start_with_token_service("ayumi", "t0ken-pa55");
    let lab = chart_lab();
    for path in ["public/charts", "private/charts"] {
        registry.push(&lab, &fixtures().join("charts/webapp"), path);
    }

    // Public charts pull with an anonymous token, as from ghcr.io or Docker Hub.
    write_release(&lab, &registry.url("public/charts"), "1.2.3");
    registry.forget_token_requests();
    run(&lab, &["charts", "lock"]).expect_code(0);
    run(&lab, &["charts", "pull"]).expect_code(0);
    assert_eq!(
        registry.token_requests(),
        [
            "anonymous repository:public/charts/webapp:pull",
            "anonymous repository:public/charts/webapp:pull",
        ],
        "one token per run: pull reuses it for the manifest and the archive"
    );
    render_remote(&lab);

    // Private ones need the login, which is traded for a token.
    write_release(&lab, &registry.url("private/charts"), "1.2.3");
    let anonymous = run(&lab, &["charts", "lock"]);
    anonymous.expect_code(1);
    assert!(
        anonymous
            .stderr
            .contains("refused access to private/charts/webapp (401); log in first"),
        "{anonymous}"
    );
    let config = lab.path().join("docker-config");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("config.json"),
        format!(
            r#"{{"auths": {{"http://{}": {{"username": "ayumi", "password": "t0ken-pa55"}}}}}}"#,
            registry.host
        ),
    )
    .unwrap();
    registry.forget_token_requests();
    let locked = lab.run_with(
        &["charts", "lock"],
        &[
            ("DOCKER_CONFIG", config.to_str().unwrap()),
            ("HOME", "/nonexistent"),
        ],
    );
    locked.expect_code(0);
    assert_eq!(
        registry.token_requests(),
        ["ayumi repository:private/charts/webapp:pull"]
    );
    assert!(!locked.stdout.contains("t0ken-pa55") && !locked.stderr.contains("t0ken-pa55"));
}

#[test]
fn export_names_the_registry_as_helmfile_does() {
    let registry = OciRegistry::start();
    let lab = lab_with_registry(&registry);
    run(&lab, &["charts", "lock"]).expect_code(0);
    run(&lab, &["charts", "pull"]).expect_code(0);
    let out = lab.path().join("export");
    let exported = run(
        &lab,
        &[
            "export",
            "helmfile",
            "-e",
            "dev",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    exported.expect_code(0);
    let helmfile = std::fs::read_to_string(out.join("helmfile.yaml")).unwrap();
    assert!(
        helmfile.contains(&format!("url: \"{}/charts\"\n  oci: true\n", registry.host)),
        "{helmfile}"
    );
}
