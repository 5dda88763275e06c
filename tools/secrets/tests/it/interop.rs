//! Both directions against the real sops 3.11, over the corpus, with one
//! recipient, three recipients, key groups with Shamir 2-of-3,
//! `encrypted_regex` and `mac_only_encrypted`:
//! - sops encrypts → homelab decrypts; equal to what sops decrypts;
//! - homelab encrypts → sops decrypts (MAC check passes); equal to what sops
//!   gives for its own encryption of the same input, and the encrypted
//!   layout equals sops's once ciphertexts are masked.

use homelab_secrets::{DecryptRequest, EncryptRequest, RuleSource};

use super::support::{corpus, mask, require_sops, Lab};

#[derive(Clone, Copy, PartialEq)]
enum Setup {
    One,
    Three,
    Shamir,
    EncryptedRegex,
    MacOnly,
    UnencryptedRegex,
    EncryptedSuffix,
    UnencryptedSuffix,
}

/// The other rules run over the documents whose keys they bite on.
const RULE_DOCS: [&str; 6] = [
    "02-nested-maps.yaml",
    "04-list-of-maps.yaml",
    "19-suffix.yaml",
    "20-mixed.yaml",
    "30-nested.json",
    "32-list-of-objects.json",
];

fn config(lab: &Lab, setup: Setup) -> String {
    let p = &lab.publics;
    match setup {
        Setup::One => format!("creation_rules:\n  - path_regex: .*\n    age: {}\n", p[0]),
        Setup::Three => format!("creation_rules:\n  - age: {},{},{}\n", p[0], p[1], p[2]),
        Setup::Shamir => format!(
            "creation_rules:\n  - path_regex: \\.(yaml|json)$\n    shamir_threshold: 2\n    key_groups:\n      - age:\n          - {}\n      - age:\n          - {}\n      - age:\n          - {}\n",
            p[0], p[1], p[2]
        ),
        Setup::EncryptedRegex => format!(
            "creation_rules:\n  - age:\n      - {}\n    encrypted_regex: ^(password|pw|token|user|db|users|b|second)$\n",
            p[0]
        ),
        Setup::MacOnly => format!(
            "creation_rules:\n  - age: [{}]\n    encrypted_regex: ^(password|first|a|api_key)$\n    mac_only_encrypted: true\n",
            p[0]
        ),
        Setup::UnencryptedRegex => format!("creation_rules:\n  - age: {}\n    unencrypted_regex: ^(user|name|port|smtp)$\n", p[0]),
        Setup::EncryptedSuffix => format!("creation_rules:\n  - age: {}\n    encrypted_suffix: word\n", p[0]),
        Setup::UnencryptedSuffix => format!("creation_rules:\n  - age: {}\n    unencrypted_suffix: _unencrypted\n    mac_only_encrypted: true\n", p[0]),
    }
}

/// Identities used to decrypt: for Shamir, only two of the three groups.
fn decrypt_keys(setup: Setup) -> &'static [usize] {
    match setup {
        Setup::Shamir => &[1, 2],
        Setup::Three => &[2],
        _ => &[0],
    }
}

