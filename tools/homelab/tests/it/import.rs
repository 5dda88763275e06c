//! `homelab import helmfile`: a Helmfile tree written here with every feature the import
//! reads (parts, bases, nested helmfiles as strings, globs and `path:` entries, environments
//! with values, `.gotmpl` and helm-secrets, HTTP and OCI repositories, a local chart,
//! set/setString, needs, labels, installed, condition), imported, then checked and
//! rendered. helm-secrets files are SOPS files made here with a throwaway key.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::render::run as render_run;
use crate::support::{fixtures, repo_root, Run, TestLab};

/// A Helmfile tree in a temporary folder.
struct Helmfile {
    dir: tempfile::TempDir,
}

impl Helmfile {
    fn write(&self, file: &str, content: &str) -> &Helmfile {
        let path = self.dir.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
        self
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Encrypts `file` in place with `homelab secrets encrypt` to the tree's throwaway key.
    fn encrypt(&self, file: &str, plain: &str) {
        self.write(file, plain);
        let out = secrets_command(self.path(), &["encrypt", "-i", file])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "encrypting {file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn key(&self) -> PathBuf {
        self.path().join("test-identity.txt")
    }
}

fn secrets_command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_homelab"));
    cmd.arg("secrets")
        .args(args)
        .current_dir(dir)
        .env("SOPS_AGE_KEY_FILE", dir.join("test-identity.txt"))
        .env_remove("SOPS_AGE_KEY")
        .env_remove("HOMELAB_ROOT");
    cmd
}

const MAIN: &str = r#"# The top helmfile: environments first, releases in a second part.
environments:
  dev:
    values:
      - env/common.yaml
      - env/dev.yaml
  prod:
    kubeContext: homelab-prod
    values:
      - env/common.yaml
      - env/prod.yaml.gotmpl
---
bases:
  - bases/repos.yaml
helmDefaults:
  kubeContext: kind-homelab
  wait: true
helmfiles:
  - apps/helmfile.yaml
  - path: monitoring/helmfile.yaml
    values:
      - retention: 15d
releases:
  - name: web
    namespace: web
    chart: ./charts/web
    createNamespace: true
    labels:
      tier: front
    values:
      - values/web.yaml
      - values/web.yaml.gotmpl
      - podAnnotations:
          example.org/imported: "yes"
    set:
      - name: service.port
        value: 8081
    setString:
      - name: podAnnotations.example\.org/build
        value: 42
      - name: image.tag
        value: 2.0.1
"#;

/// The Helmfile every test starts from: only what the import translates.
fn translatable() -> Helmfile {
    let hf = Helmfile {
        dir: tempfile::Builder::new()
            .prefix("homelab-helmfile-")
            .tempdir()
            .unwrap(),
    };
    hf.write("helmfile.yaml", MAIN)
        .write("env/common.yaml", "podinfo:\n  enabled: false\n")
        .write("env/dev.yaml", "domain: dev.example.org\npodinfo:\n  enabled: true\n")
        .write("env/prod.yaml.gotmpl", "domain: {{ .Environment.Name }}.example.org\n")
        .write(
            "bases/repos.yaml",
            "repositories:\n  - name: grafana\n    url: https://grafana.github.io/helm-charts\n  - name: ghcr\n    url: ghcr.io/stefanprodan/charts\n    oci: true\n",
        )
        .write(
            "apps/helmfile.yaml",
            "bases:\n  - ../bases/repos.yaml\nreleases:\n  - name: podinfo\n    namespace: apps\n    chart: ghcr/podinfo\n    version: 6.9.0\n    condition: podinfo.enabled\n    needs:\n      - web/web\n  - name: retired\n    namespace: apps\n    chart: ghcr/podinfo\n    version: 6.9.0\n    installed: false\n",
        )
        .write(
            "monitoring/helmfile.yaml",
            "bases:\n  - ../bases/repos.yaml\nreleases:\n  - name: loki\n    namespace: monitoring\n    chart: grafana/loki\n    version: 6.38.0\n    values:\n      - loki:\n          retention: {{ .Values.retention }}\n",
        )
        .write("values/web.yaml", "# replicas for every environment\nreplicaCount: 2\n")
        .write("values/web.yaml.gotmpl", "host: web.{{ .Values.domain }}\nmotd: {{ readFile \"motd.txt\" | quote }}\n")
        .write("values/motd.txt", "welcome\n");
    crate::support::copy_tree(
        &fixtures().join("charts/webapp"),
        &hf.path().join("charts/web"),
    );
    hf
}

