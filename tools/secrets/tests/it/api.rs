//! The library API render and apply use: the redacted, zeroising
//! [`SecretTree`] with dotted lookups, every identity source sops reads
//! (SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, SOPS_AGE_KEY_CMD, keys.txt, SSH
//! ed25519 keys), and `.sops.yaml` rule selection.

use std::process::Command;

use homelab_secrets::{CreationRule, ExposeSecret, Format, KeySources};

use super::support::{require, require_sops, Lab, SSH_KEYGEN};

const DOC: &str = "db:\n    password: toor\n    port: 5432\nhosts:\n    - yomogi\n    - tokiwa\n";

fn write_encrypted(lab: &Lab, recipient: &str) -> std::path::PathBuf {
    let text = homelab_secrets::encrypt_text(
        DOC,
        Format::Yaml,
        &CreationRule::recipients(vec![recipient.to_string()]),
    )
    .unwrap();
    let path = lab.path("s.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn secret_tree_looks_up_dotted_paths_and_redacts_debug() {
    let lab = Lab::new();
    let path = write_encrypted(&lab, &lab.publics[0]);
    let keys = lab.key_file(&[0]);
    let tree = homelab_secrets::decrypt_file_with(&path, &lab.sources(&keys)).unwrap();
    assert_eq!(tree.get("db.password").unwrap().expose_secret(), "toor");
    assert_eq!(tree.get("db.port").unwrap().expose_secret(), "5432");
    assert_eq!(tree.get("hosts[1]").unwrap().expose_secret(), "tokiwa");
    assert!(tree.get("db").is_none() && tree.get("db.missing").is_none());
    assert_eq!(
        tree.paths(),
        ["db.password", "db.port", "hosts[0]", "hosts[1]"]
    );
    assert_eq!(format!("{tree:?}"), "SecretTree(<redacted>)");
}

#[test]
fn identities_from_every_sops_location() {
    let lab = Lab::new();
    let path = write_encrypted(&lab, &lab.publics[1]);
    let home = lab.path("home");
    let decrypts = |sources: KeySources| {
        homelab_secrets::decrypt_file_with(&path, &sources).map(|t| t.get("db.password").is_some())
    };

    let from_env = KeySources {
        age_key: Some(lab.identities[1].clone().into()),
        home: Some(home.clone()),
        ..KeySources::default()
    };
    assert!(decrypts(from_env).unwrap());

    let file = lab.key_file(&[1]);
    let from_cmd = KeySources {
        age_key_cmd: Some(format!("cat {}", file.display())),
        home: Some(home.clone()),
        ..KeySources::default()
    };
    assert!(decrypts(from_cmd).unwrap());

    let xdg = lab.path("xdg");
    std::fs::create_dir_all(xdg.join("sops/age")).unwrap();
    std::fs::copy(&file, xdg.join("sops/age/keys.txt")).unwrap();
    let from_xdg = KeySources {
        xdg_config_home: Some(xdg),
        home: Some(home.clone()),
        ..KeySources::default()
    };
    assert!(decrypts(from_xdg).unwrap());

    std::fs::create_dir_all(home.join(".config/sops/age")).unwrap();
    std::fs::copy(&file, home.join(".config/sops/age/keys.txt")).unwrap();
    assert!(decrypts(KeySources {
        home: Some(home),
        ..KeySources::default()
    })
    .unwrap());
}

#[test]
fn ssh_ed25519_keys_both_ways() {
    let lab = Lab::new();
    let key = lab.path("test-ssh-ed25519");
    if !require(&[SSH_KEYGEN]) {
        return;
    }
    let made = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "test", "-f"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "ssh-keygen failed: {}",
        String::from_utf8_lossy(&made.stderr)
    );
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    let recipient = public
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    let path = write_encrypted(&lab, &recipient);
    let sources = KeySources {
        ssh_private_key_file: Some(key.clone()),
        home: Some(lab.path("home")),
        ..KeySources::default()
    };
    let tree = homelab_secrets::decrypt_file_with(&path, &sources).unwrap();
    assert_eq!(tree.get("hosts[0]").unwrap().expose_secret(), "yomogi");
    if require_sops() {
        let out = Command::new("sops")
            .args(["-d"])
            .arg(&path)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", lab.path("home"))
            .env("SOPS_AGE_SSH_PRIVATE_KEY_FILE", &key)
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            DOC,
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn first_matching_creation_rule_applies() {
    let lab = Lab::new();
    let p = &lab.publics;
    std::fs::write(
        lab.path(".sops.yaml"),
        format!("creation_rules:\n  - path_regex: ^hosts/.*\\.yaml$\n    age: {}\n  - path_regex: \\.yaml$\n    age: [{}, {}]\n    encrypted_suffix: _secret\n", p[0], p[1], p[2]),
    )
    .unwrap();
    std::fs::create_dir_all(lab.path("hosts")).unwrap();
    let host = lab.path("hosts/yomogi.yaml");
    std::fs::write(&host, "a: 1\n").unwrap();
    let rule = homelab_secrets::config::creation_rule(&lab.path(".sops.yaml"), &host).unwrap();
    assert_eq!(rule.key_groups, vec![vec![p[0].clone()]]);
    let env = lab.path("prod.yaml");
    let rule = homelab_secrets::config::creation_rule(&lab.path(".sops.yaml"), &env).unwrap();
    assert_eq!(rule.key_groups, vec![vec![p[1].clone(), p[2].clone()]]);
    assert_eq!(rule.rules.encrypted_suffix.as_deref(), Some("_secret"));
    let json = lab.path("x.json");
    let err = homelab_secrets::config::creation_rule(&lab.path(".sops.yaml"), &json)
        .unwrap_err()
        .to_string();
    assert!(
        err.ends_with(
            "no creation rule matches `x.json`; add a rule whose `path_regex` matches it"
        ),
        "{err}"
    );
}

#[test]
fn check_holds_files_to_the_creation_rule_too() {
    let lab = Lab::new();
    let p = &lab.publics;
    let loose = homelab_secrets::CreationRule {
        rules: homelab_secrets::rules::Rules::from_fields(
            None,
            None,
            Some("^note$".into()),
            None,
            false,
        )
        .unwrap(),
        ..CreationRule::recipients(vec![p[0].clone()])
    };
    let text =
        homelab_secrets::encrypt_text("password: x\nnote: hello\n", Format::Yaml, &loose).unwrap();
    let file = lab.path("s.yaml");
    std::fs::write(&file, text).unwrap();
    let verdict = |dir: &std::path::Path| {
        homelab_secrets::check::check(&[dir.to_path_buf()])
            .unwrap()
            .into_iter()
            .map(|f| f.problem.map(|e| e.to_string()))
            .collect::<Vec<_>>()
    };
    assert_eq!(verdict(lab.dir.path()), [None]);
    std::fs::write(
        lab.path(".sops.yaml"),
        format!("creation_rules:\n  - age: {}\n", p[0]),
    )
    .unwrap();
    let config = lab.path(".sops.yaml").display().to_string();
    assert_eq!(
        verdict(lab.dir.path()),
        [Some(format!(
            "Value at `note` is not encrypted, but the creation rule in {config} requires it"
        ))]
    );
}
