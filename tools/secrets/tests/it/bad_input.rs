//! Bad input, each with its exact message: altered bytes in any data, iv,
//! tag, enc, mac or lastmodified; the wrong key; no `sops` block; truncated
//! files; invalid base64; unknown cipher or type; a missing or non-semver
//! version. Decryption is all-or-nothing, so no plaintext comes back.

use base64::Engine;
use homelab_secrets::{DecryptRequest, Error};

use super::support::Lab;

const DOC: &str = "db:\n    user: root\n    password: toor\nhosts:\n    - yomogi\n    - tokiwa\n";

/// A lab with `secret.yaml` encrypted to identity 0 by homelab.
fn encrypted() -> (Lab, String) {
    let lab = Lab::new();
    let rule = homelab_secrets::CreationRule::recipients(vec![lab.publics[0].clone()]);
    let text = homelab_secrets::encrypt_text(DOC, homelab_secrets::Format::Yaml, &rule).unwrap();
    (lab, text)
}

fn decrypt(lab: &Lab, text: &str, key: usize) -> Result<String, Error> {
    let path = lab.path("secret.yaml");
    std::fs::write(&path, text).unwrap();
    let keys = lab.key_file(&[key]);
    homelab_secrets::decrypt(&DecryptRequest {
        path,
        extract: None,
        keys: lab.sources(&keys),
    })
    .map(|p| p.to_string())
}

fn message(lab: &Lab, text: &str) -> String {
    match decrypt(lab, text, 0) {
        Ok(plain) => panic!("expected a refusal, got plaintext:\n{plain}"),
        Err(e) => e.to_string(),
    }
}

/// Flips one bit of a base64 field (`data`, `iv` or `tag`) in the line
/// holding `marker`.
fn flip(text: &str, marker: &str, field: &str) -> String {
    let line = text.lines().find(|l| l.contains(marker)).unwrap();
    let start = line.find(&format!("{field}:")).unwrap() + field.len() + 1;
    let end = start + line[start..].find([',', ']']).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut bytes = b64.decode(&line[start..end]).unwrap();
    bytes[0] ^= 1;
    let new_line = format!("{}{}{}", &line[..start], b64.encode(bytes), &line[end..]);
    text.replacen(line, &new_line, 1)
}

#[test]
fn flipped_data_iv_and_tag_name_the_value() {
    let (lab, text) = encrypted();
    for field in ["data", "iv", "tag"] {
        assert_eq!(
            message(&lab, &flip(&text, "password:", field)),
            "Value at `db.password` failed to decrypt: authentication failed (the value, its iv or tag was altered, or it belongs to another file)",
            "flipped {field}"
        );
    }
    assert_eq!(
        message(&lab, &flip(&text, "- ENC", "tag")),
        "Value at `hosts[0]` failed to decrypt: authentication failed (the value, its iv or tag was altered, or it belongs to another file)"
    );
}