/// The translatable Helmfile plus what needs a person: helm-secrets files for an
/// environment and a release, and a template the import does not translate.
fn with_secrets() -> Helmfile {
    let hf = translatable();
    let key = hf.key();
    let out = secrets_command(hf.path(), &["keygen", "--out", key.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let public = String::from_utf8_lossy(&out.stdout).trim().to_string();
    hf.write(
        ".sops.yaml",
        &format!("creation_rules:\n  - path_regex: secrets/.*\\.yaml$\n    age: {public}\n"),
    );
    hf.encrypt("secrets/prod.yaml", "smtp:\n  password: env-s3cret-9\n");
    hf.encrypt(
        "secrets/grafana.yaml",
        "adminPassword: graf-s3cret-7\nsmtp:\n  password: graf-smtp-5\n",
    );
    hf.write(
        "helmfile.yaml",
        &MAIN.replace(
            "      - env/prod.yaml.gotmpl\n",
            "      - env/prod.yaml.gotmpl\n    secrets:\n      - secrets/prod.yaml\n",
        ),
    );
    let apps = std::fs::read_to_string(hf.path().join("apps/helmfile.yaml")).unwrap();
    hf.write(
        "apps/helmfile.yaml",
        &format!("{apps}  - name: grafana\n    namespace: monitoring\n    chart: grafana/grafana\n    version: 10.0.0\n    values:\n      - ../values/grafana.yaml.gotmpl\n    secrets:\n      - ../secrets/grafana.yaml\n"),
    );
    hf.write(
        "values/grafana.yaml.gotmpl",
        "persistence:\n  enabled: true\n{{ if eq .Environment.Name \"prod\" }}replicas: 2{{ end }}\n",
    );
    hf
}

/// A lab with the reference inventory and nothing else.
fn empty_lab() -> TestLab {
    let lab = TestLab::empty();
    crate::support::copy_tree(
        &repo_root().join("hosts/inventory.nix"),
        &lab.path().join("hosts/inventory.nix"),
    );
    lab
}

fn import(lab: &TestLab, hf: &Helmfile, extra: &[&str]) -> Run {
    let path = hf.path().join("helmfile.yaml");
    let mut args = vec!["import", "helmfile", path.to_str().unwrap()];
    args.extend(extra);
    lab.run(&args)
}

fn report_snapshot(run: &Run, hf: &Helmfile) -> String {
    let hf_dir = hf.path().canonicalize().unwrap();
    format!(
        "exit code: {:?}\n--- stdout ---\n{}--- stderr ---\n{}",
        run.code,
        run.stdout_normalized(),
        run.stderr_normalized()
    )
    .replace(&hf_dir.display().to_string(), "[HELMFILE]")
}

#[test]
fn translatable_helmfile_imports_and_passes_check_without_edits() {
    let hf = translatable();
    let lab = empty_lab();
    let run = import(&lab, &hf, &[]);
    run.expect_code(0);
    insta::assert_snapshot!("import_translatable", report_snapshot(&run, &hf));
    insta::assert_snapshot!(
        "import_web_release_toml",
        lab.read("releases/web/release.toml")
    );
    assert_eq!(
        lab.read("releases/web/web.yaml"),
        "# replicas for every environment\nreplicaCount: 2\n"
    );
    assert_eq!(
        lab.read("releases/web/web-prod.yaml"),
        "host: web.prod.example.org\nmotd: \"welcome\\n\"\n"
    );
    assert_eq!(
        lab.read("releases/loki/values-inline.yaml"),
        "loki:\n  retention: \"15d\"\n"
    );
    assert_eq!(
        lab.read("releases/web/chart/Chart.yaml"),
        std::fs::read_to_string(fixtures().join("charts/webapp/Chart.yaml")).unwrap()
    );
    assert!(lab
        .read("releases/podinfo/release.toml")
        .contains("oci://ghcr.io/stefanprodan/charts"));
    assert!(!lab.path().join("releases/retired").exists());
    lab.run(&["check"]).expect_code(0);
    for env in ["dev", "prod"] {
        let rendered = render_run(&lab, &["render", "-e", env, "-l", "name=web"]);
        rendered.expect_code(0);
        for expected in [
            format!("value: web.{env}.example.org"),
            "replicas: 2".to_string(),
            "example.org/imported: \"yes\"".to_string(),
            "example.org/build: \"42\"".to_string(),
            "containerPort: 8081".to_string(),
            "image: ghcr.io/example/webapp:2.0.1".to_string(),
        ] {
            assert!(
                rendered.stdout.contains(&expected),
                "`{expected}` missing\n{rendered}"
            );
        }
    }
}

#[test]
fn secrets_and_untranslated_templates_are_steps_and_never_plaintext() {
    let hf = with_secrets();
    let lab = empty_lab();
    let run = import(&lab, &hf, &[]);
    run.expect_code(1);
    insta::assert_snapshot!("import_with_secrets", report_snapshot(&run, &hf));
    insta::assert_snapshot!(
        "import_grafana_release_toml",
        lab.read("releases/grafana/release.toml")
    );
    let mut everything = String::new();
    collect(&lab.path().join("releases"), &mut everything);
    for plaintext in ["env-s3cret-9", "graf-s3cret-7", "graf-smtp-5", "ENC["] {
        assert!(
            !everything.contains(plaintext),
            "`{plaintext}` in the release folders:\n{everything}"
        );
    }
    assert_eq!(
        std::fs::read(lab.path().join("secrets/prod.yaml")).unwrap(),
        std::fs::read(hf.path().join("secrets/prod.yaml")).unwrap(),
        "the environment's helm-secrets file is copied byte for byte"
    );
    let untranslated = lab.read("releases/grafana/untranslated/grafana.yaml.gotmpl");
    assert!(
        untranslated.starts_with("# homelab import: NOT TRANSLATED (values/grafana.yaml.gotmpl:3:"),
        "{untranslated}"
    );

    // The person's part: the grafana password into each environment's SOPS file.
    for env in ["dev", "prod"] {
        let file = format!("secrets/{env}.yaml");
        if env == "dev" {
            lab.write(&file, "grafana:\n  adminPassword: dev-only\n");
            std::fs::copy(hf.path().join(".sops.yaml"), lab.path().join(".sops.yaml")).unwrap();
            let out = secrets_command(lab.path(), &["encrypt", "-i", &file])
                .env("SOPS_AGE_KEY_FILE", hf.key())
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        } else {
            let out = secrets_command(
                lab.path(),
                &[
                    "set",
                    &file,
                    "[\"grafana\"][\"adminPassword\"]",
                    "\"moved\"",
                ],
            )
            .env("SOPS_AGE_KEY_FILE", hf.key())
            .output()
            .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    lab.run(&["check"]).expect_code(0);
}

fn collect(path: &Path, out: &mut String) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            collect(&entry.unwrap().path(), out);
        }
    } else if let Ok(text) = std::fs::read_to_string(path) {
        out.push_str(&text);
    }
}

#[test]
fn dry_run_writes_nothing_and_existing_folders_need_force() {
    let hf = translatable();
    let lab = empty_lab();
    let run = import(&lab, &hf, &["--dry-run"]);
    run.expect_code(0);
    assert!(
        run.stdout.contains("would write") && run.stdout.contains("releases/web/release.toml"),
        "{run}"
    );
    assert!(!lab.path().join("releases").exists(), "{run}");
    import(&lab, &hf, &[]).expect_code(0);
    lab.write("releases/web/stale.yaml", "x: 1\n");
    let again = import(&lab, &hf, &[]);
    again.expect_code(2);
    assert!(
        again.stderr.contains("releases/web") && again.stderr.contains("--force"),
        "{again}"
    );
    import(&lab, &hf, &["--force"]).expect_code(0);
    assert!(!lab.path().join("releases/web/stale.yaml").exists());
    lab.run(&["check"]).expect_code(0);
}

#[test]
fn paths_out_of_the_tree_are_refused_with_file_and_line() {
    let hf = translatable();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("values.yaml"), "stolen: true\n").unwrap();
    std::os::unix::fs::symlink(outside.path(), hf.path().join("values/link")).unwrap();
    hf.write(
        "monitoring/helmfile.yaml",
        "bases:\n  - ../bases/repos.yaml\nreleases:\n  - name: loki\n    namespace: monitoring\n    chart: grafana/loki\n    version: 6.38.0\n    values:\n      - ../../etc/passwd\n      - /etc/passwd\n      - ../values/link/values.yaml\n",
    );
    let lab = empty_lab();
    let run = import(&lab, &hf, &[]);
    run.expect_code(1);
    for expected in [
        "monitoring/helmfile.yaml:4: `../../etc/passwd` leads out of the Helmfile's folder",
        "monitoring/helmfile.yaml:4: `/etc/passwd` is an absolute path",
        "monitoring/helmfile.yaml:4: `../values/link/values.yaml` is a symlink that leads out",
    ] {
        assert!(run.stdout.contains(expected), "`{expected}` missing\n{run}");
    }
    let mut everything = String::new();
    collect(lab.path(), &mut everything);
    assert!(!everything.contains("stolen"), "{everything}");
}

