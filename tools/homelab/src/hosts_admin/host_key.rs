//! A host's SSH ed25519 key pair, made in memory for `homelab host add`, and the age
//! recipient sops-nix decrypts with: sops-nix converts `/etc/ssh/ssh_host_ed25519_key`
//! the way `ssh-to-age` does (the Edwards public key mapped to its Montgomery form,
//! bech32 with the `age` prefix), so the recipient is derived the same way here.

use base64::Engine;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use homelab_secrets::SecretString;
use sha2::{Digest, Sha512};

/// A new host key: the OpenSSH private key file's text (never written by us), the
/// public key line and the age recipient.
pub(crate) struct HostKey {
    pub private_openssh: SecretString,
    pub public_openssh: String,
    pub age_recipient: String,
}

/// Why no key could be made.
#[derive(Debug, thiserror::Error)]
#[error("Cannot get random bytes from the operating system for the host key: {0}")]
pub(crate) struct RandomError(String);

/// Makes a key pair from the operating system's randomness.
pub(super) fn generate(comment: &str) -> Result<HostKey, RandomError> {
    let mut seed = zeroed();
    let mut check = [0u8; 4];
    getrandom::getrandom(&mut seed).map_err(|e| RandomError(e.to_string()))?;
    getrandom::getrandom(&mut check).map_err(|e| RandomError(e.to_string()))?;
    let key = from_seed(&seed, comment, u32::from_be_bytes(check));
    seed.fill(0);
    Ok(key)
}

fn zeroed() -> [u8; 32] {
    [0u8; 32]
}

/// The key pair of an ed25519 seed (RFC 8032: the scalar is the clamped first half of
/// SHA-512 of the seed).
pub(super) fn from_seed(seed: &[u8; 32], comment: &str, checkint: u32) -> HostKey {
    let mut hash = Sha512::digest(seed);
    let mut scalar = [0u8; 32];
    scalar.copy_from_slice(&hash[..32]);
    let public = EdwardsPoint::mul_base_clamped(scalar).compress().to_bytes();
    scalar.fill(0);
    hash.fill(0);
    let blob = public_blob(&public);
    let public_openssh = format!(
        "ssh-ed25519 {} {comment}",
        base64::engine::general_purpose::STANDARD.encode(&blob)
    );
    HostKey {
        private_openssh: SecretString::from(private_file(seed, &public, &blob, comment, checkint)),
        public_openssh,
        age_recipient: age_recipient(&public).unwrap_or_default(),
    }
}

/// `ssh-to-age` of an ed25519 public key; `None` when the bytes are not a curve point.
pub(crate) fn age_recipient(ed25519_public: &[u8; 32]) -> Option<String> {
    use bech32::ToBase32;
    let point = CompressedEdwardsY(*ed25519_public).decompress()?;
    let montgomery = point.to_montgomery().to_bytes();
    bech32::encode("age", montgomery.to_base32(), bech32::Variant::Bech32).ok()
}

fn put_string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

fn public_blob(public: &[u8; 32]) -> Vec<u8> {
    let mut blob = Vec::new();
    put_string(&mut blob, b"ssh-ed25519");
    put_string(&mut blob, public);
    blob
}

/// The unencrypted `openssh-key-v1` file `ssh-keygen -t ed25519 -N ''` writes.
fn private_file(
    seed: &[u8; 32],
    public: &[u8; 32],
    blob: &[u8],
    comment: &str,
    checkint: u32,
) -> String {
    let mut private = Vec::new();
    private.extend_from_slice(&checkint.to_be_bytes());
    private.extend_from_slice(&checkint.to_be_bytes());
    put_string(&mut private, b"ssh-ed25519");
    put_string(&mut private, public);
    let mut pair = [0u8; 64];
    pair[..32].copy_from_slice(seed);
    pair[32..].copy_from_slice(public);
    put_string(&mut private, &pair);
    pair.fill(0);
    put_string(&mut private, comment.as_bytes());
    let mut pad = 1u8;
    while private.len() % 8 != 0 {
        private.push(pad);
        pad += 1;
    }
    let mut file = b"openssh-key-v1\0".to_vec();
    put_string(&mut file, b"none");
    put_string(&mut file, b"none");
    put_string(&mut file, b"");
    file.extend_from_slice(&1u32.to_be_bytes());
    put_string(&mut file, blob);
    put_string(&mut file, &private);
    private.fill(0);
    let encoded = base64::engine::general_purpose::STANDARD.encode(&file);
    file.fill(0);
    let mut text = String::from("-----BEGIN OPENSSH PRIVATE KEY-----\n");
    for line in encoded.as_bytes().chunks(70) {
        text.push_str(&String::from_utf8_lossy(line));
        text.push('\n');
    }
    text.push_str("-----END OPENSSH PRIVATE KEY-----\n");
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use homelab_secrets::ExposeSecret;

    #[test]
    fn recipient_matches_the_x25519_key_sops_nix_derives_from_the_private_key() {
        // ssh-to-age -private-key: the clamped SHA-512 half as an X25519 secret. Its
        // public key must be the recipient we derive from the public key alone.
        let seed = [7u8; 32];
        let key = from_seed(&seed, "h", 1);
        let hash = Sha512::digest(seed);
        let mut secret = [0u8; 32];
        secret.copy_from_slice(&hash[..32]);
        let x25519 = curve25519_dalek::MontgomeryPoint::mul_base_clamped(secret).to_bytes();
        use bech32::ToBase32;
        let expected = bech32::encode("age", x25519.to_base32(), bech32::Variant::Bech32).unwrap();
        assert_eq!(key.age_recipient, expected);
        assert!(
            key.age_recipient.starts_with("age1"),
            "{}",
            key.age_recipient
        );
    }

    #[test]
    fn private_key_file_has_the_openssh_shape() {
        let key = from_seed(&[1u8; 32], "root@h", 0x01020304);
        let text = key.private_openssh.expose_secret();
        assert!(
            text.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----\n"),
            "{text}"
        );
        assert!(
            text.ends_with("-----END OPENSSH PRIVATE KEY-----\n"),
            "{text}"
        );
        assert!(
            key.public_openssh
                .starts_with("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI"),
            "{}",
            key.public_openssh
        );
        assert!(key.public_openssh.ends_with(" root@h"));
    }

    #[test]
    fn generated_keys_differ() {
        let a = generate("a").unwrap();
        let b = generate("a").unwrap();
        assert_ne!(a.age_recipient, b.age_recipient);
    }
}