#[test]
fn flipped_mac_or_lastmodified_is_refused() {
    let (lab, text) = encrypted();
    for field in ["data", "iv", "tag"] {
        assert_eq!(
            message(&lab, &flip(&text, "mac:", field)),
            "Cannot decrypt the MAC: the `mac` or `lastmodified` field was altered"
        );
    }
    let re = regex::Regex::new(r#"lastmodified: "(\d{4})"#).unwrap();
    let moved = re.replace(&text, r#"lastmodified: "1999"#).into_owned();
    assert_ne!(moved, text);
    assert_eq!(
        message(&lab, &moved),
        "Cannot decrypt the MAC: the `mac` or `lastmodified` field was altered"
    );
}

#[test]
fn reordered_values_are_a_mac_mismatch() {
    let (lab, text) = encrypted();
    let lines: Vec<&str> = text.lines().collect();
    let first = lines
        .iter()
        .position(|l| l.starts_with("    - ENC"))
        .unwrap();
    let mut swapped: Vec<&str> = lines.clone();
    swapped.swap(first, first + 1);
    let swapped = swapped.join("\n") + "\n";
    assert_eq!(
        message(&lab, &swapped),
        "MAC mismatch: the file was modified after it was encrypted (a value, key or the order of values changed)"
    );
}

#[test]
fn flipped_enc_lists_recipients_and_places() {
    let (lab, text) = encrypted();
    let armor_line = text
        .lines()
        .find(|l| l.trim_start().starts_with("YWdl"))
        .unwrap();
    let broken = armor_line.replacen("YWdl", "YWdm", 1);
    let msg = message(&lab, &text.replacen(armor_line, &broken, 1));
    assert!(msg.starts_with("Failed to get the data key"), "{msg}");
    assert!(msg.contains(&lab.publics[0]), "{msg}");
}

#[test]
fn wrong_key_lists_recipients_and_every_place_searched() {
    let (lab, text) = encrypted();
    let msg = decrypt(&lab, &text, 2).unwrap_err().to_string();
    let msg = msg
        .replace(&lab.publics[0], "age1RECIPIENT")
        .replace(&lab.dir.path().display().to_string(), "[LAB]");
    insta::assert_snapshot!(msg);
}

#[test]
fn missing_sops_block_is_not_a_sops_file() {
    let (lab, _) = encrypted();
    assert_eq!(
        message(&lab, DOC),
        "Not a SOPS file: there is no top-level `sops` metadata block (encrypt it first with `homelab secrets encrypt`)"
    );
}

#[test]
fn truncated_files_are_refused_at_every_length() {
    let (lab, text) = encrypted();
    for cut in (0..text.len()).step_by(7) {
        let Some(prefix) = text.get(..cut) else {
            continue;
        };
        // Cutting only the final newline leaves the same document. The file's
        // length varies with its random ciphertexts, so this cut came up in about
        // one run in seven.
        if text[cut..].trim().is_empty() {
            continue;
        }
        if let Ok(plain) = decrypt(&lab, prefix, 0) {
            panic!(
                "truncated at {cut} yet decrypted:\n{plain}\n--- tail of the prefix ---\n{}",
                &prefix[prefix.len().saturating_sub(300)..]
            );
        }
    }
    let without_version = text.replace("    version: 3.11.0\n", "");
    assert_eq!(
        message(&lab, &without_version),
        "Invalid `sops` metadata: `sops.version` is missing; every SOPS file records the version that wrote it (e.g. `version: 3.11.0`)"
    );
}

#[test]
fn malformed_ciphertexts_say_what_is_wrong() {
    let (lab, text) = encrypted();
    let line = text.lines().find(|l| l.contains("password:")).unwrap();
    let cases = [
        (line.replacen("AES256_GCM", "AES128_GCM", 1), "Value at `db.password` is not a valid SOPS ciphertext: unknown cipher `AES128_GCM` (only AES256_GCM is supported)"),
        (line.replacen("type:str", "type:blob", 1), "Value at `db.password` is not a valid SOPS ciphertext: unknown type `blob` (expected str, int, float, bool, time, comment or bytes)"),
        (regex::Regex::new(r"iv:[^,]*").unwrap().replace(line, "iv:@@@@").into_owned(), "Value at `db.password` is not a valid SOPS ciphertext: field `iv` is not valid base64 (Invalid symbol 64, offset 0.)"),
        (line.trim_end_matches(']').to_string(), "Value at `db.password` is not a valid SOPS ciphertext: it does not end with `]` (truncated?)"),
    ];
    for (bad, expected) in cases {
        assert_eq!(message(&lab, &text.replacen(line, &bad, 1)), expected);
    }
    let plaintext = text.replacen(line, "    password: toor", 1);
    assert_eq!(
        message(&lab, &plaintext),
        "Value at `db.password` is not a valid SOPS ciphertext: it does not start with `ENC[`"
    );
}

#[test]
fn version_must_be_semver() {
    let (lab, text) = encrypted();
    assert_eq!(
        message(&lab, &text.replace("version: 3.11.0", "version: three")),
        "Invalid `sops` metadata: `sops.version` is `three`, which is not a semantic version (unexpected character 't' while parsing major version number)"
    );
}

#[test]
fn json_syntax_errors_have_positions() {
    let lab = Lab::new();
    let path = lab.path("broken.json");
    std::fs::write(&path, "{\n  \"a\": [1, 2,\n}").unwrap();
    let keys = lab.key_file(&[0]);
    let err = homelab_secrets::decrypt(&DecryptRequest {
        path,
        extract: None,
        keys: lab.sources(&keys),
    })
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Invalid JSON at line 3, column 1: expected a JSON value"
    );
}