#[test]
fn nested_helmfiles_may_be_globs_expanded_inside_the_tree() {
    let hf = translatable();
    let main = std::fs::read_to_string(hf.path().join("helmfile.yaml")).unwrap();
    let globbed = main.replace(
        "  - apps/helmfile.yaml\n  - path: monitoring/helmfile.yaml\n",
        "  - \"a*/helmfile.y?ml\"\n  - path: \"**/monitoring/*.yaml\"\n",
    );
    assert_ne!(globbed, main, "the test's Helmfile changed shape");
    hf.write("helmfile.yaml", &globbed);
    let lab = empty_lab();
    import(&lab, &hf, &[]).expect_code(0);
    assert!(lab.path().join("releases/podinfo/release.toml").exists());
    assert_eq!(
        lab.read("releases/loki/values-inline.yaml"),
        "loki:\n  retention: \"15d\"\n",
        "the glob entry's values reach the nested Helmfile"
    );

    hf.write(
        "helmfile.yaml",
        &globbed.replace("\"a*/helmfile.y?ml\"", "\"nothing/*.yaml\""),
    );
    let none = import(&empty_lab(), &hf, &[]);
    none.expect_code(1);
    assert!(
        none.stdout
            .contains("`nothing/*.yaml` matches no file in the Helmfile's folder"),
        "{none}"
    );
}

#[test]
fn usage_errors_exit_2() {
    let lab = empty_lab();
    lab.run(&["import", "helmfile"]).expect_code(2);
    lab.run(&["import", "kustomize", "x"]).expect_code(2);
}