fn run(setup: Setup) {
    if !require_sops() {
        return;
    }
    let lab = Lab::new();
    std::fs::write(lab.path(".sops.yaml"), config(&lab, setup)).unwrap();
    let keys = lab.key_file(decrypt_keys(setup));
    let all_keys = lab.key_file(&[0, 1, 2]);
    let mut failures = Vec::new();
    let all_docs = matches!(
        setup,
        Setup::One | Setup::Three | Setup::Shamir | Setup::EncryptedRegex | Setup::MacOnly
    );
    for (name, text) in corpus() {
        if !all_docs && !RULE_DOCS.contains(&name.as_str()) {
            continue;
        }
        let input = lab.path(&name);
        std::fs::write(&input, &text).unwrap();
        let ext = if name.ends_with(".json") {
            "json"
        } else {
            "yaml"
        };

        // sops encrypts.
        let by_sops = lab.sops(&["-e", &name], &all_keys);
        if !by_sops.status.success() {
            failures.push(format!(
                "{name}: sops -e failed: {}",
                String::from_utf8_lossy(&by_sops.stderr)
            ));
            continue;
        }
        let sops_file = lab.path(&format!("{name}.sops.{ext}"));
        std::fs::write(&sops_file, &by_sops.stdout).unwrap();
        let sops_plain = lab.sops(&["-d", sops_file.to_str().unwrap()], &keys);
        let expected = String::from_utf8_lossy(&sops_plain.stdout).into_owned();
        if !sops_plain.status.success() {
            // sops cannot read back its own file (e.g. an unencrypted -0.0
            // is hashed as "-0" but reads back as the int 0): homelab must
            // refuse it the same way, and sops must refuse homelab's.
            let ours = homelab_secrets::decrypt(&DecryptRequest {
                path: sops_file.clone(),
                extract: None,
                keys: lab.sources(&keys),
            });
            if !matches!(ours, Err(homelab_secrets::Error::MacMismatch)) {
                failures.push(format!(
                    "{name}: sops refuses its own file ({}) but homelab gives {:?}",
                    String::from_utf8_lossy(&sops_plain.stderr),
                    ours.map(|_| "plaintext")
                ));
            }
            continue;
        }

        // homelab decrypts sops's file.
        match homelab_secrets::decrypt(&DecryptRequest {
            path: sops_file.clone(),
            extract: None,
            keys: lab.sources(&keys),
        }) {
            Ok(plain) if *plain == expected => {}
            Ok(plain) => failures.push(format!(
                "{name}: sops→homelab differs\n--- sops -d\n{expected}\n--- homelab\n{}",
                *plain
            )),
            Err(e) => failures.push(format!(
                "{name}: homelab cannot decrypt sops's file: {e}\n{}",
                String::from_utf8_lossy(&by_sops.stdout)
            )),
        }

        // homelab encrypts; sops decrypts.
        let ours = match homelab_secrets::encrypt(&EncryptRequest {
            path: input.clone(),
            rule: RuleSource::Discover,
        }) {
            Ok(t) => t,
            Err(e) => {
                failures.push(format!("{name}: homelab encrypt failed: {e}"));
                continue;
            }
        };
        let ours_file = lab.path(&format!("{name}.ours.{ext}"));
        std::fs::write(&ours_file, &ours).unwrap();
        match homelab_secrets::decrypt(&DecryptRequest {
            path: ours_file.clone(),
            extract: None,
            keys: lab.sources(&keys),
        }) {
            Ok(plain) if *plain == expected => {}
            Ok(plain) => failures.push(format!(
                "{name}: homelab→homelab differs\n--- expected\n{expected}\n--- homelab\n{}",
                *plain
            )),
            Err(e) => failures.push(format!("{name}: homelab cannot decrypt its own file: {e}")),
        }
        let back = lab.sops(&["-d", ours_file.to_str().unwrap()], &keys);
        let back_text = String::from_utf8_lossy(&back.stdout);
        if !back.status.success() {
            failures.push(format!(
                "{name}: sops cannot decrypt homelab's file: {}\n{ours}",
                String::from_utf8_lossy(&back.stderr)
            ));
        } else if back_text != expected {
            failures.push(format!("{name}: homelab→sops differs\n--- expected\n{expected}\n--- sops -d of homelab's\n{back_text}"));
        }
        let (m_ours, m_sops) = (mask(&ours), mask(&String::from_utf8_lossy(&by_sops.stdout)));
        if m_ours != m_sops {
            failures.push(format!(
                "{name}: encrypted layout differs\n--- sops\n{m_sops}\n--- homelab\n{m_ours}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failure(s):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn one_recipient() {
    run(Setup::One);
}

#[test]
fn three_recipients() {
    run(Setup::Three);
}

#[test]
fn key_groups_shamir_two_of_three() {
    run(Setup::Shamir);
}

#[test]
fn encrypted_regex() {
    run(Setup::EncryptedRegex);
}

#[test]
fn mac_only_encrypted() {
    run(Setup::MacOnly);
}

#[test]
fn unencrypted_regex() {
    run(Setup::UnencryptedRegex);
}

#[test]
fn encrypted_suffix() {
    run(Setup::EncryptedSuffix);
}

#[test]
fn unencrypted_suffix_with_mac_only_encrypted() {
    run(Setup::UnencryptedSuffix);
}
